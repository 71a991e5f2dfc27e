//! Puts changes into an order PostgreSQL accepts: enums before the columns that use them, tables
//! before foreign keys, drops before creates. Reversing the inverses of an ordered list is ordered too.

use retort_schema::{Change, Dependency, Object, ObjectKey, QualName};
use std::collections::BTreeMap;

/// Phase of a change; changes run phase by phase. Within a phase, by table name then input order.
fn phase(c: &Change) -> u32 {
    use Change::*;
    match c {
        CreateSchema { .. } => 0,
        RenameEnumValue { .. } => 4,
        RenameTable { .. } => 5,
        RenameColumn { .. } => 6,
        CreateEnum { .. } => 10,
        AlterEnum { .. } => 20,
        DropForeignKey { .. } => 30,
        DropIndex { .. } | DropUnique { .. } | DropCheck { .. } | DropPrimaryKey { .. } => 40,
        RenameConstraint { .. } | RenameIndex { .. } => 45,
        DropTable { .. } => 50,
        CreateTable { .. } => 60,
        AddColumn { .. } => 70,
        AlterColumnGenerated { .. } => 75,
        AlterColumnDefault { to: None, .. } => 80,
        AlterColumnIdentity { to: None, .. } | AlterColumnSerial { to: None, .. } => 81,
        AlterColumnType { .. } => 82,
        AlterColumnNullable { .. } => 83,
        AlterColumnIdentity { to: Some(_), .. } | AlterColumnSerial { to: Some(_), .. } => 84,
        AlterColumnDefault { to: Some(_), .. } => 85,
        DropColumn { .. } => 90,
        AddPrimaryKey { .. } | AddUnique { .. } | AddCheck { .. } | CreateIndex { .. } => 100,
        AddForeignKey { .. } | AlterForeignKeyDeferrable { .. } => 110,
        AlterTableComment { .. } | AlterColumnComment { .. } => 120,
        DropEnum { .. } => 130,
        DropSchema { .. } => 140,
        // Routines that use no relation exist before the tables (defaults and checks may call
        // them) and go after them; everything else comes after the tables and goes before them.
        CreateObject { object } if early(object) => 15,
        DropObject { object } if early(object) => 125,
        CreateObject { .. } => 115,
        DropObject { .. } => 25,
        ReplaceObject { .. } => 112,
    }
}

fn early(o: &Object) -> bool {
    o.kind.before_tables() && o.relations().next().is_none()
}

/// How deep each object of `changes` sits among the others: 0 when it uses none of them, else
/// one more than the deepest it uses (a trigger or policy uses the view it is on). Each object
/// is visited once, through a map from what others record when they use it.
fn depths(changes: &[Change]) -> BTreeMap<ObjectKey, u32> {
    let objects: Vec<&Object> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateObject { object }
            | Change::DropObject { object }
            | Change::ReplaceObject { to: object, .. } => Some(object),
            _ => None,
        })
        .collect();
    // A relation is looked up by name whatever column a user names; a routine by its overload.
    let lookup = |d: &Dependency| match d {
        Dependency::Relation { name, .. } => Dependency::Relation {
            name: name.clone(),
            column: None,
        },
        d => d.clone(),
    };
    let mut by_dependency: BTreeMap<Dependency, Vec<usize>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        if let Some(d) = o.as_dependency() {
            by_dependency.entry(d).or_default().push(i);
        }
    }
    let used: Vec<Vec<usize>> = objects
        .iter()
        .map(|o| {
            let on = o.table.iter().map(|t| Dependency::Relation {
                name: t.clone(),
                column: None,
            });
            let mut us: Vec<usize> = o
                .depends_on
                .iter()
                .map(lookup)
                .chain(on)
                .filter_map(|d| by_dependency.get(&d))
                .flatten()
                .copied()
                .filter(|&j| objects[j].key() != o.key())
                .collect();
            us.sort_unstable();
            us.dedup();
            us
        })
        .collect();
    // Memoised depth-first search; an object met again while on the path (a cycle, impossible
    // in a real catalog) counts as depth 0 there.
    fn depth(i: usize, used: &[Vec<usize>], memo: &mut [Option<u32>], on_path: &mut [bool]) -> u32 {
        if let Some(d) = memo[i] {
            return d;
        }
        if on_path[i] {
            return 0;
        }
        on_path[i] = true;
        let d = used[i]
            .iter()
            .map(|&j| depth(j, used, memo, on_path) + 1)
            .max()
            .unwrap_or(0);
        on_path[i] = false;
        memo[i] = Some(d);
        d
    }
    let mut memo = vec![None; objects.len()];
    let mut on_path = vec![false; objects.len()];
    let mut out = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        let d = depth(i, &used, &mut memo, &mut on_path);
        let e = out.entry(o.key()).or_insert(0);
        *e = (*e).max(d);
    }
    out
}

/// Sorts changes by (phase, table) with a stable sort, so ties keep the differ's order.
/// A column dropped and added again under the same name (a changed generation expression) is
/// dropped before it is added.
pub fn order(mut changes: Vec<Change>) -> Vec<Change> {
    let readded: Vec<(QualName, String)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { table, column } => Some((table.clone(), column.name.clone())),
            _ => None,
        })
        .collect();
    let depth = depths(&changes);
    // Within a phase, creates go from the objects used to those using them, drops the other way.
    let rank = |c: &Change| match c {
        Change::CreateObject { object } | Change::ReplaceObject { to: object, .. } => {
            depth.get(&object.key()).copied().unwrap_or(0)
        }
        Change::DropObject { object } => u32::MAX - depth.get(&object.key()).copied().unwrap_or(0),
        _ => 0,
    };
    // A routine dropped and created again under the same key (its signature changed) is dropped
    // right before it is created, not after the tables.
    let created: std::collections::BTreeSet<ObjectKey> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateObject { object } => Some(object.key()),
            _ => None,
        })
        .collect();
    let key = |c: &Change| {
        let p = match c {
            Change::DropObject { object } if early(object) && created.contains(&object.key()) => 14,
            Change::DropColumn { table, column }
                if readded.contains(&(table.clone(), column.name.clone())) =>
            {
                69
            }
            _ => phase(c),
        };
        (p, rank(c), c.table().cloned())
    };
    changes.sort_by_cached_key(key);
    changes
}
