//! Canonical model expressions: defaults, checks, generated columns and index expressions are
//! written once into a scratch database and read back, so they compare equal to the live catalog.

use anyhow::Result;
use postgres::error::ErrorPosition;
use retort_model_reader::Span;
use retort_schema::{quote_ident, Catalog, Change, Column, Index, QualName, Scope, Table};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// True when the pure normaliser spells `expr` exactly as PostgreSQL prints it back.
fn trivial_default(expr: &str) -> bool {
    let e = expr.trim();
    e == "now()"
        || e == "true"
        || e == "false"
        || e == "null"
        || e.parse::<f64>().is_ok()
        || (e.len() >= 2
            && e.starts_with('\'')
            && e.ends_with('\'')
            && !e[1..e.len() - 1].contains('\''))
}

fn needs_server(t: &Table) -> bool {
    !t.checks.is_empty()
        || t.columns.iter().any(|c: &Column| {
            c.generated.is_some() || c.default.as_deref().is_some_and(|d| !trivial_default(d))
        })
        || t.indexes.iter().any(expression_index)
}

/// An index whose spelling only the server knows: an expression key or a predicate.
fn expression_index(i: &Index) -> bool {
    i.predicate.is_some() || i.keys.iter().any(|k| k.starts_with('('))
}

/// The tables whose expressions need the server, with every enum (they may use them), each cut
/// down to what the server respells (`expression_part`).
pub fn expression_subset(models: &Catalog) -> Option<Catalog> {
    let mut sub = models.clone();
    let mut any = false;
    for s in &mut sub.schemas {
        s.tables.retain(needs_server);
        any |= !s.tables.is_empty();
        for t in &mut s.tables {
            expression_part(t);
        }
    }
    any.then_some(sub)
}

/// Cuts `t` down to its columns (without identity or comment), checks, and the indexes with
/// expressions or predicates: what the offline normaliser already spells as the catalog does
/// (keys, constraints without expressions, identities, comments, foreign keys, whose referenced
/// tables may not be there) is left out, so the scratch database creates less.
/// `take_whole` puts it back from the models.
fn expression_part(t: &mut Table) {
    t.foreign_keys.clear();
    t.primary_key = None;
    t.uniques.clear();
    t.comment = None;
    t.indexes.retain(expression_index);
    for c in &mut t.columns {
        c.identity = None;
        c.comment = None;
    }
}

/// Replaces each table of `models` that `canonical` holds by that table as introspected from
/// the scratch database (every expression in the server's spelling), with what
/// `expression_part` left out taken back from the models.
pub fn take_whole(models: &mut Catalog, canonical: &BTreeMap<QualName, Table>) {
    for s in &mut models.schemas {
        for t in &mut s.tables {
            let Some(c) = canonical.get(&t.name) else {
                continue;
            };
            let mut out = c.clone();
            out.foreign_keys = std::mem::take(&mut t.foreign_keys);
            out.primary_key = t.primary_key.take();
            out.uniques = std::mem::take(&mut t.uniques);
            out.comment = t.comment.take();
            out.indexes
                .extend(t.indexes.drain(..).filter(|i| !expression_index(i)));
            out.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            for col in &mut out.columns {
                if let Some(m) = t.columns.iter().find(|m| m.name == col.name) {
                    col.identity = m.identity;
                    col.comment = m.comment.clone();
                    // NOT NULL of primary key columns comes from the key, left out above.
                    col.nullable = m.nullable;
                }
            }
            *t = out;
        }
    }
}

/// How many changes one scratch transaction applies; each holds a few locks, and the server's
/// default lock table (64 per connection times max_connections) must not run out.
const CHANGES_PER_TRANSACTION: usize = 200;

/// Canonicalises the model expressions through `scratch`, an empty throwaway database: creates the
/// subset of the models that has expressions, reads it back and takes the introspected tables
/// whole into `models`. A model expression PostgreSQL rejects is an error naming the model line
/// (`origins`), the statement and the server's message.
pub fn canonicalize(
    scratch: &mut postgres::Client,
    models: &Catalog,
    origins: &BTreeMap<String, Span>,
    scope: &Scope,
) -> Result<Catalog> {
    let Some(sub) = expression_subset(models) else {
        return Ok(models.clone());
    };
    let canonical = canonical_tables(scratch, &sub, origins, scope, &[])?;
    let mut out = models.clone();
    take_whole(&mut out, &canonical);
    Ok(out)
}

/// Creates `sub` (an `expression_subset`, or part of one) in `scratch`, an empty throwaway
/// database, and returns its tables as the server reads them back, by name. `extensions`
/// (schema, name) are created first where the server can; those it cannot are named in the
/// error should a model statement then be refused.
pub fn canonical_tables(
    scratch: &mut postgres::Client,
    sub: &Catalog,
    origins: &BTreeMap<String, Span>,
    scope: &Scope,
    extensions: &[(String, String)],
) -> Result<BTreeMap<QualName, Table>> {
    let unavailable = create_extensions(scratch, extensions)?;
    let all = Scope {
        schemas: sub.schemas.iter().map(|s| s.name.clone()).collect(),
        include: Vec::new(),
        exclude: Vec::new(),
        version_table: scope.version_table.clone(),
    };
    let (created, copies) = distinct_shapes(sub);
    let changes = retort_differ::diff(&Catalog::default(), &all.filter_ref(&created));
    create_used_sequences(scratch, sub)?;
    apply_in_batches(scratch, &changes, |change, sql, e| {
        let err = rejected(change, sql, e, origins);
        if unavailable.is_empty() {
            return err;
        }
        err.context(format!(
            "the database has extensions the scratch database cannot create: {}; \
             install them for the scratch server's PostgreSQL (e.g. the \
             postgresql-contrib package or the extension's own), or set [shadow] url \
             to a server that has them",
            unavailable.join(", ")
        ))
    })?;
    let canonical = crate::introspect(scratch, &all)?;
    let mut out: BTreeMap<QualName, Table> = canonical
        .schemas
        .into_iter()
        .flat_map(|s| s.tables)
        .map(|t| (t.name.clone(), t))
        .collect();
    for (copy, of) in copies {
        let Some(c) = out.get(&of.name) else {
            continue;
        };
        let c = renamed_like(c, of, copy);
        out.insert(copy.name.clone(), c);
    }
    Ok(out)
}

/// Creates `extensions` (schema, name) in `scratch` where the server can, and names those it
/// cannot, each with the server's reason.
pub(crate) fn create_extensions(
    scratch: &mut postgres::Client,
    extensions: &[(String, String)],
) -> Result<Vec<String>> {
    let mut unavailable = Vec::new();
    for (schema, name) in extensions {
        let mut tx = scratch.transaction()?;
        let created = tx
            .query_typed(
                &format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)),
                &[],
            )
            .and_then(|_| {
                tx.query_typed(
                    &format!(
                        "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} CASCADE",
                        quote_ident(name),
                        quote_ident(schema)
                    ),
                    &[],
                )
            });
        match created {
            Ok(_) => tx.commit()?,
            Err(e) => {
                let why = e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string());
                unavailable.push(format!("{name} ({why})"));
            }
        }
    }
    Ok(unavailable)
}

/// Creates in `scratch` the sequences the defaults of `models` name and `scratch` lacks, and
/// returns them as created. Retort does not manage those the project does not declare, but the
/// scratch database needs them for the defaults to be accepted.
pub(crate) fn create_used_sequences(
    scratch: &mut postgres::Client,
    models: &Catalog,
) -> Result<Vec<QualName>> {
    let mut made = Vec::new();
    for (schema, name) in used_sequences(models) {
        let qualified = match &schema {
            Some(s) => {
                scratch.query_typed(
                    &format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)),
                    &[],
                )?;
                format!("{}.{}", quote_ident(s), quote_ident(&name))
            }
            None => quote_ident(&name),
        };
        let text: (&(dyn postgres::types::ToSql + Sync), _) =
            (&qualified, postgres::types::Type::TEXT);
        let missing = scratch
            .query_typed_one(
                "SELECT to_regclass($1) IS NULL",
                std::slice::from_ref(&text),
            )?
            .get::<_, bool>(0);
        if missing {
            scratch.query_typed(&format!("CREATE SEQUENCE {qualified}"), &[])?;
            let row = scratch.query_typed_one(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                &[text],
            )?;
            made.push(QualName::new(
                row.get::<_, String>(0),
                row.get::<_, String>(1),
            ));
        }
    }
    Ok(made)
}

/// Runs `changes` in `scratch`, one statement of their plan at a time, each sent as one
/// extended-protocol query (the server itself refuses a text that holds more than one command,
/// so nothing is ever split at `;`). Committed in batches: one transaction creating thousands of
/// tables runs out of lock slots (`max_locks_per_transaction`); the database is a throwaway, so
/// partial batches do no harm. A refused statement is the error `refused` makes of it.
pub(crate) fn apply_in_batches(
    scratch: &mut postgres::Client,
    changes: &[Change],
    refused: impl Fn(&Change, &str, &postgres::Error) -> anyhow::Error,
) -> Result<()> {
    for batch in changes.chunks(CHANGES_PER_TRANSACTION) {
        let mut tx = scratch.transaction()?;
        for change in batch {
            let plan = retort_render::plan(std::slice::from_ref(change), &Default::default());
            for st in plan.statements {
                if let Err(e) = tx.query_typed(&st.sql, &[]) {
                    return Err(refused(change, &st.sql, &e));
                }
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// The 0-based line of `sql` that the server's error `err` points at, when it points.
pub(crate) fn error_line(sql: &str, err: &postgres::Error) -> Option<usize> {
    match err.as_db_error()?.position()? {
        ErrorPosition::Original(pos) => Some(
            sql.chars()
                .take((*pos as usize).saturating_sub(1))
                .filter(|c| *c == '\n')
                .count(),
        ),
        ErrorPosition::Internal { .. } => None,
    }
}

/// `t` with its name and the names of its checks and indexes blanked: tables with the same shape
/// get the same spelling from the server, whatever they are called.
fn shape(t: &Table) -> String {
    let mut t = t.clone();
    t.name.name.clear();
    for c in &mut t.checks {
        c.name.clear();
    }
    for i in &mut t.indexes {
        i.name.clear();
    }
    serde_json::to_string(&t).unwrap_or_default()
}

/// `sub` with one table per shape (the first of each), and every other table paired with the
/// created one of its shape: the scratch database creates far fewer tables when many look alike.
fn distinct_shapes(sub: &Catalog) -> (Catalog, Vec<(&Table, &Table)>) {
    let mut firsts: std::collections::HashMap<String, &Table> = Default::default();
    let mut copies = Vec::new();
    let mut created = sub.clone();
    for t in sub.tables() {
        match firsts.entry(shape(t)) {
            std::collections::hash_map::Entry::Occupied(e) => copies.push((t, *e.get())),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(t);
            }
        }
    }
    let copied: std::collections::HashSet<&QualName> =
        copies.iter().map(|(t, _)| &t.name).collect();
    for s in &mut created.schemas {
        s.tables.retain(|t| !copied.contains(&t.name));
    }
    (created, copies)
}

/// The server's spelling `canonical` of the table `of`, given to `copy` (the same shape): its
/// name, and the names of its checks and indexes, position by position.
fn renamed_like(canonical: &Table, of: &Table, copy: &Table) -> Table {
    let mut c = canonical.clone();
    c.name = copy.name.clone();
    for check in &mut c.checks {
        if let Some(i) = of.checks.iter().position(|k| k.name == check.name) {
            check.name = copy.checks[i].name.clone();
        }
    }
    for index in &mut c.indexes {
        if let Some(i) = of.indexes.iter().position(|k| k.name == index.name) {
            index.name = copy.indexes[i].name.clone();
        }
    }
    c.checks.sort_by(|a, b| a.name.cmp(&b.name));
    c.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

/// The sequences named by `nextval('...')` in the defaults of `models`, as (schema, name). Only
/// names that read as a (qualified) identifier are returned, so they can be re-rendered quoted.
pub(crate) fn used_sequences(models: &Catalog) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for t in models.tables() {
        for c in &t.columns {
            let Some(d) = &c.default else { continue };
            let mut rest = d.as_str();
            while let Some(at) = rest.find("nextval('") {
                rest = &rest[at + "nextval('".len()..];
                let mut text = String::new();
                let mut chars = rest.char_indices().peekable();
                let mut end = None;
                while let Some((i, ch)) = chars.next() {
                    if ch == '\'' {
                        if chars.peek().map(|p| p.1) == Some('\'') {
                            chars.next();
                            text.push('\'');
                            continue;
                        }
                        end = Some(i);
                        break;
                    }
                    text.push(ch);
                }
                let Some(end) = end else { break };
                rest = &rest[end..];
                if let Some(parts) = qualified_identifier(&text) {
                    if !out.contains(&parts) {
                        out.push(parts);
                    }
                }
            }
        }
    }
    out
}

/// `name` or `schema.name` with PostgreSQL's rules (unquoted parts fold to lower case, `""` in a
/// quoted one is a quote). None for anything else.
fn qualified_identifier(text: &str) -> Option<(Option<String>, String)> {
    let mut parts = retort_schema::types::split_qualified(text.trim())?;
    if parts.iter().any(|p| p.contains('\0')) {
        return None;
    }
    let name = parts.pop()?;
    match parts.len() {
        0 => Some((None, name)),
        1 => Some((parts.pop(), name)),
        _ => None,
    }
}

/// The error for a model statement the server refused: the model line of the column the server
/// points at (else of the table), the statement with that line marked, and the server's message.
fn rejected(
    change: &Change,
    sql: &str,
    err: &postgres::Error,
    origins: &BTreeMap<String, Span>,
) -> anyhow::Error {
    let marked_line = error_line(sql, err);
    let table = change.table().map(|t| t.to_string());
    // In CREATE TABLE and ADD COLUMN the marked line starts with the column name.
    let column = marked_line
        .and_then(|n| sql.lines().nth(n))
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("ALTER TABLE ").map_or(l, |rest| {
                rest.split_once(" ADD COLUMN ").map_or(rest, |(_, c)| c)
            });
            l.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_string()
        })
        .or_else(|| match change {
            Change::AddColumn { column, .. } => Some(column.name.clone()),
            _ => None,
        });
    let origin = table.as_ref().and_then(|t| {
        column
            .as_ref()
            .and_then(|c| origins.get(&format!("{t}.{c}")))
            .or_else(|| origins.get(t))
    });
    let mut msg = String::from("PostgreSQL rejects the SQL the models describe");
    if let Some(o) = origin {
        let _ = write!(msg, "\n  --> {o}");
    }
    for (i, line) in sql.lines().enumerate() {
        let mark = if Some(i) == marked_line {
            "  <-- here"
        } else {
            ""
        };
        let _ = write!(msg, "\n   | {line}{mark}");
    }
    server_says(&mut msg, err);
    anyhow::anyhow!(msg)
}

/// Appends the server's side of `err` to `msg`: severity, message and SQLSTATE, then its detail
/// and hint, each on a line of its own.
pub(crate) fn server_says(msg: &mut String, err: &postgres::Error) {
    match err.as_db_error() {
        Some(d) => {
            let _ = write!(
                msg,
                "\n  {}: {} (SQLSTATE {})",
                d.severity(),
                d.message(),
                d.code().code()
            );
            if let Some(detail) = d.detail() {
                let _ = write!(msg, "\n  detail: {detail}");
            }
            if let Some(hint) = d.hint() {
                let _ = write!(msg, "\n  hint: {hint}");
            }
        }
        None => {
            let _ = write!(msg, "\n  {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_in_defaults_are_read_as_identifiers_only() {
        assert_eq!(
            qualified_identifier("order_no"),
            Some((None, "order_no".into()))
        );
        assert_eq!(
            qualified_identifier("App.\"Order No\""),
            Some((Some("app".into()), "Order No".into()))
        );
        assert_eq!(
            qualified_identifier("\"a\"\"b\""),
            Some((None, "a\"b".into()))
        );
        for bad in [
            "",
            "a;b",
            "a b",
            "a.b.c.d",
            "\"open",
            "a.",
            "x); DROP TABLE t; --",
        ] {
            assert_eq!(qualified_identifier(bad), None, "{bad}");
        }
    }

    /// The scratch database gets only what the server respells; the rest comes back from the
    /// models unchanged, and the server's spelling of the expressions is kept.
    #[test]
    fn the_subset_leaves_out_what_needs_no_server_and_take_whole_puts_it_back() {
        use retort_schema::{types::ColumnType, Check, Identity, PrimaryKey, Unique};
        let index = |name: &str, key: &str| Index {
            name: name.into(),
            unique: false,
            keys: vec![key.into()],
            method: "btree".into(),
            include: Vec::new(),
            predicate: None,
            invalid: false,
            nulls_not_distinct: false,
        };
        let mut t = Table::new(QualName::new("public", "t"));
        let mut id = Column::new("id", ColumnType::BigInt);
        id.nullable = false;
        id.identity = Some(Identity::ByDefault);
        let mut code = Column::new("code", ColumnType::Text);
        code.comment = Some("the code".into());
        t.columns = vec![id, code];
        t.primary_key = Some(PrimaryKey {
            name: "t_pkey".into(),
            columns: vec!["id".into()],
        });
        t.uniques = vec![Unique {
            name: "t_code_key".into(),
            columns: vec!["code".into()],
            nulls_not_distinct: false,
        }];
        t.checks = vec![Check {
            name: "t_code_check".into(),
            expr: "code <> ''".into(),
        }];
        t.indexes = vec![
            index("t_code_idx", "code"),
            index("t_lower_idx", "(lower(code))"),
        ];
        t.comment = Some("a table".into());
        let mut models = Catalog::default();
        models.schemas.push(retort_schema::Schema {
            name: "public".into(),
            tables: vec![t.clone()],
            enums: Vec::new(),
            objects: Vec::new(),
        });

        let sub = expression_subset(&models).expect("a CHECK needs the server");
        let cut = &sub.schemas[0].tables[0];
        assert_eq!(cut.primary_key, None);
        assert!(cut.uniques.is_empty() && cut.comment.is_none());
        assert_eq!(cut.indexes, vec![index("t_lower_idx", "(lower(code))")]);
        assert!(cut
            .columns
            .iter()
            .all(|c| c.identity.is_none() && c.comment.is_none()));
        assert_eq!(cut.checks, t.checks);

        // What the server would read back: the cut table, nullable where no key says otherwise,
        // and its expressions respelled.
        let mut read_back = cut.clone();
        read_back.columns[0].nullable = true;
        read_back.checks[0].expr = "(code <> ''::text)".into();
        let canonical = BTreeMap::from([(t.name.clone(), read_back)]);
        let mut out = models.clone();
        take_whole(&mut out, &canonical);
        let mut want = t.clone();
        want.checks[0].expr = "(code <> ''::text)".into();
        assert_eq!(out.schemas[0].tables[0], want);
    }

    /// Tables alike but for their names are created once; each gets the server's spelling under
    /// its own names.
    #[test]
    fn tables_of_one_shape_are_created_once_and_renamed_back() {
        use retort_schema::{types::ColumnType, Check};
        let table = |name: &str, check: &str, expr: &str| {
            let mut t = Table::new(QualName::new("public", name));
            t.columns = vec![Column::new("n", ColumnType::Integer)];
            t.checks = vec![Check {
                name: check.into(),
                expr: expr.into(),
            }];
            t
        };
        let mut sub = Catalog::default();
        sub.schemas.push(retort_schema::Schema {
            name: "public".into(),
            tables: vec![
                table("a", "a_n_check", "n > 0"),
                table("b", "b_positive", "n > 0"),
                table("c", "c_n_check", "n > 1"),
            ],
            enums: Vec::new(),
            objects: Vec::new(),
        });
        let (created, copies) = distinct_shapes(&sub);
        let names: Vec<&str> = created.tables().map(|t| t.name.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(copies.len(), 1);
        let (copy, of) = copies[0];
        assert_eq!((copy.name.name.as_str(), of.name.name.as_str()), ("b", "a"));
        let mut read_back = of.clone();
        read_back.checks[0].expr = "(n > 0)".into();
        let got = renamed_like(&read_back, of, copy);
        assert_eq!(got.name, copy.name);
        assert_eq!(
            got.checks,
            vec![Check {
                name: "b_positive".into(),
                expr: "(n > 0)".into()
            }]
        );
    }

    #[test]
    fn literal_defaults_need_no_server() {
        for d in ["now()", "0", "-1.5", "'x'", "true", "null"] {
            assert!(trivial_default(d), "{d}");
        }
        for d in [
            "'a'::text || 'b'",
            "gen_random_uuid()",
            "now() + '1 day'::interval",
        ] {
            assert!(!trivial_default(d), "{d}");
        }
    }
}
