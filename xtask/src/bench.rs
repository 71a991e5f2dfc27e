//! `cargo xtask bench`: times model reading, introspection, diff and render on synthetic schemas of
//! N tables against a throwaway PostgreSQL, next to the psql floor of the same catalog queries.

mod alembic;
mod cli;
mod synth;

use anyhow::{anyhow, bail, Context, Result};
use retort_schema::{Change, Scope};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const USAGE: &str = "\
cargo xtask bench [--tables N[,N..]] [--runs R] [--smoke] [--no-floor] [--no-cli] [--vs-alembic]

  --tables N[,N..]  schema sizes in tables (default 100,1000; at least 10 each)
  --runs R          timed runs per size after one warm-up run (default 5, at least 1)
  --smoke           50 tables, 1 run, no warm-up, no psql floor: a quick correctness check
  --no-floor        skip timing the catalog queries with psql
  --no-cli          skip timing the retort commands as processes (diff, check --live, check,
                    revision --autogenerate; each with the scratch cache off and warm)
  --vs-alembic      also time Alembic on the same schema (SQLAlchemy metadata generated next to
                    the models; Alembic, SQLAlchemy and psycopg2 installed with pip into
                    target/bench/alembic-venv on first use), paired with Retort's commands; it
                    checks that Alembic finds nothing in (a) and the planted tables in (b).
                    Without Python it says so and runs the rest

Builds and runs the measured code in release mode. Uses DATABASE_URL if set, else starts a
throwaway PostgreSQL. Prints a table per size and writes it to target/bench/bench-<N>.json.";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    tables: Vec<usize>,
    runs: usize,
    smoke: bool,
    floor: bool,
    cli: bool,
    vs_alembic: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        tables: vec![100, 1000],
        runs: 5,
        smoke: false,
        floor: true,
        cli: true,
        vs_alembic: false,
    };
    let mut tables = None;
    let mut runs = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("{name} needs a value\n\n{USAGE}")),
            }
        };
        match flag {
            "--tables" => {
                let v = value("--tables")?;
                let list = v
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        anyhow!("--tables takes numbers separated by commas, not `{v}`")
                    })?;
                if list.is_empty() || list.iter().any(|&n| n < 10) {
                    bail!("--tables: every size must be at least 10");
                }
                tables = Some(list);
            }
            "--runs" => {
                let v = value("--runs")?;
                let r: usize = v
                    .parse()
                    .map_err(|_| anyhow!("--runs takes a number, not `{v}`"))?;
                runs = Some(r.max(1));
            }
            "--smoke" if inline.is_none() => opts.smoke = true,
            "--no-floor" if inline.is_none() => opts.floor = false,
            "--no-cli" if inline.is_none() => opts.cli = false,
            "--vs-alembic" if inline.is_none() => opts.vs_alembic = true,
            _ => bail!("unknown argument `{arg}`\n\n{USAGE}"),
        }
    }
    if opts.vs_alembic && !opts.cli {
        bail!("--vs-alembic compares with the retort commands: it cannot go with --no-cli");
    }
    if opts.smoke {
        opts.tables = vec![50];
        opts.runs = 1;
        opts.floor = false;
    }
    if let Some(t) = tables {
        opts.tables = t;
    }
    if let Some(r) = runs {
        opts.runs = r;
    }
    Ok(opts)
}

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}

/// `cargo xtask bench`: builds xtask in release mode and runs `bench-inner` there, so what is
/// measured is optimised code whatever profile `cargo xtask` itself was built with.
pub fn bench(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    parse(args)?;
    eprintln!("xtask: building the benchmark and retort in release mode");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--package",
            "retort",
            "--bin",
            "retort",
        ])
        .current_dir(root())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("building retort failed");
    }
    let status = Command::new(env!("CARGO"))
        .args([
            "run",
            "--release",
            "--package",
            "xtask",
            "--",
            "bench-inner",
        ])
        .args(args)
        .current_dir(root())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("the benchmark failed");
    }
    Ok(())
}

/// The benchmark body (`cargo xtask bench` runs it in release mode).
pub fn bench_inner(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    if cfg!(debug_assertions) {
        eprintln!(
            "xtask: warning: this is a debug build; run `cargo xtask bench` for real numbers"
        );
    }
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let alembic = if opts.vs_alembic {
        match alembic::setup(&out_dir)? {
            Ok(a) => {
                eprintln!("xtask: comparing with {}", a.version);
                Some(a)
            }
            Err(why) => {
                println!("--vs-alembic: {why}; the Alembic comparison is skipped, the rest runs");
                None
            }
        }
    } else {
        None
    };
    let (mut cluster, server) = crate::server()?;
    let mut peak_kib = 0;
    let mut reports = Vec::new();
    let mut result = Ok(());
    for &n in &opts.tables {
        match bench_size(&server, n, &opts, &out_dir, alembic.as_ref()) {
            Ok(r) => {
                peak_kib = peak_kib.max(r.process_peak_kib);
                reports.push(r);
            }
            Err(e) => {
                result = Err(e.context(format!("benchmark of {n} tables")));
                break;
            }
        }
    }
    if let Some(c) = cluster.as_mut() {
        c.stop()?;
    }
    result?;
    peak_kib = peak_kib.max(vm_hwm_kib().unwrap_or(0));
    if reports.len() > 1 {
        print_summary(&reports);
    }
    println!(
        "\npeak RSS of the benchmark process (VmHWM): {:.1} MiB",
        peak_kib as f64 / 1024.0
    );
    Ok(())
}

/// min / median / max of samples in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    min: f64,
    median: f64,
    max: f64,
}

impl Stat {
    fn of(samples: &[f64]) -> Stat {
        if samples.is_empty() {
            return Stat::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s[mid]
        } else {
            (s[mid - 1] + s[mid]) / 2.0
        };
        Stat {
            min: s[0],
            median,
            max: s[s.len() - 1],
        }
    }

    fn json(&self, samples: &[f64]) -> serde_json::Value {
        serde_json::json!({
            "min_ms": round3(self.min),
            "median_ms": round3(self.median),
            "max_ms": round3(self.max),
            "samples_ms": samples.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        })
    }

    fn cell(&self) -> String {
        format!(
            "{:>8} /{:>8} /{:>8}",
            ms(self.min),
            ms(self.median),
            ms(self.max)
        )
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// The timed phases of one pipeline run, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
struct Phases {
    connect: f64,
    models: f64,
    introspection: f64,
    diff: f64,
    render: f64,
    end_to_end: f64,
}

const PHASES: [(&str, &str); 6] = [
    ("models", "models (read + build IR)"),
    ("introspection", "introspection"),
    ("diff", "diff (+ inverse)"),
    ("render", "render (up + down)"),
    ("end_to_end", "end-to-end"),
    ("connect", "connect (not in e2e)"),
];

impl Phases {
    fn get(&self, key: &str) -> f64 {
        match key {
            "connect" => self.connect,
            "models" => self.models,
            "introspection" => self.introspection,
            "diff" => self.diff,
            "render" => self.render,
            _ => self.end_to_end,
        }
    }
}

/// What one pipeline run found.
struct Outcome {
    phases: Phases,
    changes: Vec<Change>,
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// One run of what `retort diff` does, through the engine's `autogenerate` (the function the
/// CLI calls): read and normalise the models, introspect, overlay, diff with the apply guard,
/// render up and down. The phases are the engine's own timings.
fn pipeline(url: &str, paths: &[PathBuf], scope: &Scope, check: bool) -> Result<Outcome> {
    let t = Instant::now();
    let mut client = retort::connect(url)?;
    let connect = secs(t);

    let dir = paths
        .first()
        .and_then(|p| p.parent())
        .ok_or_else(|| anyhow!("no model files"))?;
    let project = retort_engine::Project {
        models: retort_engine::ModelSource::Files {
            root: dir.to_path_buf(),
            paths: vec!["*.rs".into()],
        },
        read: retort_model_reader::ReadOptions::default(),
        scope: scope.clone(),
        naming: Default::default(),
        manage: Default::default(),
        migrations_dir: dir.join("migrations"),
        cache: None,
        sql: retort_engine::ModelSource::Sources(Vec::new()),
    };
    let start = Instant::now();
    let report = retort_engine::autogenerate(
        &project,
        &mut client,
        &mut retort_engine::Server {
            scratch: retort_engine::ServerScratch {
                settings: retort::settings(url)?,
            },
        },
        &retort_engine::AutogenerateOptions {
            allow_mass_drop: true,
            ..Default::default()
        },
    )
    .map_err(|e| anyhow!("{}", retort::error_text(&e)))?;
    let end_to_end = secs(start);
    let t = &report.timings;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;

    if check {
        // The models are plain (no expressions to normalise), complete and unnamed-free: the
        // engine's migration is the bare diff of the two catalogs.
        let models = retort_model_reader::read_files(paths, &Default::default())
            .map_err(|e| anyhow!("the generated models do not read:\n{e}"))?;
        let db = retort::introspect(&mut client, scope)?;
        // The bench models declare no view, function or trigger: the database's stay.
        let mut target = models.catalog;
        retort_schema::object::keep_unmanaged(&mut target, &db, |_| false);
        let g = retort::generate(&db, &target, scope);
        if g.changes != report.generated.changes || g.up != report.up {
            bail!("the engine's autogenerate differs from retort::generate on the bench models");
        }
    }
    Ok(Outcome {
        phases: Phases {
            connect,
            models: ms(t.read_models + t.normalize),
            introspection: ms(t.introspect),
            diff: ms(t.diff),
            render: ms(t.render),
            end_to_end,
        },
        changes: report.generated.changes,
    })
}

/// The kind of a change: its variant name.
fn kind(c: &Change) -> String {
    let dbg = format!("{c:?}");
    dbg.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn kinds_text(kinds: &[(String, usize)]) -> String {
    kinds
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fails unless scenario (a) found nothing and (b) found exactly the planted changes.
fn verify(synth: &synth::Synth, a: &[Change], b: &[Change]) -> Result<()> {
    if !a.is_empty() {
        let first: Vec<String> = a.iter().take(5).map(|c| format!("{c:?}")).collect();
        bail!(
            "scenario (a) must round-trip with zero changes, found {} ({}), e.g.\n{}",
            a.len(),
            kinds_text(&synth::count_kinds(
                a.iter()
                    .map(kind)
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
            )),
            first.join("\n")
        );
    }
    let found: Vec<String> = b.iter().map(kind).collect();
    let found = synth::count_kinds(found.iter().map(String::as_str));
    let planted = synth.planted_kinds();
    if b.len() != synth.planted_changes() || found != planted {
        bail!(
            "scenario (b) found {} changes ({}) but {} were planted ({})",
            b.len(),
            kinds_text(&found),
            synth.planted_changes(),
            kinds_text(&planted)
        );
    }
    Ok(())
}

/// A database on the benchmark server, dropped again on drop.
struct BenchDb {
    url: String,
    admin_url: String,
    name: String,
}

impl BenchDb {
    fn create(server: &str, name: &str) -> Result<BenchDb> {
        let admin_url = retort_testkit::with_database(server, "postgres");
        let mut admin = retort::connect(&admin_url)?;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .context("creating the benchmark database (does the user have CREATEDB?)")?;
        Ok(BenchDb {
            url: retort_testkit::with_database(server, name),
            admin_url,
            name: name.to_string(),
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Loads the DDL, one implicit transaction per chunk.
fn load_ddl(url: &str, synth: &synth::Synth) -> Result<()> {
    let mut client = retort::connect(url)?;
    for chunk in &synth.ddl {
        client
            .batch_execute(chunk)
            .context("loading the generated DDL")?;
    }
    Ok(())
}

/// Writes both model sets under `dir` (`a/`, `b/`) and returns their paths.
fn write_models(dir: &Path, synth: &synth::Synth) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let _ = std::fs::remove_dir_all(dir);
    let mut out = Vec::new();
    for (sub, files) in [("a", &synth.models_a), ("b", &synth.models_b)] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        let mut paths = Vec::new();
        for (name, text) in files {
            let p = d.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            paths.push(p);
        }
        out.push(paths);
    }
    let b = out.pop().unwrap_or_default();
    let a = out.pop().unwrap_or_default();
    Ok((a, b))
}

/// The catalog queries `introspect` sends (the `.sql` files in crates/introspector/src/queries/,
/// in the order it sends them), with `$1` replaced by the schema list, as one psql script inside
/// the same kind of read-only repeatable-read transaction, with `\timing` on.
fn floor_script(schemas: &[String], version: u32) -> Result<(String, usize)> {
    const ORDER: [&str; 7] = [
        "server_version",
        "search_path",
        "enums",
        "tables",
        "columns",
        "constraints",
        "indexes",
    ];
    let dir = root().join("crates/introspector/src/queries");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    let rank = |p: &PathBuf| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let pos = ORDER.iter().position(|o| *o == stem).unwrap_or(ORDER.len());
        (pos, stem.to_string())
    };
    files.sort_by_key(rank);
    if files.len() != retort_introspector::QUERY_COUNT {
        eprintln!(
            "xtask: warning: {} has {} .sql files but introspect sends {} queries",
            dir.display(),
            files.len(),
            retort_introspector::QUERY_COUNT
        );
    }
    let array = format!(
        "ARRAY[{}]",
        schemas
            .iter()
            .map(|s| retort_schema::quote_literal(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut script =
        String::from("\\timing on\nBEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n");
    for f in &files {
        let mut sql =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        if version < 150_000 {
            sql = sql.replace("ix.indnullsnotdistinct", "false");
        }
        let sql = sql.replace("$1", &array);
        script.push_str(sql.trim_end().trim_end_matches(';'));
        script.push_str(";\n");
    }
    script.push_str("COMMIT;\n");
    Ok((script, files.len()))
}

fn psql_bin() -> PathBuf {
    retort_testkit::pg_bin_dir()
        .map(|d| d.join("psql"))
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// Runs the floor script with psql: (sum of psql's `\timing` for every statement, wall time of
/// the whole psql process), in milliseconds.
fn run_floor(psql: &Path, url: &str, script: &Path, statements: usize) -> Result<(f64, f64)> {
    let t = Instant::now();
    let out = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-o",
            "/dev/null",
            "-d",
            url,
            "-f",
        ])
        .arg(script)
        .output()
        .with_context(|| format!("running {}", psql.display()))?;
    let wall = secs(t);
    if !out.status.success() {
        bail!(
            "psql failed on the catalog queries: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let times: Vec<f64> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Time: "))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|v| v.parse::<f64>().ok())
        .collect();
    // BEGIN, the queries, COMMIT.
    if times.len() != statements + 2 {
        bail!(
            "expected {} `Time:` lines from psql, got {}:\n{stdout}",
            statements + 2,
            times.len()
        );
    }
    Ok((times.iter().sum(), wall))
}

/// Peak resident set size of this process so far (VmHWM), in KiB.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The 1-minute load average: other work on the machine skews the timings.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Resets VmHWM to the current RSS (Linux `clear_refs` 5); false where that is not allowed.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `bench-mem` in fresh processes: (models only, introspection only, pipeline (a),
/// pipeline (b)) peak RSS in KiB.
fn isolated_memory(url: &str, a: &[PathBuf], b: &[PathBuf]) -> Result<[u64; 4]> {
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let mut out = [0; 4];
    for (slot, (phase, paths)) in out.iter_mut().zip([
        ("models", a),
        ("introspection", a),
        ("pipeline", a),
        ("pipeline", b),
    ]) {
        let o = Command::new(&exe)
            .args(["bench-mem", phase, url])
            .args(paths)
            .output()
            .context("running bench-mem")?;
        if !o.status.success() {
            bail!("bench-mem {phase}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let text = String::from_utf8_lossy(&o.stdout);
        *slot = text
            .trim()
            .parse()
            .map_err(|_| anyhow!("bench-mem {phase} printed `{text}`"))?;
    }
    Ok(out)
}

/// `xtask bench-mem PHASE URL FILE..` (internal): runs `models` (read the files), `introspection`
/// (connect and introspect) or `pipeline` (everything) once and prints this process's VmHWM in KiB.
pub fn bench_mem(args: &[String]) -> Result<()> {
    let [phase, url, files @ ..] = args else {
        bail!("usage: xtask bench-mem models|introspection|pipeline URL FILE..");
    };
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let scope = Scope::default();
    match phase.as_str() {
        "models" => {
            let opts = retort_model_reader::ReadOptions::default();
            let models = retort_model_reader::read_files(&paths, &opts)
                .map_err(|e| anyhow!("the generated models do not read:\n{e}"))?;
            drop(models);
        }
        "introspection" => {
            let mut client = retort::connect(url)?;
            drop(retort::introspect(&mut client, &scope)?);
        }
        "pipeline" => {
            pipeline(url, &paths, &scope, false)?;
        }
        other => bail!("unknown phase `{other}`"),
    }
    println!("{}", vm_hwm_kib().unwrap_or(0));
    Ok(())
}

struct SizeReport {
    n: usize,
    a: Vec<Phases>,
    b: Vec<Phases>,
    floor: Vec<f64>,
    floor_wall: Vec<f64>,
    process_peak_kib: u64,
    run_peak_kib: Option<u64>,
    /// Changes scenario (b) found in the last run, by kind (verified equal to the planted ones).
    detected: usize,
    detected_kinds: Vec<(String, usize)>,
    /// Peak RSS (KiB) of fresh processes that only read the models, only introspect, and run
    /// the whole pipeline of (a) and of (b).
    isolated_kib: Option<[u64; 4]>,
    model_files: usize,
    /// 1-minute load average before and after the timed runs.
    load: (Option<f64>, Option<f64>),
    /// The commands as processes, when timed.
    cli: Option<cli::CliReport>,
    /// Alembic's commands paired with Retort's, and Alembic's version, when compared.
    alembic: Option<(String, Vec<alembic::Pair>)>,
}

impl SizeReport {
    fn stat(samples: &[Phases], key: &str) -> Stat {
        Stat::of(&samples.iter().map(|p| p.get(key)).collect::<Vec<_>>())
    }

    fn ratio(&self, samples: &[Phases]) -> Option<f64> {
        if self.floor.is_empty() {
            return None;
        }
        Some(Self::stat(samples, "introspection").median / Stat::of(&self.floor).median)
    }
}

fn bench_size(
    server: &str,
    n: usize,
    opts: &Options,
    out_dir: &Path,
    alembic: Option<&alembic::Alembic>,
) -> Result<SizeReport> {
    let process_peak_before = vm_hwm_kib().unwrap_or(0);
    let t = Instant::now();
    let synth = synth::generate(n);
    let gen_dir = out_dir.join(format!("gen-{n}"));
    let (paths_a, paths_b) = write_models(&gen_dir, &synth)?;
    std::fs::write(gen_dir.join("schema.sql"), synth.ddl.concat())?;
    let generated = secs(t);
    let model_files = synth.models_a.len();

    let db = BenchDb::create(server, &format!("retort_bench_{n}"))?;
    let t = Instant::now();
    load_ddl(&db.url, &synth)?;
    eprintln!(
        "xtask: N={n}: generated {model_files} model files in {:.1}s, loaded the DDL in {:.1}s ({})",
        generated / 1000.0,
        secs(t) / 1000.0,
        gen_dir.display()
    );
    // Only the bookkeeping is needed from here on; the texts are on disk and in the database.
    let mut synth = synth;
    drop((
        std::mem::take(&mut synth.ddl),
        std::mem::take(&mut synth.models_a),
        std::mem::take(&mut synth.models_b),
    ));

    let scope = Scope::default();
    let psql = psql_bin();
    let script_path = gen_dir.join("catalog_queries.sql");
    let mut statements = 0;
    if opts.floor {
        let mut client = retort::connect(&db.url)?;
        let version = retort_introspector::server_version(&mut client)?;
        let (script, count) = floor_script(&scope.schemas, version)?;
        std::fs::write(&script_path, script)?;
        statements = count;
    }

    // Memory: what the generator allocated is freed; measure the pipeline runs from here.
    let process_peak_gen = vm_hwm_kib().unwrap_or(0);
    let can_reset = reset_hwm();

    let mut report = SizeReport {
        n,
        a: Vec::new(),
        b: Vec::new(),
        floor: Vec::new(),
        floor_wall: Vec::new(),
        process_peak_kib: 0,
        run_peak_kib: None,
        detected: 0,
        detected_kinds: Vec::new(),
        isolated_kib: None,
        model_files,
        load: (load_average(), None),
        cli: None,
        alembic: None,
    };
    let warmups = usize::from(!opts.smoke);
    for run in 0..warmups + opts.runs {
        let timed = run >= warmups;
        if opts.floor {
            let (f, w) = run_floor(&psql, &db.url, &script_path, statements)?;
            if timed {
                report.floor.push(f);
                report.floor_wall.push(w);
            }
        }
        let a = pipeline(&db.url, &paths_a, &scope, run == 0)?;
        let b = pipeline(&db.url, &paths_b, &scope, run == 0)?;
        verify(&synth, &a.changes, &b.changes)?;
        let kinds: Vec<String> = b.changes.iter().map(kind).collect();
        report.detected = b.changes.len();
        report.detected_kinds = synth::count_kinds(kinds.iter().map(String::as_str));
        if timed {
            report.a.push(a.phases);
            report.b.push(b.phases);
        }
    }
    report.load.1 = load_average();
    let run_peak = vm_hwm_kib().unwrap_or(0);
    if can_reset {
        report.run_peak_kib = Some(run_peak);
    }
    report.process_peak_kib = process_peak_before.max(process_peak_gen).max(run_peak);
    report.isolated_kib = isolated_memory(&db.url, &paths_a, &paths_b)
        .map_err(|e| eprintln!("xtask: warning: memory probes failed: {e:#}"))
        .ok();
    if opts.cli {
        let empty = BenchDb::create(server, &format!("retort_bench_{n}_empty"))?;
        let r = cli::run(
            &cli::binary()?,
            &gen_dir,
            &db.url,
            &empty.url,
            server,
            opts.runs,
        )?;
        if r.changes != (0, synth.planted_changes()) {
            bail!(
                "retort diff found {} change(s) in (a) and {} in (b); {} were planted in (b)",
                r.changes.0,
                r.changes.1,
                synth.planted_changes()
            );
        }
        report.cli = Some(r);
        if let Some(a) = alembic {
            let pairs = alembic::compare(a, &gen_dir, &synth, &db.url, &cli::binary()?, opts.runs)?;
            report.alembic = Some((a.version.clone(), pairs));
        }
    }
    drop(db);

    print_size(&report, &synth, opts, warmups, statements);
    let json = size_json(&report, &synth, opts, warmups);
    let path = out_dir.join(format!("bench-{n}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("written to {}", path.display());
    Ok(report)
}

fn print_size(
    r: &SizeReport,
    synth: &synth::Synth,
    opts: &Options,
    warmups: usize,
    statements: usize,
) {
    println!(
        "\nN = {} tables ({} table model files of <= {} tables + enums.rs), {} run{}{}; milliseconds, min / median / max",
        r.n,
        r.model_files - 1,
        synth::TABLES_PER_FILE,
        opts.runs,
        if opts.runs == 1 { "" } else { "s" },
        if warmups > 0 { " after 1 warm-up run" } else { "" },
    );
    println!(
        "{:<26}| {:<28}| {:<28}",
        "phase",
        "(a) no change",
        format!("(b) {} tables changed", synth.changed_tables())
    );
    println!("{}", "-".repeat(26 + 30 + 30));
    for (key, label) in PHASES {
        println!(
            "{:<26}| {:<28}| {:<28}",
            label,
            SizeReport::stat(&r.a, key).cell(),
            SizeReport::stat(&r.b, key).cell()
        );
    }
    if !r.floor.is_empty() {
        println!(
            "{:<26}| {:<28}| (same queries)",
            "psql floor (\\timing sum)",
            Stat::of(&r.floor).cell()
        );
        println!(
            "{:<26}| {:<28}| (incl. start + connect)",
            "psql process",
            Stat::of(&r.floor_wall).cell()
        );
        println!(
            "introspection / psql floor = {:.1}x (a), {:.1}x (b)   [medians; floor = {} catalog queries + BEGIN/COMMIT]",
            r.ratio(&r.a).unwrap_or(0.0),
            r.ratio(&r.b).unwrap_or(0.0),
            statements
        );
    }
    println!(
        "changes: (a) 0 (round trip verified); (b) {} detected, {} planted: {}",
        r.detected,
        synth.planted_changes(),
        kinds_text(&r.detected_kinds)
    );
    if let (Some(before), Some(after)) = r.load {
        println!(
            "machine: {} CPUs, 1-minute load average {before:.2} before and {after:.2} after the runs",
            cpus()
        );
    }
    let mib = |k: u64| k as f64 / 1024.0;
    if let Some([models, intro, a, b]) = r.isolated_kib {
        println!(
            "peak RSS of a fresh process that only reads the models {:.1} MiB, only introspects {:.1} MiB, \
             runs the whole pipeline {:.1} MiB (a) / {:.1} MiB (b)",
            mib(models),
            mib(intro),
            mib(a),
            mib(b)
        );
    }
    match r.run_peak_kib {
        Some(kib) => println!("peak RSS during these runs: {:.1} MiB", mib(kib)),
        None => println!(
            "peak RSS of the process so far: {:.1} MiB",
            r.process_peak_kib as f64 / 1024.0
        ),
    }
    if let Some(c) = &r.cli {
        print_cli(c);
    }
    if let Some((version, pairs)) = &r.alembic {
        print_alembic(version, pairs);
    }
}

/// Alembic next to Retort: paired runs, medians and their ratio.
fn print_alembic(version: &str, pairs: &[alembic::Pair]) {
    println!(
        "\n{version} vs retort (scratch cache warm), paired runs, wall ms, min / median / max"
    );
    println!(
        "{:<48}| {:<28}| {:<28}| {:>8}",
        "command", "Alembic", "Retort", "ratio"
    );
    println!("{}", "-".repeat(48 + 30 + 30 + 9));
    for p in pairs {
        let (a, r) = (Stat::of(&p.alembic), Stat::of(&p.retort));
        println!(
            "{:<48}| {:<28}| {:<28}| {:>7.1}x",
            p.label,
            a.cell(),
            r.cell(),
            a.median / r.median
        );
    }
    println!(
        "Alembic found no difference in (a) and differences on exactly the planted tables in (b)"
    );
}

/// The commands as processes: wall time with the scratch cache off and warm.
fn print_cli(c: &cli::CliReport) {
    println!(
        "\nretort as a process (wall ms, min / median / max; scratch databases on the same server)"
    );
    println!(
        "{:<32}| {:<28}| {:<28}| {:>9}",
        "command", "cache off", "cache warm", "warm/off"
    );
    println!("{}", "-".repeat(32 + 30 + 30 + 10));
    for (_, label, off, warm) in &c.rows {
        let (o, w) = (Stat::of(off), Stat::of(warm));
        println!(
            "{:<32}| {:<28}| {:<28}| {:>8.2}x",
            label,
            o.cell(),
            w.cell(),
            w.median / o.median
        );
    }
    println!(
        "diff found {} change(s) in (a) and {} in (b), the same with the cache off and warm",
        c.changes.0, c.changes.1
    );
}

fn size_json(
    r: &SizeReport,
    synth: &synth::Synth,
    opts: &Options,
    warmups: usize,
) -> serde_json::Value {
    let phases = |samples: &[Phases]| {
        let mut m = serde_json::Map::new();
        for (key, _) in PHASES {
            let v: Vec<f64> = samples.iter().map(|p| p.get(key)).collect();
            m.insert(key.to_string(), Stat::of(&v).json(&v));
        }
        serde_json::Value::Object(m)
    };
    let floor = (!r.floor.is_empty()).then(|| {
        serde_json::json!({
            "timing_sum": Stat::of(&r.floor).json(&r.floor),
            "process": Stat::of(&r.floor_wall).json(&r.floor_wall),
            "introspection_ratio_a": r.ratio(&r.a).map(round3),
            "introspection_ratio_b": r.ratio(&r.b).map(round3),
        })
    });
    serde_json::json!({
        "tables": r.n,
        "model_files": r.model_files,
        "runs": opts.runs,
        "warmup_runs": warmups,
        "cpus": cpus(),
        "load_average_1min": { "before": r.load.0, "after": r.load.1 },
        "scenario_a": { "phases": phases(&r.a), "changes": 0 },
        "scenario_b": {
            "phases": phases(&r.b),
            "changed_tables": synth.changed_tables(),
            "changes_detected": r.detected,
            "detected_kinds": kinds_json(&r.detected_kinds),
            "changes_planted": synth.planted_changes(),
            "planted_kinds": kinds_json(&synth.planted_kinds()),
            "planted": synth.planted.iter().map(|p| serde_json::json!({
                "table": p.table, "what": p.what, "changes": p.changes,
            })).collect::<Vec<_>>(),
        },
        "psql_floor": floor,
        "vs_alembic": r.alembic.as_ref().map(|(version, pairs)| serde_json::json!({
            "alembic": version,
            "pairs": pairs.iter().map(|p| serde_json::json!({
                "command": p.label,
                "alembic": Stat::of(&p.alembic).json(&p.alembic),
                "retort": Stat::of(&p.retort).json(&p.retort),
                "ratio": round3(Stat::of(&p.alembic).median / Stat::of(&p.retort).median),
            })).collect::<Vec<_>>(),
        })),
        "cli": r.cli.as_ref().map(|c| c.rows.iter().map(|(key, label, off, warm)| {
            (key.to_string(), serde_json::json!({
                "command": label,
                "cache_off": Stat::of(off).json(off),
                "cache_warm": Stat::of(warm).json(warm),
            }))
        }).collect::<serde_json::Map<_, _>>()),
        "peak_rss_mib": {
            "runs": r.run_peak_kib.map(|k| round3(k as f64 / 1024.0)),
            "process": round3(r.process_peak_kib as f64 / 1024.0),
            "isolated_process": r.isolated_kib.map(|[m, i, a, b]| serde_json::json!({
                "models_only": round3(m as f64 / 1024.0),
                "introspection_only": round3(i as f64 / 1024.0),
                "pipeline_a": round3(a as f64 / 1024.0),
                "pipeline_b": round3(b as f64 / 1024.0),
            })),
        },
    })
}

fn kinds_json(kinds: &[(String, usize)]) -> serde_json::Value {
    kinds
        .iter()
        .map(|(k, n)| (k.clone(), serde_json::Value::from(*n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn print_summary(reports: &[SizeReport]) {
    println!(
        "\nsummary: medians in ms; phases of (b); peak RSS of a fresh process running the pipeline"
    );
    println!(
        "{:>7} | {:>9} | {:>9} | {:>8} | {:>13} | {:>7} | {:>7} | {:>10} | {:>6} | {:>9}",
        "N",
        "e2e (a)",
        "e2e (b)",
        "models",
        "introspection",
        "diff",
        "render",
        "psql floor",
        "ratio",
        "peak RSS"
    );
    for r in reports {
        let med = |key| SizeReport::stat(&r.b, key).median;
        let floor = (!r.floor.is_empty()).then(|| Stat::of(&r.floor).median);
        let rss = r
            .isolated_kib
            .map(|[_, _, a, b]| a.max(b))
            .or(r.run_peak_kib)
            .unwrap_or(r.process_peak_kib);
        println!(
            "{:>7} | {:>9} | {:>9} | {:>8} | {:>13} | {:>7} | {:>7} | {:>10} | {:>6} | {:>9}",
            r.n,
            ms(SizeReport::stat(&r.a, "end_to_end").median),
            ms(med("end_to_end")),
            ms(med("models")),
            ms(med("introspection")),
            ms(med("diff")),
            ms(med("render")),
            floor.map(ms).unwrap_or_else(|| "-".into()),
            r.ratio(&r.b)
                .map(|x| format!("{x:.1}x"))
                .unwrap_or_else(|| "-".into()),
            format!("{:.0} MiB", rss as f64 / 1024.0),
        );
    }
    if reports.iter().all(|r| r.alembic.is_some()) {
        println!("\nAlembic / Retort (cache warm): median wall ms and ratio");
        for r in reports {
            for p in r.alembic.iter().flat_map(|(_, p)| p) {
                let (a, b) = (Stat::of(&p.alembic).median, Stat::of(&p.retort).median);
                println!(
                    "{:>7} | {:<48} | {:>9} | {:>9} | {:>6.1}x",
                    r.n,
                    p.label,
                    ms(a),
                    ms(b),
                    a / b
                );
            }
        }
    }
    if reports.iter().all(|r| r.cli.is_some()) {
        println!("\nretort as a process: medians in ms, cache off / warm");
        let keys: Vec<&str> = reports[0]
            .cli
            .as_ref()
            .map(|c| c.rows.iter().map(|r| r.1).collect())
            .unwrap_or_default();
        print!("{:>7}", "N");
        for k in &keys {
            print!(" | {k:>32}");
        }
        println!();
        for r in reports {
            print!("{:>7}", r.n);
            for (_, _, off, warm) in r.cli.iter().flat_map(|c| &c.rows) {
                let cell = format!(
                    "{} / {}",
                    ms(Stat::of(off).median),
                    ms(Stat::of(warm).median)
                );
                print!(" | {cell:>32}");
            }
            println!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let args = |s: &str| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
        let o = parse(&[]).unwrap();
        assert_eq!(
            (o.tables, o.runs, o.smoke, o.floor),
            (vec![100, 1000], 5, false, true)
        );
        let o = parse(&args("--tables 1000,10000 --runs=0")).unwrap();
        assert_eq!((o.tables, o.runs), (vec![1000, 10000], 1));
        let o = parse(&args("--smoke")).unwrap();
        assert_eq!((o.tables, o.runs, o.floor), (vec![50], 1, false));
        assert!(parse(&args("--tables 5")).is_err());
        assert!(parse(&args("--tables")).is_err());
        assert!(parse(&args("--bogus")).is_err());
    }

    #[test]
    fn medians() {
        let s = Stat::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(Stat::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    /// The smoke scenario against the test server: (a) round-trips with zero changes and (b)
    /// finds exactly the planted changes. Times are not asserted.
    #[test]
    fn smoke_scenarios_round_trip_and_find_the_planted_changes() {
        let db = retort_testkit::TestDb::create("xtask_bench_smoke")
            .expect("a test server (run `cargo xtask test`)");
        let synth = synth::generate(50);
        let dir = std::env::temp_dir().join(format!("retort-bench-smoke-{}", std::process::id()));
        let (a, b) = write_models(&dir, &synth).unwrap();
        load_ddl(&db.url, &synth).unwrap();
        let scope = Scope::default();
        let ra = pipeline(&db.url, &a, &scope, true);
        let rb = pipeline(&db.url, &b, &scope, true);
        let _ = std::fs::remove_dir_all(&dir);
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.changes, Vec::new(), "scenario (a) must round-trip");
        assert_eq!(rb.changes.len(), synth.planted_changes());
        verify(&synth, &ra.changes, &rb.changes).unwrap();
    }

    /// The commands as processes at N=50, cache off and warm: each ends as it should (checks
    /// pass on (a)), and `diff` finds no change in (a) and the planted ones in (b), the same with
    /// and without the cache. Times are not asserted.
    #[test]
    fn smoke_commands_as_processes_find_the_planted_changes() {
        let db = retort_testkit::TestDb::create("xtask_bench_cli")
            .expect("a test server (run `cargo xtask test`)");
        let empty = retort_testkit::TestDb::create("xtask_bench_cli_empty").unwrap();
        let synth = synth::generate(50);
        let dir = std::env::temp_dir().join(format!("retort-bench-cli-{}", std::process::id()));
        write_models(&dir, &synth).unwrap();
        load_ddl(&db.url, &synth).unwrap();
        let server = retort_testkit::server_url().unwrap();
        let r = cli::run(
            &cli::binary().unwrap(),
            &dir,
            &db.url,
            &empty.url,
            &server,
            1,
        );
        let _ = std::fs::remove_dir_all(&dir);
        let r = r.unwrap();
        assert_eq!(r.changes, (0, synth.planted_changes()));
        assert_eq!(r.rows.len(), 5);
        for (key, _, off, warm) in &r.rows {
            assert_eq!((off.len(), warm.len()), (1, 1), "{key}");
        }
    }
}
