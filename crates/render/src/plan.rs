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
        self.statements.last().map_or(1, |s| s.step + 1)
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
        let several = self.step_count() > 1;
        let mut step = None;
        for st in &self.statements {
            if !out.is_empty() {
                out.push('\n');
            }
            if several && step != Some(st.step) {
                let outside = self.step_outside(st.step);
                if st.step > 0 || outside {
                    out.push_str(if outside {
                        "-- retort:step no-transaction\n"
                    } else {
                        "-- retort:step\n"
                    });
                }
                step = Some(st.step);
            }
            for h in &st.hazards {
                let _ = writeln!(out, "-- WARNING ({}): {}", h.kind.label(), h.message);
            }
            let _ = writeln!(out, "{};", st.sql);
        }
        out
    }
}

/// Plans a migration from ordered changes, cut into steps (see [`crate::steps`]).
pub fn plan(changes: &[Change], opts: &RenderOptions) -> Plan {
    let mut plan = statements_of(changes, opts);
    let steps = crate::steps::of_changes(changes, &plan.statements);
    plan.statements
        .iter_mut()
        .for_each(|s| s.step = steps[s.change]);
    plan
}

/// Plans the down migration of `changes` (whose up migration is `up`): `inverse` is
/// `retort_differ::inverse(changes)`, and its steps mirror up's, so that the steps an
/// interrupted upgrade committed can be taken back one for one.
pub fn plan_inverse(inverse: &[Change], up: &Plan, opts: &RenderOptions) -> Plan {
    let mut plan = statements_of(inverse, opts);
    let mut up_steps = vec![0; inverse.len()];
    let mut last = 0;
    for (i, step) in up_steps.iter_mut().enumerate() {
        // Changes without statements take the step of the change before them.
        if let Some(s) = up.statements.iter().find(|s| s.change == i) {
            last = s.step;
        }
        *step = last;
    }
    let steps = crate::steps::mirrored(&up_steps);
    plan.statements
        .iter_mut()
        .for_each(|s| s.step = steps[s.change]);
    plan
}

/// The statements of ordered changes, all in step 0.
fn statements_of(changes: &[Change], opts: &RenderOptions) -> Plan {
    let created: Vec<&QualName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(&table.name),
            _ => None,
        })
        .collect();
    let statements = changes
        .iter()
        .enumerate()
        .flat_map(|(i, change)| {
            let summary = summary(change);
            in_migration(changes, &created, change, opts)
                .into_iter()
                .map(move |st| PlannedStatement {
                    sql: st.sql,
                    hazards: st.hazards,
                    transactional: st.transactional,
                    summary: summary.clone(),
                    change: i,
                    step: 0,
                })
        })
        .collect();
    Plan { statements }
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
                if opts.concurrent_indexes {
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
                if opts.concurrent_indexes
                    && !changes.iter().any(
                        |c| matches!(c, Change::DropTable { table: t } if &t.name == table),
                    ) =>
            {
                sts = index::drop(table, &index.name, true);
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
                let twin = changes.iter().find_map(|c| match c {
                    Change::AddColumn {
                        table: t,
                        column: added,
                    } if t == table && added.ty == column.ty && added.name != column.name => {
                        Some(added.name.clone())
                    }
                    _ => None,
                });
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
