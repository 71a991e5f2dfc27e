//! Tables: created (with their indexes and foreign keys as separate changes), dropped, or
//! compared column by column, then constraint by constraint and index by index.

use super::keyed::by_key;
use super::{column, constraint, index};
use retort_schema::{Catalog, Change, Table};

/// The part of a table that `CreateTable` / `DropTable` carry: indexes and FKs are separate.
pub fn table_shell(t: &Table) -> Table {
    Table {
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..t.clone()
    }
}

pub(super) fn diff(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let old = by_key(from.tables(), |t| t.name.clone());
    let new = by_key(to.tables(), |t| t.name.clone());
    for (name, t) in &new {
        match old.get(name) {
            None => {
                out.push(Change::CreateTable {
                    table: table_shell(t),
                });
                for index in &t.indexes {
                    out.push(Change::CreateIndex {
                        table: name.clone(),
                        index: index.clone(),
                    });
                }
                for fk in &t.foreign_keys {
                    out.push(Change::AddForeignKey {
                        table: name.clone(),
                        foreign_key: fk.clone(),
                    });
                }
            }
            Some(o) => diff_table(o, t, out),
        }
    }
    for (name, t) in &old {
        if !new.contains_key(name) {
            for fk in &t.foreign_keys {
                out.push(Change::DropForeignKey {
                    table: name.clone(),
                    foreign_key: fk.clone(),
                });
            }
            for index in &t.indexes {
                out.push(Change::DropIndex {
                    table: name.clone(),
                    index: index.clone(),
                });
            }
            out.push(Change::DropTable {
                table: table_shell(t),
            });
        }
    }
}

fn diff_table(old: &Table, new: &Table, out: &mut Vec<Change>) {
    let table = &new.name;
    for c in &new.columns {
        match old.column(&c.name) {
            None => out.push(Change::AddColumn {
                table: table.clone(),
                column: c.clone(),
            }),
            Some(o) => column::diff(table, o, c, out),
        }
    }
    // Dropped last column first: down, the reversed inverses, then adds them back in their
    // original order.
    for c in old.columns.iter().rev() {
        if new.column(&c.name).is_none() {
            out.push(Change::DropColumn {
                table: table.clone(),
                column: c.clone(),
            });
        }
    }
    constraint::diff(old, new, out);
    index::diff(old, new, out);
    if old.comment != new.comment {
        out.push(Change::AlterTableComment {
            table: table.clone(),
            from: old.comment.clone(),
            to: new.comment.clone(),
        });
    }
}
