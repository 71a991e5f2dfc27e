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
