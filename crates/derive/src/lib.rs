//! Derives that make Retort's model annotations compile in user crates; they expand to nothing.
//! `retort-model-reader` reads the same attributes from source, so these only register helpers.

use proc_macro::TokenStream;

/// Marks a struct as a table; `#[table]`, `#[column]`, `#[index]`, `#[unique]`, `#[check]` and
/// `#[primary_key]` are read by `retort-model-reader`.
#[proc_macro_derive(Table, attributes(table, column, index, unique, check, primary_key))]
pub fn derive_table(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Marks an enum as a PostgreSQL enum type; `#[db_enum]` is read by `retort-model-reader`.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
