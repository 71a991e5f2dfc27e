//! Turns the rows of each catalog query into Schema IR, one function per object kind, one row
//! at a time (rows are processed as they arrive, never all held at once).
//! Expressions and defaults go through `retort_schema::normalize`, like the model-reader's.
//! Constraint and index columns arrive as attnums and are named from the columns already read.

use std::collections::{hash_map, HashMap};

use postgres::types::FromSql;
use postgres::Row;
use retort_schema::normalize;
use retort_schema::{
    Check, Column, ColumnType, Deferrable, Dependency, Enum, FkAction, ForeignKey, Identity, Index,
    Object, ObjectKind, PrimaryKey, QualName, Table, Unique,
};

use crate::query::{self, Query};
use crate::Error;

/// One table being read, with the attnum of each of its columns (same order as `columns`).
pub(crate) struct Entry {
    pub(crate) table: Table,
    numbers: Vec<i16>,
}

impl Entry {
    fn shrink(&mut self) {
        let t = &mut self.table;
        t.columns.shrink_to_fit();
        t.uniques.shrink_to_fit();
        t.checks.shrink_to_fit();
        t.foreign_keys.shrink_to_fit();
        t.indexes.shrink_to_fit();
        self.numbers.shrink_to_fit();
    }

    /// The name of the column with attnum `number`, if the table has that column.
    fn column_name(&self, number: i16) -> Option<&str> {
        // Columns arrive in attnum order, so `numbers` is sorted.
        let i = self.numbers.binary_search(&number).ok()?;
        Some(self.table.columns[i].name.as_str())
    }
}

/// Tables keyed by their `pg_class` oid, so the per-kind rows can find their table.
#[derive(Default)]
pub(crate) struct Tables {
    /// In the tables query's order (by name); `into_tables` sorts them by oid.
    entries: Vec<(u32, Entry)>,
    by_oid: HashMap<u32, usize>,
    /// The table (index into `entries`) the previous row belonged to.
    last: Option<(u32, usize)>,
}

impl Tables {
    fn insert(&mut self, oid: u32, entry: Entry) {
        match self.by_oid.entry(oid) {
            hash_map::Entry::Occupied(slot) => self.entries[*slot.get()].1 = entry,
            hash_map::Entry::Vacant(slot) => {
                slot.insert(self.entries.len());
                self.entries.push((oid, entry));
            }
        }
    }

    /// The table of a row. Rows come grouped by table, so when the table changes the previous
    /// one is complete for this query, and its lists lose their spare capacity (with thousands
    /// of tables, vectors grown by pushing would keep a large share of the catalog unused).
    fn get_mut(&mut self, oid: &u32) -> Option<&mut Entry> {
        if self.last.map(|(last, _)| last) != Some(*oid) {
            if let Some((_, previous)) = self.last.take() {
                self.entries[previous].1.shrink();
            }
            self.last = self.by_oid.get(oid).map(|&index| (*oid, index));
        }
        let (_, index) = self.last?;
        Some(&mut self.entries[index].1)
    }

    /// The tables in oid order.
    pub(crate) fn into_tables(mut self) -> impl Iterator<Item = Table> {
        self.entries.sort_by_key(|&(oid, _)| oid);
        self.entries.into_iter().map(|(_, entry)| entry.table)
    }
}

/// `ColumnType::parse` of each spelling seen, by table schema: a catalog has few distinct types.
#[derive(Default)]
pub(crate) struct Types(HashMap<String, HashMap<String, ColumnType>>);

impl Types {
    /// The column type spelled `sql` (`format_type`) in a table of schema `schema`.
    fn parse(&mut self, sql: &str, schema: &str) -> ColumnType {
        if let Some(ty) = self.0.get(schema).and_then(|t| t.get(sql)) {
            return ty.clone();
        }
        let ty = ColumnType::parse(sql, schema).unwrap_or_else(|| ColumnType::Other {
            sql: sql.to_string(),
        });
        self.0
            .entry(schema.to_string())
            .or_default()
            .insert(sql.to_string(), ty.clone());
        ty
    }
}

/// `pg_index.indoption` bit for a descending key (`INDOPTION_DESC`).
const INDOPTION_DESC: i16 = 0x0001;
/// `pg_index.indoption` bit for a `NULLS FIRST` key (`INDOPTION_NULLS_FIRST`).
const INDOPTION_NULLS_FIRST: i16 = 0x0002;

fn query_error(query: &Query, source: postgres::Error) -> Error {
    Error::Query {
        query: query.name,
        source,
    }
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, query: &Query, column: &str) -> Result<T, Error> {
    row.try_get(column)
        .map_err(|source| query_error(query, source))
}

fn get_at<'a, T: FromSql<'a>>(row: &'a Row, query: &Query, index: usize) -> Result<T, Error> {
    row.try_get(index)
        .map_err(|source| query_error(query, source))
}

/// The positions of `names` among the row's columns, looked up once per query instead of by
/// name for every value; a missing column is the same error `Row::try_get` gives.
fn positions<const N: usize>(
    row: &Row,
    query: &Query,
    names: [&str; N],
) -> Result<[usize; N], Error> {
    let mut out = [0; N];
    for (slot, name) in out.iter_mut().zip(names) {
        *slot = match row.columns().iter().position(|c| c.name() == name) {
            Some(i) => i,
            // Not there: `try_get` says so in its own words.
            None => {
                return Err(match row.try_get::<_, Option<&str>>(name) {
                    Err(source) => query_error(query, source),
                    Ok(_) => unexpected(query, format!("no column {name}")),
                })
            }
        };
    }
    Ok(out)
}

fn unexpected(query: &Query, detail: String) -> Error {
    Error::Unexpected {
        query: query.name,
        detail,
    }
}

pub(crate) fn server_version(rows: &[Row]) -> Result<u32, Error> {
    let q = &query::SERVER_VERSION;
    let row = rows.first().ok_or_else(|| unexpected(q, "no row".into()))?;
    let version: i32 = get(row, q, "version")?;
    u32::try_from(version).map_err(|_| unexpected(q, format!("version {version}")))
}

pub(crate) fn schema_row(row: &Row) -> Result<String, Error> {
    get(row, &query::SCHEMAS, "name")
}

pub(crate) fn enum_row(row: &Row) -> Result<Enum, Error> {
    let q = &query::ENUMS;
    Ok(Enum {
        name: QualName::new(
            get::<String>(row, q, "schema")?,
            get::<String>(row, q, "name")?,
        ),
        values: get(row, q, "labels")?,
    })
}

pub(crate) fn object_row(row: &Row) -> Result<Object, Error> {
    let q = &query::OBJECTS;
    let kind = match get::<&str>(row, q, "kind")? {
        "view" => ObjectKind::View,
        "materialized_view" => ObjectKind::MaterializedView,
        "function" => ObjectKind::Function,
        "procedure" => ObjectKind::Procedure,
        "trigger" => ObjectKind::Trigger,
        "sequence" => ObjectKind::Sequence,
        "row_security" => ObjectKind::RowSecurity,
        "policy" => ObjectKind::Policy,
        other => return Err(unexpected(q, format!("object kind {other}"))),
    };
    let table = match (
        get::<Option<String>>(row, q, "table_schema")?,
        get::<Option<String>>(row, q, "table_name")?,
    ) {
        (Some(s), Some(t)) => Some(QualName::new(s, t)),
        _ => None,
    };
    let kinds: Vec<String> = get(row, q, "dep_kinds")?;
    let schemas: Vec<String> = get(row, q, "dep_schemas")?;
    let names: Vec<String> = get(row, q, "dep_names")?;
    let details: Vec<Option<String>> = get(row, q, "dep_details")?;
    let mut depends_on = Vec::with_capacity(kinds.len());
    for (((k, s), n), d) in kinds.into_iter().zip(schemas).zip(names).zip(details) {
        let name = QualName::new(s, n);
        depends_on.push(match k.as_str() {
            "f" => Dependency::Routine {
                name,
                args: d.unwrap_or_default(),
            },
            _ => Dependency::Relation { name, column: d },
        });
    }
    Ok(Object {
        kind,
        name: QualName::new(
            get::<String>(row, q, "schema")?,
            get::<String>(row, q, "name")?,
        ),
        args: get(row, q, "args")?,
        table,
        definition: get::<String>(row, q, "definition")?.trim_end().to_string(),
        indexes: get(row, q, "indexes")?,
        depends_on,
    })
}

pub(crate) fn add_table(tables: &mut Tables, row: &Row) -> Result<(), Error> {
    let q = &query::TABLES;
    let mut table = Table::new(QualName::new(
        get::<String>(row, q, "schema")?,
        get::<String>(row, q, "name")?,
    ));
    table.comment = get(row, q, "comment")?;
    tables.insert(
        get(row, q, "table_oid")?,
        Entry {
            table,
            numbers: Vec::new(),
        },
    );
    Ok(())
}

/// Where each value of a `columns.sql` row is (see `positions`).
pub(crate) struct ColumnFields {
    table_oid: usize,
    number: usize,
    name: usize,
    type_sql: usize,
    is_array: usize,
    elem_kind: usize,
    elem_schema: usize,
    elem_name: usize,
    not_null: usize,
    default_expr: usize,
    identity: usize,
    serial: usize,
    generated: usize,
    comment: usize,
}

impl ColumnFields {
    pub(crate) fn of(row: &Row) -> Result<Self, Error> {
        let [table_oid, number, name, type_sql, is_array, elem_kind, elem_schema, elem_name, not_null, default_expr, identity, serial, generated, comment] =
            positions(
                row,
                &query::COLUMNS,
                [
                    "table_oid",
                    "number",
                    "name",
                    "type_sql",
                    "is_array",
                    "elem_kind",
                    "elem_schema",
                    "elem_name",
                    "not_null",
                    "default_expr",
                    "identity",
                    "serial",
                    "generated",
                    "comment",
                ],
            )?;
        Ok(ColumnFields {
            table_oid,
            number,
            name,
            type_sql,
            is_array,
            elem_kind,
            elem_schema,
            elem_name,
            not_null,
            default_expr,
            identity,
            serial,
            generated,
            comment,
        })
    }
}

/// Adds one column; rows arrive in attnum order. Rows of tables not in `tables` (partitions,
/// extension members) are skipped.
pub(crate) fn add_column(
    tables: &mut Tables,
    types: &mut Types,
    f: &ColumnFields,
    row: &Row,
) -> Result<(), Error> {
    let q = &query::COLUMNS;
    let Some(entry) = tables.get_mut(&get_at(row, q, f.table_oid)?) else {
        return Ok(());
    };
    let table = &mut entry.table;
    let name: String = get_at(row, q, f.name)?;
    let ty = column_type(row, f, types, &table.name.schema)?;
    let expr: Option<&str> = get_at(row, q, f.default_expr)?;
    let generated = match get_at::<&str>(row, q, f.generated)? {
        "" => false,
        "s" => true,
        other => {
            return Err(unexpected(
                q,
                format!("attgenerated {other:?} on {}.{name}", table.name),
            ))
        }
    };
    let identity = match get_at::<&str>(row, q, f.identity)? {
        "" => None,
        "a" => Some(Identity::Always),
        "d" => Some(Identity::ByDefault),
        other => {
            return Err(unexpected(
                q,
                format!("attidentity {other:?} on {}.{name}", table.name),
            ))
        }
    };
    let mut column = Column::new(name, ty);
    column.nullable = !get_at::<bool>(row, q, f.not_null)?;
    column.identity = identity;
    if generated {
        column.generated = expr.map(normalize::bool_expr);
    } else {
        column.default = expr.map(|e| normalize::default_expr(e, &column.ty));
        // A serial (a default on a sequence the column owns) is its own state, without the
        // `nextval` default; outside the integer types it stays a plain default.
        let serial = get_at::<bool>(row, q, f.serial)? && column.ty.serial_name().is_some();
        if serial {
            column.default = None;
            column.identity = Some(Identity::Serial);
        }
    }
    column.comment = get_at(row, q, f.comment)?;
    let number: i16 = get_at(row, q, f.number)?;
    if entry.numbers.last().is_some_and(|&last| last >= number) {
        return Err(unexpected(
            q,
            format!(
                "column {} of {} out of attnum order",
                column.name, table.name
            ),
        ));
    }
    table.columns.push(column);
    entry.numbers.push(number);
    Ok(())
}

/// Enum, domain and composite types (also as array elements) are named by their qualified
/// name; everything else is parsed from `format_type`'s spelling.
fn column_type(
    row: &Row,
    f: &ColumnFields,
    types: &mut Types,
    table_schema: &str,
) -> Result<ColumnType, Error> {
    let q = &query::COLUMNS;
    let elem_kind: &str = get_at(row, q, f.elem_kind)?;
    if matches!(elem_kind, "e" | "d" | "c") {
        let named = ColumnType::Named {
            name: QualName::new(
                get_at::<String>(row, q, f.elem_schema)?,
                get_at::<String>(row, q, f.elem_name)?,
            ),
        };
        return Ok(if get_at(row, q, f.is_array)? {
            ColumnType::array(named)
        } else {
            named
        });
    }
    let sql: &str = get_at(row, q, f.type_sql)?;
    Ok(types.parse(sql, table_schema))
}

fn fk_action(code: &str) -> Option<FkAction> {
    Some(match code {
        "a" => FkAction::NoAction,
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => return None,
    })
}

/// The names of the columns with attnums `numbers` (constraint or index columns).
fn column_names(
    query: &Query,
    entry: &Entry,
    what: &str,
    numbers: &[i16],
) -> Result<Vec<String>, Error> {
    numbers
        .iter()
        .map(|&n| match entry.column_name(n) {
            Some(name) => Ok(name.to_string()),
            None => Err(unexpected(
                query,
                format!("{what} on {} names unknown column {n}", entry.table.name),
            )),
        })
        .collect()
}

/// Adds one primary key, unique, check or foreign-key constraint.
pub(crate) fn add_constraint(tables: &mut Tables, row: &Row) -> Result<(), Error> {
    let q = &query::CONSTRAINTS;
    let Some(entry) = tables.get_mut(&get(row, q, "table_oid")?) else {
        return Ok(());
    };
    let name: String = get(row, q, "name")?;
    let kind: &str = get(row, q, "kind")?;
    let columns = || -> Result<Vec<String>, Error> {
        let numbers: Option<Vec<i16>> = get(row, q, "column_numbers")?;
        let what = format!("constraint {name}");
        column_names(q, entry, &what, numbers.as_deref().unwrap_or_default())
    };
    match kind {
        "p" => {
            let columns = columns()?;
            entry.table.primary_key = Some(PrimaryKey { name, columns });
        }
        "u" => {
            let unique = Unique {
                columns: columns()?,
                nulls_not_distinct: get(row, q, "nulls_not_distinct")?,
                name,
            };
            entry.table.uniques.push(unique);
        }
        "c" => {
            let expr: Option<&str> = get(row, q, "check_expr")?;
            let expr = expr.ok_or_else(|| {
                unexpected(
                    q,
                    format!("check {name} on {} has no expression", entry.table.name),
                )
            })?;
            let expr = normalize::bool_expr(expr);
            entry.table.checks.push(Check { name, expr });
        }
        "f" => {
            let columns = columns()?;
            let table = &entry.table.name;
            let action = |column: &str| -> Result<FkAction, Error> {
                let code: &str = get(row, q, column)?;
                fk_action(code)
                    .ok_or_else(|| unexpected(q, format!("{column} {code:?} on {table} {name}")))
            };
            let fk = ForeignKey {
                on_delete: action("on_delete")?,
                on_update: action("on_update")?,
                ref_table: QualName::new(
                    get::<String>(row, q, "ref_schema")?,
                    get::<String>(row, q, "ref_table")?,
                ),
                ref_columns: get(row, q, "ref_columns")?,
                deferrable: Deferrable::from_flags(
                    get(row, q, "deferrable")?,
                    get(row, q, "deferred")?,
                ),
                match_full: get(row, q, "match_full")?,
                columns,
                name,
            };
            entry.table.foreign_keys.push(fk);
        }
        other => {
            return Err(unexpected(
                q,
                format!("contype {other:?} on {} {name}", entry.table.name),
            ))
        }
    }
    Ok(())
}

/// Adds one index that does not back a constraint.
pub(crate) fn add_index(tables: &mut Tables, row: &Row) -> Result<(), Error> {
    let q = &query::INDEXES;
    let Some(entry) = tables.get_mut(&get(row, q, "table_oid")?) else {
        return Ok(());
    };
    let name: String = get(row, q, "name")?;
    let key_count: i32 = get(row, q, "key_count")?;
    let numbers: Vec<i16> = get(row, q, "column_numbers")?;
    let key_defs: Option<Vec<Option<String>>> = get(row, q, "key_defs")?;
    let options: Vec<i16> = get(row, q, "options")?;
    let opclasses: Vec<Option<String>> = get(row, q, "opclasses")?;
    let key_count = usize::try_from(key_count).unwrap_or(0);
    let inconsistent = || {
        unexpected(
            q,
            format!(
                "index {name} on {} has inconsistent key arrays",
                entry.table.name
            ),
        )
    };
    if numbers.len() < key_count
        || key_defs.as_ref().is_some_and(|d| d.len() != key_count)
        || options.len() != key_count
        || opclasses.len() != key_count
    {
        return Err(inconsistent());
    }
    let mut keys = Vec::with_capacity(key_count);
    for (k, (&number, &option)) in numbers.iter().zip(&options).enumerate() {
        let def = key_defs.as_ref().and_then(|d| d[k].as_deref());
        let opclass = opclasses[k].as_deref();
        let key = if number == 0 {
            index_key(None, def.ok_or_else(inconsistent)?, opclass, option)
        } else {
            let column = entry.column_name(number).ok_or_else(|| {
                unexpected(
                    q,
                    format!(
                        "index {name} on {} names unknown column {number}",
                        entry.table.name
                    ),
                )
            })?;
            index_key(Some(column), def.unwrap_or(column), opclass, option)
        };
        keys.push(key);
    }
    let include = numbers[key_count..]
        .iter()
        .map(|&n| {
            if n == 0 {
                return Err(unexpected(
                    q,
                    format!("index {name} includes an expression"),
                ));
            }
            let what = format!("index {name}");
            column_names(q, entry, &what, &[n]).map(|mut v| v.remove(0))
        })
        .collect::<Result<_, _>>()?;
    let predicate: Option<&str> = get(row, q, "predicate")?;
    entry.table.indexes.push(Index {
        name,
        unique: get(row, q, "is_unique")?,
        keys,
        method: get(row, q, "method")?,
        include,
        predicate: predicate.map(normalize::bool_expr),
        invalid: get(row, q, "invalid")?,
        nulls_not_distinct: get(row, q, "nulls_not_distinct")?,
    });
    Ok(())
}

/// One index key as the IR spells it: the column name, or the expression in one pair of
/// parentheses, then a non-default operator class, then ` DESC` and a `NULLS` clause only where
/// it differs from the default for that direction.
fn index_key(column: Option<&str>, def: &str, opclass: Option<&str>, option: i16) -> String {
    let mut key = match column {
        Some(c) => retort_schema::index_key::column_key(c),
        None => format!("({})", normalize::bool_expr(def)),
    };
    if let Some(op) = opclass {
        key.push(' ');
        key.push_str(op);
    }
    let desc = option & INDOPTION_DESC != 0;
    let nulls_first = option & INDOPTION_NULLS_FIRST != 0;
    if desc {
        key.push_str(" DESC");
    }
    match (desc, nulls_first) {
        (false, true) => key.push_str(" NULLS FIRST"),
        (true, false) => key.push_str(" NULLS LAST"),
        _ => {}
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_keys_spell_direction_and_nulls_only_when_not_default() {
        assert_eq!(index_key(Some("a"), "a", None, 0), "a");
        assert_eq!(index_key(Some("a"), "a", None, 3), "a DESC");
        assert_eq!(index_key(Some("a"), "a", None, 1), "a DESC NULLS LAST");
        assert_eq!(index_key(Some("a"), "a", None, 2), "a NULLS FIRST");
        assert_eq!(index_key(None, "lower(email)", None, 0), "(lower(email))");
        assert_eq!(index_key(None, "(a + b)", None, 0), "(a + b)");
        assert_eq!(
            index_key(None, "LOWER(Email)", None, 3),
            "(lower(email)) DESC"
        );
    }

    #[test]
    fn fk_action_codes() {
        assert_eq!(fk_action("a"), Some(FkAction::NoAction));
        assert_eq!(fk_action("r"), Some(FkAction::Restrict));
        assert_eq!(fk_action("c"), Some(FkAction::Cascade));
        assert_eq!(fk_action("n"), Some(FkAction::SetNull));
        assert_eq!(fk_action("d"), Some(FkAction::SetDefault));
        assert_eq!(fk_action("x"), None);
    }
}
