//! Migrations with `-- retort:step` lines on real PostgreSQL: each step commits on its own, a
//! failure or a killed connection leaves the earlier steps committed and recorded in the progress
//! table, the next upgrade resumes at the step that failed, and downgrade takes committed steps
//! back with the mirror steps of down.sql; a statement that hits lock_timeout is retried.

mod common;

use common::{connect, current, downgrade, rev, table_exists, table_rev, upgrade};
use retort_migrate::{load, Direction, Error, Progress, RunOptions, Runner, StepEvent};
use retort_testkit::TestDb;
use std::fs;

fn test_db(name: &str) -> TestDb {
    TestDb::create(name).expect("test database (run `cargo xtask test`, which sets DATABASE_URL)")
}

const UP: &str = "CREATE TABLE s1 (id int);\n\
                  -- retort:step\n\
                  CREATE TABLE s2 (id int);\n\
                  INSERT INTO missing VALUES (1);\n\
                  -- retort:step\n\
                  CREATE TABLE s3 (id int);\n";
const DOWN: &str = "DROP TABLE s3;\n\
                    -- retort:step\n\
                    DROP TABLE s2;\n\
                    -- retort:step\n\
                    DROP TABLE s1;\n";

fn progress(client: &mut postgres::Client) -> Vec<Progress> {
    Runner::new(client, "retort_version").progress().unwrap()
}

/// `(migration, part, outside a transaction)` for each part a run started.
type Started = Vec<(String, usize, bool)>;

/// Plans and runs an upgrade, noting the parts it started.
fn run_up(
    client: &mut postgres::Client,
    graph: &retort_migrate::Graph,
    target: &str,
) -> (Result<(), Error>, Started) {
    let mut seen = Vec::new();
    let mut runner = Runner::new(client, "retort_version");
    let result = runner.plan_upgrade(graph, target).and_then(|steps| {
        runner.run(graph, &steps, false, &mut |ev: &StepEvent| {
            if let StepEvent::Started {
                step,
                part,
                outside_transaction,
            } = ev
            {
                seen.push((step.id.clone(), part.0, outside_transaction.is_some()));
            }
        })
    });
    (result, seen)
}

#[test]
fn a_failing_step_keeps_the_earlier_ones_and_the_next_upgrade_resumes_there() {
    let db = test_db("migrate_steps_resume");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(dir, 1, "steps", &[&a.id], UP, DOWN);
    let graph = load(dir).unwrap();
    assert_eq!(graph.get(&b.id).unwrap().up_parts.len(), 3);

    let (result, seen) = run_up(&mut client, &graph, "head");
    let e = result.unwrap_err();
    let Error::Statement {
        line, step, number, ..
    } = &e
    else {
        panic!("expected a statement error, got {e:?}");
    };
    // Header 6 lines + blank: the body starts on line 8, the INSERT is its 4th line.
    assert_eq!((*line, *number), (11, 2));
    let step = step.as_deref().unwrap();
    assert_eq!((step.index, step.of), (1, 3));
    let text = e.to_string();
    assert!(
        text.contains("step 2 of 3 was rolled back; step 1 stays committed")
            && text.contains("`retort upgrade` to resume at step 2"),
        "{text}"
    );
    assert_eq!(
        seen,
        [
            (a.id.clone(), 1, false),
            (b.id.clone(), 1, false),
            (b.id.clone(), 2, false)
        ]
    );
    assert!(table_exists(&mut client, "s1"));
    assert!(!table_exists(&mut client, "s2"));
    assert_eq!(current(&mut client), vec![a.id.clone()]);
    let p = progress(&mut client);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].revision.as_str(), p[0].direction, p[0].done, p[0].of),
        (b.id.as_str(), Direction::Up, 1, 3)
    );

    // Fix the failing step (steps that have not run may be edited) and upgrade again: step 1 is
    // not run a second time (CREATE TABLE s1 would fail), steps 2 and 3 run.
    let up = fs::read_to_string(b.up_path()).unwrap();
    fs::write(
        b.up_path(),
        up.replace("INSERT INTO missing VALUES (1);\n", ""),
    )
    .unwrap();
    retort_migrate::rehash(dir).unwrap();
    let graph = load(dir).unwrap();
    let (result, seen) = run_up(&mut client, &graph, "head");
    result.unwrap();
    assert_eq!(seen, [(b.id.clone(), 2, false), (b.id.clone(), 3, false)]);
    assert_eq!(current(&mut client), vec![b.id.clone()]);
    assert!(progress(&mut client).is_empty());
    for t in ["s1", "s2", "s3"] {
        assert!(table_exists(&mut client, t), "{t}");
    }

    // Down runs its three steps.
    downgrade(&mut client, &graph, "-1").unwrap();
    assert_eq!(current(&mut client), vec![a.id.clone()]);
    for t in ["s1", "s2", "s3"] {
        assert!(!table_exists(&mut client, t), "{t}");
    }
    assert!(progress(&mut client).is_empty());
}

#[test]
fn downgrade_takes_back_the_committed_steps_of_an_interrupted_upgrade() {
    let db = test_db("migrate_steps_undo");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let _b = rev(dir, 1, "steps", &[&a.id], UP, DOWN);
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(table_exists(&mut client, "s1"));

    // `-1` is used up by taking back step 1 (down.sql's last step, DROP TABLE s1): a stays.
    let mut seen = Vec::new();
    let mut runner = Runner::new(&mut client, "retort_version");
    let steps = runner.plan_downgrade(&graph, "-1").unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].undoes_partial, Some(1));
    runner
        .run(&graph, &steps, false, &mut |ev: &StepEvent| {
            seen.push(ev.to_string());
        })
        .unwrap();
    assert!(
        seen[0].contains("(taking back an interrupted run), step 3 of 3"),
        "{seen:?}"
    );
    assert!(!table_exists(&mut client, "s1"));
    assert!(table_exists(&mut client, "a"));
    assert_eq!(current(&mut client), vec![a.id.clone()]);
    assert!(progress(&mut client).is_empty());
}

#[test]
fn an_interrupted_run_refuses_edited_committed_steps_and_unmatched_step_counts() {
    let db = test_db("migrate_steps_refuse");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(dir, 1, "steps", &[&a.id], UP, "DROP TABLE s3, s2, s1;");
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, "head").unwrap_err();

    // down.sql has one step, up.sql three: what takes back step 1 is not known.
    let e = downgrade(&mut client, &graph, "-1").unwrap_err();
    assert!(matches!(e, Error::PartialRun { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("up.sql has 3 step(s) and down.sql 1"),
        "{e}"
    );

    // The committed step 1 was edited: neither way continues.
    let up = fs::read_to_string(b.up_path()).unwrap();
    fs::write(b.up_path(), up.replace("s1 (id int)", "s1 (id bigint)")).unwrap();
    retort_migrate::rehash(dir).unwrap();
    let graph = load(dir).unwrap();
    let e = upgrade(&mut client, &graph, "head").unwrap_err();
    assert!(
        e.to_string()
            .contains("the text of the committed step(s) changed since"),
        "{e}"
    );
    assert_eq!(current(&mut client), vec![a.id.clone()]);
}

#[test]
fn only_the_step_marked_no_transaction_runs_outside_a_transaction() {
    let db = test_db("migrate_steps_no_tx");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(
        dir,
        1,
        "index",
        &[&a.id],
        "ALTER TABLE a ADD COLUMN n int;\n\
         -- retort:step no-transaction\n\
         CREATE INDEX CONCURRENTLY a_n ON a (n);\n\
         -- retort:step\n\
         ALTER TABLE a ADD CONSTRAINT n_positive CHECK (n > 0);\n",
        "ALTER TABLE a DROP CONSTRAINT n_positive;\n\
         -- retort:step no-transaction\n\
         DROP INDEX CONCURRENTLY a_n;\n\
         -- retort:step\n\
         ALTER TABLE a DROP COLUMN n;\n",
    );
    let graph = load(dir).unwrap();
    let (result, seen) = run_up(&mut client, &graph, "head");
    result.unwrap();
    assert_eq!(
        seen,
        [
            (a.id.clone(), 1, false),
            (b.id.clone(), 1, false),
            (b.id.clone(), 2, true),
            (b.id.clone(), 3, false)
        ]
    );
    assert!(table_exists(&mut client, "a_n"));
    downgrade(&mut client, &graph, "-1").unwrap();
    assert!(!table_exists(&mut client, "a_n"));
    assert_eq!(current(&mut client), vec![a.id.clone()]);
}

#[test]
fn a_killed_connection_in_step_2_resumes_at_step_2() {
    let db = test_db("migrate_steps_kill");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    // Step 2 waits while the table `hold` exists, so the test can end its connection there.
    let b = rev(
        dir,
        1,
        "slow",
        &[&a.id],
        "CREATE TABLE s1 (id int);\n\
         -- retort:step\n\
         CREATE TABLE s2 (id int);\n\
         SELECT pg_sleep(CASE WHEN to_regclass('hold') IS NULL THEN 0 ELSE 60 END);\n\
         -- retort:step\n\
         CREATE TABLE s3 (id int);\n",
        DOWN,
    );
    let graph = load(dir).unwrap();
    client.batch_execute("CREATE TABLE hold ()").unwrap();
    let url = db.url.clone();
    let runner_graph = graph.clone();
    let handle = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        upgrade(&mut c, &runner_graph, "head")
    });
    let pid: i32 = loop {
        let rows = client
            .query(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(CASE%' \
                 AND datname = current_database()",
                &[],
            )
            .unwrap();
        if let Some(r) = rows.first() {
            break r.get(0);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let e = handle.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::ConnectionLost(_)), "{e:?}");
    assert!(
        e.to_string().contains("`retort upgrade` resumes at step 2"),
        "{e}"
    );
    client.batch_execute("DROP TABLE hold").unwrap();
    assert!(table_exists(&mut client, "s1"));
    assert!(!table_exists(&mut client, "s2"));
    assert_eq!(progress(&mut client)[0].done, 1);

    let (result, seen) = run_up(&mut client, &graph, "head");
    result.unwrap();
    assert_eq!(seen, [(b.id.clone(), 2, false), (b.id.clone(), 3, false)]);
    assert_eq!(current(&mut client), vec![b.id.clone()]);
    assert!(table_exists(&mut client, "s3"));
    assert!(progress(&mut client).is_empty());
}

#[test]
fn upgrade_sql_prints_each_step_in_its_own_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = rev(
        dir,
        0,
        "steps",
        &[],
        "CREATE TABLE a (n int);\n-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY a_n ON a (n);\n",
        "DROP TABLE a;",
    );
    let graph = load(dir).unwrap();
    let steps = retort_migrate::plan_offline(&graph, None, "head", Direction::Up).unwrap();
    let sql = retort_migrate::offline_sql(&graph, &steps, "retort_version");
    let body = &sql[sql.find("-- Running").unwrap()..];
    assert_eq!(
        body,
        format!(
            "-- Running upgrade  -> {id}\n-- steps\n-- step 1 of 2\nBEGIN;\n\n\
             CREATE TABLE a (n int);\n\nCOMMIT;\n\n-- step 2 of 2\n\
             -- runs outside a transaction: marked `-- retort:step no-transaction`\n\n\
             -- retort:step no-transaction\nCREATE INDEX CONCURRENTLY a_n ON a (n);\n\n\
             BEGIN;\n\nINSERT INTO \"public\".\"retort_version\" (revision, checksum) VALUES ('{id}', '{sum}');\n\n\
             COMMIT;\n\n",
            id = a.id,
            sum = a.checksum
        )
    );
}

#[test]
fn a_lock_timeout_is_retried_and_gives_up_after_the_retries() {
    let db = test_db("migrate_lock_retry");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    let b = rev(
        dir,
        1,
        "column",
        &[&a.id],
        "ALTER TABLE a ADD COLUMN n int;",
        "ALTER TABLE a DROP COLUMN n;",
    );
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, &a.id).unwrap();
    let run = |client: &mut postgres::Client, retries: u32| {
        let mut events = Vec::new();
        let mut runner = Runner::new(client, "retort_version").with_options(RunOptions {
            lock_timeout: Some("100ms".into()),
            lock_retries: retries,
            ..Default::default()
        });
        let steps = runner.plan_upgrade(&graph, "head").unwrap();
        let result = runner.run(&graph, &steps, false, &mut |ev: &StepEvent| {
            if matches!(ev, StepEvent::LockRetry { .. }) {
                events.push(ev.to_string());
            }
        });
        (result, events)
    };

    // Another session holds the table: without retries the migration fails on lock_timeout.
    let mut holder = connect(&db);
    holder
        .batch_execute("BEGIN; LOCK TABLE a IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (result, events) = run(&mut client, 0);
    let e = result.unwrap_err();
    assert!(e.to_string().contains("SQLSTATE 55P03"), "{e}");
    assert!(events.is_empty());
    // With two retries the lock is still held: two retries, then the same error.
    let (result, events) = run(&mut client, 2);
    assert!(result.unwrap_err().to_string().contains("SQLSTATE 55P03"));
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].contains("retry 1 of 2 in 1.0s"), "{events:?}");
    assert_eq!(current(&mut client), vec![a.id.clone()]);

    // The holder lets go during the first wait: the retry applies the migration.
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        holder.batch_execute("COMMIT").unwrap();
    });
    let (result, events) = run(&mut client, 3);
    release.join().unwrap();
    result.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(current(&mut client), vec![b.id.clone()]);
}

#[test]
fn a_step_outside_a_transaction_gives_up_on_lock_timeout_and_leaves_the_session_as_it_was() {
    let db = test_db("migrate_outside_timeout");
    let mut client = connect(&db);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = table_rev(dir, 0, "a", &[]);
    rev(
        dir,
        1,
        "index",
        &[&a.id],
        "-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);",
        "-- retort:step no-transaction\nDROP INDEX CONCURRENTLY a_id;",
    );
    let graph = load(dir).unwrap();
    upgrade(&mut client, &graph, &a.id).unwrap();
    let mut holder = connect(&db);
    holder
        .batch_execute("BEGIN; LOCK TABLE a IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let started = std::time::Instant::now();
    let mut runner = Runner::new(&mut client, "retort_version").with_options(RunOptions {
        lock_timeout: Some("200ms".into()),
        statement_timeout: Some("30s".into()),
        ..Default::default()
    });
    let steps = runner.plan_upgrade(&graph, "head").unwrap();
    let e = runner
        .run(&graph, &steps, false, &mut |_: &StepEvent| {})
        .unwrap_err();
    assert!(e.to_string().contains("SQLSTATE 55P03"), "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "gave up after {:?}",
        started.elapsed()
    );
    // The session settings were put back.
    let row = client
        .query_one(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
            &[],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("0".into(), "0".into())
    );
    holder.batch_execute("COMMIT").unwrap();
    // A failed CREATE INDEX CONCURRENTLY may leave an invalid index: drop it, then it applies.
    client.batch_execute("DROP INDEX IF EXISTS a_id").unwrap();
    upgrade(&mut client, &graph, "head").unwrap();
    assert!(table_exists(&mut client, "a_id"));
}
