//! The runner on real PostgreSQL (the server named by DATABASE_URL, one fresh database per test):
//! upgrades, downgrades, merges, failures, concurrency, tampering and stamps.

mod common;

use common::{connect, current, downgrade, rev, table_exists, table_rev, upgrade};
use retort_migrate::{load, Error, Runner, StepEvent};
use retort_testkit::TestDb;
use std::fs;
use std::sync::{Arc, Barrier};

fn test_db(name: &str) -> TestDb {
    TestDb::create(name).expect("test database (run `cargo xtask test`, which sets DATABASE_URL)")
}

#[test]
fn linear_upgrade_downgrade_and_back() {
    let db = test_db("migrate_linear");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let graph = load(dir).unwrap();

    assert!(current(&mut client).is_empty());
    upgrade(&mut client, &graph, "head").unwrap();
    assert_eq!(current(&mut client), [c.id.as_str()]);
    assert!(
        table_exists(&mut client, "a")
            && table_exists(&mut client, "b")
            && table_exists(&mut client, "c")
    );
    // Nothing left to do.
    upgrade(&mut client, &graph, "head").unwrap();

    downgrade(&mut client, &graph, "-1").unwrap();
    assert_eq!(current(&mut client), [b.id.as_str()]);
    assert!(!table_exists(&mut client, "c"));
    assert!(table_exists(&mut client, "b"));

    downgrade(&mut client, &graph, "base").unwrap();
    assert!(current(&mut client).is_empty());
    assert!(!table_exists(&mut client, "a") && !table_exists(&mut client, "b"));

    upgrade(&mut client, &graph, "head").unwrap();
    assert_eq!(current(&mut client), [c.id.as_str()]);
    assert!(table_exists(&mut client, "c"));
}

#[test]
fn prefixes_and_relative_targets() {
    let db = test_db("migrate_relative");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c = table_rev(dir, 2, "c", &[&b.id]);
    let d = table_rev(dir, 3, "d", &[&c.id]);
    let graph = load(dir).unwrap();

    upgrade(&mut client, &graph, "20250117_100001").unwrap();
    assert_eq!(current(&mut client), [b.id.as_str()]);
    assert!(!table_exists(&mut client, "c"));
    upgrade(&mut client, &graph, "+1").unwrap();
    assert_eq!(current(&mut client), [c.id.as_str()]);
    let e = upgrade(&mut client, &graph, "+2").unwrap_err();
    assert!(matches!(e, Error::Target { .. }), "{e}");
    upgrade(&mut client, &graph, "+1").unwrap();
    assert_eq!(current(&mut client), [d.id.as_str()]);
    downgrade(&mut client, &graph, "-2").unwrap();
    assert_eq!(current(&mut client), [b.id.as_str()]);
    assert!(!table_exists(&mut client, "c") && !table_exists(&mut client, "d"));
    downgrade(&mut client, &graph, "20250117_100000").unwrap();
    assert_eq!(current(&mut client), [a.id.as_str()]);
    assert!(table_exists(&mut client, "a") && !table_exists(&mut client, "b"));
}

#[test]
fn branches_merge_and_downgrade_below_the_merge() {
    let db = test_db("migrate_merge");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b1 = table_rev(dir, 1, "b1", &[&a.id]);
    let b2 = table_rev(dir, 2, "b2", &[&a.id]);
    let graph = load(dir).unwrap();

    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(matches!(e, Error::MultipleHeads { .. }));
    assert!(e.to_string().contains("merge"), "{e}");
    assert!(current(&mut client).is_empty());

    upgrade(&mut client, &graph, "heads").unwrap();
    assert_eq!(current(&mut client), [b1.id.clone(), b2.id.clone()]);

    let m = rev(
        dir,
        3,
        "merge heads",
        &[&b1.id, &b2.id],
        "CREATE TABLE m (id int);",
        "DROP TABLE m;",
    );
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, "head").unwrap();
    assert_eq!(current(&mut client), [m.id.as_str()]);
    assert!(table_exists(&mut client, "m"));

    downgrade(&mut client, &graph, "-1").unwrap();
    assert_eq!(current(&mut client), [b1.id.clone(), b2.id.clone()]);
    assert!(!table_exists(&mut client, "m"));

    // Downgrading to a branch head undoes the merge only; downgrading to a undoes both branches.
    upgrade(&mut client, &graph, "head").unwrap();
    downgrade(&mut client, &graph, &b1.id).unwrap();
    assert_eq!(current(&mut client), [b1.id.clone(), b2.id.clone()]);
    assert!(!table_exists(&mut client, "m"));
    downgrade(&mut client, &graph, &a.id).unwrap();
    assert_eq!(current(&mut client), [a.id.as_str()]);

    // Upgrading one branch at a time, then the merge.
    upgrade(&mut client, &graph, &b2.id).unwrap();
    assert_eq!(current(&mut client), [b2.id.as_str()]);
    assert!(!table_exists(&mut client, "b1"));
    upgrade(&mut client, &graph, &m.id).unwrap();
    assert_eq!(current(&mut client), [m.id.as_str()]);
    downgrade(&mut client, &graph, &a.id).unwrap();
    assert_eq!(current(&mut client), [a.id.as_str()]);
    assert!(!table_exists(&mut client, "b1") && !table_exists(&mut client, "b2"));
}

#[test]
fn failing_statement_rolls_back_the_whole_migration() {
    let db = test_db("migrate_fault");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let bad = rev(
        dir,
        1,
        "bad",
        &[&a.id],
        "CREATE TABLE partial_one (id int);\n\
         -- a comment; between statements\n\
         INSERT INTO partial_one VALUES (1);\n\
         INSERT INTO a (id)\n  SELECT id FROM missing_table;\n",
        "DROP TABLE partial_one;",
    );
    let graph = load(dir).unwrap();
    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    let Error::Statement {
        id,
        file,
        number,
        line,
        statement,
        message,
        in_transaction,
        ..
    } = &e
    else {
        panic!("expected a statement error, got {e:?}");
    };
    assert_eq!(id, &bad.id);
    assert_eq!(file, &bad.up_path());
    assert_eq!(*number, 3);
    // The header is 7 lines, so the body starts on line 8; the failing INSERT is its 4th line.
    assert_eq!(*line, 11);
    assert_eq!(statement, "INSERT INTO a (id)");
    assert!(
        message.contains("relation \"missing_table\" does not exist"),
        "{message}"
    );
    assert!(message.contains("at line 12, column"), "{message}");
    assert!(in_transaction);
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "migration {} ({}:11): statement 3 failed: relation \"missing_table\" does not exist",
            bad.id,
            bad.up_path().display()
        )),
        "{shown}"
    );
    assert!(
        shown.ends_with(
            "\n  INSERT INTO a (id)\n  the migration's transaction was rolled back: none of its \
             statements are applied"
        ),
        "{shown}"
    );

    assert_eq!(current(&mut client), [a.id.as_str()]);
    assert!(table_exists(&mut client, "a"));
    assert!(!table_exists(&mut client, "partial_one"));
    // The failed run released the advisory lock: another session can take it.
    let mut other = connect(&db);
    let free: bool = other
        .query_one(
            "SELECT pg_try_advisory_lock($1)",
            &[&retort_migrate::LOCK_KEY],
        )
        .unwrap()
        .get(0);
    assert!(free);
}

#[test]
fn concurrent_upgrades_apply_each_migration_once() {
    let db = test_db("migrate_concurrency");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = rev(
        dir,
        0,
        "log",
        &[],
        "CREATE TABLE log (rev text NOT NULL);\nINSERT INTO log VALUES ('a');\nSELECT pg_sleep(0.3);",
        "DROP TABLE log;",
    );
    let b = rev(
        dir,
        1,
        "b",
        &[&a.id],
        "INSERT INTO log VALUES ('b');",
        "DELETE FROM log WHERE rev = 'b';",
    );
    let c = rev(
        dir,
        2,
        "c",
        &[&b.id],
        "INSERT INTO log VALUES ('c');",
        "DELETE FROM log WHERE rev = 'c';",
    );
    let graph = Arc::new(load(dir).unwrap());
    let barrier = Arc::new(Barrier::new(2));
    let url = db.url.clone();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (graph, barrier, url) = (graph.clone(), barrier.clone(), url.clone());
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                let mut runner = Runner::new(&mut client, "retort_version");
                let steps = runner.plan_upgrade(&graph, "head").unwrap();
                assert_eq!(steps.len(), 3);
                barrier.wait();
                let (mut finished, mut skipped) = (0, 0);
                runner
                    .run(&graph, &steps, false, &mut |ev: &StepEvent| match ev {
                        StepEvent::Finished { .. } => finished += 1,
                        StepEvent::Skipped { .. } => skipped += 1,
                        _ => {}
                    })
                    .map(|()| (finished, skipped))
            })
        })
        .collect();
    let results: Vec<(i32, i32)> = handles
        .into_iter()
        .map(|h| h.join().expect("thread panicked").expect("run failed"))
        .collect();
    let finished: i32 = results.iter().map(|r| r.0).sum();
    let skipped: i32 = results.iter().map(|r| r.1).sum();
    assert_eq!((finished, skipped), (3, 3), "{results:?}");

    let mut client = connect(&db);
    let rows: Vec<String> = client
        .query("SELECT rev FROM log ORDER BY rev", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, ["a", "b", "c"]);
    assert_eq!(current(&mut client), [c.id.as_str()]);
    // The lock is released: this session can take it right away.
    let free: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1)",
            &[&retort_migrate::LOCK_KEY],
        )
        .unwrap()
        .get(0);
    assert!(free);
}

#[test]
fn edited_applied_migration_is_refused_unless_allowed() {
    let db = test_db("migrate_tamper");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, &a.id).unwrap();

    let text = fs::read_to_string(a.up_path()).unwrap();
    fs::write(
        a.up_path(),
        text.replace("id int PRIMARY KEY", "id bigint PRIMARY KEY"),
    )
    .unwrap();
    let graph = load(dir).unwrap();
    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(matches!(e, Error::Checksum { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}/up.sql: it was edited", a.id)),
        "{e}"
    );
    assert!(e.to_string().contains("--allow-edited"), "{e}");
    assert_eq!(current(&mut client), [a.id.as_str()]);

    let mut runner = Runner::new(&mut client, "retort_version");
    let steps = runner.plan_upgrade(&graph, "head").unwrap();
    runner
        .run(&graph, &steps, true, &mut |_: &StepEvent| {})
        .unwrap();
    assert_eq!(current(&mut client), [b.id.as_str()]);
}

#[test]
fn unknown_revision_in_the_version_table_and_stamp_purge() {
    let db = test_db("migrate_unknown");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, "head").unwrap();
    client
        .batch_execute("INSERT INTO retort_version (revision) VALUES ('20240101_000000_ghost')")
        .unwrap();

    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "database is at revision 20240101_000000_ghost which has no migration file in {}; \
             if the file is gone on purpose, fix the version table with `retort stamp <revision> --purge`",
            dir.display()
        )
    );
    let e = Runner::new(&mut client, "retort_version")
        .stamp(&graph, "head", false)
        .unwrap_err();
    assert!(matches!(e, Error::UnknownDbRevision { .. }), "{e:?}");

    // A purge with a bad target changes nothing.
    let e = Runner::new(&mut client, "retort_version")
        .stamp(&graph, "nope", true)
        .unwrap_err();
    assert!(matches!(e, Error::UnknownRevision { .. }), "{e:?}");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM retort_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);

    Runner::new(&mut client, "retort_version")
        .stamp(&graph, "head", true)
        .unwrap();
    assert_eq!(current(&mut client), [a.id.as_str()]);
}

#[test]
fn stamp_moves_the_version_without_running_sql() {
    let db = test_db("migrate_stamp");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = table_rev(dir, 1, "b", &[&a.id]);
    let c1 = table_rev(dir, 2, "c1", &[&b.id]);
    let c2 = table_rev(dir, 3, "c2", &[&b.id]);
    let graph = load(dir).unwrap();
    let stamp = |client: &mut postgres::Client, target: &str, purge: bool| {
        Runner::new(client, "retort_version").stamp(&graph, target, purge)
    };

    // The tables were made by hand: mark them as applied.
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);")
        .unwrap();
    stamp(&mut client, "20250117_100001", false).unwrap();
    assert_eq!(current(&mut client), [b.id.as_str()]);
    upgrade(&mut client, &graph, &c1.id).unwrap();
    assert!(table_exists(&mut client, "c1"));
    assert_eq!(current(&mut client), [c1.id.as_str()]);

    // Stamping another branch keeps this one; stamping on the same line replaces it.
    stamp(&mut client, &c2.id, false).unwrap();
    assert_eq!(current(&mut client), [c1.id.clone(), c2.id.clone()]);
    assert!(!table_exists(&mut client, "c2"));
    stamp(&mut client, &a.id, false).unwrap();
    assert_eq!(current(&mut client), [a.id.as_str()]);
    stamp(&mut client, "heads", false).unwrap();
    assert_eq!(current(&mut client), [c1.id.clone(), c2.id.clone()]);
    let e = stamp(&mut client, "head", false).unwrap_err();
    assert!(matches!(e, Error::MultipleHeads { .. }), "{e:?}");
    stamp(&mut client, "base", false).unwrap();
    assert!(current(&mut client).is_empty());
    stamp(&mut client, &c1.id, true).unwrap();
    assert_eq!(current(&mut client), [c1.id.as_str()]);
}

#[test]
fn concurrent_index_runs_outside_a_transaction() {
    let db = test_db("migrate_no_tx");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(
        dir,
        1,
        "index a",
        &[&a.id],
        "CREATE INDEX CONCURRENTLY ix_a ON a (id);",
        "DROP INDEX CONCURRENTLY ix_a;",
    );
    // A migration marked by hand, whose statements run one by one.
    let c = rev(dir, 2, "vacuum", &[&b.id], "SELECT 1;\nSELECT nope;", "");
    let text = fs::read_to_string(c.up_path()).unwrap();
    fs::write(
        c.up_path(),
        text.replace(
            "-- retort:created",
            "-- retort:no-transaction\n-- retort:created",
        ),
    )
    .unwrap();
    retort_migrate::rehash(dir).unwrap();
    let graph = load(dir).unwrap();
    assert!(graph.get(&c.id).unwrap().up_no_transaction);

    let mut reasons = Vec::new();
    let mut runner = Runner::new(&mut client, "retort_version");
    let steps = runner.plan_upgrade(&graph, &b.id).unwrap();
    runner
        .run(&graph, &steps, false, &mut |ev: &StepEvent| {
            if let StepEvent::Started {
                step,
                outside_transaction,
                ..
            } = ev
            {
                reasons.push((step.id.clone(), outside_transaction.map(str::to_string)));
            }
        })
        .unwrap();
    assert_eq!(
        reasons,
        [
            (a.id.clone(), None),
            (
                b.id.clone(),
                Some("CREATE INDEX CONCURRENTLY cannot run inside a transaction".to_string())
            )
        ]
    );
    assert!(table_exists(&mut client, "ix_a"));
    assert_eq!(current(&mut client), [b.id.as_str()]);

    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Statement {
                number: 2,
                in_transaction: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("outside a transaction"), "{e}");
    assert_eq!(current(&mut client), [b.id.as_str()]);

    downgrade(&mut client, &graph, "-1").unwrap();
    assert!(!table_exists(&mut client, "ix_a"));
}

#[test]
fn transaction_control_in_a_body_is_refused() {
    let db = test_db("migrate_tx_control");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = rev(
        dir,
        0,
        "a",
        &[],
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;",
        "DROP TABLE a;",
    );
    let graph = load(dir).unwrap();
    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(
        matches!(e, Error::TransactionControl { line: 8, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains(&a.id));
    assert!(!table_exists(&mut client, "a"));
    assert!(current(&mut client).is_empty());
}

#[test]
fn version_table_in_another_schema() {
    let db = test_db("migrate_custom_table");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let graph = load(dir).unwrap();
    let mut runner = Runner::new(&mut client, "ops.versions");
    let steps = runner.plan_upgrade(&graph, "head").unwrap();
    runner
        .run(&graph, &steps, false, &mut |_: &StepEvent| {})
        .unwrap();
    assert_eq!(runner.current().unwrap(), [a.id.as_str()]);
    assert!(table_exists(&mut client, "ops.versions"));
    assert!(!table_exists(&mut client, "public.retort_version"));
}
