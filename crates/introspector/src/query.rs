//! The catalog queries (one `.sql` file per object kind) and the one function that runs them.
//! Every catalog query `introspect` sends goes through `run`, which counts it for `queries_issued`.

use std::borrow::Cow;
use std::cell::Cell;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Row, Transaction};

use crate::Error;

/// One catalog query: a name for error messages and the SQL text from `src/queries/`.
pub(crate) struct Query {
    pub(crate) name: &'static str,
    sql: &'static str,
}

pub(crate) const SERVER_VERSION: Query = Query {
    name: "server_version",
    sql: include_str!("queries/server_version.sql"),
};
pub(crate) const SEARCH_PATH: Query = Query {
    name: "search_path",
    sql: include_str!("queries/search_path.sql"),
};
pub(crate) const SCHEMAS: Query = Query {
    name: "schemas",
    sql: include_str!("queries/schemas.sql"),
};
pub(crate) const ENUMS: Query = Query {
    name: "enums",
    sql: include_str!("queries/enums.sql"),
};
pub(crate) const TABLES: Query = Query {
    name: "tables",
    sql: include_str!("queries/tables.sql"),
};
pub(crate) const COLUMNS: Query = Query {
    name: "columns",
    sql: include_str!("queries/columns.sql"),
};
pub(crate) const CONSTRAINTS: Query = Query {
    name: "constraints",
    sql: include_str!("queries/constraints.sql"),
};
pub(crate) const INDEXES: Query = Query {
    name: "indexes",
    sql: include_str!("queries/indexes.sql"),
};

pub(crate) const OBJECTS: Query = Query {
    name: "objects",
    sql: include_str!("queries/objects.sql"),
};

/// Every query `introspect` runs, each exactly once.
pub(crate) const ALL: [&Query; 9] = [
    &SERVER_VERSION,
    &SEARCH_PATH,
    &SCHEMAS,
    &ENUMS,
    &TABLES,
    &COLUMNS,
    &CONSTRAINTS,
    &INDEXES,
    &OBJECTS,
];

/// The first server version with `pg_index.indnullsnotdistinct` (`UNIQUE NULLS NOT DISTINCT`).
const NULLS_NOT_DISTINCT_SINCE: u32 = 150_000;

/// The column that `constraints.sql` reads only on servers that have it.
const NULLS_NOT_DISTINCT_COLUMN: &str = "ix.indnullsnotdistinct";
/// The same column in the indexes query (pg_index is `i` there).
const INDEX_NULLS_NOT_DISTINCT_COLUMN: &str = "i.indnullsnotdistinct";

/// Passed as the server version before it is known; only `SERVER_VERSION` runs with it.
pub(crate) const VERSION_UNKNOWN: u32 = 0;

impl Query {
    /// The SQL to send to a server of `version`: on servers older than 15 the
    /// `indnullsnotdistinct` column does not exist, and every unique constraint and index is
    /// `NULLS DISTINCT`.
    pub(crate) fn sql_for(&self, version: u32) -> Cow<'static, str> {
        let columns = [NULLS_NOT_DISTINCT_COLUMN, INDEX_NULLS_NOT_DISTINCT_COLUMN];
        if version < NULLS_NOT_DISTINCT_SINCE && columns.iter().any(|c| self.sql.contains(c)) {
            let mut sql = self.sql.to_string();
            for c in columns {
                sql = sql.replace(c, "false");
            }
            Cow::Owned(sql)
        } else {
            Cow::Borrowed(self.sql)
        }
    }
}

thread_local! {
    static ISSUED: Cell<usize> = const { Cell::new(0) };
}

/// Catalog queries sent by this thread so far (see `crate::queries_issued`).
pub(crate) fn issued() -> usize {
    ISSUED.with(Cell::get)
}

/// Query parameters with their types, so that every query goes through the unnamed statement
/// (`query_typed`): no named prepared statement is left on a pooled server connection.
pub(crate) type Params<'a> = &'a [(&'a (dyn ToSql + Sync), Type)];

/// The one parameter most catalog queries take: the configured schemas, as `text[]`.
pub(crate) fn schemas(schemas: &Vec<String>) -> [(&(dyn ToSql + Sync), Type); 1] {
    [(schemas, Type::TEXT_ARRAY)]
}

/// Runs `query` (as spelled for a server of `version`) and hands each row to `each` as it
/// arrives, so that a large result is never held in memory whole. The first error `each`
/// returns is kept in `failed`, after which rows are only drained: a query that fails later
/// still wins, as it would if every query ran before any row was read.
pub(crate) fn for_each(
    tx: &mut Transaction<'_>,
    query: &Query,
    version: u32,
    params: Params<'_>,
    failed: &mut Option<Error>,
    mut each: impl FnMut(&Row) -> Result<(), Error>,
) -> Result<(), Error> {
    ISSUED.with(|n| n.set(n.get() + 1));
    let error = |source| Error::Query {
        query: query.name,
        source,
    };
    let mut rows = tx
        .query_typed_raw(
            query.sql_for(version).as_ref(),
            params.iter().map(|(v, t)| (*v, t.clone())),
        )
        .map_err(error)?;
    while let Some(row) = rows.next().map_err(error)? {
        if failed.is_none() {
            if let Err(err) = each(&row) {
                *failed = Some(err);
            }
        }
    }
    Ok(())
}

/// Runs `query` (as spelled for a server of `version`) and returns all its rows.
pub(crate) fn run(
    tx: &mut Transaction<'_>,
    query: &Query,
    version: u32,
    params: Params<'_>,
) -> Result<Vec<Row>, Error> {
    ISSUED.with(|n| n.set(n.get() + 1));
    tx.query_typed(query.sql_for(version).as_ref(), params)
        .map_err(|source| Error::Query {
            query: query.name,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_have_distinct_names_and_a_comment_header() {
        for (i, q) in ALL.iter().enumerate() {
            assert!(q.sql.starts_with("-- "), "{} has no header comment", q.name);
            assert!(
                ALL[..i].iter().all(|p| p.name != q.name),
                "{} twice",
                q.name
            );
        }
    }

    #[test]
    fn old_servers_read_nulls_not_distinct_as_false() {
        assert!(CONSTRAINTS.sql.contains(NULLS_NOT_DISTINCT_COLUMN));
        let old = CONSTRAINTS.sql_for(140_000);
        assert!(!old.contains(NULLS_NOT_DISTINCT_COLUMN));
        assert!(old.contains("coalesce(false, false)"));
        assert_eq!(CONSTRAINTS.sql_for(150_000), CONSTRAINTS.sql);
        assert!(INDEXES.sql.contains(INDEX_NULLS_NOT_DISTINCT_COLUMN));
        let old = INDEXES.sql_for(140_000);
        assert!(!old.contains("indnullsnotdistinct"), "{old}");
        assert!(old.contains("false AS nulls_not_distinct"), "{old}");
        assert_eq!(INDEXES.sql_for(150_000), INDEXES.sql);
        assert_eq!(TABLES.sql_for(90_600), TABLES.sql);
    }
}
