//! SQL declaration files (`[models] sql`): run on a scratch database over the models' tables and
//! read back, so the views, functions and triggers they declare compare in the server's spelling.

use anyhow::Result;
use retort_migrate::SqlStatement;
use retort_schema::{quote_ident, Catalog, Object, ObjectKind, Scope};
use std::fmt::Write as _;

/// The objects `files` declare, as `scratch` (an empty throwaway database) reads them back once
/// the models' tables (`catalog`, normalised) exist. Statements are cut by the runner's lexer
/// (`retort_migrate::split_statements`: strings, dollar quotes, comments, `BEGIN ATOMIC`) and
/// each is sent as one extended-protocol query, which the server refuses should it hold two
/// commands. They run in file order before the tables (functions that defaults and checks call);
/// those that fail (for want of a table, a column, a function) run again, in order, after the
/// tables. A statement failing then is an error naming the file and line, with the server's
/// message.
pub fn declared_objects(
    scratch: &mut postgres::Client,
    catalog: &Catalog,
    files: &[(String, String)],
    scope: &Scope,
    extensions: &[(String, String)],
) -> Result<Vec<Object>> {
    crate::canon::create_extensions(scratch, extensions)?;
    let mut tables = catalog.clone();
    for s in &mut tables.schemas {
        s.objects.clear();
    }
    {
        let mut tx = scratch.transaction()?;
        for s in &tables.schemas {
            tx.query_typed(
                &format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&s.name)),
                &[],
            )?;
        }
        tx.commit()?;
    }
    let later = before_tables(scratch, files)?;
    // Sequences the models' defaults use and the files do not declare are not declared objects.
    let made = crate::canon::create_used_sequences(scratch, &tables)?;
    let changes = retort_differ::diff(&Catalog::default(), &tables);
    crate::canon::apply_in_batches(scratch, &changes, |_, sql, e| {
        let mut msg = format!(
            "creating the models' tables for the SQL declaration files: {}",
            sql.lines().next().unwrap_or("")
        );
        crate::canon::server_says(&mut msg, e);
        anyhow::anyhow!(msg)
    })?;
    for (file, st) in later {
        let (name, text) = &files[file];
        if let Err(e) = scratch.query_typed(&st.sql, &[]) {
            return Err(rejected(name, text, &st, &e));
        }
    }
    let read = crate::introspect(scratch, scope)?;
    Ok(read
        .objects()
        .filter(|o| !(o.kind == ObjectKind::Sequence && made.contains(&o.name)))
        .cloned()
        .collect())
}

/// Runs every statement of `files` in order and returns those that failed, as (file index,
/// statement), to run again after the tables: most name a table, a column or a function not
/// there yet; any other failure repeats then and is reported with its file and line.
pub(crate) fn before_tables(
    scratch: &mut postgres::Client,
    files: &[(String, String)],
) -> Result<Vec<(usize, SqlStatement)>> {
    let mut later = Vec::new();
    for (i, (name, text)) in files.iter().enumerate() {
        let statements = retort_migrate::split_statements(text)
            .map_err(|e| anyhow::anyhow!("{name}:{}: {e}", e.line))?;
        for st in statements {
            if scratch.query_typed(&st.sql, &[]).is_err() {
                later.push((i, st));
            }
        }
    }
    Ok(later)
}

/// The error for a statement of an SQL declaration file the server refused: file and line, the
/// line itself, and the server's message.
fn rejected(name: &str, text: &str, st: &SqlStatement, err: &postgres::Error) -> anyhow::Error {
    let n = st.line - 1 + crate::canon::error_line(&st.sql, err).unwrap_or(0);
    let mut msg = format!("PostgreSQL rejects the SQL declaration file {name}");
    let _ = write!(msg, "\n  --> {name}:{}", n + 1);
    if let Some(l) = text.lines().nth(n) {
        let _ = write!(msg, "\n   | {l}");
    }
    crate::canon::server_says(&mut msg, err);
    anyhow::anyhow!(msg)
}
