//! `upgrade --backup`: a `pg_dump` of the target database before any migration runs, read back in
//! full before the upgrade starts, with the command that restores it; a failed backup refuses it.

use anyhow::{anyhow, bail, Context, Result};
use retort_connect::ConnectSettings;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pg_dump`'s output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `--format=custom`: compressed, restored with `pg_restore` (selectively if need be).
    #[default]
    Custom,
    /// `--format=plain`: an SQL script, restored with `psql`.
    Plain,
}

/// Where and how to back up.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub format: Format,
    /// The `pg_dump` to run; `None`: the local one of the server's major version (or newer),
    /// else `pg_dump` on PATH.
    pub pg_dump: Option<PathBuf>,
}

/// A backup that was written and read back.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    /// The command that restores it into the database (connection settings as for the upgrade).
    pub restore: String,
}

/// Dumps the database `url` names (which `client` is connected to) into `opts.dir`, naming the
/// file after the database, the time and `label` (the upgrade's target). The dump is written
/// under a `.partial` name and only renamed once it has been read back completely.
pub fn run(
    url: &str,
    client: &mut postgres::Client,
    opts: &Options,
    label: &str,
) -> Result<Backup> {
    let settings = ConnectSettings::from_conninfo(url)?;
    for p in settings.passwords() {
        crate::redact::register_secret(p);
    }
    let major: i32 = client
        .query_typed_one(
            "SELECT current_setting('server_version_num')::int / 10000",
            &[],
        )?
        .get(0);
    let pg_dump = match &opts.pg_dump {
        Some(p) => p.clone(),
        None => local_pg_dump(u32::try_from(major).unwrap_or(0)),
    };
    std::fs::create_dir_all(&opts.dir)
        .with_context(|| format!("creating the backup directory {}", opts.dir.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let ext = match opts.format {
        Format::Custom => "dump",
        Format::Plain => "sql",
    };
    let name = format!(
        "{}-{stamp}-before-{}.{ext}",
        file_part(&settings.dbname),
        file_part(label)
    );
    let path = opts.dir.join(&name);
    let partial = opts.dir.join(format!("{name}.partial"));
    let result = dump(&pg_dump, &settings, opts.format, &partial)
        .and_then(|()| read_back(&pg_dump, opts.format, &partial));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &path)
        .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let restore = match opts.format {
        Format::Custom => format!(
            "pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname {} {}",
            settings.dbname,
            path.display()
        ),
        Format::Plain => format!(
            "psql --single-transaction -v ON_ERROR_STOP=1 --dbname {} --file {}",
            settings.dbname,
            path.display()
        ),
    };
    Ok(Backup {
        path,
        bytes,
        restore,
    })
}

/// The `pg_dump` of a local installation whose major version is the server's (or the oldest
/// newer one: pg_dump refuses older servers only), else `pg_dump` on PATH.
fn local_pg_dump(server_major: u32) -> PathBuf {
    let mut found: Vec<retort_shadow::Installation> = retort_shadow::install::installations()
        .into_iter()
        .filter(|i| i.major >= server_major && i.bin.join("pg_dump").is_file())
        .collect();
    found.sort_by_key(|i| i.major);
    found
        .first()
        .map(|i| i.bin.join("pg_dump"))
        .unwrap_or_else(|| PathBuf::from("pg_dump"))
}

/// `name` reduced to characters safe in a file name.
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// libpq's environment for `settings`: the dump connects exactly as the upgrade does, and no
/// credential appears on a command line (where `ps` would show it).
fn libpq_env(settings: &ConnectSettings) -> Vec<(&'static str, String)> {
    let join = |f: &dyn Fn(&retort_connect::Endpoint) -> String| {
        settings
            .endpoints
            .iter()
            .map(f)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut env = vec![
        ("PGHOST", join(&|e| e.host.clone())),
        ("PGPORT", join(&|e| e.port.to_string())),
        ("PGUSER", settings.user.clone()),
        ("PGDATABASE", settings.dbname.clone()),
        ("PGSSLMODE", settings.sslmode.as_str().to_string()),
        ("PGAPPNAME", "retort backup".to_string()),
    ];
    if settings.endpoints.iter().any(|e| e.hostaddr.is_some()) {
        env.push((
            "PGHOSTADDR",
            join(&|e| e.hostaddr.map(|a| a.to_string()).unwrap_or_default()),
        ));
    }
    if let Some(p) = settings.password() {
        env.push(("PGPASSWORD", p.to_string()));
    }
    if let Some(root) = &settings.sslrootcert {
        env.push((
            "PGSSLROOTCERT",
            match root {
                retort_connect::RootCert::System => "system".to_string(),
                retort_connect::RootCert::File(p) => p.display().to_string(),
            },
        ));
    }
    if let Some(p) = &settings.sslcert {
        env.push(("PGSSLCERT", p.display().to_string()));
    }
    if let Some(p) = &settings.sslkey {
        env.push(("PGSSLKEY", p.display().to_string()));
    }
    if let Some(o) = &settings.options {
        env.push(("PGOPTIONS", o.clone()));
    }
    if let Some(t) = settings.connect_timeout {
        env.push(("PGCONNECT_TIMEOUT", t.as_secs().max(1).to_string()));
    }
    env
}

fn dump(pg_dump: &Path, settings: &ConnectSettings, format: Format, file: &Path) -> Result<()> {
    let format_arg = match format {
        Format::Custom => "--format=custom",
        Format::Plain => "--format=plain",
    };
    let mut cmd = Command::new(pg_dump);
    cmd.arg(format_arg)
        .arg("--no-password")
        .arg("--file")
        .arg(file)
        .env_remove("PGSERVICE")
        .env_remove("PGSERVICEFILE");
    for (k, v) in libpq_env(settings) {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| {
        anyhow!(
            "could not run {}: {e}; install the PostgreSQL client (e.g. `apt-get install postgresql-client`) or set `pg_dump` under [upgrade] in retort.toml",
            pg_dump.display()
        )
    })?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            pg_dump.display(),
            out.status,
            crate::redact::redact(String::from_utf8_lossy(&out.stderr).trim())
        );
    }
    Ok(())
}

/// Reads the whole dump back: `pg_restore` of a custom archive into /dev/null (every block is
/// read and decompressed), or the completion line a plain dump ends with.
fn read_back(pg_dump: &Path, format: Format, file: &Path) -> Result<()> {
    match format {
        Format::Custom => {
            let pg_restore = pg_dump.with_file_name("pg_restore");
            let pg_restore = if pg_restore.is_file() {
                pg_restore
            } else {
                PathBuf::from("pg_restore")
            };
            let out = Command::new(&pg_restore)
                .arg("--file=/dev/null")
                .arg(file)
                .output()
                .map_err(|e| {
                    anyhow!(
                        "could not run {} to read the backup back: {e}",
                        pg_restore.display()
                    )
                })?;
            if !out.status.success() {
                bail!(
                    "the backup {} does not read back with {} ({}): {}",
                    file.display(),
                    pg_restore.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        Format::Plain => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the backup {} back", file.display()))?;
            // pg_dump ends the script with `-- PostgreSQL database dump complete` in a comment
            // block (and, from 17, an `\unrestrict` line): look at its last lines.
            let complete = text
                .lines()
                .rev()
                .take(8)
                .any(|l| l.contains("PostgreSQL database dump complete"));
            if !complete {
                bail!(
                    "the backup {} is incomplete: it does not end with pg_dump's completion line",
                    file.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_part("app db/ü"), "app_db__");
        assert_eq!(file_part("20260101_000001"), "20260101_000001");
    }

    #[test]
    fn the_dump_connects_through_the_environment() {
        let s = ConnectSettings::resolve(
            &retort_connect::Params::parse(
                "postgres://app:s3cret@db1:6432,db2/shop?sslmode=require&connect_timeout=5",
            )
            .unwrap(),
            &|_| None,
        )
        .unwrap();
        let env = libpq_env(&s);
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PGHOST"), Some("db1,db2"));
        assert_eq!(get("PGPORT"), Some("6432,5432"));
        assert_eq!(get("PGUSER"), Some("app"));
        assert_eq!(get("PGDATABASE"), Some("shop"));
        assert_eq!(get("PGPASSWORD"), Some("s3cret"));
        assert_eq!(get("PGSSLMODE"), Some("require"));
        assert_eq!(get("PGCONNECT_TIMEOUT"), Some("5"));
    }
}
