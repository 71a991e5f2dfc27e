//! `[shadow]` of retort.toml (`url = "auto"`, the default, or a server URL; `idle_minutes`) and
//! the `retort shadow start|stop|status` commands over retort-shadow's private cluster.

use anyhow::{bail, Result};
use serde::Deserialize;
use std::time::Duration;

use retort_engine::cache::ScratchCache;
use retort_engine::{Scratch, ScratchProvider, ServerScratch};
use retort_shadow::{Shadow, ShadowHandle, ShadowOptions, Started};
use sha2::Digest as _;
use std::sync::OnceLock as OnceCell;

/// `[shadow]` as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShadow {
    url: Option<String>,
    idle_minutes: Option<u64>,
}

/// Where check, verify and canonicalisation may create scratch databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShadowConfig {
    /// A private cluster Retort starts itself (`Shadow::ensure`), stopped after `idle`.
    Auto { idle: Duration },
    /// A server where Retort may create databases, as written (`${VAR}` not yet expanded).
    Url(String),
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig::Auto {
            idle: retort_shadow::DEFAULT_IDLE,
        }
    }
}

impl RawShadow {
    pub(crate) fn resolve(self) -> Result<ShadowConfig> {
        let idle = match self.idle_minutes {
            Some(0) => bail!("[shadow] idle_minutes must be at least 1"),
            Some(m) => Some(Duration::from_secs(m.saturating_mul(60))),
            None => None,
        };
        match self.url.as_deref().map(str::trim) {
            None | Some("auto") => Ok(ShadowConfig::Auto {
                idle: idle.unwrap_or(retort_shadow::DEFAULT_IDLE),
            }),
            Some("") => bail!("[shadow] url is empty: write a server URL or \"auto\""),
            Some(url) => {
                if idle.is_some() {
                    bail!("[shadow] idle_minutes applies to `url = \"auto\"` only: Retort does not stop a server it did not start");
                }
                Ok(ShadowConfig::Url(url.to_string()))
            }
        }
    }
}

impl ShadowConfig {
    /// The options for the private cluster running `major` (the target's; `None`: the newest
    /// installed); `None` when a URL is configured instead.
    pub fn options(&self, major: Option<u32>) -> Option<ShadowOptions> {
        match self {
            ShadowConfig::Auto { idle } => Some(ShadowOptions {
                major,
                dir: None,
                idle: *idle,
            }),
            ShadowConfig::Url(_) => None,
        }
    }
}

/// Where this run's scratch databases go: the shadow cluster (kept from idle stop while this
/// lives) or a server (`[shadow] url`, or the configured database's server as a fallback).
/// Decided on first use, so a run whose scratch results are all cached starts nothing.
pub struct Scratches {
    how: How,
    /// The configured database, when there is one (its major version picks the shadow's).
    target: Option<String>,
    /// What the configured database answered, asked once.
    facts: OnceCell<Option<Facts>>,
    resolved: OnceCell<std::result::Result<Resolved, String>>,
    cache: Option<ScratchCache>,
}

enum How {
    Auto(ShadowConfig),
    Url(Box<ServerScratch>),
}

enum Resolved {
    Shadow {
        handle: ShadowHandle,
        server: ServerScratch,
    },
    Server {
        server: ServerScratch,
        /// Why this is not the shadow cluster, when `[shadow]` is `auto`.
        why: Option<String>,
    },
}

impl Resolved {
    fn server(&self) -> &ServerScratch {
        match self {
            Resolved::Shadow { server, .. } | Resolved::Server { server, .. } => server,
        }
    }
}

impl ScratchProvider for Scratches {
    fn create(&self) -> Result<Box<dyn Scratch>> {
        match self.resolve() {
            Ok(r) => r.server().create(),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    }

    fn cache(&self) -> Option<&ScratchCache> {
        self.cache.as_ref()
    }

    /// The major version the scratch databases run, without starting anything: the configured
    /// database's (the shadow runs the same, or the fallback is that server), else the newest
    /// local server binaries'; with `[shadow] url`, that server's. With the extensions they get.
    fn identity(&self) -> Result<String> {
        let server = if let Some(r) = self.resolved.get().and_then(|r| r.as_ref().ok()) {
            match r {
                Resolved::Shadow { handle, .. } => format!("PostgreSQL {}", handle.major()),
                Resolved::Server { server, .. } => server.identity()?,
            }
        } else {
            match &self.how {
                How::Url(server) => server.identity()?,
                How::Auto(_) => match self.facts().and_then(|f| f.major) {
                    Some(major) => format!("PostgreSQL {major}"),
                    None => format!("PostgreSQL {}", retort_shadow::installed_major(None)?),
                },
            }
        };
        let ext: Vec<String> = self
            .extensions()
            .iter()
            .map(|(s, n)| format!("{s}.{n}"))
            .collect();
        Ok(format!("{server} extensions [{}]", ext.join(",")))
    }

    fn extensions(&self) -> Vec<(String, String)> {
        self.facts()
            .map(|f| f.extensions.clone())
            .unwrap_or_default()
    }
}

/// What the configured database says about itself, for the scratch databases.
#[derive(Debug, Clone, Default)]
struct Facts {
    /// `server_version_num / 10000`.
    major: Option<u32>,
    /// Its roles (created NOLOGIN on the shadow).
    roles: Vec<String>,
    /// Its extensions but plpgsql, as (schema, name).
    extensions: Vec<(String, String)>,
}

impl Scratches {
    fn facts(&self) -> Option<&Facts> {
        self.facts
            .get_or_init(|| self.target.as_deref().and_then(server_facts))
            .as_ref()
    }

    /// Starts (or finds) where scratch databases go, once; a fallback to the configured server is
    /// warned about then.
    fn resolve(&self) -> std::result::Result<&Resolved, &str> {
        self.resolved
            .get_or_init(|| {
                let r = self.resolve_now().map_err(|e| format!("{e:#}"))?;
                if let Resolved::Server { server, why: Some(why) } = &r {
                    crate::diagnostics::warn(&format!(
                        "no shadow database ({}); using the server {} instead, which needs CREATEDB (set [shadow] url in retort.toml to choose a server)",
                        crate::redact(why),
                        crate::redact(&server.settings.to_string())
                    ));
                }
                Ok(r)
            })
            .as_ref()
            .map_err(String::as_str)
    }

    fn resolve_now(&self) -> Result<Resolved> {
        let cfg = match &self.how {
            How::Url(server) => {
                return Ok(Resolved::Server {
                    server: (**server).clone(),
                    why: None,
                })
            }
            How::Auto(cfg) => cfg,
        };
        let Facts { major, roles, .. } = self.facts().cloned().unwrap_or_default();
        let opts = cfg.options(major).expect("auto");
        match Shadow::ensure(&opts) {
            Ok(handle) => {
                create_roles(&handle, &roles)?;
                let server = ServerScratch {
                    settings: crate::settings(&handle.url("postgres"))?,
                };
                Ok(Resolved::Shadow { handle, server })
            }
            Err(e) => {
                let why = format!("{e:#}");
                let Some(url) = &self.target else {
                    bail!("no shadow database and no database configured: {why}; or set [database] or [shadow] url in retort.toml");
                };
                Ok(Resolved::Server {
                    server: ServerScratch {
                        settings: crate::settings(url)?,
                    },
                    why: Some(why),
                })
            }
        }
    }

    /// Where scratch databases went, as reports say it; `None` when this run made none (its
    /// scratch results were all cached).
    pub fn label(&self) -> Option<String> {
        let r = self.resolved.get()?.as_ref().ok()?;
        Some(match r {
            Resolved::Shadow { handle, .. } => {
                format!("the shadow database (PostgreSQL {})", handle.version())
            }
            Resolved::Server { server, .. } => {
                format!("the server {}", crate::redact(&server.settings.to_string()))
            }
        })
    }

    /// "scratch databases: on ..." for reports: where they went, or that the cache answered.
    pub fn report_line(&self) -> String {
        match self.label() {
            Some(l) => format!("scratch databases: on {l}"),
            None => "scratch databases: none needed (cached results of an earlier run)".into(),
        }
    }
}

/// The scratch databases for `cfg`: `[shadow] url` when set; with `auto`, the private cluster at
/// the major version of the configured server (the newest installed when no database is
/// configured or it cannot be reached). Without local server binaries for that version, falls
/// back to the configured server (which then needs CREATEDB) and says why. Nothing is started
/// or connected to until a scratch database is needed.
pub fn scratches(cfg: &crate::config::Config) -> Result<Scratches> {
    let cache = cache_dir(cfg).map(ScratchCache::new);
    let how = match &cfg.shadow {
        ShadowConfig::Url(raw) => {
            let url = crate::config::expand_env(raw).map_err(|e| {
                anyhow::anyhow!(
                    "in [shadow] url of retort.toml: {}",
                    crate::redact(&format!("{e:#}"))
                )
            })?;
            crate::redact::register_url(&url);
            How::Url(Box::new(ServerScratch {
                settings: crate::settings(&url)?,
            }))
        }
        auto @ ShadowConfig::Auto { .. } => How::Auto(auto.clone()),
    };
    Ok(Scratches {
        how,
        target: cfg.database_url().ok(),
        facts: OnceCell::new(),
        resolved: OnceCell::new(),
        cache,
    })
}

/// This project's cache of scratch results: `RETORT_CACHE_DIR` (or `$XDG_CACHE_HOME/retort/cache`,
/// `~/.cache/retort/cache`), one directory per project (a hash of the directory of its
/// retort.toml). `None` when `RETORT_CACHE=off` or no base directory can be found.
pub fn cache_dir(cfg: &crate::config::Config) -> Option<std::path::PathBuf> {
    if std::env::var("RETORT_CACHE").is_ok_and(|v| v == "off" || v == "0") {
        return None;
    }
    let base = std::env::var_os("RETORT_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|d| !d.is_empty())
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache"))
                })
                .map(|c| c.join("retort").join("cache"))
        })?;
    let root = cfg.root.canonicalize().unwrap_or_else(|_| cfg.root.clone());
    let digest = sha2::Sha256::digest(root.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(base.join(name))
}

/// The major version of the server at `url` (`server_version_num / 10000`), its roles and its
/// extensions, when it answers.
fn server_facts(url: &str) -> Option<Facts> {
    let mut client = crate::connect(url).ok()?;
    let row = client
        .query_typed_one("SELECT current_setting('server_version_num')::int", &[])
        .ok()?;
    let major = u32::try_from(row.get::<_, i32>(0) / 10000).ok();
    let roles = client
        .query_typed(
            "SELECT rolname::text FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1",
            &[],
        )
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default();
    let extensions = client
        .query_typed(
            "SELECT n.nspname::text, e.extname::text FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname <> 'plpgsql' ORDER BY 2",
            &[],
        )
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default();
    Some(Facts {
        major,
        roles,
        extensions,
    })
}

/// Makes the target's roles exist on the shadow cluster (NOLOGIN), so migrations that grant to
/// them or set owners replay there as they ran on the target.
fn create_roles(handle: &ShadowHandle, roles: &[String]) -> Result<()> {
    if roles.is_empty() {
        return Ok(());
    }
    let mut client = handle.connect("postgres")?;
    let existing = |client: &mut postgres::Client| -> Result<Vec<String>> {
        Ok(client
            .query_typed("SELECT rolname::text FROM pg_roles", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    };
    let have = existing(&mut client)?;
    for role in roles.iter().filter(|r| !have.contains(r)) {
        let sql = format!("CREATE ROLE {} NOLOGIN", retort_schema::quote_ident(role));
        if let Err(e) = crate::execute_one(&mut client, &sql) {
            // Another run may have created it meanwhile.
            if !existing(&mut client)?.contains(role) {
                bail!("creating role {role} on the shadow database: {e:#}");
            }
        }
    }
    Ok(())
}

/// `retort shadow ...`.
#[derive(clap::Subcommand, Debug, Clone, Copy)]
pub enum ShadowAction {
    /// Start the private cluster (or find it running) and print its URL.
    Start {
        /// The PostgreSQL major version to run (default: the newest installed).
        #[arg(long)]
        major: Option<u32>,
    },
    /// Stop the private cluster (every major, or the one given); its files are kept for reuse.
    Stop {
        #[arg(long)]
        major: Option<u32>,
    },
    /// Show whether the private cluster runs, its URL and idle limit.
    Status,
}

/// Runs a `retort shadow` command; `cfg` is the project's `[shadow]` (the default outside one).
pub fn run(action: ShadowAction, cfg: &ShadowConfig) -> Result<i32> {
    let Some(base) = cfg.options(None) else {
        bail!("[shadow] url is set in retort.toml: Retort uses that server and starts no shadow database of its own");
    };
    match action {
        ShadowAction::Start { major } => {
            let opts = ShadowOptions { major, ..base };
            let h = Shadow::ensure(&opts)?;
            let how = match h.started() {
                Started::Reused => "running",
                Started::Restarted => "started",
                Started::Created => "created and started",
            };
            println!(
                "shadow database PostgreSQL {} {how}: {}",
                h.version(),
                h.url("postgres")
            );
            println!(
                "stops after {} minute(s) idle; `retort shadow stop` stops it now",
                opts.idle.as_secs() / 60
            );
        }
        ShadowAction::Stop { major } => {
            let stopped = Shadow::stop(&ShadowOptions { major, ..base })?;
            if stopped.is_empty() {
                println!("no shadow database was running");
            }
            for m in stopped {
                println!("stopped the PostgreSQL {m} shadow database");
            }
        }
        ShadowAction::Status => {
            let all = Shadow::status(&base)?;
            if all.is_empty() {
                println!(
                    "no shadow database in {} (`retort shadow start` makes one)",
                    base.base_dir()?.display()
                );
            }
            for s in all {
                println!("{s}");
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ShadowConfig> {
        toml::from_str::<RawShadow>(text)?.resolve()
    }

    #[test]
    fn shadow_table_is_auto_or_a_url() {
        assert_eq!(parse("").unwrap(), ShadowConfig::default());
        assert_eq!(
            parse("url = \"auto\"\nidle_minutes = 5").unwrap(),
            ShadowConfig::Auto {
                idle: Duration::from_secs(300)
            }
        );
        assert_eq!(
            parse("url = \"postgres://dev/x\"").unwrap(),
            ShadowConfig::Url("postgres://dev/x".into())
        );
        for (text, msg) in [
            ("url = \"\"", "url is empty"),
            ("idle_minutes = 0", "at least 1"),
            (
                "url = \"postgres://h/x\"\nidle_minutes = 3",
                "applies to `url = \"auto\"` only",
            ),
            ("dir = \"/tmp\"", "unknown field `dir`"),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(msg), "{text}: {e}");
        }
    }
}
