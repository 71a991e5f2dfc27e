//! `retort.toml`: where the models and migrations are, which schemas are managed, which database.
//! Values may use `${ENV}`; a `.env` file next to the config fills unset variables; DATABASE_URL wins.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use retort_schema::Scope;

pub const FILE_NAME: &str = "retort.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    models: RawModels,
    #[serde(default)]
    migrations: RawMigrations,
    #[serde(default)]
    scope: RawScope,
    #[serde(default)]
    naming: retort_schema::NamingConvention,
    #[serde(default)]
    manage: crate::manage::Manage,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    #[serde(default = "default_model_paths")]
    paths: Vec<String>,
}

impl Default for RawModels {
    fn default() -> Self {
        RawModels {
            paths: default_model_paths(),
        }
    }
}

fn default_model_paths() -> Vec<String> {
    vec!["src/**/*.rs".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrations {
    #[serde(default = "default_migrations_dir")]
    dir: String,
    #[serde(default = "default_version_table")]
    version_table: String,
}

impl Default for RawMigrations {
    fn default() -> Self {
        RawMigrations {
            dir: default_migrations_dir(),
            version_table: default_version_table(),
        }
    }
}

fn default_migrations_dir() -> String {
    "migrations".into()
}

fn default_version_table() -> String {
    "retort_version".into()
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// The resolved configuration of one project.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory holding retort.toml; relative paths are resolved against it.
    pub root: PathBuf,
    /// The URL as written (DATABASE_URL or retort.toml), `${VAR}` not yet expanded: commands that
    /// need no database never fail on an unset variable.
    pub database_url: Option<String>,
    pub model_paths: Vec<String>,
    pub migrations_dir: PathBuf,
    pub scope: Scope,
    /// Names for constraints and indexes the models leave unnamed.
    pub naming: retort_schema::NamingConvention,
    /// `[manage]`: kinds of property the models manage beyond (or short of) their dialect's.
    pub manage: crate::manage::Manage,
}

/// Reads `KEY=VALUE` lines of a `.env` file into the environment, without overriding.
fn load_dotenv(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join(".env")) else {
        return;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some((k, v)) = line.split_once('=') {
            let k = k.trim();
            let v = v.trim().trim_matches('"').trim_matches('\'');
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
    }
}

/// Expands `${VAR}`; an unset variable is an error naming it.
pub fn expand_env(s: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| anyhow!("unterminated `${{` in `{s}`"))?;
        let var = &rest[start + 2..start + end];
        let val = std::env::var(var)
            .map_err(|_| anyhow!("environment variable `{var}` used in retort.toml is not set"))?;
        out.push_str(&val);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Config {
    /// The database URL with `${VAR}` expanded; an error says how to configure one.
    pub fn database_url(&self) -> Result<String> {
        let raw = self.database_url.as_deref().ok_or_else(|| {
            anyhow!("no database configured: set DATABASE_URL, pass --database-url, or set [database] url in retort.toml")
        })?;
        let url = expand_env(raw).context("in [database] url of retort.toml")?;
        crate::redact::register_url(&url);
        Ok(url)
    }
}

/// Finds retort.toml: the given path, or the current directory and its ancestors.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        bail!("config file {} not found", p.display());
    }
    let cwd = std::env::current_dir()?;
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no {FILE_NAME} found in {} or its parents: run `retort init` to create one",
        cwd.display()
    )
}

pub fn load(explicit: Option<&Path>) -> Result<Config> {
    let path = locate(explicit)?;
    let root = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    load_dotenv(&root);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let database_url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => raw.database.url,
    };
    let mut scope = Scope {
        version_table: raw.migrations.version_table,
        include: raw.scope.include,
        exclude: raw.scope.exclude,
        ..Scope::default()
    };
    if !raw.scope.schemas.is_empty() {
        scope.schemas = raw.scope.schemas;
    }
    raw.naming
        .validate()
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(Config {
        migrations_dir: root.join(&raw.migrations.dir),
        root,
        database_url,
        model_paths: raw.models.paths,
        scope,
        naming: raw.naming,
        manage: raw.manage,
    })
}

/// The retort.toml written by `retort init`.
pub const TEMPLATE: &str = r#"# Retort configuration. Paths are relative to this file.

[database]
# `${VAR}` reads the environment (and a .env file next to this one); DATABASE_URL always wins.
url = "${DATABASE_URL}"

[models]
# Files (globs allowed) holding #[derive(Table)] structs and #[derive(DbEnum)] enums.
paths = ["src/**/*.rs"]

[migrations]
dir = "migrations"
version_table = "retort_version"

[scope]
# Schemas Retort manages; objects elsewhere are never diffed, so never dropped.
schemas = ["public"]
# Table patterns (`*`, `?`, optionally `schema.table`): include (empty = all) and exclude.
include = []
exclude = []

# Names for constraints and indexes the models leave unnamed (Alembic-style tokens); a kind that is
# not listed keeps PostgreSQL's default name (users_pkey, users_email_key, posts_author_id_fkey, ...).
[naming]
# pk = "pk_%(table_name)s"
# uq = "uq_%(table_name)s_%(column_0_N_name)s"
# fk = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"
# ix = "ix_%(column_0_label)s"
# ck = "ck_%(table_name)s_%(column_0_name)s"

# What the models manage beyond what their dialect can say (README: "What the models manage").
# SeaORM entities leave defaults, indexes, checks, ... to the database; when yours are complete:
[manage]
# all = true
# indexes = true
# defaults = true
"#;
