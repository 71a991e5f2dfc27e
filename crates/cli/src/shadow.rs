//! `[shadow]` of retort.toml (`url = "auto"`, the default, or a server URL; `idle_minutes`) and
//! the `retort shadow start|stop|status` commands over retort-shadow's private cluster.

use anyhow::{bail, Result};
use serde::Deserialize;
use std::time::Duration;

use retort_engine::{Scratch, ScratchProvider, ServerScratch};
use retort_shadow::{Shadow, ShadowHandle, ShadowOptions, Started};

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
pub enum Scratches {
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

impl ScratchProvider for Scratches {
    fn create(&self) -> Result<Box<dyn Scratch>> {
        match self {
            Scratches::Shadow { server, .. } | Scratches::Server { server, .. } => server.create(),
        }
    }
}

impl Scratches {
    /// Where scratch databases go, as reports say it.
    pub fn label(&self) -> String {
        match self {
            Scratches::Shadow { handle, .. } => {
                format!("the shadow database (PostgreSQL {})", handle.version())
            }
            Scratches::Server { server, .. } => {
                format!("the server {}", crate::redact(&server.settings.to_string()))
            }
        }
    }

    /// Why `auto` did not give the shadow cluster, when it did not.
    pub fn fallback(&self) -> Option<&str> {
        match self {
            Scratches::Server { why, .. } => why.as_deref(),
            Scratches::Shadow { .. } => None,
        }
    }
}

/// The scratch databases for `cfg`: `[shadow] url` when set; with `auto`, the private cluster at
/// the major version of the configured server (the newest installed when no database is
/// configured or it cannot be reached). Without local server binaries for that version, falls
/// back to the configured server (which then needs CREATEDB) and says why.
pub fn scratches(cfg: &crate::config::Config) -> Result<Scratches> {
    let auto = match &cfg.shadow {
        ShadowConfig::Url(raw) => {
            let url = crate::config::expand_env(raw).map_err(|e| {
                anyhow::anyhow!(
                    "in [shadow] url of retort.toml: {}",
                    crate::redact(&format!("{e:#}"))
                )
            })?;
            crate::redact::register_url(&url);
            return Ok(Scratches::Server {
                server: ServerScratch {
                    settings: crate::settings(&url)?,
                },
                why: None,
            });
        }
        ShadowConfig::Auto { .. } => cfg,
    };
    let target = auto.database_url().ok();
    let (major, roles) = target.as_deref().and_then(server_facts).unwrap_or_default();
    let opts = auto.shadow.options(major).expect("auto");
    match Shadow::ensure(&opts) {
        Ok(handle) => {
            create_roles(&handle, &roles)?;
            let server = ServerScratch {
                settings: crate::settings(&handle.url("postgres"))?,
            };
            Ok(Scratches::Shadow { handle, server })
        }
        Err(e) => {
            let why = format!("{e:#}");
            let Some(url) = target else {
                bail!("no shadow database and no database configured: {why}; or set [database] or [shadow] url in retort.toml");
            };
            Ok(Scratches::Server {
                server: ServerScratch {
                    settings: crate::settings(&url)?,
                },
                why: Some(why),
            })
        }
    }
}

/// The major version of the server at `url` (`server_version_num / 10000`) and its roles, when
/// it answers.
fn server_facts(url: &str) -> Option<(Option<u32>, Vec<String>)> {
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
    Some((major, roles))
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
