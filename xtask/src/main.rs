//! Developer tasks: `cargo xtask test` runs the suite against a throwaway PostgreSQL,
//! `cargo xtask pg` starts one and prints its URL, `cargo xtask demo` runs the README demo.

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
        _ => {
            println!("cargo xtask test [ARGS..]  run `cargo test --workspace` against a throwaway PostgreSQL (DATABASE_URL wins)");
            println!("cargo xtask pg             start a throwaway PostgreSQL, print its URL, stop it on Enter");
            println!("cargo xtask demo           autogenerate and apply the bundled example models on a throwaway PostgreSQL");
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
        .args(["test", "--workspace"])
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
    let (mut cluster, url) = server()?;
    let status = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "retort", "--", "demo"])
        .args(extra)
        .env("DATABASE_URL", &url)
        .status();
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    if !status.context("running retort demo")?.success() {
        bail!("demo failed");
    }
    Ok(())
}
