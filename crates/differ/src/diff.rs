//! Compares two normalised catalogs object by object and lists the `Change`s between them.
//! Matching is by key (qualified name, column name, constraint name); equality is plain `==`.

use retort_schema::*;
use std::collections::BTreeMap;

/// Lists the changes that turn `from` (usually the database) into `to` (usually the models),
/// unordered; `crate::order` sorts them.
pub fn diff_unordered(from: &Catalog, to: &Catalog) -> Vec<Change> {
    let mut out = Vec::new();
    diff_schemas(from, to, &mut out);
    diff_enums(from, to, &mut out);
    diff_tables(from, to, &mut out);
    out
}

fn diff_schemas(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    for s in &to.schemas {
        let has_objects = !s.tables.is_empty() || !s.enums.is_empty();
        if has_objects && s.name != "public" && from.schema(&s.name).is_none() {
            out.push(Change::CreateSchema {
                name: s.name.clone(),
            });
        }
    }
}

fn by_key<'a, T, K: Ord>(
    items: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, &'a T>
where
    T: 'a,
{
    items.map(|i| (key(i), i)).collect()
}

fn diff_enums(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let old = by_key(from.enums(), |e| e.name.clone());
    let new = by_key(to.enums(), |e| e.name.clone());
    for (name, e) in &new {
        match old.get(name) {
            None => out.push(Change::CreateEnum {
                enum_type: (*e).clone(),
            }),
            Some(o) if o.values != e.values => out.push(Change::AlterEnum {
                name: name.clone(),
                from: o.values.clone(),
                to: e.values.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, e) in &old {
        if !new.contains_key(name) {
            out.push(Change::DropEnum {
                enum_type: (*e).clone(),
            });
        }
    }
}

/// The part of a table that `CreateTable` / `DropTable` carry: indexes and FKs are separate.
pub fn table_shell(t: &Table) -> Table {
    Table {
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..t.clone()
    }
}

fn diff_tables(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
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
            Some(o) => diff_column(table, o, c, out),
        }
    }
    for c in &old.columns {
        if new.column(&c.name).is_none() {
            out.push(Change::DropColumn {
                table: table.clone(),
                column: c.clone(),
            });
        }
    }
    if old.primary_key != new.primary_key {
        if let Some(pk) = &old.primary_key {
            out.push(Change::DropPrimaryKey {
                table: table.clone(),
                primary_key: pk.clone(),
            });
        }
        if let Some(pk) = &new.primary_key {
            out.push(Change::AddPrimaryKey {
                table: table.clone(),
                primary_key: pk.clone(),
            });
        }
    }
    diff_named(
        &old.uniques,
        &new.uniques,
        |u| &u.name,
        |u| Change::AddUnique {
            table: table.clone(),
            unique: u.clone(),
        },
        |u| Change::DropUnique {
            table: table.clone(),
            unique: u.clone(),
        },
        out,
    );
    diff_named(
        &old.checks,
        &new.checks,
        |c| &c.name,
        |c| Change::AddCheck {
            table: table.clone(),
            check: c.clone(),
        },
        |c| Change::DropCheck {
            table: table.clone(),
            check: c.clone(),
        },
        out,
    );
    diff_named(
        &old.foreign_keys,
        &new.foreign_keys,
        |f| &f.name,
        |f| Change::AddForeignKey {
            table: table.clone(),
            foreign_key: f.clone(),
        },
        |f| Change::DropForeignKey {
            table: table.clone(),
            foreign_key: f.clone(),
        },
        out,
    );
    diff_named(
        &old.indexes,
        &new.indexes,
        |i| &i.name,
        |i| Change::CreateIndex {
            table: table.clone(),
            index: i.clone(),
        },
        |i| Change::DropIndex {
            table: table.clone(),
            index: i.clone(),
        },
        out,
    );
    if old.comment != new.comment {
        out.push(Change::AlterTableComment {
            table: table.clone(),
            from: old.comment.clone(),
            to: new.comment.clone(),
        });
    }
}

/// Matches two name-sorted lists by name: added, dropped, and changed (drop + add).
fn diff_named<T: PartialEq>(
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> &String,
    add: impl Fn(&T) -> Change,
    drop: impl Fn(&T) -> Change,
    out: &mut Vec<Change>,
) {
    let old_map = by_key(old.iter(), |x| name(x).clone());
    let new_map = by_key(new.iter(), |x| name(x).clone());
    for (n, o) in &old_map {
        match new_map.get(n) {
            None => out.push(drop(o)),
            Some(x) if x != o => out.push(drop(o)),
            _ => {}
        }
    }
    for (n, x) in &new_map {
        match old_map.get(n) {
            Some(o) if o == x => {}
            _ => out.push(add(x)),
        }
    }
}

fn diff_column(table: &QualName, old: &Column, new: &Column, out: &mut Vec<Change>) {
    // A change of generation expression cannot be altered in place: drop and re-add.
    if old.generated != new.generated {
        out.push(Change::DropColumn {
            table: table.clone(),
            column: old.clone(),
        });
        out.push(Change::AddColumn {
            table: table.clone(),
            column: new.clone(),
        });
        return;
    }
    let column = &new.name;
    if old.ty != new.ty {
        out.push(Change::AlterColumnType {
            table: table.clone(),
            column: column.clone(),
            from: old.ty.clone(),
            to: new.ty.clone(),
        });
    }
    if old.nullable != new.nullable {
        out.push(Change::AlterColumnNullable {
            table: table.clone(),
            column: column.clone(),
            from: old.nullable,
            to: new.nullable,
        });
    }
    if old.default != new.default {
        out.push(Change::AlterColumnDefault {
            table: table.clone(),
            column: column.clone(),
            from: old.default.clone(),
            to: new.default.clone(),
        });
    }
    if old.identity != new.identity {
        out.push(Change::AlterColumnIdentity {
            table: table.clone(),
            column: column.clone(),
            from: old.identity,
            to: new.identity,
        });
    }
    if old.comment != new.comment {
        out.push(Change::AlterColumnComment {
            table: table.clone(),
            column: column.clone(),
            from: old.comment.clone(),
            to: new.comment.clone(),
        });
    }
}
