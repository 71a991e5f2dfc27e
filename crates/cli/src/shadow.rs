//! `[shadow]` of retort.toml (`url = "auto"`, the default, or a server URL; `idle_minutes`) and
//! the `retort shadow start|stop|status` commands over retort-shadow's private cluster.

use anyhow::{bail, Result};
use serde::Deserialize;
use std::time::Duration;

use retort_shadow::{Shadow, ShadowOptions, Started};

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
