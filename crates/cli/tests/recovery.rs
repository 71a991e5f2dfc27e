//! Recovering from runs that fail or stop half-way, on real PostgreSQL: files are read completely
//! or not at all, a rerun after an interrupted `upgrade` continues without `retort hash`, and
//! the messages say what happened, where, and what to do.

mod common;

use common::*;

const A: &str = "20260101_000001_a";
const B: &str = "20260101_000002_b";

/// Two empty revisions written with `revision -m`, `a` then `b` on top of it.
fn two_empty(p: &Project) {
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    p.ok_at(2, &["revision", "--empty", "-m", "b"]);
    assert_eq!(p.migration_entries(), [A, B, "retort.sum"]);
}

fn up(rev: &str) -> String {
    format!("migrations/{rev}/up.sql")
}

fn down(rev: &str) -> String {
    format!("migrations/{rev}/down.sql")
}

/// retort.sum matches the files (what `retort check` verifies besides the models).
fn sum_matches(p: &Project) {
    let dir = p.path("migrations");
    let graph = retort_migrate::load(&dir).unwrap();
    retort_migrate::verify_sum(&dir, &graph).unwrap();
}

/// Line of up.sql on which text appended now starts.
fn next_line(p: &Project, rel: &str) -> usize {
    p.read(rel).lines().count() + 1
}

#[test]
fn unclosed_tokens_are_rejected_before_anything_runs() {
    let p = Project::new("unclosed");
    two_empty(&p);
    p.append(&up(A), "CREATE TABLE a (id int);\n");
    p.append(&down(A), "DROP TABLE a;\n");
    let line = next_line(&p, &up(B)) + 1;
    for (body, what) in [
        (
            "/* outer /* inner */ still open\nDROP TABLE a;\n",
            "/* comment",
        ),
        ("SELECT 'forgot the quote;\nDROP TABLE a;\n", "string '..."),
        ("SELECT E'it\\'s;\nDROP TABLE a;\n", "string E'..."),
        (
            "CREATE TABLE \"b (id int);\nDROP TABLE a;\n",
            "quoted identifier",
        ),
        (
            "DO $body$ BEGIN NULL; END $$;\nDROP TABLE a;\n",
            "dollar quote $body$",
        ),
    ] {
        let original = p.read(&up(B));
        p.append(&up(B), &format!("SELECT 1;\n{body}"));
        let o = p.run(&["upgrade", "head"]);
        assert_ne!(o.code, 0, "{body}:\n{o}");
        assert!(
            o.stderr
                .contains(&format!("{B}/up.sql:{line}: unterminated {what}")),
            "{body}:\n{o}"
        );
        // Not even the earlier, valid migration ran: every file is read before anything applies.
        assert!(!p.exists("public.a"), "{body}:\n{o}");
        p.write(&up(B), &original);
        assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");
    }
    // down.sql is read as strictly: a broken down.sql is found before it is needed.
    p.append(&down(B), "DROP TABLE 'b;\n");
    let o = p.run(&["upgrade", "head"]);
    assert_ne!(o.code, 0, "{o}");
    assert!(o.stderr.contains(&format!("{B}/down.sql:")), "{o}");
    assert!(!p.exists("public.a"));
}

#[test]
fn rerun_after_a_failed_run_continues_without_hash() {
    let p = Project::new("rerun_failed");
    two_empty(&p);
    p.append(&up(A), "CREATE TABLE a (id int);\n");
    p.append(&down(A), "DROP TABLE a;\n");
    let line = next_line(&p, &up(B)) + 1;
    p.append(
        &up(B),
        "CREATE TABLE b (id int);\nSELECT * FROM missing_table;\n",
    );
    p.append(&down(B), "DROP TABLE b;\n");

    let o = p.fails(1, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!(
            "{B}/up.sql:{line}): statement 2 failed: \
             relation \"missing_table\" does not exist (SQLSTATE 42P01)"
        )),
        "{o}"
    );
    assert!(o.stderr.contains("  SELECT * FROM missing_table"), "{o}");
    assert!(o.stderr.contains("transaction was rolled back"), "{o}");
    assert!(
        o.stderr
            .contains("applied 1 migration(s) before the failure"),
        "{o}"
    );
    assert!(!o.stderr.contains("db error"), "{o}");
    assert_eq!(o.stderr.matches("SQLSTATE").count(), 1, "{o}");
    assert!(p.exists("public.a") && !p.exists("public.b"));

    // Fix b and rerun: a (edited after `revision`, applied by the failed run) is not "edited".
    let fixed = p.read(&up(B)).replace("SELECT * FROM missing_table;\n", "");
    p.write(&up(B), &fixed);
    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert!(p.exists("public.b"));
    sum_matches(&p);
    assert_eq!(
        p.ok(&["upgrade", "head"]).stdout,
        "nothing to do: the database is already at head\n"
    );
}

/// The run is killed between COMMIT and rewriting retort.sum (simulated by putting the old
/// retort.sum back): the checksum in the version table vouches for what was applied.
#[test]
fn rerun_after_an_interrupted_run_continues_from_the_version_table() {
    let p = Project::new("rerun_killed");
    two_empty(&p);
    let sum_before = p.read("migrations/retort.sum");
    p.append(&up(A), "CREATE TABLE a (id int);\n");
    p.append(&down(A), "DROP TABLE a;\n");
    p.append(
        &up(B),
        "CREATE TABLE b (id int);\nSELECT pg_terminate_backend(pg_backend_pid());\n",
    );
    p.append(&down(B), "DROP TABLE b;\n");

    let o = p.fails(1, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!(
            "lost the connection to the server while running migration {B}"
        )),
        "{o}"
    );
    assert!(
        o.stderr
            .contains("statement 2 (SELECT pg_terminate_backend"),
        "{o}"
    );
    assert!(
        o.stderr.contains("the connection to the server was lost"),
        "{o}"
    );
    assert!(o.stderr.contains("transaction was rolled back"), "{o}");
    assert!(o.stderr.contains("run `retort upgrade` again"), "{o}");
    assert!(!o.stderr.contains("db error"), "{o}");
    assert!(p.exists("public.a") && !p.exists("public.b"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{A}\n"));
    let recorded: Option<String> = p
        .client()
        .query_one("SELECT checksum FROM retort_version", &[])
        .unwrap()
        .get(0);
    assert!(recorded.is_some_and(|c| c.starts_with("h1:")));

    // As if the process had died before rewriting retort.sum.
    p.write("migrations/retort.sum", &sum_before);
    let fixed = p
        .read(&up(B))
        .replace("SELECT pg_terminate_backend(pg_backend_pid());\n", "");
    p.write(&up(B), &fixed);
    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert!(o.stdout.contains("recorded"), "{o}");
    assert!(p.exists("public.b"));
    sum_matches(&p);

    // Editing an applied migration is still caught.
    p.append(&up(A), "SELECT 1;\n");
    let o = p.fails(2, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!(
            "{A}/up.sql: it was edited after retort.sum was written"
        )),
        "{o}"
    );
}

/// Killed right after the last migration committed: the rerun has nothing to apply and brings
/// retort.sum up to date.
#[test]
fn interrupted_after_the_last_commit_records_the_sum() {
    let p = Project::new("rerun_last");
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    let sum_before = p.read("migrations/retort.sum");
    p.append(&up(A), "CREATE TABLE a (id int);\n");
    p.ok(&["upgrade", "head"]);
    p.write("migrations/retort.sum", &sum_before);
    let o = p.ok(&["upgrade", "head"]);
    assert!(
        o.stdout.contains(&format!(
            "recorded 1 file(s) in retort.sum that an earlier, interrupted run applied: {A}/up.sql"
        )),
        "{o}"
    );
    assert!(
        o.stdout
            .ends_with("nothing to do: the database is already at head\n"),
        "{o}"
    );
    sum_matches(&p);
}

#[test]
fn a_failed_concurrent_index_names_the_invalid_index() {
    let p = Project::new("cic_invalid");
    p.client()
        .batch_execute("CREATE TABLE d (v int); INSERT INTO d VALUES (1), (1);")
        .unwrap();
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    let line = next_line(&p, &up(A));
    p.append(
        &up(A),
        "CREATE UNIQUE INDEX CONCURRENTLY ix_d_v ON d (v);\n",
    );
    p.append(&down(A), "DROP INDEX CONCURRENTLY ix_d_v;\n");
    let o = p.fails(1, &["upgrade", "head"]);
    assert!(
        o.stderr
            .contains(&format!("{A}/up.sql:{line}): statement 1 failed:")),
        "{o}"
    );
    assert!(o.stderr.contains("(SQLSTATE 23505)"), "{o}");
    assert!(
        o.stderr.contains("detail: Key (v)=(1) is duplicated"),
        "{o}"
    );
    assert!(o.stderr.contains("INVALID index"), "{o}");
    assert!(o.stderr.contains("`DROP INDEX CONCURRENTLY ix_d_v`"), "{o}");
    assert!(o.stderr.contains("`retort diff`"), "{o}");
    assert!(!o.stderr.contains("db error"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");
}

#[test]
fn an_old_version_table_gets_the_checksum_column() {
    let p = Project::new("old_version_table");
    p.client()
        .batch_execute(
            "CREATE TABLE retort_version (revision text PRIMARY KEY, \
             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .unwrap();
    p.ok_at(1, &["revision", "--empty", "-m", "a"]);
    p.append(&up(A), "CREATE TABLE a (id int);\n");
    p.append(&down(A), "DROP TABLE a;\n");
    // Read-only commands leave the table as it is.
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");
    assert!(!p.has_column("retort_version", "checksum"));
    p.ok(&["upgrade", "head"]);
    assert!(p.has_column("retort_version", "checksum"));
    p.ok(&["downgrade", "base"]);
    p.ok(&["upgrade", "head"]);
    assert_eq!(p.ok(&["current"]).stdout, format!("{A} (head)\n"));
}
