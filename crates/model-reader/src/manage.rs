//! What each model dialect can state, as the set of properties it manages (see
//! `retort_schema::manage`): what a dialect cannot say is left to the database.

use retort_schema::manage::{Managed, Property};

use crate::Dialect;

/// SeaORM entities: columns, types, nullability, the primary key, `auto_increment`, relations
/// (`belongs_to` with `on_delete` / `on_update`). They can also say `unique`, `unique_key`,
/// `indexed`, `default_value`, `default_expr` and `comment`, but `sea-orm-cli` does not generate
/// all of them, so they are applied where stated and never used to drop what is not: the
/// database's defaults, comments, unique constraints and indexes stay. They cannot say at all:
/// multi-column, partial, expression or non-btree indexes, index and constraint names, check
/// constraints, deferrability, `MATCH FULL`, `NULLS NOT DISTINCT`, identity ALWAYS versus BY
/// DEFAULT, generated columns, key column order apart from field order.
pub const SEAORM: Managed = Managed::of(&[
    Property::Identity,
    Property::ForeignKeys,
    Property::FkActions,
]);

/// Diesel `table!` (with `joinable!`): columns, types, nullability, the primary key and its
/// column order. Foreign keys declared by `joinable!` are applied, but not managed:
/// `diesel print-schema` writes no `joinable!` for a self-reference or for a second key to the
/// same parent, so a missing one says nothing.
pub const DIESEL: Managed = Managed::of(&[Property::KeyOrder]);

impl Dialect {
    /// The properties models in this dialect manage.
    pub fn manages(self) -> Managed {
        match self {
            Dialect::Native => Managed::ALL,
            Dialect::SeaOrm => SEAORM,
            Dialect::Diesel => DIESEL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_manages_everything_and_seaorm_only_what_it_can_say() {
        assert_eq!(Dialect::Native.manages(), Managed::ALL);
        let sea = Dialect::SeaOrm.manages();
        for p in [
            Property::Identity,
            Property::ForeignKeys,
            Property::FkActions,
        ] {
            assert!(sea.contains(p), "{p}");
        }
        for p in [
            Property::Indexes,
            Property::Checks,
            Property::Defaults,
            Property::Deferrable,
            Property::ConstraintNames,
        ] {
            assert!(!sea.contains(p), "{p}");
        }
    }
}
