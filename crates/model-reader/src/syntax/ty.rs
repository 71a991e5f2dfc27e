//! A field's Rust type reduced to what the type map needs: last path segment, generic arguments,
//! the spelling for messages and the position of its first token.

use quote::ToTokens as _;
use syn::{GenericArgument, PathArguments, Type};

use super::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A path type such as `chrono::DateTime<chrono::Utc>`: `name` is its last segment.
    Path {
        name: String,
        args: Vec<RustType>,
        text: String,
        pos: Pos,
    },
    /// References, tuples, arrays, qualified paths: never mapped to a column type.
    Other { text: String, pos: Pos },
}

impl RustType {
    pub fn from_syn(ty: &Type) -> RustType {
        match ty {
            Type::Group(g) => RustType::from_syn(&g.elem),
            Type::Paren(p) => RustType::from_syn(&p.elem),
            Type::Path(p) if p.qself.is_none() => {
                let mut args = Vec::new();
                let mut text = String::new();
                if p.path.leading_colon.is_some() {
                    text.push_str("::");
                }
                for (i, seg) in p.path.segments.iter().enumerate() {
                    if i > 0 {
                        text.push_str("::");
                    }
                    text.push_str(&seg.ident.to_string());
                    let is_last = i + 1 == p.path.segments.len();
                    if let PathArguments::AngleBracketed(a) = &seg.arguments {
                        let mut parts = Vec::new();
                        for arg in &a.args {
                            match arg {
                                GenericArgument::Type(t) => {
                                    let t = RustType::from_syn(t);
                                    parts.push(t.text().to_string());
                                    if is_last {
                                        args.push(t);
                                    }
                                }
                                other => parts.push(tidy(&other.to_token_stream().to_string())),
                            }
                        }
                        text.push_str(&format!("<{}>", parts.join(", ")));
                    }
                }
                let name = p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                // The first token: the leading `::` or the first segment's name (the same
                // token `first_token_pos` would find, without printing the whole type).
                let first = match (&p.path.leading_colon, p.path.segments.first()) {
                    (Some(colon), _) => Some(Pos::of(colon.spans[0])),
                    (None, Some(seg)) => Some(Pos::of(seg.ident.span())),
                    (None, None) => None,
                };
                RustType::Path {
                    name,
                    args,
                    text,
                    pos: first.unwrap_or_else(|| first_token_pos(ty)),
                }
            }
            other => RustType::Other {
                text: tidy(&other.to_token_stream().to_string()),
                pos: first_token_pos(other),
            },
        }
    }

    /// The type as written (whitespace tidied).
    pub fn text(&self) -> &str {
        match self {
            RustType::Path { text, .. } | RustType::Other { text, .. } => text,
        }
    }

    pub fn pos(&self) -> Pos {
        match self {
            RustType::Path { pos, .. } | RustType::Other { pos, .. } => *pos,
        }
    }
}

fn first_token_pos(ty: &Type) -> Pos {
    match ty.to_token_stream().into_iter().next() {
        Some(tt) => Pos::of(tt.span()),
        None => Pos { line: 1, col: 1 },
    }
}

/// Removes the spaces `TokenStream::to_string` puts around punctuation.
fn tidy(s: &str) -> String {
    let mut out = s.to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" :: ", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
    ] {
        out = out.replace(from, to);
    }
    out
}
