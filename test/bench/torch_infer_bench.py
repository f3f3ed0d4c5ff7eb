#!/usr/bin/python3
"""PyTorch inference throughput of the study's cnn (the architecture of
test/ref/torch_train_bench.py) on N beats in batches, for comparison with
ecg_classify_table / ecg_classify.  Prints beats per second for 1 and 2
threads and the best.

  /usr/bin/python3 test/bench/torch_infer_bench.py [--rows 21892] [--batch 2048]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ref"))
from torch_train_bench import Cnn, synthetic  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=21892)
    ap.add_argument("--batch", type=int, default=2048)
    args = ap.parse_args()
    x, _ = synthetic(args.rows)
    model = Cnn().eval()
    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with torch.no_grad():
            model(x[: args.batch])  # warm-up
            start = time.perf_counter()
            for s in range(0, args.rows, args.batch):
                torch.softmax(model(x[s:s + args.batch]), dim=1)
            seconds = time.perf_counter() - start
        results[threads] = args.rows / seconds
        print(f"  threads={threads}: {seconds:.2f} s, {results[threads]:.0f} beats/s", flush=True)
    best = max(results, key=results.get)
    print(f"torch={torch.__version__} rows={args.rows} batch={args.batch} "
          f"best={results[best]:.0f} beats/s (threads={best})")


if __name__ == "__main__":
    main()
