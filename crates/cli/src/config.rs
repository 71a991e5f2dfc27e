//! `retort.toml`: where the models and migrations are, which schemas are managed, which database.
//! Values may use `${ENV}`; a `.env` file next to the config fills unset variables; DATABASE_URL wins.
//! `[database]` is either `url` (a URL or libpq key=value string) or libpq parts (`host`, `port`,
//! `user`, `password`, `dbname`, `sslmode`, ...), checked and resolved by retort-connect.

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
    #[serde(default)]
    shadow: crate::shadow::RawShadow,
    #[serde(default)]
    upgrade: RawUpgrade,
    #[serde(default)]
    generate: RawGenerate,
}

/// `[generate]`: how autogenerate writes migrations.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGenerate {
    /// As `--online` on every `revision` and `diff`.
    #[serde(default)]
    online: bool,
}

/// `[upgrade]`: a backup before every upgrade that runs a migration.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUpgrade {
    /// `true` (into `backups/`) or the directory to write backups to; `false`: only with
    /// `--backup`.
    #[serde(default)]
    backup: Option<BackupSetting>,
    #[serde(default)]
    backup_format: crate::backup::Format,
    /// The pg_dump to run (a path, relative to retort.toml, or a name on PATH).
    #[serde(default)]
    pg_dump: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BackupSetting {
    On(bool),
    Dir(String),
}

/// `[upgrade]` resolved: where `--backup` writes, and whether every upgrade backs up.
#[derive(Debug, Clone, Default)]
pub struct BackupConfig {
    /// Every upgrade that runs a migration backs up first (`[upgrade] backup`).
    pub always: bool,
    /// `[upgrade] backup` as a directory, else `backups` (relative to retort.toml).
    pub dir: PathBuf,
    pub format: crate::backup::Format,
    pub pg_dump: Option<PathBuf>,
}

impl BackupConfig {
    /// The options of a backup into `dir`.
    pub fn options(&self, dir: PathBuf) -> crate::backup::Options {
        crate::backup::Options {
            dir,
            format: self.format,
            pg_dump: self.pg_dump.clone(),
        }
    }
}

/// `url`, or the parts; unknown keys are refused by `retort_connect::Params::from_parts`.
#[derive(Debug, Deserialize, Default)]
struct RawDatabase {
    url: Option<String>,
    #[serde(flatten)]
    parts: std::collections::BTreeMap<String, toml::Value>,
}

/// `[database]` parts as strings (`port = 5432` is fine), keys checked, `${VAR}` not expanded.
fn database_parts(
    parts: std::collections::BTreeMap<String, toml::Value>,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (k, v) in parts {
        let v = match v {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => if b { "1" } else { "0" }.to_string(),
            other => bail!(
                "[database] {k}: expected a string or a number, found {}",
                other.type_str()
            ),
        };
        out.push((k, v));
    }
    // Unknown keys fail here, before any variable is needed.
    retort_connect::Params::from_parts(out.iter().map(|(k, _)| (k.as_str(), "")))?;
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    #[serde(default = "default_model_paths")]
    paths: Vec<String>,
    /// SQL declaration files: views, functions, triggers (README: "Beyond tables").
    #[serde(default)]
    sql: Vec<String>,
}

impl Default for RawModels {
    fn default() -> Self {
        RawModels {
            paths: default_model_paths(),
            sql: Vec::new(),
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
    /// `lock_timeout` for migration statements (SET LOCAL in each migration's transaction).
    #[serde(default)]
    lock_timeout: Option<String>,
    /// `statement_timeout` for migration statements, likewise.
    #[serde(default)]
    statement_timeout: Option<String>,
    /// Retries of a migration (or step) whose statement hit `lock_timeout`.
    #[serde(default)]
    lock_retries: u32,
}

impl Default for RawMigrations {
    fn default() -> Self {
        RawMigrations {
            dir: default_migrations_dir(),
            version_table: default_version_table(),
            lock_timeout: None,
            statement_timeout: None,
            lock_retries: 0,
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
    /// `[database]` parts (`host`, `user`, `password`, ...) as written, used when there is no URL.
    pub database_parts: Vec<(String, String)>,
    pub model_paths: Vec<String>,
    /// `[models] sql`: SQL declaration files (globs) relative to `root`.
    pub sql_paths: Vec<String>,
    pub migrations_dir: PathBuf,
    pub scope: Scope,
    /// Names for constraints and indexes the models leave unnamed.
    pub naming: retort_schema::NamingConvention,
    /// `[migrations] lock_timeout` / `statement_timeout`: limits for migration statements.
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// `[manage]`: kinds of property the models manage beyond (or short of) their dialect's.
    pub manage: crate::manage::Manage,
    /// `[shadow]`: where scratch databases go (a private cluster by default).
    pub shadow: crate::shadow::ShadowConfig,
    /// `[migrations] lock_retries`.
    pub lock_retries: u32,
    /// `[upgrade]`: backups before upgrades.
    pub backup: BackupConfig,
    /// `[generate] online`: `--online` for every `revision` and `diff`.
    pub online: bool,
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
            let v = unquote(v.trim());
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
    }
}

/// A `.env` value without one pair of surrounding quotes; a quote inside or at one end only (a
/// password like `it's` or `pa'`) is part of the value.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
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
    /// The connection string with `${VAR}` expanded: the URL (DATABASE_URL, --database-url or
    /// `[database] url`), else the `[database]` parts as a quoted libpq key=value string (any
    /// character in a part survives), else "" when only PG* variables are set. Its password is
    /// registered for redaction.
    pub fn database_url(&self) -> Result<String> {
        if let Some(raw) = self.database_url.as_deref() {
            let url = expand_env(raw).context("in [database] url of retort.toml")?;
            crate::redact::register_url(&url);
            return Ok(url);
        }
        if !self.database_parts.is_empty() {
            let mut expanded = Vec::new();
            for (k, v) in &self.database_parts {
                let v =
                    expand_env(v).with_context(|| format!("in [database] {k} of retort.toml"))?;
                if k == "password" {
                    crate::redact::register_secret(&v);
                }
                expanded.push((k.as_str(), v));
            }
            let params = retort_connect::Params::from_parts(expanded)?;
            return Ok(params.to_conninfo());
        }
        if ["PGHOST", "PGHOSTADDR", "PGDATABASE", "PGUSER", "PGPORT"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
        {
            return Ok(String::new());
        }
        Err(anyhow!("no database configured: set DATABASE_URL, pass --database-url, set [database] url or its parts (host, user, password, dbname, ...) in retort.toml, or set PGHOST/PGDATABASE"))
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
    load_with(explicit, &|k| std::env::var(k).ok())
}

/// `load`, reading DATABASE_URL through `env` (tests pass their own).
fn load_with(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let path = locate(explicit)?;
    let root = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    load_dotenv(&root);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let database_parts =
        database_parts(raw.database.parts).map_err(|e| anyhow!("{}: {e:#}", path.display()))?;
    if raw.database.url.is_some() && !database_parts.is_empty() {
        bail!(
            "{}: [database] has both `url` and parts ({}): use one or the other",
            path.display(),
            database_parts
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let database_url = match env("DATABASE_URL") {
        Some(url) if !url.is_empty() => Some(url),
        _ => raw.database.url,
    };
    let (lock_timeout, statement_timeout) = (
        raw.migrations.lock_timeout.clone(),
        raw.migrations.statement_timeout.clone(),
    );
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
    let shadow = raw
        .shadow
        .resolve()
        .map_err(|e| anyhow!("{}: {e:#}", path.display()))?;
    let (always, dir) = match &raw.upgrade.backup {
        Some(BackupSetting::On(on)) => (*on, root.join("backups")),
        Some(BackupSetting::Dir(d)) => (true, root.join(d)),
        None => (false, root.join("backups")),
    };
    let backup = BackupConfig {
        always,
        dir,
        format: raw.upgrade.backup_format,
        // A bare name is looked up on PATH; a path is relative to retort.toml.
        pg_dump: raw.upgrade.pg_dump.as_ref().map(|p| {
            if p.contains('/') {
                root.join(p)
            } else {
                PathBuf::from(p)
            }
        }),
    };
    Ok(Config {
        lock_retries: raw.migrations.lock_retries,
        online: raw.generate.online,
        backup,
        shadow,
        migrations_dir: root.join(&raw.migrations.dir),
        root,
        database_url,
        database_parts,
        model_paths: raw.models.paths,
        sql_paths: raw.models.sql,
        scope,
        naming: raw.naming,
        manage: raw.manage,
        lock_timeout,
        statement_timeout,
    })
}

/// The retort.toml written by `retort init`.
pub const TEMPLATE: &str = r#"# Retort configuration. Paths are relative to this file.

[database]
# `${VAR}` reads the environment (and a .env file next to this one); DATABASE_URL (and
# --database-url) always win. Either a URL (or a libpq key=value string)...
url = "${DATABASE_URL}"
# ...or, instead of `url`, the parts, e.g. from the POSTGRES_* variables of a FastAPI-style .env.
# No URL encoding: a password may hold @ / : # ? ' as it is. Unset parts come from PGHOST, PGPORT,
# PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ..., then ~/.pgpass, then libpq's defaults.
# host = "${POSTGRES_SERVER}"
# port = 5432
# user = "${POSTGRES_USER}"
# password = "${POSTGRES_PASSWORD}"
# dbname = "${POSTGRES_DB}"
# sslmode = "prefer"  # disable | allow | prefer (default) | require | verify-ca | verify-full
# sslrootcert = "/path/to/ca.crt"  # or "system"; sslcert/sslkey for client certificates

[models]
# Files (globs allowed) holding #[derive(Table)] structs and #[derive(DbEnum)] enums.
paths = ["src/**/*.rs"]
# SQL files declaring views, functions and triggers (kept as the server prints them back).
# sql = ["db/**/*.sql"]

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

# The shadow database (README: "Shadow database"): "auto" (default) is a private PostgreSQL from
# the local server binaries (`retort shadow start|stop|status`), stopped when idle; or the URL of
# a dev server where Retort may create databases. check, verify, stamp --verify and the
# canonicalisation of model expressions make their scratch databases there.
[shadow]
# url = "auto"
# idle_minutes = 15

# How autogenerate writes migrations (README: "Online mode").
[generate]
# online = true               # short locks on filled tables, as `--online`

# A pg_dump before every `retort upgrade` that runs a migration, read back before the upgrade
# starts; the upgrade is refused when it fails (README: "Backups"). `retort upgrade --backup`
# does the same once.
[upgrade]
# backup = "backups"          # or true (into backups/)
# backup_format = "custom"    # custom (restore with pg_restore) or plain (psql)
# pg_dump = "pg_dump"         # default: the local pg_dump of the server's major version

# What the models manage beyond what their dialect can say (README: "What the models manage").
# SeaORM entities leave defaults, indexes, checks, ... to the database; when yours are complete:
[manage]
# all = true
# indexes = true
# defaults = true
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_values_lose_only_a_pair_of_quotes() {
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'p@ss'"), "p@ss");
        assert_eq!(unquote("p@ss/w:o#r?d'"), "p@ss/w:o#r?d'");
        assert_eq!(unquote("'x"), "'x");
        assert_eq!(unquote("'"), "'");
    }

    fn load_text(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text)?;
        load_with(Some(&path), &|_| None)
    }

    #[test]
    fn database_parts_are_checked_and_quoted() {
        let cfg = load_text(
            "[database]\nhost = \"db\"\nport = 6543\nuser = \"app\"\npassword = \"p@ss/w:o#r?d'x\"\n",
        )
        .unwrap();
        let conninfo = cfg.database_url().unwrap();
        let params = retort_connect::Params::parse(&conninfo).unwrap();
        assert_eq!(params.get("password"), Some("p@ss/w:o#r?d'x"));
        assert_eq!(params.get("port"), Some("6543"));
        assert!(!crate::redact::redact(&conninfo).contains("p@ss"));
        let e = load_text("[database]\nurl = \"postgres://h/db\"\nhost = \"h\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("both `url` and parts"), "{e:#}");
        let e = load_text("[database]\ndatabase = \"app\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("did you mean `dbname`"), "{e:#}");
        let e = load_text("[database]\nport = [1]\n").unwrap_err();
        assert!(
            format!("{e:#}").contains("expected a string or a number"),
            "{e:#}"
        );
    }

    #[test]
    fn the_init_template_offers_postgres_parts() {
        for var in [
            "POSTGRES_SERVER",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "POSTGRES_DB",
        ] {
            assert!(TEMPLATE.contains(&format!("${{{var}}}")), "{var}");
        }
        // Uncommenting the parts (and dropping `url`) gives a valid configuration.
        let text = TEMPLATE
            .replace("url = \"${DATABASE_URL}\"\n", "")
            .replace("# host = ", "host = ")
            .replace("# port = ", "port = ")
            .replace("# user = ", "user = ")
            .replace("# password = ", "password = ")
            .replace("# dbname = ", "dbname = ")
            .replace("# sslmode = ", "sslmode = ");
        let cfg = load_text(&text).unwrap();
        let keys: Vec<&str> = cfg.database_parts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["dbname", "host", "password", "port", "sslmode", "user"]
        );
    }
}
