//! retort-connect against real servers: a TLS cluster (certificates made by testkit at start-up,
//! pg_hba with `hostssl`, `cert` and `hostnossl ... reject` rules) and a plain TCP cluster.
//! Each test starts its own cluster (TLS needs TCP, the shared test server is socket-only).

use retort_connect::{ConnectSettings, Error, Params};
use retort_testkit::{ClusterOptions, PgCluster};
use std::collections::HashMap;
use std::path::Path;

/// A password with every character that breaks naive URLs and key=value strings.
const PASSWORD: &str = "p@ss/w:o#r?d'x";
const PASSWORD_URL: &str = "p%40ss%2Fw%3Ao%23r%3Fd%27x";

/// Starts a cluster, or None (test skipped) when no server binaries exist outside `cargo xtask`.
fn start(opts: &ClusterOptions) -> Option<PgCluster> {
    if retort_testkit::pg_bin_dir().is_err() && std::env::var("DATABASE_URL").is_err() {
        eprintln!("skipped: no PostgreSQL server binaries");
        return None;
    }
    Some(PgCluster::start_with(opts).expect("starting a throwaway cluster"))
}

fn setup_roles(c: &PgCluster) {
    let mut admin = c.admin().unwrap();
    for sql in [
        format!(
            "CREATE ROLE app LOGIN PASSWORD '{}'",
            PASSWORD.replace('\'', "''")
        ),
        "CREATE DATABASE appdb OWNER app".into(),
        "CREATE ROLE tlsonly LOGIN PASSWORD 'tlspw'".into(),
        "CREATE ROLE certuser LOGIN".into(),
    ] {
        admin.batch_execute(&sql).unwrap();
    }
}

/// An environment with nothing from the machine: a HOME without ~/.postgresql or ~/.pgpass.
struct Env {
    home: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Env {
    fn new() -> Env {
        let home = tempfile::tempdir().unwrap();
        let mut vars = HashMap::new();
        vars.insert("HOME".into(), home.path().to_string_lossy().to_string());
        vars.insert("USER".into(), "nobody".into());
        Env { home, vars }
    }

    fn set(mut self, k: &str, v: &str) -> Env {
        self.vars.insert(k.into(), v.into());
        self
    }

    fn settings(&self, params: &Params) -> ConnectSettings {
        ConnectSettings::resolve(params, &|k| self.vars.get(k).cloned()).unwrap()
    }

    fn connect(&self, conninfo: &str) -> Result<postgres::Client, Error> {
        let params = Params::parse(conninfo).unwrap();
        retort_connect::connect(&self.settings(&params))
    }
}

fn uses_tls(c: &mut postgres::Client) -> bool {
    c.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .unwrap()
    .get(0)
}

fn p(path: &Path) -> String {
    path.to_string_lossy().to_string()
}

#[track_caller]
fn fails_with(r: Result<postgres::Client, Error>, needles: &[&str]) -> String {
    let e = match r {
        Ok(_) => panic!("connected, expected an error with {needles:?}"),
        Err(e) => e.to_string(),
    };
    for n in needles {
        assert!(e.contains(n), "expected `{n}` in: {e}");
    }
    assert!(!e.contains(PASSWORD) && !e.contains(PASSWORD_URL), "{e}");
    eprintln!("expected error: {e}");
    e
}

fn tls_cluster() -> Option<PgCluster> {
    let c = start(&ClusterOptions {
        tls: true,
        hba: vec![
            "hostnossl all tlsonly 127.0.0.1/32 reject".into(),
            "hostssl all certuser 127.0.0.1/32 cert".into(),
        ],
        ..ClusterOptions::default()
    })?;
    setup_roles(&c);
    Some(c)
}

#[test]
fn sslmodes_against_a_tls_server() {
    let Some(c) = tls_cluster() else { return };
    let t = c.tls().unwrap().clone();
    let port = c.port();
    let env = Env::new();
    let url = |host: &str, query: &str| {
        format!("postgres://app:{PASSWORD_URL}@{host}:{port}/appdb?{query}")
    };

    // require: TLS, certificate not checked.
    let mut client = env.connect(&url("127.0.0.1", "sslmode=require")).unwrap();
    assert!(uses_tls(&mut client));
    let app: String = client
        .query_one("SHOW application_name", &[])
        .unwrap()
        .get(0);
    assert_eq!(app, "retort");
    // require with a root certificate checks the chain, as libpq does.
    let other = url(
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={}", p(&t.other_ca)),
    );
    fails_with(env.connect(&other), &["sslmode=require", "not trusted"]);

    // prefer is the default and uses TLS when offered.
    let mut client = env.connect(&url("127.0.0.1", "")).unwrap();
    assert!(uses_tls(&mut client));

    // verify-ca: the chain against the right CA; the name is not checked (127.0.0.1).
    let ca = url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", p(&t.ca)),
    );
    assert!(uses_tls(&mut env.connect(&ca).unwrap()));
    let wrong = url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", p(&t.other_ca)),
    );
    fails_with(env.connect(&wrong), &["sslmode=verify-ca", "not trusted"]);

    // verify-full: chain and host name; the certificate names localhost only.
    let full = url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", p(&t.ca)),
    );
    assert!(uses_tls(&mut env.connect(&full).unwrap()));
    let by_ip = url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", p(&t.ca)),
    );
    fails_with(
        env.connect(&by_ip),
        &["sslmode=verify-full", "host name mismatch", "127.0.0.1"],
    );
    // verify-* without a root certificate: the default file is named.
    fails_with(
        env.connect(&url("localhost", "sslmode=verify-full")),
        &["verify-full", "root.crt", "does not exist"],
    );
    fails_with(
        env.connect(&url(
            "localhost",
            "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
        )),
        &["verify-ca", "/nonexistent/ca.pem", "does not exist"],
    );
    // ~/.postgresql/root.crt is the default root certificate.
    std::fs::create_dir_all(env.home.path().join(".postgresql")).unwrap();
    std::fs::copy(&t.ca, env.home.path().join(".postgresql/root.crt")).unwrap();
    assert!(env
        .connect(&url("localhost", "sslmode=verify-full"))
        .is_ok());

    // prefer with an untrusting ~/.postgresql/root.crt: the handshake fails, plain is tried (libpq).
    let wary = Env::new();
    std::fs::create_dir_all(wary.home.path().join(".postgresql")).unwrap();
    std::fs::copy(&t.other_ca, wary.home.path().join(".postgresql/root.crt")).unwrap();
    let mut client = wary.connect(&url("localhost", "")).unwrap();
    assert!(!uses_tls(&mut client));
    fails_with(
        wary.connect(&url("localhost", "sslmode=require")),
        &["sslmode=require", "not trusted", "root.crt"],
    );

    // sslrootcert=system: the test CA is in no system store.
    fails_with(
        env.connect(&url("localhost", "sslrootcert=system")),
        &["sslmode=verify-full", "system trust store"],
    );

    // SCRAM with channel binding over TLS (tls-server-end-point from the certificate).
    let bound = url(
        "localhost",
        &format!(
            "sslmode=verify-full&sslrootcert={}&channel_binding=require",
            p(&t.ca)
        ),
    );
    assert!(uses_tls(&mut env.connect(&bound).unwrap()));

    // Several hosts: the first that accepts wins; every failure is listed otherwise.
    let hosts = format!(
        "host=127.0.0.1,localhost port=1,{port} user=app password='{}' dbname=appdb sslmode=require",
        PASSWORD.replace('\'', "\\'")
    );
    assert!(env.connect(&hosts).is_ok());
    let e = fails_with(
        env.connect("host=127.0.0.1,localhost port=1,2 user=app password=x sslmode=disable"),
        &["127.0.0.1:1: ", "localhost:2: "],
    );
    assert!(e.contains("refused"), "{e}");

    // A wrong password names the server's reason, never the password.
    fails_with(
        env.connect(&format!(
            "postgres://app:wrong@localhost:{port}/appdb?sslmode=require"
        )),
        &["password authentication failed"],
    );
}

#[test]
fn client_certificates_and_tls_only_rules() {
    let Some(c) = tls_cluster() else { return };
    let t = c.tls().unwrap().clone();
    let port = c.port();
    let env = Env::new();

    // `hostssl ... cert`: the certificate's CN is the user, no password.
    let cert = format!(
        "host=localhost port={port} user={} dbname=postgres sslmode=verify-full sslrootcert='{}' sslcert='{}' sslkey='{}'",
        t.client_user,
        p(&t.ca),
        p(&t.client_cert),
        p(&t.client_key)
    );
    let mut client = env.connect(&cert).unwrap();
    assert!(uses_tls(&mut client));
    let who: String = client
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(who, "certuser");
    // Without the certificate the server refuses.
    fails_with(
        env.connect(&format!(
            "host=localhost port={port} user=certuser dbname=postgres sslmode=require"
        )),
        &["certificate"],
    );
    // ~/.postgresql/postgresql.crt and .key are the default client certificate.
    let dir = env.home.path().join(".postgresql");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&t.client_cert, dir.join("postgresql.crt")).unwrap();
    std::fs::copy(&t.client_key, dir.join("postgresql.key")).unwrap();
    assert!(env
        .connect(&format!(
            "host=localhost port={port} user=certuser dbname=postgres sslmode=require"
        ))
        .is_ok());

    // `hostnossl ... reject`: plain is refused with a hint; allow retries with TLS.
    let tlsonly = |mode: &str| {
        format!(
            "host=127.0.0.1 port={port} user=tlsonly password=tlspw dbname=postgres sslmode={mode}"
        )
    };
    fails_with(
        env.connect(&tlsonly("disable")),
        &["sslmode=disable", "no encryption", "only over TLS"],
    );
    let mut client = env.connect(&tlsonly("allow")).unwrap();
    assert!(uses_tls(&mut client));
    assert!(env.connect(&tlsonly("require")).is_ok());
    assert!(env.connect(&tlsonly("prefer")).is_ok());
}

#[test]
fn passwords_in_every_form() {
    let Some(c) = tls_cluster() else { return };
    let t = c.tls().unwrap().clone();
    let port = c.port();
    let env = Env::new();
    let check = |client: Result<postgres::Client, Error>| {
        let mut client = client.unwrap();
        let who: String = client
            .query_one("SELECT current_user::text", &[])
            .unwrap()
            .get(0);
        assert_eq!(who, "app");
        assert!(uses_tls(&mut client));
    };

    // URL, percent-encoded.
    check(env.connect(&format!(
        "postgresql://app:{PASSWORD_URL}@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={}",
        p(&t.ca)
    )));
    // key=value, quoted with the quote escaped.
    check(env.connect(&format!(
        "host=localhost port={port} user=app dbname=appdb password='{}' sslmode=verify-full sslrootcert={}",
        PASSWORD.replace('\'', "\\'"),
        p(&t.ca)
    )));
    // [database] parts: the password as is.
    let port_s = port.to_string();
    let ca_s = p(&t.ca);
    let parts = Params::from_parts([
        ("host", "localhost"),
        ("port", port_s.as_str()),
        ("user", "app"),
        ("password", PASSWORD),
        ("dbname", "appdb"),
        ("sslmode", "verify-full"),
        ("sslrootcert", ca_s.as_str()),
    ])
    .unwrap();
    let settings = env.settings(&parts);
    assert!(!settings.to_string().contains(PASSWORD));
    check(retort_connect::connect(&settings));
    // The same server, another database, the same credentials.
    let mut other = retort_connect::connect(&settings.with_dbname("postgres")).unwrap();
    let db: String = other
        .query_one("SELECT current_database()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(db, "postgres");

    // Only environment variables.
    let env_only = Env::new()
        .set("PGHOST", "localhost")
        .set("PGPORT", &port_s)
        .set("PGUSER", "app")
        .set("PGPASSWORD", PASSWORD)
        .set("PGDATABASE", "appdb")
        .set("PGSSLMODE", "verify-full")
        .set("PGSSLROOTCERT", &ca_s)
        .set("PGAPPNAME", "from-env");
    let mut client = env_only.connect("").unwrap();
    let app: String = client
        .query_one("SHOW application_name", &[])
        .unwrap()
        .get(0);
    assert_eq!(app, "from-env");
    check(Ok(client));
    // A given value beats the variable.
    fails_with(
        env_only.connect("user=app password=wrong"),
        &["password authentication failed"],
    );

    // The password file, `:` escaped; given via PGPASSFILE.
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pgpass");
    std::fs::write(
        &pass,
        format!(
            "# other servers first\nelsewhere:*:*:*:nope\nlocalhost:{port}:appdb:app:{}\n",
            PASSWORD.replace(':', "\\:")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_file = Env::new().set("PGPASSFILE", &p(&pass));
    let url = format!(
        "postgres://app@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={}",
        p(&t.ca)
    );
    check(with_file.connect(&url));
    // ~/.pgpass is the default file.
    let home_env = Env::new();
    std::fs::copy(&pass, home_env.home.path().join(".pgpass")).unwrap();
    check(home_env.connect(&url));
    // A group-readable file is ignored with libpq's warning.
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let settings = with_file.settings(&Params::parse(&url).unwrap());
    assert!(
        settings
            .warnings
            .iter()
            .any(|w| w.contains("group or world access")),
        "{:?}",
        settings.warnings
    );
    fails_with(retort_connect::connect(&settings), &["password"]);
}

#[test]
fn a_server_without_tls() {
    let Some(c) = start(&ClusterOptions {
        tcp: true,
        ..ClusterOptions::default()
    }) else {
        return;
    };
    setup_roles(&c);
    let port = c.port();
    let env = Env::new();
    let url =
        |mode: &str| format!("postgres://app:{PASSWORD_URL}@localhost:{port}/appdb?sslmode={mode}");

    // prefer (the default) falls back to plain.
    let mut client = env.connect(&url("prefer")).unwrap();
    assert!(!uses_tls(&mut client));
    assert!(env
        .connect(&format!(
            "postgres://app:{PASSWORD_URL}@localhost:{port}/appdb"
        ))
        .is_ok());
    assert!(env.connect(&url("allow")).is_ok());
    assert!(env.connect(&url("disable")).is_ok());
    // require and stronger fail, saying why.
    fails_with(
        env.connect(&url("require")),
        &["sslmode=require", "does not support TLS"],
    );
    let certs = tempfile::tempdir().unwrap();
    let files = retort_testkit::make_certificates(certs.path()).unwrap();
    fails_with(
        env.connect(&format!(
            "{}&sslrootcert={}",
            url("verify-full"),
            p(&files.ca)
        )),
        &["sslmode=verify-full", "does not support TLS"],
    );
    // A unix socket never uses TLS, whatever the mode (as libpq).
    let sock = format!(
        "host={} port={port} user=postgres dbname=postgres sslmode=require",
        p(c.dir())
    );
    assert!(env.connect(&sock).is_ok());
    // Nothing listening: the address is named.
    fails_with(
        env.connect("host=127.0.0.1 port=1 user=app password=x sslmode=disable"),
        &["127.0.0.1:1"],
    );
}
