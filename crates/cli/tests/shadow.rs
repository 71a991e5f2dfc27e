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

    // The same role with scratch databases on its own server, as before the shadow: refused.
    p.append("retort.toml", "[shadow]\nurl = \"${DATABASE_URL}\"\n");
    let o = run(&["verify"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("CREATEDB"), "{o}");
    let o = run(&["check"]);
    assert_ne!(o.code, 0, "{o}");
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
