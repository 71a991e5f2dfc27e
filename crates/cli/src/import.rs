//! `retort import`: native model source written from the live database (`retort-model-writer`),
//! checked by reading it back and diffing it against the database it came from.

use anyhow::{anyhow, Result};
use retort_model_writer::{write_models, WriteOptions, Written};
use retort_schema::{Catalog, Change, NamingConvention, QualName, Scope};

/// What `import` wrote and what it could not say.
#[derive(Debug, Clone)]
pub struct Imported {
    pub written: Written,
    /// Objects of the database the IR does not model (see `unmanaged`).
    pub unmanaged: Vec<String>,
    /// The changes autogenerate would find between the written models and the database: empty
    /// unless the file says (in its notes) what the native dialect could not express.
    pub remaining: Vec<Change>,
    /// Set when the model expressions could not be canonicalised through a scratch database
    /// (no CREATEDB right): `remaining` may then hold spelling differences only.
    pub canon_warning: Option<String>,
}

/// The schema the models' unqualified tables and enums go to: the first in scope.
pub fn default_schema(scope: &Scope) -> String {
    scope
        .schemas
        .first()
        .cloned()
        .unwrap_or_else(|| "public".into())
}

/// Objects in scope that the IR does not model, as sentences: exclusion constraints, views,
/// sequences not owned by a column, functions, triggers, domains, composite types and the
/// partitioning of partitioned tables (extension members are left out).
pub fn unmanaged(client: &mut postgres::Client, scope: &Scope) -> Result<Vec<String>> {
    let mut out = retort_introspector::unmanaged_objects(client, scope)?;
    let rows = client.query_typed(
        "SELECT o.kind, n.nspname, o.name, o.tbl, o.detail FROM (
           SELECT 'pg_class'::regclass AS cls, c.oid, c.relnamespace AS ns,
                  CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                 ELSE 'sequence' END AS kind,
                  c.relname::text AS name, NULL::text AS tbl, '' AS detail
           FROM pg_class c
           WHERE c.relkind IN ('v', 'm')
              OR (c.relkind = 'S' AND NOT EXISTS (
                    SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i')))
           UNION ALL
           SELECT 'pg_class'::regclass, c.oid, c.relnamespace, 'partitioned table',
                  c.relname::text, c.relname::text, pg_get_partkeydef(c.oid)
           FROM pg_class c WHERE c.relkind = 'p'
           UNION ALL
           SELECT 'pg_proc'::regclass, p.oid, p.pronamespace,
                  CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                                 ELSE 'function' END,
                  p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, ''
           FROM pg_proc p
           UNION ALL
           SELECT 'pg_trigger'::regclass, t.oid, c.relnamespace, 'trigger',
                  t.tgname || ' on ' || c.relname, c.relname::text, ''
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
           UNION ALL
           SELECT 'pg_type'::regclass, t.oid, t.typnamespace,
                  CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'composite type' END,
                  t.typname::text, NULL, ''
           FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
           WHERE t.typtype = 'd' OR (t.typtype = 'c' AND c.relkind = 'c')
         ) o
         JOIN pg_namespace n ON n.oid = o.ns
         WHERE n.nspname = ANY($1::text[])
           AND NOT EXISTS (SELECT 1 FROM pg_depend e
                           WHERE e.classid = o.cls AND e.objid = o.oid AND e.deptype = 'e')
         ORDER BY 2, 1, 3",
        &[(&scope.schemas, postgres::types::Type::TEXT_ARRAY)],
    )?;
    for r in rows {
        let kind: String = r.get(0);
        let schema: String = r.get(1);
        let name: String = r.get(2);
        let table: Option<String> = r.get(3);
        let detail: String = r.get(4);
        if let Some(t) = &table {
            if !scope.contains_table(&QualName::new(schema.clone(), t.clone())) {
                continue;
            }
        }
        out.push(match kind.as_str() {
            "partitioned table" => format!(
                "table {schema}.{name} is partitioned (PARTITION BY {detail}): the models \
                 declare it as a plain table, and its partitions are not managed"
            ),
            "domain" => format!(
                "domain {schema}.{name} is not managed by Retort: columns of this type say \
                 `type = \"{schema}.{name}\"`, and the domain must exist before they are created"
            ),
            _ => format!("{kind} {schema}.{name} is not managed by Retort: it is left as it is"),
        });
    }
    Ok(out)
}

/// Reads the database in `scope` and writes it as native models.
pub fn write(
    client: &mut postgres::Client,
    scope: &Scope,
    naming: &NamingConvention,
    header: Vec<String>,
) -> Result<(Catalog, Written, Vec<String>)> {
    let db = crate::introspect(client, scope)?;
    let opts = WriteOptions {
        default_schema: default_schema(scope),
        naming: naming.clone(),
        header,
        unmanaged: unmanaged(client, scope)?,
    };
    let written = write_models(&db, &opts);
    Ok((db, written, opts.unmanaged))
}

/// Reads `written` back with the model-reader as the CLI would (scope, naming convention) and
/// returns its catalog; an error here is a bug of the writer.
pub fn read_back(
    path: &str,
    written: &Written,
    scope: &Scope,
    naming: &NamingConvention,
) -> Result<retort_model_reader::Models> {
    let opts = retort_model_reader::ReadOptions {
        default_schema: default_schema(scope),
        schemas: Some(scope.schemas.clone()),
    };
    let mut models =
        retort_model_reader::read_sources(&[(path.to_string(), written.source.clone())], &opts)
            .map_err(|e| {
                anyhow!(
                    "the imported models do not read back (a bug of `retort import`; nothing \
                     was written):\n{e}"
                )
            })?;
    naming.apply(&mut models.catalog);
    Ok(models)
}

/// The whole import: write, read back, canonicalise the read-back expressions through a scratch
/// database from `scratch`, and diff against the database.
pub fn import(
    client: &mut postgres::Client,
    scratch: &dyn retort_engine::ScratchProvider,
    scope: &Scope,
    naming: &NamingConvention,
    path: &str,
    header: Vec<String>,
) -> Result<Imported> {
    let (db, written, unmanaged) = write(client, scope, naming, header)?;
    let models = read_back(path, &written, scope, naming)?;
    let mut server = retort_engine::Server { scratch };
    let normalized = retort_engine::Normalizer::normalize(&mut server, &models, scope)?;
    let canon_warning = normalized.fallback.map(|e| crate::redact(&e));
    let catalog = normalized.catalog;
    let remaining = crate::generate(&db, &catalog, scope).changes;
    Ok(Imported {
        written,
        unmanaged,
        remaining,
        canon_warning,
    })
}
