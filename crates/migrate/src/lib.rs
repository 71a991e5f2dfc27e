//! Migration files, the revision graph, `retort.sum` and the runner that applies migrations to
//! PostgreSQL under an advisory lock, one transaction per migration with its version update.

mod error;
mod file;
mod graph;
mod plan;
mod runner;
mod split;
mod squash;
mod sum;

pub use error::{
    db_error_text, is_connection_lost, is_execution_failure, ChecksumProblem, Error, FailedStep,
    LostConnection,
};
pub use file::{
    load, migration_checksum, parts_checksum, rehash, revision_id, slug, write_revision, Migration,
    NewRevision, Part, DOWN_FILE, STEP_MARK, UP_FILE,
};
pub use graph::Graph;
pub use plan::{
    applied_set, known_row, offline_sql, plan_downgrade_from, plan_offline, plan_upgrade_from,
    progress_table, quote_table, transaction_blocker, undo_partial_step, Direction, Progress, Step,
};
pub use runner::{RunOptions, Runner, StepEvent, DEFAULT_VERSION_TABLE, LOCK_KEY};
pub use split::{split_statements, SqlStatement, Unterminated, MAX_WORDS};
pub use squash::{plan_squash, write_squash, Squash};
pub use sum::{edited_files, sum_text, verify_sum, write_sum, SUM_FILE, V2_HEADER};
