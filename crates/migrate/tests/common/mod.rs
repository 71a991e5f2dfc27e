//! Helpers shared by the migrate integration tests: writing revisions with a fixed clock and
//! talking to the test database.
#![allow(dead_code)]

use chrono::DateTime;
use retort_migrate::{write_revision, Graph, Migration, NewRevision, Runner, StepEvent};
use std::path::Path;

/// 2025-01-17T10:00:00Z plus `seconds`, so ids sort in the order tests create them.
pub fn at(seconds: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(1_737_108_000 + seconds, 0).expect("valid timestamp")
}

/// Writes a revision created `seconds` after the fixed start time.
pub fn rev(
    dir: &Path,
    seconds: i64,
    message: &str,
    parents: &[&str],
    up: &str,
    down: &str,
) -> Migration {
    write_revision(
        dir,
        &NewRevision {
            message,
            parents: parents.iter().map(|p| p.to_string()).collect(),
            created: at(seconds),
            up_body: up.to_string(),
            down_body: down.to_string(),
            up_no_transaction: false,
            down_no_transaction: false,
        },
    )
    .expect("write_revision")
}

/// `create table <name>` / `drop table <name>` revision.
pub fn table_rev(dir: &Path, seconds: i64, name: &str, parents: &[&str]) -> Migration {
    rev(
        dir,
        seconds,
        &format!("create {name}"),
        parents,
        &format!("CREATE TABLE {name} (id int PRIMARY KEY);"),
        &format!("DROP TABLE {name};"),
    )
}

pub fn connect(db: &retort_testkit::TestDb) -> postgres::Client {
    db.connect().expect("connect to the test database")
}

pub fn table_exists(client: &mut postgres::Client, name: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&name])
        .expect("to_regclass")
        .get(0)
}

pub fn current(client: &mut postgres::Client) -> Vec<String> {
    Runner::new(client, "retort_version")
        .current()
        .expect("current")
}

/// Plans and runs an upgrade to `target`.
pub fn upgrade(
    client: &mut postgres::Client,
    graph: &Graph,
    target: &str,
) -> Result<(), retort_migrate::Error> {
    let mut runner = Runner::new(client, "retort_version");
    let steps = runner.plan_upgrade(graph, target)?;
    runner.run(graph, &steps, false, &mut |_: &StepEvent| {})
}

/// Plans and runs a downgrade to `target`.
pub fn downgrade(
    client: &mut postgres::Client,
    graph: &Graph,
    target: &str,
) -> Result<(), retort_migrate::Error> {
    let mut runner = Runner::new(client, "retort_version");
    let steps = runner.plan_downgrade(graph, target)?;
    runner.run(graph, &steps, false, &mut |_: &StepEvent| {})
}
