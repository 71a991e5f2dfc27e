//! Unit tests of the Diesel dialect: `schema.rs` files as `diesel print-schema` writes them (the
//! samples are its output for small databases), read into the IR, and the located errors.

use retort_schema::{Column, ColumnType, FkAction, ForeignKey, PrimaryKey, QualName, Table};

use crate::{read_sources, Dialect, ModelErrors, Models, ReadOptions};

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
    read_files(&[("schema.rs", text)])
}

fn errors_of(files: &[(&str, &str)]) -> String {
    match read_all(files) {
        Ok(_) => "no errors".into(),
        Err(errors) => errors.to_string(),
    }
}

fn errors(text: &str) -> String {
    errors_of(&[("schema.rs", text)])
}

fn table<'m>(models: &'m Models, schema: &str, name: &str) -> &'m Table {
    match models.catalog.table(&QualName::new(schema, name)) {
        Some(t) => t,
        None => panic!("no table {schema}.{name}"),
    }
}

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, ty)
    }
}

#[test]
fn every_type_print_schema_writes() {
    // `diesel print-schema` (diesel_cli 2.3.14) of a table with a column of each type.
    let m = read(
        r#"
// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "timetz", schema = "pg_catalog"))]
    pub struct Timetz;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "varbit", schema = "pg_catalog"))]
    pub struct Varbit;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "xml", schema = "pg_catalog"))]
    pub struct Xml;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Timetz;
    use super::sql_types::Tsvector;
    use super::sql_types::Xml;
    use super::sql_types::Varbit;

    every_type (id) {
        id -> Int4,
        c_int2 -> Int2,
        c_int8 -> Nullable<Int8>,
        c_f4 -> Float4,
        c_f8 -> Float8,
        c_num -> Numeric,
        c_bool -> Bool,
        c_text -> Text,
        c_vc -> Varchar,
        #[max_length = 40]
        c_vc40 -> Varchar,
        #[max_length = 3]
        c_ch -> Bpchar,
        c_bytea -> Bytea,
        c_uuid -> Uuid,
        c_json -> Json,
        c_jsonb -> Jsonb,
        c_date -> Date,
        c_time -> Time,
        c_timetz -> Timetz,
        c_ts -> Timestamp,
        c_tstz -> Timestamptz,
        c_iv -> Interval,
        c_inet -> Inet,
        c_cidr -> Cidr,
        c_mac -> Macaddr,
        c_mac8 -> Macaddr8,
        c_oid -> Oid,
        c_money -> Money,
        c_tsv -> Tsvector,
        c_xml -> Xml,
        #[max_length = 4]
        c_bit -> Bit,
        #[max_length = 8]
        c_varbit -> Varbit,
        c_i4r -> Int4range,
        c_arr -> Nullable<Array<Nullable<Int4>>>,
        c_tarr -> Array<Text>,
        c_long -> diesel::sql_types::BigInt,
        c_fts -> diesel_full_text_search::TsVector,
    }
}
"#,
    );
    use ColumnType::*;
    let t = table(&m, "public", "every_type");
    let types: Vec<(&str, &ColumnType, bool)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), &c.ty, c.nullable))
        .collect();
    let ts = |tz| Timestamp {
        precision: None,
        tz,
    };
    let expected: Vec<(&str, ColumnType, bool)> = vec![
        ("id", Integer, false),
        ("c_int2", SmallInt, false),
        ("c_int8", BigInt, true),
        ("c_f4", Real, false),
        ("c_f8", Double, false),
        (
            "c_num",
            Numeric {
                precision: None,
                scale: None,
            },
            false,
        ),
        ("c_bool", Boolean, false),
        ("c_text", Text, false),
        ("c_vc", Varchar { length: None }, false),
        ("c_vc40", Varchar { length: Some(40) }, false),
        ("c_ch", Char { length: Some(3) }, false),
        ("c_bytea", Bytea, false),
        ("c_uuid", Uuid, false),
        ("c_json", Json, false),
        ("c_jsonb", Jsonb, false),
        ("c_date", Date, false),
        (
            "c_time",
            Time {
                precision: None,
                tz: false,
            },
            false,
        ),
        (
            "c_timetz",
            Time {
                precision: None,
                tz: true,
            },
            false,
        ),
        ("c_ts", ts(false), false),
        ("c_tstz", ts(true), false),
        (
            "c_iv",
            Interval {
                fields: None,
                precision: None,
            },
            false,
        ),
        ("c_inet", Inet, false),
        ("c_cidr", Cidr, false),
        ("c_mac", MacAddr, false),
        (
            "c_mac8",
            Other {
                sql: "macaddr8".into(),
            },
            false,
        ),
        ("c_oid", Oid, false),
        ("c_money", Money, false),
        ("c_tsv", TsVector, false),
        ("c_xml", Xml, false),
        (
            "c_bit",
            Bit {
                varying: false,
                length: Some(4),
            },
            false,
        ),
        (
            "c_varbit",
            Bit {
                varying: true,
                length: Some(8),
            },
            false,
        ),
        (
            "c_i4r",
            Other {
                sql: "int4range".into(),
            },
            false,
        ),
        ("c_arr", ColumnType::array(Integer), true),
        ("c_tarr", ColumnType::array(Text), false),
        ("c_long", BigInt, false),
        ("c_fts", TsVector, false),
    ];
    let expected: Vec<(&str, &ColumnType, bool)> =
        expected.iter().map(|(n, t, b)| (*n, t, *b)).collect();
    assert_eq!(types, expected);
    assert_eq!(
        t.primary_key,
        Some(PrimaryKey {
            name: "every_type_pkey".into(),
            columns: vec!["id".into()],
        })
    );
    assert_eq!(m.dialects.get("public.every_type"), Some(&Dialect::Diesel));
}

#[test]
fn sql_name_schema_composite_keys_joinable_and_docs() {
    let m = read(
        r#"
pub mod app {
    pub mod sql_types {
        #[derive(diesel::sql_types::SqlType)]
        #[diesel(postgres_type(name = "mood", schema = "types"))]
        pub struct Mood;

        #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
        #[diesel(postgres_type(name = "email_address"))]
        pub struct EmailAddress;
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::sql_types::Mood;
        use super::sql_types::EmailAddress;

        /// People.
        ///
        /// Second line.
        app.users (id) {
            /// The `id` column of the `app.users` table.
            ///
            /// Its SQL type is `Int8`.
            ///
            /// (Automatically generated by Diesel.)
            id -> Int8,
            #[sql_name = "type"]
            type_ -> Text,
            r#where -> Nullable<Mood>,
            /// Where we write
            email -> EmailAddress,
        }
    }

    diesel::table! {
        /// Representation of the `app.memberships` table.
        ///
        /// (Automatically generated by Diesel.)
        #[sql_name = "Memberships"]
        app.memberships (user_id, group_id) {
            user_id -> Int8,
            group_id -> Int4,
        }
    }

    diesel::joinable!(memberships -> users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(memberships, users,);
}

table! {
    groups {
        id -> Integer,
    }
}
"#,
    );
    let users = table(&m, "app", "users");
    assert_eq!(users.comment.as_deref(), Some("People.\n\nSecond line."));
    assert_eq!(
        users.columns,
        vec![
            col("id", ColumnType::BigInt, false),
            col("type", ColumnType::Text, false),
            col("where", ColumnType::named("types", "mood"), true),
            Column {
                comment: Some("Where we write".into()),
                ..col("email", ColumnType::named("public", "email_address"), false)
            },
        ]
    );
    let members = table(&m, "app", "Memberships");
    assert_eq!(members.comment, None);
    assert_eq!(
        members.primary_key,
        Some(PrimaryKey {
            name: "Memberships_pkey".into(),
            columns: vec!["user_id".into(), "group_id".into()],
        })
    );
    assert_eq!(
        members.foreign_keys,
        vec![ForeignKey {
            name: "Memberships_user_id_fkey".into(),
            columns: vec!["user_id".into()],
            ref_table: QualName::new("app", "users"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: retort_schema::Deferrable::NotDeferrable,
            match_full: false,
        }]
    );
    // No key list: Diesel's default primary key `id`.
    let groups = table(&m, "public", "groups");
    assert_eq!(
        groups.primary_key.as_ref().map(|pk| pk.columns.clone()),
        Some(vec!["id".to_string()])
    );
    assert_eq!(
        m.origins.get("app.users.type").map(ToString::to_string),
        Some("schema.rs:29:13".to_string())
    );
}

#[test]
fn custom_types_and_joinables_across_files() {
    let m = read_files(&[
        (
            "src/schema/posts.rs",
            r#"
diesel::table! {
    use diesel::sql_types::*;
    use crate::schema::types::sql_types::Status;

    posts (id) {
        id -> Int4,
        author_id -> Int4,
        status -> Array<Nullable<Status>>,
    }
}
diesel::joinable!(posts -> users (author_id));
"#,
        ),
        (
            "src/schema/types.rs",
            r#"
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "status"))]
    pub struct Status;
}
diesel::table! {
    users (id) { id -> Int4, }
}
"#,
        ),
    ]);
    let posts = table(&m, "public", "posts");
    assert_eq!(
        posts.columns[2].ty,
        ColumnType::array(ColumnType::named("public", "status"))
    );
    assert_eq!(posts.foreign_keys[0].name, "posts_author_id_fkey");
    assert_eq!(
        posts.foreign_keys[0].ref_table,
        QualName::new("public", "users")
    );
}

#[test]
fn mixed_with_native_models() {
    let m = read_files(&[
        (
            "src/schema.rs",
            "diesel::table! { users (id) { id -> Int8, name -> Text, } }",
        ),
        (
            "src/models.rs",
            r#"
            #[derive(Table)]
            pub struct Audit {
                #[column(primary_key)]
                pub id: i64,
                #[column(references = "users.id")]
                pub user_id: i64,
            }
            "#,
        ),
    ]);
    assert_eq!(m.dialects.get("public.users"), Some(&Dialect::Diesel));
    assert_eq!(m.dialects.get("public.audit"), Some(&Dialect::Native));
    assert_eq!(
        table(&m, "public", "audit").foreign_keys[0].ref_table,
        QualName::new("public", "users")
    );
}

#[test]
fn errors_are_located_with_a_fix() {
    insta::assert_snapshot!(errors(
        r#"
diesel::table! {
    users (id) {
        id -> Int4,
        mood -> Mood,
        #[max_length = 10]
        age -> Int4,
        #[max_length = "x"]
        nick -> Varchar,
        #[default = "1"]
        n -> Int4,
        tags -> Array<Array<Text>>,
        bad -> Array<Nullable<Nullable<Text>>>,
        opt -> Array<Nullable<Text>>,
        x -> Nullable<Int4>,
        x -> Int4,
    }
}

diesel::table! {
    no_id {
        name -> Text,
    }
}

diesel::table! {
    keyed (nope) {
        name -> Nullable<Text>,
    }
}

diesel::table! {
    nullable_key (name) {
        name -> Nullable<Text>,
    }
}

diesel::table! {
    broken (id) {
        id -> Int4
        name -> Text,
    }
}

diesel::joinable!(users -> nowhere (id));
diesel::joinable!(users -> keyed id);
diesel::joinable!(users -> no_id (missing));

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(oid = 1, array_oid = 2))]
    pub struct ByOid;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(nom = "x"))]
    pub struct Typo;
}
"#
    ));
}

#[test]
fn ambiguous_custom_types_and_duplicate_tables() {
    insta::assert_snapshot!(errors_of(&[
        (
            "a.rs",
            r#"
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct Mood;
}
diesel::table! { users (id) { id -> Int4, } }
"#
        ),
        (
            "b.rs",
            r#"
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood", schema = "other"))]
    pub struct Mood;
}
pub mod inner {
    diesel::table! { use super::sql_types::Mood; things (id) { id -> Int4, m -> Mood, } }
}
diesel::table! { users (id) { id -> Int4, } }
"#
        ),
        (
            "c.rs",
            "diesel::table! { others (id) { id -> Int4, m -> Mood, } }"
        ),
    ]));
}

#[test]
fn diesel_derive_enum_enums_declare_their_sql_types() {
    // print-schema's schema.rs, and the enums the application declares with diesel-derive-enum.
    let m = read_files(&[
        (
            "src/schema.rs",
            r#"
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct Mood;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "job_state", schema = "app"))]
    pub struct JobState;
}
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;
    users (id) { id -> Int4, mood -> Mood, }
}
"#,
        ),
        (
            "src/models.rs",
            r#"
#[derive(diesel_derive_enum::DbEnum, Debug)]
#[ExistingTypePath = "crate::schema::sql_types::Mood"]
pub enum Mood {
    VeryHappy,
    #[db_rename = "meh"]
    Neutral,
}

#[derive(Debug, DbEnum)]
#[ExistingTypePath = "crate::schema::sql_types::JobState"]
#[DbValueStyle = "verbatim"]
pub enum JobState {
    Queued,
    Done,
}

// Without ExistingTypePath: the type is named by PgType (default: the enum's snake_case name).
#[derive(Debug, diesel_derive_enum::DbEnum)]
#[PgType = "colour"]
#[DieselType = "Colour_type"]
#[DbValueStyle = "SCREAMING_SNAKE_CASE"]
pub enum Colour {
    DarkRed,
}
"#,
        ),
    ]);
    let enums: Vec<(String, Vec<String>)> = m
        .catalog
        .enums()
        .map(|e| (e.name.to_string(), e.values.clone()))
        .collect();
    assert_eq!(
        enums,
        vec![
            (
                "app.job_state".to_string(),
                vec!["Queued".into(), "Done".into()]
            ),
            ("public.colour".to_string(), vec!["DARK_RED".into()]),
            (
                "public.mood".to_string(),
                vec!["very_happy".into(), "meh".into()]
            ),
        ]
    );
    insta::assert_snapshot!(errors_of(&[(
        "src/models.rs",
        r#"
#[derive(diesel_derive_enum::DbEnum)]
#[ExistingTypePath = "crate::schema::sql_types::Missing"]
pub enum Missing { A }
"#
    )]));
}

#[test]
fn other_crates_table_macros_are_not_diesel() {
    // prettytable's `table!` has no `{ ... }` body; Diesel's path-qualified one always reads.
    let m = read(
        r#"
fn show() {}
table!(["a", "b"], ["c", "d"]);
table! { users (id) { id -> Int4, } }
"#,
    );
    assert_eq!(m.catalog.tables().count(), 1);
    assert!(errors("diesel::table!([\"a\"]);").contains("malformed table!"));
}

#[test]
fn diesel_derive_enum_mapping_types() {
    // diesel-derive-enum without ExistingTypePath: the derive generates `{Enum}Mapping` (or the
    // `DieselType` name), which table! columns use.
    let m = read(
        r#"
#[derive(diesel_derive_enum::DbEnum)]
pub enum MyEnum { Foo, Bar, BazQuxx }

#[derive(diesel_derive_enum::DbEnum)]
#[PgType = "light"]
#[DieselType = "Light_mapping"]
pub enum Light { Red, Green }

table! {
    use diesel::sql_types::Integer;
    use super::{MyEnumMapping, Light_mapping};
    my_table {
        id -> Integer,
        some_enum -> MyEnumMapping,
        light -> Nullable<Light_mapping>,
    }
}
"#,
    );
    let t = table(&m, "public", "my_table");
    assert_eq!(t.columns[1].ty, ColumnType::named("public", "my_enum"));
    assert_eq!(t.columns[2].ty, ColumnType::named("public", "light"));
    let values: Vec<Vec<String>> = m.catalog.enums().map(|e| e.values.clone()).collect();
    assert_eq!(
        values,
        vec![
            vec!["red".to_string(), "green".to_string()],
            vec!["foo".to_string(), "bar".to_string(), "baz_quxx".to_string()],
        ]
    );
}
