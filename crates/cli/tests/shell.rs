//! Shell integration: completion scripts that real shells load, a man page (both generated from
//! the clap definitions), and colour on a real pseudo-terminal but never in a pipe.

mod common;

use common::*;

#[test]
fn bash_loads_the_completion_script() {
    let dir = tempfile::tempdir().unwrap();
    let o = retort(dir.path(), &[], &["completions", "bash"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("--indicate-current"), "{o}");
    let script = dir.path().join("retort.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p retort", script.display()))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("retort"));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = retort(dir.path(), &[], &["completions", shell]);
        assert_eq!(o.code, 0, "{shell}: {o}");
        assert!(o.stdout.contains("upgrade"), "{shell}: {o}");
    }
    let o = retort(dir.path(), &[], &["completions", "tcsh"]);
    assert_eq!(o.code, 2, "{o}");
}

#[test]
fn the_man_page_lists_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let o = retort(dir.path(), &[], &["man"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        o.stdout.starts_with(".ie"),
        "roff: {}",
        &o.stdout[..40.min(o.stdout.len())]
    );
    for cmd in [
        "upgrade",
        "downgrade",
        "revision",
        "check",
        "stamp",
        "history",
    ] {
        assert!(o.stdout.contains(cmd), "{cmd} missing from the man page");
    }
}

/// Runs the binary under a pseudo-terminal (`script` from util-linux), so stdout and stderr are
/// a TTY as in an interactive shell. Returns everything it printed.
fn on_a_terminal(p: &Project, args: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new("script");
    cmd.args([
        "-qec",
        &format!("{} {args}", env!("CARGO_BIN_EXE_retort")),
        "/dev/null",
    ])
    .current_dir(p.dir.path())
    .env("DATABASE_URL", &p.db.url)
    .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux, Debian's bsdutils) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_on_a_terminal_and_none_when_piped() {
    let p = Project::new("colour");
    p.models("#[derive(Table)]\n#[indx(columns(id))]\npub struct T {\n    pub id: i64,\n}\n");
    const ESC: &str = "\u{1b}[";
    let tty = on_a_terminal(&p, "inspect --models", &[]);
    assert!(tty.contains(ESC), "no colour on a terminal:\n{tty}");
    assert!(tty.contains("did you mean #[index]"), "{tty}");
    let piped = p.fails(2, &["inspect", "--models"]);
    assert!(!piped.stderr.contains(ESC), "colour in a pipe:\n{piped}");
    assert!(piped.stderr.contains("^^^^"), "{piped}");
    let forced = p.fails(2, &["--color", "always", "inspect", "--models"]);
    assert!(forced.stderr.contains(ESC), "--color always:\n{forced}");
    let no_color = on_a_terminal(&p, "inspect --models", &[("NO_COLOR", "1")]);
    assert!(
        !no_color.contains(ESC),
        "NO_COLOR on a terminal:\n{no_color}"
    );
    let never = on_a_terminal(&p, "--color never inspect --models", &[]);
    assert!(
        !never.contains(ESC),
        "--color never on a terminal:\n{never}"
    );
}

#[test]
fn the_most_used_commands_show_examples_in_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["revision", "diff", "check", "upgrade", "downgrade"] {
        let o = retort(dir.path(), &[], &[cmd, "--help"]);
        assert_eq!(o.code, 0, "{cmd}: {o}");
        let examples = o
            .stdout
            .split_once("Examples:")
            .unwrap_or_else(|| panic!("{cmd} --help has no examples:\n{o}"))
            .1;
        assert!(
            examples.contains(&format!("retort {cmd}")),
            "{cmd}: examples do not show the command:\n{examples}"
        );
    }
}

#[test]
fn progress_bars_never_reach_a_pipe() {
    let p = Project::new("progress_pipe");
    p.models("#[derive(Table)]\npub struct T {\n    #[column(primary_key)]\n    pub id: i64,\n}\n");
    p.ok_at(1, &["revision", "--autogenerate", "-m", "t"]);
    p.ok_at(2, &["revision", "--empty", "-m", "e"]);
    for args in [&["check"][..], &["verify"][..]] {
        let o = p.ok(args);
        assert!(!o.stderr.contains("replaying migrations"), "{args:?}: {o}");
        assert!(!o.stderr.contains("verifying migrations"), "{args:?}: {o}");
        assert!(!o.stderr.contains('\u{1b}'), "{args:?}: {o}");
    }
}
