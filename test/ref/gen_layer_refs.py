#!/usr/bin/python3
"""Generates test/ref/layer_refs.txt: PyTorch reference values for the layer
kernels of src/core/nn_layers.h (checked by test/core/test_nn_layers.c).

Inputs are random float32 values (fixed torch seed); the references are
computed in float64 from exactly those values, so the C kernels (float32) are
compared with the true result.  Keras conventions are emulated:
  - Conv1D 'same': F.pad(x, ((k-1)//2, k//2)) then a 'valid' conv1d;
    kernel layout [k][cin][cout] (torch wants [cout][cin][k]);
  - BatchNormalization: eps 1e-3, momentum 0.99 (torch momentum 0.01); Keras
    updates the moving variance with the BIASED batch variance, torch with the
    unbiased one - both are written so the test can tell them apart;
  - channels-last [batch][length][channels] buffers.

File format: one array per line, "name count v1 ... vcount" in decimal text:
inputs in the shortest form that reads back as the same float32, results
with 7 significant digits.
Run: /usr/bin/python3 test/ref/gen_layer_refs.py (Debian python3-torch 1.13)  (from the repository root, or any
directory: the file is written next to this script).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20240611)
LINES = []


# inputs fed to the C kernels: written exactly; everything else is a result
INPUTS = {"dims", "x", "w", "b", "dy", "gamma", "beta", "mov_mean", "mov_var",
          "logits", "labels", "weights"}


def put(name, t):
    v = t.detach().reshape(-1).double().numpy()
    if name.split(".")[1] in INPUTS:
        # shortest text that reads back as the same float32
        text = (str(x) for x in v.astype(np.float32))
    else:
        # results: 7 significant digits, far below the 1e-4 tolerance
        text = ("%.7g" % x for x in v)
    LINES.append("%s %d %s" % (name, len(v), " ".join(text)))


def rand32(*shape, scale=1.0):
    """float32 random values, returned as float64 (exactly representable)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).double()


def conv_case(name, batch, length, cin, cout, kernel):
    x = rand32(batch, length, cin).requires_grad_()
    w = rand32(kernel, cin, cout, scale=0.5).requires_grad_()
    b = rand32(cout, scale=0.5).requires_grad_()
    left, right = (kernel - 1) // 2, kernel // 2
    xt = F.pad(x.permute(0, 2, 1), (left, right))
    y = F.conv1d(xt, w.permute(2, 1, 0), b).permute(0, 2, 1)
    dy = rand32(batch, length, cout)
    y.backward(dy)
    put(name + ".dims", torch.tensor([batch, length, cin, cout, kernel]))
    put(name + ".x", x)
    put(name + ".w", w)
    put(name + ".b", b)
    put(name + ".dy", dy)
    put(name + ".y", y)
    put(name + ".dx", x.grad)
    put(name + ".dw", w.grad)
    put(name + ".db", b.grad)


def dense_case(name, batch, n_in, n_out):
    x = rand32(batch, n_in).requires_grad_()
    w = rand32(n_in, n_out, scale=0.5).requires_grad_()
    b = rand32(n_out).requires_grad_()
    y = x @ w + b
    dy = rand32(batch, n_out)
    y.backward(dy)
    put(name + ".dims", torch.tensor([batch, n_in, n_out]))
    for k, t in (("x", x), ("w", w), ("b", b), ("dy", dy), ("y", y),
                 ("dx", x.grad), ("dw", w.grad), ("db", b.grad)):
        put(name + "." + k, t)


def batchnorm_case(name, batch, length, channels, relu):
    eps, momentum_torch = 1e-3, 0.01
    # an offset mean tests the variance's numerical robustness a little
    x = (rand32(batch, length, channels) * 2.0 + 3.0).requires_grad_()
    gamma = (1.0 + rand32(channels, scale=0.3)).requires_grad_()
    beta = rand32(channels, scale=0.3).requires_grad_()
    mov_mean = rand32(channels, scale=0.5)
    mov_var = rand32(channels).abs() + 0.5
    run_mean, run_var = mov_mean.clone(), mov_var.clone()
    xt = x.reshape(-1, channels)
    y = F.batch_norm(xt, run_mean, run_var, gamma, beta, training=True,
                     momentum=momentum_torch, eps=eps)
    if relu:
        y = F.relu(y)
    dy = rand32(batch, length, channels)
    y.backward(dy.reshape(-1, channels))
    mean = xt.detach().mean(0)
    var_biased = xt.detach().var(0, unbiased=False)
    keras_mov_var = 0.99 * mov_var + 0.01 * var_biased
    y_inf = F.batch_norm(xt.detach(), mov_mean, mov_var, gamma.detach(), beta.detach(),
                         training=False, eps=eps)
    if relu:
        y_inf = F.relu(y_inf)
    put(name + ".dims", torch.tensor([batch * length, channels]))
    for k, t in (("x", x), ("gamma", gamma), ("beta", beta), ("dy", dy), ("y", y),
                 ("mean", mean), ("var", var_biased), ("dx", x.grad),
                 ("dgamma", gamma.grad), ("dbeta", beta.grad),
                 ("mov_mean", mov_mean), ("mov_var", mov_var),
                 ("new_mov_mean", run_mean), ("new_mov_var_keras", keras_mov_var),
                 ("new_mov_var_torch", run_var), ("y_infer", y_inf)):
        put(name + "." + k, t)


def maxpool_case(name, batch, length, channels):
    x = rand32(batch, length, channels).requires_grad_()
    y = F.max_pool1d(x.permute(0, 2, 1), 2, 2).permute(0, 2, 1)
    dy = rand32(batch, length // 2, channels)
    y.backward(dy)
    put(name + ".dims", torch.tensor([batch, length, channels]))
    for k, t in (("x", x), ("dy", dy), ("y", y), ("dx", x.grad)):
        put(name + "." + k, t)


def xent_case(name, batch, classes, weighted):
    logits = rand32(batch, classes, scale=3.0).requires_grad_()
    labels = torch.randint(0, classes, (batch,))
    w = (rand32(batch).abs() + 0.1) if weighted else torch.ones(batch, dtype=torch.float64)
    per_sample = F.cross_entropy(logits, labels, reduction="none")
    loss = (per_sample * w).sum() / batch
    loss.backward()
    put(name + ".dims", torch.tensor([batch, classes]))
    for k, t in (("logits", logits), ("labels", labels), ("weights", w),
                 ("probs", torch.softmax(logits.detach(), 1)),
                 ("sample_loss", per_sample), ("loss", loss.reshape(1)),
                 ("dlogits", logits.grad)):
        put(name + "." + k, t)


conv_case("conv_small", 3, 9, 3, 5, 4)       # scalar path
conv_case("conv_16x16", 1, 9, 16, 16, 4)     # vector path: a block of 8 plus 1 single position
conv_case("conv_first", 2, 9, 1, 16, 4)      # the cnn's first conv (1 input channel)
# (wider channel counts are checked against a double-precision C reference)
conv_case("conv_odd_k3", 2, 7, 2, 3, 3)      # odd kernel: 1 left, 1 right
conv_case("conv_odd_k5", 2, 8, 3, 2, 5)      # 2 left, 2 right
dense_case("dense", 4, 7, 5)
dense_case("dense_wide", 3, 12, 20)
batchnorm_case("bn4", 3, 9, 4, relu=False)
batchnorm_case("bn16", 2, 5, 16, relu=False)  # vectorised channel count
batchnorm_case("bnrelu16", 2, 5, 16, relu=True)
batchnorm_case("bn32", 2, 5, 32, relu=False)  # two vectors per row (cnn_wide)
batchnorm_case("bnrelu32", 2, 5, 32, relu=True)
batchnorm_case("bnrelu3", 2, 5, 3, relu=True)
maxpool_case("maxpool", 2, 9, 3)
xent_case("xent", 6, 5, weighted=False)
xent_case("xent_weighted", 7, 5, weighted=True)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layer_refs.txt")
with open(out, "w") as f:
    f.write("\n".join(LINES) + "\n")
print("wrote %s (%d arrays)" % (out, len(LINES)))
