//! The engine behind the `retort` binary: reads models and the database, diffs, renders migrations.
//! `main.rs` only parses flags, prints and picks exit codes; tests drive this API directly.

pub mod config;

use anyhow::{Context, Result};
use retort_schema::{Catalog, Change, Scope};

pub use retort_model_reader as model_reader;

/// A generated migration: the ordered changes and the rendered up and down bodies.
#[derive(Debug, Clone)]
pub struct Generated {
    pub changes: Vec<Change>,
    pub up: String,
    pub down: String,
}

impl Generated {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diffs the database catalog against the model catalog, both already limited to `scope`.
pub fn generate(db: &Catalog, models: &Catalog, scope: &Scope) -> Generated {
    let db = scope.filter(db.clone());
    let models = scope.filter(models.clone());
    let changes = retort_differ::diff(&db, &models);
    let down_changes = retort_differ::inverse(&changes);
    Generated {
        up: retort_render::render_body(&changes),
        down: retort_render::render_body(&down_changes),
        changes,
    }
}

/// Reads the models configured in `cfg`.
pub fn read_models(
    cfg: &config::Config,
) -> Result<retort_model_reader::Models, retort_model_reader::ModelErrors> {
    let files = retort_model_reader::expand_globs(&cfg.root, &cfg.model_paths)?;
    let rel: Vec<std::path::PathBuf> = files
        .iter()
        .map(|f| {
            f.strip_prefix(&cfg.root)
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|_| f.clone())
        })
        .collect();
    // Read through paths relative to the project so messages stay short; fall back to absolute.
    let cwd_is_root = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        == cfg.root.canonicalize().ok();
    let opts = retort_model_reader::ReadOptions {
        default_schema: cfg
            .scope
            .schemas
            .first()
            .cloned()
            .unwrap_or_else(|| "public".into()),
    };
    if cwd_is_root {
        retort_model_reader::read_files(&rel, &opts)
    } else {
        retort_model_reader::read_files(&files, &opts)
    }
}

/// Connects to PostgreSQL, with a message that says which URL failed and why.
pub fn connect(url: &str) -> Result<postgres::Client> {
    postgres::Client::connect(url, postgres::NoTls)
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// Hides the password of a connection URL.
pub fn redact(url: &str) -> String {
    if let (Some(scheme_end), Some(at)) = (url.find("://"), url.find('@')) {
        let userinfo = &url[scheme_end + 3..at];
        if let Some((user, _)) = userinfo.split_once(':') {
            return format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]);
        }
    }
    url.to_string()
}

/// Reads the database catalog within `scope`.
pub fn introspect(client: &mut postgres::Client, scope: &Scope) -> Result<Catalog> {
    Ok(retort_introspector::introspect(client, scope)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
