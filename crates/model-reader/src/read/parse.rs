//! Parsing the files on worker threads while the builder consumes them in file order.
//!
//! Files that can declare an enum type (their text mentions `DbEnum` or `DeriveActiveEnum`) are
//! parsed first: every enum must be known before any table is built. The other files follow in
//! file order, at most `WINDOW` of them parsed ahead of the builder, so that the declarations of
//! all files are never held at once. Results never depend on the number of threads: the builder
//! takes each file's declarations in a fixed order.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::syntax::{self, FileDecls};

/// Parsed files (not counting enum files) that may wait for the builder, per worker.
const WINDOW: usize = 2;

/// More workers than this do not pay off: the builder consumes the files on one thread.
const MAX_WORKERS: usize = 4;

/// True when `text` may declare an enum type. A derive is recognised by its last path segment,
/// an identifier, so a file whose text lacks both names cannot declare one.
fn may_declare_enums(text: &str) -> bool {
    text.contains("DbEnum") || text.contains("DeriveActiveEnum")
}

/// One file's declarations; spans are already converted to positions, so proc-macro2's
/// thread-local source map is released right after.
fn parse_one(text: &str) -> FileDecls {
    let decls = syntax::parse_file(text);
    // Every span of this file has been converted; free this thread's source map.
    proc_macro2::extra::invalidate_current_thread_spans();
    decls
}

struct State {
    /// Next position in `Plan::order` to hand to a worker.
    next: usize,
    /// Parsed files waiting for the builder, by file index.
    slots: Vec<Option<FileDecls>>,
    /// Non-enum files handed out and not yet taken by the builder.
    ahead: usize,
    /// A worker panicked: nothing more will arrive.
    failed: bool,
    /// The builder is done (or gave up): workers stop.
    closed: bool,
}

/// The files in the order they are parsed and which of them may declare enums.
pub(super) struct Plan {
    order: Vec<usize>,
    enum_file: Vec<bool>,
}

impl Plan {
    pub(super) fn new(sources: &[(String, String)]) -> Plan {
        let enum_file: Vec<bool> = sources.iter().map(|(_, t)| may_declare_enums(t)).collect();
        let mut order: Vec<usize> = (0..sources.len()).filter(|&i| enum_file[i]).collect();
        order.extend((0..sources.len()).filter(|&i| !enum_file[i]));
        Plan { order, enum_file }
    }

    /// Indexes of the files that may declare enums, in file order.
    pub(super) fn enum_files(&self) -> impl Iterator<Item = usize> + '_ {
        self.order
            .iter()
            .copied()
            .take_while(|&i| self.enum_file[i])
    }
}

/// Hands out parsed files; `take` blocks until the file is parsed.
pub(super) struct Parser<'s> {
    sources: &'s [(String, String)],
    plan: &'s Plan,
    /// Without worker threads, files are parsed on the builder's thread when taken.
    threaded: bool,
    /// Non-enum files that may be parsed ahead of the builder.
    window: usize,
    state: Mutex<State>,
    /// A file was parsed (or a worker failed).
    parsed: Condvar,
    /// The builder took a file: a worker may parse further ahead.
    taken: Condvar,
}

impl<'s> Parser<'s> {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The declarations of `file`, which must be taken only once.
    pub(super) fn take(&self, file: usize) -> FileDecls {
        if !self.threaded {
            return parse_one(&self.sources[file].1);
        }
        let mut state = self.lock();
        loop {
            if self.plan.order.get(state.next) == Some(&file) {
                // No worker has started it: parse it here rather than wait.
                state.next += 1;
                drop(state);
                return parse_one(&self.sources[file].1);
            }
            if let Some(decls) = state.slots[file].take() {
                if !self.plan.enum_file[file] {
                    state.ahead -= 1;
                    self.taken.notify_all();
                }
                return decls;
            }
            if state.failed {
                drop(state);
                panic!("a model file parser thread panicked");
            }
            state = self
                .parsed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A worker: parses files in plan order until none is left.
    fn work(&self) {
        struct OnPanic<'a, 's>(&'a Parser<'s>);
        impl Drop for OnPanic<'_, '_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().failed = true;
                    self.0.parsed.notify_all();
                }
            }
        }
        let _guard = OnPanic(self);
        loop {
            let file = {
                let mut state = self.lock();
                loop {
                    let Some(&file) = self.plan.order.get(state.next) else {
                        return;
                    };
                    if state.closed {
                        return;
                    }
                    if self.plan.enum_file[file] || state.ahead < self.window {
                        state.next += 1;
                        if !self.plan.enum_file[file] {
                            state.ahead += 1;
                        }
                        break file;
                    }
                    state = self
                        .taken
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            let decls = parse_one(&self.sources[file].1);
            self.lock().slots[file] = Some(decls);
            self.parsed.notify_all();
        }
    }

    /// Tells the workers to stop once their current file is parsed.
    fn close(&self) {
        self.lock().closed = true;
        self.taken.notify_all();
    }
}

/// Runs `build` with a `Parser` over `sources`, parsing on worker threads (one per CPU) when
/// there is more than one file and more than one CPU. The builder parses too whenever the file
/// it needs next is not started yet.
pub(super) fn with_parser<R>(
    sources: &[(String, String)],
    plan: &Plan,
    build: impl FnOnce(&Parser<'_>) -> R,
) -> R {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cpus.min(MAX_WORKERS).min(sources.len());
    let parser = Parser {
        sources,
        plan,
        threaded: cpus > 1 && sources.len() > 1,
        window: WINDOW * workers,
        state: Mutex::new(State {
            next: 0,
            slots: (0..sources.len()).map(|_| None).collect(),
            ahead: 0,
            failed: false,
            closed: false,
        }),
        parsed: Condvar::new(),
        taken: Condvar::new(),
    };
    if !parser.threaded {
        return build(&parser);
    }
    /// Closes the parser when the builder returns or panics, so no worker waits forever.
    struct Close<'a, 's>(&'a Parser<'s>);
    impl Drop for Close<'_, '_> {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| parser.work());
        }
        let _close = Close(&parser);
        build(&parser)
    })
}
