//! `Change`: one schema edit as plain data, with an exact inverse and an in-memory `apply`.
//! down.sql is rendered from the reversed inverses; `apply` gives tests a database-free oracle.

use serde::{Deserialize, Serialize};

use crate::catalog::*;
use crate::object::Object;
use crate::types::ColumnType;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateSchema {
        name: String,
    },
    DropSchema {
        name: String,
    },
    /// `ALTER TABLE from RENAME TO to` (same schema).
    RenameTable {
        from: QualName,
        to: QualName,
    },
    RenameColumn {
        table: QualName,
        from: String,
        to: String,
    },
    /// Renames a primary key, unique, check or foreign-key constraint.
    RenameConstraint {
        table: QualName,
        from: String,
        to: String,
    },
    RenameIndex {
        table: QualName,
        from: String,
        to: String,
    },
    /// `ALTER TYPE name RENAME VALUE from TO to`.
    RenameEnumValue {
        name: QualName,
        from: String,
        to: String,
    },
    CreateEnum {
        enum_type: Enum,
    },
    DropEnum {
        enum_type: Enum,
    },
    /// Values changed; the renderer picks `ADD VALUE` or a rebuild.
    AlterEnum {
        name: QualName,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// Creates a table with its columns, primary key, unique and check constraints.
    /// Indexes and foreign keys are separate changes.
    CreateTable {
        table: Table,
    },
    DropTable {
        table: Table,
    },
    AddColumn {
        table: QualName,
        column: Column,
    },
    DropColumn {
        table: QualName,
        column: Column,
    },
    /// A column's generation changes between `from` and `to` (equal but for `generated`): a
    /// generated column becoming plain keeps its values (`DROP EXPRESSION`); a plain column
    /// becoming generated is dropped and added again (PostgreSQL cannot alter it in place).
    AlterColumnGenerated {
        table: QualName,
        from: Column,
        to: Column,
    },
    AlterColumnType {
        table: QualName,
        column: String,
        from: ColumnType,
        to: ColumnType,
    },
    AlterColumnNullable {
        table: QualName,
        column: String,
        from: bool,
        to: bool,
    },
    AlterColumnDefault {
        table: QualName,
        column: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// Between no identity and an SQL identity (ALWAYS / BY DEFAULT); never a serial.
    AlterColumnIdentity {
        table: QualName,
        column: String,
        from: Option<Identity>,
        to: Option<Identity>,
    },
    /// A change of `identity` where one side is `Identity::Serial`: creating or dropping a serial's
    /// sequence, or converting between serial and identity with the next value kept past the
    /// largest stored one. The column types (before and after the migration) size the sequence.
    AlterColumnSerial {
        table: QualName,
        column: String,
        from: Option<Identity>,
        to: Option<Identity>,
        from_ty: ColumnType,
        to_ty: ColumnType,
    },
    AddPrimaryKey {
        table: QualName,
        primary_key: PrimaryKey,
    },
    DropPrimaryKey {
        table: QualName,
        primary_key: PrimaryKey,
    },
    AddUnique {
        table: QualName,
        unique: Unique,
    },
    DropUnique {
        table: QualName,
        unique: Unique,
    },
    AddCheck {
        table: QualName,
        check: Check,
    },
    DropCheck {
        table: QualName,
        check: Check,
    },
    AddForeignKey {
        table: QualName,
        foreign_key: ForeignKey,
    },
    DropForeignKey {
        table: QualName,
        foreign_key: ForeignKey,
    },
    /// `ALTER CONSTRAINT name [NOT] DEFERRABLE [INITIALLY ...]`: a foreign key that differs only
    /// in its deferrability is altered in place, not dropped and added (which would revalidate it).
    AlterForeignKeyDeferrable {
        table: QualName,
        name: String,
        from: Deferrable,
        to: Deferrable,
    },
    CreateIndex {
        table: QualName,
        index: Index,
    },
    DropIndex {
        table: QualName,
        index: Index,
    },
    AlterTableComment {
        table: QualName,
        from: Option<String>,
        to: Option<String>,
    },
    AlterColumnComment {
        table: QualName,
        column: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// Creates a view, function, trigger or other SQL-defined object from its definition.
    CreateObject {
        object: Object,
    },
    DropObject {
        object: Object,
    },
    /// `CREATE OR REPLACE` of a function or procedure whose definition changed (its grants and
    /// the defaults and triggers that use it stay).
    ReplaceObject {
        from: Object,
        to: Object,
    },
}

/// Why `Change::apply` could not patch a catalog (the change does not fit the catalog).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot apply change to {object}: {reason}")]
pub struct ApplyError {
    pub object: String,
    pub reason: &'static str,
}

fn swap<T: Clone>(a: &T, b: &T) -> (T, T) {
    (b.clone(), a.clone())
}

impl Change {
    /// The change that undoes this one. Total: it never fails.
    pub fn inverse(&self) -> Change {
        use Change::*;
        match self.clone() {
            CreateSchema { name } => DropSchema { name },
            DropSchema { name } => CreateSchema { name },
            RenameTable { from, to } => RenameTable { from: to, to: from },
            RenameColumn { table, from, to } => RenameColumn {
                table,
                from: to,
                to: from,
            },
            RenameConstraint { table, from, to } => RenameConstraint {
                table,
                from: to,
                to: from,
            },
            RenameIndex { table, from, to } => RenameIndex {
                table,
                from: to,
                to: from,
            },
            RenameEnumValue { name, from, to } => RenameEnumValue {
                name,
                from: to,
                to: from,
            },
            CreateEnum { enum_type } => DropEnum { enum_type },
            DropEnum { enum_type } => CreateEnum { enum_type },
            AlterEnum { name, from, to } => AlterEnum {
                name,
                from: to,
                to: from,
            },
            CreateTable { table } => DropTable { table },
            DropTable { table } => CreateTable { table },
            AddColumn { table, column } => DropColumn { table, column },
            DropColumn { table, column } => AddColumn { table, column },
            AlterColumnGenerated { table, from, to } => AlterColumnGenerated {
                table,
                from: to,
                to: from,
            },
            AlterColumnType {
                table,
                column,
                from,
                to,
            } => AlterColumnType {
                table,
                column,
                from: to,
                to: from,
            },
            AlterColumnNullable {
                table,
                column,
                from,
                to,
            } => AlterColumnNullable {
                table,
                column,
                from: to,
                to: from,
            },
            AlterColumnDefault {
                table,
                column,
                from,
                to,
            } => {
                let (from, to) = swap(&from, &to);
                AlterColumnDefault {
                    table,
                    column,
                    from,
                    to,
                }
            }
            AlterColumnIdentity {
                table,
                column,
                from,
                to,
            } => AlterColumnIdentity {
                table,
                column,
                from: to,
                to: from,
            },
            AlterColumnSerial {
                table,
                column,
                from,
                to,
                from_ty,
                to_ty,
            } => AlterColumnSerial {
                table,
                column,
                from: to,
                to: from,
                from_ty: to_ty,
                to_ty: from_ty,
            },
            AddPrimaryKey { table, primary_key } => DropPrimaryKey { table, primary_key },
            DropPrimaryKey { table, primary_key } => AddPrimaryKey { table, primary_key },
            AddUnique { table, unique } => DropUnique { table, unique },
            DropUnique { table, unique } => AddUnique { table, unique },
            AddCheck { table, check } => DropCheck { table, check },
            DropCheck { table, check } => AddCheck { table, check },
            AddForeignKey { table, foreign_key } => DropForeignKey { table, foreign_key },
            DropForeignKey { table, foreign_key } => AddForeignKey { table, foreign_key },
            AlterForeignKeyDeferrable {
                table,
                name,
                from,
                to,
            } => AlterForeignKeyDeferrable {
                table,
                name,
                from: to,
                to: from,
            },
            CreateIndex { table, index } => DropIndex { table, index },
            DropIndex { table, index } => CreateIndex { table, index },
            AlterTableComment { table, from, to } => AlterTableComment {
                table,
                from: to,
                to: from,
            },
            AlterColumnComment {
                table,
                column,
                from,
                to,
            } => AlterColumnComment {
                table,
                column,
                from: to,
                to: from,
            },
            CreateObject { object } => DropObject { object },
            DropObject { object } => CreateObject { object },
            ReplaceObject { from, to } => ReplaceObject { from: to, to: from },
        }
    }

    /// True when the change can destroy stored data.
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable { .. } | Change::DropColumn { .. } | Change::DropSchema { .. } => {
                true
            }
            Change::AlterColumnType { from, to, .. } => to.is_narrowing_from(from),
            Change::AlterEnum { from, to, .. } => from.iter().any(|v| !to.contains(v)),
            _ => false,
        }
    }

    /// The table this change touches, if any.
    pub fn table(&self) -> Option<&QualName> {
        use Change::*;
        match self {
            CreateSchema { .. } | DropSchema { .. } => None,
            CreateObject { object } | DropObject { object } | ReplaceObject { to: object, .. } => {
                object.table.as_ref()
            }
            CreateEnum { .. } | DropEnum { .. } | AlterEnum { .. } | RenameEnumValue { .. } => None,
            CreateTable { table } | DropTable { table } => Some(&table.name),
            RenameTable { to, .. } => Some(to),
            RenameColumn { table, .. }
            | RenameConstraint { table, .. }
            | RenameIndex { table, .. } => Some(table),
            AddColumn { table, .. }
            | DropColumn { table, .. }
            | AlterColumnGenerated { table, .. }
            | AlterColumnType { table, .. }
            | AlterColumnNullable { table, .. }
            | AlterColumnDefault { table, .. }
            | AlterColumnIdentity { table, .. }
            | AlterColumnSerial { table, .. }
            | AddPrimaryKey { table, .. }
            | DropPrimaryKey { table, .. }
            | AddUnique { table, .. }
            | DropUnique { table, .. }
            | AddCheck { table, .. }
            | DropCheck { table, .. }
            | AddForeignKey { table, .. }
            | DropForeignKey { table, .. }
            | AlterForeignKeyDeferrable { table, .. }
            | CreateIndex { table, .. }
            | DropIndex { table, .. }
            | AlterTableComment { table, .. }
            | AlterColumnComment { table, .. } => Some(table),
        }
    }
}
