//! Name collisions PostgreSQL would reject: tables, indexes, primary keys and unique constraints
//! share one namespace per schema; constraint names are unique per table.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use retort_schema::QualName;

use super::{at, file_places, Builder, NameUse};
use crate::syntax::Pos;

impl Builder<'_> {
    pub(super) fn use_name(
        &mut self,
        file: &str,
        pos: Pos,
        table: &QualName,
        name: &str,
        relation: bool,
        constraint: bool,
    ) {
        self.check_ident(file, pos, "name", name);
        self.record_name(file, pos, table, name.to_string(), relation, constraint);
    }

    /// Keeps a name use for `check_names`.
    pub(super) fn record_name(
        &mut self,
        file: &str,
        pos: Pos,
        table: &QualName,
        name: String,
        relation: bool,
        constraint: bool,
    ) {
        if self.name_tables.last() != Some(table) {
            self.name_tables.push(table.clone());
        }
        if self.name_files.last().map(String::as_str) != Some(file) {
            self.name_files.push(file.to_string());
        }
        self.names.push(NameUse {
            table: self.name_tables.len() - 1,
            name,
            relation,
            constraint,
            file: self.name_files.len() - 1,
            pos,
        });
    }

    /// Reports each name used twice at its later use, in source order.
    pub(super) fn check_names(&mut self, sources: &[(String, String)]) {
        let mut names = std::mem::take(&mut self.names);
        let tables = std::mem::take(&mut self.name_tables);
        let files = std::mem::take(&mut self.name_files);
        let places = file_places(sources);
        let place: Vec<usize> = files
            .iter()
            .map(|f| places.get(f.as_str()).copied().unwrap_or(usize::MAX))
            .collect();
        names.sort_by_cached_key(|u| (place[u.file], u.pos.line, u.pos.col));
        let span = |u: &NameUse| at(&files[u.file], u.pos);
        // First use of each name, by (schema, name) and by (schema, table, name).
        let mut relations: HashMap<(&str, &str), &NameUse> = HashMap::new();
        let mut constraints: HashMap<(&str, &str, &str), &NameUse> = HashMap::new();
        for u in &names {
            let table = &tables[u.table];
            let mut message = None;
            if u.relation {
                match relations.entry((table.schema.as_str(), u.name.as_str())) {
                    Entry::Occupied(first) => {
                        message = Some(format!(
                            "duplicate name `{}` in schema `{}`; first used at {}",
                            u.name,
                            table.schema,
                            span(first.get())
                        ));
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(u);
                    }
                }
            }
            if u.constraint {
                let key = (table.schema.as_str(), table.name.as_str(), u.name.as_str());
                match constraints.entry(key) {
                    Entry::Occupied(first) => {
                        if message.is_none() {
                            message = Some(format!(
                                "duplicate constraint name `{}` on table `{}`; first used at {}",
                                u.name,
                                table,
                                span(first.get())
                            ));
                        }
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(u);
                    }
                }
            }
            if let Some(message) = message {
                self.errors.push(crate::ModelError {
                    span: span(u),
                    message,
                });
            }
        }
    }
}
