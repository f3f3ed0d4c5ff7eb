-- ecgdl 0.1.0 -> 0.2.0.
-- 0.1.0's script (sql/ecgdl--0.1.0.sql) stays as it shipped; CREATE EXTENSION
-- ecgdl runs it and then this script, and ALTER EXTENSION ecgdl UPDATE runs
-- this script on an installed 0.1.0.  The same rules as 0.1.0: every
-- function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.2.0'" to load this file. \quit

-- == store: ecgdl.models and ecgdl.evaluations (issue 10, findings 4, 5, 11) ==

-- Owners are roles, not names: owner becomes regrole, an OID that is shown
-- (and written by pg_dump) as the role's name, so that a renamed role keeps
-- its models and evaluations and a new role of an old name gets none.  A row
-- whose name matches no role any more (the role was dropped or renamed before
-- this update) goes to the tables' owner, with a WARNING (an extension
-- script's NOTICEs are not shown).  The policies that
-- read owner are dropped first and made again below.
DROP POLICY models_insert ON ecgdl.models;
DROP POLICY models_update ON ecgdl.models;
DROP POLICY models_delete ON ecgdl.models;
DROP POLICY evaluations_insert ON ecgdl.evaluations;
DROP POLICY evaluations_delete ON ecgdl.evaluations;
DO $owners$
DECLARE
    fallback pg_catalog.oid := (SELECT c.relowner FROM pg_catalog.pg_class c
                                WHERE c.oid OPERATOR(pg_catalog.=) 'ecgdl.models'::pg_catalog.regclass);
    role_of pg_catalog.text := 'pg_catalog.to_regrole(pg_catalog.quote_ident(owner::pg_catalog.text))';
    orphans pg_catalog.int8;
    t pg_catalog.text;
BEGIN
    FOREACH t IN ARRAY ARRAY['models', 'evaluations'] LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ecgdl.%I WHERE %s IS NULL', t, role_of)
            INTO orphans;
        IF orphans OPERATOR(pg_catalog.>) 0 THEN
            RAISE WARNING 'ecgdl.%: % row(s) owned by a name that is no role any more now belong to %',
                t, orphans, fallback::pg_catalog.regrole;
        END IF;
        EXECUTE pg_catalog.format('ALTER TABLE ecgdl.%I ALTER COLUMN owner DROP DEFAULT, '
                                  'ALTER COLUMN owner TYPE pg_catalog.regrole USING COALESCE(%s, %s::pg_catalog.regrole), '
                                  'ALTER COLUMN owner SET DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER::pg_catalog.text))',
                                  t, role_of, fallback);
    END LOOP;
END
$owners$;

-- Only ecgdl's functions write the two tables: direct INSERT and UPDATE are no
-- longer granted, so no role forges or reshapes an evaluation, dates one in
-- the future, takes ids ahead of the sequence (OVERRIDING SYSTEM VALUE), or
-- writes a model row that bypasses the blob's validation.  ecg_train,
-- ecg_model_import and ecg_evaluate check what the caller may do themselves
-- (replace only a model of a role the caller is a member of; evaluate only a
-- model the caller can read) and then insert as the tables' owner, owner set
-- to the caller (src/model_store.c).  Everyone reads both tables; members of
-- the owning role delete a model (its evaluations go with it), and an
-- evaluation is deleted by members of its owner or of its model's owner.
REVOKE ALL ON ecgdl.models, ecgdl.evaluations FROM PUBLIC;
GRANT SELECT, DELETE ON ecgdl.models, ecgdl.evaluations TO PUBLIC;
CREATE POLICY models_delete ON ecgdl.models FOR DELETE
    USING (pg_catalog.pg_has_role(CURRENT_USER, owner::pg_catalog.oid, 'MEMBER'));
CREATE POLICY evaluations_delete ON ecgdl.evaluations FOR DELETE
    USING (pg_catalog.pg_has_role(CURRENT_USER, owner::pg_catalog.oid, 'MEMBER')
           OR EXISTS (SELECT FROM ecgdl.models m
                      WHERE m.id OPERATOR(pg_catalog.=) model_id
                        AND pg_catalog.pg_has_role(CURRENT_USER, m.owner::pg_catalog.oid, 'MEMBER')));

-- pg_dump keeps every model and evaluation, and the sequences of their ids
-- (so that ids continue after a restore); CREATE EXTENSION in the dump makes
-- the tables, the dump's data fills them.  pg_dump reads the sequences, so
-- roles other than superusers need SELECT on them (it shows only the last id;
-- nextval and setval need USAGE and UPDATE, granted to no one).
SELECT pg_catalog.pg_extension_config_dump('ecgdl.models', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.evaluations_id_seq', '');
GRANT SELECT ON SEQUENCE ecgdl.models_id_seq, ecgdl.evaluations_id_seq TO PUBLIC;

-- The report never fails on a row: a figure is read only where per_class
-- holds a JSON number at its place (strict path, errors silenced: NULL
-- otherwise).  Same columns as 0.1.0 (ecg_study returns SETOF ecgdl.report).
CREATE OR REPLACE VIEW ecgdl.report AS
SELECT DISTINCT ON (e.model_id, e.test_table)
       m.name AS model, m.architecture, COALESCE(m.oversampling, 'unknown') AS oversampling,
       COALESCE(m.hyperparameters OPERATOR(pg_catalog.->>) 'class_weight', 'none') AS class_weight,
       m.training_table, e.test_table, e.rows AS test_rows,
       pg_catalog.round(e.accuracy::pg_catalog.numeric, 4) AS accuracy,
       pg_catalog.round(e.macro_f1::pg_catalog.numeric, 4) AS macro_f1,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_q,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_q,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_q,
       m.epochs_run AS epochs, m.best_epoch,
       pg_catalog.round(m.training_seconds::pg_catalog.numeric, 1) AS training_seconds,
       e.evaluated_at
FROM ecgdl.evaluations e JOIN ecgdl.models m ON m.id OPERATOR(pg_catalog.=) e.model_id
ORDER BY e.model_id, e.test_table, e.evaluated_at DESC, e.id DESC;
