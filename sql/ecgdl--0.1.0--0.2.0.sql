-- ecgdl 0.1.0 -> 0.2.0.
-- 0.1.0's script (sql/ecgdl--0.1.0.sql) stays as it shipped; CREATE EXTENSION
-- ecgdl runs it and then this script, and ALTER EXTENSION ecgdl UPDATE runs
-- this script on an installed 0.1.0.  The same rules as 0.1.0: every
-- function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.2.0'" to load this file. \quit

-- == signals: signal tables, QRS detection, beats without reference annotations ==

-- Signal tables: record text, lead text, fs float8 (Hz), start_sample bigint,
-- samples real[] (mV), one row per chunk of one lead.
CREATE FUNCTION ecg_import_wfdb_signals(directory text, target text, records text[] DEFAULT NULL,
                                        leads text[] DEFAULT NULL, chunk_seconds int DEFAULT 60)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_wfdb_signals'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) IS
'Reads the signals of WFDB records from a server directory into a new signal table (one row per chunk of chunk_seconds of one lead, samples in mV); returns the number of rows';

CREATE FUNCTION ecg_import_annotations(directory text, target text, records text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_annotations'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_import_annotations(text, text, text[]) IS
'Reads the reference annotation files (.atr) of WFDB records into a new annotation table (record, sample, symbol, subtype, AAMI label, fs); returns the number of annotations';

-- Reading server files is as privileged as COPY FROM a file (as ecg_import_wfdb).
REVOKE ALL ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecg_import_annotations(text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION ecg_import_annotations(text, text, text[]) TO pg_read_server_files;

CREATE FUNCTION ecg_detect_qrs(samples real[], fs float8)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'ecg_detect_qrs'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ecg_detect_qrs(real[], float8) IS
'Sample positions (0 = the first sample) of the R peaks of one ECG lead in mV sampled at fs Hz (100 to 1000)';

CREATE FUNCTION ecg_detect_beats(recordings regclass, target text, lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_detect_beats'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_detect_beats(regclass, text, text) IS
'Detects the beats of one lead of every record of a signal table into a new annotation table (symbol and label NULL); returns the number of beats';

CREATE FUNCTION ecg_beats_from_signals(recordings regclass, annotations regclass, target text,
                                       lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_beats_from_signals'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_beats_from_signals(regclass, regclass, text, text) IS
'Cuts beats from a signal table at the positions of an annotation table (reference: labelled; detected: label NULL) by the method of ecg_import_wfdb into a new beat table (plus fs); returns the number of beats';

-- Every ecg_qrs_evaluate() run.  Written only by ecgdl's C code, as the
-- table's owner; everyone may read, owners may delete their rows.
CREATE TABLE ecgdl.qrs_evaluations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detected_table    text NOT NULL,
    reference_table   text NOT NULL,
    window_ms         float8 NOT NULL,
    learning_period_s float8 NOT NULL,
    evaluated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    records           int NOT NULL,
    tp                bigint NOT NULL,
    fn                bigint NOT NULL,
    fp                bigint NOT NULL,
    se                float8,
    ppv               float8,
    se_whole          float8,
    ppv_whole         float8,
    per_record        jsonb NOT NULL,
    owner             regrole NOT NULL DEFAULT current_user::regrole
);
COMMENT ON TABLE ecgdl.qrs_evaluations IS 'Every ecg_qrs_evaluate() run: gross TP/FN/FP, Se and +P in percent (after the learning period and over whole records), and the counts per record';
ALTER TABLE ecgdl.qrs_evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY qrs_evaluations_read ON ecgdl.qrs_evaluations FOR SELECT USING (true);
CREATE POLICY qrs_evaluations_delete ON ecgdl.qrs_evaluations FOR DELETE
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
REVOKE ALL ON ecgdl.qrs_evaluations FROM PUBLIC;
GRANT SELECT, DELETE ON ecgdl.qrs_evaluations TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ecgdl.qrs_evaluations', '');

CREATE FUNCTION ecg_qrs_evaluate(detected regclass, reference regclass, window_ms float8 DEFAULT 150,
                                 learning_period_s float8 DEFAULT 300)
RETURNS TABLE (record text, tp bigint, fn bigint, fp bigint, se float8, ppv float8,
               se_whole float8, ppv_whole float8)
AS 'MODULE_PATHNAME', 'ecg_qrs_evaluate'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_qrs_evaluate(regclass, regclass, float8, float8) IS
'Beat-by-beat comparison of detected beats with reference beats as ANSI/AAMI EC57 and WFDB bxb define it: TP, FN, FP, Se and +P (%) per record and gross, after the learning period and over the whole record; also stored in ecgdl.qrs_evaluations';

CREATE FUNCTION ecg_rhythm_summary(beats regclass, model text DEFAULT NULL, fs float8 DEFAULT NULL)
RETURNS TABLE (record text, duration_s float8, beats bigint, mean_hr float8, min_hr float8,
               max_hr float8, s_beats bigint, s_per_hour float8, s_couplets bigint, s_runs bigint,
               longest_s_run bigint, v_beats bigint, v_per_hour float8, v_couplets bigint,
               v_runs bigint, longest_v_run bigint, pauses bigint, longest_rr_s float8)
AS 'MODULE_PATHNAME', 'ecg_rhythm_summary'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_rhythm_summary(regclass, text, float8) IS
'Holter-style summary per record of a beat or annotation table: duration, beats, heart rates, S and V beats (total, per hour, couplets, runs of three or more, longest run), pauses (R-R over 2 s); model NULL uses the table''s labels';
