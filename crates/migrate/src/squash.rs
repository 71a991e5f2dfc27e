//! `retort squash`: a line of revisions folded into one that keeps the last one's id, whose up
//! runs their ups in order and whose down runs their downs in reverse, steps kept.

use crate::error::Error;
use crate::file::{down_header, up_header, Migration, Part, DOWN_FILE, STEP_MARK, UP_FILE};
use crate::graph::Graph;
use crate::sum;
use std::path::Path;

/// What `retort squash` writes: the files of the revision that takes the place of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squash {
    /// The id kept: the last revision of the line, so that databases at it (or after it) and
    /// the revisions that revise it need no change.
    pub id: String,
    /// The revisions folded in, first to last (`id` included).
    pub line: Vec<String>,
    /// The parents of the first one.
    pub parents: Vec<String>,
    /// What the `-- retort:replaces` header lists: every other revision of the line, and what
    /// those had replaced themselves.
    pub replaces: Vec<String>,
    /// up.sql in full.
    pub up: String,
    /// down.sql in full.
    pub down: String,
}

fn refuse(reason: String) -> Error {
    Error::Target {
        spec: "squash".into(),
        reason,
    }
}

/// The line of revisions from `first` to `last` (resolved ids): each one after `first` has one
/// parent, the one before it, and each one before `last` has one child, the one after it.
fn line_between(graph: &Graph, first: &str, last: &str) -> Result<Vec<String>, Error> {
    let mut line = vec![last.to_string()];
    let mut cur = last.to_string();
    while cur != first {
        let m = graph
            .get(&cur)
            .ok_or_else(|| refuse(format!("no revision {cur}")))?;
        match m.parents.as_slice() {
            [parent] => {
                let siblings = graph.children(parent);
                if siblings.len() > 1 {
                    let other: Vec<&str> = siblings
                        .iter()
                        .filter(|c| **c != cur)
                        .map(String::as_str)
                        .collect();
                    return Err(refuse(format!(
                        "{parent} has other children ({}); folding it in would take their parent \
                         away (squash up to the revision before it, or merge the branches first)",
                        other.join(", ")
                    )));
                }
                cur = parent.clone();
                line.push(cur.clone());
            }
            [] => {
                return Err(refuse(format!(
                    "{first} is not an ancestor of {last} (squash FROM TO names the older \
                     revision first)"
                )))
            }
            _ => {
                return Err(refuse(format!(
                    "{cur} is a merge of {}; only a line of revisions without merges can be \
                     squashed (a merge may be the first one)",
                    m.parents.join(", ")
                )))
            }
        }
    }
    line.reverse();
    if line.len() < 2 {
        return Err(refuse(
            "FROM and TO are the same revision: nothing to fold".into(),
        ));
    }
    Ok(line)
}

/// A file's steps: `(text without its step line, no-transaction)`.
fn steps_of(parts: &[Part]) -> Vec<(String, bool)> {
    parts
        .iter()
        .map(|p| {
            let text = match p.sql.split_once('\n') {
                Some((first, rest)) if first.starts_with(STEP_MARK) => rest,
                _ if p.sql.starts_with(STEP_MARK) => "",
                _ => p.sql.as_str(),
            };
            (terminated(text.trim_matches('\n')), p.no_transaction)
        })
        .collect()
}

/// `text` with a `;` after its last statement when it has none, so that another file's
/// statements can follow it.
fn terminated(text: &str) -> String {
    let mut text = text.to_string();
    if let Some(last) = crate::split::split_statements(&text)
        .ok()
        .and_then(|s| s.into_iter().last())
        .filter(|s| !s.terminated)
    {
        text.insert(last.offset + last.sql.len(), ';');
    }
    text
}

/// One file's body from the migrations' files in the order given. The steps inside a file stay
/// as they were; where one file ends and the next begins, two steps that both run in a
/// transaction become one (so files without steps make one step together).
fn body(sources: &[(&Migration, &[Part])]) -> (String, bool) {
    let mut steps: Vec<(String, bool)> = Vec::new(); // text, no-transaction
    for (m, parts) in sources {
        let label = format!("-- {}: {}", m.id, m.message);
        for (i, (text, no_transaction)) in steps_of(parts).into_iter().enumerate() {
            let text = if i == 0 {
                format!("{label}\n{text}")
            } else {
                text
            };
            let text = text.trim_end().to_string();
            match steps.last_mut() {
                Some((prev, false)) if i == 0 && !no_transaction => {
                    prev.push_str("\n\n");
                    prev.push_str(&text);
                }
                _ => steps.push((text, no_transaction)),
            }
        }
    }
    if let [(text, no_transaction)] = steps.as_slice() {
        return (format!("{text}\n"), *no_transaction);
    }
    let mut out = String::new();
    for (i, (text, no_transaction)) in steps.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(STEP_MARK);
        if *no_transaction {
            out.push_str(" no-transaction");
        }
        out.push('\n');
        out.push_str(text);
        out.push('\n');
    }
    (out, false)
}

/// The revision that takes the place of the line `first`..`last` (ids or prefixes), with
/// `message` (default: the messages of the line). Refuses a line with merges or branches inside.
pub fn plan_squash(
    graph: &Graph,
    first: &str,
    last: &str,
    message: Option<&str>,
    created: &chrono::DateTime<chrono::Utc>,
) -> Result<Squash, Error> {
    let first = graph.resolve(first)?;
    let last = graph.resolve(last)?;
    let line = line_between(graph, &first, &last)?;
    let migrations: Vec<&Migration> = line.iter().filter_map(|id| graph.get(id)).collect();
    let ups: Vec<(&Migration, &[Part])> = migrations
        .iter()
        .map(|m| (*m, m.up_parts.as_slice()))
        .collect();
    let downs: Vec<(&Migration, &[Part])> = migrations
        .iter()
        .rev()
        .map(|m| (*m, m.down_parts.as_slice()))
        .collect();
    let (up_body, up_no_transaction) = body(&ups);
    let (down_body, down_no_transaction) = body(&downs);
    let mut replaces = Vec::new();
    for m in &migrations {
        replaces.extend(m.replaces.iter().cloned());
        if m.id != last {
            replaces.push(m.id.clone());
        }
    }
    let message = match message {
        Some(m) => m.split_whitespace().collect::<Vec<_>>().join(" "),
        None => format!(
            "squash of {}",
            migrations
                .iter()
                .map(|m| m.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let parents = migrations[0].parents.clone();
    let created = created.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let up = format!(
        "{}-- Squashed from {} revisions; databases at one of the replaced ones upgrade to {last}\n\
         -- with the files as they were before the squash.\n\n{up_body}",
        up_header(&last, &parents, &message, &created, &replaces, up_no_transaction),
        line.len(),
    );
    let down = format!("{}\n{down_body}", down_header(&last, down_no_transaction));
    Ok(Squash {
        id: last,
        line,
        parents,
        replaces,
        up,
        down,
    })
}

/// Writes `squash` into `migrations_dir` (the real one, or a copy to try it on): the kept
/// revision's files are replaced, the other revisions' up.sql and down.sql removed (their
/// directory too when nothing else is left in it), and retort.sum rewritten. Refuses when
/// retort.sum does not match the files as they are (the squash would bless an edit).
pub fn write_squash(migrations_dir: &Path, squash: &Squash) -> Result<Graph, Error> {
    let graph = crate::file::load(migrations_dir)?;
    if migrations_dir.join(sum::SUM_FILE).exists() {
        sum::verify_sum(migrations_dir, &graph)?;
    }
    let kept = graph
        .get(&squash.id)
        .ok_or_else(|| Error::UnknownRevision {
            spec: squash.id.clone(),
            candidates: Vec::new(),
        })?;
    for (file, text) in [(UP_FILE, &squash.up), (DOWN_FILE, &squash.down)] {
        let path = kept.dir.join(file);
        let tmp = kept.dir.join(format!(".{file}.squash"));
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    for id in squash.line.iter().filter(|id| **id != squash.id) {
        let Some(m) = graph.get(id) else { continue };
        for path in [m.up_path(), m.down_path()] {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        // Anything else a user kept there stays (a directory without up.sql is no revision).
        let _ = std::fs::remove_dir(&m.dir);
    }
    let graph = crate::file::load(migrations_dir)?;
    sum::write_sum(migrations_dir, &graph)?;
    Ok(graph)
}
