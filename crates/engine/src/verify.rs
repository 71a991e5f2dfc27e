//! Replays on scratch databases: `verify` (every down undoes its up, head equals the models) and
//! `stamp_verify` (the live schema already equals what the migrations up to a target build).

use anyhow::Result;
use retort_schema::{Catalog, Change, Scope};
use serde::Serialize;

use crate::autogenerate::read_normalized;
use crate::generate::generate;
use crate::normalize::{Normalizer, NormalizerKind};
use crate::scratch::ScratchProvider;
use crate::{introspect, manage, Progress, Project};

/// Upgrades `client` to `target` (quietly) and returns the schema there.
pub fn schema_at(
    client: &mut postgres::Client,
    graph: &retort_migrate::Graph,
    target: &str,
    scope: &Scope,
    progress: &mut dyn Progress,
) -> Result<Catalog> {
    let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
    let steps = runner.plan_upgrade(graph, target)?;
    progress.begin(steps.len(), "replaying migrations");
    runner.run(graph, &steps, true, &mut |e| {
        if let retort_migrate::StepEvent::Finished { .. } = e {
            progress.step(None);
        }
    })?;
    progress.end();
    introspect(client, scope)
}

/// One difference found by `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyFailure {
    /// The revision whose down did not undo its up (or "models" at head).
    pub revision: String,
    pub changes: Vec<Change>,
}

/// The result of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub format_version: u32,
    /// How many migrations were replayed.
    pub migrations: usize,
    pub failures: Vec<VerifyFailure>,
    /// Which normaliser the model expressions went through.
    pub normalizer: NormalizerKind,
    /// Why the server normaliser fell back to the offline one, when it did.
    #[serde(skip)]
    pub fallback: Option<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Reads and normalises the models, then replays every migration on a scratch database from
/// `scratch` (see `verify_replay`).
pub fn verify(
    project: &Project,
    scratch: &dyn ScratchProvider,
    normalizer: &mut dyn Normalizer,
    progress: &mut dyn Progress,
) -> Result<VerifyReport> {
    let graph = project.graph()?;
    let (_, normalized, _) = read_normalized(project, normalizer)?;
    let db = scratch.create()?;
    let mut client = db.connect()?;
    let failures = verify_replay(
        &mut client,
        &graph,
        &normalized.catalog,
        &project.scope,
        progress,
    )?;
    Ok(VerifyReport {
        format_version: 1,
        migrations: graph.len(),
        failures,
        normalizer: normalized.normalizer,
        fallback: normalized.fallback,
    })
}

/// Replays every migration on `client`, an empty database: up one step at a time recording each
/// schema, compares head with the models, then down one step at a time comparing with the
/// recording.
pub fn verify_replay(
    client: &mut postgres::Client,
    graph: &retort_migrate::Graph,
    models: &Catalog,
    scope: &Scope,
    progress: &mut dyn Progress,
) -> Result<Vec<VerifyFailure>> {
    use std::collections::BTreeMap;
    let mut failures = Vec::new();
    let mut seen: BTreeMap<Vec<String>, Catalog> = BTreeMap::new();
    let base = introspect(client, scope)?;
    seen.insert(Vec::new(), base);
    let order: Vec<String> = graph.order().to_vec();
    progress.begin(2 * order.len(), "verifying migrations");
    for id in &order {
        let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
        let steps = runner.plan_upgrade(graph, id)?;
        runner.run(graph, &steps, true, &mut |_| {})?;
        let mut cur = runner.current()?;
        cur.sort();
        progress.step(Some(&format!("up   {id}")));
        let cat = introspect(client, scope)?;
        seen.insert(cur, cat);
    }
    let head = introspect(client, scope)?;
    let drift = generate(&head, models, scope);
    if !drift.is_empty() {
        failures.push(VerifyFailure {
            revision: "models".into(),
            changes: drift.changes,
        });
    }
    loop {
        let mut runner = retort_migrate::Runner::new(client, &scope.version_table);
        let cur = runner.current()?;
        if cur.is_empty() {
            break;
        }
        let steps = runner.plan_downgrade(graph, "-1")?;
        let reverted: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
        runner.run(graph, &steps, true, &mut |_| {})?;
        let mut now = runner.current()?;
        now.sort();
        progress.step(Some(&format!("down {}", reverted.join(", "))));
        if let Some(expected) = seen.get(&now) {
            let actual = introspect(client, scope)?;
            let g = generate(&actual, expected, scope);
            if !g.is_empty() {
                failures.push(VerifyFailure {
                    revision: reverted.join(", "),
                    changes: g.changes,
                });
                break;
            }
        }
    }
    progress.end();
    Ok(failures)
}

/// The result of `stamp_verify`: what the live database still needs to have the schema the
/// migrations build up to `target` (nothing: it may be stamped).
#[derive(Debug, Clone, Serialize)]
pub struct StampVerifyReport {
    pub format_version: u32,
    pub target: String,
    pub differences: Vec<Change>,
}

impl StampVerifyReport {
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Replays the migrations up to `target` (`base` for none) on a scratch database and compares
/// with the live database behind `live`. What the models leave to the database (a SeaORM
/// project's extra indexes, say) is not in the migrations either: it does not count.
pub fn stamp_verify(
    project: &Project,
    live: &mut postgres::Client,
    scratch: &dyn ScratchProvider,
    target: &str,
    progress: &mut dyn Progress,
) -> Result<StampVerifyReport> {
    let graph = project.graph()?;
    let scope = &project.scope;
    let live = introspect(live, scope)?;
    let db = scratch.create()?;
    let mut sc = db.connect()?;
    let expected = if target == "base" {
        introspect(&mut sc, scope)?
    } else {
        schema_at(&mut sc, &graph, target, scope, progress)?
    };
    let expected = match project.read_models() {
        Ok(models) => manage::overlay(&models, &expected, &live, &project.manage),
        Err(_) => expected,
    };
    Ok(StampVerifyReport {
        format_version: 1,
        target: target.to_string(),
        differences: generate(&live, &expected, scope).changes,
    })
}

/// What `retort squash` checks before it changes a file: on two scratch databases, the history
/// with `squash` in it (tried on a copy of the migrations) builds the same schema at the kept
/// revision as the history as it is, and the squashed down takes that schema back to the one
/// before the line. Returns the differences (none: the squash may be written).
pub fn verify_squash(
    graph: &retort_migrate::Graph,
    squash: &retort_migrate::Squash,
    scope: &Scope,
    scratch: &dyn ScratchProvider,
    progress: &mut dyn Progress,
) -> Result<Vec<VerifyFailure>> {
    let copy = tempfile::tempdir()?;
    for m in graph.iter() {
        let dir = copy.path().join(&m.id);
        std::fs::create_dir(&dir)?;
        std::fs::copy(m.up_path(), dir.join(retort_migrate::UP_FILE))?;
        std::fs::copy(m.down_path(), dir.join(retort_migrate::DOWN_FILE))?;
    }
    let sum = graph.dir().join(retort_migrate::SUM_FILE);
    if sum.exists() {
        std::fs::copy(&sum, copy.path().join(retort_migrate::SUM_FILE))?;
    }
    let squashed = retort_migrate::write_squash(copy.path(), squash)?;

    // The schema before the line, and at its end, as the history is today.
    let old_db = scratch.create()?;
    let mut old = old_db.connect()?;
    let mut before = introspect(&mut old, scope)?;
    for parent in &squash.parents {
        before = schema_at(&mut old, graph, parent, scope, progress)?;
    }
    let after = schema_at(&mut old, graph, &squash.id, scope, progress)?;

    let new_db = scratch.create()?;
    let mut new = new_db.connect()?;
    for parent in &squash.parents {
        schema_at(&mut new, &squashed, parent, scope, progress)?;
    }
    let mut failures = Vec::new();
    let up = schema_at(&mut new, &squashed, &squash.id, scope, progress)?;
    let g = generate(&up, &after, scope);
    if !g.is_empty() {
        failures.push(VerifyFailure {
            revision: format!("up of {}", squash.id),
            changes: g.changes,
        });
    }
    let mut runner = retort_migrate::Runner::new(&mut new, &scope.version_table);
    let steps = runner.plan_downgrade(&squashed, "-1")?;
    runner.run(&squashed, &steps, true, &mut |_| {})?;
    let down = introspect(&mut new, scope)?;
    let g = generate(&down, &before, scope);
    if !g.is_empty() {
        failures.push(VerifyFailure {
            revision: format!("down of {}", squash.id),
            changes: g.changes,
        });
    }
    Ok(failures)
}
