//! Dev-only helpers: a throwaway PostgreSQL cluster (initdb + pg_ctl, unix socket) and fresh
//! per-test databases on the server named by `DATABASE_URL` (any form retort-connect accepts
//! for a URL, TLS included), and TLS clusters with certificates made at start-up.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use retort_shadow::server::{ensure_postgres_user, give_to_server_user, run_pg};

/// Finds the directory holding `initdb` and `pg_ctl`: `RETORT_PG_BIN`, else the newest
/// installation the shadow crate finds (`pg_config --bindir`, /usr/lib/postgresql/*/bin, ...).
pub fn pg_bin_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("RETORT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    Ok(retort_shadow::install::choose(None)?.bin)
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// How to start a `PgCluster`: the default is a unix socket only, trusting every local user.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Also listen on 127.0.0.1 (same port as the socket).
    pub tcp: bool,
    /// Generate certificates (see `TlsFiles`) and turn `ssl` on; implies `tcp`.
    pub tls: bool,
    /// pg_hba.conf lines placed before the defaults (`local all all trust`, and for TCP
    /// `host all all 127.0.0.1/32 scram-sha-256`): first match wins.
    pub hba: Vec<String>,
}

/// Certificates made at start-up for a TLS cluster: one CA signs the server certificate (valid
/// for `localhost` only, not 127.0.0.1) and a client certificate for the user `certuser`;
/// `other_ca` signs nothing the server uses.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// The user name in the client certificate (`CN`).
    pub client_user: String,
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes the certificates of `TlsFiles` into `dir`.
pub fn make_certificates(dir: &Path) -> Result<TlsFiles> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca = |name: &str| -> Result<(String, Issuer<'static, KeyPair>)> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = p.self_signed(&key)?;
        Ok((cert.pem(), Issuer::new(p, key)))
    };
    let (ca_pem, ca_issuer) = ca("Retort test CA")?;
    let (other_pem, _) = ca("Some other CA")?;
    let leaf = |names: Vec<String>,
                cn: &str,
                usage: ExtendedKeyUsagePurpose|
     -> Result<(String, String)> {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(names)?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![usage];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &ca_issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_pem, server_key) = leaf(
        vec!["localhost".into()],
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let client_user = "certuser".to_string();
    let (client_pem, client_key) = leaf(vec![], &client_user, ExtendedKeyUsagePurpose::ClientAuth)?;
    let files = TlsFiles {
        ca: dir.join("ca.crt"),
        other_ca: dir.join("other-ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.crt"),
        client_key: dir.join("client.key"),
        client_user,
    };
    std::fs::write(&files.ca, ca_pem)?;
    std::fs::write(&files.other_ca, other_pem)?;
    std::fs::write(&files.server_cert, server_pem)?;
    write_private(&files.server_key, &server_key)?;
    std::fs::write(&files.client_cert, client_pem)?;
    write_private(&files.client_key, &client_key)?;
    Ok(files)
}

/// A throwaway PostgreSQL cluster on a unix socket (and optionally 127.0.0.1, with TLS).
/// Stopped and deleted on drop.
pub struct PgCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    stopped: bool,
    tcp: bool,
    tls: Option<TlsFiles>,
}

impl PgCluster {
    /// initdb into a fresh temp dir and start the server on a free port.
    pub fn start() -> Result<PgCluster> {
        Self::start_with(&ClusterOptions::default())
    }

    /// Like `start`, with TCP, TLS and pg_hba rules as asked.
    pub fn start_with(opts: &ClusterOptions) -> Result<PgCluster> {
        let bin = pg_bin_dir()?;
        ensure_postgres_user()?;
        let dir = tempfile::Builder::new()
            .prefix("retort-pg-")
            .tempdir()?
            .keep();
        let tcp = opts.tcp || opts.tls;
        let tls = if opts.tls {
            let certs = dir.join("certs");
            std::fs::create_dir_all(&certs)?;
            Some(make_certificates(&certs)?)
        } else {
            None
        };
        give_to_server_user(&dir)?;
        let data = dir.join("data");
        retort_shadow::server::initdb(&bin, &data)?;
        if tcp || !opts.hba.is_empty() {
            let mut hba = opts.hba.join("\n");
            hba.push_str("\nlocal all all trust\n");
            if tcp {
                hba.push_str("host all all 127.0.0.1/32 scram-sha-256\n");
            }
            std::fs::write(data.join("pg_hba.conf"), hba)?;
        }
        if let Some(t) = &tls {
            use std::io::Write;
            let mut conf = std::fs::OpenOptions::new()
                .append(true)
                .open(data.join("postgresql.conf"))?;
            writeln!(
                conf,
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'",
                t.server_cert.display(),
                t.server_key.display(),
                t.ca.display()
            )?;
        }
        let port = free_port()?;
        let listen = if tcp { "127.0.0.1" } else { "" };
        // 512 locks per connection: the benchmark replays migrations that create 10 000 tables
        // in one transaction.
        let opts = format!(
            "-k {} -h '{listen}' -p {port} -F -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c max_locks_per_transaction=512",
            dir.display()
        );
        retort_shadow::server::start(&bin, &data, &opts, &dir.join("server.log"))?;
        Ok(PgCluster {
            dir,
            port,
            bin,
            stopped: false,
            tcp,
            tls,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificates of a TLS cluster.
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// Whether the server listens on 127.0.0.1.
    pub fn tcp(&self) -> bool {
        self.tcp
    }

    /// A superuser session over the unix socket (no password, no TLS).
    pub fn admin(&self) -> Result<postgres::Client> {
        let url = self.url("postgres");
        postgres::Client::connect(&url, postgres::NoTls)
            .with_context(|| format!("connecting to {url}"))
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
        let result = retort_shadow::server::stop(&self.bin, &self.dir.join("data"), "immediate");
        let _ = std::fs::remove_dir_all(&self.dir);
        result
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Finds the `pgbouncer` binary: `RETORT_PGBOUNCER`, then `/usr/sbin/pgbouncer`, then `PATH`.
pub fn pgbouncer_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RETORT_PGBOUNCER") {
        return Some(PathBuf::from(p));
    }
    let sbin = PathBuf::from("/usr/sbin/pgbouncer");
    if sbin.exists() {
        return Some(sbin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("pgbouncer"))
            .find(|p| p.exists())
    })
}

/// A PgBouncer in front of a server, listening on a unix socket in its own temp directory,
/// `auth_type = trust`, every database forwarded. Stopped (SIGTERM) and deleted on drop.
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    pid: Option<i32>,
}

/// How PgBouncer pools server connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
}

impl PgBouncer {
    /// Starts PgBouncer in front of the server at unix socket `host` (a directory) and `port`,
    /// pooling in `mode` with at most `pool_size` server connections per database and user.
    /// `Ok(None)` when PgBouncer is not installed.
    pub fn start(
        host: &Path,
        server_port: u16,
        mode: PoolMode,
        pool_size: u32,
    ) -> Result<Option<PgBouncer>> {
        let Some(bin) = pgbouncer_bin() else {
            return Ok(None);
        };
        ensure_postgres_user()?;
        let dir = tempfile::Builder::new()
            .prefix("retort-pgbouncer-")
            .tempdir()?
            .keep();
        let port = free_port()?;
        let mode = match mode {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        };
        std::fs::write(dir.join("userlist.txt"), "\"postgres\" \"\"\n")?;
        let conf = format!(
            "[databases]\n\
             * = host={host} port={server_port} user=postgres\n\
             [pgbouncer]\n\
             listen_addr =\n\
             listen_port = {port}\n\
             unix_socket_dir = {dir}\n\
             auth_type = trust\n\
             auth_file = {dir}/userlist.txt\n\
             pool_mode = {mode}\n\
             default_pool_size = {pool_size}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             max_client_conn = 200\n\
             max_db_connections = {pool_size}\n\
             server_reset_query = DISCARD ALL\n\
             ignore_startup_parameters = extra_float_digits,options,search_path\n\
             logfile = {dir}/pgbouncer.log\n\
             pidfile = {dir}/pgbouncer.pid\n",
            host = host.display(),
            dir = dir.display(),
        );
        let conf_path = dir.join("pgbouncer.ini");
        std::fs::write(&conf_path, conf)?;
        give_to_server_user(&dir)?;
        let conf_s = conf_path.to_string_lossy().to_string();
        let out = run_pg(&bin, &["-d", &conf_s])?;
        let mut b = PgBouncer {
            dir,
            port,
            pid: None,
        };
        if !out.status.success() {
            bail!(
                "pgbouncer failed to start: {}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(b.dir.join("pgbouncer.log")).unwrap_or_default()
            );
        }
        // Wait for the pid file and the socket.
        let socket = b.dir.join(format!(".s.PGSQL.{port}"));
        for _ in 0..100 {
            if let Ok(pid) = std::fs::read_to_string(b.dir.join("pgbouncer.pid")) {
                b.pid = pid.trim().parse().ok();
            }
            if b.pid.is_some() && socket.exists() {
                return Ok(Some(b));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bail!(
            "pgbouncer did not come up: {}",
            std::fs::read_to_string(b.dir.join("pgbouncer.log")).unwrap_or_default()
        )
    }

    /// Connection URL for `db` through PgBouncer.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@/{db}?host={}&port={}",
            self.dir.display(),
            self.port
        )
    }

    /// PgBouncer's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..50 {
                let alive = Command::new("kill")
                    .args(["-0", &pid.to_string()])
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                if !alive {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Host directory and port of a `postgres://...?host=DIR&port=N` unix-socket URL (the form
/// `PgCluster::url` and `cargo xtask test` use).
pub fn socket_of(url: &str) -> Option<(PathBuf, u16)> {
    let query = url.split_once('?')?.1;
    let mut host = None;
    let mut port = None;
    for kv in query.split('&') {
        match kv.split_once('=') {
            Some(("host", h)) if h.starts_with('/') => host = Some(PathBuf::from(h)),
            Some(("port", p)) => port = p.parse().ok(),
            _ => {}
        }
    }
    Some((host?, port?))
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
        let mut admin = retort_connect::connect_str(&admin_url)
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
        Ok(retort_connect::connect_str(&self.url)?)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = retort_connect::connect_str(&self.admin_url) {
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
