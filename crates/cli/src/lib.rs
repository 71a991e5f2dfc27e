//! The engine behind the `retort` binary: reads models and the database, diffs, renders migrations.
//! `main.rs` only parses flags, prints and picks exit codes; tests drive this API directly.

pub mod canon;
pub mod config;
pub mod diagnostics;
pub mod import;
pub mod manage;
pub mod redact;
pub mod shadow;

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
    /// For each change, whether the models declare what it concerns or are silent about it.
    pub in_models: Vec<manage::Provenance>,
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
    let in_models = changes
        .iter()
        .map(|c| manage::provenance(c, &models))
        .collect();
    render(changes, in_models, opts)
}

/// Like `generate_with`, and refuses a migration whose changes, applied in memory, would not
/// reach the models (a differ bug must never become a silently incomplete migration).
pub fn generate_checked(
    db: &Catalog,
    models: &Catalog,
    hints: &Hints,
    opts: &RenderOptions,
    scope: &Scope,
) -> Result<Generated> {
    let g = generate_with(db, models, hints, opts, scope);
    retort_differ::verify(&scope.filter_ref(db), &scope.filter_ref(models), &g.changes)?;
    Ok(g)
}

/// Renders ordered changes as a migration: up, and down from their reversed inverses.
/// `in_models` says, per change, whether the models declare what it concerns.
pub fn render(
    changes: Vec<Change>,
    in_models: Vec<manage::Provenance>,
    opts: &RenderOptions,
) -> Generated {
    let down_changes = retort_differ::inverse(&changes);
    Generated {
        up: retort_render::render_body_with(&changes, opts),
        down: retort_render::render_body_with(&down_changes, opts),
        in_models,
        changes,
    }
}

/// PostgreSQL refuses to use an enum label in the transaction that added it (55P04 "unsafe use
/// of new value"). When `changes` add labels that later changes use (a default, a check, a
/// predicate), returns the label additions and the rest, rendered as two migrations.
pub fn split_enum_additions(g: &Generated, opts: &RenderOptions) -> Option<(Generated, Generated)> {
    let changes = &g.changes;
    let added_labels = |c: &Change| -> Vec<String> {
        match c {
            Change::AlterEnum { from, to, .. } => {
                let kept: Vec<&String> = to.iter().filter(|v| from.contains(v)).collect();
                let pure_addition =
                    kept.len() == from.len() && kept.iter().zip(from).all(|(a, b)| *a == b);
                if pure_addition {
                    to.iter().filter(|v| !from.contains(v)).cloned().collect()
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        }
    };
    let labels: Vec<String> = changes
        .iter()
        .flat_map(added_labels)
        .map(|v| retort_schema::quote_literal(&v))
        .collect();
    let used = changes.iter().any(|c| {
        added_labels(c).is_empty()
            && serde_json::to_string(c)
                .is_ok_and(|json| labels.iter().any(|l| json.contains(l.as_str())))
    });
    if labels.is_empty() || !used {
        return None;
    }
    let (first, rest): (Vec<_>, Vec<_>) = changes
        .iter()
        .cloned()
        .zip(g.in_models.iter().copied())
        .partition(|(c, _)| !added_labels(c).is_empty());
    let part = |pairs: Vec<(Change, manage::Provenance)>| {
        let (changes, in_models) = pairs.into_iter().unzip();
        render(changes, in_models, opts)
    };
    Some((part(first), part(rest)))
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
        schemas: Some(cfg.scope.schemas.clone()),
    };
    let mut models = if cwd_is_root {
        retort_model_reader::read_files(&rel, &opts)
    } else {
        retort_model_reader::read_files(&files, &opts)
    }?;
    cfg.naming.apply(&mut models.catalog);
    Ok(models)
}

/// Connects to PostgreSQL (URL or key=value string; see retort-connect), with a message that
/// says which server failed and why.
pub fn connect(url: &str) -> Result<postgres::Client> {
    connect_settings(&settings(url)?, "")
}

/// Resolves a connection string (PG* variables, ~/.pgpass, defaults), registering every
/// password for redaction and printing libpq's warnings.
pub fn settings(url: &str) -> Result<retort_connect::ConnectSettings> {
    let s = retort_connect::ConnectSettings::from_conninfo(url)
        .map_err(|e| anyhow::anyhow!("invalid database settings: {}", redact(&e.to_string())))?;
    for p in s.passwords() {
        redact::register_secret(p);
    }
    // Once per process, though check/verify resolve the settings more than once.
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    for w in &s.warnings {
        if !warned.contains(w) {
            eprintln!("warning: {}", redact(w));
            warned.push(w.clone());
        }
    }
    Ok(s)
}

fn connect_settings(
    s: &retort_connect::ConnectSettings,
    purpose: &str,
) -> Result<postgres::Client> {
    retort_connect::connect(s).map_err(|e| match e {
        retort_connect::Error::Connect { target, reasons } => anyhow::anyhow!(
            "cannot connect to the database at {}{purpose}: {}",
            redact(&target),
            redact(&reasons.join("; "))
        ),
        other => anyhow::anyhow!(
            "cannot connect to the database: {}",
            redact(&other.to_string())
        ),
    })
}

/// Hides the credentials of a connection string (see `redact`).
pub fn redact(url: &str) -> String {
    redact::redact(url)
}

/// The text of an error and its causes, each said once: `context: cause: cause`. A PostgreSQL
/// error is written as the server's message, SQLSTATE, detail and hint (its own text and its
/// cause's would otherwise repeat it: "db error: ERROR: x: ERROR: x").
pub fn error_text(error: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut skip_db_cause = false;
    for cause in error.chain() {
        if skip_db_cause && cause.downcast_ref::<postgres::error::DbError>().is_some() {
            continue;
        }
        skip_db_cause = false;
        let text = match cause.downcast_ref::<postgres::Error>() {
            Some(pg) => {
                skip_db_cause = true;
                retort_migrate::db_error_text(pg)
            }
            None => cause.to_string(),
        };
        if out.ends_with(&text) || out.contains(&format!(": {text}")) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Runs one statement with the extended protocol (an unnamed prepared statement): the server
/// refuses a text holding more than one command, so a statement can never smuggle in another.
pub fn execute_one<C: postgres::GenericClient>(client: &mut C, sql: &str) -> Result<()> {
    client.query_typed(sql, &[])?;
    Ok(())
}

/// Refuses to diff when the models declare no table while the other side has tables in scope:
/// model paths that match nothing useful (a Diesel `schema.rs`, ordinary code) would otherwise
/// turn into a `DROP TABLE` for every table.
pub fn refuse_empty_models(
    cfg: &config::Config,
    models: &Catalog,
    other: &Catalog,
    other_name: &str,
) -> Result<()> {
    if models.tables().next().is_some() {
        return Ok(());
    }
    let existing = cfg.scope.filter_ref(other).tables().count();
    if existing == 0 {
        return Ok(());
    }
    let files = retort_model_reader::expand_globs(&cfg.root, &cfg.model_paths)
        .map(|f| f.len())
        .unwrap_or(0);
    anyhow::bail!(
        "the models declare no table, but {other_name} has {existing} table(s) in scope ({}): \
         [models] paths = {:?} matched {files} file(s) and none of them declares a #[derive(Table)] \
         struct or a SeaORM entity. Nothing was done: point [models] paths in retort.toml at the \
         files that hold the models",
        cfg.scope.schemas.join(", "),
        cfg.model_paths,
    )
}

/// Refuses a migration that drops more than half of the managed tables, unless `allow`: a
/// misconfigured scope or model path is far more likely than a deliberate mass drop.
pub fn refuse_mass_drop(
    db: &Catalog,
    scope: &Scope,
    changes: &[Change],
    allow: bool,
) -> Result<()> {
    let managed = scope.filter_ref(db).tables().count();
    let dropped: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable { table } => Some(table.name.to_string()),
            _ => None,
        })
        .collect();
    if allow || dropped.len() * 2 <= managed {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to drop {} of the {managed} managed table(s) ({}{}): check [models] paths and \
         [scope] in retort.toml; if this is really wanted, pass --allow-mass-drop",
        dropped.len(),
        dropped
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        if dropped.len() > 5 { ", ..." } else { "" },
    )
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

    #[test]
    fn error_text_says_each_cause_once() {
        let inner = anyhow::anyhow!("disk full");
        let e = inner.context("writing x").context("saving");
        assert_eq!(error_text(&e), "saving: writing x: disk full");
        // A context that already quotes its cause does not repeat it.
        let e = anyhow::Error::msg("boom").context("step failed: boom");
        assert_eq!(error_text(&e), "step failed: boom");
    }

    #[test]
    fn execute_one_refuses_two_commands_in_one_text() {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            return;
        };
        let mut client = connect(&url).unwrap();
        execute_one(&mut client, "SELECT 1").unwrap();
        let err = execute_one(&mut client, "SELECT 1; SELECT 2").unwrap_err();
        assert!(format!("{err:#}").contains("multiple commands"), "{err:#}");
    }
}

/// `retort database create`: creates the configured database on its server (connecting to the
/// `postgres` maintenance database as the same user). Returns its name and whether it was created
/// (false: it already existed).
pub fn database_create(url: &str) -> Result<(String, bool)> {
    let target = settings(url)?;
    let name = target.dbname.clone();
    let mut admin = connect_settings(&target.with_dbname("postgres"), " (maintenance database)")?;
    if database_exists(&mut admin, &name)? {
        return Ok((name, false));
    }
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {}",
            retort_schema::quote_ident(&name)
        ))
        .with_context(|| format!("cannot create database {name} (does the user have CREATEDB?)"))?;
    Ok((name, true))
}

/// `retort database drop`: drops the configured database (other sessions are ended). Returns its
/// name and whether it existed.
pub fn database_drop(url: &str) -> Result<(String, bool)> {
    let target = settings(url)?;
    let name = target.dbname.clone();
    let mut admin = connect_settings(&target.with_dbname("postgres"), " (maintenance database)")?;
    if !database_exists(&mut admin, &name)? {
        return Ok((name, false));
    }
    admin
        .batch_execute(&format!(
            "DROP DATABASE {} WITH (FORCE)",
            retort_schema::quote_ident(&name)
        ))
        .with_context(|| format!("cannot drop database {name}"))?;
    Ok((name, true))
}

fn database_exists(admin: &mut postgres::Client, name: &str) -> Result<bool> {
    Ok(admin
        .query_typed_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[(&name, postgres::types::Type::TEXT)],
        )?
        .get::<_, i64>(0)
        == 1)
}

/// A throwaway database on the configured server, dropped on drop: the place where `check`,
/// `verify` and `stamp --verify` replay migrations without touching the real database.
pub struct ScratchDb {
    admin: retort_connect::ConnectSettings,
    /// The scratch database: the configured server and credentials, another dbname.
    pub settings: retort_connect::ConnectSettings,
    name: String,
}

impl ScratchDb {
    pub fn create(url: &str) -> Result<ScratchDb> {
        let base = settings(url)?;
        let name = format!(
            "retort_scratch_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let admin = base.with_dbname("postgres");
        let mut client = connect_settings(&admin, " to create a scratch database")?;
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .context("cannot create a scratch database (does the user have CREATEDB?)")?;
        Ok(ScratchDb {
            settings: base.with_dbname(&name),
            admin,
            name,
        })
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        connect_settings(&self.settings, "")
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = retort_connect::connect(&self.admin) {
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
    let bar = diagnostics::progress(steps.len(), "replaying migrations");
    runner.run(graph, &steps, true, &mut |e| {
        if let retort_migrate::StepEvent::Finished { .. } = e {
            bar.inc(1);
        }
    })?;
    bar.finish_and_clear();
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
    let bar = diagnostics::progress(2 * order.len(), "verifying migrations");
    let mut log = |line: &str| {
        bar.inc(1);
        bar.suspend(|| log(line));
    };
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
    bar.finish_and_clear();
    Ok(failures)
}
