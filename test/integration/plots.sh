#!/usr/bin/env bash
# Pictures: the SVG of each chart function (a beat with a second trace and a
# shading, a confusion matrix, a training history) is validated by xmllint
# (libxml2-utils) as a well-formed XML document with the SVG namespace, and
# is the same, byte for byte, when another session draws it again.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

chart_test_setup plots "the SVG checks"
{
	echo "SET client_min_messages = warning;"
	echo "CREATE EXTENSION ecgdl;"
	beats_sql 400
	echo "SELECT ecg_train('pl', 'beats', 'baseline', 'beats', epochs => 3, batch_size => 32) > 0;"
	echo "SELECT count(*) FROM ecg_evaluate('pl', 'beats');"
} | run >/dev/null || { not_ok "train and evaluate a model"; exit 1; }

# draw NAME SQL: writes the SVG the query returns to $tmp/NAME.svg
draw() { run -c "$2" >"$tmp/$1.svg"; }
charts=(
	"beat|SELECT ecg_plot_beat(signal, (SELECT signal FROM beats WHERE id = 2), ARRAY(SELECT (s % 7 - 3)::real FROM generate_series(1, 187) s), 125, 'beat 1 & beat 2 <synthetic>') FROM beats WHERE id = 1"
	"confusion|SELECT ecg_plot_confusion('pl', 'beats')"
	"history|SELECT ecg_plot_history('pl')"
)
for c in "${charts[@]}"; do
	name=${c%%|*}
	sql=${c#*|}
	if ! draw "$name" "$sql" || [ ! -s "$tmp/$name.svg" ]; then
		not_ok "ecg_plot_$name draws"
		continue
	fi
	if xmllint --noout "$tmp/$name.svg" 2>"$tmp/$name.err"; then
		ok "ecg_plot_$name: xmllint finds a well-formed document"
	else
		not_ok "ecg_plot_$name: xmllint finds a well-formed document" "$(head -3 "$tmp/$name.err")"
	fi
	root=$(xmllint --xpath 'concat(local-name(/*), " ", namespace-uri(/*))' "$tmp/$name.svg" 2>/dev/null)
	check "ecg_plot_$name: the root is an SVG element" "svg http://www.w3.org/2000/svg" "$root"
	draw "$name.again" "$sql"
	if cmp -s "$tmp/$name.svg" "$tmp/$name.again.svg"; then
		ok "ecg_plot_$name: the same bytes from another session"
	else
		not_ok "ecg_plot_$name: the same bytes from another session"
	fi
done
