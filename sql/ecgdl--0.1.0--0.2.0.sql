-- ecgdl 0.1.0 -> 0.2.0.
-- 0.1.0's script (sql/ecgdl--0.1.0.sql) stays as it shipped; CREATE EXTENSION
-- ecgdl runs it and then this script, and ALTER EXTENSION ecgdl UPDATE runs
-- this script on an installed 0.1.0.  The same rules as 0.1.0: every
-- function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.2.0'" to load this file. \quit
