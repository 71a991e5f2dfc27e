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

fn test(extra: &[String]) -> Result<()> {
    let (mut cluster, url) = server()?;
    let status = Command::new(env!("CARGO"))
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .env("DATABASE_URL", &url)
        .status();
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
    let steps: Vec<Vec<&str>> = vec![
        vec!["current"],
        vec!["revision", "--autogenerate", "-m", "initial schema"],
        vec!["upgrade", "head"],
        vec!["current", "--verbose"],
        vec!["check"],
        vec!["verify"],
        vec!["history"],
    ];
    let mut result = Ok(());
    for step in steps {
        println!("\n$ retort {}", step.join(" "));
        let st = Command::new(&bin)
            .args(&step)
            .args(extra)
            .env("DATABASE_URL", &url)
            .current_dir(&work)
            .status();
        match st {
            Ok(s) if s.success() => {}
            Ok(s) => {
                result = Err(anyhow::anyhow!(
                    "`retort {}` exited with {s}",
                    step.join(" ")
                ));
                break;
            }
            Err(e) => {
                result = Err(e.into());
                break;
            }
        }
        if step[0] == "revision" {
            // Show the generated migration, as a reviewer would read it.
            for entry in std::fs::read_dir(work.join("migrations"))? {
                let dir = entry?.path();
                if dir.is_dir() {
                    println!("\n--- {}/up.sql", dir.display());
                    print!("{}", std::fs::read_to_string(dir.join("up.sql"))?);
                    println!("--- {}/down.sql", dir.display());
                    print!("{}", std::fs::read_to_string(dir.join("down.sql"))?);
                }
            }
        }
    }
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    let _ = std::fs::remove_dir_all(&work);
    result
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
