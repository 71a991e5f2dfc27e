//! Validation of the SQL fragments written in attributes (defaults, checks, predicates, keys).
//! Each fragment is parsed as `SELECT <expr>` with sqlparser's PostgreSQL dialect.

use sqlparser::ast::{GroupByExpr, SelectItem, SetExpr, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

const PREFIX: &str = "SELECT ";

/// `[A-Za-z_][A-Za-z0-9_]*`: an unquoted SQL identifier (an index method, an operator class).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `identifier` or `schema.identifier`, unquoted.
pub fn is_qualified_identifier(s: &str) -> bool {
    match s.split_once('.') {
        Some((schema, name)) => is_identifier(schema) && is_identifier(name),
        None => is_identifier(s),
    }
}

/// Ok when `expr` is exactly one SQL expression; otherwise sqlparser's message. The text must
/// also pass `retort_schema::fragment::check`, PostgreSQL's own lexical reading of it (quotes,
/// comments, `;`), so that it stays one expression wherever it is pasted.
pub fn check_expr(expr: &str) -> Result<(), String> {
    parse_expr(expr)?;
    retort_schema::fragment::check(expr).map_err(|e| e.to_string())
}

fn parse_expr(expr: &str) -> Result<(), String> {
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
        // sqlparser accepts these; PostgreSQL's lexer reads them differently or as comments.
        assert_eq!(
            check_expr("x > 0 -- trailing"),
            Err("comments (`--`) are not allowed in a model expression (at byte 6)".into())
        );
        assert!(check_expr("'a\\' || (select 1); drop table x; --'").is_err());
        assert_eq!(
            check_expr("E'a\\' || (select 1); drop table x; --'"),
            Ok(())
        );
    }

    #[test]
    fn identifiers() {
        for ok in ["btree", "gin", "_x1", "jsonb_path_ops"] {
            assert!(is_identifier(ok), "{ok}");
            assert!(is_qualified_identifier(ok), "{ok}");
        }
        assert!(is_qualified_identifier("public.my_ops"));
        for bad in [
            "", "1x", "gin;", "a b", "a.b.c", "\"q\"", "é", "a-b", ".a", "a.",
        ] {
            assert!(!is_qualified_identifier(bad), "{bad}");
        }
        assert!(!is_identifier("a.b"));
    }
}
