//! The fixture corpus on real PostgreSQL, one test per `fixtures/<case>/`: snapshot up/down, then
//! the round trip (up -> re-diff empty -> same as built from models -> down -> equal to before).
//!
//! Each case is its own test (libtest-mimic), so cases run in parallel and one is picked with
//! `cargo xtask test -p retort --test fixtures -- <case>`; `RETORT_FIXTURES=a,b` still filters.

use libtest_mimic::{Arguments, Failed, Trial};
use retort::{generate, generate_with, rename_hints, RenderOptions};
use retort_schema::{Catalog, NamingConvention, Scope};
use retort_testkit::{pg_dump_schema, TestDb};
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Case {
    name: String,
    /// The case directory relative to the workspace, e.g. `fixtures/column_add`.
    rel: String,
    before: String,
    models_path: String,
    models_text: String,
    scope: Scope,
    render: RenderOptions,
    /// A no-false-positives case: the models describe before.sql exactly.
    expect_empty: bool,
    naming: NamingConvention,
    /// SQL run on every database the case builds from scratch (types the models only reference).
    setup: String,
    /// `objects.sql`, the case's SQL declaration file (views, functions, triggers), as
    /// (path, text).
    sql: Option<(String, String)>,
}

/// A case's `case.toml`: every key is optional, an unknown one is an error (a typo must not
/// silently test something else).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CaseToml {
    /// The schemas in scope (default: public).
    schemas: Option<Vec<String>>,
    include: Vec<String>,
    exclude: Vec<String>,
    /// Render with `--concurrent-indexes`.
    concurrent_indexes: bool,
    /// Render with `--online`.
    online: bool,
    /// The models describe before.sql exactly: autogenerate must find nothing.
    expect_empty: bool,
    /// SQL run on every database the case builds from scratch.
    setup: String,
    /// The `[naming]` convention of retort.toml.
    naming: Option<NamingConvention>,
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
        let settings = match std::fs::read_to_string(dir.join("case.toml")) {
            Ok(text) => {
                toml::from_str::<CaseToml>(&text).unwrap_or_else(|e| panic!("{rel}/case.toml: {e}"))
            }
            Err(_) => CaseToml::default(),
        };
        let mut scope = Scope::default();
        if let Some(s) = settings.schemas {
            scope.schemas = s;
        }
        scope.include = settings.include;
        scope.exclude = settings.exclude;
        out.push(Case {
            before: std::fs::read_to_string(dir.join("before.sql")).unwrap(),
            models_path: format!("{rel}/models.rs"),
            models_text: std::fs::read_to_string(dir.join("models.rs")).unwrap(),
            name,
            rel: rel.clone(),
            scope,
            render: RenderOptions {
                concurrent_indexes: settings.concurrent_indexes,
                online: settings.online,
            },
            expect_empty: settings.expect_empty,
            naming: settings.naming.unwrap_or_default(),
            setup: settings.setup,
            sql: std::fs::read_to_string(dir.join("objects.sql"))
                .ok()
                .map(|text| (format!("{rel}/objects.sql"), text)),
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
    p.with_sql(case.sql.iter().cloned().collect())
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

/// Runs SQL text in one transaction (before.sql, setup: no migration of ours).
fn exec(db: &TestDb, sql: &str, what: &str, case: &str) {
    let mut client = db.connect().unwrap();
    let mut tx = client.transaction().unwrap();
    if let Err(e) = tx.batch_execute(sql) {
        panic!("{case}: {what} failed: {e:?}\n--- sql ---\n{sql}");
    }
    tx.commit().unwrap();
}

/// Runs a migration as the runner would, step by step: a step in one transaction, or, when the
/// plan says it cannot run in one (CONCURRENTLY), statement by statement from the plan itself.
fn apply(db: &TestDb, plan: &retort_render::Plan, what: &str, case: &str) {
    let mut client = db.connect().unwrap();
    for step in 0..plan.step_count() {
        let stmts = plan.statements.iter().filter(|s| s.step == step);
        if plan.step_outside(step) {
            for st in stmts {
                if let Err(e) = client.batch_execute(&st.sql) {
                    panic!(
                        "{case}: {what} failed: {e:?}\n--- statement ---\n{}",
                        st.sql
                    );
                }
            }
            continue;
        }
        let sql: String = stmts.map(|s| format!("{};\n", s.sql)).collect();
        let mut tx = client.transaction().unwrap();
        if let Err(e) = tx.batch_execute(&sql) {
            panic!(
                "{case}: {what} (step {}) failed: {e:?}\n--- sql ---\n{sql}",
                step + 1
            );
        }
        tx.commit().unwrap();
    }
}

/// `pg_dump -s` with the column lines of each CREATE TABLE sorted: down re-adds a dropped
/// column at the end, everything else must be as it was.
fn dump_ignoring_column_order(url: &str) -> String {
    let dump = pg_dump_schema(url).unwrap();
    let mut out = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in dump.lines() {
        match &mut block {
            Some(cols) if line.starts_with(");") || line.starts_with(")") => {
                cols.sort();
                out.append(cols);
                block = None;
                out.push(line.to_string());
            }
            Some(cols) => cols.push(line.trim_end_matches(',').to_string()),
            None => {
                out.push(line.to_string());
                if line.starts_with("CREATE TABLE ") && line.ends_with(" (") {
                    block = Some(Vec::new());
                }
            }
        }
    }
    out.join("\n")
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
/// `fx_` prefix and the `_canon` / `_fresh` suffixes, and distinct between cases that share a
/// long prefix (they run in parallel).
fn db_name(case: &str) -> String {
    if case.len() <= 50 {
        return case.to_string();
    }
    // FNV-1a of the whole name.
    let hash = case.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let cut = (0..=41)
        .rev()
        .find(|&i| case.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}_{:08x}", &case[..cut], hash as u32)
}

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(workspace().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn main() {
    let args = Arguments::from_args();
    let cases = cases();
    let filtered = !std::env::var("RETORT_FIXTURES")
        .unwrap_or_default()
        .is_empty();
    let count = cases.len();
    let mut trials = vec![Trial::test("corpus_is_complete", move || {
        if !filtered && count < 12 {
            return Err(format!("expected at least 12 fixtures, found {count}").into());
        }
        Ok(())
    })];
    trials.extend(cases.into_iter().map(|case| {
        Trial::test(case.name.clone(), move || {
            std::panic::catch_unwind(|| round_trip(&case)).map_err(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".into());
                Failed::from(msg)
            })
        })
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn round_trip(case: &Case) {
    {
        let db = TestDb::create(&format!("fx_{}", db_name(&case.name))).unwrap();
        exec(&db, &case.before, "before.sql", &case.name);
        let before = introspect(&db, &case.scope);
        let before_dump = dump_ignoring_column_order(&db.url);
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
                renames: Vec::new(),
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
            let mut settings = snapshot_settings();
            let sql = if case.sql.is_some() {
                format!(" and {}/objects.sql", case.rel)
            } else {
                String::new()
            };
            settings.set_description(format!(
                "{}: {}/models.rs{sql} against {}/before.sql",
                case.name, case.rel, case.rel
            ));
            settings.bind(|| {
                insta::assert_snapshot!(format!("{}__up", case.name), g.up);
                insta::assert_snapshot!(format!("{}__down", case.name), g.down);
            });
        }

        // 1b. The same changes written `--online` lint clean: no error-level finding but the
        // drops of tables and columns the models removed (their intent).
        let online = retort_render::RenderOptions {
            online: true,
            ..case.render.clone()
        };
        let online_up = retort_render::plan(&g.changes, &online);
        let online_down =
            retort_render::plan_inverse(&retort_differ::inverse(&g.changes), &online_up, &online);
        assert_eq!(
            online_up.step_count(),
            online_down.step_count(),
            "{}: down.sql mirrors up.sql's steps",
            case.name
        );
        let errors: Vec<String> = retort_lint::lint(&online_up.body())
            .into_iter()
            .filter(|f| {
                f.severity == retort_lint::Severity::Error
                    && f.rule != retort_lint::DROP_TABLE.id
                    && f.rule != retort_lint::DROP_COLUMN.id
            })
            .map(|f| format!("line {}: {} {}", f.line, f.rule, f.message))
            .collect();
        assert!(
            errors.is_empty(),
            "{}: the --online migration has lint errors:\n{}\n{}",
            case.name,
            errors.join("\n"),
            online_up.body()
        );

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

        // 3. Apply up; autogenerate again (hints still present) must find nothing. Labels
        // that later statements use are committed first: by a step of their own.
        apply(&db, &g.up_plan, "up.sql", &case.name);
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
        apply(&fresh, &from_empty.up_plan, "models-only up", &case.name);
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
        apply(&db, &g.down_plan, "down.sql", &case.name);
        let restored = introspect(&db, &case.scope);
        assert_eq!(
            sorted_columns(restored.clone()),
            sorted_columns(before.clone()),
            "{}: down did not restore the starting schema",
            case.name
        );
        assert_column_order_restored(&case.name, &before, &restored, &g.changes);
        // pg_dump, an oracle we did not write, must agree too.
        assert_eq!(
            dump_ignoring_column_order(&db.url),
            before_dump,
            "{}: pg_dump differs after down",
            case.name
        );
    }
}
