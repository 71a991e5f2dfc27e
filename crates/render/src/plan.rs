//! The typed migration [`Plan`]: every statement with its SQL, hazards, whether it can run in a
//! transaction, and the change it comes from; the migration body is written from it.

use crate::{index, statements, summary, Hazard, HazardKind, Statement};
use retort_schema::{Change, QualName};
use serde::Serialize;
use std::fmt::Write;

/// Choices that change how changes are written, not what they do.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Build and drop indexes of existing tables with CONCURRENTLY, each in a step of its own
    /// that runs outside a transaction.
    pub concurrent_indexes: bool,
    /// `--online`: what locks a filled table for long is rewritten to hold short locks: indexes
    /// as with `concurrent_indexes`; foreign keys and checks added to existing tables `NOT
    /// VALID` and validated in a last step; SET NOT NULL through a validated check.
    pub online: bool,
}

impl RenderOptions {
    fn concurrent(&self) -> bool {
        self.concurrent_indexes || self.online
    }
}

/// One statement of a migration and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedStatement {
    /// The SQL, without the trailing semicolon.
    pub sql: String,
    pub hazards: Vec<Hazard>,
    /// False when PostgreSQL refuses the statement inside a transaction block.
    pub transactional: bool,
    /// One line describing the change (the first line of its first statement).
    pub summary: String,
    /// The index of the change in the migration's list of changes.
    pub change: usize,
    /// The step (0-based) of the migration the statement belongs to (`-- retort:step`).
    pub step: usize,
}

/// A migration as statements: what the migration writer, summaries, JSON output and the
/// transaction decision read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub statements: Vec<PlannedStatement>,
    /// How many steps the migration has, when a step holds no statement (down.sql's mirror of an
    /// up step that only validates); otherwise 0 and the statements tell.
    #[serde(skip_serializing_if = "is_zero")]
    pub steps: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Every hazard, in statement order.
    pub fn hazards(&self) -> impl Iterator<Item = &Hazard> {
        self.statements.iter().flat_map(|s| &s.hazards)
    }

    /// True when every statement can run inside one transaction.
    pub fn transactional(&self) -> bool {
        self.statements.iter().all(|s| s.transactional)
    }

    /// How many steps the migration has (1 for an empty one).
    pub fn step_count(&self) -> usize {
        self.statements
            .last()
            .map_or(1, |s| s.step + 1)
            .max(self.steps)
    }

    /// True when step `step` runs outside a transaction.
    pub fn step_outside(&self, step: usize) -> bool {
        self.statements
            .iter()
            .any(|s| s.step == step && !s.transactional)
    }

    /// True when the file's header says `-- retort:no-transaction`: a single step that cannot
    /// run in a transaction (with several steps, each step line says it).
    pub fn header_no_transaction(&self) -> bool {
        self.step_count() == 1 && !self.transactional()
    }

    /// The migration body: one statement per paragraph, hazards as comments above it, and a
    /// `-- retort:step [no-transaction]` line where a step begins (none for a single step).
    pub fn body(&self) -> String {
        let mut out = String::new();
        let n = self.step_count();
        for step in 0..n {
            let mut first = true;
            let in_step = self.statements.iter().filter(|s| s.step == step);
            let mut empty = true;
            for st in in_step {
                empty = false;
                if !out.is_empty() {
                    out.push('\n');
                }
                if first && n > 1 && (step > 0 || self.step_outside(step)) {
                    out.push_str(step_line(self.step_outside(step)));
                }
                first = false;
                for h in &st.hazards {
                    let _ = writeln!(out, "-- WARNING ({}): {}", h.kind.label(), h.message);
                }
                let _ = writeln!(out, "{};", st.sql);
            }
            if empty && n > 1 {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(step_line(false));
                out.push_str(
                    "-- Nothing to take back here: the step of up.sql this one mirrors only validates constraints or fills in rows.\n",
                );
            }
        }
        out
    }
}

fn step_line(outside: bool) -> &'static str {
    if outside {
        "-- retort:step no-transaction\n"
    } else {
        "-- retort:step\n"
    }
}

/// Plans a migration from ordered changes, cut into steps (see [`crate::steps`]).
pub fn plan(changes: &[Change], opts: &RenderOptions) -> Plan {
    let (mut plan, later) = statements_of(changes, opts);
    let now: Vec<PlannedStatement> = plan
        .statements
        .iter()
        .zip(&later)
        .filter(|(_, l)| !**l)
        .map(|(s, _)| s.clone())
        .collect();
    let steps = crate::steps::of_changes(changes, &now);
    // A change whose statements run partly in a transaction and partly not (an online ADD
    // COLUMN's backfill) has a step for each run of them; the steps after it move on.
    let mut bump = 0;
    let mut previous: Option<(usize, bool)> = None;
    let mut last = 0;
    for (s, later) in plan.statements.iter_mut().zip(&later) {
        if *later {
            continue;
        }
        if previous.is_some_and(|(c, t)| c == s.change && t != s.transactional) {
            bump += 1;
        }
        previous = Some((s.change, s.transactional));
        s.step = steps[s.change] + bump;
        last = last.max(s.step + 1);
    }
    // Validations come last, in a step of their own after everything they check has committed.
    let last = last.max(steps.last().map_or(0, |s| s + 1 + bump));
    for (s, later) in plan.statements.iter_mut().zip(&later) {
        if *later {
            s.step = last;
        }
    }
    plan.statements.sort_by_key(|s| s.step);
    plan
}

/// Plans the down migration of `changes` (whose up migration is `up`): `inverse` is
/// `retort_differ::inverse(changes)`, and its steps mirror up's, so that the steps an
/// interrupted upgrade committed can be taken back one for one.
pub fn plan_inverse(inverse: &[Change], up: &Plan, opts: &RenderOptions) -> Plan {
    let (mut plan, _) = statements_of(inverse, opts);
    if opts.online {
        take_back_not_null_checks(inverse, &mut plan);
    }
    let mut up_steps = vec![0; inverse.len()];
    let mut last = 0;
    for (i, step) in up_steps.iter_mut().enumerate() {
        // A change's first statement tells its step (validations come later); changes without
        // statements take the step of the change before them.
        if let Some(s) = up
            .statements
            .iter()
            .filter(|s| s.change == i)
            .min_by_key(|s| s.step)
        {
            last = s.step;
        }
        *step = last;
    }
    let steps = crate::steps::mirrored(&up_steps, up.step_count());
    plan.statements
        .iter_mut()
        .for_each(|s| s.step = steps[s.change]);
    plan.statements.sort_by_key(|s| s.step);
    plan.steps = up.step_count();
    plan
}

/// Before each DROP NOT NULL of down.sql that takes back an online SET NOT NULL: the check it
/// went through, dropped if an interrupted upgrade left it.
fn take_back_not_null_checks(inverse: &[Change], plan: &mut Plan) {
    for (i, change) in inverse.iter().enumerate() {
        let Change::AlterColumnNullable {
            table,
            column,
            to: true,
            ..
        } = change
        else {
            continue;
        };
        let Some(at) = plan.statements.iter().position(|s| s.change == i) else {
            continue;
        };
        let st = crate::constraint::drop_not_null_check(table, column);
        let first = plan.statements[at].clone();
        plan.statements.insert(
            at,
            PlannedStatement {
                sql: st.sql,
                hazards: Vec::new(),
                ..first
            },
        );
    }
}

/// The statements of ordered changes, all in step 0, and which of them run in the last step.
fn statements_of(changes: &[Change], opts: &RenderOptions) -> (Plan, Vec<bool>) {
    let created: Vec<&QualName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(&table.name),
            _ => None,
        })
        .collect();
    let (statements, later) = changes
        .iter()
        .enumerate()
        .flat_map(|(i, change)| {
            let summary = summary(change);
            in_migration(changes, &created, change, opts)
                .into_iter()
                .map(move |st| {
                    let statement = PlannedStatement {
                        sql: st.sql,
                        hazards: st.hazards,
                        transactional: st.transactional,
                        summary: summary.clone(),
                        change: i,
                        step: 0,
                    };
                    (statement, st.later)
                })
        })
        .unzip();
    (
        Plan {
            statements,
            steps: 0,
        },
        later,
    )
}

/// Renders changes as a migration body with default options.
pub fn render_body(changes: &[Change]) -> String {
    render_body_with(changes, &RenderOptions::default())
}

/// Renders changes as a migration body (see [`Plan::body`]).
pub fn render_body_with(changes: &[Change], opts: &RenderOptions) -> String {
    plan(changes, opts).body()
}

/// All hazards of a list of changes, in order.
pub fn hazards(changes: &[Change]) -> Vec<Hazard> {
    plan(changes, &RenderOptions::default())
        .hazards()
        .cloned()
        .collect()
}

/// The statements of one change within its migration: its own, with the options and hazards
/// that depend on the other changes (indexes of existing tables, constraints and defaults that
/// are lost rather than rebuilt, drop + add pairs that look like renames).
/// `created` lists the tables the migration creates.
fn in_migration(
    changes: &[Change],
    created: &[&QualName],
    change: &Change,
    opts: &RenderOptions,
) -> Vec<Statement> {
    {
        let mut sts = statements(change);
        match change {
            Change::CreateIndex { table, index } if !created.contains(&table) => {
                if opts.concurrent() {
                    sts = index::create(table, index, true);
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::NonTransactional,
                        "CREATE INDEX CONCURRENTLY runs outside a transaction, in a step of its own: if it fails it may leave an INVALID index to drop before the next try",
                    );
                } else {
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::Locking,
                        format!("builds an index on existing table {table}, blocking writes until done (consider --concurrent-indexes)"),
                    );
                }
            }
            Change::DropIndex { table, index }
                if opts.concurrent()
                    && !changes.iter().any(
                        |c| matches!(c, Change::DropTable { table: t } if &t.name == table),
                    ) =>
            {
                sts = index::drop(table, &index.name, true);
            }
            Change::AddForeignKey { table, foreign_key } if !created.contains(&table) => {
                if opts.online {
                    sts = crate::constraint::add_not_valid(table, sts, &foreign_key.name);
                } else {
                    let against = if &foreign_key.ref_table == table {
                        "itself while writes to it wait".to_string()
                    } else {
                        format!("{} while writes to both tables wait", foreign_key.ref_table)
                    };
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::ValidationScan,
                        format!("checks every row of existing table {table} against {against} (consider --online: NOT VALID, then VALIDATE)"),
                    );
                }
            }
            Change::AddCheck { table, check } if !created.contains(&table) => {
                if opts.online {
                    sts = crate::constraint::add_not_valid(table, sts, &check.name);
                } else {
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::ValidationScan,
                        format!("checks every row of existing table {table} while writes to it wait (consider --online: NOT VALID, then VALIDATE)"),
                    );
                }
            }
            Change::AddColumn { table, column } if !created.contains(&table) => {
                let volatile = column.identity.is_none() && column.generated.is_none();
                match crate::rewrite::added_column(column) {
                    Some(_) if opts.online && volatile => {
                        if let Some(online) = crate::column::add_online(table, column) {
                            sts = online;
                        }
                    }
                    Some(why) => {
                        let hint = if volatile {
                            " (consider --online: add, backfill in batches, then the default)"
                        } else {
                            ""
                        };
                        sts[0] = sts[0].clone().hazard(
                            HazardKind::TableRewrite,
                            format!("adds {table}.{} to an existing table: {why}, rewriting the table while reads and writes wait{hint}", column.name),
                        );
                    }
                    None => {}
                }
            }
            Change::AlterColumnType {
                table,
                column,
                from,
                to,
            } if !created.contains(&table)
                && crate::rewrite::type_change(from, to)
                && !sts[0]
                    .hazards
                    .iter()
                    .any(|h| h.message.contains("rewritten")) =>
            {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::TableRewrite,
                    format!("converts every value of {table}.{column}: the table and its indexes are rewritten while reads and writes wait"),
                );
            }
            Change::AlterColumnNullable {
                table,
                column,
                to: false,
                ..
            } if opts.online && !created.contains(&table) => {
                sts = crate::constraint::set_not_null_online(table, column);
            }
            Change::DropIndex { table, index } if !rebuilt_index(changes, table, &index.name) => {
                let why = if index.unique {
                    "queries that used it get slower, and duplicates become possible"
                } else {
                    "queries that used it get slower"
                };
                sts[0] = sts[0].clone().hazard(
                    HazardKind::IndexLoss,
                    format!("drops index {}.{}: {why}", table.schema, index.name),
                );
            }
            Change::DropPrimaryKey { table, primary_key } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops primary key {} of {table}: duplicate keys become possible",
                        primary_key.name
                    ),
                );
            }
            Change::DropUnique { table, unique } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops unique constraint {} of {table}: duplicates of ({}) become possible",
                        unique.name,
                        unique.columns.join(", ")
                    ),
                );
            }
            Change::DropCheck { table, check } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops check constraint {} of {table}: rows violating ({}) become possible",
                        check.name, check.expr
                    ),
                );
            }
            Change::DropForeignKey { table, foreign_key } if !readded(changes, change) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ConstraintLoss,
                    format!(
                        "drops foreign key {} of {table}: rows may then reference missing rows of {}",
                        foreign_key.name, foreign_key.ref_table
                    ),
                );
            }
            Change::AlterColumnDefault {
                table,
                column,
                from: Some(old),
                to: None,
            } if !default_set_again(changes, table, column) => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::DefaultLoss,
                    format!("drops the default ({old}) of {table}.{column}: inserts that omit the column store NULL, or fail if it is NOT NULL"),
                );
            }
            Change::AlterColumnIdentity {
                table,
                column,
                from: Some(_),
                to: None,
            }
            | Change::AlterColumnSerial {
                table,
                column,
                from: Some(_),
                to: None,
                ..
            } => {
                sts[0] = sts[0].clone().hazard(
                    HazardKind::DefaultLoss,
                    format!("{table}.{column} stops generating values and its sequence is dropped: inserts that omit the column fail"),
                );
            }
            Change::DropObject { object } if !recreated(changes, object) => {
                use retort_schema::ObjectKind;
                let what = match object.kind {
                    ObjectKind::Trigger => "it stops firing",
                    ObjectKind::RowSecurity => {
                        "its policies stop applying: every role with privileges on the table sees every row"
                    }
                    ObjectKind::Policy => "the rows it let roles see or write change",
                    _ => "queries and code that use it fail",
                };
                sts[0] = sts[0].clone().hazard(
                    HazardKind::ObjectLoss,
                    format!("drops {}: {what}", object.key()),
                );
            }
            Change::DropColumn { table, column } => {
                let twin = possible_renames(changes)
                    .into_iter()
                    .find(|p| &p.table == table && p.from == column.name)
                    .map(|p| p.to);
                if let Some(new_name) = twin {
                    sts[0] = sts[0].clone().hazard(
                        HazardKind::PossibleRename,
                        format!(
                            "{table}.{} is dropped and {new_name} added with the same type: if this is a rename, add #[column(renamed_from = \"{}\")] to keep the data (manual step needed)",
                            column.name, column.name
                        ),
                    );
                }
            }
            _ => {}
        }
        sts
    }
}

/// A column dropped and another added to the same table with the same type: perhaps a rename,
/// which autogenerate never guesses (the user says so, or the models' `renamed_from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PossibleRename {
    pub table: QualName,
    pub from: String,
    pub to: String,
}

/// Every pair of a dropped and an added column of one table with the same type, in change order
/// (the `possible rename` hazard, and what `revision` asks about).
pub fn possible_renames(changes: &[Change]) -> Vec<PossibleRename> {
    let mut out = Vec::new();
    for c in changes {
        let Change::DropColumn { table, column } = c else {
            continue;
        };
        for a in changes {
            if let Change::AddColumn {
                table: t,
                column: added,
            } = a
            {
                if t == table && added.ty == column.ty && added.name != column.name {
                    out.push(PossibleRename {
                        table: table.clone(),
                        from: column.name.clone(),
                        to: added.name.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Whether the same migration sets a default on `table.column` again (a default over an enum is
/// dropped around the column's type change and restored after it: nothing is lost).
fn default_set_again(changes: &[Change], table: &QualName, column: &str) -> bool {
    changes.iter().any(|c| {
        matches!(c, Change::AlterColumnDefault { table: t, column: n, to: Some(_), .. }
            if t == table && n == column)
    })
}

/// True when the migration creates `object` again (recreated around a change it depends on, or
/// with a new definition).
fn recreated(changes: &[Change], object: &retort_schema::Object) -> bool {
    let key = object.key();
    changes
        .iter()
        .any(|c| matches!(c, Change::CreateObject { object: o } if o.key() == key))
}

/// True when the migration creates an index of the same name on `table` again (a rebuild).
fn rebuilt_index(changes: &[Change], table: &QualName, name: &str) -> bool {
    changes.iter().any(|c| {
        matches!(c, Change::CreateIndex { table: t, index } if t == table && index.name == name)
            || matches!(c, Change::DropTable { table: t } if &t.name == table)
    })
}

/// True when the constraint `drop` removes is added again (same table and name) in the migration,
/// or goes with its table.
fn readded(changes: &[Change], drop: &Change) -> bool {
    use Change::*;
    let (table, name) = match drop {
        DropPrimaryKey { table, primary_key } => (table, &primary_key.name),
        DropUnique { table, unique } => (table, &unique.name),
        DropCheck { table, check } => (table, &check.name),
        DropForeignKey { table, foreign_key } => (table, &foreign_key.name),
        _ => return false,
    };
    changes.iter().any(|c| match c {
        AddPrimaryKey {
            table: t,
            primary_key: x,
        } => t == table && &x.name == name,
        AddUnique {
            table: t,
            unique: x,
        } => t == table && &x.name == name,
        AddCheck { table: t, check: x } => t == table && &x.name == name,
        AddForeignKey {
            table: t,
            foreign_key: x,
        } => t == table && &x.name == name,
        DropTable { table: t } => &t.name == table,
        _ => false,
    })
}
