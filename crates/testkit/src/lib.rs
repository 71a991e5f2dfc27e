//! Dev-only helpers: a throwaway PostgreSQL cluster (initdb + pg_ctl, unix socket) and fresh
//! per-test databases on the server named by `DATABASE_URL`.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Finds the directory holding `initdb` and `pg_ctl`: `RETORT_PG_BIN`, then `pg_config
/// --bindir`, then the newest `/usr/lib/postgresql/*/bin`.
pub fn pg_bin_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("RETORT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(dir) = candidates
        .into_iter()
        .rev()
        .find(|p| p.join("initdb").exists())
    {
        return Ok(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    bail!("PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and pg_config); install them with `apt-get install postgresql` or set RETORT_PG_BIN")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a server binary, as the `postgres` user when we are root (the server refuses root).
fn run_pg(bin: &Path, args: &[&str]) -> Result<std::process::Output> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args);
    cmd.current_dir("/");
    let out = cmd
        .output()
        .with_context(|| format!("failed to run {}", bin.display()))?;
    Ok(out)
}

fn ensure_postgres_user() -> Result<()> {
    if !is_root() {
        return Ok(());
    }
    let exists = Command::new("id")
        .arg("postgres")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let st = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/bin/sh",
                "postgres",
            ])
            .status()
            .context("useradd postgres")?;
        if !st.success() {
            bail!("could not create the `postgres` user needed to run the server as non-root");
        }
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A throwaway PostgreSQL cluster listening on a unix socket only. Stopped and deleted on drop.
pub struct PgCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    stopped: bool,
}

impl PgCluster {
    /// initdb into a fresh temp dir and start the server on a free port.
    pub fn start() -> Result<PgCluster> {
        let bin = pg_bin_dir()?;
        ensure_postgres_user()?;
        let dir = tempfile::Builder::new()
            .prefix("retort-pg-")
            .tempdir()?
            .keep();
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir)
                .status()?;
            if !st.success() {
                bail!("chown of {} failed", dir.display());
            }
        }
        let data = dir.join("data");
        let data_s = data.to_string_lossy().to_string();
        let out = run_pg(
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let port = free_port()?;
        let opts = format!(
            "-k {} -h '' -p {port} -F -c synchronous_commit=off -c full_page_writes=off -c max_connections=100",
            dir.display()
        );
        let log = dir.join("server.log").to_string_lossy().to_string();
        let out = run_pg(
            &bin.join("pg_ctl"),
            &[
                "-D", &data_s, "-o", &opts, "-l", &log, "-w", "-t", "60", "start",
            ],
        )?;
        if !out.status.success() {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "pg_ctl start failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                log_text
            );
        }
        Ok(PgCluster {
            dir,
            port,
            bin,
            stopped: false,
        })
    }

    /// Connection URL for `db` on this cluster (libpq and rust-postgres both accept it).
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@/{db}?host={}&port={}",
            self.dir.display(),
            self.port
        )
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server and deletes its files.
    pub fn stop(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let data = self.dir.join("data").to_string_lossy().to_string();
        let out = run_pg(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        )?;
        let _ = std::fs::remove_dir_all(&self.dir);
        if !out.status.success() {
            return Err(anyhow!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The server tests run against: `DATABASE_URL`, as exported by `cargo xtask test`.
pub fn server_url() -> Result<String> {
    std::env::var("DATABASE_URL").map_err(|_| {
        anyhow!(
            "DATABASE_URL is not set: run `cargo xtask test`, which starts a throwaway PostgreSQL"
        )
    })
}

/// Replaces the database name in a `postgres://` URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh, empty database on the test server, dropped again on drop.
pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates `name` (dropping a leftover of the same name) from template0.
    pub fn create(name: &str) -> Result<TestDb> {
        let server = server_url()?;
        let admin_url = with_database(&server, "postgres");
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .with_context(|| format!("connecting to the test server {admin_url}"))?;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))?;
        Ok(TestDb {
            name: name.to_string(),
            url: with_database(&server, name),
            admin_url,
        })
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        Ok(postgres::Client::connect(&self.url, postgres::NoTls)?)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `pg_dump --schema-only` of a database, with a fixed restrict key so output is comparable.
pub fn pg_dump_schema(url: &str) -> Result<String> {
    let bin = pg_bin_dir()?;
    let out = Command::new(bin.join("pg_dump"))
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--restrict-key=retort",
        ])
        .arg(format!("--dbname={url}"))
        .output()
        .context("running pg_dump")?;
    if !out.status.success() {
        bail!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@localhost/a?host=/tmp/x&port=5", "b"),
            "postgres://u@localhost/b?host=/tmp/x&port=5"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5432", "b"),
            "postgres://u:p@h:5432/b"
        );
    }
}
