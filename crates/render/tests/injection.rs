//! Rendering is injection-proof: for random and adversarial names, labels, comments, access
//! methods and operator classes, every rendered statement parses as exactly one statement of the
//! kind its change asks for (sqlparser, PostgreSQL dialect), with the hostile text kept inside.

use proptest::prelude::*;
use retort_render::{plan, RenderOptions};
use retort_schema::*;
use sqlparser::ast::Statement as Ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Fragments that break out of naive quoting: quotes, terminators, comments, dollar quotes.
const PAYLOADS: &[&str] = &[
    "x; CREATE ROLE evil; --",
    "btree (b); CREATE ROLE x; --",
    "a\"b",
    "it's",
    "\\'; DROP TABLE t; --",
    "*/ DROP TABLE t; /*",
    "$retort$; DROP TABLE t; $retort$",
    "$$",
    "x) ; DROP TABLE t --",
    "DESC",
    "NULLS",
    "\n; DROP TABLE t;\n",
    "é ünïcödé",
    "SELECT",
    "user",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(PAYLOADS).prop_map(str::to_string),
        // Random text over the characters that matter to SQL lexing (no NUL: the readers refuse it).
        "[a-zA-Z0-9_ '\"();,.$\\\\/*\\n-]{1,24}",
        (
            prop::sample::select(PAYLOADS),
            "[a-z_]{1,6}",
            prop::sample::select(PAYLOADS)
        )
            .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
    ]
}

fn table_name() -> QualName {
    QualName::new("public", "t")
}

/// What one change must render to, as sqlparser names the statement kinds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    CreateIndex,
    CreateTable,
    AlterTable,
    Comment,
    CreateType,
    AlterType,
    AlterIndex,
    DropIndex,
    CreateSchema,
}

fn kind_of(ast: &Ast) -> Option<&'static str> {
    Some(match ast {
        Ast::CreateIndex(_) => "CreateIndex",
        Ast::CreateTable(_) => "CreateTable",
        Ast::AlterTable(_) => "AlterTable",
        Ast::Comment { .. } => "Comment",
        Ast::CreateType { .. } => "CreateType",
        Ast::AlterType(_) => "AlterType",
        Ast::AlterIndex { .. } => "AlterIndex",
        Ast::Drop { .. } => "DropIndex",
        Ast::CreateSchema { .. } => "CreateSchema",
        _ => return None,
    })
}

/// Every statement parses alone, as `kinds[i]` (comments may follow a CREATE).
fn assert_single(change: &Change, kinds: &[Kind]) -> Result<(), TestCaseError> {
    let sts = plan(std::slice::from_ref(change), &RenderOptions::default()).statements;
    prop_assert!(!sts.is_empty());
    for (i, st) in sts.iter().enumerate() {
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &st.sql);
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{}", st.sql))),
        };
        prop_assert_eq!(parsed.len(), 1, "not one statement:\n{}", st.sql);
        let want = kinds.get(i).or(kinds.last()).copied().unwrap();
        let want = if i > 0 && matches!(want, Kind::CreateTable) {
            Kind::Comment
        } else {
            want
        };
        let want = format!("{want:?}");
        prop_assert_eq!(kind_of(&parsed[0]), Some(want.as_str()), "{}", st.sql);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn index_names_methods_and_opclasses_stay_inside_their_quotes(
        name in hostile(), method in hostile(), column in hostile(), opclass in hostile(),
        include in hostile(), unique in any::<bool>(), desc in any::<bool>(),
    ) {
        let key = format!(
            "{} {opclass}{}",
            index_key::column_key(&column),
            if desc { " DESC NULLS LAST" } else { "" }
        );
        let index = Index {
            name,
            unique,
            keys: vec![key],
            method,
            include: vec![include],
            predicate: None,
            invalid: false,
            nulls_not_distinct: false,
        };
        let change = Change::CreateIndex { table: table_name(), index: index.clone() };
        assert_single(&change, &[Kind::CreateIndex])?;
        assert_single(&Change::DropIndex { table: table_name(), index: index.clone() }, &[Kind::DropIndex])?;
        assert_single(
            &Change::RenameIndex { table: table_name(), from: index.name.clone(), to: index.method.clone() },
            &[Kind::AlterIndex],
        )?;
    }

    #[test]
    fn table_column_and_constraint_names_and_comments_stay_quoted(
        table in hostile(), schema in hostile(), column in hostile(), other in hostile(),
        comment in hostile(), constraint in hostile(),
    ) {
        let name = QualName::new(&schema, &table);
        let mut c = Column::new(&column, ColumnType::Text);
        c.comment = Some(comment.clone());
        let t = Table {
            name: name.clone(),
            columns: vec![c.clone(), Column::new(format!("{other}_2"), ColumnType::Integer)],
            primary_key: Some(PrimaryKey { name: format!("{constraint}_pk"), columns: vec![format!("{other}_2")] }),
            uniques: vec![Unique { name: constraint.clone(), columns: vec![column.clone()], nulls_not_distinct: false }],
            checks: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            comment: Some(comment.clone()),
        };
        assert_single(&Change::CreateTable { table: t.clone() }, &[Kind::CreateTable])?;
        assert_single(&Change::AddColumn { table: name.clone(), column: c.clone() }, &[Kind::AlterTable, Kind::Comment])?;
        assert_single(&Change::DropColumn { table: name.clone(), column: c.clone() }, &[Kind::AlterTable])?;
        assert_single(&Change::RenameColumn { table: name.clone(), from: column.clone(), to: other.clone() }, &[Kind::AlterTable])?;
        assert_single(&Change::RenameTable { from: name.clone(), to: QualName::new(&schema, &other) }, &[Kind::AlterTable])?;
        assert_single(&Change::AlterTableComment { table: name.clone(), from: None, to: Some(comment.clone()) }, &[Kind::Comment])?;
        assert_single(&Change::AlterColumnComment { table: name.clone(), column: column.clone(), from: None, to: Some(comment) }, &[Kind::Comment])?;
        assert_single(&Change::AddUnique { table: name.clone(), unique: t.uniques[0].clone() }, &[Kind::AlterTable])?;
        assert_single(&Change::RenameConstraint { table: name.clone(), from: constraint.clone(), to: other.clone() }, &[Kind::AlterTable])?;
        let fk = ForeignKey {
            name: constraint,
            columns: vec![column.clone()],
            ref_table: QualName::new(&other, &schema),
            ref_columns: vec![other.clone()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
            deferrable: retort_schema::Deferrable::InitiallyImmediate,
            match_full: false,
        };
        assert_single(&Change::AddForeignKey { table: name.clone(), foreign_key: fk }, &[Kind::AlterTable])?;
        assert_single(&Change::CreateSchema { name: schema }, &[Kind::CreateSchema])?;
    }

    #[test]
    fn enum_names_and_labels_stay_quoted(
        name in hostile(), a in hostile(), b in hostile(), c in hostile(),
    ) {
        prop_assume!(a != b && b != c && a != c);
        // sqlparser reads enum labels as identifiers and cannot take the E'' literal a backslash
        // needs; `backslash_labels_are_escape_literals` and the PostgreSQL test cover those.
        prop_assume!(![&a, &b, &c].iter().any(|l| l.contains('\\')));
        let qn = QualName::new("public", &name);
        let e = Enum { name: qn.clone(), values: vec![a.clone(), c.clone()] };
        assert_single(&Change::CreateEnum { enum_type: e }, &[Kind::CreateType])?;
        assert_single(
            &Change::AlterEnum { name: qn.clone(), from: vec![a.clone(), c.clone()], to: vec![a.clone(), b.clone(), c.clone()] },
            &[Kind::AlterType],
        )?;
        assert_single(&Change::RenameEnumValue { name: qn.clone(), from: a.clone(), to: b.clone() }, &[Kind::AlterType])?;
        // Removing a value rebuilds the type in a DO block, which sqlparser cannot read: the other
        // statements parse, and the block's dollar quote is never closed early by a name.
        let rebuild = plan(
            &[Change::AlterEnum { name: qn, from: vec![a.clone(), b, c.clone()], to: vec![a, c] }],
            &RenderOptions::default(),
        ).statements;
        prop_assert_eq!(rebuild.len(), 4);
        let block = &rebuild[2].sql;
        let tag = block.strip_prefix("DO ").and_then(|r| r.split_once('\n')).map(|(t, _)| t.to_string()).unwrap();
        prop_assert!(tag.starts_with('$') && tag.ends_with('$'));
        prop_assert_eq!(block.matches(tag.as_str()).count(), 2, "{}", block);
        prop_assert!(block.ends_with(&tag));
        for st in [&rebuild[0], &rebuild[1], &rebuild[3]] {
            let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &st.sql)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", st.sql)))?;
            prop_assert_eq!(parsed.len(), 1, "{}", st.sql);
        }
    }
}

#[test]
fn the_reported_method_injection_renders_as_one_quoted_name() {
    let index = Index {
        name: "t_b_idx".into(),
        unique: false,
        keys: vec!["b".into()],
        method: "btree (b); CREATE ROLE x; --".into(),
        include: vec![],
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    };
    let sts = plan(
        &[Change::CreateIndex {
            table: table_name(),
            index,
        }],
        &RenderOptions::default(),
    )
    .statements;
    assert_eq!(
        sts[0].sql,
        "CREATE INDEX t_b_idx ON public.t USING \"btree (b); CREATE ROLE x; --\" (b)"
    );
}

#[test]
fn column_names_with_spaces_are_quoted_in_index_keys() {
    let index = Index {
        name: "t_idx".into(),
        unique: false,
        keys: vec![format!("{} DESC", index_key::column_key("my col"))],
        method: "btree".into(),
        include: vec!["other col".into()],
        predicate: None,
        invalid: false,
        nulls_not_distinct: false,
    };
    let sts = plan(
        &[Change::CreateIndex {
            table: table_name(),
            index,
        }],
        &RenderOptions::default(),
    )
    .statements;
    assert_eq!(
        sts[0].sql,
        "CREATE INDEX t_idx ON public.t (\"my col\" DESC) INCLUDE (\"other col\")"
    );
}

#[test]
fn backslash_labels_are_escape_literals() {
    let e = Enum {
        name: QualName::new("public", "e"),
        values: vec!["a\\'; DROP TABLE t; --".into()],
    };
    let sts = plan(
        &[Change::CreateEnum { enum_type: e }],
        &RenderOptions::default(),
    )
    .statements;
    assert_eq!(
        sts[0].sql,
        "CREATE TYPE public.e AS ENUM (E'a\\\\''; DROP TABLE t; --')"
    );
}
