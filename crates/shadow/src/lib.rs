//! The shadow database: a private PostgreSQL cluster Retort starts itself (initdb + pg_ctl on a
//! unix socket in a cache directory), reused across runs while up, stopped after an idle period.
//!
//! Layout of one cluster, `<base>/<major>/` (base: `RETORT_SHADOW_DIR`, else
//! `$XDG_CACHE_HOME/retort/shadow` or `~/.cache/retort/shadow`; `/var/tmp/retort-shadow` as root):
//! `data/` (the cluster), `run/` (socket and server.log), `state.json` (bin, version, pid,
//! socket, idle limit, watcher pid), `last-use` (its mtime is the last use), `start.lock`
//! (exclusive while a run checks, starts or stops the server: one initdb however many runs race)
//! and `use.lock` (shared by every live `ShadowHandle`; the idle watcher and `stop` need it
//! exclusively, so a server in use is never stopped under a run).

pub mod install;
pub mod server;
mod watcher;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use install::Installation;

/// The port in the socket's name (`.s.PGSQL.5432`); nothing listens on TCP.
pub const PORT: u16 = 5432;

/// The idle limit when none is given: 15 minutes.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(15 * 60);

/// What to run and where.
#[derive(Debug, Clone)]
pub struct ShadowOptions {
    /// The target server's major version (`server_version_num / 10000`): the shadow runs the
    /// same major; `None`: the newest installed.
    pub major: Option<u32>,
    /// The base directory; `None`: `RETORT_SHADOW_DIR` or the cache directory.
    pub dir: Option<PathBuf>,
    /// Stop the server once nobody has used it this long.
    pub idle: Duration,
}

impl Default for ShadowOptions {
    fn default() -> Self {
        ShadowOptions {
            major: None,
            dir: None,
            idle: DEFAULT_IDLE,
        }
    }
}

impl ShadowOptions {
    /// The base directory holding one cluster per major version.
    pub fn base_dir(&self) -> Result<PathBuf> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        if let Some(d) = std::env::var_os("RETORT_SHADOW_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        if server::is_root() {
            // The server runs as `postgres`, which cannot enter /root.
            return Ok(PathBuf::from("/var/tmp/retort-shadow"));
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .ok_or_else(|| anyhow!("cannot place the shadow database: neither XDG_CACHE_HOME nor HOME is set (set RETORT_SHADOW_DIR)"))?;
        Ok(cache.join("retort").join("shadow"))
    }
}

/// How `ensure` found the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It was running: reused as it is.
    Reused,
    /// The cluster existed; its server was started.
    Restarted,
    /// initdb made the cluster, then its server was started.
    Created,
}

/// What `state.json` records about a started server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct State {
    bin: PathBuf,
    version: String,
    major: u32,
    pid: u32,
    socket_dir: PathBuf,
    port: u16,
    idle_secs: u64,
    watcher_pid: Option<u32>,
}

/// The paths of one cluster directory.
struct Paths {
    dir: PathBuf,
}

impl Paths {
    fn new(base: &Path, major: u32) -> Paths {
        Paths {
            dir: base.join(major.to_string()),
        }
    }
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    fn run(&self) -> PathBuf {
        self.dir.join("run")
    }
    fn log(&self) -> PathBuf {
        self.run().join("server.log")
    }
    fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    fn initialized(&self) -> PathBuf {
        self.dir.join("initialized")
    }
    fn last_use(&self) -> PathBuf {
        self.dir.join("last-use")
    }
    fn lock(&self, name: &str) -> Result<File> {
        let path = self.dir.join(name);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))
    }
    fn read_state(&self) -> Option<State> {
        serde_json::from_str(&std::fs::read_to_string(self.state()).ok()?).ok()
    }
    fn write_state(&self, s: &State) -> Result<()> {
        let tmp = self.dir.join("state.json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(s)?)?;
        std::fs::rename(&tmp, self.state())?;
        Ok(())
    }
    fn touch(&self) -> Result<()> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.last_use())?;
        f.set_modified(SystemTime::now())?;
        Ok(())
    }
}

/// A running shadow server, kept from idle stop while this handle lives (dropping it records the
/// last use). Connect as the superuser `postgres` over the unix socket; no password.
pub struct ShadowHandle {
    paths: Paths,
    state: State,
    started: Started,
    _use_lock: File,
}

impl ShadowHandle {
    /// `postgres://postgres@/<db>?host=<socket dir>&port=5432` (libpq and rust-postgres accept it).
    pub fn url(&self, db: &str) -> String {
        socket_url(&self.state.socket_dir, self.state.port, db)
    }
    /// A superuser session on database `db`.
    pub fn connect(&self, db: &str) -> Result<postgres::Client> {
        connect(&self.state.socket_dir, self.state.port, db)
    }
    /// The directory holding the socket (the `host` of the URL).
    pub fn socket_dir(&self) -> &Path {
        &self.state.socket_dir
    }
    pub fn port(&self) -> u16 {
        self.state.port
    }
    /// The major version the server runs.
    pub fn major(&self) -> u32 {
        self.state.major
    }
    /// The full server version, e.g. `15.18`.
    pub fn version(&self) -> &str {
        &self.state.version
    }
    /// The postmaster's pid.
    pub fn pid(&self) -> u32 {
        self.state.pid
    }
    /// The cluster directory (`<base>/<major>`).
    pub fn dir(&self) -> &Path {
        &self.paths.dir
    }
    /// Whether this run reused a running server, restarted a stopped one or made the cluster.
    pub fn started(&self) -> Started {
        self.started
    }
}

impl Drop for ShadowHandle {
    fn drop(&mut self) {
        let _ = self.paths.touch();
    }
}

fn socket_url(socket_dir: &Path, port: u16, db: &str) -> String {
    format!(
        "postgres://{}@/{db}?host={}&port={port}",
        server::SERVER_USER,
        socket_dir.display()
    )
}

fn connect(socket_dir: &Path, port: u16, db: &str) -> Result<postgres::Client> {
    let mut cfg = postgres::Config::new();
    cfg.host_path(socket_dir)
        .port(port)
        .user(server::SERVER_USER)
        .dbname(db)
        .connect_timeout(Duration::from_secs(10));
    cfg.connect(postgres::NoTls).with_context(|| {
        format!(
            "connecting to the shadow database at {}",
            socket_dir.display()
        )
    })
}

/// One cluster as `status` sees it.
#[derive(Debug, Clone)]
pub struct Status {
    pub major: u32,
    pub dir: PathBuf,
    /// The server version, when a server was ever started here.
    pub version: Option<String>,
    pub running: bool,
    /// The superuser URL of database `postgres`, while running.
    pub url: Option<String>,
    pub pid: Option<u32>,
    pub last_use: Option<SystemTime>,
    pub idle: Option<Duration>,
    /// Whether the idle watcher runs (it stops the server after `idle`).
    pub watcher: bool,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = self.version.as_deref().unwrap_or("never started");
        if !self.running {
            return write!(
                f,
                "PostgreSQL {} ({version}): stopped, in {}",
                self.major,
                self.dir.display()
            );
        }
        write!(
            f,
            "PostgreSQL {version}: running (pid {}), {}",
            self.pid.unwrap_or(0),
            self.url.as_deref().unwrap_or("")
        )?;
        if let Some(idle) = self.idle {
            let since = self
                .last_use
                .and_then(|t| t.elapsed().ok())
                .map(|d| format!("last used {}s ago, ", d.as_secs()))
                .unwrap_or_default();
            if self.watcher {
                write!(f, "; {since}stops after {}s idle", idle.as_secs())?;
            } else {
                write!(
                    f,
                    "; {since}no idle watcher (needs flock): stop it with `retort shadow stop`"
                )?;
            }
        }
        Ok(())
    }
}

/// The shadow database's operations.
pub struct Shadow;

/// The major version `Shadow::ensure` would run for `major` (the newest installed for `None`),
/// from the local binaries, without starting anything.
pub fn installed_major(major: Option<u32>) -> Result<u32> {
    Ok(install::choose(major)?.major)
}

impl Shadow {
    /// A running shadow server for `opts.major` (or the newest installed): reuses the one that
    /// runs, else starts it (initdb first when there is no cluster). Concurrent calls, from
    /// threads or processes, make one cluster.
    pub fn ensure(opts: &ShadowOptions) -> Result<ShadowHandle> {
        let inst = install::choose(opts.major)?;
        let base = opts.base_dir()?;
        let paths = Paths::new(&base, inst.major);
        prepare_dirs(&base, &paths)?;
        let start_lock = paths.lock("start.lock")?;
        start_lock
            .lock()
            .context("waiting for the shadow database's start lock")?;
        // Held before looking, so the idle watcher cannot stop what we then find running.
        let use_lock = paths.lock("use.lock")?;
        use_lock
            .lock_shared()
            .context("taking the shadow database's use lock")?;
        let (state, started) = start_or_reuse(&inst, &paths, opts.idle)?;
        paths.touch()?;
        drop(start_lock);
        Ok(ShadowHandle {
            paths,
            state,
            started,
            _use_lock: use_lock,
        })
    }

    /// Stops the shadow server of `opts.major`, or of every major when `None`; returns the majors
    /// that were running. A server some run is using is not stopped (an error says so).
    pub fn stop(opts: &ShadowOptions) -> Result<Vec<u32>> {
        let base = opts.base_dir()?;
        let mut stopped = Vec::new();
        for major in majors(&base, opts.major)? {
            let paths = Paths::new(&base, major);
            let start_lock = paths.lock("start.lock")?;
            start_lock.lock()?;
            let use_lock = paths.lock("use.lock")?;
            match use_lock.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => bail!(
                    "the PostgreSQL {major} shadow database is in use by a running retort command: try again when it ends"
                ),
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
            let Some(state) = paths.read_state() else {
                continue;
            };
            if server::running(&state.bin, &paths.data()) {
                server::stop(&state.bin, &paths.data(), "fast")?;
                stopped.push(major);
            }
        }
        Ok(stopped)
    }

    /// What runs under the base directory: `opts.major`'s cluster, or every cluster when `None`.
    pub fn status(opts: &ShadowOptions) -> Result<Vec<Status>> {
        let base = opts.base_dir()?;
        let mut out = Vec::new();
        for major in majors(&base, opts.major)? {
            let paths = Paths::new(&base, major);
            let state = paths.read_state();
            let running = state
                .as_ref()
                .is_some_and(|s| server::running(&s.bin, &paths.data()));
            out.push(Status {
                major,
                dir: paths.dir.clone(),
                version: state.as_ref().map(|s| s.version.clone()),
                running,
                url: state
                    .as_ref()
                    .filter(|_| running)
                    .map(|s| socket_url(&s.socket_dir, s.port, "postgres")),
                pid: state.as_ref().filter(|_| running).map(|s| s.pid),
                last_use: std::fs::metadata(paths.last_use())
                    .and_then(|m| m.modified())
                    .ok(),
                idle: state.as_ref().map(|s| Duration::from_secs(s.idle_secs)),
                watcher: state
                    .as_ref()
                    .and_then(|s| s.watcher_pid)
                    .is_some_and(watcher::alive),
            });
        }
        Ok(out)
    }
}

/// The majors to look at: the one asked for, else every `<base>/<number>` holding a cluster.
fn majors(base: &Path, major: Option<u32>) -> Result<Vec<u32>> {
    if let Some(m) = major {
        return Ok(if base.join(m.to_string()).join("state.json").exists() {
            vec![m]
        } else {
            vec![]
        });
    }
    let mut out: Vec<u32> = match std::fs::read_dir(base) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => return Err(e).with_context(|| format!("reading {}", base.display())),
    };
    out.sort();
    Ok(out)
}

/// Creates the cluster directory (mode 0700; owned by the server user when we are root) and
/// checks that the socket path fits and is quotable in server options.
fn prepare_dirs(base: &Path, paths: &Paths) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let text = paths.dir.to_string_lossy();
    if text.contains(['\'', '"', '\\', '\n']) {
        bail!(
            "the shadow directory {} holds a quote, backslash or newline: set RETORT_SHADOW_DIR to a plain path",
            paths.dir.display()
        );
    }
    let socket = paths.run().join(format!(".s.PGSQL.{PORT}"));
    if socket.as_os_str().len() > 100 {
        bail!(
            "the shadow socket path {} is too long for a unix socket: set RETORT_SHADOW_DIR to a shorter path",
            socket.display()
        );
    }
    server::ensure_postgres_user()?;
    std::fs::create_dir_all(base).with_context(|| format!("creating {}", base.display()))?;
    let fresh = !paths.dir.exists();
    let fresh_run = !paths.run().exists();
    std::fs::create_dir_all(paths.run())
        .with_context(|| format!("creating {}", paths.run().display()))?;
    if fresh {
        std::fs::set_permissions(&paths.dir, std::fs::Permissions::from_mode(0o700))?;
        server::give_to_server_user(&paths.dir)?;
    } else if fresh_run {
        server::give_to_server_user(&paths.run())?;
    }
    if server::is_root() && !server::server_user_can_write(&paths.run()) {
        bail!(
            "the server user `{}` cannot write to {}: make its parent directories traversable (chmod o+x) or set RETORT_SHADOW_DIR elsewhere",
            server::SERVER_USER,
            paths.run().display()
        );
    }
    Ok(())
}

/// Under the start lock: the running server, or a started one.
fn start_or_reuse(inst: &Installation, paths: &Paths, idle: Duration) -> Result<(State, Started)> {
    let data = paths.data();
    if let Some(mut state) = paths.read_state() {
        if state.bin == inst.bin
            && server::running(&state.bin, &data)
            && connect(&state.socket_dir, state.port, "postgres").is_ok()
        {
            if !state.watcher_pid.is_some_and(watcher::alive) {
                state.idle_secs = idle.as_secs();
                state.watcher_pid = spawn_watcher(paths, idle, &state.bin)?;
                paths.write_state(&state)?;
            }
            return Ok((state, Started::Reused));
        }
        if server::running(&state.bin, &data) {
            // Another installation of the same major, or a server not answering: restart it.
            server::stop(&state.bin, &data, "fast")?;
        }
    }
    let mut started = Started::Restarted;
    if !paths.initialized().exists() {
        init_cluster(inst, paths)?;
        started = Started::Created;
    }
    if let Err(e) = start_server(inst, paths) {
        if started == Started::Created {
            return Err(e);
        }
        // A cluster that no longer starts (a crash with fsync off, a half-removed directory) is
        // only a cache: make it again.
        init_cluster(inst, paths).context(format!("{e:#}"))?;
        start_server(inst, paths)?;
        started = Started::Created;
    }
    let pid = postmaster_pid(&data)?;
    let state = State {
        bin: inst.bin.clone(),
        version: inst.version.clone(),
        major: inst.major,
        pid,
        socket_dir: paths.run(),
        port: PORT,
        idle_secs: idle.as_secs(),
        watcher_pid: spawn_watcher(paths, idle, &inst.bin)?,
    };
    paths.write_state(&state)?;
    Ok((state, started))
}

fn init_cluster(inst: &Installation, paths: &Paths) -> Result<()> {
    let _ = std::fs::remove_file(paths.initialized());
    let data = paths.data();
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }
    server::initdb(&inst.bin, &data)?;
    std::fs::write(paths.initialized(), &inst.version)?;
    Ok(())
}

fn start_server(inst: &Installation, paths: &Paths) -> Result<()> {
    // Durability is not needed for a scratch server: fsync and full-page writes are off. The lock
    // table holds 1024 locks per connection (64 by default), so a migration that creates
    // thousands of tables in one transaction replays here (about 13 MiB of shared memory).
    let options = format!(
        "-k '{}' -h '' -p {PORT} -F -c unix_socket_permissions=0700 -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c max_locks_per_transaction=1024",
        paths.run().display()
    );
    server::start(&inst.bin, &paths.data(), &options, &paths.log())
}

fn postmaster_pid(data: &Path) -> Result<u32> {
    let text = std::fs::read_to_string(data.join("postmaster.pid"))
        .with_context(|| format!("reading {}/postmaster.pid", data.display()))?;
    text.lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| anyhow!("{}/postmaster.pid names no pid", data.display()))
}

fn spawn_watcher(paths: &Paths, idle: Duration, bin: &Path) -> Result<Option<u32>> {
    if !watcher::available() {
        return Ok(None);
    }
    watcher::spawn(&paths.dir, idle, bin, &paths.data(), server::is_root()).map(Some)
}
