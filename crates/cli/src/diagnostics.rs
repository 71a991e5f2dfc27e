//! How errors look on a terminal: model errors rendered like rustc's (the source line, a caret
//! under the spot, a `help:` line), other errors and warnings with a coloured label.

use annotate_snippets::{Level, Renderer, Snippet};
use anstyle::{AnsiColor, Style};
use retort_model_reader::ModelErrors;
use std::collections::HashMap;

/// The style of the `error:` label.
pub const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
/// The style of `warning:` labels and `-- WARNING` lines.
pub const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));

/// `label: text` with the label styled (the ANSI codes are stripped by anstream where colour is off).
pub fn labelled(style: Style, label: &str, text: &str) -> String {
    format!("{style}{label}:{style:#} {text}")
}

/// A `warning:` line on stderr.
pub fn warn(text: &str) {
    anstream::eprintln!("{}", labelled(WARNING, "warning", text));
}

/// A progress bar on stderr for `len` steps of long work (replaying migrations). indicatif draws
/// nothing when stderr is not a terminal, so logs and CI output stay clean.
pub fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// SQL as printed by `diff`: hazard comments highlighted.
pub fn sql(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.starts_with("-- WARNING") {
            let body = line.trim_end_matches('\n');
            out.push_str(&format!("{WARNING}{body}{WARNING:#}"));
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Every model error with its source line and a caret, then a one-line summary. A file that
/// cannot be read again (or an error without a position) is shown as `file: message`.
pub fn model_errors(errors: &ModelErrors) -> String {
    let renderer = Renderer::styled();
    let mut sources: HashMap<&str, Option<String>> = HashMap::new();
    let mut out = String::new();
    for e in &errors.0 {
        let (title, help) = split_help(&e.message);
        let source = sources
            .entry(e.span.file.as_str())
            .or_insert_with(|| std::fs::read_to_string(&e.span.file).ok());
        let line_text = source
            .as_deref()
            .filter(|_| e.span.line > 0)
            .and_then(|s| s.lines().nth(e.span.line - 1));
        let rendered = match line_text {
            Some(line) => {
                let span = token_at(line, e.span.col);
                let mut message = Level::Error.title(title).snippet(
                    Snippet::source(line)
                        .line_start(e.span.line)
                        .origin(&e.span.file)
                        .annotation(Level::Error.span(span)),
                );
                if let Some(help) = help {
                    message = message.footer(Level::Help.title(help));
                }
                renderer.render(message).to_string()
            }
            None => labelled(ERROR, "error", &e.to_string()),
        };
        out.push_str(&rendered);
        out.push_str("\n\n");
    }
    let n = errors.0.len();
    out.push_str(&labelled(
        ERROR,
        "error",
        &format!(
            "could not read the models: {n} error{}",
            if n == 1 { "" } else { "s" }
        ),
    ));
    out
}

/// A message's hint, when it ends with `; did you mean ...` or `; fix: ...`, as a help line.
fn split_help(message: &str) -> (&str, Option<&str>) {
    for marker in ["; did you mean", "; fix:", "; write "] {
        if let Some(at) = message.find(marker) {
            return (&message[..at], Some(message[at + 2..].trim()));
        }
    }
    (message, None)
}

/// Byte range of the token starting at 1-based character column `col` of `line` (an identifier,
/// a string literal, or one character), so the caret underlines the whole word.
fn token_at(line: &str, col: usize) -> std::ops::Range<usize> {
    let start = line
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map_or(rest.len(), |end| end + 2)
    } else {
        let word: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        word.max(rest.chars().next().map_or(0, char::len_utf8))
    };
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_cover_the_whole_token() {
        assert_eq!(token_at("    #[indx(columns(a))]", 7), 6..10);
        assert_eq!(token_at(r#"#[table(schema = "pubilc")]"#, 18), 17..25);
        assert_eq!(token_at("x", 5), 1..1);
        assert_eq!(token_at("é (", 3), 3..4);
    }

    #[test]
    fn hints_become_help_lines() {
        assert_eq!(
            split_help("unknown attribute `indx`; did you mean `index`?"),
            ("unknown attribute `indx`", Some("did you mean `index`?"))
        );
        assert_eq!(split_help("plain"), ("plain", None));
    }
}

/// The engine's progress as a bar on stderr; step lines are printed above it.
#[derive(Default)]
pub struct Bar(Option<indicatif::ProgressBar>);

impl retort_engine::Progress for Bar {
    fn begin(&mut self, total: usize, what: &str) {
        self.0 = Some(progress(total, what));
    }

    fn step(&mut self, line: Option<&str>) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            if let Some(line) = line {
                bar.suspend(|| eprintln!("{line}"));
            }
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
