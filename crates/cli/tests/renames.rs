//! `revision --autogenerate` when a column is dropped and one of the same type added, through the
//! binary on real PostgreSQL: with CI set it refuses, on a terminal it asks (and a rename keeps
//! the data), piped without CI it writes the drop and add with a warning.

mod common;

use common::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const V1: &str = r#"
#[derive(Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    pub fullname: String,
}
"#;

fn project(name: &str) -> Project {
    let p = Project::new(name);
    p.models(V1);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "users"]);
    p.ok(&["upgrade", "head"]);
    p.client()
        .batch_execute("INSERT INTO users VALUES (1, 'Ann Lee')")
        .unwrap();
    p.models(&V1.replace("fullname", "name"));
    p
}

/// `retort args` under a pseudo-terminal (`script`), with `input` typed on it.
fn on_a_terminal(p: &Project, args: &str, input: &str) -> String {
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{} {args}", env!("CARGO_BIN_EXE_retort")),
            "/dev/null",
        ])
        .current_dir(p.dir.path())
        .env("DATABASE_URL", &p.db.url)
        .env("RETORT_NOW", at(2))
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs");
    // Kept open until the run ends: `script` may end the session when its input closes.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child.wait().unwrap();
    drop(stdin);
    out
}

#[test]
fn with_ci_set_a_possible_rename_is_refused() {
    let p = project("renames_ci");
    let now = at(2);
    let o = retort(
        p.dir.path(),
        &[
            ("DATABASE_URL", &p.db.url),
            ("RETORT_NOW", &now),
            ("CI", "true"),
        ],
        &["revision", "--autogenerate", "-m", "rename"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("possible rename(s)")
            && o.stderr.contains("public.users.fullname -> name")
            && o.stderr.contains("#[column(renamed_from = \"fullname\")]"),
        "{o}"
    );
    assert_eq!(p.migration_entries().len(), 2, "nothing written");
    // Said explicitly, it writes the drop and add.
    let o = retort(
        p.dir.path(),
        &[
            ("DATABASE_URL", &p.db.url),
            ("RETORT_NOW", &now),
            ("CI", "true"),
        ],
        &[
            "revision",
            "--autogenerate",
            "-m",
            "rename",
            "--renames",
            "drop-add",
        ],
    );
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("WARNING (possible rename)"), "{o}");
}

#[test]
fn on_a_terminal_a_confirmed_rename_keeps_the_data() {
    let p = project("renames_tty");
    let out = on_a_terminal(&p, "revision --autogenerate -m rename", "r\n");
    assert!(
        out.contains(
            "public.users: column fullname is dropped and name added with the same type. Renamed?"
        ),
        "{out}"
    );
    let up = p.read("migrations/20260101_000002_rename/up.sql");
    assert!(up.contains("RENAME COLUMN fullname TO name"), "{up}\n{out}");
    assert!(!up.contains("DROP COLUMN"), "{up}");
    p.ok(&["upgrade", "head"]);
    let name: String = p
        .client()
        .query_one("SELECT name FROM users WHERE id = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "Ann Lee");
    p.ok(&["check", "--live"]);
}

#[test]
fn on_a_terminal_drop_and_add_is_the_other_answer() {
    let p = project("renames_tty_drop");
    let out = on_a_terminal(&p, "revision --autogenerate -m replace", "what\nd\n");
    assert!(
        out.contains("answer r (rename) or d (drop and add)"),
        "{out}"
    );
    let up = p.read("migrations/20260101_000002_replace/up.sql");
    assert!(up.contains("DROP COLUMN fullname"), "{up}");
    assert!(up.contains("ADD COLUMN name"), "{up}");
}

#[test]
fn piped_without_ci_the_drop_and_add_are_written_with_a_warning() {
    let p = project("renames_piped");
    let o = p.ok_at(2, &["revision", "--autogenerate", "-m", "replace"]);
    assert!(o.stdout.contains("WARNING (possible rename)"), "{o}");
}
