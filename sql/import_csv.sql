-- ecg_import_csv and ecg_import_csv_staged: the Kaggle heartbeat CSV format.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

-- 50 synthetic beats: sample s of beat n is ((s * n) % 97) / 97, label n % 5
CREATE TABLE csv_lines AS
SELECT n,
       ARRAY(SELECT round(((s * n) % 97) / 97.0, 6)::real FROM generate_series(1, 187) s) AS signal,
       n % 5 AS label
FROM generate_series(1, 50) n;
CREATE VIEW csv_text AS
SELECT n, array_to_string(signal, ',') || ',' || (label)::text || '.000000000000000000e+00' AS line
FROM csv_lines;

\set csv_good :fixtures '/good.csv'
COPY (SELECT line FROM csv_text ORDER BY n) TO :'csv_good';
SELECT ecg_import_csv(:'csv_good', 'csv_beats');
\d csv_beats
SELECT label, count(*) FROM csv_beats GROUP BY label ORDER BY label;
-- every row equals its source line, in order, with NULL record/sample/symbol
SELECT count(*) AS matching_rows FROM csv_beats b JOIN csv_lines l ON b.id = l.n
WHERE b.signal = l.signal AND b.label = l.label
  AND b.record IS NULL AND b.sample IS NULL AND b.symbol IS NULL;
SELECT min(array_length(signal, 1)), max(array_length(signal, 1)) FROM csv_beats;

-- Windows line ends and a trailing empty line are accepted
\set csv_crlf :fixtures '/crlf.csv'
SELECT write_server_file(:'csv_crlf', (SELECT string_agg(line, E'\r\n' ORDER BY n) || E'\r\n\n' FROM csv_text WHERE n <= 3));
SELECT ecg_import_csv(:'csv_crlf', 'csv_crlf_beats');

-- the staged path for clients without server file access: \copy the file
-- into a staging table (see test/integration/client_copy.sh), then one call
CREATE TABLE staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
INSERT INTO staging (line) SELECT line FROM csv_text ORDER BY n;
SELECT ecg_import_csv_staged('staging', 'staged_beats');
SELECT count(*) AS same_as_file_import
FROM staged_beats s JOIN csv_beats b USING (id) WHERE s.signal = b.signal AND s.label = b.label;

-- bad input: each a clear error, and no table left behind
\set csv_bad :fixtures '/bad.csv'
CREATE FUNCTION write_bad_csv(path text, bad_line text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT line FROM (SELECT n, line FROM csv_text WHERE n <= 2 '
                   'UNION ALL SELECT 3, %L UNION ALL SELECT 4, line FROM csv_text WHERE n = 4) t '
                   'ORDER BY n) TO %L', bad_line, path);
END $$;
SELECT write_bad_csv(:'csv_bad', '0.1,0.2,1.0');
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad1'));
SELECT write_bad_csv(:'csv_bad', (SELECT replace(line, '0.5', 'abc') FROM csv_text WHERE n = 2));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad2'));
SELECT write_bad_csv(:'csv_bad', 'NaN,' || (SELECT line FROM csv_text WHERE n = 5 ) );
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad3'));
SELECT write_bad_csv(:'csv_bad', (SELECT 'Infinity' || substr(line, position(',' in line)) FROM csv_text WHERE n = 5));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad4'));
SELECT write_bad_csv(:'csv_bad', (SELECT 'nan' || substr(line, position(',' in line)) FROM csv_text WHERE n = 5));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad5'));
SELECT write_bad_csv(:'csv_bad', (SELECT array_to_string(signal, ',') || ',5.000000000000000000e+00' FROM csv_lines WHERE n = 1));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad6'));
SELECT write_bad_csv(:'csv_bad', (SELECT array_to_string(signal, ',') || ',1.5' FROM csv_lines WHERE n = 1));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad7'));
SELECT write_bad_csv(:'csv_bad', (SELECT array_to_string(signal, ',') || ',-1' FROM csv_lines WHERE n = 1));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad8'));
SELECT write_bad_csv(:'csv_bad', '');
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_bad', 'bad9'));
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname LIKE 'bad_' ;

\set csv_empty :fixtures '/empty.csv'
COPY (SELECT 1 WHERE false) TO :'csv_empty';
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_empty', 'empty_beats'));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'fixtures' || '/no-such-file.csv', 'missing_beats'));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'fixtures', 'dir_beats'));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_good', 'csv_beats'));
SELECT regress_error('SELECT ecg_import_csv(NULL, ''x'')');
SELECT regress_error(format('SELECT ecg_import_csv(%L, NULL)', :'csv_good'));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_good', 'no_such_schema.t'));
SELECT count(*) AS tables_left_behind FROM pg_class
WHERE relname IN ('empty_beats', 'missing_beats', 'dir_beats', 'x');

-- staged import: bad rows are named by line_no; a table without a line column
INSERT INTO staging (line) VALUES ('1,2,3');
SELECT regress_error('SELECT ecg_import_csv_staged(''staging'', ''staged_bad'')');
INSERT INTO staging (line) VALUES (NULL);
DELETE FROM staging WHERE line = '1,2,3';
SELECT regress_error('SELECT ecg_import_csv_staged(''staging'', ''staged_bad'')');
CREATE TABLE not_staging (txt text);
SELECT regress_error('SELECT ecg_import_csv_staged(''not_staging'', ''staged_bad'')');
SELECT regress_error('SELECT ecg_import_csv_staged(''no_such_table'', ''staged_bad'')');
TRUNCATE staging;
SELECT regress_error('SELECT ecg_import_csv_staged(''staging'', ''staged_bad'')');
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname = 'staged_bad';

-- reading server files needs pg_read_server_files
CREATE ROLE regress_csv_reader LOGIN;
GRANT USAGE ON SCHEMA public TO regress_csv_reader;
SET ROLE regress_csv_reader;
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', :'csv_good', 'not_mine'));
RESET ROLE;
GRANT pg_read_server_files TO regress_csv_reader;
GRANT CREATE ON SCHEMA public TO regress_csv_reader;
SET ROLE regress_csv_reader;
SELECT ecg_import_csv(:'csv_good', 'reader_beats');
RESET ROLE;
DROP TABLE reader_beats;
REVOKE CREATE ON SCHEMA public FROM regress_csv_reader;
REVOKE USAGE ON SCHEMA public FROM regress_csv_reader;
DROP ROLE regress_csv_reader;
