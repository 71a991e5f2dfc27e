//! `[manage]` in retort.toml and the overlay applied right before models are diffed: what the
//! models' dialect cannot state is taken from the other side (see `retort_schema::manage`).

use serde::Deserialize;

use retort_model_reader::{Dialect, Models};
use retort_schema::manage::{self, Managed, Property};
use retort_schema::{Catalog, Change, ObjectKind, QualName};

pub use retort_schema::manage::Provenance;

/// `[manage]`: opt a project into (or out of) managing a kind of property whatever its models'
/// dialect says, e.g. `indexes = true` when the SeaORM entities declare every index. `all` sets
/// every kind; a key of its own wins over `all`. Unset keys keep the dialect's choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manage {
    pub all: Option<bool>,
    pub defaults: Option<bool>,
    pub identity: Option<bool>,
    pub identity_kind: Option<bool>,
    pub generated: Option<bool>,
    pub comments: Option<bool>,
    pub column_order: Option<bool>,
    pub key_order: Option<bool>,
    pub constraint_names: Option<bool>,
    pub uniques: Option<bool>,
    pub unique_nulls: Option<bool>,
    pub checks: Option<bool>,
    pub foreign_keys: Option<bool>,
    pub fk_actions: Option<bool>,
    pub deferrable: Option<bool>,
    pub fk_match: Option<bool>,
    pub indexes: Option<bool>,
    /// SQL-defined objects (views, functions, triggers, sequences, row-level security,
    /// policies): a kind is managed (objects of it the models do not declare are
    /// dropped) when the project's SQL files declare one of that kind, or when set here.
    /// `all` does not reach these.
    pub views: Option<bool>,
    pub materialized_views: Option<bool>,
    pub functions: Option<bool>,
    pub procedures: Option<bool>,
    pub triggers: Option<bool>,
    pub sequences: Option<bool>,
    pub row_security: Option<bool>,
    pub policies: Option<bool>,
}

impl Manage {
    /// What retort.toml says about `p`, if anything.
    pub fn get(&self, p: Property) -> Option<bool> {
        let own = match p {
            Property::Defaults => self.defaults,
            Property::Identity => self.identity,
            Property::IdentityKind => self.identity_kind,
            Property::Generated => self.generated,
            Property::Comments => self.comments,
            Property::ColumnOrder => self.column_order,
            Property::KeyOrder => self.key_order,
            Property::ConstraintNames => self.constraint_names,
            Property::Uniques => self.uniques,
            Property::UniqueNulls => self.unique_nulls,
            Property::Checks => self.checks,
            Property::ForeignKeys => self.foreign_keys,
            Property::FkActions => self.fk_actions,
            Property::Deferrable => self.deferrable,
            Property::FkMatch => self.fk_match,
            Property::Indexes => self.indexes,
        };
        own.or(self.all)
    }

    /// Whether the project manages objects of `kind`: set in retort.toml, else whether the
    /// models (their SQL files) declare one.
    pub fn manages_objects(&self, kind: ObjectKind, models: &Catalog) -> bool {
        let own = match kind {
            ObjectKind::View => self.views,
            ObjectKind::MaterializedView => self.materialized_views,
            ObjectKind::Function => self.functions,
            ObjectKind::Procedure => self.procedures,
            ObjectKind::Trigger => self.triggers,
            ObjectKind::Sequence => self.sequences,
            ObjectKind::RowSecurity => self.row_security,
            ObjectKind::Policy => self.policies,
        };
        own.unwrap_or_else(|| models.objects().any(|o| o.kind == kind))
    }

    /// What the models manage in a table of `dialect`, in a project whose models declare the
    /// kinds `declared`: a dialect that cannot state everything manages only kinds the project
    /// uses somewhere; then retort.toml has the last word.
    pub fn managed(&self, dialect: Dialect, declared: Managed) -> Managed {
        let mut m = dialect.manages();
        if m != Managed::ALL {
            m = m.intersect(declared);
        }
        for p in Property::ALL {
            if let Some(v) = self.get(p) {
                m.set(p, v);
            }
        }
        m
    }
}

/// The model catalog `catalog` (the models' own, possibly canonicalised) to diff against
/// `other` (the database or the schema the migrations build).
pub fn overlay(models: &Models, catalog: &Catalog, other: &Catalog, cfg: &Manage) -> Catalog {
    let declared = manage::declared(catalog);
    let managed = |t: &QualName| {
        let dialect = models
            .dialects
            .get(&t.to_string())
            .copied()
            .unwrap_or(Dialect::Native);
        cfg.managed(dialect, declared)
    };
    let renames: Vec<manage::Renamed> = models
        .renames
        .iter()
        .map(|r| manage::Renamed {
            table: r.table.clone(),
            column: r.column.clone(),
            from: r.from.clone(),
        })
        .collect();
    let mut target = manage::overlay(catalog, other, &managed, &renames);
    retort_schema::object::keep_unmanaged(&mut target, other, |k| cfg.manages_objects(k, catalog));
    target
}

/// Whether `change` removes something the models (`target`, the catalog diffed against) never
/// mention, or concerns something they declare.
pub fn provenance(change: &Change, target: &Catalog) -> Provenance {
    manage::provenance(change, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retort_toml_has_the_last_word() {
        let declared = Managed::ALL.without(Property::ForeignKeys);
        let none = Manage::default();
        assert_eq!(none.managed(Dialect::Native, declared), Managed::ALL);
        let sea = none.managed(Dialect::SeaOrm, declared);
        assert!(sea.contains(Property::Identity));
        // Declared nowhere in the project: not managed by a partial dialect.
        assert!(!sea.contains(Property::ForeignKeys));
        assert!(!sea.contains(Property::Indexes));

        let cfg: Manage = toml::from_str("indexes = true").unwrap();
        assert!(cfg
            .managed(Dialect::SeaOrm, declared)
            .contains(Property::Indexes));
        let cfg: Manage = toml::from_str("all = true\nchecks = false").unwrap();
        let m = cfg.managed(Dialect::SeaOrm, declared);
        assert_eq!(m, Managed::ALL.without(Property::Checks));
        let cfg: Manage = toml::from_str("indexes = false").unwrap();
        assert!(!cfg
            .managed(Dialect::Native, declared)
            .contains(Property::Indexes));
        let err = toml::from_str::<Manage>("index = true").unwrap_err();
        assert!(err.to_string().contains("unknown field `index`"), "{err}");
    }

    #[test]
    fn every_property_has_a_key_in_manage() {
        for p in Property::ALL {
            let cfg: Manage = toml::from_str(&format!("{} = true", p.key())).unwrap();
            assert_eq!(cfg.get(p), Some(true), "{p}");
            assert_eq!(
                Property::ALL
                    .iter()
                    .filter(|q| cfg.get(**q).is_some())
                    .count(),
                1,
                "{p}"
            );
        }
    }
}
