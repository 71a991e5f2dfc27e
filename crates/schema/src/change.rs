//! `Change`: one schema edit as plain data, with an exact inverse and an in-memory `apply`.
//! down.sql is rendered from the reversed inverses; `apply` gives tests a database-free oracle.

use serde::{Deserialize, Serialize};

use crate::catalog::*;
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
}

/// Why `Change::apply` could not patch a catalog (the change does not fit the catalog).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot apply change to {object}: {reason}")]
pub struct ApplyError {
    pub object: String,
    pub reason: &'static str,
}

fn missing(object: impl ToString) -> ApplyError {
    ApplyError {
        object: object.to_string(),
        reason: "object does not exist",
    }
}

fn exists(object: impl ToString) -> ApplyError {
    ApplyError {
        object: object.to_string(),
        reason: "object already exists",
    }
}

fn swap<T: Clone>(a: &T, b: &T) -> (T, T) {
    (b.clone(), a.clone())
}

/// Rewrites `'from'::type` (the type bare or schema-qualified) into `'to'::type` in `expr`.
fn relabel_enum_literal(expr: &mut String, ty: &QualName, from: &str, to: &str) {
    let (old_lit, new_lit) = (crate::quote_literal(from), crate::quote_literal(to));
    for spelling in [
        crate::quote_ident(&ty.name),
        format!(
            "{}.{}",
            crate::quote_ident(&ty.schema),
            crate::quote_ident(&ty.name)
        ),
    ] {
        let pattern = format!("{old_lit}::{spelling}");
        let mut out = String::with_capacity(expr.len());
        let mut rest = expr.as_str();
        while let Some(at) = rest.find(&pattern) {
            let after = &rest[at + pattern.len()..];
            let boundary =
                !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
            out.push_str(&rest[..at]);
            if boundary {
                out.push_str(&new_lit);
                out.push_str("::");
                out.push_str(&spelling);
            } else {
                out.push_str(&pattern);
            }
            rest = after;
        }
        out.push_str(rest);
        *expr = out;
    }
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

    /// Patches `catalog` in memory as running this change would patch the database.
    pub fn apply(&self, catalog: &mut Catalog) -> Result<(), ApplyError> {
        use Change::*;
        match self {
            CreateSchema { name } => {
                if catalog.schema(name).is_some() {
                    return Err(exists(name));
                }
                catalog.schema_mut(name);
            }
            DropSchema { name } => {
                let before = catalog.schemas.len();
                catalog.schemas.retain(|s| &s.name != name);
                if catalog.schemas.len() == before {
                    return Err(missing(name));
                }
            }
            CreateEnum { enum_type } => {
                if catalog.enum_type(&enum_type.name).is_some() {
                    return Err(exists(&enum_type.name));
                }
                let s = catalog.schema_mut(&enum_type.name.schema);
                s.enums.push(enum_type.clone());
                s.enums.sort_by(|a, b| a.name.cmp(&b.name));
            }
            DropEnum { enum_type } => {
                let s = catalog.schema_mut(&enum_type.name.schema);
                let before = s.enums.len();
                s.enums.retain(|e| e.name != enum_type.name);
                if s.enums.len() == before {
                    return Err(missing(&enum_type.name));
                }
            }
            RenameEnumValue { name, from, to } => {
                let s = catalog.schema_mut(&name.schema);
                let e = s
                    .enums
                    .iter_mut()
                    .find(|e| &e.name == name)
                    .ok_or_else(|| missing(name))?;
                if e.values.contains(to) {
                    return Err(exists(format!("{name} value {to}")));
                }
                let v = e
                    .values
                    .iter_mut()
                    .find(|v| *v == from)
                    .ok_or_else(|| missing(format!("{name} value {from}")))?;
                *v = to.clone();
                // Defaults hold the label itself (by oid), so they follow the rename.
                let (old_lit, new_lit) = (crate::quote_literal(from), crate::quote_literal(to));
                for s in &mut catalog.schemas {
                    for t in &mut s.tables {
                        for c in &mut t.columns {
                            let uses = matches!(&c.ty, ColumnType::Named { name: n } if n == name);
                            if uses && c.default.as_deref() == Some(old_lit.as_str()) {
                                c.default = Some(new_lit.clone());
                            }
                        }
                        // Expressions store the label by oid too: `'old'::type` in a predicate,
                        // an index expression or a check now prints as `'new'::type`.
                        let relabel = |e: &mut String| relabel_enum_literal(e, name, from, to);
                        for i in &mut t.indexes {
                            if let Some(p) = &mut i.predicate {
                                relabel(p);
                            }
                            i.keys.iter_mut().for_each(relabel);
                        }
                        for c in &mut t.checks {
                            relabel(&mut c.expr);
                        }
                        for c in &mut t.columns {
                            if let Some(d) = &mut c.default {
                                relabel(d);
                            }
                        }
                    }
                }
            }
            AlterEnum { name, to, .. } => {
                let s = catalog.schema_mut(&name.schema);
                let e = s
                    .enums
                    .iter_mut()
                    .find(|e| &e.name == name)
                    .ok_or_else(|| missing(name))?;
                e.values = to.clone();
            }
            CreateTable { table } => {
                if catalog.table(&table.name).is_some() {
                    return Err(exists(&table.name));
                }
                let s = catalog.schema_mut(&table.name.schema);
                s.tables.push(table.clone());
                s.tables.sort_by(|a, b| a.name.cmp(&b.name));
            }
            DropTable { table } => {
                let s = catalog.schema_mut(&table.name.schema);
                let before = s.tables.len();
                s.tables.retain(|t| t.name != table.name);
                if s.tables.len() == before {
                    return Err(missing(&table.name));
                }
            }
            RenameTable { from, to } => {
                if catalog.table(to).is_some() {
                    return Err(exists(to));
                }
                let t = table_mut(catalog, from)?;
                t.name = to.clone();
                // Foreign keys pointing at the table follow it (PostgreSQL tracks them by oid).
                for s in &mut catalog.schemas {
                    for other in &mut s.tables {
                        for f in other
                            .foreign_keys
                            .iter_mut()
                            .filter(|f| &f.ref_table == from)
                        {
                            f.ref_table = to.clone();
                        }
                    }
                }
                catalog.canonicalize();
            }
            RenameColumn { table, from, to } => {
                let t = table_mut(catalog, table)?;
                if t.column(to).is_some() {
                    return Err(exists(format!("{table}.{to}")));
                }
                let c = t
                    .column_mut(from)
                    .ok_or_else(|| missing(format!("{table}.{from}")))?;
                c.name = to.clone();
                let rename = |cols: &mut Vec<String>| {
                    for c in cols.iter_mut().filter(|c| *c == from) {
                        *c = to.clone();
                    }
                };
                if let Some(pk) = &mut t.primary_key {
                    rename(&mut pk.columns);
                }
                t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
                t.foreign_keys
                    .iter_mut()
                    .for_each(|f| rename(&mut f.columns));
                for i in &mut t.indexes {
                    for k in &mut i.keys {
                        let parts = crate::index_key::split(k);
                        if parts.head == crate::index_key::KeyHead::Column(from.clone()) {
                            let mut key = crate::index_key::column_key(to);
                            for word in parts.suffix {
                                key.push(' ');
                                key.push_str(word);
                            }
                            *k = key;
                        }
                    }
                    rename(&mut i.include);
                }
                // Foreign keys elsewhere that point at the renamed column follow it.
                for s in &mut catalog.schemas {
                    for other in &mut s.tables {
                        for f in &mut other.foreign_keys {
                            if &f.ref_table == table {
                                rename(&mut f.ref_columns);
                            }
                        }
                    }
                }
            }
            RenameConstraint { table, from, to } => {
                let t = table_mut(catalog, table)?;
                let mut found = false;
                if let Some(pk) = t.primary_key.as_mut().filter(|p| &p.name == from) {
                    pk.name = to.clone();
                    found = true;
                }
                for u in t.uniques.iter_mut().filter(|u| &u.name == from) {
                    u.name = to.clone();
                    found = true;
                }
                for c in t.checks.iter_mut().filter(|c| &c.name == from) {
                    c.name = to.clone();
                    found = true;
                }
                for f in t.foreign_keys.iter_mut().filter(|f| &f.name == from) {
                    f.name = to.clone();
                    found = true;
                }
                if !found {
                    return Err(missing(from));
                }
                t.canonicalize();
            }
            RenameIndex { table, from, to } => {
                let t = table_mut(catalog, table)?;
                let i = t
                    .indexes
                    .iter_mut()
                    .find(|i| &i.name == from)
                    .ok_or_else(|| missing(from))?;
                i.name = to.clone();
                t.canonicalize();
            }
            AddColumn { table, column } => {
                let t = table_mut(catalog, table)?;
                if t.column(&column.name).is_some() {
                    return Err(exists(format!("{table}.{}", column.name)));
                }
                t.columns.push(column.clone());
            }
            DropColumn { table, column } => {
                let t = table_mut(catalog, table)?;
                let before = t.columns.len();
                t.columns.retain(|c| c.name != column.name);
                if t.columns.len() == before {
                    return Err(missing(format!("{table}.{}", column.name)));
                }
            }
            AlterColumnGenerated { table, from, to } => {
                let t = table_mut(catalog, table)?;
                let pos = t
                    .columns
                    .iter()
                    .position(|c| c == from)
                    .ok_or_else(|| missing(format!("{table}.{}", from.name)))?;
                if to.generated.is_none() {
                    // DROP EXPRESSION: the column stays where it is.
                    t.columns[pos] = to.clone();
                } else {
                    // Dropped and added again: it moves to the end, as in PostgreSQL.
                    t.columns.remove(pos);
                    t.columns.push(to.clone());
                }
            }
            AlterColumnType {
                table, column, to, ..
            } => column_mut(catalog, table, column)?.ty = to.clone(),
            AlterColumnNullable {
                table, column, to, ..
            } => column_mut(catalog, table, column)?.nullable = *to,
            AlterColumnDefault {
                table, column, to, ..
            } => column_mut(catalog, table, column)?.default = to.clone(),
            AlterColumnIdentity {
                table, column, to, ..
            }
            | AlterColumnSerial {
                table, column, to, ..
            } => {
                column_mut(catalog, table, column)?.identity = *to;
            }
            AlterColumnComment {
                table, column, to, ..
            } => column_mut(catalog, table, column)?.comment = to.clone(),
            AlterTableComment { table, to, .. } => table_mut(catalog, table)?.comment = to.clone(),
            AddPrimaryKey { table, primary_key } => {
                let t = table_mut(catalog, table)?;
                if t.primary_key.is_some() {
                    return Err(exists(&primary_key.name));
                }
                t.primary_key = Some(primary_key.clone());
            }
            DropPrimaryKey { table, primary_key } => {
                let t = table_mut(catalog, table)?;
                if t.primary_key.take().is_none() {
                    return Err(missing(&primary_key.name));
                }
            }
            AddUnique { table, unique } => {
                add_named(&mut table_mut(catalog, table)?.uniques, unique, |u| &u.name)?
            }
            DropUnique { table, unique } => {
                drop_named(&mut table_mut(catalog, table)?.uniques, &unique.name, |u| {
                    &u.name
                })?
            }
            AddCheck { table, check } => {
                add_named(&mut table_mut(catalog, table)?.checks, check, |c| &c.name)?
            }
            DropCheck { table, check } => {
                drop_named(&mut table_mut(catalog, table)?.checks, &check.name, |c| {
                    &c.name
                })?
            }
            AddForeignKey { table, foreign_key } => add_named(
                &mut table_mut(catalog, table)?.foreign_keys,
                foreign_key,
                |f| &f.name,
            )?,
            DropForeignKey { table, foreign_key } => drop_named(
                &mut table_mut(catalog, table)?.foreign_keys,
                &foreign_key.name,
                |f| &f.name,
            )?,
            AlterForeignKeyDeferrable {
                table, name, to, ..
            } => {
                table_mut(catalog, table)?
                    .foreign_keys
                    .iter_mut()
                    .find(|f| &f.name == name)
                    .ok_or_else(|| missing(name))?
                    .deferrable = *to;
            }
            CreateIndex { table, index } => {
                add_named(&mut table_mut(catalog, table)?.indexes, index, |i| &i.name)?
            }
            DropIndex { table, index } => {
                drop_named(&mut table_mut(catalog, table)?.indexes, &index.name, |i| {
                    &i.name
                })?
            }
        }
        Ok(())
    }
}

fn table_mut<'a>(catalog: &'a mut Catalog, name: &QualName) -> Result<&'a mut Table, ApplyError> {
    catalog.table_mut(name).ok_or_else(|| missing(name))
}

fn column_mut<'a>(
    catalog: &'a mut Catalog,
    table: &QualName,
    column: &str,
) -> Result<&'a mut Column, ApplyError> {
    table_mut(catalog, table)?
        .column_mut(column)
        .ok_or_else(|| missing(format!("{table}.{column}")))
}

fn add_named<T: Clone>(
    list: &mut Vec<T>,
    item: &T,
    name: impl Fn(&T) -> &String,
) -> Result<(), ApplyError> {
    if list.iter().any(|x| name(x) == name(item)) {
        return Err(exists(name(item)));
    }
    list.push(item.clone());
    list.sort_by(|a, b| name(a).cmp(name(b)));
    Ok(())
}

fn drop_named<T>(
    list: &mut Vec<T>,
    target: &str,
    name: impl Fn(&T) -> &String,
) -> Result<(), ApplyError> {
    let before = list.len();
    list.retain(|x| name(x) != target);
    if list.len() == before {
        return Err(missing(target));
    }
    Ok(())
}
