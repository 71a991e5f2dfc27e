//! SQL-defined objects (views, functions, triggers, ...): created, dropped, replaced when a
//! function's body changes, and dropped and created again around the table changes they block.

use super::keyed::by_key;
use retort_schema::{Catalog, Change, ColumnType, Dependency, Object, ObjectKey, QualName};
use std::collections::BTreeSet;

pub(super) fn diff(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let old = by_key(from.objects(), Object::key);
    let new = by_key(to.objects(), Object::key);
    for (key, o) in &old {
        match new.get(key) {
            None => out.push(Change::DropObject {
                object: (*o).clone(),
            }),
            Some(n) if n != o => {
                if o.kind.replaceable() && (!o.kind.is_routine() || signature(o) == signature(n)) {
                    out.push(Change::ReplaceObject {
                        from: (*o).clone(),
                        to: (*n).clone(),
                    });
                } else {
                    out.push(Change::DropObject {
                        object: (*o).clone(),
                    });
                    out.push(Change::CreateObject {
                        object: (*n).clone(),
                    });
                }
            }
            Some(_) => {}
        }
    }
    for (key, n) in &new {
        if !old.contains_key(key) {
            out.push(Change::CreateObject {
                object: (*n).clone(),
            });
        }
    }
}

/// What `CREATE OR REPLACE` cannot change: the lines of `pg_get_functiondef` up to `RETURNS`
/// (argument names and defaults, the result type).
fn signature(o: &Object) -> Vec<&str> {
    let mut out = Vec::new();
    for line in o.definition.lines() {
        out.push(line);
        if line.trim_start().starts_with("RETURNS") {
            break;
        }
    }
    out
}

/// Objects of `from` that PostgreSQL would not let `out` change under them (a table dropped, a
/// column dropped or retyped, an enum rebuilt, an object they use dropped) and that `to` keeps:
/// each is dropped before and created again after, transitively.
pub(super) fn recreate_dependents(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let mut affected: Vec<Dependency> = Vec::new();
    let mut dropped: BTreeSet<ObjectKey> = BTreeSet::new();
    let relation = |name: &QualName, column: Option<&str>| Dependency::Relation {
        name: name.clone(),
        column: column.map(str::to_string),
    };
    for c in out.iter() {
        match c {
            Change::DropTable { table } => affected.push(relation(&table.name, None)),
            Change::DropColumn { table, column } => {
                affected.push(relation(table, Some(&column.name)))
            }
            Change::AlterColumnGenerated { table, from, .. } => {
                affected.push(relation(table, Some(&from.name)))
            }
            Change::AlterColumnType { table, column, .. } => {
                affected.push(relation(table, Some(column)))
            }
            Change::AlterEnum {
                name,
                from: f,
                to: t,
            } if !is_subsequence(f, t) => {
                for table in from.tables() {
                    for col in &table.columns {
                        if uses_type(&col.ty, name) {
                            affected.push(relation(&table.name, Some(&col.name)));
                        }
                    }
                }
            }
            Change::DropObject { object } => {
                dropped.insert(object.key());
                affected.extend(object.as_dependency());
            }
            _ => {}
        }
    }
    let mut seen = 0;
    while seen < affected.len() {
        let dep = affected[seen].clone();
        seen += 1;
        for o in from.objects() {
            if dropped.contains(&o.key()) || !blocked_by(o, &dep) {
                continue;
            }
            let key = o.key();
            out.retain(|c| !matches!(c, Change::ReplaceObject { to, .. } if to.key() == key));
            dropped.insert(key);
            out.push(Change::DropObject { object: o.clone() });
            if let Some(n) = to.object(&o.key()) {
                out.push(Change::CreateObject { object: n.clone() });
            }
            affected.extend(o.as_dependency());
        }
    }
}

/// True when `o` uses `dep` (a whole-row use of the relation counts for each column), or `dep`
/// is the whole table a trigger is on.
fn blocked_by(o: &Object, dep: &Dependency) -> bool {
    if let Dependency::Relation { name, column: None } = dep {
        if o.table.as_ref() == Some(name) {
            return true;
        }
    }
    // A routine's use of a whole table is of its row type, which a column change does not block.
    if let (
        true,
        Dependency::Relation {
            column: Some(_), ..
        },
    ) = (o.kind.is_routine(), dep)
    {
        return o.depends_on.contains(dep);
    }
    o.uses(dep)
}

fn uses_type(ty: &ColumnType, name: &QualName) -> bool {
    match ty {
        ColumnType::Named { name: n } => n == name,
        ColumnType::Array { element } => uses_type(element, name),
        _ => false,
    }
}

/// The renderer's test for `ADD VALUE` (labels only added): anything else rebuilds the type.
fn is_subsequence(small: &[String], big: &[String]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}
