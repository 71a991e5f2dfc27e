//! Reads annotated Rust model files with syn (never compiling them) into Retort's Schema IR,
//! together with the source position of every table, column and enum and the rename hints.

pub mod case;
mod files;
pub mod manage;
mod map_type;
mod read;
mod seaorm_types;
mod sql;
mod syntax;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use retort_schema::{Catalog, QualName};

/// How model files are interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Schema of tables, enums and type names that do not name one (usually `public`).
    pub default_schema: String,
    /// The schemas Retort manages (`[scope] schemas`); a table or enum placed in another one is
    /// an error. None accepts every schema.
    pub schemas: Option<Vec<String>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            default_schema: "public".into(),
            schemas: None,
        }
    }
}

/// A position in a model file: 1-based line and column (columns count characters).
/// Line 0 means the error concerns the whole file or pattern, with no position inside it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    pub file: String,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

/// A `renamed_from` hint: table `table` (or its column `column`) used to be called `from`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenameHint {
    pub table: QualName,
    pub column: Option<String>,
    pub from: String,
}

/// The model dialect a table was declared in: it decides which properties the models can state
/// (what a dialect cannot express is left to the database, see the adoption policy).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Dialect {
    /// `#[derive(Table)]` / `#[derive(DbEnum)]`: Retort's own attributes, which can say everything.
    Native,
    /// SeaORM entities (`DeriveEntityModel`, `DeriveActiveEnum`).
    SeaOrm,
    /// Diesel's `table!` macros (a `diesel print-schema` `schema.rs`): names, column types,
    /// nullability, primary keys, `joinable!` foreign keys and comments, nothing else.
    Diesel,
}

/// What the model files declare.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Models {
    /// Canonical catalog (see `Catalog::canonicalize`); columns in field order.
    pub catalog: Catalog,
    /// Where each object is declared: keys `schema.table`, `schema.table.column`, `schema.enum`.
    pub origins: BTreeMap<String, Span>,
    /// `renamed_from` hints in declaration order.
    pub renames: Vec<RenameHint>,
    /// `#[db_enum(renamed_from = "...")]` hints on enum variants.
    pub enum_value_renames: Vec<EnumValueRename>,
    /// The dialect of each table, keyed `schema.table`.
    pub dialects: BTreeMap<String, Dialect>,
    /// SQL declaration files (`[models] sql`) as (name used in messages, text): views,
    /// functions, triggers the server reads back after they run on a scratch database. Not
    /// parsed here, and not cached with the rest.
    #[serde(skip)]
    pub sql: Vec<(String, String)>,
}

/// An enum label that used to be spelled `from` and is now `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnumValueRename {
    pub enum_type: QualName,
    pub from: String,
    pub to: String,
}

/// A located mistake in the model files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub span: Span,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span, self.message)
    }
}

impl std::error::Error for ModelError {}

/// Every mistake found, in file order then position order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ModelErrors {}

/// Reads models from `(path used in messages, source text)` pairs.
pub fn read_sources(
    sources: &[(String, String)],
    opts: &ReadOptions,
) -> Result<Models, ModelErrors> {
    read::read(sources, opts)
}

/// Reads model files; messages name each file as it is given here.
pub fn read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<Models, ModelErrors> {
    files::read_files(paths, opts)
}

/// Expands `patterns` (relative to `base` unless absolute) into a sorted list of files.
/// A pattern that matches no file is an error.
pub fn expand_globs(base: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, ModelErrors> {
    files::expand_globs(base, patterns)
}
