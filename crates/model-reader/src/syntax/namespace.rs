//! The attribute namespace the reader owns, and the strictness around it: on a `Table` struct or
//! a `DbEnum` enum, an attribute that looks like one of Retort's (a misspelling, or a name users
//! reach for such as `#[foreign_key]`) is an error with a fix hint, while the attributes of other
//! crates (serde, doc comments, cfg, ...) are left alone. `#[cfg_attr(pred, attrs...)]` is read
//! as if the predicate held, so `#[cfg_attr(feature = "db", derive(Table))]` is a table.

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use super::attrs::{path_pos, path_text};
use super::SyntaxError;

/// Every helper attribute of `#[derive(Table)]` (the struct's and the fields').
pub const TABLE_ATTRS: &[&str] = &["table", "column", "index", "unique", "check", "primary_key"];
/// Helper attributes of `#[derive(DbEnum)]`.
pub const ENUM_ATTRS: &[&str] = &["db_enum"];

/// Attributes of Rust itself and of crates often derived next to Retort's: never ours, even when
/// they look like one of our names (`#[tabled]` is one edit away from `#[table]`).
const FOREIGN: &[&str] = &[
    "allow",
    "arg",
    "archive",
    "async_graphql",
    "automatically_derived",
    "backtrace",
    "borsh",
    "builder",
    "cfg",
    "cfg_attr",
    "clap",
    "command",
    "debug",
    "default",
    "deny",
    "deprecated",
    "derivative",
    "derive",
    "diesel",
    "display",
    "doc",
    "educe",
    "error",
    "expect",
    "fake",
    "forbid",
    "from",
    "garde",
    "get",
    "getset",
    "graphql",
    "inline",
    "juniper",
    "must_use",
    "new",
    "non_exhaustive",
    "oai",
    "param",
    "prost",
    "pyo3",
    "repr",
    "rkyv",
    "schema",
    "schemars",
    "sea_orm",
    "serde",
    "set",
    "source",
    "sqlx",
    "strum",
    "tabled",
    "ts",
    "utoipa",
    "validate",
    "warn",
    "wasm_bindgen",
    "zeroize",
];

/// Names that are not Retort's but that a model author plausibly writes expecting Retort to read
/// them, with the fix. On the struct:
const STRUCT_HINTS: &[(&str, &str)] = &[
    ("foreign_key", FK_HINT),
    ("foreign_keys", FK_HINT),
    ("references", FK_HINT),
    ("fk", FK_HINT),
    (
        "exclude",
        "exclusion constraints cannot be declared in models; create them in a migration and keep \
         them out of the models",
    ),
    (
        "constraint",
        "declare constraints with #[unique(...)], #[check(...)] or #[primary_key(...)]",
    ),
    ("pk", "write #[primary_key(columns(...))]"),
    ("primary", "write #[primary_key(columns(...))]"),
    ("idx", "write #[index(columns(...))]"),
    (
        "key",
        "write #[index(columns(...))] or #[unique(columns(...))]",
    ),
    ("table_name", "write #[table(name = \"...\")]"),
    ("comment", "write #[table(comment = \"...\")]"),
];

/// On a field:
const FIELD_HINTS: &[(&str, &str)] = &[
    ("foreign_key", FIELD_FK_HINT),
    ("references", FIELD_FK_HINT),
    ("fk", FIELD_FK_HINT),
    ("pk", "write #[column(primary_key)]"),
    ("primary", "write #[column(primary_key)]"),
    ("identity", "write #[column(identity)]"),
    ("nullable", "write #[column(nullable)]"),
    ("indexed", "write #[column(index)]"),
    ("sql_type", "write #[column(type = \"...\")]"),
    ("db_type", "write #[column(type = \"...\")]"),
    ("column_type", "write #[column(type = \"...\")]"),
    ("comment", "write #[column(comment = \"...\")]"),
    ("renamed_from", "write #[column(renamed_from = \"...\")]"),
];

const FK_HINT: &str =
    "declare a foreign key on its field with #[column(references = \"table.column\")]";
const FIELD_FK_HINT: &str = "write #[column(references = \"table.column\")]";

/// Where an attribute sits, which decides the names and hints that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    TableStruct,
    TableField,
    Enum,
    Variant,
}

/// Checks an attribute that the reader does not interpret at `place`: an error when it looks like
/// one of Retort's (a near miss of a Retort attribute, or a name with a known fix).
pub fn check_foreign(attr: &Attribute, place: Place, errors: &mut Vec<SyntaxError>) {
    if attr.path().get_ident().is_none() {
        return;
    }
    let name = path_text(attr.path());
    if FOREIGN.contains(&name.as_str()) {
        return;
    }
    let pos = path_pos(attr.path());
    let (namespace, hints, what): (&[&str], &[(&str, &str)], &str) = match place {
        Place::TableStruct => (TABLE_ATTRS, STRUCT_HINTS, "a #[derive(Table)] struct"),
        Place::TableField => (
            TABLE_ATTRS,
            FIELD_HINTS,
            "a field of a #[derive(Table)] struct",
        ),
        Place::Enum => (ENUM_ATTRS, &[], "a #[derive(DbEnum)] enum"),
        Place::Variant => (ENUM_ATTRS, &[], "a variant of a #[derive(DbEnum)] enum"),
    };
    if let Some((_, hint)) = hints.iter().find(|(n, _)| *n == name) {
        errors.push(SyntaxError::new(
            pos,
            format!("unknown attribute #[{name}] on {what}: Retort has no such attribute; {hint}"),
        ));
        return;
    }
    if let Some(suggestion) = did_you_mean(&name, namespace) {
        let known: Vec<String> = match place {
            Place::TableStruct | Place::TableField => {
                TABLE_ATTRS.iter().map(|n| format!("#[{n}]")).collect()
            }
            Place::Enum | Place::Variant => vec!["#[db_enum]".into()],
        };
        errors.push(SyntaxError::new(
            pos,
            format!(
                "unknown attribute #[{name}] on {what}; did you mean #[{suggestion}]? (Retort \
                 reads {})",
                known.join(", ")
            ),
        ));
    }
}

/// The known name closest to `given`, if it is close enough to be a likely misspelling: a few
/// edits away (a transposition counts as one), or one is a prefix of the other.
pub fn did_you_mean<'k>(given: &str, known: &[&'k str]) -> Option<&'k str> {
    let given_lower = given.to_ascii_lowercase();
    let limit = match given.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        6..=9 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'k str)> = None;
    for &k in known {
        let d = distance(&given_lower, k);
        let prefix =
            given_lower.len() >= 3 && (k.starts_with(&given_lower) || given_lower.starts_with(k));
        let score = if d <= limit {
            d
        } else if prefix {
            limit + 1
        } else {
            continue;
        };
        if best.is_none_or(|(b, _)| score < b) {
            best = Some((score, k));
        }
    }
    best.map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein with adjacent transpositions), over chars.
pub fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// The attributes with every `#[cfg_attr(predicate, a, b)]` replaced by `#[a] #[b]` (nested
/// ones too), as if each predicate held. An unreadable `cfg_attr` is kept as it is.
pub fn expand_cfg_attr(attrs: &[Attribute]) -> Vec<Attribute> {
    let mut out = Vec::with_capacity(attrs.len());
    for attr in attrs {
        expand_one(attr, &mut out, 0);
    }
    out
}

fn expand_one(attr: &Attribute, out: &mut Vec<Attribute>, depth: usize) {
    if depth < 8 && attr.path().is_ident("cfg_attr") {
        if let Meta::List(list) = &attr.meta {
            if let Ok(metas) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            {
                for meta in metas.into_iter().skip(1) {
                    let inner = Attribute {
                        pound_token: attr.pound_token,
                        style: attr.style,
                        bracket_token: attr.bracket_token,
                        meta,
                    };
                    expand_one(&inner, out, depth + 1);
                }
                return;
            }
        }
    }
    out.push(attr.clone());
}

/// Where `check_foreign` puts its first error, for tests.
#[cfg(test)]
fn first_error(src: &str, place: Place) -> Option<(super::Pos, String)> {
    let file = syn::parse_file(src).ok()?;
    let syn::Item::Struct(s) = &file.items[0] else {
        return None;
    };
    let mut errors = Vec::new();
    for a in &s.attrs {
        check_foreign(a, place, &mut errors);
    }
    errors.into_iter().next().map(|e| (e.pos, e.message))
}

#[cfg(test)]
mod tests {
    use super::super::Pos;
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("indx", "index"), 1);
        assert_eq!(distance("tabel", "table"), 1);
        assert_eq!(distance("colums", "columns"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("indx", TABLE_ATTRS), Some("index"));
        assert_eq!(did_you_mean("tabel", TABLE_ATTRS), Some("table"));
        assert_eq!(did_you_mean("uniq", TABLE_ATTRS), Some("unique"));
        assert_eq!(did_you_mean("primarykey", TABLE_ATTRS), Some("primary_key"));
        assert_eq!(did_you_mean("indexes", TABLE_ATTRS), Some("index"));
        assert_eq!(did_you_mean("Column", TABLE_ATTRS), Some("column"));
        assert_eq!(did_you_mean("inline", TABLE_ATTRS), None);
        assert_eq!(did_you_mean("ts", TABLE_ATTRS), None);
        assert_eq!(did_you_mean("validate", TABLE_ATTRS), None);
    }

    #[test]
    fn foreign_attributes_pass() {
        for src in [
            "#[serde(rename_all = \"camelCase\")] struct T;",
            "/// doc\nstruct T;",
            "#[tabled(rename_all = \"UPPERCASE\")] struct T;",
            "#[cfg(test)] struct T;",
            "#[my_crate::index] struct T;",
            "#[whatever] struct T;",
        ] {
            assert_eq!(first_error(src, Place::TableStruct), None, "{src}");
        }
        let (pos, message) =
            first_error("#[indx(columns(a))] struct T;", Place::TableStruct).expect("an error");
        assert_eq!(pos, Pos { line: 1, col: 3 });
        assert!(message.contains("did you mean #[index]?"), "{message}");
    }
}
