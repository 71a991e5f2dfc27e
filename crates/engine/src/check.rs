//! `check`: do the models equal what the migrations build (replayed on a scratch database) or
//! the live database, with one head and a `retort.sum` that matches the files?

use anyhow::Result;
use retort_render::Hazard;
use retort_schema::Change;
use serde::Serialize;

use crate::autogenerate::read_normalized;
use crate::generate::{self, describe};
use crate::manage::{self, Provenance};
use crate::normalize::{Normalizer, NormalizerKind};
use crate::scratch::ScratchProvider;
use crate::{Progress, Project};

/// What `check` compares the models with.
pub enum Against<'a> {
    /// The live database behind this connection.
    Database(&'a mut postgres::Client),
    /// The schema the migrations build, replayed on a scratch database from this provider.
    Migrations(&'a dyn ScratchProvider),
}

/// The name of what was compared with, in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgainstKind {
    Database,
    Migrations,
}

impl AgainstKind {
    /// The phrase text reports use.
    pub fn label(self) -> &'static str {
        match self {
            AgainstKind::Database => "the database",
            AgainstKind::Migrations => "what the migrations build",
        }
    }
}

/// A change the models need that no migration makes yet.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedChange {
    /// The first line of its SQL.
    pub summary: String,
    /// The model line to point at (`file:line`): the field for column changes, else the struct.
    pub model: Option<String>,
    /// `declared_differently` or `not_declared`.
    pub in_models: &'static str,
    pub change: Change,
    #[serde(skip)]
    pub provenance: Provenance,
}

/// The result of `check` (the JSON of `retort check --format json`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub format_version: u32,
    /// No problem and no change.
    pub ok: bool,
    pub against: AgainstKind,
    /// Several heads, or `retort.sum` not matching the files.
    pub problems: Vec<String>,
    pub changes: Vec<CheckedChange>,
    pub hazards: Vec<Hazard>,
    /// Which normaliser the model expressions went through.
    pub normalizer: NormalizerKind,
    /// Why the server normaliser fell back to the offline one, when it did.
    #[serde(skip)]
    pub fallback: Option<String>,
}

/// Compares the models with `against`; also reports several heads and a stale `retort.sum`.
pub fn check(
    project: &Project,
    against: Against<'_>,
    normalizer: &mut dyn Normalizer,
    progress: &mut dyn Progress,
) -> Result<CheckReport> {
    let graph = project.graph()?;
    let scope = &project.scope;
    let mut problems = Vec::new();
    let heads = graph.heads();
    if heads.len() > 1 {
        problems.push(format!(
            "several heads ({}): run `retort merge {} -m \"merge\"`",
            heads.join(", "),
            heads.join(" ")
        ));
    }
    if let Err(e) = retort_migrate::verify_sum(&project.migrations_dir, &graph) {
        problems.push(e.to_string());
    }
    let (models, normalized, _) = read_normalized(project, normalizer)?;
    let (db, kind) = match against {
        Against::Database(client) => (crate::introspect(client, scope)?, AgainstKind::Database),
        Against::Migrations(provider) => {
            let scratch = provider.create()?;
            let mut client = scratch.connect()?;
            let db = if graph.is_empty() {
                crate::introspect(&mut client, scope)?
            } else {
                crate::schema_at(&mut client, &graph, "heads", scope, progress)?
            };
            (db, AgainstKind::Migrations)
        }
    };
    project.refuse_empty_models(&normalized.catalog, &db, kind.label())?;
    let target = manage::overlay(&models, &normalized.catalog, &db, &project.manage);
    let g = generate::generate_with(
        &db,
        &target,
        &generate::rename_hints(&models),
        &Default::default(),
        scope,
    );
    generate::refuse_unresolved(&db, &target, &g.changes, scope)?;
    let origin = |c: &Change| {
        use retort_schema::Change::*;
        let table = c.table()?.to_string();
        let column = match c {
            AddColumn { column, .. } => Some(column.name.clone()),
            AlterColumnGenerated { to, .. } => Some(to.name.clone()),
            AlterColumnType { column, .. }
            | AlterColumnNullable { column, .. }
            | AlterColumnDefault { column, .. }
            | AlterColumnIdentity { column, .. }
            | AlterColumnSerial { column, .. }
            | AlterColumnComment { column, .. } => Some(column.clone()),
            _ => None,
        };
        column
            .and_then(|col| models.origins.get(&format!("{table}.{col}")))
            .or_else(|| models.origins.get(&table))
            .map(|s| format!("{}:{}", s.file, s.line))
    };
    let changes = g
        .changes
        .iter()
        .zip(&g.in_models)
        .map(|(c, p)| CheckedChange {
            summary: describe(c),
            model: origin(c),
            in_models: p.key(),
            change: c.clone(),
            provenance: *p,
        })
        .collect();
    Ok(CheckReport {
        format_version: 1,
        ok: problems.is_empty() && g.is_empty(),
        against: kind,
        problems,
        changes,
        hazards: g.up_plan.hazards().cloned().collect(),
        normalizer: normalized.normalizer,
        fallback: normalized.fallback,
    })
}
