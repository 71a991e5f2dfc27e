//! `retort import`: native model source written from the live database (`retort-model-writer`),
//! checked by reading it back and diffing it against the database it came from.

use anyhow::{anyhow, Result};
use retort_model_writer::{write_models, WriteOptions, Written};
use retort_schema::{Catalog, Change, NamingConvention, Scope};

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
    /// The database's views, functions, procedures and triggers as an SQL declaration file
    /// (`objects_sql`), when it has any.
    pub sql: Option<ObjectsFile>,
}

/// An SQL declaration file written by import: the text and what it declares.
#[derive(Debug, Clone)]
pub struct ObjectsFile {
    pub text: String,
    /// (kind label, count), in `ObjectKind` order.
    pub counts: Vec<(&'static str, usize)>,
}

/// The objects of `db` as an SQL declaration file: each definition as the server prints it, in
/// an order that creates what an object uses before the object. `None` when there are none.
pub fn objects_sql(db: &Catalog) -> Option<ObjectsFile> {
    db.objects().next()?;
    let mut tables_only = db.clone();
    for s in &mut tables_only.schemas {
        s.objects.clear();
    }
    let changes = retort_differ::diff(&tables_only, db);
    let mut text = String::from(
        "-- Views, functions and triggers imported from the database by `retort import`, as\n\
         -- PostgreSQL prints them. Declared here (retort.toml: [models] sql), Retort manages them:\n\
         -- edit this file, then `retort revision --autogenerate`.\n\n",
    );
    text.push_str(&retort_render::render_body(&changes));
    let counts = retort_schema::ObjectKind::ALL
        .iter()
        .map(|k| (k.label(), db.objects().filter(|o| o.kind == *k).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Some(ObjectsFile { text, counts })
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
    out.extend(retort_introspector::unmodelled_objects(client, scope)?);
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
    let mut catalog = normalized.catalog;
    // The written SQL file declares the views, functions and triggers as they are.
    retort_schema::object::keep_unmanaged(&mut catalog, &db, |_| false);
    let remaining = crate::generate(&db, &catalog, scope).changes;
    Ok(Imported {
        sql: objects_sql(&db),
        written,
        unmanaged,
        remaining,
        canon_warning,
    })
}
