#!/usr/bin/python3
"""Reference outputs for the trainer math, made with Debian's python3-torch (1.13).

Run from this folder:  /usr/bin/python3 torch_reference.py
It writes torch_reference.json beside itself; the Java tests read only the JSON.
Inputs are drawn from a seeded torch generator and written out in full, so the tests
need no Python and no torch RNG.
"""
import json
import math

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)


def tolist(t):
    return t.detach().reshape(-1).tolist()


out = {"torch_version": torch.__version__}

# AdamW with decoupled weight decay: three parameters, six steps, lr changing every step,
# gradients given, as HF Trainer's default optimizer (adamw_torch) runs it.
# the third is long enough for the SIMD body of the Java update (16-lane vectors), the others only its tail
shapes = [[4, 3], [5], [9, 4]]
params = [torch.randn(s) for s in shapes]
start = [p.clone() for p in params]
lrs = [1e-3, 2e-3, 3e-3, 2e-3, 1e-3, 5e-4]
grads = [[torch.randn(s) * (0.1 if i % 2 else 2.0) for s in shapes] for i in range(len(lrs))]
opt = torch.optim.AdamW(params, lr=lrs[0], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
after = []
for step, lr in enumerate(lrs):
    for group in opt.param_groups:
        group["lr"] = lr
    for p, g in zip(params, grads[step]):
        p.grad = g.clone()
    opt.step()
    after.append([tolist(p) for p in params])
out["adamw"] = {
    "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
    "shapes": shapes, "start": [tolist(p) for p in start], "lrs": lrs,
    "grads": [[tolist(g) for g in gs] for gs in grads], "after": after,
}

# Global-norm clipping as HF Trainer does it (torch.nn.utils.clip_grad_norm_).
clip = {}
for name, max_norm in [("clipped", 1.0), ("unclipped", 100.0)]:
    ps = [torch.zeros(s, requires_grad=True) for s in shapes]
    gs = [torch.randn(s) * 3 for s in shapes]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    clip[name] = {"max_norm": max_norm, "grads": [tolist(g) for g in gs],
                  "total_norm": float(total), "clipped": [tolist(p.grad) for p in ps]}
clip["shapes"] = shapes
out["clip_grad_norm"] = clip

# Token cross-entropy over answer tokens only: labels -100 are prompt or padding (HF convention).
batch, seq, vocab = 2, 7, 11
logits = torch.randn(batch, seq, vocab) * 2
labels = torch.randint(0, vocab, (batch, seq))
mask = torch.zeros(batch, seq, dtype=torch.bool)
mask[0, 3:6] = True
mask[1, 1:7] = True
masked_labels = torch.where(mask, labels, torch.full_like(labels, -100))
logits.requires_grad_(True)
ce = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), masked_labels.reshape(-1), ignore_index=-100)
ce.backward()
out["cross_entropy"] = {
    "batch": batch, "seq": seq, "vocab": vocab, "logits": tolist(logits),
    "labels": tolist(labels), "mask": [int(x) for x in tolist(mask)],
    "mean": float(ce), "perplexity": math.exp(float(ce)), "grad": tolist(logits.grad),
}

with open("torch_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
