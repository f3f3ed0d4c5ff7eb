#!/usr/bin/python3
"""Generates test/ref/model_refs.bin: PyTorch reference values for one full
training step of the 'baseline', 'cnn', 'cnn_wide', 'baseline_rr',
'cnn_rr', 'rr_net' and 'rr_linear' models (checked by test/core/test_nn_model.c).
The rr_linear records (0.4.0) were appended to the file as it was: run again
on another machine's torch build, the older records come out different in
their last bits (within the C test's tolerances), so they were kept as they were.

The architectures are rebuilt here in PyTorch 1.13 with Keras conventions:
Conv1D 'same' with kernel 4 = F.pad(x, (1, 2)) then a 'valid' conv; batch
norm with epsilon 1e-3 in training mode (biased batch variance) and Keras'
moving-statistics update (momentum 0.99, biased variance - computed here by
hand because torch's running_var uses the unbiased variance); channels-last
flatten (index t * filters + c); dropout disabled (rate 0) so the step is
deterministic.  Parameters are kept in the C layouts (conv kernel
[kernel][in][out], dense kernel [in][out]) so their gradients come out in
those layouts too.

Initial parameters are not stored: both sides compute them from the same
integer hash (param_value below and ref_param_value in test_nn_model.c), with
values k/1024 times a power of two, exact in float32.

One step = forward (training mode) on 8 beats of 187 samples zero-padded to
200, sample-weighted mean categorical cross-entropy, backward, then one Adam
update with Keras' formula (epsilon 1e-7 added to sqrt(v) before the bias
correction), lr 1e-3.  The cnns' conv-bias gradients are 0 in exact
arithmetic (each bias is followed by batch norm on every path) and only
rounding noise in float32; the step uses 0 for them (so does the C test).

File format (little-endian): the 8 bytes "ECGMREF1", then records until the
end: u32 name length, name bytes, u32 stride, u32 count, count float32.  A
record with stride s > 1 holds elements 0, s, 2s, ... of the named array
(large gradients are subsampled to keep the file small).  Names:
  <arch>/x [8*187], <arch>/labels [8], <arch>/weights [8], <arch>/loss [1],
  <arch>/probs [8*5] (training-mode forward), <arch>/grad/<tensor>,
  <arch>/after/<tensor> (parameters and moving statistics after the step),
  <arch>/probs_infer [8*5] (inference with the updated parameters);
  for the models with R-R features (*_rr, rr_net) also <arch>/features [8*8], the raw R-R features, which
  the model standardises with FEATURE_MEAN / FEATURE_SD (exact in float32;
  the C test sets the same) before they join the network.

Run:  /usr/bin/python3 test/ref/gen_model_refs.py   (writes next to itself)
"""
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

BATCH = 8
BEAT = 187
LENGTH = 200
CLASSES = 5
LR = 1e-3
EPS_BN = 1e-3
MOMENTUM = 0.99
SUBSAMPLE_OVER = 1024      # arrays longer than this are subsampled ...
SUBSAMPLE_KEEP = 512       # ... to about this many values

MASK64 = (1 << 64) - 1
N_FEATURES = 8
FEATURE_MEAN = [0.5 + k / 8 for k in range(N_FEATURES)]
FEATURE_SD = [0.25 * 2 ** (k % 3) for k in range(N_FEATURES)]


def mix64(key):
    """splitmix64 finaliser of key + golden ratio, on Python ints."""
    z = (key + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def unit_value(tensor_index, element):
    """k / 1024 for k in -1024..1024, a fixed function of the two indices."""
    h = mix64((tensor_index << 32) | element)
    return (((h >> 11) % 2049) - 1024) / 1024.0


# per parameter kind: value = offset + scale * unit_value (powers of two: exact)
PARAM_RULES = {
    "kernel": (0.0, None),  # scale chosen by fan-in below
    "bias": (0.0, 1.0 / 16),
    "gamma": (1.0, 1.0 / 4),
    "beta": (0.0, 1.0 / 8),
    "moving_mean": (0.0, 1.0 / 8),
    "moving_var": (1.0, 1.0 / 2),
}


def kernel_scale(fan_in):
    """largest power of two <= 2 / sqrt(fan_in)"""
    target = 2.0 / np.sqrt(fan_in)
    s = 1.0
    while s > target:
        s /= 2
    return s


def param_value(tensor_index, name, shape):
    kind = name.split(".")[1]
    offset, scale = PARAM_RULES[kind]
    if scale is None:
        fan_in = int(np.prod(shape[:-1]))
        scale = kernel_scale(fan_in)
    count = int(np.prod(shape))
    vals = np.array([offset + scale * unit_value(tensor_index, i) for i in range(count)],
                    dtype=np.float32)
    return vals.reshape(shape)


# ---------------------------------------------------------------------------
# architectures: tensor lists (C names, order and layouts) and forward passes


def baseline_tensors():
    return [("dense_2.kernel", (200, 128)), ("dense_2.bias", (128,)),
            ("dense_5.kernel", (128, 5)), ("dense_5.bias", (5,))]


def cnn_tensors(filters):
    """Mirrors build_residual_cnn in src/core/nn_model.c (node numbers included)."""
    t = []
    node = 1

    def conv(cin):
        nonlocal node
        t.append((f"conv1d_{node}.kernel", (4, cin, filters)))
        t.append((f"conv1d_{node}.bias", (filters,)))
        node += 1

    def bn():
        nonlocal node
        for p in ("gamma", "beta", "moving_mean", "moving_var"):
            t.append((f"batchnorm_{node}.{p}", (filters,)))
        node += 1

    def skip(n):  # parameter-free nodes (relu, dropout, add, maxpool, flatten)
        nonlocal node
        node += n

    conv(1); bn(); skip(1)                      # conv, bn, relu
    conv(filters); bn(); skip(2); conv(filters); skip(1)  # block 1
    for block in (2, 3, 4):
        if block == 3:
            skip(1)                             # maxpool
        bn(); skip(2); conv(filters); bn(); skip(2); conv(filters); skip(1)
    bn(); skip(2)                               # bn, relu, flatten
    t.append((f"dense_{node}.kernel", (100 * filters, 5)))
    t.append((f"dense_{node}.bias", (5,)))
    return t


def baseline_rr_tensors():
    """Mirrors build_baseline_rr: 0 input, 1 flatten, 2 features, 3 concat,
    4 dense(128), 5 relu, 6 dropout, 7 dense(5)."""
    return [("dense_4.kernel", (200 + N_FEATURES, 128)), ("dense_4.bias", (128,)),
            ("dense_7.kernel", (128, 5)), ("dense_7.bias", (5,))]


def cnn_rr_tensors(filters):
    """Mirrors build_cnn_rr: the cnn up to its flatten (node 40), 41 features,
    42 dense(16), 43 relu, 44 concat, 45 dense(5)."""
    t = cnn_tensors(filters)[:-2]
    t.append(("dense_42.kernel", (N_FEATURES, 16)))
    t.append(("dense_42.bias", (16,)))
    t.append(("dense_45.kernel", (100 * filters + 16, 5)))
    t.append(("dense_45.bias", (5,)))
    return t


def rr_net_tensors():
    """Mirrors build_rr_net: three stages conv (1, 5, 9) - bn (2, 6, 10) -
    relu - maxpool, 13 flatten, 14 dropout, 15 dense(16), 16 relu,
    17 features, 18 dense(16), 19 relu, 20 concat, 21 dense(32), 22 relu,
    23 dropout, 24 dense(5)."""
    t = []
    for node, cin in ((1, 1), (5, 8), (9, 8)):
        t.append((f"conv1d_{node}.kernel", (4, cin, 8)))
        t.append((f"conv1d_{node}.bias", (8,)))
        for p in ("gamma", "beta", "moving_mean", "moving_var"):
            t.append((f"batchnorm_{node + 1}.{p}", (8,)))
    t += [("dense_15.kernel", (25 * 8, 16)), ("dense_15.bias", (16,)),
          ("dense_18.kernel", (N_FEATURES, 16)), ("dense_18.bias", (16,)),
          ("dense_21.kernel", (32, 32)), ("dense_21.bias", (32,)),
          ("dense_24.kernel", (32, 5)), ("dense_24.bias", (5,))]
    return t


def rr_linear_tensors():
    """Mirrors build_rr_linear: 0 input (unused), 1 features, 2 dense(5)."""
    return [("dense_2.kernel", (N_FEATURES, 5)), ("dense_2.bias", (5,))]


class Net:
    """Parameters by C name, forward in train or inference mode."""

    def __init__(self, tensors):
        self.names = [n for n, _ in tensors]
        self.p = {}
        for i, (name, shape) in enumerate(tensors):
            v = torch.tensor(param_value(i, name, shape))
            trainable = "moving" not in name
            self.p[name] = v.requires_grad_(trainable)
        self.batch_stats = {}

    def conv(self, x, name):
        w = self.p[name + ".kernel"].permute(2, 1, 0)      # [out][in][k]
        return F.conv1d(F.pad(x, (1, 2)), w, self.p[name + ".bias"])

    def bn(self, x, name, training):
        gamma = self.p[name + ".gamma"].view(1, -1, 1)
        beta = self.p[name + ".beta"].view(1, -1, 1)
        if training:
            mean = x.mean(dim=(0, 2))
            var = x.var(dim=(0, 2), unbiased=False)
            self.batch_stats[name] = (mean.detach(), var.detach())
        else:
            mean = self.p[name + ".moving_mean"]
            var = self.p[name + ".moving_var"]
        return (x - mean.view(1, -1, 1)) / torch.sqrt(var.view(1, -1, 1) + EPS_BN) * gamma + beta

    def dense(self, x, name):
        return x @ self.p[name + ".kernel"] + self.p[name + ".bias"]


def baseline_forward(net, x, training):
    h = x.reshape(x.shape[0], -1)
    h = F.relu(net.dense(h, "dense_2"))
    return net.dense(h, "dense_5")                          # dropout rate 0


def baseline_rr_forward(net, x, training, f):
    h = torch.cat([x.reshape(x.shape[0], -1), f], dim=1)    # beat, then features
    h = F.relu(net.dense(h, "dense_4"))
    return net.dense(h, "dense_7")


def cnn_rr_forward(net, x, training, f):
    h = cnn_forward(net, x, training, head=False)
    g = F.relu(net.dense(f, "dense_42"))
    return net.dense(torch.cat([h, g], dim=1), "dense_45")


def rr_net_forward(net, x, training, f):
    h = x
    for node in (1, 5, 9):
        h = F.relu(net.bn(net.conv(h, f"conv1d_{node}"), f"batchnorm_{node + 1}", training))
        h = F.max_pool1d(h, 2)                              # [N][8][25] at the end
    h = h.permute(0, 2, 1).reshape(h.shape[0], -1)          # channels-last flatten
    h = F.relu(net.dense(h, "dense_15"))                    # dropout rate 0
    g = F.relu(net.dense(f, "dense_18"))
    h = F.relu(net.dense(torch.cat([h, g], dim=1), "dense_21"))
    return net.dense(h, "dense_24")


def rr_linear_forward(net, x, training, f):
    return net.dense(f, "dense_2")                          # the beat is not read


def cnn_forward(net, x, training, head=True):
    # layers in node order (= the order the forward pass uses them)
    layers = list(dict.fromkeys(n.split(".")[0] for n in net.names))
    position = [0]

    def next_layer(prefix):
        base = layers[position[0]]
        assert base.startswith(prefix), (base, prefix)
        position[0] += 1
        return base

    def conv(h):
        return net.conv(h, next_layer("conv1d"))

    def bn_relu(h):
        return F.relu(net.bn(h, next_layer("batchnorm"), training))

    h = bn_relu(conv(x))
    shortcut = h
    h = conv(bn_relu(conv(h)))
    h = h + shortcut
    for block in (2, 3, 4):
        if block == 3:
            h = F.max_pool1d(h, 2)
        shortcut = h
        h = conv(bn_relu(conv(bn_relu(h))))
        h = h + shortcut
    h = bn_relu(h)                                          # [N][filters][100]
    h = h.permute(0, 2, 1).reshape(h.shape[0], -1)          # channels-last flatten
    return net.dense(h, next_layer("dense")) if head else h


# ---------------------------------------------------------------------------


def subsample_stride(size):
    return size // SUBSAMPLE_KEEP if size > SUBSAMPLE_OVER else 1


def records_for(arch, tensors, forward):
    torch.manual_seed({"cnn": 20240, "cnn_wide": 20241, "baseline_rr": 20242,
                       "cnn_rr": 20243, "rr_net": 20244, "rr_linear": 20245}.get(arch, 1234))
    beats = (torch.randn(BATCH, BEAT) * 0.5).float()
    labels = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    weights = (0.5 + 1.5 * torch.rand(BATCH)).float()
    x = F.pad(beats, (0, LENGTH - BEAT)).view(BATCH, 1, LENGTH)
    extra = []
    if arch.endswith("_rr") or arch in ("rr_net", "rr_linear"):
        # R-R-like raw features around 0.2 .. 2 s, standardised as the model does
        raw = (0.6 + 0.8 * torch.rand(BATCH, N_FEATURES)).float()
        mean = torch.tensor(FEATURE_MEAN, dtype=torch.float32)
        sd = torch.tensor(FEATURE_SD, dtype=torch.float32)
        fstd = (raw - mean) / sd
        extra = [(f"{arch}/features", 1, raw.numpy().ravel())]
        plain = forward
        forward = lambda net, x, training: plain(net, x, training, fstd)  # noqa: E731

    net = Net(tensors)
    logits = forward(net, x, True)
    probs = torch.softmax(logits, dim=1)
    per_sample = F.cross_entropy(logits, labels, reduction="none")
    loss = (per_sample * weights).sum() / BATCH
    loss.backward()

    out = [(f"{arch}/x", 1, beats.numpy().ravel()),
           (f"{arch}/labels", 1, labels.numpy().astype(np.float32)),
           (f"{arch}/weights", 1, weights.numpy()),
           (f"{arch}/loss", 1, np.array([loss.item()], dtype=np.float32)),
           (f"{arch}/probs", 1, probs.detach().numpy().ravel())] + extra

    alpha = np.float32(LR * np.sqrt(1 - 0.999) / (1 - 0.9))
    with torch.no_grad():
        for name in net.names:
            v = net.p[name]
            if v.requires_grad:
                g = v.grad.numpy().ravel()
                stride = subsample_stride(g.size)
                out.append((f"{arch}/grad/{name}", stride, g[::stride]))
                if (arch.startswith("cnn") or arch == "rr_net") and name.startswith("conv1d_") \
                        and name.endswith(".bias"):
                    # every path from a cnn's or rr_net's conv bias to the loss passes a
                    # per-channel batch norm, so its gradient is 0 in exact
                    # arithmetic and rounding noise (~1e-8) here; Adam would
                    # turn that noise into +-lr steps, so both sides use 0
                    g = np.zeros_like(g)
                m = np.float32(0.1) * g
                vv = np.float32(0.001) * g * g
                new = v.numpy().ravel() - alpha * m / (np.sqrt(vv) + np.float32(1e-7))
                v.copy_(torch.tensor(new.reshape(v.shape)))
            else:
                layer, kind = name.split(".")
                mean, var = net.batch_stats[layer]
                stat = mean if kind == "moving_mean" else var
                v.copy_(MOMENTUM * v + (1 - MOMENTUM) * stat)
        for name in net.names:
            flat = net.p[name].detach().numpy().ravel()
            stride = subsample_stride(flat.size)
            out.append((f"{arch}/after/{name}", stride, flat[::stride]))
        probs_infer = torch.softmax(forward(net, x, False), dim=1)
    out.append((f"{arch}/probs_infer", 1, probs_infer.numpy().ravel()))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    records = records_for("baseline", baseline_tensors(), baseline_forward)
    records += records_for("cnn", cnn_tensors(16), cnn_forward)
    records += records_for("cnn_wide", cnn_tensors(32), cnn_forward)
    records += records_for("baseline_rr", baseline_rr_tensors(), baseline_rr_forward)
    records += records_for("cnn_rr", cnn_rr_tensors(16), cnn_rr_forward)
    records += records_for("rr_net", rr_net_tensors(), rr_net_forward)
    records += records_for("rr_linear", rr_linear_tensors(), rr_linear_forward)
    path = os.path.join(here, "model_refs.bin")
    with open(path, "wb") as f:
        f.write(b"ECGMREF1")
        for name, stride, values in records:
            values = np.ascontiguousarray(values, dtype="<f4")
            encoded = name.encode("ascii")
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<II", stride, values.size))
            f.write(values.tobytes())
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(records)} records)")


if __name__ == "__main__":
    main()
