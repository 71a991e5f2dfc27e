//! What the models manage: the properties a model dialect can state, and the overlay that leaves
//! every other property to the database before the two catalogs are diffed.
//!
//! A property is *managed* when the models are the truth about it: what they do not declare is
//! unwanted (and dropped). An *unmanaged* property is taken from the database wherever the models
//! are silent about it, so it never diffs: never dropped, never rewritten. Tables that exist only
//! in the models are untouched (created as declared); tables only in the database are the
//! differ's business (their existence, like columns, types and nullability, is always managed).

use std::fmt;

use crate::catalog::*;
use crate::change::Change;

/// One kind of schema property the models may or may not manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// Column defaults: unmanaged, a column the models give no default keeps the database's.
    Defaults,
    /// Whether a column is an identity (or serial) column: unmanaged, a column the models do not
    /// make one keeps the database's identity.
    Identity,
    /// `GENERATED ALWAYS` versus `BY DEFAULT` of a column both sides make an identity.
    IdentityKind,
    /// `GENERATED ALWAYS AS (...) STORED`: unmanaged, a plain model column keeps the database's
    /// generation expression.
    Generated,
    /// Table and column comments: unmanaged, an object the models give no comment keeps its own.
    Comments,
    /// Physical column order (the differ never reorders; catalogs compare it).
    ColumnOrder,
    /// Column order of a primary key or unique constraint with the same columns on both sides.
    KeyOrder,
    /// Names of primary keys, unique, check and foreign-key constraints and indexes: unmanaged,
    /// a model object equal to a database object but for its name takes the database's name.
    ConstraintNames,
    /// Unique constraints the models do not declare: unmanaged, they are kept.
    Uniques,
    /// `NULLS NOT DISTINCT` of a unique constraint.
    UniqueNulls,
    /// Check constraints the models do not declare: unmanaged, they are kept.
    Checks,
    /// Foreign keys the models do not declare: unmanaged, they are kept.
    ForeignKeys,
    /// `ON DELETE` / `ON UPDATE` of a foreign key both sides declare.
    FkActions,
    /// `DEFERRABLE` of a foreign key both sides declare.
    Deferrable,
    /// `MATCH FULL` of a foreign key both sides declare.
    FkMatch,
    /// Indexes the models do not declare: unmanaged, they are kept.
    Indexes,
}

impl Property {
    pub const ALL: [Property; 16] = [
        Property::Defaults,
        Property::Identity,
        Property::IdentityKind,
        Property::Generated,
        Property::Comments,
        Property::ColumnOrder,
        Property::KeyOrder,
        Property::ConstraintNames,
        Property::Uniques,
        Property::UniqueNulls,
        Property::Checks,
        Property::ForeignKeys,
        Property::FkActions,
        Property::Deferrable,
        Property::FkMatch,
        Property::Indexes,
    ];

    /// The key of the property in `[manage]` of retort.toml.
    pub fn key(self) -> &'static str {
        match self {
            Property::Defaults => "defaults",
            Property::Identity => "identity",
            Property::IdentityKind => "identity_kind",
            Property::Generated => "generated",
            Property::Comments => "comments",
            Property::ColumnOrder => "column_order",
            Property::KeyOrder => "key_order",
            Property::ConstraintNames => "constraint_names",
            Property::Uniques => "uniques",
            Property::UniqueNulls => "unique_nulls",
            Property::Checks => "checks",
            Property::ForeignKeys => "foreign_keys",
            Property::FkActions => "fk_actions",
            Property::Deferrable => "deferrable",
            Property::FkMatch => "fk_match",
            Property::Indexes => "indexes",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of managed properties.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Managed(u32);

impl Managed {
    /// Nothing managed: every property is left to the database.
    pub const NONE: Managed = Managed(0);
    /// Everything managed: the models are complete (the native dialect).
    pub const ALL: Managed = Managed((1 << Property::ALL.len()) - 1);

    pub const fn of(properties: &[Property]) -> Managed {
        let mut bits = 0;
        let mut i = 0;
        while i < properties.len() {
            bits |= 1 << (properties[i] as u32);
            i += 1;
        }
        Managed(bits)
    }

    pub fn contains(self, p: Property) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn set(&mut self, p: Property, managed: bool) {
        if managed {
            self.0 |= p.bit();
        } else {
            self.0 &= !p.bit();
        }
    }

    pub fn with(mut self, p: Property) -> Managed {
        self.set(p, true);
        self
    }

    pub fn without(mut self, p: Property) -> Managed {
        self.set(p, false);
        self
    }

    pub fn intersect(self, other: Managed) -> Managed {
        Managed(self.0 & other.0)
    }

    pub fn union(self, other: Managed) -> Managed {
        Managed(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Property> {
        Property::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl fmt::Debug for Managed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Property::key))
            .finish()
    }
}

/// The kinds of object and attribute the models declare somewhere. A partial dialect manages
/// only these: a project that declares no index anywhere does not manage indexes. Names, key
/// order and column order are always declared (every object has them).
pub fn declared(models: &Catalog) -> Managed {
    let mut m = Managed::of(&[
        Property::ConstraintNames,
        Property::KeyOrder,
        Property::ColumnOrder,
    ]);
    for t in models.tables() {
        let mut mark = |p: Property, yes: bool| {
            if yes {
                m.set(p, true);
            }
        };
        mark(Property::Comments, t.comment.is_some());
        for c in &t.columns {
            mark(Property::Defaults, c.default.is_some());
            mark(Property::Identity, c.identity.is_some());
            mark(Property::IdentityKind, c.identity.is_some());
            mark(Property::Generated, c.generated.is_some());
            mark(Property::Comments, c.comment.is_some());
        }
        mark(Property::Uniques, !t.uniques.is_empty());
        mark(
            Property::UniqueNulls,
            t.uniques.iter().any(|u| u.nulls_not_distinct),
        );
        mark(Property::Checks, !t.checks.is_empty());
        mark(Property::ForeignKeys, !t.foreign_keys.is_empty());
        for f in &t.foreign_keys {
            mark(
                Property::FkActions,
                f.on_delete != FkAction::NoAction || f.on_update != FkAction::NoAction,
            );
            mark(Property::Deferrable, f.deferrable.is_deferrable());
            mark(Property::FkMatch, f.match_full);
        }
        mark(Property::Indexes, !t.indexes.is_empty());
    }
    m
}

/// A `renamed_from` hint, as the differ honours it: the table (or its column) `from` in the
/// database is `table` (`column`) in the models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub table: QualName,
    pub column: Option<String>,
    pub from: String,
}

/// The model catalog to diff against `db`: for every table present on both sides (directly or
/// through a rename hint), each property `managed` does not list for it is taken from the
/// database wherever the models are silent about it (see [`Property`]). Tables only in the
/// models, enums and everything managed are returned as the models declare them.
pub fn overlay(
    models: &Catalog,
    db: &Catalog,
    managed: &dyn Fn(&QualName) -> Managed,
    renames: &[Renamed],
) -> Catalog {
    let working = renamed(db, models, renames);
    let mut out = models.clone();
    for schema in &mut out.schemas {
        for table in &mut schema.tables {
            let Some(d) = working.table(&table.name) else {
                continue;
            };
            let m = managed(&table.name);
            unique_by_index(table, d, m.contains(Property::UniqueNulls));
            if m != Managed::ALL {
                overlay_table(table, d, m, models, db);
            }
        }
    }
    keep_other_tools_tables(&mut out, db);
    out
}

/// The bookkeeping tables of other migration tools, by name, with whose they are. A project
/// moving to Retort still has them (and may keep running the old tool for a while): they are
/// never the models' to drop.
pub const OTHER_TOOLS_TABLES: [(&str, &str); 15] = [
    ("alembic_version", "Alembic"),
    ("__diesel_schema_migrations", "Diesel"),
    ("seaql_migrations", "SeaORM"),
    ("_sqlx_migrations", "sqlx"),
    ("refinery_schema_history", "refinery"),
    ("flyway_schema_history", "Flyway"),
    ("atlas_schema_revisions", "Atlas"),
    ("_prisma_migrations", "Prisma"),
    ("goose_db_version", "goose"),
    ("schema_migrations", "golang-migrate, dbmate or Rails"),
    ("databasechangelog", "Liquibase"),
    ("databasechangeloglock", "Liquibase"),
    ("knex_migrations", "Knex"),
    ("knex_migrations_lock", "Knex"),
    ("django_migrations", "Django"),
];

/// The tool whose bookkeeping table `name` is, when it is one (`OTHER_TOOLS_TABLES`).
pub fn other_tool(name: &str) -> Option<&'static str> {
    OTHER_TOOLS_TABLES
        .iter()
        .find(|(t, _)| *t == name)
        .map(|(_, tool)| *tool)
}

/// Keeps in `out` (the models) the other tools' tables `db` has and no model declares, as `db`
/// has them, so the diff leaves them alone.
fn keep_other_tools_tables(out: &mut Catalog, db: &Catalog) {
    for t in db.tables() {
        if other_tool(&t.name.name).is_some() && out.table(&t.name).is_none() {
            let schema = out.schema_mut(&t.name.schema);
            schema.tables.push(t.clone());
            schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}

/// `db` with the hinted renames applied, under the differ's conditions.
fn renamed(db: &Catalog, models: &Catalog, renames: &[Renamed]) -> Catalog {
    let mut working = db.clone();
    for r in renames.iter().filter(|r| r.column.is_none()) {
        let old = QualName::new(&r.table.schema, &r.from);
        if working.table(&old).is_some()
            && working.table(&r.table).is_none()
            && models.table(&r.table).is_some()
        {
            let _ = Change::RenameTable {
                from: old,
                to: r.table.clone(),
            }
            .apply(&mut working);
        }
    }
    for r in renames {
        let Some(new_col) = &r.column else { continue };
        let Some(t) = working.table(&r.table) else {
            continue;
        };
        let wanted = models
            .table(&r.table)
            .and_then(|t| t.column(new_col))
            .is_some();
        if wanted && t.column(&r.from).is_some() && t.column(new_col).is_none() {
            let _ = Change::RenameColumn {
                table: r.table.clone(),
                from: r.from.clone(),
                to: new_col.clone(),
            }
            .apply(&mut working);
        }
    }
    working
}

/// A unique constraint of the models that the database enforces with a plain unique index
/// instead (`CREATE UNIQUE INDEX` on exactly its columns, in any order, btree, no predicate, expression,
/// `INCLUDE`, operator class or ordering) is satisfied by that index: the models take the index
/// in its place, so the index is neither dropped nor rebuilt as a constraint. Whatever the
/// management, as the two enforce the same thing. A constraint the database also has, an index
/// whose `NULLS NOT DISTINCT` differs from the declaration's (where the models manage that), or an
/// index the models declare themselves under its name, is left alone.
fn unique_by_index(t: &mut Table, d: &Table, nulls_managed: bool) {
    let plain_columns = |i: &Index| -> Option<Vec<String>> {
        if !i.unique || i.invalid || i.method != "btree" || i.predicate.is_some() {
            return None;
        }
        if !i.include.is_empty() {
            return None;
        }
        i.keys
            .iter()
            .map(|k| {
                let parts = crate::index_key::split(k);
                match parts.head {
                    crate::index_key::KeyHead::Column(c) if parts.suffix.is_empty() => Some(c),
                    _ => None,
                }
            })
            .collect()
    };
    let mut kept = Vec::with_capacity(t.uniques.len());
    for u in std::mem::take(&mut t.uniques) {
        let in_db = d.uniques.iter().any(|du| same_set(&du.columns, &u.columns));
        let index = d.indexes.iter().find(|i| {
            plain_columns(i).is_some_and(|cols| same_set(&cols, &u.columns))
                && (!nulls_managed || i.nulls_not_distinct == u.nulls_not_distinct)
                && !t.indexes.iter().any(|mi| mi.name == i.name)
        });
        match index {
            Some(i) if !in_db => t.indexes.push(i.clone()),
            _ => kept.push(u),
        }
    }
    t.uniques = kept;
    t.canonicalize();
}

/// A `nextval(...)` default: the column takes its numbers from a sequence.
fn is_nextval(default: &str) -> bool {
    default
        .trim_start()
        .get(..8)
        .is_some_and(|h| h.eq_ignore_ascii_case("nextval("))
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn overlay_table(t: &mut Table, d: &Table, m: Managed, models: &Catalog, db: &Catalog) {
    use Property as P;
    for c in &mut t.columns {
        let Some(dc) = d.column(&c.name) else {
            continue;
        };
        let plain =
            |c: &Column| c.default.is_none() && c.identity.is_none() && c.generated.is_none();
        if !m.contains(P::Identity) && plain(c) {
            c.identity = dc.identity;
        }
        if !m.contains(P::IdentityKind) && c.identity.is_some() && dc.identity.is_some() {
            c.identity = dc.identity;
        }
        // How the database numbers a column the models number is its own business too: a
        // `nextval` default on a sequence the column does not own (so no serial) is kept as it
        // is, never turned into an identity that would restart at 1.
        if !m.contains(P::IdentityKind)
            && c.identity.is_some()
            && c.default.is_none()
            && dc.identity.is_none()
            && dc.default.as_deref().is_some_and(is_nextval)
        {
            c.identity = None;
            c.default = dc.default.clone();
        }
        if !m.contains(P::Generated) && plain(c) {
            c.generated = dc.generated.clone();
        }
        if !m.contains(P::Defaults) && plain(c) {
            c.default = dc.default.clone();
        }
        if !m.contains(P::Comments) && c.comment.is_none() {
            c.comment = dc.comment.clone();
        }
    }
    if !m.contains(P::Comments) && t.comment.is_none() {
        t.comment = d.comment.clone();
    }
    if !m.contains(P::ColumnOrder) {
        let pos = |name: &str| {
            d.columns
                .iter()
                .position(|c| c.name == name)
                .unwrap_or(usize::MAX)
        };
        // Stable: columns only in the models keep their declared order, after the others.
        t.columns.sort_by_key(|c| pos(&c.name));
    }
    if let (Some(pk), Some(dpk)) = (&mut t.primary_key, &d.primary_key) {
        if !m.contains(P::KeyOrder) && same_set(&pk.columns, &dpk.columns) {
            pk.columns = dpk.columns.clone();
        }
        if !m.contains(P::ConstraintNames) && pk.columns == dpk.columns {
            pk.name = dpk.name.clone();
        }
    }
    let names = !m.contains(P::ConstraintNames);
    // Kept objects on a column the models drop are not dropped first: PostgreSQL drops them with
    // the column, and a migration that names them could not run where they never existed (the
    // scratch replay of a baseline that, like the models, does not have them).
    // Unique constraints.
    let adopt = |u: &mut Unique, du: &Unique| {
        if !m.contains(P::KeyOrder) && same_set(&u.columns, &du.columns) {
            u.columns = du.columns.clone();
        }
        if !m.contains(P::UniqueNulls) {
            u.nulls_not_distinct = du.nulls_not_distinct;
        }
    };
    let like = |u: &Unique, du: &Unique| {
        let mut u = u.clone();
        adopt(&mut u, du);
        u.columns == du.columns && u.nulls_not_distinct == du.nulls_not_distinct
    };
    let unmatched = match_named(
        &mut t.uniques,
        &d.uniques,
        names,
        |u| &u.name,
        |u, n| u.name = n.to_string(),
        like,
        |u, du| same_set(&u.columns, &du.columns),
        adopt,
    );
    if !m.contains(P::Uniques) {
        t.uniques.extend(unmatched.into_iter().cloned());
    }

    // Check constraints: the expression is the whole of a check.
    let unmatched = match_named(
        &mut t.checks,
        &d.checks,
        names,
        |c| &c.name,
        |c, n| c.name = n.to_string(),
        |c, dc| c.expr == dc.expr,
        |_, _| false,
        |_, _| {},
    );
    if !m.contains(P::Checks) {
        t.checks.extend(unmatched.into_iter().cloned());
    }

    // Foreign keys.
    let adopt = |f: &mut ForeignKey, df: &ForeignKey| {
        if !m.contains(P::FkActions) {
            f.on_delete = df.on_delete;
            f.on_update = df.on_update;
        }
        if !m.contains(P::Deferrable) {
            f.deferrable = df.deferrable;
        }
        if !m.contains(P::FkMatch) {
            f.match_full = df.match_full;
        }
    };
    let like = |f: &ForeignKey, df: &ForeignKey| {
        let mut f = f.clone();
        adopt(&mut f, df);
        f.name.clone_from(&df.name);
        f == *df
    };
    let unmatched = match_named(
        &mut t.foreign_keys,
        &d.foreign_keys,
        names,
        |f| &f.name,
        |f, n| f.name = n.to_string(),
        like,
        |f, df| {
            f.columns == df.columns
                && f.ref_table == df.ref_table
                && f.ref_columns == df.ref_columns
        },
        adopt,
    );
    if !m.contains(P::ForeignKeys) {
        for df in unmatched {
            // A key to a table the models drop would block the drop: it goes with its table.
            let target_stays =
                models.table(&df.ref_table).is_some() || db.table(&df.ref_table).is_none();
            if target_stays {
                t.foreign_keys.push(df.clone());
            }
        }
    }

    // Indexes.
    let unmatched = match_named(
        &mut t.indexes,
        &d.indexes,
        names,
        |i| &i.name,
        |i, n| i.name = n.to_string(),
        |i, di| {
            let mut i = i.clone();
            i.name.clone_from(&di.name);
            i == *di
        },
        // An index of another method or predicate on the same keys is another index.
        |_, _| false,
        |_, _| {},
    );
    if !m.contains(P::Indexes) {
        t.indexes.extend(unmatched.into_iter().cloned());
    }
    t.canonicalize();
}

/// Pairs model objects with database objects and returns the database objects left unpaired.
/// First the same name and alike (`like`: equal once the unmanaged attributes are adopted); then,
/// when names are unmanaged, alike under another name, which the model object takes (unless a
/// model object already has that name); then the same name however different (declared
/// differently); last, when names are unmanaged, the same object under another name and declared
/// differently (`same_key`: a unique constraint on the same columns, a foreign key between the
/// same columns), whose name the model object takes. Each pair adopts the database's unmanaged
/// attributes (`adopt`).
#[allow(clippy::too_many_arguments)]
fn match_named<'d, T>(
    model: &mut [T],
    db: &'d [T],
    names_unmanaged: bool,
    name: impl Fn(&T) -> &String,
    rename: impl Fn(&mut T, &str),
    like: impl Fn(&T, &T) -> bool,
    same_key: impl Fn(&T, &T) -> bool,
    adopt: impl Fn(&mut T, &T),
) -> Vec<&'d T> {
    let mut paired_db = vec![false; db.len()];
    let mut paired_model = vec![false; model.len()];
    let pair = |i: usize, j: usize, model: &mut [T], pm: &mut Vec<bool>, pd: &mut Vec<bool>| {
        adopt(&mut model[i], &db[j]);
        pm[i] = true;
        pd[j] = true;
    };
    for i in 0..model.len() {
        if let Some(j) = (0..db.len())
            .find(|&j| !paired_db[j] && name(&db[j]) == name(&model[i]) && like(&model[i], &db[j]))
        {
            pair(i, j, model, &mut paired_model, &mut paired_db);
        }
    }
    if names_unmanaged {
        for i in 0..model.len() {
            if paired_model[i] {
                continue;
            }
            let found = (0..db.len()).find(|&j| {
                !paired_db[j]
                    && like(&model[i], &db[j])
                    && !model.iter().any(|x| name(x) == name(&db[j]))
            });
            if let Some(j) = found {
                let n = name(&db[j]).clone();
                rename(&mut model[i], &n);
                pair(i, j, model, &mut paired_model, &mut paired_db);
            }
        }
    }
    for i in 0..model.len() {
        if paired_model[i] {
            continue;
        }
        if let Some(j) = (0..db.len()).find(|&j| !paired_db[j] && name(&db[j]) == name(&model[i])) {
            pair(i, j, model, &mut paired_model, &mut paired_db);
        }
    }
    if names_unmanaged {
        for i in 0..model.len() {
            if paired_model[i] {
                continue;
            }
            let found = (0..db.len()).find(|&j| {
                !paired_db[j]
                    && same_key(&model[i], &db[j])
                    && !model.iter().any(|x| name(x) == name(&db[j]))
            });
            if let Some(j) = found {
                let n = name(&db[j]).clone();
                rename(&mut model[i], &n);
                pair(i, j, model, &mut paired_model, &mut paired_db);
            }
        }
    }
    db.iter()
        .zip(paired_db)
        .filter(|(_, p)| !p)
        .map(|(x, _)| x)
        .collect()
}

/// Why a change is proposed, as far as the models are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// The models are silent about the object or property: the change removes or resets
    /// something they never mention (it would be kept if the property were unmanaged).
    NotDeclared,
    /// The models declare the object, differently from the other side (or it is new).
    Declared,
}

impl Provenance {
    /// The label in `check` and `diff` summaries.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::NotDeclared => "not declared in the models",
            Provenance::Declared => "declared differently",
        }
    }

    /// The value of the `in_models` field in JSON output.
    pub fn key(self) -> &'static str {
        match self {
            Provenance::NotDeclared => "not_declared",
            Provenance::Declared => "declared_differently",
        }
    }
}

/// Whether `change` (diffing towards `models`) removes something the models never mention.
pub fn provenance(change: &Change, models: &Catalog) -> Provenance {
    use Change::*;
    let table = |name: &QualName| models.table(name);
    let silent = match change {
        DropSchema { .. } | DropEnum { .. } | DropTable { .. } | DropColumn { .. } => true,
        DropPrimaryKey { table: t, .. } => table(t).is_none_or(|t| t.primary_key.is_none()),
        DropUnique { table: t, unique } => {
            table(t).is_none_or(|t| !t.uniques.iter().any(|u| u.name == unique.name))
        }
        DropCheck { table: t, check } => {
            table(t).is_none_or(|t| !t.checks.iter().any(|c| c.name == check.name))
        }
        DropForeignKey {
            table: t,
            foreign_key,
        } => table(t).is_none_or(|t| !t.foreign_keys.iter().any(|f| f.name == foreign_key.name)),
        DropIndex { table: t, index } => {
            table(t).is_none_or(|t| !t.indexes.iter().any(|i| i.name == index.name))
        }
        AlterColumnDefault { to, .. } => to.is_none(),
        AlterColumnIdentity { to, .. } => to.is_none(),
        AlterColumnComment { to, .. } | AlterTableComment { to, .. } => to.is_none(),
        AlterColumnGenerated { from, to, .. } => from.generated.is_some() && to.generated.is_none(),
        _ => false,
    };
    if silent {
        Provenance::NotDeclared
    } else {
        Provenance::Declared
    }
}

#[cfg(test)]
#[path = "manage_tests.rs"]
mod tests;
