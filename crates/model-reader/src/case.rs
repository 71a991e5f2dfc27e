//! Identifier case conversion: default table and enum names, and `rename_all` for enum values.
//! Word boundaries follow serde/heck: `HTTPRequest` is `http_request`, `Ipv4Addr` is `ipv4_addr`.

/// The `rename_all` rules `#[db_enum]` accepts.
pub const RENAME_RULES: &[&str] = &[
    "snake_case",
    "lowercase",
    "UPPERCASE",
    "SCREAMING_SNAKE_CASE",
    "PascalCase",
    "camelCase",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

/// Splits a Rust identifier into words at underscores and case changes.
fn words(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in ident.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let boundary = i > 0 && c.is_uppercase() && {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower)
            };
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push(c);
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

fn capitalize(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The default SQL name of a Rust identifier (also what `retort import` must invert).
pub fn snake_case(ident: &str) -> String {
    words(ident)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// Applies a `rename_all` rule; None for an unknown rule.
pub fn rename(ident: &str, rule: &str) -> Option<String> {
    let words = words(ident);
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
    Some(match rule {
        "snake_case" => lower.join("_"),
        "lowercase" => ident.to_lowercase(),
        "UPPERCASE" => ident.to_uppercase(),
        "SCREAMING_SNAKE_CASE" => upper.join("_"),
        "PascalCase" => words.iter().map(|w| capitalize(w)).collect(),
        "camelCase" => {
            let mut out = lower.first().cloned().unwrap_or_default();
            out.extend(words.iter().skip(1).map(|w| capitalize(w)));
            out
        }
        "kebab-case" => lower.join("-"),
        "SCREAMING-KEBAB-CASE" => upper.join("-"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_like_serde() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("PostLike"), "post_like");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("Ipv4Addr"), "ipv4_addr");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("VerySad"), "very_sad");
    }

    #[test]
    fn rename_rules() {
        assert_eq!(rename("VerySad", "snake_case").as_deref(), Some("very_sad"));
        assert_eq!(rename("VerySad", "lowercase").as_deref(), Some("verysad"));
        assert_eq!(rename("VerySad", "UPPERCASE").as_deref(), Some("VERYSAD"));
        assert_eq!(
            rename("VerySad", "SCREAMING_SNAKE_CASE").as_deref(),
            Some("VERY_SAD")
        );
        assert_eq!(rename("VerySad", "PascalCase").as_deref(), Some("VerySad"));
        assert_eq!(rename("VerySad", "camelCase").as_deref(), Some("verySad"));
        assert_eq!(rename("VerySad", "kebab-case").as_deref(), Some("very-sad"));
        assert_eq!(rename("VerySad", "Title Case"), None);
    }
}
