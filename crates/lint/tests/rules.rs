//! One test per lint rule: the statement that triggers it, and the variant that does not.

use retort_lint::{lint, Severity};

/// The rule ids `sql` triggers, in order.
fn ids(sql: &str) -> Vec<&'static str> {
    lint(sql).into_iter().map(|f| f.rule).collect()
}

const LT: &str = "SET lock_timeout = '5s';\n";

#[test]
fn r000_not_parsed() {
    assert_eq!(ids("ALTER TABLE t SET ACCESS METHOD x WITH y;"), ["R000"]);
}

#[test]
fn r001_drop_table() {
    assert_eq!(ids(&format!("{LT}DROP TABLE t;")), ["R001"]);
    assert!(ids("CREATE TABLE t (id int);\nDROP TABLE t;").is_empty());
}

#[test]
fn r002_drop_column() {
    assert_eq!(
        ids(&format!("{LT}ALTER TABLE t DROP COLUMN a, DROP COLUMN b;")),
        ["R002", "R002"]
    );
}

#[test]
fn r003_alter_column_type() {
    assert_eq!(
        ids(&format!("{LT}ALTER TABLE t ALTER COLUMN a TYPE int;")),
        ["R003"]
    );
}

#[test]
fn r004_set_not_null() {
    assert_eq!(
        ids(&format!("{LT}ALTER TABLE t ALTER COLUMN a SET NOT NULL;")),
        ["R004"]
    );
    assert!(ids("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;").is_empty());
}

#[test]
fn r005_add_column_not_null_without_default() {
    assert_eq!(
        ids(&format!("{LT}ALTER TABLE t ADD COLUMN a int NOT NULL;")),
        ["R005"]
    );
    assert!(ids(&format!(
        "{LT}ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;"
    ))
    .is_empty());
    assert!(ids(&format!(
        "{LT}ALTER TABLE t ADD COLUMN a bigserial NOT NULL;"
    ))
    .is_empty());
}

#[test]
fn r006_create_index_not_concurrently() {
    assert_eq!(ids(&format!("{LT}CREATE INDEX i ON t (a);")), ["R006"]);
    assert!(ids("CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);").is_empty());
    assert!(ids("-- retort:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);").is_empty());
}

#[test]
fn r007_constraint_without_not_valid() {
    let fk = "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id)";
    assert_eq!(ids(&format!("{LT}{fk};")), ["R007"]);
    assert!(ids(&format!("{LT}{fk} NOT VALID;")).is_empty());
    assert_eq!(
        ids(&format!(
            "{LT}ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);"
        )),
        ["R007"]
    );
}

#[test]
fn r008_rename() {
    assert_eq!(ids(&format!("{LT}ALTER TABLE t RENAME TO u;")), ["R008"]);
    assert_eq!(
        ids(&format!("{LT}ALTER TABLE t RENAME COLUMN a TO b;")),
        ["R008"]
    );
}

#[test]
fn r009_missing_lock_timeout() {
    assert_eq!(
        ids("ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;"),
        ["R009"]
    );
    assert!(ids(&format!("{LT}ALTER TABLE t ADD COLUMN a int;")).is_empty());
    assert!(ids("SET LOCAL lock_timeout TO '1s';\nALTER TABLE t ADD COLUMN a int;").is_empty());
}

#[test]
fn r010_needs_no_transaction() {
    assert_eq!(ids("CREATE INDEX CONCURRENTLY i ON t (a);"), ["R010"]);
    assert_eq!(ids("DROP INDEX CONCURRENTLY i;"), ["R010"]);
    assert_eq!(ids("VACUUM t;"), ["R010"]);
    let f = lint("ALTER TYPE mood ADD VALUE 'meh';");
    assert_eq!(f[0].rule, "R010");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(ids("-- retort:no-transaction\nVACUUM t;").is_empty());
    // A step of its own outside a transaction: only that step, not the statements around it.
    assert!(ids(
        "CREATE TABLE u (a int);\n-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n\
         -- retort:step\nCREATE TABLE v (a int);"
    )
    .is_empty());
    assert_eq!(
        ids("-- retort:step no-transaction\nVACUUM t;\n-- retort:step\nVACUUM u;"),
        ["R010"]
    );
    // A new enum value committed by its step before the next one uses it.
    assert!(ids(
        "ALTER TYPE mood ADD VALUE 'meh';\n-- retort:step\nCREATE TABLE v (m mood DEFAULT 'meh');"
    )
    .is_empty());
    assert_eq!(
        ids("ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE v (m mood DEFAULT 'meh');\n-- retort:step\nCREATE TABLE w (a int);"),
        ["R010"]
    );
}

#[test]
fn r011_data_and_ddl() {
    assert_eq!(
        ids("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);"),
        ["R011"]
    );
    assert!(ids("INSERT INTO t VALUES (1);\nUPDATE t SET a = 2;").is_empty());
}

#[test]
fn suppression_by_id_or_name_only_for_the_next_statement() {
    let sql = format!(
        "{LT}-- retort:allow R002\nALTER TABLE t DROP COLUMN a;\n\
         -- retort:allow drop-table, R006\nDROP TABLE u;\nDROP TABLE v;"
    );
    let f = lint(&sql);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].line), ("R001", 6));
    // A blank line between the comment and the statement ends the comment block.
    assert_eq!(
        ids(&format!("{LT}-- retort:allow R001\n\nDROP TABLE u;")),
        ["R001"]
    );
}

#[test]
fn retort_warning_comment_acknowledges_its_hazard_only() {
    let f = lint(&format!(
        "{LT}-- WARNING (data loss): drops table public.u and all its rows\nDROP TABLE public.u;"
    ));
    assert_eq!(f.len(), 1);
    assert!(f[0].acknowledged);
    assert_eq!(f[0].severity, Severity::Info);
    // A warning about another hazard does not acknowledge the drop.
    let f = lint(&format!(
        "{LT}-- WARNING (locking): something else\nDROP TABLE public.u;"
    ));
    assert_eq!(f[0].severity, Severity::Error);
}

#[test]
fn every_rule_has_its_readme_anchor() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    for r in retort_lint::RULES {
        let anchor = format!("<a id=\"{}\"></a>`{}` {}", &r.anchor()[1..], r.id, r.name);
        assert!(readme.contains(&anchor), "README lacks {anchor}");
    }
}
