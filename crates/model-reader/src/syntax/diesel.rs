//! The Diesel dialect's grammar, read as `diesel print-schema` writes `src/schema.rs`:
//! `diesel::table! { ... }` (or `table!`), `diesel::joinable!(child -> parent (column));`,
//! `diesel::allow_tables_to_appear_in_same_query!(...)` (accepted, ignored) and the custom SQL
//! types of `pub mod sql_types { #[derive(diesel::sql_types::SqlType)]
//! #[diesel(postgres_type(name = "...", schema = "..."))] pub struct Mood; }`.
//!
//! `table!` bodies are parsed with syn from the macro's tokens, so every position is that of the
//! token in the file. Attributes `table!` does not know are errors.

use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Ident, ItemMacro, ItemStruct, Lit, Meta, Token};

use super::{ident_text, FileDecls, Pos, RustType, Spanned, SyntaxError};

/// One table of a `table!` invocation.
#[derive(Debug)]
pub struct DieselTableDecl {
    /// Inline modules around the macro, outermost first.
    pub module: Vec<String>,
    /// `schema.` before the table name.
    pub schema: Option<Spanned<String>>,
    /// The table's Rust name (the DSL module).
    pub ident: Spanned<String>,
    /// `#[sql_name = "..."]`: the SQL name when it differs from the Rust one.
    pub sql_name: Option<Spanned<String>>,
    /// `name (a, b)`: the primary key columns' Rust names; None means Diesel's default, `id`.
    pub primary_key: Option<Vec<Spanned<String>>>,
    /// Doc comment lines, `///` markers removed.
    pub doc: Vec<String>,
    pub columns: Vec<DieselColumnDecl>,
}

#[derive(Debug)]
pub struct DieselColumnDecl {
    pub ident: Spanned<String>,
    pub sql_name: Option<Spanned<String>>,
    pub max_length: Option<Spanned<u32>>,
    pub ty: RustType,
    pub doc: Vec<String>,
}

/// `joinable!(child -> parent (column));`
#[derive(Debug)]
pub struct DieselJoinableDecl {
    pub module: Vec<String>,
    pub child: Spanned<String>,
    pub parent: Spanned<String>,
    pub column: Spanned<String>,
}

/// A `#[derive(SqlType)]` struct with `#[diesel(postgres_type(name = "...", schema = "..."))]`.
#[derive(Debug)]
pub struct DieselSqlTypeDecl {
    pub module: Vec<String>,
    pub ident: Spanned<String>,
    pub name: Spanned<String>,
    pub schema: Option<Spanned<String>>,
}

/// The last segment of a macro's path, when the path is one the Diesel dialect reads
/// (`table`, `diesel::table`, `::diesel::table`).
fn diesel_macro(m: &ItemMacro) -> Option<String> {
    let segs: Vec<String> = m
        .mac
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segs.as_slice() {
        [one] => Some(one.clone()),
        [d, one] if d == "diesel" => Some(one.clone()),
        _ => None,
    }
}

/// True when the macro invocation belongs to the Diesel dialect (and was read or rejected here).
pub fn macro_item(m: &ItemMacro, module: &[String], out: &mut FileDecls) {
    let Some(name) = diesel_macro(m) else { return };
    let pos = Pos::of(m.mac.path.segments[0].ident.span());
    let qualified = m.mac.path.segments.len() > 1;
    match name.as_str() {
        // A bare `table!` of another crate (prettytable's `table!([..])`) has no `{ ... }` body.
        "table" if !qualified && !has_brace_group(&m.mac.tokens) => {}
        "table" => {
            let parser = |input: ParseStream<'_>| parse_tables(input, pos, module);
            match parser.parse2(m.mac.tokens.clone()) {
                Ok((tables, mut errors)) => {
                    out.diesel_tables.extend(tables);
                    out.errors.append(&mut errors);
                }
                Err(err) => {
                    diesel_error(err, out);
                    out.broken_words
                        .extend(super::words_of_text(&m.mac.tokens.to_string()));
                }
            }
        }
        "joinable" => match syn::parse2::<Joinable>(m.mac.tokens.clone()) {
            Ok(j) => out.diesel_joinables.push(DieselJoinableDecl {
                module: module.to_vec(),
                child: ident_text(&j.child),
                parent: ident_text(&j.parent),
                column: ident_text(&j.column),
            }),
            Err(err) => {
                let hint =
                    "; expected `joinable!(child_table -> parent_table (foreign_key_column))`";
                for e in err {
                    out.errors.push(SyntaxError::new(
                        Pos::of(e.span()),
                        format!("malformed joinable!: {e}{hint}"),
                    ));
                }
                out.broken_words
                    .extend(super::words_of_text(&m.mac.tokens.to_string()));
            }
        },
        // Query-building permissions: nothing in the schema.
        "allow_tables_to_appear_in_same_query"
        | "allow_columns_to_appear_in_same_group_by_clause" => {}
        _ => {}
    }
}

fn has_brace_group(tokens: &proc_macro2::TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| {
        matches!(tt, proc_macro2::TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace)
    })
}

fn diesel_error(err: syn::Error, out: &mut FileDecls) {
    for e in err {
        out.errors.push(SyntaxError::new(
            Pos::of(e.span()),
            format!(
                "malformed table!: {e}; expected `table! {{ name (primary_key) {{ column -> Type, \
                 ... }} }}` as diesel print-schema writes it"
            ),
        ));
    }
}

struct Joinable {
    child: Ident,
    parent: Ident,
    column: Ident,
}

impl Parse for Joinable {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let child = Ident::parse_any(input)?;
        input.parse::<Token![->]>()?;
        let parent = Ident::parse_any(input)?;
        let content;
        syn::parenthesized!(content in input);
        let column = Ident::parse_any(&content)?;
        if !content.is_empty() {
            return Err(content.error("joinable! takes exactly one column"));
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the column"));
        }
        Ok(Joinable {
            child,
            parent,
            column,
        })
    }
}

/// The `table!` body: `use` items, then one or more tables.
fn parse_tables(
    input: ParseStream<'_>,
    macro_pos: Pos,
    module: &[String],
) -> syn::Result<(Vec<DieselTableDecl>, Vec<SyntaxError>)> {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    while !input.is_empty() {
        let attrs = input.call(Attribute::parse_outer)?;
        if input.peek(Token![use]) {
            // `use diesel::sql_types::*;`, `use super::sql_types::Mood;`: custom types are
            // found by name among the declared SqlType structs.
            input.parse::<syn::ItemUse>()?;
            continue;
        }
        let mut decl = DieselTableDecl {
            module: module.to_vec(),
            schema: None,
            ident: Spanned {
                value: String::new(),
                pos: macro_pos,
            },
            sql_name: None,
            primary_key: None,
            doc: Vec::new(),
            columns: Vec::new(),
        };
        for attr in &attrs {
            table_attr(attr, &mut decl, &mut errors);
        }
        let first = Ident::parse_any(input)?;
        if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            decl.schema = Some(ident_text(&first));
            decl.ident = ident_text(&Ident::parse_any(input)?);
        } else {
            decl.ident = ident_text(&first);
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let keys =
                Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
            if keys.is_empty() {
                return Err(syn::Error::new(
                    first.span(),
                    "the primary key list is empty",
                ));
            }
            decl.primary_key = Some(keys.iter().map(ident_text).collect());
        }
        let body;
        syn::braced!(body in input);
        while !body.is_empty() {
            let attrs = body.call(Attribute::parse_outer)?;
            let ident = ident_text(&Ident::parse_any(&body)?);
            body.parse::<Token![->]>()?;
            let ty: syn::Type = body.parse()?;
            let mut column = DieselColumnDecl {
                ident,
                sql_name: None,
                max_length: None,
                ty: RustType::from_syn(&ty),
                doc: Vec::new(),
            };
            for attr in &attrs {
                column_attr(attr, &mut column, &mut errors);
            }
            decl.columns.push(column);
            if body.is_empty() {
                break;
            }
            body.parse::<Token![,]>()?;
        }
        tables.push(decl);
    }
    Ok((tables, errors))
}

/// A doc comment's text, without the leading space rustdoc strips.
fn doc_line(attr: &Attribute) -> Option<String> {
    let Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    if !nv.path.is_ident("doc") {
        return None;
    }
    match &nv.value {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => {
                let v = s.value();
                Some(v.strip_prefix(' ').map(str::to_string).unwrap_or(v))
            }
            _ => None,
        },
        _ => None,
    }
}

fn str_value(
    attr: &Attribute,
    key: &str,
    errors: &mut Vec<SyntaxError>,
) -> Option<Spanned<String>> {
    let pos = Pos::of(attr.path().span());
    if let Meta::NameValue(nv) = &attr.meta {
        if let Expr::Lit(l) = &nv.value {
            if let Lit::Str(s) = &l.lit {
                return Some(Spanned {
                    value: s.value(),
                    pos: Pos::of(s.span()),
                });
            }
        }
    }
    errors.push(SyntaxError::new(
        pos,
        format!("expected `#[{key} = \"...\"]`"),
    ));
    None
}

fn unknown_attr(attr: &Attribute, place: &str, known: &str, errors: &mut Vec<SyntaxError>) {
    let name = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    errors.push(SyntaxError::new(
        Pos::of(attr.path().span()),
        format!(
            "unknown attribute `#[{name}]` on a table! {place}; Diesel's table! takes {known} \
             (defaults, indexes and constraints are not expressible in table!, see the README)"
        ),
    ));
}

/// A doc comment line, or None (with an error) when it holds a NUL byte, which a PostgreSQL
/// comment cannot.
fn doc_text(attr: &Attribute, errors: &mut Vec<SyntaxError>) -> Option<Option<String>> {
    let line = doc_line(attr)?;
    if line.contains('\0') {
        errors.push(SyntaxError::new(
            Pos::of(attr.span()),
            "a NUL byte (\\0) cannot be part of SQL; remove it from this doc comment",
        ));
        return Some(None);
    }
    Some(Some(line))
}

fn table_attr(attr: &Attribute, decl: &mut DieselTableDecl, errors: &mut Vec<SyntaxError>) {
    if let Some(line) = doc_text(attr, errors) {
        decl.doc.extend(line);
    } else if attr.path().is_ident("sql_name") {
        if let Some(v) = str_value(attr, "sql_name", errors) {
            decl.sql_name = Some(v);
        }
    } else {
        unknown_attr(
            attr,
            "table",
            "#[sql_name = \"...\"] and doc comments",
            errors,
        );
    }
}

fn column_attr(attr: &Attribute, c: &mut DieselColumnDecl, errors: &mut Vec<SyntaxError>) {
    if let Some(line) = doc_text(attr, errors) {
        c.doc.extend(line);
    } else if attr.path().is_ident("sql_name") {
        if let Some(v) = str_value(attr, "sql_name", errors) {
            c.sql_name = Some(v);
        }
    } else if attr.path().is_ident("max_length") {
        let pos = Pos::of(attr.path().span());
        let value = match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Int(i) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match value {
            Some(value) => c.max_length = Some(Spanned { value, pos }),
            None => errors.push(SyntaxError::new(
                pos,
                "expected `#[max_length = N]` with a positive integer N",
            )),
        }
    } else {
        unknown_attr(
            attr,
            "column",
            "#[sql_name = \"...\"], #[max_length = N] and doc comments",
            errors,
        );
    }
}

/// A `#[derive(SqlType)]` struct: its `#[diesel(postgres_type(...))]`.
pub fn sql_type(s: &ItemStruct, module: &[String], out: &mut FileDecls) {
    let ident = ident_text(&s.ident);
    let mut name = None;
    let mut schema = None;
    let mut seen = false;
    let mut by_oid = false;
    for attr in s.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
        let result = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("postgres_type") {
                // sqlite_type, mysql_type: other backends.
                if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                    let _: proc_macro2::TokenStream = meta.input.parse()?;
                }
                return Ok(());
            }
            seen = true;
            meta.parse_nested_meta(|inner| {
                let key = inner.path.get_ident().map(|i| i.to_string());
                let pos = Pos::of(inner.path.span());
                match key.as_deref() {
                    Some("name") | Some("schema") => {
                        let lit: syn::LitStr = inner.value()?.parse()?;
                        let v = Spanned {
                            value: lit.value(),
                            pos: Pos::of(lit.span()),
                        };
                        if key.as_deref() == Some("name") {
                            name = Some(v);
                        } else {
                            schema = Some(v);
                        }
                        Ok(())
                    }
                    Some("array_oid") => {
                        let _: Expr = inner.value()?.parse()?;
                        Ok(())
                    }
                    Some("oid") => {
                        by_oid = true;
                        out.errors.push(SyntaxError::new(
                            pos,
                            "postgres_type(oid = ..., array_oid = ...) names a type by number, \
                             which Retort cannot resolve; write postgres_type(name = \"...\")",
                        ));
                        let _: Expr = inner.value()?.parse()?;
                        Ok(())
                    }
                    _ => Err(inner.error(
                        "unknown postgres_type key; expected name = \"...\" and optionally \
                         schema = \"...\"",
                    )),
                }
            })
        });
        if let Err(err) = result {
            out.errors.extend(SyntaxError::from_syn(err));
            return;
        }
    }
    if !seen {
        // A SqlType for another backend, or one Diesel resolves by other means: not ours.
        return;
    }
    let Some(name) = name else {
        if !by_oid {
            out.errors.push(SyntaxError::new(
                ident.pos,
                format!(
                    "SqlType `{}` needs #[diesel(postgres_type(name = \"...\"))]",
                    ident.value
                ),
            ));
        }
        return;
    };
    out.diesel_sql_types.push(DieselSqlTypeDecl {
        module: module.to_vec(),
        ident,
        name,
        schema,
    });
}

/// The attributes of diesel-derive-enum's `#[derive(DbEnum)]` on the enum.
const DERIVE_ENUM_ATTRS: &[&str] = &[
    "ExistingTypePath",
    "PgType",
    "DieselType",
    "DieselTypePath",
    "DbValueStyle",
];

/// The diesel-derive-enum attribute `attr` is, if it is one.
pub fn derive_enum_attr(attr: &Attribute) -> Option<&'static str> {
    let ident = attr.path().get_ident()?.to_string();
    DERIVE_ENUM_ATTRS.iter().copied().find(|k| *k == ident)
}

/// `#[Key = "value"]`.
pub fn derive_enum_value(
    attr: &Attribute,
    key: &str,
    errors: &mut Vec<SyntaxError>,
) -> Option<Spanned<String>> {
    str_value(attr, key, errors)
}
