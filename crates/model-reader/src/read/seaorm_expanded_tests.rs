//! Unit tests of SeaORM's expanded entity format: it reads into the same IR as the compact format
//! says the same thing in, including the files `sea-orm-cli` generated for the real-schema corpus,
//! and what cannot be read is located.

use std::path::Path;

use retort_schema::{Catalog, ColumnType, FkAction, QualName};

use crate::{read_sources, Dialect, ModelErrors, Models, ReadOptions};

fn read_all(files: &[(String, String)]) -> Result<Models, ModelErrors> {
    read_sources(files, &ReadOptions::default())
}

fn read(files: &[(&str, &str)]) -> Catalog {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    match read_all(&files) {
        Ok(m) => m.catalog,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

fn errors(text: &str) -> String {
    match read_all(&[("cake.rs".to_string(), text.to_string())]) {
        Ok(_) => "no errors".into(),
        Err(e) => e.to_string(),
    }
}

const COMPACT_CAKE: &str = r#"
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "cake", schema_name = "bakery", comment = "Cakes we bake")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(column_type = "String(StringLen::N(160))", unique)]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable, comment = "Shown on the menu")]
    pub description: Option<String>,
    #[sea_orm(column_type = "Decimal(Some((4, 2)))", indexed)]
    pub price: Decimal,
    #[sea_orm(default_value = true)]
    pub gluten_free: bool,
    #[sea_orm(default_expr = "Expr::current_timestamp()")]
    pub baked_at: DateTimeWithTimeZone,
    #[sea_orm(column_name = "fruitId")]
    pub fruit_id: Option<i32>,
    #[sea_orm(column_type = "custom(\"tsvector\")")]
    pub fulltext: String,
    pub tags: Option<Vec<String>>,
    pub r#type: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::fruit::Entity",
        from = "Column::FruitId",
        to = "super::fruit::Column::Id",
        on_update = "Cascade",
        on_delete = "SetNull"
    )]
    Fruit,
}

impl ActiveModelBehavior for ActiveModel {}
"#;

/// The same entity as `sea-orm-cli generate entity --expanded-format` writes it, with the
/// relation's actions and the other column methods SeaORM has.
const EXPANDED_CAKE: &str = r#"
use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Default, Debug, DeriveEntity)]
pub struct Entity;

impl EntityName for Entity {
    fn schema_name(&self) -> Option<&str> {
        Some("bakery")
    }

    fn table_name(&self) -> &'static str {
        "cake"
    }

    fn comment(&self) -> Option<&str> {
        Some("Cakes we bake")
    }
}

#[derive(Clone, Debug, PartialEq, DeriveModel, DeriveActiveModel, Eq)]
pub struct Model {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    pub price: Decimal,
    pub gluten_free: bool,
    pub baked_at: DateTimeWithTimeZone,
    pub fruit_id: Option<i32>,
    pub fulltext: String,
    pub tags: Option<Vec<String>>,
    pub r#type: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveColumn)]
pub enum Column {
    Id,
    Name,
    Description,
    Price,
    GlutenFree,
    BakedAt,
    #[sea_orm(column_name = "fruitId")]
    FruitId,
    Fulltext,
    Tags,
    Type,
}

#[derive(Copy, Clone, Debug, EnumIter, DerivePrimaryKey)]
pub enum PrimaryKey {
    Id,
}

impl PrimaryKeyTrait for PrimaryKey {
    type ValueType = i32;
    fn auto_increment() -> bool {
        true
    }
}

#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Fruit,
}

impl ColumnTrait for Column {
    type EntityName = Entity;
    fn def(&self) -> ColumnDef {
        match self {
            Self::Id => ColumnType::Integer.def(),
            Self::Name => ColumnType::String(StringLen::N(160u32)).def().unique(),
            Self::Description => ColumnType::Text.def().null().comment("Shown on the menu"),
            Self::Price => ColumnType::Decimal(Some((4u32, 2u32))).def().indexed(),
            Self::GlutenFree => ColumnType::Boolean.def().default(true),
            Self::BakedAt => ColumnType::TimestampWithTimeZone
                .def()
                .default(Expr::current_timestamp()),
            Self::FruitId => ColumnType::Integer.def().null(),
            Self::Fulltext => ColumnType::custom("tsvector").def(),
            Self::Tags => ColumnType::Array(RcOrArc::new(ColumnType::String(StringLen::None)))
                .def()
                .null(),
            Column::Type => ColumnType::SmallInteger.def(),
        }
    }
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Self::Fruit => Entity::belongs_to(super::fruit::Entity)
                .from(Column::FruitId)
                .to(super::fruit::Column::Id)
                .on_update(ForeignKeyAction::Cascade)
                .on_delete(ForeignKeyAction::SetNull)
                .into(),
        }
    }
}

impl Related<super::fruit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Fruit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
"#;

/// A composite key without auto-increment, a composite foreign key with a name, and an entity
/// without relations (`panic!("No RelationDef")`, as sea-orm-cli writes it).
const COMPACT_FRUIT: &str = r#"
pub mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
    #[sea_orm(table_name = "fruit", schema_name = "bakery")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
}

pub mod price {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
    #[sea_orm(table_name = "price", schema_name = "bakery")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub fruit_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        pub amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::fruit::Entity",
            from = "Column::FruitId",
            to = "super::fruit::Column::Id",
            fk_name = "price_of_fruit"
        )]
        Fruit,
    }
}
"#;

const EXPANDED_FRUIT: &str = r#"
pub mod fruit {
    use sea_orm::entity::prelude::*;

    #[derive(Copy, Clone, Default, Debug, DeriveEntity)]
    #[sea_orm(table_name = "fruit", schema_name = "bakery")]
    pub struct Entity;

    #[derive(Clone, Debug, PartialEq, DeriveModel, DeriveActiveModel, Eq)]
    pub struct Model {
        pub id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveColumn)]
    pub enum Column {
        Id,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DerivePrimaryKey)]
    pub enum PrimaryKey {
        Id,
    }

    impl PrimaryKeyTrait for PrimaryKey {
        type ValueType = i32;
        fn auto_increment() -> bool {
            true
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter)]
    pub enum Relation {}

    impl ColumnTrait for Column {
        type EntityName = Entity;
        fn def(&self) -> ColumnDef {
            match self {
                Self::Id => ColumnType::Integer.def(),
            }
        }
    }

    impl RelationTrait for Relation {
        fn def(&self) -> RelationDef {
            panic!("No RelationDef")
        }
    }
}

pub mod price {
    use sea_orm::entity::prelude::*;

    #[derive(Copy, Clone, Default, Debug, DeriveEntity)]
    pub struct Entity;

    impl EntityName for Entity {
        fn schema_name(&self) -> Option<&str> {
            Some("bakery")
        }
        fn table_name(&self) -> &str {
            "price"
        }
    }

    #[derive(Clone, Debug, PartialEq, DeriveModel, DeriveActiveModel, Eq)]
    pub struct Model {
        pub fruit_id: i32,
        pub day: Date,
        pub amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveColumn)]
    pub enum Column {
        FruitId,
        Day,
        Amount,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DerivePrimaryKey)]
    pub enum PrimaryKey {
        FruitId,
        Day,
    }

    impl PrimaryKeyTrait for PrimaryKey {
        type ValueType = (i32, Date);
        fn auto_increment() -> bool {
            false
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter)]
    pub enum Relation {
        Fruit,
    }

    impl ColumnTrait for Column {
        type EntityName = Entity;
        fn def(&self) -> ColumnDef {
            match self {
                Self::FruitId | Self::Day => ColumnType::Integer.def(),
                Self::Amount => ColumnType::BigInteger.def(),
            }
        }
    }

    impl RelationTrait for Relation {
        fn def(&self) -> RelationDef {
            match self {
                Self::Fruit => Entity::belongs_to(super::fruit::Entity)
                    .from(Column::FruitId)
                    .to(super::fruit::Column::Id)
                    .fk_name("price_of_fruit")
                    .into(),
            }
        }
    }
}
"#;

#[test]
fn the_expanded_format_reads_as_its_compact_twin() {
    let compact = read(&[("cake.rs", COMPACT_CAKE), ("fruits.rs", COMPACT_FRUIT)]);
    let expanded_text = EXPANDED_FRUIT.replace(
        "Self::FruitId | Self::Day => ColumnType::Integer.def(),",
        "Self::FruitId => ColumnType::Integer.def(),\n Self::Day => ColumnType::Date.def(),",
    );
    let expanded = read(&[("cake.rs", EXPANDED_CAKE), ("fruits.rs", &expanded_text)]);
    assert_eq!(expanded, compact);
    let cake = expanded.table(&QualName::new("bakery", "cake")).unwrap();
    assert_eq!(
        cake.column("name").unwrap().ty,
        ColumnType::Varchar { length: Some(160) }
    );
    assert_eq!(cake.foreign_keys[0].on_delete, FkAction::SetNull);
    assert_eq!(
        compact
            .table(&QualName::new("bakery", "price"))
            .unwrap()
            .foreign_keys[0]
            .name,
        "price_of_fruit"
    );

    // `Self::A | Self::B` arms give both columns the type: here `day` becomes an integer.
    let or_arms = read(&[("cake.rs", EXPANDED_CAKE), ("fruits.rs", EXPANDED_FRUIT)]);
    let price = or_arms.table(&QualName::new("bakery", "price")).unwrap();
    assert_eq!(price.column("day").unwrap().ty, ColumnType::Integer);
}

#[test]
fn expanded_entities_are_of_the_seaorm_dialect() {
    let files = [
        ("cake.rs".to_string(), EXPANDED_CAKE.to_string()),
        ("fruits.rs".to_string(), EXPANDED_FRUIT.to_string()),
    ];
    let models = read_all(&files).unwrap();
    assert_eq!(models.dialects.get("bakery.cake"), Some(&Dialect::SeaOrm));
    assert_eq!(models.dialects.get("bakery.price"), Some(&Dialect::SeaOrm));
}

/// Each generated schema's entities, as (file name, text): `mod.rs`, `prelude.rs` and all.
fn generated(name: &str, format: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/real")
        .join(name)
        .join("entities")
        .join(format);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            (format!("{name}/{file}"), text)
        })
        .collect();
    files.sort();
    files
}

/// What sea-orm-cli's compact format does not write: varchar lengths, `char(n)` (it writes
/// `String`), `text[]` (it writes `Vec<String>`), foreign-key actions in the expanded format; and the expanded format's
/// `StrProp1` for a column `str_prop_1` (SeaORM names it `str_prop1`).
fn without_generator_losses(mut c: Catalog) -> Catalog {
    fn loose(ty: &mut ColumnType) {
        match ty {
            ColumnType::Varchar { length } => *length = None,
            ColumnType::Char { .. } => *ty = ColumnType::Varchar { length: None },
            ColumnType::Array { element } => {
                if **element == ColumnType::Text {
                    **element = ColumnType::Varchar { length: None };
                }
                loose(element);
            }
            _ => {}
        }
    }
    let unnumbered = |name: &mut String| {
        let mut out = String::new();
        let chars: Vec<char> = name.chars().collect();
        for (i, ch) in chars.iter().enumerate() {
            let before_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if !(*ch == '_' && before_digit) {
                out.push(*ch);
            }
        }
        *name = out;
    };
    for s in &mut c.schemas {
        for t in &mut s.tables {
            for col in &mut t.columns {
                loose(&mut col.ty);
                unnumbered(&mut col.name);
            }
            for f in &mut t.foreign_keys {
                f.on_delete = FkAction::NoAction;
                f.on_update = FkAction::NoAction;
            }
        }
    }
    c
}

#[test]
fn sea_orm_cli_output_reads_alike_in_both_formats() {
    for name in ["chinook", "northwind", "pagila", "quartz", "temporal"] {
        let read_format = |format: &str| match read_all(&generated(name, format)) {
            Ok(m) => m,
            Err(e) => panic!("{name} ({format}):\n{e}"),
        };
        let compact = read_format("compact");
        let expanded = read_format("expanded");
        let (e, c) = (
            without_generator_losses(expanded.catalog.clone()),
            without_generator_losses(compact.catalog.clone()),
        );
        let names = |c: &Catalog| c.tables().map(|t| t.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&e), names(&c), "{name}");
        for t in c.tables() {
            assert_eq!(e.table(&t.name), Some(t), "{name}");
        }
        assert_eq!(e, c, "{name}");
        // The expanded format keeps what the compact one loses.
        if name == "chinook" {
            let album = expanded.catalog.table(&QualName::new("public", "album"));
            let title = album.unwrap().column("title").unwrap();
            assert_eq!(title.ty, ColumnType::Varchar { length: Some(160) });
        }
    }
}

#[test]
fn expanded_mistakes_are_located() {
    let text = r#"
use sea_orm::entity::prelude::*;

#[derive(DeriveEntity)]
pub struct Entity;

impl EntityName for Entity {
    fn table_name(&self) -> &str {
        "cake"
    }
}

#[derive(DeriveModel)]
pub struct Model {
    pub id: i32,
    pub name: String,
    pub extra: i32,
}

#[derive(DeriveColumn)]
pub enum Column {
    Id,
    Name,
    Missing,
}

#[derive(DerivePrimaryKey)]
pub enum PrimaryKey {
    Id,
}

impl ColumnTrait for Column {
    type EntityName = Entity;
    fn def(&self) -> ColumnDef {
        match self {
            Self::Id => ColumnType::Integer.def().frobnicate(),
            Self::Name => "text",
        }
    }
}
"#;
    let expected = [
        "cake.rs:17:9: field `extra` has no variant in the Column enum",
        "cake.rs:24:5: column `Missing` has no field in the Model",
        "cake.rs:28:10: the expanded entity needs `impl PrimaryKeyTrait for PrimaryKey { ... fn \
         auto_increment() -> bool { true } }` (or `false`)",
        "cake.rs:36:51: `.frobnicate(...)` on a column definition is not read",
        "cake.rs:37:27: a column definition is read as `ColumnType::...def()` followed by \
         `.null()`, `.unique()`, `.indexed()`, `.default(...)`, `.comment(...)`",
    ];
    assert_eq!(errors(text), expected.join("\n"));

    let no_model =
        "#[derive(DeriveEntity)]\n#[sea_orm(table_name = \"cake\")]\npub struct Entity;\n";
    assert_eq!(
        errors(no_model),
        "cake.rs:3:12: the expanded entity needs a #[derive(DeriveModel)] struct, a \
         #[derive(DeriveColumn)] enum and `impl ColumnTrait` for it in the same module"
    );
}
