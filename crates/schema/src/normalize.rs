//! Normalisation applied when an IR is built: default and check expressions, constraint names.
//! Both readers call it, so the differ can compare with `==` and never special-cases spellings.

use crate::types::ColumnType;

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
pub const MAX_IDENT: usize = 63;

/// Lower-cases SQL outside string literals and quoted identifiers and collapses whitespace.
fn fold_case_and_space(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.trim().chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            let last = out.chars().last().unwrap_or(' ');
            if !(last == '(' || c == ')' || c == ',') {
                out.push(' ');
            }
        }
        pending_space = false;
        match c {
            '\'' | '"' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == c {
                        if chars.peek() == Some(&c) {
                            out.push(chars.next().unwrap_or(c));
                        } else {
                            break;
                        }
                    }
                }
            }
            _ => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Removes parentheses that wrap the whole expression.
pub fn strip_outer_parens(expr: &str) -> &str {
    let mut s = expr.trim();
    while s.starts_with('(') && s.ends_with(')') && matching_close(s) == Some(s.len() - 1) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// Byte index of the parenthesis that closes the one at index 0, skipping quoted text.
fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// If `expr` is a single string literal, optionally followed by `::type` casts, returns the literal.
fn cast_literal(expr: &str) -> Option<&str> {
    let s = expr.trim();
    if !s.starts_with('\'') {
        return None;
    }
    let mut end = None;
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            end = Some(i);
            break;
        }
        i += 1;
    }
    let end = end?;
    let rest = s[end + 1..].trim();
    let ok = rest.is_empty()
        || (rest.starts_with("::")
            && rest[2..].chars().all(|c| {
                c.is_alphanumeric()
                    || matches!(c, '_' | ' ' | '(' | ')' | ',' | '.' | '"' | ':' | '[' | ']')
            }));
    ok.then(|| &s[..=end])
}

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().filter(|c| *c == '.').count() <= 1
}

/// `5.0`, `5.` and `5` (and `1.50` / `1.5`) are the same value of a numeric column: the shortest
/// spelling, without trailing fractional zeros.
fn canonical_number(s: &str) -> String {
    if !s.contains('.') {
        return s.to_string();
    }
    let t = s.trim_end_matches('0').trim_end_matches('.');
    match t {
        "" | "-" | "-0" => "0".into(),
        _ if t.starts_with('.') => format!("0{t}"),
        _ if t.starts_with("-.") => format!("-0{}", &t[1..]),
        _ => t.to_string(),
    }
}

/// Canonical form of a column default, so that `now()` / `CURRENT_TIMESTAMP`, `'a'::text` / `'a'`
/// and `'0'::integer` / `0` compare equal.
pub fn default_expr(expr: &str, ty: &ColumnType) -> String {
    let folded = fold_case_and_space(expr);
    let mut s = strip_outer_parens(&folded).to_string();
    if let Some(lit) = cast_literal(&s) {
        s = lit.to_string();
    }
    // Numbers: PostgreSQL prints negative numbers as `'-1'::integer`.
    let numeric = matches!(
        ty,
        ColumnType::SmallInt
            | ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::Real
            | ColumnType::Double
            | ColumnType::Numeric { .. }
    );
    if numeric && s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        let inner = &s[1..s.len() - 1];
        if is_number(inner) {
            s = inner.to_string();
        }
    }
    if numeric {
        if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            if is_number(inner) {
                s = inner.to_string();
            }
        }
    }
    if numeric && is_number(&s) {
        s = canonical_number(&s);
    }
    if matches!(ty, ColumnType::Boolean) && s.len() >= 2 && s.starts_with('\'') {
        match &s[1..s.len() - 1] {
            "t" | "true" | "y" | "yes" | "on" | "1" => s = "true".into(),
            "f" | "false" | "n" | "no" | "off" | "0" => s = "false".into(),
            _ => {}
        }
    }
    match s.as_str() {
        "current_timestamp" | "now()" | "transaction_timestamp()" => "now()".into(),
        _ => s,
    }
}

/// The name PostgreSQL gives the sequence of a `serial` column `table.column`
/// (`table_column_seq`, truncated to fit); Retort names the serial sequences it creates the same
/// way. Serials are recognised by ownership, not by this name, which a table rename leaves behind.
pub fn serial_sequence_name(table: &str, column: &str) -> String {
    object_name(table, Some(column), "seq")
}

/// Canonical form of a CHECK expression or index predicate.
pub fn bool_expr(expr: &str) -> String {
    let folded = fold_case_and_space(expr);
    strip_outer_parens(&folded).to_string()
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, truncating the longer of name1 / name2
/// until the whole fits in 63 bytes.
pub fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = MAX_IDENT.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, n: usize| {
        let mut n = n.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    match name2 {
        Some(n) => format!("{}_{}_{}", clip(name1, n1), clip(n, n2), label),
        None => format!("{}_{}", clip(name1, n1), label),
    }
}

/// Default names PostgreSQL gives unnamed constraints and indexes.
pub fn primary_key_name(table: &str) -> String {
    object_name(table, None, "pkey")
}

pub fn unique_name(table: &str, columns: &[String]) -> String {
    object_name(table, Some(&columns.join("_")), "key")
}

pub fn foreign_key_name(table: &str, columns: &[String]) -> String {
    object_name(table, Some(&columns.join("_")), "fkey")
}

pub fn index_name(table: &str, keys: &[String]) -> String {
    let cols: Vec<String> = keys.iter().map(|k| index_key_column_name(k)).collect();
    object_name(table, Some(&cols.join("_")), "idx")
}

/// The name an index key contributes to a default index name: the column, or for an expression
/// key what PostgreSQL's `FigureIndexColname` gives it (see `expression_column_name`).
pub fn index_key_column_name(key: &str) -> String {
    if key.starts_with('(') {
        let end = matching_close(key).unwrap_or(key.len() - 1);
        expression_column_name(&key[..=end])
    } else {
        crate::index_key::column_of(key).unwrap_or_default()
    }
}

/// The name PostgreSQL's `FigureIndexColname` gives an expression key: the function's name for
/// a function call (`lower(email)` -> `lower`), otherwise `expr`.
pub fn expression_column_name(key: &str) -> String {
    let inner = strip_outer_parens(key);
    let ident: String = inner
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let rest = inner[ident.len()..].trim_start();
    match ident.rsplit('.').next() {
        Some(f) if !f.is_empty() && rest.starts_with('(') => f.to_ascii_lowercase(),
        _ => "expr".to_string(),
    }
}

/// PostgreSQL names an unnamed CHECK after the first column its expression mentions.
pub fn check_name(table: &str, expr: &str, columns: &[&str]) -> String {
    let first = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|w| columns.contains(w));
    object_name(table, first, "check")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(e: &str, ty: ColumnType) -> String {
        default_expr(e, &ty)
    }

    #[test]
    fn equivalent_defaults_normalise_equal() {
        let ts = ColumnType::Timestamp {
            precision: None,
            tz: true,
        };
        assert_eq!(d("now()", ts.clone()), d("CURRENT_TIMESTAMP", ts.clone()));
        assert_eq!(d("NOW()", ts.clone()), "now()");
        assert_eq!(d("'a'::text", ColumnType::Text), d("'a'", ColumnType::Text));
        assert_eq!(
            d(
                "'x'::character varying",
                ColumnType::Varchar { length: Some(3) }
            ),
            "'x'"
        );
        assert_eq!(d("'0'::integer", ColumnType::Integer), "0");
        assert_eq!(d("'-1'::integer", ColumnType::Integer), "-1");
        assert_eq!(d("0", ColumnType::Integer), "0");
        assert_eq!(d("TRUE", ColumnType::Boolean), "true");
        assert_eq!(d("'{}'::jsonb", ColumnType::Jsonb), "'{}'");
        assert_eq!(d("'It''s'::text", ColumnType::Text), "'It''s'");
        let num = ColumnType::Numeric {
            precision: Some(10),
            scale: Some(2),
        };
        assert_eq!(d("5.0", num.clone()), d("5", num.clone()));
        assert_eq!(d("1.50", num.clone()), "1.5");
        assert_eq!(d("'1.50'::numeric", num.clone()), "1.5");
        assert_eq!(d("-0.0", num.clone()), "0");
        assert_eq!(d("0.25", ColumnType::Double), "0.25");
        assert_eq!(d("10", num), "10");
    }

    #[test]
    fn different_defaults_stay_different() {
        assert_ne!(d("'a'", ColumnType::Text), d("'A'", ColumnType::Text));
        assert_ne!(d("1", ColumnType::Integer), d("2", ColumnType::Integer));
    }

    #[test]
    fn serial_sequence_names_follow_postgres() {
        assert_eq!(serial_sequence_name("users", "id"), "users_id_seq");
        assert_eq!(serial_sequence_name("Users", "Id"), "Users_Id_seq");
        let long = "t".repeat(70);
        let name = serial_sequence_name(&long, "id");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_id_seq"));
    }

    #[test]
    fn check_expressions_lose_outer_parens_and_case() {
        assert_eq!(bool_expr("((age >= 0))"), "age >= 0");
        assert_eq!(bool_expr("AGE   >= 0"), "age >= 0");
        assert_eq!(bool_expr("(a > 0) AND (b > 0)"), "(a > 0) and (b > 0)");
    }

    #[test]
    fn object_names_follow_postgres() {
        assert_eq!(primary_key_name("users"), "users_pkey");
        assert_eq!(
            unique_name("users", &["email".into(), "org".into()]),
            "users_email_org_key"
        );
        assert_eq!(
            index_name("users", &["(lower(email))".into()]),
            "users_lower_idx"
        );
        assert_eq!(index_name("users", &["((a + b))".into()]), "users_expr_idx");
        assert_eq!(
            index_name("t", &["(coalesce(a, b))".into(), "c".into()]),
            "t_coalesce_c_idx"
        );
        let long = "a".repeat(60);
        let n = foreign_key_name(&long, &["team_id".into()]);
        assert_eq!(n.len(), 63);
        assert!(n.ends_with("_team_id_fkey"));
    }
}
