//! `retort`: the command line. Parses flags with clap, calls the engine, prints, picks exit codes.
//! Exit codes: 0 ok; 1 drift found or a migration failed; 2 usage, configuration or model error.

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use retort::config::{self, Config};
use retort::diagnostics::warn;
use retort::shadow::scratches;
use retort_migrate as migrate;

/// Schema-diff autogenerate and migrations for PostgreSQL, driven by annotated Rust structs.
#[derive(Parser)]
#[command(
    name = "retort",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("RETORT_GIT_COMMIT"), ")"),
    about,
    long_about = None
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// Path to retort.toml (default: search the current directory and its parents).
    #[arg(long, short = 'c', global = true)]
    config: Option<PathBuf>,
    /// Database URL; overrides DATABASE_URL and retort.toml.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// When to colour output: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

#[derive(Subcommand)]
enum DatabaseAction {
    /// Create the database the configuration names (nothing to do when it exists).
    Create,
    /// Drop the database the configuration names, ending its sessions. Asks for its name on a
    /// terminal; elsewhere needs --yes.
    Drop {
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum InitDialect {
    Native,
    Seaorm,
    Diesel,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// What `revision --autogenerate` compares the models with.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum AutogenerateFrom {
    /// The configured database (it must have every migration applied).
    Database,
    /// What the migrations build, replayed on a scratch database: for a database that already
    /// has the change (made by hand); write the revision, then `retort stamp head --verify`.
    Migrations,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LintFormat {
    Text,
    Json,
    Github,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LintSeverity {
    Error,
    Warning,
}

#[derive(Subcommand)]
enum Command {
    /// Create retort.toml and an empty migrations directory here.
    Init {
        /// Model files (globs; repeat for several). Default: from the dialect (native
        /// `src/**/*.rs`, SeaORM `src/entities/**/*.rs`, Diesel the `print_schema` file of
        /// diesel.toml or `src/schema.rs`).
        #[arg(long = "models", value_name = "PATH")]
        models: Vec<String>,
        /// Which models the project has: native, seaorm or diesel. Default: detected from the
        /// dependencies in Cargo.toml.
        #[arg(long, value_enum)]
        dialect: Option<InitDialect>,
    },
    /// Print a shell completion script, e.g. `retort completions bash > ~/.local/share/bash-completion/completions/retort`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `retort man > ~/.local/share/man/man1/retort.1`.
    Man,
    /// Create or drop the configured database (local set-up, like sqlx and diesel).
    Database {
        #[command(subcommand)]
        action: DatabaseAction,
    },
    /// Write a new migration revision on top of the current head.
    #[command(after_help = "Examples:
  retort revision --autogenerate -m \"add user email\"   diff the models against the database
  retort revision --empty -m \"backfill emails\"          write the SQL by hand
  retort revision --baseline -m baseline                adopt an existing database (then `retort stamp head --verify`)
  retort revision --autogenerate -m x --head 2026       on one of several heads")]
    Revision {
        /// What the migration does; becomes part of its id.
        #[arg(short, long)]
        message: String,
        /// Fill the migration with the difference between the models and the database.
        #[arg(long)]
        autogenerate: bool,
        /// What autogenerate compares the models with: the configured database, or what the
        /// migrations build (when the database already has the change).
        #[arg(
            long,
            value_enum,
            default_value = "database",
            requires = "autogenerate"
        )]
        from: AutogenerateFrom,
        /// Write the revision even when autogenerate finds no change.
        #[arg(long)]
        empty: bool,
        /// Parent revision when there are several heads (default: the single head).
        #[arg(long)]
        head: Option<String>,
        /// Build indexes of existing tables with CREATE INDEX CONCURRENTLY (no transaction).
        #[arg(long)]
        concurrent_indexes: bool,
        /// Short locks on filled tables: indexes CONCURRENTLY, foreign keys and checks added NOT
        /// VALID and validated in a last step, SET NOT NULL through a validated check (also
        /// `[generate] online = true`).
        #[arg(long)]
        online: bool,
        /// A column dropped and one of the same type added: `ask` on a terminal whether it is a
        /// rename (the default there), `error` to refuse (the default when CI is set),
        /// `drop-add` to write both with a `possible rename` warning (the default otherwise).
        #[arg(long, value_enum)]
        renames: Option<Renames>,
        /// Write the migration even when it drops more than half of the managed tables.
        #[arg(long)]
        allow_mass_drop: bool,
        /// Write a baseline: the whole schema of the models, as if the database were empty. For
        /// adopting Retort on an existing database: then `retort stamp head --verify`.
        #[arg(long, conflicts_with = "autogenerate")]
        baseline: bool,
    },
    /// Print the migration autogenerate would write, without writing it.
    #[command(after_help = "Examples:
  retort diff                              the SQL, hazards as -- WARNING comments
  retort diff --format json | jq .hazards  the same for tools
  retort diff --concurrent-indexes         indexes on existing tables built CONCURRENTLY
  retort diff --online                     short locks: CONCURRENTLY, NOT VALID + VALIDATE")]
    Diff {
        /// Output format: SQL text with hazard comments, or JSON changes and hazards.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Build indexes of existing tables with CREATE INDEX CONCURRENTLY (no transaction).
        #[arg(long)]
        concurrent_indexes: bool,
        /// As for `revision`: short locks on filled tables (see `retort revision --help`).
        #[arg(long)]
        online: bool,
        /// Show the migration even when it drops more than half of the managed tables.
        #[arg(long)]
        allow_mass_drop: bool,
    },
    /// For CI: exit 1 when the models differ from what the migrations build, on several heads, or
    /// when retort.sum does not match the files; 0 when all agree.
    ///
    /// By default the migrations are replayed on a scratch database created (and dropped) on the
    /// configured server; `--live` compares with the configured database itself instead, and says
    /// why they differ: exit 3 when the database is behind the migrations (pending, or a migration
    /// with `-- retort:step` lines interrupted partway), 4 when it
    /// drifted from what its migrations build (changed by hand), 1 when the models are ahead.
    #[command(after_help = "Examples:
  retort check              in CI: models vs what the migrations build (scratch database), retort.sum, heads
  retort check --live       models vs the configured database
  retort check --format json")]
    Check {
        /// Output format of the result.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Compare the models with the configured database instead of a scratch replay; exit 3
        /// pending migrations or an interrupted one, 4 drift, 1 models ahead.
        #[arg(long)]
        live: bool,
    },
    /// Replay every migration on a scratch database: up one step at a time, compare head with the
    /// models, then down one step at a time; report the first revision whose down does not undo its up.
    Verify,
    /// Rewrite retort.sum from the migration files, accepting their current content.
    Hash,
    /// Apply migrations up to TARGET: `head`, `heads`, a revision id or unique prefix, `+N`.
    #[command(after_help = "Examples:
  retort upgrade                          everything pending (head)
  retort upgrade +1                       the next migration only
  retort upgrade head --sql > plan.sql    review the exact SQL first
  retort upgrade --backup                 a pg_dump into backups/ first (refused if it fails)
  retort upgrade base:head --sql          offline, no database needed")]
    Upgrade {
        /// Target revision.
        #[arg(default_value = "head", allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it (offline with `FROM:TO`).
        #[arg(long)]
        sql: bool,
        /// Run even though an applied migration's file changed since it was recorded in retort.sum
        /// (pending migrations may always be edited before they are applied).
        #[arg(long)]
        allow_edited: bool,
        /// First write a pg_dump of the database into DIR (`--backup=DIR`; default: `[upgrade]
        /// backup`, else `backups/`), read it back in full, and print the restore command; the
        /// upgrade is refused when the backup fails. Only when there is a migration to run.
        #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, conflicts_with_all = ["sql", "no_backup"])]
        backup: Option<Option<PathBuf>>,
        /// No backup, even though `[upgrade] backup` asks for one.
        #[arg(long)]
        no_backup: bool,
        #[command(flatten)]
        limits: LockArgs,
    },
    /// Revert migrations down to TARGET: `-N`, a revision id or prefix, `base`.
    #[command(after_help = "Examples:
  retort downgrade -1                   revert the last migration
  retort downgrade 20261130_120000      back to that revision (a unique prefix is enough)
  retort downgrade head:base --sql      the down SQL, offline")]
    Downgrade {
        /// Target revision (`-1` reverts the last one).
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// Print the SQL instead of running it (offline with `FROM:TO`).
        #[arg(long)]
        sql: bool,
        /// Run even though a migration's file changed since it was recorded in retort.sum.
        #[arg(long)]
        allow_edited: bool,
        #[command(flatten)]
        limits: LockArgs,
    },
    /// Set the version table to TARGET without running any migration.
    Stamp {
        /// Target revision: `head`, an id or prefix, `base`.
        target: String,
        /// Delete all version rows first.
        #[arg(long)]
        purge: bool,
        /// Stamp only if the live schema already equals what the migrations up to TARGET build
        /// (replayed on a scratch database), so hand-made changes are adopted safely.
        #[arg(long)]
        verify: bool,
        /// Longest wait, in seconds, for the migration lock another run holds (0: do not wait).
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        lock_wait: u64,
    },
    /// Show the revision(s) the database is at.
    Current {
        /// Also show each revision's message and parents.
        #[arg(long, short)]
        verbose: bool,
    },
    /// List migrations, newest first (no database needed).
    History {
        /// Show parents, creation time and files.
        #[arg(long, short)]
        verbose: bool,
        /// Only revisions in a range `A:B` (ids or prefixes; either side may be empty).
        #[arg(long, short = 'r')]
        rev_range: Option<String>,
        /// Mark the revisions the database is at (current) and those applied before them
        /// (needs the database).
        #[arg(long, short = 'i')]
        indicate_current: bool,
    },
    /// List the head revisions (no database needed).
    Heads,
    /// List revisions where the graph branches (several children), with their children.
    Branches,
    /// Show one revision's header and SQL.
    Show {
        /// Revision id or unique prefix.
        revision: String,
    },
    /// Write a merge revision with several parents, joining branches into one head.
    Merge {
        /// The revisions to merge (ids or prefixes).
        #[arg(required = true, num_args = 2..)]
        revisions: Vec<String>,
        /// What the merge is for.
        #[arg(short, long)]
        message: String,
    },
    /// Fold a line of revisions FROM..TO into one, which keeps TO's id: its up.sql runs their ups
    /// in order, its down.sql their downs in reverse (steps outside a transaction stay steps).
    /// Before any file changes, two scratch databases check that the squashed history builds
    /// the same schema at TO and that its down gives back the schema before FROM. Databases at
    /// TO or later, and the revisions after TO, need no change.
    #[command(
        after_help = "Example:\n  retort squash 20250101_090000 20250301_120000 -m \"first quarter\""
    )]
    Squash {
        /// The oldest revision to fold in (id or prefix).
        from: String,
        /// The newest one; the squashed revision takes its id (id or prefix).
        to: String,
        /// The squashed revision's message (default: the messages of the line).
        #[arg(short, long)]
        message: Option<String>,
        /// Write the files without the check on scratch databases.
        #[arg(long)]
        no_verify: bool,
    },
    /// Write native models (`#[derive(Table)]`, `#[derive(DbEnum)]`) from the database, for
    /// adopting Retort on an existing one: then `retort revision --baseline` and
    /// `retort stamp head --verify`. Works outside a project with `--database-url`.
    Import {
        /// The file to write (default: src/models.rs of the project).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
        /// Schemas to import (repeatable; default: [scope] schemas, or public).
        #[arg(long = "schema", value_name = "SCHEMA")]
        schemas: Vec<String>,
    },
    /// Check migrations' up.sql for statements that hurt a production database (no database
    /// needed). Exit 1 when a finding at or above --severity exists.
    Lint {
        /// Only revisions in a range `A:B`, as for `history -r` (default: all).
        rev_range: Option<String>,
        /// `text` (`file:line: severity[R00x] message`), `json`, or `github` annotations.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// The severity that fails the run: `error` or `warning`.
        #[arg(long, value_enum, default_value_t = LintSeverity::Error)]
        severity: LintSeverity,
    },
    /// Control the shadow database: the private PostgreSQL Retort starts for scratch databases.
    Shadow {
        #[command(subcommand)]
        action: retort::shadow::ShadowAction,
    },
    /// Print the schema as Retort reads it: from the database (default) or from the models.
    Inspect {
        /// Read the models instead of the database.
        #[arg(long)]
        models: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// An error with the exit code it maps to.
struct Failure {
    code: i32,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        let code = exit_code(&error);
        Failure { code, error }
    }
}

/// The one place that maps errors to exit codes.
fn exit_code(error: &anyhow::Error) -> i32 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<migrate::Error>() {
            if migrate::is_execution_failure(e) {
                return 1;
            }
        }
    }
    2
}

fn main() {
    let cli = Cli::parse();
    match cli.global.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(f) => {
            // The one place errors are printed: credentials are hidden here, whatever the path.
            let model_errors = f
                .error
                .chain()
                .find_map(|c| c.downcast_ref::<retort::model_reader::ModelErrors>());
            let text = match model_errors {
                Some(errors) => retort::diagnostics::model_errors(errors),
                None => retort::diagnostics::labelled(
                    retort::diagnostics::ERROR,
                    "error",
                    &retort::error_text(&f.error),
                ),
            };
            anstream::eprintln!("{}", retort::redact(&text));
            std::process::exit(f.code);
        }
    }
}

fn run(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Init { models, dialect } => {
            return init(&models, dialect, cli.global.database_url.as_deref())
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "retort", &mut std::io::stdout());
            return Ok(0);
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
            return Ok(0);
        }
        // Works outside a project too, with the default `[shadow]`.
        Command::Shadow { action } => {
            let shadow = match cli.global.config.as_deref() {
                Some(path) => config::load(Some(path))?.shadow,
                None if config::locate(None).is_ok() => config::load(None)?.shadow,
                None => Default::default(),
            };
            return Ok(retort::shadow::run(action, &shadow)?);
        }
        _ => {}
    }
    let mut cfg = match config::load(cli.global.config.as_deref()) {
        Ok(cfg) => cfg,
        // `import` is how a project starts, and `inspect` looks at any database: without
        // retort.toml they read the database named by --database-url or DATABASE_URL with the
        // default configuration.
        Err(_)
            if matches!(
                cli.command,
                Command::Import { .. } | Command::Inspect { models: false, .. }
            ) && cli.global.config.is_none()
                && config::locate(None).is_err() =>
        {
            standalone_config()?
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(url) = cli.global.database_url {
        cfg.database_url = Some(url);
    }
    match cli.command {
        Command::Init { .. }
        | Command::Completions { .. }
        | Command::Man
        | Command::Shadow { .. } => unreachable_init(),
        Command::Revision {
            message,
            autogenerate,
            from,
            empty,
            head,
            concurrent_indexes,
            online,
            renames,
            allow_mass_drop,
            baseline,
        } => revision(
            &cfg,
            &message,
            if baseline {
                Source::Baseline
            } else if autogenerate && from == AutogenerateFrom::Migrations {
                Source::Migrations
            } else if autogenerate {
                Source::Database
            } else {
                Source::Manual
            },
            empty,
            head.as_deref(),
            &retort::RenderOptions {
                concurrent_indexes,
                online: online || cfg.online,
            },
            Guards {
                allow_mass_drop,
                renames,
            },
        ),
        Command::Diff {
            format,
            concurrent_indexes,
            online,
            allow_mass_drop,
        } => diff(
            &cfg,
            format,
            &retort::RenderOptions {
                concurrent_indexes,
                online: online || cfg.online,
            },
            allow_mass_drop,
        ),
        Command::Check { format, live } => check(&cfg, format, live),
        Command::Verify => verify(&cfg),
        Command::Hash => {
            let graph = migrate::rehash(&cfg.migrations_dir)?;
            println!("rewrote retort.sum for {} migration(s)", graph.len());
            Ok(0)
        }
        Command::Branches => branches(&cfg),
        Command::Upgrade {
            target,
            sql,
            allow_edited,
            backup,
            no_backup,
            limits,
        } => {
            let backup = match backup {
                _ if no_backup || sql => None,
                Some(Some(dir)) => Some(cfg.backup.options(dir)),
                Some(None) => Some(cfg.backup.options(cfg.backup.dir.clone())),
                None if cfg.backup.always => Some(cfg.backup.options(cfg.backup.dir.clone())),
                None => None,
            };
            migrate_cmd(
                &cfg,
                migrate::Direction::Up,
                &target,
                sql,
                allow_edited,
                limits.options(&cfg),
                backup,
            )
        }
        Command::Downgrade {
            target,
            sql,
            allow_edited,
            limits,
        } => migrate_cmd(
            &cfg,
            migrate::Direction::Down,
            &target,
            sql,
            allow_edited,
            limits.options(&cfg),
            None,
        ),
        Command::Stamp {
            target,
            purge,
            verify,
            lock_wait,
        } => stamp(&cfg, &target, purge, verify, lock_wait),
        Command::Current { verbose } => current(&cfg, verbose),
        Command::History {
            verbose,
            rev_range,
            indicate_current,
        } => history(&cfg, verbose, rev_range.as_deref(), indicate_current),
        Command::Heads => heads(&cfg),
        Command::Lint {
            rev_range,
            format,
            severity,
        } => lint(&cfg, rev_range.as_deref(), format, severity),
        Command::Show { revision } => show(&cfg, &revision),
        Command::Merge { revisions, message } => merge(&cfg, &revisions, &message),
        Command::Squash {
            from,
            to,
            message,
            no_verify,
        } => squash(&cfg, &from, &to, message.as_deref(), no_verify),
        Command::Inspect { models, format } => inspect(&cfg, models, format),
        Command::Database { action } => database(&cfg, action),
        Command::Import {
            out,
            force,
            schemas,
        } => import(&cfg, out, force, schemas),
    }
}

/// The configuration `retort import` and `retort inspect` use outside a project: retort.toml's
/// defaults, here.
fn standalone_config() -> anyhow::Result<Config> {
    Ok(Config {
        root: std::env::current_dir()?,
        database_url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
        model_paths: vec!["src/**/*.rs".into()],
        sql_paths: Vec::new(),
        migrations_dir: PathBuf::from("migrations"),
        database_parts: Vec::new(),
        scope: Default::default(),
        naming: Default::default(),
        manage: Default::default(),
        shadow: Default::default(),
        lock_timeout: None,
        statement_timeout: None,
        backup: Default::default(),
        online: false,
        lock_retries: 0,
    })
}

fn import(
    cfg: &Config,
    out: Option<PathBuf>,
    force: bool,
    schemas: Vec<String>,
) -> Result<i32, Failure> {
    let mut scope = cfg.scope.clone();
    if !schemas.is_empty() {
        scope.schemas = schemas;
    }
    let path = match out {
        Some(p) => p,
        None => cfg.root.join("src/models.rs"),
    };
    let shown = path
        .strip_prefix(std::env::current_dir()?)
        .unwrap_or(&path)
        .display()
        .to_string();
    if path.exists() && !force {
        return Err(anyhow!(
            "{shown} already exists: nothing was written (pass --force to overwrite it, or \
             --out PATH to write elsewhere)"
        )
        .into());
    }
    let url = cfg.database_url()?;
    let mut client = retort::connect(&url)?;
    let header = vec![
        format!(
            "Models imported from the database by `retort import` (schemas: {}).",
            scope.schemas.join(", ")
        ),
        "From now on these structs are the schema: edit them, then `retort revision \
         --autogenerate`."
            .to_string(),
    ];
    let imported = retort::import::import(
        &mut client,
        &scratches(cfg)?,
        &scope,
        &cfg.naming,
        &shown,
        header,
    )?;
    let sql_path = cfg.root.join("db/objects.sql");
    let sql_shown = sql_path
        .strip_prefix(std::env::current_dir()?)
        .unwrap_or(&sql_path)
        .display()
        .to_string();
    if imported.sql.is_some() && sql_path.exists() && !force {
        return Err(anyhow!(
            "{sql_shown} already exists: nothing was written (pass --force to overwrite it)"
        )
        .into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, &imported.written.source).with_context(|| format!("writing {shown}"))?;
    if let Some(sql) = &imported.sql {
        if let Some(dir) = sql_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&sql_path, &sql.text).with_context(|| format!("writing {sql_shown}"))?;
        let counts: Vec<String> = sql
            .counts
            .iter()
            .map(|(k, n)| format!("{n} {k}(s)"))
            .collect();
        println!("wrote {sql_shown}: {}", counts.join(", "));
        if cfg.sql_paths.is_empty() {
            println!(
                "  to manage them, add `sql = [\"db/objects.sql\"]` under [models] in retort.toml"
            );
        }
    }
    let w = &imported.written;
    println!(
        "wrote {shown}: {} table(s), {} enum type(s) from schema(s) {}",
        w.tables,
        w.enums,
        scope.schemas.join(", ")
    );
    let notes: Vec<String> = imported
        .unmanaged
        .iter()
        .cloned()
        .chain(w.notes.iter().map(ToString::to_string))
        .collect();
    if !notes.is_empty() {
        println!("not expressed by the models (also listed at the top of the file):");
        for n in &notes {
            println!("  - {n}");
        }
    }
    if let Some(w) = &imported.canon_warning {
        eprintln!("warning: {w}; model expressions were compared without the server's help");
    }
    if imported.remaining.is_empty() {
        println!(
            "read back: the models describe the database exactly (autogenerate finds nothing)"
        );
    } else {
        println!(
            "read back: autogenerate would find {} change(s) between these models and the database:",
            imported.remaining.len()
        );
        let sql = retort_render::render_body_with(&imported.remaining, &Default::default());
        for line in sql.lines().filter(|l| !l.trim().is_empty()) {
            println!("  {line}");
        }
    }
    if let Ok(files) = retort::model_reader::expand_globs(&cfg.root, &cfg.model_paths) {
        let target = path.canonicalize().ok();
        if !files.iter().any(|f| f.canonicalize().ok() == target) {
            println!(
                "note: {shown} is not matched by [models] paths = {:?}: add it there",
                cfg.model_paths
            );
        }
    }
    println!("next: retort revision --baseline -m \"baseline\", then retort stamp head --verify");
    Ok(0)
}

fn unreachable_init() -> Result<i32, Failure> {
    Err(anyhow!("init, completions, man and shadow are handled before the config is loaded").into())
}

fn init(
    models: &[String],
    dialect: Option<InitDialect>,
    database_url: Option<&str>,
) -> Result<i32, Failure> {
    let path = PathBuf::from(config::FILE_NAME);
    if path.exists() {
        return Err(anyhow!("{} already exists here", config::FILE_NAME).into());
    }
    let cargo = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
    let (dialect, why) = match dialect {
        Some(d) => (d, "as asked"),
        None => detect_dialect(&cargo),
    };
    let paths: Vec<String> = if models.is_empty() {
        vec![match dialect {
            InitDialect::Native => "src/**/*.rs".to_string(),
            InitDialect::Seaorm => "src/entities/**/*.rs".to_string(),
            InitDialect::Diesel => diesel_schema_file(),
        }]
    } else {
        models.to_vec()
    };
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut text = config::TEMPLATE.replace(
        "paths = [\"src/**/*.rs\"]",
        &format!(
            "paths = [{}]",
            paths
                .iter()
                .map(|p| quoted(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if let Some(url) = database_url {
        text = text.replace(
            "url = \"${DATABASE_URL}\"",
            &format!("url = {}", quoted(url)),
        );
    }
    std::fs::write(&path, text)?;
    std::fs::create_dir_all("migrations")?;
    println!("created {} and migrations/", config::FILE_NAME);
    println!(
        "models: {} ({:?} dialect, {why}); change [models] paths if they live elsewhere",
        paths.join(", "),
        dialect
    );
    if database_url.is_some_and(|u| retort::redact(u) != u) {
        println!("note: retort.toml now holds a password; `url = \"${{DATABASE_URL}}\"` with a .env file keeps it out of version control");
    }
    println!("next: run `retort revision --autogenerate -m \"initial schema\"` (or, on an existing database, `retort import` or `retort revision --baseline`)");
    Ok(0)
}

/// The dialect a crate's dependencies suggest, and why.
fn detect_dialect(cargo_toml: &str) -> (InitDialect, &'static str) {
    let deps = toml::from_str::<toml::Table>(cargo_toml).ok().map(|t| {
        ["dependencies", "dev-dependencies", "workspace"]
            .iter()
            .filter_map(|k| t.get(*k))
            .flat_map(|v| {
                let table = v.get("dependencies").unwrap_or(v);
                table
                    .as_table()
                    .map(|t| t.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect::<Vec<String>>()
    });
    let has = |name: &str| deps.as_ref().is_some_and(|d| d.iter().any(|k| k == name));
    if has("sea-orm") {
        (InitDialect::Seaorm, "Cargo.toml depends on sea-orm")
    } else if has("diesel") {
        (InitDialect::Diesel, "Cargo.toml depends on diesel")
    } else {
        (InitDialect::Native, "no sea-orm or diesel in Cargo.toml")
    }
}

/// Diesel's `schema.rs`: `[print_schema] file` of diesel.toml, else its default.
fn diesel_schema_file() -> String {
    std::fs::read_to_string("diesel.toml")
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| {
            t.get("print_schema")?
                .get("file")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "src/schema.rs".into())
}

fn database(cfg: &Config, action: DatabaseAction) -> Result<i32, Failure> {
    let url = cfg.database_url()?;
    match action {
        DatabaseAction::Create => {
            let (name, created) = retort::database_create(&url)?;
            if created {
                println!("created database {name}");
            } else {
                println!("database {name} already exists");
            }
        }
        DatabaseAction::Drop { yes } => {
            let name = retort::settings(&url)?.dbname;
            if !yes {
                use std::io::IsTerminal;
                if !std::io::stdin().is_terminal() {
                    return Err(anyhow!(
                        "refusing to drop database {name} without confirmation: pass --yes"
                    )
                    .into());
                }
                eprint!("drop database {name} and all its data? type its name to confirm: ");
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != name {
                    eprintln!("not dropped");
                    return Ok(1);
                }
            }
            let (name, existed) = retort::database_drop(&url)?;
            if existed {
                println!("dropped database {name}");
            } else {
                println!("database {name} does not exist");
            }
        }
    }
    Ok(0)
}

fn connect(cfg: &Config) -> anyhow::Result<postgres::Client> {
    retort::connect(&cfg.database_url()?)
}

fn load_graph(cfg: &Config) -> anyhow::Result<migrate::Graph> {
    Ok(migrate::load(&cfg.migrations_dir)?)
}

fn read_models(cfg: &Config) -> anyhow::Result<retort::model_reader::Models> {
    // Kept typed: the error printer renders each located error with its source line.
    retort::read_models(cfg).map_err(anyhow::Error::new)
}

/// The server normaliser on `scratches` (see `retort_engine::canon`). Where no scratch database
/// can be made, it falls back to the offline normaliser and says why.
fn normalizer(
    scratches: &retort::shadow::Scratches,
) -> retort_engine::Server<&retort::shadow::Scratches> {
    retort_engine::Server { scratch: scratches }
}

/// The warning for a server normaliser that fell back to the offline one.
fn warn_fallback(fallback: &Option<String>) {
    if let Some(e) = fallback {
        warn(&format!(
            "{}; comparing model expressions without the server's help (offline normaliser)",
            retort::redact(e)
        ));
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    // Tests and reproducible builds inject the clock.
    std::env::var("RETORT_NOW")
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now)
}

/// Reads models and database and diffs them, reporting timings on stderr.
/// Autogenerate against what the migrations build, replayed on a scratch database; the
/// configured database is not read.
fn autogenerate_from_migrations(
    cfg: &Config,
    graph: &migrate::Graph,
    opts: &retort::RenderOptions,
    allow_mass_drop: bool,
    renames: &[retort_engine::Rename],
) -> anyhow::Result<retort::Generated> {
    let project = retort::project(cfg);
    let scratch = scratches(cfg)?;
    let db = retort_engine::migrations_schema(
        &project,
        graph,
        &scratch,
        &mut retort::diagnostics::Bar::default(),
    )?;
    let report = retort_engine::autogenerate_from(
        &project,
        &db,
        &mut normalizer(&scratch),
        &retort_engine::AutogenerateOptions {
            render: opts.clone(),
            allow_mass_drop,
            renames: renames.to_vec(),
        },
    )?;
    warn_fallback(&report.fallback);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    Ok(report.generated)
}

fn autogenerate(
    cfg: &Config,
    client: &mut postgres::Client,
    opts: &retort::RenderOptions,
    allow_mass_drop: bool,
    renames: &[retort_engine::Rename],
) -> anyhow::Result<retort_engine::Autogenerated> {
    let report = retort_engine::autogenerate(
        &retort::project(cfg),
        client,
        &mut normalizer(&scratches(cfg)?),
        &retort_engine::AutogenerateOptions {
            render: opts.clone(),
            allow_mass_drop,
            renames: renames.to_vec(),
        },
    );
    let report = report?;
    warn_fallback(&report.fallback);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    let t = &report.timings;
    eprintln!(
        "read {} model table(s) in {:.0?}, normalised in {:.0?} ({}), {} database table(s) in {:.0?}, diffed and rendered in {:.0?}",
        report.model_tables,
        t.read_models,
        t.normalize,
        report.normalizer.label(),
        report.db_tables,
        t.introspect,
        t.diff + t.render
    );
    Ok(report)
}

/// Refuses to autogenerate against a database that is not at the head of the migrations.
fn require_at_heads(
    graph: &migrate::Graph,
    client: &mut postgres::Client,
    cfg: &Config,
) -> anyhow::Result<()> {
    let mut runner = migrate::Runner::new(client, &cfg.scope.version_table);
    let mut current = runner.current_readonly()?;
    let mut heads = graph.heads();
    current.sort();
    heads.sort();
    if let Some(gone) = current.iter().find(|id| graph.get(id).is_none()) {
        if let Err(e @ migrate::Error::Squashed { .. }) = migrate::known_row(graph, gone) {
            return Err(e.into());
        }
        // `upgrade head` cannot help here: it refuses for the same reason.
        bail!(
            "the database is at revision {gone}, which has no migration file in {}: restore the file (from version control), or, if it is gone on purpose, check the schema and record the right revision with `retort stamp <revision> --purge`",
            cfg.migrations_dir.display()
        );
    }
    if current != heads {
        bail!(
            "the database is not up to date (at {}, heads are {}): run `retort upgrade head` first, then autogenerate",
            if current.is_empty() { "base".to_string() } else { current.join(", ") },
            if heads.is_empty() { "base".to_string() } else { heads.join(", ") }
        );
    }
    Ok(())
}

/// What a new revision is generated from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// An empty revision, written by hand.
    Manual,
    /// The difference between the models and the database (autogenerate).
    Database,
    /// The difference between the models and what the migrations build (`--from migrations`).
    Migrations,
    /// The difference between the models and an empty database.
    Baseline,
}

fn revision(
    cfg: &Config,
    message: &str,
    source: Source,
    empty: bool,
    head: Option<&str>,
    opts: &retort::RenderOptions,
    guards: Guards,
) -> Result<i32, Failure> {
    let Guards {
        allow_mass_drop,
        renames,
    } = guards;
    let graph = load_graph(cfg)?;
    let parents = match head {
        Some(h) => vec![graph.resolve(h)?],
        None => {
            let heads = graph.heads();
            if heads.len() > 1 {
                return Err(anyhow!(
                    "there are {} heads ({}): run `retort merge {} -m \"merge\"` first, or pick one with --head",
                    heads.len(),
                    heads.join(", "),
                    heads.join(" ")
                )
                .into());
            }
            heads
        }
    };
    let g = match source {
        Source::Database | Source::Migrations => {
            let generate =
                |renames: &[retort_engine::Rename]| -> anyhow::Result<retort::Generated> {
                    if source == Source::Migrations {
                        autogenerate_from_migrations(cfg, &graph, opts, allow_mass_drop, renames)
                    } else {
                        let mut client = connect(cfg)?;
                        require_at_heads(&graph, &mut client, cfg)?;
                        Ok(
                            autogenerate(cfg, &mut client, opts, allow_mass_drop, renames)?
                                .generated,
                        )
                    }
                };
            let g = generate(&[])?;
            let candidates = retort_engine::possible_renames(&g.changes);
            let confirmed = decide_renames(&candidates, renames)?;
            let g = if confirmed.is_empty() {
                g
            } else {
                generate(&confirmed)?
            };
            if g.is_empty() && !empty {
                let what = if source == Source::Migrations {
                    "what the migrations build"
                } else {
                    "the database"
                };
                println!("no changes detected between the models and {what}; nothing written (use --empty to write an empty revision)");
                if graph.is_empty() {
                    println!("there are no migrations yet: to adopt this database, write its schema as a baseline with `retort revision --baseline -m \"baseline\"`, then record it as applied with `retort stamp head --verify`");
                }
                return Ok(0);
            }
            g
        }
        Source::Baseline => {
            let models = read_models(cfg)?;
            if models.catalog.tables().next().is_none() {
                return Err(anyhow!(
                    "the models declare no table: a baseline of them would be empty; check [models] paths = {:?} in retort.toml",
                    cfg.model_paths
                )
                .into());
            }
            retort::generate_with(
                &Default::default(),
                &models.catalog,
                &Default::default(),
                opts,
                &cfg.scope,
            )
        }
        Source::Manual => retort::generate::render(Vec::new(), Vec::new(), opts),
    };
    let m = migrate::write_revision(&cfg.migrations_dir, &new_revision(message, parents, &g))?;
    println!("created {}", m.dir.display());
    for (c, p) in g.changes.iter().zip(&g.in_models) {
        match p {
            retort::manage::Provenance::NotDeclared => {
                println!("  {} ({})", describe(c), p.label())
            }
            retort::manage::Provenance::Declared => println!("  {}", describe(c)),
        }
    }
    for h in g.up_plan.hazards() {
        anstream::println!(
            "  {}",
            retort::diagnostics::labelled(
                retort::diagnostics::WARNING,
                &format!("WARNING ({})", h.kind.label()),
                &h.message
            )
        );
    }
    if g.up_plan.header_no_transaction() {
        println!("  up.sql runs outside a transaction (-- retort:no-transaction): a failure leaves the statements before it applied");
    } else if g.up_plan.step_count() > 1 {
        println!(
            "  up.sql has {} steps (-- retort:step), each committed on its own: after a failure `retort upgrade` resumes at the step that failed",
            g.up_plan.step_count()
        );
    }
    match source {
        Source::Database => println!("review up.sql and down.sql, then run `retort upgrade head`"),
        Source::Migrations => println!(
            "review up.sql and down.sql; on a database that already has the change run `retort stamp {} --verify`, elsewhere `retort upgrade head`",
            m.id
        ),
        Source::Baseline => println!(
            "review the baseline; on a database that already has this schema run `retort stamp {} --verify`, on an empty one `retort upgrade head`",
            m.id
        ),
        Source::Manual => println!("write the SQL into up.sql and down.sql, then run `retort upgrade head`"),
    }
    Ok(0)
}

/// One line per change for summaries.
/// The revision files of a generated migration: its bodies, and the no-transaction marks its
/// statements need.
fn new_revision<'a>(
    message: &'a str,
    parents: Vec<String>,
    g: &retort::Generated,
) -> migrate::NewRevision<'a> {
    migrate::NewRevision {
        message,
        parents,
        created: now(),
        up_body: g.up.clone(),
        down_body: g.down.clone(),
        up_no_transaction: g.up_plan.header_no_transaction(),
        down_no_transaction: g.down_plan.header_no_transaction(),
    }
}

fn describe(c: &retort_schema::Change) -> String {
    retort::describe(c)
}

/// What `revision` refuses or asks before writing: a mass drop, possible renames.
#[derive(Clone, Copy, Debug)]
struct Guards {
    allow_mass_drop: bool,
    renames: Option<Renames>,
}

/// What `revision` does with a dropped and an added column of the same type (`--renames`).
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Renames {
    /// Ask on the terminal, for each pair: rename, or drop and add.
    Ask,
    /// Refuse to write the revision (the default when the CI variable is set).
    Error,
    /// Write the drop and the add, with a `possible rename` warning (the default when stdin is
    /// not a terminal and CI is not set).
    DropAdd,
}

/// The renames the user confirms among `candidates`, per `--renames` (or its default: `error`
/// when CI is set, `ask` on a terminal, else `drop-add`).
fn decide_renames(
    candidates: &[retort_engine::PossibleRename],
    mode: Option<Renames>,
) -> anyhow::Result<Vec<retort_engine::Rename>> {
    use std::io::IsTerminal;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let mode = mode.unwrap_or(if ci {
        Renames::Error
    } else if std::io::stdin().is_terminal() {
        Renames::Ask
    } else {
        Renames::DropAdd
    });
    let pair = |c: &retort_engine::PossibleRename| format!("{}.{} -> {}", c.table, c.from, c.to);
    match mode {
        Renames::DropAdd => Ok(Vec::new()),
        Renames::Error => Err(anyhow!(
            "possible rename(s), a column dropped and one of the same type added: {}; the drop would lose the column's data. Say which it is: `#[column(renamed_from = \"{}\")]` on the new field for a rename, or `--renames drop-add` to write them as drop and add (`--renames ask` asks on a terminal)",
            candidates.iter().map(pair).collect::<Vec<_>>().join(", "),
            candidates[0].from
        )),
        Renames::Ask => {
            let mut confirmed: Vec<retort_engine::PossibleRename> = Vec::new();
            let stdin = std::io::stdin();
            for c in candidates {
                // A column renamed once is neither renamed again nor the target of another.
                if confirmed.iter().any(|r| r.table == c.table && (r.from == c.from || r.to == c.to)) {
                    continue;
                }
                loop {
                    eprint!(
                        "{}: column {} is dropped and {} added with the same type. Renamed? [r]ename / [d]rop and add: ",
                        c.table, c.from, c.to
                    );
                    let mut line = String::new();
                    if stdin.read_line(&mut line)? == 0 {
                        return Err(anyhow!(
                            "no answer for {} (end of input): nothing was written",
                            pair(c)
                        ));
                    }
                    match line.trim().to_ascii_lowercase().as_str() {
                        "r" | "rename" | "y" | "yes" => {
                            confirmed.push(c.clone());
                            break;
                        }
                        "d" | "drop" | "n" | "no" => break,
                        _ => eprintln!("answer r (rename) or d (drop and add)"),
                    }
                }
            }
            for c in &confirmed {
                eprintln!("renaming {} (ALTER TABLE ... RENAME COLUMN keeps its data)", pair(c));
            }
            Ok(confirmed.iter().map(retort_engine::as_rename).collect())
        }
    }
}

fn diff(
    cfg: &Config,
    format: Format,
    opts: &retort::RenderOptions,
    allow_mass_drop: bool,
) -> Result<i32, Failure> {
    let mut client = connect(cfg)?;
    let report = autogenerate(cfg, &mut client, opts, allow_mass_drop, &[])?;
    let g = &report.generated;
    if format == Format::Json {
        let v = serde_json::to_value(&report)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if g.is_empty() {
        println!("no changes: the database matches the models");
    } else {
        print!("{}", not_declared_summary(g));
        anstream::print!("{}", retort::diagnostics::sql(&g.up));
    }
    Ok(0)
}

/// SQL comment lines naming the changes that remove what the models never mention (empty when
/// there is none): the ones `[manage]` in retort.toml decides about.
fn not_declared_summary(g: &retort::Generated) -> String {
    let silent: Vec<&retort_schema::Change> = g
        .changes
        .iter()
        .zip(&g.in_models)
        .filter(|(_, p)| **p == retort::manage::Provenance::NotDeclared)
        .map(|(c, _)| c)
        .collect();
    if silent.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "-- {} change(s) remove what the models do not declare (they are silent about it; \
         see [manage] in retort.toml):\n",
        silent.len()
    );
    for c in silent {
        out.push_str(&format!(
            "--   {} (not declared in the models)\n",
            describe(c)
        ));
    }
    out
}

fn check(cfg: &Config, format: Format, live: bool) -> Result<i32, Failure> {
    let project = retort::project(cfg);
    let scratch = scratches(cfg)?;
    let mut normalizer = normalizer(&scratch);
    let mut bar = retort::diagnostics::Bar::default();
    if live {
        let mut client = connect(cfg)?;
        let report =
            retort_engine::check_live(&project, &mut client, &scratch, &mut normalizer, &mut bar)?;
        let code = check_live_report(&report, format, &scratch)?;
        if format == Format::Text {
            lint_pending(cfg, &report.pending)?;
        }
        return Ok(code);
    }
    let report = retort_engine::check(
        &project,
        retort_engine::Against::Migrations(&scratch),
        &mut normalizer,
        &mut bar,
    )?;
    warn_fallback(&report.fallback);
    if format == Format::Json {
        let v = serde_json::to_value(&report)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for p in &report.problems {
            println!("problem: {p}");
        }
        let against = report.against.label();
        if report.changes.is_empty() {
            println!("models match {against}");
        } else {
            println!(
                "{} change(s) in the models that no migration makes yet (compared with {against}):",
                report.changes.len()
            );
            for c in &report.changes {
                match &c.model {
                    Some(o) => println!("  {o}: {} ({})", c.summary, c.provenance.label()),
                    None => println!("  {} ({})", c.summary, c.provenance.label()),
                }
            }
            println!("run `retort revision --autogenerate -m \"...\"` to write a migration");
        }
        println!("model expressions: {}", report.normalizer.label());
        println!("{}", scratch.report_line());
    }
    Ok(if report.ok { 0 } else { 1 })
}

/// Prints `check --live`'s result: the situation in its own words, and its exit code.
fn check_live_report(
    report: &retort_engine::LiveReport,
    format: Format,
    scratch: &retort::shadow::Scratches,
) -> Result<i32, Failure> {
    use retort_engine::Situation;
    warn_fallback(&report.check.fallback);
    let problems = !report.check.problems.is_empty();
    let code = match report.situation {
        Situation::InSync if problems => 1,
        s => s.exit_code(),
    };
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(code);
    }
    for p in &report.check.problems {
        println!("problem: {p}");
    }
    if let Some(e) = &report.replay_error {
        warn(&format!(
            "cannot tell drift: the migrations do not replay on an empty scratch database ({e}); \
             the models are compared with the database only"
        ));
    }
    match report.situation {
        Situation::InSync => {
            println!("models match the database, which has every migration applied")
        }
        Situation::Behind => {
            println!(
                "the database is behind the migrations: {} pending ({}); run `retort upgrade head`",
                report.pending.len(),
                report.pending.join(", ")
            );
        }
        Situation::Interrupted => {
            println!("a migration run was interrupted partway:");
            for i in &report.interrupted {
                println!("  {i}");
            }
            println!(
                "run `retort upgrade` to resume it at the step that did not commit, or `retort downgrade` to take its committed steps back"
            );
        }
        Situation::Drifted => {
            println!("the database drifted from what its migrations build (changed by hand):");
            for d in &report.drift {
                println!("  {d}");
            }
            println!(
                "to keep the database's version, write it as a revision (`retort revision --autogenerate`) \
                 and record it with `retort stamp head --verify`; to undo it, restore what the migrations build"
            );
        }
        Situation::ModelsAhead => {
            println!(
                "{} change(s) in the models that no migration makes yet (compared with the database):",
                report.check.changes.len()
            );
            for c in &report.check.changes {
                match &c.model {
                    Some(o) => println!("  {o}: {} ({})", c.summary, c.provenance.label()),
                    None => println!("  {} ({})", c.summary, c.provenance.label()),
                }
            }
            println!("run `retort revision --autogenerate -m \"...\"` to write a migration");
        }
    }
    println!("model expressions: {}", report.check.normalizer.label());
    println!("{}", scratch.report_line());
    Ok(code)
}

fn verify(cfg: &Config) -> Result<i32, Failure> {
    let started = Instant::now();
    let scratch = scratches(cfg)?;
    let report = retort_engine::verify(
        &retort::project(cfg),
        &scratch,
        &mut normalizer(&scratch),
        &mut retort::diagnostics::Bar::default(),
    )?;
    warn_fallback(&report.fallback);
    if report.ok() {
        println!(
            "verified {} migration(s) up and down in {:.2?} on {}: every down undoes its up, head matches the models ({})",
            report.migrations,
            started.elapsed(),
            scratch
                .label()
                .unwrap_or_else(|| "a scratch database".into()),
            report.normalizer.label()
        );
        return Ok(0);
    }
    for f in &report.failures {
        if f.revision == "models" {
            println!("head does not match the models; missing migration for:");
        } else {
            println!(
                "down of {} does not undo its up; to reach the schema before it, still needed:",
                f.revision
            );
        }
        for c in &f.changes {
            println!("  {}", describe(c));
        }
    }
    println!("model expressions: {}", report.normalizer.label());
    Ok(1)
}

/// The migration lock's wait limit and the timeouts for migration DDL.
#[derive(Args, Debug)]
struct LockArgs {
    /// Longest wait, in seconds, for the migration lock another run holds (0: do not wait); the
    /// error names the holder (pid, application_name, since when).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    lock_wait: u64,
    /// `lock_timeout` for each migration's statements (a PostgreSQL duration: `5s`, `500ms`),
    /// set with SET LOCAL in its transaction; overrides `[migrations] lock_timeout`.
    #[arg(long, value_name = "DURATION")]
    lock_timeout: Option<String>,
    /// `statement_timeout` for each migration's statements, likewise; overrides
    /// `[migrations] statement_timeout`.
    #[arg(long, value_name = "DURATION")]
    statement_timeout: Option<String>,
    /// How often a migration (or step) runs again after a statement hit lock_timeout (it was
    /// rolled back whole), waiting 1 s, 2 s, 4 s, ... between tries; overrides `[migrations]
    /// lock_retries` (default 0).
    #[arg(long, value_name = "N")]
    lock_retries: Option<u32>,
}

impl LockArgs {
    fn options(&self, cfg: &Config) -> migrate::RunOptions {
        migrate::RunOptions {
            lock_wait: Some(Duration::from_secs(self.lock_wait)),
            lock_timeout: self
                .lock_timeout
                .clone()
                .or_else(|| cfg.lock_timeout.clone()),
            statement_timeout: self
                .statement_timeout
                .clone()
                .or_else(|| cfg.statement_timeout.clone()),
            lock_retries: self.lock_retries.unwrap_or(cfg.lock_retries),
        }
    }
}

fn migrate_cmd(
    cfg: &Config,
    direction: migrate::Direction,
    target: &str,
    sql: bool,
    allow_edited: bool,
    options: migrate::RunOptions,
    backup: Option<retort::backup::Options>,
) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    if sql {
        let (from, to) = match target.split_once(':') {
            Some((f, t)) => (Some(f.to_string()), t.to_string()),
            None => {
                // Without FROM, the plan starts where the database is: it must be reachable (its
                // version table is only read). Guessing "base" or "head" would print wrong SQL.
                let where_from = |why: String| {
                    let example = match direction {
                        migrate::Direction::Up => format!("base:{target}"),
                        migrate::Direction::Down => format!(
                            "head:{}",
                            if target.starts_with('-') {
                                "base"
                            } else {
                                target
                            }
                        ),
                    };
                    anyhow!(
                        "{why}; without it --sql cannot know which revision to start from: give the range explicitly, e.g. `retort {} {example} --sql`",
                        match direction {
                            migrate::Direction::Up => "upgrade",
                            migrate::Direction::Down => "downgrade",
                        }
                    )
                };
                let url = cfg
                    .database_url()
                    .map_err(|e| where_from(format!("{e:#}")))?;
                let mut client = retort::connect(&url).map_err(|e| where_from(format!("{e:#}")))?;
                let mut runner = migrate::Runner::new(&mut client, &cfg.scope.version_table);
                let cur = runner.current_readonly()?;
                let from = Some(if cur.is_empty() {
                    "base".to_string()
                } else {
                    cur.join(",")
                });
                (from, target.to_string())
            }
        };
        let steps = migrate::plan_offline(&graph, from.as_deref(), &to, direction)?;
        print!(
            "{}",
            migrate::offline_sql(&graph, &steps, &cfg.scope.version_table)
        );
        return Ok(0);
    }
    let mut client = connect(cfg)?;
    let mut runner =
        migrate::Runner::new(&mut client, &cfg.scope.version_table).with_options(options.clone());
    let steps = match direction {
        migrate::Direction::Up => runner.plan_upgrade(&graph, target)?,
        migrate::Direction::Down => runner.plan_downgrade(&graph, target)?,
    };
    // Applied migrations must not change, even when there is nothing to run. Files that differ
    // from retort.sum but match what the version table recorded when they were applied (a run
    // that stopped before retort.sum was rewritten) are accepted, and recorded below.
    let accepted = if allow_edited {
        Vec::new()
    } else {
        runner.refuse_edited_applied(&graph)?
    };
    let edited = migrate::edited_files(&cfg.migrations_dir, &graph)?;
    let record_sum = || -> Result<(), Failure> {
        migrate::rehash(&cfg.migrations_dir)?;
        Ok(())
    };
    if steps.is_empty() {
        if !accepted.is_empty() {
            record_sum()?;
            println!(
                "recorded {} file(s) in retort.sum that an earlier, interrupted run applied: {}",
                accepted.len(),
                accepted.join(", ")
            );
        }
        println!("nothing to do: the database is already at {target}");
        return Ok(0);
    }
    if let Some(opts) = &backup {
        drop(runner);
        let url = cfg.database_url()?;
        let label = steps.last().map_or(target, |s| s.id.as_str());
        let b = retort::backup::run(&url, &mut client, opts, label).map_err(|e| Failure {
            code: 1,
            error: anyhow!("the backup before the upgrade failed, so nothing was applied: {e:#}"),
        })?;
        println!(
            "backup: {} ({} bytes, read back in full); to restore it: {}",
            b.path.display(),
            b.bytes,
            b.restore
        );
        runner = migrate::Runner::new(&mut client, &cfg.scope.version_table)
            .with_options(options.clone());
    }
    let started = Instant::now();
    let (mut done, mut skipped) = (0usize, 0usize);
    let mut sum_error: Option<migrate::Error> = None;
    let up = direction == migrate::Direction::Up;
    let mut observer = |ev: &migrate::StepEvent| {
        eprintln!("{ev}");
        match ev {
            migrate::StepEvent::Finished { .. } => {
                done += 1;
                // Record edited files in retort.sum right after each migration is applied, so that
                // a later failure or interruption does not make them look edited on the rerun.
                if up && (!edited.is_empty() || !accepted.is_empty()) && sum_error.is_none() {
                    if let Err(e) = migrate::rehash(&cfg.migrations_dir) {
                        sum_error = Some(e);
                    }
                }
            }
            migrate::StepEvent::Skipped { .. } => skipped += 1,
            _ => {}
        }
    };
    let result = runner.run(&graph, &steps, allow_edited, &mut observer);
    if let Err(e) = result {
        if done > 0 {
            eprintln!(
                "{} {done} migration(s) before the failure; they stay {}",
                if up { "applied" } else { "reverted" },
                if up { "applied" } else { "reverted" }
            );
        }
        return Err(e.into());
    }
    if let Some(e) = sum_error {
        return Err(anyhow!(
            "the migrations were applied, but retort.sum could not be rewritten: {e}"
        )
        .into());
    }
    let verb = if up { "applied" } else { "reverted" };
    if done == 0 {
        println!(
            "nothing to {}: another process {verb} the planned migration(s) meanwhile; the database is already at {target}",
            if up { "apply" } else { "revert" }
        );
    } else if skipped > 0 {
        println!(
            "{verb} {done} migration(s) in {:.2?} ({skipped} more were {verb} by another process meanwhile)",
            started.elapsed()
        );
    } else {
        println!("{verb} {done} migration(s) in {:.2?}", started.elapsed());
    }
    if !accepted.is_empty() && !up {
        record_sum()?;
    }
    if up && (!edited.is_empty() || !accepted.is_empty()) {
        // Pending migrations edited after `revision` wrote them (reviewed by hand) are now applied:
        // their content is recorded so that later edits of them are caught.
        println!(
            "recorded {} edited file(s) in retort.sum now that they are applied: {}",
            edited.len(),
            edited.join(", ")
        );
    }
    Ok(0)
}

fn stamp(
    cfg: &Config,
    target: &str,
    purge: bool,
    verify: bool,
    lock_wait: u64,
) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let mut client = connect(cfg)?;
    if verify {
        let report = retort_engine::stamp_verify(
            &retort::project(cfg),
            &mut client,
            &scratches(cfg)?,
            target,
            &mut retort::diagnostics::Bar::default(),
        )?;
        if !report.ok() {
            let mut msg = format!(
                "refusing to stamp {target}: the database differs from what the migrations up to {target} build ({} difference(s)):",
                report.differences.len()
            );
            for c in &report.differences {
                msg.push_str(&format!("\n  needed: {}", describe(c)));
            }
            return Err(anyhow!(msg).into());
        }
        println!("verified: the database already has the schema of {target}");
    }
    let mut runner = migrate::Runner::new(&mut client, &cfg.scope.version_table).with_options(
        migrate::RunOptions {
            lock_wait: Some(Duration::from_secs(lock_wait)),
            ..Default::default()
        },
    );
    runner.stamp(&graph, target, purge)?;
    let cur = runner.current()?;
    println!(
        "stamped: the database is now at {}",
        if cur.is_empty() {
            "base".into()
        } else {
            cur.join(", ")
        }
    );
    Ok(0)
}

fn current(cfg: &Config, verbose: bool) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let mut client = connect(cfg)?;
    let mut runner = migrate::Runner::new(&mut client, &cfg.scope.version_table);
    let cur = runner.current_readonly()?;
    let interrupted = runner.progress()?;
    if cur.is_empty() {
        println!("base (no migration applied)");
    }
    for p in &interrupted {
        let next = match p.direction {
            migrate::Direction::Up => {
                "`retort upgrade` resumes it, `retort downgrade` takes the committed steps back"
            }
            migrate::Direction::Down => {
                "`retort downgrade` resumes it, `retort upgrade` takes the committed steps back"
            }
        };
        println!("{} (partly applied: {}; {next})", p.revision, p.describe());
    }
    for id in cur.iter().filter(|id| graph.get(id).is_none()) {
        if let Err(e @ migrate::Error::Squashed { .. }) = migrate::known_row(&graph, id) {
            eprintln!("warning: {e}");
            continue;
        }
        eprintln!(
            "warning: the database is at {id}, which has no migration file in {}: restore the file, or `retort stamp <revision> --purge` after checking the schema",
            cfg.migrations_dir.display()
        );
    }
    let heads = graph.heads();
    for id in &cur {
        let tag = if heads.contains(id) { " (head)" } else { "" };
        println!("{id}{tag}");
        if verbose {
            if let Some(m) = graph.get(id) {
                println!("    message: {}", m.message);
                println!("    revises: {}", parents_text(&m.parents));
                println!("    created: {}", m.created);
            }
        }
    }
    Ok(0)
}

fn parents_text(p: &[String]) -> String {
    if p.is_empty() {
        "base".into()
    } else {
        p.join(", ")
    }
}

fn history(
    cfg: &Config,
    verbose: bool,
    range: Option<&str>,
    indicate_current: bool,
) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    if graph.is_empty() {
        if cfg.migrations_dir.exists() {
            println!(
                "no migrations yet in {} (`retort revision -m MESSAGE` writes the first)",
                cfg.migrations_dir.display()
            );
        } else {
            println!(
                "no migrations yet: {} does not exist (`retort revision -m MESSAGE` creates it)",
                cfg.migrations_dir.display()
            );
        }
        return Ok(0);
    }
    let heads = graph.heads();
    let (current, applied) = if indicate_current {
        let mut client = connect(cfg)?;
        let mut runner = migrate::Runner::new(&mut client, &cfg.scope.version_table);
        let cur = runner.current_readonly()?;
        let applied = graph.ancestors_of(cur.iter().map(String::as_str));
        (cur, applied)
    } else {
        (Vec::new(), Default::default())
    };
    let keep = range_ids(&graph, range)?;
    for m in graph.history() {
        if keep.as_ref().is_some_and(|k| !k.contains(&m.id)) {
            continue;
        }
        let mut tag = if heads.contains(&m.id) { " (head)" } else { "" }.to_string();
        if current.contains(&m.id) {
            tag.push_str(" (current)");
        } else if applied.contains(&m.id) {
            tag.push_str(" (applied)");
        }
        println!(
            "{} -> {}{tag}, {}",
            parents_text(&m.parents),
            m.id,
            m.message
        );
        if verbose {
            println!("    created: {}", m.created);
            println!("    path: {}", m.dir.display());
        }
    }
    Ok(0)
}

/// `A:B`: descendants of A (inclusive) that are ancestors of B (inclusive); `None` for no range.
fn range_ids(
    graph: &migrate::Graph,
    range: Option<&str>,
) -> anyhow::Result<Option<std::collections::BTreeSet<String>>> {
    let keep = match range {
        None => None,
        Some(r) => {
            let (a, b) = r
                .split_once(':')
                .ok_or_else(|| anyhow!("-r expects a range `A:B`, got `{r}`"))?;
            let upper = match b {
                "" | "head" | "heads" => graph.order().iter().cloned().collect(),
                b => graph.ancestors(&graph.resolve(b)?),
            };
            let lower = match a {
                "" | "base" => graph.order().iter().cloned().collect(),
                a => {
                    let id = graph.resolve(a)?;
                    let mut d = graph.descendants(&id);
                    d.insert(id);
                    d
                }
            };
            Some(upper.intersection(&lower).cloned().collect())
        }
    };
    Ok(keep)
}

/// A migration's up.sql and its path as shown (relative to `cwd`).
fn up_sql(m: &migrate::Migration, cwd: &std::path::Path) -> anyhow::Result<(String, String)> {
    let path = m.up_path();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let shown = path
        .strip_prefix(cwd)
        .unwrap_or(&path)
        .display()
        .to_string();
    Ok((text, shown))
}

/// `check --live`: the error-level `retort lint` findings of the migrations the database has
/// still to apply, so a reviewer sees them before `upgrade` runs them.
fn lint_pending(cfg: &Config, pending: &[String]) -> Result<(), Failure> {
    let graph = load_graph(cfg)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    for id in pending {
        let Some(m) = graph.get(id) else { continue };
        let (text, shown) = up_sql(m, &cwd)?;
        for f in retort_lint::lint(&text) {
            if f.severity == retort_lint::Severity::Error {
                println!("lint: {}", retort_lint::text_line(&shown, &f));
            }
        }
    }
    Ok(())
}

fn lint(
    cfg: &Config,
    range: Option<&str>,
    format: LintFormat,
    threshold: LintSeverity,
) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let keep = range_ids(&graph, range)?;
    let threshold = match threshold {
        LintSeverity::Error => retort_lint::Severity::Error,
        LintSeverity::Warning => retort_lint::Severity::Warning,
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut fail = false;
    let mut json = Vec::new();
    for id in graph.order() {
        if keep.as_ref().is_some_and(|k| !k.contains(id)) {
            continue;
        }
        let m = graph.get(id).context("revision in the graph")?;
        let (text, shown) = up_sql(m, &cwd)?;
        for f in retort_lint::lint(&text) {
            fail |= f.severity >= threshold;
            match format {
                LintFormat::Text => println!("{}", retort_lint::text_line(&shown, &f)),
                LintFormat::Github => println!("{}", retort_lint::github_line(&shown, &f)),
                LintFormat::Json => {
                    let mut v = serde_json::to_value(&f).context("finding as JSON")?;
                    v["file"] = serde_json::Value::String(shown.clone());
                    v["revision"] = serde_json::Value::String(m.id.clone());
                    json.push(v);
                }
            }
        }
    }
    if format == LintFormat::Json {
        println!("{}", serde_json::to_string_pretty(&json).context("JSON")?);
    }
    Ok(i32::from(fail))
}

fn branches(cfg: &Config) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    for id in graph.order() {
        let children = graph.children(id);
        if children.len() > 1 {
            println!("{id} (branchpoint)");
            for c in children {
                println!("    -> {c}");
            }
        }
    }
    Ok(0)
}

fn heads(cfg: &Config) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    for h in graph.heads() {
        println!("{h} (head)");
    }
    Ok(0)
}

fn show(cfg: &Config, rev: &str) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let id = graph.resolve(rev)?;
    let m = graph
        .get(&id)
        .with_context(|| format!("revision {id} vanished"))?;
    println!("revision: {}", m.id);
    println!("revises:  {}", parents_text(&m.parents));
    println!("message:  {}", m.message);
    println!("created:  {}", m.created);
    println!("path:     {}", m.dir.display());
    println!("\n-- up.sql\n{}", m.up);
    println!("-- down.sql\n{}", m.down);
    Ok(0)
}

fn merge(cfg: &Config, revs: &[String], message: &str) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let parents = revs
        .iter()
        .map(|r| graph.resolve(r))
        .collect::<Result<Vec<_>, _>>()?;
    let m = migrate::write_revision(
        &cfg.migrations_dir,
        &migrate::NewRevision {
            message,
            parents,
            created: now(),
            up_body: String::new(),
            down_body: String::new(),
            up_no_transaction: false,
            down_no_transaction: false,
        },
    )?;
    println!("created merge revision {}", m.dir.display());
    Ok(0)
}

fn squash(
    cfg: &Config,
    from: &str,
    to: &str,
    message: Option<&str>,
    no_verify: bool,
) -> Result<i32, Failure> {
    let graph = load_graph(cfg)?;
    let plan = migrate::plan_squash(&graph, from, to, message, &now())?;
    if !no_verify {
        let scratch = scratches(cfg)?;
        let failures = retort_engine::verify_squash(
            &graph,
            &plan,
            &retort::project(cfg).scope,
            &scratch,
            &mut retort::diagnostics::Bar::default(),
        )?;
        if !failures.is_empty() {
            for f in &failures {
                println!(
                    "the squashed {} differs from the revisions it folds:",
                    f.revision
                );
                for c in &f.changes {
                    println!("  {}", describe(c));
                }
            }
            println!("nothing was written");
            return Ok(1);
        }
        println!(
            "checked on {}: the squashed history builds the same schema at {}, and its down gives back the one before {}",
            scratch
                .label()
                .unwrap_or_else(|| "scratch databases".into()),
            plan.id,
            plan.line[0]
        );
    }
    migrate::write_squash(&cfg.migrations_dir, &plan)?;
    println!(
        "squashed {} revisions into {}",
        plan.line.len(),
        graph
            .get(&plan.id)
            .map_or_else(|| plan.id.clone(), |m| m.dir.display().to_string())
    );
    let inside: Vec<&str> = plan
        .line
        .iter()
        .filter(|id| **id != plan.id)
        .map(String::as_str)
        .collect();
    eprintln!(
        "warning: a database still at {} cannot use the squashed history: upgrade it to {} with the files as they were before (`retort current` on each database says where it is)",
        inside.join(" or "),
        plan.id
    );
    Ok(0)
}

fn inspect(cfg: &Config, from_models: bool, format: Format) -> Result<i32, Failure> {
    let catalog = if from_models {
        cfg.scope.filter(read_models(cfg)?.catalog)
    } else {
        let mut client = connect(cfg)?;
        retort::introspect(&mut client, &cfg.scope)?
    };
    match format {
        Format::Json => println!("{}", catalog.to_json()),
        Format::Text => {
            // The DDL that creates the schema from nothing: readable and copy-pasteable.
            let g = retort::generate(&Default::default(), &catalog, &cfg.scope);
            anstream::print!("{}", retort::diagnostics::sql(&g.up));
        }
    }
    Ok(0)
}
