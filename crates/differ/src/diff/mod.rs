//! Compares two normalised catalogs object by object and lists the `Change`s between them.
//! Matching is by key (qualified name, column name, constraint name); equality is plain `==`.
//! One module per object kind; `keyed` matches the named lists (constraints, indexes) of a table.

mod column;
mod constraint;
mod enums;
mod index;
mod keyed;
mod objects;
mod schema;
mod table;

pub use table::table_shell;

use retort_schema::*;

/// A `renamed_from` hint: `table` (or its `column`) used to be called `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub table: QualName,
    pub column: Option<String>,
    pub from: String,
}

/// An enum label the models renamed (`#[db_enum(renamed_from = "...")]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValueRename {
    pub enum_type: QualName,
    pub from: String,
    pub to: String,
}

/// Everything the models say that a comparison cannot infer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub renames: Vec<Rename>,
    pub enum_values: Vec<EnumValueRename>,
}

/// Lists the changes that turn `from` (usually the database) into `to` (usually the models),
/// unordered; `crate::order` sorts them.
pub fn diff_unordered(from: &Catalog, to: &Catalog) -> Vec<Change> {
    diff_unordered_with(from, to, &Hints::default())
}

/// Like `diff_unordered`, but renames hinted by the models become RENAMEs instead of drop + add.
/// A hint applies only while the old name exists and the new one does not, so it is harmless to
/// keep it in the models after the migration ran.
pub fn diff_unordered_with(from: &Catalog, to: &Catalog, hints: &Hints) -> Vec<Change> {
    let renames = &hints.renames;
    let mut out = Vec::new();
    let mut working = from.clone();
    for r in &hints.enum_values {
        let old_has = working
            .enum_type(&r.enum_type)
            .is_some_and(|e| e.values.contains(&r.from) && !e.values.contains(&r.to));
        let new_has = to
            .enum_type(&r.enum_type)
            .is_some_and(|e| e.values.contains(&r.to) && !e.values.contains(&r.from));
        if old_has && new_has {
            let c = Change::RenameEnumValue {
                name: r.enum_type.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    for r in renames.iter().filter(|r| r.column.is_none()) {
        let old = QualName::new(&r.table.schema, &r.from);
        if working.table(&old).is_some()
            && working.table(&r.table).is_none()
            && to.table(&r.table).is_some()
        {
            let c = Change::RenameTable {
                from: old,
                to: r.table.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    for r in renames {
        let Some(new_col) = &r.column else { continue };
        let Some(t) = working.table(&r.table) else {
            continue;
        };
        let wanted = to.table(&r.table).and_then(|t| t.column(new_col)).is_some();
        if wanted && t.column(&r.from).is_some() && t.column(new_col).is_none() {
            let c = Change::RenameColumn {
                table: r.table.clone(),
                from: r.from.clone(),
                to: new_col.clone(),
            };
            if c.apply(&mut working).is_ok() {
                out.push(c);
            }
        }
    }
    schema::diff(&working, to, &mut out);
    enums::diff(&working, to, &mut out);
    table::diff(&working, to, &mut out);
    objects::diff(&working, to, &mut out);
    objects::recreate_dependents(&working, to, &mut out);
    out
}
