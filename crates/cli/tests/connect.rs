//! The `retort` binary on a TLS server of its own (testkit certificates): `[database]` parts from
//! a FastAPI-style `.env`, verify-full, scratch databases over TLS, PG* variables, passwords never
//! printed.

mod common;

use common::*;
use retort_testkit::{ClusterOptions, PgCluster};

/// Every character that breaks a URL, as a FastAPI-style `.env` would hold it.
const PASSWORD: &str = "p@ss/w:o#r?d'x";

const PARTS_TOML: &str = r#"[database]
host = "${POSTGRES_SERVER}"
port = ${PORT}
user = "${POSTGRES_USER}"
password = "${POSTGRES_PASSWORD}"
dbname = "${POSTGRES_DB}"
sslmode = "verify-full"
sslrootcert = "${CA}"
[models]
paths = ["src/models.rs"]
[migrations]
dir = "migrations"
"#;

const MODELS: &str = r#"
#[derive(Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
}
"#;

fn tls_server() -> Option<PgCluster> {
    if retort_testkit::pg_bin_dir().is_err() && std::env::var("DATABASE_URL").is_err() {
        eprintln!("skipped: no PostgreSQL server binaries");
        return None;
    }
    let c = PgCluster::start_with(&ClusterOptions {
        tls: true,
        hba: vec!["hostnossl all all 127.0.0.1/32 reject".into()],
        ..ClusterOptions::default()
    })
    .unwrap();
    let mut admin = c.admin().unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE app LOGIN CREATEDB PASSWORD '{}'",
            PASSWORD.replace('\'', "''")
        ))
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE appdb OWNER app")
        .unwrap();
    Some(c)
}

fn assert_no_password(o: &Out) {
    for piece in [PASSWORD, "p@ss", "w:o", "r?d", "d'x", "p%40ss"] {
        assert!(
            !o.stdout.contains(piece) && !o.stderr.contains(piece),
            "{piece:?} printed:\n{o}"
        );
    }
}

#[test]
fn database_parts_from_dotenv_over_tls() {
    let Some(c) = tls_server() else { return };
    let ca = c.tls().unwrap().ca.to_string_lossy().to_string();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().to_string_lossy().to_string();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/models.rs"), MODELS).unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("retort.toml"),
        PARTS_TOML
            .replace("${PORT}", &c.port().to_string())
            .replace("${CA}", &ca),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "POSTGRES_SERVER=localhost\nPOSTGRES_USER=app\nPOSTGRES_PASSWORD={PASSWORD}\nPOSTGRES_DB=appdb\n"
        ),
    )
    .unwrap();
    let env = [("HOME", home_s.as_str())];
    let run = |args: &[&str]| {
        let o = retort(dir.path(), &env, args);
        assert_no_password(&o);
        o
    };
    let o = run(&["revision", "--autogenerate", "-m", "users"]);
    assert_eq!(o.code, 0, "{o}");
    let o = run(&["upgrade", "head"]);
    assert_eq!(o.code, 0, "{o}");
    // check and verify replay on a scratch database: same server, same TLS, another dbname.
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{o}");
    let o = run(&["verify"]);
    assert_eq!(o.code, 0, "{o}");
    let mut admin = c.admin().unwrap();
    let n: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'app' AND NOT s.ssl",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // A wrong password: the reason is the server's, the password is hidden.
    let o = retort(
        dir.path(),
        &[("HOME", &home_s), ("POSTGRES_PASSWORD", "wrong-Pa55")],
        &["current"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("password authentication failed"), "{o}");
    assert!(!o.stderr.contains("wrong-Pa55"), "{o}");
    // 127.0.0.1 is not a name in the server certificate.
    let o = retort(
        dir.path(),
        &[("HOME", &home_s), ("POSTGRES_SERVER", "127.0.0.1")],
        &["current"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("host name mismatch"), "{o}");
    assert_no_password(&o);
    // An unknown part is named.
    std::fs::write(
        dir.path().join("retort.toml"),
        "[database]\nhots = \"localhost\"\n",
    )
    .unwrap();
    let o = retort(dir.path(), &env, &["current"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("unknown connection parameter `hots`"),
        "{o}"
    );
}

#[test]
fn urls_sslmodes_and_pg_variables() {
    let Some(c) = tls_server() else { return };
    let ca = c.tls().unwrap().ca.to_string_lossy().to_string();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().to_string_lossy().to_string();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/models.rs"), MODELS).unwrap();
    std::fs::write(dir.path().join("retort.toml"), RETORT_TOML).unwrap();
    let port = c.port().to_string();
    let url = format!(
        "postgresql://app:p%40ss%2Fw%3Ao%23r%3Fd%27x@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={ca}"
    );
    let o = retort(
        dir.path(),
        &[("HOME", &home_s), ("DATABASE_URL", &url)],
        &["current"],
    );
    assert_eq!(o.code, 0, "{o}");
    assert_no_password(&o);
    // sslmode=disable is refused by `hostnossl ... reject`; the message says to use TLS.
    let plain = format!(
        "postgresql://app:p%40ss%2Fw%3Ao%23r%3Fd%27x@localhost:{port}/appdb?sslmode=disable"
    );
    let o = retort(
        dir.path(),
        &[("HOME", &home_s), ("DATABASE_URL", &plain)],
        &["current"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("only over TLS"), "{o}");
    assert_no_password(&o);
    // Nothing configured but PG* variables: libpq's environment.
    std::fs::write(
        dir.path().join("retort.toml"),
        "[models]\npaths = [\"src/models.rs\"]\n",
    )
    .unwrap();
    let o = retort(
        dir.path(),
        &[
            ("HOME", &home_s),
            ("PGHOST", "localhost"),
            ("PGPORT", &port),
            ("PGUSER", "app"),
            ("PGPASSWORD", PASSWORD),
            ("PGDATABASE", "appdb"),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", &ca),
        ],
        &["current"],
    );
    assert_eq!(o.code, 0, "{o}");
    assert_no_password(&o);
}
