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

/// The schema the migrations build (up to their heads), replayed on a scratch database from
/// `provider`: the comparison of `check` and of `revision --from migrations`. With the same
/// migrations, scope and server as a run before, the provider's cache answers and nothing is
/// replayed.
pub fn migrations_schema(
    project: &Project,
    graph: &retort_migrate::Graph,
    provider: &dyn ScratchProvider,
    progress: &mut dyn Progress,
) -> Result<retort_schema::Catalog> {
    let cached = provider.cache().and_then(|c| {
        let identity = provider.identity().ok()?;
        Some((
            c,
            crate::cache::replay_key(c, &identity, graph, &project.scope),
        ))
    });
    if let Some((cache, key)) = &cached {
        if let Some(catalog) = cache.replayed(key) {
            return Ok(catalog);
        }
    }
    let scratch = provider.create()?;
    let mut client = scratch.connect()?;
    let catalog = if graph.is_empty() {
        crate::introspect(&mut client, &project.scope)?
    } else {
        crate::schema_at(&mut client, graph, "heads", &project.scope, progress)?
    };
    if let Some((cache, key)) = &cached {
        cache.store_replayed(key, &catalog);
    }
    Ok(catalog)
}

/// What every comparison of `check` starts from: the graph, its problems and the normalised
/// models, read once however many catalogs they are compared with.
struct Prepared {
    graph: retort_migrate::Graph,
    problems: Vec<String>,
    models: retort_model_reader::Models,
    normalized: crate::normalize::Normalized,
}

/// Compares the models with `against`; also reports several heads and a stale `retort.sum`.
pub fn check(
    project: &Project,
    against: Against<'_>,
    normalizer: &mut dyn Normalizer,
    progress: &mut dyn Progress,
) -> Result<CheckReport> {
    let p = prepare(project, normalizer)?;
    let (db, kind) = match against {
        Against::Database(client) => (
            crate::introspect(client, &project.scope)?,
            AgainstKind::Database,
        ),
        Against::Migrations(provider) => (
            migrations_schema(project, &p.graph, provider, progress)?,
            AgainstKind::Migrations,
        ),
    };
    compare(project, &p, &db, kind)
}

fn prepare(project: &Project, normalizer: &mut dyn Normalizer) -> Result<Prepared> {
    let graph = project.graph()?;
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
    Ok(Prepared {
        graph,
        problems,
        models,
        normalized,
    })
}

/// The check report of the prepared models against `db`.
fn compare(
    project: &Project,
    p: &Prepared,
    db: &retort_schema::Catalog,
    kind: AgainstKind,
) -> Result<CheckReport> {
    let (models, normalized, scope) = (&p.models, &p.normalized, &project.scope);
    project.refuse_empty_models(&normalized.catalog, db, kind.label())?;
    let target = manage::overlay(models, &normalized.catalog, db, &project.manage);
    let g = generate::generate_with(
        db,
        &target,
        &generate::rename_hints(models),
        &Default::default(),
        scope,
    );
    generate::refuse_unresolved(db, &target, &g.changes, scope)?;
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
        ok: p.problems.is_empty() && g.is_empty(),
        against: kind,
        problems: p.problems.clone(),
        changes,
        hazards: g.up_plan.hazards().cloned().collect(),
        normalizer: normalized.normalizer,
        fallback: normalized.fallback.clone(),
    })
}

/// Where a live database stands against the migrations and the models (`check --live`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// Database, migrations and models agree.
    InSync,
    /// Migrations the database has not applied yet: run `upgrade`.
    Behind,
    /// The database is not what its applied migrations build: changed by hand.
    Drifted,
    /// The database is what the migrations build; the models ask for more: run autogenerate.
    ModelsAhead,
    /// A migration with `-- retort:step` lines was interrupted partway: run `upgrade` to resume
    /// it (or `downgrade` to take its committed steps back).
    Interrupted,
}

impl Situation {
    /// The exit code of `retort check --live`: 0 in sync, 1 models ahead (or a problem such as
    /// several heads), 3 behind, 4 drifted.
    pub fn exit_code(self) -> i32 {
        match self {
            Situation::InSync => 0,
            Situation::ModelsAhead => 1,
            Situation::Behind | Situation::Interrupted => 3,
            Situation::Drifted => 4,
        }
    }
}

/// The result of [`check_live`] (the JSON of `retort check --live --format json`): the live
/// comparison, with the situation and what tells it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveReport {
    #[serde(flatten)]
    pub check: CheckReport,
    pub situation: Situation,
    /// Revisions the database has not applied, oldest first.
    pub pending: Vec<String>,
    /// Where the database differs from what the migrations build (statements that would turn
    /// what they build into the database's schema), when it is not behind.
    pub drift: Vec<String>,
    /// Why the migrations could not be replayed to look for drift, when they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_error: Option<String>,
    /// Migrations whose run was interrupted partway (`upgrade of X interrupted after step 1 of 3`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interrupted: Vec<String>,
}

/// Compares the live database with the models and tells apart why they differ: migrations not
/// applied yet, changes made by hand (the database is not what its migrations build, replayed on
/// `provider`), or models ahead of the migrations.
pub fn check_live(
    project: &Project,
    client: &mut postgres::Client,
    provider: &dyn ScratchProvider,
    normalizer: &mut dyn Normalizer,
    progress: &mut dyn Progress,
) -> Result<LiveReport> {
    // The database is read on its own thread while the models are read and normalised.
    let (p, live_state) = std::thread::scope(|s| {
        let live = s.spawn(|| -> Result<_> {
            let mut runner =
                retort_migrate::Runner::new(&mut *client, &project.scope.version_table);
            let current = runner.current_readonly()?;
            let interrupted: Vec<String> =
                runner.progress()?.iter().map(|p| p.describe()).collect();
            Ok((
                current,
                interrupted,
                crate::introspect(client, &project.scope)?,
            ))
        });
        let p = prepare(project, normalizer);
        (p, crate::autogenerate::join(live))
    });
    let p = p?;
    let (current, interrupted, db) = live_state?;
    let graph = &p.graph;
    let applied = retort_migrate::applied_set(graph, &current)?;
    let pending: Vec<String> = graph
        .order()
        .iter()
        .filter(|id| !applied.contains(*id))
        .cloned()
        .collect();
    let live = compare(project, &p, &db, AgainstKind::Database)?;
    // Only the models' comparison: in sync or models ahead.
    let models_only = |live: CheckReport, replay_error: Option<String>| {
        let situation = if live.changes.is_empty() {
            Situation::InSync
        } else {
            Situation::ModelsAhead
        };
        LiveReport {
            check: live,
            situation,
            pending: Vec::new(),
            drift: Vec::new(),
            replay_error,
            interrupted: Vec::new(),
        }
    };
    if !interrupted.is_empty() {
        return Ok(LiveReport {
            check: live,
            situation: Situation::Interrupted,
            pending,
            drift: Vec::new(),
            replay_error: None,
            interrupted,
        });
    }
    if graph.is_empty() {
        // No migrations yet: nothing to be behind or to drift from.
        return Ok(models_only(live, None));
    }
    if !pending.is_empty() {
        return Ok(LiveReport {
            check: live,
            situation: Situation::Behind,
            pending,
            drift: Vec::new(),
            replay_error: None,
            interrupted,
        });
    }
    let built = match migrations_schema(project, graph, provider, progress)
        .and_then(|db| compare(project, &p, &db, AgainstKind::Migrations))
    {
        Ok(built) => built,
        // Migrations that need more than an empty database (written against one that existed
        // before them, without a baseline) cannot tell drift: the models' comparison stands.
        Err(e) => return Ok(models_only(live, Some(format!("{e:#}")))),
    };
    let live_sql: Vec<&Change> = live.changes.iter().map(|c| &c.change).collect();
    let built_sql: Vec<&Change> = built.changes.iter().map(|c| &c.change).collect();
    // Both lists lead to the models: where they differ, the database and what the migrations
    // build differ. Changes the migrations still need but the database already has, or the
    // other way round, are the drift.
    let mut drift: Vec<String> = built
        .changes
        .iter()
        .filter(|c| !live_sql.contains(&&c.change))
        .map(|c| {
            format!(
                "already in the database, made by no migration: {}",
                c.summary
            )
        })
        .collect();
    drift.extend(
        live.changes
            .iter()
            .filter(|c| !built_sql.contains(&&c.change))
            .map(|c| format!("needed here, not after the migrations: {}", c.summary)),
    );
    let situation = if !drift.is_empty() {
        Situation::Drifted
    } else if !live.changes.is_empty() {
        Situation::ModelsAhead
    } else {
        Situation::InSync
    };
    Ok(LiveReport {
        check: live,
        situation,
        pending,
        drift,
        replay_error: None,
        interrupted,
    })
}
