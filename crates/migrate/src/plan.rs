//! Planning without a database: targets (`head`, `heads`, `base`, `+N`, `-N`, ids and prefixes)
//! turned into ordered steps from a given version-table state, and the `--sql` offline script.

use crate::error::Error;
use crate::file::Part;
use crate::graph::Graph;
use crate::split::{split_statements, SqlStatement};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Which way a step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// One migration to run, in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub direction: Direction,
    /// up.sql (Up) or down.sql (Down), whose `parts` run.
    pub file: PathBuf,
    /// Parents of the migration.
    pub parents: Vec<String>,
    /// The migration's checksum (both files, see [`crate::migration_checksum`]).
    pub checksum: String,
    /// Version-table rows before this step, as planned.
    pub version_before: Vec<String>,
    /// Version-table rows after this step, as planned.
    pub version_after: Vec<String>,
    /// The steps of the file (`-- retort:step`; one for a file without step lines).
    pub parts: Vec<Part>,
    /// `Some(n)`: this step takes back the first `n` steps that an interrupted run of the other
    /// direction committed. Only the last `n` parts of this file run (they mirror those), and the
    /// version table stays as it is.
    pub undoes_partial: Option<usize>,
    /// For a step that [`undoes_partial`](Step::undoes_partial): the other file's parts, whose
    /// committed ones it takes back (their checksum is what the progress table holds).
    pub mirror: Vec<Part>,
}

impl Step {
    /// For an upgrade, the migration and checksum its version-table row records.
    pub(crate) fn recorded(&self) -> Option<(&str, &str)> {
        (self.direction == Direction::Up).then_some((self.id.as_str(), self.checksum.as_str()))
    }

    /// Alembic-style description: `upgrade a, b -> m`, `downgrade m -> a, b`, `upgrade  -> a`.
    pub fn describe(&self) -> String {
        let parents = self.parents.join(", ");
        match self.direction {
            Direction::Up => format!("upgrade {parents} -> {}", self.id),
            Direction::Down => format!("downgrade {} -> {parents}", self.id),
        }
    }
}

impl Direction {
    /// The other way.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        }
    }

    /// `up` or `down`, as the progress table stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// `upgrade` or `downgrade`.
    pub fn verb(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }
}

/// A migration with steps whose run was interrupted partway: the first `done` steps of one
/// direction's file are committed, the rest are not (one row of the progress table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub revision: String,
    pub direction: Direction,
    /// Steps of that direction's file committed.
    pub done: usize,
    /// Steps in that file.
    pub of: usize,
    /// The migration's checksum when the run began.
    pub checksum: String,
}

impl Progress {
    /// `upgrade of X interrupted after step 1 of 3`.
    pub fn describe(&self) -> String {
        format!(
            "{} of {} interrupted after step {} of {}",
            self.direction.verb(),
            self.revision,
            self.done,
            self.of
        )
    }
}

/// The step that takes back what an interrupted run committed: the mirror steps of the other
/// file (its last `done` steps, in order), leaving the version table as it is. Both files must
/// have as many steps, step k of down.sql taking back step n+1-k of up.sql.
pub fn undo_partial_step(
    graph: &Graph,
    current: &[String],
    progress: &Progress,
) -> Result<Step, Error> {
    let id = &progress.revision;
    let fail = |reason: String| Error::PartialRun {
        id: id.clone(),
        reason,
    };
    let m = graph
        .get(id)
        .ok_or_else(|| fail("its migration file is gone; restore it".into()))?;
    let direction = progress.direction.opposite();
    let mirror = match direction {
        Direction::Up => m.down_parts.clone(),
        Direction::Down => m.up_parts.clone(),
    };
    if progress.done > mirror.len()
        || crate::file::parts_checksum(&mirror[..progress.done]) != progress.checksum
    {
        return Err(fail(committed_changed(progress)));
    }
    let mut rows = current.to_vec();
    rows.sort();
    let mut steps = build_steps(
        graph,
        current,
        BTreeSet::new(),
        std::slice::from_ref(id),
        direction,
    );
    let mut step = steps
        .pop()
        .ok_or_else(|| fail("its migration file is gone".into()))?;
    if step.parts.len() != mirror.len() {
        return Err(fail(format!(
            "{}; up.sql has {} step(s) and down.sql {}, so the steps that take the committed ones \
             back are not known: take them back by hand, then delete the row of {id} from the \
             progress table",
            progress.describe(),
            m.up_parts.len(),
            m.down_parts.len()
        )));
    }
    step.version_before = rows.clone();
    step.version_after = rows;
    step.undoes_partial = Some(progress.done);
    step.mirror = mirror;
    Ok(step)
}

/// Why an interrupted run cannot continue: the text of its committed steps changed.
pub(crate) fn committed_changed(progress: &Progress) -> String {
    format!(
        "{}, and the text of the committed step(s) changed since: restore them as they were (see \
         git; the steps after them may be edited), so they can be finished or taken back",
        progress.describe()
    )
}

/// A parsed upgrade/downgrade/stamp target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Head,
    Heads,
    Base,
    Relative(i64),
    Rev(String),
}

fn parse_target(spec: &str) -> Result<Target, Error> {
    let relative = |digits: &str, sign: i64| match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Target::Relative(sign * n)),
        _ => Err(Error::Target {
            spec: spec.to_string(),
            reason: "a relative target is `+N` or `-N` with N at least 1".into(),
        }),
    };
    match spec {
        "head" => Ok(Target::Head),
        "heads" => Ok(Target::Heads),
        "base" => Ok(Target::Base),
        "" => Err(Error::Target {
            spec: String::new(),
            reason: "the target is empty".into(),
        }),
        _ => match (spec.strip_prefix('+'), spec.strip_prefix('-')) {
            (Some(d), _) => relative(d, 1),
            (_, Some(d)) => relative(d, -1),
            _ => Ok(Target::Rev(spec.to_string())),
        },
    }
}

fn target_error(spec: &str, reason: impl Into<String>) -> Error {
    Error::Target {
        spec: spec.to_string(),
        reason: reason.into(),
    }
}

/// The applied set (ancestors of every row) after checking each row has a migration file.
pub fn applied_set(graph: &Graph, current: &[String]) -> Result<BTreeSet<String>, Error> {
    for row in current {
        known_row(graph, row)?;
    }
    Ok(graph.ancestors_of(current.iter().map(String::as_str)))
}

/// Refuses a version-table row without a migration file: [`Error::Squashed`] when `retort
/// squash` folded it into another revision, else [`Error::UnknownDbRevision`].
pub fn known_row(graph: &Graph, row: &str) -> Result<(), Error> {
    if graph.get(row).is_some() {
        return Ok(());
    }
    Err(match graph.replaced_by(row) {
        Some(by) => Error::Squashed {
            id: row.to_string(),
            by: by.id.clone(),
        },
        None => Error::UnknownDbRevision {
            id: row.to_string(),
            dir: graph.dir().to_path_buf(),
        },
    })
}

fn single_head(graph: &Graph) -> Result<Option<String>, Error> {
    let heads = graph.heads();
    if heads.len() > 1 {
        return Err(Error::MultipleHeads { heads });
    }
    Ok(heads.into_iter().next())
}

/// Steps that upgrade a database whose version table holds `current` to `target`:
/// `head` (the single head), `heads`, an id or unique prefix (with its ancestors), or `+N`.
pub fn plan_upgrade_from(
    graph: &Graph,
    current: &[String],
    target: &str,
) -> Result<Vec<Step>, Error> {
    let applied = applied_set(graph, current)?;
    let pending = |id: &&String| !applied.contains(*id);
    let ids: Vec<String> = match parse_target(target)? {
        Target::Head => {
            let want = graph.ancestors_of(single_head(graph)?.as_deref());
            graph
                .order()
                .iter()
                .filter(pending)
                .filter(|id| want.contains(*id))
                .cloned()
                .collect()
        }
        Target::Heads => graph.order().iter().filter(pending).cloned().collect(),
        Target::Base => Vec::new(),
        Target::Relative(n) if n < 0 => {
            return Err(target_error(
                target,
                format!("upgrade only goes forward; to go back run `retort downgrade {n}`"),
            ))
        }
        Target::Relative(n) => {
            let ids: Vec<String> = graph.order().iter().filter(pending).cloned().collect();
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if ids.len() < n {
                return Err(target_error(
                    target,
                    format!("only {} migration(s) are not applied", ids.len()),
                ));
            }
            ids.into_iter().take(n).collect()
        }
        Target::Rev(spec) => {
            let want = graph.ancestors(&graph.resolve(&spec)?);
            graph
                .order()
                .iter()
                .filter(pending)
                .filter(|id| want.contains(*id))
                .cloned()
                .collect()
        }
    };
    Ok(build_steps(graph, current, applied, &ids, Direction::Up))
}

/// Steps that downgrade a database whose version table holds `current`: `-N`, `base`, or an id
/// or prefix to downgrade *to* (it stays applied; everything applied after it is undone).
pub fn plan_downgrade_from(
    graph: &Graph,
    current: &[String],
    target: &str,
) -> Result<Vec<Step>, Error> {
    let applied = applied_set(graph, current)?;
    let newest_first = graph
        .order()
        .iter()
        .rev()
        .filter(|id| applied.contains(*id));
    let ids: Vec<String> = match parse_target(target)? {
        Target::Base => newest_first.cloned().collect(),
        Target::Relative(n) if n > 0 => {
            return Err(target_error(target, "use upgrade to go forward"))
        }
        Target::Relative(n) => {
            let n = usize::try_from(-n).unwrap_or(usize::MAX);
            if applied.len() < n {
                return Err(target_error(
                    target,
                    format!("only {} migration(s) are applied", applied.len()),
                ));
            }
            newest_first.take(n).cloned().collect()
        }
        Target::Head | Target::Heads => {
            return Err(target_error(
                target,
                "downgrade takes -N, a revision or base",
            ))
        }
        Target::Rev(spec) => {
            let id = graph.resolve(&spec)?;
            if !applied.contains(&id) {
                return Err(target_error(
                    target,
                    format!(
                        "revision {id} is not applied, so the database cannot be downgraded to it"
                    ),
                ));
            }
            let undo = graph.descendants(&id);
            newest_first
                .filter(|d| **d != id && undo.contains(*d))
                .cloned()
                .collect()
        }
    };
    Ok(build_steps(graph, current, applied, &ids, Direction::Down))
}

/// Version-table rows for a stamp of `target` from `current` (already validated): ids on the
/// target's line of history are replaced by it, other branches stay.
pub(crate) fn stamp_rows(
    graph: &Graph,
    current: &[String],
    target: &str,
) -> Result<Vec<String>, Error> {
    let rows = match parse_target(target)? {
        Target::Base => Vec::new(),
        Target::Heads => graph.heads(),
        Target::Head => single_head(graph)?.into_iter().collect(),
        Target::Relative(_) => {
            return Err(target_error(
                target,
                "stamp takes a revision, head, heads or base",
            ))
        }
        Target::Rev(spec) => {
            let id = graph.resolve(&spec)?;
            let (up, down) = (graph.ancestors(&id), graph.descendants(&id));
            let mut rows: Vec<String> = current
                .iter()
                .filter(|r| !up.contains(*r) && !down.contains(*r))
                .cloned()
                .collect();
            rows.push(id);
            rows
        }
    };
    Ok(graph.heads_of(&graph.ancestors_of(rows.iter().map(String::as_str))))
}

fn build_steps(
    graph: &Graph,
    current: &[String],
    mut applied: BTreeSet<String>,
    ids: &[String],
    direction: Direction,
) -> Vec<Step> {
    let mut rows: Vec<String> = current.to_vec();
    rows.sort();
    let mut steps = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(m) = graph.get(id) else { continue };
        match direction {
            Direction::Up => applied.insert(id.clone()),
            Direction::Down => applied.remove(id),
        };
        let after = graph.heads_of(&applied);
        let (file, parts) = match direction {
            Direction::Up => (m.up_path(), m.up_parts.clone()),
            Direction::Down => (m.down_path(), m.down_parts.clone()),
        };
        steps.push(Step {
            id: id.clone(),
            direction,
            file,
            parents: m.parents.clone(),
            checksum: m.checksum.clone(),
            version_before: std::mem::replace(&mut rows, after.clone()),
            version_after: after,
            parts,
            undoes_partial: None,
            mirror: Vec::new(),
        });
    }
    steps
}

/// Steps for `upgrade FROM:TO --sql` / `downgrade FROM:TO --sql`, without a database. `from`
/// is a comma-separated list of revisions, `head`, `heads` or `base` (empty means base), as
/// the version table would hold them; without it an upgrade starts at base and a downgrade at
/// the heads.
pub fn plan_offline(
    graph: &Graph,
    from: Option<&str>,
    to: &str,
    direction: Direction,
) -> Result<Vec<Step>, Error> {
    let current = match (from, direction) {
        (None, Direction::Up) => Vec::new(),
        (None, Direction::Down) => graph.heads(),
        (Some(spec), _) => {
            let mut rows = Vec::new();
            for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match parse_target(part)? {
                    Target::Base => {}
                    Target::Heads => rows.extend(graph.heads()),
                    Target::Head => rows.extend(single_head(graph)?),
                    Target::Relative(_) => {
                        return Err(target_error(
                            part,
                            "the starting point is a revision, head, heads or base",
                        ))
                    }
                    Target::Rev(rev) => rows.push(graph.resolve(&rev)?),
                }
            }
            rows.sort();
            rows.dedup();
            rows
        }
    };
    match direction {
        Direction::Up => plan_upgrade_from(graph, &current, to),
        Direction::Down => plan_downgrade_from(graph, &current, to),
    }
}

/// `"schema"."table"` for a version-table name given as `table` (in public) or `schema.table`.
pub fn quote_table(version_table: &str) -> String {
    let (schema, table) = version_table
        .split_once('.')
        .unwrap_or(("public", version_table));
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `CREATE TABLE IF NOT EXISTS` for the version table (`table` already quoted). `checksum` is
/// the [`crate::migration_checksum`] of the row's migration when it was applied (NULL when the
/// row was stamped or restored by a downgrade).
pub(crate) fn create_version_table_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    revision text PRIMARY KEY,\n    \
         applied_at timestamptz NOT NULL DEFAULT now(),\n    checksum text\n);"
    )
}

/// The progress table of a version table (`schema.name` or `name`): `name_steps`, holding one
/// row per migration with steps that is partway.
pub fn progress_table(version_table: &str) -> String {
    quote_table(&format!("{version_table}_steps"))
}

/// `CREATE TABLE IF NOT EXISTS` for the progress table (`table` already quoted).
pub(crate) fn create_progress_table_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    revision text PRIMARY KEY,\n    \
         direction text NOT NULL CHECK (direction IN ('up', 'down')),\n    \
         steps_done integer NOT NULL,\n    steps integer NOT NULL,\n    checksum text NOT NULL,\n    \
         updated_at timestamptz NOT NULL DEFAULT now()\n)"
    )
}

/// Adds the `checksum` column to a version table written by an older retort (idempotent).
pub(crate) fn upgrade_version_table_sql(table: &str) -> String {
    format!("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS checksum text;")
}

/// Statements that turn the version-table rows `before` into `after` (`table` already quoted).
/// `recorded` is the migration just applied and its checksum, stored on its row; other rows that
/// appear (parents restored by a downgrade) get no checksum.
pub(crate) fn version_sql(
    table: &str,
    before: &[String],
    after: &[String],
    recorded: Option<(&str, &str)>,
) -> String {
    let checksum = |id: &str| match recorded {
        Some((r, sum)) if r == id => quote_literal(sum),
        _ => "NULL".to_string(),
    };
    let removed: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    let added: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    let list = |ids: &[&String]| {
        ids.iter()
            .map(|id| quote_literal(id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    if let ([old], [new]) = (removed.as_slice(), added.as_slice()) {
        out.push(format!(
            "UPDATE {table} SET revision = {}, applied_at = now(), checksum = {} WHERE revision = {};",
            quote_literal(new),
            checksum(new),
            quote_literal(old)
        ));
    } else {
        if !removed.is_empty() {
            out.push(format!(
                "DELETE FROM {table} WHERE revision IN ({});",
                list(&removed)
            ));
        }
        if !added.is_empty() {
            let values: Vec<String> = added
                .iter()
                .map(|id| format!("({}, {})", quote_literal(id), checksum(id)))
                .collect();
            out.push(format!(
                "INSERT INTO {table} (revision, checksum) VALUES {};",
                values.join(", ")
            ));
        }
    }
    out.join("\n")
}

/// Why a statement cannot run inside a transaction block, if it cannot. `server_version_num`
/// is PostgreSQL's `server_version_num` (None: assume a current server).
pub fn transaction_blocker(
    stmt: &SqlStatement,
    server_version_num: Option<i32>,
) -> Option<&'static str> {
    let w = |i: usize| stmt.words.get(i).map(String::as_str).unwrap_or("");
    let has = |word: &str| stmt.words.iter().any(|x| x == word);
    let index_at = if w(1) == "UNIQUE" { 2 } else { 1 };
    match w(0) {
        "CREATE" if w(index_at) == "INDEX" && w(index_at + 1) == "CONCURRENTLY" => {
            Some("CREATE INDEX CONCURRENTLY")
        }
        "CREATE" | "DROP" if w(1) == "DATABASE" => Some("CREATE/DROP DATABASE"),
        "CREATE" | "DROP" if w(1) == "TABLESPACE" => Some("CREATE/DROP TABLESPACE"),
        "DROP" if w(1) == "INDEX" && w(2) == "CONCURRENTLY" => Some("DROP INDEX CONCURRENTLY"),
        "REINDEX" if has("CONCURRENTLY") => Some("REINDEX CONCURRENTLY"),
        "VACUUM" => Some("VACUUM"),
        "ALTER" if w(1) == "SYSTEM" => Some("ALTER SYSTEM"),
        "ALTER" if w(1) == "TABLE" && has("DETACH") && has("CONCURRENTLY") => {
            Some("DETACH PARTITION CONCURRENTLY")
        }
        "ALTER"
            if w(1) == "TYPE"
                && stmt
                    .words
                    .windows(2)
                    .any(|p| p[0] == "ADD" && p[1] == "VALUE")
                && server_version_num.is_some_and(|v| v < 120_000) =>
        {
            Some("ALTER TYPE ... ADD VALUE (before PostgreSQL 12)")
        }
        _ => None,
    }
}

/// Why a part of a migration runs outside a transaction: its mark, or a statement that cannot
/// run in one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outside {
    Marked(&'static str),
    Blocker(&'static str),
}

impl Outside {
    /// For `part`, one of `parts` parts, holding `stmts`, on a server of `server_version_num`.
    pub(crate) fn of(
        part: &Part,
        parts: usize,
        stmts: &[SqlStatement],
        server_version_num: Option<i32>,
    ) -> Option<Outside> {
        if part.no_transaction {
            return Some(Outside::Marked(if parts > 1 {
                "marked `-- retort:step no-transaction`"
            } else {
                "marked `-- retort:no-transaction`"
            }));
        }
        stmts
            .iter()
            .find_map(|s| transaction_blocker(s, server_version_num))
            .map(Outside::Blocker)
    }

    /// The mark, or the statement kind alone.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Outside::Marked(m) | Outside::Blocker(m) => m,
        }
    }
}

impl std::fmt::Display for Outside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outside::Marked(m) => f.write_str(m),
            Outside::Blocker(b) => write!(f, "{b} cannot run inside a transaction"),
        }
    }
}

/// True for BEGIN/COMMIT/ROLLBACK and friends, which would break the per-migration transaction.
pub(crate) fn is_transaction_control(stmt: &SqlStatement) -> bool {
    let w = |i: usize| stmt.words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        "BEGIN" | "COMMIT" | "END" | "ABORT" => w(1) != "PREPARED",
        "START" => w(1) == "TRANSACTION",
        "ROLLBACK" => w(1) != "TO" && w(1) != "PREPARED",
        _ => false,
    }
}

/// The SQL script `upgrade --sql` prints: the version table, then per migration a comment,
/// `BEGIN;`, its body, the version-table statements and `COMMIT;` (migrations that cannot run
/// in a transaction get their statements bare, then the version update in its own transaction).
pub fn offline_sql(graph: &Graph, steps: &[Step], version_table: &str) -> String {
    let table = quote_table(version_table);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n{}\n",
        create_version_table_sql(&table),
        upgrade_version_table_sql(&table)
    );
    for step in steps {
        let _ = writeln!(out, "-- Running {}", step.describe());
        if let Some(m) = graph.get(&step.id) {
            if !m.message.is_empty() {
                let _ = writeln!(out, "-- {}", m.message);
            }
        }
        let version = version_sql(
            &table,
            &step.version_before,
            &step.version_after,
            step.recorded(),
        );
        let n = step.parts.len();
        for (i, part) in step.parts.iter().enumerate() {
            // Bodies were checked when the files were read; an unclosed token cannot be left here.
            let stmts = split_statements(&part.sql).unwrap_or_default();
            let blocker = Outside::of(part, n, &stmts, None).map(Outside::short);
            let mut body = part.sql.trim().to_string();
            if stmts.last().is_some_and(|s| !s.terminated) {
                body.push_str("\n;");
            }
            if n > 1 {
                let _ = writeln!(out, "-- step {} of {n}", i + 1);
            }
            let version = if i + 1 == n { version.as_str() } else { "" };
            match blocker {
                None => {
                    out.push_str("BEGIN;\n\n");
                    if !body.is_empty() {
                        let _ = writeln!(out, "{body}\n");
                    }
                    if !version.is_empty() {
                        let _ = writeln!(out, "{version}\n");
                    }
                    out.push_str("COMMIT;\n\n");
                }
                Some(reason) => {
                    let _ = writeln!(out, "-- runs outside a transaction: {reason}\n");
                    if !body.is_empty() {
                        let _ = writeln!(out, "{body}\n");
                    }
                    if !version.is_empty() {
                        let _ = writeln!(out, "BEGIN;\n\n{version}\n\nCOMMIT;\n");
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> SqlStatement {
        split_statements(sql).unwrap().remove(0)
    }

    #[test]
    fn targets_parse() {
        assert_eq!(parse_target("head").unwrap(), Target::Head);
        assert_eq!(parse_target("+2").unwrap(), Target::Relative(2));
        assert_eq!(parse_target("-1").unwrap(), Target::Relative(-1));
        assert_eq!(parse_target("2025").unwrap(), Target::Rev("2025".into()));
        assert!(parse_target("+0").is_err());
        assert!(parse_target("-x").is_err());
    }

    #[test]
    fn blockers() {
        let b = |sql: &str, v| transaction_blocker(&stmt(sql), v);
        assert!(b("create index concurrently ix on t (a)", None).is_some());
        assert!(b("CREATE UNIQUE INDEX CONCURRENTLY ix ON t (a)", None).is_some());
        assert!(b("CREATE INDEX ix ON t (a)", None).is_none());
        assert!(b("DROP INDEX CONCURRENTLY IF EXISTS ix", None).is_some());
        assert!(b("REINDEX (VERBOSE) TABLE CONCURRENTLY t", None).is_some());
        assert!(b("VACUUM ANALYZE t", None).is_some());
        assert!(b("ALTER TYPE mood ADD VALUE 'meh'", Some(110_000)).is_some());
        assert!(b("ALTER TYPE mood ADD VALUE 'meh'", Some(150_000)).is_none());
        assert!(b("COMMENT ON TABLE t IS 'vacuum'", None).is_none());
    }

    #[test]
    fn transaction_control() {
        assert!(is_transaction_control(&stmt("BEGIN")));
        assert!(is_transaction_control(&stmt("commit")));
        assert!(is_transaction_control(&stmt("START TRANSACTION")));
        assert!(!is_transaction_control(&stmt("ROLLBACK TO SAVEPOINT s")));
        assert!(!is_transaction_control(&stmt("DO $$ BEGIN END $$")));
    }

    #[test]
    fn version_statements() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let t = quote_table("retort_version");
        assert_eq!(t, "\"public\".\"retort_version\"");
        assert_eq!(
            version_sql(&t, &[], &s(&["a"]), Some(("a", "h1:x"))),
            "INSERT INTO \"public\".\"retort_version\" (revision, checksum) VALUES ('a', 'h1:x');"
        );
        assert_eq!(
            version_sql(&t, &s(&["a"]), &s(&["b"]), Some(("b", "h1:y"))),
            "UPDATE \"public\".\"retort_version\" SET revision = 'b', applied_at = now(), checksum = 'h1:y' WHERE revision = 'a';"
        );
        assert_eq!(
            version_sql(&t, &s(&["b"]), &s(&["a"]), None),
            "UPDATE \"public\".\"retort_version\" SET revision = 'a', applied_at = now(), checksum = NULL WHERE revision = 'b';"
        );
        assert_eq!(
            version_sql(&t, &s(&["a", "b"]), &s(&["m"]), Some(("m", "h1:z"))),
            "DELETE FROM \"public\".\"retort_version\" WHERE revision IN ('a', 'b');\n\
             INSERT INTO \"public\".\"retort_version\" (revision, checksum) VALUES ('m', 'h1:z');"
        );
        assert_eq!(quote_table("ops.versions"), "\"ops\".\"versions\"");
    }
}
