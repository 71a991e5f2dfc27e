//! The lexical guard for SQL expressions written in models (defaults, checks, predicates,
//! generated columns, index expressions): read with PostgreSQL's own quoting rules, a fragment
//! must stay one expression wherever it is pasted, whatever another parser thought of it.

/// Why a fragment cannot be pasted into a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentError {
    /// Byte offset in the fragment where the problem starts.
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for FragmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

fn err(offset: usize, message: impl Into<String>) -> FragmentError {
    FragmentError {
        offset,
        message: message.into(),
    }
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Checks `expr` the way PostgreSQL's lexer reads it (standard-conforming strings, `E''` escapes,
/// dollar quotes, quoted identifiers, nested comments): every quote closed, parentheses and
/// brackets balanced and never closed before they open, no `;`, no comment, and no `,` outside
/// parentheses or brackets. So `CHECK (<expr>)` or `DEFAULT <expr>` can hold nothing but it.
pub fn check(expr: &str) -> Result<(), FragmentError> {
    let b = expr.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            0 => return Err(err(i, "a NUL byte cannot be part of SQL")),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !ident_char(b[i - 2]));
                i = string_end(b, i, escapes)?;
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(err(start, "unclosed quoted identifier")),
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'$' if i == 0 || !ident_char(b[i - 1]) => {
                if let Some(tag_len) = dollar_tag(&b[i..]) {
                    let tag = &expr[i..i + tag_len];
                    let body = i + tag_len;
                    match expr[body..].find(tag) {
                        Some(end) => {
                            i = body + end + tag_len;
                            continue;
                        }
                        None => return Err(err(i, format!("unclosed dollar quote {tag}"))),
                    }
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                return Err(err(
                    i,
                    "comments (`--`) are not allowed in a model expression",
                ))
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                return Err(err(
                    i,
                    "comments (`/*`) are not allowed in a model expression",
                ))
            }
            b';' => return Err(err(i, "`;` cannot appear in an expression")),
            b'(' | b'[' => stack.push((c, i)),
            b')' | b']' => {
                let open = if c == b')' { b'(' } else { b'[' };
                match stack.pop() {
                    Some((o, _)) if o == open => {}
                    _ => return Err(err(i, format!("`{}` closes nothing", c as char))),
                }
            }
            b',' if stack.is_empty() => {
                return Err(err(
                    i,
                    "`,` outside parentheses: this is more than one expression",
                ))
            }
            _ => {}
        }
        i += 1;
    }
    match stack.last() {
        Some(&(o, at)) => Err(err(at, format!("`{}` is never closed", o as char))),
        None => Ok(()),
    }
}

/// The byte after a string literal starting at `start` (a `'`).
fn string_end(b: &[u8], start: usize, escapes: bool) -> Result<usize, FragmentError> {
    let mut i = start + 1;
    loop {
        match b.get(i) {
            None => return Err(err(start, "unclosed string literal")),
            Some(b'\\') if escapes => i += 2,
            Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
            Some(b'\'') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

/// Length of a dollar-quote tag (`$$`, `$tag$`) at the start of `b`, if there is one.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    while j < b.len() && b[j] != b'$' {
        let ok = if j == 1 {
            b[j].is_ascii_alphabetic() || b[j] == b'_' || b[j] >= 0x80
        } else {
            ident_char(b[j]) && b[j] != b'$'
        };
        if !ok {
            return None;
        }
        j += 1;
    }
    (j < b.len()).then_some(j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_expressions_pass() {
        for e in [
            "now()",
            "age >= 0",
            "coalesce(a, b)",
            "'it''s'",
            "x IN (1, 2)",
            "ARRAY[1, 2]",
            "E'a\\'b' || 'c'",
            "$$a;b$$",
            "$q$ -- ; $q$",
            "\"weird;col\" > 0",
            "a$b > 1",
            "'-- not a comment'",
        ] {
            assert_eq!(check(e), Ok(()), "{e}");
        }
    }

    #[test]
    fn breakouts_are_refused() {
        for e in [
            "1); DROP TABLE x; --",
            "true) ; DROP TABLE x --",
            "1) STORED, evil int GENERATED ALWAYS AS (2",
            "'a\\' || (select 1); drop table x; --'",
            "x > 0 -- trailing",
            "x /* c */ > 0",
            "1, 2",
            "(1",
            "'open",
            "\"open",
            "$a$ open",
            "]",
            "a\0b",
        ] {
            assert!(check(e).is_err(), "{e}");
        }
    }
}
