//! Finding local PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) and their major
//! versions: `RETORT_PG_BIN`, `pg_config --bindir` on PATH, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One directory of server binaries and the version they report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub bin: PathBuf,
    /// The major version (15 for 15.18; 9 for 9.6 is never met: Retort needs 12 or later).
    pub major: u32,
    /// The full version as `pg_ctl --version` prints it, e.g. `15.18`.
    pub version: String,
}

/// The version in `pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`: `15.18` and 15.
fn parse_version(text: &str) -> Option<(String, u32)> {
    let rest = text.split("(PostgreSQL)").nth(1)?.trim();
    let version = rest.split_whitespace().next()?.to_string();
    let major = version
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((version, major))
}

fn probe(bin: &Path) -> Option<Installation> {
    if !bin.join("initdb").is_file() || !bin.join("pg_ctl").is_file() {
        return None;
    }
    let out = Command::new(bin.join("pg_ctl"))
        .arg("--version")
        .output()
        .ok()?;
    let (version, major) = parse_version(&String::from_utf8_lossy(&out.stdout))?;
    Some(Installation {
        bin: bin.to_path_buf(),
        major,
        version,
    })
}

/// Every installation found, newest major first, one per directory (symlinks resolved).
pub fn installations() -> Vec<Installation> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::var("RETORT_PG_BIN") {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut found: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        found.sort();
        dirs.extend(found);
    }
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    let mut out: Vec<Installation> = Vec::new();
    let mut seen = Vec::new();
    for dir in dirs {
        let real = std::fs::canonicalize(&dir).unwrap_or(dir);
        if seen.contains(&real) {
            continue;
        }
        seen.push(real.clone());
        if let Some(i) = probe(&real) {
            out.push(i);
        }
    }
    // Stable: for one major, the first found (RETORT_PG_BIN, then pg_config) wins.
    out.sort_by_key(|i| std::cmp::Reverse(i.major));
    out
}

/// The installation to run: the one for `major` when asked (a clear error naming what exists
/// otherwise), else the newest.
pub fn choose(major: Option<u32>) -> Result<Installation> {
    pick(installations(), major)
}

fn pick(found: Vec<Installation>, major: Option<u32>) -> Result<Installation> {
    if found.is_empty() {
        bail!("no PostgreSQL server binaries found (looked at RETORT_PG_BIN, `pg_config --bindir`, /usr/lib/postgresql/*/bin and /usr/local/pgsql/bin): install the server package (e.g. `apt-get install postgresql`) or set RETORT_PG_BIN")
    }
    let Some(want) = major else {
        return Ok(found.into_iter().next().expect("not empty"));
    };
    if let Some(i) = found.iter().find(|i| i.major == want) {
        return Ok(i.clone());
    }
    let names: Vec<String> = found
        .iter()
        .map(|i| format!("{} ({})", i.version, i.bin.display()))
        .collect();
    bail!(
        "the target server is PostgreSQL {want}, but the local server binaries are for {}: install PostgreSQL {want}'s server package (e.g. `apt-get install postgresql-{want}`) or set [shadow] url in retort.toml",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_pg_ctl() {
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(("15.18".into(), 15))
        );
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 17beta1\n"),
            Some(("17beta1".into(), 17))
        );
        assert_eq!(parse_version("something else"), None);
    }

    #[test]
    fn a_missing_major_names_the_versions_found() {
        let found = vec![Installation {
            bin: "/usr/lib/postgresql/15/bin".into(),
            major: 15,
            version: "15.18".into(),
        }];
        let e = pick(found.clone(), Some(16)).unwrap_err().to_string();
        assert!(e.contains("PostgreSQL 16"), "{e}");
        assert!(e.contains("15.18 (/usr/lib/postgresql/15/bin)"), "{e}");
        assert_eq!(pick(found.clone(), Some(15)).unwrap(), found[0]);
        assert_eq!(pick(found.clone(), None).unwrap(), found[0]);
        assert!(pick(vec![], None)
            .unwrap_err()
            .to_string()
            .contains("no PostgreSQL server binaries"));
    }
}
