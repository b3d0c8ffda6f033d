#!/usr/bin/python3
"""PyTorch eager reference of the LoRA training step that TrainLoraBench times in Java.

Same checkpoint (read here with numpy: no safetensors package needed), same shapes: batch BENCH_BATCH (1) x seq 256,
LoRA r=16 (alpha 32) on q/k/v/o/gate/up/down of every layer, the frozen base without weight
gradients, cross-entropy over all positions, global-norm clipping at 0.3, AdamW. Attention,
RMSNorm and SiLU are composed from ops as in the Java model (torch 1.13 has no fused attention).
Prints one JSON object: its own fp32 matmul GFLOP/s and the median step time.

usage: /usr/bin/python3 reference.py CHECKPOINT_DIR [STEPS] [SEQ] [RANK]
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(__import__("os").environ.get("REFERENCE_THREADS", "2")))


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        s, e = v["data_offsets"]
        array = np.frombuffer(data, dtype=dtypes[v["dtype"]], count=(e - s) // np.dtype(dtypes[v["dtype"]]).itemsize, offset=s)
        out[name] = torch.from_numpy(array.reshape(v["shape"]).astype(np.float32))
    return out


def matmul_gflops(n=2048, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(timed(lambda: a @ b) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class Lora(torch.nn.Module):
    def __init__(self, weight, r, alpha):
        super().__init__()
        self.weight = weight  # frozen: a plain tensor, no gradient
        out_f, in_f = weight.shape
        bound = 1 / math.sqrt(in_f)
        self.A = torch.nn.Parameter(torch.empty(r, in_f).uniform_(-bound, bound))
        self.B = torch.nn.Parameter(torch.zeros(out_f, r))
        self.scale = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.A) * self.scale, self.B)


WARMUP = 5  # as TrainLoraBench: steps before timing starts


def main():
    ckpt = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    seq = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    r = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    batch = int(__import__("os").environ.get("BENCH_BATCH", "1"))
    cfg = json.load(open(ckpt + "/config.json"))
    w = load_safetensors(ckpt + "/model.safetensors")
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    head_dim = hidden // heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    embed = w["model.embed_tokens.weight"]
    head = embed if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    parameters = sum(t.numel() for t in w.values())
    layers = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        layers.append({
            "ln1": w[p + "input_layernorm.weight"], "ln2": w[p + "post_attention_layernorm.weight"],
            **{n: Lora(w[p + f"self_attn.{n}.weight"], r, 2 * r) for n in ["q_proj", "k_proj", "v_proj", "o_proj"]},
            **{n: Lora(w[p + f"mlp.{n}.weight"], r, 2 * r) for n in ["gate_proj", "up_proj", "down_proj"]},
        })
    norm = w["model.norm.weight"]
    params = [p for layer in layers for m in layer.values() if isinstance(m, Lora) for p in (m.A, m.B)]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)

    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    freqs = torch.outer(torch.arange(seq).float(), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((seq, seq), float("-inf")).triu(1)

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g

    def rot(x):
        x1, x2 = x[..., : head_dim // 2], x[..., head_dim // 2:]
        return torch.cat([-x2, x1], dim=-1)

    def forward(ids):
        x = embed[ids]
        b = ids.shape[0]
        for L in layers:
            h = rms(x, L["ln1"])
            q = L["q_proj"](h).view(b, seq, heads, head_dim).transpose(1, 2)
            k = L["k_proj"](h).view(b, seq, kv_heads, head_dim).transpose(1, 2)
            v = L["v_proj"](h).view(b, seq, kv_heads, head_dim).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if kv_heads != heads:
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim) + mask, dim=-1)
            x = x + L["o_proj"]((att @ v).transpose(1, 2).reshape(b, seq, hidden))
            h = rms(x, L["ln2"])
            x = x + L["down_proj"](F.silu(L["gate_proj"](h)) * L["up_proj"](h))
        return rms(x, norm) @ head.t()

    g = torch.Generator().manual_seed(7)
    times = []
    for step in range(WARMUP + steps):
        tokens = torch.randint(3, cfg["vocab_size"], (batch, seq + 1), generator=g)
        t0 = time.perf_counter()
        logits = forward(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.3)
        opt.step()
        opt.zero_grad()
        if step >= WARMUP:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "matmul_gflops": matmul_gflops(),
                      "parameters": parameters, "step_s_median": median, "step_s_min": times[0],
                      "batch": batch, "tokens_per_s": batch * seq / median,
                      "gflops": 4 * parameters * batch * seq / median / 1e9}))


if __name__ == "__main__":
    main()
