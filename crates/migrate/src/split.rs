//! A small SQL lexer that splits a migration body into statements at top-level semicolons,
//! respecting strings, quoted identifiers, dollar quotes, comments and `BEGIN ATOMIC` bodies.

/// One statement of a migration body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatement {
    /// The statement text without its terminating `;`, starting at its first token (comments
    /// before it are not part of it, comments inside it are).
    pub sql: String,
    /// 1-based line of the body on which the statement starts.
    pub line: usize,
    /// Unquoted words of the statement, upper-cased (at most [`MAX_WORDS`]), for classifying it.
    pub words: Vec<String>,
    /// False for a last statement that has no `;`.
    pub terminated: bool,
}

/// How many leading words a [`SqlStatement`] keeps.
pub const MAX_WORDS: usize = 64;

impl SqlStatement {
    /// The first line of the statement, for error messages.
    pub fn first_line(&self) -> &str {
        self.sql.lines().next().unwrap_or("").trim_end()
    }

    fn word(&self, i: usize) -> &str {
        self.words.get(i).map(String::as_str).unwrap_or("")
    }

    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, whose `BEGIN ATOMIC ... END` body holds semicolons.
    fn is_create_routine(&self) -> bool {
        let routine = |w: &str| w == "FUNCTION" || w == "PROCEDURE";
        self.word(0) == "CREATE"
            && (routine(self.word(1))
                || (self.word(1) == "OR" && self.word(2) == "REPLACE" && routine(self.word(3))))
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Splits `sql` into statements. Never fails: an unterminated string or comment runs to the end
/// of the text and PostgreSQL reports it when the statement runs.
pub fn split_statements(sql: &str) -> Vec<SqlStatement> {
    Lexer {
        sql,
        bytes: sql.as_bytes(),
        pos: 0,
        line: 1,
    }
    .split()
}

struct Lexer<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lexer<'_> {
    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// Advances to `end` (a byte index), counting newlines on the way.
    fn advance_to(&mut self, end: usize) {
        let end = end.min(self.bytes.len());
        self.line += self.bytes[self.pos..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = end;
    }

    fn split(mut self) -> Vec<SqlStatement> {
        let mut out = Vec::new();
        let mut current: Option<SqlStatement> = None;
        let mut start = 0;
        let mut parens: usize = 0;
        let mut begin_depth: usize = 0;
        while self.pos < self.bytes.len() {
            let b = self.peek(0);
            if b.is_ascii_whitespace() {
                self.advance_to(self.pos + 1);
                continue;
            }
            if b == b'-' && self.peek(1) == b'-' {
                let end = self.bytes[self.pos..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(self.bytes.len(), |p| self.pos + p);
                self.advance_to(end);
                continue;
            }
            if b == b'/' && self.peek(1) == b'*' {
                self.skip_block_comment();
                continue;
            }
            if b == b';' && parens == 0 && begin_depth == 0 {
                if let Some(mut stmt) = current.take() {
                    stmt.sql = self.sql[start..self.pos].trim_end().to_string();
                    stmt.terminated = true;
                    out.push(stmt);
                }
                self.advance_to(self.pos + 1);
                continue;
            }
            let stmt = current.get_or_insert_with(|| {
                start = self.pos;
                SqlStatement {
                    sql: String::new(),
                    line: self.line,
                    words: Vec::new(),
                    terminated: false,
                }
            });
            match b {
                b'\'' => self.skip_quoted(b'\'', false),
                b'"' => self.skip_quoted(b'"', false),
                b'$' => self.skip_dollar(),
                b'(' => {
                    parens += 1;
                    self.advance_to(self.pos + 1);
                }
                b')' => {
                    parens = parens.saturating_sub(1);
                    self.advance_to(self.pos + 1);
                }
                _ if is_ident_start(b) => {
                    let begin = self.pos;
                    let len = self.bytes[begin..]
                        .iter()
                        .position(|c| !is_ident_char(*c))
                        .unwrap_or(self.bytes.len() - begin);
                    self.advance_to(begin + len);
                    let word = self.sql[begin..begin + len].to_ascii_uppercase();
                    if word == "E" && self.peek(0) == b'\'' {
                        self.skip_quoted(b'\'', true);
                        continue;
                    }
                    if stmt.words.len() < MAX_WORDS {
                        stmt.words.push(word.clone());
                    }
                    if parens == 0 && stmt.is_create_routine() {
                        match word.as_str() {
                            "BEGIN" => begin_depth += 1,
                            "CASE" if begin_depth > 0 => begin_depth += 1,
                            "END" => begin_depth = begin_depth.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                _ if b.is_ascii_digit() => {
                    let len = self.bytes[self.pos..]
                        .iter()
                        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_'))
                        .unwrap_or(self.bytes.len() - self.pos);
                    self.advance_to(self.pos + len);
                }
                _ => self.advance_to(self.pos + 1),
            }
        }
        if let Some(mut stmt) = current {
            stmt.sql = self.sql[start..].trim_end().to_string();
            out.push(stmt);
        }
        out
    }

    /// Skips `'...'` or `"..."` (a doubled quote stays inside); with `backslash`, an E-string
    /// where `\` escapes the next character.
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        let mut i = self.pos + 1;
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if backslash && c == b'\\' {
                i += 2;
            } else if c == quote {
                if self.bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    self.advance_to(i + 1);
                    return;
                }
            } else {
                i += 1;
            }
        }
        self.advance_to(self.bytes.len());
    }

    /// Skips `$tag$ ... $tag$`; a `$` that does not open a dollar quote (`$1`) is one character.
    fn skip_dollar(&mut self) {
        let rest = &self.bytes[self.pos + 1..];
        let tag_len = if rest.first().copied().is_some_and(is_ident_start) {
            rest.iter()
                .position(|c| !(is_ident_char(*c) && *c != b'$'))
                .unwrap_or(rest.len())
        } else {
            0
        };
        if rest.get(tag_len) != Some(&b'$') {
            self.advance_to(self.pos + 1);
            return;
        }
        let delimiter = &self.sql[self.pos..self.pos + tag_len + 2];
        let body_start = self.pos + delimiter.len();
        let end = self.sql[body_start..]
            .find(delimiter)
            .map_or(self.bytes.len(), |p| body_start + p + delimiter.len());
        self.advance_to(end);
    }

    /// Skips a `/* ... */` comment, which may nest.
    fn skip_block_comment(&mut self) {
        let mut depth = 0usize;
        let mut i = self.pos;
        while i < self.bytes.len() {
            if self.bytes[i] == b'/' && self.bytes.get(i + 1) == Some(&b'*') {
                depth += 1;
                i += 2;
            } else if self.bytes[i] == b'*' && self.bytes.get(i + 1) == Some(&b'/') {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    self.advance_to(i);
                    return;
                }
            } else {
                i += 1;
            }
        }
        self.advance_to(self.bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(usize, String)> {
        split_statements(sql)
            .into_iter()
            .map(|s| (s.line, s.sql))
            .collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_with_lines() {
        let sql = "CREATE TABLE a (id int);\n\n-- a comment; with a semicolon\nCREATE TABLE b (\n  x text DEFAULT 'a;b'\n);\nSELECT 1";
        assert_eq!(
            texts(sql),
            vec![
                (1, "CREATE TABLE a (id int)".to_string()),
                (4, "CREATE TABLE b (\n  x text DEFAULT 'a;b'\n)".to_string()),
                (7, "SELECT 1".to_string()),
            ]
        );
        let stmts = split_statements(sql);
        assert!(stmts[0].terminated);
        assert!(!stmts[2].terminated);
    }

    #[test]
    fn strings_identifiers_and_escapes() {
        let sql = "INSERT INTO \"we;ird\"\"t\" VALUES ('it''s; fine', E'back\\'slash; ok');\nSELECT e'x\\\\';SELECT 2;";
        let t = texts(sql);
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!(
            t[0].1,
            "INSERT INTO \"we;ird\"\"t\" VALUES ('it''s; fine', E'back\\'slash; ok')"
        );
        assert_eq!(t[1], (2, "SELECT e'x\\\\'".to_string()));
        assert_eq!(t[2], (2, "SELECT 2".to_string()));
    }

    #[test]
    fn dollar_quotes() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   DO $body$\nBEGIN\n  RAISE NOTICE 'x; $$ y';\nEND\n$body$;\n\
                   PREPARE p AS SELECT $1;\nSELECT a$b FROM t;";
        let t = texts(sql);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(t[0].1.ends_with("LANGUAGE sql"));
        assert_eq!(t[1].0, 2);
        assert!(t[1].1.ends_with("$body$"));
        assert_eq!(t[2], (7, "PREPARE p AS SELECT $1".to_string()));
        assert_eq!(t[3], (8, "SELECT a$b FROM t".to_string()));
    }

    #[test]
    fn comments_nest_and_are_skipped_between_statements() {
        let sql = "/* outer /* inner; */ still; */ SELECT 1; -- trailing; comment\n/* only a comment; */\n";
        assert_eq!(texts(sql), vec![(1, "SELECT 1".to_string())]);
        assert!(texts("-- nothing here;\n\n").is_empty());
        let inside = texts("SELECT 1 -- c;\n+ 2;");
        assert_eq!(inside, vec![(1, "SELECT 1 -- c;\n+ 2".to_string())]);
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let sql = "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;\n  SELECT 3;\nEND;\nSELECT 4;";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].1.ends_with("END"));
        assert_eq!(t[1], (6, "SELECT 4".to_string()));
    }

    #[test]
    fn words_are_upper_cased_and_skip_literals() {
        let s = &split_statements("create unique index concurrently \"Ix\" on t (lower('x'));")[0];
        assert_eq!(
            s.words,
            [
                "CREATE",
                "UNIQUE",
                "INDEX",
                "CONCURRENTLY",
                "ON",
                "T",
                "LOWER"
            ]
        );
    }

    #[test]
    fn unterminated_string_runs_to_the_end() {
        let t = texts("SELECT 'abc;\nSELECT 2;");
        assert_eq!(t, vec![(1, "SELECT 'abc;\nSELECT 2;".to_string())]);
    }
}
