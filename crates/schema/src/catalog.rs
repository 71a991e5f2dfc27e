//! The driver-neutral Schema IR: catalogs, schemas, tables, columns, constraints, indexes, enums.
//! Both the model-reader and the introspector build it; the differ compares it with `==`.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::types::ColumnType;

/// Version of the JSON shape printed by `retort inspect --format json`.
pub const FORMAT_VERSION: u32 = 1;

/// A schema-qualified object name; the identity of tables, enums and other top-level objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualName {
    pub schema: String,
    pub name: String,
}

impl QualName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Everything Retort manages in one database: the configured schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Catalog {
    /// Schemas sorted by name.
    pub schemas: Vec<Schema>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    /// Tables sorted by name.
    pub tables: Vec<Table>,
    /// Enum types sorted by name.
    pub enums: Vec<Enum>,
    /// Views, functions, triggers and other SQL-defined objects, sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<crate::object::Object>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    pub name: QualName,
    /// Labels in their declared order (the order matters to PostgreSQL).
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualName,
    /// Columns in their physical order.
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    /// Sorted by name.
    pub uniques: Vec<Unique>,
    /// Sorted by name.
    pub checks: Vec<Check>,
    /// Sorted by name.
    pub foreign_keys: Vec<ForeignKey>,
    /// Sorted by name; indexes that back a primary key or unique constraint are not listed.
    pub indexes: Vec<Index>,
    pub comment: Option<String>,
}

/// How a column fills itself in when an insert omits it.
///
/// `Always` and `ByDefault` are SQL identity columns (`GENERATED ... AS IDENTITY`). `Serial` is
/// not an identity: it is a `serial` column, a `nextval` default on a sequence the column owns
/// (`pg_depend` deptype `a`), however that sequence is named. Identity statements (`DROP
/// IDENTITY`, `SET GENERATED`) never apply to it; converting between the two is its own change
/// (`Change::AlterColumnSerial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    Always,
    ByDefault,
    Serial,
}

impl Identity {
    /// True for a SQL identity column, false for a serial.
    pub fn is_sql_identity(self) -> bool {
        !matches!(self, Identity::Serial)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    /// Normalised default expression (see `normalize::default_expr`).
    pub default: Option<String>,
    /// Identity or serial. A serial's `nextval` default is not in `default`.
    pub identity: Option<Identity>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    pub comment: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            identity: None,
            generated: None,
            comment: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    pub nulls_not_distinct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    /// Normalised boolean expression, without the surrounding `CHECK (...)`.
    pub expr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }

    /// Parses the spellings users write (`cascade`, `set null`, `SET_NULL`, `no action`).
    pub fn parse(s: &str) -> Option<FkAction> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        Some(match norm.as_str() {
            "no action" | "noaction" => FkAction::NoAction,
            "restrict" => FkAction::Restrict,
            "cascade" => FkAction::Cascade,
            "set null" | "setnull" => FkAction::SetNull,
            "set default" | "setdefault" => FkAction::SetDefault,
            _ => return None,
        })
    }
}

/// When a constraint is checked: at each statement (`NOT DEFERRABLE`, PostgreSQL's default), or
/// deferrable to commit with `SET CONSTRAINTS`, starting immediate or deferred in each transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Deferrable {
    #[default]
    NotDeferrable,
    /// `DEFERRABLE` (`INITIALLY IMMEDIATE`).
    InitiallyImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`.
    InitiallyDeferred,
}

impl Deferrable {
    /// From `pg_constraint.condeferrable` and `condeferred`.
    pub fn from_flags(deferrable: bool, deferred: bool) -> Deferrable {
        match (deferrable, deferred) {
            (false, _) => Deferrable::NotDeferrable,
            (true, false) => Deferrable::InitiallyImmediate,
            (true, true) => Deferrable::InitiallyDeferred,
        }
    }

    pub fn is_deferrable(self) -> bool {
        self != Deferrable::NotDeferrable
    }

    /// The clause as a constraint definition or `ALTER CONSTRAINT` spells it in full.
    pub fn sql(self) -> &'static str {
        match self {
            Deferrable::NotDeferrable => "NOT DEFERRABLE",
            Deferrable::InitiallyImmediate => "DEFERRABLE INITIALLY IMMEDIATE",
            Deferrable::InitiallyDeferred => "DEFERRABLE INITIALLY DEFERRED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QualName,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    /// `DEFERRABLE` and its initial mode (`pg_constraint.condeferrable` / `condeferred`).
    #[serde(default)]
    pub deferrable: Deferrable,
    /// `MATCH FULL` (all or none of the columns may be NULL); false is PostgreSQL's MATCH SIMPLE.
    #[serde(default)]
    pub match_full: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// Key parts: a column name (unquoted) or a parenthesised expression, optionally followed by
    /// ` DESC`, ` NULLS FIRST` / ` NULLS LAST`.
    pub keys: Vec<String>,
    /// Access method, lower case (`btree`, `gin`, ...).
    pub method: String,
    /// Columns listed in `INCLUDE (...)`.
    pub include: Vec<String>,
    /// Normalised partial-index predicate, without `WHERE`.
    pub predicate: Option<String>,
    /// `pg_index.indisvalid` is false: a `CREATE INDEX CONCURRENTLY` failed or was interrupted.
    /// Such an index is never equal to a declared one, so it is dropped and rebuilt.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid: bool,
    /// A unique index with `NULLS NOT DISTINCT` (PostgreSQL 15+): rows whose keys are all NULL
    /// count as duplicates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
}

impl Catalog {
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    pub fn schema_mut(&mut self, name: &str) -> &mut Schema {
        if let Some(i) = self.schemas.iter().position(|s| s.name == name) {
            return &mut self.schemas[i];
        }
        self.schemas.push(Schema {
            name: name.to_string(),
            tables: Vec::new(),
            enums: Vec::new(),
            objects: Vec::new(),
        });
        self.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        let i = self
            .schemas
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(0);
        &mut self.schemas[i]
    }

    pub fn table(&self, name: &QualName) -> Option<&Table> {
        let tables = &self.schema(&name.schema)?.tables;
        let i = position_by_name(tables, &name.name, |t| &t.name.name)?;
        Some(&tables[i])
    }

    pub fn table_mut(&mut self, name: &QualName) -> Option<&mut Table> {
        let tables = &mut self
            .schemas
            .iter_mut()
            .find(|s| s.name == name.schema)?
            .tables;
        let i = position_by_name(tables, &name.name, |t| &t.name.name)?;
        Some(&mut tables[i])
    }

    pub fn enum_type(&self, name: &QualName) -> Option<&Enum> {
        let enums = &self.schema(&name.schema)?.enums;
        let i = position_by_name(enums, &name.name, |e| &e.name.name)?;
        Some(&enums[i])
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.schemas.iter().flat_map(|s| s.tables.iter())
    }

    pub fn enums(&self) -> impl Iterator<Item = &Enum> {
        self.schemas.iter().flat_map(|s| s.enums.iter())
    }

    pub fn objects(&self) -> impl Iterator<Item = &crate::object::Object> {
        self.schemas.iter().flat_map(|s| s.objects.iter())
    }

    pub fn object(&self, key: &crate::object::ObjectKey) -> Option<&crate::object::Object> {
        self.schema(&key.name.schema)?
            .objects
            .iter()
            .find(|o| o.key() == *key)
    }

    /// Sorts every list into its canonical order, so equal schemas compare equal.
    pub fn canonicalize(&mut self) {
        self.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        for s in &mut self.schemas {
            s.tables.sort_by(|a, b| a.name.cmp(&b.name));
            s.enums.sort_by(|a, b| a.name.cmp(&b.name));
            for t in &mut s.tables {
                t.canonicalize();
            }
            for o in &mut s.objects {
                o.depends_on.sort();
                o.depends_on.dedup();
            }
            s.objects.sort_by_key(|o| o.key());
            s.tables.shrink_to_fit();
            s.enums.shrink_to_fit();
        }
    }

    /// Drops schemas with no objects in them (they carry no information for the differ).
    pub fn without_empty_schemas(mut self) -> Self {
        self.schemas
            .retain(|s| !s.tables.is_empty() || !s.enums.is_empty() || !s.objects.is_empty());
        self
    }

    /// Pretty JSON with a format version, as printed by `retort inspect --format json`.
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({ "format_version": FORMAT_VERSION, "catalog": self });
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}

/// The index of the first item called `name`. Lists in a canonical catalog are sorted by name,
/// so a binary search finds it; a list that is not sorted (one being built) is scanned when the
/// search misses. Either way the result is the first item of that name, as names are unique.
fn position_by_name<T>(items: &[T], name: &str, key: impl Fn(&T) -> &str) -> Option<usize> {
    let i = items.partition_point(|item| key(item) < name);
    if items.get(i).is_some_and(|item| key(item) == name) {
        return Some(i);
    }
    items.iter().position(|item| key(item) == name)
}

impl Table {
    pub fn new(name: QualName) -> Self {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    pub fn canonicalize(&mut self) {
        // `COMMENT ON ... IS ''` removes a comment: an empty one is no comment.
        if self.comment.as_deref() == Some("") {
            self.comment = None;
        }
        for c in &mut self.columns {
            if c.comment.as_deref() == Some("") {
                c.comment = None;
            }
        }
        self.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        // The readers build these lists by pushing; a finished table keeps no spare capacity
        // (with thousands of tables that is a large share of a catalog's memory).
        self.columns.shrink_to_fit();
        self.uniques.shrink_to_fit();
        self.checks.shrink_to_fit();
        self.foreign_keys.shrink_to_fit();
        self.indexes.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(names: &[&str]) -> Catalog {
        let mut c = Catalog::default();
        for n in names {
            c.schema_mut("public")
                .tables
                .push(Table::new(QualName::new("public", *n)));
        }
        c
    }

    #[test]
    fn tables_are_found_in_sorted_and_unsorted_lists() {
        let names = ["a", "b", "c", "d", "e"];
        let sorted = catalog(&names);
        let unsorted = catalog(&["d", "a", "e", "c", "b"]);
        for c in [sorted, unsorted] {
            for n in names {
                let qn = QualName::new("public", n);
                assert_eq!(c.table(&qn).map(|t| t.name.name.as_str()), Some(n));
            }
            assert!(c.table(&QualName::new("public", "x")).is_none());
            assert!(c.table(&QualName::new("other", "a")).is_none());
        }
        let mut c = catalog(&["b", "a"]);
        if let Some(t) = c.table_mut(&QualName::new("public", "a")) {
            t.comment = Some("found".into());
        }
        assert_eq!(c.schemas[0].tables[1].comment.as_deref(), Some("found"));
    }
}
