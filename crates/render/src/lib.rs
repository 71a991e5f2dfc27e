//! Renders `Change`s as PostgreSQL statements with their hazards, one module per object kind,
//! and whole migrations as a typed [`Plan`]. Pure text: it never diffs and never touches a database.

mod column;
mod column_type;
mod comment;
mod constraint;
mod default_expr;
mod enums;
mod index;
mod object;
mod plan;
mod rewrite;
mod schema;
mod sql;
mod steps;
mod table;
#[cfg(test)]
mod tests;

use retort_schema::Change;
use serde::Serialize;

pub use plan::{
    hazards, plan, plan_inverse, possible_renames, render_body, render_body_with, Plan,
    PlannedStatement, PossibleRename, RenderOptions,
};

/// Why a statement deserves a reviewer's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Stored data is deleted.
    DataLoss,
    /// A type change that can fail or truncate on existing values.
    Narrowing,
    /// Fails when existing rows hold NULL (or no default fills the new column).
    NotNull,
    /// Enum labels disappear; rows using them make the migration fail.
    EnumValueRemoval,
    /// The statement cannot run inside a transaction.
    NonTransactional,
    /// Every row of an existing table is read to validate a constraint while a lock that blocks
    /// writes is held.
    ValidationScan,
    /// The statement blocks writes to an existing table while it runs.
    Locking,
    /// A drop and an add that look like a rename without a `renamed_from` hint: data would be lost.
    PossibleRename,
    /// Every row is rewritten and the stored values change meaning or spelling.
    Rewrite,
    /// An existing table is rewritten whole (with its indexes) while an ACCESS EXCLUSIVE lock
    /// blocks its reads and writes: a type conversion, or a column added with a volatile default,
    /// an identity or a stored expression.
    TableRewrite,
    /// An index disappears (queries that used it slow down; a unique one stops refusing duplicates).
    IndexLoss,
    /// A constraint (primary key, unique, foreign key, check, a domain's checks) stops being enforced.
    ConstraintLoss,
    /// A column stops filling itself in (DROP DEFAULT, DROP IDENTITY): inserts that omit it change.
    DefaultLoss,
    /// A constraint is checked earlier than before (a deferred one becomes immediate, or a
    /// deferrable one stops being deferrable): transactions that relied on the later check fail.
    ConstraintTiming,
    /// A view, function, procedure or trigger disappears: queries and code that use it fail.
    ObjectLoss,
}

impl HazardKind {
    pub fn label(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data loss",
            HazardKind::Narrowing => "narrowing",
            HazardKind::NotNull => "not null",
            HazardKind::ValidationScan => "validation scan",
            HazardKind::EnumValueRemoval => "enum value removal",
            HazardKind::NonTransactional => "no transaction",
            HazardKind::Locking => "locking",
            HazardKind::PossibleRename => "possible rename",
            HazardKind::Rewrite => "rewrite",
            HazardKind::IndexLoss => "index loss",
            HazardKind::ConstraintLoss => "constraint loss",
            HazardKind::DefaultLoss => "default loss",
            HazardKind::ConstraintTiming => "constraint timing",
            HazardKind::ObjectLoss => "object loss",
            HazardKind::TableRewrite => "table rewrite",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

/// One SQL statement (without the trailing semicolon) and what to watch for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sql: String,
    pub hazards: Vec<Hazard>,
    /// False for a statement PostgreSQL refuses inside a transaction block (e.g. `CREATE INDEX
    /// CONCURRENTLY`): the migration holding it runs outside one.
    pub transactional: bool,
    /// Runs in the migration's last step, after every other statement has committed (`--online`:
    /// `VALIDATE CONSTRAINT` of a constraint added `NOT VALID`).
    pub later: bool,
}

impl Statement {
    pub(crate) fn new(sql: String) -> Self {
        Statement {
            sql,
            hazards: Vec::new(),
            transactional: true,
            later: false,
        }
    }

    /// The same statement, run in the migration's last step.
    pub(crate) fn later(mut self) -> Self {
        self.later = true;
        self
    }

    pub(crate) fn hazard(mut self, kind: HazardKind, message: impl Into<String>) -> Self {
        self.hazards.push(Hazard {
            kind,
            message: message.into(),
        });
        self
    }
}

/// The statements for one change on its own (hazards that depend on the rest of a migration,
/// and options such as `CONCURRENTLY`, come from [`plan`]). Each kind renders in its own module.
pub fn statements(change: &Change) -> Vec<Statement> {
    use Change::*;
    match change {
        CreateSchema { name } => schema::create(name),
        DropSchema { name } => schema::drop(name),
        CreateEnum { enum_type } => enums::create(enum_type),
        DropEnum { enum_type } => enums::drop(enum_type),
        AlterEnum { name, from, to } => enums::alter(name, from, to),
        RenameEnumValue { name, from, to } => enums::rename_value(name, from, to),
        CreateTable { table } => table::create(table),
        DropTable { table } => table::drop(table),
        RenameTable { from, to } => table::rename(from, to),
        AddColumn { table, column } => column::add(table, column),
        DropColumn { table, column } => column::drop(table, column),
        RenameColumn { table, from, to } => column::rename(table, from, to),
        AlterColumnGenerated { table, from, to } => column::alter_generated(table, from, to),
        AlterColumnType {
            table,
            column,
            from,
            to,
        } => column::alter_type(table, column, from, to),
        AlterColumnNullable {
            table, column, to, ..
        } => column::alter_nullable(table, column, *to),
        AlterColumnDefault {
            table, column, to, ..
        } => column::alter_default(table, column, to.as_deref()),
        AlterColumnIdentity {
            table,
            column,
            from,
            to,
        } => column::identity_change(table, column, *from, *to, None),
        AlterColumnSerial {
            table,
            column,
            from,
            to,
            to_ty,
            ..
        } => column::identity_change(table, column, *from, *to, Some(to_ty)),
        AddPrimaryKey { table, primary_key } => constraint::add_primary_key(table, primary_key),
        DropPrimaryKey { table, primary_key } => constraint::drop(table, &primary_key.name),
        AddUnique { table, unique } => constraint::add_unique(table, unique),
        DropUnique { table, unique } => constraint::drop(table, &unique.name),
        AddCheck { table, check } => constraint::add_check(table, check),
        DropCheck { table, check } => constraint::drop(table, &check.name),
        AddForeignKey { table, foreign_key } => constraint::add_foreign_key(table, foreign_key),
        DropForeignKey { table, foreign_key } => constraint::drop(table, &foreign_key.name),
        AlterForeignKeyDeferrable {
            table,
            name,
            from,
            to,
        } => constraint::alter_deferrable(table, name, *from, *to),
        RenameConstraint { table, from, to } => constraint::rename(table, from, to),
        CreateIndex { table, index } => index::create(table, index, false),
        DropIndex { table, index } => index::drop(table, &index.name, false),
        RenameIndex { table, from, to } => index::rename(table, from, to),
        AlterTableComment { table, to, .. } => comment::on_table(table, to),
        AlterColumnComment {
            table, column, to, ..
        } => comment::on_column(table, column, to),
        CreateObject { object } => object::create(object),
        DropObject { object } => object::drop(object),
        ReplaceObject { to, .. } => object::replace(to),
    }
}

/// One line for summaries of a change: the first line of its first statement.
pub fn summary(change: &Change) -> String {
    let sql = statements(change)
        .iter()
        .find(|s| !s.sql.starts_with("SET LOCAL "))
        .map(|s| s.sql.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    sql.trim_end_matches(" (").to_string()
}
