//! `revision --autogenerate --online` through the binary, on real PostgreSQL: SET NOT NULL of a
//! filled table goes through a check added NOT VALID and validated in the last step; when the
//! validation fails, the first step stays committed, `downgrade` takes it back (the check too),
//! and once the data is fixed `upgrade` applies it all.

mod common;

use common::*;

const V1: &str = r#"
#[derive(Table)]
#[table(name = "members")]
pub struct Member {
    #[column(primary_key)]
    pub id: i64,
    pub name: Option<String>,
}
"#;

fn constraints(p: &Project) -> Vec<String> {
    p.client()
        .query(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = 'members'::regclass ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn an_online_set_not_null_that_fails_validation_is_taken_back_or_resumed() {
    let p = Project::new("online_not_null");
    p.models(V1);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "members"]);
    p.ok(&["upgrade", "head"]);
    p.client()
        .batch_execute("INSERT INTO members VALUES (1, 'ann'), (2, NULL)")
        .unwrap();
    p.models(&V1.replace("Option<String>", "String"));
    let o = p.ok_at(
        2,
        &[
            "revision",
            "--autogenerate",
            "--online",
            "-m",
            "name required",
        ],
    );
    assert!(o.stdout.contains("up.sql has 2 steps"), "{o}");
    let rev = "20260101_000002_name_required";
    let up = p.read(&format!("migrations/{rev}/up.sql"));
    let (first, last) = up.split_once("\n-- retort:step\n").expect("two steps");
    assert!(first.contains("CHECK (name IS NOT NULL) NOT VALID"), "{up}");
    assert!(
        last.contains("VALIDATE CONSTRAINT members_name_not_null"),
        "{up}"
    );
    assert!(last.contains("SET NOT NULL"), "{up}");
    // Lint accepts the online migration: nothing at error level.
    p.ok(&["lint", "--severity", "error"]);

    // Row 2 holds NULL: the validation in step 2 fails, step 1 stays committed.
    let o = p.fails(1, &["upgrade", "head"]);
    assert!(o.stderr.contains("SQLSTATE 23514"), "{o}");
    assert!(
        o.stderr
            .contains("step 2 of 2 was rolled back; step 1 stays committed"),
        "{o}"
    );
    assert_eq!(constraints(&p), ["members_name_not_null", "members_pkey"]);
    assert!(p
        .ok(&["current"])
        .stdout
        .contains("interrupted after step 1 of 2"));

    // downgrade takes step 1 back (the check goes), and the database is at the first revision.
    p.ok(&["downgrade", "-1"]);
    assert_eq!(constraints(&p), ["members_pkey"]);
    assert_eq!(p.ok(&["current"]).stdout, "20260101_000001_members\n");

    // With the data fixed, the upgrade applies both steps.
    p.client()
        .batch_execute("UPDATE members SET name = 'bob' WHERE name IS NULL")
        .unwrap();
    p.ok(&["upgrade", "head"]);
    assert_eq!(constraints(&p), ["members_pkey"]);
    let nullable: bool = p
        .client()
        .query_one(
            "SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'name'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!nullable);
    p.ok(&["check", "--live"]);
}
