//! Puts changes into an order PostgreSQL accepts: enums before the columns that use them, tables
//! before foreign keys, drops before creates. Reversing the inverses of an ordered list is ordered too.

use retort_schema::{Change, Object, ObjectKey, QualName};
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
/// one more than the deepest it uses (a trigger uses the view it is on).
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
    let mut depth: BTreeMap<ObjectKey, u32> = objects.iter().map(|o| (o.key(), 0)).collect();
    // Longest path by relaxation; a cycle (impossible in a real catalog) stops at len rounds.
    for _ in 0..objects.len() {
        let mut changed = false;
        for o in &objects {
            let used = objects
                .iter()
                .filter(|u| u.key() != o.key())
                .filter(|u| {
                    o.uses(&u.as_dependency())
                        || (u.kind.is_relation() && o.table.as_ref() == Some(&u.name))
                })
                .filter_map(|u| depth.get(&u.key()).copied())
                .max();
            if let Some(d) = used {
                let e = depth.entry(o.key()).or_default();
                if *e < d + 1 {
                    *e = d + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    depth
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
