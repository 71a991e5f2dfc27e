//! `retort upgrade --backup` and `[upgrade] backup` on real PostgreSQL: the dump is written, read
//! back and restorable (restored into a fresh database it equals the database before the
//! upgrade); a failing pg_dump refuses the upgrade, and no credential is printed.

mod common;

use common::*;
use retort_testkit::{pg_bin_dir, pg_dump_schema, TestDb};
use std::process::Command;

const V1: &str = r#"
#[derive(Table)]
#[table(name = "notes")]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
}
"#;

/// A project at its first migration with two rows, and a second migration pending.
fn project_with_a_pending_migration(name: &str) -> Project {
    let p = Project::new(name);
    p.models(V1);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "notes"]);
    p.ok(&["upgrade", "head"]);
    p.client()
        .batch_execute("INSERT INTO notes VALUES (1, 'one'), (2, 'two')")
        .unwrap();
    p.models(&V1.replace(
        "pub body: String,",
        "pub body: String,\n    pub pinned: Option<bool>,",
    ));
    p.ok_at(2, &["revision", "--autogenerate", "-m", "pinned"]);
    p
}

fn backups(p: &Project, dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.path(dir))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_backup_before_an_upgrade_restores_the_database_as_it_was() {
    let p = project_with_a_pending_migration("backup_restore");
    let before = pg_dump_schema(&p.db.url).unwrap();

    let o = p.ok(&["upgrade", "head", "--backup"]);
    assert!(p.has_column("notes", "pinned"));
    let files = backups(&p, "backups");
    assert_eq!(files.len(), 1, "{files:?}");
    let name = &files[0];
    assert!(
        name.starts_with(&format!("{}-", p.db.name))
            && name.ends_with("-before-20260101_000002_pinned.dump"),
        "{name}"
    );
    assert!(
        o.stdout.contains("backup: ") && o.stdout.contains("read back in full"),
        "{o}"
    );
    assert!(
        o.stdout.contains(&format!(
            "pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname {}",
            p.db.name
        )),
        "{o}"
    );

    // Restored into a fresh database, it is the database before the upgrade: schema and rows.
    let fresh = TestDb::create("wf_backup_restore_fresh").unwrap();
    let out = Command::new(pg_bin_dir().unwrap().join("pg_restore"))
        .arg("--exit-on-error")
        .arg(format!("--dbname={}", fresh.url))
        .arg(p.path(&format!("backups/{name}")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(pg_dump_schema(&fresh.url).unwrap(), before);
    let rows: Vec<(i64, String)> = fresh
        .connect()
        .unwrap()
        .query("SELECT id, body FROM notes ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [(1, "one".to_string()), (2, "two".to_string())]);
    let version: String = fresh
        .connect()
        .unwrap()
        .query_one("SELECT revision FROM retort_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, "20260101_000001_notes");

    // Nothing to run: no backup.
    p.ok(&["upgrade", "head", "--backup"]);
    assert_eq!(backups(&p, "backups").len(), 1);
}

#[test]
fn retort_toml_asks_for_a_plain_backup_on_every_upgrade() {
    let p = project_with_a_pending_migration("backup_config");
    p.append(
        "retort.toml",
        "[upgrade]\nbackup = \"var/dumps\"\nbackup_format = \"plain\"\n",
    );
    let o = p.ok(&["upgrade", "head"]);
    let files = backups(&p, "var/dumps");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".sql"), "{files:?}");
    let text = std::fs::read_to_string(p.path(&format!("var/dumps/{}", files[0]))).unwrap();
    assert!(text.contains("COPY public.notes"), "a data dump");
    assert!(
        o.stdout
            .contains("psql --single-transaction -v ON_ERROR_STOP=1"),
        "{o}"
    );
    // --no-backup overrides the setting.
    p.ok(&["downgrade", "-1"]);
    p.ok(&["upgrade", "head", "--no-backup"]);
    assert_eq!(backups(&p, "var/dumps").len(), 1);
}

#[test]
fn a_failed_backup_refuses_the_upgrade_without_printing_the_password() {
    let p = project_with_a_pending_migration("backup_fails");
    // A pg_dump that fails the way a real one does when it cannot log in, quoting its
    // environment's password.
    std::fs::create_dir_all(p.path("bin")).unwrap();
    p.write(
        "bin/pg_dump",
        "#!/bin/sh\necho \"pg_dump: error: connection failed: password $PGPASSWORD rejected\" >&2\nexit 1\n",
    );
    let script = p.path("bin/pg_dump");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.append("retort.toml", "[upgrade]\npg_dump = \"bin/pg_dump\"\n");
    let sep = if p.db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}password=hunter22", p.db.url);
    let o = retort(
        p.dir.path(),
        &[("DATABASE_URL", &url)],
        &["upgrade", "head", "--backup"],
    );
    assert_eq!(o.code, 1, "{o}");
    assert!(
        o.stderr
            .contains("the backup before the upgrade failed, so nothing was applied"),
        "{o}"
    );
    assert!(
        o.stderr
            .contains("connection failed: password *** rejected"),
        "{o}"
    );
    assert!(
        !o.stderr.contains("hunter22") && !o.stdout.contains("hunter22"),
        "{o}"
    );
    assert!(!p.has_column("notes", "pinned"));
    assert!(backups(&p, "backups").is_empty(), "no partial file is left");

    // A pg_dump that does not exist names the fix.
    p.write(
        "retort.toml",
        &p.read("retort.toml").replace("bin/pg_dump", "bin/nothing"),
    );
    let o = p.fails(1, &["upgrade", "head", "--backup"]);
    assert!(
        o.stderr.contains("could not run") && o.stderr.contains("[upgrade]"),
        "{o}"
    );
    assert!(!p.has_column("notes", "pinned"));
}
