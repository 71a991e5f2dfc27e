//! Reads the live PostgreSQL catalog of the configured schemas into Retort's Schema IR.
//! A fixed set of batched pg_catalog queries (one per object kind, all tables at once).

mod introspect;
mod query;

use postgres::IsolationLevel;
use retort_schema::{Catalog, Scope};

/// How many catalog queries one `introspect` call sends, however many tables there are.
pub const QUERY_COUNT: usize = query::ALL.len();

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A catalog query failed, or one of its values could not be read.
    #[error("catalog query `{query}` failed")]
    Query {
        query: &'static str,
        #[source]
        source: postgres::Error,
    },
    /// A catalog query returned something this reader does not understand.
    #[error("catalog query `{query}` returned an unexpected value: {detail}")]
    Unexpected { query: &'static str, detail: String },
    /// The read-only snapshot the queries run in could not be opened or closed.
    #[error("catalog snapshot transaction failed")]
    Transaction {
        #[source]
        source: postgres::Error,
    },
}

/// The server's `server_version_num`, e.g. `150018` for 15.18.
pub fn server_version(client: &mut postgres::Client) -> Result<u32, Error> {
    let q = &query::SERVER_VERSION;
    let rows = client
        .query_typed(q.sql_for(query::VERSION_UNKNOWN).as_ref(), &[])
        .map_err(|source| Error::Query {
            query: q.name,
            source,
        })?;
    introspect::server_version(&rows)
}

/// Reads the schemas in `scope` into a canonical `Catalog`: tables (ordinary and partitioned,
/// not partitions, not extension members, not the version table) and enums.
///
/// Sends exactly `QUERY_COUNT` queries, inside one read-only repeatable-read transaction so they
/// all see the same snapshot; `client` must not be inside a transaction already.
pub fn introspect(client: &mut postgres::Client, scope: &Scope) -> Result<Catalog, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|source| Error::Transaction { source })?;
    let version = introspect::server_version(&query::run(
        &mut tx,
        &query::SERVER_VERSION,
        query::VERSION_UNKNOWN,
        &[],
    )?)?;
    query::run(&mut tx, &query::SEARCH_PATH, version, &[])?;
    let schemas = &scope.schemas;
    // Each result is turned into IR row by row as it arrives. The first problem found in a row
    // is kept until every query has run, so that a failing query is still the error reported.
    let mut failed = None;
    let mut catalog = Catalog::default();
    let mut existing: Vec<String> = Vec::new();
    query::for_each(
        &mut tx,
        &query::SCHEMAS,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| {
            existing.push(introspect::schema_row(row)?);
            Ok(())
        },
    )?;
    query::for_each(
        &mut tx,
        &query::ENUMS,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| {
            let e = introspect::enum_row(row)?;
            catalog.schema_mut(&e.name.schema).enums.push(e);
            Ok(())
        },
    )?;
    let mut by_oid = introspect::Tables::default();
    query::for_each(
        &mut tx,
        &query::TABLES,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| introspect::add_table(&mut by_oid, row),
    )?;
    let mut fields = None;
    let mut types = introspect::Types::default();
    query::for_each(
        &mut tx,
        &query::COLUMNS,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| {
            let f = match &fields {
                Some(f) => f,
                None => fields.insert(introspect::ColumnFields::of(row)?),
            };
            introspect::add_column(&mut by_oid, &mut types, f, row)
        },
    )?;
    query::for_each(
        &mut tx,
        &query::CONSTRAINTS,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| introspect::add_constraint(&mut by_oid, row),
    )?;
    query::for_each(
        &mut tx,
        &query::INDEXES,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| introspect::add_index(&mut by_oid, row),
    )?;
    query::for_each(
        &mut tx,
        &query::OBJECTS,
        version,
        &query::schemas(schemas),
        &mut failed,
        |row| {
            let o = introspect::object_row(row)?;
            catalog.schema_mut(&o.name.schema).objects.push(o);
            Ok(())
        },
    )?;
    tx.commit()
        .map_err(|source| Error::Transaction { source })?;
    if let Some(err) = failed {
        return Err(err);
    }

    for table in by_oid.into_tables() {
        catalog.schema_mut(&table.name.schema).tables.push(table);
    }
    let mut catalog = scope.filter(catalog).without_empty_schemas();
    // An existing schema other than `public` is kept even when empty: the models may place
    // tables in it, and it must then be neither created by up nor dropped by down.
    for name in existing {
        if name != "public" {
            catalog.schema_mut(&name);
        }
    }
    catalog.canonicalize();
    Ok(catalog)
}

/// Catalog queries `introspect` has sent from the calling thread so far (the `BEGIN` / `COMMIT`
/// around them are not counted). The difference around one call is always `QUERY_COUNT`; tests
/// use it to prove that no query runs per table.
pub fn queries_issued() -> usize {
    query::issued()
}

/// Objects in scope that the IR does not model (so Retort neither diffs nor drops them), as
/// sentences for the user: today exclusion constraints.
pub fn unmanaged_objects(
    client: &mut postgres::Client,
    scope: &Scope,
) -> Result<Vec<String>, Error> {
    let rows = client
        .query_typed(
            "SELECT n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid, true)
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE con.contype = 'x' AND n.nspname = ANY($1::text[])
             ORDER BY 1, 2, 3",
            &query::schemas(&scope.schemas),
        )
        .map_err(|source| Error::Query {
            query: "unmanaged_objects",
            source,
        })?;
    Ok(rows
        .iter()
        .filter(|r| {
            scope.contains_table(&retort_schema::QualName::new(
                r.get::<_, String>(0),
                r.get::<_, String>(1),
            ))
        })
        .map(|r| {
            format!(
                "exclusion constraint {} on {}.{} ({}) is not managed by Retort: it is left as it is",
                r.get::<_, String>(2),
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(3)
            )
        })
        .collect())
}

/// Objects in scope of kinds the IR does not model, as sentences for `retort import`'s notes:
/// sequences not owned by a column, aggregates, domains, composite types and the partitioning of
/// partitioned tables (extension members are left out). Views, functions, procedures and
/// triggers are modelled (`Object`): import writes them to an SQL declaration file.
pub fn unmodelled_objects(
    client: &mut postgres::Client,
    scope: &Scope,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let rows = client
        .query_typed(
            "SELECT o.kind, n.nspname, o.name, o.tbl, o.detail FROM (
           SELECT 'pg_class'::regclass AS cls, c.oid, c.relnamespace AS ns,
                  'partitioned table' AS kind,
                  c.relname::text AS name, c.relname::text AS tbl,
                  pg_get_partkeydef(c.oid) AS detail
           FROM pg_class c WHERE c.relkind = 'p'
           UNION ALL
           SELECT 'pg_proc'::regclass, p.oid, p.pronamespace, 'aggregate',
                  p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, ''
           FROM pg_proc p WHERE p.prokind = 'a'
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
            &query::schemas(&scope.schemas),
        )
        .map_err(|source| Error::Query {
            query: "unmodelled_objects",
            source,
        })?;
    for r in rows {
        let kind: String = r.get(0);
        let schema: String = r.get(1);
        let name: String = r.get(2);
        let table: Option<String> = r.get(3);
        let detail: String = r.get(4);
        if let Some(t) = &table {
            if !scope.contains_table(&retort_schema::QualName::new(schema.clone(), t.clone())) {
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

/// Types the models use that do not exist in the database, each with the extension that usually
/// provides it (`citext` -> `CREATE EXTENSION citext`).
pub fn missing_types(
    client: &mut postgres::Client,
    models: &Catalog,
) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = Vec::new();
    for t in models.tables() {
        for c in &t.columns {
            let mut ty = &c.ty;
            while let retort_schema::ColumnType::Array { element } = ty {
                ty = element;
            }
            if let retort_schema::ColumnType::Other { sql } = ty {
                if !names.contains(sql) {
                    names.push(sql.clone());
                }
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let row = client
            .query_typed_one(
                "SELECT to_regtype($1) IS NOT NULL",
                &[(&name, postgres::types::Type::TEXT)],
            )
            .map_err(|source| Error::Query {
                query: "missing_types",
                source,
            })?;
        if !row.get::<_, bool>(0) {
            let ext = match name.as_str() {
                "citext" => Some("citext"),
                "hstore" => Some("hstore"),
                "ltree" => Some("ltree"),
                "geometry" | "geography" => Some("postgis"),
                "vector" => Some("vector"),
                _ => None,
            };
            out.push(match ext {
                Some(e) => format!(
                    "the models use type {name}, which this database lacks: it comes from the extension {e}; add `CREATE EXTENSION IF NOT EXISTS {e};` to the migration"
                ),
                None => format!("the models use type {name}, which this database lacks"),
            });
        }
    }
    Ok(out)
}
