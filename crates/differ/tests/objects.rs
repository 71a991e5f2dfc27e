//! SQL-defined objects in the differ, with no database: views over a retyped column are dropped
//! before and created after (deepest first), functions are replaced in place, and the order of
//! the inverses in reverse is an order PostgreSQL accepts too.

use retort_differ::{diff, inverse};
use retort_schema::*;

fn qn(n: &str) -> QualName {
    QualName::new("public", n)
}

fn rel(table: &str, column: Option<&str>) -> Dependency {
    Dependency::Relation {
        name: qn(table),
        column: column.map(str::to_string),
    }
}

fn view(name: &str, def: &str, deps: Vec<Dependency>) -> Object {
    Object {
        kind: ObjectKind::View,
        name: qn(name),
        args: None,
        table: None,
        definition: format!("CREATE VIEW public.{name} AS {def}"),
        indexes: Vec::new(),
        depends_on: deps,
    }
}

fn function(body: &str) -> Object {
    Object {
        kind: ObjectKind::Function,
        name: qn("f"),
        args: Some("n integer".into()),
        table: None,
        definition: format!(
            "CREATE OR REPLACE FUNCTION public.f(n integer)\n RETURNS integer\n LANGUAGE sql\nAS $function${body}$function$"
        ),
        indexes: Vec::new(),
        depends_on: Vec::new(),
    }
}

fn catalog(kind_ty: ColumnType, objects: Vec<Object>) -> Catalog {
    let mut t = Table::new(qn("events"));
    t.columns = vec![
        Column::new("id", ColumnType::BigInt),
        Column::new("kind", kind_ty),
        Column::new("note", ColumnType::Text),
    ];
    let mut c = Catalog::default();
    c.schema_mut("public").tables.push(t);
    c.schema_mut("public").objects = objects;
    c.canonicalize();
    c
}

fn objects() -> Vec<Object> {
    vec![
        view(
            "kinds",
            "SELECT id, kind FROM events",
            vec![rel("events", Some("kind"))],
        ),
        view(
            "kind_counts",
            "SELECT kind FROM kinds",
            vec![rel("kinds", Some("kind"))],
        ),
        view(
            "notes",
            "SELECT note FROM events",
            vec![rel("events", Some("note"))],
        ),
    ]
}

fn summary(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match c {
            Change::CreateObject { object } => format!("create {}", object.name.name),
            Change::DropObject { object } => format!("drop {}", object.name.name),
            Change::ReplaceObject { to, .. } => format!("replace {}", to.name.name),
            Change::AlterColumnType { column, .. } => format!("alter {column}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn views_over_a_retyped_column_are_dropped_before_and_created_after_deepest_first() {
    let from = catalog(ColumnType::Varchar { length: Some(20) }, objects());
    let to = catalog(ColumnType::Text, objects());
    let up = diff(&from, &to);
    assert_eq!(
        summary(&up),
        [
            "drop kind_counts",
            "drop kinds",
            "alter kind",
            "create kinds",
            "create kind_counts"
        ]
    );
    // Down is the same shape the other way round, and both reach their target in memory.
    let down = inverse(&up);
    assert_eq!(summary(&down), summary(&diff(&to, &from)));
    let mut c = from.clone();
    for ch in &up {
        ch.apply(&mut c).unwrap();
    }
    assert_eq!(c, to);
    for ch in &down {
        ch.apply(&mut c).unwrap();
    }
    assert_eq!(c, from);
}

#[test]
fn a_function_body_is_replaced_and_a_new_signature_is_dropped_and_created() {
    let ty = || ColumnType::Text;
    let from = catalog(ty(), vec![function(" SELECT n ")]);
    let up = diff(&from, &catalog(ty(), vec![function(" SELECT n + 1 ")]));
    assert_eq!(summary(&up), ["replace f"]);
    let mut renamed = function(" SELECT m ");
    renamed.definition = renamed.definition.replace("(n integer)", "(m integer)");
    let up = diff(&from, &catalog(ty(), vec![renamed]));
    assert_eq!(summary(&up), ["drop f", "create f"]);
}

#[test]
fn a_changed_view_recreates_the_views_over_it() {
    let ty = || ColumnType::Text;
    let mut changed = objects();
    changed[1].definition.push_str(" WHERE kind <> ''");
    let mut base_changed = objects();
    base_changed[0].definition.push_str(" WHERE id > 0");
    let up = diff(&catalog(ty(), objects()), &catalog(ty(), base_changed));
    // kinds changes; kind_counts uses it and must go first and come back after.
    assert_eq!(
        summary(&up),
        [
            "drop kind_counts",
            "drop kinds",
            "create kinds",
            "create kind_counts"
        ]
    );
    let up = diff(&catalog(ty(), objects()), &catalog(ty(), changed));
    assert_eq!(summary(&up), ["drop kind_counts", "create kind_counts"]);
}
