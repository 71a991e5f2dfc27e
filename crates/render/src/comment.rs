//! Comments on tables and columns (`COMMENT ON ... IS`, NULL removes one).

use crate::sql::q;
use crate::Statement;
use retort_schema::{quote_literal, quote_qual, QualName};

pub(crate) fn comment_sql(target: String, text: &Option<String>) -> String {
    format!(
        "COMMENT ON {target} IS {}",
        text.as_deref().map_or("NULL".to_string(), quote_literal)
    )
}

pub(crate) fn column_target(table: &QualName, column: &str) -> String {
    format!("COLUMN {}.{}", quote_qual(table), q(column))
}

pub(crate) fn on_table(table: &QualName, to: &Option<String>) -> Vec<Statement> {
    vec![Statement::new(comment_sql(
        format!("TABLE {}", quote_qual(table)),
        to,
    ))]
}

pub(crate) fn on_column(table: &QualName, column: &str, to: &Option<String>) -> Vec<Statement> {
    vec![Statement::new(comment_sql(
        column_target(table, column),
        to,
    ))]
}
