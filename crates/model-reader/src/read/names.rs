//! Name collisions PostgreSQL would reject: tables, indexes, primary keys and unique constraints
//! share one namespace per schema; constraint names are unique per table.

use std::collections::BTreeMap;

use retort_schema::QualName;

use super::{at, source_order, Builder, NameUse};
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
        self.names.push(NameUse {
            table: table.clone(),
            name: name.to_string(),
            relation,
            constraint,
            span: at(file, pos),
        });
    }

    /// Reports each name used twice at its later use, in source order.
    pub(super) fn check_names(&mut self, sources: &[(String, String)]) {
        let mut names = std::mem::take(&mut self.names);
        names.sort_by_key(|u| source_order(sources, &u.span));
        let mut relations: BTreeMap<(String, String), _> = BTreeMap::new();
        let mut constraints: BTreeMap<(QualName, String), _> = BTreeMap::new();
        for u in names {
            let mut message = None;
            if u.relation {
                let key = (u.table.schema.clone(), u.name.clone());
                match relations.get(&key) {
                    Some(first) => {
                        message = Some(format!(
                            "duplicate name `{}` in schema `{}`; first used at {first}",
                            u.name, u.table.schema
                        ));
                    }
                    None => {
                        relations.insert(key, u.span.clone());
                    }
                }
            }
            if u.constraint {
                let key = (u.table.clone(), u.name.clone());
                match constraints.get(&key) {
                    Some(first) if message.is_none() => {
                        message = Some(format!(
                            "duplicate constraint name `{}` on table `{}`; first used at {first}",
                            u.name, u.table
                        ));
                    }
                    Some(_) => {}
                    None => {
                        constraints.insert(key, u.span.clone());
                    }
                }
            }
            if let Some(message) = message {
                self.errors.push(crate::ModelError {
                    span: u.span,
                    message,
                });
            }
        }
    }
}
