//! The read pass: parse every file, then build the IR (enums, tables, foreign keys) and check it.
//! Cross-file facts (enum types, referenced tables, SeaORM `belongs_to` entities) are resolved
//! only once every file is read; native and SeaORM items build one catalog.

mod enums;
mod foreign_keys;
mod names;
mod seaorm;
mod tables;

use std::collections::BTreeMap;

use retort_schema::{normalize, Catalog, ColumnType, FkAction, QualName};

use crate::syntax::{self, Pos, Spanned};
use crate::{sql, ModelError, ModelErrors, Models, ReadOptions, RenameHint, Span};

pub fn read(sources: &[(String, String)], opts: &ReadOptions) -> Result<Models, ModelErrors> {
    let mut files = Vec::with_capacity(sources.len());
    let mut b = Builder::new(opts);
    let mut unparsable = false;
    for (name, text) in sources {
        let decls = syntax::parse_file(text);
        // Every span of this file has been converted; free proc-macro2's thread-local source map.
        proc_macro2::extra::invalidate_current_thread_spans();
        unparsable |= decls.unparsable;
        for e in &decls.errors {
            b.error(name, e.pos, e.message.clone());
        }
        files.push((name.as_str(), decls));
    }
    // Without every file, cross-file checks (types, references) would report noise.
    if !unparsable {
        for (file, decls) in &files {
            for e in &decls.enums {
                b.add_enum(file, e);
            }
            for e in &decls.sea_enums {
                b.add_sea_enum(file, e);
            }
        }
        for (file, decls) in &files {
            for t in &decls.tables {
                b.add_table(file, t);
            }
            for m in &decls.sea_models {
                b.add_sea_model(file, m);
            }
        }
        b.resolve_foreign_keys();
        for (file, decls) in &files {
            for r in &decls.sea_relations {
                b.add_sea_relations(file, r);
            }
        }
        b.check_names(sources);
    }
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
    deferrable: bool,
}

/// A constraint or index name, kept to find collisions once everything is built.
struct NameUse {
    table: QualName,
    name: String,
    /// Tables, indexes, primary keys and unique constraints share one namespace per schema.
    relation: bool,
    /// Constraint names are unique per table.
    constraint: bool,
    span: Span,
}

struct Builder<'o> {
    opts: &'o ReadOptions,
    catalog: Catalog,
    origins: BTreeMap<String, Span>,
    renames: Vec<RenameHint>,
    enum_value_renames: Vec<crate::EnumValueRename>,
    errors: Vec<ModelError>,
    /// Rust enum name -> the SQL enum types declared under that name.
    rust_enums: BTreeMap<String, Vec<QualName>>,
    /// SeaORM active enum name -> the column types it is stored as.
    sea_enums: BTreeMap<String, Vec<ColumnType>>,
    /// SeaORM entities read so far, for `belongs_to` lookup.
    sea_entities: Vec<seaorm::SeaEntity>,
    pending_fks: Vec<PendingFk>,
    names: Vec<NameUse>,
}

fn at(file: &str, pos: Pos) -> Span {
    Span {
        file: file.to_string(),
        line: pos.line,
        col: pos.col,
    }
}

/// Sort key of a span: the file's place in `sources`, then line and column.
fn source_order(sources: &[(String, String)], span: &Span) -> (usize, usize, usize) {
    let file = sources
        .iter()
        .position(|(name, _)| *name == span.file)
        .unwrap_or(usize::MAX);
    (file, span.line, span.col)
}

impl<'o> Builder<'o> {
    fn new(opts: &'o ReadOptions) -> Self {
        Builder {
            opts,
            catalog: Catalog::default(),
            origins: BTreeMap::new(),
            renames: Vec::new(),
            enum_value_renames: Vec::new(),
            errors: Vec::new(),
            rust_enums: BTreeMap::new(),
            sea_enums: BTreeMap::new(),
            sea_entities: Vec::new(),
            pending_fks: Vec::new(),
            names: Vec::new(),
        }
    }

    fn error(&mut self, file: &str, pos: Pos, message: impl Into<String>) {
        self.errors.push(ModelError {
            span: at(file, pos),
            message: message.into(),
        });
    }

    /// The schema an object goes to: the one it names, or the default.
    fn schema_of(&mut self, file: &str, given: Option<&Spanned<String>>) -> String {
        match given {
            Some(s) => {
                self.check_ident(file, s.pos, "schema name", &s.value);
                s.value.clone()
            }
            None => self.opts.default_schema.clone(),
        }
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
        match sql::check_expr(&expr.value) {
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
            self.errors.sort_by_key(|e| source_order(sources, &e.span));
            return Err(ModelErrors(self.errors));
        }
        let mut catalog = self.catalog;
        catalog.canonicalize();
        Ok(Models {
            catalog: catalog.without_empty_schemas(),
            origins: self.origins,
            renames: self.renames,
            enum_value_renames: self.enum_value_renames,
        })
    }
}

#[cfg(test)]
mod seaorm_tests;
#[cfg(test)]
mod tests;
