//! The one error type of the migrate crate: every variant names the migration, file or revision
//! it is about, so the CLI can print it as is and pick an exit code with [`Error::is_usage`].

use std::fmt;
use std::path::PathBuf;

/// What is wrong between `retort.sum` and the migration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChecksumProblem {
    /// The file's contents differ from what `retort.sum` recorded.
    Edited,
    /// The file exists but `retort.sum` does not list it.
    NotRecorded,
    /// `retort.sum` lists the file but it no longer exists.
    Removed,
    /// The file is listed at another place in history (a migration was inserted before it).
    Reordered,
    /// The first line of `retort.sum` does not match the lines below it.
    SumEdited,
}

impl fmt::Display for ChecksumProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChecksumProblem::Edited => "it was edited after retort.sum was written",
            ChecksumProblem::NotRecorded => "it is not listed in retort.sum",
            ChecksumProblem::Removed => "it is listed in retort.sum but no longer exists",
            ChecksumProblem::Reordered => {
                "it moved in history (a migration was added before it or history was rewritten)"
            }
            ChecksumProblem::SumEdited => "retort.sum itself was edited by hand",
        })
    }
}

/// Errors of the migrate crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A migration file's header (or a `-- retort:` directive) is malformed.
    #[error("{}:{line}: {message}", file.display())]
    Header {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// `write_revision` would overwrite an existing migration.
    #[error("migration directory {} already exists", dir.display())]
    RevisionExists { dir: PathBuf },
    /// A migration revises a revision that has no migration file.
    #[error("migration {id} revises {parent}, but no migration {parent} exists in {}", dir.display())]
    MissingParent {
        id: String,
        parent: String,
        dir: PathBuf,
    },
    /// The `revises` lines form a cycle; `ids` walks it and ends where it started.
    #[error("migrations form a cycle: {}", ids.join(" -> "))]
    Cycle { ids: Vec<String> },
    /// Two migration directories declare the same revision id.
    #[error("revision {id} is declared twice: in {} and in {}", first.display(), second.display())]
    DuplicateId {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// No migration matches the revision (or prefix) given by the user.
    #[error("unknown revision {spec}{}", candidates_hint(candidates))]
    UnknownRevision {
        spec: String,
        candidates: Vec<String>,
    },
    /// A revision prefix matches several migrations.
    #[error("revision {spec} is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousRevision {
        spec: String,
        candidates: Vec<String>,
    },
    /// `head` was asked for but history has several heads.
    #[error(
        "there are {} heads ({}): upgrade to `heads` to apply all of them, or join them with `retort merge`",
        heads.len(),
        heads.join(", ")
    )]
    MultipleHeads { heads: Vec<String> },
    /// An upgrade/downgrade/stamp target that cannot be used.
    #[error("invalid target {spec}: {reason}")]
    Target { spec: String, reason: String },
    /// The version table names a revision that has no migration file.
    #[error(
        "database is at revision {id} which has no migration file in {}; \
         if the file is gone on purpose, fix the version table with `retort stamp <revision> --purge`",
        dir.display()
    )]
    UnknownDbRevision { id: String, dir: PathBuf },
    /// The version table names a revision that `retort squash` folded into another one.
    #[error(
        "database is at revision {id}, which `retort squash` folded into {by}: the squashed \
         revision can only take a database from before it or leave one after it. Upgrade this \
         database to {by} with the migrations as they were before the squash (a checkout of the \
         commit before it), then use the squashed history"
    )]
    Squashed { id: String, by: String },
    /// A planned step no longer fits the database (another process changed it since planning).
    #[error("cannot run migration {id}: {reason}")]
    PlanOutdated { id: String, reason: String },
    /// A migration with steps was interrupted partway, and its state cannot be continued as asked.
    #[error("migration {id} was interrupted partway: {reason}")]
    PartialRun { id: String, reason: String },
    /// A migration body contains BEGIN/COMMIT/ROLLBACK, which would break the per-migration transaction.
    #[error(
        "{}:{line}: migration {id} contains `{statement}`; retort runs each migration in its own transaction, \
         remove the transaction control (use `-- retort:no-transaction` to run outside one)",
        file.display()
    )]
    TransactionControl {
        id: String,
        file: PathBuf,
        line: usize,
        statement: String,
    },
    /// `retort.sum` is missing.
    #[error(
        "{} is missing; write it with `retort hash` after reviewing the migrations, or pass --allow-edited",
        path.display()
    )]
    SumMissing { path: PathBuf },
    /// `retort.sum` cannot be parsed.
    #[error("{}:{line}: malformed retort.sum line", path.display())]
    SumMalformed { path: PathBuf, line: usize },
    /// A migration file does not match `retort.sum`.
    #[error(
        "{file}: {problem}; review the change, then accept it with `retort hash` or pass --allow-edited"
    )]
    Checksum {
        file: String,
        problem: ChecksumProblem,
    },
    /// A statement of a migration failed; the migration (or its step) was rolled back, unless it
    /// ran outside a transaction.
    #[error(
        "migration {id} ({}:{line}): statement {number} failed: {message}\n  {statement}\n  {}{}",
        file.display(),
        statement_consequence(*in_transaction, step.as_deref()),
        invalid_index_note(statement).map(|n| format!("\n  {n}")).unwrap_or_default()
    )]
    Statement {
        id: String,
        file: PathBuf,
        number: u32,
        line: usize,
        /// The first line of the failing statement.
        statement: String,
        /// PostgreSQL's message, with severity, SQLSTATE, position, detail and hint when given.
        message: String,
        in_transaction: bool,
        /// In a migration with `-- retort:step` lines: the step that failed.
        step: Option<Box<FailedStep>>,
    },
    /// The connection to the server was lost (server crash, restart, terminated backend, network)
    /// while a migration ran.
    #[error("{0}")]
    ConnectionLost(Box<LostConnection>),
    /// The migration lock was not free within `--lock-wait`.
    #[error(
        "gave up waiting for the migration lock after {}: it is held by {holder}; wait for that \
         run to finish (or end it), or raise --lock-wait",
        humantime_secs(*waited)
    )]
    LockWait {
        waited: std::time::Duration,
        /// Who holds it (pid, application_name, since when), from pg_stat_activity.
        holder: String,
    },
    /// A migration that runs outside a transaction needs the session-level lock, but the
    /// connection goes through a transaction-mode pooler that moves statements between server
    /// connections.
    #[error(
        "this migration runs outside a transaction and needs a session-level lock, but the \
         connection goes through a transaction-mode pooler (e.g. PgBouncer pool_mode = \
         transaction): the lock was taken on one server connection and the next statement ran on \
         another, so nothing would keep two runs apart; run this upgrade with a direct connection \
         to PostgreSQL (or a session-mode pool)"
    )]
    PoolerSessionLock,
    /// A database call outside of migration statements failed (version table, lock, connection).
    #[error("{context}: {}", db_error_text(error))]
    Db {
        context: String,
        /// Not a `source`: its text is in the message once (printing the chain would repeat it).
        error: postgres::Error,
    },
}

/// The step of a migration with `-- retort:step` lines in which a statement failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedStep {
    /// 0-based.
    pub index: usize,
    /// How many steps the file has.
    pub of: usize,
    pub direction: crate::Direction,
}

/// What a failed statement leaves behind, and what to run next.
fn statement_consequence(in_transaction: bool, step: Option<&FailedStep>) -> String {
    let Some(&FailedStep {
        index,
        of: n,
        direction,
    }) = step.filter(|s| s.of > 1)
    else {
        return if in_transaction {
            "the migration's transaction was rolled back: none of its statements are applied".into()
        } else {
            "(this migration runs outside a transaction: its earlier statements stay applied)"
                .into()
        };
    };
    let this = if in_transaction {
        format!("step {} of {n} was rolled back", index + 1)
    } else {
        format!(
            "step {} of {n} runs outside a transaction: its earlier statements stay applied",
            index + 1
        )
    };
    let kept = kept_steps(index);
    format!(
        "{this}; {kept}: fix the cause and run `retort {}` to resume at step {}, or `retort {}` to take the committed steps back",
        direction.verb(),
        index + 1,
        direction.opposite().verb()
    )
}

/// Which steps stay committed when step `index` (0-based) fails.
pub(crate) fn kept_steps(index: usize) -> String {
    match index {
        0 => "no step of it is committed".into(),
        1 => "step 1 stays committed".into(),
        k => format!("steps 1 to {k} stay committed"),
    }
}

/// Where and how a migration lost its connection, and what state it is left in.
#[derive(Debug)]
pub struct LostConnection {
    pub id: String,
    pub file: PathBuf,
    pub line: usize,
    /// What was running: `statement 2 (CREATE TABLE ...)`, `COMMIT`, ...
    pub during: String,
    /// What the server or the client library said.
    pub message: String,
    /// What state the migration is left in and what to do.
    pub consequence: String,
    /// The first line of the statement that was running, if one was.
    pub statement: Option<String>,
}

impl fmt::Display for LostConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lost the connection to the server while running migration {} ({}:{}), during {}: \
             {}\n  {}",
            self.id,
            self.file.display(),
            self.line,
            self.during,
            self.message,
            self.consequence
        )?;
        if let Some(note) = self.statement.as_deref().and_then(invalid_index_note) {
            write!(f, "\n  {note}")?;
        }
        Ok(())
    }
}

/// For a failed `CREATE INDEX CONCURRENTLY` (given its first line): what to do about the INVALID
/// index it may leave behind.
pub(crate) fn invalid_index_note(first_line: &str) -> Option<String> {
    let stmt = crate::split::split_statements(first_line)
        .ok()?
        .into_iter()
        .next()?;
    let name = stmt
        .concurrent_index_name()?
        .unwrap_or_else(|| "<name>".into());
    Some(format!(
        "CREATE INDEX CONCURRENTLY may leave an INVALID index behind when it fails: drop it with \
         `DROP INDEX CONCURRENTLY {name}` (or let `retort diff` rebuild it), then run `retort \
         upgrade` again"
    ))
}

/// One line for a PostgreSQL error: the server's message, SQLSTATE, detail and hint (each once);
/// `the connection to the server was lost (...)` when it is gone; else the client's message.
pub fn db_error_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut m = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            m.push_str(&format!("; detail: {detail}"));
        }
        if let Some(hint) = db.hint() {
            m.push_str(&format!("; hint: {hint}"));
        }
        if is_connection_lost(e) {
            m = format!("the connection to the server was lost: {m}");
        }
        return m;
    }
    // postgres::Error's own text already includes its cause ("error communicating with the
    // server: broken pipe"); do not add the source again.
    let text = e.to_string();
    if is_connection_lost(e) {
        format!("the connection to the server was lost ({text})")
    } else {
        text
    }
}

/// True when `e` means the session is gone: the connection closed or broke, or the server ended
/// the backend (FATAL/PANIC, SQLSTATE class 57P "operator intervention" or 08 "connection").
pub fn is_connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return matches!(db.severity(), "FATAL" | "PANIC")
            || code.starts_with("57P")
            || code.starts_with("08");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// True when `e` happened while changing the database (CLI exit code 1); false for usage and
/// configuration errors (exit code 2). The same as `!e.is_usage()`.
pub fn is_execution_failure(e: &Error) -> bool {
    !e.is_usage()
}

fn candidates_hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        "; `retort history` lists the revisions".to_string()
    } else {
        format!("; did you mean one of: {}", candidates.join(", "))
    }
}

fn humantime_secs(d: std::time::Duration) -> String {
    if d == std::time::Duration::MAX {
        "waiting without a limit".into()
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

impl Error {
    /// True for errors caused by the project's files or the user's arguments (CLI exit code 2),
    /// false for failures while talking to or changing the database (exit code 1).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Error::Statement { .. }
                | Error::ConnectionLost { .. }
                | Error::Db { .. }
                | Error::PlanOutdated { .. }
                | Error::PartialRun { .. }
                | Error::LockWait { .. }
                | Error::PoolerSessionLock
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn db(context: impl Into<String>, error: postgres::Error) -> Error {
        Error::Db {
            context: context.into(),
            error,
        }
    }
}
