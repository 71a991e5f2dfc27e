//! Differ properties on hand-built IR pairs, with no database: diff(a, a) is empty,
//! applying diff(a, b) to a gives b, and applying the inverses in reverse gives a back.

use retort_differ::{diff, inverse};
use retort_schema::*;

fn qn(n: &str) -> QualName {
    QualName::new("public", n)
}

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ty)
    }
}

fn base() -> Catalog {
    let mut users = Table::new(qn("users"));
    users.columns = vec![
        Column {
            identity: Some(Identity::ByDefault),
            ..col("id", ColumnType::BigInt, false)
        },
        col("email", ColumnType::Varchar { length: Some(255) }, false),
        col("mood", ColumnType::named("public", "mood"), true),
    ];
    users.primary_key = Some(PrimaryKey {
        name: "users_pkey".into(),
        columns: vec!["id".into()],
    });
    users.uniques = vec![Unique {
        name: "users_email_key".into(),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    let mut posts = Table::new(qn("posts"));
    posts.columns = vec![
        col("id", ColumnType::BigInt, false),
        col("author_id", ColumnType::BigInt, false),
        Column {
            default: Some("false".into()),
            ..col("published", ColumnType::Boolean, false)
        },
    ];
    posts.primary_key = Some(PrimaryKey {
        name: "posts_pkey".into(),
        columns: vec!["id".into()],
    });
    posts.foreign_keys = vec![ForeignKey {
        name: "posts_author_id_fkey".into(),
        columns: vec!["author_id".into()],
        ref_table: qn("users"),
        ref_columns: vec!["id".into()],
        on_delete: FkAction::Cascade,
        on_update: FkAction::NoAction,
        deferrable: retort_schema::Deferrable::NotDeferrable,
        match_full: false,
    }];
    posts.indexes = vec![Index {
        name: "posts_author_id_idx".into(),
        unique: false,
        keys: vec!["author_id".into()],
        method: "btree".into(),
        include: vec![],
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    }];
    let mut c = Catalog::default();
    {
        let s = c.schema_mut("public");
        s.tables = vec![posts, users];
        s.enums = vec![Enum {
            name: qn("mood"),
            values: vec!["happy".into(), "sad".into()],
        }];
    }
    c.canonicalize();
    c
}

/// Variations of `base`, each exercising different change kinds.
fn variants() -> Vec<(&'static str, Catalog)> {
    let mut out = vec![("empty", Catalog::default())];
    let b = base();

    let mut v = b.clone();
    v.table_mut(&qn("users"))
        .unwrap()
        .columns
        .push(col("bio", ColumnType::Text, true));
    v.table_mut(&qn("posts"))
        .unwrap()
        .columns
        .retain(|c| c.name != "published");
    out.push(("add_and_drop_column", v));

    let mut v = b.clone();
    {
        let t = v.table_mut(&qn("users")).unwrap();
        let email = t.column_mut("email").unwrap();
        email.ty = ColumnType::Text;
        email.nullable = true;
        email.default = Some("'x'".into());
        t.comment = Some("people".into());
    }
    out.push(("alter_columns", v));

    let mut v = b.clone();
    {
        let t = v.table_mut(&qn("posts")).unwrap();
        t.foreign_keys[0].on_delete = FkAction::SetNull;
        t.indexes[0].unique = true;
        t.checks.push(Check {
            name: "posts_id_check".into(),
            expr: "id > 0".into(),
        });
    }
    out.push(("change_constraints", v));

    let mut v = b.clone();
    v.schema_mut("public").enums[0]
        .values
        .insert(1, "meh".into());
    out.push(("enum_add_value", v));

    let mut v = b.clone();
    v.schema_mut("public")
        .tables
        .retain(|t| t.name.name != "posts");
    let mut tags = Table::new(QualName::new("app", "tags"));
    tags.columns = vec![col("name", ColumnType::Text, false)];
    v.schema_mut("app").tables.push(tags);
    out.push(("drop_and_create_tables", v));

    let mut v = b.clone();
    {
        let t = v.table_mut(&qn("users")).unwrap();
        t.column_mut("id").unwrap().identity = Some(Identity::Always);
        t.primary_key = Some(PrimaryKey {
            name: "users_pkey".into(),
            columns: vec!["id".into(), "email".into()],
        });
    }
    out.push(("identity_and_pk", v));
    out
}

fn apply_all(mut c: Catalog, changes: &[Change]) -> Catalog {
    for ch in changes {
        ch.apply(&mut c)
            .unwrap_or_else(|e| panic!("{e} while applying {ch:?}"));
    }
    c.canonicalize();
    c.without_empty_schemas()
}

#[test]
fn diff_of_a_catalog_with_itself_is_empty() {
    for (name, c) in variants() {
        assert!(diff(&c, &c).is_empty(), "{name}");
    }
    assert!(diff(&base(), &base()).is_empty());
}

#[test]
fn applying_a_diff_reaches_the_target_and_inverses_come_back() {
    let all: Vec<(&str, Catalog)> = std::iter::once(("base", base()))
        .chain(variants())
        .collect();
    for (na, a) in &all {
        for (nb, b) in &all {
            let changes = diff(a, b);
            let reached = apply_all(a.clone(), &changes);
            assert_eq!(&reached, &b.clone().without_empty_schemas(), "{na} -> {nb}");
            let back = apply_all(reached, &inverse(&changes));
            assert_eq!(
                &back,
                &a.clone().without_empty_schemas(),
                "{na} -> {nb} -> back"
            );
        }
    }
}

#[test]
fn every_inverse_is_an_involution() {
    let all: Vec<Catalog> = variants().into_iter().map(|(_, c)| c).collect();
    for a in &all {
        for b in &all {
            for c in diff(a, b) {
                assert_eq!(c.inverse().inverse(), c);
            }
        }
    }
}

#[test]
fn foreign_keys_come_after_both_tables_and_enums_before_columns() {
    let changes = diff(&Catalog::default(), &base());
    let pos = |pred: &dyn Fn(&Change) -> bool| changes.iter().position(pred).unwrap();
    let enum_at = pos(&|c| matches!(c, Change::CreateEnum { .. }));
    let users_at =
        pos(&|c| matches!(c, Change::CreateTable { table } if table.name.name == "users"));
    let posts_at =
        pos(&|c| matches!(c, Change::CreateTable { table } if table.name.name == "posts"));
    let fk_at = pos(&|c| matches!(c, Change::AddForeignKey { .. }));
    assert!(enum_at < users_at);
    assert!(fk_at > users_at && fk_at > posts_at);
    let down = inverse(&changes);
    let drop_fk = down
        .iter()
        .position(|c| matches!(c, Change::DropForeignKey { .. }))
        .unwrap();
    let drop_users = down
        .iter()
        .position(|c| matches!(c, Change::DropTable { table } if table.name.name == "users"))
        .unwrap();
    assert!(drop_fk < drop_users);
    assert!(matches!(down.last(), Some(Change::DropEnum { .. })));
}

fn with_id(identity: Option<Identity>) -> Catalog {
    let mut c = base();
    c.table_mut(&qn("users"))
        .unwrap()
        .column_mut("id")
        .unwrap()
        .identity = identity;
    c
}

/// A database serial satisfies a BY DEFAULT identity of the models (the one deliberate exception
/// to "applying diff(a, b) reaches b"); every other change to or from a serial is one
/// AlterColumnSerial, never an identity change, and comes back with its inverse.
#[test]
fn serials_satisfy_by_default_identities_and_convert_otherwise() {
    let serial = with_id(Some(Identity::Serial));
    assert!(diff(&serial, &with_id(Some(Identity::ByDefault))).is_empty());
    let pairs = [
        (Some(Identity::Serial), Some(Identity::Always)),
        (Some(Identity::Serial), None),
        (Some(Identity::ByDefault), Some(Identity::Serial)),
        (Some(Identity::Always), Some(Identity::Serial)),
        (None, Some(Identity::Serial)),
    ];
    for (from, to) in pairs {
        let (a, b) = (with_id(from), with_id(to));
        let changes = diff(&a, &b);
        assert!(
            matches!(
                changes.as_slice(),
                [Change::AlterColumnSerial { from: f, to: t, from_ty: ColumnType::BigInt, to_ty: ColumnType::BigInt, .. }]
                    if *f == from && *t == to
            ),
            "{from:?} -> {to:?}: {changes:?}"
        );
        let reached = apply_all(a.clone(), &changes);
        assert_eq!(reached, b.clone().without_empty_schemas());
        let back = apply_all(reached, &inverse(&changes));
        assert_eq!(back, a.clone().without_empty_schemas());
        for c in &changes {
            assert_eq!(c.inverse().inverse(), *c);
        }
    }
    // A serial whose type changes (under a serial or BY DEFAULT model) has its sequence resized.
    for model in [Identity::Serial, Identity::ByDefault] {
        let mut b = with_id(Some(model));
        let id = b.table_mut(&qn("users")).unwrap().column_mut("id").unwrap();
        id.ty = ColumnType::Integer;
        let changes = diff(&serial, &b);
        assert!(
            matches!(
                changes.as_slice(),
                [
                    Change::AlterColumnType { .. },
                    Change::AlterColumnSerial {
                        from: Some(Identity::Serial),
                        to: Some(Identity::Serial),
                        from_ty: ColumnType::BigInt,
                        to_ty: ColumnType::Integer,
                        ..
                    }
                ]
            ),
            "{changes:?}"
        );
    }
}
