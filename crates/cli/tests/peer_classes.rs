//! CLI tests for bug classes found by running other schema-diff tools' test suites through Retort,
//! where a fixture cannot show the bug (it lives in the scratch database or the live workflow).

mod common;

use common::*;

#[test]
fn a_default_using_an_undeclared_sequence_autogenerates() {
    let p = Project::new("undeclared_sequence");
    p.client()
        .batch_execute(
            "CREATE SEQUENCE order_no START 100; CREATE SEQUENCE \"App Seq\"; \
             CREATE TABLE orders (id bigint PRIMARY KEY)",
        )
        .unwrap();
    p.models(
        r#"
#[derive(Table)]
#[table(name = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: i64,
    #[column(default = "nextval('order_no')")]
    pub no: i64,
    #[column(default = "nextval('\"App Seq\"'::regclass)")]
    pub other: i64,
}
"#,
    );
    let o = p.ok(&["diff"]);
    assert!(
        o.stdout
            .contains("ADD COLUMN no bigint NOT NULL DEFAULT nextval('order_no'::regclass)"),
        "{o}"
    );
    p.ok(&["revision", "--autogenerate", "-m", "numbers"]);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check", "--live"]);
    let no: i64 = p
        .client()
        .query_one("INSERT INTO orders (id) VALUES (1) RETURNING no", &[])
        .unwrap()
        .get(0);
    assert_eq!(no, 100);
}

#[test]
fn an_enum_label_used_where_it_is_added_is_committed_by_a_step_of_its_own() {
    let p = Project::new("enum_label_use");
    let v1 = r#"
#[derive(DbEnum)]
#[db_enum(name = "state")]
pub enum State { Draft, Live }

#[derive(Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(default = "'draft'")]
    pub state: State,
}
"#;
    p.models(v1);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "posts"]);
    p.ok(&["upgrade", "head"]);
    // A new label that becomes the default: ADD VALUE must commit before the default uses it.
    p.models(
        &v1.replace("Draft, Live", "Draft, Live, Queued")
            .replace("'draft'", "'queued'"),
    );
    let o = p.ok_at(2, &["revision", "--autogenerate", "-m", "queue"]);
    assert!(o.stdout.contains("up.sql has 2 steps"), "{o}");
    let entries = p.migration_entries();
    assert_eq!(entries.len(), 3, "{entries:?}"); // the two revisions + retort.sum
    let queue = entries
        .iter()
        .find(|e| e.ends_with("queue"))
        .expect("the revision");
    // The label is committed by step 1 before step 2 uses it.
    let up = p.read(&format!("migrations/{queue}/up.sql"));
    let (first, second) = up.split_once("\n-- retort:step\n").expect("two steps");
    assert!(first.contains("ADD VALUE 'queued'"), "{up}");
    assert!(second.contains("SET DEFAULT 'queued'"), "{up}");
    let down = p.read(&format!("migrations/{queue}/down.sql"));
    assert!(down.contains("\n-- retort:step\n"), "{down}");
    p.ok(&["upgrade", "head"]);
    p.ok(&["check", "--live"]);
    let state: String = p
        .client()
        .query_one(
            "INSERT INTO posts (id) VALUES (1) RETURNING state::text",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(state, "queued");
    // Down removes the label again (a rebuild), which rows still using it would refuse.
    p.client().batch_execute("DELETE FROM posts").unwrap();
    p.ok(&["downgrade", "base"]);
}
