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
