//! Turns what the user configured into a connected `postgres::Client`.
//!
//! Settings come, in libpq's precedence, from a `postgres://` URL or a `key=value` string (or a
//! table of parts), then the `PG*` environment variables, then the password file, then libpq's
//! defaults ([`ConnectSettings::resolve`]). TLS is rustls with the ring provider, following
//! libpq's `sslmode` (`disable`, `allow`, `prefer` (default), `require`, `verify-ca`,
//! `verify-full`), `sslrootcert` (a file or `system`), `sslcert`/`sslkey`.

mod params;
mod pgpass;
mod settings;
pub mod tls;

pub use params::{quote, Params, KEYWORDS};
pub use settings::{ConnectSettings, Endpoint, PasswordSource, RootCert, SslMode};

use tls::{Check, MakeRustlsConnect};

/// What went wrong: the settings (before any network traffic), or every server tried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Settings(String),
    /// `target` is the redacted settings; one reason per server tried.
    #[error("cannot connect to {target}: {}", reasons.join("; "))]
    Connect {
        target: String,
        reasons: Vec<String>,
    },
}

/// Parses `conninfo` (URL or key=value; empty: environment only), resolves it with the process
/// environment and connects.
pub fn connect_str(conninfo: &str) -> Result<postgres::Client, Error> {
    connect(&ConnectSettings::from_conninfo(conninfo)?)
}

/// Connects to the first server of `settings` that accepts, honouring `sslmode`.
pub fn connect(settings: &ConnectSettings) -> Result<postgres::Client, Error> {
    let has_roots = settings.sslrootcert.is_some();
    let check = Check::for_mode(settings.sslmode, has_roots);
    // A verify-* mode without roots fails here, before any traffic, saying which file is missing.
    // Unix sockets never use TLS, so a socket-only target needs no certificates either.
    let tls = if settings.sslmode == SslMode::Disable
        || settings.endpoints.iter().all(|e| e.is_socket())
    {
        None
    } else {
        Some(MakeRustlsConnect::new(tls::client_config(settings, check)?))
    };
    let mut reasons = Vec::new();
    for e in &settings.endpoints {
        match connect_endpoint(settings, e, tls.as_ref()) {
            Ok(c) => return Ok(c),
            Err(why) => {
                if settings.endpoints.len() > 1 {
                    reasons.push(format!("{e}: {why}"));
                } else {
                    reasons.push(why);
                }
            }
        }
    }
    Err(Error::Connect {
        target: settings.redacted(),
        reasons,
    })
}

fn connect_endpoint(
    s: &ConnectSettings,
    e: &Endpoint,
    tls: Option<&MakeRustlsConnect>,
) -> Result<postgres::Client, String> {
    use postgres::config::SslMode as Driver;
    let plain = || s.driver_config(e, Driver::Disable).connect(postgres::NoTls);
    let with_tls =
        |mode: Driver, tls: &MakeRustlsConnect| s.driver_config(e, mode).connect(tls.clone());
    let why = |err: &postgres::Error| describe(err, s, e);
    // PostgreSQL never speaks TLS on a unix socket; libpq ignores sslmode there.
    let tls = match tls {
        Some(t) if !e.is_socket() => t,
        _ => return plain().map_err(|err| why(&err)),
    };
    match s.sslmode {
        SslMode::Disable => plain().map_err(|err| why(&err)),
        SslMode::Allow => match plain() {
            Ok(c) => Ok(c),
            // The server refused a plain session (pg_hba `hostssl`): try again with TLS.
            Err(err) if err.as_db_error().is_some() => {
                with_tls(Driver::Require, tls).map_err(|tls_err| {
                    format!("{} (without TLS); {} (with TLS)", why(&err), why(&tls_err))
                })
            }
            Err(err) => Err(why(&err)),
        },
        SslMode::Prefer => match with_tls(Driver::Prefer, tls) {
            Ok(c) => Ok(c),
            // As libpq: a failed TLS handshake under `prefer` is retried without TLS.
            Err(err) if tls_failure(&err).is_some() => plain().map_err(|plain_err| {
                format!(
                    "{} (with TLS); {} (without TLS)",
                    why(&err),
                    why(&plain_err)
                )
            }),
            Err(err) => Err(why(&err)),
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            with_tls(Driver::Require, tls).map_err(|err| why(&err))
        }
    }
}

/// The errors below `err`, looking inside `io::Error`s (whose `source` skips their payload).
fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![err];
    let mut cur = err;
    loop {
        let next = match cur
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cur.source(),
        };
        match next {
            Some(n) if out.len() < 16 => {
                out.push(n);
                cur = n;
            }
            _ => return out,
        }
    }
}

enum TlsFailure<'a> {
    NotSupported,
    Rustls(&'a rustls::Error),
    Other(String),
}

fn tls_failure(err: &postgres::Error) -> Option<TlsFailure<'_>> {
    let all = chain(err);
    if let Some(r) = all.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return Some(TlsFailure::Rustls(r));
    }
    let text: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    if text.iter().any(|t| t == "server does not support TLS") {
        return Some(TlsFailure::NotSupported);
    }
    if text.first().is_some_and(|t| t.contains("TLS")) {
        return Some(TlsFailure::Other(text[1..].join(": ")));
    }
    None
}

/// One sentence on why connecting to `e` failed, naming the sslmode for TLS failures.
fn describe(err: &postgres::Error, s: &ConnectSettings, e: &Endpoint) -> String {
    let mode = s.sslmode;
    let roots = match &s.sslrootcert {
        Some(RootCert::System) => "the system trust store".to_string(),
        Some(RootCert::File(p)) => format!("\"{}\"", p.display()),
        None => "no root certificate".to_string(),
    };
    if let Some(db) = err.as_db_error() {
        let msg = format!("{}: {}", db.severity(), db.message());
        let hint = if (db.message().contains("no pg_hba.conf entry")
            || db.message().contains("pg_hba.conf rejects"))
            && db.message().contains("no encryption")
        {
            format!(" (sslmode={mode}: the server accepts this user and database only over TLS; use sslmode=require or verify-full)")
        } else if db.message().contains("password authentication failed") {
            match s.password_source {
                Some(PasswordSource::Env) => " (the password came from PGPASSWORD)".to_string(),
                Some(PasswordSource::PassFile) => {
                    " (the password came from the password file)".to_string()
                }
                _ => String::new(),
            }
        } else if db.message().contains("certificate authentication failed") {
            " (the client certificate's common name must be the user name)".to_string()
        } else if db
            .message()
            .contains("connection requires a valid client certificate")
        {
            " (set sslcert and sslkey to a certificate the server's CA signed)".to_string()
        } else {
            String::new()
        };
        return format!("{msg}{hint}");
    }
    match tls_failure(err) {
        Some(TlsFailure::NotSupported) => {
            return format!(
                "sslmode={mode}: the server does not support TLS (its ssl setting is off); use sslmode=prefer or disable to connect without encryption"
            )
        }
        Some(TlsFailure::Rustls(r)) => {
            use rustls::CertificateError as C;
            return match r {
                rustls::Error::InvalidCertificate(C::UnknownIssuer) => format!(
                    "sslmode={mode}: the server's certificate is not trusted: no certificate in {roots} signed it"
                ),
                rustls::Error::InvalidCertificate(C::NotValidForName) => format!(
                    "sslmode={mode}: host name mismatch: the server's certificate is not valid for \"{}\"",
                    e.host
                ),
                rustls::Error::InvalidCertificate(C::NotValidForNameContext { presented, .. }) => format!(
                    "sslmode={mode}: host name mismatch: the server's certificate is not valid for \"{}\" (it names {}); connect by a name it lists, or use sslmode=verify-ca",
                    e.host,
                    presented.iter().map(|n| plain_name(n)).collect::<Vec<_>>().join(", ")
                ),
                rustls::Error::InvalidCertificate(c) => format!(
                    "sslmode={mode}: the server's certificate was rejected: {c:?}"
                ),
                rustls::Error::AlertReceived(a) => format!(
                    "sslmode={mode}: the server ended the TLS handshake ({a:?}){}",
                    if s.sslcert.is_some() { ": does it trust the client certificate (sslcert)?" } else { "" }
                ),
                other => format!("sslmode={mode}: TLS handshake failed: {other}"),
            };
        }
        Some(TlsFailure::Other(why)) => return format!("sslmode={mode}: TLS failed: {why}"),
        None => {}
    }
    let text: Vec<String> = chain(err).iter().map(|e| e.to_string()).collect();
    let mut text = text.join(": ");
    if text.contains("password missing") {
        text.push_str(
            " (the server asks for a password: set password, PGPASSWORD or a ~/.pgpass line)",
        );
    }
    text
}

/// `DnsName("localhost")` (how rustls lists a certificate's names) as `localhost`.
fn plain_name(n: &str) -> &str {
    match (n.find("(\""), n.strip_suffix("\")")) {
        (Some(i), Some(inner)) if i + 2 <= inner.len() => &inner[i + 2..],
        _ => n,
    }
}
