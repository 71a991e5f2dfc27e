//! What the models manage: SeaORM entities of an existing database leave its indexes, checks,
//! defaults, deferrability and comments alone; `[manage]` in retort.toml brings them back.

mod common;

use common::{Project, RETORT_TOML};

/// A database made by hand (or by SeaORM migrations), with much the entities cannot say.
const EXISTING: &str = r#"
CREATE TABLE author (
    id serial PRIMARY KEY,
    name text NOT NULL,
    bio text
);
COMMENT ON TABLE author IS 'people who write';
COMMENT ON COLUMN author.name IS 'display name';
CREATE TABLE post (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id integer NOT NULL
        REFERENCES author (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    title varchar(200) NOT NULL,
    body text NOT NULL DEFAULT '',
    tags text[] NOT NULL DEFAULT '{}',
    published boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT post_title_not_blank CHECK (title <> '')
);
CREATE INDEX post_author_created ON post (author_id, created_at DESC);
CREATE INDEX post_published ON post (created_at) WHERE published;
CREATE INDEX post_tags ON post USING gin (tags);
CREATE UNIQUE INDEX post_lower_title ON post (lower(title));
"#;

/// The entities sea-orm-cli generates for it: columns, types, keys and relations, nothing else.
fn entities(author_name: &str, title_len: u32, extra_post_field: &str) -> String {
    format!(
        r#"pub mod author {{
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "author")]
    pub struct Model {{
        #[sea_orm(primary_key)]
        pub id: i32,
        {author_name}
        pub name: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub bio: Option<String>,
    }}

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {{
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }}

    impl ActiveModelBehavior for ActiveModel {{}}
}}

pub mod post {{
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "post")]
    pub struct Model {{
        #[sea_orm(primary_key)]
        pub id: i64,
        pub author_id: i32,
        #[sea_orm(column_type = "String(StringLen::N({title_len}))")]
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        #[sea_orm(column_type = "Array(RcOrArc::new(ColumnType::Text))")]
        pub tags: Vec<String>,
        pub published: bool,
        pub created_at: DateTimeWithTimeZone,
        {extra_post_field}
    }}

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {{
        #[sea_orm(
            belongs_to = "super::author::Entity",
            from = "Column::AuthorId",
            to = "super::author::Column::Id",
            on_update = "NoAction",
            on_delete = "Cascade"
        )]
        Author,
    }}

    impl ActiveModelBehavior for ActiveModel {{}}
}}
"#
    )
}

fn existing(name: &str) -> Project {
    let p = Project::new(name);
    p.client().batch_execute(EXISTING).unwrap();
    // `name` is text in the database: the entity says so.
    p.models(&entities(r#"#[sea_orm(column_type = "Text")]"#, 200, ""));
    p
}

#[test]
fn seaorm_entities_leave_what_they_cannot_say_to_the_database() {
    let p = existing("seaorm_adopt");
    let o = p.ok(&["diff"]);
    assert_eq!(
        o.stdout, "no changes: the database matches the models\n",
        "{o}"
    );
    let o = p.ok(&["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["changes"], serde_json::json!([]), "{o}");
    let o = p.ok(&["check", "--live"]);
    assert!(o.stdout.contains("models match the database"), "{o}");
    // Adopting it: a baseline of the entities, stamped after verification, although the database
    // has much the baseline does not.
    p.ok_at(1, &["revision", "--baseline", "-m", "baseline"]);
    let o = p.ok(&["stamp", "head", "--verify"]);
    assert!(o.stdout.contains("verified"), "{o}");
    let o = p.ok(&["check"]);
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );

    // What the entities do declare still diffs: a type, a new column, `unique`.
    p.models(&entities(
        r#"#[sea_orm(column_type = "Text", unique)]"#,
        300,
        "pub subtitle: Option<String>,",
    ));
    let o = p.ok(&["diff"]);
    assert_eq!(
        o.stdout,
        "ALTER TABLE public.post ADD COLUMN subtitle varchar;\n\n\
         ALTER TABLE public.post ALTER COLUMN title TYPE varchar(300);\n\n\
         ALTER TABLE public.author ADD CONSTRAINT author_name_key UNIQUE (name);\n",
        "{o}"
    );
    let o = p.fails(1, &["check", "--live"]);
    assert!(o.stdout.contains("3 change(s)"), "{o}");
    assert!(
        o.stdout
            .contains("ADD COLUMN subtitle varchar (declared differently)"),
        "{o}"
    );
    assert!(!o.stdout.contains("not declared in the models"), "{o}");

    // Applied, the database keeps everything the entities never mention.
    p.ok_at(2, &["revision", "--autogenerate", "-m", "subtitle"]);
    p.ok(&["upgrade", "head"]);
    for index in [
        "post_author_created",
        "post_published",
        "post_tags",
        "post_lower_title",
    ] {
        assert!(p.exists(&format!("public.{index}")), "{index}");
    }
    let o = p.ok(&["diff"]);
    assert_eq!(
        o.stdout, "no changes: the database matches the models\n",
        "{o}"
    );
    let schema = p.schema();
    let post = schema
        .table(&retort_schema::QualName::new("public", "post"))
        .unwrap();
    assert_eq!(post.checks.len(), 1);
    assert_eq!(
        post.foreign_keys[0].deferrable,
        retort_schema::Deferrable::InitiallyDeferred
    );
    assert_eq!(post.column("body").unwrap().default.as_deref(), Some("''"));

    // Dropping a column drops its unmanaged GIN index with it, without naming it: the migration
    // also replays where the index never existed (the baseline, in `check`).
    let without_tags = entities(
        r#"#[sea_orm(column_type = "Text", unique)]"#,
        300,
        "pub subtitle: Option<String>,",
    )
    .replace(
        "        #[sea_orm(column_type = \"Array(RcOrArc::new(ColumnType::Text))\")]\n        \
         pub tags: Vec<String>,\n",
        "",
    );
    assert!(!without_tags.contains("tags"));
    p.models(&without_tags);
    p.ok_at(3, &["revision", "--autogenerate", "-m", "no tags"]);
    let up = p.read("migrations/20260101_000003_no_tags/up.sql");
    assert!(
        up.contains("ALTER TABLE public.post DROP COLUMN tags;"),
        "{up}"
    );
    assert!(!up.contains("post_tags"), "{up}");
    p.ok(&["upgrade", "head"]);
    assert!(!p.exists("public.post_tags"));
    let o = p.ok(&["check"]);
    assert!(
        o.stdout.contains("models match what the migrations build"),
        "{o}"
    );
    p.ok(&["check", "--live"]);
}

#[test]
fn manage_in_retort_toml_brings_the_drops_back() {
    let p = existing("seaorm_manage");
    p.write(
        "retort.toml",
        &format!("{RETORT_TOML}[manage]\nindexes = true\nchecks = true\n"),
    );
    let o = p.ok(&["diff"]);
    for index in [
        "post_author_created",
        "post_published",
        "post_tags",
        "post_lower_title",
    ] {
        assert!(
            o.stdout.contains(&format!("DROP INDEX public.{index};")),
            "{index}\n{o}"
        );
        assert!(
            o.stdout.contains(&format!(
                "--   DROP INDEX public.{index} (not declared in the models)"
            )),
            "{index}\n{o}"
        );
    }
    assert!(o.stdout.contains("-- WARNING (index loss)"), "{o}");
    assert!(
        o.stdout
            .contains("DROP CONSTRAINT post_title_not_blank (not declared in the models)"),
        "{o}"
    );
    assert!(
        o.stdout
            .starts_with("-- 5 change(s) remove what the models do not declare"),
        "{o}"
    );
    // Defaults, comments and deferrability stay unmanaged.
    assert!(!o.stdout.contains("DEFAULT"), "{o}");
    assert!(!o.stdout.contains("COMMENT"), "{o}");
    assert!(!o.stdout.contains("post_author_id_fkey"), "{o}");

    let o = p.ok(&["diff", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 5, "{o}");
    assert!(
        changes.iter().all(|c| c["in_models"] == "not_declared"),
        "{o}"
    );

    let o = p.fails(1, &["check", "--live", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().all(|c| c["in_models"] == "not_declared"),
        "{o}"
    );

    let o = p.ok_at(1, &["revision", "--autogenerate", "-m", "drop extras"]);
    assert!(
        o.stdout
            .contains("  DROP INDEX public.post_tags (not declared in the models)\n"),
        "{o}"
    );

    // `all = true`: the entities are the whole truth, down to the defaults and comments.
    p.write(
        "retort.toml",
        &format!("{RETORT_TOML}[manage]\nall = true\n"),
    );
    let o = p.ok(&["diff"]);
    assert!(o.stdout.contains("ALTER COLUMN body DROP DEFAULT"), "{o}");
    assert!(
        o.stdout.contains("COMMENT ON TABLE public.author IS NULL"),
        "{o}"
    );

    // Unknown keys are rejected.
    p.write(
        "retort.toml",
        &format!("{RETORT_TOML}[manage]\nindex = true\n"),
    );
    let o = p.fails(2, &["diff"]);
    assert!(o.stderr.contains("unknown field `index`"), "{o}");
}

#[test]
fn native_models_manage_everything_and_say_what_they_never_declared() {
    let p = Project::new("native_manage");
    p.client()
        .batch_execute(
            "CREATE TABLE users (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
             email text NOT NULL); CREATE INDEX users_email ON users (email);",
        )
        .unwrap();
    p.models(
        r#"#[derive(Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    pub email: String,
}
"#,
    );
    let o = p.ok(&["diff"]);
    assert_eq!(
        o.stdout,
        "-- 1 change(s) remove what the models do not declare (they are silent about it; see \
         [manage] in retort.toml):\n\
         --   DROP INDEX public.users_email (not declared in the models)\n\
         -- WARNING (index loss): drops index public.users_email: queries that used it get slower\n\
         DROP INDEX public.users_email;\n",
        "{o}"
    );
    let o = p.fails(1, &["check", "--live"]);
    assert!(
        o.stdout
            .contains("DROP INDEX public.users_email (not declared in the models)"),
        "{o}"
    );
    // Opting out keeps it.
    p.write(
        "retort.toml",
        &format!("{RETORT_TOML}[manage]\nindexes = false\n"),
    );
    let o = p.ok(&["diff"]);
    assert_eq!(
        o.stdout, "no changes: the database matches the models\n",
        "{o}"
    );
}
