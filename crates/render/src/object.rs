//! SQL-defined objects (views, materialized views, functions, procedures, triggers): created from
//! the definition the server printed for them, dropped by their kind, name and arguments.

use crate::sql::q;
use crate::Statement;
use retort_schema::{quote_qual, Object, ObjectKind};

/// The definition as the server printed it, without a trailing `;`, then a materialized view's
/// indexes. A `LANGUAGE sql` routine
/// is created with `check_function_bodies` off for the rest of the migration's transaction, as
/// pg_dump does: its body may read tables created later in the migration.
pub(crate) fn create(object: &Object) -> Vec<Statement> {
    let sql = object.definition.trim().trim_end_matches(';').trim_end();
    let mut out = Vec::new();
    if object.kind.is_routine() && sql.lines().any(|l| l.trim() == "LANGUAGE sql") {
        out.push(Statement::new(
            "SET LOCAL check_function_bodies = off".to_string(),
        ));
    }
    out.push(Statement::new(sql.to_string()));
    out.extend(object.indexes.iter().map(|i| Statement::new(i.clone())));
    out
}

/// In place: `CREATE OR REPLACE` with the new definition (`pg_get_functiondef` prints that
/// form); for a sequence `ALTER SEQUENCE` with the new options, which keeps its current value.
pub(crate) fn replace(to: &Object) -> Vec<Statement> {
    match to.kind {
        ObjectKind::Sequence => vec![Statement::new(to.definition.replacen(
            "CREATE SEQUENCE",
            "ALTER SEQUENCE",
            1,
        ))],
        _ => create(to),
    }
}

pub(crate) fn drop(object: &Object) -> Vec<Statement> {
    let name = quote_qual(&object.name);
    let sql = match object.kind {
        ObjectKind::Function | ObjectKind::Procedure => format!(
            "DROP {} {name}({})",
            object.kind.keyword(),
            object.args.as_deref().unwrap_or("")
        ),
        ObjectKind::Trigger | ObjectKind::Policy => match &object.table {
            Some(t) => format!(
                "DROP {} {} ON {}",
                object.kind.keyword(),
                q(&object.name.name),
                quote_qual(t)
            ),
            None => format!("DROP {} {}", object.kind.keyword(), q(&object.name.name)),
        },
        ObjectKind::RowSecurity => format!(
            "ALTER TABLE {} DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY",
            quote_qual(object.table.as_ref().unwrap_or(&object.name))
        ),
        ObjectKind::View | ObjectKind::MaterializedView => {
            format!("DROP {} {name}", object.kind.keyword())
        }
        ObjectKind::Sequence => {
            return vec![Statement::new(format!("DROP SEQUENCE {name}")).hazard(
                crate::HazardKind::DataLoss,
                format!(
                    "drops sequence {}: its current value is lost (down.sql starts it again)",
                    object.name
                ),
            )]
        }
    };
    vec![Statement::new(sql)]
}
