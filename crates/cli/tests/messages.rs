//! The CLI's messages for common mistakes: each says what went wrong and the command that fixes it.

mod common;

use common::*;

#[test]
fn mistakes_get_the_command_that_fixes_them() {
    let p = Project::new("messages");
    p.ok_at(1, &["revision", "--empty", "-m", "users"]);
    p.ok_at(2, &["revision", "--empty", "-m", "add email"]);
    p.ok(&["upgrade", "head"]);
    let o = p.fails(2, &["upgrade", "-1"]);
    assert!(
        o.stderr
            .contains("upgrade only goes forward; to go back run `retort downgrade -1`"),
        "{o}"
    );
    // A mistyped id suggests the ids it resembles, not the heads.
    let o = p.fails(2, &["show", "20260101_000001_usres"]);
    assert!(
        o.stderr
            .contains("did you mean one of: 20260101_000001_users"),
        "{o}"
    );
    let o = p.fails(2, &["downgrade", "add_emial"]);
    assert!(
        o.stderr
            .contains("did you mean one of: 20260101_000002_add_email"),
        "{o}"
    );
    let o = p.fails(2, &["show", "zzzzzzzzzzzz"]);
    assert!(
        o.stderr.contains("`retort history` lists the revisions"),
        "{o}"
    );
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let o = retort(dir.path(), &[], &["--version"]);
    assert_eq!(o.code, 0, "{o}");
    let line = o.stdout.trim();
    let rest = line
        .strip_prefix(&format!("retort {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected version line: {line}"));
    assert!(
        rest == "no git commit"
            || (rest.len() == 12 && rest.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
}

#[test]
fn history_marks_what_the_database_applied_and_says_when_there_is_nothing() {
    let p = Project::new("history_current");
    let o = p.ok(&["history"]);
    assert!(o.stdout.contains("no migrations yet:"), "{o}");
    assert!(o.stdout.contains("does not exist"), "{o}");
    for (n, m) in [(1, "a"), (2, "b"), (3, "c")] {
        p.ok_at(n, &["revision", "--empty", "-m", m]);
    }
    p.ok(&["upgrade", "20260101_000002_b"]);
    let o = p.ok(&["history", "--indicate-current"]);
    let line = |id: &str| {
        o.stdout
            .lines()
            .find(|l| l.contains(&format!("-> {id}")))
            .unwrap_or_else(|| panic!("no line for {id}:\n{o}"))
            .to_string()
    };
    assert!(line("20260101_000001_a").contains("(applied)"), "{o}");
    assert!(line("20260101_000002_b").contains("(current)"), "{o}");
    let c = line("20260101_000003_c");
    assert!(
        c.contains("(head)") && !c.contains("(current)") && !c.contains("(applied)"),
        "{o}"
    );
    // Without the flag no database is needed and nothing is marked.
    let o = p.ok(&["history"]);
    assert!(!o.stdout.contains("(current)"), "{o}");
}

#[test]
fn a_table_made_by_hand_points_at_stamp_verify() {
    let p = Project::new("already_exists");
    p.models(
        r#"
#[derive(Table)]
#[table(name = "t")]
pub struct T {
    #[column(primary_key)]
    pub id: i64,
}
"#,
    );
    p.ok_at(1, &["revision", "--autogenerate", "-m", "t"]);
    p.client()
        .batch_execute("CREATE TABLE t (id bigint PRIMARY KEY)")
        .unwrap();
    let o = p.fails(1, &["upgrade", "head"]);
    assert!(o.stderr.contains("(SQLSTATE 42P07)"), "{o}");
    assert!(
        o.stderr
            .contains("`retort stamp 20260101_000001_t --verify`"),
        "{o}"
    );
    // Following the advice works.
    p.ok(&["stamp", "20260101_000001_t", "--verify"]);
    p.ok(&["check", "--live"]);
}

#[test]
fn autogenerate_on_a_database_that_already_matches_offers_a_baseline() {
    let p = Project::new("offer_baseline");
    p.models(
        r#"
#[derive(Table)]
#[table(name = "t")]
pub struct T {
    #[column(primary_key)]
    pub id: i64,
}
"#,
    );
    p.client()
        .batch_execute("CREATE TABLE t (id bigint PRIMARY KEY)")
        .unwrap();
    let o = p.ok(&["revision", "--autogenerate", "-m", "t"]);
    assert!(o.stdout.contains("no changes detected"), "{o}");
    assert!(o.stdout.contains("retort revision --baseline"), "{o}");
    p.ok(&["revision", "--baseline", "-m", "baseline"]);
    p.ok(&["stamp", "head", "--verify"]);
    let o = p.ok(&["revision", "--autogenerate", "-m", "t"]);
    assert!(!o.stdout.contains("--baseline"), "{o}");
}

#[test]
fn a_revision_without_its_file_is_named_by_autogenerate_too() {
    let p = Project::new("file_gone");
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    p.ok(&["upgrade", "head"]);
    std::fs::remove_dir_all(p.path("migrations/20260101_000001_a")).unwrap();
    p.ok(&["hash"]);
    p.models("");
    for args in [
        &["revision", "--autogenerate", "-m", "b"][..],
        &["upgrade", "head"][..],
    ] {
        let o = p.fails(2, args);
        assert!(o.stderr.contains("20260101_000001_a"), "{args:?}: {o}");
        assert!(o.stderr.contains("--purge"), "{args:?}: {o}");
        assert!(
            !o.stderr.contains("run `retort upgrade head` first"),
            "{args:?}: {o}"
        );
    }
}

#[test]
fn another_database_url_says_only_postgresql_is_supported() {
    let dir = tempfile::tempdir().unwrap();
    let o = retort(
        dir.path(),
        &[],
        &["import", "--database-url", "mysql://app:s3cret@db/app"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("Retort works only with PostgreSQL"),
        "{o}"
    );
    assert!(!o.stderr.contains("s3cret"), "{o}");
}

#[test]
fn init_detects_the_dialect_and_takes_paths_and_a_url() {
    let init_in = |cargo: Option<&str>, extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = cargo {
            std::fs::write(dir.path().join("Cargo.toml"), c).unwrap();
        }
        let mut args = vec!["init"];
        args.extend_from_slice(extra);
        let o = retort(dir.path(), &[], &args);
        assert_eq!(o.code, 0, "{o}");
        let toml = std::fs::read_to_string(dir.path().join("retort.toml")).unwrap();
        (o, toml, dir)
    };
    let (o, toml, _d) = init_in(
        Some("[package]\nname = \"app\"\n[dependencies]\nsea-orm = \"1\"\n"),
        &[],
    );
    assert!(
        toml.contains("paths = [\"src/entities/**/*.rs\"]"),
        "{toml}"
    );
    assert!(
        o.stdout
            .contains("Seaorm dialect, Cargo.toml depends on sea-orm"),
        "{o}"
    );
    let (_, toml, _d) = init_in(Some("[dependencies]\ndiesel = { version = \"2\" }\n"), &[]);
    assert!(toml.contains("paths = [\"src/schema.rs\"]"), "{toml}");
    let (_, toml, _d) = init_in(None, &[]);
    assert!(toml.contains("paths = [\"src/**/*.rs\"]"), "{toml}");
    let (o, toml, d) = init_in(
        None,
        &[
            "--dialect",
            "diesel",
            "--models",
            "db/schema.rs",
            "--database-url",
            "postgres://app:pw@localhost/app",
        ],
    );
    assert!(toml.contains("paths = [\"db/schema.rs\"]"), "{toml}");
    assert!(
        toml.contains("url = \"postgres://app:pw@localhost/app\""),
        "{toml}"
    );
    assert!(o.stdout.contains("retort.toml now holds a password"), "{o}");
    assert!(!o.stdout.contains("app:pw"), "{o}");
    // The file it wrote is a valid configuration.
    let o = retort(d.path(), &[], &["history"]);
    assert_eq!(o.code, 0, "{o}");
}

#[test]
fn database_create_and_drop_with_confirmation() {
    let p = Project::new("dbcmd");
    let name = format!("retort_dbcmd_{}", std::process::id());
    let url =
        p.db.url
            .replacen(&format!("/{}", p.db.name), &format!("/{name}"), 1);
    assert_ne!(url, p.db.url);
    let run = |args: &[&str]| retort(p.dir.path(), &[("DATABASE_URL", &url)], args);
    let exists = || -> bool {
        p.client()
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    };
    let o = run(&["database", "create"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.contains(&format!("created database {name}")),
        "{o}"
    );
    assert!(exists());
    let o = run(&["database", "create"]);
    assert!(o.stdout.contains("already exists"), "{o}");
    // Not a terminal and no --yes: refused, nothing dropped.
    let o = run(&["database", "drop"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("pass --yes"), "{o}");
    assert!(exists());
    let o = run(&["database", "drop", "--yes"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(!exists());
    let o = run(&["database", "drop", "--yes"]);
    assert!(o.stdout.contains("does not exist"), "{o}");
}
