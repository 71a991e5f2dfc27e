//! The engine behind the `retort` binary: reads models and the database, diffs, renders migrations.
//! `main.rs` only parses flags, prints and picks exit codes; tests drive this API directly.

pub mod backup;
pub mod config;
pub mod diagnostics;
pub mod import;
pub mod redact;
pub mod shadow;

use anyhow::{Context, Result};

pub use retort_engine::model_reader;
pub use retort_engine::{
    canon, describe, generate, generate_with, introspect, manage, rename_hints, schema_at,
    Generated, Hints, Rename, RenderOptions,
};

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
    retort_engine::connect_settings(s, purpose).map_err(|e| anyhow::anyhow!(redact(&e.to_string())))
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

/// The engine's project for `cfg`: its models, scope, naming, `[manage]` and migrations.
pub fn project(cfg: &config::Config) -> retort_engine::Project {
    retort_engine::Project {
        models: retort_engine::ModelSource::Files {
            root: cfg.root.clone(),
            paths: cfg.model_paths.clone(),
        },
        read: retort_engine::Project::read_options_for(&cfg.scope),
        scope: cfg.scope.clone(),
        naming: cfg.naming.clone(),
        manage: cfg.manage.clone(),
        migrations_dir: cfg.migrations_dir.clone(),
        cache: shadow::cache_dir(cfg).map(retort_engine::cache::ScratchCache::new),
        sql: retort_engine::ModelSource::Files {
            root: cfg.root.clone(),
            paths: cfg.sql_paths.clone(),
        },
    }
}

/// Reads the models configured in `cfg`.
pub fn read_models(
    cfg: &config::Config,
) -> Result<retort_model_reader::Models, retort_model_reader::ModelErrors> {
    project(cfg).read_models()
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
