//! Rust identifiers for SQL names: struct, enum, variant and field names that the model-reader
//! maps back to exactly the SQL name (or that need an explicit `name = "..."`).

/// The model-reader's default SQL name of a Rust struct, enum or variant name (its own function,
/// so the two can never disagree).
pub fn snake_case(ident: &str) -> String {
    retort_model_reader::case::snake_case(ident)
}

/// A PascalCase Rust type or variant name for an SQL name: ASCII letters and digits only, other
/// characters separate words; `fallback` when nothing is left, prefixed when it starts with a digit.
pub fn pascal_case(sql: &str, fallback: &str) -> String {
    let cleaned: String = sql
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // The reader's word split, so a name written here reads back as the same words.
    let mut out = retort_model_reader::case::rename(&cleaned, "PascalCase").unwrap_or_default();
    if out.is_empty() {
        return fallback.to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, fallback);
    }
    out
}

/// Keywords of Rust 2021 and 2024 (strict and reserved): a field with such a name is written as a
/// raw identifier (`r#type`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// `[A-Za-z_][A-Za-z0-9_]*`, not `_` alone.
pub fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    s != "_"
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A field name: the column name itself when it is a lower-case identifier (raw when it is a
/// keyword), else a snake_case rendering of it. The caller makes it unique and writes
/// `name = "..."` when it differs from the column name.
pub fn field_ident(column: &str) -> String {
    let lower_snake = is_plain_ident(column)
        && column
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if lower_snake && !NOT_RAW.contains(&column) {
        return column.to_string();
    }
    let cleaned: String = column
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut out = snake_case(&cleaned);
    if out.is_empty() {
        out = "column".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "c_");
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Type names a generated struct or enum must not take: the types the model-reader maps by name
/// (an enum called `Value` would be read as jsonb), the prelude, and what the file imports.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "Option",
    "Vec",
    "String",
    "Box",
    "Result",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Table",
    "DbEnum",
    "Uuid",
    "Decimal",
    "NaiveDate",
    "NaiveTime",
    "NaiveDateTime",
    "PrimitiveDateTime",
    "OffsetDateTime",
    "DateTime",
    "Utc",
    "FixedOffset",
    "Local",
    "Value",
    "Json",
    "IpAddr",
    "IpNetwork",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_round_trips_through_snake_case_for_snake_names() {
        for name in ["users", "post_tags", "v2_items", "a", "order_line_items"] {
            let p = pascal_case(name, "T");
            assert_eq!(snake_case(&p), name, "{name} -> {p}");
        }
        assert_eq!(pascal_case("HTTPLog", "T"), "HttpLog");
        assert_eq!(pascal_case("1st", "V"), "V1st");
        assert_eq!(pascal_case("in-progress", "V"), "InProgress");
        assert_eq!(pascal_case("--", "V"), "V");
    }

    #[test]
    fn field_names() {
        assert_eq!(field_ident("email"), "email");
        assert_eq!(field_ident("type"), "type");
        assert_eq!(field_ident("UserId"), "user_id");
        assert_eq!(field_ident("my col"), "my_col");
        assert_eq!(field_ident("1st"), "c_1st");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("_"), "column");
        assert!(is_keyword("type"));
    }
}
