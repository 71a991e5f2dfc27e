//! Properties of the statement splitter over random SQL-ish text full of quotes, comments and
//! dollar quotes: it never panics, and it either names the line of an unclosed token or keeps
//! every piece of the text that is not whitespace, a comment between statements or a `;`.

use proptest::prelude::*;
use retort_migrate::split_statements;

const PIECES: &[&str] = &[
    "SELECT",
    "x",
    "1",
    " ",
    "  ",
    "\n",
    ";",
    ";",
    "'",
    "''",
    "\"",
    "\"\"",
    "E'",
    "e'",
    "\\",
    "\\'",
    "$$",
    "$a$",
    "$1",
    "a$b",
    "$",
    "/*",
    "*/",
    "--",
    "-",
    "*",
    "/",
    "(",
    ")",
    "BEGIN",
    "END",
    "CASE",
    "ATOMIC",
    "CREATE FUNCTION f() ",
    "é",
    "U&'",
    "\t",
];

fn sqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..48).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn splitting_keeps_all_content_or_names_a_line(sql in sqlish()) {
        match split_statements(&sql) {
            Err(e) => {
                let lines = sql.split('\n').count();
                prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {e}", e.line);
            }
            Ok(stmts) => {
                let mut cursor = 0;
                for s in &stmts {
                    prop_assert!(!s.sql.is_empty());
                    prop_assert!(s.offset >= cursor, "statements overlap: {stmts:?}");
                    prop_assert_eq!(&sql[s.offset..s.offset + s.sql.len()], s.sql.as_str());
                    let gap = &sql[cursor..s.offset];
                    prop_assert_eq!(split_statements(gap), Ok(Vec::new()), "gap {:?}", gap);
                    let line = 1 + sql[..s.offset].matches('\n').count();
                    prop_assert_eq!(s.line, line);
                    cursor = s.offset + s.sql.len();
                }
                let tail = &sql[cursor..];
                prop_assert_eq!(split_statements(tail), Ok(Vec::new()), "tail {:?}", tail);
            }
        }
    }
}
