//! The harness the CLI tests share: runs the `retort` binary in a temp project on its own fresh
//! database and reads what it printed. Every test file includes it with `mod common;`.
#![allow(dead_code)]

use retort_schema::{Catalog, Scope};
use retort_testkit::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A database URL nothing listens on: a unix socket in a directory that does not exist.
pub const UNREACHABLE_URL: &str = "postgres://postgres@/nowhere?host=/nonexistent/retort-wf&port=1";

pub const RETORT_TOML: &str = r#"[database]
url = "${DATABASE_URL}"
[models]
paths = ["src/models.rs"]
[migrations]
dir = "migrations"
[scope]
schemas = ["public"]
"#;

/// What one run of the binary did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
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
pub fn retort(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_retort"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_NOW")
        // CI changes defaults (`--renames error`): tests that need it set it.
        .env_remove("CI");
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
pub fn at(n: u32) -> String {
    format!("2026-01-01T00:00:{n:02}Z")
}

/// A project directory with retort.toml and src/, on its own fresh database.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
}

impl Project {
    pub fn new(name: &str) -> Project {
        let p = Project::bare(name);
        p.write("retort.toml", RETORT_TOML);
        p
    }

    /// Without retort.toml (for `retort init`).
    pub fn bare(name: &str) -> Project {
        let db =
            TestDb::create(&format!("wf_{name}")).expect("test database (is DATABASE_URL set?)");
        let dir = tempfile::Builder::new()
            .prefix("retort-wf-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        Project { dir, db }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn append(&self, rel: &str, text: &str) {
        let mut s = self.read(rel);
        s.push_str(text);
        self.write(rel, &s);
    }

    pub fn models(&self, text: &str) {
        self.write("src/models.rs", text);
    }

    pub fn run(&self, args: &[&str]) -> Out {
        retort(self.dir.path(), &[("DATABASE_URL", &self.db.url)], args)
    }

    /// Runs with RETORT_NOW set to [`at`]`(n)`.
    pub fn run_at(&self, n: u32, args: &[&str]) -> Out {
        let now = at(n);
        retort(
            self.dir.path(),
            &[("DATABASE_URL", &self.db.url), ("RETORT_NOW", &now)],
            args,
        )
    }

    /// Runs and asserts exit 0.
    pub fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, 0, "retort {args:?} failed:\n{o}");
        o
    }

    pub fn ok_at(&self, n: u32, args: &[&str]) -> Out {
        let o = self.run_at(n, args);
        assert_eq!(o.code, 0, "retort {args:?} failed:\n{o}");
        o
    }

    /// Runs and asserts the exit code `code`.
    pub fn fails(&self, code: i32, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, code, "retort {args:?}: unexpected exit code:\n{o}");
        o
    }

    pub fn client(&self) -> postgres::Client {
        self.db.connect().unwrap()
    }

    pub fn exists(&self, relation: &str) -> bool {
        self.client()
            .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&relation])
            .unwrap()
            .get(0)
    }

    pub fn has_column(&self, table: &str, column: &str) -> bool {
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

    pub fn schema(&self) -> Catalog {
        retort::introspect(&mut self.client(), &Scope::default()).unwrap()
    }

    /// The entries of migrations/, sorted, without dotfiles (the `.gitattributes` Retort writes).
    pub fn migration_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path("migrations"))
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}
