-- retort:revision 20261130_120000_initial_schema
-- retort:down

ALTER TABLE public.posts DROP CONSTRAINT posts_author_id_fkey;

ALTER TABLE public.post_likes DROP CONSTRAINT post_likes_user_id_fkey;

ALTER TABLE public.post_likes DROP CONSTRAINT post_likes_post_id_fkey;

ALTER TABLE public.comments DROP CONSTRAINT comments_post_id_fkey;

ALTER TABLE public.comments DROP CONSTRAINT comments_author_id_fkey;

DROP INDEX public.posts_author_id_published_at_idx;

DROP INDEX public.comments_post_id_idx;

-- WARNING (data loss): drops table public.users and all its rows
DROP TABLE public.users;

-- WARNING (data loss): drops table public.posts and all its rows
DROP TABLE public.posts;

-- WARNING (data loss): drops table public.post_likes and all its rows
DROP TABLE public.post_likes;

-- WARNING (data loss): drops table public.comments and all its rows
DROP TABLE public.comments;

DROP TYPE public.user_role;
