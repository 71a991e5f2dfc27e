//! The apply oracle as a runtime guard: the changes of a diff, applied in memory to its source,
//! must reach its target, or the diff is refused with the object and field it failed to resolve.

use retort_schema::{Catalog, Change, Identity, Table};

/// A difference the changes do not resolve (a differ bug, reported instead of a silently
/// incomplete migration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unresolved difference in {object}: {field} (the generated migration would not reach the models; please report this)")]
pub struct Unresolved {
    pub object: String,
    pub field: String,
}

/// Checks that `changes` turn `from` into `to`, ignoring physical column order (PostgreSQL
/// appends added columns) and empty schemas.
pub fn verify(from: &Catalog, to: &Catalog, changes: &[Change]) -> Result<(), Unresolved> {
    let mut reached = from.clone();
    for c in changes {
        c.apply(&mut reached).map_err(|e| Unresolved {
            object: c
                .table()
                .map_or_else(|| "the catalog".into(), |t| t.to_string()),
            field: format!("a change does not apply: {e}"),
        })?;
    }
    let reached = comparable(reached);
    let to = comparable(to.clone());
    if reached == to {
        return Ok(());
    }
    Err(first_difference(&reached, &to))
}

fn comparable(mut c: Catalog) -> Catalog {
    c.canonicalize();
    for s in &mut c.schemas {
        for t in &mut s.tables {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            // The differ's one deliberate equality: a serial meets a BY DEFAULT identity model
            // (see `diff`), so neither side is converted.
            for col in &mut t.columns {
                if col.identity == Some(Identity::Serial) {
                    col.identity = Some(Identity::ByDefault);
                }
            }
        }
    }
    c.without_empty_schemas()
}

/// The first object (in name order) that differs, and which of its fields.
fn first_difference(reached: &Catalog, to: &Catalog) -> Unresolved {
    let unresolved = |object: String, field: &str| Unresolved {
        object,
        field: field.to_string(),
    };
    for e in to.enums() {
        match reached.enum_type(&e.name) {
            None => return unresolved(e.name.to_string(), "the enum is missing"),
            Some(r) if r != e => return unresolved(e.name.to_string(), "labels"),
            Some(_) => {}
        }
    }
    for e in reached.enums() {
        if to.enum_type(&e.name).is_none() {
            return unresolved(e.name.to_string(), "the enum is not dropped");
        }
    }
    for t in to.tables() {
        match reached.table(&t.name) {
            None => return unresolved(t.name.to_string(), "the table is missing"),
            Some(r) if r != t => return table_difference(r, t),
            Some(_) => {}
        }
    }
    for t in reached.tables() {
        if to.table(&t.name).is_none() {
            return unresolved(t.name.to_string(), "the table is not dropped");
        }
    }
    unresolved("the catalog".into(), "schemas")
}

fn table_difference(r: &Table, t: &Table) -> Unresolved {
    let at = |field: String| Unresolved {
        object: t.name.to_string(),
        field,
    };
    for c in &t.columns {
        let Some(rc) = r.column(&c.name) else {
            return at(format!("column {} is missing", c.name));
        };
        let fields = [
            ("type", rc.ty != c.ty),
            ("nullability", rc.nullable != c.nullable),
            ("default", rc.default != c.default),
            ("identity", rc.identity != c.identity),
            ("generation expression", rc.generated != c.generated),
            ("comment", rc.comment != c.comment),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, differs)| *differs) {
            return at(format!("column {} {field}", c.name));
        }
    }
    if let Some(c) = r.columns.iter().find(|c| t.column(&c.name).is_none()) {
        return at(format!("column {} is not dropped", c.name));
    }
    let parts = [
        ("primary key", r.primary_key != t.primary_key),
        ("unique constraints", r.uniques != t.uniques),
        ("check constraints", r.checks != t.checks),
        ("foreign keys", r.foreign_keys != t.foreign_keys),
        ("indexes", r.indexes != t.indexes),
        ("comment", r.comment != t.comment),
    ];
    match parts.iter().find(|(_, differs)| *differs) {
        Some((field, _)) => at(field.to_string()),
        None => at("a field".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::{Column, ColumnType, QualName};

    fn catalog(default: Option<&str>) -> Catalog {
        let mut c = Catalog::default();
        let mut t = Table::new(QualName::new("public", "t"));
        t.columns.push(Column {
            default: default.map(str::to_string),
            ..Column::new("a", ColumnType::Integer)
        });
        c.schema_mut("public").tables.push(t);
        c
    }

    #[test]
    fn a_complete_diff_passes_and_a_missing_change_is_named() {
        let (from, to) = (catalog(None), catalog(Some("1")));
        let changes = crate::diff(&from, &to);
        assert_eq!(verify(&from, &to, &changes), Ok(()));
        let e = verify(&from, &to, &[]).unwrap_err();
        assert_eq!(e.object, "public.t");
        assert_eq!(e.field, "column a default");
    }
}
