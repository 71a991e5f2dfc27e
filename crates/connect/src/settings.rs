//! `ConnectSettings`: the parameters resolved in libpq's order (given value, `PG*` variable,
//! password file, default) into typed values.

use crate::{pgpass, Error, Params};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    /// Plain only.
    Disable,
    /// Plain first; TLS if the server refuses the plain connection.
    Allow,
    /// TLS first; plain if the server does not offer TLS (the default).
    Prefer,
    /// TLS, certificate unchecked (checked as `verify-ca` when a root certificate is available).
    Require,
    /// TLS, chain checked against the root certificate, host name not checked.
    VerifyCa,
    /// TLS, chain and host name checked.
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Result<SslMode, Error> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(Error::Settings(format!(
                "invalid sslmode `{s}`: use disable, allow, prefer, require, verify-ca or verify-full"
            )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where trusted CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// `sslrootcert=system`: the platform's trust store.
    System,
    /// A PEM file of CA certificates.
    File(PathBuf),
}

/// One server to try: a socket directory or a TCP host (optionally with a fixed address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name, IP address or (starting with `/`) a unix socket directory.
    pub host: String,
    /// `hostaddr`: the address to connect to, `host` then only names it (TLS, .pgpass).
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
    password: Option<String>,
}

impl Endpoint {
    pub fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }

    /// Where a `.pgpass` line's host field must match: a socket directory counts as localhost.
    fn pgpass_host(&self) -> &str {
        if self.is_socket() {
            "localhost"
        } else {
            &self.host
        }
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_socket() {
            write!(f, "socket {}/.s.PGSQL.{}", self.host, self.port)
        } else if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Where the password came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    Given,
    Env,
    PassFile,
}

/// Everything needed to connect, resolved. `Display` (and `redacted`) never shows a password.
#[derive(Clone)]
pub struct ConnectSettings {
    pub endpoints: Vec<Endpoint>,
    pub user: String,
    pub dbname: String,
    pub sslmode: SslMode,
    /// Trusted roots: `sslrootcert`, else `~/.postgresql/root.crt` when it exists.
    pub sslrootcert: Option<RootCert>,
    /// The root file that was looked for, for messages when it is missing.
    pub sslrootcert_path: PathBuf,
    pub sslcert: Option<PathBuf>,
    pub sslkey: Option<PathBuf>,
    pub application_name: String,
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
    pub target_session_attrs: postgres::config::TargetSessionAttrs,
    pub channel_binding: postgres::config::ChannelBinding,
    pub keepalives: Option<bool>,
    pub keepalives_idle: Option<Duration>,
    pub keepalives_interval: Option<Duration>,
    pub keepalives_count: Option<u32>,
    pub tcp_user_timeout: Option<Duration>,
    pub password_source: Option<PasswordSource>,
    /// Things libpq would warn about (an ignored password file), for the caller to print.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnectSettings({self})")
    }
}

impl std::fmt::Display for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<String> = self.endpoints.iter().map(|e| e.to_string()).collect();
        write!(
            f,
            "{} user={} dbname={} sslmode={}",
            hosts.join(","),
            self.user,
            self.dbname,
            self.sslmode
        )?;
        if self.endpoints.iter().any(|e| e.password.is_some()) {
            f.write_str(" password=***")?;
        }
        Ok(())
    }
}

fn parse_secs(key: &str, v: &str) -> Result<Duration, Error> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| Error::Settings(format!("invalid {key} `{v}`: expected whole seconds")))
}

fn parse_bool01(key: &str, v: &str) -> Result<bool, Error> {
    match v.trim() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(Error::Settings(format!(
            "invalid {key} `{v}`: expected 0 or 1"
        ))),
    }
}

/// `sh`-ish `~` at the start of a path, as libpq does for its file parameters.
fn expand_home(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

fn os_user(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    env("USER")
        .or_else(|| env("LOGNAME"))
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let out = std::process::Command::new("id").arg("-un").output().ok()?;
            let u = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (!u.is_empty()).then_some(u)
        })
}

/// libpq's default server: the Debian socket directory, else /tmp's socket, else localhost.
fn default_host(port: u16) -> String {
    for dir in ["/var/run/postgresql", "/tmp"] {
        if Path::new(dir).join(format!(".s.PGSQL.{port}")).exists() {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

impl ConnectSettings {
    /// Resolves with the process environment.
    pub fn from_params(params: &Params) -> Result<ConnectSettings, Error> {
        Self::resolve(params, &|k| std::env::var(k).ok())
    }

    /// Parses a URL or key=value string and resolves it with the process environment.
    pub fn from_conninfo(s: &str) -> Result<ConnectSettings, Error> {
        Self::from_params(&Params::parse(s)?)
    }

    /// libpq's precedence: a given parameter, else its `PG*` variable (read through `env`),
    /// then the password file for a missing password, then the defaults.
    pub fn resolve(
        params: &Params,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ConnectSettings, Error> {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        let get = |key: &str, var: &str| -> Option<String> {
            match params.get(key) {
                Some(v) if !v.is_empty() => Some(v.to_string()),
                _ if var.is_empty() => None,
                _ => env(var),
            }
        };
        let home = env("HOME").map(PathBuf::from);
        let mut warnings = Vec::new();

        // Servers.
        let port_list: Vec<u16> = match get("port", "PGPORT") {
            None => vec![],
            Some(p) => p
                .split(',')
                .map(|s| {
                    let s = s.trim();
                    if s.is_empty() {
                        return Ok(5432);
                    }
                    s.parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| Error::Settings(format!("invalid port `{s}`")))
                })
                .collect::<Result<_, _>>()?,
        };
        let addr_list: Vec<Option<IpAddr>> = match get("hostaddr", "PGHOSTADDR") {
            None => vec![],
            Some(a) => a
                .split(',')
                .map(|s| {
                    let s = s.trim();
                    if s.is_empty() {
                        return Ok(None);
                    }
                    s.parse::<IpAddr>().map(Some).map_err(|_| {
                        Error::Settings(format!("invalid hostaddr `{s}`: expected an IP address"))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let host_list: Vec<String> = match get("host", "PGHOST") {
            Some(h) => h.split(',').map(|s| s.trim().to_string()).collect(),
            None => vec![String::new(); addr_list.len().max(1)],
        };
        let n = host_list.len();
        if port_list.len() > 1 && port_list.len() != n {
            return Err(Error::Settings(format!(
                "{} ports for {n} hosts: give one port, or one per host",
                port_list.len()
            )));
        }
        if !addr_list.is_empty() && addr_list.len() != n {
            return Err(Error::Settings(format!(
                "{} hostaddr values for {n} hosts: give one per host",
                addr_list.len()
            )));
        }
        let mut endpoints = Vec::with_capacity(n);
        for (i, h) in host_list.into_iter().enumerate() {
            let port = port_list
                .get(i)
                .or(port_list.first())
                .copied()
                .unwrap_or(5432);
            let hostaddr = addr_list.get(i).copied().flatten();
            let host = if !h.is_empty() {
                h
            } else if let Some(a) = hostaddr {
                a.to_string()
            } else {
                default_host(port)
            };
            endpoints.push(Endpoint {
                host,
                hostaddr,
                port,
                password: None,
            });
        }

        let user = match get("user", "PGUSER") {
            Some(u) => u,
            None => os_user(&env).ok_or_else(|| {
                Error::Settings(
                    "no user name: set user (or PGUSER); the operating system user could not be found"
                        .into(),
                )
            })?,
        };
        let dbname = get("dbname", "PGDATABASE").unwrap_or_else(|| user.clone());

        // Password: given, PGPASSWORD, then the password file, per server.
        let mut password_source = None;
        let given = match params.get("password") {
            Some(p) => {
                password_source = Some(PasswordSource::Given);
                Some(p.to_string())
            }
            None => env("PGPASSWORD").inspect(|_| password_source = Some(PasswordSource::Env)),
        };
        if let Some(p) = given {
            for e in &mut endpoints {
                e.password = Some(p.clone());
            }
        } else {
            let passfile = get("passfile", "PGPASSFILE")
                .map(|p| expand_home(&p, home.as_deref()))
                .or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
            if let Some(path) = passfile {
                match pgpass::read(&path) {
                    Ok(Some(text)) => {
                        for e in &mut endpoints {
                            let port = e.port.to_string();
                            e.password =
                                pgpass::lookup_in(&text, e.pgpass_host(), &port, &dbname, &user);
                            if e.password.is_some() {
                                password_source = Some(PasswordSource::PassFile);
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(w) => warnings.push(w),
                }
            }
        }

        // TLS.
        let explicit_mode = get("sslmode", "PGSSLMODE")
            .map(|m| SslMode::parse(&m))
            .transpose()?;
        let pgdir = home.as_ref().map(|h| h.join(".postgresql"));
        let rootcert_given = get("sslrootcert", "PGSSLROOTCERT");
        let sslmode = match (&rootcert_given, explicit_mode) {
            // As libpq 16: the system store only makes sense with host name checks.
            (Some(r), None) if r == "system" => SslMode::VerifyFull,
            (Some(r), Some(m)) if r == "system" && m != SslMode::VerifyFull => {
                return Err(Error::Settings(format!(
                    "weak sslmode `{m}` may not be used with sslrootcert=system (use verify-full)"
                )))
            }
            (_, Some(m)) => m,
            (_, None) => SslMode::Prefer,
        };
        let default_root = pgdir
            .as_ref()
            .map(|d| d.join("root.crt"))
            .unwrap_or_else(|| PathBuf::from("~/.postgresql/root.crt"));
        let (sslrootcert, sslrootcert_path) = match rootcert_given {
            Some(r) if r == "system" => (Some(RootCert::System), PathBuf::from("system")),
            Some(r) => {
                let p = expand_home(&r, home.as_deref());
                (Some(RootCert::File(p.clone())), p)
            }
            None if default_root.is_file() => (
                Some(RootCert::File(default_root.clone())),
                default_root.clone(),
            ),
            None => (None, default_root),
        };
        let file_param = |key: &str, var: &str, default: &str| -> Option<PathBuf> {
            match get(key, var) {
                Some(p) => Some(expand_home(&p, home.as_deref())),
                None => pgdir
                    .as_ref()
                    .map(|d| d.join(default))
                    .filter(|p| p.is_file()),
            }
        };
        let sslcert = file_param("sslcert", "PGSSLCERT", "postgresql.crt");
        let sslkey = file_param("sslkey", "PGSSLKEY", "postgresql.key");

        let application_name = get("application_name", "PGAPPNAME")
            .or_else(|| get("fallback_application_name", ""))
            .unwrap_or_else(|| "retort".to_string());
        let connect_timeout = match get("connect_timeout", "PGCONNECT_TIMEOUT") {
            None => None,
            Some(v) => {
                let d = v.trim().parse::<i64>().map_err(|_| {
                    Error::Settings(format!(
                        "invalid connect_timeout `{v}`: expected whole seconds"
                    ))
                })?;
                // libpq: zero or less waits forever, and a timeout below 2 s is raised to 2 s.
                (d > 0).then(|| Duration::from_secs(d.max(2) as u64))
            }
        };
        use postgres::config::{ChannelBinding, TargetSessionAttrs};
        let target_session_attrs =
            match get("target_session_attrs", "PGTARGETSESSIONATTRS").as_deref() {
                None | Some("any") => TargetSessionAttrs::Any,
                Some("read-write") => TargetSessionAttrs::ReadWrite,
                Some("read-only") => TargetSessionAttrs::ReadOnly,
                Some(v) => {
                    return Err(Error::Settings(format!(
                        "invalid target_session_attrs `{v}`: use any, read-write or read-only"
                    )))
                }
            };
        let channel_binding = match get("channel_binding", "PGCHANNELBINDING").as_deref() {
            None | Some("prefer") => ChannelBinding::Prefer,
            Some("disable") => ChannelBinding::Disable,
            Some("require") => ChannelBinding::Require,
            Some(v) => {
                return Err(Error::Settings(format!(
                    "invalid channel_binding `{v}`: use disable, prefer or require"
                )))
            }
        };
        Ok(ConnectSettings {
            endpoints,
            user,
            dbname,
            sslmode,
            sslrootcert,
            sslrootcert_path,
            sslcert,
            sslkey,
            application_name,
            connect_timeout,
            options: get("options", "PGOPTIONS"),
            target_session_attrs,
            channel_binding,
            keepalives: get("keepalives", "")
                .map(|v| parse_bool01("keepalives", &v))
                .transpose()?,
            keepalives_idle: get("keepalives_idle", "")
                .map(|v| parse_secs("keepalives_idle", &v))
                .transpose()?,
            keepalives_interval: get("keepalives_interval", "")
                .map(|v| parse_secs("keepalives_interval", &v))
                .transpose()?,
            keepalives_count: get("keepalives_count", "")
                .map(|v| {
                    v.trim()
                        .parse::<u32>()
                        .map_err(|_| Error::Settings(format!("invalid keepalives_count `{v}`")))
                })
                .transpose()?,
            tcp_user_timeout: get("tcp_user_timeout", "")
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map(Duration::from_millis)
                        .map_err(|_| {
                            Error::Settings(format!(
                                "invalid tcp_user_timeout `{v}`: expected milliseconds"
                            ))
                        })
                })
                .transpose()?,
            password_source,
            warnings,
        })
    }

    /// The same server and credentials, another database (scratch databases, `postgres`).
    pub fn with_dbname(&self, dbname: &str) -> ConnectSettings {
        let mut s = self.clone();
        s.dbname = dbname.to_string();
        s
    }

    /// The password of the first server (for callers that must hide it in messages).
    pub fn password(&self) -> Option<&str> {
        self.endpoints.iter().find_map(|e| e.password())
    }

    /// Every password in use, for redaction.
    pub fn passwords(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.endpoints.iter().filter_map(|e| e.password()).collect();
        v.dedup();
        v
    }

    /// The settings as text with the password hidden (same as `Display`).
    pub fn redacted(&self) -> String {
        self.to_string()
    }

    /// The driver configuration for one endpoint, with the given driver TLS mode.
    pub(crate) fn driver_config(
        &self,
        e: &Endpoint,
        mode: postgres::config::SslMode,
    ) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.host(&e.host);
        if let Some(a) = e.hostaddr {
            c.hostaddr(a);
        }
        c.port(e.port);
        c.user(&self.user);
        if let Some(p) = &e.password {
            c.password(p);
        }
        c.dbname(&self.dbname);
        c.application_name(&self.application_name);
        if let Some(o) = &self.options {
            c.options(o);
        }
        if let Some(t) = self.connect_timeout {
            c.connect_timeout(t);
        }
        if let Some(k) = self.keepalives {
            c.keepalives(k);
        }
        if let Some(d) = self.keepalives_idle {
            c.keepalives_idle(d);
        }
        if let Some(d) = self.keepalives_interval {
            c.keepalives_interval(d);
        }
        if let Some(n) = self.keepalives_count {
            c.keepalives_retries(n);
        }
        if let Some(d) = self.tcp_user_timeout {
            c.tcp_user_timeout(d);
        }
        c.target_session_attrs(self.target_session_attrs);
        c.channel_binding(self.channel_binding);
        c.ssl_mode(mode);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(s: &str, env: &[(&str, &str)]) -> Result<ConnectSettings, Error> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConnectSettings::resolve(&Params::parse(s).unwrap(), &|k| env.get(k).cloned())
    }

    #[test]
    fn given_values_beat_the_environment_which_beats_defaults() {
        let s = resolve(
            "postgres://alice@db1/app?sslmode=require",
            &[
                ("PGHOST", "ignored"),
                ("PGUSER", "ignored"),
                ("PGPORT", "6000"),
                ("PGAPPNAME", "mine"),
                ("HOME", "/nonexistent"),
            ],
        )
        .unwrap();
        assert_eq!(s.endpoints[0].host, "db1");
        assert_eq!(s.endpoints[0].port, 6000);
        assert_eq!(s.user, "alice");
        assert_eq!(s.dbname, "app");
        assert_eq!(s.sslmode, SslMode::Require);
        assert_eq!(s.application_name, "mine");
        let s = resolve("", &[("USER", "osuser"), ("PGHOST", "h")]).unwrap();
        assert_eq!(s.user, "osuser");
        assert_eq!(s.dbname, "osuser");
        assert_eq!(s.sslmode, SslMode::Prefer);
        assert_eq!(s.application_name, "retort");
        assert_eq!(s.endpoints[0].port, 5432);
    }

    #[test]
    fn display_hides_the_password() {
        let s = resolve("postgres://u:s3cr3t@h:1/d", &[]).unwrap();
        assert_eq!(
            s.to_string(),
            "h:1 user=u dbname=d sslmode=prefer password=***"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert_eq!(s.password(), Some("s3cr3t"));
        let s = resolve("host=h user=u", &[("PGPASSWORD", "envpw")]).unwrap();
        assert_eq!(s.password(), Some("envpw"));
        assert_eq!(s.password_source, Some(PasswordSource::Env));
    }

    #[test]
    fn several_hosts_and_ports() {
        let s = resolve("host=a,b,/sock port=1,2,3 user=u", &[]).unwrap();
        let hosts: Vec<String> = s.endpoints.iter().map(|e| e.to_string()).collect();
        assert_eq!(hosts, ["a:1", "b:2", "socket /sock/.s.PGSQL.3"]);
        assert!(resolve("host=a,b port=1,2,3 user=u", &[]).is_err());
        let s = resolve("hostaddr=127.0.0.1 user=u", &[]).unwrap();
        assert_eq!(s.endpoints[0].host, "127.0.0.1");
    }

    #[test]
    fn tls_parameters() {
        let e = resolve("host=h user=u sslmode=verify_full", &[]).unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        let s = resolve("host=h user=u sslrootcert=system", &[]).unwrap();
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        assert_eq!(s.sslrootcert, Some(RootCert::System));
        let e = resolve("host=h user=u sslrootcert=system sslmode=require", &[]).unwrap_err();
        assert!(e.to_string().contains("weak sslmode"), "{e}");
        let s = resolve(
            "host=h user=u",
            &[
                ("PGSSLMODE", "verify-ca"),
                ("PGSSLROOTCERT", "~/ca.pem"),
                ("PGSSLCERT", "/c.crt"),
                ("PGSSLKEY", "/c.key"),
                ("HOME", "/home/u"),
            ],
        )
        .unwrap();
        assert_eq!(s.sslmode, SslMode::VerifyCa);
        assert_eq!(
            s.sslrootcert,
            Some(RootCert::File(PathBuf::from("/home/u/ca.pem")))
        );
        assert_eq!(s.sslcert, Some(PathBuf::from("/c.crt")));
        assert_eq!(s.sslkey, Some(PathBuf::from("/c.key")));
        // Without a file in ~/.postgresql there is no default root or client certificate.
        let s = resolve("host=h user=u", &[("HOME", "/nonexistent")]).unwrap();
        assert_eq!(s.sslrootcert, None);
        assert_eq!(s.sslcert, None);
    }

    #[test]
    fn timeouts_and_invalid_values() {
        let s = resolve("host=h user=u connect_timeout=1", &[]).unwrap();
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(2)));
        let s = resolve("host=h user=u", &[("PGCONNECT_TIMEOUT", "0")]).unwrap();
        assert_eq!(s.connect_timeout, None);
        assert!(resolve("host=h user=u port=x", &[]).is_err());
        assert!(resolve("host=h user=u connect_timeout=soon", &[]).is_err());
        assert!(resolve("host=h user=u hostaddr=not-an-ip", &[]).is_err());
    }

    #[test]
    fn password_file_is_read_per_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        std::fs::write(
            &path,
            "a:5432:app:u:pa\n*:*:*:u:other\nlocalhost:*:*:*:sock\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let p = path.to_string_lossy().to_string();
        let s = resolve("host=a,b dbname=app user=u", &[("PGPASSFILE", &p)]).unwrap();
        assert_eq!(s.endpoints[0].password(), Some("pa"));
        assert_eq!(s.endpoints[1].password(), Some("other"));
        assert_eq!(s.password_source, Some(PasswordSource::PassFile));
        let s = resolve("host=/run/pg user=x", &[("PGPASSFILE", &p)]).unwrap();
        assert_eq!(s.password(), Some("sock"));
        // A given password wins over the file.
        let s = resolve("host=a user=u password=given", &[("PGPASSFILE", &p)]).unwrap();
        assert_eq!(s.password(), Some("given"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let s = resolve("host=a dbname=app user=u", &[("PGPASSFILE", &p)]).unwrap();
            assert_eq!(s.password(), None);
            assert!(
                s.warnings[0].contains("group or world access"),
                "{:?}",
                s.warnings
            );
        }
    }
}
