//! Small SQL spelling helpers shared by the per-kind renderers: quoting, `ALTER TABLE`, column
//! lists, dollar quotes.

use retort_schema::{quote_ident, quote_qual, QualName};

pub(crate) fn q(s: &str) -> String {
    quote_ident(s)
}

pub(crate) fn cols(cs: &[String]) -> String {
    cs.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

pub(crate) fn alter(table: &QualName) -> String {
    format!("ALTER TABLE {}", quote_qual(table))
}

pub(crate) fn drop_constraint(table: &QualName, name: &str) -> String {
    format!("{} DROP CONSTRAINT {}", alter(table), q(name))
}

/// `$retort$body$retort$`, with a tag that does not occur in the body.
pub(crate) fn dollar_quote(body: &str) -> String {
    let mut tag = "$retort$".to_string();
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!("{tag}{body}{tag}")
}

/// A possibly schema-qualified name (`schema.name`), each part quoted as needed.
pub(crate) fn qualified(name: &str) -> String {
    name.split('.').map(q).collect::<Vec<_>>().join(".")
}
