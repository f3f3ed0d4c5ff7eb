#!/usr/bin/python3
"""Generates test/ref/explain_refs.bin: PyTorch reference values for the
explanations of src/core/nn_explain.c (checked by test/core/test_nn_explain.c).

The models are those of gen_model_refs.py (same architectures rebuilt in
PyTorch 1.13, same hashed parameters, which both sides compute), run in
INFERENCE mode: batch norm with the moving statistics, no dropout.  For the
'baseline', 'cnn' and 'cnn_rr' models and 3 beats of 187 samples each:

  target          the arg-max class of the beat (the C model's operating
                  point is argmax: offsets 0)
  grad            d logit_target / d x at the beat (autograd), 187 values
  ig              integrated gradients of that logit from the baseline - the
                  beat flattened to its median (of 187 samples: the 94th
                  smallest) - midpoint rule over STEPS points alpha =
                  (k + 1/2) / STEPS (path rows computed in float32 as
                  b + alpha * (x - b); the sum in float64), all rows as one
                  batch with the baseline and the beat itself
  score, baseline_score   the logit at the beat and at the baseline

For cnn_rr the raw R-R features (standardised with gen_model_refs'
FEATURE_MEAN / FEATURE_SD) are held at the beat's values along the path.

File format: that of model_refs.bin ("ECGMREF1", then records u32 name
length, name, u32 stride (1), u32 count, count float32).  Names:
  explain/<arch>/x [3*187], explain/<arch>/features [3*8] (cnn_rr),
  explain/<arch>/target [3], .../grad [3*187], .../ig [3*187],
  .../score [3], .../baseline_score [3].

Run:  /usr/bin/python3 test/ref/gen_explain_refs.py   (writes next to itself)
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # importing gen_model_refs leaves no __pycache__

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import gen_model_refs as G  # noqa: E402

BEATS = 3
STEPS = 64


def records_for(arch, tensors, forward, seed):
    torch.manual_seed(seed)
    beats = (torch.randn(BEATS, G.BEAT) * 0.5).float()
    out = [(f"explain/{arch}/x", beats.numpy().ravel())]
    fstd = None
    if arch.endswith("_rr"):
        raw = (0.6 + 0.8 * torch.rand(BEATS, G.N_FEATURES)).float()
        mean = torch.tensor(G.FEATURE_MEAN, dtype=torch.float32)
        sd = torch.tensor(G.FEATURE_SD, dtype=torch.float32)
        fstd = (raw - mean) / sd
        out.append((f"explain/{arch}/features", raw.numpy().ravel()))
    net = G.Net(tensors)
    for v in net.p.values():
        v.requires_grad_(False)

    def logits_of(rows, f):
        x = F.pad(rows, (0, G.LENGTH - G.BEAT)).view(rows.shape[0], 1, G.LENGTH)
        if f is None:
            return forward(net, x, False)
        return forward(net, x, False, f.expand(rows.shape[0], -1))

    targets, grads, igs, scores, base_scores = [], [], [], [], []
    alphas = torch.tensor([np.float32((k + 0.5) / STEPS) for k in range(STEPS)] + [0.0, 1.0])
    for b in range(BEATS):
        x = beats[b:b + 1].clone().requires_grad_(True)
        f = None if fstd is None else fstd[b:b + 1]
        lg = logits_of(x, f)
        target = int(torch.argmax(lg[0]))
        lg[0, target].backward()
        grads.append(x.grad.numpy().ravel())
        # the path as one batch; the baseline: the beat flat at its median
        level = torch.sort(beats[b])[0][(G.BEAT - 1) // 2]
        base = torch.full((1, G.BEAT), float(level), dtype=torch.float32)
        path = (base + alphas.view(-1, 1) * (beats[b:b + 1] - base)).detach()
        path[-2] = base[0]
        path[-1] = beats[b]
        path.requires_grad_(True)
        lp = logits_of(path, f)
        lp[:, target].sum().backward()
        g = path.grad.double().numpy()
        avg = g[:STEPS].sum(axis=0) / STEPS
        igs.append((beats[b] - base[0]).double().numpy() * avg)
        targets.append(target)
        scores.append(float(lp[-1, target]))
        base_scores.append(float(lp[-2, target]))
    out += [(f"explain/{arch}/target", np.array(targets, dtype=np.float32)),
            (f"explain/{arch}/grad", np.concatenate(grads)),
            (f"explain/{arch}/ig", np.concatenate(igs)),
            (f"explain/{arch}/score", np.array(scores)),
            (f"explain/{arch}/baseline_score", np.array(base_scores))]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    records = records_for("baseline", G.baseline_tensors(), G.baseline_forward, 31)
    records += records_for("cnn", G.cnn_tensors(16), G.cnn_forward, 32)
    records += records_for("cnn_rr", G.cnn_rr_tensors(16), G.cnn_rr_forward, 33)
    path = os.path.join(here, "explain_refs.bin")
    with open(path, "wb") as f:
        f.write(b"ECGMREF1")
        for name, values in records:
            values = np.ascontiguousarray(values, dtype="<f4")
            encoded = name.encode("ascii")
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<II", 1, values.size))
            f.write(values.tobytes())
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(records)} records)")
    for name, values in records:
        if name.endswith(("target", "score")):
            print(name, np.round(np.asarray(values, dtype=np.float64), 4).tolist())


if __name__ == "__main__":
    main()
