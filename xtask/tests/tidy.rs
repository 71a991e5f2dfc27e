//! Tidy checks over the repository itself: every Rust file says what it is for, no snapshot is left
//! without the test or fixture that made it, and every catalog query file is registered.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// Files under `dir` (recursively) whose name ends with `ext`, skipping build output and
/// hidden directories.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(p);
                }
            } else if name.ends_with(ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

fn subdirs(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut missing = Vec::new();
    for dir in ["crates", "xtask", "examples", "fixtures"] {
        for f in files(&root().join(dir), ".rs") {
            let text = fs::read_to_string(&f).unwrap_or_default();
            // Tool output kept byte for byte (`diesel print-schema`) is documented by the README
            // beside it and says so on its first line.
            let generated = text.starts_with("// @generated");
            if !generated && !text.trim_start().starts_with("//!") {
                missing.push(rel(&f));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc saying what they are for:\n  {}",
        missing.join("\n  ")
    );
}

/// The cases ported from other tools' suites: fixtures/peer/<case>/ is the case `peer_<case>`.
fn peer_cases(root: &Path) -> BTreeSet<String> {
    subdirs(&root.join("fixtures/peer"))
        .into_iter()
        .map(|c| format!("peer_{c}"))
        .collect()
}

#[test]
fn no_snapshot_is_orphaned() {
    let root = root();
    let mut cases = subdirs(&root.join("fixtures"));
    cases.extend(peer_cases(&root));
    let error_cases = subdirs(&root.join("fixtures/errors"));
    let tests_text: String = files(&root.join("crates"), ".rs")
        .iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "tests"))
        .map(|f| fs::read_to_string(f).unwrap_or_default())
        .collect();
    let mut orphans = Vec::new();
    for snap in files(&root.join("snapshots"), ".snap") {
        let stem = snap
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let known = if let Some(case) = stem.strip_prefix("errors__") {
            error_cases.contains(case)
        } else if let Some(rest) = stem.strip_prefix("import__") {
            // crates/cli/tests/import.rs: the models imported from a fixture's database.
            rest.strip_suffix("_before")
                .or_else(|| rest.strip_suffix("_after"))
                .is_some_and(|case| cases.contains(case))
        } else if stem.starts_with("cli__") {
            tests_text.contains(&format!("\"{stem}\""))
        } else if let Some(case) = stem
            .strip_suffix("__up")
            .or_else(|| stem.strip_suffix("__down"))
        {
            cases.contains(case)
        } else {
            false
        };
        if !known {
            orphans.push(rel(&snap));
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots no test or fixture produces (delete them):\n  {}",
        orphans.join("\n  ")
    );
}

#[test]
fn every_fixture_is_complete() {
    let root = root();
    let mut problems = Vec::new();
    let fixtures = subdirs(&root.join("fixtures"))
        .into_iter()
        .map(|c| (c.clone(), root.join("fixtures").join(&c)));
    let peers = subdirs(&root.join("fixtures/peer"))
        .into_iter()
        .map(|c| (format!("peer_{c}"), root.join("fixtures/peer").join(&c)));
    for (case, dir) in fixtures.chain(peers) {
        // Peer cases are judged by the round-trip oracle only: they have no snapshots.
        let snapshotted = !case.starts_with("peer_");
        if case == "errors" || !dir.join("models.rs").exists() {
            // fixtures/errors holds model-reader error cases; other directories group cases.
            continue;
        }
        if !dir.join("before.sql").exists() {
            problems.push(format!("{}: no before.sql", rel(&dir)));
        }
        let toml = fs::read_to_string(dir.join("case.toml")).unwrap_or_default();
        let expect_empty = toml
            .lines()
            .any(|l| l.replace(' ', "") == "expect_empty=true");
        for side in ["up", "down"] {
            let snap = root.join(format!("snapshots/{case}__{side}.snap"));
            if !snapshotted {
                if snap.exists() {
                    problems.push(format!("{}: peer cases have no snapshots", rel(&dir)));
                }
                continue;
            }
            if !expect_empty && !snap.exists() {
                problems.push(format!("{}: no snapshots/{case}__{side}.snap", rel(&dir)));
            }
            if expect_empty && snap.exists() {
                problems.push(format!(
                    "{} expects no change but has snapshots/{case}__{side}.snap",
                    rel(&dir)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_catalog_query_is_registered() {
    let root = root();
    let registry = fs::read_to_string(root.join("crates/introspector/src/query.rs")).unwrap();
    let mut unregistered = Vec::new();
    for f in files(&root.join("crates/introspector/src/queries"), ".sql") {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if !registry.contains(&format!("include_str!(\"queries/{name}\")")) {
            unregistered.push(name);
        }
    }
    assert!(
        unregistered.is_empty(),
        "query files not in introspector's query registry: {unregistered:?}"
    );
}

/// Product code talks to PostgreSQL through the unnamed statement only (`query_typed*`,
/// `batch_execute`, `simple_query`): `query`, `execute` and `prepare` leave named prepared
/// statements behind, which collide on a transaction pooler's shared server connections.
/// Tests and the test kit may use them.
#[test]
fn product_code_uses_no_named_prepared_statements() {
    let root = root();
    let mut bad = Vec::new();
    for file in files(&root.join("crates"), ".rs") {
        let path = rel(&file);
        if path.contains("/tests/") || path.starts_with("crates/testkit/") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        // Unit tests at the end of a file (`#[cfg(test)] mod tests`) are tests too.
        let product = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in product.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for call in [
                ".query(",
                ".query_one(",
                ".query_opt(",
                ".query_raw(",
                ".execute(",
                ".prepare(",
            ] {
                if code.contains(call) {
                    bad.push(format!("{path}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "named prepared statements in product code (use query_typed*):\n{}",
        bad.join("\n")
    );
}
