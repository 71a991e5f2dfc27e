//! The safety guards of the `retort` binary on real PostgreSQL: nothing runs, drops or leaks by
//! surprise (injection through model strings, empty or mis-scoped models, mass drops, passwords
//! in messages, invalid indexes, naming templates).

mod common;

use common::*;

const TWO_TABLES: &str = r#"
#[derive(Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
}

#[derive(Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    pub title: String,
}
"#;

const POSTS_ONLY: &str = r#"
#[derive(Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    pub title: String,
}
"#;

fn role_exists(p: &Project, role: &str) -> bool {
    p.client()
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&role])
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[test]
fn an_injected_index_method_never_runs() {
    let p = Project::new("inject_method");
    p.client()
        .batch_execute("CREATE TABLE t (id bigint PRIMARY KEY, b integer CHECK (b > 0))")
        .unwrap();
    p.models(
        r#"
#[derive(Table)]
#[table(name = "t")]
#[index(columns(b), method = "btree (b); CREATE ROLE retort_injected; --")]
pub struct T {
    #[column(primary_key)]
    pub id: i64,
    #[column(check = "b > 0")]
    pub b: Option<i32>,
}
"#,
    );
    for args in [
        &["diff"][..],
        &["check", "--live"],
        &["revision", "--autogenerate", "-m", "x"],
    ] {
        let o = p.run(args);
        assert_ne!(o.code, 0, "retort {args:?}:\n{o}");
        assert!(
            !role_exists(&p, "retort_injected"),
            "retort {args:?} ran the injected SQL:\n{o}"
        );
    }
    // Nothing was written that `upgrade` could run.
    assert!(p.migration_entries().iter().all(|e| e == "retort.sum"));
}

#[test]
fn models_that_declare_nothing_never_drop_the_database() {
    let p = Project::new("zero_models");
    p.client()
        .batch_execute("CREATE TABLE a (id int); CREATE TABLE b (id int)")
        .unwrap();
    // Ordinary code that `[models] paths` happens to match: no table declared.
    p.models("pub struct Config {\n    pub port: u16,\n}\n\npub fn main() {}\n");
    for args in [
        &["diff"][..],
        &["revision", "--autogenerate", "-m", "oops"],
        &["check", "--live"],
    ] {
        let o = p.fails(2, args);
        assert!(o.stderr.contains("the models declare no table"), "{o}");
        assert!(o.stderr.contains("2 table(s) in scope"), "{o}");
        assert!(o.stderr.contains("matched 1 file(s)"), "{o}");
        assert!(o.stderr.contains("src/models.rs"), "{o}");
    }
    assert!(
        p.migration_entries().is_empty(),
        "{:?}",
        p.migration_entries()
    );
    let o = p.fails(2, &["revision", "--baseline", "-m", "baseline"]);
    assert!(o.stderr.contains("the models declare no table"), "{o}");
}

#[test]
fn a_migration_dropping_most_tables_needs_allow_mass_drop() {
    let p = Project::new("mass_drop");
    p.client()
        .batch_execute("CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL); CREATE TABLE posts (id bigint PRIMARY KEY, title text NOT NULL); CREATE TABLE tags (id int)")
        .unwrap();
    p.models(POSTS_ONLY);
    let o = p.fails(2, &["revision", "--autogenerate", "-m", "drop two"]);
    assert!(
        o.stderr
            .contains("refusing to drop 2 of the 3 managed table(s)"),
        "{o}"
    );
    assert!(o.stderr.contains("--allow-mass-drop"), "{o}");
    assert!(p.migration_entries().is_empty());
    p.fails(2, &["diff"]);
    let o = p.ok(&[
        "revision",
        "--autogenerate",
        "-m",
        "drop two",
        "--allow-mass-drop",
    ]);
    assert!(o.stdout.contains("DROP TABLE public.users"), "{o}");
    // Dropping half or fewer needs no flag.
    let p = Project::new("half_drop");
    p.client()
        .batch_execute("CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL); CREATE TABLE posts (id bigint PRIMARY KEY, title text NOT NULL)")
        .unwrap();
    p.models(POSTS_ONLY);
    p.ok(&["diff"]);
    p.models(TWO_TABLES);
    p.ok(&["diff"]);
}

/// A password with every character that breaks naive URL redaction.
const PASSWORD: &str = "p@ss/w:o#r?d'x";

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn assert_no_password(o: &Out, context: &str) {
    for piece in [
        PASSWORD,
        "p@ss",
        "ss/w",
        "w:o",
        "r?d",
        "d'x",
        &percent(PASSWORD),
    ] {
        assert!(
            !o.stdout.contains(piece) && !o.stderr.contains(piece),
            "{context}: {piece:?} printed:\n{o}"
        );
    }
}

#[test]
fn passwords_never_reach_the_terminal() {
    let p = Project::new("redact");
    p.models(POSTS_ONLY);
    p.ok(&["revision", "-m", "empty"]);
    // Nothing listens on port 1; every form carries the password.
    let urls = [
        format!("postgres://u:{PASSWORD}@127.0.0.1:1/app"),
        format!("postgres://u:{}@127.0.0.1:1/app", percent(PASSWORD)),
        format!(
            "postgres://u@127.0.0.1:1/app?password={}",
            percent(PASSWORD)
        ),
        format!("postgres://u@127.0.0.1:1/app?connect_timeout=2&password={PASSWORD}"),
        format!(
            "host=127.0.0.1 port=1 user=u password='{}' dbname=app",
            PASSWORD.replace('\'', "\\'")
        ),
    ];
    let commands: &[&[&str]] = &[
        &["current"],
        &["upgrade", "head"],
        &["upgrade", "head", "--sql"],
        &["downgrade", "-1"],
        &["stamp", "head"],
        &["diff"],
        &["check"],
        &["check", "--live"],
        &["verify"],
        &["revision", "--autogenerate", "-m", "x"],
        &["inspect"],
    ];
    for url in &urls {
        for args in commands {
            let o = retort(p.dir.path(), &[("DATABASE_URL", url)], args);
            assert_ne!(o.code, 0, "retort {args:?} with {url}:\n{o}");
            assert_no_password(&o, &format!("DATABASE_URL, retort {args:?}"));
            let mut with_flag = vec!["--database-url", url.as_str()];
            with_flag.extend_from_slice(args);
            let o = retort(p.dir.path(), &[], &with_flag);
            assert_no_password(&o, &format!("--database-url, retort {args:?}"));
        }
    }
    // In retort.toml, also when the file does not parse (the error quotes the line).
    p.write(
        "retort.toml",
        &RETORT_TOML.replace(
            "${DATABASE_URL}",
            &format!("postgres://u:{PASSWORD}@127.0.0.1:1/app"),
        ),
    );
    let o = retort(p.dir.path(), &[], &["current"]);
    assert_ne!(o.code, 0, "{o}");
    assert_no_password(&o, "retort.toml url");
    p.write(
        "retort.toml",
        &format!("[database]\nurl = \"postgres://u:{PASSWORD}@127.0.0.1:1/app\" junk\n"),
    );
    let o = retort(p.dir.path(), &[], &["current"]);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("retort.toml"), "{o}");
    assert_no_password(&o, "retort.toml parse error");
}

#[test]
fn an_index_left_invalid_by_a_failed_concurrent_build_is_rebuilt() {
    let p = Project::new("invalid_index");
    p.models(
        r#"
#[derive(Table)]
#[table(name = "t")]
#[index(columns(email), name = "t_email_idx")]
pub struct T {
    #[column(primary_key)]
    pub id: i64,
    pub email: String,
}
"#,
    );
    p.ok(&["revision", "--autogenerate", "-m", "t"]);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check", "--live"]);
    // What a crash in the middle of CREATE INDEX CONCURRENTLY leaves: an INVALID index.
    let mut c = p.client();
    c.batch_execute("INSERT INTO t VALUES (1, 'a'), (2, 'a'); DROP INDEX t_email_idx")
        .unwrap();
    assert!(c
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY t_email_idx ON t (email)")
        .is_err());
    // Done by hand, not by a migration: drift (exit 4), and what would repair it.
    let o = p.fails(4, &["check", "--live"]);
    assert!(o.stdout.contains("drifted"), "{o}");
    assert!(o.stdout.contains("DROP INDEX public.t_email_idx"), "{o}");
    assert!(o.stdout.contains("CREATE INDEX t_email_idx"), "{o}");
    let o = p.ok(&["diff"]);
    let drop = o
        .stdout
        .find("DROP INDEX public.t_email_idx;")
        .expect("drop");
    let create = o
        .stdout
        .find("CREATE INDEX t_email_idx ON public.t")
        .expect("create");
    assert!(drop < create, "{o}");
}

#[test]
fn naming_templates_with_unknown_tokens_are_refused() {
    let p = Project::new("naming_token");
    p.models(POSTS_ONLY);
    p.append(
        "retort.toml",
        "[naming]\nuq = \"uq_%(table)s_%(column_0_name)s\"\n",
    );
    let o = p.fails(2, &["diff"]);
    assert!(o.stderr.contains("unknown token %(table)s"), "{o}");
    p.write(
        "retort.toml",
        &format!("{RETORT_TOML}[naming]\nck = \"ck_%(table_name)s_%(constraint_name)s\"\n"),
    );
    p.models(
        r#"
#[derive(Table)]
#[table(name = "posts")]
#[check(name = "positive", expr = "id > 0")]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
}
"#,
    );
    let o = p.ok(&["diff"]);
    assert!(
        o.stdout.contains("CONSTRAINT ck_posts_positive CHECK"),
        "{o}"
    );
}

#[test]
fn a_model_expression_the_server_rejects_points_at_the_field() {
    let p = Project::new("default_subquery");
    p.models(
        r#"
#[derive(Table)]
#[table(name = "t")]
pub struct T {
    #[column(primary_key)]
    pub id: i64,
    #[column(default = "(SELECT 1)")]
    pub n: i32,
}
"#,
    );
    let o = p.fails(2, &["diff"]);
    assert!(o.stderr.contains("src/models.rs:8:"), "{o}");
    assert!(
        o.stderr
            .contains("n integer NOT NULL DEFAULT (select 1)  <-- here"),
        "{o}"
    );
    assert!(
        o.stderr
            .contains("ERROR: cannot use subquery in DEFAULT expression (SQLSTATE 0A000)"),
        "{o}"
    );
    assert!(!o.stderr.contains("db error"), "{o}");
    // The same model with a default PostgreSQL accepts only in parentheses works end to end.
    p.models(&POSTS_ONLY.replace(
        "pub title: String,",
        "#[column(default = \"true AND NOT false\")]\n    pub flag: bool,",
    ));
    p.ok(&["revision", "--autogenerate", "-m", "posts"]);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check", "--live"]);
}

#[test]
fn a_model_outside_the_scope_or_with_an_unknown_attribute_is_an_error_not_a_drop() {
    let p = Project::new("scope_typo");
    p.models(POSTS_ONLY);
    p.ok(&["revision", "--autogenerate", "-m", "posts"]);
    p.ok(&["upgrade", "head"]);
    // A misspelt schema would make the table vanish from the models and be proposed for DROP.
    p.models(&POSTS_ONLY.replace(
        "#[table(name = \"posts\")]",
        "#[table(name = \"posts\", schema = \"pubilc\")]",
    ));
    let o = p.fails(2, &["diff"]);
    assert!(o.stderr.contains("src/models.rs:3:"), "{o}");
    assert!(o.stderr.contains("did you mean `public`"), "{o}");
    assert!(!o.stdout.contains("DROP TABLE"), "{o}");
    p.models(&POSTS_ONLY.replace(
        "#[table(name = \"posts\")]",
        "#[table(name = \"posts\")]\n#[foreign_key(columns(title))]",
    ));
    let o = p.fails(2, &["check", "--live"]);
    assert!(o.stderr.contains("src/models.rs:4:"), "{o}");
    assert!(o.stderr.contains("foreign_key"), "{o}");
}
