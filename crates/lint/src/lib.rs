//! `retort lint`: checks a migration's SQL text (generated or hand-written) for statements that
//! hurt a production database: data loss, table rewrites, long locks, validation scans, renames
//! that break running code, transaction-incompatible statements. Statements come from
//! [`retort_migrate::split_statements`] and are parsed with `sqlparser` (PostgreSQL dialect).

use retort_migrate::{split_statements, transaction_blocker};
use serde::Serialize;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, AlterTypeOperation, ColumnOption, ObjectName,
    ObjectType, Statement, TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeSet;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One lint rule: a stable id, a name, its default severity and the README anchor explaining it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// Which `-- WARNING (<kind>)` comments emitted by Retort's renderer acknowledge this rule.
    pub hazards: &'static [&'static str],
}

impl Rule {
    /// The README anchor, e.g. `#r001-drop-table`.
    pub fn anchor(&self) -> String {
        format!("#{}-{}", self.id.to_ascii_lowercase(), self.name)
    }
}

macro_rules! rules {
    ($($c:ident = $id:literal, $name:literal, $sev:ident, [$($h:literal),*];)*) => {
        $(pub const $c: Rule = Rule { id: $id, name: $name, severity: Severity::$sev, hazards: &[$($h),*] };)*
        /// Every rule, in id order.
        pub const RULES: &[Rule] = &[$($c),*];
    };
}

rules! {
    NOT_PARSED = "R000", "not-parsed", Info, [];
    DROP_TABLE = "R001", "drop-table", Error, ["data loss"];
    DROP_COLUMN = "R002", "drop-column", Error, ["data loss"];
    ALTER_COLUMN_TYPE = "R003", "alter-column-type", Warning, ["rewrite", "narrowing", "table rewrite"];
    SET_NOT_NULL = "R004", "set-not-null", Warning, ["not null"];
    ADD_COLUMN_NOT_NULL = "R005", "add-column-not-null-without-default", Error, ["not null"];
    CREATE_INDEX = "R006", "create-index-not-concurrently", Warning, ["locking"];
    CONSTRAINT_VALIDATED = "R007", "constraint-without-not-valid", Warning, ["locking"];
    RENAME = "R008", "rename", Warning, ["possible rename"];
    LOCK_TIMEOUT = "R009", "missing-lock-timeout", Warning, [];
    NO_TRANSACTION = "R010", "needs-no-transaction", Warning, ["no transaction", "non transactional"];
    MIXED_DATA_DDL = "R011", "data-and-ddl", Warning, [];
}

/// Looks a rule up by id (`R001`) or name (`drop-table`), case-insensitively.
pub fn rule(key: &str) -> Option<Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// One problem found in a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// 1-based line of the text on which the statement starts.
    pub line: usize,
    pub message: String,
    /// Set when a `-- WARNING (...)` comment Retort wrote above the statement acknowledges the
    /// hazard: the finding is then reported at info severity.
    pub acknowledged: bool,
}

impl Finding {
    fn new(rule: Rule, line: usize, message: String) -> Finding {
        Finding {
            rule: rule.id,
            name: rule.name,
            severity: rule.severity,
            line,
            message,
            acknowledged: false,
        }
    }
}

/// The directive that makes the runner apply a migration outside a transaction.
pub const NO_TRANSACTION_MARK: &str = "-- retort:no-transaction";
/// Starts a step of its own inside a migration (`-- retort:step [no-transaction]`).
pub const STEP_MARK: &str = "-- retort:step";
/// The per-statement suppression comment: `-- retort:allow R001 R006` or rule names.
pub const ALLOW: &str = "-- retort:allow";

/// Lints one migration file's text (header and body). Findings are in line order.
pub fn lint(text: &str) -> Vec<Finding> {
    let whole_file = text.lines().any(|l| l.trim_end() == NO_TRANSACTION_MARK);
    let lines: Vec<&str> = text.lines().collect();
    // `-- retort:step [no-transaction]` lines: (line, outside a transaction).
    let steps: Vec<(usize, bool)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let rest = l.trim_end().strip_prefix(STEP_MARK)?;
            match rest.trim() {
                "" if rest.is_empty() || rest.starts_with(' ') => Some((i + 1, false)),
                "no-transaction" => Some((i + 1, true)),
                _ => None,
            }
        })
        .collect();
    // The step a line belongs to (its number, 0 before any step line) and whether it runs
    // outside a transaction.
    let step_of = |line: usize| -> (usize, bool) {
        let n = steps.iter().filter(|(l, _)| *l < line).count();
        let outside = n > 0 && steps[n - 1].1;
        (n, whole_file || outside)
    };
    let stmts = match split_statements(text) {
        Ok(s) => s,
        Err(open) => {
            return vec![Finding::new(
                NOT_PARSED,
                1,
                format!("not parsed: the text does not split into statements ({open:?})"),
            )]
        }
    };
    // Tables created in this migration: locks and scans on them hurt nobody.
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut lock_timeout = false;
    let mut has_ddl = false;
    let mut data_lines = Vec::new();
    let mut out = Vec::new();
    for (i, st) in stmts.iter().enumerate() {
        let mut found = Vec::new();
        let (step, no_transaction) = step_of(st.line);
        let last_of_its_step = stmts
            .get(i + 1)
            .is_none_or(|next| step_of(next.line).0 != step);
        // The runner's own test (words, not the parse), so lint and runner agree.
        let blocker = transaction_blocker(st, None);
        if let Some(what) = blocker {
            if !no_transaction {
                found.push(no_tx(st.line, what));
            }
        }
        let parsed = match Parser::parse_sql(&PostgreSqlDialect {}, &st.sql) {
            Ok(mut v) if v.len() == 1 => v.pop().unwrap(),
            Ok(_) => continue,
            // sqlparser 0.64 does not know `DROP INDEX CONCURRENTLY`: the blocker check above
            // has seen it, so it needs no "not parsed" finding.
            Err(_) if blocker.is_some() => {
                has_ddl = true;
                out.extend(finish(found, &lines, st.line));
                continue;
            }
            Err(e) => {
                found.push(Finding::new(
                    NOT_PARSED,
                    st.line,
                    format!("not parsed, so not checked: {e}"),
                ));
                out.extend(finish(found, &lines, st.line));
                continue;
            }
        };
        let mut locking = false;
        match &parsed {
            Statement::Set(_) => {
                let up = st.sql.to_ascii_lowercase();
                if up.contains("lock_timeout") {
                    lock_timeout = true;
                }
            }
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                data_lines.push(st.line);
            }
            Statement::CreateTable(ct) => {
                has_ddl = true;
                created.insert(key(&ct.name));
            }
            Statement::Drop {
                object_type, names, ..
            } => {
                has_ddl = true;
                if *object_type == ObjectType::Table {
                    for n in names {
                        if !created.contains(&key(n)) {
                            locking = true;
                            found.push(Finding::new(
                                DROP_TABLE,
                                st.line,
                                format!("drops table {n} and all its rows"),
                            ));
                        }
                    }
                }
            }
            Statement::CreateIndex(ci) => {
                has_ddl = true;
                let fresh = created.contains(&key(&ci.table_name));
                if !ci.concurrently && !fresh {
                    locking = true;
                    found.push(Finding::new(
                        CREATE_INDEX,
                        st.line,
                        format!(
                            "builds an index on existing table {} without CONCURRENTLY, blocking writes until done",
                            ci.table_name
                        ),
                    ));
                }
            }
            Statement::AlterTable(at) => {
                has_ddl = true;
                let table = &at.name;
                if !created.contains(&key(table)) {
                    locking = true;
                    for op in &at.operations {
                        alter_op(op, table, st.line, &mut found);
                    }
                }
            }
            Statement::AlterType(at) => {
                has_ddl = true;
                // Last in a step of its own making, the value is committed before a later step
                // can use it.
                if matches!(at.operation, AlterTypeOperation::AddValue(_))
                    && !no_transaction
                    && (steps.is_empty() || !last_of_its_step)
                {
                    let mut f = no_tx(st.line, "ALTER TYPE ... ADD VALUE");
                    f.severity = Severity::Info;
                    f.message = format!(
                        "ALTER TYPE {} ADD VALUE cannot run in a transaction before PostgreSQL 12, and on 12+ the new value cannot be used until the transaction commits",
                        at.name
                    );
                    found.push(f);
                }
            }
            _ => {
                let w0 = st.words.first().map(String::as_str).unwrap_or("");
                if matches!(
                    w0,
                    "CREATE" | "ALTER" | "DROP" | "COMMENT" | "GRANT" | "REVOKE"
                ) {
                    has_ddl = true;
                }
            }
        }
        if locking && !lock_timeout {
            found.push(Finding::new(
                LOCK_TIMEOUT,
                st.line,
                "locks an existing table with no `SET lock_timeout` before it: while it waits for a long transaction, every query on the table queues behind it".into(),
            ));
            // One finding per migration is enough.
            lock_timeout = true;
        }
        out.extend(finish(found, &lines, st.line));
    }
    if has_ddl {
        for line in data_lines {
            let f = Finding::new(
                MIXED_DATA_DDL,
                line,
                "changes data in a migration that also changes the schema: a long data change holds the DDL locks, and a failure undoes both (put data changes in their own migration)".into(),
            );
            out.extend(finish(vec![f], &lines, line));
        }
    }
    out.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    out
}

fn no_tx(line: usize, what: &str) -> Finding {
    Finding::new(
        NO_TRANSACTION,
        line,
        format!(
            "{what} cannot run inside a transaction, so the runner applies its whole step outside one (not atomic: a failure leaves the statements before it applied): give the statement a step of its own with `-- retort:step no-transaction` above it (and `-- retort:step` after it), or mark the migration `{NO_TRANSACTION_MARK}` to say so"
        ),
    )
}

fn alter_op(op: &AlterTableOperation, table: &ObjectName, line: usize, out: &mut Vec<Finding>) {
    match op {
        AlterTableOperation::DropColumn { column_names, .. } => {
            for c in column_names {
                out.push(Finding::new(
                    DROP_COLUMN,
                    line,
                    format!("drops column {table}.{c} and its data"),
                ));
            }
        }
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetDataType { data_type, .. } => out.push(Finding::new(
                ALTER_COLUMN_TYPE,
                line,
                format!(
                    "changes the type of {table}.{column_name} to {data_type}: most type changes rewrite the table under an ACCESS EXCLUSIVE lock, and a narrower type fails or truncates"
                ),
            )),
            AlterColumnOperation::SetNotNull => out.push(Finding::new(
                SET_NOT_NULL,
                line,
                format!(
                    "sets {table}.{column_name} NOT NULL on an existing table: a full scan under lock, and it fails if any row holds NULL (add a `CHECK ({column_name} IS NOT NULL) NOT VALID` constraint and validate it first)"
                ),
            )),
            _ => {}
        },
        AlterTableOperation::AddColumn { column_def, .. } => {
            let opts = || column_def.options.iter().map(|o| &o.option);
            let not_null = opts().any(|o| matches!(o, ColumnOption::NotNull));
            let default = opts().any(|o| {
                matches!(
                    o,
                    ColumnOption::Default(_)
                        | ColumnOption::Generated { .. }
                        | ColumnOption::Identity(_)
                )
            });
            let serial = matches!(
                column_def.data_type.to_string().to_ascii_lowercase().as_str(),
                "serial" | "bigserial" | "smallserial"
            );
            if not_null && !default && !serial {
                out.push(Finding::new(
                    ADD_COLUMN_NOT_NULL,
                    line,
                    format!(
                        "adds NOT NULL column {table}.{} without a DEFAULT: fails on any table that has rows",
                        column_def.name
                    ),
                ));
            }
        }
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid: false,
        } => {
            let kind = match constraint {
                TableConstraint::ForeignKey(_) => "foreign key",
                TableConstraint::Check(_) => "check constraint",
                _ => return,
            };
            out.push(Finding::new(
                CONSTRAINT_VALIDATED,
                line,
                format!(
                    "adds a {kind} to existing table {table} without NOT VALID: every row is checked while the lock is held (add it NOT VALID, then VALIDATE CONSTRAINT in a later statement)"
                ),
            ));
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => out.push(Finding::new(
            RENAME,
            line,
            format!(
                "renames column {table}.{old_column_name} to {new_column_name}: code still running against the old name breaks until it is deployed"
            ),
        )),
        AlterTableOperation::RenameTable { table_name } => out.push(Finding::new(
            RENAME,
            line,
            format!(
                "renames table {table} {table_name}: code still running against the old name breaks until it is deployed"
            ),
        )),
        _ => {}
    }
}

/// Table names compare unquoted and lower-cased, without a `public.` schema.
fn key(name: &ObjectName) -> String {
    let s = name.to_string().replace('"', "").to_ascii_lowercase();
    s.strip_prefix("public.").map(str::to_string).unwrap_or(s)
}

/// Applies the comment lines directly above the statement at `line`: `-- retort:allow` drops the
/// findings it names, Retort's `-- WARNING (<kind>)` acknowledges the rules of that hazard.
fn finish(found: Vec<Finding>, lines: &[&str], line: usize) -> Vec<Finding> {
    let mut allowed: Vec<Rule> = Vec::new();
    let mut hazards: Vec<String> = Vec::new();
    let mut i = line.saturating_sub(1);
    while i > 0 {
        let l = lines.get(i - 1).map(|l| l.trim()).unwrap_or("");
        if !l.starts_with("--") {
            break;
        }
        if let Some(rest) = l.strip_prefix(ALLOW) {
            allowed.extend(
                rest.split([' ', ','])
                    .filter(|w| !w.is_empty())
                    .filter_map(rule),
            );
        } else if let Some(rest) = l.strip_prefix("-- WARNING (") {
            if let Some((kind, _)) = rest.split_once(')') {
                hazards.push(kind.to_string());
            }
        }
        i -= 1;
    }
    found
        .into_iter()
        .filter(|f| !allowed.iter().any(|r| r.id == f.rule))
        .map(|mut f| {
            let r = rule(f.rule).expect("known rule");
            if r.hazards.iter().any(|h| hazards.iter().any(|k| k == h)) {
                f.acknowledged = true;
                f.severity = Severity::Info;
            }
            f
        })
        .collect()
}

/// `file:line: severity[R00x] message` for each finding.
pub fn text_line(file: &str, f: &Finding) -> String {
    let ack = if f.acknowledged {
        " (acknowledged by its -- WARNING comment)"
    } else {
        ""
    };
    format!(
        "{file}:{}: {}[{}] {}{ack}",
        f.line,
        f.severity.as_str(),
        f.rule,
        f.message
    )
}

/// A GitHub Actions workflow command annotating the line.
pub fn github_line(file: &str, f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let msg = f
        .message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    format!(
        "::{level} file={file},line={},title={} {}::{msg}",
        f.line, f.rule, f.name
    )
}
