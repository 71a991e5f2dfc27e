//! Model sources whose attribute values are random and adversarial (quotes, `;`, `--`, `/*`,
//! `$$`, backslashes, NUL, unicode): the reader never panics, and either reports located errors
//! or builds an IR whose strings pass the closed grammars and `fragment::check`.

use proptest::prelude::*;
use retort_model_reader::{read_sources, ReadOptions};
use retort_schema::{fragment, index_key, Catalog};

/// Pieces that break out of quotes, comments and statements, and ordinary ones.
fn nasty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("'".to_string()),
        Just("\"".to_string()),
        Just(";".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("$$".to_string()),
        Just("$q$".to_string()),
        Just("\\".to_string()),
        Just("\0".to_string()),
        Just("E'".to_string()),
        Just(")".to_string()),
        Just("(".to_string()),
        Just(",".to_string()),
        Just(" DROP TABLE x".to_string()),
        Just("é".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{feff}".to_string()),
        "[a-z_0-9 .]{0,6}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

/// A Rust string literal holding `s` exactly.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn source(v: &[String]) -> String {
    format!(
        r#"#[derive(DbEnum)]
#[db_enum(name = {e}, schema = "public")]
pub enum Mood {{
    #[db_enum(rename = {label})]
    Happy,
    Sad,
}}

#[derive(Table)]
#[table(name = {table}, comment = {comment})]
#[index(columns(a, {key}), method = {method}, where = {pred}, name = {iname})]
#[check(expr = {check})]
pub struct T {{
    #[column(primary_key, name = {col})]
    pub id: i64,
    #[column(default = {default}, comment = {ccomment})]
    pub a: String,
    #[column(type = {ty})]
    pub b: String,
    #[column(generated = {generated})]
    pub c: i32,
    #[column(references = {refs})]
    pub d: i64,
    pub mood: Mood,
}}
"#,
        e = lit(&v[0]),
        label = lit(&v[1]),
        table = lit(&v[2]),
        comment = lit(&v[3]),
        key = lit(&v[4]),
        method = lit(&v[5]),
        pred = lit(&v[6]),
        iname = lit(&v[7]),
        check = lit(&v[8]),
        col = lit(&v[9]),
        default = lit(&v[10]),
        ccomment = lit(&v[11]),
        ty = lit(&v[12]),
        generated = lit(&v[13]),
        refs = lit(&v[14]),
    )
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn no_nul(what: &str, s: &str) {
    assert!(!s.contains('\0'), "NUL in {what}: {s:?}");
}

fn expr_ok(what: &str, s: &str) {
    no_nul(what, s);
    assert_eq!(fragment::check(s), Ok(()), "{what}: {s:?}");
}

/// Every string of the IR that reaches SQL is in its closed grammar or a checked fragment.
fn check_catalog(catalog: &Catalog) {
    for schema in &catalog.schemas {
        no_nul("schema", &schema.name);
        for e in &schema.enums {
            no_nul("enum", &e.name.name);
            for v in &e.values {
                no_nul("enum value", v);
            }
        }
        for t in &schema.tables {
            no_nul("table", &t.name.name);
            if let Some(c) = &t.comment {
                no_nul("table comment", c);
            }
            for c in &t.columns {
                no_nul("column", &c.name);
                no_nul("type", &c.ty.to_string());
                if let Some(d) = &c.default {
                    expr_ok("default", d);
                }
                if let Some(g) = &c.generated {
                    expr_ok("generated", g);
                }
                if let Some(x) = &c.comment {
                    no_nul("column comment", x);
                }
            }
            for ck in &t.checks {
                no_nul("check name", &ck.name);
                expr_ok("check", &ck.expr);
            }
            for i in &t.indexes {
                no_nul("index name", &i.name);
                assert!(is_identifier(&i.method), "method {:?}", i.method);
                if let Some(p) = &i.predicate {
                    expr_ok("predicate", p);
                }
                for key in &i.keys {
                    let parts = index_key::split(key);
                    match parts.head {
                        index_key::KeyHead::Expr(e) => expr_ok("index expression", e),
                        index_key::KeyHead::Column(c) => no_nul("index column", &c),
                    }
                    for word in parts.suffix {
                        assert!(
                            word.split('.').all(is_identifier),
                            "index key suffix {word:?} of {key:?}"
                        );
                    }
                }
            }
        }
    }
}

/// A Diesel `schema.rs` (print-schema's shape) with adversarial names, types and doc comments,
/// and a diesel-derive-enum enum for its custom type.
fn diesel_source(v: &[String]) -> String {
    format!(
        r#"pub mod sql_types {{
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = {tname}, schema = "public"))]
    pub struct Mood;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = {other}))]
    pub struct Other;
}}

diesel::table! {{
    use diesel::sql_types::*;
    use super::sql_types::{{Mood, Other}};

    #[doc = {tdoc}]
    #[sql_name = {table}]
    t (id) {{
        #[sql_name = {col}]
        id -> Int8,
        #[doc = {cdoc}]
        #[max_length = 10]
        a -> Nullable<Varchar>,
        mood -> Mood,
        other -> Array<Nullable<Other>>,
    }}
}}

diesel::table! {{
    u (id) {{
        id -> Int4,
        t_id -> Int8,
    }}
}}

diesel::joinable!(u -> t (t_id));

#[derive(diesel_derive_enum::DbEnum)]
#[ExistingTypePath = "crate::schema::sql_types::Mood"]
pub enum Mood {{
    #[db_rename = {label}]
    Happy,
    Sad,
}}
"#,
        tname = lit(&v[0]),
        other = lit(&v[1]),
        tdoc = lit(&v[2]),
        table = lit(&v[3]),
        col = lit(&v[4]),
        cdoc = lit(&v[5]),
        label = lit(&v[6]),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn adversarial_diesel_values(values in prop::collection::vec(nasty(), 7)) {
        let text = diesel_source(&values);
        let opts = ReadOptions {
            schemas: Some(vec!["public".into()]),
            ..ReadOptions::default()
        };
        match read_sources(&[("schema.rs".into(), text.clone())], &opts) {
            Ok(models) => check_catalog(&models.catalog),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert!(e.span.line > 0, "unlocated error {e} in\n{text}");
                    prop_assert_eq!(e.span.file.as_str(), "schema.rs");
                }
            }
        }
    }

    #[test]
    fn adversarial_attribute_values(values in prop::collection::vec(nasty(), 15)) {
        let text = source(&values);
        let opts = ReadOptions {
            schemas: Some(vec!["public".into()]),
            ..ReadOptions::default()
        };
        match read_sources(&[("models.rs".into(), text.clone())], &opts) {
            Ok(models) => check_catalog(&models.catalog),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert!(e.span.line > 0, "unlocated error {e} in\n{text}");
                    prop_assert_eq!(e.span.file.as_str(), "models.rs");
                }
            }
        }
    }

    /// The same values as plain (often valid) SQL: mostly readable models, so the success path
    /// is exercised too.
    #[test]
    fn mostly_valid_values(
        key in prop_oneof![Just("lower(a)"), Just("a DESC"), Just("a text_pattern_ops"), Just("a;")],
        method in prop_oneof![Just("gin"), Just("btree"), Just("GiST"), Just("gin; drop"), Just("")],
        expr in nasty(),
    ) {
        let mut values: Vec<String> = [
            "mood", "happy", "t", "c", "lower(a)", "btree", "a IS NOT NULL", "t_idx", "id > 0",
            "id", "'x'", "c", "text", "c + 1", "t.id",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        values[4] = key.to_string();
        values[5] = method.to_string();
        values[8] = expr;
        values[13] = "1".into();
        let text = source(&values);
        match read_sources(&[("models.rs".into(), text.clone())], &ReadOptions::default()) {
            Ok(models) => check_catalog(&models.catalog),
            Err(errors) => {
                for e in &errors.0 {
                    prop_assert!(e.span.line > 0, "unlocated error {e} in\n{text}");
                }
            }
        }
    }
}

#[test]
fn the_plain_source_reads() {
    let values: Vec<String> = [
        "mood",
        "happy",
        "t",
        "c",
        "lower(a)",
        "gin",
        "a IS NOT NULL",
        "t_idx",
        "id > 0",
        "id",
        "'x'",
        "c",
        "text",
        "1",
        "t.id",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let models = match read_sources(
        &[("models.rs".into(), source(&values))],
        &ReadOptions::default(),
    ) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    check_catalog(&models.catalog);
    assert_eq!(models.catalog.tables().count(), 1);
}

#[test]
fn the_plain_diesel_source_reads() {
    let values: Vec<String> = [
        "mood",
        "tsquery",
        "Things",
        "t",
        "key",
        "Some text",
        "happy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let models = match read_sources(
        &[("schema.rs".into(), diesel_source(&values))],
        &ReadOptions::default(),
    ) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    check_catalog(&models.catalog);
    assert_eq!(models.catalog.tables().count(), 2);
    assert_eq!(models.catalog.enums().count(), 1);
}
