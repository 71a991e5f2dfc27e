//! Models of a small blog: users, posts, comments and likes, plus the `user_role` enum.
//! `retort revision --autogenerate` reads this file; it is also plain Rust that compiles.

use chrono::{DateTime, Utc};
use retort_derive::{DbEnum, Table};

/// What a user may do on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]
#[db_enum(name = "user_role")]
pub enum UserRole {
    Reader,
    Author,
    Admin,
}

/// Someone who can log in.
#[derive(Debug, Clone, Table)]
#[table(name = "users", comment = "People who log in")]
#[check(expr = "char_length(display_name) <= 100")]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(255)", unique)]
    pub email: String,
    pub display_name: Option<String>,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
    #[column(default = "'reader'")]
    pub role: UserRole,
}

/// A blog post; only published posts are shown to readers.
#[derive(Debug, Clone, Table)]
#[table(name = "posts")]
#[index(columns(author_id, "published_at DESC"), where = "published")]
pub struct Post {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = "users.id", on_delete = "cascade")]
    pub author_id: i64,
    #[column(check = "length(title) > 0")]
    pub title: String,
    pub body: String,
    #[column(default = "false")]
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    #[column(default = "'{}'")]
    pub tags: Vec<String>,
    #[column(default = "'{}'")]
    pub metadata: serde_json::Value,
}

/// A reader's comment on a post.
#[derive(Debug, Clone, Table)]
#[table(name = "comments")]
pub struct Comment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = "posts.id", on_delete = "cascade", index)]
    pub post_id: i64,
    #[column(references = "users.id", on_delete = "set null")]
    pub author_id: Option<i64>,
    pub body: String,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// One user liking one post, at most once.
#[derive(Debug, Clone, Table)]
#[table(name = "post_likes")]
#[primary_key(columns(post_id, user_id))]
pub struct PostLike {
    #[column(references = "posts.id", on_delete = "cascade")]
    pub post_id: i64,
    #[column(references = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[column(default = "now()")]
    pub liked_at: DateTime<Utc>,
}
