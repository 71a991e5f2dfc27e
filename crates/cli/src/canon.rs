//! Canonical model expressions: defaults, checks, generated columns and index expressions are
//! written once into a scratch database and read back, so they compare equal to the live catalog.

use anyhow::{Context, Result};
use retort_schema::{Catalog, Column, Scope, Table};

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
        || t.indexes
            .iter()
            .any(|i| i.predicate.is_some() || i.keys.iter().any(|k| k.starts_with('(')))
}

/// The tables whose expressions need the server, with every enum (they may use them) and without
/// foreign keys (the referenced tables may not be part of it).
pub fn expression_subset(models: &Catalog) -> Option<Catalog> {
    let mut sub = models.clone();
    let mut any = false;
    for s in &mut sub.schemas {
        s.tables.retain(needs_server);
        any |= !s.tables.is_empty();
        for t in &mut s.tables {
            t.foreign_keys.clear();
        }
    }
    any.then_some(sub)
}

/// Replaces the expressions of `models` by the server's spelling of them, read from `client`, a
/// database where `expression_subset(models)` has been created.
pub fn splice(models: &mut Catalog, canonical: &Catalog) {
    for s in &mut models.schemas {
        for t in &mut s.tables {
            let Some(c) = canonical.table(&t.name) else {
                continue;
            };
            for col in &mut t.columns {
                if let Some(cc) = c.column(&col.name) {
                    col.default = cc.default.clone();
                    col.generated = cc.generated.clone();
                }
            }
            for check in &mut t.checks {
                if let Some(cc) = c.checks.iter().find(|x| x.name == check.name) {
                    check.expr = cc.expr.clone();
                }
            }
            for index in &mut t.indexes {
                if let Some(ci) = c.indexes.iter().find(|x| x.name == index.name) {
                    index.keys = ci.keys.clone();
                    index.predicate = ci.predicate.clone();
                }
            }
        }
    }
}

/// Canonicalises the model expressions through `scratch`, an empty throwaway database: creates the
/// subset of the models that has expressions, reads it back and splices the server's spelling into
/// `models`. A model expression PostgreSQL rejects is an error naming the statement.
pub fn canonicalize(
    scratch: &mut postgres::Client,
    models: &Catalog,
    scope: &Scope,
) -> Result<Catalog> {
    let Some(sub) = expression_subset(models) else {
        return Ok(models.clone());
    };
    let all = Scope {
        schemas: sub.schemas.iter().map(|s| s.name.clone()).collect(),
        include: Vec::new(),
        exclude: Vec::new(),
        version_table: scope.version_table.clone(),
    };
    // One statement at a time from the plan, each sent as one extended-protocol query: the server
    // itself refuses a text that holds more than one command, so nothing is ever split at `;`.
    let changes = retort_differ::diff(&Catalog::default(), &all.filter_ref(&sub));
    let mut tx = scratch.transaction()?;
    for st in retort_render::migration_statements(&changes, &Default::default()) {
        crate::execute_one(&mut tx, &st.sql).with_context(|| {
            format!(
                "PostgreSQL rejects the SQL the models describe:\n  {}",
                st.sql.lines().next().unwrap_or("")
            )
        })?;
    }
    tx.commit()?;
    let canonical = crate::introspect(scratch, &all)?;
    let mut out = models.clone();
    splice(&mut out, &canonical);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
