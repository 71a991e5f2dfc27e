//! libpq's password file: `hostname:port:database:username:password` lines, `*` matches
//! anything, `\:` and `\\` escape; the first matching line wins.

use std::path::Path;

/// One parsed line: five fields, escapes resolved.
fn fields(line: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut()?.push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut()?.push(c),
        }
    }
    (out.len() == 5).then_some(out)
}

fn matches(pattern: &str, value: &str) -> bool {
    pattern == "*" || pattern == value
}

/// The password of the first line matching host, port, database and user.
pub fn lookup_in(text: &str, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some(f) = fields(line) else { continue };
        if matches(&f[0], host)
            && matches(&f[1], port)
            && matches(&f[2], dbname)
            && matches(&f[3], user)
        {
            return Some(f[4].clone());
        }
    }
    None
}

/// Reads the password file; `Err` is a warning (why the file was ignored), `Ok(None)` no file.
pub fn read(path: &Path) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    if !meta.is_file() {
        return Err(format!(
            "password file \"{}\" is not a plain file",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            ));
        }
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| format!("cannot read password file \"{}\": {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example.com:5432:app:alice:first\n\
                    *:*:app:bob:b\\:o\\\\b:x\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            lookup_in(text, "db.example.com", "5432", "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup_in(text, "other", "1", "app", "bob").as_deref(),
            Some("b:o\\b:x")
        );
        assert_eq!(
            lookup_in(text, "db.example.com", "5433", "app", "alice").as_deref(),
            Some("fallback")
        );
        assert_eq!(lookup_in("h:1:d:u\n", "h", "1", "d", "u"), None);
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_files_are_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("group or world access"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some("*:*:*:*:pw\n"));
        assert_eq!(read(&dir.path().join("missing")).unwrap(), None);
    }
}
