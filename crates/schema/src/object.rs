//! Objects defined by SQL text rather than by columns: views, materialized views, functions,
//! procedures and triggers, each kept as the statement the server prints for it and what it uses.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::catalog::QualName;

/// The kinds of SQL-defined objects Retort reads, diffs and recreates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Function,
    Procedure,
    View,
    MaterializedView,
    Trigger,
    /// A sequence no column owns (a serial's or an identity's is part of its column).
    Sequence,
    /// `ENABLE` / `FORCE ROW LEVEL SECURITY` of a table (named after it, on it).
    RowSecurity,
    /// A row-level security policy on a table.
    Policy,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Function,
        ObjectKind::Procedure,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Trigger,
        ObjectKind::Sequence,
        ObjectKind::RowSecurity,
        ObjectKind::Policy,
    ];

    /// The words SQL uses for the kind (`DROP <keyword> ...`).
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Trigger => "TRIGGER",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::RowSecurity => "ROW LEVEL SECURITY",
            ObjectKind::Policy => "POLICY",
        }
    }

    /// How messages name the kind.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Sequence => "sequence",
            ObjectKind::RowSecurity => "row level security",
            ObjectKind::Policy => "policy",
        }
    }

    /// Functions and procedures, which overload by arguments.
    pub fn is_routine(self) -> bool {
        matches!(self, ObjectKind::Function | ObjectKind::Procedure)
    }

    /// Created before the tables (defaults and checks may call a function or a sequence's
    /// `nextval`) and dropped after them, unless they use a table.
    pub fn before_tables(self) -> bool {
        self.is_routine() || self == ObjectKind::Sequence
    }

    /// Changed in place (`CREATE OR REPLACE`, `ALTER SEQUENCE`) rather than dropped and created:
    /// what uses it, and a sequence's current value, stay.
    pub fn replaceable(self) -> bool {
        self.is_routine() || self == ObjectKind::Sequence
    }

    /// Views and materialized views: relations, which other objects may select from.
    pub fn is_relation(self) -> bool {
        matches!(self, ObjectKind::View | ObjectKind::MaterializedView)
    }
}

/// Something an object uses, as `pg_depend` records it: a relation (a table or a view; `column`
/// when only one of its columns is used) or a routine with its identity arguments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Dependency {
    Relation {
        name: QualName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
    },
    Routine {
        name: QualName,
        args: String,
    },
}

/// One SQL-defined object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub kind: ObjectKind,
    /// Schema and name (a trigger's schema is its table's).
    pub name: QualName,
    /// Functions and procedures: the identity arguments (`a integer, b text`), which together
    /// with the name identify one overload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
    /// Triggers: the table or view they are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<QualName>,
    /// The statement that creates the object, as the server prints it (`pg_get_functiondef`,
    /// `pg_get_triggerdef`, `pg_get_viewdef` behind `CREATE VIEW name AS`).
    pub definition: String,
    /// A materialized view's indexes (`pg_get_indexdef`, sorted): created again with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    /// What the object uses, sorted; the differ recreates an object whose dependencies change
    /// shape, and the order puts it after them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
}

/// What identifies an object: two objects with the same key are the same object, possibly with
/// another definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: ObjectKind,
    pub name: QualName,
    pub args: Option<String>,
    pub table: Option<QualName>,
}

impl Object {
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.kind,
            name: self.name.clone(),
            args: self.args.clone(),
            table: self.table.clone(),
        }
    }

    /// The dependency other objects record when they use this one: a routine by its overload,
    /// a view by its name; `None` for kinds nothing uses (triggers, policies, a table's
    /// row-level security, whose names may be a table's, and sequences, which only defaults use).
    pub fn as_dependency(&self) -> Option<Dependency> {
        if self.kind.is_routine() {
            Some(Dependency::Routine {
                name: self.name.clone(),
                args: self.args.clone().unwrap_or_default(),
            })
        } else if self.kind.is_relation() {
            Some(Dependency::Relation {
                name: self.name.clone(),
                column: None,
            })
        } else {
            None
        }
    }

    /// True when this object uses `dep` (a relation's column counts as the relation).
    pub fn uses(&self, dep: &Dependency) -> bool {
        self.depends_on.iter().any(|d| match (d, dep) {
            (
                Dependency::Relation { name, column },
                Dependency::Relation { name: n, column: c },
            ) => name == n && (c.is_none() || column.is_none() || column == c),
            _ => d == dep,
        })
    }

    /// The relations (tables and views) this object needs to exist.
    pub fn relations(&self) -> impl Iterator<Item = (&QualName, Option<&str>)> {
        self.depends_on.iter().filter_map(|d| match d {
            Dependency::Relation { name, column } => Some((name, column.as_deref())),
            Dependency::Routine { .. } => None,
        })
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.name)?;
        if let Some(a) = &self.args {
            write!(f, "({a})")?;
        }
        if let Some(t) = &self.table {
            write!(f, " on {t}")?;
        }
        Ok(())
    }
}

/// Gives `target` (the models' catalog being diffed) every object of `other` whose kind the
/// project does not manage, so it is never dropped, except those that could not exist in
/// `target`: an object whose table, column, view or function is gone there goes with it.
pub fn keep_unmanaged(
    target: &mut crate::Catalog,
    other: &crate::Catalog,
    managed: impl Fn(ObjectKind) -> bool,
) {
    use std::collections::BTreeSet;
    let mut kept: Vec<&Object> = other.objects().filter(|o| !managed(o.kind)).collect();
    if kept.is_empty() {
        return;
    }
    // What the other side's objects offer to their users, looked up once.
    let offered: BTreeSet<Dependency> = other.objects().filter_map(Object::as_dependency).collect();
    let in_other = |d: &Dependency| match d {
        Dependency::Relation { name, .. } => {
            other.table(name).is_some()
                || offered.contains(&Dependency::Relation {
                    name: name.clone(),
                    column: None,
                })
        }
        Dependency::Routine { .. } => offered.contains(d),
    };
    loop {
        let here: BTreeSet<Dependency> = target
            .objects()
            .chain(kept.iter().copied())
            .filter_map(Object::as_dependency)
            .collect();
        let exists = |d: &Dependency| match d {
            Dependency::Relation { name, column } => match target.table(name) {
                Some(t) => column.as_ref().is_none_or(|c| t.column(c).is_some()),
                None => here.contains(&Dependency::Relation {
                    name: name.clone(),
                    column: None,
                }),
            },
            Dependency::Routine { .. } => here.contains(d),
        };
        let before = kept.len();
        kept.retain(|o| {
            let on = o.table.as_ref().map(|t| Dependency::Relation {
                name: t.clone(),
                column: None,
            });
            o.depends_on
                .iter()
                .chain(on.as_ref())
                .all(|d| exists(d) || !in_other(d))
        });
        if kept.len() == before {
            break;
        }
    }
    let kept: Vec<Object> = kept.into_iter().cloned().collect();
    for o in kept {
        let objects = &mut target.schema_mut(&o.name.schema).objects;
        if !objects.iter().any(|x| x.key() == o.key()) {
            objects.push(o);
        }
    }
    target.canonicalize();
}
