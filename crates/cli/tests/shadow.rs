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
