#!/usr/bin/python3
"""PyTorch baseline for test/tools/train_bench.c: the same architectures and
training step (forward, cross-entropy, backward, Adam) at batch 2048 on
synthetic data, timed per epoch.  Prints samples per second for
torch.set_num_threads(1) and (2) and the best of the two.

  /usr/bin/python3 test/ref/torch_train_bench.py [--arch cnn|baseline]
        [--rows 254000] [--epochs 1] [--batch 2048] [--threads 1,2]

Architectures as in src/core/nn_model.c: Keras 'same' padding for kernel 4
is F.pad(x, (1, 2)); batch norm eps 1e-3, momentum 0.01 (torch terms);
dropout 0.2; channels-last flatten before the final dense layer.
"""
import argparse
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SameConv(nn.Conv1d):
    def __init__(self, cin):
        super().__init__(cin, 16, 4)

    def forward(self, x):
        return super().forward(F.pad(x, (1, 2)))


def bn():
    return nn.BatchNorm1d(16, eps=1e-3, momentum=0.01)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = SameConv(1)
        self.bn0 = bn()
        self.b1 = nn.ModuleList([SameConv(16), bn(), SameConv(16)])
        self.blocks = nn.ModuleList(
            [nn.ModuleList([bn(), SameConv(16), bn(), SameConv(16)]) for _ in range(3)])
        self.bn_out = bn()
        self.drop = nn.Dropout(0.2)
        self.dense = nn.Linear(1600, 5)

    def forward(self, x):
        h = F.relu(self.bn0(self.conv0(x)))
        c1, n1, c2 = self.b1
        h = h + c2(self.drop(F.relu(n1(c1(h)))))
        for i, (na, ca, nb, cb) in enumerate(self.blocks):
            if i == 1:
                h = F.max_pool1d(h, 2)
            y = ca(self.drop(F.relu(na(h))))
            y = cb(self.drop(F.relu(nb(y))))
            h = h + y
        h = F.relu(self.bn_out(h))
        h = h.permute(0, 2, 1).reshape(h.shape[0], -1)
        return self.dense(h)


class Baseline(nn.Module):
    def __init__(self):
        super().__init__()
        self.d1 = nn.Linear(200, 128)
        self.drop = nn.Dropout(0.2)
        self.d2 = nn.Linear(128, 5)

    def forward(self, x):
        return self.d2(self.drop(F.relu(self.d1(x.reshape(x.shape[0], -1)))))


def synthetic(rows, seed=1):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, rows)
    centre = 25 + 35 * labels + 10 * (rng.random(rows) - 0.5)
    t = np.arange(187)
    beats = np.exp(-(t[None, :] - centre[:, None]) ** 2 / 50.0) + 0.2 * rng.standard_normal((rows, 187))
    x = np.zeros((rows, 1, 200), dtype=np.float32)
    x[:, 0, :187] = beats
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


def run(arch, x, y, epochs, batch, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Cnn() if arch == "cnn" else Baseline()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    model.train()
    rows = x.shape[0]
    best = 0.0
    for epoch in range(epochs):
        order = torch.randperm(rows)
        start = time.perf_counter()
        for s in range(0, rows, batch):
            idx = order[s:s + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        rate = rows / seconds
        best = max(best, rate)
        print(f"  threads={threads} epoch {epoch + 1}: {seconds:.2f} s, {rate:.0f} samples/s, "
              f"loss {loss.item():.4f}", flush=True)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="cnn", choices=["cnn", "baseline"])
    ap.add_argument("--rows", type=int, default=254000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    x, y = synthetic(args.rows)
    results = {}
    for t in [int(v) for v in args.threads.split(",")]:
        results[t] = run(args.arch, x, y, args.epochs, args.batch, t)
    best_threads = max(results, key=results.get)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"arch={args.arch} rows={args.rows} batch={args.batch} torch={torch.__version__} "
          + " ".join(f"samples_per_s_{t}t={r:.0f}" for t, r in results.items())
          + f" best={results[best_threads]:.0f} (threads={best_threads}) peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
