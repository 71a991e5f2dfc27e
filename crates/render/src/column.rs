//! Columns: add, drop, rename, and every column alteration (type with its USING, nullability,
//! default, generated expression, identity and serial conversions keeping values).

use crate::column_type::{type_change_effect, via_text};
use crate::comment::{column_target, comment_sql};
use crate::default_expr::default_sql;
use crate::sql::{alter, dollar_quote, q};
use crate::{HazardKind, Statement};
use retort_schema::{normalize, quote_literal, quote_qual, Column, ColumnType, Identity, QualName};
use std::fmt::Write;

pub(crate) fn add(table: &QualName, column: &Column) -> Vec<Statement> {
    let mut st = Statement::new(format!(
        "{} ADD COLUMN {}",
        alter(table),
        column_def(column)
    ));
    if !column.nullable
        && column.default.is_none()
        && column.identity.is_none()
        && column.generated.is_none()
    {
        st = st.hazard(
            HazardKind::NotNull,
            format!(
                "adds NOT NULL column {}.{} without a default: fails if the table has rows",
                table, column.name
            ),
        );
    }
    let mut out = vec![st];
    out.extend(serial_nullability(table, column));
    if column.comment.is_some() {
        out.push(Statement::new(comment_sql(
            column_target(table, &column.name),
            &column.comment,
        )));
    }
    out
}

/// Rows a backfill updates per transaction.
const BACKFILL_BATCH: u32 = 10_000;

/// Dollar-quote tag of the backfill's `DO` block.
const BACKFILL_TAG: &str = "$retort_backfill$";

/// `--online` ADD COLUMN with a volatile default on a filled table: the column added without it
/// (no rewrite) and the default set for new rows, then, in a step outside a transaction, the
/// existing rows filled in batches that each commit; a NOT NULL column goes through a NOT VALID
/// check validated in the last step. `None` when the default cannot be put in the `DO` block.
pub(crate) fn add_online(table: &QualName, column: &Column) -> Option<Vec<Statement>> {
    let default = column.default.as_deref()?;
    if default.contains(BACKFILL_TAG) {
        return None;
    }
    let bare = Column {
        default: None,
        nullable: true,
        ..column.clone()
    };
    let mut out = add(table, &bare);
    out.extend(alter_default(table, &column.name, Some(default)));
    let not_null =
        (!column.nullable).then(|| crate::constraint::set_not_null_online(table, &column.name));
    if let Some(sts) = &not_null {
        out.extend(sts.iter().filter(|s| !s.later).cloned());
    }
    let c = q(&column.name);
    let optional = if column.nullable {
        "optional: without it the rows that existed keep NULL"
    } else {
        "needed by the NOT NULL validation of the last step"
    };
    let mut backfill = Statement::new(format!(
        "-- Backfill ({optional}): fills the existing rows, {BACKFILL_BATCH} per transaction.\n\
         DO {BACKFILL_TAG}\n\
         DECLARE\n    n bigint;\n\
         BEGIN\n    LOOP\n        \
         UPDATE {table} SET {c} = {} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {table} WHERE {c} IS NULL LIMIT {BACKFILL_BATCH}));\n        \
         GET DIAGNOSTICS n = ROW_COUNT;\n        \
         COMMIT;\n        \
         EXIT WHEN n < {BACKFILL_BATCH};\n    END LOOP;\n\
         END\n\
         {BACKFILL_TAG}",
        default_sql(default)
    ));
    backfill.transactional = false;
    out.push(backfill);
    if let Some(sts) = not_null {
        out.extend(sts.into_iter().filter(|s| s.later));
    }
    Some(out)
}

pub(crate) fn drop(table: &QualName, column: &Column) -> Vec<Statement> {
    let st = Statement::new(format!("{} DROP COLUMN {}", alter(table), q(&column.name)));
    if column.generated.is_some() {
        // A generated column holds no data of its own: it is recomputed when re-added.
        vec![st]
    } else {
        vec![st.hazard(
            HazardKind::DataLoss,
            format!("drops column {}.{} and its data", table, column.name),
        )]
    }
}

pub(crate) fn rename(table: &QualName, from: &str, to: &str) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} RENAME COLUMN {} TO {}",
        alter(table),
        q(from),
        q(to)
    ))]
}

/// A generated column made plain keeps its values (DROP EXPRESSION); a column made generated is
/// dropped and added again.
pub(crate) fn alter_generated(table: &QualName, from: &Column, to: &Column) -> Vec<Statement> {
    if to.generated.is_none() {
        vec![Statement::new(format!(
            "{} ALTER COLUMN {} DROP EXPRESSION",
            alter(table),
            q(&to.name)
        ))]
    } else {
        vec![
            Statement::new(format!("{} DROP COLUMN {}", alter(table), q(&from.name))).hazard(
                HazardKind::DataLoss,
                format!(
                    "{table}.{} becomes a generated column: it is dropped and added again, its stored values are replaced by computed ones",
                    from.name
                ),
            ),
            Statement::new(format!("{} ADD COLUMN {}", alter(table), column_def(to))),
        ]
    }
}

/// `ALTER COLUMN ... TYPE`, with a USING where PostgreSQL has no assignment cast, and a hazard
/// saying what happens to the stored values when they do more than keep their meaning.
pub(crate) fn alter_type(
    table: &QualName,
    column: &str,
    from: &ColumnType,
    to: &ColumnType,
) -> Vec<Statement> {
    let using = if to.needs_using(from) {
        format!(" USING {}{}::{to}", q(column), via_text(from, to))
    } else {
        String::new()
    };
    let mut st = Statement::new(format!(
        "{} ALTER COLUMN {} TYPE {to}{using}",
        alter(table),
        q(column)
    ));
    if let Some((kind, effect)) = type_change_effect(from, to) {
        st = st.hazard(
            kind,
            format!("changes {table}.{column} from {from} to {to}: {effect}"),
        );
    }
    vec![st]
}

pub(crate) fn alter_nullable(table: &QualName, column: &str, nullable: bool) -> Vec<Statement> {
    if nullable {
        vec![Statement::new(format!(
            "{} ALTER COLUMN {} DROP NOT NULL",
            alter(table),
            q(column)
        ))]
    } else {
        vec![Statement::new(format!(
            "{} ALTER COLUMN {} SET NOT NULL",
            alter(table),
            q(column)
        ))
        .hazard(
            HazardKind::NotNull,
            format!("sets {table}.{column} NOT NULL: fails if any row holds NULL"),
        )]
    }
}

pub(crate) fn alter_default(table: &QualName, column: &str, to: Option<&str>) -> Vec<Statement> {
    vec![Statement::new(match to {
        Some(d) => format!(
            "{} ALTER COLUMN {} SET DEFAULT {}",
            alter(table),
            q(column),
            default_sql(d)
        ),
        None => format!("{} ALTER COLUMN {} DROP DEFAULT", alter(table), q(column)),
    })]
}

fn identity_sql(i: Identity) -> &'static str {
    match i {
        Identity::Always => "ALWAYS",
        // Callers pass SQL identities only; a serial behaves as BY DEFAULT.
        Identity::ByDefault | Identity::Serial => "BY DEFAULT",
    }
}

/// `name type [GENERATED ...] [NOT NULL] [DEFAULT ...]` as used in CREATE TABLE and ADD COLUMN.
/// A serial is written with its pseudo-type (`serial`, `bigserial`, `smallserial`).
pub(crate) fn column_def(c: &Column) -> String {
    let ty = match (c.identity, c.ty.serial_name()) {
        (Some(Identity::Serial), Some(serial)) => serial.to_string(),
        _ => c.ty.to_string(),
    };
    let mut s = format!("{} {ty}", q(&c.name));
    if let Some(g) = &c.generated {
        let _ = write!(s, " GENERATED ALWAYS AS ({g}) STORED");
    }
    if let Some(i) = c.identity.filter(|i| i.is_sql_identity()) {
        let _ = write!(s, " GENERATED {} AS IDENTITY", identity_sql(i));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {}", default_sql(d));
    }
    s
}

/// `serial` implies NOT NULL: a nullable serial needs it dropped after the column is created.
pub(crate) fn serial_nullability(table: &QualName, c: &Column) -> Option<Statement> {
    (c.identity == Some(Identity::Serial) && c.nullable).then(|| {
        Statement::new(format!(
            "{} ALTER COLUMN {} DROP NOT NULL",
            alter(table),
            q(&c.name)
        ))
    })
}

/// The sequence a serial or identity column owns, looked up by ownership when the statement runs
/// (its name may be anything: a renamed table keeps its serial's old sequence name).
pub(crate) fn owned_sequence(table: &QualName, column: &str) -> String {
    format!(
        "pg_get_serial_sequence({}, {})",
        quote_literal(&quote_qual(table)),
        quote_literal(column)
    )
}

/// Sets the column's sequence so that the next value is past every stored one.
pub(crate) fn restart_past_max(table: &QualName, column: &str) -> Statement {
    Statement::new(format!(
        "SELECT setval({}, coalesce(max({}), 0) + 1, false) FROM {}",
        owned_sequence(table, column),
        q(column),
        quote_qual(table)
    ))
}

/// Drops a serial's default and then its sequence (found by ownership).
fn drop_serial(table: &QualName, column: &str) -> Vec<Statement> {
    let body = format!(
        " BEGIN EXECUTE 'DROP SEQUENCE ' || {}; END ",
        owned_sequence(table, column)
    );
    vec![
        Statement::new(format!(
            "{} ALTER COLUMN {} DROP DEFAULT",
            alter(table),
            q(column)
        )),
        Statement::new(format!("DO {}", dollar_quote(&body))),
    ]
}

/// Makes an existing column a serial: a sequence it owns, named as PostgreSQL names a serial's,
/// sized by the column's type, as its default, with the next value past the stored ones.
fn create_serial(table: &QualName, column: &str, ty: Option<&ColumnType>) -> Vec<Statement> {
    let seq = QualName::new(
        &table.schema,
        normalize::serial_sequence_name(&table.name, column),
    );
    let size = match ty {
        Some(t) if t.serial_name().is_some() => format!(" AS {t}"),
        _ => String::new(),
    };
    vec![
        Statement::new(format!(
            "CREATE SEQUENCE {}{size} OWNED BY {}.{}",
            quote_qual(&seq),
            quote_qual(table),
            q(column)
        )),
        Statement::new(format!(
            "{} ALTER COLUMN {} SET DEFAULT nextval({}::regclass)",
            alter(table),
            q(column),
            quote_literal(&quote_qual(&seq))
        )),
        restart_past_max(table, column),
    ]
}

/// A change of identity where either side may be a serial. Identity statements are used only on
/// identity columns; conversions keep the next value past the largest stored one.
pub(crate) fn identity_change(
    table: &QualName,
    column: &str,
    from: Option<Identity>,
    to: Option<Identity>,
    to_ty: Option<&ColumnType>,
) -> Vec<Statement> {
    let mut out = Vec::new();
    match (from, to) {
        (Some(Identity::Serial), Some(Identity::Serial)) => {
            // The column's type changed: the sequence follows it.
            return match to_ty.filter(|t| t.serial_name().is_some()) {
                Some(t) => vec![Statement::new(format!(
                    "DO {}",
                    dollar_quote(&format!(
                        " BEGIN EXECUTE 'ALTER SEQUENCE ' || {} || ' AS {t}'; END ",
                        owned_sequence(table, column)
                    ))
                ))],
                None => Vec::new(),
            };
        }
        (Some(a), Some(b)) if a.is_sql_identity() && b.is_sql_identity() => {
            return vec![Statement::new(format!(
                "{} ALTER COLUMN {} SET GENERATED {}",
                alter(table),
                q(column),
                identity_sql(b)
            ))];
        }
        _ => {}
    }
    match from {
        Some(Identity::Serial) => out.extend(drop_serial(table, column)),
        Some(_) => out.push(Statement::new(format!(
            "{} ALTER COLUMN {} DROP IDENTITY",
            alter(table),
            q(column)
        ))),
        None => {}
    }
    match to {
        Some(Identity::Serial) => out.extend(create_serial(table, column, to_ty)),
        Some(i) => {
            out.push(Statement::new(format!(
                "{} ALTER COLUMN {} ADD GENERATED {} AS IDENTITY",
                alter(table),
                q(column),
                identity_sql(i)
            )));
            if from.is_some() {
                out.push(restart_past_max(table, column));
            }
        }
        None => {}
    }
    out
}
