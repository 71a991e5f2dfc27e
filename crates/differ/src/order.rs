//! Puts changes into an order PostgreSQL accepts: enums before the columns that use them, tables
//! before foreign keys, drops before creates. Reversing the inverses of an ordered list is ordered too.

use retort_schema::{Change, QualName};

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
    }
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
    let key = |c: &Change| {
        let p = match c {
            Change::DropColumn { table, column }
                if readded.contains(&(table.clone(), column.name.clone())) =>
            {
                69
            }
            _ => phase(c),
        };
        (p, c.table().cloned())
    };
    changes.sort_by_cached_key(key);
    changes
}
