//! Unit tests of the SeaORM dialect: entity files as SeaORM users write them, read into the IR,
//! and the located errors for what cannot be read.

use retort_schema::{
    Column, ColumnType, Enum, FkAction, ForeignKey, Identity, Index, PrimaryKey, QualName, Table,
    Unique,
};

use crate::{read_sources, ModelErrors, Models, ReadOptions, RenameHint};

fn read_all(files: &[(&str, &str)]) -> Result<Models, ModelErrors> {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    read_sources(&sources, &ReadOptions::default())
}

fn read_files(files: &[(&str, &str)]) -> Models {
    match read_all(files) {
        Ok(models) => models,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn read(text: &str) -> Models {
    read_files(&[("entities.rs", text)])
}

fn errors_of(files: &[(&str, &str)]) -> String {
    match read_all(files) {
        Ok(_) => "no errors".into(),
        Err(errors) => errors.to_string(),
    }
}

fn errors(text: &str) -> String {
    errors_of(&[("entities.rs", text)])
}

fn qn(name: &str) -> QualName {
    QualName::new("public", name)
}

fn table<'m>(models: &'m Models, name: &str) -> &'m Table {
    match models.catalog.table(&qn(name)) {
        Some(t) => t,
        None => panic!("no table {name}"),
    }
}

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ty)
    }
}

fn fk(name: &str, columns: &[&str], ref_table: &str, ref_columns: &[&str]) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        ref_table: qn(ref_table),
        ref_columns: ref_columns.iter().map(|c| c.to_string()).collect(),
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
        deferrable: retort_schema::Deferrable::NotDeferrable,
        match_full: false,
    }
}

const CAKE: &str = r#"
pub mod cake {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
    #[sea_orm(table_name = "cake", comment = "Cakes we bake")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(column_type = "String(StringLen::N(255))", unique)]
        pub name: String,
        pub slug: String,
        #[sea_orm(column_type = "Text", nullable, comment = "Shown on the menu")]
        pub description: Option<String>,
        #[sea_orm(column_type = "Decimal(Some((10, 2)))", indexed)]
        pub price: Decimal,
        #[sea_orm(default_value = true)]
        pub gluten_free: bool,
        #[sea_orm(default_value = "plain")]
        pub flavour: String,
        #[sea_orm(default_expr = "Expr::current_timestamp()")]
        pub baked_at: DateTimeWithTimeZone,
        pub best_before: Option<Date>,
        pub recipe: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub tags: Json,
        pub photo: Option<Vec<u8>>,
        pub serial: Uuid,
        #[sea_orm(column_name = "kcal", renamed_from = "calories")]
        pub energy: i16,
        pub updated_at: DateTime,
        #[sea_orm(ignore)]
        pub cached_rating: f64,
        #[sea_orm(select_as = "text", save_as = "citext")]
        pub code: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
"#;

#[test]
fn entity_builds_the_whole_table() {
    let models = read(CAKE);
    let tstz = ColumnType::Timestamp {
        precision: None,
        tz: true,
    };
    let varchar = ColumnType::Varchar { length: None };
    let expected = Table {
        name: qn("cake"),
        columns: vec![
            Column {
                identity: Some(Identity::ByDefault),
                ..col("id", ColumnType::Integer, false)
            },
            col("name", ColumnType::Varchar { length: Some(255) }, false),
            col("slug", varchar.clone(), false),
            Column {
                comment: Some("Shown on the menu".into()),
                ..col("description", ColumnType::Text, true)
            },
            col(
                "price",
                ColumnType::Numeric {
                    precision: Some(10),
                    scale: Some(2),
                },
                false,
            ),
            Column {
                default: Some("true".into()),
                ..col("gluten_free", ColumnType::Boolean, false)
            },
            Column {
                default: Some("'plain'".into()),
                ..col("flavour", varchar.clone(), false)
            },
            Column {
                default: Some("now()".into()),
                ..col("baked_at", tstz, false)
            },
            col("best_before", ColumnType::Date, true),
            col("recipe", ColumnType::Json, false),
            col("tags", ColumnType::Jsonb, false),
            col("photo", ColumnType::Bytea, true),
            col("serial", ColumnType::Uuid, false),
            col("kcal", ColumnType::SmallInt, false),
            col(
                "updated_at",
                ColumnType::Timestamp {
                    precision: None,
                    tz: false,
                },
                false,
            ),
            col("code", varchar, false),
        ],
        primary_key: Some(PrimaryKey {
            name: "cake_pkey".into(),
            columns: vec!["id".into()],
        }),
        uniques: vec![Unique {
            name: "cake_name_key".into(),
            columns: vec!["name".into()],
            nulls_not_distinct: false,
        }],
        checks: vec![],
        foreign_keys: vec![],
        indexes: vec![Index {
            name: "cake_price_idx".into(),
            unique: false,
            keys: vec!["price".into()],
            method: "btree".into(),
            include: vec![],
            predicate: None,
            invalid: false,
            nulls_not_distinct: false,
        }],
        comment: Some("Cakes we bake".into()),
    };
    assert_eq!(table(&models, "cake"), &expected);
    assert_eq!(
        models.renames,
        [RenameHint {
            table: qn("cake"),
            column: Some("kcal".into()),
            from: "calories".into(),
        }]
    );
    let origin = models
        .origins
        .get("public.cake.kcal")
        .map(|s| s.to_string());
    assert_eq!(origin.as_deref(), Some("entities.rs:30:13"));
}

#[test]
fn auto_increment_follows_seaorm() {
    let models = read(
        r#"
        pub mod a {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "a", schema_name = "app")]
            pub struct Model { #[sea_orm(primary_key, auto_increment = false)] pub id: i64 }
        }
        pub mod b {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "b")]
            pub struct Model { #[sea_orm(primary_key)] pub code: String }
        }
        pub mod c {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "c")]
            pub struct Model {
                #[sea_orm(primary_key)] pub x: i32,
                #[sea_orm(primary_key)] pub y: i64,
                #[sea_orm(unique_key = "pair")] pub p: i32,
                #[sea_orm(unique_key = "pair")] pub q: Option<u64>,
            }
        }
        "#,
    );
    let a = models.catalog.table(&QualName::new("app", "a"));
    assert_eq!(
        a.and_then(|t| t.column("id")).map(|c| c.identity),
        Some(None)
    );
    let b = table(&models, "b");
    assert_eq!(
        b.columns,
        [col("code", ColumnType::Varchar { length: None }, false)]
    );
    let c = table(&models, "c");
    assert!(c.columns.iter().all(|c| c.identity.is_none()));
    assert_eq!(
        c.uniques,
        [Unique {
            name: "c_p_q_key".into(),
            columns: vec!["p".into(), "q".into()],
            nulls_not_distinct: false,
        }]
    );
    assert_eq!(
        c.column("q").map(|c| c.ty.clone()),
        Some(ColumnType::BigInt)
    );
}

const ENUMS: &str = r#"
pub mod sea_orm_active_enums {
    use sea_orm::entity::prelude::*;

    #[derive(Debug, Clone, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "tea")]
    pub enum Tea {
        #[sea_orm(string_value = "EverydayTea")]
        EverydayTea,
        #[sea_orm(string_value = "BreakfastTea")]
        BreakfastTea,
        #[sea_orm(string_value = "AfternoonTea")]
        AfternoonTea,
    }

    #[derive(EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Enum", rename_all = "snake_case")]
    pub enum CakeSize { Small, ExtraLarge, #[sea_orm(string_value = "XXL")] Huge }

    #[derive(EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(1))")]
    pub enum Color { #[sea_orm(string_value = "R")] Red, #[sea_orm(string_value = "G")] Green }

    #[derive(EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "i32", db_type = "Integer")]
    pub enum Level { Low = 1, High = 2 }
}

pub mod order {
    use super::sea_orm_active_enums::{CakeSize, Color, Level, Tea};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, DeriveEntityModel)]
    #[sea_orm(table_name = "order")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        #[sea_orm(default_value = "EverydayTea")]
        pub tea: Tea,
        pub size: Option<CakeSize>,
        pub color: Color,
        pub level: Level,
        pub teas: Vec<Tea>,
        #[sea_orm(column_type = "Enum { name: Alias::new(\"tea\").into_iden(), variants: vec![] }")]
        pub other_tea: String,
    }
}
"#;

#[test]
fn active_enums() {
    let models = read(ENUMS);
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        models.catalog.enums().cloned().collect::<Vec<_>>(),
        [
            Enum {
                name: qn("CakeSize"),
                values: owned(&["small", "extra_large", "XXL"]),
            },
            Enum {
                name: qn("tea"),
                values: owned(&["EverydayTea", "BreakfastTea", "AfternoonTea"]),
            },
        ]
    );
    let types: Vec<(String, String, bool, Option<String>)> = table(&models, "order")
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.ty.to_string(),
                c.nullable,
                c.default.clone(),
            )
        })
        .collect();
    let row = |n: &str, t: &str, null: bool, d: Option<&str>| {
        (n.to_string(), t.to_string(), null, d.map(str::to_string))
    };
    assert_eq!(
        types,
        [
            row("id", "integer", false, None),
            row("tea", "public.tea", false, Some("'EverydayTea'")),
            row("size", "public.\"CakeSize\"", true, None),
            row("color", "varchar(1)", false, None),
            row("level", "integer", false, None),
            row("teas", "public.tea[]", false, None),
            row("other_tea", "public.tea", false, None),
        ]
    );
}

const FRUIT_AND_CAKE: &str = r#"
pub mod cake {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cake")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::fruit::Entity")]
        Fruit,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "fruit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub cake_id: Option<i32>,
        pub parent_id: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cake::Entity",
            from = "Column::CakeId",
            to = "super::cake::Column::Id",
            on_update = "Cascade",
            on_delete = "SetNull"
        )]
        Cake,
        #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
        Parent,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cake_filling {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cake_filling")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cake_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub filling_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cake::Entity",
            from = "Column::CakeId",
            to = "super::cake::Column::Id",
            on_delete = "Restrict",
            fk_name = "fk-cake_filling-cake"
        )]
        Cake,
    }
}

pub mod cake_filling_price {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cake_filling_price")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cake_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub filling_id: i32,
        pub price: Decimal,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cake_filling::Entity",
            from = "(Column::CakeId, Column::FillingId)",
            to = "(super::cake_filling::Column::CakeId, super::cake_filling::Column::FillingId)",
            on_delete = "NoAction",
            on_update = "SetDefault"
        )]
        CakeFilling,
    }
}
"#;

#[test]
fn belongs_to_relations_become_foreign_keys() {
    let models = read(FRUIT_AND_CAKE);
    assert!(table(&models, "cake").foreign_keys.is_empty());
    assert_eq!(
        table(&models, "fruit").foreign_keys,
        [
            ForeignKey {
                on_delete: FkAction::SetNull,
                on_update: FkAction::Cascade,
                ..fk("fruit_cake_id_fkey", &["cake_id"], "cake", &["id"])
            },
            fk("fruit_parent_id_fkey", &["parent_id"], "fruit", &["id"]),
        ]
    );
    assert_eq!(
        table(&models, "cake_filling").foreign_keys,
        [ForeignKey {
            on_delete: FkAction::Restrict,
            ..fk("fk-cake_filling-cake", &["cake_id"], "cake", &["id"])
        }]
    );
    assert_eq!(
        table(&models, "cake_filling_price").foreign_keys,
        [ForeignKey {
            on_update: FkAction::SetDefault,
            ..fk(
                "cake_filling_price_cake_id_filling_id_fkey",
                &["cake_id", "filling_id"],
                "cake_filling",
                &["cake_id", "filling_id"],
            )
        }]
    );
}

#[test]
fn entity_modules_resolve_across_files() {
    let cake = r#"
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "cakes", schema_name = "bakery")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            #[sea_orm(has_many = "super::fruit::Entity")]
            Fruit,
        }
    "#;
    let fruit = r#"
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "fruits")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub cake_id: i64,
            pub basket_id: i32,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            #[sea_orm(
                belongs_to = "super::cake::Entity",
                from = "Column::CakeId",
                to = "super::cake::Column::Id",
                on_delete = "Cascade"
            )]
            Cake,
            #[sea_orm(
                belongs_to = "crate::entities::basket::Entity",
                from = "Column::BasketId",
                to = "crate::entities::basket::Column::Id"
            )]
            Basket,
        }
    "#;
    let basket = r#"
        #[derive(DeriveEntityModel)]
        #[sea_orm(table_name = "basket")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
        }
    "#;
    let models = read_files(&[
        ("src/entities/cake.rs", cake),
        ("src/entities/fruit.rs", fruit),
        ("src/entities/basket/mod.rs", basket),
    ]);
    assert_eq!(
        table(&models, "fruits").foreign_keys,
        [
            fk("fruits_basket_id_fkey", &["basket_id"], "basket", &["id"]),
            ForeignKey {
                ref_table: QualName::new("bakery", "cakes"),
                on_delete: FkAction::Cascade,
                ..fk("fruits_cake_id_fkey", &["cake_id"], "cakes", &["id"])
            },
        ]
    );
    let origin = models.origins.get("bakery.cakes").map(|s| s.to_string());
    assert_eq!(origin.as_deref(), Some("src/entities/cake.rs:6:20"));
}

#[test]
fn native_and_seaorm_items_share_one_file() {
    let models = read(
        r#"
        #[derive(Table)]
        #[table(name = "teams")]
        pub struct Team {
            #[column(primary_key)] pub id: i32,
            pub name: String,
            pub tea: Tea,
        }

        #[derive(DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "tea")]
        pub enum Tea { #[sea_orm(string_value = "green")] Green }

        pub mod player {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "players")]
            pub struct Model {
                #[sea_orm(primary_key)] pub id: i32,
                pub name: String,
                pub team_id: i32,
            }
        }
        "#,
    );
    let types = |t: &str| -> Vec<String> {
        table(&models, t)
            .columns
            .iter()
            .map(|c| c.ty.to_string())
            .collect()
    };
    assert_eq!(types("teams"), ["integer", "text", "public.tea"]);
    assert_eq!(types("players"), ["integer", "varchar", "integer"]);
}

#[test]
fn belongs_to_an_unknown_entity_is_located() {
    let text = r#"
pub mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(DeriveEntityModel)]
    #[sea_orm(table_name = "fruit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub cake_id: i32,
    }

    #[derive(DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cake::Entity",
            from = "Column::CakeId",
            to = "super::cake::Column::Id"
        )]
        Cake,
    }
}
"#;
    assert_eq!(
        errors(text),
        "entities.rs:16:13: relation `Cake` belongs_to `super::cake::Entity`, but no entity module \
         `cake` was read (no #[derive(DeriveEntityModel)] Model in a module or file named `cake`)"
    );
}

#[test]
fn relation_mistakes_are_located() {
    let text = r#"
pub mod cake {
    #[derive(DeriveEntityModel)]
    #[sea_orm(table_name = "cake")]
    pub struct Model { #[sea_orm(primary_key)] pub id: i32, pub name: String }
}
pub mod fruit {
    #[derive(DeriveEntityModel)]
    #[sea_orm(table_name = "fruit")]
    pub struct Model { #[sea_orm(primary_key)] pub id: i32, pub cake_id: i32 }

    #[derive(DeriveRelation)]
    pub enum Relation {
        #[sea_orm(belongs_to = "super::cake::Entity", from = "Column::CakeIdd", to = "super::cake::Column::Id")]
        A,
        #[sea_orm(belongs_to = "super::cake::Entity", from = "Column::CakeId", to = "super::cake::Column::Name")]
        B,
        #[sea_orm(belongs_to = "super::cake::Entity", from = "Column::CakeId", to = "super::cake::Column::Id", on_delete = "Explode")]
        C,
        #[sea_orm(belongs_to = "super::cake::Entity", from = "Column::CakeId")]
        D,
        #[sea_orm(belongs_to = "super::cake::Model", from = "Column::CakeId", to = "Column::Id")]
        E,
    }
}
"#;
    let expected = [
        "entities.rs:14:55: unknown column `Column::CakeIdd` in `from` of relation `A`: entity \
         `fruit` (table `public.fruit`) has no such field",
        "entities.rs:16:80: relation `B` references `public.cake` (name), which is neither its \
         primary key nor unique",
        "entities.rs:18:112: invalid foreign key action `Explode`; expected one of Cascade, \
         SetNull, Restrict, NoAction, SetDefault",
        "entities.rs:20:19: belongs_to relation `D` needs `from = \"Column::...\"` and `to = \
         \"...\"`",
        "entities.rs:22:19: invalid belongs_to `super::cake::Model` in relation `E`; expected a \
         path to an entity such as \"super::fruit::Entity\"",
    ];
    assert_eq!(errors(text), expected.join("\n"));
}

#[test]
fn model_mistakes_are_located() {
    let text = r#"
#[derive(DeriveEntityModel)]
#[sea_orm(table_name = "cake", engine = "InnoDB")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub when: chrono::Duration,
    #[sea_orm(column_type = "Vector(None)")]
    pub embedding: Vec<f32>,
    #[sea_orm(default_expr = "Func::random()")]
    pub luck: f64,
    #[sea_orm(extra = "COLLATE \"C\"")]
    pub name: String,
    #[sea_orm(primary_key = "yes")]
    pub other: i32,
    pub flavour: Flavour,
}

#[derive(DeriveEntityModel)]
#[sea_orm(schema_name = "x")]
pub struct Nameless { pub id: i32 }

#[derive(DeriveEntityModel)]
#[sea_orm(table_name = "keyless")]
pub struct Keyless { pub id: i32 }

#[derive(DeriveEntity)]
pub struct Entity;
"#;
    let expected = [
        "entities.rs:3:32: unknown attribute key `engine` in #[sea_orm]; expected one of \
         table_name, schema_name, comment, rename_all, table_iden, model_attrs, active_model_attrs",
        "entities.rs:7:15: unknown Rust type `chrono::Duration` for column `cake.when`; add \
         #[sea_orm(column_type = \"...\")]",
        "entities.rs:8:15: invalid column_type `Vector(None)` for column `cake.embedding`: \
         ColumnType::Vector is not supported by Retort",
        "entities.rs:10:15: cannot translate default_expr `Func::random()`; supported forms: \
         Expr::current_timestamp(), Expr::current_date(), Expr::current_time(), \
         Expr::cust(\"<sql>\"), Expr::val(<literal>), Keyword::CurrentTimestamp",
        "entities.rs:12:15: #[sea_orm(extra = \"...\")] adds raw SQL to the column definition, \
         which Retort cannot compare; express it with column_type, default_value or default_expr",
        "entities.rs:14:29: expected boolean literal",
        "entities.rs:16:18: unknown Rust type `Flavour` for column `cake.flavour`; add \
         #[sea_orm(column_type = \"...\")]",
        "entities.rs:21:12: #[derive(DeriveEntityModel)] `Nameless` needs #[sea_orm(table_name = \
         \"...\")]",
        "entities.rs:25:12: SeaORM entity `keyless` has no #[sea_orm(primary_key)] field; SeaORM \
         requires one",
        "entities.rs:28:12: the expanded entity needs `impl EntityName for Entity { fn \
         table_name(&self) -> &str { \"...\" } }` (or #[sea_orm(table_name = \"...\")] on it)",
    ];
    assert_eq!(errors(text), expected.join("\n"));
}

#[test]
fn enum_mistakes_are_located() {
    let text = r#"
#[derive(DeriveActiveEnum)]
#[sea_orm(rs_type = "String")]
pub enum NoDbType { A }

#[derive(DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "mood")]
pub enum Mood {
    #[sea_orm(string_value = "happy")]
    Happy,
    Sad,
    #[sea_orm(num_value = 3)]
    Meh,
    #[sea_orm(string_value = "happy")]
    Glad,
}
"#;
    let expected = [
        "entities.rs:4:10: #[derive(DeriveActiveEnum)] `NoDbType` needs #[sea_orm(db_type = \
         \"...\")]",
        "entities.rs:11:5: variant `Sad` of enum type `public.mood` needs #[sea_orm(string_value \
         = \"...\")]",
        "entities.rs:12:15: variant `Meh` of enum type `public.mood` has a number; db_type = \
         \"Enum\" takes #[sea_orm(string_value = \"...\")] (use db_type = \"Integer\" for \
         numbers)",
        "entities.rs:14:15: duplicate value `happy` in enum type `public.mood`",
    ];
    assert_eq!(errors(text), expected.join("\n"));
}

#[test]
fn each_table_records_its_dialect() {
    let m = read_files(&[
        (
            "entities.rs",
            r#"
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "cake")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
            }
            "#,
        ),
        (
            "models.rs",
            r#"
            #[derive(Table)]
            #[table(name = "pie")]
            pub struct Pie {
                #[column(primary_key)]
                pub id: i32,
            }
            "#,
        ),
    ]);
    let dialects: Vec<(&str, crate::Dialect)> =
        m.dialects.iter().map(|(k, d)| (k.as_str(), *d)).collect();
    assert_eq!(
        dialects,
        vec![
            ("public.cake", crate::Dialect::SeaOrm),
            ("public.pie", crate::Dialect::Native)
        ]
    );
}
