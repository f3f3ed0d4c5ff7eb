#!/usr/bin/env bash
# Patients never seen (issue 12), the third round of README "Patients never
# seen": the product of a shape network and a linear rhythm model
# (ecg_model_combine), end to end on a throwaway cluster.
#
#   bash test/bench/unseen_patients.sh
#
#   1. inter-patient: MIT-BIH MLII beats, de Chazal's DS1 -> DS2 split (paced
#      records out), DS1 records 118, 124, 201, 215 for validation; the cnn on
#      record-centred beats (ecg_subtract_record_median) and rr_linear on the
#      R-R ratios (rr2 and rr4), combined at arg-max and at offsets tuned on
#      the validation records; prints the validation macro F1 (the choice) and
#      the DS2 figures (gross, record 232's S, 222's S and false S, 213's F);
#   2. cross-database (skipped, saying so, without the QT Database): the cnn
#      on all of MIT-BIH (record-centred, augment => 'lead') and rr_linear on
#      all of MIT-BIH, combined, chosen on MIT-BIH's other lead (the stand-in),
#      scored on the QT Database (gross figures and the records with
#      N Se >= 0.97).
#
#   3. (0.5.0) the same with ensembles of three shape experts (cnn seeds,
#      weighted 1/3 each by ecg_model_combine's weights): inter-patient seeds
#      42, 1, 2; cross-database seeds 42, 1, 2 and, to see whether the
#      choice holds for other seeds, 3, 4, 5;
#   4. (0.5.0) DS2's records as raw signals, as if unannotated: QRS
#      detection, beats cut and centred, classified by the models DS1 chose,
#      scored against the reference annotations (a missed beat counts against
#      the classifier).
#
# Deterministic: one thread, fixed seeds; the figures are README's.  About 35
# minutes on the 2-core machine of README (7 without the QT Database).  Needs
# the MIT-BIH records ($ECGDL_MITDB or ../shared/data/mitdb); the QT Database
# is read from $ECGDL_QTDB or ../shared/data/qtdb.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ECGDL_ROOT"

ecgdl_build_install
mitdb=$(ecgdl_find_mitdb)
[ -n "$mitdb" ] || { log "MIT-BIH records not found: set ECGDL_MITDB"; exit 1; }
qtdb=${ECGDL_QTDB:-$ECGDL_ROOT/../shared/data/qtdb}
if [ -f "$qtdb/RECORDS" ]; then qtdb=$(cd "$qtdb" && pwd); else qtdb=; fi
ecgdl_start_cluster
trap 'ecgdl_stop_cluster' EXIT

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# the gross Se / +P of N, S, V, F of the EC57 rows in temp table e
gross="(SELECT string_agg(format('%s %s / %s', class, round(se::numeric, 3), coalesce(round(ppv::numeric, 3)::text, '-')),
                          ', ' ORDER BY array_position(ARRAY['N', 'S', 'V', 'F'], class))
        FROM e WHERE record = 'gross' AND class IN ('N', 'S', 'V', 'F'))"

# the EC57 summary of a model on a table, one line: with `records`, the
# records with N Se >= 0.97; else records 232's S, 222's S and 213's F
summary() {
	q -At -v model="$1" -v tab="$2" -v what="${3:-inter-patient}" <<SQL
CREATE TEMP TABLE e AS SELECT * FROM ecg_evaluate_ec57(:'model', :'tab', by_record => true);
SELECT format('%s on %s: macro F1 %s | %s | ', :'model', :'tab',
              round((SELECT f1 FROM e WHERE record = 'gross' AND class = 'macro')::numeric, 4), $gross) ||
  CASE :'what' WHEN 'records' THEN
    format('false V %s | records with N Se >= 0.97: %s of %s',
           (SELECT fp FROM e WHERE record = 'gross' AND class = 'V'),
           (SELECT count(*) FILTER (WHERE se >= 0.97) FROM e WHERE record <> 'gross' AND class = 'N'),
           (SELECT count(*) FROM e WHERE record <> 'gross' AND class = 'N'))
  ELSE
    format('232 S found %s | 222 S found %s, false S %s | 213 F found %s',
           coalesce((SELECT tp::text FROM e WHERE record = '232' AND class = 'S'), '-'),
           coalesce((SELECT tp::text FROM e WHERE record = '222' AND class = 'S'), '-'),
           coalesce((SELECT fp::text FROM e WHERE record = '222' AND class = 'S'), '-'),
           coalesce((SELECT tp::text FROM e WHERE record = '213' AND class = 'F'), '-'))
  END;
SQL
}

# with_rhythm PREFIX SHAPE RHYTHM VALIDATION: the shape expert SHAPE times
# each rhythm expert RHYTHM<set> of feature_sets, at arg-max (PREFIX_<set>_a)
# and at offsets tuned on VALIDATION (PREFIX_<set>_v); prints their names in
# set order
with_rhythm() {
	q -v prefix="$1" -v shape="$2" -v rhythm="$3" -v val="$4" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT ecg_model_combine(:'prefix' || '_' || name || '_' || o, ARRAY[:'shape', :'rhythm' || name],
                         validation => CASE o WHEN 'v' THEN :'val'::regclass END,
                         operating_point => CASE o WHEN 'v' THEN 'validation' ELSE 'argmax' END)
FROM feature_sets, unnest(ARRAY['a', 'v']) o ORDER BY name, o;
SQL
	q -At -v prefix="$1" <<'SQL'
SELECT string_agg(format('%1$s_%2$s_a %1$s_%2$s_v', :'prefix', name), ' ' ORDER BY name) FROM feature_sets;
SQL
}

# rows TABLE_1 TABLE_2 WHAT MODEL...: each model's summary on both tables
rows() {
	local first=$1 second=$2 what=$3
	shift 3
	for m in "$@"; do
		echo "bench: $(summary "$m" "$first" "$what")"
		echo "bench: $(summary "$m" "$second" "$what")"
	done
}

log "inter-patient: import, split, validation records, record-centred copies"
q -v mitdb="$mitdb" <<'SQL'
CREATE EXTENSION ecgdl;
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'mitdb', 'mitbih', lead => 'MLII') AS beats;
SELECT count(*) FROM ecg_split('mitbih', 'ip_ds1', 'ip_ds2', method => 'inter-patient');
CREATE TABLE ds1_train AS SELECT * FROM ip_ds1 WHERE record NOT IN ('118', '124', '201', '215');
CREATE TABLE ds1_val AS SELECT * FROM ip_ds1 WHERE record IN ('118', '124', '201', '215');
ALTER TABLE ds1_train ADD PRIMARY KEY (id);
ALTER TABLE ds1_val ADD PRIMARY KEY (id);
SELECT ecg_subtract_record_median('ds1_train', 'ds1_train_rel');
SELECT ecg_subtract_record_median('ds1_val', 'ds1_val_rel');
SELECT ecg_subtract_record_median('ip_ds2', 'ip_ds2_rel');
SQL

log "inter-patient: the shape expert (cnn, about a minute) and the rhythm experts (rr_linear)"
q <<'SQL'
SET client_min_messages = warning;
SET ecgdl.threads = 1;
SELECT ecg_train('cnn_rel', 'ds1_train_rel', 'cnn', validation => 'ds1_val_rel', epochs => 40,
                 batch_size => 256, learning_rate => 1e-3, patience => 8, seed => 42,
                 operating_point => 'validation');
-- the rhythm experts' feature sets (README "Third round"); rr6 and rr8 add
-- absolute intervals
CREATE TABLE feature_sets (name text PRIMARY KEY, features text[]);
INSERT INTO feature_sets VALUES
  ('rr2', ARRAY['rr_pre_local', 'rr_post_local']),
  ('rr4', ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre_record', 'rr_post_record']),
  ('lw2', ARRAY['rr_pre_window', 'rr_post_window']),
  ('lw4', ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre_window', 'rr_post_window']),
  ('rr4lw', ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre_record', 'rr_post_record',
                  'rr_pre_window', 'rr_post_window']);
-- class weights N / n_c over ds1_train (N 37,334, S 686, V 3,363, F 407), Q left out
SELECT ecg_train('rl_' || name, 'ds1_train', 'rr_linear', validation => 'ds1_val', epochs => 40,
                 batch_size => 256, learning_rate => 1e-2, patience => 40, seed => 42,
                 class_weight => 'N=1, S=54, V=11, F=92, Q=0', features => features)
FROM feature_sets ORDER BY name;
SQL
pe=$(with_rhythm pe cnn_rel rl_ ds1_val_rel)
rows ds1_val_rel ip_ds2_rel inter-patient cnn_rel $pe

log "inter-patient: an ensemble of three shape experts (cnn seeds 42, 1, 2 weighted 1/3) times each rhythm expert (0.5.0, about 2 minutes)"
q <<'SQL'
SET client_min_messages = warning;
SET ecgdl.threads = 1;
SELECT ecg_train('cnn_rel_s' || s, 'ds1_train_rel', 'cnn', validation => 'ds1_val_rel', epochs => 40,
                 batch_size => 256, learning_rate => 1e-3, patience => 8, seed => s,
                 operating_point => 'validation') FROM unnest(ARRAY[1, 2]) s;
SELECT ecg_model_combine('cnn_ens3', ARRAY['cnn_rel', 'cnn_rel_s1', 'cnn_rel_s2'],
                         weights => ARRAY[1/3.0, 1/3.0, 1/3.0]);
SQL
pe3=$(with_rhythm pe3 cnn_ens3 rl_ ds1_val_rel)
rows ds1_val_rel ip_ds2_rel inter-patient cnn_rel_s1 cnn_rel_s2 cnn_ens3 $pe3

log "inter-patient from raw signals: DS2's records as if unannotated - detected, cut, centred, classified by the two DS1 choices (0.5.0)"
q -v mitdb="$mitdb" <<'SQL'
SET client_min_messages = warning;
CREATE TABLE ds2_records AS
SELECT unnest(ARRAY['100', '103', '105', '111', '113', '117', '121', '123', '200', '202', '210', '212',
                    '213', '214', '219', '221', '222', '228', '231', '232', '233', '234']) AS record;
SELECT ecg_import_wfdb_signals(:'mitdb', 'ds2_signals', (SELECT array_agg(record) FROM ds2_records),
                               ARRAY['MLII']);
SELECT ecg_import_annotations(:'mitdb', 'ds2_reference', (SELECT array_agg(record) FROM ds2_records));
SELECT ecg_detect_beats('ds2_signals', 'ds2_detected', 'MLII');
SELECT ecg_beats_from_signals('ds2_signals', 'ds2_detected', 'ds2_detected_beats', 'MLII');
SELECT ecg_subtract_record_median('ds2_detected_beats', 'ds2_detected_rel');
SQL
for m in pe_lw2_v pe_lw4_a; do
	q -At -v model="$m" <<'SQL'
-- each reference beat matched to the nearest detection within 150 ms (54
-- samples at 360 Hz): a beat without one is a miss of its class; a detection
-- without a reference beat is a false positive of the class it is given; Q
-- left out as in EC57
CREATE TEMP TABLE given AS
SELECT b.record, b.sample, c.predicted
FROM ecg_classify_table(:'model', 'ds2_detected_rel') c JOIN ds2_detected_rel b USING (id);
CREATE INDEX ON given (record, sample);
CREATE TEMP TABLE matched AS
SELECT r.label, d.predicted, d.sample IS NOT NULL AS detected
FROM ds2_reference r LEFT JOIN LATERAL (
    SELECT g.sample, g.predicted FROM given g
    WHERE g.record = r.record AND abs(g.sample - r.sample) <= 54
    ORDER BY abs(g.sample - r.sample) LIMIT 1) d ON true
WHERE r.label IS NOT NULL;
CREATE TEMP TABLE extra AS
SELECT g.predicted FROM given g
WHERE NOT EXISTS (SELECT 1 FROM ds2_reference r
                  WHERE r.label IS NOT NULL AND r.record = g.record AND abs(r.sample - g.sample) <= 54);
WITH c AS (
    SELECT k, count(*) FILTER (WHERE label = k AND predicted = k) AS tp,
           count(*) FILTER (WHERE label = k AND predicted IS DISTINCT FROM k) AS fn,
           count(*) FILTER (WHERE label NOT IN (k, 4) AND predicted = k)
             + (SELECT count(*) FROM extra e WHERE e.predicted = k) AS fp
    FROM matched, generate_series(0, 3) k GROUP BY k)
SELECT format('%s on DS2 from raw signals: macro F1 %s | %s | beats missed by the detector %s, detections of no beat %s',
              :'model', round(avg(2.0 * tp / nullif(2 * tp + fp + fn, 0)), 4),
              string_agg(format('%s %s / %s', (ARRAY['N', 'S', 'V', 'F'])[k + 1],
                                round(tp::numeric / nullif(tp + fn, 0), 3),
                                coalesce(round(tp::numeric / nullif(tp + fp, 0), 3)::text, '-')), ', ' ORDER BY k),
              (SELECT count(*) FROM matched WHERE NOT detected AND label <> 4),
              (SELECT count(*) FROM extra))
FROM c;
SQL
done | sed 's/^/bench: /'

if [ -z "$qtdb" ]; then
	log "cross-database part skipped: QT Database not found (set ECGDL_QTDB or place it in ../shared/data/qtdb)"
	exit 0
fi
log "cross-database: the stand-in (MIT-BIH's other lead), the QT Database, the experts on all of MIT-BIH (about 4 minutes)"
q -v mitdb="$mitdb" -v qtdb="$qtdb" <<'SQL'
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'mitdb', 'mit_v', lead => 'V1, V2, V4, V5');
SELECT ecg_import_wfdb(:'qtdb', 'qt');
SELECT ecg_subtract_record_median('mitbih', 'mit_ml2_rel');
SELECT ecg_subtract_record_median('mit_v', 'mit_v_rel');
SELECT ecg_subtract_record_median('qt', 'qt_rel');
SET ecgdl.threads = 1;
SELECT ecg_train('x_dev_aug', 'mit_ml2_rel', 'cnn', epochs => 15, batch_size => 512, patience => 4,
                 seed => 42, validation_fraction => 0.1, augment => 'lead');
-- class weights N / n_c over MIT-BIH (N 90,631, S 2,781, V 7,236, F 803), Q left out
SELECT ecg_train('rl_all_' || name, 'mitbih', 'rr_linear', epochs => 40, batch_size => 256,
                 learning_rate => 1e-2, patience => 40, seed => 42, validation_fraction => 0.1,
                 class_weight => 'N=1, S=32.6, V=12.5, F=112.9, Q=0', features => features)
FROM feature_sets ORDER BY name;
SQL
qx=$(with_rhythm qx x_dev_aug rl_all_ mit_v_rel)
rows mit_v_rel qt_rel records x_dev_aug $qx

log "cross-database: two ensembles of three shape experts (x_dev_aug seeds 42, 1, 2 and 3, 4, 5, weighted 1/3) times each rhythm expert (0.5.0, about 18 minutes)"
q <<'SQL'
SET client_min_messages = warning;
SET ecgdl.threads = 1;
SELECT ecg_train('x_dev_aug_s' || s, 'mit_ml2_rel', 'cnn', epochs => 15, batch_size => 512, patience => 4,
                 seed => s, validation_fraction => 0.1, augment => 'lead') FROM generate_series(1, 5) s;
SELECT ecg_model_combine('x_ens_' || t, m, weights => ARRAY[1/3.0, 1/3.0, 1/3.0])
FROM (VALUES ('a', ARRAY['x_dev_aug', 'x_dev_aug_s1', 'x_dev_aug_s2']),
             ('b', ARRAY['x_dev_aug_s3', 'x_dev_aug_s4', 'x_dev_aug_s5'])) v(t, m);
SQL
qx3a=$(with_rhythm qx3a x_ens_a rl_all_ mit_v_rel)
qx3b=$(with_rhythm qx3b x_ens_b rl_all_ mit_v_rel)
rows mit_v_rel qt_rel records x_ens_a x_ens_b $qx3a $qx3b
