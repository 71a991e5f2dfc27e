//! Validation of the SQL fragments written in attributes (defaults, checks, predicates, keys).
//! Each fragment is parsed as `SELECT <expr>` with sqlparser's PostgreSQL dialect.

use sqlparser::ast::{GroupByExpr, SelectItem, SetExpr, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

const PREFIX: &str = "SELECT ";

/// Ok when `expr` is exactly one SQL expression; otherwise sqlparser's message.
pub fn check_expr(expr: &str) -> Result<(), String> {
    let sql = format!("{PREFIX}{expr}");
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(message)?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err("expected a single SQL expression".into());
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err("expected a single SQL expression".into());
    };
    let plain = query.with.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none()
        && select.distinct.is_none()
        && select.into.is_none()
        && select.from.is_empty()
        && select.selection.is_none()
        && select.having.is_none()
        && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(_)] if plain => Ok(()),
        [_] => Err("expected a single SQL expression".into()),
        items => Err(format!(
            "expected exactly one SQL expression, found {}",
            items.len()
        )),
    }
}

/// sqlparser's message without its prefix, with positions made relative to the fragment.
fn message(err: ParserError) -> String {
    let text = match err {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => "expression is nested too deeply".into(),
    };
    shift_position(&text)
}

/// Rewrites a trailing ` at Line: 1, Column: N` so that N counts from the fragment's start.
fn shift_position(text: &str) -> String {
    const MARK: &str = " at Line: ";
    let Some(at) = text.rfind(MARK) else {
        return text.to_string();
    };
    let Some((line, col)) = text[at + MARK.len()..].split_once(", Column: ") else {
        return text.to_string();
    };
    match (line.parse::<usize>(), col.trim().parse::<usize>()) {
        (Ok(1), Ok(col)) if col > PREFIX.len() => {
            format!("{} at column {}", &text[..at], col - PREFIX.len())
        }
        (Ok(line), Ok(col)) if line > 1 => {
            format!("{} at line {line}, column {col}", &text[..at])
        }
        _ => text[..at].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_single_expressions() {
        for e in [
            "now()",
            "age >= 0",
            "lower(email)",
            "'x'::text",
            "deleted_at IS NULL",
            "price * 2",
        ] {
            assert_eq!(check_expr(e), Ok(()), "{e}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        assert!(check_expr("").is_err());
        assert!(check_expr("a, b").is_err());
        assert!(check_expr("1 FROM t").is_err());
        assert!(check_expr("x AS y").is_err());
        assert!(check_expr("1; DROP TABLE users").is_err());
        assert!(check_expr("age >=").is_err());
    }
}
