-- setup: the extension's objects, and a helper the other tests use to show
-- errors with their SQLSTATE, independent of where the fixtures live.
SELECT extname, extversion FROM pg_extension WHERE extname = 'ecgdl';
SELECT nspname FROM pg_namespace WHERE nspname = 'ecgdl';
SELECT p.proname, p.pronargs, p.proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ecgdl'
ORDER BY 1, 2;
LOAD 'ecgdl';
SHOW ecgdl.max_memory;
SHOW ecgdl.threads;

-- regress_error(sql): runs sql and returns "SQLSTATE: message [detail]" of
-- its error (fixture paths replaced by <fixtures>), or 'no error'.
CREATE FUNCTION regress_error(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
    state text;
    fixtures text := coalesce(current_setting('regress.fixtures', true), '<none>');
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
    RETURN state || ': ' || replace(msg, fixtures, '<fixtures>')
        || CASE WHEN detail <> '' THEN ' [' || replace(detail, fixtures, '<fixtures>') || ']' ELSE '' END;
END $$;

-- write_server_file(path, content): exact bytes into a server file (COPY TO
-- would escape control characters)
CREATE FUNCTION write_server_file(path text, content text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lo oid := lo_from_bytea(0, convert_to(content, 'UTF8'));
BEGIN
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
END $$;
