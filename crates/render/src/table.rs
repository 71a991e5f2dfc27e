//! Tables: `CREATE TABLE` with what it holds inline, `DROP TABLE` (data loss) and renames.
//! Columns, constraints and indexes of an existing table render in their own modules.

use crate::column::{column_def, serial_nullability};
use crate::comment::{column_target, comment_sql};
use crate::constraint::unique_sql;
use crate::sql::{alter, cols, q};
use crate::{HazardKind, Statement};
use retort_schema::{quote_qual, QualName, Table};

/// `CREATE TABLE` with its columns, primary key, uniques and checks inline; serial nullability
/// and comments follow (foreign keys and indexes are changes of their own).
pub(crate) fn create(t: &Table) -> Vec<Statement> {
    let mut lines: Vec<String> = t.columns.iter().map(column_def).collect();
    if let Some(pk) = &t.primary_key {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            q(&pk.name),
            cols(&pk.columns)
        ));
    }
    for u in &t.uniques {
        lines.push(format!("CONSTRAINT {} {}", q(&u.name), unique_sql(u)));
    }
    for c in &t.checks {
        lines.push(format!("CONSTRAINT {} CHECK ({})", q(&c.name), c.expr));
    }
    let mut out = vec![Statement::new(format!(
        "CREATE TABLE {} (\n    {}\n)",
        quote_qual(&t.name),
        lines.join(",\n    ")
    ))];
    out.extend(
        t.columns
            .iter()
            .filter_map(|c| serial_nullability(&t.name, c)),
    );
    if t.comment.is_some() {
        out.push(Statement::new(comment_sql(
            format!("TABLE {}", quote_qual(&t.name)),
            &t.comment,
        )));
    }
    for c in t.columns.iter().filter(|c| c.comment.is_some()) {
        out.push(Statement::new(comment_sql(
            column_target(&t.name, &c.name),
            &c.comment,
        )));
    }
    out
}

pub(crate) fn drop(table: &Table) -> Vec<Statement> {
    vec![
        Statement::new(format!("DROP TABLE {}", quote_qual(&table.name))).hazard(
            HazardKind::DataLoss,
            format!("drops table {} and all its rows", table.name),
        ),
    ]
}

pub(crate) fn rename(from: &QualName, to: &QualName) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} RENAME TO {}",
        alter(from),
        q(&to.name)
    ))]
}
