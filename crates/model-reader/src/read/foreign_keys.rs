//! `#[column(references = "...")]` resolved once every table is known: the referenced table and
//! column must exist, and the column must be a primary key or carry a unique constraint or index.

use retort_schema::{normalize, ForeignKey, QualName, Table};

use super::{Builder, PendingFk};

/// True when `column` alone is the primary key or unique, as PostgreSQL requires of a target.
fn is_unique_key(table: &Table, column: &str) -> bool {
    let only = |cols: &[String]| cols.len() == 1 && cols[0] == column;
    table
        .primary_key
        .as_ref()
        .is_some_and(|pk| only(&pk.columns))
        || table.uniques.iter().any(|u| only(&u.columns))
        || table
            .indexes
            .iter()
            .any(|i| i.unique && i.predicate.is_none() && only(&i.keys))
}

impl Builder<'_> {
    pub(super) fn resolve_foreign_keys(&mut self) {
        for fk in std::mem::take(&mut self.pending_fks) {
            self.resolve_foreign_key(fk);
        }
        for schema in &mut self.catalog.schemas {
            for table in &mut schema.tables {
                table.foreign_keys.shrink_to_fit();
            }
        }
    }

    /// `table.column` (table in the referencing table's schema, else the default schema) or
    /// `schema.table.column`.
    fn target(&self, fk: &PendingFk) -> Option<(QualName, String)> {
        let parts: Vec<&str> = fk.target.value.split('.').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        match parts.as_slice() {
            [table, column] => {
                let same = QualName::new(fk.table.schema.clone(), *table);
                let target = if self.find_table(&same).is_some() {
                    same
                } else {
                    QualName::new(self.opts.default_schema.clone(), *table)
                };
                Some((target, column.to_string()))
            }
            [schema, table, column] => Some((QualName::new(*schema, *table), column.to_string())),
            _ => None,
        }
    }

    fn resolve_foreign_key(&mut self, fk: PendingFk) {
        let label = format!("{}.{}", fk.table.name, fk.column);
        let pos = fk.target.pos;
        let Some((target, column)) = self.target(&fk) else {
            let message = format!(
                "invalid reference `{}` for column `{label}`; expected \"table.column\" or \
                 \"schema.table.column\"",
                fk.target.value
            );
            self.error(&fk.file, pos, message);
            return;
        };
        if self.find_table(&target).is_none() {
            let message = format!("foreign key `{label}` references unknown table `{target}`");
            self.unresolved(&fk.file, pos, &target.name, message);
            return;
        }
        let problem = match self.find_table(&target) {
            None => None,
            Some(t) if t.column(&column).is_none() => Some(format!(
                "foreign key `{label}` references unknown column `{target}.{column}`"
            )),
            Some(t) if !is_unique_key(t, &column) => Some(format!(
                "foreign key `{label}` references `{target}.{column}`, which is neither a \
                 primary key nor unique"
            )),
            Some(_) => None,
        };
        if let Some(message) = problem {
            self.error(&fk.file, pos, message);
            return;
        }
        let columns = vec![fk.column.clone()];
        let name = normalize::foreign_key_name(&fk.table.name, &columns);
        self.record_name(&fk.file, pos, &fk.table, name.clone(), false, true);
        if let Some(table) = self.find_table_mut(&fk.table) {
            table.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_table: target,
                ref_columns: vec![column],
                on_delete: fk.on_delete,
                on_update: fk.on_update,
                deferrable: fk.deferrable,
                match_full: fk.match_full,
            });
        }
    }
}
