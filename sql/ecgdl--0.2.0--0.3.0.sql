-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit

-- == interpatient ==
-- Beat shape relative to the patient's own beats (issue 12): a copy of a beat
-- table whose signals are each beat minus the median beat of its record.

CREATE FUNCTION ecg_subtract_record_median(source regclass, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_subtract_record_median'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_subtract_record_median(regclass, text) IS
'Copies a beat table into a new table whose signals are each beat minus the median beat (sample by sample) of its own record: shape relative to the patient''s usual beat, for models of patients never seen; returns the rows written';
