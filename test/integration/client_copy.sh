#!/usr/bin/env bash
# The client-side import path, as a user without server file access would use
# it from psql: \copy a heartbeat CSV into a staging table, then one call.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=ecgdl_client_copy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; psql -X -q -d postgres -c "DROP ROLE IF EXISTS ecgdl_analyst" >/dev/null 2>&1' EXIT

# a 20-line CSV in the Kaggle layout: 187 samples, then the label as a float
python3 - "$tmp/beats.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for n in range(1, 21):
        samples = ["%.6f" % (((s * n) % 89) / 89.0) for s in range(1, 188)]
        f.write(",".join(samples) + ",%d.000000000000000000e+00\n" % (n % 5))
PY

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" -c "DROP ROLE IF EXISTS ecgdl_analyst" -c "CREATE ROLE ecgdl_analyst LOGIN" >/dev/null
psql -X -q -d "$db" -c "CREATE EXTENSION ecgdl" -c "GRANT CREATE ON SCHEMA public TO ecgdl_analyst" >/dev/null

as_analyst() { psql -X -q -At -v ON_ERROR_STOP=1 -U ecgdl_analyst -d "$db" "$@"; }

out=$(as_analyst <<SQL 2>&1
CREATE TABLE staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
\copy staging (line) FROM '$tmp/beats.csv'
SELECT ecg_import_csv_staged('staging', 'my_beats');
SQL
)
check "analyst imports 20 beats through \\copy and ecg_import_csv_staged" "20" "$(echo "$out" | tail -n 1)"
check "labels survive the staged import" "4|4|4|4|4" \
	"$(as_analyst -c "SELECT string_agg(c::text, '|' ORDER BY label) FROM (SELECT label, count(*) c FROM my_beats GROUP BY label) t")"
check "samples survive the staged import" "0.011236" \
	"$(as_analyst -c "SELECT round(signal[1]::numeric, 6) FROM my_beats WHERE id = 1")"

err=$(as_analyst -c "SELECT ecg_import_csv('$tmp/beats.csv', 'server_side')" 2>&1)
case "$err" in
	*"permission denied"*) echo "ok - analyst cannot read server files with ecg_import_csv" ;;
	*) echo "not ok - analyst cannot read server files with ecg_import_csv"; echo "  got: $err" >&2 ;;
esac
err=$(as_analyst -c "SELECT ecg_import_wfdb('$tmp', 'server_side')" 2>&1)
case "$err" in
	*"permission denied"*) echo "ok - analyst cannot read server files with ecg_import_wfdb" ;;
	*) echo "not ok - analyst cannot read server files with ecg_import_wfdb"; echo "  got: $err" >&2 ;;
esac
