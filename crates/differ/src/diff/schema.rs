//! Schemas: a non-public schema that holds model objects and does not exist is created.
//! Schemas are never dropped by a diff (they may hold what Retort does not manage).

use retort_schema::{Catalog, Change};

pub(super) fn diff(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    for s in &to.schemas {
        let has_objects = !s.tables.is_empty() || !s.enums.is_empty();
        if has_objects && s.name != "public" && from.schema(&s.name).is_none() {
            out.push(Change::CreateSchema {
                name: s.name.clone(),
            });
        }
    }
}
