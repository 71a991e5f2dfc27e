//! The engine behind the `retort` binary: reads models and the database, diffs, renders migrations.
//! `main.rs` only parses flags, prints and picks exit codes; tests drive this API directly.

pub mod canon;
pub mod config;

use anyhow::{Context, Result};
use retort_schema::{Catalog, Change, Scope};

pub use retort_differ::{Hints, Rename};
pub use retort_model_reader as model_reader;
pub use retort_render::RenderOptions;

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

/// Diffs the database catalog against the model catalog, both limited to `scope`.
pub fn generate(db: &Catalog, models: &Catalog, scope: &Scope) -> Generated {
    generate_with(
        db,
        models,
        &Hints::default(),
        &RenderOptions::default(),
        scope,
    )
}

/// Like `generate`, honouring `renamed_from` hints and render options.
pub fn generate_with(
    db: &Catalog,
    models: &Catalog,
    hints: &Hints,
    opts: &RenderOptions,
    scope: &Scope,
) -> Generated {
    let db = scope.filter_ref(db);
    let models = scope.filter_ref(models);
    let changes = retort_differ::diff_with(&db, &models, hints);
    let down_changes = retort_differ::inverse(&changes);
    Generated {
        up: retort_render::render_body_with(&changes, opts),
        down: retort_render::render_body_with(&down_changes, opts),
        changes,
    }
}

/// The `renamed_from` hints of the models, in the differ's terms.
pub fn rename_hints(models: &retort_model_reader::Models) -> Hints {
    Hints {
        renames: models
            .renames
            .iter()
            .map(|r| Rename {
                table: r.table.clone(),
                column: r.column.clone(),
                from: r.from.clone(),
            })
            .collect(),
        enum_values: models
            .enum_value_renames
            .iter()
            .map(|r| retort_differ::EnumValueRename {
                enum_type: r.enum_type.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
            })
            .collect(),
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
    let mut models = if cwd_is_root {
        retort_model_reader::read_files(&rel, &opts)
    } else {
        retort_model_reader::read_files(&files, &opts)
    }?;
    cfg.naming.apply(&mut models.catalog);
    Ok(models)
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

/// A throwaway database on the configured server, dropped on drop: the place where `check`,
/// `verify` and `stamp --verify` replay migrations without touching the real database.
pub struct ScratchDb {
    admin: postgres::Config,
    pub config: postgres::Config,
    name: String,
}

impl ScratchDb {
    pub fn create(url: &str) -> Result<ScratchDb> {
        let base: postgres::Config = url
            .parse()
            .with_context(|| format!("invalid database URL {}", redact(url)))?;
        let name = format!(
            "retort_scratch_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let mut admin = base.clone();
        admin.dbname("postgres");
        let mut client = admin.connect(postgres::NoTls).with_context(|| {
            format!(
                "cannot connect to the database at {} to create a scratch database",
                redact(url)
            )
        })?;
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .context("cannot create a scratch database (does the user have CREATEDB?)")?;
        let mut config = base;
        config.dbname(&name);
        Ok(ScratchDb {
            admin,
            config,
            name,
        })
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        Ok(self.config.connect(postgres::NoTls)?)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = self.admin.connect(postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Upgrades `client` to `target` (quietly) and returns the schema there.
pub fn schema_at(
    client: &mut postgres::Client,
    graph: &retort_migrate::Graph,
    target: &str,
    scope: &Scope,
) -> Result<Catalog> {
    let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
    let steps = runner.plan_upgrade(graph, target)?;
    runner.run(graph, &steps, true, &mut |_| {})?;
    introspect(client, scope)
}

/// One difference found by `verify`.
#[derive(Debug, Clone)]
pub struct VerifyFailure {
    /// The revision whose down did not undo its up (or "models" at head).
    pub revision: String,
    pub changes: Vec<Change>,
}

/// Replays every migration on a scratch database: up one step at a time recording each schema,
/// compares head with the models, then down one step at a time comparing with the recording.
pub fn verify(
    client: &mut postgres::Client,
    graph: &retort_migrate::Graph,
    models: &Catalog,
    scope: &Scope,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<VerifyFailure>> {
    use std::collections::BTreeMap;
    let mut failures = Vec::new();
    let mut seen: BTreeMap<Vec<String>, Catalog> = BTreeMap::new();
    let base = introspect(client, scope)?;
    seen.insert(Vec::new(), base);
    let order: Vec<String> = graph.order().to_vec();
    for id in &order {
        let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
        let steps = runner.plan_upgrade(graph, id)?;
        runner.run(graph, &steps, true, &mut |_| {})?;
        let mut cur = runner.current()?;
        cur.sort();
        log(&format!("up   {id}"));
        let cat = introspect(client, scope)?;
        seen.insert(cur, cat);
    }
    let head = introspect(client, scope)?;
    let drift = generate(&head, models, scope);
    if !drift.is_empty() {
        failures.push(VerifyFailure {
            revision: "models".into(),
            changes: drift.changes,
        });
    }
    loop {
        let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
        let cur = runner.current()?;
        if cur.is_empty() {
            break;
        }
        let steps = runner.plan_downgrade(graph, "-1")?;
        let reverted: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
        runner.run(graph, &steps, true, &mut |_| {})?;
        let mut now = runner.current()?;
        now.sort();
        log(&format!("down {}", reverted.join(", ")));
        if let Some(expected) = seen.get(&now) {
            let actual = introspect(client, scope)?;
            let g = generate(&actual, expected, scope);
            if !g.is_empty() {
                failures.push(VerifyFailure {
                    revision: reverted.join(", "),
                    changes: g.changes,
                });
                break;
            }
        }
    }
    Ok(failures)
}
