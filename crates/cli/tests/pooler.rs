//! `retort upgrade` behind a real PgBouncer in transaction mode: concurrent runs apply each
//! migration once (the lock is transaction-scoped, statements use the unnamed statement), and
//! `--lock-wait` gives up naming the lock's holder.

mod common;

use common::{at, retort, Project};
use retort_testkit::{socket_of, PgBouncer, PoolMode};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const REVS: [&str; 3] = [
    "20260101_000001_one",
    "20260101_000002_two",
    "20260101_000003_three",
];

/// PgBouncer in front of the test server, or `None` (with a loud message) when it is missing.
fn bouncer(pool_size: u32) -> Option<PgBouncer> {
    let server = retort_testkit::server_url().expect("DATABASE_URL (run `cargo xtask test`)");
    let Some((host, port)) = socket_of(&server) else {
        eprintln!(
            "\n!!!!!!!! SKIPPED: the pooler tests need a unix-socket DATABASE_URL (as `cargo xtask test` sets), got {server} !!!!!!!!\n"
        );
        return None;
    };
    match PgBouncer::start(&host, port, PoolMode::Transaction, pool_size).expect("pgbouncer starts")
    {
        Some(b) => Some(b),
        None => {
            eprintln!(
                "\n!!!!!!!! SKIPPED: pgbouncer is not installed (`apt-get install pgbouncer`, or set RETORT_PGBOUNCER): the pooler tests did not run !!!!!!!!\n"
            );
            None
        }
    }
}

/// A project with three migrations that each create a table and log themselves.
fn project(name: &str) -> Project {
    let p = Project::new(name);
    p.models("");
    p.client()
        .batch_execute("CREATE TABLE applied_log (revision text NOT NULL)")
        .unwrap();
    for (i, rev) in REVS.iter().enumerate() {
        let slug = rev.rsplit('_').next().unwrap();
        let o = retort(
            p.dir.path(),
            &[("RETORT_NOW", &at(i as u32 + 1))],
            &["revision", "-m", slug],
        );
        assert_eq!(o.code, 0, "{o}");
    }
    for rev in REVS {
        let slug = rev.rsplit('_').next().unwrap();
        p.append(
            &format!("migrations/{rev}/up.sql"),
            &format!(
                "CREATE TABLE t_{slug} (id int);\nINSERT INTO applied_log VALUES ('{rev}');\nSELECT pg_sleep(0.05);\n"
            ),
        );
        p.append(
            &format!("migrations/{rev}/down.sql"),
            &format!("DROP TABLE t_{slug};\n"),
        );
    }
    p.ok(&["hash"]);
    p
}

fn rounds() -> usize {
    if let Ok(n) = std::env::var("RETORT_POOLER_ROUNDS") {
        return n.parse().expect("RETORT_POOLER_ROUNDS is a number");
    }
    if std::env::var_os("CI").is_some() {
        4
    } else {
        20
    }
}

#[test]
fn concurrent_upgrades_through_pgbouncer_apply_each_migration_once() {
    let (Some(one), Some(five)) = (bouncer(1), bouncer(5)) else {
        return;
    };
    let p = project("pooler_concurrent");
    for round in 0..rounds() {
        let b = if round % 2 == 0 { &five } else { &one };
        let url = b.url(&p.db.name);
        let started = Instant::now();
        let children: Vec<_> = (0..5)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_retort"))
                    .args(["upgrade", "head", "--lock-wait", "60"])
                    .current_dir(p.dir.path())
                    .env("DATABASE_URL", &url)
                    .env_remove("RETORT_NOW")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: retort upgrade failed:\n{}{}\n--- pgbouncer log\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                b.log()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "round {round} took {:?}",
            started.elapsed()
        );
        let mut c = p.client();
        let log: Vec<String> = c
            .query("SELECT revision FROM applied_log ORDER BY revision", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            log, REVS,
            "round {round}: each migration applied exactly once"
        );
        let versions: Vec<String> = c
            .query("SELECT revision FROM retort_version", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, [REVS[2]], "round {round}: one version row");
        // Nothing leaked: the lock is free on the server.
        let held: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(held, 0, "round {round}: an advisory lock leaked");
        // Back to base directly, for the next round.
        p.ok(&["downgrade", "base"]);
        c.batch_execute("TRUNCATE applied_log").unwrap();
    }
}

#[test]
fn lock_wait_through_pgbouncer_gives_up_naming_the_holder() {
    let Some(b) = bouncer(5) else {
        return;
    };
    let p = project("pooler_lock_wait");
    let mut holder = postgres::Client::connect(
        &format!("{}&application_name=lock-holder", p.db.url),
        postgres::NoTls,
    )
    .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&retort_migrate::LOCK_KEY])
        .unwrap();
    let started = Instant::now();
    let o = retort(
        p.dir.path(),
        &[("DATABASE_URL", &b.url(&p.db.name))],
        &["upgrade", "head", "--lock-wait", "1"],
    );
    let took = started.elapsed();
    assert_eq!(o.code, 1, "{o}");
    assert!(took < Duration::from_secs(15), "took {took:?}\n{o}");
    assert!(
        o.stderr
            .contains("gave up waiting for the migration lock after 1s"),
        "{o}"
    );
    assert!(o.stderr.contains(&format!("pid {pid} ")), "{o}");
    assert!(o.stderr.contains("application_name lock-holder"), "{o}");
    // Nothing was applied; once the lock is free the upgrade goes through the pooler.
    assert!(!p.exists("t_one"));
    holder
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&retort_migrate::LOCK_KEY],
        )
        .unwrap();
    let o = retort(
        p.dir.path(),
        &[("DATABASE_URL", &b.url(&p.db.name))],
        &["upgrade", "head", "--lock-wait", "1"],
    );
    assert_eq!(o.code, 0, "{o}");
    assert!(p.exists("t_three"));
}

/// `lock_timeout` / `statement_timeout` from retort.toml and the flags hold inside each
/// migration's transaction only (SET LOCAL): the pooled server connection keeps its defaults.
#[test]
fn timeouts_are_set_locally_in_each_migration() {
    let Some(b) = bouncer(1) else {
        return;
    };
    let p = Project::new("pooler_timeouts");
    let toml = p.read("retort.toml").replace(
        "[migrations]\n",
        "[migrations]\nlock_timeout = \"7s\"\nstatement_timeout = \"11s\"\n",
    );
    p.write("retort.toml", &toml);
    p.models("");
    let o = retort(
        p.dir.path(),
        &[("RETORT_NOW", &at(1))],
        &["revision", "-m", "seen"],
    );
    assert_eq!(o.code, 0, "{o}");
    p.append(
        "migrations/20260101_000001_seen/up.sql",
        "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt, \
         current_setting('statement_timeout') AS st;\n",
    );
    p.append(
        "migrations/20260101_000001_seen/down.sql",
        "DROP TABLE seen;\n",
    );
    p.ok(&["hash"]);
    let url = b.url(&p.db.name);
    let o = retort(
        p.dir.path(),
        &[("DATABASE_URL", &url)],
        &["upgrade", "head", "--lock-timeout", "3s"],
    );
    assert_eq!(o.code, 0, "{o}");
    let row = p
        .client()
        .query_one("SELECT lt, st FROM seen", &[])
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("3s".to_string(), "11s".to_string())
    );
    // The pool's one server connection did not keep them.
    let mut pooled = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let rows = pooled.simple_query("SHOW lock_timeout").unwrap();
    let shown = rows.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(shown.as_deref(), Some("0"));
}

/// The read-only commands (`diff`, `check --live`, `import`) introspect through a transaction
/// pooler too: run concurrently on one pooled server connection, no statement of one process
/// collides with another's (every catalog query uses the unnamed statement).
#[test]
fn concurrent_reads_through_pgbouncer_do_not_collide() {
    let (Some(one), Some(five)) = (bouncer(1), bouncer(5)) else {
        return;
    };
    let p = Project::new("pooler_reads");
    p.models(
        "#[derive(Table)]\n#[table(name = \"account\")]\npub struct Account {\n    #[column(primary_key)]\n    pub id: i64,\n    pub email: String,\n    pub nick: Option<String>,\n}\n",
    );
    p.client()
        .batch_execute(
            "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL);
             CREATE INDEX account_email ON account (email);
             CREATE TYPE mood AS ENUM ('up', 'down');
             CREATE VIEW account_view AS SELECT id FROM account;",
        )
        .unwrap();
    for (round, b) in [&one, &five, &one].into_iter().enumerate() {
        let url = b.url(&p.db.name);
        let commands: [&[&str]; 6] = [
            &["diff"],
            &["check", "--live"],
            &["import", "--out", "imported_a.rs", "--force"],
            &["diff", "--format", "json"],
            &["check", "--live"],
            &["import", "--out", "imported_b.rs", "--force"],
        ];
        let children: Vec<_> = commands
            .iter()
            .map(|args| {
                let child = Command::new(env!("CARGO_BIN_EXE_retort"))
                    .args(*args)
                    .current_dir(p.dir.path())
                    .env("DATABASE_URL", &url)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (args, child)
            })
            .collect();
        for (args, child) in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // `check --live` exits 1 because the models add a column; everything else exits 0.
            let expected = if args[0] == "check" { 1 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(expected),
                "round {round}: retort {args:?}:\n{stdout}{stderr}\n--- pgbouncer log\n{}",
                b.log()
            );
            assert!(
                !stderr.contains("prepared statement"),
                "round {round}: retort {args:?}:\n{stderr}"
            );
            match args[0] {
                "diff" => assert!(stdout.contains("nick"), "round {round}: {stdout}"),
                "check" => assert!(
                    stdout.contains("nick") || stderr.contains("nick"),
                    "{stdout}{stderr}"
                ),
                _ => {}
            }
        }
        for file in ["imported_a.rs", "imported_b.rs"] {
            let text = p.read(file);
            assert!(text.contains("pub struct Account"), "round {round}: {text}");
        }
    }
}
