//! The spelling of one index key in the IR (`column [opclass] [DESC] [NULLS FIRST|LAST]` or
//! `(expression) ...`), and its parts, so that readers and the renderer agree on one grammar.

/// The head of an index key: a column or a parenthesised expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHead<'a> {
    /// A column name, unquoted.
    Column(String),
    /// An expression, including its outer parentheses.
    Expr(&'a str),
}

/// An index key split into its head and the words after it (operator class, `DESC`, `NULLS ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts<'a> {
    pub head: KeyHead<'a>,
    pub suffix: Vec<&'a str>,
}

/// The IR spelling of a column key's head: the name itself, or the name in double quotes when it
/// would otherwise be ambiguous (whitespace, a double quote, a leading parenthesis, empty).
pub fn column_key(name: &str) -> String {
    if name.is_empty()
        || name.starts_with('(')
        || name.chars().any(|c| c.is_whitespace() || c == '"')
    {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    }
}

/// End of a parenthesised expression starting at byte 0 of `s`, honouring quotes; `None` when
/// the parentheses never close.
fn expr_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits an IR index key. Never fails: text that does not fit the grammar ends up in the
/// suffix, where the renderer quotes it as a name.
pub fn split(key: &str) -> KeyParts<'_> {
    let key = key.trim();
    let (head, rest) = if key.starts_with('(') {
        match expr_end(key) {
            Some(end) => (KeyHead::Expr(&key[..end]), &key[end..]),
            None => (KeyHead::Expr(key), ""),
        }
    } else if let Some(body) = key.strip_prefix('"') {
        // A quoted column name: `""` stands for one quote.
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().is_some_and(|&(_, n)| n == '"') {
                    chars.next();
                    name.push('"');
                    continue;
                }
                end = i + 1;
                break;
            }
            name.push(c);
        }
        (KeyHead::Column(name), &body[end..])
    } else {
        match key.split_once(char::is_whitespace) {
            Some((c, rest)) => (KeyHead::Column(c.to_string()), rest),
            None => (KeyHead::Column(key.to_string()), ""),
        }
    };
    KeyParts {
        head,
        suffix: rest.split_whitespace().collect(),
    }
}

/// The column a key names, if it is a plain column key.
pub fn column_of(key: &str) -> Option<String> {
    match split(key).head {
        KeyHead::Column(c) => Some(c),
        KeyHead::Expr(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_head_and_suffix() {
        let p = split("created_at DESC NULLS LAST");
        assert_eq!(p.head, KeyHead::Column("created_at".into()));
        assert_eq!(p.suffix, ["DESC", "NULLS", "LAST"]);
        let p = split("(lower(email)) text_pattern_ops");
        assert_eq!(p.head, KeyHead::Expr("(lower(email))"));
        assert_eq!(p.suffix, ["text_pattern_ops"]);
        let p = split("(coalesce(a, ')')) DESC");
        assert_eq!(p.head, KeyHead::Expr("(coalesce(a, ')'))"));
        assert_eq!(p.suffix, ["DESC"]);
    }

    #[test]
    fn awkward_column_names_round_trip_through_quotes() {
        for name in ["my col", "a\"b", "(x)", "", "plain", "Mixed"] {
            let key = format!("{} DESC", column_key(name));
            let p = split(&key);
            assert_eq!(p.head, KeyHead::Column(name.into()), "{key}");
            assert_eq!(p.suffix, ["DESC"], "{key}");
        }
        assert_eq!(column_key("plain"), "plain");
        assert_eq!(column_key("my col"), "\"my col\"");
    }
}
