-- ecgdl 0.1.0: SQL objects of the extension.
-- Functions ecg_* live in the schema the extension is created in; the
-- extension's own tables and views live in schema ecgdl.

\echo Use "CREATE EXTENSION ecgdl" to load this file. \quit

CREATE SCHEMA ecgdl;

-- Import ----------------------------------------------------------------------

CREATE FUNCTION ecg_import_wfdb(directory text, target text, records text[] DEFAULT NULL,
                                lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_wfdb'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_wfdb(text, text, text[], text) IS
'Reads MIT-BIH style WFDB records (.hea, .dat, .atr) from a server directory into a new beat table; returns the number of beats';

CREATE FUNCTION ecg_import_csv(path text, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_csv'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_csv(text, text) IS
'Reads a Kaggle heartbeat CSV file (187 samples and a label per line) from the server into a new beat table';

CREATE FUNCTION ecg_import_csv_staged(staging regclass, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_csv_staged'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_csv_staged(regclass, text) IS
'Turns heartbeat CSV lines loaded with \copy into a staging table (column line text, optional line_no) into a new beat table';

-- Split -----------------------------------------------------------------------

CREATE FUNCTION ecg_split(source regclass, train text, test text,
                          test_fraction float8 DEFAULT 0.2, seed int DEFAULT 42,
                          method text DEFAULT 'stratified')
RETURNS TABLE (part text, class text, beats bigint)
AS 'MODULE_PATHNAME', 'ecg_split'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_split(regclass, text, text, float8, int, text) IS
'Splits a beat table into new train and test tables: stratified, random, or inter-patient (de Chazal DS1/DS2)';

-- Reading server files is as privileged as COPY FROM a file: the C functions
-- check for pg_read_server_files, and PUBLIC may not call them by default.
REVOKE ALL ON FUNCTION ecg_import_wfdb(text, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecg_import_csv(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecg_import_wfdb(text, text, text[], text) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION ecg_import_csv(text, text) TO pg_read_server_files;

-- Oversampling ------------------------------------------------------------------

CREATE FUNCTION ecg_oversample(source regclass, target text, method text DEFAULT 'smote',
                               k int DEFAULT 5, seed int DEFAULT 42, strategy text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_oversample'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_oversample(regclass, text, text, int, int, text) IS
'Writes a new table with every row of source plus generated minority-class rows (random, smote or adasyn, imbalanced-learn semantics); returns the number of rows generated';
