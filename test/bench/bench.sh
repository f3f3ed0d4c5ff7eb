#!/usr/bin/env bash
# make bench: the benchmarks of test/bench/README.md in one run, on a
# throwaway cluster, against imbalanced-learn and PyTorch on the same machine.
#
#   bash test/bench/bench.sh [import|oversample|train|classify|all]
#
# Needs the MIT-BIH records ($ECGDL_MITDB or ../shared/data/mitdb).  Prints
# one "bench:" line per figure.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ECGDL_ROOT"
what=${1:-all}
py=/usr/bin/python3

ecgdl_install_packages python3-numpy python3-imblearn python3-torch bc
ecgdl_build_install
make -s tools >/dev/null
mitdb=$(ecgdl_find_mitdb)
[ -n "$mitdb" ] || { log "MIT-BIH records not found: set ECGDL_MITDB"; exit 1; }
ecgdl_start_cluster
work=$(mktemp -d /tmp/ecgdl-bench.XXXXXX)
chmod 777 "$work"
trap 'ecgdl_stop_cluster; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
say() { echo "bench: $*"; }

q -c "SET client_min_messages = warning" -c "CREATE EXTENSION ecgdl" >/dev/null
q >/dev/null <<'SQL'
CREATE FUNCTION bench_peak_mb() RETURNS numeric LANGUAGE sql AS $$
  SELECT round((regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::numeric / 1024, 0) $$;
SQL

# Runs SQL in a fresh session; prints "<seconds> <peak MB of that backend>".
timed() {
	local t0 t1 peak
	t0=$(now)
	peak=$(q -c "SET client_min_messages = warning" -c "$1" -c "SELECT bench_peak_mb()" | tail -n 1)
	t1=$(now)
	echo "$(secs "$t0" "$t1") $peak"
}

# ---- import and splits ----------------------------------------------------------
read -r s m <<<"$(timed "SELECT ecg_import_wfdb('$mitdb', 'mitbih')")"
say "import 48 records: $s s, server peak $m MB, $(q -c 'SELECT count(*) FROM mitbih') beats"
q -c "SET client_min_messages = warning" -c "SELECT count(*) FROM ecg_split('mitbih', 'bench_trainval', 'bench_test', 0.2, 42)" \
	-c "SELECT count(*) FROM ecg_split('bench_trainval', 'bench_train', 'bench_val', 0.3, 42)" >/dev/null
say "training part: $(q -c 'SELECT count(*) FROM bench_train') rows, test: $(q -c 'SELECT count(*) FROM bench_test') rows"
[ "$what" = import ] && exit 0

# ---- oversampling vs imbalanced-learn ------------------------------------------------
if [ "$what" = all ] || [ "$what" = oversample ]; then
	for method in random smote adasyn; do
		read -r s m <<<"$(timed "SELECT ecg_oversample('bench_train', 'bench_train_$method', '$method')")"
		say "ecg_oversample $method: $s s end to end, server peak $m MB, $(q -c "SELECT count(*) FROM bench_train_$method") rows written"
		# writing the same table at COPY speed, for reference
		q -c "COPY bench_train_$method TO '$work/$method.copy'"
		t0=$(now)
		q -c "CREATE TABLE copy_$method (LIKE bench_train_$method)" -c "COPY copy_$method FROM '$work/$method.copy'"
		t1=$(now)
		say "COPY of the $method table into a new table: $(secs "$t0" "$t1") s"
	done
	q -c "SELECT label || '|' || array_to_string(signal, ',') FROM bench_train ORDER BY id" | $py test/bench/to_bench_bin.py "$work/train.bin"
	$py test/ref/imblearn_bench.py "$work/train.bin" | sed 's/^/bench: imblearn /'
fi

# ---- training vs PyTorch --------------------------------------------------------------
if [ "$what" = all ] || [ "$what" = train ]; then
	q -c "SET client_min_messages = warning" -c "SELECT ecg_oversample('bench_train', 'bench_train_rnd', 'random')" >/dev/null
	rows=$(q -c "SELECT count(*) FROM bench_train_rnd")
	for arch in cnn baseline; do
		read -r s m <<<"$(timed "SELECT ecg_train('bench_$arch', 'bench_train_rnd', '$arch', 'bench_val', epochs => 2, patience => 0)")"
		per_epoch=$(q -c "SELECT round(min((e ->> 'seconds')::numeric), 2) FROM ecgdl.models, jsonb_array_elements(history) e WHERE name = 'bench_$arch'")
		say "ecg_train $arch on $rows rows (batch 2048, ecgdl.threads 2): best epoch $per_epoch s (incl. validation), $(echo "$rows / $per_epoch" | bc) samples/s, server peak $m MB, whole call $s s"
		$py test/ref/torch_train_bench.py --arch "$arch" --rows "$rows" --epochs 1 | tail -n 1 | sed 's/^/bench: pytorch /'
	done
fi

# ---- classification vs PyTorch ---------------------------------------------------------
if [ "$what" = all ] || [ "$what" = classify ]; then
	if [ -z "$(q -c "SELECT 1 FROM ecgdl.models WHERE name = 'bench_cnn'")" ]; then
		q -c "SET client_min_messages = warning" -c "SELECT ecg_train('bench_cnn', 'bench_train', 'cnn', 'bench_val', epochs => 1)" >/dev/null
	fi
	n=$(q -c "SELECT count(*) FROM bench_test")
	t0=$(now); q -c "SELECT ecg_classify('bench_cnn', signal) FROM bench_test LIMIT 1" >/dev/null; t1=$(now)
	say "first call on a new connection (connect, load, decode, classify one beat): $(secs "$t0" "$t1") s"
	t0=$(now); q -c "SELECT 1" >/dev/null; t1=$(now)
	say "an empty statement on a new connection, for reference: $(secs "$t0" "$t1") s"
	for i in 1 2 3; do
		read -r s m <<<"$(timed "SELECT count(*) FROM ecg_classify_table('bench_cnn', 'bench_test')")"
		say "ecg_classify_table cnn, $n beats: $s s = $(echo "$n / $s" | bc) beats/s (peak $m MB)"
	done
	for workers in 0 2; do
		read -r s m <<<"$(timed "SET max_parallel_workers_per_gather = $workers; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0; SELECT count(ecg_classify('bench_cnn', signal)) FROM bench_test")"
		say "per-row ecg_classify cnn, $n beats, $workers parallel workers: $s s = $(echo "$n / $s" | bc) beats/s"
	done
	$py test/bench/torch_infer_bench.py --rows "$n" | tail -n 1 | sed 's/^/bench: pytorch inference /'
fi
