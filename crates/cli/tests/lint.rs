//! `retort lint`: findings over the migrations directory (no database), the output formats, the
//! `--severity` threshold and exit codes, revision ranges, and `-- retort:allow` in a real file.

mod common;

use common::{retort, RETORT_TOML};

/// A project with two hand-written revisions: `a1` adds an index the locking way, `b2` drops a
/// column (an error) unless `allow` is set.
fn project(allow: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("retort.toml"), RETORT_TOML).unwrap();
    let rev = |id: &str, revises: &str, body: &str| {
        let d = dir.path().join("migrations").join(id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("up.sql"),
            format!(
                "-- retort:revision {id}\n-- retort:revises {revises}\n-- retort:message {id}\n\
                 -- retort:created 2026-01-01T00:00:00Z\n\n{body}"
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("down.sql"),
            format!("-- retort:revision {id}\n-- retort:down\n\nSELECT 1;\n"),
        )
        .unwrap();
    };
    rev(
        "a1",
        "base",
        "SET lock_timeout = '5s';\nCREATE INDEX users_email_idx ON users (email);\n",
    );
    let allow = if allow { "-- retort:allow R002\n" } else { "" };
    rev(
        "b2",
        "a1",
        &format!("SET lock_timeout = '5s';\n{allow}ALTER TABLE users DROP COLUMN email;\n"),
    );
    let o = retort(dir.path(), &[], &["hash"]);
    assert_eq!(o.code, 0, "{o}");
    dir
}

#[test]
fn text_output_and_exit_codes() {
    let dir = project(false);
    let o = retort(dir.path(), &[], &["lint"]);
    assert_eq!(o.code, 1, "{o}");
    assert_eq!(
        o.stdout,
        "migrations/a1/up.sql:7: warning[R006] builds an index on existing table users without CONCURRENTLY, blocking writes until done\n\
         migrations/b2/up.sql:7: error[R002] drops column users.email and its data\n"
    );
    // Only the first revision: a warning, below the default threshold.
    let o = retort(dir.path(), &[], &["lint", ":a1"]);
    assert_eq!(o.code, 0, "{o}");
    let o = retort(dir.path(), &[], &["lint", ":a1", "--severity", "warning"]);
    assert_eq!(o.code, 1, "{o}");
}

#[test]
fn suppression_in_a_migration_file() {
    let dir = project(true);
    let o = retort(dir.path(), &[], &["lint"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(!o.stdout.contains("R002"), "{o}");
    assert!(o.stdout.contains("R006"), "{o}");
}

#[test]
fn json_and_github_formats() {
    let dir = project(false);
    let o = retort(dir.path(), &[], &["lint", "--format", "json"]);
    assert_eq!(o.code, 1, "{o}");
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["rule"], "R002");
    assert_eq!(v[1]["severity"], "error");
    assert_eq!(v[1]["file"], "migrations/b2/up.sql");
    assert_eq!(v[1]["revision"], "b2");
    assert_eq!(v[1]["line"], 7);
    let o = retort(dir.path(), &[], &["lint", "--format", "github"]);
    assert_eq!(o.code, 1, "{o}");
    assert!(
        o.stdout.contains(
            "::error file=migrations/b2/up.sql,line=7,title=R002 drop-column::drops column users.email and its data\n"
        ),
        "{o}"
    );
    assert!(
        o.stdout
            .starts_with("::warning file=migrations/a1/up.sql,line=7,"),
        "{o}"
    );
}

#[test]
fn check_live_lints_the_pending_migrations() {
    let p = common::Project::new("lint_pending");
    let v1 = "#[derive(Table)]\n#[table(name = \"users\")]\npub struct User {\n    #[column(primary_key)]\n    pub id: i64,\n    pub email: String,\n}\n";
    p.models(v1);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "users"]);
    p.ok(&["upgrade", "head"]);
    p.models(&v1.replace("    pub email: String,\n", ""));
    p.ok_at(2, &["revision", "--empty", "-m", "drop email"]);
    let up = "migrations/20260101_000002_drop_email/up.sql";
    let line = p.read(up).lines().count() + 1;
    p.append(up, "ALTER TABLE users DROP COLUMN email;\n");
    p.ok(&["hash"]);
    let o = p.fails(3, &["check", "--live"]);
    assert!(
        o.stdout.contains(&format!(
            "lint: {up}:{line}: error[R002] drops column users.email and its data"
        )),
        "{o}"
    );
    // Once applied, it is no longer pending: no lint line.
    p.ok(&["upgrade", "head"]);
    let o = p.ok(&["check", "--live"]);
    assert!(!o.stdout.contains("lint:"), "{o}");
}
