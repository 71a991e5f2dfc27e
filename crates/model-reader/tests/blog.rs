//! Reads the bundled example (`examples/blog/src/models.rs`) used by the README demo: it must
//! read without errors and declare the tables, enum and foreign keys the demo talks about.

use std::path::Path;

use retort_model_reader::{expand_globs, read_files, ReadOptions};
use retort_schema::{ColumnType, FkAction, QualName};

#[test]
fn blog_example_reads_cleanly() {
    let blog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/blog");
    let files = match expand_globs(&blog, &["src/models.rs".to_string()]) {
        Ok(files) => files,
        Err(errors) => panic!("{errors}"),
    };
    let models = match read_files(&files, &ReadOptions::default()) {
        Ok(models) => models,
        Err(errors) => panic!("{errors}"),
    };
    let catalog = &models.catalog;
    let tables: Vec<String> = catalog.tables().map(|t| t.name.to_string()).collect();
    assert_eq!(
        tables,
        [
            "public.comments",
            "public.post_likes",
            "public.posts",
            "public.users"
        ]
    );
    let fks: Vec<String> = catalog
        .tables()
        .flat_map(|t| t.foreign_keys.iter())
        .map(|fk| format!("{} -> {} {:?}", fk.name, fk.ref_table, fk.on_delete))
        .collect();
    assert_eq!(
        fks,
        [
            "comments_author_id_fkey -> public.users SetNull",
            "comments_post_id_fkey -> public.posts Cascade",
            "post_likes_post_id_fkey -> public.posts Cascade",
            "post_likes_user_id_fkey -> public.users Cascade",
            "posts_author_id_fkey -> public.users Cascade",
        ]
    );
    assert!(catalog
        .tables()
        .flat_map(|t| t.foreign_keys.iter())
        .all(|fk| fk.on_update == FkAction::NoAction));
    let role = catalog.enum_type(&QualName::new("public", "user_role"));
    assert_eq!(
        role.map(|e| e.values.clone()),
        Some(vec!["reader".into(), "author".into(), "admin".into()])
    );
    let users = catalog.table(&QualName::new("public", "users"));
    assert_eq!(
        users
            .and_then(|t| t.column("role"))
            .map(|c| (c.ty.clone(), c.default.clone())),
        Some((
            ColumnType::named("public", "user_role"),
            Some("'reader'".into())
        ))
    );
    let posts = catalog.table(&QualName::new("public", "posts"));
    let partial: Vec<(String, Option<String>)> = posts
        .map(|t| t.indexes.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.keys.join(", "), i.predicate))
        .collect();
    assert_eq!(
        partial,
        [(
            "author_id, published_at DESC".to_string(),
            Some("published".to_string())
        )]
    );
    let likes = catalog.table(&QualName::new("public", "post_likes"));
    assert_eq!(
        likes
            .and_then(|t| t.primary_key.as_ref())
            .map(|pk| pk.columns.clone()),
        Some(vec!["post_id".into(), "user_id".into()])
    );
    assert!(models.origins.contains_key("public.users.email"));
}
