//! The read pass: parse the files (on worker threads, see `parse`), build the IR (enums, tables,
//! foreign keys) and check it. Cross-file facts (enum types, referenced tables, SeaORM
//! `belongs_to` entities) are resolved only once every file is read; native and SeaORM items
//! build one catalog. Results and errors never depend on how the parsing was scheduled.

mod diesel;
mod enums;
mod foreign_keys;
mod names;
mod parse;
mod seaorm;
mod tables;

use std::collections::{BTreeMap, HashMap, HashSet};

use retort_schema::{normalize, Catalog, ColumnType, Deferrable, FkAction, QualName, Table};

use crate::syntax::{DieselJoinableDecl, DieselTableDecl, EnumDecl, Pos, SeaRelationDecl, Spanned};
use crate::{sql, ModelError, ModelErrors, Models, ReadOptions, RenameHint, Span};

pub fn read(sources: &[(String, String)], opts: &ReadOptions) -> Result<Models, ModelErrors> {
    let plan = parse::Plan::new(sources);
    parse::with_parser(sources, &plan, |parser| build(sources, opts, &plan, parser))
}

/// Builds the IR from the parsed files: enums first (only files whose text can declare one
/// have any), then each file's tables in file order, dropping its declarations once built.
/// The steps and their order are those of reading every file first and then building.
fn build(
    sources: &[(String, String)],
    opts: &ReadOptions,
    plan: &parse::Plan,
    parser: &parse::Parser<'_>,
) -> Result<Models, ModelErrors> {
    let mut b = Builder::new(opts);
    let mut enum_files = BTreeMap::new();
    for i in plan.enum_files() {
        let decls = parser.take(i);
        let name = sources[i].0.as_str();
        for e in decls.enums.iter().filter(|e| e.existing_type.is_none()) {
            b.add_enum(name, e);
        }
        for e in &decls.sea_enums {
            b.add_sea_enum(name, e);
        }
        enum_files.insert(i, decls);
    }
    let mut syntax_errors = Vec::new();
    let mut relations: Vec<(usize, Vec<SeaRelationDecl>)> = Vec::new();
    let mut diesel_tables: Vec<(usize, Vec<DieselTableDecl>)> = Vec::new();
    let mut joinables: Vec<(usize, Vec<DieselJoinableDecl>)> = Vec::new();
    let mut diesel_enums: Vec<(usize, Vec<EnumDecl>)> = Vec::new();
    for (i, (name, _)) in sources.iter().enumerate() {
        let mut decls = enum_files.remove(&i).unwrap_or_else(|| parser.take(i));
        // diesel-derive-enum enums naming a Diesel SqlType: once every SqlType is known.
        let existing: Vec<EnumDecl> = std::mem::take(&mut decls.enums)
            .into_iter()
            .filter(|e| e.existing_type.is_some())
            .collect();
        if !existing.is_empty() {
            diesel_enums.push((i, existing));
        }
        for e in &decls.errors {
            syntax_errors.push(ModelError {
                span: at(name, e.pos),
                message: e.message.clone(),
            });
        }
        // What the broken items (or the whole file) may declare: references to these names
        // are not reported as unknown, the syntax error explains them.
        if decls.unparsable || !decls.broken_words.is_empty() {
            b.broken.extend(decls.broken_words.iter().cloned());
            if let Some(stem) = std::path::Path::new(name).file_stem() {
                b.broken.insert(stem.to_string_lossy().into_owned());
            }
        }
        for t in &decls.tables {
            b.add_table(name, t);
        }
        for m in &decls.sea_models {
            b.add_sea_model(name, m);
        }
        if !decls.sea_relations.is_empty() {
            relations.push((i, decls.sea_relations));
        }
        for t in decls.diesel_sql_types {
            b.add_diesel_sql_type(name, t);
        }
        if !decls.diesel_tables.is_empty() {
            diesel_tables.push((i, decls.diesel_tables));
        }
        if !decls.diesel_joinables.is_empty() {
            joinables.push((i, decls.diesel_joinables));
        }
    }
    // diesel-derive-enum enums and Diesel tables once every file's SqlType structs are known.
    for (i, decls) in &mut diesel_enums {
        for e in decls {
            b.add_diesel_enum(&sources[*i].0, e);
        }
    }
    for (i, decls) in &diesel_tables {
        for t in decls {
            b.add_diesel_table(&sources[*i].0, t);
        }
    }
    b.index_tables();
    b.resolve_foreign_keys();
    for (i, decls) in &relations {
        for r in decls {
            b.add_sea_relations(&sources[*i].0, r);
        }
    }
    for (i, decls) in &joinables {
        for j in decls {
            b.add_diesel_joinable(&sources[*i].0, j);
        }
    }
    b.check_names(sources);
    b.settle_unresolved();
    syntax_errors.append(&mut b.errors);
    b.errors = syntax_errors;
    b.finish(sources)
}

/// A foreign key waiting for every table to be known.
struct PendingFk {
    table: QualName,
    column: String,
    target: Spanned<String>,
    file: String,
    on_delete: FkAction,
    on_update: FkAction,
    deferrable: Deferrable,
    match_full: bool,
}

/// A constraint or index name, kept to find collisions once everything is built.
/// Kept small (there are several per table): the table and file are interned in the builder.
struct NameUse {
    /// Index into `Builder::name_tables`.
    table: usize,
    name: String,
    /// Tables, indexes, primary keys and unique constraints share one namespace per schema.
    relation: bool,
    /// Constraint names are unique per table.
    constraint: bool,
    /// Index into `Builder::name_files`.
    file: usize,
    pos: Pos,
}

struct Builder<'o> {
    opts: &'o ReadOptions,
    catalog: Catalog,
    origins: BTreeMap<String, Span>,
    dialects: BTreeMap<String, crate::Dialect>,
    renames: Vec<RenameHint>,
    enum_value_renames: Vec<crate::EnumValueRename>,
    errors: Vec<ModelError>,
    /// Errors about a reference to a name that is declared nowhere, with that name: reported
    /// unless a broken item may declare it (see `settle_unresolved`).
    unresolved: Vec<(ModelError, String)>,
    /// Words of the items (or files) that could not be parsed.
    broken: HashSet<String>,
    /// Rust enum name -> the SQL enum types declared under that name.
    rust_enums: BTreeMap<String, Vec<QualName>>,
    /// SeaORM active enum name -> the column types it is stored as.
    sea_enums: BTreeMap<String, Vec<ColumnType>>,
    /// SeaORM entities read so far, for `belongs_to` lookup.
    sea_entities: Vec<seaorm::SeaEntity>,
    /// Diesel tables and custom SQL types read so far, for `joinable!` and type lookup.
    diesel_entities: Vec<diesel::DieselEntity>,
    diesel_types: Vec<diesel::DieselType>,
    pending_fks: Vec<PendingFk>,
    names: Vec<NameUse>,
    /// The tables and files `names` refer to (uses of one table or file come in runs).
    name_tables: Vec<QualName>,
    name_files: Vec<String>,
    /// `sql::check_expr` of each SQL fragment seen so far.
    fragments: HashMap<String, Result<(), String>>,
    /// Where each table is in `catalog` (schema, table), once every table is built.
    table_index: HashMap<QualName, (usize, usize)>,
}

/// The last identifier-like word of a type's text (`Money` of `crate::Money`).
fn last_word(text: &str) -> String {
    crate::syntax::words_of_text(text).pop().unwrap_or_default()
}

fn at(file: &str, pos: Pos) -> Span {
    Span {
        file: file.to_string(),
        line: pos.line,
        col: pos.col,
    }
}

/// Sort key of a span: the file's place in `sources`, then line and column.
fn source_order(files: &HashMap<&str, usize>, span: &Span) -> (usize, usize, usize) {
    let file = files.get(span.file.as_str()).copied().unwrap_or(usize::MAX);
    (file, span.line, span.col)
}

/// Each file's place in `sources` (the first, if a name is given twice), for `source_order`.
fn file_places(sources: &[(String, String)]) -> HashMap<&str, usize> {
    let mut places = HashMap::with_capacity(sources.len());
    for (i, (name, _)) in sources.iter().enumerate() {
        places.entry(name.as_str()).or_insert(i);
    }
    places
}

impl<'o> Builder<'o> {
    fn new(opts: &'o ReadOptions) -> Self {
        Builder {
            opts,
            catalog: Catalog::default(),
            origins: BTreeMap::new(),
            dialects: BTreeMap::new(),
            renames: Vec::new(),
            enum_value_renames: Vec::new(),
            errors: Vec::new(),
            unresolved: Vec::new(),
            broken: HashSet::new(),
            rust_enums: BTreeMap::new(),
            sea_enums: BTreeMap::new(),
            sea_entities: Vec::new(),
            diesel_entities: Vec::new(),
            diesel_types: Vec::new(),
            pending_fks: Vec::new(),
            names: Vec::new(),
            name_tables: Vec::new(),
            name_files: Vec::new(),
            fragments: HashMap::new(),
            table_index: HashMap::new(),
        }
    }

    /// Indexes the tables built so far by name (the first of a name, like `Catalog::table`), for
    /// the lookups that follow: one per foreign key, which a scan of every table would make
    /// quadratic. No table is added afterwards.
    fn index_tables(&mut self) {
        self.table_index.clear();
        for (s, schema) in self.catalog.schemas.iter().enumerate() {
            for (t, table) in schema.tables.iter().enumerate() {
                self.table_index.entry(table.name.clone()).or_insert((s, t));
            }
        }
    }

    /// `Catalog::table`, through the index.
    fn find_table(&self, name: &QualName) -> Option<&Table> {
        let &(s, t) = self.table_index.get(name)?;
        Some(&self.catalog.schemas[s].tables[t])
    }

    /// `Catalog::table_mut`, through the index.
    fn find_table_mut(&mut self, name: &QualName) -> Option<&mut Table> {
        let &(s, t) = self.table_index.get(name)?;
        Some(&mut self.catalog.schemas[s].tables[t])
    }

    fn error(&mut self, file: &str, pos: Pos, message: impl Into<String>) {
        self.errors.push(ModelError {
            span: at(file, pos),
            message: message.into(),
        });
    }

    /// An error about a reference to `name` that nothing declares; dropped when an item that
    /// could not be parsed may declare it.
    fn unresolved(&mut self, file: &str, pos: Pos, name: &str, message: impl Into<String>) {
        let error = ModelError {
            span: at(file, pos),
            message: message.into(),
        };
        self.unresolved.push((error, name.to_string()));
    }

    /// Moves the unresolved-reference errors to `errors`, except those whose name a broken item
    /// mentions (as written, or as the snake_case table or type name of a Rust name).
    fn settle_unresolved(&mut self) {
        let mut broken: HashSet<String> = HashSet::new();
        if !self.broken.is_empty() {
            for w in &self.broken {
                broken.insert(w.clone());
                broken.insert(crate::case::snake_case(w));
            }
        }
        for (error, name) in std::mem::take(&mut self.unresolved) {
            if !broken.contains(&name) {
                self.errors.push(error);
            }
        }
    }

    /// The schema an object goes to: the one it names, or the default.
    fn schema_of(&mut self, file: &str, given: Option<&Spanned<String>>) -> String {
        match given {
            Some(s) => {
                if self.check_ident(file, s.pos, "schema name", &s.value) {
                    self.check_scope(file, s);
                }
                s.value.clone()
            }
            None => self.opts.default_schema.clone(),
        }
    }

    /// A schema outside `[scope] schemas` would be diffed against nothing (and never created):
    /// an error, with the closest configured schema as a suggestion.
    fn check_scope(&mut self, file: &str, schema: &Spanned<String>) {
        let Some(scope) = &self.opts.schemas else {
            return;
        };
        if scope.contains(&schema.value) {
            return;
        }
        let known: Vec<&str> = scope.iter().map(String::as_str).collect();
        let hint = match crate::syntax::did_you_mean(&schema.value, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "add it to [scope] schemas in retort.toml or use one of those".to_string(),
        };
        let message = format!(
            "schema `{}` is not in [scope] schemas ({}); {hint}",
            schema.value,
            known.join(", ")
        );
        self.error(file, schema.pos, message);
    }

    /// PostgreSQL rejects empty identifiers and silently truncates long ones (which would drift).
    fn check_ident(&mut self, file: &str, pos: Pos, what: &str, name: &str) -> bool {
        if name.is_empty() {
            self.error(file, pos, format!("{what} must not be empty"));
            false
        } else if name.len() > normalize::MAX_IDENT {
            self.error(
                file,
                pos,
                format!(
                    "{what} `{name}` is longer than {} bytes",
                    normalize::MAX_IDENT
                ),
            );
            false
        } else {
            true
        }
    }

    /// Validates an SQL fragment written in attribute `key`; false (with an error) when invalid.
    fn fragment(&mut self, file: &str, key: &str, expr: &Spanned<String>) -> bool {
        // Models repeat the same few defaults and checks: parse each text once.
        let checked = match self.fragments.get(expr.value.as_str()) {
            Some(checked) => checked.clone(),
            None => {
                let checked = sql::check_expr(&expr.value);
                self.fragments.insert(expr.value.clone(), checked.clone());
                checked
            }
        };
        match checked {
            Ok(()) => true,
            Err(message) => {
                self.error(file, expr.pos, format!("invalid SQL in `{key}`: {message}"));
                false
            }
        }
    }

    fn fk_action(&mut self, file: &str, given: Option<&Spanned<String>>) -> FkAction {
        let Some(given) = given else {
            return FkAction::NoAction;
        };
        match FkAction::parse(&given.value) {
            Some(action) => action,
            None => {
                self.error(
                    file,
                    given.pos,
                    format!(
                        "invalid foreign key action `{}`; expected one of no action, restrict, \
                         cascade, set null, set default",
                        given.value
                    ),
                );
                FkAction::NoAction
            }
        }
    }

    fn finish(mut self, sources: &[(String, String)]) -> Result<Models, ModelErrors> {
        if !self.errors.is_empty() {
            let places = file_places(sources);
            self.errors.sort_by_key(|e| source_order(&places, &e.span));
            return Err(ModelErrors(self.errors));
        }
        let mut catalog = self.catalog;
        catalog.canonicalize();
        Ok(Models {
            catalog: catalog.without_empty_schemas(),
            // Rebuilt in one pass: a map grown by inserts in (nearly) key order keeps its nodes
            // about half full, a map built from sorted entries packs them.
            origins: self.origins.into_iter().collect(),
            renames: self.renames,
            enum_value_renames: self.enum_value_renames,
            dialects: self.dialects,
            sql: Vec::new(),
        })
    }
}

#[cfg(test)]
mod diesel_tests;
#[cfg(test)]
mod seaorm_expanded_tests;
#[cfg(test)]
mod seaorm_tests;
#[cfg(test)]
mod tests;
