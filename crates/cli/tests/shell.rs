//! Shell integration: completion scripts that real shells load, and a man page, both generated
//! from the same clap definitions as `--help`, so they never drift from the flags.

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
