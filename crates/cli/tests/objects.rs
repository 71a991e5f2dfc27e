//! Views, functions and triggers through the CLI: declared in `[models] sql` files, migrated,
//! checked and changed; refused with `file:line`; left alone while the project declares none.

mod common;

use common::Project;

const TOML: &str = r#"[database]
url = "${DATABASE_URL}"
[models]
paths = ["src/models.rs"]
sql = ["db/*.sql"]
[migrations]
dir = "migrations"
[scope]
schemas = ["public"]
"#;

const MODELS: &str = r#"
#[derive(Table)]
#[table(name = "accounts")]
pub struct Account {
    #[column(primary_key, identity)]
    pub id: i64,
    pub email: String,
    #[column(default = "account_code()")]
    pub code: String,
    #[column(default = "now()")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}
"#;

fn objects(view_filter: &str) -> String {
    format!(
        "create function account_code() returns text language sql\n\
         as $$ select 'acc-' || md5(random()::text) $$;\n\
         \n\
         create function touch() returns trigger language plpgsql as $$\n\
         begin new.updated_at := now(); return new; end $$;\n\
         \n\
         create trigger accounts_touch before update on accounts\n\
         \x20 for each row execute function touch();\n\
         \n\
         create view active_accounts as select id, email from accounts where {view_filter};\n"
    )
}

fn project(name: &str) -> Project {
    let p = Project::bare(name);
    p.write("retort.toml", TOML);
    p.models(MODELS);
    std::fs::create_dir_all(p.path("db")).unwrap();
    p
}

#[test]
fn declared_objects_are_migrated_checked_and_changed() {
    let p = project("objects_flow");
    p.write("db/objects.sql", &objects("email <> ''"));
    let o = p.ok_at(1, &["revision", "--autogenerate", "-m", "accounts"]);
    assert!(
        o.stdout
            .contains("CREATE OR REPLACE FUNCTION public.account_code()"),
        "{o}"
    );
    p.ok(&["upgrade", "head"]);
    assert!(p.exists("public.active_accounts"));
    // The trigger fires and the default calls the declared function.
    let mut c = p.client();
    c.batch_execute("INSERT INTO accounts (email) VALUES ('a@example.com')")
        .unwrap();
    let code: String = c
        .query_one("SELECT code FROM accounts", &[])
        .unwrap()
        .get(0);
    assert!(code.starts_with("acc-"), "{code}");
    let o = p.ok(&["check"]);
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    let o = p.ok(&["check", "--live"]);
    assert!(o.stdout.contains("models match the database"), "{o}");
    // Another spelling of the same view is no change.
    p.write(
        "db/objects.sql",
        &objects("(accounts.email <> ''::text)").replace("create view", "CREATE VIEW"),
    );
    p.ok(&["check", "--live"]);

    // A changed view is a change: dropped and created again; down restores the old one.
    p.write("db/objects.sql", &objects("email like '%@%'"));
    let o = p.fails(1, &["check", "--live"]);
    assert!(o.stdout.contains("DROP VIEW public.active_accounts"), "{o}");
    let o = p.ok_at(2, &["revision", "--autogenerate", "-m", "view"]);
    assert!(
        o.stdout.contains("CREATE VIEW public.active_accounts"),
        "{o}"
    );
    p.ok(&["upgrade", "head"]);
    p.ok(&["check", "--live"]);
    let def = |c: &mut postgres::Client| -> String {
        c.query_one("SELECT pg_get_viewdef('active_accounts'::regclass)", &[])
            .unwrap()
            .get(0)
    };
    assert!(def(&mut p.client()).contains("~~"), "LIKE after upgrade");
    p.ok(&["downgrade", "-1"]);
    assert!(
        def(&mut p.client()).contains("<> ''"),
        "the old view after downgrade"
    );
}

#[test]
fn a_rejected_statement_names_its_file_and_line() {
    let p = project("objects_error");
    p.write(
        "db/objects.sql",
        "create function account_code() returns text language sql\nas $$ select 'x' $$;\n\n\
         create view b as\n  selec id from accounts;\n",
    );
    let o = p.fails(2, &["diff"]);
    assert!(o.stderr.contains("db/objects.sql:5"), "{o}");
    assert!(o.stderr.contains("syntax error"), "{o}");
}

#[test]
fn objects_of_kinds_the_project_does_not_declare_are_left_alone() {
    let p = Project::new("objects_unmanaged");
    p.models(
        r#"
#[derive(Table)]
#[table(name = "people")]
pub struct Person {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
}
"#,
    );
    p.client()
        .batch_execute(
            "CREATE TABLE people (id bigint PRIMARY KEY, name text NOT NULL);
             CREATE VIEW people_names AS SELECT name FROM people;
             CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$;",
        )
        .unwrap();
    let o = p.ok(&["diff"]);
    assert!(!o.stdout.contains("DROP"), "{o}");
    // Opting in: the project manages views, and declares none.
    p.append("retort.toml", "[manage]\nviews = true\n");
    let o = p.ok(&["diff"]);
    assert!(o.stdout.contains("DROP VIEW public.people_names"), "{o}");
    assert!(o.stdout.contains("object loss"), "{o}");
    assert!(!o.stdout.contains("DROP FUNCTION"), "{o}");
}
