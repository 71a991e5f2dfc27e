//! The real-schema corpus (`fixtures/real/<name>/`): real applications' schemas, with the entities
//! `sea-orm-cli` generated from each, adopted as a new user would (diff, import, baseline + stamp).
//!
//! For each schema and each entity format (compact, expanded), on a database loaded from
//! `schema.sql`: `retort diff` proposes no DROP and no change the entities do not declare
//! differently; `retort revision --baseline` + `retort stamp head --verify` adopt it. Per schema,
//! the import round trip of `import.rs` holds (the imported models diff to nothing, and rebuild
//! the same `pg_dump -s`). What does not hold yet is listed in [`KNOWN`], each with its reason,
//! and must still fail: fixing one means removing it from the list.

mod common;
#[path = "common/round_trip.rs"]
mod round_trip;

use common::{Out, Project};
use retort_schema::{NamingConvention, Scope};
use round_trip::{check_state, workspace, Setting};
use std::path::Path;

/// What is known not to hold, and why: (schema, step, a marker the failure message contains,
/// reason). Steps: `compact` / `expanded` (diff and adoption with that format's entities),
/// `import` (the round trip).
const KNOWN: &[(&str, &str, &str, &str)] = &[
    ("chinook", "compact", "TYPE varchar", COMPACT_VARCHAR),
    ("northwind", "compact", "TYPE varchar", COMPACT_VARCHAR),
    ("pagila", "compact", "TYPE varchar", COMPACT_VARCHAR),
    ("quartz", "compact", "TYPE varchar", COMPACT_VARCHAR),
    ("temporal", "compact", "TYPE varchar", COMPACT_VARCHAR),
    (
        "pagila",
        "compact",
        "special_features TYPE varchar[]",
        "sea-orm-cli's compact format writes `text[]` as `Vec<String>`, which is SeaORM's \
         `varchar[]`: the entity declares another type",
    ),
    ("pagila", "compact", "release_year TYPE integer", DOMAIN),
    ("pagila", "expanded", "release_year TYPE integer", DOMAIN),
    (
        "quartz",
        "expanded",
        "qrtz_simprop_triggers",
        "sea-orm-cli writes the column `str_prop_1` as the variant `StrProp1` without \
         `column_name`, and SeaORM's DeriveColumn (heck's snake case) names that column \
         `str_prop1`: the expanded entity declares other columns than the database has, so \
         `diff` proposes to drop the eleven `*_prop_N` columns and add `*_propN` ones (a \
         sea-orm-cli bug; the compact format keeps the field's name)",
    ),
    (
        "northwind",
        "import",
        "RENAME CONSTRAINT fk_",
        "law (a): the native dialect cannot name a foreign key (import notes it), and \
         northwind's are named fk_*",
    ),
    (
        "northwind",
        "import",
        "law (b): pg_dump differs",
        "law (b): the same foreign key names",
    ),
    (
        "quartz",
        "import",
        "DROP CONSTRAINT qrtz_",
        "law (a): the native dialect cannot declare a composite foreign key (import notes it)",
    ),
    (
        "quartz",
        "import",
        "law (b): pg_dump differs",
        "law (b): the same composite foreign keys",
    ),
    (
        "pagila",
        "import",
        "law (b): building from the models failed",
        "law (b): the aggregate `group_concat`, which a view of the imported SQL file uses, is \
         not managed (nor are the partitions of `payment`)",
    ),
];

const COMPACT_VARCHAR: &str = "sea-orm-cli's compact format writes `varchar(n)` (and \
     `char(n)`) as a bare `String`, which is SeaORM's unsized `varchar`: `diff` proposes the widening the entities \
     declare, the baseline builds `varchar`, and `stamp --verify` rightly refuses (the expanded \
     format keeps the length)";

const DOMAIN: &str = "sea-orm-cli writes a column of the domain `year` as its base type \
     (`Integer`), and Retort does not know a domain's base type: the entity declares `integer`, \
     which would drop the domain's check";

const FORMATS: [&str; 2] = ["compact", "expanded"];

const RETORT_TOML: &str = r#"[database]
url = "${DATABASE_URL}"
[models]
paths = ["src/entities/**/*.rs"]
[migrations]
dir = "migrations"
[scope]
schemas = ["public"]
"#;

fn schema_sql(name: &str) -> String {
    let path = workspace()
        .join("fixtures/real")
        .join(name)
        .join("schema.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A seaorm project (models in `src/entities/`, as `retort init --dialect seaorm` writes) with the
/// generated entities of `format`, on a database loaded from the schema.
fn project(name: &str, format: &str) -> Project {
    let p = Project::bare(&format!("real_{name}_{format}"));
    p.write("retort.toml", RETORT_TOML);
    let from = workspace()
        .join("fixtures/real")
        .join(name)
        .join("entities")
        .join(format);
    copy_dir(&from, &p.path("src/entities"));
    p.client()
        .batch_execute(&schema_sql(name))
        .unwrap_or_else(|e| panic!("{name}: loading schema.sql: {e:?}"));
    p
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn failed(step: &str, o: &Out) -> String {
    format!("{step}: exit {}: {}{}", o.code, o.stderr, o.stdout)
}

/// `retort diff` with the generated entities: the changes that break the corpus's rule (a DROP,
/// or a change about something the entities do not declare).
fn diff_failures(p: &Project) -> Vec<String> {
    let o = p.run(&["diff", "--format", "json"]);
    if o.code != 0 {
        return vec![failed("diff", &o)];
    }
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("diff prints JSON");
    let mut failures = Vec::new();
    for change in v["changes"].as_array().expect("changes is an array") {
        let kind = change["change"].as_str().unwrap_or_default();
        if kind.starts_with("drop") {
            failures.push(format!("diff: proposes a drop: {change}"));
        } else if change["in_models"] != "declared_differently" {
            failures.push(format!(
                "diff: a change not declared in the entities: {change}"
            ));
        }
    }
    let up = v["up"].as_str().unwrap_or_default();
    if failures.is_empty() && up.lines().any(|l| l.contains("DROP ")) {
        failures.push(format!("diff: the SQL drops something:\n{up}"));
    }
    failures
}

/// Adopting the database: a baseline of the entities, stamped after verification.
fn adopt_failures(p: &Project) -> Vec<String> {
    let o = p.run_at(1, &["revision", "--baseline", "-m", "baseline"]);
    if o.code != 0 {
        return vec![failed("revision --baseline", &o)];
    }
    let o = p.run(&["stamp", "head", "--verify"]);
    if o.code == 0 && o.stdout.contains("verified") {
        return Vec::new();
    }
    // A refusal lists each difference on a line of its own: each is a failure of its own.
    let needed: Vec<String> = o
        .stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("needed: "))
        .map(|l| format!("stamp head --verify: needs {l}"))
        .collect();
    if needed.is_empty() {
        vec![failed("stamp head --verify", &o)]
    } else {
        needed
    }
}

/// The import round trip's failures, law (a)'s one statement each (law (b)'s `pg_dump`
/// difference stays whole: a function's body spans many lines).
fn import_failures(name: &str) -> Vec<String> {
    let scope = Scope::default();
    let naming = NamingConvention::default();
    let sql = schema_sql(name);
    let setup = setup_sql(&sql);
    let setting = Setting {
        scope: &scope,
        naming: &naming,
        setup: &setup,
    };
    let path = format!("fixtures/real/{name}/imported.rs");
    let mut out = Vec::new();
    for f in check_state(&format!("real_{name}"), &path, &sql, &setting, false) {
        match f.strip_prefix("law (a): autogenerate against the imported models is not empty:\n") {
            Some(rest) => {
                let up = rest.split("\n--- written ---").next().unwrap_or_default();
                out.extend(
                    up.lines()
                        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
                        .map(|l| format!("law (a): needs {l}")),
                );
            }
            None => out.push(f),
        }
    }
    out
}

/// What a fresh database needs before the imported models can be built in it: the schema's
/// extensions, domains and sequences of their own, which models do not declare.
fn setup_sql(sql: &str) -> String {
    sql.split(";\n")
        .map(|stmt| {
            stmt.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|stmt| {
            let s = stmt.trim_start().to_ascii_uppercase();
            ["CREATE DOMAIN", "CREATE EXTENSION", "CREATE SEQUENCE"]
                .iter()
                .any(|k| s.starts_with(k))
        })
        .map(|stmt| format!("{};\n", stmt.trim()))
        .collect()
}

/// Every step of one schema; panics listing the unexpected failures and the known entries that
/// no longer fail.
fn corpus(name: &str) {
    let mut failures: Vec<(String, String)> = Vec::new();
    for format in FORMATS {
        let p = project(name, format);
        for f in diff_failures(&p).into_iter().chain(adopt_failures(&p)) {
            failures.push((format.to_string(), f));
        }
    }
    for f in import_failures(name) {
        failures.push(("import".to_string(), f));
    }

    let known: Vec<_> = KNOWN.iter().filter(|k| k.0 == name).collect();
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(step, f)| !known.iter().any(|k| k.1 == step && f.contains(k.2)))
        .map(|(step, f)| format!("{name} ({step}): {f}"))
        .collect();
    let fixed: Vec<String> = known
        .iter()
        .filter(|k| {
            !failures
                .iter()
                .any(|(step, f)| k.1 == step && f.contains(k.2))
        })
        .map(|k| format!("{name} ({}): `{}` ({})", k.1, k.2, k.3))
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} unexpected failure(s):\n\n{}\n\n{} known failure(s) no longer happen: remove them \
         from KNOWN:\n{}",
        unexpected.len(),
        unexpected.join("\n\n"),
        fixed.len(),
        fixed.join("\n")
    );
}

#[test]
fn the_corpus_is_complete() {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("fixtures/real"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("schema.sql").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names, SCHEMAS,
        "each schema of fixtures/real has a test below"
    );
    for name in SCHEMAS {
        for format in FORMATS {
            let dir = workspace().join(format!("fixtures/real/{name}/entities/{format}"));
            assert!(dir.join("mod.rs").is_file(), "{}", dir.display());
        }
    }
    for (name, step, _, reason) in KNOWN {
        assert!(SCHEMAS.contains(name), "KNOWN names no schema: {name}");
        assert!(
            FORMATS.contains(step) || *step == "import",
            "KNOWN: unknown step {step}"
        );
        assert!(!reason.is_empty());
    }
}

const SCHEMAS: [&str; 5] = ["chinook", "northwind", "pagila", "quartz", "temporal"];

#[test]
fn chinook() {
    corpus("chinook");
}

#[test]
fn northwind() {
    corpus("northwind");
}

#[test]
fn pagila() {
    corpus("pagila");
}

#[test]
fn quartz() {
    corpus("quartz");
}

#[test]
fn temporal() {
    corpus("temporal");
}
