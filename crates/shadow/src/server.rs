//! Running the server binaries: as the `postgres` user when we are root (the server refuses
//! root), `initdb` for a private cluster, `pg_ctl start/stop/status`. Shared with the test kit.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Output};

/// The user the server runs as when Retort runs as root, and the superuser of every cluster
/// Retort creates.
pub const SERVER_USER: &str = "postgres";

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The command for a server binary: through `runuser -u postgres` when we are root.
pub fn pg_command(bin: &Path) -> Command {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", SERVER_USER, "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.current_dir("/");
    cmd
}

/// Runs a server binary (see `pg_command`) and collects its output.
pub fn run_pg(bin: &Path, args: &[&str]) -> Result<Output> {
    pg_command(bin)
        .args(args)
        .output()
        .with_context(|| format!("failed to run {}", bin.display()))
}

/// When root: creates the `postgres` system user if it does not exist.
pub fn ensure_postgres_user() -> Result<()> {
    if !is_root() {
        return Ok(());
    }
    let exists = Command::new("id")
        .arg(SERVER_USER)
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
                SERVER_USER,
            ])
            .status()
            .context("useradd postgres")?;
        if !st.success() {
            bail!("could not create the `postgres` user needed to run the server as non-root");
        }
    }
    Ok(())
}

/// When root: gives `dir` (recursively) to the server user, so the server can write there.
pub fn give_to_server_user(dir: &Path) -> Result<()> {
    if !is_root() {
        return Ok(());
    }
    let st = Command::new("chown")
        .args(["-R", SERVER_USER])
        .arg(dir)
        .status()
        .context("running chown")?;
    if !st.success() {
        bail!("chown of {} failed", dir.display());
    }
    Ok(())
}

/// Whether the server user may create files in `dir` (asked as that user: `test -w`).
pub fn server_user_can_write(dir: &Path) -> bool {
    pg_command(Path::new("test"))
        .arg("-w")
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `initdb` of a new cluster in `data`: superuser `postgres`, trust authentication, UTF8, C locale.
pub fn initdb(bin: &Path, data: &Path) -> Result<()> {
    let data_s = data.to_string_lossy();
    let out = run_pg(
        &bin.join("initdb"),
        &[
            "-D",
            &data_s,
            "-A",
            "trust",
            "-U",
            SERVER_USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )?;
    if !out.status.success() {
        bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// `pg_ctl start` of the cluster in `data` with server `options` (`-o`), logging to `log`;
/// waits until it accepts connections. The error carries the log.
pub fn start(bin: &Path, data: &Path, options: &str, log: &Path) -> Result<()> {
    let data_s = data.to_string_lossy();
    let log_s = log.to_string_lossy();
    let out = run_pg(
        &bin.join("pg_ctl"),
        &[
            "-D", &data_s, "-o", options, "-l", &log_s, "-w", "-t", "60", "start",
        ],
    )?;
    if !out.status.success() {
        let log_text = std::fs::read_to_string(log).unwrap_or_default();
        bail!(
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            log_text
        );
    }
    Ok(())
}

/// `pg_ctl stop` in `mode` (`fast`, `immediate`), waiting for the server to end.
pub fn stop(bin: &Path, data: &Path, mode: &str) -> Result<()> {
    let data_s = data.to_string_lossy();
    let out = run_pg(
        &bin.join("pg_ctl"),
        &["-D", &data_s, "-m", mode, "-w", "stop"],
    )?;
    if !out.status.success() {
        bail!(
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Whether a server runs on `data` (`pg_ctl status`: its postmaster.pid names a live process).
pub fn running(bin: &Path, data: &Path) -> bool {
    let data_s = data.to_string_lossy();
    run_pg(&bin.join("pg_ctl"), &["-D", &data_s, "status"])
        .map(|o| o.status.success())
        .unwrap_or(false)
}
