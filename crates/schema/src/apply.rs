//! `Change::apply`: a change patched into a `Catalog` in memory, as running it would patch the
//! database; the database-free oracle of the differ's tests and the fixture corpus.

use crate::catalog::*;
use crate::change::{ApplyError, Change};
use crate::types::ColumnType;

impl Change {
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
            CreateEnum { enum_type } => add_named(
                &mut catalog.schema_mut(&enum_type.name.schema).enums,
                enum_type,
                |e| &e.name,
            )?,
            DropEnum { enum_type } => drop_named(
                &mut catalog.schema_mut(&enum_type.name.schema).enums,
                &enum_type.name,
                |e| &e.name,
            )?,
            RenameEnumValue { name, from, to } => rename_enum_value(catalog, name, from, to)?,
            AlterEnum { name, to, .. } => {
                let s = catalog.schema_mut(&name.schema);
                let e = s
                    .enums
                    .iter_mut()
                    .find(|e| &e.name == name)
                    .ok_or_else(|| missing(name))?;
                e.values = to.clone();
            }
            CreateTable { table } => add_named(
                &mut catalog.schema_mut(&table.name.schema).tables,
                table,
                |t| &t.name,
            )?,
            DropTable { table } => drop_named(
                &mut catalog.schema_mut(&table.name.schema).tables,
                &table.name,
                |t| &t.name,
            )?,
            RenameTable { from, to } => rename_table(catalog, from, to)?,
            RenameColumn { table, from, to } => rename_column(catalog, table, from, to)?,
            RenameConstraint { table, from, to } => rename_constraint(catalog, table, from, to)?,
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
            CreateObject { object } => {
                let key = object.key();
                let objects = &mut catalog.schema_mut(&object.name.schema).objects;
                let at = objects.partition_point(|o| o.key() < key);
                if objects.get(at).is_some_and(|o| o.key() == key) {
                    return Err(exists(key));
                }
                objects.insert(at, object.clone());
            }
            DropObject { object } => {
                let key = object.key();
                let objects = &mut catalog.schema_mut(&object.name.schema).objects;
                let before = objects.len();
                objects.retain(|o| o.key() != key);
                if objects.len() == before {
                    return Err(missing(key));
                }
            }
            ReplaceObject { to, .. } => {
                let key = to.key();
                let o = catalog
                    .schema_mut(&to.name.schema)
                    .objects
                    .iter_mut()
                    .find(|o| o.key() == key)
                    .ok_or_else(|| missing(&key))?;
                *o = to.clone();
            }
        }
        Ok(())
    }
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

fn add_named<T: Clone, K: Ord + ToString + ?Sized>(
    list: &mut Vec<T>,
    item: &T,
    name: impl Fn(&T) -> &K,
) -> Result<(), ApplyError> {
    if list.iter().any(|x| name(x) == name(item)) {
        return Err(exists(name(item).to_string()));
    }
    list.push(item.clone());
    list.sort_by(|a, b| name(a).cmp(name(b)));
    Ok(())
}

fn drop_named<T, K: PartialEq + ToString + ?Sized>(
    list: &mut Vec<T>,
    target: &K,
    name: impl Fn(&T) -> &K,
) -> Result<(), ApplyError> {
    let before = list.len();
    list.retain(|x| name(x) != target);
    if list.len() == before {
        return Err(missing(target.to_string()));
    }
    Ok(())
}

/// `ALTER TYPE ... RENAME VALUE`: defaults and expressions that hold the label follow it.
fn rename_enum_value(
    catalog: &mut Catalog,
    name: &QualName,
    from: &str,
    to: &str,
) -> Result<(), ApplyError> {
    let s = catalog.schema_mut(&name.schema);
    let e = s
        .enums
        .iter_mut()
        .find(|e| &e.name == name)
        .ok_or_else(|| missing(name))?;
    if e.values.iter().any(|v| v == to) {
        return Err(exists(format!("{name} value {to}")));
    }
    let v = e
        .values
        .iter_mut()
        .find(|v| *v == from)
        .ok_or_else(|| missing(format!("{name} value {from}")))?;
    *v = to.to_string();
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
    Ok(())
}

/// `ALTER TABLE ... RENAME TO`: foreign keys pointing at the table follow it.
fn rename_table(catalog: &mut Catalog, from: &QualName, to: &QualName) -> Result<(), ApplyError> {
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
    Ok(())
}

/// `RENAME COLUMN`: keys, indexes and foreign keys (here and elsewhere) that name it follow it.
fn rename_column(
    catalog: &mut Catalog,
    table: &QualName,
    from: &str,
    to: &str,
) -> Result<(), ApplyError> {
    let t = table_mut(catalog, table)?;
    if t.column(to).is_some() {
        return Err(exists(format!("{table}.{to}")));
    }
    let c = t
        .column_mut(from)
        .ok_or_else(|| missing(format!("{table}.{from}")))?;
    c.name = to.to_string();
    let rename = |cols: &mut Vec<String>| {
        for c in cols.iter_mut().filter(|c| *c == from) {
            *c = to.to_string();
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
            if parts.head == crate::index_key::KeyHead::Column(from.to_string()) {
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
    Ok(())
}

/// `RENAME CONSTRAINT`: a primary key, unique, check or foreign key.
fn rename_constraint(
    catalog: &mut Catalog,
    table: &QualName,
    from: &str,
    to: &str,
) -> Result<(), ApplyError> {
    let t = table_mut(catalog, table)?;
    let mut found = false;
    if let Some(pk) = t.primary_key.as_mut().filter(|p| p.name == from) {
        pk.name = to.to_string();
        found = true;
    }
    for u in t.uniques.iter_mut().filter(|u| u.name == from) {
        u.name = to.to_string();
        found = true;
    }
    for c in t.checks.iter_mut().filter(|c| c.name == from) {
        c.name = to.to_string();
        found = true;
    }
    for f in t.foreign_keys.iter_mut().filter(|f| f.name == from) {
        f.name = to.to_string();
        found = true;
    }
    if !found {
        return Err(missing(from));
    }
    t.canonicalize();
    Ok(())
}
