-- The server's version as an integer, e.g. 150018 for 15.18.
SELECT current_setting('server_version_num')::int4 AS version
