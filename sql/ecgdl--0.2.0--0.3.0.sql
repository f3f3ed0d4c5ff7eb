-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit
