//! Schemas: `CREATE SCHEMA` and `DROP SCHEMA`, both idempotent (a schema may hold objects the
//! project does not manage).

use crate::sql::q;
use crate::Statement;

pub(crate) fn create(name: &str) -> Vec<Statement> {
    vec![Statement::new(format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        q(name)
    ))]
}

pub(crate) fn drop(name: &str) -> Vec<Statement> {
    vec![Statement::new(format!("DROP SCHEMA IF EXISTS {}", q(name)))]
}
