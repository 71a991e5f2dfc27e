//! Unit tests of the renderer: hazards, defaults, enums, serials, type changes.

#[test]
fn defaults_outside_b_expr_are_parenthesised() {
    for simple in [
        "0",
        "-1",
        "'a'",
        "'a'::text",
        "'x'::character varying",
        "now()",
        "nextval('s'::regclass)",
        "'2020-01-01'::timestamp with time zone",
        "'{}'::integer[]",
        "gen_random_uuid()",
        "true",
    ] {
        assert_eq!(crate::default_expr::default_sql(simple), simple, "{simple}");
    }
    for complex in [
        "true and false",
        "1 in (1, 2)",
        "not false",
        "select 1",
        "'a' like 'b'",
        "x is null",
        "1 + 2",
        "'a'::text is null",
        "'a' collate \"C\"",
        "now() - '1 day'::interval",
    ] {
        assert_eq!(
            crate::default_expr::default_sql(complex),
            format!("({complex})"),
            "{complex}"
        );
    }
}

use crate::*;
use retort_schema::*;

fn users() -> QualName {
    QualName::new("public", "users")
}

#[test]
fn enum_additions_after_the_last_label_keep_their_order() {
    // sqldef tests_types.yml AlterTypeAddValue: both used to go AFTER 'send_message'.
    let st = crate::enums::alter(
        &QualName::new("public", "eventtype"),
        &["example".into(), "send_message".into()],
        &[
            "example".into(),
            "send_message".into(),
            "send_meeting_options".into(),
            "update_reactionslot".into(),
        ],
    );
    let sql: Vec<&str> = st.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TYPE public.eventtype ADD VALUE 'send_meeting_options' AFTER 'send_message'",
            "ALTER TYPE public.eventtype ADD VALUE 'update_reactionslot' AFTER 'send_meeting_options'"
        ]
    );
}

#[test]
fn enum_additions_use_add_value_with_position() {
    let st = crate::enums::alter(
        &QualName::new("public", "mood"),
        &["a".into(), "c".into()],
        &["a".into(), "b".into(), "c".into(), "d".into()],
    );
    let sql: Vec<&str> = st.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TYPE public.mood ADD VALUE 'b' BEFORE 'c'",
            "ALTER TYPE public.mood ADD VALUE 'd' AFTER 'c'"
        ]
    );
}

#[test]
fn enum_removal_rebuilds_with_a_hazard() {
    let st = crate::enums::alter(
        &QualName::new("public", "mood"),
        &["a".into(), "b".into()],
        &["a".into()],
    );
    assert_eq!(st.len(), 4);
    assert_eq!(st[0].hazards[0].kind, HazardKind::EnumValueRemoval);
    assert_eq!(st[3].sql, "DROP TYPE public.mood__retort_old");
}

#[test]
fn drops_and_narrowing_carry_hazards() {
    let col = Column::new("name", ColumnType::Text);
    let drop = Change::DropColumn {
        table: users(),
        column: col,
    };
    assert_eq!(
        render_body(&[drop]),
        "-- WARNING (data loss): drops column public.users.name and its data\nALTER TABLE public.users DROP COLUMN name;\n"
    );
    let narrow = Change::AlterColumnType {
        table: users(),
        column: "n".into(),
        from: ColumnType::BigInt,
        to: ColumnType::Integer,
    };
    assert_eq!(
        statements(&narrow)[0].hazards[0].kind,
        HazardKind::Narrowing
    );
    let widen = narrow.inverse();
    assert!(statements(&widen)[0].hazards.is_empty());
}

#[test]
fn a_generated_column_made_plain_keeps_its_values() {
    let mut generated = Column::new("total", ColumnType::Integer);
    generated.generated = Some("price * qty".into());
    let plain = Column::new("total", ColumnType::Integer);
    let up = Change::AlterColumnGenerated {
        table: users(),
        from: generated,
        to: plain,
    };
    assert_eq!(
        render_body(std::slice::from_ref(&up)),
        "ALTER TABLE public.users ALTER COLUMN total DROP EXPRESSION;\n"
    );
    let down = statements(&up.inverse());
    assert_eq!(down.len(), 2);
    assert_eq!(down[0].hazards[0].kind, HazardKind::DataLoss);
    assert_eq!(
        down[1].sql,
        "ALTER TABLE public.users ADD COLUMN total integer GENERATED ALWAYS AS (price * qty) STORED"
    );
}

#[test]
fn value_changing_type_changes_say_how() {
    let hazard = |from: ColumnType, to: ColumnType| {
        let st = statements(&Change::AlterColumnType {
            table: users(),
            column: "c".into(),
            from,
            to,
        });
        st[0].hazards.first().map(|h| (h.kind, h.message.clone()))
    };
    let (kind, msg) = hazard(ColumnType::Json, ColumnType::Jsonb).unwrap();
    assert_eq!(kind, HazardKind::Rewrite);
    assert!(msg.contains("duplicate keys"), "{msg}");
    let ts = |tz| ColumnType::Timestamp {
        precision: None,
        tz,
    };
    assert_eq!(hazard(ts(true), ts(false)).unwrap().0, HazardKind::Rewrite);
    assert_eq!(hazard(ts(false), ts(true)).unwrap().0, HazardKind::Rewrite);
    let num = |p, s| ColumnType::Numeric {
        precision: Some(p),
        scale: Some(s),
    };
    let (kind, msg) = hazard(num(12, 4), num(12, 2)).unwrap();
    assert_eq!(kind, HazardKind::Narrowing);
    assert!(msg.contains("rounded to 2 decimal place(s)"), "{msg}");
    let (_, msg) = hazard(ColumnType::Double, ColumnType::Real).unwrap();
    assert!(msg.contains("rounded"), "{msg}");
    let (_, msg) = hazard(ColumnType::Text, ColumnType::Varchar { length: Some(5) }).unwrap();
    assert!(msg.contains("longer than 5"), "{msg}");
    assert_eq!(hazard(num(10, 2), num(12, 2)), None);
    let (kind, msg) = hazard(num(8, 0), num(8, 2)).unwrap();
    assert_eq!(kind, HazardKind::Narrowing);
    assert!(
        msg.contains("more than 6 digit(s) before the point"),
        "{msg}"
    );
    assert!(!msg.contains("rounded"), "{msg}");
    let (kind, msg) = hazard(num(8, 0), num(10, 2)).unwrap();
    assert_eq!(kind, HazardKind::Rewrite);
    assert!(msg.contains("2 decimal place(s)"), "{msg}");
    assert_eq!(hazard(ColumnType::Integer, ColumnType::BigInt), None);
    // Widening without a rewrite: no warning.
    let vc = |n| ColumnType::Varchar { length: n };
    assert_eq!(hazard(vc(Some(5)), vc(None)), None);
    assert_eq!(hazard(vc(Some(5)), ColumnType::Text), None);
    assert_eq!(hazard(ColumnType::Text, vc(None)), None);
    // Rewrites that change values.
    let (kind, msg) = hazard(ColumnType::Char { length: Some(3) }, vc(None)).unwrap();
    assert_eq!(kind, HazardKind::Rewrite);
    assert!(msg.contains("trailing blanks"), "{msg}");
    let (kind, _) = hazard(
        ColumnType::array(ColumnType::Text),
        ColumnType::array(vc(None)),
    )
    .unwrap();
    assert_eq!(kind, HazardKind::Rewrite);
    let domain = ColumnType::Named {
        name: QualName::new("public", "email"),
    };
    let (kind, msg) = hazard(domain, ColumnType::Text).unwrap();
    assert_eq!(kind, HazardKind::ConstraintLoss);
    assert!(msg.contains("public.email"), "{msg}");
}

fn index(name: &str, unique: bool) -> Index {
    Index {
        name: name.into(),
        keys: vec!["email".into()],
        unique,
        method: "btree".into(),
        include: vec![],
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    }
}

#[test]
fn destructive_statements_warn_unless_the_object_is_rebuilt() {
    let kinds = |changes: &[Change]| -> Vec<Vec<HazardKind>> {
        plan(changes, &RenderOptions::default())
            .statements
            .iter()
            .map(|s| s.hazards.iter().map(|h| h.kind).collect())
            .collect()
    };
    let drop = Change::DropIndex {
        table: users(),
        index: index("users_email_key", true),
    };
    assert_eq!(
        kinds(std::slice::from_ref(&drop)),
        vec![vec![HazardKind::IndexLoss]]
    );
    let msg =
        &plan(std::slice::from_ref(&drop), &Default::default()).statements[0].hazards[0].message;
    assert!(msg.contains("duplicates become possible"), "{msg}");
    // Drop and create under the same name: a rebuild, not a loss (the create locks instead).
    let create = Change::CreateIndex {
        table: users(),
        index: index("users_email_key", false),
    };
    assert_eq!(
        kinds(&[drop, create]),
        vec![vec![], vec![HazardKind::Locking]]
    );
    let check = Check {
        name: "users_age_check".into(),
        expr: "age >= 0".into(),
    };
    let drop_check = Change::DropCheck {
        table: users(),
        check: check.clone(),
    };
    assert_eq!(
        kinds(std::slice::from_ref(&drop_check)),
        vec![vec![HazardKind::ConstraintLoss]]
    );
    let add_check = Change::AddCheck {
        table: users(),
        check,
    };
    // A changed check: the old one is not lost, but the new one reads every row.
    assert_eq!(
        kinds(&[drop_check, add_check]),
        vec![vec![], vec![HazardKind::ValidationScan]]
    );
    let drop_default = Change::AlterColumnDefault {
        table: users(),
        column: "created_at".into(),
        from: Some("now()".into()),
        to: None,
    };
    assert_eq!(kinds(&[drop_default]), vec![vec![HazardKind::DefaultLoss]]);
    let drop_identity = Change::AlterColumnIdentity {
        table: users(),
        column: "id".into(),
        from: Some(Identity::Always),
        to: None,
    };
    assert_eq!(kinds(&[drop_identity]), vec![vec![HazardKind::DefaultLoss]]);
}

#[test]
fn checking_a_foreign_key_earlier_is_a_hazard_and_later_is_not() {
    use retort_schema::Deferrable::*;
    let kinds = |changes: &[Change]| -> Vec<Vec<HazardKind>> {
        plan(changes, &RenderOptions::default())
            .statements
            .iter()
            .map(|s| s.hazards.iter().map(|h| h.kind).collect())
            .collect()
    };
    let alter = |from, to| Change::AlterForeignKeyDeferrable {
        table: users(),
        name: "users_team_fkey".into(),
        from,
        to,
    };
    let timing = vec![vec![HazardKind::ConstraintTiming]];
    assert_eq!(
        kinds(&[alter(InitiallyDeferred, InitiallyImmediate)]),
        timing
    );
    assert_eq!(kinds(&[alter(InitiallyDeferred, NotDeferrable)]), timing);
    assert_eq!(kinds(&[alter(InitiallyImmediate, NotDeferrable)]), timing);
    assert_eq!(
        kinds(&[alter(NotDeferrable, InitiallyDeferred)]),
        vec![vec![]]
    );
    assert_eq!(
        kinds(&[alter(InitiallyImmediate, InitiallyDeferred)]),
        vec![vec![]]
    );
    let st = &statements(&alter(InitiallyDeferred, InitiallyImmediate))[0];
    assert_eq!(
        st.sql,
        "ALTER TABLE public.users ALTER CONSTRAINT users_team_fkey DEFERRABLE INITIALLY IMMEDIATE"
    );
    assert!(
        st.hazards[0].message.contains("at commit"),
        "{:?}",
        st.hazards
    );
}

#[test]
fn one_enum_to_another_casts_through_text() {
    let named = |n: &str| ColumnType::Named {
        name: QualName::new("public", n),
    };
    let st = statements(&Change::AlterColumnType {
        table: users(),
        column: "state".into(),
        from: named("old_state"),
        to: named("new_state"),
    });
    assert!(
        st[0].sql.ends_with("USING state::text::public.new_state"),
        "{}",
        st[0].sql
    );
    let st = statements(&Change::AlterColumnType {
        table: users(),
        column: "tags".into(),
        from: ColumnType::array(named("a")),
        to: ColumnType::array(named("b")),
    });
    assert!(
        st[0].sql.ends_with("USING tags::text[]::public.b[]"),
        "{}",
        st[0].sql
    );
}

#[test]
fn type_change_adds_using_only_when_needed() {
    let c = Change::AlterColumnType {
        table: users(),
        column: "n".into(),
        from: ColumnType::Text,
        to: ColumnType::Integer,
    };
    assert_eq!(
        statements(&c)[0].sql,
        "ALTER TABLE public.users ALTER COLUMN n TYPE integer USING n::integer"
    );
    assert!(!statements(&c.inverse())[0].sql.contains("USING"));
}

fn sqls(c: &Change) -> Vec<String> {
    statements(c).into_iter().map(|s| s.sql).collect()
}

fn serial_change(from: Option<Identity>, to: Option<Identity>) -> Change {
    Change::AlterColumnSerial {
        table: QualName::new("app", "Users"),
        column: "Id".into(),
        from,
        to,
        from_ty: ColumnType::Integer,
        to_ty: ColumnType::BigInt,
    }
}

#[test]
fn serial_columns_are_created_with_their_pseudo_type() {
    let mut id = Column::new("id", ColumnType::BigInt);
    id.identity = Some(Identity::Serial);
    id.nullable = false;
    let mut n = Column::new("n", ColumnType::SmallInt);
    n.identity = Some(Identity::Serial);
    let mut t = Table::new(users());
    t.columns = vec![id, n.clone()];
    let sql = sqls(&Change::CreateTable { table: t });
    assert_eq!(
        sql,
        [
            "CREATE TABLE public.users (\n    id bigserial NOT NULL,\n    n smallserial\n)",
            "ALTER TABLE public.users ALTER COLUMN n DROP NOT NULL",
        ]
    );
    let add = Change::AddColumn {
        table: users(),
        column: n,
    };
    assert_eq!(
        sqls(&add),
        [
            "ALTER TABLE public.users ADD COLUMN n smallserial",
            "ALTER TABLE public.users ALTER COLUMN n DROP NOT NULL",
        ]
    );
}

#[test]
fn serial_conversions_keep_values_and_never_use_identity_statements_on_a_serial() {
    let seq = "pg_get_serial_sequence('app.\"Users\"', 'Id')";
    let restart =
        format!("SELECT setval({seq}, coalesce(max(\"Id\"), 0) + 1, false) FROM app.\"Users\"");
    let drop_serial = [
        "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" DROP DEFAULT".to_string(),
        format!("DO $retort$ BEGIN EXECUTE 'DROP SEQUENCE ' || {seq}; END $retort$"),
    ];
    let create_serial = [
        "CREATE SEQUENCE app.\"Users_Id_seq\" AS bigint OWNED BY app.\"Users\".\"Id\"".to_string(),
        "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" SET DEFAULT \
         nextval('app.\"Users_Id_seq\"'::regclass)"
            .to_string(),
        restart.clone(),
    ];
    let to_identity = serial_change(Some(Identity::Serial), Some(Identity::Always));
    let mut expected = drop_serial.to_vec();
    expected.push(
        "ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" ADD GENERATED ALWAYS AS IDENTITY".into(),
    );
    expected.push(restart.clone());
    assert_eq!(sqls(&to_identity), expected);

    let mut expected =
        vec!["ALTER TABLE app.\"Users\" ALTER COLUMN \"Id\" DROP IDENTITY".to_string()];
    expected.extend(create_serial.clone());
    assert_eq!(
        sqls(&serial_change(
            Some(Identity::ByDefault),
            Some(Identity::Serial)
        )),
        expected
    );
    assert_eq!(
        sqls(&serial_change(None, Some(Identity::Serial))),
        create_serial
    );
    let gone = serial_change(Some(Identity::Serial), None);
    assert_eq!(sqls(&gone), drop_serial);
    let hz: Vec<HazardKind> = hazards(&[gone]).into_iter().map(|h| h.kind).collect();
    assert_eq!(hz, [HazardKind::DefaultLoss]);

    // Even an AlterColumnIdentity that names a serial gets no identity statement for it.
    let odd = Change::AlterColumnIdentity {
        table: users(),
        column: "id".into(),
        from: Some(Identity::Serial),
        to: None,
    };
    assert!(sqls(&odd).iter().all(|s| !s.contains("IDENTITY")));
    let odd = Change::AlterColumnIdentity {
        table: users(),
        column: "id".into(),
        from: Some(Identity::Serial),
        to: Some(Identity::Always),
    };
    assert!(sqls(&odd).iter().all(|s| !s.contains("SET GENERATED")));
}

#[test]
fn a_serial_of_a_new_type_resizes_its_sequence() {
    let c = serial_change(Some(Identity::Serial), Some(Identity::Serial));
    assert_eq!(
        sqls(&c),
        ["DO $retort$ BEGIN EXECUTE 'ALTER SEQUENCE ' || \
          pg_get_serial_sequence('app.\"Users\"', 'Id') || ' AS bigint'; END $retort$"]
    );
    assert!(sqls(&c.inverse())[0].contains("' AS integer'"));
}

#[test]
fn dollar_quotes_avoid_the_body() {
    assert_eq!(crate::sql::dollar_quote(" x "), "$retort$ x $retort$");
    assert_eq!(
        crate::sql::dollar_quote("$retort$"),
        "$retort_$$retort$$retort_$"
    );
}

#[test]
fn online_volatile_defaults_fill_in_a_step_of_their_own_and_down_mirrors_it() {
    let mut token = Column::new("token", ColumnType::Uuid);
    token.default = Some("gen_random_uuid()".into());
    token.nullable = false;
    let add = Change::AddColumn {
        table: users(),
        column: token,
    };
    let index = Change::CreateIndex {
        table: users(),
        index: Index {
            keys: vec!["token".into()],
            ..index("users_token_idx", false)
        },
    };
    let changes = [add.clone(), index];
    // Without --online: one statement that rewrites the table, said so.
    let offline = plan(&changes, &RenderOptions::default());
    assert!(offline
        .hazards()
        .any(|h| h.kind == HazardKind::TableRewrite && h.message.contains("gen_random_uuid()")));
    let opts = RenderOptions {
        online: true,
        ..RenderOptions::default()
    };
    let up = plan(&changes, &opts);
    let steps: Vec<(usize, bool, &str)> = up
        .statements
        .iter()
        .map(|s| (s.step, s.transactional, s.sql.lines().last().unwrap_or("")))
        .collect();
    assert_eq!(steps.len(), 8, "{steps:#?}");
    // Step 0: add without the default, set it, the NOT VALID check; step 1: the backfill alone;
    // step 2: the index, concurrently; step 3: validate, SET NOT NULL, drop the check.
    assert_eq!(
        steps.iter().map(|s| s.0).collect::<Vec<_>>(),
        [0, 0, 0, 1, 2, 3, 3, 3]
    );
    assert_eq!(
        steps.iter().map(|s| s.1).collect::<Vec<_>>(),
        [true, true, true, false, false, true, true, true]
    );
    assert!(steps[0].2.ends_with("ADD COLUMN token uuid"), "{steps:#?}");
    assert!(steps[3].2.starts_with("$retort_backfill$"), "{steps:#?}");
    assert!(up.hazards().all(|h| h.kind != HazardKind::TableRewrite));
    let down = plan_inverse(&retort_differ_inverse(&changes), &up, &opts);
    assert_eq!(down.step_count(), 4);
    let drop = down
        .statements
        .iter()
        .find(|s| s.sql.contains("DROP COLUMN token"))
        .unwrap();
    assert_eq!(drop.step, 3, "the mirror of up's step 0");
}

/// The inverse list as the differ makes it (reversed, each change inverted).
fn retort_differ_inverse(changes: &[Change]) -> Vec<Change> {
    changes.iter().rev().map(Change::inverse).collect()
}
