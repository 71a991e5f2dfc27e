//! Snapshot driver for the bad-model corpus: reads every `fixtures/errors/<case>/` (its
//! `models.rs` and any other `.rs` file beside it) and snapshots the rendered errors as
//! `snapshots/errors__<case>.snap`.

use std::path::{Path, PathBuf};

use retort_model_reader::{read_files, ReadOptions};

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

#[test]
fn error_fixtures() {
    let root = workspace_root();
    // Messages name files as given; reading from the workspace root keeps them relative.
    std::env::set_current_dir(&root).expect("workspace root is a directory");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!(root.join("fixtures/errors"), "*/models.rs", |path| {
            let relative = path.strip_prefix(&root).unwrap_or(path).to_path_buf();
            let case = relative
                .parent()
                .and_then(Path::file_name)
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Every `.rs` file of the case is read (sorted by name); a `schemas` file (one
            // schema a line) stands for `[scope] schemas`.
            let dir = relative.parent().unwrap_or(Path::new("")).to_path_buf();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .expect("case directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect();
            files.sort();
            let mut opts = ReadOptions::default();
            if let Ok(text) = std::fs::read_to_string(dir.join("schemas")) {
                opts.schemas = Some(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            let text = match read_files(&files, &opts) {
                Ok(_) => format!("error: fixture {case} was read without errors"),
                Err(errors) => errors.to_string(),
            };
            let mut settings = insta::Settings::clone_current();
            settings.remove_snapshot_suffix();
            settings.bind(|| insta::assert_snapshot!(format!("errors__{case}"), text));
        });
    });
}
