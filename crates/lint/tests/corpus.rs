//! The lint corpus: every `fixtures/lint/<case>.sql` linted, findings snapshotted in one file;
//! and every generated up.sql in the top-level `snapshots/` lints without an error-level finding.

use retort_lint::{lint, text_line, Severity, DROP_COLUMN, DROP_TABLE};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn corpus() {
    let mut out = String::new();
    for path in files(&workspace().join("fixtures/lint"), ".sql") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        out.push_str(&format!("== {name}\n"));
        let found = lint(&text);
        if found.is_empty() {
            out.push_str("(no findings)\n");
        }
        for f in &found {
            out.push_str(&text_line(&name, f));
            out.push('\n');
        }
    }
    insta::assert_snapshot!("corpus", out);
}

/// The body of an insta snapshot file (after its `---` header).
fn snapshot_body(text: &str) -> &str {
    let rest = text.strip_prefix("---\n").unwrap_or(text);
    rest.split_once("\n---\n").map_or(rest, |(_, b)| b)
}

#[test]
fn generated_migrations_have_no_errors() {
    let mut bad = Vec::new();
    let ups = files(&workspace().join("snapshots"), "__up.snap");
    assert!(ups.len() > 20, "found the generated up.sql snapshots");
    for path in ups {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for f in lint(snapshot_body(&text)) {
            // Dropping a table or column is the user's intent (a model was removed); Retort
            // writes a `-- WARNING (data loss)` above most such statements, not all.
            let intended = f.rule == DROP_TABLE.id || f.rule == DROP_COLUMN.id;
            if f.severity == Severity::Error && !intended {
                bad.push(text_line(&name, &f));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "generated migrations with errors:\n{}",
        bad.join("\n")
    );
}
