//! Unit tests of the read pass over inline sources: the IR built for small models and every
//! error kind with its exact message and position.

use retort_schema::{
    Check, Column, ColumnType, Enum, FkAction, ForeignKey, Identity, Index, PrimaryKey, QualName,
    Table, Unique,
};

use crate::{read_sources, ModelErrors, Models, ReadOptions, RenameHint, Span};

fn read_all(files: &[(&str, &str)]) -> Result<Models, ModelErrors> {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    read_sources(&sources, &ReadOptions::default())
}

fn read(text: &str) -> Models {
    match read_all(&[("models.rs", text)]) {
        Ok(models) => models,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn errors_of(files: &[(&str, &str)]) -> String {
    match read_all(files) {
        Ok(_) => "no errors".into(),
        Err(errors) => errors.to_string(),
    }
}

fn errors(text: &str) -> String {
    errors_of(&[("models.rs", text)])
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

fn tstz() -> ColumnType {
    ColumnType::Timestamp {
        precision: None,
        tz: true,
    }
}

const DESIGN_EXAMPLE: &str = r#"
use chrono::{DateTime, Utc};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[column(primary_key)]
    pub id: i32,
}

#[derive(Table)]
#[table(name = "users", schema = "public", comment = "People who log in")]
#[index(columns(email), unique, where = "deleted_at IS NULL")]
#[check(name = "ck_users_age", expr = "age >= 0")]
pub struct User {
    #[column(primary_key, identity)]          pub id: i64,
    #[column(type = "varchar(255)")]          pub email: String,
    pub nickname: Option<String>,               // Option<T> => NULL allowed
    pub age: i32,
    #[column(default = "NOW()")]              pub created_at: DateTime<Utc>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    #[column(references = "teams.id", on_delete = "cascade")] pub team_id: i32,
    #[column(renamed_from = "fullname")]      pub full_name: String,
    pub mood: Mood,
    #[column(skip)]                           pub cache: Vec<HashMap<String, u8>>,
}

#[derive(DbEnum)] #[db_enum(name = "mood")]
pub enum Mood { Happy, Sad }
"#;

#[test]
fn design_example_builds_the_whole_table() {
    let models = read(DESIGN_EXAMPLE);
    let expected = Table {
        name: qn("users"),
        columns: vec![
            Column {
                identity: Some(Identity::ByDefault),
                ..col("id", ColumnType::BigInt, false)
            },
            col("email", ColumnType::Varchar { length: Some(255) }, false),
            col("nickname", ColumnType::Text, true),
            col("age", ColumnType::Integer, false),
            Column {
                default: Some("now()".into()),
                ..col("created_at", tstz(), false)
            },
            col("deleted_at", tstz(), true),
            col("team_id", ColumnType::Integer, false),
            col("full_name", ColumnType::Text, false),
            col("mood", ColumnType::named("public", "mood"), false),
        ],
        primary_key: Some(PrimaryKey {
            name: "users_pkey".into(),
            columns: vec!["id".into()],
        }),
        uniques: vec![],
        checks: vec![Check {
            name: "ck_users_age".into(),
            expr: "age >= 0".into(),
        }],
        foreign_keys: vec![ForeignKey {
            name: "users_team_id_fkey".into(),
            columns: vec!["team_id".into()],
            ref_table: qn("teams"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: retort_schema::Deferrable::NotDeferrable,
            match_full: false,
        }],
        indexes: vec![Index {
            name: "users_email_idx".into(),
            unique: true,
            keys: vec!["email".into()],
            method: "btree".into(),
            include: vec![],
            predicate: Some("deleted_at is null".into()),
            invalid: false,
            nulls_not_distinct: false,
        }],
        comment: Some("People who log in".into()),
    };
    assert_eq!(table(&models, "users"), &expected);
    assert_eq!(
        models.catalog.enums().collect::<Vec<_>>(),
        [&Enum {
            name: qn("mood"),
            values: vec!["happy".into(), "sad".into()],
        }]
    );
    let names: Vec<&str> = models
        .catalog
        .schemas
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["public"]);
    assert_eq!(
        models.renames,
        [RenameHint {
            table: qn("users"),
            column: Some("full_name".into()),
            from: "fullname".into(),
        }]
    );
    let span = |line, col| Span {
        file: "models.rs".into(),
        line,
        col,
    };
    assert_eq!(models.origins.get("public.users"), Some(&span(15, 12)));
    assert_eq!(
        models.origins.get("public.users.email"),
        Some(&span(17, 51))
    );
    assert_eq!(models.origins.get("public.mood"), Some(&span(29, 10)));
    assert_eq!(models.origins.get("public.users.cache"), None);
}

#[test]
fn option_is_nullable_and_keys_are_not() {
    let models = read(
        r#"
        #[derive(Table)]
        #[primary_key(columns(a, b))]
        struct Pair {
            a: Option<i32>,
            b: i16,
            c: Option<Vec<Option<String>>>,
            #[column(nullable)]
            d: f64,
            #[column(type = "numeric(10,2)")]
            e: Option<Decimal>,
        }
        "#,
    );
    let t = table(&models, "pair");
    let got: Vec<(&str, String, bool)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.to_string(), c.nullable))
        .collect();
    assert_eq!(
        got,
        [
            ("a", "integer".to_string(), false),
            ("b", "smallint".to_string(), false),
            ("c", "text[]".to_string(), true),
            ("d", "double precision".to_string(), true),
            ("e", "numeric(10,2)".to_string(), true),
        ]
    );
}

#[test]
fn rust_type_map() {
    let models = read(
        r#"
        #[derive(Table)]
        struct AllTypes {
            a: f32, b: bool, c: Vec<u8>, d: uuid::Uuid, e: rust_decimal::Decimal,
            f: NaiveDate, g: NaiveTime, h: NaiveDateTime, i: time::PrimitiveDateTime,
            j: DateTime<FixedOffset>, k: DateTime<Local>, l: OffsetDateTime,
            m: serde_json::Value, n: Json<Settings>, o: std::net::IpAddr, p: IpNetwork,
            q: Vec<i64>, r: Vec<Vec<i32>>,
        }
        "#,
    );
    let got: Vec<String> = table(&models, "all_types")
        .columns
        .iter()
        .map(|c| c.ty.to_string())
        .collect();
    assert_eq!(
        got,
        [
            "real",
            "boolean",
            "bytea",
            "uuid",
            "numeric",
            "date",
            "time",
            "timestamp",
            "timestamp",
            "timestamptz",
            "timestamptz",
            "timestamptz",
            "jsonb",
            "jsonb",
            "inet",
            "inet",
            "bigint[]",
            "integer[]",
        ]
    );
}

#[test]
fn enum_naming() {
    let models = read(
        r#"
        mod types {
            #[derive(Debug, retort::DbEnum)]
            #[db_enum(schema = "app", rename_all = "SCREAMING_SNAKE_CASE")]
            pub enum OrderStatus { InTransit, #[db_enum(rename = "done")] Delivered }

            #[derive(DbEnum)]
            pub enum Mood { Happy, VerySad }

            #[derive(DbEnum)]
            #[db_enum(name = "colour", rename_all = "kebab-case")]
            pub enum Color { LightBlue }
        }

        #[derive(Table)]
        #[table(schema = "app")]
        struct Order {
            status: Option<OrderStatus>,
            moods: Vec<Mood>,
            #[column(type = "colour")]
            colour: String,
        }
        "#,
    );
    let enums: Vec<(String, Vec<String>)> = models
        .catalog
        .enums()
        .map(|e| (e.name.to_string(), e.values.clone()))
        .collect();
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        enums,
        [
            (
                "app.order_status".to_string(),
                owned(&["IN_TRANSIT", "done"])
            ),
            ("public.colour".to_string(), owned(&["light-blue"])),
            ("public.mood".to_string(), owned(&["happy", "very_sad"])),
        ]
    );
    let t = match models.catalog.table(&QualName::new("app", "order")) {
        Some(t) => t,
        None => panic!("no app.order"),
    };
    let types: Vec<ColumnType> = t.columns.iter().map(|c| c.ty.clone()).collect();
    assert_eq!(
        types,
        [
            ColumnType::named("app", "order_status"),
            ColumnType::array(ColumnType::named("public", "mood")),
            ColumnType::named("public", "colour"),
        ]
    );
}

#[test]
fn composite_primary_keys() {
    let models = read(
        r#"
        #[derive(Table)]
        #[primary_key(columns(post_id, user_id), name = "likes_pk")]
        struct PostLike { post_id: i64, user_id: i64 }

        #[derive(Table)]
        struct Membership {
            #[column(primary_key)] team_id: i64,
            #[column(primary_key, name = "member")] user_id: Option<i64>,
        }
        "#,
    );
    assert_eq!(
        table(&models, "post_like").primary_key,
        Some(PrimaryKey {
            name: "likes_pk".into(),
            columns: vec!["post_id".into(), "user_id".into()],
        })
    );
    let m = table(&models, "membership");
    assert_eq!(
        m.primary_key,
        Some(PrimaryKey {
            name: "membership_pkey".into(),
            columns: vec!["team_id".into(), "member".into()],
        })
    );
    assert!(m.columns.iter().all(|c| !c.nullable));
}

#[test]
fn expression_and_partial_indexes() {
    let models = read(
        r#"
        #[derive(Table)]
        #[index(columns("lower(email)"), unique)]
        #[index(columns(org, "created_at DESC"), name = "people_recent", where = "Active")]
        #[index(columns(tags), method = "GIN")]
        #[index(columns(org), include(email))]
        struct People {
            email: String,
            org: i32,
            created_at: NaiveDateTime,
            active: bool,
            tags: Vec<String>,
            #[column(index)]
            nick: String,
        }
        "#,
    );
    let got: Vec<String> = table(&models, "people")
        .indexes
        .iter()
        .map(|i| {
            format!(
                "{} unique={} keys=[{}] method={} include=[{}] where={:?}",
                i.name,
                i.unique,
                i.keys.join(", "),
                i.method,
                i.include.join(", "),
                i.predicate
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "people_lower_idx unique=true keys=[(lower(email))] method=btree include=[] where=None",
            "people_nick_idx unique=false keys=[nick] method=btree include=[] where=None",
            "people_org_idx unique=false keys=[org] method=btree include=[email] where=None",
            "people_recent unique=false keys=[org, created_at DESC] method=btree include=[] \
             where=Some(\"active\")",
            "people_tags_idx unique=false keys=[tags] method=gin include=[] where=None",
        ]
    );
}

#[test]
fn constraints_get_postgres_names() {
    let models = read(
        r#"
        #[derive(Table)]
        #[unique(columns(org, email))]
        #[check(expr = "(Age >= 0) AND (age < 200)")]
        struct Person {
            #[column(primary_key, identity = "always")]
            id: i32,
            #[column(unique, check = "email <> ''", default = "'x'::text", comment = "login")]
            email: String,
            org: i32,
            age: i32,
            #[column(generated = "(age * 12)")]
            months: i32,
        }
        "#,
    );
    let t = table(&models, "person");
    assert_eq!(
        t.uniques,
        [
            Unique {
                name: "person_email_key".into(),
                columns: vec!["email".into()],
                nulls_not_distinct: false,
            },
            Unique {
                name: "person_org_email_key".into(),
                columns: vec!["org".into(), "email".into()],
                nulls_not_distinct: false,
            },
        ]
    );
    assert_eq!(
        t.checks,
        [
            Check {
                name: "person_age_check".into(),
                expr: "(age >= 0) and (age < 200)".into(),
            },
            Check {
                name: "person_email_check".into(),
                expr: "email <> ''".into(),
            },
        ]
    );
    let email = t
        .column("email")
        .cloned()
        .unwrap_or_else(|| Column::new("?", ColumnType::Text));
    assert_eq!(email.default.as_deref(), Some("'x'"));
    assert_eq!(email.comment.as_deref(), Some("login"));
    assert_eq!(
        t.column("id").and_then(|c| c.identity),
        Some(Identity::Always)
    );
    assert_eq!(
        t.column("months").and_then(|c| c.generated.clone()),
        Some("age * 12".into())
    );
}

#[test]
fn foreign_keys_resolve_across_files_and_schemas() {
    let models = match read_all(&[
        (
            "a.rs",
            r#"
            #[derive(Table)]
            #[table(schema = "billing")]
            struct Invoice {
                #[column(primary_key)] id: i64,
                #[column(references = "customer.id", on_update = "restrict")] customer_id: i64,
                #[column(references = "public.users.email")] owner: String,
            }
            "#,
        ),
        (
            "b.rs",
            r#"
            #[derive(Table)]
            #[table(schema = "billing", renamed_from = "client")]
            struct Customer { #[column(primary_key)] id: i64 }
            #[derive(Table)]
            struct Users { #[column(primary_key)] id: i64, #[column(unique)] email: String }
            "#,
        ),
    ]) {
        Ok(models) => models,
        Err(errors) => panic!("{errors}"),
    };
    let invoice = models
        .catalog
        .table(&QualName::new("billing", "invoice"))
        .map(|t| t.foreign_keys.clone())
        .unwrap_or_default();
    let got: Vec<(String, String, FkAction)> = invoice
        .iter()
        .map(|fk| (fk.name.clone(), fk.ref_table.to_string(), fk.on_update))
        .collect();
    assert_eq!(
        got,
        [
            (
                "invoice_customer_id_fkey".into(),
                "billing.customer".into(),
                FkAction::Restrict
            ),
            (
                "invoice_owner_fkey".into(),
                "public.users".into(),
                FkAction::NoAction
            ),
        ]
    );
    assert_eq!(
        models.renames,
        [RenameHint {
            table: QualName::new("billing", "customer"),
            column: None,
            from: "client".into(),
        }]
    );
    assert_eq!(
        models
            .origins
            .get("billing.customer")
            .map(|s| s.file.as_str()),
        Some("b.rs")
    );
}

#[test]
fn nested_modules_raw_identifiers_and_field_names() {
    let models = read(
        r#"
        pub mod a {
            pub mod b {
                #[derive(Clone, retort::Table)]
                pub struct Event {
                    #[column(primary_key)]
                    pub r#type: String,
                    #[column(name = "happened_at")]
                    pub at: NaiveDateTime,
                }
            }
        }
        struct NotATable { x: HashMap<u8, u8> }
        "#,
    );
    let names: Vec<&str> = table(&models, "event")
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["type", "happened_at"]);
    assert_eq!(models.catalog.tables().count(), 1);
}

#[test]
fn error_misplaced_attributes() {
    let src = r#"#[derive(Table)]
#[column(skip)]
struct T {
    #[index]
    #[check(expr = "a > 0")]
    a: i32,
}
#[derive(Table)]
enum E { A }"#;
    assert_eq!(
        errors(src),
        "models.rs:2:3: #[column] belongs on a field, not on the struct\n\
         models.rs:4:7: #[index] belongs on the struct; on a field, write #[column(index)]\n\
         models.rs:5:7: #[check] belongs on the struct; on a field, write #[column(check = \"...\")]\n\
         models.rs:9:6: #[derive(Table)] must be on a struct with named fields"
    );
}

#[test]
fn unique_indexes_may_treat_nulls_as_equal() {
    let models = read(
        r#"
        #[derive(Table)]
        #[index(columns(org, "lower(email)"), unique, nulls_not_distinct)]
        #[index(columns(org), unique)]
        struct People {
            email: Option<String>,
            org: Option<i32>,
        }
        "#,
    );
    let got: Vec<(String, bool)> = table(&models, "people")
        .indexes
        .iter()
        .map(|i| (i.name.clone(), i.nulls_not_distinct))
        .collect();
    assert_eq!(
        got,
        [
            ("people_org_idx".to_string(), false),
            ("people_org_lower_idx".to_string(), true)
        ]
    );
    assert_eq!(
        errors("#[derive(Table)]\n#[index(columns(a), nulls_not_distinct)]\nstruct T {\n    a: i32,\n}\n"),
        "models.rs:2:3: `nulls_not_distinct` needs `unique`: only a unique index can treat NULLs as equal"
    );
}

#[test]
fn error_unknown_rust_type() {
    assert_eq!(
        errors("#[derive(Table)]\nstruct T {\n    a: Option<Money>,\n    b: &'static str,\n}\n"),
        "models.rs:3:15: unknown Rust type `Money` for column `t.a`; add #[column(type = \"...\")]\n\
         models.rs:4:8: unknown Rust type `&'static str` for column `t.b`; add #[column(type = \"...\")]"
    );
}

#[test]
fn error_unknown_attribute_key() {
    assert_eq!(
        errors("#[derive(Table)]\nstruct T {\n    #[column(primary)]\n    a: i32,\n}\n"),
        "models.rs:3:14: unknown attribute key `primary` in #[column]; did you mean \
         `primary_key`? (expected one of name, type, primary_key, identity, default, unique, index, references, on_delete, on_update, \
         deferrable, initially_deferred, match_full, renamed_from, comment, check, generated, nullable, skip)"
    );
}

#[test]
fn error_syntax() {
    assert_eq!(
        errors_of(&[
            ("ok.rs", "#[derive(Table)] struct T { a: Nope }"),
            ("bad.rs", "struct T {\n    a: i32\n    b: i32,\n}\n"),
        ]),
        "ok.rs:1:32: unknown Rust type `Nope` for column `t.a`; add #[column(type = \"...\")]\n\
         bad.rs:3:5: expected `,`"
    );
}

#[test]
fn error_duplicate_table_across_files() {
    assert_eq!(
        errors_of(&[
            ("a.rs", "#[derive(Table)]\nstruct User { id: i64 }\n"),
            (
                "b.rs",
                "\n#[derive(Table)]\n#[table(name = \"user\")]\nstruct Account { id: i64 }\n"
            ),
        ]),
        "b.rs:4:8: duplicate table `public.user`; first declared at a.rs:2:8"
    );
}

#[test]
fn error_foreign_keys() {
    let src = r#"#[derive(Table)]
struct Post {
    #[column(references = "authors.id")] a: i64,
    #[column(references = "post.nope")] b: i64,
    #[column(references = "post.c")] c: i64,
    #[column(references = "id")] d: i64,
}"#;
    assert_eq!(
        errors(src),
        "models.rs:3:14: foreign key `post.a` references unknown table `public.authors`\n\
         models.rs:4:14: foreign key `post.b` references unknown column `public.post.nope`\n\
         models.rs:5:14: foreign key `post.c` references `public.post.c`, which is neither a \
         primary key nor unique\n\
         models.rs:6:14: invalid reference `id` for column `post.d`; expected \"table.column\" \
         or \"schema.table.column\""
    );
}

#[test]
fn error_bad_sql_fragments() {
    let src = r#"#[derive(Table)]
#[index(columns("lower(email"))]
struct T {
    #[column(default = "1 2")] a: i32,
    #[column(check = "a, b")] b: i32,
    #[column(generated = "1 FROM t")] c: i32,
}"#;
    assert_eq!(
        errors(src),
        "models.rs:2:17: invalid SQL in `columns`: Expected: ), found: EOF\n\
         models.rs:4:14: invalid SQL in `default`: Expected: end of statement, found: 2 at column 3\n\
         models.rs:5:14: invalid SQL in `check`: expected exactly one SQL expression, found 2\n\
         models.rs:6:14: invalid SQL in `generated`: expected a single SQL expression"
    );
}

#[test]
fn error_unknown_named_type_and_conflicts() {
    let src = r#"#[derive(Table)]
struct T {
    #[column(type = "mood[]")] a: Vec<String>,
    #[column(type = "varchar(x)")] b: String,
    #[column(identity, default = "1")] c: i64,
    #[column(identity = "sometimes")] d: i64,
}"#;
    assert_eq!(
        errors(src),
        "models.rs:3:14: unknown type `public.mood` for column `t.a`; declare it with \
         #[derive(DbEnum)], or write it schema-qualified (`public.mood`) to use a domain or other \
         type of the database\n\
         models.rs:4:14: invalid column type `varchar(x)` for column `t.b`\n\
         models.rs:5:24: column `t.c` cannot have both `identity` and `default`\n\
         models.rs:6:14: invalid identity `sometimes` for column `t.d`; expected \"always\" or \"by_default\""
    );
}

#[test]
fn error_name_collisions_and_duplicates() {
    let src = r#"#[derive(Table)]
#[unique(columns(a))]
#[table(name = "t", name = "u")]
struct T {
    #[column(unique)] a: i32,
}
#[derive(Table)]
#[check(name = "u_b_check", expr = "b > 0")]
struct U {
    #[column(check = "b > 1")] b: i32,
}"#;
    assert_eq!(
        errors(src),
        "models.rs:3:21: duplicate attribute key `name` in #[table]\n\
         models.rs:5:14: duplicate name `t_a_key` in schema `public`; first used at models.rs:2:3\n\
         models.rs:10:14: duplicate constraint name `u_b_check` on table `public.u`; first used at \
         models.rs:8:3"
    );
    let src = "#[derive(Table)]\nstruct Mood { a: i32 }\n#[derive(DbEnum)]\nenum Mood { A, B }\n";
    assert_eq!(
        errors(src),
        "models.rs:2:8: table `public.mood` has the same name as the enum type declared at \
         models.rs:4:6"
    );
}

/// Many files, so that several are parsed at once: an enum declared in the last file types
/// columns of the first ones, each file's table references the previous file's, and errors
/// come out in file order, each duplicate pointing at the earlier file.
#[test]
fn many_files_read_in_file_order() {
    let n = 24;
    let mut files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let parent = if i == 0 {
                String::new()
            } else {
                format!("#[column(references = \"t{}.id\")] parent: i64,", i - 1)
            };
            let text = format!(
                "#[derive(Table)]\n#[table(name = \"t{i}\")]\nstruct T{i} {{\n    \
                 #[column(primary_key)] id: i64, {parent} mood: Mood,\n}}\n"
            );
            (format!("m{i:02}.rs"), text)
        })
        .collect();
    files.push((
        "zz_enums.rs".into(),
        "#[derive(DbEnum)]\nenum Mood { Happy, Sad }\n".into(),
    ));
    let sources: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let models = match read_all(&sources) {
        Ok(models) => models,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(models.catalog.tables().count(), n);
    for i in 1..n {
        let t = table(&models, &format!("t{i}"));
        let fk = &t.foreign_keys[0];
        assert_eq!(fk.ref_table, qn(&format!("t{}", i - 1)));
        assert_eq!(
            t.column("mood").map(|c| c.ty.clone()),
            Some(ColumnType::Named { name: qn("mood") })
        );
    }
    assert_eq!(
        models.origins.get("public.t7").map(|s| s.file.as_str()),
        Some("m07.rs")
    );

    // Errors in several files, reported in file order.
    let mut broken = files.clone();
    broken[3].1 = broken[3].1.replace("mood: Mood", "mood: Nope");
    broken[17].1 = broken[17].1.replace("t16.id", "t99.id");
    broken[20].1 = broken[20].1.replace("name = \"t20\"", "name = \"t5\"");
    let sources: Vec<(&str, &str)> = broken
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    assert_eq!(
        errors_of(&sources),
        "m03.rs:4:88: unknown Rust type `Nope` for column `t3.mood`; add #[column(type = \"...\")]\n\
         m17.rs:4:46: foreign key `t17.parent` references unknown table `public.t99`\n\
         m20.rs:3:8: duplicate table `public.t5`; first declared at m05.rs:3:8\n\
         m21.rs:4:46: foreign key `t21.parent` references unknown table `public.t20`"
    );

    // A file that is not even Rust tokens hides nothing of the other files: its error comes in
    // file order with theirs (m23's reference to t22, which nothing declares now, is reported).
    broken[22].1 = "struct {".into();
    let sources: Vec<(&str, &str)> = broken
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    assert_eq!(
        errors_of(&sources),
        "m03.rs:4:88: unknown Rust type `Nope` for column `t3.mood`; add #[column(type = \"...\")]\n\
         m17.rs:4:46: foreign key `t17.parent` references unknown table `public.t99`\n\
         m20.rs:3:8: duplicate table `public.t5`; first declared at m05.rs:3:8\n\
         m21.rs:4:46: foreign key `t21.parent` references unknown table `public.t20`\n\
         m22.rs:1:8: the file is not valid Rust: a delimiter, string or comment is not closed \
         (nothing in this file is read)\n\
         m23.rs:4:46: foreign key `t23.parent` references unknown table `public.t22`"
    );
    // When the broken file may declare what is referenced, the references are not reported.
    broken[22].1 =
        "#[derive(Table)]\n#[table(name = \"t22\")]\nstruct T22 { id: i64, \"open }".into();
    let sources: Vec<(&str, &str)> = broken
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let errors = errors_of(&sources);
    assert!(!errors.contains("m23.rs"), "{errors}");
    assert_eq!(errors.lines().count(), 5, "{errors}");
}

fn errors_in_scope(text: &str, schemas: &[&str]) -> String {
    let opts = ReadOptions {
        schemas: Some(schemas.iter().map(|s| s.to_string()).collect()),
        ..ReadOptions::default()
    };
    match read_sources(&[("models.rs".into(), text.into())], &opts) {
        Ok(_) => "no errors".into(),
        Err(errors) => errors.to_string(),
    }
}

#[test]
fn error_unknown_attributes_in_the_retort_namespace() {
    let src = r#"#[derive(Table, Serialize)]
#[serde(rename_all = "camelCase")]
#[indx(columns(a))]
#[foreign_key(columns(a), references = "u.id")]
#[exclude(using = "gist")]
#[index(colums(a))]
/// A doc comment.
#[tabled(rename_all = "UPPERCASE")]
struct T {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[colum(unique)]
    a: Option<i32>,
    #[references("u.id")]
    /// Doc.
    #[doc = "more"]
    b: i32,
}"#;
    assert_eq!(
        errors(src),
        "models.rs:3:3: unknown attribute #[indx] on a #[derive(Table)] struct; did you mean \
         #[index]? (Retort reads #[table], #[column], #[index], #[unique], #[check], \
         #[primary_key])\n\
         models.rs:4:3: unknown attribute #[foreign_key] on a #[derive(Table)] struct: Retort has \
         no such attribute; declare a foreign key on its field with #[column(references = \
         \"table.column\")]\n\
         models.rs:5:3: unknown attribute #[exclude] on a #[derive(Table)] struct: Retort has no \
         such attribute; exclusion constraints cannot be declared in models; create them in a \
         migration and keep them out of the models\n\
         models.rs:6:3: #[index] needs `columns(...)`\n\
         models.rs:6:9: unknown attribute key `colums` in #[index]; did you mean `columns`? \
         (expected one of columns, unique, nulls_not_distinct, name, where, method, include)\n\
         models.rs:11:7: unknown attribute #[colum] on a field of a #[derive(Table)] struct; did \
         you mean #[column]? (Retort reads #[table], #[column], #[index], #[unique], #[check], \
         #[primary_key])\n\
         models.rs:13:7: unknown attribute #[references] on a field of a #[derive(Table)] struct: \
         Retort has no such attribute; write #[column(references = \"table.column\")]"
    );
    let src = "#[derive(DbEnum)]\n#[dbenum(name = \"m\")]\n#[serde(rename_all = \"lowercase\")]\n\
               enum Mood {\n    #[db_enums(rename = \"x\")]\n    #[default]\n    Happy,\n}\n";
    assert_eq!(
        errors(src),
        "models.rs:2:3: unknown attribute #[dbenum] on a #[derive(DbEnum)] enum; did you mean \
         #[db_enum]? (Retort reads #[db_enum])\n\
         models.rs:5:7: unknown attribute #[db_enums] on a variant of a #[derive(DbEnum)] enum; \
         did you mean #[db_enum]? (Retort reads #[db_enum])"
    );
}

#[test]
fn cfg_attr_derives_and_attributes_are_read() {
    let src = r#"#[cfg_attr(feature = "db", derive(Table), table(name = "things"))]
#[cfg_attr(feature = "db", cfg_attr(test, index(columns(a))))]
struct Thing {
    #[cfg_attr(feature = "db", column(primary_key))]
    a: i64,
}
#[cfg_attr(feature = "db", derive(Table))]
#[cfg_attr(feature = "db", indx(columns(a)))]
struct Other { a: i64 }"#;
    assert_eq!(
        errors(src),
        "models.rs:8:28: unknown attribute #[indx] on a #[derive(Table)] struct; did you mean \
         #[index]? (Retort reads #[table], #[column], #[index], #[unique], #[check], \
         #[primary_key])"
    );
    let models = read(
        &src[..src
            .find("#[cfg_attr(feature = \"db\", derive(Table))]\n#[cfg_attr(feature = \"db\", indx")
            .unwrap()],
    );
    let t = table(&models, "things");
    assert_eq!(
        t.primary_key.as_ref().map(|p| p.columns.clone()),
        Some(vec!["a".to_string()])
    );
    assert_eq!(t.indexes.len(), 1);
}

#[test]
fn error_schema_out_of_scope() {
    let src = r#"#[derive(Table)]
#[table(schema = "pubilc")]
struct T { a: i64 }
#[derive(Table)]
#[table(schema = "app")]
struct U { a: i64 }
#[derive(Table)]
#[table(schema = "billing")]
struct V { a: i64 }
#[derive(DbEnum)]
#[db_enum(schema = "aap")]
enum Mood { Happy }"#;
    assert_eq!(
        errors_in_scope(src, &["public", "app"]),
        "models.rs:2:9: schema `pubilc` is not in [scope] schemas (public, app); did you mean \
         `public`?\n\
         models.rs:8:9: schema `billing` is not in [scope] schemas (public, app); add it to \
         [scope] schemas in retort.toml or use one of those\n\
         models.rs:11:11: schema `aap` is not in [scope] schemas (public, app); did you mean `app`?"
    );
    // Without a scope (the library default), every schema is accepted.
    assert_eq!(errors(src), "no errors");
}

#[test]
fn syntax_error_in_one_item_hides_nothing_else() {
    let src = r#"#[derive(Table)]
struct Broken {
    a i32,
}
#[derive(Table)]
struct Dup {
    a: i32,
    a: i64,
}"#;
    assert_eq!(
        errors_of(&[
            ("a.rs", src),
            (
                "b.rs",
                "#[derive(Table)]\nstruct T { m: Money, b: Broken }\n"
            ),
        ]),
        "a.rs:3:7: expected `:`\n\
         a.rs:8:5: duplicate column `dup.a`; first declared at a.rs:7:5\n\
         b.rs:2:15: unknown Rust type `Money` for column `t.m`; add #[column(type = \"...\")]"
    );
}

#[test]
fn error_nul_bytes_and_closed_grammars() {
    let src = "#[derive(Table)]\n#[table(comment = \"a\\0b\")]\n\
               #[index(columns(a), method = \"gin; drop\")]\n\
               #[index(columns(\"a jsonb_path_ops;\"))]\n\
               struct T {\n    #[column(default = \"'x\\0'\", name = \"my col\")]\n    a: String,\n}\n\
               #[derive(DbEnum)]\nenum E {\n    #[db_enum(rename = \"\\0\")]\n    A,\n}\n";
    assert_eq!(
        errors(src),
        "models.rs:2:19: a NUL byte (\\0) cannot be part of SQL; remove it from this string\n\
         models.rs:3:21: invalid index method `gin; drop`; expected an access method name such \
         as btree, hash, gin, gist, spgist or brin\n\
         models.rs:4:17: invalid SQL in `columns`: expected a single SQL expression\n\
         models.rs:6:24: a NUL byte (\\0) cannot be part of SQL; remove it from this string\n\
         models.rs:11:24: a NUL byte (\\0) cannot be part of SQL; remove it from this string"
    );
    // Column names with spaces are fine in index keys: quoted in the IR.
    let src = r#"#[derive(Table)]
#[index(columns(a, "a DESC", "a jsonb_path_ops", "a public.my_ops"))]
struct T {
    #[column(name = "my col", index)]
    a: String,
}"#;
    let models = read(src);
    let keys: Vec<Vec<String>> = table(&models, "t")
        .indexes
        .iter()
        .map(|i| i.keys.clone())
        .collect();
    assert!(keys.contains(&vec!["\"my col\"".to_string()]), "{keys:?}");
    assert!(
        keys.contains(&vec![
            "\"my col\"".to_string(),
            "\"my col\" DESC".to_string(),
            "\"my col\" jsonb_path_ops".to_string(),
            "\"my col\" public.my_ops".to_string(),
        ]),
        "{keys:?}"
    );
}

#[test]
fn serial_types_are_integer_columns_with_a_serial() {
    let m = read(
        r#"
#[derive(Table)]
pub struct Counter {
    #[column(primary_key, type = "bigserial")]
    pub id: i64,
    #[column(type = "serial")]
    pub a: i32,
    #[column(type = "SmallSerial")]
    pub b: Option<i16>,
}
"#,
    );
    let t = table(&m, "counter");
    let got: Vec<(ColumnType, Option<Identity>, bool)> = t
        .columns
        .iter()
        .map(|c| (c.ty.clone(), c.identity, c.nullable))
        .collect();
    assert_eq!(
        got,
        [
            (ColumnType::BigInt, Some(Identity::Serial), false),
            (ColumnType::Integer, Some(Identity::Serial), false),
            (ColumnType::SmallInt, Some(Identity::Serial), false),
        ]
    );
    assert!(t.columns.iter().all(|c| c.default.is_none()));
}

#[test]
fn error_serial_with_identity_or_default() {
    let e = errors(
        r#"
#[derive(Table)]
pub struct Counter {
    #[column(primary_key, identity, type = "serial")]
    pub id: i32,
    #[column(type = "bigserial", default = "1")]
    pub n: i64,
}
"#,
    );
    assert!(e.contains("cannot be both a serial and an identity"), "{e}");
    assert!(
        e.contains("serial column `counter.n` cannot also have a `default`"),
        "{e}"
    );
}
