-- ecg_import_wfdb on synthetic WFDB records written by
-- test/tools/make_wfdb_fixtures (see its header for what each record holds).
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = notice;

-- every record of RECORDS: syn1 (format 212), syn16 (format 16, 250 Hz) and
-- synv5 (no MLII: its first signal, V5, is used and a NOTICE says so)
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_beats');
SELECT record, (ARRAY['N','S','V','F','Q'])[label + 1] AS class, count(*)
FROM wfdb_beats GROUP BY record, label ORDER BY record, label;
SELECT count(*) AS beats, min(array_length(signal, 1)) AS min_len, max(array_length(signal, 1)) AS max_len,
       min(v) >= 0 AND max(v) <= 1 AS in_unit_range, max(v) = 1 AS reaches_one
FROM wfdb_beats, unnest(signal) v;
-- ids follow the import order; symbols map to their AAMI class
SELECT min(id), max(id), count(DISTINCT id) FROM wfdb_beats;
SELECT symbol, label, count(*) FROM wfdb_beats GROUP BY symbol, label ORDER BY label, symbol;
-- R peaks at the original rate, in time order within each record
SELECT record, min(sample), max(sample),
       bool_and(sample > prev) AS increasing
FROM (SELECT record, sample, lag(sample, 1, -1::bigint) OVER (PARTITION BY record ORDER BY id) AS prev
      FROM wfdb_beats) t
GROUP BY record ORDER BY record;
-- a beat is its R peak then ~1.2 R-R intervals of signal, zero-padded: the
-- padding is at the end
SELECT count(*) FILTER (WHERE signal[187] = 0) > 0 AS some_padded,
       count(*) FILTER (WHERE signal[1] = 0 AND signal[2] = 0 AND signal[3] = 0) AS leading_zeros
FROM wfdb_beats;

-- a chosen list of records, and another lead
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_syn16', ARRAY['syn16']);
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_v5', ARRAY['syn16', 'syn1', 'synv5'], 'V5');
SELECT record, count(*) FROM wfdb_v5 GROUP BY record ORDER BY record;
-- the same records give the same rows
SELECT count(*) AS same_as_first_import FROM wfdb_syn16 a JOIN wfdb_beats b
ON a.record = b.record AND a.sample = b.sample AND a.signal = b.signal AND a.label = b.label;

-- bad input: each a clear error naming the record or file; nothing left behind
SET client_min_messages = warning;
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_trunc'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_count'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_checksum'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_format'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_atr'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_auxtrunc'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'noatr'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'bad_multiseg'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'no_such_record'));
-- a header may not point outside the record directory
SELECT write_server_file(:'fixtures' || '/evil.hea', E'evil 1 360 3600\n../syn1.dat 212 200 11 1024 0 0 0 MLII\n');
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'bad', 'evil'));
-- a good record first, then a bad one: still nothing written
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L, %L])', :'fixtures', 'bad', 'syn1', 'bad_trunc'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, NULL, %L)', :'fixtures', 'bad', 'V9'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L)', :'fixtures' || '/no-such-dir', 'bad'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[]::text[])', :'fixtures', 'bad'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[NULL]::text[])', :'fixtures', 'bad'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L)', :'fixtures', 'wfdb_beats'));
SELECT regress_error(format('SELECT ecg_import_wfdb(NULL, %L)', 'bad'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, NULL)', :'fixtures'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, NULL, NULL)', :'fixtures', 'bad'));
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname = 'bad';

-- the lead preference (issue 12): 'auto' (the default: MLII, ML2, II, MLIII,
-- III, CM5, V5, V4, then the first signal) or a list of names tried in order;
-- a NOTICE names every lead taken that is not the first asked for
SET client_min_messages = notice;
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_list', ARRAY['syn1', 'synv5'], 'V2, MLII');
SELECT record, count(*) FROM wfdb_list GROUP BY record ORDER BY record;
-- 'MLII' alone: the 0.1.0 behaviour (other records take their first signal)
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_mlii', ARRAY['synv5', 'syn16'], 'MLII');
-- a record with none of the auto leads (a copy of synv5 whose leads are
-- named as in most QT Database records): its first signal, named
SELECT write_server_file(:'fixtures' || '/qtlike.hea',
       E'qtlike 2 360 7200\nsynv5.dat 212 200 11 1024 1021 20670 0 ECG1\nsynv5.dat 212 200 11 1024 1025 -29529 0 ECG2\n');
SELECT lo_from_bytea(0, pg_read_binary_file(:'fixtures' || '/synv5.atr')) AS atr_lo \gset
SELECT lo_export(:atr_lo, :'fixtures' || '/qtlike.atr'), lo_unlink(:atr_lo);
SELECT ecg_import_wfdb(:'fixtures', 'wfdb_qtlike', ARRAY['qtlike', 'syn16']);
SELECT count(*) AS same_beats_as_v5 FROM wfdb_qtlike q JOIN wfdb_v5 v
ON v.record = 'synv5' AND q.sample = v.sample AND q.signal = v.signal;
-- signal tables: 'auto' in leads takes the same lead per record
SELECT ecg_import_wfdb_signals(:'fixtures', 'wfdb_sig_auto', ARRAY['syn16', 'synv5', 'qtlike'], ARRAY['auto']);
SELECT record, lead, count(*) AS chunks FROM wfdb_sig_auto GROUP BY record, lead ORDER BY record;
SET client_min_messages = warning;
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, NULL, %L)', :'fixtures', 'bad', 'MLII,,V5'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, NULL, %L)', :'fixtures', 'bad', 'V9, V8'));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, NULL, %L)', :'fixtures', 'bad', ' '));
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname = 'bad';
