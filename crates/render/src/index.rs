//! Indexes: `CREATE [UNIQUE] INDEX` with method, keys (column, expression, operator class,
//! ordering), INCLUDE and predicate; drop and rename; `CONCURRENTLY` when the plan asks for it.

use crate::sql::{cols, q, qualified};
use crate::Statement;
use retort_schema::{index_key, quote_qual, Index, QualName};
use std::fmt::Write;

/// `CREATE INDEX`; with `concurrently`, `CREATE INDEX CONCURRENTLY`, which runs outside a
/// transaction.
pub(crate) fn create(table: &QualName, index: &Index, concurrently: bool) -> Vec<Statement> {
    let mut s = format!(
        "CREATE {}INDEX {}{} ON {}",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        q(&index.name),
        quote_qual(table)
    );
    if index.method != "btree" {
        // The method is a name: quoted, it cannot be anything but one word.
        let _ = write!(s, " USING {}", q(&index.method));
    }
    let keys: Vec<String> = index.keys.iter().map(|k| key(k)).collect();
    let _ = write!(s, " ({})", keys.join(", "));
    if !index.include.is_empty() {
        let _ = write!(s, " INCLUDE ({})", cols(&index.include));
    }
    if index.nulls_not_distinct {
        s.push_str(" NULLS NOT DISTINCT");
    }
    if let Some(p) = &index.predicate {
        let _ = write!(s, " WHERE {p}");
    }
    vec![Statement {
        transactional: !concurrently,
        ..Statement::new(s)
    }]
}

/// `DROP INDEX`; with `concurrently`, `DROP INDEX CONCURRENTLY` (outside a transaction).
pub(crate) fn drop(table: &QualName, name: &str, concurrently: bool) -> Vec<Statement> {
    vec![Statement {
        transactional: !concurrently,
        ..Statement::new(format!(
            "DROP INDEX {}{}",
            if concurrently { "CONCURRENTLY " } else { "" },
            quote_qual(&QualName::new(&table.schema, name))
        ))
    }]
}

pub(crate) fn rename(table: &QualName, from: &str, to: &str) -> Vec<Statement> {
    vec![Statement::new(format!(
        "ALTER INDEX {} RENAME TO {}",
        quote_qual(&QualName::new(&table.schema, from)),
        q(to)
    ))]
}

/// One index key: the column quoted, an expression as the reader validated it, then the closed
/// grammar `[opclass] [ASC | DESC] [NULLS FIRST | LAST]`, read from the end; whatever precedes the
/// ordering words is the operator class, quoted as one (qualified) name, so it can only fail.
fn key(k: &str) -> String {
    let parts = index_key::split(k);
    let mut s = match parts.head {
        index_key::KeyHead::Column(c) => q(&c),
        index_key::KeyHead::Expr(e) => e.to_string(),
    };
    let mut words = parts.suffix;
    let upper = |w: &str| w.to_ascii_uppercase();
    let mut nulls = None;
    if let [.., n, which] = words.as_slice() {
        if upper(n) == "NULLS" && matches!(upper(which).as_str(), "FIRST" | "LAST") {
            nulls = Some(format!(" NULLS {}", upper(which)));
            words.truncate(words.len() - 2);
        }
    }
    let mut direction = None;
    if let [.., d] = words.as_slice() {
        if matches!(upper(d).as_str(), "ASC" | "DESC") {
            direction = Some(format!(" {}", upper(d)));
            words.pop();
        }
    }
    if !words.is_empty() {
        s.push(' ');
        s.push_str(&qualified(&words.join(" ")));
    }
    s.push_str(direction.as_deref().unwrap_or(""));
    s.push_str(nulls.as_deref().unwrap_or(""));
    s
}
