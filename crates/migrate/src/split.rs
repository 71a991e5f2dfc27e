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
    /// Byte offset in the body at which `sql` starts.
    pub offset: usize,
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

impl SqlStatement {
    /// For `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON ...`: `Some(Some(name))`
    /// as written (quoted identifiers keep their quotes, `schema.name` stays qualified),
    /// `Some(None)` when the index has no name; `None` for other statements.
    pub fn concurrent_index_name(&self) -> Option<Option<String>> {
        let t = leading_tokens(&self.sql, 12);
        let up = |i: usize| t.get(i).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
        let mut i = 1;
        if up(0) != "CREATE" {
            return None;
        }
        if up(i) == "UNIQUE" {
            i += 1;
        }
        if up(i) != "INDEX" || up(i + 1) != "CONCURRENTLY" {
            return None;
        }
        i += 2;
        if up(i) == "IF" && up(i + 1) == "NOT" && up(i + 2) == "EXISTS" {
            i += 3;
        }
        match t.get(i) {
            None => Some(None),
            Some(_) if up(i) == "ON" => Some(None),
            Some(name) if up(i + 1) == "." => Some(Some(format!(
                "{name}.{}",
                t.get(i + 2).map(String::as_str).unwrap_or("")
            ))),
            Some(name) => Some(Some(name.clone())),
        }
    }
}

/// The first `n` tokens of `sql` as written, skipping whitespace and comments: identifiers and
/// numbers, `"quoted identifiers"` with their quotes, and single characters otherwise.
fn leading_tokens(sql: &str, n: usize) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < n {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = b[i..]
                .iter()
                .position(|x| *x == b'\n')
                .map_or(b.len(), |p| i + p);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() {
                if b[i] == b'"' && b.get(i + 1) == Some(&b'"') {
                    i += 2;
                } else if b[i] == b'"' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            out.push(sql[start..i.min(b.len())].to_string());
        } else if is_ident_char(c) {
            let start = i;
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
            out.push(sql[start..i].to_string());
        } else {
            let len = sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push(sql[i..i + len].to_string());
            i += len;
        }
    }
    out
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// A block comment, string, quoted identifier or dollar quote that is still open at the end of
/// the text: splitting would otherwise swallow everything after it into one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    /// 1-based line of the text on which the unclosed token opens.
    pub line: usize,
    /// What is left open, e.g. "/* comment" or "dollar quote $body$".
    pub what: String,
}

impl std::fmt::Display for Unterminated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unterminated {} (it opens here and is never closed, so the rest of the file would be \
             swallowed by it)",
            self.what
        )
    }
}

/// Splits `sql` into statements. Fails when a block comment (they nest), a string, an E'' string,
/// a quoted identifier or a dollar quote is never closed, naming the line where it opens.
pub fn split_statements(sql: &str) -> Result<Vec<SqlStatement>, Unterminated> {
    let mut lexer = Lexer {
        sql,
        bytes: sql.as_bytes(),
        pos: 0,
        line: 1,
        open: None,
    };
    let stmts = lexer.split();
    match lexer.open {
        Some(open) => Err(open),
        None => Ok(stmts),
    }
}

struct Lexer<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// The first token that ran to the end of the text unclosed.
    open: Option<Unterminated>,
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

    /// Records that the token opening on the current line is never closed, then skips to the end.
    fn unterminated(&mut self, what: String) {
        if self.open.is_none() {
            self.open = Some(Unterminated {
                line: self.line,
                what,
            });
        }
        self.advance_to(self.bytes.len());
    }

    fn split(&mut self) -> Vec<SqlStatement> {
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
                    offset: self.pos,
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
        self.unterminated(match (quote, backslash) {
            (b'"', _) => "quoted identifier \"...".to_string(),
            (_, true) => "string E'...".to_string(),
            _ => "string '...".to_string(),
        });
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
        match self.sql[body_start..].find(delimiter) {
            Some(p) => self.advance_to(body_start + p + delimiter.len()),
            None => {
                let what = format!("dollar quote {delimiter}");
                self.unterminated(what);
            }
        }
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
        let what = if depth > 1 {
            format!("/* comment (block comments nest: {depth} are still open)")
        } else {
            "/* comment".to_string()
        };
        self.unterminated(what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(usize, String)> {
        split_statements(sql)
            .unwrap()
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
        let stmts = split_statements(sql).unwrap();
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
        let s = &split_statements("create unique index concurrently \"Ix\" on t (lower('x'));")
            .unwrap()[0];
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

    fn open(sql: &str) -> (usize, String) {
        let e = split_statements(sql).unwrap_err();
        (e.line, e.what)
    }

    #[test]
    fn unterminated_tokens_are_errors_on_their_opening_line() {
        assert_eq!(
            open("SELECT 1;\nSELECT 'abc;\nSELECT 2;"),
            (2, "string '...".into())
        );
        assert_eq!(
            open("SELECT 1;\n\nSELECT E'it\\'s;\n"),
            (3, "string E'...".into())
        );
        assert_eq!(
            open("CREATE TABLE \"we;ird (id int);\n"),
            (1, "quoted identifier \"...".into())
        );
        assert_eq!(
            open("SELECT 1;\nDO $body$\nBEGIN NULL; END\n$$;\n"),
            (2, "dollar quote $body$".into())
        );
        assert_eq!(
            open("SELECT 1;\n/* forgot to close\nDROP TABLE t;"),
            (2, "/* comment".into())
        );
        // PostgreSQL block comments nest: one `*/` closes only the inner one.
        let (line, what) = open("SELECT 1;\n/* outer /* inner */ still open\nDROP TABLE t;\n");
        assert_eq!((line, what.as_str()), (2, "/* comment"));
        let (line, what) = open("SELECT 1 /* a\n /* b\n");
        assert_eq!(line, 1);
        assert!(what.contains("2 are still open"), "{what}");
        // The first unclosed token is reported, even when later text has more.
        assert_eq!(open("SELECT '\n/* x"), (1, "string '...".into()));
        let e = split_statements("SELECT 'x").unwrap_err();
        assert!(e.to_string().starts_with("unterminated string '..."), "{e}");
    }

    #[test]
    fn concurrent_index_names() {
        let name = |sql: &str| split_statements(sql).unwrap()[0].concurrent_index_name();
        assert_eq!(
            name("create unique index concurrently if not exists \"Ix\" on t (a)"),
            Some(Some("\"Ix\"".into()))
        );
        assert_eq!(
            name("CREATE INDEX CONCURRENTLY /* c */ app.ix_a ON app.a (id)"),
            Some(Some("app.ix_a".into()))
        );
        assert_eq!(name("CREATE INDEX CONCURRENTLY ON t (a)"), Some(None));
        assert_eq!(name("CREATE INDEX ix ON t (a)"), None);
        assert_eq!(name("DROP INDEX CONCURRENTLY ix"), None);
    }

    #[test]
    fn closed_tokens_are_fine() {
        for sql in [
            "SELECT 'it''s', \"a\"\"b\", E'\\'', $$x$$, $t$ $$ $t$; /* a /* b */ c */",
            "SELECT $1, a$b$c FROM t -- ' unclosed in a line comment is fine",
            "SELECT 1 /* ' \" $$ */",
            "",
        ] {
            assert!(split_statements(sql).is_ok(), "{sql}");
        }
    }
}
