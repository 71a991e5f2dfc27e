//! The import round-trip law, shared by the fixture corpus (`import.rs`) and the real-schema corpus
//! (`real.rs`): import a database's models, then (a) they diff to nothing, (b) they rebuild it.
#![allow(dead_code)]

use retort::{generate, import};
use retort_schema::{Catalog, NamingConvention, Scope};
use retort_testkit::{pg_dump_schema, TestDb};
use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `sql` (several statements) on `db`; the error with the SQL, for a test's message.
pub fn exec(db: &TestDb, sql: &str) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Ok(());
    }
    let mut client = db.connect().unwrap();
    client
        .batch_execute(sql)
        .map_err(|e| format!("{e:?}\n--- sql ---\n{sql}"))
}

/// What a database is imported with: the scope and naming of its project, and the SQL a fresh
/// database needs first (extensions, domains).
pub struct Setting<'a> {
    pub scope: &'a Scope,
    pub naming: &'a NamingConvention,
    pub setup: &'a str,
}

/// One database state, loaded from `sql`, imported and checked; the failures found (all of
/// them). `tag` names the databases and the snapshot (`import__{tag}`, written when `snapshot`);
/// `path` is the file the imported models are reported as.
pub fn check_state(
    tag: &str,
    path: &str,
    sql: &str,
    setting: &Setting,
    snapshot: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    let db = TestDb::create(&format!("im_{tag}")).unwrap();
    if let Err(e) = exec(&db, sql) {
        return vec![format!("loading the state failed: {e}")];
    }
    let mut client = db.connect().unwrap();
    let (introspected, written, _) =
        import::write(&mut client, setting.scope, setting.naming, Vec::new()).unwrap();
    if snapshot {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(workspace().join("snapshots"));
        s.set_prepend_module_to_snapshot(false);
        s.set_omit_expression(true);
        s.bind(|| insta::assert_snapshot!(format!("import__{tag}"), written.source));
    }
    let models = match import::read_back(path, &written, setting.scope, setting.naming) {
        Ok(m) => m,
        Err(e) => return vec![format!("{e:#}\n--- written ---\n{}", written.source)],
    };

    // (a) The imported models, canonicalised as the CLI does, diff to nothing.
    let scratch = TestDb::create(&format!("im_{tag}_canon")).unwrap();
    exec(&scratch, setting.setup).unwrap();
    let canonical = retort::canon::canonicalize(
        &mut scratch.connect().unwrap(),
        &models.catalog,
        &models.origins,
        setting.scope,
    );
    drop(scratch);
    let mut canonical = match canonical {
        Ok(c) => c,
        Err(e) => return vec![format!("canonicalising the imported models: {e:#}")],
    };
    // Views, functions and triggers are not Rust models: import writes them to an SQL
    // declaration file, which declares them as they are.
    retort_schema::object::keep_unmanaged(&mut canonical, &introspected, |_| false);
    let g = generate(&introspected, &canonical, setting.scope);
    if !g.is_empty() {
        failures.push(format!(
            "law (a): autogenerate against the imported models is not empty:\n{}\n--- written ---\n{}",
            g.up, written.source
        ));
    }

    // (b) A database built from the imported models alone dumps the same.
    let fresh = TestDb::create(&format!("im_{tag}_fresh")).unwrap();
    exec(&fresh, setting.setup).unwrap();
    let build = generate(&Catalog::default(), &canonical, setting.scope);
    match exec(&fresh, &build.up) {
        Err(e) => failures.push(format!("law (b): building from the models failed: {e}")),
        Ok(()) => {
            let original = pg_dump_schema(&db.url).unwrap();
            let rebuilt = pg_dump_schema(&fresh.url).unwrap();
            if original != rebuilt {
                failures.push(format!(
                    "law (b): pg_dump differs:\n{}",
                    line_diff(&original, &rebuilt)
                ));
            }
        }
    }
    failures
}

/// The lines only in `a` (-) and only in `b` (+), in order: enough to see what differs.
pub fn line_diff(a: &str, b: &str) -> String {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    let mut out = String::new();
    for l in &la {
        if !lb.contains(l) {
            out.push_str(&format!("- {l}\n"));
        }
    }
    for l in &lb {
        if !la.contains(l) {
            out.push_str(&format!("+ {l}\n"));
        }
    }
    if out.is_empty() {
        out.push_str("(same lines, other order)\n");
    }
    out
}
