#!/usr/bin/python3
"""Compares the core's k-NN and oversamplers with imbalanced-learn.

Generates a fixed synthetic set of 187-sample "beats" in 5 imbalanced,
overlapping classes (numpy seed), runs imbalanced-learn's RandomOverSampler,
SMOTE and ADASYN and scikit-learn's NearestNeighbors on it, runs the core on
the same data through build/tools/oversample_dump, and checks that:
  - per-class counts after random oversampling and SMOTE are identical;
  - ADASYN generates the same number of rows per class and per input row;
  - same-class and all-rows k-NN neighbour sets are identical;
  - every row the core generated recomputes from (base, partner, step).
Prints one "ok - ..." / "not ok - ..." line per check, exits 1 on a mismatch.

Usage: test/ref/imblearn_compare.py [path/to/oversample_dump]
(default: $OVERSAMPLE_DUMP, else build/tools/oversample_dump; build it with
`make tools`).  Needs Debian's python3-imblearn: run with /usr/bin/python3.
"""
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
from sklearn.neighbors import NearestNeighbors

DIM = 187
CLASS_SIZES = [2400, 260, 170, 45, 310]  # N, S, V, F, Q - like MIT-BIH, smaller
K = 5
# an explicit per-class target (-1 = leave as is), to check dict strategies
TARGETS = [-1, 1000, 170, 400, 900]

failures = 0


def report(ok, what, detail=""):
    global failures
    if ok:
        print(f"ok - {what}")
    else:
        failures += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))


def make_beats(seed=20240611):
    """Overlapping classes: a shared beat shape, class-specific bumps whose
    size varies per row, baseline wander and noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, DIM)

    def bump(centre, width):
        return np.exp(-0.5 * ((t - centre) / width) ** 2)

    base = 0.8 * bump(0.5, 0.02) + 0.2 * bump(0.3, 0.05) + 0.3 * bump(0.75, 0.06)
    features = [bump(0.5, 0.06), bump(0.25, 0.04), -bump(0.55, 0.03), bump(0.65, 0.05),
                bump(0.4, 0.08)]
    xs, ys = [], []
    for c, size in enumerate(CLASS_SIZES):
        amp = rng.normal(0.25, 0.12, size=(size, 1))
        wander = rng.normal(0.0, 0.05, size=(size, 1)) * t
        noise = rng.normal(0.0, 0.03, size=(size, DIM))
        xs.append(base + amp * features[c] + wander + noise)
        ys.append(np.full(size, c, dtype=np.int32))
    x = np.vstack(xs).astype(np.float32)
    y = np.concatenate(ys)
    # rows in a mixed order, as ids interleave classes
    order = rng.permutation(len(y))
    return np.ascontiguousarray(x[order]), y[order]


def write_dataset(path, x, y, n_classes):
    with open(path, "wb") as f:
        np.array([len(y)], dtype="<i8").tofile(f)
        np.array([x.shape[1], n_classes], dtype="<i4").tofile(f)
        y.astype("<i4").tofile(f)
        x.astype("<f4").tofile(f)


def run_tool(tool, *args):
    out = subprocess.run([tool, *map(str, args)], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(map(str, args))} failed: {out.stderr.strip()}")
    return out.stdout.splitlines()


def parse_run(lines):
    res = collections.defaultdict(dict)
    for line in lines:
        parts = line.split()
        if parts[0] in ("before", "generated", "after", "rowcount"):
            res[parts[0]][int(parts[1])] = int(parts[2])
        elif parts[0] == "check":
            res["check"] = parts[2]
    return res


def parse_nn(lines):
    return {int(p[1]): [int(v) for v in p[2:]] for p in (line.split() for line in lines)}


class ZeroSteps(np.random.RandomState):
    """A RandomState whose uniform() is 0: every generated row then equals
    its base row, which reveals imbalanced-learn's per-row counts."""

    def uniform(self, low=0.0, high=1.0, size=None):
        return np.zeros(size)


def compare_neighbours(ours, theirs, what):
    same_sets = all(sorted(ours[i]) == sorted(theirs[i]) for i in theirs)
    same_keys = set(ours) == set(theirs)
    bad = [i for i in theirs if sorted(ours.get(i, [])) != sorted(theirs[i])]
    report(same_sets and same_keys, f"{what}: identical neighbour sets for {len(theirs)} rows",
           f"{len(bad)} rows differ, e.g. row {bad[:1]}")
    same_order = all(ours[i] == theirs[i] for i in theirs)
    report(same_order or not same_sets, f"{what}: identical neighbour order")


def imblearn_adasyn_row_counts(x, y, strategy):
    n = len(y)
    xr, yr = ADASYN(sampling_strategy=strategy, n_neighbors=K,
                    random_state=ZeroSteps(0)).fit_resample(x, y)
    where = {x[i].tobytes(): i for i in range(n)}
    counts = collections.Counter(where[row.tobytes()] for row in xr[n:])
    generated = collections.Counter(int(v) for v in yr[n:])
    return counts, generated


def check_method(tool, data, x, y, method, strategy, targets_arg, label):
    extra = [targets_arg] if targets_arg else []
    ours = parse_run(run_tool(tool, "run", data, method, K, 7, *extra))
    report(ours.get("check") == "OK", f"{label}: every core row recomputes from base/partner/step")
    if method == "adasyn":
        counts, generated = imblearn_adasyn_row_counts(x, y, strategy)
        theirs_gen = {c: generated.get(c, 0) for c in range(len(CLASS_SIZES))}
        report(ours["generated"] == theirs_gen, f"{label}: rows generated per class",
               f"core {ours['generated']} vs imblearn {theirs_gen}")
        mism = [i for i in ours["rowcount"] if ours["rowcount"][i] != counts.get(i, 0)]
        extra_rows = [i for i in counts if i not in ours["rowcount"]]
        report(not mism and not extra_rows,
               f"{label}: rows generated per input row ({len(ours['rowcount'])} rows)",
               f"{len(mism)} rows differ, e.g. {mism[:3]}")
        if targets_arg is None:
            wanted = [max(CLASS_SIZES)] * len(CLASS_SIZES)
        else:
            wanted = [CLASS_SIZES[c] if t < 0 else t for c, t in enumerate(TARGETS)]
        off = {c: ours["after"][c] - wanted[c] for c in ours["after"]}
        print(f"# {label}: class count minus target after ADASYN (rounding): {off}")
    else:
        sampler = RandomOverSampler if method == "random" else SMOTE
        kw = {} if method == "random" else {"k_neighbors": K}
        _, yr = sampler(sampling_strategy=strategy, random_state=0, **kw).fit_resample(x, y)
        theirs = collections.Counter(int(v) for v in yr)
        theirs = {c: theirs.get(c, 0) for c in range(len(CLASS_SIZES))}
        report(ours["after"] == theirs, f"{label}: class counts after",
               f"core {ours['after']} vs imblearn {theirs}")


def check_adasyn_rounding(tool):
    """ADASYN's per-row counts round (c/k) / np.sum(c/k) * deficit with rint:
    on long inputs with many exact halves, only numpy's own summation order
    gives the same counts."""
    rng = np.random.default_rng(5)
    bad = 0
    for trial in range(40):
        n = int(rng.integers(100, 20000))
        k = int(rng.integers(1, 8))
        other = rng.integers(0, k + 1, size=n)
        other[0] = max(other[0], 1)
        deficit = int(rng.integers(1, 4 * n))
        if trial % 2:  # every row with an odd count lands on ratio*deficit = x.5
            if other.sum() % 2:
                other[0] = other[0] + 1 if other[0] < k else other[0] - 1
            deficit = int(other.sum()) // 2
        ratio = other / k
        ratio /= np.sum(ratio)
        expected = np.rint(ratio * deficit).astype(int)
        out = subprocess.run([tool, "adasyn-counts", "-", str(k), str(deficit)],
                             input=" ".join(map(str, other)), capture_output=True, text=True)
        got = np.array([int(v) for v in out.stdout.split()])
        if out.returncode != 0 or len(got) != n or (got != expected).any():
            bad += 1
    report(bad == 0, "ADASYN per-row rounding equals numpy's on 40 random inputs",
           f"{bad} inputs differ")


def main():
    tool = (sys.argv[1] if len(sys.argv) > 1 else
            os.environ.get("OVERSAMPLE_DUMP", "build/tools/oversample_dump"))
    if not os.access(tool, os.X_OK):
        print(f"not ok - oversample_dump tool at {tool} (build it with `make tools`)")
        return 1
    check_adasyn_rounding(tool)
    x, y = make_beats()
    n_classes = len(CLASS_SIZES)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "beats.bin")
        write_dataset(data, x, y, n_classes)

        # same-class k-NN, itself excluded (SMOTE, and ADASYN's partners)
        ours = parse_nn(run_tool(tool, "knn-class", data, K))
        theirs = {}
        for c in range(n_classes):
            idx = np.flatnonzero(y == c)
            nn = NearestNeighbors(n_neighbors=K + 1).fit(x[idx])
            found = nn.kneighbors(x[idx], return_distance=False)[:, 1:]
            theirs.update({int(idx[i]): [int(idx[j]) for j in found[i]] for i in range(len(idx))})
        compare_neighbours(ours, theirs, "same-class k-NN")

        # all-rows k-NN of the minority rows (ADASYN's ratios)
        nn_all = NearestNeighbors(n_neighbors=K + 1).fit(x)
        ours, theirs = {}, {}
        for c in range(1, n_classes):
            ours.update(parse_nn(run_tool(tool, "knn-all", data, K, c)))
            idx = np.flatnonzero(y == c)
            found = nn_all.kneighbors(x[idx], return_distance=False)[:, 1:]
            theirs.update({int(idx[i]): [int(j) for j in found[i]] for i in range(len(idx))})
        compare_neighbours(ours, theirs, "all-rows k-NN")

        targets_arg = ",".join(map(str, TARGETS))
        strategy = {c: t for c, t in enumerate(TARGETS) if t >= 0}
        for method in ("random", "smote", "adasyn"):
            check_method(tool, data, x, y, method, "auto", None, f"{method} auto")
            check_method(tool, data, x, y, method, strategy, targets_arg, f"{method} dict")
    print(f"# imbalanced-learn compare: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
