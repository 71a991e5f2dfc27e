//! One column present on both sides: generation, type, nullability, default, identity/serial
//! and comment, each its own `Change` so each has its own inverse and hazard.

use retort_schema::{Change, Column, ColumnType, Identity, QualName};

/// Whether a column type is (an array of) a user-defined type: an enum or a domain.
fn names_a_type(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Named { .. } => true,
        ColumnType::Array { element } => names_a_type(element),
        _ => false,
    }
}

pub(super) fn diff(table: &QualName, old: &Column, new: &Column, out: &mut Vec<Change>) {
    // A generated column that becomes plain keeps its values (DROP EXPRESSION); the rest of the
    // column is then compared as usual.
    if old.generated.is_some() && new.generated.is_none() {
        let plain = Column {
            generated: None,
            ..old.clone()
        };
        out.push(Change::AlterColumnGenerated {
            table: table.clone(),
            from: old.clone(),
            to: plain.clone(),
        });
        return diff(table, &plain, new, out);
    }
    // Any other change of generation cannot be altered in place: drop and re-add.
    if old.generated != new.generated {
        out.push(Change::DropColumn {
            table: table.clone(),
            column: old.clone(),
        });
        out.push(Change::AddColumn {
            table: table.clone(),
            column: new.clone(),
        });
        return;
    }
    let column = &new.name;
    if old.ty != new.ty {
        out.push(Change::AlterColumnType {
            table: table.clone(),
            column: column.clone(),
            from: old.ty.clone(),
            to: new.ty.clone(),
        });
    }
    if old.nullable != new.nullable {
        out.push(Change::AlterColumnNullable {
            table: table.clone(),
            column: column.clone(),
            from: old.nullable,
            to: new.nullable,
        });
    }
    // A default over an enum (or domain) type does not survive a change of the column's type:
    // PostgreSQL casts the stored expression (`'red'::color`) to the new type, which fails between
    // enums and, to a plain type, keeps a dependency on the old type (its DROP TYPE then fails).
    // Such a default is dropped before the type change and set again after it.
    let rebound = old.ty != new.ty
        && old.default.is_some()
        && (names_a_type(&old.ty) || names_a_type(&new.ty));
    if rebound {
        out.push(Change::AlterColumnDefault {
            table: table.clone(),
            column: column.clone(),
            from: old.default.clone(),
            to: None,
        });
        if new.default.is_some() {
            out.push(Change::AlterColumnDefault {
                table: table.clone(),
                column: column.clone(),
                from: None,
                to: new.default.clone(),
            });
        }
    } else if old.default != new.default {
        out.push(Change::AlterColumnDefault {
            table: table.clone(),
            column: column.clone(),
            from: old.default.clone(),
            to: new.default.clone(),
        });
    }
    match (old.identity, new.identity) {
        // A serial in the database satisfies a BY DEFAULT identity in the models: SeaORM's
        // `auto_increment` and a native `identity` cannot tell the two apart, and databases built
        // with serial (SeaORM, Diesel, hand-written SQL) must not drift. Converting a working
        // serial takes an explicit `identity = "always"`. It stays a serial, and a new column
        // type resizes its sequence (else a bigint column still stops at the integer maximum).
        (Some(Identity::Serial), Some(Identity::Serial | Identity::ByDefault)) => {
            if old.ty != new.ty {
                out.push(Change::AlterColumnSerial {
                    table: table.clone(),
                    column: column.clone(),
                    from: old.identity,
                    to: old.identity,
                    from_ty: old.ty.clone(),
                    to_ty: new.ty.clone(),
                })
            }
        }
        (a, b) if a == b => {}
        (Some(Identity::Serial), _) | (_, Some(Identity::Serial)) => {
            out.push(Change::AlterColumnSerial {
                table: table.clone(),
                column: column.clone(),
                from: old.identity,
                to: new.identity,
                from_ty: old.ty.clone(),
                to_ty: new.ty.clone(),
            })
        }
        _ => out.push(Change::AlterColumnIdentity {
            table: table.clone(),
            column: column.clone(),
            from: old.identity,
            to: new.identity,
        }),
    }
    if old.comment != new.comment {
        out.push(Change::AlterColumnComment {
            table: table.clone(),
            column: column.clone(),
            from: old.comment.clone(),
            to: new.comment.clone(),
        });
    }
}
