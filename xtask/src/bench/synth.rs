//! Synthetic schemas for `cargo xtask bench`: N tables as DDL and as matching model files, plus a
//! second model set with ~5% of the tables changed and the exact list of changes that were planted.

use std::fmt::Write as _;

/// Tables per generated model file, so that files can be read in parallel.
pub const TABLES_PER_FILE: usize = 100;

/// The two enum types every schema shares: SQL name, Rust name, labels (Rust variants are the
/// labels in UpperCamelCase; the model-reader spells them back in snake_case).
const ENUMS: [(&str, &str, &[&str]); 2] = [
    (
        "item_status",
        "ItemStatus",
        &["draft", "active", "archived"],
    ),
    ("priority", "Priority", &["low", "medium", "high", "urgent"]),
];

/// The secondary index of a table; three shapes for variety.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexShape {
    /// `(parent_id)`: the usual index on a foreign key column.
    ParentId,
    /// `(status, created_at DESC)`: a composite index with a sort order.
    StatusCreatedDesc,
    /// `lower(code)`: an expression index, named explicitly.
    LowerCode,
}

/// One synthetic table. Every table has the same column set with small variations.
#[derive(Debug, Clone)]
struct TableSpec {
    idx: usize,
    /// The earlier table `parent_id` references (`ON DELETE CASCADE`); none for table 0.
    parent: Option<usize>,
    index: IndexShape,
    /// A CHECK on `amount` (every 10th table).
    check: bool,
    /// A nullable `priority` enum column (every 3rd table).
    priority: bool,
    title_len: u32,
}

impl TableSpec {
    fn new(idx: usize) -> TableSpec {
        TableSpec {
            idx,
            parent: (idx > 0).then_some(idx / 2),
            index: match idx % 3 {
                0 => IndexShape::ParentId,
                1 => IndexShape::StatusCreatedDesc,
                _ => IndexShape::LowerCode,
            },
            check: idx.is_multiple_of(10),
            priority: idx.is_multiple_of(3),
            title_len: [120, 200, 255][idx % 3],
        }
    }

    fn name(&self) -> String {
        table_name(self.idx)
    }

    /// Foreign keys the table declares (its `parent_id` reference).
    fn foreign_keys(&self) -> usize {
        usize::from(self.parent.is_some())
    }

    /// Indexes that are not backing a constraint (the differ creates and drops them separately).
    fn secondary_indexes(&self) -> usize {
        1
    }
}

fn table_name(idx: usize) -> String {
    format!("t{idx:05}")
}

/// What scenario (b) does to one table's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    /// A new nullable `note text` column.
    AddColumn,
    /// The nullable `body` column is gone.
    DropColumn,
    /// `title` becomes 100 characters longer.
    RetypeColumn,
    /// `payload` becomes NOT NULL.
    SetNotNull,
    /// A new index on `title`.
    AddIndex,
}

const MUTATIONS: [Mutation; 5] = [
    Mutation::AddColumn,
    Mutation::DropColumn,
    Mutation::RetypeColumn,
    Mutation::SetNotNull,
    Mutation::AddIndex,
];

/// One change the generator planted in scenario (b), with the `Change` kinds the differ must
/// report for it (derived from the table's own spec, not from running the differ).
#[derive(Debug, Clone)]
pub struct Planted {
    pub table: String,
    pub what: String,
    pub changes: Vec<&'static str>,
}

/// A generated benchmark schema.
#[derive(Debug, Clone)]
pub struct Synth {
    /// The DDL, in chunks of `TABLES_PER_FILE` tables (the enums come first, in chunk 0);
    /// each chunk can run as one implicit transaction without exhausting the lock table.
    pub ddl: Vec<String>,
    /// Scenario (a): `(file name, source)` models matching the DDL exactly.
    pub models_a: Vec<(String, String)>,
    /// Scenario (b): the same with the planted changes.
    pub models_b: Vec<(String, String)>,
    pub planted: Vec<Planted>,
    /// Scenarios (a) and (b) as SQLAlchemy metadata (a Python module defining `metadata`), for
    /// the Alembic comparison.
    pub sqlalchemy: [String; 2],
}

impl Synth {
    /// How many `Change`s scenario (b) must produce.
    pub fn planted_changes(&self) -> usize {
        self.planted.iter().map(|p| p.changes.len()).sum()
    }

    /// Tables scenario (b) touches: altered, added or dropped.
    pub fn changed_tables(&self) -> usize {
        self.planted.len()
    }

    /// The planted change kinds with their counts, sorted by kind.
    pub fn planted_kinds(&self) -> Vec<(String, usize)> {
        count_kinds(self.planted.iter().flat_map(|p| p.changes.iter().copied()))
    }
}

/// Counts kinds, sorted by kind.
pub fn count_kinds<'a>(kinds: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut map = std::collections::BTreeMap::<String, usize>::new();
    for k in kinds {
        *map.entry(k.to_string()).or_default() += 1;
    }
    map.into_iter().collect()
}

/// Generates a schema of `n` tables (n >= 10) and both model sets.
pub fn generate(n: usize) -> Synth {
    assert!(n >= 10, "the benchmark needs at least 10 tables");
    let specs: Vec<TableSpec> = (0..n).map(TableSpec::new).collect();

    // Scenario (b): ~5% of the tables change: one is dropped (the last one, which no table
    // references: parents are idx / 2), one is added, the rest get one mutation each, spread
    // evenly over the schema and cycling through the mutation kinds.
    let changed = n.div_ceil(20).max(MUTATIONS.len() + 2);
    let altered = changed - 2;
    let dropped = n - 1;
    let mut mutation: Vec<Option<Mutation>> = vec![None; n];
    for k in 0..altered {
        let idx = k * n / altered;
        assert!(
            idx != dropped && mutation[idx].is_none(),
            "altered tables collide"
        );
        mutation[idx] = Some(MUTATIONS[k % MUTATIONS.len()]);
    }
    let added = TableSpec {
        parent: Some(n / 2),
        ..TableSpec::new(n)
    };
    assert!(specs.iter().all(|s| s.parent != Some(dropped)) && added.parent != Some(dropped));

    let mut planted = Vec::new();
    for (spec, m) in specs.iter().zip(&mutation) {
        if let Some(m) = m {
            let (what, kind) = match m {
                Mutation::AddColumn => ("add column note".to_string(), "AddColumn"),
                Mutation::DropColumn => ("drop column body".to_string(), "DropColumn"),
                Mutation::RetypeColumn => (
                    format!(
                        "title varchar({}) -> varchar({})",
                        spec.title_len,
                        spec.title_len + 100
                    ),
                    "AlterColumnType",
                ),
                Mutation::SetNotNull => ("payload SET NOT NULL".to_string(), "AlterColumnNullable"),
                Mutation::AddIndex => ("add index on title".to_string(), "CreateIndex"),
            };
            planted.push(Planted {
                table: spec.name(),
                what,
                changes: vec![kind],
            });
        }
    }
    let drop_spec = &specs[dropped];
    let mut drop_changes = vec!["DropForeignKey"; drop_spec.foreign_keys()];
    drop_changes.extend(std::iter::repeat_n(
        "DropIndex",
        drop_spec.secondary_indexes(),
    ));
    drop_changes.push("DropTable");
    planted.push(Planted {
        table: drop_spec.name(),
        what: "drop table".into(),
        changes: drop_changes,
    });
    let mut add_changes = vec!["CreateTable"];
    add_changes.extend(std::iter::repeat_n(
        "CreateIndex",
        added.secondary_indexes(),
    ));
    add_changes.extend(std::iter::repeat_n("AddForeignKey", added.foreign_keys()));
    planted.push(Planted {
        table: added.name(),
        what: "add table".into(),
        changes: add_changes,
    });

    let mut ddl = Vec::new();
    for (chunk_no, chunk) in specs.chunks(TABLES_PER_FILE).enumerate() {
        let mut sql = String::with_capacity(chunk.len() * 900);
        if chunk_no == 0 {
            for (name, _, labels) in ENUMS {
                let labels: Vec<String> = labels.iter().map(|l| format!("'{l}'")).collect();
                let _ = writeln!(sql, "CREATE TYPE {name} AS ENUM ({});", labels.join(", "));
            }
        }
        for spec in chunk {
            table_ddl(&mut sql, spec);
            if spec.idx % OBJECTS_EVERY == 0 && spec.idx != dropped {
                objects_ddl(&mut sql, spec);
            }
        }
        ddl.push(sql);
    }

    let files = n.div_ceil(TABLES_PER_FILE);
    let mut models_a = vec![("enums.rs".to_string(), enums_model())];
    let mut models_b = models_a.clone();
    for (file_no, chunk) in specs.chunks(TABLES_PER_FILE).enumerate() {
        let file = format!("tables_{file_no:03}.rs");
        let first = chunk[0].idx;
        let last = chunk[chunk.len() - 1].idx;
        let mut a = model_header(&format!("tables {first}..={last} of {n}, scenario (a)"));
        let mut b = model_header(&format!(
            "tables {first}..={last} of {n}, scenario (b) with planted changes"
        ));
        for spec in chunk {
            table_model(&mut a, spec, None);
            if spec.idx != dropped {
                table_model(&mut b, spec, mutation[spec.idx]);
            }
        }
        if file_no + 1 == files {
            table_model(&mut b, &added, None);
        }
        models_a.push((file.clone(), a));
        models_b.push((file, b));
    }

    let mut sa_a = sqlalchemy_header("a");
    let mut sa_b = sqlalchemy_header("b");
    for spec in &specs {
        sqlalchemy_table(&mut sa_a, spec, None);
        if spec.idx != dropped {
            sqlalchemy_table(&mut sa_b, spec, mutation[spec.idx]);
        }
    }
    sqlalchemy_table(&mut sa_b, &added, None);

    Synth {
        ddl,
        models_a,
        models_b,
        planted,
        sqlalchemy: [sa_a, sa_b],
    }
}

fn sqlalchemy_header(scenario: &str) -> String {
    let mut s = format!(
        "# Synthetic benchmark models, scenario ({scenario}), as SQLAlchemy metadata.\n\
         # Generated by `cargo xtask bench --vs-alembic`.\n\
         from sqlalchemy import (MetaData, Table, Column, BigInteger, Text, String, Boolean,\n\
             DateTime, Numeric, ForeignKey, CheckConstraint, UniqueConstraint, Index, Identity,\n\
             text, func)\n\
         from sqlalchemy.dialects.postgresql import JSONB, ENUM\n\n\
         metadata = MetaData()\n"
    );
    for (name, _, labels) in ENUMS {
        let labels: Vec<String> = labels.iter().map(|l| format!("'{l}'")).collect();
        let _ = writeln!(
            s,
            "{name} = ENUM({}, name='{name}', create_type=False)",
            labels.join(", ")
        );
    }
    s
}

/// One table as SQLAlchemy Core, with PostgreSQL's default constraint and index names (what
/// the DDL gets), so both tools compare the same objects.
fn sqlalchemy_table(s: &mut String, t: &TableSpec, m: Option<Mutation>) {
    let name = t.name();
    let _ = writeln!(s, "\n{name} = Table('{name}', metadata,");
    s.push_str("    Column('id', BigInteger, Identity(), primary_key=True),\n");
    match t.parent {
        Some(p) => {
            let _ = writeln!(
                s,
                "    Column('parent_id', BigInteger, ForeignKey('{}.id', ondelete='CASCADE', name='{name}_parent_id_fkey')),",
                table_name(p)
            );
        }
        None => s.push_str("    Column('parent_id', BigInteger),\n"),
    }
    s.push_str("    Column('code', Text, nullable=False),\n");
    let title_len = if m == Some(Mutation::RetypeColumn) {
        t.title_len + 100
    } else {
        t.title_len
    };
    let _ = writeln!(
        s,
        "    Column('title', String({title_len}), nullable=False),"
    );
    if m != Some(Mutation::DropColumn) {
        s.push_str("    Column('body', Text),\n");
    }
    s.push_str("    Column('is_active', Boolean, nullable=False, server_default=text('false')),\n");
    s.push_str(
        "    Column('created_at', DateTime(timezone=True), nullable=False, server_default=text('now()')),\n",
    );
    s.push_str("    Column('amount', Numeric(10, 2)),\n");
    let _ = writeln!(
        s,
        "    Column('payload', JSONB, nullable={}),",
        if m == Some(Mutation::SetNotNull) {
            "False"
        } else {
            "True"
        }
    );
    s.push_str(
        "    Column('status', item_status, nullable=False, server_default=text(\"'draft'::item_status\")),\n",
    );
    if t.priority {
        s.push_str("    Column('priority', priority),\n");
    }
    if m == Some(Mutation::AddColumn) {
        s.push_str("    Column('note', Text),\n");
    }
    if t.check {
        let _ = writeln!(
            s,
            "    CheckConstraint('amount >= 0.0', name='{name}_amount_check'),"
        );
    }
    let _ = writeln!(
        s,
        "    UniqueConstraint('code', name='{name}_code_key'),\n)"
    );
    match t.index {
        IndexShape::ParentId => {
            let _ = writeln!(s, "Index('{name}_parent_id_idx', {name}.c.parent_id)");
        }
        IndexShape::StatusCreatedDesc => {
            let _ = writeln!(
                s,
                "Index('{name}_status_created_at_idx', {name}.c.status, {name}.c.created_at.desc())"
            );
        }
        IndexShape::LowerCode => {
            let _ = writeln!(
                s,
                "Index('{name}_code_lower_idx', func.lower({name}.c.code))"
            );
        }
    }
    if m == Some(Mutation::AddIndex) {
        let _ = writeln!(s, "Index('{name}_title_idx', {name}.c.title)");
    }
}

/// The DDL of one table. Expressions avoid implicit casts (`code` is `text`, the CHECK compares
/// with `0.0`): PostgreSQL would print `lower(code::text)` and `amount >= 0::numeric`, which the
/// model-reader does not normalise yet, so the models would never round-trip.
/// One view, one trigger function and one trigger per this many tables. They use only columns
/// no planted change touches, and the models leave them alone (no SQL declaration files), so
/// they add introspection work and no change.
const OBJECTS_EVERY: usize = 50;

fn objects_ddl(sql: &mut String, t: &TableSpec) {
    let name = t.name();
    let _ = writeln!(
        sql,
        "CREATE FUNCTION {name}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN NEW.created_at := now(); RETURN NEW; END $$;\n\
         CREATE TRIGGER {name}_touch BEFORE UPDATE ON {name} \
         FOR EACH ROW EXECUTE FUNCTION {name}_touch();\n\
         CREATE VIEW {name}_active AS SELECT id, code FROM {name} WHERE is_active;"
    );
}

fn table_ddl(sql: &mut String, t: &TableSpec) {
    let name = t.name();
    let _ = writeln!(sql, "CREATE TABLE {name} (");
    sql.push_str("    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n");
    match t.parent {
        Some(p) => {
            let _ = writeln!(
                sql,
                "    parent_id bigint REFERENCES {} (id) ON DELETE CASCADE,",
                table_name(p)
            );
        }
        None => sql.push_str("    parent_id bigint,\n"),
    }
    sql.push_str("    code text NOT NULL,\n");
    let _ = writeln!(sql, "    title varchar({}) NOT NULL,", t.title_len);
    sql.push_str("    body text,\n");
    sql.push_str("    is_active boolean NOT NULL DEFAULT false,\n");
    sql.push_str("    created_at timestamptz NOT NULL DEFAULT now(),\n");
    if t.check {
        sql.push_str("    amount numeric(10,2) CHECK (amount >= 0.0),\n");
    } else {
        sql.push_str("    amount numeric(10,2),\n");
    }
    sql.push_str("    payload jsonb,\n");
    sql.push_str("    status item_status NOT NULL DEFAULT 'draft',\n");
    if t.priority {
        sql.push_str("    priority priority,\n");
    }
    sql.push_str("    UNIQUE (code)\n);\n");
    match t.index {
        IndexShape::ParentId => {
            let _ = writeln!(sql, "CREATE INDEX ON {name} (parent_id);");
        }
        IndexShape::StatusCreatedDesc => {
            let _ = writeln!(sql, "CREATE INDEX ON {name} (status, created_at DESC);");
        }
        IndexShape::LowerCode => {
            let _ = writeln!(
                sql,
                "CREATE INDEX {name}_code_lower_idx ON {name} (lower(code));"
            );
        }
    }
}

fn model_header(what: &str) -> String {
    format!(
        "//! Synthetic benchmark models: {what}.\n\
         //! Generated by `cargo xtask bench`; read by the model-reader, never compiled.\n\n\
         use chrono::{{DateTime, Utc}};\n\
         use retort_derive::Table;\n\
         use rust_decimal::Decimal;\n\n\
         use super::enums::{{ItemStatus, Priority}};\n"
    )
}

fn enums_model() -> String {
    let mut s = String::from(
        "//! Synthetic benchmark models: the enum types shared by every table.\n\
         //! Generated by `cargo xtask bench`; read by the model-reader, never compiled.\n\n\
         use retort_derive::DbEnum;\n",
    );
    for (name, rust, labels) in ENUMS {
        let _ = write!(
            s,
            "\n#[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]\n\
             #[db_enum(name = \"{name}\")]\npub enum {rust} {{\n"
        );
        for l in labels {
            let mut c = l.chars();
            let variant: String = c
                .next()
                .map(|f| f.to_ascii_uppercase())
                .into_iter()
                .chain(c)
                .collect();
            let _ = writeln!(s, "    {variant},");
        }
        s.push_str("}\n");
    }
    s
}

fn table_model(s: &mut String, t: &TableSpec, m: Option<Mutation>) {
    let name = t.name();
    let _ = write!(
        s,
        "\n/// Synthetic table {}.\n#[derive(Debug, Clone, Table)]\n#[table(name = \"{name}\")]\n\
         #[unique(columns(code))]\n",
        t.idx
    );
    match t.index {
        IndexShape::ParentId => s.push_str("#[index(columns(parent_id))]\n"),
        IndexShape::StatusCreatedDesc => {
            s.push_str("#[index(columns(status, \"created_at DESC\"))]\n")
        }
        IndexShape::LowerCode => {
            let _ = writeln!(
                s,
                "#[index(name = \"{name}_code_lower_idx\", columns(\"lower(code)\"))]"
            );
        }
    }
    if m == Some(Mutation::AddIndex) {
        s.push_str("#[index(columns(title))]\n");
    }
    let _ = writeln!(s, "pub struct T{:05} {{", t.idx);
    s.push_str("    #[column(primary_key, identity)]\n    pub id: i64,\n");
    if let Some(p) = t.parent {
        let _ = writeln!(
            s,
            "    #[column(references = \"{}.id\", on_delete = \"cascade\")]",
            table_name(p)
        );
    }
    s.push_str("    pub parent_id: Option<i64>,\n");
    s.push_str("    pub code: String,\n");
    let title_len = if m == Some(Mutation::RetypeColumn) {
        t.title_len + 100
    } else {
        t.title_len
    };
    let _ = writeln!(
        s,
        "    #[column(type = \"varchar({title_len})\")]\n    pub title: String,"
    );
    if m != Some(Mutation::DropColumn) {
        s.push_str("    pub body: Option<String>,\n");
    }
    s.push_str("    #[column(default = \"false\")]\n    pub is_active: bool,\n");
    s.push_str("    #[column(default = \"now()\")]\n    pub created_at: DateTime<Utc>,\n");
    if t.check {
        s.push_str("    #[column(type = \"numeric(10,2)\", check = \"amount >= 0.0\")]\n");
    } else {
        s.push_str("    #[column(type = \"numeric(10,2)\")]\n");
    }
    s.push_str("    pub amount: Option<Decimal>,\n");
    if m == Some(Mutation::SetNotNull) {
        s.push_str("    pub payload: serde_json::Value,\n");
    } else {
        s.push_str("    pub payload: Option<serde_json::Value>,\n");
    }
    s.push_str("    #[column(default = \"'draft'\")]\n    pub status: ItemStatus,\n");
    if t.priority {
        s.push_str("    pub priority: Option<Priority>,\n");
    }
    if m == Some(Mutation::AddColumn) {
        s.push_str("    pub note: Option<String>,\n");
    }
    s.push_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_changes_are_about_five_percent_and_cover_every_kind() {
        let s = generate(1000);
        assert_eq!(s.changed_tables(), 50);
        let kinds: Vec<String> = s.planted_kinds().into_iter().map(|(k, _)| k).collect();
        for k in [
            "AddColumn",
            "DropColumn",
            "AlterColumnType",
            "AlterColumnNullable",
            "CreateIndex",
            "CreateTable",
            "DropTable",
            "AddForeignKey",
            "DropForeignKey",
            "DropIndex",
        ] {
            assert!(kinds.iter().any(|x| x == k), "{k} not planted");
        }
        assert_eq!(s.models_a.len(), 11);
        assert_eq!(s.ddl.len(), 10);
    }
}
