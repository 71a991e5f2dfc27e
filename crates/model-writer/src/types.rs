//! SQL column types to Rust field types: the exact inverse of the model-reader's type map where
//! there is one (`bigint` is `i64`), else a close Rust type plus `type = "..."`.

use std::collections::{BTreeMap, BTreeSet};

use retort_schema::{ColumnType, QualName};

/// The Rust type of a column of type `ty` (without `Option`), and whether the reader maps that
/// Rust type back to exactly `ty` (if not, the field needs `type = "..."`). `enums` holds the
/// Rust names of the enum types being written; `imports` collects the paths the type uses.
pub fn rust_type(
    ty: &ColumnType,
    enums: &BTreeMap<QualName, String>,
    imports: &mut BTreeSet<&'static str>,
) -> (String, bool) {
    use ColumnType::*;
    let mut import = |path: &'static str, name: &str, exact: bool| {
        imports.insert(path);
        (name.to_string(), exact)
    };
    match ty {
        SmallInt => ("i16".into(), true),
        Integer => ("i32".into(), true),
        BigInt => ("i64".into(), true),
        Real => ("f32".into(), true),
        Double => ("f64".into(), true),
        Boolean => ("bool".into(), true),
        Text => ("String".into(), true),
        Varchar { .. } | Char { .. } => ("String".into(), false),
        Bytea => ("Vec<u8>".into(), true),
        Uuid => import("uuid::Uuid", "Uuid", true),
        Numeric { precision, scale } => import(
            "rust_decimal::Decimal",
            "Decimal",
            precision.is_none() && scale.is_none(),
        ),
        Date => import("chrono::NaiveDate", "NaiveDate", true),
        Time {
            precision,
            tz: false,
        } => import("chrono::NaiveTime", "NaiveTime", precision.is_none()),
        Timestamp {
            precision,
            tz: false,
        } => import(
            "chrono::NaiveDateTime",
            "NaiveDateTime",
            precision.is_none(),
        ),
        Timestamp {
            precision,
            tz: true,
        } => {
            imports.insert("chrono::DateTime");
            imports.insert("chrono::Utc");
            ("DateTime<Utc>".into(), precision.is_none())
        }
        Jsonb => ("serde_json::Value".into(), true),
        Json => ("serde_json::Value".into(), false),
        Inet => import("std::net::IpAddr", "IpAddr", true),
        Named { name } => match enums.get(name) {
            Some(rust) => (rust.clone(), true),
            None => ("String".into(), false),
        },
        Array { element } => {
            let (inner, exact) = rust_type(element, enums, imports);
            (format!("Vec<{inner}>"), exact)
        }
        _ => ("String".into(), false),
    }
}
