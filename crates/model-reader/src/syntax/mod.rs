//! The attribute grammar of both dialects, turned into plain declarations: native
//! `#[derive(Table)]` structs and `#[derive(DbEnum)]` enums, and SeaORM entities (`seaorm`).
//! The dialect is chosen per item by its derives. Depends only on syn; positions are 1-based.

mod attrs;
mod diesel;
mod namespace;
mod seaorm;
mod seaorm_expanded;
mod ty;

use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Fields, Item, ItemEnum, ItemStruct, Token};

pub use attrs::ColumnAttrs;
pub use diesel::{DieselJoinableDecl, DieselSqlTypeDecl, DieselTableDecl};
pub use namespace::did_you_mean;
pub use seaorm::{
    literal_sql, SeaEnumDecl, SeaFieldDecl, SeaModelDecl, SeaRelationDecl, SeaRelationVariant,
};
pub use ty::RustType;

/// A 1-based line and column in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    /// The start of a span; proc-macro2 columns are 0-based, ours are 1-based.
    pub fn of(span: proc_macro2::Span) -> Pos {
        let start = span.start();
        Pos {
            line: start.line,
            col: start.column + 1,
        }
    }
}

/// A value together with the position of the token (usually the attribute key) that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

/// A problem found while reading one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl SyntaxError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }

    /// Every message of a syn error, each at its own position.
    pub fn from_syn(err: syn::Error) -> Vec<SyntaxError> {
        err.into_iter()
            .map(|e| SyntaxError::new(Pos::of(e.span()), e.to_string()))
            .collect()
    }
}

/// Everything one file declares.
#[derive(Debug, Default)]
pub struct FileDecls {
    pub tables: Vec<TableDecl>,
    pub enums: Vec<EnumDecl>,
    pub sea_models: Vec<SeaModelDecl>,
    pub sea_enums: Vec<SeaEnumDecl>,
    pub sea_relations: Vec<SeaRelationDecl>,
    pub diesel_tables: Vec<DieselTableDecl>,
    pub diesel_joinables: Vec<DieselJoinableDecl>,
    pub diesel_sql_types: Vec<DieselSqlTypeDecl>,
    pub errors: Vec<SyntaxError>,
    /// True when the file does not even split into Rust tokens (nothing could be read from it).
    pub unparsable: bool,
    /// Words (identifiers, string contents) of the items that could not be parsed, or of the whole
    /// file when it is unparsable: a name among them may be declared there, so that "unknown"
    /// references to it are not reported on top of the syntax error.
    pub broken_words: Vec<String>,
}

/// One key of `columns(...)`: a column (field) name or an SQL expression written as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    Column(String),
    Expr(String),
}

#[derive(Debug)]
pub struct TableDecl {
    /// The struct's name.
    pub ident: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub schema: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    pub renamed_from: Option<Spanned<String>>,
    pub indexes: Vec<IndexDecl>,
    pub uniques: Vec<UniqueDecl>,
    pub checks: Vec<CheckDecl>,
    pub primary_keys: Vec<PrimaryKeyDecl>,
    pub fields: Vec<FieldDecl>,
}

/// `#[index(columns(...), unique, name = "...", where = "...", method = "...", include(...))]`.
#[derive(Debug)]
pub struct IndexDecl {
    pub pos: Pos,
    pub columns: Vec<Spanned<KeyPart>>,
    pub unique: bool,
    pub name: Option<Spanned<String>>,
    pub predicate: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub include: Vec<Spanned<KeyPart>>,
    /// `NULLS NOT DISTINCT` (with `unique`).
    pub nulls_not_distinct: bool,
}

/// `#[unique(columns(...), name = "...", nulls_not_distinct)]`.
#[derive(Debug)]
pub struct UniqueDecl {
    pub pos: Pos,
    pub columns: Vec<Spanned<KeyPart>>,
    pub name: Option<Spanned<String>>,
    pub nulls_not_distinct: bool,
}

/// `#[check(name = "...", expr = "...")]`.
#[derive(Debug)]
pub struct CheckDecl {
    pub pos: Pos,
    pub name: Option<Spanned<String>>,
    pub expr: Spanned<String>,
}

/// `#[primary_key(columns(...), name = "...")]`.
#[derive(Debug)]
pub struct PrimaryKeyDecl {
    pub pos: Pos,
    pub columns: Vec<Spanned<KeyPart>>,
    pub name: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct FieldDecl {
    pub ident: Spanned<String>,
    pub ty: RustType,
    pub column: ColumnAttrs,
}

/// `#[derive(DbEnum)] #[db_enum(name = "...", schema = "...", rename_all = "...")] enum ...`.
#[derive(Debug)]
pub struct EnumDecl {
    pub ident: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub schema: Option<Spanned<String>>,
    pub rename_all: Option<Spanned<String>>,
    pub variants: Vec<VariantDecl>,
    /// diesel-derive-enum's `#[ExistingTypePath = "crate::schema::sql_types::Mood"]`: the type
    /// is the one that Diesel `SqlType` struct names (resolved once every file is read).
    pub existing_type: Option<Spanned<String>>,
    /// diesel-derive-enum's `#[DieselType = "..."]` / `#[DieselTypePath = "..."]`: the name of
    /// the Diesel SQL type it generates for the enum (default: `{Enum}Mapping`).
    pub diesel_type: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct VariantDecl {
    pub ident: Spanned<String>,
    pub rename: Option<Spanned<String>>,
    /// `#[db_enum(renamed_from = "old")]`: the label this value had before.
    pub renamed_from: Option<Spanned<String>>,
}

/// Reads every table struct and enum of one file, including those in inline `mod` blocks.
/// An item that is not valid Rust is reported and skipped: the file's other items are still read
/// (see `recover`).
pub fn parse_file(text: &str) -> FileDecls {
    let mut out = FileDecls::default();
    match syn::parse_file(text) {
        Ok(file) => walk(&file.items, &mut Vec::new(), &mut out),
        Err(err) => match recover(text) {
            Some((items, errors, words)) => {
                out.errors
                    .extend(errors.into_iter().flat_map(SyntaxError::from_syn));
                out.broken_words = words;
                walk(&items, &mut Vec::new(), &mut out);
            }
            None => {
                out.errors = SyntaxError::from_syn(err);
                for e in &mut out.errors {
                    if e.message == "cannot parse string into token stream" {
                        e.message = "the file is not valid Rust: a delimiter, string or comment \
                                     is not closed (nothing in this file is read)"
                            .into();
                    }
                }
                out.unparsable = true;
                out.broken_words = words_of_text(text);
            }
        },
    }
    out
}

/// Reads a file item by item once `syn::parse_file` failed: the items that parse, the errors of
/// those that do not, and the identifiers and string contents of the skipped tokens (what the
/// broken items may have declared). None when the text does not even split into tokens
/// (an unclosed delimiter or string), so that no item boundary can be trusted.
fn recover(text: &str) -> Option<(Vec<Item>, Vec<syn::Error>, Vec<String>)> {
    use syn::parse::discouraged::Speculative as _;
    use syn::parse::{ParseStream, Parser as _};

    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    // A shebang line is blanked out (not removed) so that positions stay those of the file.
    let blanked;
    let body = if body.starts_with("#!") && !body.starts_with("#![") {
        let end = body.find('\n').unwrap_or(body.len());
        blanked = format!("{}{}", " ".repeat(body[..end].len()), &body[end..]);
        blanked.as_str()
    } else {
        body
    };
    let tokens: proc_macro2::TokenStream = body.parse().ok()?;
    let parser = |input: ParseStream<'_>| {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let mut words = Vec::new();
        if input.call(Attribute::parse_inner).is_err() {
            return Err(input.error("invalid inner attribute"));
        }
        while !input.is_empty() {
            let fork = input.fork();
            match fork.parse::<Item>() {
                Ok(item) => {
                    input.advance_to(&fork);
                    items.push(item);
                }
                Err(err) => {
                    errors.push(err);
                    skip_item(input, &mut words)?;
                }
            }
        }
        Ok((items, errors, words))
    };
    parser.parse2(tokens).ok()
}

/// Skips the tokens of one broken item: up to and including the first top-level `;` or `{...}`
/// (and a `;` right after it), collecting their words.
fn skip_item(input: syn::parse::ParseStream<'_>, words: &mut Vec<String>) -> syn::Result<()> {
    use proc_macro2::{Delimiter, TokenTree};
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            token_words(&tt, words);
            rest = next;
            match &tt {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    if let Some((TokenTree::Punct(p), after)) = rest.token_tree() {
                        if p.as_char() == ';' {
                            rest = after;
                        }
                    }
                    break;
                }
                TokenTree::Punct(p) if p.as_char() == ';' => break,
                _ => {}
            }
        }
        Ok(((), rest))
    })
}

fn token_words(tt: &proc_macro2::TokenTree, words: &mut Vec<String>) {
    use proc_macro2::TokenTree;
    match tt {
        TokenTree::Group(g) => {
            for inner in g.stream() {
                token_words(&inner, words);
            }
        }
        TokenTree::Ident(i) => words.push(ident_text(i).value),
        TokenTree::Literal(l) => words.extend(words_of_text(&l.to_string())),
        TokenTree::Punct(_) => {}
    }
}

/// The identifier-like words of a text: runs of letters, digits and `_`.
pub fn words_of_text(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `module` is the path of inline modules around `items`, outermost first.
fn walk(items: &[Item], module: &mut Vec<String>, out: &mut FileDecls) {
    if seaorm_expanded::declares(items) {
        seaorm_expanded::entity(items, module, out);
    }
    for item in items {
        match item {
            Item::Struct(s) => {
                let derives = derives(&s.attrs);
                let has = |name: &str| derives.iter().any(|d| d == name);
                if has("Table") || has("DeriveEntityModel") {
                    let fields = s.fields.iter().flat_map(|f| &f.attrs);
                    check_nul(s.attrs.iter().chain(fields), &mut out.errors);
                }
                if has("Table") {
                    table(s, out);
                } else if has("DeriveEntityModel") {
                    seaorm::model(s, module, out);
                } else if has("DeriveEntity") {
                    // The expanded format: read with its module's other items, above.
                } else if has("DbEnum") {
                    out.errors.push(SyntaxError::new(
                        Pos::of(s.ident.span()),
                        "#[derive(DbEnum)] must be on an enum",
                    ));
                } else if has("SqlType") {
                    diesel::sql_type(s, module, out);
                }
            }
            Item::Enum(e) => {
                let derives = derives(&e.attrs);
                let has = |name: &str| derives.iter().any(|d| d == name);
                if has("DbEnum") || has("DeriveActiveEnum") || has("DeriveRelation") {
                    let variants = e.variants.iter().flat_map(|v| &v.attrs);
                    check_nul(e.attrs.iter().chain(variants), &mut out.errors);
                }
                if has("DbEnum") {
                    db_enum(e, out);
                } else if has("DeriveActiveEnum") {
                    seaorm::active_enum(e, out);
                } else if has("DeriveRelation") {
                    seaorm::relation(e, module, out);
                } else if has("Table") {
                    out.errors.push(SyntaxError::new(
                        Pos::of(e.ident.span()),
                        "#[derive(Table)] must be on a struct with named fields",
                    ));
                } else if has("DeriveEntityModel") {
                    out.errors.push(SyntaxError::new(
                        Pos::of(e.ident.span()),
                        "#[derive(DeriveEntityModel)] must be on a struct with named fields",
                    ));
                }
            }
            Item::Macro(m) => diesel::macro_item(m, module, out),
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    module.push(ident_text(&m.ident).value);
                    walk(items, module, out);
                    module.pop();
                }
            }
            _ => {}
        }
    }
}

/// A string literal holding a NUL byte, anywhere in the attributes of a model item: PostgreSQL
/// cannot store one in a name, a comment or an expression, and would cut the text there.
fn check_nul<'a>(attrs: impl Iterator<Item = &'a Attribute>, errors: &mut Vec<SyntaxError>) {
    fn walk(tokens: proc_macro2::TokenStream, errors: &mut Vec<SyntaxError>) {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), errors),
                proc_macro2::TokenTree::Literal(lit) => {
                    let pos = Pos::of(lit.span());
                    if let syn::Lit::Str(s) = syn::Lit::new(lit) {
                        if s.value().contains('\0') {
                            errors.push(SyntaxError::new(
                                pos,
                                "a NUL byte (\\0) cannot be part of SQL; remove it from this string",
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for attr in attrs {
        walk(quote::ToTokens::to_token_stream(&attr.meta), errors);
    }
}

/// The last path segment of every derive, e.g. `Table` for `#[derive(retort::Table)]`.
/// Derives inside `#[cfg_attr(..., derive(...))]` count too.
fn derives(attrs: &[Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    let attrs = if attrs.iter().any(|a| a.path().is_ident("cfg_attr")) {
        namespace::expand_cfg_attr(attrs)
    } else {
        attrs.to_vec()
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        {
            out.extend(
                paths
                    .iter()
                    .filter_map(|p| p.segments.last().map(|s| s.ident.to_string())),
            );
        }
    }
    out
}

fn ident_text(ident: &syn::Ident) -> Spanned<String> {
    use syn::ext::IdentExt as _;
    Spanned {
        value: ident.unraw().to_string(),
        pos: Pos::of(ident.span()),
    }
}

fn table(s: &ItemStruct, out: &mut FileDecls) {
    let mut decl = TableDecl {
        ident: ident_text(&s.ident),
        name: None,
        schema: None,
        comment: None,
        renamed_from: None,
        indexes: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        primary_keys: Vec::new(),
        fields: Vec::new(),
    };
    for attr in &namespace::expand_cfg_attr(&s.attrs) {
        attrs::struct_attr(attr, &mut decl, &mut out.errors);
    }
    match &s.fields {
        Fields::Named(named) => {
            decl.fields.reserve_exact(named.named.len());
            for field in &named.named {
                let Some(ident) = &field.ident else { continue };
                let mut column = ColumnAttrs::default();
                for attr in &namespace::expand_cfg_attr(&field.attrs) {
                    attrs::field_attr(attr, &mut column, &mut out.errors);
                }
                decl.fields.push(FieldDecl {
                    ident: ident_text(ident),
                    ty: RustType::from_syn(&field.ty),
                    column,
                });
            }
        }
        _ => {
            out.errors.push(SyntaxError::new(
                Pos::of(s.fields.span()),
                "#[derive(Table)] must be on a struct with named fields",
            ));
            return;
        }
    }
    out.tables.push(decl);
}

fn db_enum(e: &ItemEnum, out: &mut FileDecls) {
    let mut decl = EnumDecl {
        ident: ident_text(&e.ident),
        name: None,
        schema: None,
        rename_all: None,
        variants: Vec::new(),
        existing_type: None,
        diesel_type: None,
    };
    let mut verbatim = false;
    for attr in &namespace::expand_cfg_attr(&e.attrs) {
        if attr.path().is_ident("db_enum") {
            attrs::enum_attr(attr, &mut decl, &mut out.errors);
        } else if let Some(key) = diesel::derive_enum_attr(attr) {
            // diesel-derive-enum's `#[derive(DbEnum)]`, which shares the derive's name.
            let Some(value) = diesel::derive_enum_value(attr, key, &mut out.errors) else {
                continue;
            };
            match key {
                "ExistingTypePath" => decl.existing_type = Some(value),
                "PgType" => decl.name = Some(value),
                "DbValueStyle" if value.value == "verbatim" => verbatim = true,
                "DbValueStyle" => decl.rename_all = Some(value),
                _ => decl.diesel_type = Some(value),
            }
        } else {
            namespace::check_foreign(attr, namespace::Place::Enum, &mut out.errors);
        }
    }
    for variant in &e.variants {
        if !matches!(variant.fields, Fields::Unit) {
            out.errors.push(SyntaxError::new(
                Pos::of(variant.ident.span()),
                format!(
                    "variant `{}` of a DbEnum cannot carry data",
                    ident_text(&variant.ident).value
                ),
            ));
        }
        let mut rename = None;
        let mut renamed_from = None;
        for attr in &namespace::expand_cfg_attr(&variant.attrs) {
            if attr.path().is_ident("db_enum") {
                attrs::variant_attr(attr, &mut rename, &mut renamed_from, &mut out.errors);
            } else if attr.path().is_ident("db_rename") {
                rename = diesel::derive_enum_value(attr, "db_rename", &mut out.errors);
            } else {
                namespace::check_foreign(attr, namespace::Place::Variant, &mut out.errors);
            }
        }
        if verbatim && rename.is_none() {
            rename = Some(ident_text(&variant.ident));
        }
        decl.variants.push(VariantDecl {
            ident: ident_text(&variant.ident),
            rename,
            renamed_from,
        });
    }
    out.enums.push(decl);
}
