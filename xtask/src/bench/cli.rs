//! The commands as users run them: `retort` processes timed whole (start-up, config, connection,
//! canonicalisation through scratch databases, replay), with the scratch cache off and warm.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One timed command: what it runs, where, and how it is judged.
struct Case {
    key: &'static str,
    label: &'static str,
    /// `a` (models equal to the database) or `b` (changed models).
    project: &'static str,
    args: &'static [&'static str],
    /// The exit code it must end with.
    code: i32,
}

const CASES: [Case; 5] = [
    Case {
        key: "diff_a",
        label: "diff (a)",
        project: "a",
        args: &["diff", "--format", "json"],
        code: 0,
    },
    Case {
        key: "diff_b",
        label: "diff (b)",
        project: "b",
        args: &["diff", "--format", "json", "--allow-mass-drop"],
        code: 0,
    },
    Case {
        key: "check_live_a",
        label: "check --live (a)",
        project: "a",
        args: &["check", "--live"],
        code: 0,
    },
    Case {
        key: "check_a",
        label: "check, migrations replayed (a)",
        project: "a",
        args: &["check"],
        code: 0,
    },
    Case {
        key: "revision_b",
        label: "revision --autogenerate (b)",
        project: "b",
        args: &[
            "revision",
            "--autogenerate",
            "-m",
            "bench",
            "--allow-mass-drop",
        ],
        code: 0,
    },
];

/// Median wall times in ms per case, cache off and warm, and the change counts found.
pub struct CliReport {
    pub rows: Vec<(&'static str, &'static str, Vec<f64>, Vec<f64>)>,
    /// Changes `diff` found in (a) and (b).
    pub changes: (usize, usize),
}

/// The release (or, for tests, debug) `retort` binary next to this one.
pub fn binary() -> Result<PathBuf> {
    if let Some(b) = std::env::var_os("RETORT_BENCH_BIN") {
        return Ok(PathBuf::from(b));
    }
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().map(Path::to_path_buf);
    // Test executables live in target/<profile>/deps.
    while let Some(d) = dir {
        let candidate = d.join("retort");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent().map(Path::to_path_buf);
        if dir.as_ref().is_some_and(|d| d.ends_with("target")) {
            break;
        }
    }
    bail!(
        "no retort binary next to {} (build it: cargo build -p retort)",
        exe.display()
    )
}

/// Writes retort.toml into the model directories `a/` and `b/` of `gen_dir` (database `url`,
/// scratch databases on `server`), gives (a) a migration that builds its models and stamps the
/// database with it, then times every case `runs` times with `RETORT_CACHE=off` and warm.
pub fn run(
    bin: &Path,
    gen_dir: &Path,
    url: &str,
    empty_url: &str,
    server: &str,
    runs: usize,
) -> Result<CliReport> {
    let cache = gen_dir.join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    for p in ["a", "b"] {
        let dir = gen_dir.join(p);
        std::fs::write(
            dir.join("retort.toml"),
            format!(
                "[database]\nurl = \"{url}\"\n[models]\npaths = [\"*.rs\"]\n[migrations]\ndir = \"migrations\"\n[shadow]\nurl = \"{server}\"\n"
            ),
        )?;
        let _ = std::fs::remove_dir_all(dir.join("migrations"));
    }
    let a = gen_dir.join("a");
    let retort = |dir: &Path, env: &[(&str, &str)], args: &[&str]| -> Result<(i32, String, f64)> {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env("RETORT_CACHE_DIR", &cache)
            .env("RETORT_NOW", "2026-01-01T00:00:00Z");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let code = out.status.code().unwrap_or(-1);
        if code != 0 && code != 1 {
            bail!(
                "retort {args:?} in {} exited {code}:\n{}{}",
                dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok((
            code,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            wall,
        ))
    };
    // (a)'s migration: its models from nothing, then recorded as applied on the bench database.
    let (code, out, _) = retort(
        &a,
        &[("RETORT_CACHE", "off")],
        &[
            "--database-url",
            empty_url,
            "revision",
            "--autogenerate",
            "-m",
            "base",
        ],
    )?;
    if code != 0 {
        bail!("writing the base revision of (a) failed:\n{out}");
    }
    let (code, out, _) = retort(&a, &[], &["stamp", "head"])?;
    if code != 0 {
        bail!("stamping the bench database failed:\n{out}");
    }
    // (b) shares (a)'s history: the database is at its head, the models moved on.
    let b_migrations = gen_dir.join("b").join("migrations");
    std::fs::create_dir_all(&b_migrations)?;
    for e in std::fs::read_dir(a.join("migrations"))? {
        let e = e?;
        if e.path().is_dir() {
            std::fs::create_dir_all(b_migrations.join(e.file_name()))?;
            for f in std::fs::read_dir(e.path())? {
                let f = f?;
                std::fs::copy(
                    f.path(),
                    b_migrations.join(e.file_name()).join(f.file_name()),
                )?;
            }
        } else {
            std::fs::copy(e.path(), b_migrations.join(e.file_name()))?;
        }
    }

    let mut rows = Vec::new();
    let mut changes = (0, 0);
    for case in &CASES {
        let dir = gen_dir.join(case.project);
        let files = Files::take(&dir)?;
        let mut times = [Vec::new(), Vec::new()];
        let mut outputs: Vec<String> = Vec::new();
        // Cache off first (also fills nothing), then one run to fill the cache, then warm.
        for (i, env) in [&[("RETORT_CACHE", "off")][..], &[][..]]
            .into_iter()
            .enumerate()
        {
            if i == 1 {
                retort(&dir, env, case.args)?;
                files.restore()?;
            }
            for _ in 0..runs {
                let (code, out, wall) = retort(&dir, env, case.args)?;
                files.restore()?;
                if code != case.code {
                    bail!(
                        "retort {:?} in {} exited {code}, not {}:\n{out}",
                        case.args,
                        dir.display(),
                        case.code
                    );
                }
                times[i].push(wall);
                outputs.push(out);
            }
        }
        if case.args[0] == "diff" {
            // What the cache serves must be what the server says: every run the same.
            if outputs.windows(2).any(|w| w[0] != w[1]) {
                bail!(
                    "retort {:?}: the runs with and without the cache differ",
                    case.args
                );
            }
            let v: serde_json::Value = serde_json::from_str(&outputs[0])
                .map_err(|e| anyhow!("retort diff --format json: {e}"))?;
            let n = v["changes"].as_array().map_or(0, Vec::len);
            match case.project {
                "a" => changes.0 = n,
                _ => changes.1 = n,
            }
        }
        let [off, warm] = times;
        rows.push((case.key, case.label, off, warm));
    }
    Ok(CliReport { rows, changes })
}

/// The migrations directory as it was before the timed runs, restored after each (so every
/// `revision` run starts from the same files).
pub struct Files {
    dir: PathBuf,
    entries: Vec<std::ffi::OsString>,
    sum: Vec<u8>,
}

impl Files {
    pub fn take(project: &Path) -> Result<Files> {
        let dir = project.join("migrations");
        Ok(Files {
            entries: Self::list(&dir)?,
            sum: std::fs::read(dir.join("retort.sum")).unwrap_or_default(),
            dir,
        })
    }

    fn list(dir: &Path) -> Result<Vec<std::ffi::OsString>> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        v.sort();
        Ok(v)
    }

    pub fn restore(&self) -> Result<()> {
        for e in Self::list(&self.dir)? {
            if !self.entries.contains(&e) {
                std::fs::remove_dir_all(self.dir.join(&e))?;
            }
        }
        std::fs::write(self.dir.join("retort.sum"), &self.sum)?;
        Ok(())
    }
}
