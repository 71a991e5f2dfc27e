//! The example blog that the README demo runs `retort` against.
//! Its models compile as an ordinary crate, which shows that Retort's derives are inert.

pub mod models;
