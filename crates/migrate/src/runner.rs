//! Applying steps to a live database: the version table, the advisory lock, one transaction per
//! migration together with its version update, and errors that name the failing statement.

use crate::error::Error;
use crate::error::{db_error_text, is_connection_lost, LostConnection};
use crate::file::parts_checksum;
use crate::graph::Graph;
use crate::plan::{
    applied_set, committed_changed, create_progress_table_sql, create_version_table_sql,
    is_transaction_control, plan_downgrade_from, plan_upgrade_from, progress_table, quote_table,
    stamp_rows, undo_partial_step, upgrade_version_table_sql, version_sql, Direction, Outside,
    Progress, Step,
};
use crate::split::{split_statements, SqlStatement};
use postgres::error::ErrorPosition;
use postgres::types::Type;
use postgres::{Client, GenericClient};
use std::fmt;
use std::time::{Duration, Instant};

/// Version table used when the configuration names none.
pub const DEFAULT_VERSION_TABLE: &str = "retort_version";

/// Key of the session-level advisory lock held while migrating: the first eight bytes of
/// sha256("retort"), big-endian.
pub const LOCK_KEY: i64 = -2_576_214_908_946_534_864;

/// A statement that gave up waiting for a lock (`lock_timeout`, SQLSTATE 55P03): its
/// transaction was rolled back whole, so it may simply run again.
fn is_lock_timeout(e: &Error) -> bool {
    matches!(e, Error::Statement { message, in_transaction: true, .. } if message.contains("(SQLSTATE 55P03)"))
}

/// Progress reported by [`Runner::run`] so the CLI can print it (its `Display` is one line).
#[derive(Debug)]
#[non_exhaustive]
pub enum StepEvent<'a> {
    /// Another process holds the migration lock; waiting for it.
    WaitingForLock,
    /// A step (or one part of a migration with `-- retort:step` lines: `part` is its 1-based
    /// number and the count) starts; `outside_transaction` gives the reason when it runs without one.
    Started {
        step: &'a Step,
        part: (usize, usize),
        outside_transaction: Option<&'a str>,
    },
    /// A step finished and the version table was updated.
    Finished { step: &'a Step, elapsed: Duration },
    /// A step was not needed any more (another process applied or reverted it meanwhile).
    Skipped { step: &'a Step, reason: &'a str },
    /// A statement hit `lock_timeout`; its transaction was rolled back and runs again after
    /// `wait` (attempt `attempt` of `of`).
    LockRetry {
        step: &'a Step,
        attempt: u32,
        of: u32,
        wait: Duration,
    },
}

impl fmt::Display for StepEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepEvent::WaitingForLock => {
                f.write_str("waiting for the migration lock held by another process")
            }
            StepEvent::Started {
                step,
                part,
                outside_transaction,
            } => {
                write!(f, "Running {}", step.describe())?;
                if step.undoes_partial.is_some() {
                    f.write_str(" (taking back an interrupted run)")?;
                }
                if part.1 > 1 {
                    write!(f, ", step {} of {}", part.0, part.1)?;
                }
                if let Some(reason) = outside_transaction {
                    write!(f, " outside a transaction ({reason})")?;
                }
                Ok(())
            }
            StepEvent::Finished { step, elapsed } => {
                write!(f, "Done {} in {elapsed:.2?}", step.id)
            }
            StepEvent::Skipped { step, reason } => write!(f, "Skipping {}: {reason}", step.id),
            StepEvent::LockRetry {
                step,
                attempt,
                of,
                wait,
            } => write!(
                f,
                "{}: a statement gave up waiting for a lock (lock_timeout) and was rolled back; retry {attempt} of {of} in {wait:.1?}",
                step.id
            ),
        }
    }
}

/// The version-table rows before a step and the heads after it.
type Transition = (Vec<String>, Vec<String>);

/// How long to wait for the migration lock, and the limits for migration DDL.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Longest wait for the migration lock before giving up naming its holder; `None`: forever.
    pub lock_wait: Option<Duration>,
    /// `lock_timeout` for the statements of each migration (a PostgreSQL duration, `"5s"`),
    /// set with `SET LOCAL` inside its transaction; `None`: the server's default.
    pub lock_timeout: Option<String>,
    /// `statement_timeout` likewise.
    pub statement_timeout: Option<String>,
    /// How often a migration (or step) in a transaction runs again after one of its statements
    /// hit `lock_timeout` (it was rolled back whole), waiting 1 s, 2 s, 4 s, ... in between.
    pub lock_retries: u32,
}

/// Runs migrations over one connection.
pub struct Runner<'c> {
    client: &'c mut Client,
    version_table: String,
    table: String,
    options: RunOptions,
    /// The progress table exists (read when a run starts, set when this runner creates it).
    has_progress_table: bool,
}

impl<'c> Runner<'c> {
    /// `version_table` is `name` (in schema public) or `schema.name`.
    pub fn new(client: &'c mut Client, version_table: impl Into<String>) -> Self {
        let version_table = version_table.into();
        let table = quote_table(&version_table);
        Runner {
            client,
            version_table,
            table,
            options: RunOptions::default(),
            has_progress_table: false,
        }
    }

    /// Sets the lock wait and the timeouts for migration DDL.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    pub fn version_table(&self) -> &str {
        &self.version_table
    }

    /// Rows of the version table (the applied heads), sorted; creates the table if missing.
    pub fn current(&mut self) -> Result<Vec<String>, Error> {
        self.ensure_table()?;
        self.read_rows()
    }

    /// Like `current`, but never creates the version table (for read-only commands).
    pub fn current_readonly(&mut self) -> Result<Vec<String>, Error> {
        let exists: bool = self
            .client
            .query_typed_one(
                "SELECT to_regclass($1::text) IS NOT NULL",
                &[(&quote_table(&self.version_table), Type::TEXT)],
            )
            .map_err(|e| Error::db("checking for the version table", e))?
            .get(0);
        if exists {
            self.read_rows()
        } else {
            Ok(Vec::new())
        }
    }

    /// Refuses when a migration that is already applied changed since retort.sum recorded it.
    /// Pending migrations may be edited (that is what reviewing them is for); retort.sum is
    /// rewritten once they are applied (by the CLI, after each applied migration).
    ///
    /// An applied migration whose files differ from retort.sum but match the checksum its
    /// version-table row recorded when it was applied is accepted: it is the content that ran, and
    /// only the rewrite of retort.sum was missed (the run was killed, or retort.sum could not be
    /// written). Returns those files (`<id>/up.sql`, `<id>/down.sql`) so that retort.sum can be
    /// brought up to date.
    pub fn refuse_edited_applied(&mut self, graph: &Graph) -> Result<Vec<String>, Error> {
        let edited = crate::sum::edited_files(graph.dir(), graph)?;
        if edited.is_empty() {
            return Ok(Vec::new());
        }
        let current = self.current_readonly()?;
        let applied = crate::plan::applied_set(graph, &current)?;
        let recorded = self.recorded_checksums()?;
        let mut accepted = Vec::new();
        for file in edited {
            let id = file.split('/').next().unwrap_or("");
            if !applied.contains(id) {
                continue;
            }
            let matches = graph.get(id).is_some_and(|m| {
                recorded
                    .iter()
                    .any(|(r, sum)| r == id && sum.as_deref() == Some(m.checksum.as_str()))
            });
            if !matches {
                return Err(Error::Checksum {
                    file,
                    problem: crate::error::ChecksumProblem::Edited,
                });
            }
            accepted.push(file);
        }
        Ok(accepted)
    }

    /// `(revision, checksum)` of every version-table row; works on tables of older versions
    /// without the column (and without the table).
    fn recorded_checksums(&mut self) -> Result<Vec<(String, Option<String>)>, Error> {
        let context = "reading the checksums in the version table";
        let exists: bool = self
            .client
            .query_typed_one(
                "SELECT to_regclass($1::text) IS NOT NULL",
                &[(&self.table, Type::TEXT)],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| Error::db(context, e))?;
        if !exists {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT revision, to_jsonb(v) ->> 'checksum' FROM {} AS v",
            self.table
        );
        let rows = self
            .client
            .query_typed(&sql, &[])
            .map_err(|e| Error::db(context, e))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, postgres::Error>>()
            .map_err(|e| Error::db(context, e))
    }

    /// Steps from the database's current revision(s) up to `target` (`head`, `heads`, an id or
    /// prefix, `+N`).
    ///
    /// A migration whose downgrade was interrupted partway is first brought back up (its
    /// committed down steps taken back by the mirror up steps); that counts as one for `+N`.
    pub fn plan_upgrade(&mut self, graph: &Graph, target: &str) -> Result<Vec<Step>, Error> {
        let current = self.current()?;
        let (mut steps, target) = self.undo_partials(graph, &current, Direction::Up, target)?;
        if let Some(target) = target {
            steps.extend(plan_upgrade_from(graph, &current, &target)?);
        }
        Ok(steps)
    }

    /// Steps that take back interrupted runs of the other direction than `direction`, and the
    /// target left for the plan after them (`None`: nothing more, a relative target used up).
    fn undo_partials(
        &mut self,
        graph: &Graph,
        current: &[String],
        direction: Direction,
        target: &str,
    ) -> Result<(Vec<Step>, Option<String>), Error> {
        let undo: Vec<Step> = self
            .progress()?
            .iter()
            .filter(|p| p.direction != direction)
            .map(|p| undo_partial_step(graph, current, p))
            .collect::<Result<_, _>>()?;
        let relative = target
            .strip_prefix(['+', '-'])
            .and_then(|d| d.parse::<usize>().ok());
        let rest = match relative {
            Some(n) if !undo.is_empty() => (n > undo.len()).then(|| {
                let sign = if direction == Direction::Up { '+' } else { '-' };
                format!("{sign}{}", n - undo.len())
            }),
            _ => Some(target.to_string()),
        };
        Ok((undo, rest))
    }

    /// Steps from the database's current revision(s) down to `target` (`-N`, an id or prefix
    /// that stays applied, `base`).
    ///
    /// A migration whose upgrade was interrupted partway has its committed steps taken back first
    /// (by the mirror steps of down.sql); that counts as one for `-N`.
    pub fn plan_downgrade(&mut self, graph: &Graph, target: &str) -> Result<Vec<Step>, Error> {
        let current = self.current()?;
        let (mut steps, target) = self.undo_partials(graph, &current, Direction::Down, target)?;
        if let Some(target) = target {
            steps.extend(plan_downgrade_from(graph, &current, &target)?);
        }
        Ok(steps)
    }

    /// Applies `steps`. retort.sum is checked first unless `allow_edited` (any mismatch refuses
    /// to run, naming the file). Each migration runs in its own transaction, which first takes the
    /// transaction-scoped advisory lock and re-reads the version table, so a step another process
    /// applied (or reverted) meanwhile is skipped; a failing step is rolled back and stops the run.
    /// Nothing depends on the session outliving a transaction, so this works behind a
    /// transaction-mode pooler (PgBouncer `pool_mode = transaction`), except for migrations that
    /// run outside a transaction (see [`Runner::apply`]).
    pub fn run(
        &mut self,
        graph: &Graph,
        steps: &[Step],
        allow_edited: bool,
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<(), Error> {
        if !allow_edited {
            self.refuse_edited_applied(graph)?;
        }
        if steps.is_empty() {
            return Ok(());
        }
        self.ensure_table()?;
        self.progress()?;
        let server = self.server_version()?;
        for step in steps {
            self.apply(graph, step, server, observer)?;
        }
        Ok(())
    }

    /// Sets the version table to `target` (`head`, `heads`, `base`, an id or prefix) without
    /// running migrations. Revisions on other branches stay. With `purge`, the table is emptied
    /// first, so rows without a migration file are dropped instead of being an error.
    pub fn stamp(&mut self, graph: &Graph, target: &str, purge: bool) -> Result<(), Error> {
        self.ensure_table()?;
        self.in_transaction(&mut |_: &StepEvent| {}, &plain_db, |runner, observer| {
            runner.xact_lock(observer)?;
            let rows = runner.read_rows()?;
            let current = if purge {
                Vec::new()
            } else {
                applied_set(graph, &rows)?;
                rows.clone()
            };
            let after = stamp_rows(graph, &current, target)?;
            let mut sql = Vec::new();
            if purge {
                sql.push(format!("DELETE FROM {}", runner.table));
            }
            sql.extend(statements(&version_sql(
                &runner.table,
                &current,
                &after,
                None,
            )));
            runner.exec(&sql, "updating the version table")
        })
    }

    /// Runs `f` between BEGIN and COMMIT (ROLLBACK when it fails). A lock wait that timed out
    /// is completed here, after the rollback, with who holds the lock.
    fn in_transaction<T>(
        &mut self,
        observer: &mut dyn FnMut(&StepEvent),
        fail: &dyn Fn(&str, postgres::Error) -> Error,
        f: impl FnOnce(&mut Self, &mut dyn FnMut(&StepEvent)) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.client
            .batch_execute("BEGIN")
            .map_err(|e| fail("BEGIN", e))?;
        match f(self, observer) {
            Ok(v) => {
                self.client
                    .batch_execute("COMMIT")
                    .map_err(|e| fail("COMMIT", e))?;
                Ok(v)
            }
            Err(e) => {
                // A lost connection makes the rollback fail too; the first error is what counts.
                let _ = self.client.batch_execute("ROLLBACK");
                Err(match e {
                    Error::LockWait { waited, holder } if holder.is_empty() => Error::LockWait {
                        waited,
                        holder: self.lock_holder(),
                    },
                    e => e,
                })
            }
        }
    }

    /// Takes the transaction-scoped migration lock in the open transaction, waiting at most
    /// `lock_wait`; then applies the configured `lock_timeout` / `statement_timeout` with
    /// `SET LOCAL`, so they last until this transaction ends (and never leak into a pooled
    /// server connection).
    fn xact_lock(&mut self, observer: &mut dyn FnMut(&StepEvent)) -> Result<(), Error> {
        let got: bool = self
            .client
            .query_typed_one(
                &format!("SELECT pg_try_advisory_xact_lock({LOCK_KEY})"),
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| Error::db("taking the migration lock", e))?;
        if !got {
            let waited = self.options.lock_wait.unwrap_or(Duration::MAX);
            if waited.is_zero() {
                return Err(Error::LockWait {
                    waited,
                    holder: String::new(),
                });
            }
            observer(&StepEvent::WaitingForLock);
            let timeout = match self.options.lock_wait {
                Some(d) => format!("{}ms", d.as_millis().clamp(1, i32::MAX as u128)),
                None => "0".into(),
            };
            self.client
                .batch_execute(&format!("SET LOCAL lock_timeout = '{timeout}'"))
                .map_err(|e| Error::db("waiting for the migration lock", e))?;
            if let Err(e) = self
                .client
                .query_typed(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"), &[])
            {
                if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                    return Err(Error::LockWait {
                        waited,
                        holder: String::new(),
                    });
                }
                return Err(Error::db("waiting for the migration lock", e));
            }
        }
        let mut set = vec![format!(
            "SET LOCAL lock_timeout = {}",
            setting_literal(self.options.lock_timeout.as_deref())
        )];
        set.extend(self.statement_timeout("SET LOCAL"));
        self.client
            .batch_execute(&set.join(";\n"))
            .map_err(|e| Error::db("setting lock_timeout / statement_timeout", e))
    }

    /// `<set> statement_timeout = ...` when one is configured.
    fn statement_timeout(&self, set: &str) -> Option<String> {
        let t = self.options.statement_timeout.as_deref()?;
        Some(format!(
            "{set} statement_timeout = {}",
            setting_literal(Some(t))
        ))
    }

    /// Runs the statements of a part outside a transaction with the configured `lock_timeout` and
    /// `statement_timeout` set for the session around them and reset afterwards (a part outside a
    /// transaction needs its session anyway), so a `CREATE INDEX CONCURRENTLY` gives up waiting
    /// for a lock as the statements in a transaction do.
    fn outside_statements(&mut self, at: &Failing, stmts: &[SqlStatement]) -> Result<(), Error> {
        let mut set: Vec<String> = self
            .options
            .lock_timeout
            .as_deref()
            .map(|t| format!("SET lock_timeout = {}", setting_literal(Some(t))))
            .into_iter()
            .collect();
        set.extend(self.statement_timeout("SET"));
        if set.is_empty() {
            return run_statements(&mut *self.client, at, stmts);
        }
        self.client
            .batch_execute(&set.join(";\n"))
            .map_err(|e| Error::db("setting lock_timeout / statement_timeout", e))?;
        let ran = run_statements(&mut *self.client, at, stmts);
        let reset = self
            .client
            .batch_execute("RESET lock_timeout;\nRESET statement_timeout")
            .map_err(|e| Error::db("resetting lock_timeout / statement_timeout", e));
        ran.and(reset)
    }

    /// Who holds the migration lock, from `pg_locks` and `pg_stat_activity` (one line per
    /// holder), or a note that it was released meanwhile.
    pub fn lock_holder(&mut self) -> String {
        let key = LOCK_KEY as u64;
        let (hi, lo) = (key >> 32, key & 0xffff_ffff);
        let sql = format!(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), '(none)'), \
             coalesce(to_char(coalesce(a.xact_start, a.backend_start) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD HH24:MI:SS \"UTC\"'), '?'), coalesce(a.state, '?'), \
             coalesce(host(a.client_addr), 'local socket') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {hi} \
             AND l.objid = {lo} AND l.objsubid = 1 ORDER BY a.pid"
        );
        match self.client.query_typed(&sql, &[]) {
            Ok(rows) if rows.is_empty() => {
                "no session holds it any more (it was released meanwhile)".into()
            }
            Ok(rows) => rows
                .iter()
                .map(|r| {
                    format!(
                        "pid {} (application_name {}, from {}, holding it since {}, state {})",
                        r.get::<_, i32>(0),
                        r.get::<_, String>(1),
                        r.get::<_, String>(4),
                        r.get::<_, String>(2),
                        r.get::<_, String>(3),
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => format!("could not tell who holds it: {}", db_error_text(&e)),
        }
    }

    /// Takes the session-level lock for a migration that runs outside a transaction, polling
    /// `pg_try_advisory_lock` for at most `lock_wait`. Checks that the next statement still runs
    /// on the server connection that holds it: behind a transaction-mode pooler it does not, and
    /// the lock would protect nothing (and leak), so that is refused.
    fn session_lock(&mut self, observer: &mut dyn FnMut(&StepEvent)) -> Result<(), Error> {
        let started = Instant::now();
        let limit = self.options.lock_wait.unwrap_or(Duration::MAX);
        let mut announced = false;
        loop {
            let got: bool = self
                .client
                .query_typed_one(&format!("SELECT pg_try_advisory_lock({LOCK_KEY})"), &[])
                .and_then(|row| row.try_get(0))
                .map_err(|e| Error::db("taking the migration lock", e))?;
            if got {
                break;
            }
            if started.elapsed() >= limit {
                return Err(Error::LockWait {
                    waited: limit,
                    holder: self.lock_holder(),
                });
            }
            if !announced {
                observer(&StepEvent::WaitingForLock);
                announced = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let key = LOCK_KEY as u64;
        let (hi, lo) = (key >> 32, key & 0xffff_ffff);
        let held: bool = self
            .client
            .query_typed_one(
                &format!(
                    "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND pid = pg_backend_pid() AND classid = {hi} AND objid = {lo} AND objsubid = 1)"
                ),
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| Error::db("checking the migration lock", e))?;
        if !held {
            // Best effort: the lock sits on another server connection of the pool.
            for _ in 0..8 {
                let _ = self
                    .client
                    .query_typed(&format!("SELECT pg_advisory_unlock({LOCK_KEY})"), &[]);
            }
            return Err(Error::PoolerSessionLock);
        }
        Ok(())
    }

    fn session_unlock(&mut self) -> Result<(), Error> {
        self.client
            .query_typed(&format!("SELECT pg_advisory_unlock({LOCK_KEY})"), &[])
            .map_err(|e| Error::db("releasing the migration lock", e))?;
        Ok(())
    }

    /// Runs each statement of `sql` (text retort generated) on its own.
    fn exec(&mut self, sql: &[String], context: &str) -> Result<(), Error> {
        for s in sql {
            self.client
                .query_typed(s, &[])
                .map_err(|e| Error::db(context, e))?;
        }
        Ok(())
    }

    /// Creates the version table unless it exists, or adds the `checksum` column to one written
    /// by an older retort (under the lock, so that two processes do not race on the DDL).
    fn ensure_table(&mut self) -> Result<(), Error> {
        let check = |client: &mut Client, table: &str| -> Result<(bool, bool), Error> {
            let row = client
                .query_typed_one(
                    "SELECT to_regclass($1::text) IS NOT NULL, EXISTS (SELECT FROM pg_attribute \
                     WHERE attrelid = to_regclass($1::text) AND attname = 'checksum' AND NOT attisdropped)",
                    &[(&table, Type::TEXT)],
                )
                .map_err(|e| Error::db("looking for the version table", e))?;
            Ok((row.get(0), row.get(1)))
        };
        let table = self.table.clone();
        if check(self.client, &table)? == (true, true) {
            return Ok(());
        }
        self.in_transaction(&mut |_: &StepEvent| {}, &plain_db, |runner, observer| {
            runner.xact_lock(observer)?;
            let (exists, has_checksum) = check(runner.client, &table)?;
            let mut sql = Vec::new();
            if exists && has_checksum {
                return Ok(());
            } else if exists {
                sql.push(upgrade_version_table_sql(&runner.table));
            } else {
                if let Some((schema, _)) = runner.version_table.split_once('.') {
                    sql.push(format!(
                        "CREATE SCHEMA IF NOT EXISTS {}",
                        crate::plan::quote_ident(schema)
                    ));
                }
                sql.push(create_version_table_sql(&runner.table));
                sql.push(upgrade_version_table_sql(&runner.table));
            }
            runner.exec(&sql, "creating the version table")
        })
    }

    fn read_rows(&mut self) -> Result<Vec<String>, Error> {
        let sql = format!("SELECT revision FROM {} ORDER BY revision", self.table);
        let rows = self
            .client
            .query_typed(&sql, &[])
            .map_err(|e| Error::db("reading the version table", e))?;
        rows.iter()
            .map(|r| r.try_get::<_, String>(0))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::db("reading the version table", e))
    }

    fn server_version(&mut self) -> Result<i32, Error> {
        let row = self
            .client
            .query_typed_one("SELECT current_setting('server_version_num')::int", &[])
            .map_err(|e| Error::db("reading the server version", e))?;
        row.try_get(0)
            .map_err(|e| Error::db("reading the server version", e))
    }

    /// With the lock held and the version table just read: whether `step` is still to run
    /// (`Ok(None)`: skip it, with the event already reported) and the heads after it.
    fn still_needed(
        &mut self,
        graph: &Graph,
        step: &Step,
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<Option<Transition>, Error> {
        let rows = self.read_rows()?;
        let mut applied = applied_set(graph, &rows)?;
        let outdated = |reason: String| Error::PlanOutdated {
            id: step.id.clone(),
            reason,
        };
        let Some(m) = graph.get(&step.id) else {
            return Err(outdated("it has no migration file".into()));
        };
        match step.direction {
            Direction::Up => {
                if applied.contains(&step.id) {
                    observer(&StepEvent::Skipped {
                        step,
                        reason: "already applied",
                    });
                    return Ok(None);
                }
                if let Some(p) = m.parents.iter().find(|p| !applied.contains(*p)) {
                    return Err(outdated(format!("its parent {p} is not applied")));
                }
                applied.insert(step.id.clone());
            }
            Direction::Down => {
                if !applied.contains(&step.id) {
                    observer(&StepEvent::Skipped {
                        step,
                        reason: "not applied",
                    });
                    return Ok(None);
                }
                let children = graph.children(&step.id);
                if let Some(c) = children.iter().find(|c| applied.contains(*c)) {
                    return Err(outdated(format!("{c}, which revises it, is still applied")));
                }
                applied.remove(&step.id);
            }
        }
        let after = graph.heads_of(&applied);
        Ok(Some((rows, after)))
    }

    /// One step, part by part (a file without `-- retort:step` lines is one part). A part in a
    /// transaction (the usual case): BEGIN, the lock, the version and progress tables re-read,
    /// the statements, then the progress row (or, after the last part, the version update),
    /// COMMIT (which releases the lock). A part outside one (`-- retort:step no-transaction`,
    /// `-- retort:no-transaction`, CREATE INDEX CONCURRENTLY, ...): the session-level lock
    /// (refused when a transaction-mode pooler moves the session between server connections), a
    /// re-check under it, the statements one by one, then the progress or version update in a
    /// locked transaction that re-checks once more, so it is never recorded twice. Parts an
    /// interrupted run already committed are skipped, so a run resumes at the part that failed.
    fn apply(
        &mut self,
        graph: &Graph,
        step: &Step,
        server: i32,
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<(), Error> {
        let n = step.parts.len();
        let first = n - step.undoes_partial.unwrap_or(n).min(n);
        let mut parts = Vec::with_capacity(n - first);
        for (index, part) in step.parts.iter().enumerate().skip(first) {
            let stmts = split_statements(&part.sql).map_err(|e| Error::Header {
                file: step.file.clone(),
                line: part.first_line + e.line - 1,
                message: e.to_string(),
            })?;
            if let Some(s) = stmts.iter().find(|s| is_transaction_control(s)) {
                return Err(Error::TransactionControl {
                    id: step.id.clone(),
                    file: step.file.clone(),
                    line: part.first_line + s.line - 1,
                    statement: s.first_line().to_string(),
                });
            }
            let outside = Outside::of(part, n, &stmts, Some(server)).map(|o| o.to_string());
            parts.push((index, part, stmts, outside));
        }
        let started = Instant::now();
        let mut ran_any = false;
        for (index, part, stmts, outside) in &parts {
            let at = Failing {
                step,
                first_line: part.first_line,
                part: (*index, n),
                in_transaction: outside.is_none(),
            };
            let position = Position::of(step, *index, n);
            let ran = match outside {
                None => {
                    let mut attempt = 0;
                    loop {
                        let result =
                            self.part_in_transaction(graph, step, &position, &at, stmts, observer);
                        match result {
                            Err(e)
                                if attempt < self.options.lock_retries && is_lock_timeout(&e) =>
                            {
                                attempt += 1;
                                let wait = Duration::from_millis(500 << attempt.min(6));
                                observer(&StepEvent::LockRetry {
                                    step,
                                    attempt,
                                    of: self.options.lock_retries,
                                    wait,
                                });
                                std::thread::sleep(wait);
                            }
                            other => break other?,
                        }
                    }
                }
                Some(outside) => {
                    self.session_lock(observer)?;
                    let result =
                        self.part_outside(graph, step, stmts, outside, &position, &at, observer);
                    let unlocked = self.session_unlock();
                    result.and_then(|r| unlocked.map(|()| r))?
                }
            };
            match ran {
                Need::NotNeeded => return Ok(()),
                Need::Run(..) => ran_any = true,
                Need::Committed => {}
            }
        }
        if ran_any {
            observer(&StepEvent::Finished {
                step,
                elapsed: started.elapsed(),
            });
        }
        Ok(())
    }

    /// A part in its own transaction: the lock, the check that it is still to run, its
    /// statements and its progress (or version) row.
    fn part_in_transaction(
        &mut self,
        graph: &Graph,
        step: &Step,
        position: &Position,
        at: &Failing,
        stmts: &[SqlStatement],
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<Need, Error> {
        self.in_transaction(
            observer,
            &|what, e| at.other(what, e),
            |runner, observer| {
                runner.xact_lock(observer)?;
                let (before, after) = match runner.part_needed(graph, step, position, observer)? {
                    Need::Run(before, after) => (before, after),
                    other => return Ok(other),
                };
                observer(&StepEvent::Started {
                    step,
                    part: (at.part.0 + 1, at.part.1),
                    outside_transaction: None,
                });
                run_statements(&mut *runner.client, at, stmts)?;
                runner
                    .record_part(step, position, &before, &after)
                    .map_err(|e| at.other("the version-table update", e))?;
                Ok(Need::Run(before, after))
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn part_outside(
        &mut self,
        graph: &Graph,
        step: &Step,
        stmts: &[SqlStatement],
        outside: &str,
        position: &Position,
        at: &Failing,
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<Need, Error> {
        let plain = |what: &str, e| Error::db(format!("migration {}: {what}", step.id), e);
        let need = self.in_transaction(observer, &plain, |runner, observer| {
            runner.xact_lock(observer)?;
            runner.part_needed(graph, step, position, observer)
        })?;
        if !matches!(need, Need::Run(..)) {
            return Ok(need);
        }
        observer(&StepEvent::Started {
            step,
            part: (at.part.0 + 1, at.part.1),
            outside_transaction: Some(outside),
        });
        self.outside_statements(at, stmts)?;
        let after_statements = Failing {
            in_transaction: true,
            ..*at
        };
        self.in_transaction(
            observer,
            &|_, e| after_statements.version_update(e),
            |runner, observer| {
                runner.xact_lock(observer)?;
                let need = runner.part_needed(graph, step, position, observer)?;
                if let Need::Run(before, after) = &need {
                    runner
                        .record_part(step, position, before, after)
                        .map_err(|e| after_statements.version_update(e))?;
                }
                Ok(need)
            },
        )
    }

    /// With the lock held: whether the part at `position` is to run now (with the version-table
    /// rows before and after the step), was committed already (an interrupted run is resumed),
    /// or the whole step is not needed any more.
    fn part_needed(
        &mut self,
        graph: &Graph,
        step: &Step,
        position: &Position,
        observer: &mut dyn FnMut(&StepEvent),
    ) -> Result<Need, Error> {
        let row = self.progress_of(&step.id)?;
        let at = row.as_ref().map(|p| (p.direction, p.done));
        if let Some(p) = &row {
            let committed = if p.direction == step.direction {
                &step.parts
            } else {
                &step.mirror
            };
            // (A row of the other direction on a plain step is refused below, with what to run.)
            let ours = p.direction == step.direction || step.undoes_partial.is_some();
            if ours
                && (p.done > committed.len() || parts_checksum(&committed[..p.done]) != p.checksum)
            {
                return Err(Error::PartialRun {
                    id: step.id.clone(),
                    reason: committed_changed(p),
                });
            }
        }
        let outdated = |reason: String| Error::PlanOutdated {
            id: step.id.clone(),
            reason,
        };
        if step.undoes_partial.is_some() {
            let rows = self.read_rows()?;
            return match (at, position.expect) {
                (None, _) => Ok(Need::NotNeeded),
                (a, e) if a == e => Ok(Need::Run(rows.clone(), rows)),
                (Some((d, done)), Some((_, expect)))
                    if d == step.direction.opposite() && done < expect =>
                {
                    Ok(Need::Committed)
                }
                (Some(_), _) => Err(outdated(format!(
                    "its progress changed meanwhile ({})",
                    row.as_ref().map(Progress::describe).unwrap_or_default()
                ))),
            };
        }
        let Some((before, after)) = self.still_needed(graph, step, observer)? else {
            return Ok(Need::NotNeeded);
        };
        match (at, position.expect) {
            (a, e) if a == e => Ok(Need::Run(before, after)),
            (Some((d, done)), _) if d == step.direction && done > position.index => {
                Ok(Need::Committed)
            }
            (Some((d, _)), _) if d != step.direction => Err(Error::PartialRun {
                id: step.id.clone(),
                reason: format!(
                    "{}: run `retort {}` first, which takes the committed steps back",
                    row.as_ref().map(Progress::describe).unwrap_or_default(),
                    d.opposite().verb()
                ),
            }),
            _ => Err(outdated(format!(
                "its progress changed meanwhile (expected step {} of {} to be next)",
                position.index + 1,
                step.parts.len()
            ))),
        }
    }

    /// After a part ran: its progress row, or after the last part the version update (and the
    /// progress row removed).
    fn record_part(
        &mut self,
        step: &Step,
        position: &Position,
        before: &[String],
        after: &[String],
    ) -> Result<(), postgres::Error> {
        let progress = progress_table(&self.version_table);
        match position.after {
            Some((direction, done)) => {
                if !self.has_progress_table {
                    self.client
                        .batch_execute(&create_progress_table_sql(&progress))?;
                    self.has_progress_table = true;
                }
                let committed = if direction == step.direction {
                    &step.parts
                } else {
                    &step.mirror
                };
                let checksum = parts_checksum(&committed[..done.min(committed.len())]);
                let done = i32::try_from(done).unwrap_or(i32::MAX);
                let of = i32::try_from(committed.len()).unwrap_or(i32::MAX);
                self.client.query_typed(
                    &format!(
                        "INSERT INTO {progress} (revision, direction, steps_done, steps, checksum) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (revision) DO UPDATE SET \
                         direction = EXCLUDED.direction, steps_done = EXCLUDED.steps_done, \
                         steps = EXCLUDED.steps, checksum = EXCLUDED.checksum, updated_at = now()"
                    ),
                    &[
                        (&step.id, Type::TEXT),
                        (&direction.as_str(), Type::TEXT),
                        (&done, Type::INT4),
                        (&of, Type::INT4),
                        (&checksum, Type::TEXT),
                    ],
                )?;
            }
            None if self.has_progress_table => {
                self.client.query_typed(
                    &format!("DELETE FROM {progress} WHERE revision = $1"),
                    &[(&step.id, Type::TEXT)],
                )?;
            }
            None => {}
        }
        if position.record {
            for v in statements(&version_sql(&self.table, before, after, step.recorded())) {
                self.client.query_typed(&v, &[])?;
            }
        }
        Ok(())
    }

    /// The progress row of `id`, if the progress table exists and has one.
    fn progress_of(&mut self, id: &str) -> Result<Option<Progress>, Error> {
        if !self.has_progress_table {
            return Ok(None);
        }
        Ok(self.progress_rows(Some(id))?.pop())
    }

    /// Migrations with steps whose run was interrupted partway (empty without a progress table).
    pub fn progress(&mut self) -> Result<Vec<Progress>, Error> {
        let exists: bool = self
            .client
            .query_typed_one(
                "SELECT to_regclass($1::text) IS NOT NULL",
                &[(&progress_table(&self.version_table), Type::TEXT)],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| Error::db("checking for the progress table", e))?;
        self.has_progress_table = exists;
        if !exists {
            return Ok(Vec::new());
        }
        self.progress_rows(None)
    }

    fn progress_rows(&mut self, id: Option<&str>) -> Result<Vec<Progress>, Error> {
        let context = "reading the progress table";
        let sql = format!(
            "SELECT revision, direction, steps_done, steps, checksum FROM {} \
             WHERE $1::text IS NULL OR revision = $1 ORDER BY revision",
            progress_table(&self.version_table)
        );
        let rows = self
            .client
            .query_typed(&sql, &[(&id, Type::TEXT)])
            .map_err(|e| Error::db(context, e))?;
        rows.iter()
            .map(|r| {
                let direction: String = r.try_get(1)?;
                Ok(Progress {
                    revision: r.try_get(0)?,
                    direction: if direction == "down" {
                        Direction::Down
                    } else {
                        Direction::Up
                    },
                    done: usize::try_from(r.try_get::<_, i32>(2)?).unwrap_or(0),
                    of: usize::try_from(r.try_get::<_, i32>(3)?).unwrap_or(0),
                    checksum: r.try_get(4)?,
                })
            })
            .collect::<Result<_, postgres::Error>>()
            .map_err(|e| Error::db(context, e))
    }
}

/// What [`Runner::part_needed`] found.
enum Need {
    /// Run the part; the version-table rows before and after the step.
    Run(Vec<String>, Vec<String>),
    /// An earlier run committed this part already.
    Committed,
    /// The whole step is not needed any more (another process finished it).
    NotNeeded,
}

/// Where a part stands in its step: the progress it expects before it, the progress after it
/// (`None`: no row), and whether it completes the step (then the version table is updated).
struct Position {
    index: usize,
    expect: Option<(Direction, usize)>,
    after: Option<(Direction, usize)>,
    record: bool,
}

impl Position {
    fn of(step: &Step, index: usize, n: usize) -> Position {
        match step.undoes_partial {
            None => Position {
                index,
                expect: (index > 0).then_some((step.direction, index)),
                after: (index + 1 < n).then_some((step.direction, index + 1)),
                record: index + 1 == n,
            },
            // Part `index` of this file takes back the other file's part `n - 1 - index`, so
            // `n - index` of its parts are committed before it and one fewer after it.
            Some(_) => {
                let other = step.direction.opposite();
                let left = n - index;
                Position {
                    index,
                    expect: Some((other, left)),
                    after: (left > 1).then_some((other, left - 1)),
                    record: false,
                }
            }
        }
    }
}

fn plain_db(what: &str, e: postgres::Error) -> Error {
    Error::db(format!("{what} of a version-table transaction"), e)
}

/// A setting's value for `SET LOCAL name = ...`: a quoted literal, or DEFAULT.
fn setting_literal(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("'{}'", v.replace('\'', "''")),
        None => "DEFAULT".into(),
    }
}

/// The statements of text retort generated (version-table updates), each to run on its own.
fn statements(sql: &str) -> Vec<String> {
    split_statements(sql)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.sql)
        .collect()
}

/// Runs each statement of a migration on its own with the extended protocol: the server refuses
/// a text holding several commands, so a statement can never carry another one along.
fn run_statements<C: GenericClient>(
    client: &mut C,
    at: &Failing,
    stmts: &[SqlStatement],
) -> Result<(), Error> {
    for (i, s) in stmts.iter().enumerate() {
        client
            .query_typed(&s.sql, &[])
            .map_err(|e| at.statement(i + 1, s, &e))?;
    }
    Ok(())
}

/// Where a migration failed, to build the error that says what state it is left in.
#[derive(Clone, Copy)]
struct Failing<'a> {
    step: &'a Step,
    /// 1-based line of the file on which the running part starts.
    first_line: usize,
    /// The running part (0-based) and how many the step has.
    part: (usize, usize),
    in_transaction: bool,
}

impl Failing<'_> {
    fn consequence(&self, during_commit: bool) -> String {
        let id = &self.step.id;
        let (index, n) = self.part;
        if n > 1 && !during_commit {
            let kept = crate::error::kept_steps(index);
            let now = if self.in_transaction {
                format!("step {} was rolled back", index + 1)
            } else {
                format!(
                    "step {} runs outside a transaction, so its statements before this one stay applied (check them)",
                    index + 1
                )
            };
            let verb = self.step.direction.verb();
            return format!(
                "{now} and {kept}; once the server is reachable again, `retort {verb}` resumes at \
                 step {}, and `retort {}` takes the committed steps back",
                index + 1,
                self.step.direction.opposite().verb()
            );
        }
        if during_commit {
            format!(
                "the connection was lost during COMMIT, so the server may or may not have committed \
                 migration {id}: once the server is reachable again, `retort current` shows whether \
                 it is recorded as applied; then run `retort upgrade` again"
            )
        } else if self.in_transaction {
            format!(
                "the migration's transaction was rolled back: none of its statements are applied and \
                 {id} is not recorded as applied; once the server is reachable again, run `retort \
                 upgrade` again (it continues with {id})"
            )
        } else {
            format!(
                "this migration runs outside a transaction, so it may be partially applied: the \
                 statements before this one stay applied, and {id} is not recorded as applied; once \
                 the server is reachable again, check the schema, complete or undo those statements \
                 by hand (or make them idempotent, e.g. IF NOT EXISTS), then run `retort upgrade` again"
            )
        }
    }

    fn lost(
        &self,
        line: usize,
        during: String,
        e: &postgres::Error,
        statement: Option<String>,
    ) -> Error {
        Error::ConnectionLost(Box::new(LostConnection {
            id: self.step.id.clone(),
            file: self.step.file.clone(),
            line,
            consequence: self.consequence(during == "COMMIT"),
            during,
            message: db_error_text(e),
            statement,
        }))
    }

    /// A statement of the migration failed.
    fn statement(&self, number: usize, stmt: &SqlStatement, err: &postgres::Error) -> Error {
        let line = self.first_line + stmt.line - 1;
        if is_connection_lost(err) {
            let during = format!("statement {number} ({})", stmt.first_line());
            return self.lost(line, during, err, Some(stmt.first_line().to_string()));
        }
        let mut e = statement_error(self.step, line, number, stmt, err, self.in_transaction);
        if let Error::Statement { step, .. } = &mut e {
            *step = Some(Box::new(crate::error::FailedStep {
                index: self.part.0,
                of: self.part.1,
                direction: self.step.direction,
            }));
        }
        e
    }

    /// BEGIN, the version-table update or COMMIT of a transactional migration failed.
    fn other(&self, during: &str, err: postgres::Error) -> Error {
        if is_connection_lost(&err) {
            return self.lost(self.first_line, during.to_string(), &err, None);
        }
        Error::db(format!("migration {}: {during}", self.step.id), err)
    }

    /// The version-table update after the statements of a non-transactional migration failed.
    fn version_update(&self, err: postgres::Error) -> Error {
        let id = &self.step.id;
        let what = format!(
            "all statements of migration {id} ran, but it could not be recorded as applied: check \
             the schema, then record it with `retort stamp {id}`"
        );
        if is_connection_lost(&err) {
            return Error::ConnectionLost(Box::new(LostConnection {
                id: id.clone(),
                file: self.step.file.clone(),
                line: self.first_line,
                during: "the version-table update".into(),
                message: db_error_text(&err),
                consequence: what,
                statement: None,
            }));
        }
        Error::db(
            format!("migration {id}: the version-table update ({what})"),
            err,
        )
    }
}

/// Builds [`Error::Statement`], turning PostgreSQL's character position into a file line/column.
fn statement_error(
    step: &Step,
    line: usize,
    number: usize,
    stmt: &SqlStatement,
    err: &postgres::Error,
    in_transaction: bool,
) -> Error {
    let message = match err.as_db_error() {
        Some(db) => {
            let mut m = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(ErrorPosition::Original(pos)) = db.position() {
                let (l, c) = line_col(&stmt.sql, *pos as usize);
                m.push_str(&format!(" at line {}, column {c}", line + l - 1));
            }
            if let Some(detail) = db.detail() {
                m.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                m.push_str(&format!("; hint: {hint}"));
            }
            // 42P06 schema, 42P07 relation, 42701 column, 42710 other object: already there.
            if matches!(db.code().code(), "42P06" | "42P07" | "42701" | "42710")
                && step.direction == crate::Direction::Up
            {
                m.push_str(&format!(
                    "; the object already exists: if it was made by hand, check it matches and \
                     record this migration as applied with `retort stamp {} --verify`",
                    step.id
                ));
            }
            m
        }
        None => db_error_text(err),
    };
    Error::Statement {
        id: step.id.clone(),
        file: step.file.clone(),
        number: u32::try_from(number).unwrap_or(u32::MAX),
        line,
        statement: stmt.first_line().to_string(),
        message,
        in_transaction,
        step: None,
    }
}

/// 1-based (line, column) of the 1-based character position `pos` in `text`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for c in text.chars().take(pos.saturating_sub(1)) {
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn lock_key_is_derived_from_retort() {
        let digest = Sha256::digest(b"retort");
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        assert_eq!(LOCK_KEY, i64::from_be_bytes(first));
    }

    #[test]
    fn positions_become_line_and_column() {
        assert_eq!(line_col("SELECT x", 8), (1, 8));
        assert_eq!(line_col("SELECT\n  x", 10), (2, 3));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
