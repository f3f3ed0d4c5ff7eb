#!/usr/bin/python3
"""Times imbalanced-learn's RandomOverSampler, SMOTE and ADASYN (and
scikit-learn's k-NN search of the minority rows among all rows) on the data
that build/tools/oversample_bench writes with --write FILE, to compare with
the core's times printed by that tool.

Usage:
  build/tools/oversample_bench --write /tmp/beats.bin
  /usr/bin/python3 test/ref/imblearn_bench.py /tmp/beats.bin [--float64]

imbalanced-learn gets the rows as float32 (as the core does) unless
--float64 is given.  Prints one line per timed step: wall-clock seconds and
CPU seconds of the process (all threads).
"""
import sys
import time

import numpy as np
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
from sklearn.neighbors import NearestNeighbors


def read_dataset(path):
    with open(path, "rb") as f:
        n = int(np.fromfile(f, dtype="<i8", count=1)[0])
        dim, _ = (int(v) for v in np.fromfile(f, dtype="<i4", count=2))
        y = np.fromfile(f, dtype="<i4", count=n)
        x = np.fromfile(f, dtype="<f4", count=n * dim).reshape(n, dim)
    return x, y


def timed(label, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label:<20} {time.perf_counter() - t0:8.3f} s wall {time.process_time() - c0:8.3f} s cpu",
          flush=True)
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    x, y = read_dataset(sys.argv[1])
    if "--float64" in sys.argv:
        x = x.astype(np.float64)
    print(f"# {x.shape[0]} rows x {x.shape[1]} ({x.dtype}), classes: {np.bincount(y).tolist()}")
    minority = x[y != 0]
    timed("knn_minority_vs_all",
          lambda: NearestNeighbors(n_neighbors=6).fit(x).kneighbors(minority,
                                                                    return_distance=False))
    for name, sampler in (("random", RandomOverSampler(random_state=42)),
                          ("smote", SMOTE(random_state=42)),
                          ("adasyn", ADASYN(random_state=42))):
        _, yr = timed(f"imblearn_{name}", lambda: sampler.fit_resample(x, y))
        print(f"#   {len(yr) - len(y)} new rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
