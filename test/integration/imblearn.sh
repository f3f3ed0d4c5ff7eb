#!/usr/bin/env bash
# The core's k-NN and oversamplers against imbalanced-learn and scikit-learn
# (Debian's python3-imblearn, installed by the test command): neighbour sets,
# class counts, ADASYN's per-row counts.  See test/ref/README.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
py=/usr/bin/python3
if ! "$py" -c 'import imblearn, sklearn' 2>/dev/null; then
	echo "not ok - imbalanced-learn comparison: $py cannot import imblearn (install python3-imblearn)"
	exit 1
fi
make -s build/tools/oversample_dump >/dev/null || { echo "not ok - build oversample_dump"; exit 1; }
exec "$py" test/ref/imblearn_compare.py build/tools/oversample_dump
