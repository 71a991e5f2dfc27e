//! Build script: records the git commit the binary is built from, for `retort --version`.
//! Outside a git checkout (a crates.io build) the version says so instead.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no git commit".into());
    println!("cargo:rustc-env=RETORT_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves (a commit or a checkout), not on every build.
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .output()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !dir.is_empty() {
            println!("cargo:rerun-if-changed={dir}/HEAD");
            println!("cargo:rerun-if-changed={dir}/refs/heads");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
