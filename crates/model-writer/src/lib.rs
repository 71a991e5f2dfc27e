//! Writes Retort's Schema IR as native model source (`#[derive(Table)]` structs and
//! `#[derive(DbEnum)]` enums), in exactly the syntax `retort-model-reader` reads: reading the
//! output back gives the same catalog, except for what the native dialect cannot say, which is
//! listed in `Written::notes` and as comments in the file.
//!
//! Items are built as token streams with `quote` and printed with `prettyplease`, so the output
//! is always valid, rustfmt-like Rust; it depends only on the catalog (stable, deterministic).

mod names;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use retort_schema::{
    index_key, normalize, Catalog, Check, Deferrable, Enum, FkAction, ForeignKey, Identity, Index,
    NamingConvention, PrimaryKey, QualName, Table, Unique,
};

pub use names::{pascal_case, snake_case};

/// How the models will be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Schema of tables and enums that do not name one (`[scope] schemas`' first entry).
    pub default_schema: String,
    /// `[naming]` of the project: a constraint or index is written without a name when the
    /// convention (or PostgreSQL's default) gives it the name it has.
    pub naming: NamingConvention,
    /// Lines put at the top of the file as `//` comments (what was imported, from where).
    pub header: Vec<String>,
    /// Objects of the database the caller knows cannot be written (exclusion constraints,
    /// views, ...): listed in the file's header with the writer's own notes.
    pub unmanaged: Vec<String>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            default_schema: "public".into(),
            naming: NamingConvention::default(),
            header: Vec::new(),
            unmanaged: Vec::new(),
        }
    }
}

/// Something of the catalog the native dialect cannot express exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// `schema.table`, `schema.enum` or `schema.table.object`.
    pub object: String,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.message)
    }
}

/// The generated source and what it could not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub source: String,
    pub notes: Vec<Note>,
    pub tables: usize,
    pub enums: usize,
}

/// Writes every enum and table of `catalog` as one model file.
pub fn write_models(catalog: &Catalog, opts: &WriteOptions) -> Written {
    let mut w = Writer::new(catalog, opts);
    w.assign_type_names();
    let mut items: Vec<(Vec<String>, syn::Item)> = Vec::new();
    for s in &catalog.schemas {
        if s.tables.is_empty() && s.enums.is_empty() {
            w.note(
                s.name.clone(),
                "the schema is empty, and models declare a schema only through its tables and \
                 enums (it is neither created nor dropped by autogenerate)",
            );
        }
    }
    for e in catalog.enums() {
        let (item, notes) = w.enum_item(e);
        items.push((notes, item));
    }
    for t in catalog.tables() {
        let (item, notes) = w.table_item(t);
        items.push((notes, item));
    }
    let mut out = String::new();
    for line in &opts.header {
        out.push_str(&comment_line(line));
    }
    let mut all_notes: Vec<String> = opts.unmanaged.clone();
    all_notes.extend(w.notes.iter().map(ToString::to_string));
    if !all_notes.is_empty() {
        if !opts.header.is_empty() {
            out.push_str("//\n");
        }
        out.push_str(
            "// Not expressed by these models (retort leaves them as they are, or the note says\n",
        );
        out.push_str("// what autogenerate would change):\n");
        for n in &all_notes {
            out.push_str(&comment_line(&format!("- {n}")));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&w.imports());
    for (notes, item) in items {
        out.push('\n');
        for n in notes {
            out.push_str(&comment_line(&format!("retort import: {n}")));
        }
        out.push_str(&unparse(item));
    }
    Written {
        source: out,
        notes: w.notes,
        tables: catalog.tables().count(),
        enums: catalog.enums().count(),
    }
}

/// `// text`, one comment line per line of `text` (a name may hold a newline).
fn comment_line(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "//\n".to_string()
            } else {
                format!("// {l}\n")
            }
        })
        .collect()
}

fn unparse(item: syn::Item) -> String {
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![item],
    })
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

fn ident(s: &str) -> Ident {
    match s.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(s, Span::call_site()),
    }
}

/// A column named in `columns(...)`, `include(...)`: a bare name when it is one, else a string
/// (the reader resolves both by SQL name first).
fn column_ref(name: &str) -> TokenStream {
    if names::is_plain_ident(name) {
        let i = Ident::new(name, Span::call_site());
        quote!(#i)
    } else {
        let l = lit(name);
        quote!(#l)
    }
}

fn action(a: FkAction) -> Option<&'static str> {
    match a {
        FkAction::NoAction => None,
        FkAction::Restrict => Some("restrict"),
        FkAction::Cascade => Some("cascade"),
        FkAction::SetNull => Some("set null"),
        FkAction::SetDefault => Some("set default"),
    }
}

/// How an object's name is written.
enum NameChoice {
    /// The reader (with the naming convention) gives it this name unnamed.
    Omit,
    /// `name = "..."` gives it this name.
    Explicit,
    /// Neither: the convention rewrites every name of this kind.
    Impossible(String),
}

struct Writer<'a> {
    catalog: &'a Catalog,
    opts: &'a WriteOptions,
    /// Rust type names of tables and enums.
    type_names: BTreeMap<QualName, String>,
    enum_names: BTreeMap<QualName, String>,
    imports: BTreeSet<&'static str>,
    notes: Vec<Note>,
}

impl<'a> Writer<'a> {
    fn new(catalog: &'a Catalog, opts: &'a WriteOptions) -> Self {
        Writer {
            catalog,
            opts,
            type_names: BTreeMap::new(),
            enum_names: BTreeMap::new(),
            imports: BTreeSet::new(),
            notes: Vec::new(),
        }
    }

    /// Unique Rust names: PascalCase of the SQL name, prefixed with the schema when two objects
    /// would share one, suffixed when a name is reserved.
    fn assign_type_names(&mut self) {
        let mut used: BTreeSet<String> = names::RESERVED_TYPE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut take = |qn: &QualName, fallback: &str, suffix: &str| -> String {
            let mut base = pascal_case(&qn.name, fallback);
            if names::RESERVED_TYPE_NAMES.contains(&base.as_str()) || names::is_keyword(&base) {
                base.push_str(suffix);
            }
            let mut candidate = base.clone();
            if used.contains(&candidate) {
                candidate = format!("{}{base}", pascal_case(&qn.schema, "S"));
            }
            let mut n = 2;
            while used.contains(&candidate) {
                candidate = format!("{base}{n}");
                n += 1;
            }
            used.insert(candidate.clone());
            candidate
        };
        for e in self.catalog.enums() {
            let name = take(&e.name, "E", "Enum");
            self.enum_names.insert(e.name.clone(), name);
        }
        for t in self.catalog.tables() {
            let name = take(&t.name, "T", "Table");
            self.type_names.insert(t.name.clone(), name);
        }
    }

    fn note(&mut self, object: impl Into<String>, message: impl Into<String>) -> String {
        let n = Note {
            object: object.into(),
            message: message.into(),
        };
        let text = n.message.clone();
        self.notes.push(n);
        text
    }

    /// The `use` lines: the derives and what the field types need, sorted as rustfmt sorts them.
    fn imports(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut chrono: Vec<&str> = Vec::new();
        for i in &self.imports {
            match i.strip_prefix("chrono::") {
                Some(name) => chrono.push(name),
                None => lines.push(format!("use {i};\n")),
            }
        }
        if !chrono.is_empty() {
            lines.push(format!("use chrono::{{{}}};\n", chrono.join(", ")));
        }
        let derives: Vec<&str> = [
            ("DbEnum", self.catalog.enums().next().is_some()),
            ("Table", self.catalog.tables().next().is_some()),
        ]
        .into_iter()
        .filter_map(|(d, used)| used.then_some(d))
        .collect();
        match derives.as_slice() {
            [] => {}
            [one] => lines.push(format!("use retort_derive::{one};\n")),
            many => lines.push(format!("use retort_derive::{{{}}};\n", many.join(", "))),
        }
        lines.sort();
        lines.concat()
    }

    fn enum_item(&mut self, e: &Enum) -> (syn::Item, Vec<String>) {
        let mut notes = Vec::new();
        let ident_text = self.enum_names[&e.name].clone();
        let id = ident(&ident_text);
        let mut keys = Vec::new();
        if snake_case(&ident_text) != e.name.name {
            let l = lit(&e.name.name);
            keys.push(quote!(name = #l));
        }
        if e.name.schema != self.opts.default_schema {
            let l = lit(&e.name.schema);
            keys.push(quote!(schema = #l));
        }
        let attr = (!keys.is_empty()).then(|| quote!(#[db_enum(#(#keys),*)]));
        let mut used = BTreeSet::new();
        let mut variants = Vec::new();
        for label in &e.values {
            if label.is_empty() {
                notes.push(self.note(
                    e.name.to_string(),
                    "an empty enum label cannot be written; it is left out",
                ));
                continue;
            }
            let base = pascal_case(label, "V");
            let base = if base == "Self" {
                "SelfValue".into()
            } else {
                base
            };
            let mut v = base.clone();
            let mut n = 2;
            while used.contains(&v) {
                v = format!("{base}{n}");
                n += 1;
            }
            used.insert(v.clone());
            let vid = ident(&v);
            if snake_case(&v) == *label {
                variants.push(quote!(#vid));
            } else {
                let l = lit(label);
                variants.push(quote!(#[db_enum(rename = #l)] #vid));
            }
        }
        let tokens = quote! {
            #[derive(DbEnum)]
            #attr
            pub enum #id {
                #(#variants),*
            }
        };
        (parse_item(tokens), notes)
    }

    /// The name the reader and the naming convention give an object written with `written`
    /// (None: unnamed, i.e. PostgreSQL's default name `default`).
    fn resulting_name(
        &self,
        t: &Table,
        default: &str,
        written: Option<&str>,
        set: impl Fn(&mut Table, String),
        get: impl Fn(&Table) -> String,
    ) -> String {
        let mut probe = Table::new(t.name.clone());
        probe.columns = t.columns.clone();
        set(&mut probe, written.unwrap_or(default).to_string());
        let mut c = Catalog::default();
        c.schema_mut(&t.name.schema).tables.push(probe);
        self.opts.naming.apply(&mut c);
        get(&c.schemas[0].tables[0])
    }

    fn choose(
        &self,
        t: &Table,
        actual: &str,
        default: &str,
        set: impl Fn(&mut Table, String),
        get: impl Fn(&Table) -> String,
    ) -> NameChoice {
        if self.resulting_name(t, default, None, &set, &get) == actual {
            NameChoice::Omit
        } else {
            let named = self.resulting_name(t, default, Some(actual), &set, &get);
            if named == actual {
                NameChoice::Explicit
            } else {
                NameChoice::Impossible(named)
            }
        }
    }

    fn pk_choice(&self, t: &Table, pk: &PrimaryKey) -> NameChoice {
        let cols = pk.columns.clone();
        self.choose(
            t,
            &pk.name,
            &normalize::primary_key_name(&t.name.name),
            |tb, name| {
                tb.primary_key = Some(PrimaryKey {
                    name,
                    columns: cols.clone(),
                })
            },
            |tb| {
                tb.primary_key
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default()
            },
        )
    }

    fn unique_choice(&self, t: &Table, u: &Unique) -> NameChoice {
        let u2 = u.clone();
        self.choose(
            t,
            &u.name,
            &normalize::unique_name(&t.name.name, &u.columns),
            |tb, name| tb.uniques = vec![Unique { name, ..u2.clone() }],
            |tb| tb.uniques[0].name.clone(),
        )
    }

    fn check_choice(&self, t: &Table, c: &Check) -> NameChoice {
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let expr = normalize::bool_expr(&c.expr);
        let c2 = c.clone();
        self.choose(
            t,
            &c.name,
            &normalize::check_name(&t.name.name, &expr, &cols),
            |tb, name| {
                tb.checks = vec![Check {
                    name,
                    expr: c2.expr.clone(),
                }]
            },
            |tb| tb.checks[0].name.clone(),
        )
    }

    fn index_choice(&self, t: &Table, i: &Index) -> NameChoice {
        let i2 = i.clone();
        self.choose(
            t,
            &i.name,
            &normalize::index_name(&t.name.name, &i.keys),
            |tb, name| tb.indexes = vec![Index { name, ..i2.clone() }],
            |tb| tb.indexes[0].name.clone(),
        )
    }

    fn fk_default_name(&self, t: &Table, fk: &ForeignKey) -> String {
        let f2 = fk.clone();
        self.resulting_name(
            t,
            &normalize::foreign_key_name(&t.name.name, &fk.columns),
            None,
            |tb, name| tb.foreign_keys = vec![ForeignKey { name, ..f2.clone() }],
            |tb| tb.foreign_keys[0].name.clone(),
        )
    }

    /// `name = "..."` for an object, or nothing; a note when the name cannot be kept.
    fn name_key(
        &mut self,
        choice: NameChoice,
        what: &str,
        object: String,
        actual: &str,
        notes: &mut Vec<String>,
    ) -> Option<TokenStream> {
        match choice {
            NameChoice::Omit => None,
            NameChoice::Explicit => {
                let l = lit(actual);
                Some(quote!(name = #l))
            }
            NameChoice::Impossible(got) => {
                notes.push(self.note(
                    object,
                    format!(
                        "{what} `{actual}`: the [naming] convention renames it to `{got}` \
                         whatever the models say (autogenerate would rename it)"
                    ),
                ));
                let l = lit(actual);
                Some(quote!(name = #l))
            }
        }
    }

    /// Whether the reader can express `fk` as `#[column(references = ...)]`, and the target text.
    fn fk_target(&self, t: &Table, fk: &ForeignKey) -> Result<String, String> {
        if fk.columns.len() != 1 || fk.ref_columns.len() != 1 {
            return Err(format!(
                "foreign key `{}` ({}) -> {}({}) has several columns, which the native dialect \
                 cannot declare (autogenerate would drop it)",
                fk.name,
                fk.columns.join(", "),
                fk.ref_table,
                fk.ref_columns.join(", ")
            ));
        }
        let Some(target) = self.catalog.table(&fk.ref_table) else {
            return Err(format!(
                "foreign key `{}` references {}, which is not imported (out of scope), so the \
                 models cannot declare it (autogenerate would drop it)",
                fk.name, fk.ref_table
            ));
        };
        let col = &fk.ref_columns[0];
        let only = |cols: &[String]| cols.len() == 1 && &cols[0] == col;
        let unique = target
            .primary_key
            .as_ref()
            .is_some_and(|p| only(&p.columns))
            || target.uniques.iter().any(|u| only(&u.columns))
            || target
                .indexes
                .iter()
                .any(|i| i.unique && i.predicate.is_none() && only(&i.keys));
        if !unique {
            return Err(format!(
                "foreign key `{}` references {}.{col}, which the models do not declare as a \
                 primary key or unique on its own (autogenerate would drop it)",
                fk.name, fk.ref_table
            ));
        }
        let parts = [&fk.ref_table.schema, &fk.ref_table.name, col];
        if parts
            .iter()
            .any(|p| p.contains('.') || p.trim() != p.as_str())
        {
            return Err(format!(
                "foreign key `{}`: the name of {}.{col} contains a dot or surrounding spaces, \
                 which `references = \"...\"` cannot spell (autogenerate would drop it)",
                fk.name, fk.ref_table
            ));
        }
        // `table.column` resolves in the referencing table's schema first, then the default.
        let same = QualName::new(t.name.schema.clone(), fk.ref_table.name.clone());
        let short_resolves_to = if self.catalog.table(&same).is_some() {
            same
        } else {
            QualName::new(self.opts.default_schema.clone(), fk.ref_table.name.clone())
        };
        Ok(if short_resolves_to == fk.ref_table {
            format!("{}.{col}", fk.ref_table.name)
        } else {
            format!("{}.{}.{col}", fk.ref_table.schema, fk.ref_table.name)
        })
    }

    fn table_item(&mut self, t: &Table) -> (syn::Item, Vec<String>) {
        let mut notes = Vec::new();
        let label = t.name.to_string();
        let ident_text = self.type_names[&t.name].clone();
        let id = ident(&ident_text);
        let mut struct_attrs: Vec<TokenStream> = Vec::new();

        // #[table(...)]
        let mut keys = Vec::new();
        if snake_case(&ident_text) != t.name.name {
            let l = lit(&t.name.name);
            keys.push(quote!(name = #l));
        }
        if t.name.schema != self.opts.default_schema {
            let l = lit(&t.name.schema);
            keys.push(quote!(schema = #l));
        }
        if let Some(c) = &t.comment {
            let l = lit(c);
            keys.push(quote!(comment = #l));
        }
        if !keys.is_empty() {
            struct_attrs.push(quote!(#[table(#(#keys),*)]));
        }

        // Per-column facts decided by the table's constraints.
        let mut field_pk: Option<String> = None;
        if let Some(pk) = &t.primary_key {
            let choice = self.pk_choice(t, pk);
            if pk.columns.len() == 1 && matches!(choice, NameChoice::Omit) {
                field_pk = Some(pk.columns[0].clone());
            } else {
                let cols = pk.columns.iter().map(|c| column_ref(c));
                let mut keys = vec![quote!(columns(#(#cols),*))];
                keys.extend(self.name_key(
                    choice,
                    "primary key",
                    label.clone(),
                    &pk.name,
                    &mut notes,
                ));
                struct_attrs.push(quote!(#[primary_key(#(#keys),*)]));
            }
        }
        let mut field_unique: BTreeSet<String> = BTreeSet::new();
        for u in &t.uniques {
            let choice = self.unique_choice(t, u);
            if u.columns.len() == 1
                && !u.nulls_not_distinct
                && matches!(choice, NameChoice::Omit)
                && !field_unique.contains(&u.columns[0])
            {
                field_unique.insert(u.columns[0].clone());
                continue;
            }
            let cols = u.columns.iter().map(|c| column_ref(c));
            let mut keys = vec![quote!(columns(#(#cols),*))];
            keys.extend(self.name_key(
                choice,
                "unique constraint",
                label.clone(),
                &u.name,
                &mut notes,
            ));
            if u.nulls_not_distinct {
                keys.push(quote!(nulls_not_distinct));
            }
            struct_attrs.push(quote!(#[unique(#(#keys),*)]));
        }
        for c in &t.checks {
            let choice = self.check_choice(t, c);
            let mut keys: Vec<TokenStream> = self
                .name_key(choice, "check", label.clone(), &c.name, &mut notes)
                .into_iter()
                .collect();
            let l = lit(&c.expr);
            keys.push(quote!(expr = #l));
            struct_attrs.push(quote!(#[check(#(#keys),*)]));
        }
        let mut field_index: BTreeSet<String> = BTreeSet::new();
        for i in &t.indexes {
            if i.invalid {
                notes.push(self.note(
                    label.clone(),
                    format!(
                        "index `{}` is INVALID in the database (a failed CREATE INDEX \
                         CONCURRENTLY): it is declared, so autogenerate rebuilds it",
                        i.name
                    ),
                ));
            }
            let choice = self.index_choice(t, i);
            let single_column = match i.keys.as_slice() {
                [k] => index_key::column_of(k).filter(|c| index_key::column_key(c) == *k),
                _ => None,
            };
            if let Some(col) = single_column.filter(|c| {
                !i.unique
                    && i.method == "btree"
                    && i.include.is_empty()
                    && i.predicate.is_none()
                    && !i.invalid
                    && matches!(choice, NameChoice::Omit)
                    && !field_index.contains(c)
            }) {
                field_index.insert(col);
                continue;
            }
            let mut parts = Vec::new();
            for k in &i.keys {
                match self.index_key(k) {
                    Ok(ts) => parts.push(ts),
                    Err(why) => {
                        notes.push(self.note(
                            label.clone(),
                            format!("index `{}`: key `{k}` {why}", i.name),
                        ));
                        let l = lit(k);
                        parts.push(quote!(#l));
                    }
                }
            }
            let mut keys = vec![quote!(columns(#(#parts),*))];
            if i.unique {
                keys.push(quote!(unique));
            }
            if i.nulls_not_distinct {
                keys.push(quote!(nulls_not_distinct));
            }
            keys.extend(self.name_key(choice, "index", label.clone(), &i.name, &mut notes));
            if i.method != "btree" {
                let l = lit(&i.method);
                keys.push(quote!(method = #l));
            }
            if !i.include.is_empty() {
                let cols = i.include.iter().map(|c| column_ref(c));
                keys.push(quote!(include(#(#cols),*)));
            }
            if let Some(p) = &i.predicate {
                let l = lit(p);
                keys.push(quote!(where = #l));
            }
            struct_attrs.push(quote!(#[index(#(#keys),*)]));
        }

        // Foreign keys: one `references` per column.
        let mut field_fk: BTreeMap<String, &ForeignKey> = BTreeMap::new();
        for fk in &t.foreign_keys {
            match self.fk_target(t, fk) {
                Err(why) => notes.push(self.note(label.clone(), why)),
                Ok(_) if field_fk.contains_key(&fk.columns[0]) => {
                    notes.push(self.note(
                        label.clone(),
                        format!(
                            "foreign key `{}`: column {} has another foreign key, and a column \
                             declares one (autogenerate would drop it)",
                            fk.name, fk.columns[0]
                        ),
                    ));
                }
                Ok(_) => {
                    let implied = self.fk_default_name(t, fk);
                    if implied != fk.name {
                        notes.push(self.note(
                            label.clone(),
                            format!(
                                "foreign key `{}`: the native dialect cannot name a foreign key; \
                                 the models call it `{implied}` (autogenerate would rename it)",
                                fk.name
                            ),
                        ));
                    }
                    field_fk.insert(fk.columns[0].clone(), fk);
                }
            }
        }

        // Fields.
        let mut used_fields: BTreeSet<String> = BTreeSet::new();
        // Columns whose name is already a field name keep it; the others get a fresh one.
        for c in &t.columns {
            if names::field_ident(&c.name) == c.name {
                used_fields.insert(c.name.clone());
            }
        }
        let mut fields = Vec::new();
        for c in &t.columns {
            let mut base = names::field_ident(&c.name);
            if base != c.name {
                let stem = base.trim_end_matches('_').to_string();
                let mut n = 2;
                while used_fields.contains(&base) {
                    base = format!("{stem}_{n}");
                    n += 1;
                }
                used_fields.insert(base.clone());
            }
            let field_name = if names::is_keyword(&base) {
                format!("r#{base}")
            } else {
                base.clone()
            };
            let mut keys = Vec::new();
            if base != c.name {
                let l = lit(&c.name);
                keys.push(quote!(name = #l));
            }
            let (rust, exact) = types::rust_type(&c.ty, &self.enum_names, &mut self.imports);
            let serial =
                c.ty.serial_name()
                    .filter(|_| c.identity == Some(Identity::Serial));
            if let Some(name) = serial {
                // `type = "serial"`: the integer type with a sequence it owns, kept as a serial.
                let l = lit(name);
                keys.push(quote!(type = #l));
            } else if !exact {
                let spelled = c.ty.to_string();
                if retort_schema::ColumnType::parse(&spelled, &self.opts.default_schema).as_ref()
                    != Some(&c.ty)
                {
                    notes.push(self.note(
                        format!("{label}.{}", c.name),
                        format!(
                            "type `{spelled}` does not read back as the same type \
                             (autogenerate would change it)"
                        ),
                    ));
                }
                let l = lit(&spelled);
                keys.push(quote!(type = #l));
            }
            if field_pk.as_deref() == Some(c.name.as_str()) {
                keys.push(quote!(primary_key));
            }
            match c.identity {
                Some(Identity::ByDefault) => keys.push(quote!(identity)),
                Some(Identity::Always) => keys.push(quote!(identity = "always")),
                Some(Identity::Serial) | None => {}
            }
            if let Some(d) = &c.default {
                if c.identity.is_none() {
                    let l = lit(d);
                    keys.push(quote!(default = #l));
                }
            }
            if let Some(g) = &c.generated {
                let l = lit(g);
                keys.push(quote!(generated = #l));
            }
            if field_unique.contains(&c.name) {
                keys.push(quote!(unique));
            }
            if field_index.contains(&c.name) {
                keys.push(quote!(index));
            }
            if let Some(fk) = field_fk.get(&c.name) {
                let target = self.fk_target(t, fk).unwrap_or_default();
                let l = lit(&target);
                keys.push(quote!(references = #l));
                if let Some(a) = action(fk.on_delete) {
                    let l = lit(a);
                    keys.push(quote!(on_delete = #l));
                }
                if let Some(a) = action(fk.on_update) {
                    let l = lit(a);
                    keys.push(quote!(on_update = #l));
                }
                match fk.deferrable {
                    Deferrable::NotDeferrable => {}
                    Deferrable::InitiallyImmediate => keys.push(quote!(deferrable)),
                    Deferrable::InitiallyDeferred => keys.push(quote!(initially_deferred)),
                }
                if fk.match_full {
                    keys.push(quote!(match_full));
                }
            }
            if let Some(cm) = &c.comment {
                let l = lit(cm);
                keys.push(quote!(comment = #l));
            }
            // A NOT NULL identity column is never Option; everything else follows nullability.
            let ty_text = if c.nullable && c.identity.is_none() {
                format!("Option<{rust}>")
            } else {
                rust
            };
            let ty: syn::Type = syn::parse_str(&ty_text)
                .unwrap_or_else(|e| panic!("generated type `{ty_text}` does not parse: {e}"));
            let fid = ident(&field_name);
            let attr = (!keys.is_empty()).then(|| quote!(#[column(#(#keys),*)]));
            fields.push(quote!(#attr pub #fid: #ty));
        }
        let tokens = quote! {
            #[derive(Table)]
            #(#struct_attrs)*
            pub struct #id {
                #(#fields),*
            }
        };
        (parse_item(tokens), notes)
    }

    /// One key of `#[index(columns(...))]` in the reader's grammar: a column, `"column opclass
    /// DESC NULLS LAST"`, or `"expression DESC"`.
    fn index_key(&self, key: &str) -> Result<TokenStream, String> {
        let parts = index_key::split(key);
        let order_word = |w: &&str| {
            matches!(
                w.to_ascii_uppercase().as_str(),
                "DESC" | "ASC" | "NULLS" | "FIRST" | "LAST"
            )
        };
        let (order, other): (Vec<&str>, Vec<&str>) =
            parts.suffix.iter().partition(|w| order_word(w));
        let order_text = order.join(" ");
        match parts.head {
            index_key::KeyHead::Column(c) => {
                if parts.suffix.is_empty() {
                    return Ok(column_ref(&c));
                }
                if !names::is_plain_ident(&c) {
                    return Err(
                        "names a column that cannot be written with an operator class or \
                         ordering"
                            .into(),
                    );
                }
                if other.len() > 1 {
                    return Err("has more than an operator class and an ordering".into());
                }
                let mut text = c.clone();
                for w in other.iter().chain(order.iter()) {
                    text.push(' ');
                    text.push_str(w);
                }
                let l = lit(&text);
                Ok(quote!(#l))
            }
            index_key::KeyHead::Expr(e) => {
                if !other.is_empty() {
                    return Err(
                        "is an expression with an operator class or collation, which the \
                         native dialect cannot declare"
                            .into(),
                    );
                }
                let inner = normalize::strip_outer_parens(e);
                let text = if order_text.is_empty() {
                    inner.to_string()
                } else {
                    format!("{inner} {order_text}")
                };
                let l = lit(&text);
                Ok(quote!(#l))
            }
        }
    }
}

fn parse_item(tokens: TokenStream) -> syn::Item {
    syn::parse2(tokens.clone())
        .unwrap_or_else(|e| panic!("generated item does not parse: {e}\n{tokens}"))
}

#[cfg(test)]
mod tests;
