//! The fixture corpus on real PostgreSQL: snapshot up/down of every `fixtures/<case>/`, then the
//! round trip (up -> re-diff empty -> same as built from models -> down -> equal to before).

use retort::{generate, generate_with, rename_hints, RenderOptions};
use retort_schema::{Catalog, Scope};
use retort_testkit::{pg_dump_schema, TestDb};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Case {
    name: String,
    before: String,
    models_path: String,
    models_text: String,
    scope: Scope,
    render: RenderOptions,
    /// A no-false-positives case: the models describe before.sql exactly.
    expect_empty: bool,
    naming: retort_schema::NamingConvention,
    /// SQL run on every database the case builds from scratch (types the models only reference).
    setup: String,
}

fn cases() -> Vec<Case> {
    let root = workspace().join("fixtures");
    let mut out = Vec::new();
    let case_dirs = |dir: &Path| -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("fixture directory exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("models.rs").is_file() && p.join("before.sql").is_file())
            .collect();
        dirs.sort();
        dirs
    };
    // fixtures/<case>/ and the cases ported from other tools' suites, fixtures/peer/<case>/
    // (named peer_<case>; oracle only, no snapshots).
    let mut dirs: Vec<(String, String, PathBuf)> = case_dirs(&root)
        .into_iter()
        .map(|d| {
            let n = d.file_name().unwrap().to_string_lossy().to_string();
            (n.clone(), format!("fixtures/{n}"), d)
        })
        .collect();
    if root.join("peer").is_dir() {
        dirs.extend(case_dirs(&root.join("peer")).into_iter().map(|d| {
            let n = d.file_name().unwrap().to_string_lossy().to_string();
            (format!("peer_{n}"), format!("fixtures/peer/{n}"), d)
        }));
    }
    // RETORT_FIXTURES=a,b runs only the cases whose name contains a or b (for triage).
    let only = std::env::var("RETORT_FIXTURES").unwrap_or_default();
    for (name, rel, dir) in dirs {
        if !only.split(',').any(|o| name.contains(o)) {
            continue;
        }
        let mut scope = Scope::default();
        let mut render = RenderOptions::default();
        let mut expect_empty = false;
        let mut naming = retort_schema::NamingConvention::default();
        let mut setup = String::new();
        if let Ok(text) = std::fs::read_to_string(dir.join("case.toml")) {
            let v: toml::Table = toml::from_str(&text).expect("case.toml parses");
            let list = |k: &str| -> Option<Vec<String>> {
                v.get(k)?.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
            };
            if let Some(s) = list("schemas") {
                scope.schemas = s;
            }
            if let Some(s) = list("include") {
                scope.include = s;
            }
            if let Some(s) = list("exclude") {
                scope.exclude = s;
            }
            render.concurrent_indexes = v
                .get("concurrent_indexes")
                .and_then(|b| b.as_bool())
                .unwrap_or(false);
            expect_empty = v
                .get("expect_empty")
                .and_then(|b| b.as_bool())
                .unwrap_or(false);
            if let Some(sql) = v.get("setup").and_then(|s| s.as_str()) {
                setup = sql.to_string();
            }
            if let Some(n) = v.get("naming") {
                naming = n.clone().try_into().expect("[naming] in case.toml");
            }
        }
        out.push(Case {
            before: std::fs::read_to_string(dir.join("before.sql")).unwrap(),
            models_path: format!("{rel}/models.rs"),
            models_text: std::fs::read_to_string(dir.join("models.rs")).unwrap(),
            name,
            scope,
            render,
            expect_empty,
            naming,
            setup,
        });
    }
    out
}

fn models(case: &Case) -> retort_model_reader::Models {
    let opts = retort_model_reader::ReadOptions {
        default_schema: "public".into(),
        schemas: Some(case.scope.schemas.clone()),
    };
    match retort_model_reader::read_sources(
        &[(case.models_path.clone(), case.models_text.clone())],
        &opts,
    ) {
        Ok(mut m) => {
            m.catalog = case.scope.filter(m.catalog);
            case.naming.apply(&mut m.catalog);
            m
        }
        Err(e) => panic!("{}: models do not read:\n{e}", case.name),
    }
}

/// The case as an engine project: its models in memory, its scope and naming, everything
/// managed.
fn project(case: &Case) -> retort_engine::Project {
    let mut p = retort_engine::Project::from_source(&case.models_path, &case.models_text);
    p.read = retort_model_reader::ReadOptions {
        default_schema: "public".into(),
        schemas: Some(case.scope.schemas.clone()),
    };
    p.scope = case.scope.clone();
    p.naming = case.naming.clone();
    p.manage = retort::manage::Manage {
        all: Some(true),
        ..Default::default()
    };
    p
}

/// Scratch databases for the server normaliser, with the case's `setup` SQL run in each.
struct CaseScratch<'a>(&'a Case);

struct CaseDb(TestDb);

impl retort_engine::Scratch for CaseDb {
    fn connect(&self) -> anyhow::Result<postgres::Client> {
        self.0.connect()
    }
}

impl retort_engine::ScratchProvider for CaseScratch<'_> {
    fn create(&self) -> anyhow::Result<Box<dyn retort_engine::Scratch>> {
        let case = self.0;
        let db = TestDb::create(&format!("fx_{}_canon", db_name(&case.name)))?;
        exec(&db, &case.setup, "case.toml setup", &case.name);
        Ok(Box::new(CaseDb(db)))
    }
}

fn introspect(db: &TestDb, scope: &Scope) -> Catalog {
    let mut client = db.connect().unwrap();
    retort::introspect(&mut client, scope).unwrap()
}

fn exec(db: &TestDb, sql: &str, what: &str, case: &str) {
    let mut client = db.connect().unwrap();
    if sql.contains("CONCURRENTLY") {
        // Cannot run in a transaction block: one statement at a time, as the runner does.
        for st in retort_migrate::split_statements(sql).unwrap() {
            if let Err(e) = client.batch_execute(&st.sql) {
                panic!(
                    "{case}: {what} failed: {e:?}\n--- statement ---\n{}",
                    st.sql
                );
            }
        }
        return;
    }
    let mut tx = client.transaction().unwrap();
    if let Err(e) = tx.batch_execute(sql) {
        panic!("{case}: {what} failed: {e:?}\n--- sql ---\n{sql}");
    }
    tx.commit().unwrap();
}

/// Column order cannot always be restored (PostgreSQL appends re-added columns).
fn sorted_columns(mut c: Catalog) -> Catalog {
    for s in &mut c.schemas {
        for t in &mut s.tables {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    c
}

/// Down cannot put a re-added column back in the middle of a table (PostgreSQL appends), but it
/// must keep every other column in place and re-add the dropped ones in their original order.
fn assert_column_order_restored(
    case: &str,
    before: &Catalog,
    restored: &Catalog,
    changes: &[retort_schema::Change],
) {
    use retort_schema::Change;
    for t in before.tables() {
        let Some(r) = restored.table(&t.name) else {
            continue;
        };
        let readded: Vec<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropColumn { table, column } if table == &t.name => {
                    Some(column.name.as_str())
                }
                Change::AlterColumnGenerated { table, from, .. } if table == &t.name => {
                    Some(from.name.as_str())
                }
                _ => None,
            })
            .collect();
        let names = |cols: &[retort_schema::Column]| -> Vec<String> {
            cols.iter().map(|c| c.name.clone()).collect()
        };
        let (stay, moved): (Vec<String>, Vec<String>) = names(&t.columns)
            .into_iter()
            .partition(|n| !readded.contains(&n.as_str()));
        let expected: Vec<String> = stay.into_iter().chain(moved).collect();
        assert_eq!(
            names(&r.columns),
            expected,
            "{case}: down restored the columns of {} in another order",
            t.name
        );
    }
}

/// Database names are cut at 63 bytes by PostgreSQL: keep the case's part short enough for the
/// `fx_` prefix and the `_canon` / `_fresh` suffixes.
fn db_name(case: &str) -> &str {
    &case[..case.len().min(50)]
}

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(workspace().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

#[test]
fn fixture_corpus_snapshots_and_round_trips() {
    let cases = cases();
    if std::env::var("RETORT_FIXTURES")
        .unwrap_or_default()
        .is_empty()
    {
        assert!(cases.len() >= 12, "expected at least 12 fixtures");
    }
    let mut failed = Vec::new();
    for case in &cases {
        // Every case runs; the failures are listed together at the end.
        if std::panic::catch_unwind(|| round_trip(case)).is_err() {
            failed.push(case.name.clone());
        }
    }
    assert!(failed.is_empty(), "fixtures failing: {failed:?}");
}

fn round_trip(case: &Case) {
    {
        let db = TestDb::create(&format!("fx_{}", db_name(&case.name))).unwrap();
        exec(&db, &case.before, "before.sql", &case.name);
        let before = introspect(&db, &case.scope);
        let before_dump = pg_dump_schema(&db.url).unwrap();
        let read = models(case);
        let hints = rename_hints(&read);
        // 1. Autogenerate as `retort diff` does (the engine's `autogenerate`: the server
        // normaliser on a scratch database, `[manage]` with everything managed since the
        // fixtures' models are complete, the apply guard), and snapshot.
        let project = project(case);
        let report = retort_engine::autogenerate(
            &project,
            &mut db.connect().unwrap(),
            &mut retort_engine::Server {
                scratch: CaseScratch(case),
            },
            &retort_engine::AutogenerateOptions {
                render: case.render.clone(),
                allow_mass_drop: true,
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e:#}", case.name));
        assert_eq!(
            report.normalizer,
            retort_engine::NormalizerKind::Server,
            "{}: {:?}",
            case.name,
            report.fallback
        );
        let models = report.target;
        let g = report.generated;
        if case.expect_empty {
            assert!(
                g.is_empty(),
                "{}: false positives against equivalent hand-written SQL:\n{}",
                case.name,
                g.up
            );
            return;
        }
        assert!(!g.is_empty(), "{}: fixture generates no change", case.name);
        // Ported peer cases are judged by the oracle below, not by snapshots (too many to review
        // line by line); the corpus of our own cases is snapshotted and reviewed.
        if !case.name.starts_with("peer_") {
            snapshot_settings().bind(|| {
                insta::assert_snapshot!(format!("{}__up", case.name), g.up);
                insta::assert_snapshot!(format!("{}__down", case.name), g.down);
            });
        }

        // 2. The IR oracle: applying the changes in memory reaches the models.
        let mut in_memory = before.clone();
        for c in &g.changes {
            c.apply(&mut in_memory)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
        in_memory.canonicalize();
        assert_eq!(
            sorted_columns(in_memory.without_empty_schemas()),
            sorted_columns(models.clone()),
            "{}: in-memory apply differs from the models",
            case.name
        );

        // 3. Apply up; autogenerate again (hints still present) must find nothing.
        exec(&db, &g.up, "up.sql", &case.name);
        let after = introspect(&db, &case.scope);
        let again = generate_with(&after, &models, &hints, &case.render, &case.scope);
        assert!(
            again.is_empty(),
            "{}: second autogenerate is not empty:\n{}",
            case.name,
            again.up
        );

        // 4. A database built from the models alone has the same schema.
        let fresh = TestDb::create(&format!("fx_{}_fresh", db_name(&case.name))).unwrap();
        exec(&fresh, &case.setup, "case.toml setup", &case.name);
        let from_empty = generate(&Catalog::default(), &models, &case.scope);
        exec(&fresh, &from_empty.up, "models-only up", &case.name);
        let fresh_catalog = introspect(&fresh, &case.scope);
        let no_false_positives = generate(&fresh_catalog, &models, &case.scope);
        assert!(
            no_false_positives.is_empty(),
            "{}: models' own DDL does not diff to nothing:\n{}",
            case.name,
            no_false_positives.up
        );
        assert_eq!(
            sorted_columns(introspect(&fresh, &case.scope)),
            sorted_columns(after.clone()),
            "{}: database built from the models differs from before + up",
            case.name
        );
        drop(fresh);

        // 5. Apply down; the database equals the starting one.
        exec(&db, &g.down, "down.sql", &case.name);
        let restored = introspect(&db, &case.scope);
        assert_eq!(
            sorted_columns(restored.clone()),
            sorted_columns(before.clone()),
            "{}: down did not restore the starting schema",
            case.name
        );
        assert_column_order_restored(&case.name, &before, &restored, &g.changes);
        if restored == before {
            // Same column order: pg_dump, an oracle we did not write, must agree too.
            assert_eq!(
                pg_dump_schema(&db.url).unwrap(),
                before_dump,
                "{}: pg_dump differs after down",
                case.name
            );
        }
    }
}
