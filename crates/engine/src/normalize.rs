//! Normalisers: how model expressions get the spelling the database catalog uses before a diff.
//! `Offline` trusts the pure normaliser of the readers; `Server` asks PostgreSQL (`canon`).

use anyhow::Result;
use retort_model_reader::Models;
use retort_schema::{Catalog, Scope};
use serde::Serialize;

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
/// database and the introspected subset is taken whole (`canon::canonicalize`). When no scratch
/// database can be created (no CREATEDB), falls back to `Offline` and says why.
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
        if crate::canon::expression_subset(&models.catalog).is_none() {
            return Ok(server(models.catalog.clone()));
        }
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
        let catalog =
            crate::canon::canonicalize(&mut client, &models.catalog, &models.origins, scope)?;
        Ok(server(catalog))
    }
}
