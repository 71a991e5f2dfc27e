//! Table constraints: primary keys, uniques, checks and foreign keys (add, drop, rename, a
//! foreign key's deferrability). Their loss hazards need the whole migration: see `plan`.

use crate::sql::{alter, cols, drop_constraint, q};
use crate::{HazardKind, Statement};
use retort_schema::{
    quote_qual, Check, Deferrable, FkAction, ForeignKey, PrimaryKey, QualName, Unique,
};
use std::fmt::Write;

pub(crate) fn add_primary_key(table: &QualName, pk: &PrimaryKey) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} ADD CONSTRAINT {} PRIMARY KEY ({})",
        alter(table),
        q(&pk.name),
        cols(&pk.columns)
    ))]
}

pub(crate) fn add_unique(table: &QualName, unique: &Unique) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} ADD CONSTRAINT {} {}",
        alter(table),
        q(&unique.name),
        unique_sql(unique)
    ))]
}

pub(crate) fn add_check(table: &QualName, check: &Check) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} ADD CONSTRAINT {} CHECK ({})",
        alter(table),
        q(&check.name),
        check.expr
    ))]
}

pub(crate) fn add_foreign_key(table: &QualName, fk: &ForeignKey) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} ADD CONSTRAINT {} {}",
        alter(table),
        q(&fk.name),
        fk_sql(fk)
    ))]
}

/// `--online`: a constraint added `NOT VALID` (a brief lock; new rows are checked from then on)
/// and validated in the migration's last step (`VALIDATE CONSTRAINT` reads the existing rows under
/// a lock that lets writes go on).
pub(crate) fn add_not_valid(table: &QualName, added: Vec<Statement>, name: &str) -> Vec<Statement> {
    let mut out: Vec<Statement> = added
        .into_iter()
        .map(|mut st| {
            st.sql.push_str(" NOT VALID");
            st
        })
        .collect();
    out.push(Statement::new(validate(table, name)).later());
    out
}

fn validate(table: &QualName, name: &str) -> String {
    format!("{} VALIDATE CONSTRAINT {}", alter(table), q(name))
}

/// `--online` SET NOT NULL of a filled table: `CHECK (column IS NOT NULL) NOT VALID`, validated in
/// the last step, where SET NOT NULL then needs no scan of its own (PostgreSQL 12+ proves it from
/// the check) and the check is dropped again.
pub(crate) fn set_not_null_online(table: &QualName, column: &str) -> Vec<Statement> {
    let name = not_null_check(table, column);
    vec![
        Statement::new(format!(
            "{} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
            alter(table),
            q(&name),
            q(column)
        )),
        Statement::new(validate(table, &name))
            .later()
            .hazard(
                crate::HazardKind::NotNull,
                format!("{table}.{column} becomes NOT NULL: this validation fails if any row holds NULL (the steps before it stay committed)"),
            ),
        Statement::new(format!(
            "{} ALTER COLUMN {} SET NOT NULL",
            alter(table),
            q(column)
        ))
        .later(),
        Statement::new(drop_constraint(table, &name)).later(),
    ]
}

fn not_null_check(table: &QualName, column: &str) -> String {
    retort_schema::normalize::object_name(&table.name, Some(column), "not_null")
}

/// In down.sql, before the DROP NOT NULL that takes back an online SET NOT NULL: the check it
/// went through, which is still there when the upgrade stopped before its last step.
pub(crate) fn drop_not_null_check(table: &QualName, column: &str) -> Statement {
    Statement::new(format!(
        "{} DROP CONSTRAINT IF EXISTS {}",
        alter(table),
        q(&not_null_check(table, column))
    ))
}

/// Drops any kind of table constraint by name.
pub(crate) fn drop(table: &QualName, name: &str) -> Vec<Statement> {
    vec![Statement::new(drop_constraint(table, name))]
}

/// `ALTER CONSTRAINT ... [NOT] DEFERRABLE [INITIALLY ...]`; checking earlier than before is a
/// hazard: a transaction that inserts a child before its parent, or says `SET CONSTRAINTS ...
/// DEFERRED`, starts to fail.
pub(crate) fn alter_deferrable(
    table: &QualName,
    name: &str,
    from: Deferrable,
    to: Deferrable,
) -> Vec<Statement> {
    let st = Statement::new(format!(
        "{} ALTER CONSTRAINT {} {}",
        alter(table),
        q(name),
        to.sql()
    ));
    let rank = |d: Deferrable| match d {
        Deferrable::NotDeferrable => 0,
        Deferrable::InitiallyImmediate => 1,
        Deferrable::InitiallyDeferred => 2,
    };
    if rank(to) >= rank(from) {
        return vec![st];
    }
    let what = match (from, to) {
        (Deferrable::InitiallyDeferred, Deferrable::InitiallyImmediate) => {
            "is checked at each statement instead of at commit (INITIALLY IMMEDIATE): transactions \
             that write a row before the row it references fail"
        }
        (Deferrable::InitiallyDeferred, _) => {
            "is checked at each statement instead of at commit and can no longer be deferred: \
             transactions that write a row before the row it references, or say `SET CONSTRAINTS \
             ... DEFERRED`, fail"
        }
        _ => "can no longer be deferred: `SET CONSTRAINTS ... DEFERRED` on it fails",
    };
    vec![st.hazard(
        HazardKind::ConstraintTiming,
        format!("foreign key {name} on {table} {what}"),
    )]
}

pub(crate) fn rename(table: &QualName, from: &str, to: &str) -> Vec<Statement> {
    vec![Statement::new(format!(
        "{} RENAME CONSTRAINT {} TO {}",
        alter(table),
        q(from),
        q(to)
    ))]
}

/// `FOREIGN KEY (...) REFERENCES ...` with the options that differ from the defaults.
fn fk_sql(fk: &ForeignKey) -> String {
    let mut s = format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        cols(&fk.columns),
        quote_qual(&fk.ref_table),
        cols(&fk.ref_columns)
    );
    if fk.match_full {
        s.push_str(" MATCH FULL");
    }
    if fk.on_delete != FkAction::NoAction {
        let _ = write!(s, " ON DELETE {}", fk.on_delete.sql());
    }
    if fk.on_update != FkAction::NoAction {
        let _ = write!(s, " ON UPDATE {}", fk.on_update.sql());
    }
    match fk.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => s.push_str(" DEFERRABLE"),
        Deferrable::InitiallyDeferred => s.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    s
}

/// `UNIQUE [NULLS NOT DISTINCT] (...)`, inline in CREATE TABLE or after ADD CONSTRAINT.
pub(crate) fn unique_sql(u: &Unique) -> String {
    format!(
        "UNIQUE{} ({})",
        if u.nulls_not_distinct {
            " NULLS NOT DISTINCT"
        } else {
            ""
        },
        cols(&u.columns)
    )
}
