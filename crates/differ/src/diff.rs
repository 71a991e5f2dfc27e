//! Compares two normalised catalogs object by object and lists the `Change`s between them.
//! Matching is by key (qualified name, column name, constraint name); equality is plain `==`.

use retort_schema::*;
use std::collections::BTreeMap;

/// A `renamed_from` hint: `table` (or its `column`) used to be called `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub table: QualName,
    pub column: Option<String>,
    pub from: String,
}

/// An enum label the models renamed (`#[db_enum(renamed_from = "...")]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValueRename {
    pub enum_type: QualName,
    pub from: String,
    pub to: String,
}

/// Everything the models say that a comparison cannot infer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub renames: Vec<Rename>,
    pub enum_values: Vec<EnumValueRename>,
}

/// Lists the changes that turn `from` (usually the database) into `to` (usually the models),
/// unordered; `crate::order` sorts them.
pub fn diff_unordered(from: &Catalog, to: &Catalog) -> Vec<Change> {
    diff_unordered_with(from, to, &Hints::default())
}

/// Like `diff_unordered`, but renames hinted by the models become RENAMEs instead of drop + add.
/// A hint applies only while the old name exists and the new one does not, so it is harmless to
/// keep it in the models after the migration ran.
pub fn diff_unordered_with(from: &Catalog, to: &Catalog, hints: &Hints) -> Vec<Change> {
    let renames = &hints.renames;
    let mut out = Vec::new();
    let mut working = from.clone();
    for r in &hints.enum_values {
        let old_has = working
            .enum_type(&r.enum_type)
            .is_some_and(|e| e.values.contains(&r.from) && !e.values.contains(&r.to));
        let new_has = to
            .enum_type(&r.enum_type)
            .is_some_and(|e| e.values.contains(&r.to) && !e.values.contains(&r.from));
        if old_has && new_has {
            let c = Change::RenameEnumValue {
                name: r.enum_type.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    for r in renames.iter().filter(|r| r.column.is_none()) {
        let old = QualName::new(&r.table.schema, &r.from);
        if working.table(&old).is_some()
            && working.table(&r.table).is_none()
            && to.table(&r.table).is_some()
        {
            let c = Change::RenameTable {
                from: old,
                to: r.table.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    for r in renames {
        let Some(new_col) = &r.column else { continue };
        let Some(t) = working.table(&r.table) else {
            continue;
        };
        let wanted = to.table(&r.table).and_then(|t| t.column(new_col)).is_some();
        if wanted && t.column(&r.from).is_some() && t.column(new_col).is_none() {
            let c = Change::RenameColumn {
                table: r.table.clone(),
                from: r.from.clone(),
                to: new_col.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    diff_schemas(&working, to, &mut out);
    diff_enums(&working, to, &mut out);
    diff_tables(&working, to, &mut out);
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
    let pk_renamed = match (&old.primary_key, &new.primary_key) {
        (Some(o), Some(n)) if o.name != n.name && o.columns == n.columns => {
            out.push(Change::RenameConstraint {
                table: table.clone(),
                from: o.name.clone(),
                to: n.name.clone(),
            });
            true
        }
        _ => false,
    };
    if old.primary_key != new.primary_key && !pk_renamed {
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
    let rename_constraint = |from: &str, to: &str| Change::RenameConstraint {
        table: table.clone(),
        from: from.to_string(),
        to: to.to_string(),
    };
    diff_named(
        &old.uniques,
        &new.uniques,
        Named {
            name: &|u: &Unique| &u.name,
            with_name: &|u: &Unique, n: &str| Unique {
                name: n.to_string(),
                ..u.clone()
            },
            add: &|u: &Unique| Change::AddUnique {
                table: table.clone(),
                unique: u.clone(),
            },
            drop: &|u: &Unique| Change::DropUnique {
                table: table.clone(),
                unique: u.clone(),
            },
            rename: &rename_constraint,
        },
        out,
    );
    diff_named(
        &old.checks,
        &new.checks,
        Named {
            name: &|c: &Check| &c.name,
            with_name: &|c: &Check, n: &str| Check {
                name: n.to_string(),
                ..c.clone()
            },
            add: &|c: &Check| Change::AddCheck {
                table: table.clone(),
                check: c.clone(),
            },
            drop: &|c: &Check| Change::DropCheck {
                table: table.clone(),
                check: c.clone(),
            },
            rename: &rename_constraint,
        },
        out,
    );
    // A key that differs only in deferrability is altered in place; the rest is matched by name.
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
                table: table.clone(),
                name: o.name.clone(),
                from: o.deferrable,
                to: n.deferrable,
            });
            o.deferrable = n.deferrable;
        }
    }
    diff_named(
        &old_fks,
        &new.foreign_keys,
        Named {
            name: &|f: &ForeignKey| &f.name,
            with_name: &|f: &ForeignKey, n: &str| ForeignKey {
                name: n.to_string(),
                ..f.clone()
            },
            add: &|f: &ForeignKey| Change::AddForeignKey {
                table: table.clone(),
                foreign_key: f.clone(),
            },
            drop: &|f: &ForeignKey| Change::DropForeignKey {
                table: table.clone(),
                foreign_key: f.clone(),
            },
            rename: &rename_constraint,
        },
        out,
    );
    diff_named(
        &old.indexes,
        &new.indexes,
        Named {
            name: &|i: &Index| &i.name,
            with_name: &|i: &Index, n: &str| Index {
                name: n.to_string(),
                ..i.clone()
            },
            add: &|i: &Index| Change::CreateIndex {
                table: table.clone(),
                index: i.clone(),
            },
            drop: &|i: &Index| Change::DropIndex {
                table: table.clone(),
                index: i.clone(),
            },
            rename: &|from: &str, to: &str| Change::RenameIndex {
                table: table.clone(),
                from: from.to_string(),
                to: to.to_string(),
            },
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

/// Matches two name-sorted lists by name: added, dropped, changed (drop + add), and renamed
/// (an old and a new object equal but for their names).
struct Named<'a, T> {
    name: &'a dyn Fn(&T) -> &String,
    with_name: &'a dyn Fn(&T, &str) -> T,
    add: &'a dyn Fn(&T) -> Change,
    drop: &'a dyn Fn(&T) -> Change,
    rename: &'a dyn Fn(&str, &str) -> Change,
}

fn diff_named<T: PartialEq>(old: &[T], new: &[T], k: Named<'_, T>, out: &mut Vec<Change>) {
    let name = k.name;
    let old_map = by_key(old.iter(), |x| name(x).clone());
    let new_map = by_key(new.iter(), |x| name(x).clone());
    let mut gone: Vec<&T> = old_map
        .iter()
        .filter(|(n, _)| !new_map.contains_key(*n))
        .map(|(_, o)| *o)
        .collect();
    let mut renamed_to = std::collections::BTreeSet::new();
    for (n, x) in &new_map {
        if old_map.contains_key(n) {
            continue;
        }
        if let Some(pos) = gone.iter().position(|o| (k.with_name)(o, n) == **x) {
            let o = gone.remove(pos);
            out.push((k.rename)(name(o), n));
            renamed_to.insert(n.clone());
        }
    }
    for (n, o) in &old_map {
        match new_map.get(n) {
            None if gone.iter().any(|g| name(g) == n) => out.push((k.drop)(o)),
            Some(x) if x != o => out.push((k.drop)(o)),
            _ => {}
        }
    }
    for (n, x) in &new_map {
        match old_map.get(n) {
            Some(o) if o == x => {}
            _ if renamed_to.contains(n) => {}
            _ => out.push((k.add)(x)),
        }
    }
}

/// Whether a column type is (an array of) a user-defined type: an enum or a domain.
fn names_a_type(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Named { .. } => true,
        ColumnType::Array { element } => names_a_type(element),
        _ => false,
    }
}

fn diff_column(table: &QualName, old: &Column, new: &Column, out: &mut Vec<Change>) {
    // A generated column that becomes plain keeps its values (DROP EXPRESSION); the rest of the
    // column is then compared as usual.
    if old.generated.is_some() && new.generated.is_none() {
        let plain = Column {
            generated: None,
            ..old.clone()
        };
        out.push(Change::AlterColumnGenerated {
            table: table.clone(),
            from: old.clone(),
            to: plain.clone(),
        });
        return diff_column(table, &plain, new, out);
    }
    // Any other change of generation cannot be altered in place: drop and re-add.
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
    // A default over an enum (or domain) type does not survive a change of the column's type:
    // PostgreSQL casts the stored expression (`'red'::color`) to the new type, which fails between
    // enums and, to a plain type, keeps a dependency on the old type (its DROP TYPE then fails).
    // Such a default is dropped before the type change and set again after it.
    let rebound = old.ty != new.ty
        && old.default.is_some()
        && (names_a_type(&old.ty) || names_a_type(&new.ty));
    if rebound {
        out.push(Change::AlterColumnDefault {
            table: table.clone(),
            column: column.clone(),
            from: old.default.clone(),
            to: None,
        });
        if new.default.is_some() {
            out.push(Change::AlterColumnDefault {
                table: table.clone(),
                column: column.clone(),
                from: None,
                to: new.default.clone(),
            });
        }
    } else if old.default != new.default {
        out.push(Change::AlterColumnDefault {
            table: table.clone(),
            column: column.clone(),
            from: old.default.clone(),
            to: new.default.clone(),
        });
    }
    match (old.identity, new.identity) {
        // A serial in the database satisfies a BY DEFAULT identity in the models: SeaORM's
        // `auto_increment` and a native `identity` cannot tell the two apart, and databases built
        // with serial (SeaORM, Diesel, hand-written SQL) must not drift. Converting a working
        // serial takes an explicit `identity = "always"`. It stays a serial, and a new column
        // type resizes its sequence (else a bigint column still stops at the integer maximum).
        (Some(Identity::Serial), Some(Identity::Serial | Identity::ByDefault)) => {
            if old.ty != new.ty {
                out.push(Change::AlterColumnSerial {
                    table: table.clone(),
                    column: column.clone(),
                    from: old.identity,
                    to: old.identity,
                    from_ty: old.ty.clone(),
                    to_ty: new.ty.clone(),
                })
            }
        }
        (a, b) if a == b => {}
        (Some(Identity::Serial), _) | (_, Some(Identity::Serial)) => {
            out.push(Change::AlterColumnSerial {
                table: table.clone(),
                column: column.clone(),
                from: old.identity,
                to: new.identity,
                from_ty: old.ty.clone(),
                to_ty: new.ty.clone(),
            })
        }
        _ => out.push(Change::AlterColumnIdentity {
            table: table.clone(),
            column: column.clone(),
            from: old.identity,
            to: new.identity,
        }),
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
