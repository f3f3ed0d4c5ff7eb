#!/usr/bin/python3
"""Turns "label|v1,v2,...,v187" lines (psql output of a beat table) into the
binary file test/ref/imblearn_bench.py reads: int64 n, int32 dim, int32 0,
int32 labels[n], float32 rows[n][dim].

  psql -At -c "SELECT label || '|' || array_to_string(signal, ',') FROM t ORDER BY id" \
    | /usr/bin/python3 test/bench/to_bench_bin.py OUT.bin
"""
import sys

import numpy as np

labels = []
rows = []
for line in sys.stdin:
    label, values = line.rstrip("\n").split("|")
    labels.append(int(label))
    rows.append(np.array(values.split(","), dtype=np.float32))
x = np.vstack(rows).astype("<f4")
with open(sys.argv[1], "wb") as f:
    np.array([len(labels)], dtype="<i8").tofile(f)
    np.array([x.shape[1], 0], dtype="<i4").tofile(f)
    np.array(labels, dtype="<i4").tofile(f)
    x.tofile(f)
