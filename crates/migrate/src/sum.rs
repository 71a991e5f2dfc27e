//! `retort.sum`: the checksum of every migration file, so that editing, removing or inserting
//! history is caught before anything runs, in a format two git branches can merge without conflict.
//!
//! Format (v2): the line [`V2_HEADER`], then one line per file, sorted,
//! `<id>/up.sql h1:<hash>` and `<id>/down.sql h1:<hash>`, where `<hash>` is the base64 sha256 of
//! the file's relative path, a zero byte and its bytes. Each line stands alone (the graph order
//! lives in the files' own `revises` headers, which the hashes cover), so branches that add
//! different migrations only add different lines: with `merge=union` (the `.gitattributes` Retort
//! writes next to it) git merges them cleanly, and the next write sorts them again.
//! The older chained format (first line `h1:<total>`) is still verified; writing upgrades it.

use crate::error::{ChecksumProblem, Error};
use crate::file::{DOWN_FILE, UP_FILE};
use crate::graph::Graph;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// File name of the checksum file inside the migrations directory.
pub const SUM_FILE: &str = "retort.sum";

/// First line of a v2 `retort.sum`.
pub const V2_HEADER: &str = "retort.sum v2 (one line per file; merge=union safe)";

/// What `.gitattributes` next to `retort.sum` must say for branch merges to be conflict-free.
const GITATTRIBUTES_LINE: &str = "retort.sum merge=union";

fn file_hash(path: &str, bytes: &[u8]) -> String {
    chain_hash("", path, bytes)
}

fn b64(digest: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn chain_hash(previous: &str, path: &str, bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(path.as_bytes());
    h.update([0u8]);
    h.update(bytes);
    format!("h1:{}", b64(&h.finalize()))
}

fn total_hash(lines: &[String]) -> String {
    let mut h = Sha256::new();
    for line in lines {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    format!("h1:{}", b64(&h.finalize()))
}

/// The files covered by the sum, in graph order: `(relative path, absolute path)`.
fn files(graph: &Graph) -> Vec<(String, PathBuf)> {
    graph
        .iter()
        .flat_map(|m| {
            [
                (format!("{}/{UP_FILE}", m.id), m.up_path()),
                (format!("{}/{DOWN_FILE}", m.id), m.down_path()),
            ]
        })
        .collect()
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The text of `retort.sum` for the files as they are now (v2, sorted).
pub fn sum_text(graph: &Graph) -> Result<String, Error> {
    let mut lines = Vec::new();
    for (rel, path) in files(graph) {
        lines.push(format!("{rel} {}", file_hash(&rel, &read_bytes(&path)?)));
    }
    lines.sort();
    let mut text = format!("{V2_HEADER}\n");
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

/// Writes `dir/retort.sum` for the files as they are now, and makes sure `dir/.gitattributes`
/// merges it as a union (an existing file keeps its other lines).
pub fn write_sum(dir: &Path, graph: &Graph) -> Result<(), Error> {
    let text = sum_text(graph)?;
    let path = dir.join(SUM_FILE);
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    let attrs = dir.join(".gitattributes");
    let existing = match std::fs::read_to_string(&attrs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(attrs, e)),
    };
    if !existing.lines().any(|l| l.trim() == GITATTRIBUTES_LINE) {
        let mut t = existing;
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str(GITATTRIBUTES_LINE);
        t.push('\n');
        std::fs::write(&attrs, t).map_err(|e| Error::io(attrs, e))?;
    }
    Ok(())
}

/// The `(file, hash)` lines of a v2 sum; identical duplicates (left by a union merge) count once,
/// two different hashes for one file are a malformed sum.
fn v2_records<'t>(path: &Path, text: &'t str) -> Result<Vec<(&'t str, &'t str)>, Error> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = || Error::SumMalformed {
            path: path.to_path_buf(),
            line: i + 1,
        };
        let (rel, hash) = line.rsplit_once(' ').ok_or_else(malformed)?;
        if !hash.starts_with("h1:") || rel.is_empty() {
            return Err(malformed());
        }
        match out.iter().find(|(r, _)| *r == rel) {
            Some((_, h)) if *h == hash => {}
            Some(_) => return Err(malformed()),
            None => out.push((rel, hash)),
        }
    }
    Ok(out)
}

/// Checks every migration file against `dir/retort.sum` and names the first file that differs.
/// A missing sum file is fine only while there are no migrations.
pub fn verify_sum(dir: &Path, graph: &Graph) -> Result<(), Error> {
    let path = dir.join(SUM_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if graph.is_empty() {
                Ok(())
            } else {
                Err(Error::SumMissing { path })
            };
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut raw_lines = text.lines();
    let total = raw_lines.next().unwrap_or("");
    if total == V2_HEADER {
        return verify_v2(&path, &text, graph);
    }
    if !total.starts_with("h1:") {
        return Err(Error::SumMalformed { path, line: 1 });
    }
    let lines: Vec<String> = raw_lines.map(str::to_string).collect();
    let mut recorded = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match line.rsplit_once(' ') {
            Some((rel, hash)) if hash.starts_with("h1:") && !rel.is_empty() => {
                recorded.push((rel, hash))
            }
            _ => return Err(Error::SumMalformed { path, line: i + 2 }),
        }
    }
    if total_hash(&lines) != total {
        return Err(Error::Checksum {
            file: SUM_FILE.into(),
            problem: ChecksumProblem::SumEdited,
        });
    }
    let expected = files(graph);
    let mut previous = "";
    for i in 0..expected.len().max(recorded.len()) {
        let (exp, rec) = (expected.get(i), recorded.get(i));
        let problem = match (exp, rec) {
            (Some((rel, _)), None) => Some((rel.clone(), ChecksumProblem::NotRecorded)),
            (None, Some((rel, _))) => Some((rel.to_string(), ChecksumProblem::Removed)),
            (Some((exp_rel, abs)), Some((rec_rel, rec_hash))) => {
                if exp_rel != rec_rel {
                    let exp_recorded = recorded.iter().any(|(r, _)| r == exp_rel);
                    let rec_exists = expected.iter().any(|(e, _)| e == rec_rel);
                    Some(if !exp_recorded {
                        (exp_rel.clone(), ChecksumProblem::NotRecorded)
                    } else if !rec_exists {
                        (rec_rel.to_string(), ChecksumProblem::Removed)
                    } else {
                        (exp_rel.clone(), ChecksumProblem::Reordered)
                    })
                } else if chain_hash(previous, exp_rel, &read_bytes(abs)?) != *rec_hash {
                    Some((exp_rel.clone(), ChecksumProblem::Edited))
                } else {
                    None
                }
            }
            (None, None) => None,
        };
        if let Some((file, problem)) = problem {
            return Err(Error::Checksum { file, problem });
        }
        if let Some((_, hash)) = rec {
            previous = hash;
        }
    }
    Ok(())
}

/// Verifies a v2 sum: every file of the graph is listed with its hash, and nothing else is.
fn verify_v2(path: &Path, text: &str, graph: &Graph) -> Result<(), Error> {
    let recorded = v2_records(path, text)?;
    let expected = files(graph);
    for (rel, abs) in &expected {
        let problem = match recorded.iter().find(|(r, _)| r == rel) {
            None => Some(ChecksumProblem::NotRecorded),
            Some((_, hash)) if file_hash(rel, &read_bytes(abs)?) != *hash => {
                Some(ChecksumProblem::Edited)
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(Error::Checksum {
                file: rel.clone(),
                problem,
            });
        }
    }
    // The first removed file in history order (a migration's up.sql before its down.sql).
    if let Some((rel, _)) = recorded
        .iter()
        .filter(|(r, _)| !expected.iter().any(|(e, _)| e == r))
        .min_by_key(|(r, _)| (r.rsplit_once('/').map(|x| x.0), !r.ends_with(UP_FILE)))
    {
        return Err(Error::Checksum {
            file: rel.to_string(),
            problem: ChecksumProblem::Removed,
        });
    }
    Ok(())
}

/// Files (`<id>/up.sql`, `<id>/down.sql`) whose bytes differ from what `retort.sum` recorded for
/// them, or that it does not list. Each file is checked against its own recorded line (with the
/// recorded hash before it), so one edit does not make every later file look edited.
pub fn edited_files(dir: &Path, graph: &Graph) -> Result<Vec<String>, Error> {
    let path = dir.join(SUM_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    if text.lines().next() == Some(V2_HEADER) {
        let recorded = v2_records(&path, &text)?;
        let mut edited = Vec::new();
        for (rel, abs) in files(graph) {
            let ok = match recorded.iter().find(|(r, _)| *r == rel) {
                Some((_, hash)) => file_hash(&rel, &read_bytes(&abs)?) == *hash,
                None => false,
            };
            if !ok {
                edited.push(rel);
            }
        }
        return Ok(edited);
    }
    let recorded: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit_once(' '))
        .collect();
    let mut edited = Vec::new();
    for (rel, abs) in files(graph) {
        let pos = recorded.iter().position(|(r, _)| *r == rel);
        let ok = match pos {
            None => false,
            Some(i) => {
                let previous = if i == 0 { "" } else { recorded[i - 1].1 };
                chain_hash(previous, &rel, &read_bytes(&abs)?) == recorded[i].1
            }
        };
        if !ok {
            edited.push(rel);
        }
    }
    Ok(edited)
}
