//! Unit tests of the overlay: each manageable property alone, none, all, renames, drops and
//! provenance.

use super::*;
use crate::types::ColumnType;

fn qn(name: &str) -> QualName {
    QualName::new("public", name)
}

fn col(name: &str, ty: ColumnType) -> Column {
    let mut c = Column::new(name, ty);
    c.nullable = false;
    c
}

fn catalog(tables: Vec<Table>) -> Catalog {
    let mut c = Catalog::default();
    for t in tables {
        c.schema_mut("public").tables.push(t);
    }
    c.canonicalize();
    c
}

/// A database table with something of every property the models of `model_table` leave out.
fn db_table() -> Table {
    let mut t = Table::new(qn("t"));
    let mut id = col("id", ColumnType::BigInt);
    id.identity = Some(Identity::Always);
    let tenant = col("tenant", ColumnType::Integer);
    let mut email = col("email", ColumnType::Text);
    email.default = Some("'x'::text".into());
    email.comment = Some("mail".into());
    let mut total = col("total", ColumnType::Integer);
    total.generated = Some("(tenant * 2)".into());
    let mut seq = col("seq", ColumnType::Integer);
    seq.identity = Some(Identity::ByDefault);
    t.columns = vec![id, tenant, email, total, seq];
    t.primary_key = Some(PrimaryKey {
        name: "t_pk".into(),
        columns: vec!["tenant".into(), "id".into()],
    });
    t.uniques = vec![
        Unique {
            name: "t_email_uq".into(),
            columns: vec!["email".into()],
            nulls_not_distinct: true,
        },
        Unique {
            name: "t_extra_uq".into(),
            columns: vec!["tenant".into(), "email".into()],
            nulls_not_distinct: false,
        },
    ];
    t.checks = vec![Check {
        name: "t_total_ck".into(),
        expr: "total > 0".into(),
    }];
    t.foreign_keys = vec![
        ForeignKey {
            name: "t_tenant_fk".into(),
            columns: vec!["tenant".into()],
            ref_table: qn("tenant"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::Restrict,
            deferrable: Deferrable::InitiallyImmediate,
            match_full: true,
        },
        ForeignKey {
            name: "t_extra_fk".into(),
            columns: vec!["email".into()],
            ref_table: qn("other"),
            ref_columns: vec!["email".into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
            match_full: false,
        },
    ];
    let index = |name: &str, keys: &[&str], method: &str, predicate: Option<&str>| Index {
        name: name.into(),
        unique: false,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        method: method.into(),
        include: Vec::new(),
        predicate: predicate.map(String::from),
        invalid: false,
        nulls_not_distinct: false,
    };
    t.indexes = vec![
        index("t_gin", &["email"], "gin", None),
        index(
            "t_partial",
            &["tenant", "(lower(email))"],
            "btree",
            Some("total > 1"),
        ),
        index("t_email_idx", &["email"], "btree", None),
    ];
    t.comment = Some("table".into());
    t.canonicalize();
    t
}

/// The same table as a SeaORM entity generated from it would say: every column, nothing else.
fn model_table() -> Table {
    let mut t = Table::new(qn("t"));
    let mut id = col("id", ColumnType::BigInt);
    id.identity = Some(Identity::ByDefault);
    t.columns = vec![
        col("tenant", ColumnType::Integer),
        id,
        col("email", ColumnType::Text),
        col("total", ColumnType::Integer),
        col("seq", ColumnType::Integer),
    ];
    t.primary_key = Some(PrimaryKey {
        name: "t_pkey".into(),
        columns: vec!["id".into(), "tenant".into()],
    });
    t.uniques = vec![Unique {
        name: "t_email_key".into(),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    t.foreign_keys = vec![ForeignKey {
        name: "t_tenant_fkey".into(),
        columns: vec!["tenant".into()],
        ref_table: qn("tenant"),
        ref_columns: vec!["id".into()],
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
        deferrable: Deferrable::NotDeferrable,
        match_full: false,
    }];
    t.indexes = vec![Index {
        name: "ix_t_email".into(),
        unique: false,
        keys: vec!["email".into()],
        method: "btree".into(),
        include: Vec::new(),
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    }];
    t.canonicalize();
    t
}

fn run(managed: Managed) -> Table {
    let models = catalog(vec![model_table()]);
    let db = catalog(vec![db_table()]);
    let out = overlay(&models, &db, &|_| managed, &[]);
    out.table(&qn("t")).unwrap().clone()
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&str> {
    items.iter().map(name).collect()
}

#[test]
fn nothing_managed_takes_every_property_from_the_database() {
    assert_eq!(run(Managed::NONE), db_table());
}

#[test]
fn everything_managed_keeps_the_models() {
    assert_eq!(run(Managed::ALL), model_table());
}

#[test]
fn each_property_managed_alone_keeps_just_that_from_the_models() {
    use Property as P;
    let only = |p: Property| run(Managed::NONE.with(p));
    let column = |t: &Table, c: &str| t.column(c).unwrap().clone();

    let t = only(P::Defaults);
    assert_eq!(column(&t, "email").default, None);
    assert_eq!(t.columns, {
        let mut d = db_table().columns;
        d[2].default = None;
        d
    });

    let t = only(P::Identity);
    assert_eq!(column(&t, "seq").identity, None);
    assert_eq!(column(&t, "id").identity, Some(Identity::Always));

    let t = only(P::IdentityKind);
    assert_eq!(column(&t, "id").identity, Some(Identity::ByDefault));
    assert_eq!(column(&t, "seq").identity, Some(Identity::ByDefault));

    let t = only(P::Generated);
    assert_eq!(column(&t, "total").generated, None);

    let t = only(P::Comments);
    assert_eq!(column(&t, "email").comment, None);
    assert_eq!(t.comment, None);

    let t = only(P::ColumnOrder);
    assert_eq!(
        names(&t.columns, |c| &c.name),
        ["tenant", "id", "email", "total", "seq"]
    );
    assert_eq!(
        names(&run(Managed::NONE).columns, |c| &c.name),
        ["id", "tenant", "email", "total", "seq"]
    );

    let t = only(P::KeyOrder);
    let pk = t.primary_key.unwrap();
    assert_eq!(pk.columns, ["id", "tenant"]);
    // Not the same columns in the same order: the name is the models' (the key is rebuilt).
    assert_eq!(pk.name, "t_pkey");

    let t = only(P::ConstraintNames);
    assert_eq!(t.primary_key.unwrap().name, "t_pkey");
    // The database's objects under other names are not the models': kept, as uniques,
    // foreign keys and indexes are unmanaged.
    assert_eq!(
        names(&t.uniques, |u| &u.name),
        ["t_email_key", "t_email_uq", "t_extra_uq"]
    );
    assert_eq!(
        names(&t.foreign_keys, |f| &f.name),
        ["t_extra_fk", "t_tenant_fk", "t_tenant_fkey"]
    );
    assert_eq!(
        names(&t.indexes, |i| &i.name),
        ["ix_t_email", "t_email_idx", "t_gin", "t_partial"]
    );

    let t = only(P::Uniques);
    assert_eq!(names(&t.uniques, |u| &u.name), ["t_email_uq"]);

    let t = only(P::UniqueNulls);
    assert_eq!(t.uniques, {
        let mut u = db_table().uniques;
        u[0].nulls_not_distinct = false;
        u
    });

    let t = only(P::Checks);
    assert!(t.checks.is_empty());

    let t = only(P::ForeignKeys);
    assert_eq!(names(&t.foreign_keys, |f| &f.name), ["t_tenant_fk"]);

    let t = only(P::FkActions);
    let fk = t
        .foreign_keys
        .iter()
        .find(|f| f.name == "t_tenant_fk")
        .unwrap();
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (FkAction::NoAction, FkAction::NoAction)
    );
    assert!(fk.deferrable.is_deferrable() && fk.match_full);

    let t = only(P::Deferrable);
    let fk = t
        .foreign_keys
        .iter()
        .find(|f| f.name == "t_tenant_fk")
        .unwrap();
    assert!(!fk.deferrable.is_deferrable() && fk.match_full);
    assert_eq!(fk.on_delete, FkAction::Cascade);

    let t = only(P::FkMatch);
    let fk = t
        .foreign_keys
        .iter()
        .find(|f| f.name == "t_tenant_fk")
        .unwrap();
    assert!(fk.deferrable.is_deferrable() && !fk.match_full);

    let t = only(P::Indexes);
    assert_eq!(names(&t.indexes, |i| &i.name), ["t_email_idx"]);
}

#[test]
fn every_property_is_covered_by_a_key() {
    let keys: Vec<&str> = Property::ALL.iter().map(|p| p.key()).collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len());
    assert_eq!(Managed::ALL.iter().count(), Property::ALL.len());
    assert_eq!(Managed::of(&Property::ALL), Managed::ALL);
    assert_eq!(
        format!(
            "{:?}",
            Managed::of(&[Property::Indexes, Property::Defaults])
        ),
        r#"{"defaults", "indexes"}"#
    );
}

#[test]
fn what_the_models_declare_still_wins() {
    // A default, a comment and a check the models state are theirs, managed or not.
    let mut m = model_table();
    m.column_mut("email").unwrap().default = Some("'y'::text".into());
    m.column_mut("email").unwrap().comment = Some("address".into());
    m.comment = Some("ours".into());
    m.checks.push(Check {
        name: "t_total_ck".into(),
        expr: "total > 10".into(),
    });
    let models = catalog(vec![m]);
    let db = catalog(vec![db_table()]);
    let out = overlay(&models, &db, &|_| Managed::NONE, &[]);
    let t = out.table(&qn("t")).unwrap();
    let email = t.column("email").unwrap();
    assert_eq!(email.default.as_deref(), Some("'y'::text"));
    assert_eq!(email.comment.as_deref(), Some("address"));
    assert_eq!(t.comment.as_deref(), Some("ours"));
    assert_eq!(t.checks.len(), 1);
    assert_eq!(t.checks[0].expr, "total > 10");
}

#[test]
fn tables_only_in_the_models_are_untouched() {
    let mut m = model_table();
    m.name = qn("fresh");
    let models = catalog(vec![m.clone()]);
    let db = catalog(vec![db_table()]);
    let out = overlay(&models, &db, &|_| Managed::NONE, &[]);
    assert_eq!(out, models);
}

#[test]
fn fully_managed_tables_are_untouched_whatever_the_others() {
    let models = catalog(vec![model_table()]);
    let db = catalog(vec![db_table()]);
    let out = overlay(&models, &db, &|_| Managed::ALL, &[]);
    assert_eq!(out, models);
}

#[test]
fn renamed_tables_and_columns_are_matched_through_their_hints() {
    let mut d = db_table();
    d.name = qn("old_t");
    d.columns[2].name = "mail".into();
    for u in &mut d.uniques {
        for c in &mut u.columns {
            if c == "email" {
                *c = "mail".into();
            }
        }
    }
    for f in &mut d.foreign_keys {
        f.columns = f
            .columns
            .iter()
            .map(|c| {
                if c == "email" {
                    "mail".into()
                } else {
                    c.clone()
                }
            })
            .collect();
    }
    for i in &mut d.indexes {
        // PostgreSQL shows expressions with the column's current name: only plain keys move.
        i.keys = i
            .keys
            .iter()
            .map(|k| {
                if k == "email" {
                    "mail".into()
                } else {
                    k.clone()
                }
            })
            .collect();
    }
    let models = catalog(vec![model_table()]);
    let db = catalog(vec![d]);
    let renames = [
        Renamed {
            table: qn("t"),
            column: None,
            from: "old_t".into(),
        },
        Renamed {
            table: qn("t"),
            column: Some("email".into()),
            from: "mail".into(),
        },
    ];
    let out = overlay(&models, &db, &|_| Managed::NONE, &renames);
    assert_eq!(out.table(&qn("t")).unwrap(), &db_table());
}

#[test]
fn kept_objects_go_with_what_the_models_drop_without_being_named() {
    // The models drop the column `email` and the table `other` (in the database). The index and
    // constraints on the column are kept: PostgreSQL drops them with the column, and a DROP INDEX
    // would fail where they never existed. The foreign key to the table would block DROP TABLE:
    // it goes first.
    let mut m = model_table();
    m.columns.retain(|c| c.name != "email");
    m.uniques.clear();
    m.indexes.clear();
    let mut other = Table::new(qn("other"));
    other.columns.push(col("email", ColumnType::Text));
    let models = catalog(vec![m]);
    let db = catalog(vec![db_table(), other]);
    let out = overlay(&models, &db, &|_| Managed::NONE, &[]);
    let t = out.table(&qn("t")).unwrap();
    assert_eq!(
        names(&t.indexes, |i| &i.name),
        ["t_email_idx", "t_gin", "t_partial"]
    );
    assert_eq!(names(&t.uniques, |u| &u.name), ["t_email_uq", "t_extra_uq"]);
    assert_eq!(names(&t.foreign_keys, |f| &f.name), ["t_tenant_fk"]);
    // A table the models keep (or the database does not have) keeps its keys.
    let models = catalog(vec![model_table()]);
    let db = catalog(vec![db_table()]);
    let out = overlay(&models, &db, &|_| Managed::NONE, &[]);
    let t = out.table(&qn("t")).unwrap();
    assert_eq!(
        names(&t.foreign_keys, |f| &f.name),
        ["t_extra_fk", "t_tenant_fk"]
    );
}

#[test]
fn a_name_is_adopted_only_once_and_never_twice_in_a_table() {
    // Two model uniques; the database's one on (email) is named as the other model unique.
    let mut m = model_table();
    m.uniques = vec![
        Unique {
            name: "a_key".into(),
            columns: vec!["email".into()],
            nulls_not_distinct: false,
        },
        Unique {
            name: "b_key".into(),
            columns: vec!["tenant".into()],
            nulls_not_distinct: false,
        },
    ];
    let mut d = db_table();
    d.uniques = vec![Unique {
        name: "b_key".into(),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    let models = catalog(vec![m]);
    let db = catalog(vec![d]);
    let out = overlay(&models, &db, &|_| Managed::NONE, &[]);
    let t = out.table(&qn("t")).unwrap();
    // b_key is declared (differently) by the models: theirs; a_key keeps its own name.
    assert_eq!(names(&t.uniques, |u| &u.name), ["a_key", "b_key"]);
    assert_eq!(t.uniques[1].columns, ["tenant"]);
}

#[test]
fn declared_lists_the_kinds_the_models_use_somewhere() {
    use Property as P;
    let d = declared(&catalog(vec![model_table()]));
    for p in [
        P::Identity,
        P::IdentityKind,
        P::Uniques,
        P::ForeignKeys,
        P::Indexes,
        P::ConstraintNames,
        P::KeyOrder,
        P::ColumnOrder,
    ] {
        assert!(d.contains(p), "{p}");
    }
    for p in [
        P::Defaults,
        P::Generated,
        P::Comments,
        P::Checks,
        P::UniqueNulls,
        P::FkActions,
        P::Deferrable,
        P::FkMatch,
    ] {
        assert!(!d.contains(p), "{p}");
    }
    assert_eq!(declared(&catalog(vec![db_table()])), Managed::ALL);
}

#[test]
fn provenance_tells_silence_from_a_different_declaration() {
    let models = catalog(vec![model_table()]);
    let d = db_table();
    let drop_index = |name: &str| Change::DropIndex {
        table: qn("t"),
        index: Index {
            name: name.into(),
            ..d.indexes[0].clone()
        },
    };
    assert_eq!(
        provenance(&drop_index("t_gin"), &models),
        Provenance::NotDeclared
    );
    assert_eq!(
        provenance(&drop_index("ix_t_email"), &models),
        Provenance::Declared
    );
    let default = |to: Option<&str>| Change::AlterColumnDefault {
        table: qn("t"),
        column: "email".into(),
        from: Some("'x'::text".into()),
        to: to.map(String::from),
    };
    assert_eq!(provenance(&default(None), &models), Provenance::NotDeclared);
    assert_eq!(
        provenance(&default(Some("'y'")), &models),
        Provenance::Declared
    );
    let check = Change::DropCheck {
        table: qn("t"),
        check: d.checks[0].clone(),
    };
    assert_eq!(provenance(&check, &models), Provenance::NotDeclared);
    let drop_table = Change::DropTable { table: d.clone() };
    assert_eq!(provenance(&drop_table, &models), Provenance::NotDeclared);
    let add = Change::AddCheck {
        table: qn("t"),
        check: d.checks[0].clone(),
    };
    assert_eq!(provenance(&add, &models), Provenance::Declared);
    assert_eq!(
        Provenance::NotDeclared.label(),
        "not declared in the models"
    );
    assert_eq!(Provenance::Declared.key(), "declared_differently");
}

#[test]
fn a_plain_unique_index_satisfies_a_unique_declaration_whatever_the_management() {
    let email = |t: &mut Table| {
        t.columns = vec![
            col("id", ColumnType::BigInt),
            col("email", ColumnType::Text),
        ]
    };
    let mut model = Table::new(qn("u"));
    email(&mut model);
    model.uniques = vec![Unique {
        name: "u_email_key".into(),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    let index = |name: &str, key: &str, predicate: Option<&str>| Index {
        name: name.into(),
        unique: true,
        keys: vec![key.into()],
        method: "btree".into(),
        include: vec![],
        predicate: predicate.map(String::from),
        invalid: false,
        nulls_not_distinct: false,
    };
    let mut db = Table::new(qn("u"));
    email(&mut db);
    db.indexes = vec![index("u_email_idx", "email", None)];
    let models = catalog(vec![model.clone()]);
    for m in [Managed::ALL, Managed::NONE] {
        let out = overlay(&models, &catalog(vec![db.clone()]), &|_| m, &[]);
        let t = out.table(&qn("u")).unwrap();
        assert!(t.uniques.is_empty(), "{m:?}");
        assert_eq!(t.indexes, db.indexes, "{m:?}");
    }
    // A partial, descending or expression index is another thing: the declaration stands.
    for other in [
        index("u_email_idx", "email", Some("id > 0")),
        index("u_email_idx", "email DESC", None),
        index("u_email_idx", "(lower(email))", None),
    ] {
        db.indexes = vec![other];
        let out = overlay(&models, &catalog(vec![db.clone()]), &|_| Managed::ALL, &[]);
        assert_eq!(out.table(&qn("u")).unwrap(), &model);
    }
    // NULLS NOT DISTINCT: an index meets a declaration that says the same; where the models do not
    // manage it, the database's index stands whatever it says.
    let mut nnd = index("u_email_idx", "email", None);
    nnd.nulls_not_distinct = true;
    db.indexes = vec![nnd];
    let out = overlay(&models, &catalog(vec![db.clone()]), &|_| Managed::ALL, &[]);
    assert_eq!(out.table(&qn("u")).unwrap(), &model);
    let silent = Managed::ALL.without(Property::UniqueNulls);
    let out = overlay(&models, &catalog(vec![db.clone()]), &|_| silent, &[]);
    assert_eq!(out.table(&qn("u")).unwrap().indexes, db.indexes);
    let mut declared = model.clone();
    declared.uniques[0].nulls_not_distinct = true;
    let out = overlay(
        &catalog(vec![declared]),
        &catalog(vec![db.clone()]),
        &|_| Managed::ALL,
        &[],
    );
    let t = out.table(&qn("u")).unwrap();
    assert!(t.uniques.is_empty());
    assert_eq!(t.indexes, db.indexes);
}

#[test]
fn a_sequence_default_numbers_a_column_the_models_make_an_identity() {
    // pg_dump of some databases: a sequence the column does not own, so no serial.
    let mut d = Table::new(qn("a"));
    let mut id = col("id", ColumnType::Integer);
    id.default = Some("nextval('a_id_seq'::regclass)".into());
    d.columns = vec![id, col("n", ColumnType::Integer)];
    let mut m = Table::new(qn("a"));
    let mut id = col("id", ColumnType::Integer);
    id.identity = Some(Identity::ByDefault);
    let mut n = col("n", ColumnType::Integer);
    n.identity = Some(Identity::ByDefault);
    m.columns = vec![id, n];
    let models = catalog(vec![m]);
    let db = catalog(vec![d]);
    let seaorm = Managed::of(&[Property::Identity]);
    let out = overlay(&models, &db, &|_| seaorm, &[]);
    let t = out.table(&qn("a")).unwrap();
    let id = t.column("id").unwrap();
    assert_eq!(id.identity, None);
    assert_eq!(id.default.as_deref(), Some("nextval('a_id_seq'::regclass)"));
    // A column the database does not number still becomes the identity the models ask for.
    assert_eq!(t.column("n").unwrap().identity, Some(Identity::ByDefault));
    // The kind managed: the models' identity it is.
    let out = overlay(&models, &db, &|_| seaorm.with(Property::IdentityKind), &[]);
    let id = out.table(&qn("a")).unwrap().column("id").unwrap().clone();
    assert_eq!((id.identity, id.default), (Some(Identity::ByDefault), None));
}

#[test]
fn a_unique_index_is_the_unique_constraint_the_models_declare() {
    let index = |name: &str, keys: &[&str], unique: bool, predicate: Option<&str>| Index {
        name: name.into(),
        unique,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        method: "btree".into(),
        include: Vec::new(),
        predicate: predicate.map(str::to_string),
        invalid: false,
        nulls_not_distinct: false,
    };
    let unique = |name: &str, columns: &[&str]| Unique {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        nulls_not_distinct: false,
    };
    let mut d = Table::new(qn("s"));
    d.columns = ["a", "b", "c", "e"]
        .iter()
        .map(|c| col(c, ColumnType::Integer))
        .collect();
    d.indexes = vec![
        index("idx_unq_a", &["a"], true, None),
        index("idx_b", &["b"], false, None),
        index("idx_unq_c", &["c"], true, Some("(c > 0)")),
        index("idx_unq_e_a", &["e", "a"], true, None),
    ];
    let mut m = d.clone();
    m.indexes.clear();
    m.uniques = vec![
        unique("s_a_key", &["a"]),
        unique("s_b_key", &["b"]),
        unique("s_c_key", &["c"]),
        unique("s_a_e_key", &["a", "e"]),
    ];
    let models = catalog(vec![m]);
    let db = catalog(vec![d]);
    let out = overlay(&models, &db, &|_| Managed::of(&[Property::Indexes]), &[]);
    let t = out.table(&qn("s")).unwrap();
    // Plain unique indexes stand for the constraints on their columns, in any order; an index
    // that is not unique, or partial, does not.
    assert_eq!(names(&t.uniques, |u| &u.name), ["s_b_key", "s_c_key"]);
    assert_eq!(names(&t.indexes, |i| &i.name), ["idx_unq_a", "idx_unq_e_a"]);
}
