//! Database-free corpus: one instance of every `Change` variant, rendered with its inverse, in one
//! snapshot a reviewer can read top to bottom. A new variant does not compile until it is added.

use retort_render::render_body;
use retort_schema::*;

fn t() -> QualName {
    QualName::new("app", "Orders")
}

fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

fn table() -> Table {
    let mut table = Table::new(t());
    table.columns = vec![
        Column {
            nullable: false,
            identity: Some(Identity::Always),
            ..col("id", ColumnType::BigInt)
        },
        Column {
            default: Some("'new'".into()),
            comment: Some("Where the order is".into()),
            ..col("state", ColumnType::Text)
        },
    ];
    table.primary_key = Some(PrimaryKey {
        name: "Orders_pkey".into(),
        columns: vec!["id".into()],
    });
    table.checks = vec![Check {
        name: "orders_state_check".into(),
        expr: "state <> ''".into(),
    }];
    table.comment = Some("It's an order".into());
    table
}

fn fk() -> ForeignKey {
    ForeignKey {
        name: "orders_customer_fkey".into(),
        columns: vec!["customer_id".into()],
        ref_table: QualName::new("app", "customers"),
        ref_columns: vec!["id".into()],
        on_delete: FkAction::Cascade,
        on_update: FkAction::NoAction,
        deferrable: Deferrable::InitiallyDeferred,
        match_full: false,
    }
}

fn index() -> Index {
    Index {
        name: "orders_state_idx".into(),
        keys: vec![
            "state text_pattern_ops DESC NULLS LAST".into(),
            "(lower(state))".into(),
        ],
        unique: false,
        method: "btree".into(),
        include: vec!["id".into()],
        predicate: Some("state <> 'done'".into()),
        invalid: false,
        nulls_not_distinct: false,
    }
}

fn function(body: &str) -> Object {
    Object {
        kind: ObjectKind::Function,
        name: QualName::new("app", "Touch"),
        args: Some("n integer".into()),
        table: None,
        definition: format!(
            "CREATE OR REPLACE FUNCTION app.\"Touch\"(n integer)\n RETURNS integer\n LANGUAGE sql\nAS $function${body}$function$\n"
        ),
        indexes: Vec::new(),
        depends_on: Vec::new(),
    }
}

fn view() -> Object {
    Object {
        kind: ObjectKind::View,
        name: QualName::new("app", "open orders"),
        args: None,
        table: None,
        definition: "CREATE VIEW app.\"open orders\" AS\n SELECT id\n   FROM app.\"Orders\"\n  WHERE state <> 'done'::text".into(),
        indexes: Vec::new(),
        depends_on: vec![Dependency::Relation {
            name: t(),
            column: Some("id".into()),
        }],
    }
}

fn trigger() -> Object {
    Object {
        kind: ObjectKind::Trigger,
        name: QualName::new("app", "orders touched"),
        args: None,
        table: Some(t()),
        definition: "CREATE TRIGGER \"orders touched\" BEFORE UPDATE ON app.\"Orders\" FOR EACH ROW EXECUTE FUNCTION app.touch()".into(),
        indexes: Vec::new(),
        depends_on: Vec::new(),
    }
}

fn mood() -> Enum {
    Enum {
        name: QualName::new("app", "mood"),
        values: vec!["happy".into(), "it's ok".into()],
    }
}

/// The variant's name; exhaustive, so a new variant must be named (and sampled) here.
fn variant(c: &Change) -> &'static str {
    use Change::*;
    match c {
        CreateSchema { .. } => "CreateSchema",
        DropSchema { .. } => "DropSchema",
        RenameTable { .. } => "RenameTable",
        RenameColumn { .. } => "RenameColumn",
        RenameConstraint { .. } => "RenameConstraint",
        RenameIndex { .. } => "RenameIndex",
        RenameEnumValue { .. } => "RenameEnumValue",
        CreateEnum { .. } => "CreateEnum",
        DropEnum { .. } => "DropEnum",
        AlterEnum { .. } => "AlterEnum",
        CreateTable { .. } => "CreateTable",
        DropTable { .. } => "DropTable",
        AddColumn { .. } => "AddColumn",
        DropColumn { .. } => "DropColumn",
        AlterColumnGenerated { .. } => "AlterColumnGenerated",
        AlterColumnType { .. } => "AlterColumnType",
        AlterColumnNullable { .. } => "AlterColumnNullable",
        AlterColumnDefault { .. } => "AlterColumnDefault",
        AlterColumnIdentity { .. } => "AlterColumnIdentity",
        AlterColumnSerial { .. } => "AlterColumnSerial",
        AddPrimaryKey { .. } => "AddPrimaryKey",
        DropPrimaryKey { .. } => "DropPrimaryKey",
        AddUnique { .. } => "AddUnique",
        DropUnique { .. } => "DropUnique",
        AddCheck { .. } => "AddCheck",
        DropCheck { .. } => "DropCheck",
        AddForeignKey { .. } => "AddForeignKey",
        DropForeignKey { .. } => "DropForeignKey",
        AlterForeignKeyDeferrable { .. } => "AlterForeignKeyDeferrable",
        CreateIndex { .. } => "CreateIndex",
        DropIndex { .. } => "DropIndex",
        AlterTableComment { .. } => "AlterTableComment",
        AlterColumnComment { .. } => "AlterColumnComment",
        CreateObject { .. } => "CreateObject",
        DropObject { .. } => "DropObject",
        ReplaceObject { .. } => "ReplaceObject",
    }
}

const VARIANTS: usize = 36;

fn samples() -> Vec<Change> {
    use Change::*;
    let unique = Unique {
        name: "orders_state_key".into(),
        columns: vec!["state".into(), "id".into()],
        nulls_not_distinct: true,
    };
    let generated = Column {
        generated: Some("id * 2".into()),
        ..col("twice", ColumnType::BigInt)
    };
    vec![
        CreateSchema { name: "app".into() },
        DropSchema {
            name: "Old Schema".into(),
        },
        RenameTable {
            from: QualName::new("app", "order"),
            to: t(),
        },
        RenameColumn {
            table: t(),
            from: "status".into(),
            to: "state".into(),
        },
        RenameConstraint {
            table: t(),
            from: "orders_pk".into(),
            to: "Orders_pkey".into(),
        },
        RenameIndex {
            table: t(),
            from: "orders_s_idx".into(),
            to: "orders_state_idx".into(),
        },
        RenameEnumValue {
            name: mood().name,
            from: "sad".into(),
            to: "it's ok".into(),
        },
        CreateEnum { enum_type: mood() },
        DropEnum { enum_type: mood() },
        AlterEnum {
            name: mood().name,
            from: vec!["happy".into()],
            to: vec!["happy".into(), "it's ok".into()],
        },
        CreateTable { table: table() },
        DropTable { table: table() },
        AddColumn {
            table: t(),
            column: Column {
                nullable: false,
                default: Some("now() - '1 day'::interval".into()),
                ..col(
                    "placed at",
                    ColumnType::Timestamp {
                        precision: None,
                        tz: true,
                    },
                )
            },
        },
        DropColumn {
            table: t(),
            column: col("note", ColumnType::Varchar { length: Some(200) }),
        },
        AlterColumnGenerated {
            table: t(),
            from: generated.clone(),
            to: Column {
                generated: None,
                ..generated
            },
        },
        AlterColumnType {
            table: t(),
            column: "total".into(),
            from: ColumnType::Numeric {
                precision: Some(12),
                scale: Some(4),
            },
            to: ColumnType::Numeric {
                precision: Some(12),
                scale: Some(2),
            },
        },
        AlterColumnNullable {
            table: t(),
            column: "state".into(),
            from: true,
            to: false,
        },
        AlterColumnDefault {
            table: t(),
            column: "state".into(),
            from: None,
            to: Some("'new'".into()),
        },
        AlterColumnIdentity {
            table: t(),
            column: "id".into(),
            from: Some(Identity::ByDefault),
            to: Some(Identity::Always),
        },
        AlterColumnSerial {
            table: t(),
            column: "id".into(),
            from: Some(Identity::Serial),
            to: Some(Identity::Always),
            from_ty: ColumnType::BigInt,
            to_ty: ColumnType::BigInt,
        },
        AddPrimaryKey {
            table: t(),
            primary_key: table().primary_key.unwrap(),
        },
        DropPrimaryKey {
            table: t(),
            primary_key: table().primary_key.unwrap(),
        },
        AddUnique {
            table: t(),
            unique: unique.clone(),
        },
        DropUnique { table: t(), unique },
        AddCheck {
            table: t(),
            check: table().checks[0].clone(),
        },
        DropCheck {
            table: t(),
            check: table().checks[0].clone(),
        },
        AddForeignKey {
            table: t(),
            foreign_key: fk(),
        },
        DropForeignKey {
            table: t(),
            foreign_key: fk(),
        },
        AlterForeignKeyDeferrable {
            table: t(),
            name: "Orders_customer_fkey".into(),
            from: Deferrable::NotDeferrable,
            to: Deferrable::InitiallyDeferred,
        },
        CreateIndex {
            table: t(),
            index: index(),
        },
        DropIndex {
            table: t(),
            index: index(),
        },
        AlterTableComment {
            table: t(),
            from: None,
            to: Some("It's an order".into()),
        },
        AlterColumnComment {
            table: t(),
            column: "state".into(),
            from: Some("old".into()),
            to: None,
        },
        CreateObject { object: view() },
        DropObject { object: trigger() },
        ReplaceObject {
            from: function(" SELECT n "),
            to: function(" SELECT n + 1 "),
        },
    ]
}

#[test]
fn every_change_variant_renders_with_its_inverse() {
    let samples = samples();
    let mut names: Vec<&str> = samples.iter().map(variant).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), VARIANTS, "one sample per variant: {names:?}");
    let mut out = String::new();
    for c in &samples {
        let inverse = c.inverse();
        assert_eq!(
            &inverse.inverse(),
            c,
            "{}: the inverse of the inverse",
            variant(c)
        );
        out.push_str(&format!(
            "## {}\n-- up\n{}-- down ({})\n{}\n",
            variant(c),
            render_body(std::slice::from_ref(c)),
            variant(&inverse),
            render_body(std::slice::from_ref(&inverse)),
        ));
    }
    insta::assert_snapshot!(out);
}
