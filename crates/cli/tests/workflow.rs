//! End-to-end tests of the `retort` binary on real PostgreSQL: each test builds a project in a
//! temp dir (retort.toml, src/models.rs) on a fresh database and drives the CLI like a user would.

use retort_schema::{Catalog, Scope};
use retort_testkit::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A database URL nothing listens on: a unix socket in a directory that does not exist.
const UNREACHABLE_URL: &str = "postgres://postgres@/nowhere?host=/nonexistent/retort-wf&port=1";

const RETORT_TOML: &str = r#"[database]
url = "${DATABASE_URL}"
[models]
paths = ["src/models.rs"]
[migrations]
dir = "migrations"
[scope]
schemas = ["public"]
"#;

/// What one run of the binary did.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `retort args` in `dir` with exactly the given environment additions (no inherited
/// DATABASE_URL or RETORT_NOW).
fn retort(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_retort"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_NOW");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the retort binary runs");
    let o = Out {
        code: out
            .status
            .code()
            .expect("retort exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked"),
        "retort {args:?} panicked:\n{o}"
    );
    o
}

/// `2026-01-01T00:00:<n>Z`: the clock of the n-th revision, so ids are deterministic.
fn at(n: u32) -> String {
    format!("2026-01-01T00:00:{n:02}Z")
}

/// A project directory with retort.toml and src/, on its own fresh database.
struct Project {
    dir: tempfile::TempDir,
    db: TestDb,
}

impl Project {
    fn new(name: &str) -> Project {
        let p = Project::bare(name);
        p.write("retort.toml", RETORT_TOML);
        p
    }

    /// Without retort.toml (for `retort init`).
    fn bare(name: &str) -> Project {
        let db =
            TestDb::create(&format!("wf_{name}")).expect("test database (is DATABASE_URL set?)");
        let dir = tempfile::Builder::new()
            .prefix("retort-wf-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        Project { dir, db }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    fn append(&self, rel: &str, text: &str) {
        let mut s = self.read(rel);
        s.push_str(text);
        self.write(rel, &s);
    }

    fn models(&self, text: &str) {
        self.write("src/models.rs", text);
    }

    fn run(&self, args: &[&str]) -> Out {
        retort(self.dir.path(), &[("DATABASE_URL", &self.db.url)], args)
    }

    /// Runs with RETORT_NOW set to [`at`]`(n)`.
    fn run_at(&self, n: u32, args: &[&str]) -> Out {
        let now = at(n);
        retort(
            self.dir.path(),
            &[("DATABASE_URL", &self.db.url), ("RETORT_NOW", &now)],
            args,
        )
    }

    /// Runs and asserts exit 0.
    fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, 0, "retort {args:?} failed:\n{o}");
        o
    }

    fn ok_at(&self, n: u32, args: &[&str]) -> Out {
        let o = self.run_at(n, args);
        assert_eq!(o.code, 0, "retort {args:?} failed:\n{o}");
        o
    }

    /// Runs and asserts the exit code `code`.
    fn fails(&self, code: i32, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, code, "retort {args:?}: unexpected exit code:\n{o}");
        o
    }

    fn client(&self) -> postgres::Client {
        self.db.connect().unwrap()
    }

    fn exists(&self, relation: &str) -> bool {
        self.client()
            .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&relation])
            .unwrap()
            .get(0)
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.client()
            .query_one(
                "SELECT count(*) FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    }

    fn schema(&self) -> Catalog {
        retort::introspect(&mut self.client(), &Scope::default()).unwrap()
    }

    /// The entries of migrations/, sorted.
    fn migration_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path("migrations"))
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

const BLOG_V1: &str = r#"use chrono::{DateTime, Utc};
use retort_derive::{DbEnum, Table};

#[derive(DbEnum)]
#[db_enum(name = "user_role")]
pub enum UserRole {
    Reader,
    Admin,
}

#[derive(Table)]
#[table(name = "users")]
#[index(columns(created_at))]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(255)", unique)]
    pub email: String,
    pub role: UserRole,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

#[derive(Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = "users.id", on_delete = "cascade", index)]
    pub author_id: i64,
    pub title: String,
}
"#;

/// BLOG_V1 plus `users.bio`.
fn blog_v2() -> String {
    BLOG_V1.replace(
        "    pub email: String,\n",
        "    pub email: String,\n    pub bio: Option<String>,\n",
    )
}

const USERS: &str = r#"#[derive(Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    pub email: String,
}
"#;

/// USERS plus `users.bio`.
fn users_with_bio() -> String {
    USERS.replace(
        "    pub email: String,\n",
        "    pub email: String,\n    pub bio: Option<String>,\n",
    )
}

const REV1: &str = "20260101_000001_create_users";
const REV2: &str = "20260101_000002_add_bio";

/// Two autogenerated revisions, REV1 (create users) and REV2 (add bio), none applied.
fn two_revisions(p: &Project) {
    p.models(USERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    p.ok(&["upgrade", "head"]);
    p.models(&users_with_bio());
    p.ok_at(2, &["revision", "--autogenerate", "-m", "add bio"]);
    p.ok(&["downgrade", "base"]);
    assert_eq!(p.migration_entries(), [REV1, REV2, "retort.sum"]);
}

#[test]
fn daily_workflow() {
    let p = Project::bare("daily");
    let o = p.ok(&["init"]);
    assert!(o.stdout.contains("created retort.toml"), "{o}");
    assert!(p.path("retort.toml").is_file() && p.path("migrations").is_dir());
    let o = p.fails(2, &["init"]);
    assert!(o.stderr.contains("retort.toml already exists"), "{o}");

    // 1. autogenerate the first migration
    p.models(BLOG_V1);
    let o = p.ok(&["current"]);
    assert_eq!(o.stdout, "base (no migration applied)\n");
    let o = p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    assert!(o.stdout.contains(&format!("migrations/{REV1}")), "{o}");
    assert!(o.stdout.contains("  CREATE TABLE public.users"), "{o}");
    let up = p.read(&format!("migrations/{REV1}/up.sql"));
    assert!(up.starts_with(&format!(
        "-- retort:revision {REV1}\n-- retort:revises base\n-- retort:message create users\n\
         -- retort:created 2026-01-01T00:00:01Z\n"
    )));
    for needle in [
        "CREATE TYPE public.user_role",
        "CREATE TABLE public.users (",
        "CREATE TABLE public.posts (",
    ] {
        assert!(up.contains(needle), "up.sql lacks {needle}:\n{up}");
    }
    let down = p.read(&format!("migrations/{REV1}/down.sql"));
    assert!(down.contains("DROP TABLE public.users;"), "{down}");
    assert!(p.path("migrations/retort.sum").is_file());

    // 2. apply it
    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert!(
        o.stderr.contains(&format!("Running upgrade  -> {REV1}")),
        "{o}"
    );
    assert!(p.exists("public.users") && p.exists("public.posts"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1} (head)\n"));
    let o = p.ok(&["upgrade", "head"]);
    assert_eq!(o.stdout, "nothing to do: the database is already at head\n");
    let o = p.ok(&["check"]);
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    let o = p.ok(&["check", "--live"]);
    assert!(o.stdout.contains("models match the database"), "{o}");

    // 3. edit the models: check finds the new column, against the migrations and the database
    p.models(&blog_v2());
    for args in [&["check"][..], &["check", "--live"]] {
        let o = p.fails(1, args);
        assert!(o.stdout.contains("1 change(s)"), "{o}");
        assert!(
            o.stdout
                .contains("src/models.rs:19: ALTER TABLE public.users ADD COLUMN bio text"),
            "{o}"
        );
    }
    let o = p.ok(&["diff"]);
    assert_eq!(o.stdout, "ALTER TABLE public.users ADD COLUMN bio text;\n");

    // 4. write the migration: the migrations now build the models, the database lags behind
    let o = p.ok_at(2, &["revision", "--autogenerate", "-m", "add bio"]);
    assert!(o.stdout.contains(&format!("migrations/{REV2}")), "{o}");
    let up2 = p.read(&format!("migrations/{REV2}/up.sql"));
    assert!(
        up2.contains(&format!("-- retort:revises {REV1}\n")),
        "{up2}"
    );
    assert!(
        up2.contains("ALTER TABLE public.users ADD COLUMN bio text;"),
        "{up2}"
    );
    p.ok(&["check"]);
    p.fails(1, &["check", "--live"]);
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));

    // 5. apply it: all agree
    let o = p.ok(&["upgrade", "head"]);
    assert!(
        o.stderr
            .contains(&format!("Running upgrade {REV1} -> {REV2}")),
        "{o}"
    );
    assert!(p.has_column("users", "bio"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV2} (head)\n"));
    p.ok(&["check"]);
    p.ok(&["check", "--live"]);
    let at_head = p.schema();
    assert_eq!(at_head.tables().count(), 2, "{at_head:?}");

    // 6. undo one, then everything, then redo: the same schema as before
    let o = p.ok(&["downgrade", "-1"]);
    assert!(o.stdout.starts_with("reverted 1 migration(s)"), "{o}");
    assert!(!p.has_column("users", "bio"));
    assert!(p.exists("public.users"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));
    let o = p.ok(&["downgrade", "base"]);
    assert!(o.stdout.starts_with("reverted 1 migration(s)"), "{o}");
    assert!(!p.exists("public.users") && !p.exists("public.posts"));
    let enum_left: bool = p
        .client()
        .query_one("SELECT to_regtype('public.user_role') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!enum_left, "down.sql leaves the enum type behind");
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");
    assert!(p.schema().tables().next().is_none());
    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stdout.starts_with("applied 2 migration(s)"), "{o}");
    assert_eq!(p.schema(), at_head);
}

#[test]
fn autogenerate_refuses_without_changes_or_when_behind() {
    let p = Project::new("autogen");
    p.models(USERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    let sum = p.read("migrations/retort.sum");

    // the database is at base, the head is REV1
    let o = p.fails(2, &["revision", "--autogenerate", "-m", "again"]);
    assert!(o.stderr.contains("the database is not up to date"), "{o}");
    assert!(o.stderr.contains(&format!("heads are {REV1}")), "{o}");
    assert!(o.stderr.contains("retort upgrade head"), "{o}");
    assert_eq!(p.migration_entries(), [REV1, "retort.sum"]);

    // at head, with models unchanged: nothing is written
    p.ok(&["upgrade", "head"]);
    let o = p.ok_at(3, &["revision", "--autogenerate", "-m", "nothing"]);
    assert!(o.stdout.contains("no changes"), "{o}");
    assert!(o.stdout.contains("nothing written"), "{o}");
    assert_eq!(p.migration_entries(), [REV1, "retort.sum"]);
    assert_eq!(p.read("migrations/retort.sum"), sum);

    // --empty writes the revision anyway
    let o = p.ok_at(
        4,
        &["revision", "--autogenerate", "--empty", "-m", "nothing"],
    );
    assert!(o.stdout.contains("20260101_000004_nothing"), "{o}");
    assert_eq!(
        p.migration_entries(),
        [REV1, "20260101_000004_nothing", "retort.sum"]
    );
}

#[test]
fn upgrade_targets() {
    let p = Project::new("targets");
    two_revisions(&p);

    // a unique prefix upgrades to that revision (with its ancestors) only
    let o = p.ok(&["upgrade", "20260101_000001"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));
    assert!(p.exists("public.users") && !p.has_column("users", "bio"));

    // +1 applies the next one
    let o = p.ok(&["upgrade", "+1"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV2} (head)\n"));
    assert!(p.has_column("users", "bio"));
    let o = p.fails(2, &["upgrade", "+1"]);
    assert!(
        o.stderr
            .contains("invalid target +1: only 0 migration(s) are not applied"),
        "{o}"
    );

    // ambiguous and unknown prefixes are usage errors naming the prefix
    let o = p.fails(2, &["upgrade", "2026"]);
    assert!(
        o.stderr.contains(&format!(
            "revision 2026 is ambiguous: it matches {REV1}, {REV2}"
        )),
        "{o}"
    );
    let o = p.fails(2, &["upgrade", "nosuchrev"]);
    assert!(o.stderr.contains("unknown revision nosuchrev"), "{o}");
    let o = p.fails(2, &["downgrade", "2026"]);
    assert!(o.stderr.contains("revision 2026 is ambiguous"), "{o}");

    // downgrade to a prefix keeps that revision applied
    let o = p.ok(&["downgrade", "20260101_000001"]);
    assert!(o.stdout.starts_with("reverted 1 migration(s)"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));
    assert_eq!(
        p.ok(&["show", "20260101_000002"]).stdout.lines().next(),
        Some(&*format!("revision: {REV2}"))
    );
}

#[test]
fn branches_and_merge() {
    let p = Project::new("branches");
    p.models(USERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    let a = "20260101_000002_branch_a";
    let b = "20260101_000003_branch_b";
    let m = "20260101_000005_merge";
    p.ok_at(
        2,
        &["revision", "-m", "branch a", "--head", "20260101_000001"],
    );
    p.ok_at(3, &["revision", "-m", "branch b", "--head", REV1]);
    for (id, table) in [(a, "branch_a"), (b, "branch_b")] {
        p.append(
            &format!("migrations/{id}/up.sql"),
            &format!("CREATE TABLE public.{table} (id integer);\n"),
        );
        p.append(
            &format!("migrations/{id}/down.sql"),
            &format!("DROP TABLE public.{table};\n"),
        );
    }
    let o = p.ok(&["hash"]);
    assert!(
        o.stdout.contains("rewrote retort.sum for 3 migration(s)"),
        "{o}"
    );

    let o = p.ok(&["heads"]);
    assert_eq!(o.stdout, format!("{a} (head)\n{b} (head)\n"));
    let o = p.ok(&["branches"]);
    assert!(o.stdout.contains(&format!("{REV1} (branchpoint)")), "{o}");
    assert!(
        o.stdout.contains(&format!("-> {a}")) && o.stdout.contains(&format!("-> {b}")),
        "{o}"
    );

    let entries = p.migration_entries();
    let o = p.run_at(4, &["revision", "-m", "x"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("there are 2 heads"), "{o}");
    assert!(o.stderr.contains(&format!("retort merge {a} {b}")), "{o}");
    assert_eq!(p.migration_entries(), entries);

    let o = p.fails(2, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!("there are 2 heads ({a}, {b})")),
        "{o}"
    );
    assert!(o.stderr.contains("upgrade to `heads`"), "{o}");
    assert!(!p.exists("public.users"));

    let o = p.ok(&["upgrade", "heads"]);
    assert!(o.stdout.starts_with("applied 3 migration(s)"), "{o}");
    assert!(p.exists("public.branch_a") && p.exists("public.branch_b"));
    assert_eq!(
        p.ok(&["current"]).stdout,
        format!("{a} (head)\n{b} (head)\n")
    );

    let o = p.ok_at(
        5,
        &["merge", "20260101_000002", "20260101_000003", "-m", "merge"],
    );
    assert!(o.stdout.starts_with("created merge revision "), "{o}");
    assert!(o.stdout.contains(&format!("migrations/{m}")), "{o}");
    let up = p.read(&format!("migrations/{m}/up.sql"));
    assert!(up.contains(&format!("-- retort:revises {a} {b}\n")), "{up}");
    assert_eq!(p.ok(&["heads"]).stdout, format!("{m} (head)\n"));

    let o = p.ok(&["upgrade", "head"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert!(
        o.stderr
            .contains(&format!("Running upgrade {a}, {b} -> {m}")),
        "{o}"
    );
    assert_eq!(p.ok(&["current"]).stdout, format!("{m} (head)\n"));
    let o = p.ok(&["history"]);
    assert_eq!(
        o.stdout.lines().next(),
        Some(&*format!("{a}, {b} -> {m} (head), merge"))
    );
    assert!(
        o.stdout.contains(&format!("base -> {REV1}, create users")),
        "{o}"
    );
    assert_eq!(o.stdout.lines().count(), 4, "{o}");

    let o = p.ok(&["downgrade", "-1"]);
    assert!(o.stdout.starts_with("reverted 1 migration(s)"), "{o}");
    assert!(
        o.stderr
            .contains(&format!("Running downgrade {m} -> {a}, {b}")),
        "{o}"
    );
    assert_eq!(p.ok(&["current"]).stdout, format!("{a}\n{b}\n"));
    assert!(p.exists("public.branch_a") && p.exists("public.branch_b"));
    p.ok(&["downgrade", "base"]);
    assert!(!p.exists("public.branch_a") && !p.exists("public.users"));
}

#[test]
fn offline_sql() {
    let p = Project::new("offline");
    two_revisions(&p);
    let offline = |args: &[&str]| {
        let o = retort(p.dir.path(), &[("DATABASE_URL", UNREACHABLE_URL)], args);
        assert_eq!(o.code, 0, "retort {args:?}:\n{o}");
        o.stdout
    };
    let out = offline(&["upgrade", "base:head", "--sql"]);
    assert!(out.contains("BEGIN;") && out.contains("COMMIT;"), "{out}");
    assert!(
        out.contains(&format!(
            "INSERT INTO \"public\".\"retort_version\" (revision, checksum) VALUES ('{REV1}', 'h1:"
        )),
        "{out}"
    );
    assert!(out.contains("CREATE TABLE public.users ("), "{out}");
    assert!(
        !out.contains("/tmp") && !out.contains("retort-wf-"),
        "{out}"
    );
    // Without FROM and without a reachable database there is no starting point: an error that
    // names the explicit range to use, never a script that silently starts at base or head.
    for (args, hint) in [
        (
            &["upgrade", "head", "--sql"][..],
            "retort upgrade base:head --sql",
        ),
        (
            &["downgrade", "-1", "--sql"][..],
            "retort downgrade head:base --sql",
        ),
    ] {
        let o = retort(p.dir.path(), &[("DATABASE_URL", UNREACHABLE_URL)], args);
        assert_eq!(o.code, 2, "{o}");
        assert!(o.stdout.is_empty(), "{o}");
        assert!(
            o.stderr
                .contains("cannot know which revision to start from"),
            "{o}"
        );
        assert!(o.stderr.contains(hint), "{o}");
    }

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("cli__upgrade_sql", out));

    // one step from REV1, and back down to base
    let step = offline(&["upgrade", &format!("{REV1}:head"), "--sql"]);
    assert!(!step.contains("CREATE TABLE public.users"), "{step}");
    assert!(
        step.contains(&format!(
            "UPDATE \"public\".\"retort_version\" SET revision = '{REV2}', applied_at = now(), \
             checksum = 'h1:"
        )),
        "{step}"
    );
    let down = offline(&["downgrade", "head:base", "--sql"]);
    assert!(down.contains("DROP TABLE public.users;"), "{down}");
    assert!(
        down.contains("ALTER TABLE public.users DROP COLUMN bio;"),
        "{down}"
    );
    assert!(
        down.contains(&format!(
            "DELETE FROM \"public\".\"retort_version\" WHERE revision IN ('{REV1}');"
        )),
        "{down}"
    );
    // nothing ran anywhere
    assert!(!p.exists("public.users"));
}

#[test]
fn edited_migration_is_refused() {
    let p = Project::new("tamper");
    two_revisions(&p);
    p.ok(&["upgrade", REV1]);
    p.append(&format!("migrations/{REV1}/up.sql"), "SELECT 1;\n");

    let o = p.fails(2, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!(
            "{REV1}/up.sql: it was edited after retort.sum was written"
        )),
        "{o}"
    );
    assert!(o.stderr.contains("--allow-edited"), "{o}");
    assert!(!p.has_column("users", "bio"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));

    // check reports it as a problem too
    let o = p.fails(1, &["check"]);
    assert!(
        o.stdout
            .contains(&format!("problem: {REV1}/up.sql: it was edited")),
        "{o}"
    );

    // Nothing pending: the edit is still refused, not silently ignored.
    let o = p.fails(2, &["downgrade", "-1"]);
    assert!(o.stderr.contains(&format!("{REV1}/up.sql")), "{o}");

    // --allow-edited overrides, and the applied content is recorded in retort.sum.
    let o = p.ok(&["upgrade", "head", "--allow-edited"]);
    assert!(o.stdout.starts_with("applied 1 migration(s)"), "{o}");
    assert!(
        o.stdout.contains("recorded 1 edited file(s) in retort.sum"),
        "{o}"
    );
    assert!(p.has_column("users", "bio"));
    p.ok(&["downgrade", "-1"]);
    p.ok(&["check"]);
}

#[test]
fn edited_applied_migration_is_refused_even_with_nothing_pending() {
    let p = Project::new("tamper_idle");
    two_revisions(&p);
    p.ok(&["upgrade", "head"]);
    p.append(&format!("migrations/{REV1}/up.sql"), "SELECT 1;\n");
    let o = p.fails(2, &["upgrade", "head"]);
    assert!(
        o.stderr.contains(&format!(
            "{REV1}/up.sql: it was edited after retort.sum was written"
        )),
        "{o}"
    );
}

#[test]
fn failing_migration_rolls_back() {
    let p = Project::new("failing");
    p.models(USERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    p.ok(&["upgrade", "head"]);
    let broken = "20260101_000002_broken";
    let o = p.ok_at(2, &["revision", "-m", "broken"]);
    assert!(o.stdout.contains(broken), "{o}");
    let up = format!("migrations/{broken}/up.sql");
    let header_lines = p.read(&up).lines().count();
    p.append(
        &up,
        "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int);\n\nSELECT * FROM missing_table;\n",
    );

    // Filling a pending `revision -m` migration by hand is the normal workflow: no refusal.
    let o = p.fails(1, &["upgrade", "head"]);
    let line = header_lines + 5;
    assert!(o.stderr.contains(&format!("migration {broken} (")), "{o}");
    assert!(
        o.stderr
            .contains(&format!("{broken}/up.sql:{line}): statement 3 failed")),
        "{o}"
    );
    assert!(
        o.stderr
            .contains("relation \"missing_table\" does not exist (SQLSTATE 42P01)"),
        "{o}"
    );
    assert!(o.stderr.contains("  SELECT * FROM missing_table"), "{o}");
    assert!(!p.exists("public.a") && !p.exists("public.b"));
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));
}

#[test]
fn bad_models_are_reported_with_locations() {
    let p = Project::new("badmodels");
    let cases: [(&str, &str, &str); 5] = [
        (
            "unknown type",
            "#[derive(Table)]\npub struct Account {\n    #[column(primary_key)]\n    pub id: i64,\n    \
             pub balance: Money,\n}\n",
            "src/models.rs:5:18: unknown Rust type `Money` for column `account.balance`",
        ),
        (
            "unknown attribute key",
            "#[derive(Table)]\npub struct Account {\n    #[column(primary_key, nullabel)]\n    \
             pub id: i64,\n}\n",
            "src/models.rs:3:27: unknown attribute key `nullabel` in #[column]",
        ),
        (
            "syntax error",
            "#[derive(Table)]\npub struct Account {\n    pub id i64,\n}\n",
            "src/models.rs:3:12: expected `:`",
        ),
        (
            "duplicate table",
            "#[derive(Table)]\n#[table(name = \"accounts\")]\npub struct Account {\n    \
             #[column(primary_key)]\n    pub id: i64,\n}\n\n#[derive(Table)]\n\
             #[table(name = \"accounts\")]\npub struct Ledger {\n    #[column(primary_key)]\n    \
             pub id: i64,\n}\n",
            "src/models.rs:10:12: duplicate table `public.accounts`; first declared at src/models.rs:3:12",
        ),
        (
            "fk to unknown column",
            "#[derive(Table)]\n#[table(name = \"users\")]\npub struct User {\n    \
             #[column(primary_key)]\n    pub id: i64,\n}\n\n#[derive(Table)]\n\
             #[table(name = \"posts\")]\npub struct Post {\n    #[column(primary_key)]\n    \
             pub id: i64,\n    #[column(references = \"users.uid\")]\n    pub author_id: i64,\n}\n",
            "src/models.rs:13:14: foreign key `posts.author_id` references unknown column `public.users.uid`",
        ),
    ];
    for (name, models, expected) in cases {
        p.models(models);
        for args in [
            &["inspect", "--models"][..],
            &["diff"],
            &["revision", "--autogenerate", "-m", "bad"],
        ] {
            let o = p.run_at(1, args);
            assert_eq!(o.code, 2, "{name}: retort {args:?}:\n{o}");
            assert!(
                o.stderr.contains("cannot read the models"),
                "{name}: {args:?}:\n{o}"
            );
            assert!(
                o.stderr.lines().any(|l| l.starts_with(expected)),
                "{name}: {args:?}: expected a line starting with `{expected}`:\n{o}"
            );
        }
    }
    assert!(
        p.migration_entries().is_empty(),
        "{:?}",
        p.migration_entries()
    );
}

#[test]
fn configuration_errors() {
    // no retort.toml here
    let empty = tempfile::tempdir().unwrap();
    let o = retort(empty.path(), &[], &["current"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("no retort.toml found"), "{o}");
    assert!(o.stderr.contains("retort init"), "{o}");

    let p = Project::new("config");
    p.models(USERS);
    // ${DATABASE_URL} in retort.toml but the variable is not set
    let o = retort(p.dir.path(), &[], &["current"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr
            .contains("environment variable `DATABASE_URL` used in retort.toml is not set"),
        "{o}"
    );
    // nothing listens there
    for args in [&["current"][..], &["upgrade", "head"], &["diff"]] {
        let o = retort(p.dir.path(), &[("DATABASE_URL", UNREACHABLE_URL)], args);
        assert_eq!(o.code, 2, "{args:?}: {o}");
        assert!(
            o.stderr.contains("cannot connect to the database at"),
            "{o}"
        );
    }
    // --database-url is used
    let o = retort(
        p.dir.path(),
        &[("DATABASE_URL", "")],
        &["--database-url", &p.db.url, "current"],
    );
    assert_eq!(o.code, 0, "{o}");
    // an unknown key in retort.toml
    p.write("retort.toml", &format!("{RETORT_TOML}[extra]\nx = 1\n"));
    let o = p.fails(2, &["current"]);
    assert!(o.stderr.contains("retort.toml"), "{o}");
    assert!(o.stderr.contains("extra"), "{o}");
    p.write("retort.toml", RETORT_TOML);

    // the version table names a revision without a migration file
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    p.ok(&["upgrade", "head"]);
    let ghost = "20250101_000000_ghost";
    p.client()
        .execute(
            "INSERT INTO retort_version (revision) VALUES ($1)",
            &[&ghost],
        )
        .unwrap();
    for args in [&["upgrade", "head"][..], &["downgrade", "-1"]] {
        let o = p.fails(2, args);
        assert!(
            o.stderr.contains(&format!(
                "database is at revision {ghost} which has no migration file"
            )),
            "{o}"
        );
        assert!(o.stderr.contains("retort stamp"), "{o}");
    }
}

#[test]
fn json_output() {
    let p = Project::new("json");
    p.models(USERS);
    p.ok_at(1, &["revision", "--autogenerate", "-m", "create users"]);
    p.ok(&["upgrade", "head"]);
    p.client()
        .batch_execute("CREATE TABLE public.tags (id bigint PRIMARY KEY, legacy text)")
        .unwrap();

    let o = p.ok(&["inspect", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("inspect prints JSON");
    assert_eq!(v["format_version"], 1, "{o}");
    let mut tables: Vec<&str> = v["catalog"]["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tables"].as_array().unwrap())
        .map(|t| t["name"]["name"].as_str().unwrap())
        .collect();
    tables.sort();
    assert_eq!(tables, ["tags", "users"], "{o}");

    // the models have `tags` without its `legacy` column
    p.models(&format!(
        "{USERS}\n#[derive(Table)]\n#[table(name = \"tags\")]\npub struct Tag {{\n    \
         #[column(primary_key)]\n    pub id: i64,\n}}\n"
    ));
    let o = p.ok(&["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("diff prints JSON");
    assert_eq!(v["format_version"], 1, "{o}");
    let changes = v["changes"].as_array().expect("changes is an array");
    assert_eq!(changes.len(), 1, "{o}");
    assert_eq!(changes[0]["change"], "drop_column", "{o}");
    assert_eq!(changes[0]["column"]["name"], "legacy", "{o}");
    let hazards = v["hazards"].as_array().expect("hazards is an array");
    assert_eq!(hazards.len(), 1, "{o}");
    assert_eq!(hazards[0]["kind"], "data_loss", "{o}");
    assert!(
        hazards[0]["message"]
            .as_str()
            .unwrap()
            .contains("public.tags.legacy"),
        "{o}"
    );
    assert!(
        v["up"].as_str().unwrap().contains("-- WARNING (data loss)"),
        "{o}"
    );

    // no changes: empty arrays
    p.client()
        .batch_execute("ALTER TABLE public.tags DROP COLUMN legacy")
        .unwrap();
    let o = p.ok(&["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["changes"], serde_json::json!([]), "{o}");
    assert_eq!(v["hazards"], serde_json::json!([]), "{o}");
}

#[test]
fn read_only_commands_need_no_database_and_change_nothing() {
    let p = Project::new("readonly");
    two_revisions(&p);
    // No DATABASE_URL at all: commands that read only the files still work.
    for args in [
        &["history"][..],
        &["heads"],
        &["branches"],
        &["upgrade", "base:head", "--sql"],
    ] {
        let o = retort(p.dir.path(), &[], args);
        assert_eq!(o.code, 0, "retort {args:?} without a database:\n{o}");
    }
    // Printing SQL or the current revision never creates the version table.
    p.client()
        .batch_execute("DROP TABLE public.retort_version")
        .unwrap();
    p.ok(&["upgrade", "head", "--sql"]);
    p.ok(&["current"]);
    assert!(!p.exists("public.retort_version"));
    // An offline downgrade from a database at base has nothing to revert.
    let o = p.run(&["downgrade", "-1", "--sql"]);
    assert_eq!(o.code, 2, "{o}");
}

/// Runs `check --format json` and returns the parsed output (without the run-specific noise).
fn check_json(p: &Project, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let o = p.run(&args);
    let v: serde_json::Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("check --format json is not JSON ({e}):\n{o}"));
    (o.code, v)
}

#[test]
fn check_passes_on_a_clean_project_and_fails_on_drift_heads_and_edits() {
    let p = Project::new("check_ci");
    two_revisions(&p);
    // Clean: models equal what the migrations build (on a scratch database; this one is at base).
    let (code, v) = check_json(&p, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);

    // A model field without a migration: exit 1, and the JSON names the model's file and line.
    p.models(&users_with_bio().replace(
        "    pub bio: Option<String>,\n",
        "    pub bio: Option<String>,\n    pub age: Option<i32>,\n",
    ));
    let (code, v) = check_json(&p, &[]);
    assert_eq!(code, 1);
    insta::with_settings!({
        snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_json_snapshot!("cli__check_json_drift", v);
    });
    p.models(&users_with_bio());

    // Two heads: exit 1 with a problem that suggests merge.
    p.ok_at(3, &["revision", "-m", "side branch", "--head", REV1]);
    let (code, v) = check_json(&p, &[]);
    assert_eq!(code, 1);
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("several heads") && problems.contains("retort merge"),
        "{v}"
    );
    std::fs::remove_dir_all(p.path("migrations/20260101_000003_side_branch")).unwrap();
    p.ok(&["hash"]);
    assert_eq!(check_json(&p, &[]).0, 0);

    // An edited migration: exit 1 naming the file.
    p.append(&format!("migrations/{REV1}/up.sql"), "SELECT 1;\n");
    let (code, v) = check_json(&p, &[]);
    assert_eq!(code, 1);
    assert!(
        v["problems"]
            .to_string()
            .contains(&format!("{REV1}/up.sql")),
        "{v}"
    );
}

#[test]
fn verify_passes_and_pinpoints_a_down_that_does_not_undo_its_up() {
    let p = Project::new("verify");
    two_revisions(&p);
    let o = p.ok(&["verify"]);
    assert!(o.stdout.contains("verified 2 migration(s)"), "{o}");

    // Break REV2's down: it no longer drops the column it added.
    let down = format!("migrations/{REV2}/down.sql");
    let header: String = p
        .read(&down)
        .lines()
        .take_while(|l| l.starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    p.write(&down, &format!("{header}\nSELECT 1;\n"));
    p.ok(&["hash"]);
    let o = p.run(&["verify"]);
    assert_eq!(o.code, 1, "{o}");
    assert!(
        o.stdout
            .contains(&format!("down of {REV2} does not undo its up")),
        "{o}"
    );
    assert!(
        o.stdout
            .contains("ALTER TABLE public.users DROP COLUMN bio"),
        "{o}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_name() == "target" {
            continue;
        }
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The CI guard on the bundled example project: its committed migrations build exactly what its
/// models say, and every down undoes its up.
#[test]
fn example_project_passes_check_and_verify() {
    let db = TestDb::create("wf_example").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/blog");
    copy_tree(&example, dir.path());
    let env = [("DATABASE_URL", db.url.as_str())];
    for args in [
        &["check"][..],
        &["verify"],
        &["upgrade", "head"],
        &["check", "--live"],
    ] {
        let o = retort(dir.path(), &env, args);
        assert_eq!(o.code, 0, "retort {args:?} on examples/blog:\n{o}");
    }
}

/// "Table already exists": a change made by hand is adopted with `stamp --verify`, which refuses
/// when the live schema is not what the migrations build.
#[test]
fn stamp_verify_adopts_matching_schema_and_refuses_others() {
    let p = Project::new("stamp_verify");
    two_revisions(&p);
    // Someone ran REV1's SQL by hand.
    let body = p.read(&format!("migrations/{REV1}/up.sql"));
    p.client().batch_execute(&body).unwrap();
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");

    let o = p.run(&["stamp", REV2, "--verify"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains(&format!("refusing to stamp {REV2}")),
        "{o}"
    );
    assert!(o.stderr.contains("ADD COLUMN bio"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, "base (no migration applied)\n");

    let o = p.ok(&["stamp", REV1, "--verify"]);
    assert!(o.stdout.contains("verified"), "{o}");
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV1}\n"));
    p.ok(&["upgrade", "head"]);
    assert!(p.has_column("users", "bio"));
}

#[test]
fn unmanaged_objects_and_missing_extensions_are_reported() {
    let p = Project::new("notes");
    p.client()
        .batch_execute(
            "CREATE TABLE bookings (id bigint PRIMARY KEY, span int4range NOT NULL, \
             CONSTRAINT bookings_no_overlap EXCLUDE USING gist (span WITH &&))",
        )
        .unwrap();
    p.models(
        r#"#[derive(Table)]
#[table(name = "bookings")]
pub struct Booking {
    #[column(primary_key)]
    pub id: i64,
    #[column(type = "int4range")]
    pub span: String,
    #[column(type = "citext")]
    pub guest: Option<String>,
}
"#,
    );
    let o = p.ok(&["diff"]);
    assert!(
        o.stderr.contains(
            "note: exclusion constraint bookings_no_overlap on public.bookings (EXCLUDE USING gist (span WITH &&)) is not managed by Retort"
        ),
        "{o}"
    );
    assert!(
        o.stderr.contains("CREATE EXTENSION IF NOT EXISTS citext"),
        "{o}"
    );
    // The exclusion constraint is never dropped.
    assert!(!o.stdout.contains("bookings_no_overlap"), "{o}");
    assert!(o.stdout.contains("ADD COLUMN guest citext"), "{o}");
}

/// Adopting Retort on a database that already has its tables: a baseline revision of the whole
/// schema, stamped after verification, then the normal workflow.
#[test]
fn baseline_adopts_an_existing_database() {
    let p = Project::new("baseline");
    p.models(USERS);
    p.client()
        .batch_execute(
            "CREATE TABLE users (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text NOT NULL)",
        )
        .unwrap();
    let o = p.ok_at(1, &["revision", "--baseline", "-m", "baseline"]);
    assert!(
        o.stdout.contains("stamp 20260101_000001_baseline --verify"),
        "{o}"
    );
    assert!(p
        .read("migrations/20260101_000001_baseline/up.sql")
        .contains("CREATE TABLE public.users"));
    p.ok(&["stamp", "head", "--verify"]);
    p.ok(&["check", "--live"]);
    p.models(&users_with_bio());
    p.ok_at(2, &["revision", "--autogenerate", "-m", "add bio"]);
    p.ok(&["upgrade", "head"]);
    assert!(p.has_column("users", "bio"));
}

/// The database URL can come from a `.env` file next to retort.toml; the environment wins over it.
#[test]
fn dotenv_supplies_the_database_url() {
    let p = Project::new("dotenv");
    p.models(USERS);
    p.write(
        ".env",
        &format!("# local settings\nDATABASE_URL=\"{}\"\n", p.db.url),
    );
    let o = retort(p.dir.path(), &[], &["diff"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("CREATE TABLE public.users"), "{o}");
    let o = retort(
        p.dir.path(),
        &[(
            "DATABASE_URL",
            "postgres://nobody@/nowhere?host=/nonexistent",
        )],
        &["diff"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("cannot connect"), "{o}");
}

#[test]
fn history_range_lists_only_the_revisions_between() {
    let p = Project::new("history_range");
    two_revisions(&p);
    let o = p.ok(&["history", "-r", &format!("{REV2}:head")]);
    assert!(
        o.stdout.contains(REV2) && !o.stdout.contains("base ->"),
        "{o}"
    );
    let o = p.ok(&["history", "-r", &format!("base:{REV1}")]);
    assert_eq!(o.stdout.lines().count(), 1, "{o}");
    assert!(o.stdout.starts_with(&format!("base -> {REV1}")), "{o}");
    let o = p.run(&["history", "-r", "nonsense"]);
    assert_eq!(o.code, 2, "{o}");
}

/// Two `retort upgrade head` processes started together: the advisory lock serialises them and
/// each migration runs exactly once.
#[test]
fn concurrent_upgrade_processes_apply_each_migration_once() {
    let p = Project::new("concurrent_cli");
    two_revisions(&p);
    // Each migration also logs itself, so double application would show.
    p.client()
        .batch_execute("CREATE TABLE applied_log (revision text)")
        .unwrap();
    for rev in [REV1, REV2] {
        p.append(
            &format!("migrations/{rev}/up.sql"),
            &format!("INSERT INTO applied_log VALUES ('{rev}');\n"),
        );
    }
    p.ok(&["hash"]);
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_retort"))
            .args(["upgrade", "head"])
            .current_dir(p.dir.path())
            .env("DATABASE_URL", &p.db.url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows: Vec<String> = p
        .client()
        .query("SELECT revision FROM applied_log ORDER BY revision", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, [REV1, REV2]);
    assert_eq!(p.ok(&["current"]).stdout, format!("{REV2} (head)\n"));
}
