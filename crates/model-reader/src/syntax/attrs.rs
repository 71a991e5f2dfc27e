//! Parsers for the helper attributes: `#[table]`, `#[column]`, `#[index]`, `#[unique]`, `#[check]`,
//! `#[primary_key]` and `#[db_enum]`. Every problem is recorded and parsing goes on.

use syn::ext::IdentExt as _;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitBool, LitStr, Token};

use super::namespace::{check_foreign, Place};
use super::{
    CheckDecl, EnumDecl, IndexDecl, KeyPart, Pos, PrimaryKeyDecl, Spanned, SyntaxError, TableDecl,
    UniqueDecl,
};

const TABLE_KEYS: &[&str] = &["name", "schema", "comment", "renamed_from"];
const INDEX_KEYS: &[&str] = &[
    "columns",
    "unique",
    "nulls_not_distinct",
    "name",
    "where",
    "method",
    "include",
];
const UNIQUE_KEYS: &[&str] = &["columns", "name", "nulls_not_distinct"];
const CHECK_KEYS: &[&str] = &["name", "expr"];
const PRIMARY_KEY_KEYS: &[&str] = &["columns", "name"];
const COLUMN_KEYS: &[&str] = &[
    "name",
    "type",
    "primary_key",
    "identity",
    "default",
    "unique",
    "index",
    "references",
    "on_delete",
    "on_update",
    "deferrable",
    "initially_deferred",
    "match_full",
    "renamed_from",
    "comment",
    "check",
    "generated",
    "nullable",
    "skip",
];
const ENUM_KEYS: &[&str] = &["name", "schema", "rename_all"];
const VARIANT_KEYS: &[&str] = &["rename", "renamed_from"];

/// Everything `#[column(...)]` can say about a field.
#[derive(Debug, Default)]
pub struct ColumnAttrs {
    pub name: Option<Spanned<String>>,
    pub ty: Option<Spanned<String>>,
    pub primary_key: Option<Pos>,
    /// `identity` alone (None) or `identity = "always"` / `"by_default"`.
    pub identity: Option<Spanned<Option<String>>>,
    pub default: Option<Spanned<String>>,
    pub unique: Option<Pos>,
    pub index: Option<Pos>,
    pub references: Option<Spanned<String>>,
    pub on_delete: Option<Spanned<String>>,
    pub on_update: Option<Spanned<String>>,
    /// The foreign key is `DEFERRABLE`.
    pub deferrable: Option<Pos>,
    /// The foreign key is `DEFERRABLE INITIALLY DEFERRED` (implies `deferrable`).
    pub initially_deferred: Option<Pos>,
    /// The foreign key is `MATCH FULL`.
    pub match_full: Option<Pos>,
    pub renamed_from: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    pub check: Option<Spanned<String>>,
    pub generated: Option<Spanned<String>>,
    pub nullable: Option<Pos>,
    pub skip: Option<Pos>,
}

/// Position of the first identifier of a path (the attribute or key name).
pub(super) fn path_pos(path: &syn::Path) -> Pos {
    match path.segments.first() {
        Some(seg) => Pos::of(seg.ident.span()),
        None => Pos { line: 1, col: 1 },
    }
}

pub(super) fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.unraw().to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Runs `f` for every `key`, `key = value` or `key(...)` of an attribute. Unknown keys are
/// reported and skipped, so one attribute can yield several errors.
pub(super) fn each_key(
    attr: &Attribute,
    what: &str,
    expected: &[&str],
    errors: &mut Vec<SyntaxError>,
    mut f: impl FnMut(&str, Pos, &ParseNestedMeta<'_>, &mut Vec<SyntaxError>) -> syn::Result<()>,
) {
    let mut found = Vec::new();
    let result = attr.parse_nested_meta(|meta| {
        let key = path_text(&meta.path);
        let pos = path_pos(&meta.path);
        if !expected.contains(&key.as_str()) {
            let message = match super::namespace::did_you_mean(&key, expected) {
                Some(s) => format!(
                    "unknown attribute key `{key}` in #[{what}]; did you mean `{s}`? (expected \
                     one of {})",
                    expected.join(", ")
                ),
                None => format!(
                    "unknown attribute key `{key}` in #[{what}]; expected one of {}",
                    expected.join(", ")
                ),
            };
            found.push(SyntaxError::new(pos, message));
            return skip_value(&meta);
        }
        f(&key, pos, &meta, &mut found)
    });
    errors.append(&mut found);
    if let Err(err) = result {
        errors.extend(SyntaxError::from_syn(err));
    }
}

pub(super) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

pub(super) fn string(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
    Ok(meta.value()?.parse::<LitStr>()?.value())
}

/// `key` or `key = true` / `key = false`.
pub(super) fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        Ok(meta.value()?.parse::<LitBool>()?.value)
    } else {
        Ok(true)
    }
}

struct KeyToken(Spanned<KeyPart>);

impl Parse for KeyToken {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            Ok(KeyToken(Spanned {
                value: KeyPart::Expr(lit.value()),
                pos: Pos::of(lit.span()),
            }))
        } else {
            let ident = Ident::parse_any(input)?;
            Ok(KeyToken(Spanned {
                value: KeyPart::Column(ident.unraw().to_string()),
                pos: Pos::of(ident.span()),
            }))
        }
    }
}

/// `columns(a, b, "lower(c)")`.
fn key_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<Spanned<KeyPart>>> {
    let content;
    syn::parenthesized!(content in meta.input);
    let keys = Punctuated::<KeyToken, Token![,]>::parse_terminated(&content)?;
    Ok(keys.into_iter().map(|k| k.0).collect())
}

pub(super) fn set<T>(
    slot: &mut Option<Spanned<T>>,
    value: T,
    key: &str,
    pos: Pos,
    what: &str,
    errors: &mut Vec<SyntaxError>,
) {
    if slot.is_some() {
        errors.push(duplicate(key, pos, what));
    } else {
        *slot = Some(Spanned { value, pos });
    }
}

pub(super) fn set_flag(
    slot: &mut Option<Pos>,
    key: &str,
    pos: Pos,
    what: &str,
    errors: &mut Vec<SyntaxError>,
) {
    if slot.is_some() {
        errors.push(duplicate(key, pos, what));
    } else {
        *slot = Some(pos);
    }
}

pub(super) fn duplicate(key: &str, pos: Pos, what: &str) -> SyntaxError {
    SyntaxError::new(pos, format!("duplicate attribute key `{key}` in #[{what}]"))
}

/// A struct-level attribute of a table struct; other crates' attributes are left alone, near
/// misses of Retort's are errors.
pub fn struct_attr(attr: &Attribute, decl: &mut TableDecl, errors: &mut Vec<SyntaxError>) {
    let Some(name) = attr.path().get_ident().map(ToString::to_string) else {
        return;
    };
    let pos = path_pos(attr.path());
    match name.as_str() {
        "table" => table_attr(attr, decl, errors),
        "index" => index_attr(attr, pos, decl, errors),
        "unique" => unique_attr(attr, pos, decl, errors),
        "check" => check_attr(attr, pos, decl, errors),
        "primary_key" => primary_key_attr(attr, pos, decl, errors),
        "column" => errors.push(SyntaxError::new(
            pos,
            "#[column] belongs on a field, not on the struct",
        )),
        _ => check_foreign(attr, Place::TableStruct, errors),
    }
}

fn table_attr(attr: &Attribute, decl: &mut TableDecl, errors: &mut Vec<SyntaxError>) {
    each_key(
        attr,
        "table",
        TABLE_KEYS,
        errors,
        |key, pos, meta, errors| {
            let slot = match key {
                "name" => &mut decl.name,
                "schema" => &mut decl.schema,
                "comment" => &mut decl.comment,
                _ => &mut decl.renamed_from,
            };
            set(slot, string(meta)?, key, pos, "table", errors);
            Ok(())
        },
    );
}

fn index_attr(attr: &Attribute, pos: Pos, decl: &mut TableDecl, errors: &mut Vec<SyntaxError>) {
    let mut index = IndexDecl {
        pos,
        columns: Vec::new(),
        unique: false,
        name: None,
        predicate: None,
        method: None,
        include: Vec::new(),
        nulls_not_distinct: false,
    };
    each_key(
        attr,
        "index",
        INDEX_KEYS,
        errors,
        |key, pos, meta, errors| {
            match key {
                "columns" => index.columns.extend(key_list(meta)?),
                "include" => index.include.extend(key_list(meta)?),
                "unique" => index.unique = flag(meta)?,
                "nulls_not_distinct" => index.nulls_not_distinct = flag(meta)?,
                "name" => set(&mut index.name, string(meta)?, key, pos, "index", errors),
                "where" => set(
                    &mut index.predicate,
                    string(meta)?,
                    key,
                    pos,
                    "index",
                    errors,
                ),
                _ => set(&mut index.method, string(meta)?, key, pos, "index", errors),
            }
            Ok(())
        },
    );
    if index.columns.is_empty() {
        errors.push(SyntaxError::new(pos, "#[index] needs `columns(...)`"));
        return;
    }
    if index.nulls_not_distinct && !index.unique {
        errors.push(SyntaxError::new(
            pos,
            "`nulls_not_distinct` needs `unique`: only a unique index can treat NULLs as equal",
        ));
        return;
    }
    decl.indexes.push(index);
}

fn unique_attr(attr: &Attribute, pos: Pos, decl: &mut TableDecl, errors: &mut Vec<SyntaxError>) {
    let mut unique = UniqueDecl {
        pos,
        columns: Vec::new(),
        name: None,
        nulls_not_distinct: false,
    };
    each_key(
        attr,
        "unique",
        UNIQUE_KEYS,
        errors,
        |key, pos, meta, errors| {
            match key {
                "columns" => unique.columns.extend(key_list(meta)?),
                "nulls_not_distinct" => unique.nulls_not_distinct = flag(meta)?,
                _ => set(&mut unique.name, string(meta)?, key, pos, "unique", errors),
            }
            Ok(())
        },
    );
    if unique.columns.is_empty() {
        errors.push(SyntaxError::new(pos, "#[unique] needs `columns(...)`"));
        return;
    }
    decl.uniques.push(unique);
}

fn check_attr(attr: &Attribute, pos: Pos, decl: &mut TableDecl, errors: &mut Vec<SyntaxError>) {
    let mut name = None;
    let mut expr = None;
    each_key(
        attr,
        "check",
        CHECK_KEYS,
        errors,
        |key, pos, meta, errors| {
            let slot = if key == "name" { &mut name } else { &mut expr };
            set(slot, string(meta)?, key, pos, "check", errors);
            Ok(())
        },
    );
    match expr {
        Some(expr) => decl.checks.push(CheckDecl { pos, name, expr }),
        None => errors.push(SyntaxError::new(pos, "#[check] needs `expr = \"...\"`")),
    }
}

fn primary_key_attr(
    attr: &Attribute,
    pos: Pos,
    decl: &mut TableDecl,
    errors: &mut Vec<SyntaxError>,
) {
    let mut pk = PrimaryKeyDecl {
        pos,
        columns: Vec::new(),
        name: None,
    };
    each_key(
        attr,
        "primary_key",
        PRIMARY_KEY_KEYS,
        errors,
        |key, pos, meta, errors| {
            match key {
                "columns" => pk.columns.extend(key_list(meta)?),
                _ => set(&mut pk.name, string(meta)?, key, pos, "primary_key", errors),
            }
            Ok(())
        },
    );
    if pk.columns.is_empty() {
        errors.push(SyntaxError::new(pos, "#[primary_key] needs `columns(...)`"));
        return;
    }
    decl.primary_keys.push(pk);
}

/// An attribute of a field of a table struct: `#[column(...)]`, or a struct-level attribute put
/// in the wrong place (reported, never silently skipped).
pub fn field_attr(attr: &Attribute, column: &mut ColumnAttrs, errors: &mut Vec<SyntaxError>) {
    let Some(name) = attr.path().get_ident().map(ToString::to_string) else {
        return;
    };
    let pos = path_pos(attr.path());
    let message = match name.as_str() {
        "column" => return column_attr(attr, column, errors),
        "table" => "#[table] belongs on the struct, not on a field".to_string(),
        "index" | "unique" | "check" | "primary_key" => format!(
            "#[{name}] belongs on the struct; on a field, write #[column({name}{})]",
            if name == "check" { " = \"...\"" } else { "" }
        ),
        _ => return check_foreign(attr, Place::TableField, errors),
    };
    errors.push(SyntaxError::new(pos, message));
}

/// One `#[column(...)]` attribute of a field; several attributes add up.
fn column_attr(attr: &Attribute, c: &mut ColumnAttrs, errors: &mut Vec<SyntaxError>) {
    each_key(
        attr,
        "column",
        COLUMN_KEYS,
        errors,
        |key, pos, meta, errors| {
            let flag_slot = match key {
                "primary_key" => Some(&mut c.primary_key),
                "unique" => Some(&mut c.unique),
                "index" => Some(&mut c.index),
                "nullable" => Some(&mut c.nullable),
                "skip" => Some(&mut c.skip),
                "deferrable" => Some(&mut c.deferrable),
                "initially_deferred" => Some(&mut c.initially_deferred),
                "match_full" => Some(&mut c.match_full),
                _ => None,
            };
            if let Some(slot) = flag_slot {
                if flag(meta)? {
                    set_flag(slot, key, pos, "column", errors);
                }
                return Ok(());
            }
            if key == "identity" {
                let value = if meta.input.peek(Token![=]) {
                    Some(string(meta)?)
                } else {
                    None
                };
                set(&mut c.identity, value, key, pos, "column", errors);
                return Ok(());
            }
            let slot = match key {
                "name" => &mut c.name,
                "type" => &mut c.ty,
                "default" => &mut c.default,
                "references" => &mut c.references,
                "on_delete" => &mut c.on_delete,
                "on_update" => &mut c.on_update,
                "renamed_from" => &mut c.renamed_from,
                "comment" => &mut c.comment,
                "check" => &mut c.check,
                _ => &mut c.generated,
            };
            set(slot, string(meta)?, key, pos, "column", errors);
            Ok(())
        },
    );
}

/// `#[db_enum(...)]` on the enum itself.
pub fn enum_attr(attr: &Attribute, decl: &mut EnumDecl, errors: &mut Vec<SyntaxError>) {
    each_key(
        attr,
        "db_enum",
        ENUM_KEYS,
        errors,
        |key, pos, meta, errors| {
            let slot = match key {
                "name" => &mut decl.name,
                "schema" => &mut decl.schema,
                _ => &mut decl.rename_all,
            };
            set(slot, string(meta)?, key, pos, "db_enum", errors);
            Ok(())
        },
    );
}

/// `#[db_enum(rename = "...")]` on a variant.
pub fn variant_attr(
    attr: &Attribute,
    rename: &mut Option<Spanned<String>>,
    renamed_from: &mut Option<Spanned<String>>,
    errors: &mut Vec<SyntaxError>,
) {
    each_key(
        attr,
        "db_enum",
        VARIANT_KEYS,
        errors,
        |key, pos, meta, errors| {
            let slot = if key == "rename" {
                &mut *rename
            } else {
                &mut *renamed_from
            };
            set(slot, string(meta)?, key, pos, "db_enum", errors);
            Ok(())
        },
    );
}
