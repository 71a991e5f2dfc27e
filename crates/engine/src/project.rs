//! `Project`: everything the engine needs to know about one project (where its models are, how
//! they are read and named, which schemas and properties it manages, where its migrations live).

use anyhow::Result;
use retort_model_reader::{ModelErrors, Models, ReadOptions};
use retort_schema::{Catalog, NamingConvention, Scope};
use std::path::PathBuf;

use crate::cache::ScratchCache;
use crate::manage::Manage;

/// Where the models come from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// Files matched by glob patterns relative to `root` (`[models] paths` of retort.toml).
    Files { root: PathBuf, paths: Vec<String> },
    /// Model sources held in memory, as (name used in messages, Rust source).
    Sources(Vec<(String, String)>),
}

/// One project, as the engine sees it. The CLI builds it from retort.toml; a Rust user builds
/// it in code (for example in a test of their own application).
#[derive(Debug, Clone)]
pub struct Project {
    pub models: ModelSource,
    /// How the models are read (default schema, schemas allowed).
    pub read: ReadOptions,
    /// `[scope]`: the schemas and tables Retort manages, and the version table.
    pub scope: Scope,
    /// `[naming]`: names given to constraints and indexes the models leave unnamed.
    pub naming: NamingConvention,
    /// `[manage]`: the properties the models manage beyond (or short of) their dialect's.
    pub manage: Manage,
    /// Where the migrations are (`<id>/up.sql`, `down.sql`, `retort.sum`).
    pub migrations_dir: PathBuf,
    /// Where the models as read are kept between runs (`cache`), so unchanged model files are
    /// not parsed again; `None`: always parsed.
    pub cache: Option<ScratchCache>,
    /// SQL declaration files (`[models] sql`): views, functions, triggers and other objects in
    /// plain SQL, run on a scratch database and read back. An empty `Sources` list: none.
    pub sql: ModelSource,
}

impl Project {
    /// A project whose models are one in-memory source, with every other setting at its default
    /// (schema `public`, migrations in `migrations/`).
    pub fn from_source(name: &str, source: &str) -> Project {
        Project {
            models: ModelSource::Sources(vec![(name.to_string(), source.to_string())]),
            read: ReadOptions::default(),
            scope: Scope::default(),
            naming: NamingConvention::default(),
            manage: Manage::default(),
            migrations_dir: PathBuf::from("migrations"),
            cache: None,
            sql: ModelSource::Sources(Vec::new()),
        }
    }

    /// `from_source` with SQL declaration files held in memory, as (name, SQL text).
    pub fn with_sql(mut self, files: Vec<(String, String)>) -> Project {
        self.sql = ModelSource::Sources(files);
        self
    }

    /// The SQL declaration files as (name used in messages, text), in the order configured.
    pub fn read_sql(&self) -> Result<Vec<(String, String)>, ModelErrors> {
        match &self.sql {
            ModelSource::Sources(s) => Ok(s.clone()),
            ModelSource::Files { paths, .. } if paths.is_empty() => Ok(Vec::new()),
            ModelSource::Files { root, paths } => {
                let files = retort_model_reader::expand_globs(root, paths)?;
                let mut out = Vec::with_capacity(files.len());
                for f in files {
                    let name = f
                        .strip_prefix(root)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| f.display().to_string());
                    match std::fs::read_to_string(&f) {
                        Ok(text) => out.push((name, text)),
                        Err(e) => {
                            return Err(ModelErrors(vec![retort_model_reader::ModelError {
                                span: retort_model_reader::Span {
                                    file: name,
                                    line: 0,
                                    col: 0,
                                },
                                message: format!("cannot read SQL declaration file: {e}"),
                            }]))
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// The reading options `[scope]` implies: its first schema is the default one, and a model
    /// placed outside its schemas is an error.
    pub fn read_options_for(scope: &Scope) -> ReadOptions {
        ReadOptions {
            default_schema: scope
                .schemas
                .first()
                .cloned()
                .unwrap_or_else(|| "public".into()),
            schemas: Some(scope.schemas.clone()),
        }
    }

    /// Reads the models, then names what they leave unnamed (`[naming]`).
    pub fn read_models(&self) -> Result<Models, ModelErrors> {
        let mut models = match &self.models {
            ModelSource::Sources(sources) => {
                retort_model_reader::read_sources(sources, &self.read)?
            }
            ModelSource::Files { root, paths } => {
                let files = retort_model_reader::expand_globs(root, paths)?;
                let rel: Vec<std::path::PathBuf> = files
                    .iter()
                    .map(|f| {
                        f.strip_prefix(root)
                            .map(|p| p.to_path_buf())
                            .unwrap_or_else(|_| f.clone())
                    })
                    .collect();
                // Read through paths relative to the project so messages stay short; fall back to absolute.
                let cwd_is_root = std::env::current_dir()
                    .ok()
                    .and_then(|d| d.canonicalize().ok())
                    == root.canonicalize().ok();
                let used = if cwd_is_root { &rel } else { &files };
                let key = self
                    .cache
                    .as_ref()
                    .and_then(|c| crate::cache::models_key(c, &files, used, &self.read));
                let cached = self
                    .cache
                    .as_ref()
                    .zip(key.as_deref())
                    .and_then(|(c, k)| c.models(k));
                match cached {
                    Some(m) => m,
                    None => {
                        let m = retort_model_reader::read_files(used, &self.read)?;
                        if let (Some(c), Some(k)) = (&self.cache, &key) {
                            c.store_models(k, &m);
                        }
                        m
                    }
                }
            }
        };
        self.naming.apply(&mut models.catalog);
        models.sql = self.read_sql()?;
        Ok(models)
    }

    /// Refuses to diff when the models declare no table while the other side has tables in
    /// scope: model paths that match nothing useful (a Diesel `schema.rs`, ordinary code) would
    /// otherwise turn into a `DROP TABLE` for every table.
    pub fn refuse_empty_models(
        &self,
        models: &Catalog,
        other: &Catalog,
        other_name: &str,
    ) -> Result<()> {
        if models.tables().next().is_some() {
            return Ok(());
        }
        let existing = self.scope.filter_ref(other).tables().count();
        if existing == 0 {
            return Ok(());
        }
        let (paths, files) = match &self.models {
            ModelSource::Files { root, paths } => (
                paths.clone(),
                retort_model_reader::expand_globs(root, paths)
                    .map(|f| f.len())
                    .unwrap_or(0),
            ),
            ModelSource::Sources(s) => (s.iter().map(|(n, _)| n.clone()).collect(), s.len()),
        };
        anyhow::bail!(
            "the models declare no table, but {other_name} has {existing} table(s) in scope ({}): \
             [models] paths = {:?} matched {files} file(s) and none of them declares a #[derive(Table)] \
             struct or a SeaORM entity. Nothing was done: point [models] paths in retort.toml at the \
             files that hold the models",
            self.scope.schemas.join(", "),
            paths,
        )
    }

    /// The revision graph of the migrations directory.
    pub fn graph(&self) -> Result<retort_migrate::Graph> {
        Ok(retort_migrate::load(&self.migrations_dir)?)
    }
}

/// Reads the database catalog within `scope`.
pub fn introspect(client: &mut postgres::Client, scope: &Scope) -> Result<Catalog> {
    Ok(retort_introspector::introspect(client, scope)?)
}
