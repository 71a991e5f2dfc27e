//! `retort import` on real PostgreSQL. The round-trip law, for every `fixtures/<case>/`: load a
//! state of the case into a fresh database, introspect it, write native models, read them back,
//! and (a) autogenerate between them and the database finds nothing, (b) a database built from
//! the imported models alone has the same `pg_dump -s`. The states are `before.sql` and, for
//! cases with models, the database those models build. Then the `retort import` command itself.

mod common;
#[path = "common/round_trip.rs"]
mod round_trip;

use common::{retort, Project};
use retort::generate;
use retort_schema::{Catalog, NamingConvention, Scope};
use retort_testkit::TestDb;
use round_trip::{check_state, workspace, Setting};
use std::path::PathBuf;

struct Case {
    name: String,
    before: String,
    models: Option<String>,
    scope: Scope,
    naming: NamingConvention,
    setup: String,
}

fn cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("before.sql").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let mut case = Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                before: std::fs::read_to_string(dir.join("before.sql")).unwrap(),
                // The state the models build, for cases whose models alone build it (an
                // `objects.sql` of functions the models call is left to the fixture corpus).
                models: std::fs::read_to_string(dir.join("models.rs"))
                    .ok()
                    .filter(|_| !dir.join("objects.sql").is_file()),
                scope: Scope::default(),
                naming: NamingConvention::default(),
                setup: String::new(),
            };
            if let Ok(text) = std::fs::read_to_string(dir.join("case.toml")) {
                let v: toml::Table = toml::from_str(&text).unwrap();
                let list = |k: &str| -> Option<Vec<String>> {
                    v.get(k)?.as_array().map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                };
                if let Some(s) = list("schemas") {
                    case.scope.schemas = s;
                }
                if let Some(s) = list("include") {
                    case.scope.include = s;
                }
                if let Some(s) = list("exclude") {
                    case.scope.exclude = s;
                }
                if let Some(sql) = v.get("setup").and_then(|s| s.as_str()) {
                    case.setup = sql.to_string();
                }
                if let Some(n) = v.get("naming") {
                    case.naming = n.clone().try_into().unwrap();
                }
                // A no-false-positives case: its models describe before.sql, no other state.
                if v.get("expect_empty").and_then(|b| b.as_bool()) == Some(true) {
                    case.models = None;
                }
            }
            case
        })
        .collect()
}

/// Where the round trip is known not to hold, and why: (case, state, what differs).
const KNOWN: &[(&str, &str, &str, &str)] = &[
    (
        "column_types_unbounded",
        "before",
        "law (b): the domain public.email is not managed; the import says it must exist first",
        "SqlState(E42704)",
    ),
    (
        "naming_convention",
        "before",
        "law (a): [naming] renames every primary key with PostgreSQL's default name (noted)",
        "RENAME CONSTRAINT users_pkey TO pk_users",
    ),
    (
        "naming_convention",
        "before",
        "law (b): the same primary key name",
        "pg_dump",
    ),
    (
        "noop_equal_spellings",
        "before",
        "law (b): the IR keeps one spelling of equal defaults (5.0 is 5)",
        "pg_dump",
    ),
    (
        "noop_expressions_with_casts",
        "before",
        "law (b): the IR keeps the server's spelling of a check, not the nesting it was written with",
        "pg_dump",
    ),
    (
        "noop_idiomatic_sql",
        "before",
        "law (b): the IR keeps one spelling of equal defaults (CURRENT_TIMESTAMP is now())",
        "pg_dump",
    ),
    (
        "schema_exists_empty",
        "before",
        "law (b): an empty schema cannot be declared by models (noted)",
        "pg_dump",
    ),
    (
        "scope_unmanaged_tables_kept",
        "before",
        "law (b): tables outside the scope are not imported, by design",
        "pg_dump",
    ),
    (
        "import_unexpressible",
        "before",
        "law (a): a composite foreign key cannot be declared, a foreign key cannot be named",
        "RENAME CONSTRAINT my_own_fk_name",
    ),
    (
        "import_unexpressible",
        "before",
        "law (b): the exclusion constraint, view, sequence, function and trigger are not managed",
        "pg_dump",
    ),
    (
        "noop_serial_renamed_table",
        "before",
        "law (b): a serial keeps its old sequence name after a table rename; models do not name sequences",
        "pg_dump",
    ),
    (
        "seaorm_app",
        "after",
        "law (a): SeaORM names a foreign key, the native dialect cannot",
        "RENAME CONSTRAINT fk_payment_invoice",
    ),
    (
        "seaorm_app",
        "after",
        "law (b): the same foreign key name",
        "pg_dump",
    ),
];

fn known(case: &str, state: &str, failure: &str) -> bool {
    KNOWN
        .iter()
        .any(|(c, s, _, marker)| *c == case && *s == state && failure.contains(marker))
}

fn read_fixture_models(case: &Case, text: &str) -> Catalog {
    let opts = retort_model_reader::ReadOptions {
        default_schema: "public".into(),
        schemas: Some(case.scope.schemas.clone()),
    };
    let m = retort_model_reader::read_sources(&[("models.rs".into(), text.into())], &opts)
        .unwrap_or_else(|e| panic!("{}: models do not read: {e}", case.name));
    let mut catalog = case.scope.filter(m.catalog);
    case.naming.apply(&mut catalog);
    catalog
}

#[test]
fn imported_models_round_trip_every_fixture() {
    let cases = cases();
    assert!(cases.len() > 50, "expected the whole fixture corpus");
    let mut failures = Vec::new();
    let mut known_seen = 0;
    for case in &cases {
        let mut states = vec![("before", case.before.clone())];
        if let Some(text) = &case.models {
            // The database the case's models build: what an application has after `up`.
            let catalog = read_fixture_models(case, text);
            let up = generate(&Catalog::default(), &catalog, &case.scope).up;
            states.push(("after", format!("{}\n{up}", case.setup)));
        }
        for (state, sql) in states {
            let snapshot = matches!(
                (case.name.as_str(), state),
                ("import_everything", "before")
                    | ("import_unexpressible", "before")
                    | ("seaorm_app", "after")
            );
            let setting = Setting {
                scope: &case.scope,
                naming: &case.naming,
                setup: &case.setup,
            };
            let tag = format!("{}_{state}", case.name);
            let path = format!("fixtures/{}/imported.rs", case.name);
            for f in check_state(&tag, &path, &sql, &setting, snapshot) {
                if known(&case.name, state, &f) {
                    known_seen += 1;
                } else {
                    failures.push(format!("{} ({state}): {f}", case.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert_eq!(
        known_seen,
        KNOWN.len(),
        "a known difference no longer happens: remove it from KNOWN"
    );
}

#[test]
fn import_writes_models_and_refuses_to_overwrite() {
    let p = Project::new("import_cmd");
    let mut c = p.client();
    c.batch_execute(
        "CREATE TYPE mood AS ENUM ('ok', 'SAD');
         CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                             email text NOT NULL UNIQUE, mood mood);
         CREATE TABLE bookings (id bigint PRIMARY KEY, during tstzrange,
                                EXCLUDE USING gist (during WITH &&));
         CREATE VIEW v AS SELECT 1 AS x;",
    )
    .unwrap();
    let o = p.ok(&["import"]);
    assert!(
        o.stdout
            .contains("wrote src/models.rs: 2 table(s), 1 enum type(s) from schema(s) public"),
        "{o}"
    );
    assert!(o.stdout.contains("exclusion constraint"), "{o}");
    // The view goes to an SQL declaration file, as the server prints it.
    assert!(o.stdout.contains("wrote db/objects.sql: 1 view(s)"), "{o}");
    assert!(o.stdout.contains("sql = [\"db/objects.sql\"]"), "{o}");
    assert!(
        o.stdout
            .contains("the models describe the database exactly"),
        "{o}"
    );
    let models = p.read("src/models.rs");
    assert!(models.contains("pub struct Users {"), "{models}");
    assert!(models.contains("#[db_enum(rename = \"SAD\")]"), "{models}");
    assert!(!models.contains("view public.v"), "{models}");
    let sql = p.read("db/objects.sql");
    assert!(
        sql.contains("CREATE VIEW public.v AS\n SELECT 1 AS x;"),
        "{sql}"
    );

    // The imported models are the project's models now: nothing to autogenerate, with the
    // SQL file declared (the view is then managed) and without it (left alone).
    let o = p.ok(&["diff"]);
    assert!(
        !o.stdout.contains("CREATE") && !o.stdout.contains("DROP"),
        "{o}"
    );
    let toml = p.read("retort.toml").replace(
        "paths = [\"src/models.rs\"]",
        "paths = [\"src/models.rs\"]\nsql = [\"db/objects.sql\"]",
    );
    p.write("retort.toml", &toml);
    let o = p.ok(&["diff"]);
    assert!(
        !o.stdout.contains("CREATE") && !o.stdout.contains("DROP"),
        "{o}"
    );

    // A second import refuses to overwrite, and says how.
    p.write("src/models.rs", "// my edits\n");
    let o = p.fails(2, &["import"]);
    assert!(o.stderr.contains("src/models.rs already exists"), "{o}");
    assert!(o.stderr.contains("--force"), "{o}");
    assert_eq!(p.read("src/models.rs"), "// my edits\n");
    let o = p.ok(&["import", "--force"]);
    assert!(o.stdout.contains("wrote src/models.rs"), "{o}");
    assert!(p.read("src/models.rs").contains("pub struct Users {"));

    // Elsewhere, and for a schema of its own.
    c.batch_execute("CREATE SCHEMA app; CREATE TABLE app.things (id integer PRIMARY KEY);")
        .unwrap();
    let o = p.ok(&["import", "--out", "other/app.rs", "--schema", "app"]);
    assert!(o.stdout.contains("1 table(s)"), "{o}");
    assert!(o.stdout.contains("not matched by [models] paths"), "{o}");
    let app = p.read("other/app.rs");
    assert!(app.contains("pub struct Things {"), "{app}");
    assert!(!app.contains("#[table(schema"), "{app}");
}

#[test]
fn import_works_outside_a_project_with_a_database_url() {
    let db = TestDb::create("wf_import_bare").unwrap();
    db.connect()
        .unwrap()
        .batch_execute("CREATE TABLE t (id integer PRIMARY KEY, note text);")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = retort(
        dir.path(),
        &[],
        &["import", "--database-url", &db.url, "--out", "models.rs"],
    );
    assert_eq!(o.code, 0, "{o}");
    let text = std::fs::read_to_string(dir.path().join("models.rs")).unwrap();
    assert!(text.contains("pub note: Option<String>,"), "{text}");
    assert!(
        !o.stdout.contains(&db.url) && !o.stderr.contains(&db.url),
        "{o}"
    );
}
