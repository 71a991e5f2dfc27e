//! Turns the rows of each catalog query into Schema IR, one function per object kind.
//! Expressions and defaults go through `retort_schema::normalize`, like the model-reader's.

use std::collections::BTreeMap;

use postgres::types::FromSql;
use postgres::Row;
use retort_schema::normalize;
use retort_schema::{
    Check, Column, ColumnType, Enum, FkAction, ForeignKey, Identity, Index, PrimaryKey, QualName,
    Table, Unique,
};

use crate::query::{self, Query};
use crate::Error;

/// Tables keyed by their `pg_class` oid, so the per-kind rows can find their table.
pub(crate) type Tables = BTreeMap<u32, Table>;

/// `pg_index.indoption` bit for a descending key (`INDOPTION_DESC`).
const INDOPTION_DESC: i16 = 0x0001;
/// `pg_index.indoption` bit for a `NULLS FIRST` key (`INDOPTION_NULLS_FIRST`).
const INDOPTION_NULLS_FIRST: i16 = 0x0002;

fn get<'a, T: FromSql<'a>>(row: &'a Row, query: &Query, column: &str) -> Result<T, Error> {
    row.try_get(column).map_err(|source| Error::Query {
        query: query.name,
        source,
    })
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

pub(crate) fn enums(rows: &[Row]) -> Result<Vec<Enum>, Error> {
    let q = &query::ENUMS;
    rows.iter()
        .map(|row| {
            Ok(Enum {
                name: QualName::new(
                    get::<String>(row, q, "schema")?,
                    get::<String>(row, q, "name")?,
                ),
                values: get(row, q, "labels")?,
            })
        })
        .collect()
}

pub(crate) fn tables(rows: &[Row]) -> Result<Tables, Error> {
    let q = &query::TABLES;
    let mut tables = Tables::new();
    for row in rows {
        let mut table = Table::new(QualName::new(
            get::<String>(row, q, "schema")?,
            get::<String>(row, q, "name")?,
        ));
        table.comment = get(row, q, "comment")?;
        tables.insert(get(row, q, "table_oid")?, table);
    }
    Ok(tables)
}

/// Adds the columns; rows arrive in attnum order. Rows of tables not in `tables` (partitions,
/// extension members) are skipped.
pub(crate) fn add_columns(tables: &mut Tables, rows: &[Row]) -> Result<(), Error> {
    let q = &query::COLUMNS;
    for row in rows {
        let Some(table) = tables.get_mut(&get(row, q, "table_oid")?) else {
            continue;
        };
        let name: String = get(row, q, "name")?;
        let ty = column_type(row, &table.name.schema)?;
        let expr: Option<String> = get(row, q, "default_expr")?;
        let generated = match get::<String>(row, q, "generated")?.as_str() {
            "" => false,
            "s" => true,
            other => {
                return Err(unexpected(
                    q,
                    format!("attgenerated {other:?} on {}.{name}", table.name),
                ))
            }
        };
        let identity = match get::<String>(row, q, "identity")?.as_str() {
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
        column.nullable = !get::<bool>(row, q, "not_null")?;
        column.identity = identity;
        if generated {
            column.generated = expr.as_deref().map(normalize::bool_expr);
        } else {
            column.default = expr
                .as_deref()
                .map(|e| normalize::default_expr(e, &column.ty));
            let serial = column.identity.is_none()
                && column.default.as_deref().is_some_and(|d| {
                    normalize::is_serial_default(
                        d,
                        &table.name.schema,
                        &table.name.name,
                        &column.name,
                    )
                });
            if serial {
                // serial behaves as identity BY DEFAULT; its sequence is not drift.
                column.default = None;
                column.identity = Some(Identity::ByDefault);
            }
        }
        column.comment = get(row, q, "comment")?;
        table.columns.push(column);
    }
    Ok(())
}

/// Enum, domain and composite types (also as array elements) are named by their qualified
/// name; everything else is parsed from `format_type`'s spelling.
fn column_type(row: &Row, table_schema: &str) -> Result<ColumnType, Error> {
    let q = &query::COLUMNS;
    let elem_kind: String = get(row, q, "elem_kind")?;
    if matches!(elem_kind.as_str(), "e" | "d" | "c") {
        let named = ColumnType::Named {
            name: QualName::new(
                get::<String>(row, q, "elem_schema")?,
                get::<String>(row, q, "elem_name")?,
            ),
        };
        return Ok(if get(row, q, "is_array")? {
            ColumnType::array(named)
        } else {
            named
        });
    }
    let sql: String = get(row, q, "type_sql")?;
    Ok(ColumnType::parse(&sql, table_schema).unwrap_or(ColumnType::Other { sql }))
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

/// Adds primary keys, unique, check and foreign-key constraints.
pub(crate) fn add_constraints(tables: &mut Tables, rows: &[Row]) -> Result<(), Error> {
    let q = &query::CONSTRAINTS;
    for row in rows {
        let Some(table) = tables.get_mut(&get(row, q, "table_oid")?) else {
            continue;
        };
        let name: String = get(row, q, "name")?;
        let columns: Vec<String> = get(row, q, "columns")?;
        match get::<String>(row, q, "kind")?.as_str() {
            "p" => table.primary_key = Some(PrimaryKey { name, columns }),
            "u" => table.uniques.push(Unique {
                name,
                columns,
                nulls_not_distinct: get(row, q, "nulls_not_distinct")?,
            }),
            "c" => {
                let expr: Option<String> = get(row, q, "check_expr")?;
                let expr = expr.ok_or_else(|| {
                    unexpected(
                        q,
                        format!("check {name} on {} has no expression", table.name),
                    )
                })?;
                table.checks.push(Check {
                    name,
                    expr: normalize::bool_expr(&expr),
                });
            }
            "f" => {
                let action = |column: &str| -> Result<FkAction, Error> {
                    let code: String = get(row, q, column)?;
                    fk_action(&code).ok_or_else(|| {
                        unexpected(q, format!("{column} {code:?} on {} {name}", table.name))
                    })
                };
                let fk = ForeignKey {
                    on_delete: action("on_delete")?,
                    on_update: action("on_update")?,
                    ref_table: QualName::new(
                        get::<String>(row, q, "ref_schema")?,
                        get::<String>(row, q, "ref_table")?,
                    ),
                    ref_columns: get(row, q, "ref_columns")?,
                    deferrable: get(row, q, "deferrable")?,
                    columns,
                    name,
                };
                table.foreign_keys.push(fk);
            }
            other => {
                return Err(unexpected(
                    q,
                    format!("contype {other:?} on {} {name}", table.name),
                ))
            }
        }
    }
    Ok(())
}

/// Adds the indexes that do not back a constraint.
pub(crate) fn add_indexes(tables: &mut Tables, rows: &[Row]) -> Result<(), Error> {
    let q = &query::INDEXES;
    for row in rows {
        let Some(table) = tables.get_mut(&get(row, q, "table_oid")?) else {
            continue;
        };
        let name: String = get(row, q, "name")?;
        let key_count: i32 = get(row, q, "key_count")?;
        let columns: Vec<Option<String>> = get(row, q, "columns")?;
        let key_defs: Vec<String> = get(row, q, "key_defs")?;
        let options: Vec<i16> = get(row, q, "options")?;
        let key_count = usize::try_from(key_count).unwrap_or(0);
        if columns.len() < key_count || key_defs.len() != key_count || options.len() != key_count {
            return Err(unexpected(
                q,
                format!("index {name} on {} has inconsistent key arrays", table.name),
            ));
        }
        let keys = (0..key_count)
            .map(|k| index_key(columns[k].as_deref(), &key_defs[k], options[k]))
            .collect();
        let include = columns[key_count..]
            .iter()
            .map(|c| {
                c.clone()
                    .ok_or_else(|| unexpected(q, format!("index {name} includes an expression")))
            })
            .collect::<Result<_, _>>()?;
        let predicate: Option<String> = get(row, q, "predicate")?;
        table.indexes.push(Index {
            name,
            unique: get(row, q, "is_unique")?,
            keys,
            method: get(row, q, "method")?,
            include,
            predicate: predicate.as_deref().map(normalize::bool_expr),
        });
    }
    Ok(())
}

/// One index key as the IR spells it: the column name, or the expression in one pair of
/// parentheses, then ` DESC` and a `NULLS` clause only where it differs from the default
/// for that direction.
fn index_key(column: Option<&str>, def: &str, option: i16) -> String {
    let mut key = match column {
        Some(c) => c.to_string(),
        None => format!("({})", normalize::bool_expr(def)),
    };
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
        assert_eq!(index_key(Some("a"), "a", 0), "a");
        assert_eq!(index_key(Some("a"), "a", 3), "a DESC");
        assert_eq!(index_key(Some("a"), "a", 1), "a DESC NULLS LAST");
        assert_eq!(index_key(Some("a"), "a", 2), "a NULLS FIRST");
        assert_eq!(index_key(None, "lower(email)", 0), "(lower(email))");
        assert_eq!(index_key(None, "(a + b)", 0), "(a + b)");
        assert_eq!(index_key(None, "LOWER(Email)", 3), "(lower(email)) DESC");
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
