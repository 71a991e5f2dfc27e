//! Introspection against a real PostgreSQL: each test makes its own database, runs DDL and
//! checks the IR `retort_introspector::introspect` reads back (never a mocked catalog).

use retort_introspector::{introspect, queries_issued, server_version, QUERY_COUNT};
use retort_schema::{
    Catalog, Check, Column, ColumnType, Enum, FkAction, ForeignKey, Identity, Index, PrimaryKey,
    QualName, Scope, Table, Unique,
};
use retort_testkit::TestDb;

/// A fresh database with `ddl` applied, and a client connected to it.
fn db(name: &str, ddl: &str) -> (TestDb, postgres::Client) {
    let db = TestDb::create(name).expect("a test server (run `cargo xtask test`)");
    let mut client = db.connect().expect("connect to the test database");
    client.batch_execute(ddl).expect("test DDL");
    (db, client)
}

fn read(client: &mut postgres::Client, scope: &Scope) -> Catalog {
    introspect(client, scope).expect("introspect")
}

fn table<'a>(catalog: &'a Catalog, schema: &str, name: &str) -> &'a Table {
    catalog
        .table(&QualName::new(schema, name))
        .unwrap_or_else(|| panic!("table {schema}.{name} not found in {catalog:#?}"))
}

fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

fn not_null(mut c: Column) -> Column {
    c.nullable = false;
    c
}

fn index(name: &str, keys: &[&str]) -> Index {
    Index {
        name: name.into(),
        unique: false,
        keys: keys.iter().map(|k| k.to_string()).collect(),
        method: "btree".into(),
        include: Vec::new(),
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn column_types_are_read_into_typed_variants() {
    let (_db, mut client) = db(
        "introspect_column_types",
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
         CREATE TABLE t (
             a varchar(20),
             b numeric(10, 2),
             c timestamptz(3),
             d integer[],
             e mood,
             f mood[],
             g text NOT NULL,
             h numeric,
             i timestamp,
             j jsonb,
             k positive,
             l smallint,
             m bigint,
             n double precision,
             o uuid,
             p bytea,
             q char(2),
             r int4range,
             s varchar(5)[]
         );",
    );
    let catalog = read(&mut client, &Scope::default());
    let t = table(&catalog, "public", "t");
    let types: Vec<(&str, &ColumnType)> =
        t.columns.iter().map(|c| (c.name.as_str(), &c.ty)).collect();
    let mood = ColumnType::named("public", "mood");
    assert_eq!(
        types,
        vec![
            ("a", &ColumnType::Varchar { length: Some(20) }),
            (
                "b",
                &ColumnType::Numeric {
                    precision: Some(10),
                    scale: Some(2)
                }
            ),
            (
                "c",
                &ColumnType::Timestamp {
                    precision: Some(3),
                    tz: true
                }
            ),
            ("d", &ColumnType::array(ColumnType::Integer)),
            ("e", &mood),
            ("f", &ColumnType::array(mood.clone())),
            ("g", &ColumnType::Text),
            (
                "h",
                &ColumnType::Numeric {
                    precision: None,
                    scale: None
                }
            ),
            (
                "i",
                &ColumnType::Timestamp {
                    precision: None,
                    tz: false
                }
            ),
            ("j", &ColumnType::Jsonb),
            ("k", &ColumnType::named("public", "positive")),
            ("l", &ColumnType::SmallInt),
            ("m", &ColumnType::BigInt),
            ("n", &ColumnType::Double),
            ("o", &ColumnType::Uuid),
            ("p", &ColumnType::Bytea),
            ("q", &ColumnType::Char { length: Some(2) }),
            (
                "r",
                &ColumnType::Other {
                    sql: "int4range".into()
                }
            ),
            (
                "s",
                &ColumnType::array(ColumnType::Varchar { length: Some(5) })
            ),
        ]
    );
    assert!(!t.column("g").unwrap().nullable);
    assert!(t.column("a").unwrap().nullable);
    assert_eq!(
        catalog.enums().collect::<Vec<_>>(),
        vec![&Enum {
            name: QualName::new("public", "mood"),
            values: strings(&["happy", "sad"]),
        }]
    );
}

#[test]
fn dropped_columns_are_skipped_and_order_is_physical() {
    let (_db, mut client) = db(
        "introspect_dropped_columns",
        "CREATE TABLE t (z int, gone text, a int);
         ALTER TABLE t DROP COLUMN gone;
         ALTER TABLE t ADD COLUMN m int;",
    );
    let catalog = read(&mut client, &Scope::default());
    let names: Vec<&str> = table(&catalog, "public", "t")
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["z", "a", "m"]);
}

#[test]
fn defaults_identity_and_generated_columns() {
    let (_db, mut client) = db(
        "introspect_defaults",
        "CREATE TABLE items (
             id serial PRIMARY KEY,
             created_at timestamptz NOT NULL DEFAULT now(),
             label text DEFAULT 'x',
             code varchar(10) DEFAULT 'ab',
             qty integer NOT NULL DEFAULT 0,
             neg integer DEFAULT -1,
             active boolean NOT NULL DEFAULT false,
             price numeric(10, 2),
             total numeric GENERATED ALWAYS AS (price * qty) STORED,
             a bigint GENERATED ALWAYS AS IDENTITY,
             b bigint GENERATED BY DEFAULT AS IDENTITY
         );",
    );
    let catalog = read(&mut client, &Scope::default());
    let t = table(&catalog, "public", "items");
    let defaults: Vec<(&str, Option<&str>)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.default.as_deref()))
        .collect();
    assert_eq!(
        defaults,
        vec![
            // serial reads as a serial, without the sequence default.
            ("id", None),
            ("created_at", Some("now()")),
            ("label", Some("'x'")),
            ("code", Some("'ab'")),
            ("qty", Some("0")),
            ("neg", Some("-1")),
            ("active", Some("false")),
            ("price", None),
            ("total", None),
            ("a", None),
            ("b", None),
        ]
    );
    let total = t.column("total").unwrap();
    assert_eq!(total.generated.as_deref(), Some("price * qty::numeric"));
    assert_eq!(total.identity, None);
    assert_eq!(t.column("a").unwrap().identity, Some(Identity::Always));
    assert_eq!(t.column("b").unwrap().identity, Some(Identity::ByDefault));
    assert!(!t.column("a").unwrap().nullable);
    assert_eq!(t.column("id").unwrap().identity, Some(Identity::Serial));
    assert_eq!(t.column("id").unwrap().ty, ColumnType::Integer);
}

#[test]
fn constraints_are_read_whole() {
    let (_db, mut client) = db(
        "introspect_constraints",
        "CREATE TABLE teams (id integer PRIMARY KEY, code text NOT NULL UNIQUE);
         CREATE TABLE users (
             id bigint GENERATED ALWAYS AS IDENTITY,
             team_id integer NOT NULL,
             team_code text,
             email varchar(255) NOT NULL,
             org integer,
             age integer,
             CONSTRAINT users_pkey PRIMARY KEY (id),
             CONSTRAINT users_org_email_key UNIQUE NULLS NOT DISTINCT (org, email),
             CONSTRAINT ck_users_age CHECK (age >= 0 AND AGE < 200),
             CONSTRAINT users_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id)
                 ON DELETE CASCADE ON UPDATE SET NULL,
             CONSTRAINT users_team_code_fkey FOREIGN KEY (team_code) REFERENCES teams (code)
                 ON DELETE SET DEFAULT ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED
         );
         ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
         ALTER TABLE users ADD CONSTRAINT ck_email CHECK (email <> '') NOT VALID;
         COMMENT ON TABLE users IS 'People who log in';
         COMMENT ON COLUMN users.email IS 'Where we write';",
    );
    let catalog = read(&mut client, &Scope::default());
    let mut id = not_null(col("id", ColumnType::BigInt));
    id.identity = Some(Identity::Always);
    let mut email = not_null(col("email", ColumnType::Varchar { length: Some(255) }));
    email.comment = Some("Where we write".into());
    let expected = Table {
        name: QualName::new("public", "users"),
        columns: vec![
            id,
            not_null(col("team_id", ColumnType::Integer)),
            col("team_code", ColumnType::Text),
            email,
            col("org", ColumnType::Integer),
            col("age", ColumnType::Integer),
        ],
        primary_key: Some(PrimaryKey {
            name: "users_pkey".into(),
            columns: strings(&["id"]),
        }),
        uniques: vec![
            Unique {
                name: "users_email_key".into(),
                columns: strings(&["email"]),
                nulls_not_distinct: false,
            },
            Unique {
                name: "users_org_email_key".into(),
                columns: strings(&["org", "email"]),
                nulls_not_distinct: true,
            },
        ],
        checks: vec![
            Check {
                name: "ck_email".into(),
                expr: "email::text <> ''::text".into(),
            },
            Check {
                name: "ck_users_age".into(),
                expr: "age >= 0 and age < 200".into(),
            },
        ],
        foreign_keys: vec![
            ForeignKey {
                name: "users_team_code_fkey".into(),
                columns: strings(&["team_code"]),
                ref_table: QualName::new("public", "teams"),
                ref_columns: strings(&["code"]),
                on_delete: FkAction::SetDefault,
                on_update: FkAction::Restrict,
                deferrable: retort_schema::Deferrable::InitiallyDeferred,
                match_full: false,
            },
            ForeignKey {
                name: "users_team_id_fkey".into(),
                columns: strings(&["team_id"]),
                ref_table: QualName::new("public", "teams"),
                ref_columns: strings(&["id"]),
                on_delete: FkAction::Cascade,
                on_update: FkAction::SetNull,
                deferrable: retort_schema::Deferrable::NotDeferrable,
                match_full: false,
            },
        ],
        indexes: Vec::new(),
        comment: Some("People who log in".into()),
    };
    assert_eq!(table(&catalog, "public", "users"), &expected);
    let teams = table(&catalog, "public", "teams");
    assert_eq!(teams.uniques[0].name, "teams_code_key");
    assert!(
        teams.indexes.is_empty(),
        "constraint indexes are not listed"
    );
}

#[test]
fn an_index_left_by_a_failed_concurrent_build_reads_as_invalid() {
    let (_db, mut client) = db(
        "introspect_invalid_index",
        "CREATE TABLE t (id integer, email text, \"my col\" integer);
         INSERT INTO t VALUES (1, 'a', 1), (2, 'a', 2);
         CREATE INDEX t_spaces ON t (\"my col\" DESC);",
    );
    // Duplicates make the unique build fail after the index entry was created.
    let err = client
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY t_email_uq ON t (email)")
        .unwrap_err();
    assert!(
        err.to_string().contains("duplicate") || format!("{err:?}").contains("23505"),
        "{err:?}"
    );
    let catalog = read(&mut client, &Scope::default());
    let t = table(&catalog, "public", "t");
    assert_eq!(
        t.indexes,
        vec![
            Index {
                unique: true,
                invalid: true,
                nulls_not_distinct: false,
                ..index("t_email_uq", &["email"])
            },
            index("t_spaces", &["\"my col\" DESC"]),
        ]
    );
}

#[test]
fn indexes_of_every_shape() {
    let (_db, mut client) = db(
        "introspect_indexes",
        "CREATE TABLE docs (
             id integer PRIMARY KEY,
             email text NOT NULL,
             title varchar(200),
             created_at timestamptz,
             score integer,
             tags text[],
             body jsonb,
             deleted_at timestamptz
         );
         CREATE UNIQUE INDEX docs_email_live ON docs (email) WHERE deleted_at IS NULL;
         CREATE INDEX docs_lower_title ON docs (lower(title));
         CREATE INDEX docs_sum ON docs ((score + id));
         CREATE INDEX docs_recent ON docs (created_at DESC, score NULLS FIRST, id DESC NULLS LAST);
         CREATE INDEX docs_desc_nulls_first ON docs (score DESC NULLS FIRST);
         CREATE INDEX docs_cover ON docs (email) INCLUDE (title, score);
         CREATE INDEX docs_tags ON docs USING gin (tags);
         CREATE INDEX docs_body ON docs USING gin (body jsonb_path_ops);
         CREATE INDEX \"Docs Mixed\" ON docs (score) WHERE score > 10 AND title <> 'x';",
    );
    let catalog = read(&mut client, &Scope::default());
    let t = table(&catalog, "public", "docs");
    let expected = vec![
        Index {
            predicate: Some("score > 10 and title::text <> 'x'::text".into()),
            ..index("Docs Mixed", &["score"])
        },
        Index {
            method: "gin".into(),
            ..index("docs_body", &["body jsonb_path_ops"])
        },
        Index {
            include: strings(&["title", "score"]),
            ..index("docs_cover", &["email"])
        },
        index("docs_desc_nulls_first", &["score DESC"]),
        Index {
            unique: true,
            predicate: Some("deleted_at is null".into()),
            ..index("docs_email_live", &["email"])
        },
        index("docs_lower_title", &["(lower(title::text))"]),
        index(
            "docs_recent",
            &["created_at DESC", "score NULLS FIRST", "id DESC NULLS LAST"],
        ),
        index("docs_sum", &["(score + id)"]),
        Index {
            method: "gin".into(),
            ..index("docs_tags", &["tags"])
        },
    ];
    assert_eq!(t.indexes, expected);
}

#[test]
fn enums_and_cross_schema_foreign_keys() {
    let (_db, mut client) = db(
        "introspect_schemas",
        "CREATE SCHEMA app;
         CREATE SCHEMA other;
         CREATE TYPE app.status AS ENUM ('new', 'open', 'closed');
         ALTER TYPE app.status ADD VALUE 'draft' BEFORE 'new';
         CREATE TYPE app.unused AS ENUM ();
         CREATE TYPE other.hidden AS ENUM ('a');
         CREATE TABLE app.accounts (id integer PRIMARY KEY);
         CREATE TABLE public.orders (
             id integer PRIMARY KEY,
             account_id integer REFERENCES app.accounts (id),
             status app.status NOT NULL DEFAULT 'new',
             history app.status[]
         );
         CREATE TABLE other.secret (id integer);
         CREATE TABLE public.tmp_scratch (id integer);
         CREATE TABLE public.retort_version (version text);",
    );
    let scope = Scope {
        schemas: strings(&["public", "app"]),
        exclude: strings(&["tmp_*"]),
        ..Scope::default()
    };
    let catalog = read(&mut client, &scope);
    let schemas: Vec<&str> = catalog.schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(schemas, ["app", "public"]);
    let tables: Vec<String> = catalog.tables().map(|t| t.name.to_string()).collect();
    assert_eq!(tables, ["app.accounts", "public.orders"]);
    let enums: Vec<&Enum> = catalog.enums().collect();
    assert_eq!(
        enums,
        vec![
            &Enum {
                name: QualName::new("app", "status"),
                values: strings(&["draft", "new", "open", "closed"]),
            },
            &Enum {
                name: QualName::new("app", "unused"),
                values: Vec::new(),
            },
        ]
    );
    let status = ColumnType::named("app", "status");
    let mut status_col = not_null(col("status", status.clone()));
    status_col.default = Some("'new'".into());
    let expected = Table {
        name: QualName::new("public", "orders"),
        columns: vec![
            not_null(col("id", ColumnType::Integer)),
            col("account_id", ColumnType::Integer),
            status_col,
            col("history", ColumnType::array(status)),
        ],
        primary_key: Some(PrimaryKey {
            name: "orders_pkey".into(),
            columns: strings(&["id"]),
        }),
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: vec![ForeignKey {
            name: "orders_account_id_fkey".into(),
            columns: strings(&["account_id"]),
            ref_table: QualName::new("app", "accounts"),
            ref_columns: strings(&["id"]),
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
            deferrable: retort_schema::Deferrable::NotDeferrable,
            match_full: false,
        }],
        indexes: Vec::new(),
        comment: None,
    };
    assert_eq!(table(&catalog, "public", "orders"), &expected);
}

#[test]
fn extension_members_are_not_read() {
    let (_db, mut client) = db(
        "introspect_extension",
        "CREATE EXTENSION IF NOT EXISTS plpgsql;
         CREATE TABLE mine (id integer);
         CREATE TABLE ext_owned (id integer);
         CREATE TYPE ext_enum AS ENUM ('a');",
    );
    // Make the table and the enum members of an extension, the way an extension script would.
    client
        .batch_execute(
            "ALTER EXTENSION plpgsql ADD TABLE ext_owned;
             ALTER EXTENSION plpgsql ADD TYPE ext_enum;",
        )
        .expect("add members to the extension");
    let catalog = read(&mut client, &Scope::default());
    let tables: Vec<String> = catalog.tables().map(|t| t.name.to_string()).collect();
    assert_eq!(tables, ["public.mine"]);
    assert_eq!(catalog.enums().count(), 0);
}

#[test]
fn partitions_are_not_tables_of_their_own() {
    let (_db, mut client) = db(
        "introspect_partitions",
        "CREATE TABLE events (id integer NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
             PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events
             FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE INDEX events_at ON events (at);",
    );
    let catalog = read(&mut client, &Scope::default());
    let tables: Vec<String> = catalog.tables().map(|t| t.name.to_string()).collect();
    assert_eq!(tables, ["public.events"]);
    let events = table(&catalog, "public", "events");
    assert_eq!(events.indexes, vec![index("events_at", &["at"])]);
    assert_eq!(events.primary_key.as_ref().unwrap().columns, ["id", "at"]);
}

#[test]
fn an_empty_database_reads_as_an_empty_catalog() {
    let (_db, mut client) = db("introspect_empty", "");
    assert_eq!(read(&mut client, &Scope::default()), Catalog::default());
    assert!(server_version(&mut client).unwrap() >= 100_000);
}

/// DDL for `n` tables, each with columns, a PK, a unique, a check, an FK and two indexes.
fn many_tables(n: usize) -> String {
    let mut ddl = String::from("CREATE TYPE kind AS ENUM ('a', 'b');\n");
    for i in 0..n {
        let fk = if i == 0 {
            String::new()
        } else {
            format!(", parent_id integer REFERENCES t{} (id)", i - 1)
        };
        ddl.push_str(&format!(
            "CREATE TABLE t{i} (
                 id integer PRIMARY KEY,
                 code text UNIQUE DEFAULT 'x',
                 k kind,
                 n integer CHECK (n > 0){fk}
             );
             CREATE INDEX t{i}_n ON t{i} (n DESC);
             CREATE INDEX t{i}_code ON t{i} (lower(code)) WHERE n > 1;
             COMMENT ON TABLE t{i} IS 'table {i}';\n"
        ));
    }
    ddl
}

#[test]
fn query_count_does_not_grow_with_the_number_of_tables() {
    let mut counts = Vec::new();
    for n in [1, 50] {
        let (_db, mut client) = db(&format!("introspect_query_count_{n}"), &many_tables(n));
        let before = queries_issued();
        let catalog = read(&mut client, &Scope::default());
        counts.push(queries_issued() - before);
        assert_eq!(catalog.tables().count(), n);
        let last = table(&catalog, "public", &format!("t{}", n - 1));
        assert_eq!(last.indexes.len(), 2);
        assert_eq!(last.checks.len(), 1);
        assert_eq!(last.foreign_keys.len(), usize::from(n > 1));
    }
    assert_eq!(counts, [QUERY_COUNT, QUERY_COUNT]);
}

#[test]
fn a_failing_query_names_itself() {
    let (db, mut client) = db(
        "introspect_error",
        "CREATE TABLE busy (id integer, twice integer GENERATED ALWAYS AS (id * 2) STORED);",
    );
    // Another session holds an exclusive lock, as a running migration would. Reading a generated
    // column's expression takes a share lock on its table (plain defaults are read without one),
    // so the `columns` query is the one that times out.
    let mut other = db.connect().expect("second connection");
    let mut lock = other.transaction().expect("begin");
    lock.batch_execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        .expect("lock");
    client
        .batch_execute("SET lock_timeout = '200ms'")
        .expect("set lock_timeout");
    let err = introspect(&mut client, &Scope::default()).unwrap_err();
    assert_eq!(err.to_string(), "catalog query `columns` failed");
    let cause = std::error::Error::source(&err)
        .expect("a cause")
        .to_string();
    assert!(cause.contains("db error"), "{cause}");
    lock.rollback().expect("rollback");
    // The failed snapshot transaction is rolled back: the client works again.
    assert_eq!(read(&mut client, &Scope::default()).tables().count(), 1);
}

#[test]
fn the_session_search_path_does_not_change_the_result() {
    let ddl = "CREATE SCHEMA app;
         CREATE TYPE app.kind AS ENUM ('a');
         CREATE SEQUENCE app.counter;
         CREATE SEQUENCE public.note_numbers;
         CREATE TABLE app.things (
             id serial PRIMARY KEY,
             c bigint DEFAULT nextval('app.counter'),
             k app.kind DEFAULT 'a'::app.kind,
             n integer CHECK (n > 0)
         );
         CREATE TABLE public.notes (id serial, no bigint DEFAULT nextval('note_numbers'), body text DEFAULT 'x');";
    let (_db, mut client) = db("introspect_search_path", ddl);
    let scope = Scope {
        schemas: strings(&["public", "app"]),
        ..Scope::default()
    };
    let plain = read(&mut client, &scope);
    client
        .batch_execute("SET search_path = app")
        .expect("set search_path");
    assert_eq!(read(&mut client, &scope), plain);
    let things = table(&plain, "app", "things");
    assert_eq!(
        things.column("c").unwrap().default.as_deref(),
        Some("nextval('app.counter'::regclass)")
    );
    assert_eq!(
        things.column("id").unwrap().identity,
        Some(retort_schema::Identity::Serial)
    );
    assert_eq!(things.column("k").unwrap().default.as_deref(), Some("'a'"));
    let notes = table(&plain, "public", "notes");
    assert_eq!(
        notes.column("no").unwrap().default.as_deref(),
        Some("nextval('note_numbers'::regclass)")
    );
    assert_eq!(notes.column("id").unwrap().default, None);
}

/// Serials are recognised by ownership of their sequence (pg_depend deptype 'a'), not by name:
/// quoted names, renamed tables and other schemas; an unowned `nextval` default stays a default.
#[test]
fn serials_are_recognised_by_ownership() {
    let ddl = r#"CREATE SCHEMA "default";
         CREATE TABLE "Users" (id serial PRIMARY KEY, "Code" bigserial);
         CREATE TABLE "default".items (id smallserial);
         CREATE TABLE members (id serial);
         ALTER TABLE members RENAME TO accounts;
         CREATE SEQUENCE loose;
         CREATE TABLE lines (
             order_id integer NOT NULL,
             line serial,
             unowned bigint DEFAULT nextval('loose'),
             n numeric,
             PRIMARY KEY (order_id, line)
         );
         CREATE SEQUENCE owned_by_numeric OWNED BY lines.n;
         ALTER TABLE lines ALTER COLUMN n SET DEFAULT nextval('owned_by_numeric');
         CREATE SEQUENCE other;
         CREATE TABLE odd (id serial, m integer);
         CREATE SEQUENCE owned_by_m OWNED BY odd.m;
         ALTER TABLE odd ALTER COLUMN m SET DEFAULT nextval('other');
         CREATE TABLE ident (id integer GENERATED BY DEFAULT AS IDENTITY);"#;
    let (_db, mut client) = db("introspect_serials", ddl);
    let scope = Scope {
        schemas: strings(&["public", "default"]),
        ..Scope::default()
    };
    let catalog = read(&mut client, &scope);
    let get = |schema: &str, t: &str, c: &str| {
        let col = table(&catalog, schema, t).column(c).unwrap().clone();
        (col.identity, col.default)
    };
    let serial = (Some(Identity::Serial), None);
    assert_eq!(get("public", "Users", "id"), serial);
    assert_eq!(get("public", "Users", "Code"), serial);
    assert_eq!(get("default", "items", "id"), serial);
    assert_eq!(get("public", "accounts", "id"), serial);
    assert_eq!(get("public", "lines", "line"), serial);
    assert_eq!(get("public", "odd", "id"), serial);
    assert_eq!(
        get("public", "lines", "unowned"),
        (None, Some("nextval('loose'::regclass)".into()))
    );
    // Owned, but not an integer column: a plain default.
    assert_eq!(
        get("public", "lines", "n"),
        (None, Some("nextval('owned_by_numeric'::regclass)".into()))
    );
    // Owns a sequence, but its default draws from another one: a plain default.
    assert_eq!(
        get("public", "odd", "m"),
        (None, Some("nextval('other'::regclass)".into()))
    );
    assert_eq!(
        get("public", "ident", "id"),
        (Some(Identity::ByDefault), None)
    );
    // The search path does not change what is a serial.
    client
        .batch_execute(r#"SET search_path = "default""#)
        .expect("set search_path");
    assert_eq!(read(&mut client, &scope), catalog);
}
