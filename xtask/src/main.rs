//! Developer tasks: `cargo xtask test` runs the suite against a throwaway PostgreSQL,
//! `cargo xtask pg` starts one and prints its URL, `cargo xtask demo` runs the README demo,
//! `cargo xtask bench` times the engine on synthetic schemas (see `bench.rs`).

mod bench;

use anyhow::{bail, Context, Result};
use retort_testkit::PgCluster;
use std::process::Command;

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map(|(t, r)| (t.as_str(), r))
        .unwrap_or(("help", &[]));
    match task {
        "test" => test(rest),
        "pg" => pg(),
        "demo" => demo(rest),
        "bench" => bench::bench(rest),
        "bench-inner" => bench::bench_inner(rest),
        "bench-mem" => bench::bench_mem(rest),
        _ => {
            println!("cargo xtask test [ARGS..]  run `cargo test --workspace` against a throwaway PostgreSQL (DATABASE_URL wins)");
            println!("cargo xtask pg             start a throwaway PostgreSQL, print its URL, stop it on Enter");
            println!("cargo xtask demo           autogenerate and apply the bundled example models on a throwaway PostgreSQL");
            println!("cargo xtask bench [--tables N[,N..]] [--runs R] [--smoke]");
            println!("                           time models, introspection, diff and render on synthetic schemas (release build)");
            Ok(())
        }
    }
}

/// Starts a cluster unless the user gave `DATABASE_URL`; returns the guard and the server URL.
/// The shadow databases (`[shadow] url = "auto"`) that `check` and `verify` start during a run:
/// in a directory of their own (unless `RETORT_SHADOW_DIR` is set), stopped and removed after it.
struct ShadowDir(Option<std::path::PathBuf>);

impl ShadowDir {
    fn new(what: &str) -> ShadowDir {
        if std::env::var_os("RETORT_SHADOW_DIR").is_some() {
            return ShadowDir(None);
        }
        let dir = std::env::temp_dir().join(format!("retort-{what}-shadow-{}", std::process::id()));
        ShadowDir(Some(dir))
    }

    /// The run's shadow directory, and its cache of scratch results next to it (unless
    /// `RETORT_CACHE_DIR` is set), so no run reads another's.
    fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut env: Vec<_> = self
            .0
            .iter()
            .map(|d| ("RETORT_SHADOW_DIR", d.clone().into_os_string()))
            .collect();
        if let (Some(cache), None) = (self.cache(), std::env::var_os("RETORT_CACHE_DIR")) {
            env.push(("RETORT_CACHE_DIR", cache.into_os_string()));
        }
        env
    }

    fn cache(&self) -> Option<std::path::PathBuf> {
        let d = self.0.as_ref()?;
        Some(d.with_file_name(format!("{}-cache", d.file_name()?.to_string_lossy())))
    }
}

impl Drop for ShadowDir {
    fn drop(&mut self) {
        if let Some(cache) = self.cache() {
            let _ = std::fs::remove_dir_all(cache);
        }
        if let Some(dir) = self.0.take() {
            let opts = retort_shadow::ShadowOptions {
                dir: Some(dir.clone()),
                ..Default::default()
            };
            if let Err(e) = retort_shadow::Shadow::stop(&opts) {
                eprintln!(
                    "xtask: stopping the shadow database in {}: {e:#}",
                    dir.display()
                );
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn server() -> Result<(Option<PgCluster>, String)> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        eprintln!("xtask: using DATABASE_URL from the environment");
        return Ok((None, url));
    }
    let started = std::time::Instant::now();
    let cluster = PgCluster::start().context("starting a throwaway PostgreSQL")?;
    let url = cluster.url("postgres");
    eprintln!(
        "xtask: throwaway PostgreSQL up in {:.1}s at {url}",
        started.elapsed().as_secs_f64()
    );
    Ok((Some(cluster), url))
}

/// The pooler tests need PgBouncer: on a fresh Debian machine install it (as root, with apt-get);
/// where that is impossible the tests say loudly that they were skipped.
fn ensure_pgbouncer() {
    if retort_testkit::pgbouncer_bin().is_some() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!("xtask: pgbouncer is not installed and this is not root: the pooler tests will be skipped");
        return;
    }
    eprintln!("xtask: installing pgbouncer (apt-get) for the pooler tests");
    let quiet = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = quiet(&["install", "-y", "-q", "pgbouncer"])
        || (quiet(&["update", "-q"]) && quiet(&["install", "-y", "-q", "pgbouncer"]));
    if !installed {
        eprintln!("xtask: could not install pgbouncer: the pooler tests will be skipped");
    }
}

fn test(extra: &[String]) -> Result<()> {
    ensure_pgbouncer();
    let (mut cluster, url) = server()?;
    // `-p CRATE` narrows the run; without it the whole workspace is tested.
    let narrowed = extra
        .iter()
        .any(|a| a == "-p" || a == "--package" || a.starts_with("--package="));
    let scope: &[&str] = if narrowed { &[] } else { &["--workspace"] };
    let shadow = ShadowDir::new("test");
    let status = Command::new(env!("CARGO"))
        .args(["test", "--no-fail-fast"])
        .args(scope)
        .args(extra)
        .env("DATABASE_URL", &url)
        .envs(shadow.env())
        .status();
    drop(shadow);
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    let status = status.context("running cargo test")?;
    if !status.success() {
        bail!("tests failed");
    }
    Ok(())
}

fn pg() -> Result<()> {
    let (mut cluster, url) = server()?;
    println!("{url}");
    eprintln!("xtask: press Enter to stop the server");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    Ok(())
}

fn demo(extra: &[String]) -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--package", "retort"])
        .current_dir(&root)
        .status()
        .context("building retort")?;
    if !status.success() {
        bail!("building retort failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let bin = target.join("debug").join("retort");
    // Work on a copy of the example so the demo never writes into the repository.
    let work = tempfile_dir()?;
    let example = root.join("examples").join("blog");
    copy_dir(&example, &work)?;
    let (mut cluster, url) = server()?;
    let shadow = ShadowDir::new("demo");
    // The daily workflow of the README, on the bundled example.
    let steps: Vec<DemoStep> = vec![
        DemoStep::Run(&["current"]),
        DemoStep::Run(&["revision", "--autogenerate", "-m", "initial schema"]),
        DemoStep::ShowNewest,
        DemoStep::Run(&["upgrade", "head"]),
        DemoStep::Run(&["current", "--verbose"]),
        DemoStep::AddBio,
        DemoStep::Run(&["check"]),
        DemoStep::Run(&["revision", "--autogenerate", "-m", "add user bio"]),
        DemoStep::ShowNewest,
        DemoStep::Run(&["upgrade", "head", "--sql"]),
        DemoStep::Run(&["upgrade", "head"]),
        DemoStep::Run(&["downgrade", "-1"]),
        DemoStep::Run(&["upgrade", "head"]),
        DemoStep::Run(&["check"]),
        DemoStep::Run(&["verify"]),
        DemoStep::Run(&["history"]),
    ];
    let mut result = Ok(());
    for step in steps {
        if let Err(e) = demo_step(&step, &bin, &url, &work, extra, &shadow) {
            result = Err(e);
            break;
        }
    }
    drop(shadow);
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    let _ = std::fs::remove_dir_all(&work);
    result
}

enum DemoStep {
    /// Run `retort` with these arguments.
    Run(&'static [&'static str]),
    /// Print the newest migration's files, as a reviewer reads them.
    ShowNewest,
    /// Edit the models like a developer would: add `users.bio`.
    AddBio,
}

fn demo_step(
    step: &DemoStep,
    bin: &std::path::Path,
    url: &str,
    work: &std::path::Path,
    extra: &[String],
    shadow: &ShadowDir,
) -> Result<()> {
    match step {
        DemoStep::Run(args) => {
            println!("\n$ retort {}", args.join(" "));
            let st = Command::new(bin)
                .args(args.iter())
                .args(extra)
                .env("DATABASE_URL", url)
                .envs(shadow.env())
                .current_dir(work)
                .status()?;
            // `check` exits 1 on purpose while the models are ahead of the migrations.
            let expected = if args[0] == "check" && !st.success() {
                st.code() == Some(1)
            } else {
                st.success()
            };
            if !expected {
                bail!("`retort {}` exited with {st}", args.join(" "));
            }
        }
        DemoStep::ShowNewest => {
            let mut dirs: Vec<_> = std::fs::read_dir(work.join("migrations"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            if let Some(dir) = dirs.last() {
                for file in ["up.sql", "down.sql"] {
                    println!(
                        "\n--- migrations/{}/{file}",
                        dir.file_name().unwrap_or_default().to_string_lossy()
                    );
                    print!("{}", std::fs::read_to_string(dir.join(file))?);
                }
            }
        }
        DemoStep::AddBio => {
            let path = work.join("src").join("models.rs");
            let text = std::fs::read_to_string(&path)?;
            let edited = text.replacen(
                "    pub display_name: Option<String>,\n",
                "    pub display_name: Option<String>,\n    pub bio: Option<String>,\n",
                1,
            );
            if edited == text {
                bail!("the demo could not find `display_name` in examples/blog/src/models.rs");
            }
            std::fs::write(&path, edited)?;
            println!("\n# edit src/models.rs: add `pub bio: Option<String>` to User");
        }
    }
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("retort-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == "migrations" {
            continue;
        }
        let src = entry.path();
        if src.is_dir() {
            copy_dir(&src, &to.join(&name))?;
        } else {
            std::fs::copy(&src, to.join(&name))?;
        }
    }
    std::fs::create_dir_all(to.join("migrations"))?;
    Ok(())
}
