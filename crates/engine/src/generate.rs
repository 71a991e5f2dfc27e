//! Diffing and rendering: `generate` turns two catalogs into ordered changes and the up and down
//! bodies of a migration; the guards refuse results that would surprise (mass drops).

use anyhow::Result;
use retort_schema::{Catalog, Change, Scope};

use crate::manage;
pub use retort_differ::{Hints, Rename};
pub use retort_render::RenderOptions;

/// A generated migration: the ordered changes, their up and down plans and the bodies written
/// from them.
#[derive(Debug, Clone)]
pub struct Generated {
    pub changes: Vec<Change>,
    /// The statements of up, from `changes`.
    pub up_plan: retort_render::Plan,
    /// The statements of down, from the reversed inverses of `changes`.
    pub down_plan: retort_render::Plan,
    pub up: String,
    pub down: String,
    /// For each change, whether the models declare what it concerns or are silent about it.
    pub in_models: Vec<manage::Provenance>,
}

impl Generated {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Diffs the database catalog against the model catalog, both limited to `scope`.
pub fn generate(db: &Catalog, models: &Catalog, scope: &Scope) -> Generated {
    generate_with(
        db,
        models,
        &Hints::default(),
        &RenderOptions::default(),
        scope,
    )
}

/// Like `generate`, honouring `renamed_from` hints and render options.
pub fn generate_with(
    db: &Catalog,
    models: &Catalog,
    hints: &Hints,
    opts: &RenderOptions,
    scope: &Scope,
) -> Generated {
    let (changes, in_models) = diff_with(db, models, hints, scope);
    render(changes, in_models, opts)
}

/// The ordered changes from `db` to `models` (both limited to `scope`) and, for each, whether
/// the models declare what it concerns.
pub fn diff_with(
    db: &Catalog,
    models: &Catalog,
    hints: &Hints,
    scope: &Scope,
) -> (Vec<Change>, Vec<manage::Provenance>) {
    let db = scope.filter_ref(db);
    let models = scope.filter_ref(models);
    let changes = retort_differ::diff_with(&db, &models, hints);
    let in_models = changes
        .iter()
        .map(|c| manage::provenance(c, &models))
        .collect();
    (changes, in_models)
}

/// Refuses changes that, applied in memory, would not reach the models (a differ bug must never
/// become a silently incomplete migration).
pub fn refuse_unresolved(
    db: &Catalog,
    models: &Catalog,
    changes: &[Change],
    scope: &Scope,
) -> Result<()> {
    retort_differ::verify(&scope.filter_ref(db), &scope.filter_ref(models), changes)?;
    Ok(())
}

/// Renders ordered changes as a migration: up, and down from their reversed inverses.
/// `in_models` says, per change, whether the models declare what it concerns.
pub fn render(
    changes: Vec<Change>,
    in_models: Vec<manage::Provenance>,
    opts: &RenderOptions,
) -> Generated {
    let up_plan = retort_render::plan(&changes, opts);
    let down_plan = retort_render::plan_inverse(&retort_differ::inverse(&changes), &up_plan, opts);
    Generated {
        up: up_plan.body(),
        down: down_plan.body(),
        up_plan,
        down_plan,
        in_models,
        changes,
    }
}

pub use retort_render::{possible_renames, PossibleRename};

/// The hint that turns a possible rename's drop and add into a rename.
pub fn as_rename(p: &PossibleRename) -> Rename {
    Rename {
        table: p.table.clone(),
        column: Some(p.to.clone()),
        from: p.from.clone(),
    }
}

/// The `renamed_from` hints of the models, in the differ's terms.
pub fn rename_hints(models: &retort_model_reader::Models) -> Hints {
    Hints {
        renames: models
            .renames
            .iter()
            .map(|r| Rename {
                table: r.table.clone(),
                column: r.column.clone(),
                from: r.from.clone(),
            })
            .collect(),
        enum_values: models
            .enum_value_renames
            .iter()
            .map(|r| retort_differ::EnumValueRename {
                enum_type: r.enum_type.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
            })
            .collect(),
    }
}

/// Refuses a migration that drops more than half of the managed tables, unless `allow`: a
/// misconfigured scope or model path is far more likely than a deliberate mass drop.
pub fn refuse_mass_drop(
    db: &Catalog,
    scope: &Scope,
    changes: &[Change],
    allow: bool,
) -> Result<()> {
    let managed = scope.filter_ref(db).tables().count();
    let dropped: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable { table } => Some(table.name.to_string()),
            _ => None,
        })
        .collect();
    if allow || dropped.len() * 2 <= managed {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to drop {} of the {managed} managed table(s) ({}{}): check [models] paths and \
         [scope] in retort.toml; if this is really wanted, pass --allow-mass-drop",
        dropped.len(),
        dropped
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        if dropped.len() > 5 { ", ..." } else { "" },
    )
}

/// One line per change for summaries (the plan's summary of it).
pub fn describe(c: &Change) -> String {
    retort_render::summary(c)
}
