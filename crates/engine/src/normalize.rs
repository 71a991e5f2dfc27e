//! Normalisers: how model expressions get the spelling the database catalog uses before a diff.
//! `Offline` trusts the pure normaliser of the readers; `Server` asks PostgreSQL (`canon`).

use anyhow::Result;
use retort_model_reader::Models;
use retort_schema::{Catalog, Enum, Object, QualName, Scope, Table};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::scratch::ScratchProvider;

/// Which normaliser ran, as reports say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalizerKind {
    /// The readers' own normalisation only (no database).
    Offline,
    /// Model expressions written into a scratch database and read back.
    Server,
}

impl NormalizerKind {
    /// The phrase text reports use.
    pub fn label(self) -> &'static str {
        match self {
            NormalizerKind::Offline => "offline normaliser",
            NormalizerKind::Server => "server normaliser (scratch database)",
        }
    }
}

/// The models' catalog after normalisation, and what did it.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub catalog: Catalog,
    pub normalizer: NormalizerKind,
    /// Why the server normaliser fell back to the offline one, when it did.
    pub fallback: Option<String>,
}

/// Turns the models' catalog into the spelling the database would give it.
pub trait Normalizer {
    fn normalize(&mut self, models: &Models, scope: &Scope) -> Result<Normalized>;

    /// The objects the SQL declaration `files` declare over `catalog` (the normalised models),
    /// in the server's spelling. Only the server can say: without one this is an error.
    fn declare(
        &mut self,
        _catalog: &Catalog,
        files: &[(String, String)],
        _scope: &Scope,
    ) -> Result<Vec<Object>> {
        anyhow::bail!(
            "the SQL declaration files ([models] sql: {}) are read by running them on a scratch \
             database, and this run has none (offline normaliser): give Retort a scratch \
             database ([shadow], or a server it may CREATE DATABASE on)",
            files
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Puts `objects` into `catalog` (each in its schema) and restores the canonical order.
pub fn with_objects(catalog: &mut Catalog, objects: Vec<Object>) {
    for o in objects {
        catalog.schema_mut(&o.name.schema).objects.push(o);
    }
    catalog.canonicalize();
}

/// The readers' normalisation as it is: no database needed. Expressions PostgreSQL would
/// respell (casts, operators, function defaults) may then show up as differences.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Normalizer for Offline {
    fn normalize(&mut self, models: &Models, _scope: &Scope) -> Result<Normalized> {
        Ok(Normalized {
            catalog: models.catalog.clone(),
            normalizer: NormalizerKind::Offline,
            fallback: None,
        })
    }
}

/// The server's spelling: the tables whose expressions need it are created in a scratch
/// database and the introspected subset is taken whole (`canon`). Tables the provider's cache
/// already holds in the server's spelling are taken from it, and with all of them cached no
/// scratch database is made. When none can be made (no CREATEDB), falls back to `Offline` and
/// says why.
pub struct Server<P> {
    pub scratch: P,
}

impl<P: ScratchProvider> Normalizer for Server<P> {
    fn normalize(&mut self, models: &Models, scope: &Scope) -> Result<Normalized> {
        let server = |catalog| Normalized {
            catalog,
            normalizer: NormalizerKind::Server,
            fallback: None,
        };
        let Some(sub) = crate::canon::expression_subset(&models.catalog) else {
            return Ok(server(models.catalog.clone()));
        };
        // Keys of the subset's tables, in `sub.tables()` order, when there is a cache to ask.
        let cache = self
            .scratch
            .cache()
            .and_then(|c| Some((c, self.scratch.identity().ok()?)))
            .map(|(c, identity)| {
                let enums: Vec<&Enum> = sub.schemas.iter().flat_map(|s| &s.enums).collect();
                (
                    c,
                    crate::cache::canon_keys(c, &identity, sub.tables(), &enums, scope),
                )
            });
        let mut canonical: BTreeMap<QualName, Table> = BTreeMap::new();
        let mut missing = sub.clone();
        if let Some((cache, keys)) = &cache {
            let mut found = cache.canonical_tables(keys);
            for (t, key) in sub.tables().zip(keys) {
                if let Some(c) = found.remove(key) {
                    canonical.insert(t.name.clone(), c);
                }
            }
            for s in &mut missing.schemas {
                s.tables.retain(|t| !canonical.contains_key(&t.name));
            }
        }
        if missing.tables().next().is_some() {
            let scratch = match self.scratch.create() {
                Ok(s) => s,
                Err(e) => {
                    return Ok(Normalized {
                        catalog: models.catalog.clone(),
                        normalizer: NormalizerKind::Offline,
                        fallback: Some(format!("{e:#}")),
                    })
                }
            };
            let mut client = scratch.connect()?;
            // Functions the SQL declaration files define may be called by model expressions.
            // Files that need the tables fail here and are left out; `declare` reports them.
            let _ = crate::declare::before_tables(&mut client, &models.sql);
            canonical.extend(crate::canon::canonical_tables(
                &mut client,
                &missing,
                &models.origins,
                scope,
                &self.scratch.extensions(),
            )?);
        }
        if let Some((cache, keys)) = &cache {
            let entries = sub
                .tables()
                .zip(keys)
                .filter_map(|(t, k)| Some((k.clone(), canonical.get(&t.name)?.clone())))
                .collect();
            cache.store_canonical_tables(entries);
        }
        let mut catalog = models.catalog.clone();
        crate::canon::take_whole(&mut catalog, &canonical);
        Ok(server(catalog))
    }

    fn declare(
        &mut self,
        catalog: &Catalog,
        files: &[(String, String)],
        scope: &Scope,
    ) -> Result<Vec<Object>> {
        let extensions = self.scratch.extensions();
        let key = self.scratch.cache().and_then(|c| {
            let identity = self.scratch.identity().ok()?;
            Some(crate::cache::declared_key(
                c,
                &identity,
                catalog,
                files,
                scope,
                &extensions,
            ))
        });
        if let (Some(c), Some(k)) = (self.scratch.cache(), &key) {
            if let Some(objects) = c.declared(k) {
                return Ok(objects);
            }
        }
        let scratch = self.scratch.create()?;
        let mut client = scratch.connect()?;
        let objects =
            crate::declare::declared_objects(&mut client, catalog, files, scope, &extensions)?;
        if let (Some(c), Some(k)) = (self.scratch.cache(), &key) {
            c.store_declared(k, &objects);
        }
        Ok(objects)
    }
}
