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
