//! File-system entry points: reading model files and expanding the `[models] paths` globs.
//! IO problems become `ModelError`s that name the file or pattern, never panics.

use std::path::{Path, PathBuf};

use crate::{read_sources, ModelError, ModelErrors, Models, ReadOptions, Span};

fn whole(file: impl Into<String>, message: impl Into<String>) -> ModelError {
    ModelError {
        span: Span {
            file: file.into(),
            line: 0,
            col: 0,
        },
        message: message.into(),
    }
}

pub fn read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<Models, ModelErrors> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push((name, text)),
            Err(err) => errors.push(whole(name, format!("cannot read model file: {err}"))),
        }
    }
    match read_sources(&sources, opts) {
        Ok(models) if errors.is_empty() => Ok(models),
        Ok(_) => Err(ModelErrors(errors)),
        Err(ModelErrors(more)) => {
            errors.extend(more);
            Err(ModelErrors(errors))
        }
    }
}

pub fn expand_globs(base: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, ModelErrors> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let here = base.as_os_str().is_empty() || base == Path::new(".");
    for pattern in patterns {
        let full = if here || Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            let escaped = glob::Pattern::escape(&base.display().to_string());
            format!("{}/{pattern}", escaped.trim_end_matches('/'))
        };
        let entries = match glob::glob(&full) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push(whole(pattern.as_str(), format!("invalid pattern: {err}")));
                continue;
            }
        };
        let mut matched = false;
        for entry in entries {
            match entry {
                Ok(path) if path.is_file() => {
                    matched = true;
                    found.push(path);
                }
                Ok(_) => {}
                Err(err) => errors.push(whole(pattern.as_str(), format!("cannot read: {err}"))),
            }
        }
        if !matched {
            errors.push(whole(pattern.as_str(), "pattern matches no file"));
        }
    }
    if !errors.is_empty() {
        return Err(ModelErrors(errors));
    }
    found.sort();
    found.dedup();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_expand_sorted_and_report_empty_patterns() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = expand_globs(base, &["src/syntax/*.rs".into(), "src/lib.rs".into()]);
        let files = files.unwrap_or_default();
        let names: Vec<String> = files
            .iter()
            .filter_map(|p| p.strip_prefix(base).ok())
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "src/lib.rs",
                "src/syntax/attrs.rs",
                "src/syntax/diesel.rs",
                "src/syntax/mod.rs",
                "src/syntax/namespace.rs",
                "src/syntax/seaorm.rs",
                "src/syntax/seaorm_expanded.rs",
                "src/syntax/ty.rs"
            ]
        );
        let err = expand_globs(base, &["src/*.nothing".into()]).map(|_| ());
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("src/*.nothing: pattern matches no file".to_string())
        );
    }

    #[test]
    fn unreadable_files_are_located_errors() {
        let err = read_files(
            &[PathBuf::from("no/such/models.rs")],
            &ReadOptions::default(),
        );
        let text = err.map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&text, Err(t) if t.starts_with("no/such/models.rs: cannot read model file: ")),
            "{text:?}"
        );
    }
}
