#!/usr/bin/env bash
# The HTML report: a small synthetic study (test/integration/common.bash:
# study_beats_sql, recording_sql - no recording of a patient) reported by
# ecg_report_html; the document is well-formed XML (xmllint), so is every SVG
# in it, and it is the same from another session but for its date line; then
# headless Chromium renders it and the PNG is checked for real content: the
# window's size, mostly not blank, many colours, the class colours of the bars
# and the ECG paper's colour present, content down the page.  Without
# Chromium (Debian: chromium) the rendering checks are skipped with a
# message.  Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set
# by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)

chart_test_setup report "the report checks"
{
	echo "SET client_min_messages = warning;"
	echo "CREATE EXTENSION ecgdl;"
	study_beats_sql 900
	recording_sql
	echo "SELECT count(*) FROM ecg_study('beats', 'syn', epochs => 6, batch_size => 32,"
	echo "    methods => ARRAY['none', 'random', 'smote'], archs => ARRAY['baseline', 'cnn']);"
	echo "SELECT ecg_beats_from_signals('recording', 'recording_ref', 'recording_beats');"
} | run >/dev/null || { not_ok "a synthetic study and recording"; exit 1; }
ok "a synthetic study (6 models) and a synthetic recording"

report_sql="SELECT ecg_report_html('syn', 'recording', beats => 'recording_beats')"
run -c "$report_sql" >"$tmp/report.html" || { not_ok "ecg_report_html writes a report"; exit 1; }
figure "report: $(wc -c <"$tmp/report.html") bytes"
if xmllint --noout "$tmp/report.html" 2>"$tmp/report.err"; then
	ok "the report is a well-formed XML (XHTML) document per xmllint"
else
	not_ok "the report is a well-formed XML (XHTML) document per xmllint" "$(head -3 "$tmp/report.err")"
fi

# every inline SVG on its own, checked by xmllint
svgs=$(xmllint --xpath 'count(//*[local-name()="svg"])' "$tmp/report.html" 2>/dev/null)
bad=0
for i in $(seq 1 "${svgs:-0}"); do
	xmllint --xpath "(//*[local-name()='svg'])[$i]" "$tmp/report.html" >"$tmp/chart$i.svg" 2>/dev/null
	xmllint --noout "$tmp/chart$i.svg" 2>/dev/null || bad=$((bad + 1))
done
# 3 study charts, 6 confusion matrices and 6 histories, a strip, the first N
# and V beats, and an explanation of each where ecg_explain is installed
explain=$(run -c "SELECT to_regprocedure('ecg_explain(text, real[])') IS NOT NULL")
expected=$([ "$explain" = t ] && echo 20 || echo 18)
check "the report holds $expected SVG charts" "$expected" "$svgs"
check "each of its SVG charts is well-formed per xmllint" 0 "$bad"

run -c "$report_sql" >"$tmp/again.html"
if diff <(grep -v 'class="meta"' "$tmp/report.html") <(grep -v 'class="meta"' "$tmp/again.html") >/dev/null; then
	ok "the same report from another session but for its date line"
else
	not_ok "the same report from another session but for its date line"
fi

# rendering by headless Chromium
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "# chromium not installed (Debian: apt-get install chromium): the rendering checks are skipped" >&2
	ok "# SKIP headless Chromium rendering: chromium not installed"
	exit 0
fi
width=1100 height=5200
timeout 180 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
	--user-data-dir="$tmp/profile" --window-size="$width,$height" --screenshot="$tmp/report.png" \
	"file://$tmp/report.html" >"$tmp/chromium.out" 2>&1
if [ ! -s "$tmp/report.png" ]; then
	not_ok "headless Chromium renders the report" "$(tail -3 "$tmp/chromium.out")"
	exit 1
fi
ok "headless Chromium renders the report"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
# figures: width height non_white_share colours first_row last_row, then the
# pixels of N's and V's bar colours and of the ECG paper
read -r w h share colours first last n_blue v_red paper < <("$py" "$root/test/tools/png_check.py" "$tmp/report.png" \
	'#3a6fb0' '#c9302c' '#fff5f5')
figure "report.png: ${w}x${h}, non-white share $share, $colours colours, content from row $first to $last; pixels of N blue $n_blue, V red $v_red, ECG paper $paper"
check "the PNG has the window's size" "${width}x${height}" "${w}x${h}"
check "the PNG is not blank: over 5 % of its pixels are not white" 1 "$(awk -v s="$share" 'BEGIN { print (s > 0.05) }')"
check "the PNG has charts' colours: over 1000 distinct colours" 1 "$(( colours > 1000 ))"
check "the PNG shows the bars' class colours and the ECG paper" 1 "$(( n_blue > 500 && v_red > 500 && paper > 5000 ))"
check "the PNG has content from its top to below 3000 px" 1 "$(( first < 100 && last > 3000 ))"
