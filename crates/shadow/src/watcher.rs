//! The idle watcher: a detached `sh` loop, one per running shadow server, that stops the server
//! once nobody has used it for the idle limit (needs `flock(1)`; no watcher when it is missing).

use anyhow::{Context, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every `step` seconds: ends when the server is gone or `watcher.pid` names another watcher
/// (the server was restarted with its own); otherwise, when no run holds the use lock
/// (`flock -n -x` succeeds) and `last-use` is older than the limit, `pg_ctl stop -m fast`.
const SCRIPT: &str = r#"trap '' HUP
dir=$1 idle=$2 step=$3 pgctl=$4 data=$5 asroot=$6
while sleep "$step"; do
  [ -f "$data/postmaster.pid" ] || exit 0
  [ "$(cat "$dir/watcher.pid" 2>/dev/null)" = "$$" ] || exit 0
  (
    flock -x -n 9 || exit 0
    last=$(stat -c %Y "$dir/last-use" 2>/dev/null || echo 0)
    now=$(date +%s)
    if [ $((now - last)) -ge "$idle" ]; then
      if [ "$asroot" = 1 ]; then
        runuser -u postgres -- "$pgctl" -D "$data" -m fast -w stop
      else
        "$pgctl" -D "$data" -m fast -w stop
      fi
    fi
  ) 9>>"$dir/use.lock" >/dev/null 2>&1
done
"#;

/// Whether `flock(1)` is on PATH (util-linux).
pub fn available() -> bool {
    Command::new("flock")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// How often the watcher looks: a quarter of the limit, between 1 and 30 seconds.
fn step(idle: Duration) -> u64 {
    (idle.as_secs() / 4).clamp(1, 30)
}

/// Starts the watcher for the server of `data` (cluster directory `dir`); returns its pid.
pub fn spawn(dir: &Path, idle: Duration, bin: &Path, data: &Path, as_root: bool) -> Result<u32> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("retort-shadow-watcher")
        .arg(dir)
        .arg(idle.as_secs().max(1).to_string())
        .arg(step(idle).to_string())
        .arg(bin.join("pg_ctl"))
        .arg(data)
        .arg(if as_root { "1" } else { "0" })
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the shadow idle watcher (sh)")?;
    std::fs::write(dir.join("watcher.pid"), child.id().to_string())?;
    Ok(child.id())
}

/// Whether watcher `pid` still runs: on Linux its /proc entry names the watcher and is not a
/// zombie (a reused pid is not mistaken for it); elsewhere `kill -0`.
pub fn alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if Path::new("/proc/self").exists() {
        let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
        let is_watcher = String::from_utf8_lossy(&cmdline).contains("retort-shadow-watcher");
        let stat = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        return is_watcher && !zombie;
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
