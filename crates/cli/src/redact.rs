//! Credentials never reach the terminal: every message the binary prints passes through
//! `redact`, which hides URL passwords, `password=` values and every password seen so far.

use std::sync::Mutex;

/// Passwords learnt from the configuration (and the forms they take in URLs), hidden wherever
/// they appear, even in text that does not look like a connection string.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

const HIDDEN: &str = "***";

/// Remembers `secret` (and its percent-encoded and -decoded spellings) so `redact` hides it.
/// Very short secrets are left to the pattern rules, so ordinary words are not mangled.
pub fn register_secret(secret: &str) {
    let mut forms = vec![secret.to_string(), percent_encode(secret)];
    if let Some(decoded) = percent_decode(secret) {
        forms.push(decoded);
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if f.chars().count() >= 3 && !secrets.contains(&f) {
            secrets.push(f);
        }
    }
    // Longest first, so a secret that contains another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the password of a connection string (URL or `key=value`), if it has one.
pub fn register_url(url: &str) {
    if let Ok(params) = retort_connect::Params::parse(url) {
        if let Some(p) = params.get("password") {
            register_secret(p);
        }
    } else if let Ok(cfg) = url.parse::<postgres::Config>() {
        if let Some(p) = cfg.get_password().and_then(|p| std::str::from_utf8(p).ok()) {
            register_secret(p);
        }
    }
    if let Ok(p) = std::env::var("PGPASSWORD") {
        register_secret(&p);
    }
}

/// `text` with every credential replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = redact_password_values(text);
    out = redact_userinfo(&out);
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), HIDDEN);
        }
    }
    out
}

/// `password=VALUE` in key=value strings (up to white space, or a quoted value) and in URL query
/// strings (up to `&`), any letter case.
fn redact_password_values(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find(KEY) {
        let start = i + found + KEY.len();
        out.push_str(&text[i..start]);
        let in_query = text[..i + found].ends_with(['?', '&']);
        let rest = &text[start..];
        let len = if let Some(quoted) = rest.strip_prefix('\'') {
            // libpq quoting: backslash escapes, a closing quote ends the value.
            let mut end = quoted.len();
            let mut escaped = false;
            for (j, c) in quoted.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '\'' => {
                        end = j + 1;
                        break;
                    }
                    _ => {}
                }
            }
            1 + end
        } else {
            rest.find(|c: char| c.is_whitespace() || (in_query && c == '&') || c == '"')
                .unwrap_or(rest.len())
        };
        out.push_str(HIDDEN);
        i = start + len;
    }
    out.push_str(&text[i..]);
    out
}

/// `scheme://user:password@host`: everything between the first `:` of the user info and the last
/// `@` of the URL is hidden, since a password written raw may hold `@ / : # ?`.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = text[i..].find("://") {
        let auth = i + found + 3;
        out.push_str(&text[i..auth]);
        let token_len = text[auth..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '`' | '<' | '>'))
            .unwrap_or(text.len() - auth);
        let token = &text[auth..auth + token_len];
        match (token.find('@'), token.rfind('@')) {
            (Some(first), Some(last)) => match token[..first].find(':') {
                Some(colon) => {
                    out.push_str(&token[..colon + 1]);
                    out.push_str(HIDDEN);
                    out.push_str(&token[last..]);
                }
                None => out.push_str(token),
            },
            _ => out.push_str(token),
        }
        i = auth + token_len;
    }
    out.push_str(&text[i..]);
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "p@ss/w:o#r?d'x";

    fn assert_hidden(text: &str) {
        let r = redact(text);
        for piece in ["p@ss", "w:o", "r?d", "d'x", "ss/w"] {
            assert!(
                !r.contains(piece),
                "{piece:?} visible in {r:?} (from {text:?})"
            );
        }
    }

    #[test]
    fn passwords_in_every_url_form_are_hidden() {
        let encoded = percent_encode(PW);
        for text in [
            format!("postgres://u:{PW}@db.example:5432/app"),
            format!("cannot connect to postgresql://u:{PW}@h/app?sslmode=require: refused"),
            format!("postgres://u:{encoded}@h/app"),
            format!("postgres://u@h/app?sslmode=disable&password={encoded}"),
            format!("postgres://u@h:5432/app?password={PW} (timeout)"),
            format!("host=h user=u password='{}' dbname=app", PW.replace('\'', "\\'")),
            format!("host=h user=u PASSWORD={encoded} dbname=app"),
            format!("retort.toml: TOML parse error at line 2\n  |\n2 | url = \"postgres://u:{PW}@h/app\n  |       ^"),
        ] {
            assert_hidden(&text);
        }
    }

    #[test]
    fn registered_secrets_are_hidden_anywhere() {
        register_secret("hunter2-secret");
        assert_eq!(
            redact("the server said: hunter2-secret is wrong"),
            "the server said: *** is wrong"
        );
        register_url("host=h user=u password=Zebra%Quartz");
        assert!(!redact("echo Zebra%Quartz").contains("Zebra"));
    }

    #[test]
    fn text_without_credentials_is_unchanged() {
        for text in [
            "postgres://u@h/app",
            "postgres://h:5432/app",
            "no url here: a@b",
            "https://example.org/x?y=1",
        ] {
            assert_eq!(redact(text), text);
        }
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
