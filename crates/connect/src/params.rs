//! What the user wrote: a `postgres://` URL, a libpq `key=value` string or a table of parts,
//! parsed into libpq keywords and checked against the keywords Retort understands.

use crate::Error;
use std::collections::BTreeMap;

/// libpq keywords Retort honours.
pub const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "application_name",
    "fallback_application_name",
    "options",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "target_session_attrs",
    "channel_binding",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
];

/// libpq keywords Retort knows but does not implement: an error says so instead of "unknown".
const UNSUPPORTED: &[&str] = &[
    "service",
    "gssencmode",
    "gsslib",
    "gssdelegation",
    "krbsrvname",
    "requirepeer",
    "require_auth",
    "sslpassword",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcertmode",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "replication",
    "load_balance_hosts",
    "client_encoding",
    "min_protocol_version",
    "max_protocol_version",
];

/// libpq keywords and their values, as given (later values replace earlier ones, as in libpq).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.values {
            if k == "password" {
                m.entry(k, &"***");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

fn check_keyword(key: &str, origin: &str) -> Result<(), Error> {
    if KEYWORDS.contains(&key) {
        return Ok(());
    }
    if UNSUPPORTED.contains(&key) {
        return Err(Error::Settings(format!(
            "connection parameter `{key}` ({origin}) is a libpq parameter Retort does not support"
        )));
    }
    let hint = match key {
        "database" | "db" => " (did you mean `dbname`?)",
        "username" | "usr" => " (did you mean `user`?)",
        "pass" | "passwd" | "pwd" => " (did you mean `password`?)",
        "server" | "hostname" => " (did you mean `host`?)",
        "ssl" | "tls" | "ssl_mode" => " (did you mean `sslmode`?)",
        _ => "",
    };
    // Only a word that looks like a keyword is echoed: a stray piece of a badly quoted password
    // must not reach the terminal.
    let shown = if !key.is_empty()
        && key.len() <= 40
        && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        format!("`{key}`")
    } else {
        "(not shown: it does not look like a keyword; is a value with spaces unquoted?)".to_string()
    };
    Err(Error::Settings(format!(
        "unknown connection parameter {shown} ({origin}){hint}; known: {}",
        KEYWORDS.join(", ")
    )))
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// A URL (`postgres://` or `postgresql://`) or a libpq `key=value` string; an empty string
    /// gives no parameters (everything then comes from the environment and the defaults).
    pub fn parse(s: &str) -> Result<Params, Error> {
        let t = s.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            parse_url(t)
        } else if t.contains("://") {
            let scheme = t.split("://").next().unwrap_or_default();
            let other_database = matches!(
                scheme.to_ascii_lowercase().as_str(),
                "mysql" | "mariadb" | "sqlite" | "sqlserver" | "mssql" | "oracle" | "mongodb"
            );
            Err(Error::Settings(if other_database {
                format!(
                    "`{scheme}://` is not PostgreSQL: Retort works only with PostgreSQL (postgres:// or postgresql:// URLs)"
                )
            } else {
                format!("unsupported connection URL scheme `{scheme}`: use postgres:// or postgresql://")
            }))
        } else {
            parse_keyword_value(t)
        }
    }

    /// Parts from a configuration table (`host`, `port`, `user`, ...); empty values count as unset.
    pub fn from_parts<I, K, V>(parts: I) -> Result<Params, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut p = Params::new();
        for (k, v) in parts {
            let v: String = v.into();
            check_keyword(k.as_ref(), "in [database]")?;
            if !v.is_empty() {
                p.values.insert(k.as_ref().to_string(), v);
            }
        }
        Ok(p)
    }

    /// Sets one keyword (checked).
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Params, Error> {
        check_keyword(key, "set")?;
        self.values.insert(key.to_string(), value.to_string());
        Ok(self)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.values.remove(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A libpq `key=value` string holding exactly these parameters, every value quoted, so any
    /// character (a password with `'`, `\`, spaces, `@`, ...) survives a round trip.
    pub fn to_conninfo(&self) -> String {
        self.values
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A libpq conninfo value in single quotes, with `\` and `'` escaped.
pub fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// libpq's key=value syntax: `key = value` pairs separated by white space; a value is either
/// bare (ends at white space) or single-quoted; `\` escapes the next character in both.
pub fn parse_keyword_value(s: &str) -> Result<Params, Error> {
    let mut p = Params::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let n = chars.len();
    loop {
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= n || chars[i] != '=' {
            return Err(Error::Settings(
                "a word without `=` in the connection string: expected key=value pairs (quote a value holding spaces: key='a b') or a postgres:// URL".into(),
            ));
        }
        i += 1;
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < n && chars[i] == '\'' {
            i += 1;
            let mut closed = false;
            while i < n {
                match chars[i] {
                    '\\' if i + 1 < n => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    '\'' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    c => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                return Err(Error::Settings(format!(
                    "unterminated quoted value for `{key}` in the connection string"
                )));
            }
        } else {
            while i < n && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < n {
                    value.push(chars[i + 1]);
                    i += 2;
                } else {
                    value.push(chars[i]);
                    i += 1;
                }
            }
        }
        check_keyword(&key, "in the connection string")?;
        p.values.insert(key, value);
    }
    Ok(p)
}

fn percent_decode(s: &str, what: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::Settings(format!(
                        "invalid percent-encoding in the {what} of the connection URL (a literal `%` is written %25)"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        Error::Settings(format!(
            "the {what} of the connection URL is not UTF-8 once percent-decoded"
        ))
    })
}

/// `postgres[ql]://[user[:password]@][host][:port][,host[:port]...][/dbname][?key=value&...]`,
/// percent-decoded; `[::1]` for IPv6; query parameters are libpq keywords (`host=/socket/dir`).
pub fn parse_url(url: &str) -> Result<Params, Error> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or_else(|| Error::Settings("a connection URL starts with postgres://".into()))?;
    let (rest, fragment) = match rest.split_once('#') {
        // A `#` is only legal percent-encoded; a bare one usually is an unencoded password.
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    if fragment.is_some() {
        return Err(Error::Settings(
            "the connection URL holds a bare `#`: percent-encode it as %23 (in a password too), or use [database] parts or a key=value string".into(),
        ));
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], Some(&before_query[i + 1..])),
        None => (before_query, None),
    };
    let mut p = Params::new();
    // The last `@` separates the user info: an unencoded `@` in a password then still works.
    let hostspec = match authority.rfind('@') {
        Some(i) => {
            let userinfo = &authority[..i];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, pw)) => (u, Some(pw)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                p.values
                    .insert("user".into(), percent_decode(user, "user name")?);
            }
            if let Some(pw) = password {
                p.values
                    .insert("password".into(), percent_decode(pw, "password")?);
            }
            &authority[i + 1..]
        }
        None => authority,
    };
    if !hostspec.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for spec in hostspec.split(',') {
            let (host, port) = if let Some(v6) = spec.strip_prefix('[') {
                let end = v6.find(']').ok_or_else(|| {
                    Error::Settings("unterminated `[` (IPv6 address) in the connection URL".into())
                })?;
                let after = &v6[end + 1..];
                let port = match after.strip_prefix(':') {
                    Some(port) => port,
                    None if after.is_empty() => "",
                    None => {
                        return Err(Error::Settings(format!(
                            "unexpected `{after}` after the IPv6 address in the connection URL"
                        )))
                    }
                };
                (v6[..end].to_string(), port)
            } else {
                match spec.rsplit_once(':') {
                    Some((h, port)) => (percent_decode(h, "host")?, port),
                    None => (percent_decode(spec, "host")?, ""),
                }
            };
            if !port.is_empty() && !port.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::Settings(
                    "invalid port in the connection URL: an unencoded `:`, `/` or `?` in the password? percent-encode it (%3A, %2F, %3F) or use [database] parts"
                        .into(),
                ));
            }
            hosts.push(host);
            ports.push(port.to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            p.values.insert("host".into(), hosts.join(","));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            p.values.insert("port".into(), ports.join(","));
        }
    }
    if let Some(db) = path {
        if !db.is_empty() {
            p.values
                .insert("dbname".into(), percent_decode(db, "database name")?);
        }
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                Error::Settings(
                    "a query parameter of the connection URL has no `=` (an unencoded `?` or `&` in the password? percent-encode it as %3F, %26)".into(),
                )
            })?;
            let k = percent_decode(k, "query")?;
            let v = percent_decode(v, "query")?;
            check_keyword(&k, "in the URL query")?;
            p.values.insert(k, v);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(p: &Params) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = v
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn urls_are_percent_decoded() {
        let p = Params::parse("postgres://al%40ice:p%40ss%2F%3A%23%3F%27w@db.example.com:6543/my%20db?sslmode=verify-full&application_name=x")
            .unwrap();
        assert_eq!(
            kv(&p),
            pairs(&[
                ("user", "al@ice"),
                ("password", "p@ss/:#?'w"),
                ("host", "db.example.com"),
                ("port", "6543"),
                ("dbname", "my db"),
                ("sslmode", "verify-full"),
                ("application_name", "x"),
            ])
        );
    }

    #[test]
    fn url_forms() {
        assert!(Params::parse("postgresql://").unwrap().is_empty());
        let p = Params::parse("postgres:///app?host=/var/run/postgresql&port=5433").unwrap();
        assert_eq!(
            kv(&p),
            pairs(&[
                ("dbname", "app"),
                ("host", "/var/run/postgresql"),
                ("port", "5433")
            ])
        );
        let p = Params::parse("postgres://u@%2Ftmp%2Fsock/db").unwrap();
        assert_eq!(p.get("host"), Some("/tmp/sock"));
        let p = Params::parse("postgres://[::1]:5432,h2:5433/db").unwrap();
        assert_eq!(p.get("host"), Some("::1,h2"));
        assert_eq!(p.get("port"), Some("5432,5433"));
        let p = Params::parse("postgres://u:@h").unwrap();
        assert_eq!(p.get("password"), Some(""));
        // An unencoded `@` in the password still splits at the last one.
        let p = Params::parse("postgres://u:a@b@h/db").unwrap();
        assert_eq!(p.get("password"), Some("a@b"));
        assert_eq!(p.get("host"), Some("h"));
    }

    #[test]
    fn bad_urls_say_why() {
        let e = Params::parse("postgres://u:pa#ss@h/db").unwrap_err();
        assert!(e.to_string().contains("%23"), "{e}");
        let e = Params::parse("postgres://u:pa/ss@h/db").unwrap_err();
        assert!(e.to_string().contains("invalid port"), "{e}");
        let e = Params::parse("postgres://h/db?ssl=true").unwrap_err();
        assert!(
            e.to_string().contains("unknown connection parameter `ssl`"),
            "{e}"
        );
        assert!(e.to_string().contains("sslmode"), "{e}");
        let e = Params::parse("redis://h/db").unwrap_err();
        assert!(e.to_string().contains("scheme"), "{e}");
        let e = Params::parse("mysql://u:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Retort works only with PostgreSQL"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let e = Params::parse("postgres://h/db?service=x").unwrap_err();
        assert!(e.to_string().contains("does not support"), "{e}");
        let e = Params::parse("postgres://u:%zz@h/db").unwrap_err();
        assert!(e.to_string().contains("percent"), "{e}");
        assert!(!e.to_string().contains("%zz"), "{e}");
    }

    #[test]
    fn keyword_value_strings() {
        let p = Params::parse(
            r"host=localhost port = 5432 user=bob password='it\'s a \\ secret @/:#?' dbname=app",
        )
        .unwrap();
        assert_eq!(
            kv(&p),
            pairs(&[
                ("host", "localhost"),
                ("port", "5432"),
                ("user", "bob"),
                ("password", r"it's a \ secret @/:#?"),
                ("dbname", "app"),
            ])
        );
        let p = Params::parse(r"password=a\ b user=''").unwrap();
        assert_eq!(p.get("password"), Some("a b"));
        assert_eq!(p.get("user"), Some(""));
        assert!(Params::parse("").unwrap().is_empty());
        let e = Params::parse("host=h password='abc").unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
        let e = Params::parse("host").unwrap_err();
        assert!(e.to_string().contains("without `=`"), "{e}");
        // Pieces of a badly quoted password are not echoed.
        let e = Params::parse("user=u password=Secret Pa55=x").unwrap_err();
        assert!(!e.to_string().contains("Pa55"), "{e}");
        let e = Params::parse("user=u password=Secret Pa55").unwrap_err();
        assert!(!e.to_string().contains("Pa55"), "{e}");
        let e = Params::parse("postgres://u:a?b@h/db").unwrap_err();
        assert!(!e.to_string().contains("a?b"), "{e}");
        let e = Params::parse("database=x").unwrap_err();
        assert!(e.to_string().contains("dbname"), "{e}");
    }

    #[test]
    fn conninfo_round_trips() {
        let p = Params::from_parts([
            ("host", "h"),
            ("password", r#"q'uo\te @/:#?" x"#),
            ("user", ""),
        ])
        .unwrap();
        assert_eq!(p.get("user"), None);
        let again = Params::parse(&p.to_conninfo()).unwrap();
        assert_eq!(again, p);
        assert!(!format!("{p:?}").contains("uo"));
    }

    #[test]
    fn parts_reject_unknown_keys() {
        let e = Params::from_parts([("hots", "h")]).unwrap_err();
        assert!(e
            .to_string()
            .contains("unknown connection parameter `hots`"));
    }
}
