//! Constraints of a table present on both sides: primary key, unique, check and foreign key,
//! matched by name (renames detected); a foreign key differing only in deferrability is altered.

use super::keyed::{self, Changes};
use retort_schema::{Change, ForeignKey, Table};

pub(super) fn diff(old: &Table, new: &Table, out: &mut Vec<Change>) {
    primary_key(old, new, out);
    let table = &new.name;
    let rename = |from: &str, to: &str| Change::RenameConstraint {
        table: table.clone(),
        from: from.to_string(),
        to: to.to_string(),
    };
    keyed::diff(
        &old.uniques,
        &new.uniques,
        Changes {
            add: &|u| Change::AddUnique {
                table: table.clone(),
                unique: u.clone(),
            },
            drop: &|u| Change::DropUnique {
                table: table.clone(),
                unique: u.clone(),
            },
            rename: &rename,
        },
        out,
    );
    keyed::diff(
        &old.checks,
        &new.checks,
        Changes {
            add: &|c| Change::AddCheck {
                table: table.clone(),
                check: c.clone(),
            },
            drop: &|c| Change::DropCheck {
                table: table.clone(),
                check: c.clone(),
            },
            rename: &rename,
        },
        out,
    );
    let old_fks = deferrability(old, new, out);
    keyed::diff(
        &old_fks,
        &new.foreign_keys,
        Changes {
            add: &|f| Change::AddForeignKey {
                table: table.clone(),
                foreign_key: f.clone(),
            },
            drop: &|f| Change::DropForeignKey {
                table: table.clone(),
                foreign_key: f.clone(),
            },
            rename: &rename,
        },
        out,
    );
}

/// A primary key over the same columns under another name is renamed; any other difference
/// drops the old key and adds the new one.
fn primary_key(old: &Table, new: &Table, out: &mut Vec<Change>) {
    let table = &new.name;
    match (&old.primary_key, &new.primary_key) {
        (o, n) if o == n => {}
        (Some(o), Some(n)) if o.name != n.name && o.columns == n.columns => {
            out.push(Change::RenameConstraint {
                table: table.clone(),
                from: o.name.clone(),
                to: n.name.clone(),
            });
        }
        (o, n) => {
            if let Some(pk) = o {
                out.push(Change::DropPrimaryKey {
                    table: table.clone(),
                    primary_key: pk.clone(),
                });
            }
            if let Some(pk) = n {
                out.push(Change::AddPrimaryKey {
                    table: table.clone(),
                    primary_key: pk.clone(),
                });
            }
        }
    }
}

/// Alters in place the foreign keys that differ only in deferrability; returns the old keys as
/// they are after those changes, for matching the rest by name.
fn deferrability(old: &Table, new: &Table, out: &mut Vec<Change>) -> Vec<ForeignKey> {
    let mut old_fks = old.foreign_keys.clone();
    for o in &mut old_fks {
        let Some(n) = new.foreign_keys.iter().find(|n| n.name == o.name) else {
            continue;
        };
        let only_deferrable = ForeignKey {
            deferrable: n.deferrable,
            ..o.clone()
        } == *n;
        if o.deferrable != n.deferrable && only_deferrable {
            out.push(Change::AlterForeignKeyDeferrable {
                table: new.name.clone(),
                name: o.name.clone(),
                from: o.deferrable,
                to: n.deferrable,
            });
            o.deferrable = n.deferrable;
        }
    }
    old_fks
}
