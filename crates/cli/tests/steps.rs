//! Migrations with `-- retort:step` lines through the binary, on real PostgreSQL: `retort
//! upgrade` killed with SIGKILL in step 2 leaves step 1 committed, `current` and `check --live`
//! say so, and the next `upgrade` resumes at step 2.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const A: &str = "20260101_000001_a";

const UP: &str = "CREATE TABLE s1 (id int);\n\
                  -- retort:step\n\
                  CREATE TABLE s2 (id int);\n\
                  SELECT pg_sleep(CASE WHEN to_regclass('hold') IS NULL THEN 0 ELSE 120 END);\n\
                  -- retort:step\n\
                  CREATE TABLE s3 (id int);\n";
const DOWN: &str =
    "DROP TABLE s3;\n-- retort:step\nDROP TABLE s2;\n-- retort:step\nDROP TABLE s1;\n";

/// Pids of the backends running step 2's sleep.
fn sleepers(p: &Project) -> Vec<i32> {
    p.client()
        .query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'SELECT pg_sleep(CASE%' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn killed_in_step_2_the_next_upgrade_resumes_at_step_2() {
    let p = Project::new("steps_killed");
    p.models(
        &(1..=3)
            .map(|i| {
                format!("#[derive(Table)]\n#[table(name = \"s{i}\")]\npub struct S{i} {{ pub id: Option<i32> }}\n")
            })
            .collect::<String>(),
    );
    // The server notices a client that is gone while a statement runs (PostgreSQL 14+), so the
    // killed run's transaction ends as it would once TCP keepalives find the peer dead.
    p.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET client_connection_check_interval = '100ms'; CREATE TABLE hold ()",
            p.db.name
        ))
        .unwrap();
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    p.append(&format!("migrations/{A}/up.sql"), UP);
    p.append(&format!("migrations/{A}/down.sql"), DOWN);
    p.ok(&["hash"]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_retort"))
        .args(["upgrade", "head"])
        .current_dir(p.dir.path())
        .env("DATABASE_URL", &p.db.url)
        .env_remove("RETORT_NOW")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("step 2 to start", || !sleepers(&p).is_empty());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    wait_for("the server to end the killed run's backend", || {
        sleepers(&p).is_empty()
    });
    p.client().batch_execute("DROP TABLE hold").unwrap();
    assert!(p.exists("s1"));
    assert!(!p.exists("s2"));

    let cur = p.ok(&["current"]).stdout;
    assert!(
        cur.contains(&format!(
            "{A} (partly applied: upgrade of {A} interrupted after step 1 of 3; `retort upgrade` resumes it"
        )),
        "{cur}"
    );
    let o = p.fails(3, &["check", "--live"]);
    assert!(
        o.stdout.contains("a migration run was interrupted partway"),
        "{o}"
    );

    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stderr.contains("step 2 of 3"), "{o}");
    assert!(o.stderr.contains("step 3 of 3"), "{o}");
    assert!(!o.stderr.contains("step 1 of 3"), "{o}");
    for t in ["s1", "s2", "s3"] {
        assert!(p.exists(t), "{t}");
    }
    assert_eq!(p.ok(&["current"]).stdout, format!("{A} (head)\n"));
    p.ok(&["check", "--live"]);

    // Down takes the three steps back, and nothing is left partway.
    p.ok(&["downgrade", "base"]);
    assert!(!p.exists("s1"));
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");
}
