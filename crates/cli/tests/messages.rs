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
