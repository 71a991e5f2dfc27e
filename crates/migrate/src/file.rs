//! Migration files on disk: one directory per revision holding `up.sql` and `down.sql`, each opening
//! with `-- retort:` header directives; reading them back, writing new ones, and naming them.

use crate::error::Error;
use crate::graph::Graph;
use crate::sum;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// File name of the upgrade script inside a revision directory.
pub const UP_FILE: &str = "up.sql";
/// File name of the downgrade script inside a revision directory.
pub const DOWN_FILE: &str = "down.sql";

const BANNER: &str =
    "-- Review this migration before applying it. Each statement runs in one transaction\n\
                      -- with the version-table update unless marked `-- retort:no-transaction`.\n";

/// One revision as read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The revision id, which is also the directory name.
    pub id: String,
    /// Parent revision ids (empty for a base, several for a merge).
    pub parents: Vec<String>,
    pub message: String,
    /// RFC 3339 creation time from the header, as written.
    pub created: String,
    /// The revision directory.
    pub dir: PathBuf,
    /// Body of up.sql (the text after the header).
    pub up: String,
    /// Body of down.sql (the text after the header).
    pub down: String,
    /// 1-based line of up.sql on which `up` starts.
    pub up_line: usize,
    /// 1-based line of down.sql on which `down` starts.
    pub down_line: usize,
    /// up.sql carries `-- retort:no-transaction`.
    pub up_no_transaction: bool,
    /// down.sql carries `-- retort:no-transaction`.
    pub down_no_transaction: bool,
    /// `h1:<base64 sha256>` of up.sql and down.sql as read: what the version table records when
    /// the migration is applied (see [`migration_checksum`]).
    pub checksum: String,
    /// The steps of up.sql (one when it has no `-- retort:step` line).
    pub up_parts: Vec<Part>,
    /// The steps of down.sql.
    pub down_parts: Vec<Part>,
    /// Revisions this one took the place of (`-- retort:replaces`, written by `retort squash`):
    /// a database still at one of them is told so instead of being at an unknown revision.
    pub replaces: Vec<String>,
}

/// Starts a new step inside a migration body: `-- retort:step` (in a transaction) or
/// `-- retort:step no-transaction`.
pub const STEP_MARK: &str = "-- retort:step";

/// One step of a migration file: its statements up to the next `-- retort:step` line, run and
/// recorded on their own, so that a failure in a later step resumes there. (In code a step of a
/// file is a `Part`, since [`crate::Step`] is one migration run in one direction.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The step's text (its `-- retort:step` line included, as a comment).
    pub sql: String,
    /// 1-based line of the file on which `sql` starts.
    pub first_line: usize,
    /// Runs outside a transaction: `-- retort:step no-transaction`, or the file's header says
    /// `-- retort:no-transaction`.
    pub no_transaction: bool,
}

impl Part {
    /// A body without step lines: one step.
    pub fn whole(sql: &str, first_line: usize, no_transaction: bool) -> Vec<Part> {
        vec![Part {
            sql: sql.to_string(),
            first_line,
            no_transaction,
        }]
    }
}

impl Migration {
    pub fn up_path(&self) -> PathBuf {
        self.dir.join(UP_FILE)
    }

    pub fn down_path(&self) -> PathBuf {
        self.dir.join(DOWN_FILE)
    }

    /// True when the migration joins several parents.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// What `write_revision` needs to create a migration.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    pub message: &'a str,
    /// Full ids of the parents; empty for the first migration, several for a merge.
    pub parents: Vec<String>,
    /// Creation time; it also gives the id its `YYYYMMDD_HHMMSS` prefix.
    pub created: DateTime<Utc>,
    pub up_body: String,
    pub down_body: String,
    /// Write `-- retort:no-transaction` into up.sql: its statements cannot run in a transaction
    /// (for example `CREATE INDEX CONCURRENTLY`).
    pub up_no_transaction: bool,
    /// The same for down.sql.
    pub down_no_transaction: bool,
}

/// The directory-name part derived from a message: lower-case ASCII letters and digits, every
/// other run of characters turned into one `_`, trimmed, at most 40 characters.
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.truncate(40);
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The revision id for a message and creation time: `YYYYMMDD_HHMMSS_<slug>`.
pub fn revision_id(message: &str, created: &DateTime<Utc>) -> String {
    let stamp = created.format("%Y%m%d_%H%M%S").to_string();
    let slug = slug(message);
    if slug.is_empty() {
        stamp
    } else {
        format!("{stamp}_{slug}")
    }
}

/// Creates the revision directory with up.sql and down.sql, then rewrites retort.sum.
/// Fails if the directory exists, if a parent is unknown, if the existing history is broken, or
/// if an existing retort.sum does not match the files (writing a new sum would bless the edit;
/// accept edits explicitly with [`rehash`]).
pub fn write_revision(migrations_dir: &Path, rev: &NewRevision) -> Result<Migration, Error> {
    let existing = load(migrations_dir)?;
    if migrations_dir.join(sum::SUM_FILE).exists() {
        sum::verify_sum(migrations_dir, &existing)?;
    }
    let id = revision_id(rev.message, &rev.created);
    for parent in &rev.parents {
        if existing.get(parent).is_none() {
            return Err(Error::MissingParent {
                id,
                parent: parent.clone(),
                dir: migrations_dir.to_path_buf(),
            });
        }
    }
    let dir = migrations_dir.join(&id);
    if dir.exists() || existing.get(&id).is_some() {
        return Err(Error::RevisionExists { dir });
    }
    std::fs::create_dir_all(migrations_dir).map_err(|e| Error::io(migrations_dir, e))?;
    std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;

    let message = rev.message.split_whitespace().collect::<Vec<_>>().join(" ");
    let created = rev.created.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let up = format!(
        "{}{BANNER}\n{}",
        up_header(
            &id,
            &rev.parents,
            &message,
            &created,
            &[],
            rev.up_no_transaction
        ),
        with_newline(&rev.up_body)
    );
    let down = format!(
        "{}\n{}",
        down_header(&id, rev.down_no_transaction),
        with_newline(&rev.down_body)
    );
    write_file(&dir.join(UP_FILE), &up)?;
    write_file(&dir.join(DOWN_FILE), &down)?;

    let graph = load(migrations_dir)?;
    sum::write_sum(migrations_dir, &graph)?;
    graph
        .get(&id)
        .cloned()
        .ok_or_else(|| Error::UnknownRevision {
            spec: id,
            candidates: Vec::new(),
        })
}

/// The directives of an up.sql: id, parents (`base` for none), message, creation time, the
/// revisions it replaces (when squashed), and `no-transaction` when asked.
pub(crate) fn up_header(
    id: &str,
    parents: &[String],
    message: &str,
    created: &str,
    replaces: &[String],
    no_transaction: bool,
) -> String {
    let revises = if parents.is_empty() {
        "base".to_string()
    } else {
        parents.join(" ")
    };
    let mut out = format!(
        "-- retort:revision {id}\n-- retort:revises {revises}\n-- retort:message {message}\n\
         -- retort:created {created}\n"
    );
    if !replaces.is_empty() {
        out.push_str(&format!("-- retort:replaces {}\n", replaces.join(" ")));
    }
    if no_transaction {
        out.push_str("-- retort:no-transaction\n");
    }
    out
}

/// The directives of a down.sql.
pub(crate) fn down_header(id: &str, no_transaction: bool) -> String {
    let mut out = format!("-- retort:revision {id}\n-- retort:down\n");
    if no_transaction {
        out.push_str("-- retort:no-transaction\n");
    }
    out
}

/// Rewrites retort.sum for the files as they are now, accepting every edit (`retort hash`).
pub fn rehash(migrations_dir: &Path) -> Result<Graph, Error> {
    let graph = load(migrations_dir)?;
    sum::write_sum(migrations_dir, &graph)?;
    Ok(graph)
}

fn with_newline(body: &str) -> String {
    let trimmed = body.trim_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Reads every revision directory under `migrations_dir` into a [`Graph`]. A missing directory
/// is an empty history; sub-directories holding neither up.sql nor down.sql are ignored.
pub fn load(migrations_dir: &Path) -> Result<Graph, Error> {
    let entries = match std::fs::read_dir(migrations_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Graph::new(migrations_dir, Vec::new())
        }
        Err(e) => return Err(Error::io(migrations_dir, e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(migrations_dir, e))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            dirs.push(path);
        }
    }
    dirs.sort();
    let mut migrations = Vec::new();
    for dir in dirs {
        let up_path = dir.join(UP_FILE);
        let down_path = dir.join(DOWN_FILE);
        match (up_path.exists(), down_path.exists()) {
            (false, false) => continue,
            (true, false) => return Err(missing_file(&down_path)),
            (false, true) => return Err(missing_file(&up_path)),
            (true, true) => {}
        }
        migrations.push(read_migration(&dir)?);
    }
    Graph::new(migrations_dir, migrations)
}

fn missing_file(path: &Path) -> Error {
    Error::Header {
        file: path.to_path_buf(),
        line: 1,
        message: "file is missing (every revision directory holds up.sql and down.sql)".into(),
    }
}

/// Reads one revision directory (without checking its id against the directory name).
fn read_migration(dir: &Path) -> Result<Migration, Error> {
    let up_path = dir.join(UP_FILE);
    let down_path = dir.join(DOWN_FILE);
    let up_text = read_text(&up_path)?;
    let down_text = read_text(&down_path)?;
    let up = parse_file(&up_path, &up_text, Kind::Up)?;
    let down = parse_file(&down_path, &down_text, Kind::Down)?;
    check_complete(&up_path, &up)?;
    check_complete(&down_path, &down)?;
    let id = up.revision.clone();
    if down.revision != id {
        return Err(Error::Header {
            file: down_path,
            line: down.revision_line,
            message: format!("revision {} does not match up.sql ({id})", down.revision),
        });
    }
    let up_parts = parts_of(&up_path, &up)?;
    let down_parts = parts_of(&down_path, &down)?;
    Ok(Migration {
        id,
        up_parts,
        down_parts,
        parents: up.parents,
        replaces: up.replaces,
        message: up.message,
        created: up.created,
        dir: dir.to_path_buf(),
        up: up.body,
        down: down.body,
        up_line: up.body_line,
        down_line: down.body_line,
        up_no_transaction: up.no_transaction,
        down_no_transaction: down.no_transaction,
        checksum: migration_checksum(up_text.as_bytes(), down_text.as_bytes()),
    })
}

/// The checksum of one migration: `h1:` and the base64 sha256 of up.sql's bytes, a zero byte and
/// down.sql's bytes. The runner stores it in the version table with the migration, so that a run
/// interrupted before retort.sum was rewritten can be continued (see `Runner::run`).
pub fn migration_checksum(up: &[u8], down: &[u8]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(up);
    h.update([0u8]);
    h.update(down);
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

/// The checksum of the steps an interrupted run committed (the progress table's `checksum`): a
/// later run continues only while their text is unchanged, and may meanwhile fix the steps that
/// have not run.
pub fn parts_checksum(parts: &[Part]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.sql.as_bytes());
        h.update([0u8, u8::from(p.no_transaction)]);
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

/// A file is read completely or not at all: an unclosed comment, string, quoted identifier or
/// dollar quote would swallow the rest of the file, so it is an error naming its opening line.
fn check_complete(path: &Path, parsed: &Parsed) -> Result<(), Error> {
    crate::split::split_statements(&parsed.body)
        .map(|_| ())
        .map_err(|e| Error::Header {
            file: path.to_path_buf(),
            line: parsed.body_line + e.line - 1,
            message: e.to_string(),
        })
}

pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|_| Error::Header {
        file: path.to_path_buf(),
        line: 1,
        message: "file is not valid UTF-8".into(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Up,
    Down,
}

#[derive(Debug, Default)]
struct Parsed {
    revision: String,
    revision_line: usize,
    parents: Vec<String>,
    message: String,
    created: String,
    no_transaction: bool,
    replaces: Vec<String>,
    body: String,
    body_line: usize,
    /// `-- retort:step` lines of the body: byte offset in the file, line, no-transaction.
    markers: Vec<(usize, usize, bool)>,
}

const DIRECTIVE: &str = "-- retort:";

/// Splits a file into its header (the leading `--` lines) and body, reading the directives.
fn parse_file(path: &Path, text: &str, kind: Kind) -> Result<Parsed, Error> {
    let err = |line: usize, message: String| Error::Header {
        file: path.to_path_buf(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parsed = Parsed::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut revises_seen = false;
    let mut down_seen = false;
    let mut offset = 0;
    let mut line_no = 0;
    let mut in_header = true;
    let mut body_start = None;
    for raw in text.split_inclusive('\n') {
        line_no += 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        let is_directive = line.starts_with(DIRECTIVE);
        let step_mark = step_marker(line);
        if in_header && (!line.starts_with("--") || step_mark.is_some()) {
            in_header = false;
        }
        if !in_header {
            if body_start.is_none() && !line.trim().is_empty() {
                body_start = Some((offset, line_no));
            }
            match step_mark {
                Some(Ok(no_transaction)) => parsed.markers.push((offset, line_no, no_transaction)),
                Some(Err(message)) => return Err(err(line_no, message)),
                // `-- retort:allow RULE` above a statement is for `retort lint`.
                None if is_directive && !line.starts_with("-- retort:allow") => {
                    return Err(err(
                        line_no,
                        "`-- retort:` directives belong in the header at the top of the file \
                         (in the body only `-- retort:step [no-transaction]` and \
                         `-- retort:allow RULE` lines)"
                            .into(),
                    ));
                }
                None => {}
            }
            offset += raw.len();
            continue;
        }
        offset += raw.len();
        let Some(rest) = line.strip_prefix(DIRECTIVE) else {
            continue;
        };
        if rest.starts_with("allow ") {
            // A `retort lint` suppression directly above the first statement.
            continue;
        }
        let (name, value) = match rest.split_once(char::is_whitespace) {
            Some((n, v)) => (n, v.trim()),
            None => (rest.trim(), ""),
        };
        if seen.contains(&name) {
            return Err(err(line_no, format!("directive `{name}` is given twice")));
        }
        let allowed = match kind {
            Kind::Up => [
                "revision",
                "revises",
                "message",
                "created",
                "no-transaction",
                "replaces",
            ]
            .as_slice(),
            Kind::Down => ["revision", "down", "no-transaction"].as_slice(),
        };
        if !allowed.contains(&name) {
            let hint = match (kind, name) {
                (Kind::Up, "down") => " (it belongs in down.sql)".to_string(),
                (Kind::Down, "revises" | "message" | "created" | "replaces") => {
                    " (it belongs in up.sql)".to_string()
                }
                _ => format!(" (known: {})", allowed.join(", ")),
            };
            return Err(err(
                line_no,
                format!("unknown directive `-- retort:{name}`{hint}"),
            ));
        }
        let takes_value = matches!(
            name,
            "revision" | "revises" | "message" | "created" | "replaces"
        );
        if takes_value && value.is_empty() && name != "message" {
            return Err(err(line_no, format!("directive `{name}` needs a value")));
        }
        if !takes_value && !value.is_empty() {
            return Err(err(line_no, format!("directive `{name}` takes no value")));
        }
        match name {
            "revision" => {
                check_id(value).map_err(|m| err(line_no, m))?;
                parsed.revision = value.to_string();
                parsed.revision_line = line_no;
            }
            "revises" => {
                revises_seen = true;
                if value != "base" {
                    for parent in value.split_whitespace() {
                        check_id(parent).map_err(|m| err(line_no, m))?;
                        if parsed.parents.iter().any(|p| p == parent) {
                            return Err(err(line_no, format!("parent {parent} is listed twice")));
                        }
                        parsed.parents.push(parent.to_string());
                    }
                }
            }
            "message" => parsed.message = value.to_string(),
            "created" => parsed.created = value.to_string(),
            "replaces" => {
                for id in value.split_whitespace() {
                    check_id(id).map_err(|m| err(line_no, m))?;
                    parsed.replaces.push(id.to_string());
                }
            }
            "no-transaction" => parsed.no_transaction = true,
            _ => down_seen = true,
        }
        seen.push(name);
    }
    if parsed.revision.is_empty() {
        return Err(err(
            1,
            "header has no `-- retort:revision <id>` line".into(),
        ));
    }
    if kind == Kind::Up && !revises_seen {
        return Err(err(
            1,
            "header has no `-- retort:revises <parent ids | base>` line".into(),
        ));
    }
    if kind == Kind::Down && !down_seen {
        return Err(err(1, "header has no `-- retort:down` line".into()));
    }
    let (body_offset, body_line) = body_start.unwrap_or((text.len(), line_no + 1));
    parsed.body = text[body_offset..].to_string();
    parsed.body_line = body_line;
    parsed.markers.iter_mut().for_each(|m| m.0 -= body_offset);
    Ok(parsed)
}

/// For a `-- retort:step` line: whether the step runs outside a transaction, or what is wrong
/// with the line; `None` for other lines.
fn step_marker(line: &str) -> Option<Result<bool, String>> {
    let rest = line.strip_prefix(STEP_MARK)?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(match rest.trim() {
        "" => Ok(false),
        "no-transaction" => Ok(true),
        other => Err(format!(
            "`-- retort:step` takes nothing or `no-transaction`, not `{other}`"
        )),
    })
}

/// The steps of a parsed file: the text before the first `-- retort:step` line (when it holds a
/// statement), then one step per such line. A step line with no statement after it is an error.
fn parts_of(path: &Path, parsed: &Parsed) -> Result<Vec<Part>, Error> {
    if parsed.markers.is_empty() {
        return Ok(Part::whole(
            &parsed.body,
            parsed.body_line,
            parsed.no_transaction,
        ));
    }
    let body = &parsed.body;
    let mut parts = Vec::new();
    let first_end = parsed.markers[0].0;
    // A step line inside a dollar quote or string (the whole body lexes) cuts it open.
    let has_statements = |text: &str, first_line: usize| {
        crate::split::split_statements(text)
            .map(|s| !s.is_empty())
            .map_err(|e| Error::Header {
                file: path.to_path_buf(),
                line: first_line + e.line - 1,
                message: format!(
                    "{e}; is a `-- retort:step` line inside a string, quoted name or dollar quote?"
                ),
            })
    };
    if has_statements(&body[..first_end], parsed.body_line)? {
        parts.push(Part {
            sql: body[..first_end].to_string(),
            first_line: parsed.body_line,
            no_transaction: parsed.no_transaction,
        });
    }
    for (i, &(start, line, no_transaction)) in parsed.markers.iter().enumerate() {
        let end = parsed.markers.get(i + 1).map_or(body.len(), |m| m.0);
        let sql = &body[start..end];
        // A step of comments only is kept (a generated down.sql mirrors an up step that only
        // validates, so both files have as many steps); a step line with nothing after it is a
        // mistake.
        has_statements(sql, line)?;
        if sql.lines().skip(1).all(|l| l.trim().is_empty()) {
            return Err(Error::Header {
                file: path.to_path_buf(),
                line,
                message: "this step is empty (remove the `-- retort:step` line, or put the step's \
                          statements after it)"
                    .into(),
            });
        }
        parts.push(Part {
            sql: sql.to_string(),
            first_line: line,
            no_transaction: no_transaction || parsed.no_transaction,
        });
    }
    Ok(parts)
}

/// Revision ids are directory names and appear space-separated in headers: ASCII letters, digits,
/// `_`, `-` and `.`, not starting with `+`/`-`, and none of the words `base`, `head`, `heads`.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    let valid_chars = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if id.is_empty() || !valid_chars || id.starts_with(['-', '.']) {
        return Err(format!(
            "`{id}` is not a valid revision id (use letters, digits, `_`, `-` and `.`)"
        ));
    }
    if matches!(id, "base" | "head" | "heads") {
        return Err(format!("`{id}` is reserved and cannot be a revision id"));
    }
    Ok(())
}

/// Checks that the directory name of each migration matches its header id.
pub(crate) fn check_dir_name(m: &Migration) -> Result<(), Error> {
    let dir_name = m.dir.file_name().map(|n| n.to_string_lossy().to_string());
    if dir_name.as_deref() != Some(m.id.as_str()) {
        return Err(Error::Header {
            file: m.up_path(),
            line: 1,
            message: format!(
                "revision {} does not match its directory name {}",
                m.id,
                dir_name.unwrap_or_default()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_lowercases_and_replaces_punctuation() {
        assert_eq!(
            slug("Add user email verification"),
            "add_user_email_verification"
        );
        assert_eq!(slug("  --Drop: \"Users\" table!! "), "drop_users_table");
        assert_eq!(slug("ünïcode ok"), "n_code_ok");
        assert_eq!(slug("!!!"), "");
        let long = slug("a very long message that keeps going on and on and on");
        assert!(long.len() <= 40);
        assert!(!long.ends_with('_'));
    }

    #[test]
    fn header_and_body_are_split() {
        let text = "-- retort:revision r1\n-- retort:revises base\n-- retort:message m\n\
                    -- retort:created 2025-01-17T10:00:00Z\n-- banner\n\nCREATE TABLE t ();\n";
        let p = parse_file(Path::new("x/up.sql"), text, Kind::Up).unwrap();
        assert_eq!(p.revision, "r1");
        assert!(p.parents.is_empty());
        assert_eq!(p.body, "CREATE TABLE t ();\n");
        assert_eq!(p.body_line, 7);
    }

    #[test]
    fn unknown_directive_names_the_line() {
        let text = "-- retort:revision r1\n-- retort:revises base\n-- retort:frobnicate\n";
        let e = parse_file(Path::new("x/up.sql"), text, Kind::Up).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x/up.sql:3: unknown directive `-- retort:frobnicate` \
             (known: revision, revises, message, created, no-transaction, replaces)"
        );
    }

    #[test]
    fn directive_in_body_is_an_error() {
        let text =
            "-- retort:revision r1\n-- retort:down\n\nDROP TABLE t;\n-- retort:no-transaction\n";
        let e = parse_file(Path::new("x/down.sql"), text, Kind::Down).unwrap_err();
        assert!(e.to_string().starts_with("x/down.sql:5: "), "{e}");
    }

    #[test]
    fn lint_allow_comments_are_not_header_errors() {
        // Directly below the header (so part of it) and above a later statement in the body.
        let text = "-- retort:revision r1\n-- retort:down\n-- retort:allow R001\nDROP TABLE t;\n\
                    -- retort:allow R002, R008\nALTER TABLE u DROP COLUMN c;\n";
        let p = parse_file(Path::new("x/down.sql"), text, Kind::Down).unwrap();
        assert_eq!(p.body_line, 4);
        assert!(p.body.ends_with("ALTER TABLE u DROP COLUMN c;\n"));
    }

    #[test]
    fn unclosed_tokens_name_the_file_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r1");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join(UP_FILE),
            "-- retort:revision r1\n-- retort:revises base\n\nCREATE TABLE t ();\n/* oops\nDROP TABLE t;\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(DOWN_FILE),
            "-- retort:revision r1\n-- retort:down\n",
        )
        .unwrap();
        let e = load(tmp.path()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("r1/up.sql:5: unterminated /* comment"),
            "{text}"
        );
    }

    fn parts(body: &str) -> Result<Vec<Part>, Error> {
        let text = format!("-- retort:revision r1\n-- retort:down\n\n{body}");
        let path = Path::new("x/down.sql");
        parts_of(path, &parse_file(path, &text, Kind::Down)?)
    }

    #[test]
    fn step_lines_cut_the_body_into_parts() {
        let p = parts(
            "CREATE TABLE a ();\n-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY i ON a ((1));\n\
             -- retort:step\nDROP TABLE b;\nDROP TABLE c;\n",
        )
        .unwrap();
        let seen: Vec<(usize, bool, &str)> = p
            .iter()
            .map(|p| (p.first_line, p.no_transaction, p.sql.trim_end()))
            .collect();
        assert_eq!(
            seen,
            [
                (4, false, "CREATE TABLE a ();"),
                (
                    5,
                    true,
                    "-- retort:step no-transaction\nCREATE INDEX CONCURRENTLY i ON a ((1));"
                ),
                (7, false, "-- retort:step\nDROP TABLE b;\nDROP TABLE c;"),
            ]
        );
        // A body starting with a step line (right after the header): no empty first part.
        let p = parts("-- retort:step no-transaction\nVACUUM a;\n").unwrap();
        assert_eq!(p.len(), 1);
        assert!(p[0].no_transaction);
        // Without step lines: one part, the whole body.
        assert_eq!(parts("DROP TABLE a;\n").unwrap().len(), 1);
    }

    #[test]
    fn bad_step_lines_name_the_line() {
        let e = parts("DROP TABLE a;\n-- retort:step\n\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x/down.sql:5: this step is empty"),
            "{e}"
        );
        // A step of comments only stands (it mirrors a step of the other file).
        assert_eq!(
            parts("DROP TABLE a;\n-- retort:step\n-- nothing to take back\n")
                .unwrap()
                .len(),
            2
        );
        let e = parts("-- retort:step later\nDROP TABLE a;\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x/down.sql:4: `-- retort:step` takes nothing or `no-transaction`, not `later`"
        );
        let e = parts("DO $$\nBEGIN\n-- retort:step\nEND $$;\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("x/down.sql:4: unterminated dollar quote")
                && e.to_string().contains("inside a string"),
            "{e}"
        );
        // `-- retort:stepped` is no step line, but an unknown directive in the body.
        assert!(parts("DROP TABLE a;\n-- retort:stepped\nDROP TABLE b;\n").is_err());
    }
}
