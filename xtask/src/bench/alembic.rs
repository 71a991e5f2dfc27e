//! `--vs-alembic`: the benchmark schemas as SQLAlchemy metadata, Alembic in a virtual environment
//! under target/bench, and its commands timed next to Retort's equivalents in paired runs.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The virtual environment's interpreter and `alembic` script.
pub struct Alembic {
    python: PathBuf,
    alembic: PathBuf,
    pub version: String,
}

/// Alembic and SQLAlchemy in `out_dir/alembic-venv` (made with `python3 -m venv` and pip on
/// first use). `Ok(None)` with the reason when there is no Python to do it with.
pub fn setup(out_dir: &Path) -> Result<std::result::Result<Alembic, String>> {
    let python3 = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    match Command::new(&python3).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => {
            return Ok(Err(format!(
            "no Python ({} --version failed); set PYTHON to an interpreter to compare with Alembic",
            python3.to_string_lossy()
        )))
        }
    }
    let venv = out_dir.join("alembic-venv");
    let python = venv.join("bin").join("python");
    let alembic = venv.join("bin").join("alembic");
    if !alembic.is_file() {
        eprintln!(
            "xtask: installing Alembic, SQLAlchemy and psycopg2 into {}",
            venv.display()
        );
        let ok = Command::new(&python3)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Ok(Err(format!(
                "`{} -m venv` failed (on Debian: apt-get install python3-venv)",
                python3.to_string_lossy()
            )));
        }
        let ok = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "alembic>=1.13",
                "sqlalchemy>=2",
                "psycopg2-binary",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir_all(&venv);
            return Ok(Err(
                "pip could not install alembic, sqlalchemy and psycopg2-binary".into(),
            ));
        }
    }
    let out = Command::new(&python)
        .args([
            "-c",
            "import alembic, sqlalchemy; print(alembic.__version__, sqlalchemy.__version__)",
        ])
        .output()
        .context("running the virtual environment's Python")?;
    if !out.status.success() {
        bail!(
            "the Alembic environment in {} is broken (remove it to reinstall):\n{}",
            venv.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = String::from_utf8_lossy(&out.stdout);
    let mut v = v.split_whitespace();
    let version = format!(
        "Alembic {}, SQLAlchemy {}",
        v.next().unwrap_or("?"),
        v.next().unwrap_or("?")
    );
    Ok(Ok(Alembic {
        python,
        alembic,
        version,
    }))
}

/// A libpq URL as SQLAlchemy's psycopg2 dialect takes it.
fn sqlalchemy_url(url: &str) -> String {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .unwrap_or(url);
    format!("postgresql+psycopg2://{rest}")
}

const ENV_PY: &str = r#"import os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from alembic import context
from sqlalchemy import engine_from_config, pool
import models

def include_object(obj, name, type_, reflected, compare_to):
    # Retort's version table is not part of the models.
    return not (type_ == "table" and name == "retort_version")

engine = engine_from_config(context.config.get_section(context.config.config_ini_section),
                            prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata,
                      compare_type=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
"#;

const SCRIPT_MAKO: &str = r#""""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

/// `python diff.py URL`: what Alembic's autogenerate compare finds, one JSON object per line
/// (`op`, `table`); the process Retort's `diff` is timed against.
const DIFF_PY: &str = r#"import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqlalchemy import create_engine, Table, Index
from alembic.migration import MigrationContext
from alembic.autogenerate import compare_metadata
import models

def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "retort_version")

def table_of(d):
    if isinstance(d, list):
        d = d[0]
    op = d[0]
    if op.startswith("modify_") or op in ("add_column", "remove_column"):
        return op, d[2]
    x = d[1]
    if isinstance(x, Table):
        return op, x.name
    if isinstance(x, Index):
        return op, x.table.name
    if op in ("add_fk", "remove_fk"):
        return op, x.parent.name
    return op, getattr(getattr(x, "table", None), "name", None)

engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    mc = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
    for d in compare_metadata(mc, models.metadata):
        op, table = table_of(d)
        print(json.dumps({"op": op, "table": table}))
"#;

/// Writes the Alembic project of scenario `scenario` (`a` or `b`) into `gen_dir/alembic-<s>`.
fn write_project(gen_dir: &Path, scenario: usize, models: &str, url: &str) -> Result<PathBuf> {
    let dir = gen_dir.join(format!("alembic-{}", ["a", "b"][scenario]));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("alembic").join("versions"))?;
    std::fs::write(
        dir.join("alembic.ini"),
        format!(
            "[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = {}\n",
            sqlalchemy_url(url).replace('%', "%%")
        ),
    )?;
    std::fs::write(dir.join("alembic").join("env.py"), ENV_PY)?;
    std::fs::write(dir.join("alembic").join("script.py.mako"), SCRIPT_MAKO)?;
    std::fs::write(dir.join("models.py"), models)?;
    std::fs::write(dir.join("diff.py"), DIFF_PY)?;
    Ok(dir)
}

/// One command both tools run, with the wall times of the paired runs (ms).
pub struct Pair {
    pub label: &'static str,
    pub alembic: Vec<f64>,
    pub retort: Vec<f64>,
}

/// What Alembic's compare found in a scenario: (op, table) pairs.
fn alembic_diff(a: &Alembic, dir: &Path, url: &str) -> Result<Vec<(String, String)>> {
    let out = Command::new(&a.python)
        .arg(dir.join("diff.py"))
        .arg(sqlalchemy_url(url))
        .output()?;
    if !out.status.success() {
        bail!(
            "Alembic's compare failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut v = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let j: serde_json::Value = serde_json::from_str(line)?;
        v.push((
            j["op"].as_str().unwrap_or("?").to_string(),
            j["table"].as_str().unwrap_or("?").to_string(),
        ));
    }
    Ok(v)
}

/// Runs `cmd` and returns its wall time in ms, failing unless it exits with `code`.
fn timed(mut cmd: Command, code: i32, what: &str) -> Result<f64> {
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    if out.status.code() != Some(code) {
        bail!(
            "{what} exited {:?}, not {code}:\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(wall)
}

/// Checks that Alembic finds nothing in (a) and exactly the planted tables in (b), then times
/// `alembic check` / `retort check --live` on (a), the compare script / `retort diff` and
/// `alembic revision --autogenerate` / `retort revision --autogenerate` on (b), alternating, `runs`
/// times each. Retort runs with its scratch cache warm (`cli::run` left it so).
pub fn compare(
    a: &Alembic,
    gen_dir: &Path,
    synth: &super::synth::Synth,
    url: &str,
    retort: &Path,
    runs: usize,
) -> Result<Vec<Pair>> {
    let dirs = [
        write_project(gen_dir, 0, &synth.sqlalchemy[0], url)?,
        write_project(gen_dir, 1, &synth.sqlalchemy[1], url)?,
    ];
    let found_a = alembic_diff(a, &dirs[0], url)?;
    if !found_a.is_empty() {
        bail!("Alembic finds differences in the unchanged schema (a): {found_a:?}");
    }
    let found_b = alembic_diff(a, &dirs[1], url)?;
    let mut tables: Vec<&str> = found_b.iter().map(|(_, t)| t.as_str()).collect();
    tables.sort_unstable();
    tables.dedup();
    let mut planted: Vec<&str> = synth.planted.iter().map(|p| p.table.as_str()).collect();
    planted.sort_unstable();
    if tables != planted {
        bail!("Alembic's differences in (b) are not on the planted tables: found {found_b:?}, planted on {planted:?}");
    }

    let retort_cmd = |scenario: &str, args: &[&str]| {
        let mut c = Command::new(retort);
        c.args(args)
            .current_dir(gen_dir.join(scenario))
            .env_remove("DATABASE_URL")
            .env("RETORT_CACHE_DIR", gen_dir.join("cache"))
            .env("RETORT_NOW", "2026-01-01T00:00:00Z");
        c
    };
    let alembic_cmd = |dir: &Path, args: &[&str]| {
        let mut c = Command::new(&a.alembic);
        c.arg("-c").arg(dir.join("alembic.ini")).args(args);
        c
    };
    let diff_cmd = || {
        let mut c = Command::new(&a.python);
        c.arg(dirs[1].join("diff.py")).arg(sqlalchemy_url(url));
        c
    };
    let clean = |dir: &Path| -> Result<()> {
        for e in std::fs::read_dir(dir.join("alembic").join("versions"))? {
            let p = e?.path();
            if p.is_file() {
                std::fs::remove_file(p)?;
            }
        }
        Ok(())
    };
    let b_files = super::cli::Files::take(&gen_dir.join("b"))?;
    let mut pairs = vec![
        Pair {
            label: "check (a): alembic check / retort check --live",
            alembic: Vec::new(),
            retort: Vec::new(),
        },
        Pair {
            label: "diff (b): compare_metadata / retort diff",
            alembic: Vec::new(),
            retort: Vec::new(),
        },
        Pair {
            label: "revision --autogenerate (b)",
            alembic: Vec::new(),
            retort: Vec::new(),
        },
    ];
    for _ in 0..runs {
        pairs[0].alembic.push(timed(
            alembic_cmd(&dirs[0], &["check"]),
            0,
            "alembic check",
        )?);
        pairs[0].retort.push(timed(
            retort_cmd("a", &["check", "--live"]),
            0,
            "retort check --live",
        )?);
        pairs[1]
            .alembic
            .push(timed(diff_cmd(), 0, "Alembic's compare_metadata")?);
        pairs[1].retort.push(timed(
            retort_cmd("b", &["diff", "--allow-mass-drop"]),
            0,
            "retort diff",
        )?);
        pairs[2].alembic.push(timed(
            alembic_cmd(&dirs[1], &["revision", "--autogenerate", "-m", "bench"]),
            0,
            "alembic revision --autogenerate",
        )?);
        clean(&dirs[1])?;
        pairs[2].retort.push(timed(
            retort_cmd(
                "b",
                &[
                    "revision",
                    "--autogenerate",
                    "-m",
                    "bench",
                    "--allow-mass-drop",
                ],
            ),
            0,
            "retort revision --autogenerate",
        )?);
        b_files.restore()?;
    }
    Ok(pairs)
}
