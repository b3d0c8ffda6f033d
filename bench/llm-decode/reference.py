#!/usr/bin/python3
"""PyTorch eager reference for bench/llm-decode: the same Llama checkpoint, batch 1, fp32, prefill
then greedy decode with a KV cache grown by torch.cat (as transformers' eager DynamicCache does).
Prints one JSON object, including this process's own fp32 matmul GFLOP/s so the comparison can be
judged. Usage: reference.py CHECKPOINT_DIR PROMPT_TOKENS NEW_TOKENS REPEATS THREADS
"""
import json, math, struct, sys, time, resource
import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        assert e["dtype"] == "F32", e["dtype"]
        out[name] = torch.from_numpy(np.frombuffer(data, dtype="<f4", count=(end - b) // 4, offset=8 + n + b).reshape(e["shape"]).copy())
    del data
    return out


class Llama:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.h = cfg["hidden_size"]; self.nh = cfg["num_attention_heads"]; self.nkv = cfg.get("num_key_value_heads", self.nh)
        self.d = self.h // self.nh; self.eps = cfg["rms_norm_eps"]; self.L = cfg["num_hidden_layers"]
        self.inv_freq = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, self.d, 2).float() / self.d))
        self.head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]

    def rms(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, ids, cache, past):
        w = self.w; b, s = ids.shape
        x = F.embedding(ids, w["model.embed_tokens.weight"])
        pos = torch.arange(past, past + s).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), -1); cos, sin = emb.cos(), emb.sin()

        def rot(t):
            t1, t2 = t[..., : self.d // 2], t[..., self.d // 2:]
            return t * cos + torch.cat((-t2, t1), -1) * sin

        mask = None
        if s > 1:
            mask = torch.full((s, past + s), float("-inf")).triu(past + 1)
        for i in range(self.L):
            p = f"model.layers.{i}."
            n = self.rms(x, w[p + "input_layernorm.weight"])
            q = F.linear(n, w[p + "self_attn.q_proj.weight"]).view(b, s, self.nh, self.d).transpose(1, 2)
            k = F.linear(n, w[p + "self_attn.k_proj.weight"]).view(b, s, self.nkv, self.d).transpose(1, 2)
            v = F.linear(n, w[p + "self_attn.v_proj.weight"]).view(b, s, self.nkv, self.d).transpose(1, 2)
            q, k = rot(q), rot(k)
            if cache[i] is not None:
                k = torch.cat((cache[i][0], k), 2); v = torch.cat((cache[i][1], v), 2)
            cache[i] = (k, v)
            scores = q @ k.transpose(2, 3) / math.sqrt(self.d)
            if mask is not None:
                scores = scores + mask
            a = (F.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, s, self.h)
            x = x + F.linear(a, w[p + "self_attn.o_proj.weight"])
            n = self.rms(x, w[p + "post_attention_layernorm.weight"])
            x = x + F.linear(F.silu(F.linear(n, w[p + "mlp.gate_proj.weight"])) * F.linear(n, w[p + "mlp.up_proj.weight"]),
                             w[p + "mlp.down_proj.weight"])
        x = self.rms(x[:, -1:], w["model.norm.weight"])
        return F.linear(x, self.head)[0, -1]

    def generate(self, prompt, new):
        cache = [None] * self.L
        t0 = time.perf_counter()
        logits = self.forward(torch.tensor([prompt]), cache, 0)
        prefill = time.perf_counter() - t0
        nxt = int(logits.argmax())
        t1 = time.perf_counter()
        for step in range(new - 1):
            logits = self.forward(torch.tensor([[nxt]]), cache, len(prompt) + step)
            nxt = int(logits.argmax())
        decode = time.perf_counter() - t1
        return prefill, decode


def matmul_gflops(n=2048):
    a = torch.randn(n, n); b = torch.randn(n, n)
    a @ b
    times = []
    for _ in range(5):
        t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
    return 2 * n ** 3 / sorted(times)[len(times) // 2] / 1e9


def blas_library():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return sorted(libs)


def main():
    ckpt, prompt_tokens, new_tokens, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(int(sys.argv[5]))
    cfg = json.load(open(f"{ckpt}/config.json"))
    w = read_safetensors(f"{ckpt}/model.safetensors")
    params = sum(t.numel() for t in w.values())
    model = Llama(cfg, w)
    rng = np.random.default_rng(1)
    prompt = [int(x) for x in rng.integers(3, cfg["vocab_size"], prompt_tokens)]
    model.generate(prompt, 4)  # warm-up
    best_prefill = best_decode = 0.0
    for _ in range(repeats):
        prefill, decode = model.generate(prompt, new_tokens)
        best_prefill = max(best_prefill, prompt_tokens / prefill)
        best_decode = max(best_decode, (new_tokens - 1) / decode)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
        "matmul_gflops": matmul_gflops(), "params": params,
        "prefill_tok_s": best_prefill, "decode_tok_s": best_decode,
        "decode_weight_gb_s": best_decode * params * 4 / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
