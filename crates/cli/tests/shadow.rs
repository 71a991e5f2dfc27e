//! `retort shadow start|status|stop` on a real private cluster in a temp RETORT_SHADOW_DIR, and
//! `[shadow]` errors in retort.toml.

mod common;

use common::retort;

#[test]
fn shadow_start_status_stop() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // As root the server runs as `postgres`, which must reach the directory.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let base = tmp.path().join("shadow");
    let base_s = base.to_string_lossy().to_string();
    let env = [("RETORT_SHADOW_DIR", base_s.as_str())];
    let dir = tmp.path();

    let o = retort(dir, &env, &["shadow", "status"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("no shadow database"), "{o}");

    let o = retort(dir, &env, &["shadow", "start"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("created and started"), "{o}");
    let url = o
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("postgres://"))
        .expect("the URL is printed")
        .to_string();
    assert!(url.contains(&base_s), "{o}");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let one: i32 = c.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1);
    drop(c);

    let o = retort(dir, &env, &["shadow", "start"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.contains(": running") || o.stdout.contains(" running:"),
        "{o}"
    );

    let o = retort(dir, &env, &["shadow", "status"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("running (pid"), "{o}");
    assert!(o.stdout.contains(&url), "{o}");

    let o = retort(dir, &env, &["shadow", "stop"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("stopped the PostgreSQL"), "{o}");
    let o = retort(dir, &env, &["shadow", "status"]);
    assert!(o.stdout.contains("stopped"), "{o}");
    let o = retort(dir, &env, &["shadow", "stop"]);
    assert!(o.stdout.contains("no shadow database was running"), "{o}");

    // A missing major version is an error naming what is installed.
    let o = retort(dir, &env, &["shadow", "start", "--major", "99"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("the target server is PostgreSQL 99"),
        "{o}"
    );

    // A configured URL: there is nothing to start; a bad key is refused.
    std::fs::write(
        dir.join("retort.toml"),
        "[shadow]\nurl = \"postgres://dev/x\"\n",
    )
    .unwrap();
    let o = retort(dir, &env, &["shadow", "start"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("[shadow] url is set"), "{o}");
    std::fs::write(dir.join("retort.toml"), "[shadow]\nauto = true\n").unwrap();
    let o = retort(dir, &env, &["shadow", "status"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("unknown field `auto`"), "{o}");
}

/// Models whose CHECK only the server spells right (`IN (...)` becomes `= ANY (ARRAY[...])`): with
/// the offline normaliser `check` would report a difference after the migration is applied.
const ORDERS: &str = r#"#[derive(Table)]
#[table(name = "orders")]
#[check(name = "orders_status_known", expr = "status IN ('new', 'paid')")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "'new'")]
    pub status: String,
}
"#;

/// `url` with its user replaced by `user:password`.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    format!("{scheme}://{user}:{password}@{rest}")
}

#[test]
fn a_role_without_createdb_checks_verifies_and_stamps_on_the_shadow() {
    let p = common::Project::new("shadow_nocreatedb");
    let role = "retort_nocreatedb";
    let mut admin = p.client();
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'pw'; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
             ALTER DATABASE {db} OWNER TO {role}; ALTER SCHEMA public OWNER TO {role}; \
             DO $$ BEGIN CREATE ROLE retort_reader NOLOGIN; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
            db = p.db.name
        ))
        .unwrap();
    let url = as_user(&p.db.url, role, "pw");
    let run = |args: &[&str]| {
        common::retort(
            p.dir.path(),
            &[
                ("DATABASE_URL", url.as_str()),
                ("RETORT_NOW", "2026-01-01T00:00:01Z"),
            ],
            args,
        )
    };
    let ok = |args: &[&str]| {
        let o = run(args);
        assert_eq!(o.code, 0, "retort {args:?}:\n{o}");
        assert!(!o.stderr.contains("warning"), "retort {args:?}:\n{o}");
        o
    };
    p.models(ORDERS);
    ok(&["revision", "--autogenerate", "-m", "orders"]);
    // A grant to a role of the target server: the shadow has the target's roles, so it replays.
    let rev = p
        .migration_entries()
        .into_iter()
        .next()
        .expect("one revision");
    p.append(
        &format!("migrations/{rev}/up.sql"),
        "\nGRANT SELECT ON public.orders TO retort_reader;\n",
    );
    ok(&["hash"]);
    ok(&["upgrade", "head"]);
    let o = ok(&["check"]);
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    assert!(o.stdout.contains("on the shadow database"), "{o}");
    let o = ok(&["check", "--live", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["ok"], true, "{o}");
    assert_eq!(v["normalizer"], "server", "{o}");
    let o = ok(&["verify"]);
    assert!(o.stdout.contains("verified 1 migration(s)"), "{o}");
    ok(&["stamp", "head", "--verify"]);
    let o = ok(&["diff"]);
    assert!(o.stdout.contains("no changes"), "{o}");

    // The same role with scratch databases on its own server, as before the shadow: refused,
    // unless the answer is cached (a server of the same major version replayed the same files).
    p.append("retort.toml", "[shadow]\nurl = \"${DATABASE_URL}\"\n");
    let o = run(&["verify"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("CREATEDB"), "{o}");
    let o = ok(&["check"]);
    assert!(o.stdout.contains("scratch databases: none needed"), "{o}");
    let o = common::retort(
        p.dir.path(),
        &[("DATABASE_URL", url.as_str()), ("RETORT_CACHE", "off")],
        &["check"],
    );
    assert_ne!(o.code, 0, "{o}");
    assert!(o.stderr.contains("CREATEDB"), "{o}");
}

#[test]
fn check_and_verify_need_no_database_configured() {
    let p = common::Project::new("shadow_nodb");
    p.models(ORDERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "orders"]);
    p.write(
        "retort.toml",
        "[models]\npaths = [\"src/models.rs\"]\n[migrations]\ndir = \"migrations\"\n",
    );
    let none: [(&str, &str); 0] = [];
    let o = common::retort(p.dir.path(), &none, &["check"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    let o = common::retort(p.dir.path(), &none, &["verify"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("verified 1 migration(s)"), "{o}");
    // Drift is still found.
    p.models(&ORDERS.replace(
        "    pub status: String,\n",
        "    pub status: String,\n    pub note: Option<String>,\n",
    ));
    let o = common::retort(p.dir.path(), &none, &["check"]);
    assert_eq!(o.code, 1, "{o}");
    assert!(o.stdout.contains("ADD COLUMN note"), "{o}");
}

/// A second run with unchanged models and migrations takes the server's spelling of the model
/// expressions and the schema the migrations build from the project's cache: with the shadow
/// database stopped, it starts nothing and answers the same. A changed expression, a new
/// migration and `RETORT_CACHE=off` go back to the scratch database.
#[test]
fn unchanged_models_and_migrations_need_no_scratch_database_the_second_time() {
    use std::os::unix::fs::PermissionsExt;
    let p = common::Project::new("shadow_cache");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let base = tmp.path().join("shadow").to_string_lossy().to_string();
    let cache = tmp.path().join("cache").to_string_lossy().to_string();
    let env = [
        ("DATABASE_URL", p.db.url.as_str()),
        ("RETORT_SHADOW_DIR", base.as_str()),
        ("RETORT_CACHE_DIR", cache.as_str()),
        ("RETORT_NOW", "2026-01-01T00:00:01Z"),
    ];
    let run = |args: &[&str]| retort(p.dir.path(), &env, args);
    let stopped = || {
        let o = run(&["shadow", "stop"]);
        assert_eq!(o.code, 0, "{o}");
        let o = run(&["shadow", "status"]);
        assert!(o.stdout.contains("stopped"), "{o}");
    };
    let is_stopped = || run(&["shadow", "status"]).stdout.contains("stopped");

    p.models(ORDERS);
    let o = run(&["revision", "--autogenerate", "-m", "orders"]);
    assert_eq!(o.code, 0, "{o}");
    let o = run(&["upgrade", "head"]);
    assert_eq!(o.code, 0, "{o}");
    // `check --live` canonicalises the CHECK and replays the migration (to tell drift).
    let o = run(&["check", "--live"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout
            .contains("scratch databases: on the shadow database"),
        "{o}"
    );

    // Unchanged: answered from the cache, nothing started, the same verdicts.
    stopped();
    let o = run(&["check", "--live"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.contains("models match the database"),
        "the cached spelling of the CHECK is the server's: {o}"
    );
    assert!(o.stdout.contains("scratch databases: none needed"), "{o}");
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    assert!(o.stdout.contains("scratch databases: none needed"), "{o}");
    let o = run(&["diff"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(is_stopped(), "no run above started the shadow database");

    // A changed expression is canonicalised again, on the scratch database.
    let edited = ORDERS.replace("IN ('new', 'paid')", "IN ('new', 'paid', 'sent')");
    p.models(&edited);
    let o = run(&["check", "--live"]);
    assert_eq!(o.code, 1, "{o}");
    assert!(o.stdout.contains("orders_status_known"), "{o}");
    assert!(
        o.stdout
            .contains("scratch databases: on the shadow database"),
        "{o}"
    );
    assert!(!is_stopped(), "{o}");

    // A new migration is replayed again; once written, its schema is cached in turn.
    let o = run(&["revision", "--autogenerate", "-m", "sent"]);
    assert_eq!(o.code, 0, "{o}");
    stopped();
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout
            .contains("scratch databases: on the shadow database"),
        "the new migration is replayed: {o}"
    );
    stopped();
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("scratch databases: none needed"), "{o}");

    // RETORT_CACHE=off: every run uses the scratch database.
    let mut off = env.to_vec();
    off.push(("RETORT_CACHE", "off"));
    let o = retort(p.dir.path(), &off, &["check"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout
            .contains("scratch databases: on the shadow database"),
        "{o}"
    );
    stopped();
}

/// The configured database has the `citext` extension and the models use its type in a table
/// with a CHECK: the scratch database that canonicalises the CHECK gets the extension too, so
/// the comparison runs with the server's spelling instead of failing on an unknown type.
#[test]
fn the_databases_extensions_are_created_where_model_expressions_are_canonicalised() {
    let p = common::Project::new("shadow_extensions");
    p.client()
        .batch_execute(
            "CREATE EXTENSION citext; \
             CREATE TABLE accounts (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
             email citext NOT NULL CONSTRAINT accounts_email_check CHECK (email <> ''))",
        )
        .unwrap();
    p.models(
        r#"#[derive(Table)]
#[table(name = "accounts")]
#[check(name = "accounts_email_check", expr = "email <> ''")]
pub struct Account {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "citext")]
    pub email: String,
}
"#,
    );
    let o = p.ok(&["diff"]);
    assert!(o.stdout.contains("no changes"), "{o}");
    assert!(o.stderr.contains("server normaliser"), "{o}");
}
