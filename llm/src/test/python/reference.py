#!/usr/bin/python3
"""Independent reference for finadvisor's model runtime: the forward passes of Llama (Mistral, Qwen2)
and Falcon written from Hugging Face transformers' modeling code (modeling_llama.py,
modeling_falcon.py) in plain PyTorch fp32, reading safetensors with numpy. transformers itself is not
installed here, so this file re-states its math; it shares no code with the Java runtime.

Usage: reference.py CHECKPOINT_DIR OUT.json
Writes the checkpoint's sha256, fixed input ids, full-sequence logits (fp32, base64) and a greedy
continuation computed by full recomputation (no KV cache). make_golden.sh runs it for every family.
"""
import base64, hashlib, json, math, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)

INPUT_IDS = [1, 17, 42, 300, 5, 99, 256, 7, 12, 200, 150, 3, 64, 128, 33, 290, 8, 1]
GREEDY_STEPS = 16


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = data[base + b: base + end]
        if e["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif e["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(e["dtype"])
        out[name] = torch.from_numpy(arr.copy().reshape(e["shape"]))
    return out


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_inv_freq(cfg, dim):
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            inv_freq = inv_freq / rs["factor"]
        elif kind == "llama3":  # _compute_llama3_parameters
            factor = rs["factor"]; low = rs["low_freq_factor"]; high = rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wavelen = old / low
            high_wavelen = old / high
            wavelen = 2 * math.pi / inv_freq
            inv_freq_llama = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama
            is_medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
            inv_freq = torch.where(is_medium, smoothed, inv_freq_llama)
    return inv_freq


def cos_sin(inv_freq, seq):
    pos = torch.arange(seq).float()
    freqs = (inv_freq[None, :, None].float() @ pos[None, None, :]).transpose(1, 2)[0]  # [seq, dim/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def causal_attention(q, k, v):
    # q [b, h, s, d]; k, v [b, h, s, d]
    s = q.shape[2]
    scores = q @ k.transpose(2, 3) / math.sqrt(q.shape[-1])
    mask = torch.full((s, s), float("-inf")).triu(1)
    probs = F.softmax(scores + mask, dim=-1, dtype=torch.float32)
    return probs @ v


def repeat_kv(x, n_rep):
    b, kvh, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


def llama_forward(cfg, w, ids):
    h = cfg["hidden_size"]; nh = cfg["num_attention_heads"]; nkv = cfg.get("num_key_value_heads", nh)
    d = cfg.get("head_dim", h // nh); eps = cfg.get("rms_norm_eps", 1e-6)

    def rms(x, weight):
        var = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(var + eps))

    def lin(x, name):
        return F.linear(x, w[name + ".weight"], w.get(name + ".bias"))

    x = w["model.embed_tokens.weight"][ids]
    b, s, _ = x.shape
    cos, sin = cos_sin(rope_inv_freq(cfg, d), s)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        res = x
        n = rms(x, w[p + "input_layernorm.weight"])
        q = lin(n, p + "self_attn.q_proj").view(b, s, nh, d).transpose(1, 2)
        k = lin(n, p + "self_attn.k_proj").view(b, s, nkv, d).transpose(1, 2)
        v = lin(n, p + "self_attn.v_proj").view(b, s, nkv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, nh // nkv); v = repeat_kv(v, nh // nkv)
        a = causal_attention(q, k, v).transpose(1, 2).reshape(b, s, nh * d)
        x = res + lin(a, p + "self_attn.o_proj")
        res = x
        n = rms(x, w[p + "post_attention_layernorm.weight"])
        x = res + lin(F.silu(lin(n, p + "mlp.gate_proj")) * lin(n, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return F.linear(x, head)


def falcon_forward(cfg, w, ids):
    h = cfg["hidden_size"]; nh = cfg.get("num_attention_heads", cfg.get("n_head"))
    d = h // nh; eps = cfg.get("layer_norm_epsilon", 1e-5)
    new_arch = cfg.get("new_decoder_architecture", False)
    parallel = cfg.get("parallel_attn", True)
    multi_query = cfg.get("multi_query", True)
    nkv = cfg.get("num_kv_heads", nh) if new_arch else (1 if multi_query else nh)

    def ln(x, name):
        return F.layer_norm(x, (h,), w[name + ".weight"], w[name + ".bias"], eps)

    def lin(x, name):
        return F.linear(x, w[name + ".weight"], w.get(name + ".bias"))

    x = w["transformer.word_embeddings.weight"][ids]
    b, s, _ = x.shape
    cos, sin = cos_sin(rope_inv_freq(cfg, d), s)
    for i in range(cfg.get("num_hidden_layers", cfg.get("n_layer"))):
        p = f"transformer.h.{i}."
        residual = x
        if new_arch:
            attn_ln = ln(x, p + "ln_attn"); mlp_ln = ln(x, p + "ln_mlp")
        else:
            attn_ln = ln(x, p + "input_layernorm")
        fused = lin(attn_ln, p + "self_attention.query_key_value")
        # FalconAttention._split_heads
        if new_arch:
            qkv = fused.view(b, s, nkv, nh // nkv + 2, d)
            q = qkv[:, :, :, :-2]; k = qkv[:, :, :, [-2]]; v = qkv[:, :, :, [-1]]
            k = torch.broadcast_to(k, q.shape); v = torch.broadcast_to(v, q.shape)
            q, k, v = [t.flatten(2, 3) for t in (q, k, v)]
        elif not multi_query:
            qkv = fused.view(b, s, nh, 3, d)
            q, k, v = qkv[..., 0, :], qkv[..., 1, :], qkv[..., 2, :]
        else:
            qkv = fused.view(b, s, nh + 2, d)
            q, k, v = qkv[..., :-2, :], qkv[..., [-2], :], qkv[..., [-1], :]
        q = q.transpose(1, 2); k = k.transpose(1, 2); v = v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if k.shape[1] != nh:
            k = k.expand(b, nh, s, d); v = v.expand(b, nh, s, d)
        a = causal_attention(q, k, v).transpose(1, 2).reshape(b, s, nh * d)
        attn_out = lin(a, p + "self_attention.dense")
        if not new_arch:
            if parallel:
                mlp_ln = attn_ln
            else:
                residual = attn_out + residual
                mlp_ln = ln(residual, p + "post_attention_layernorm")
        mlp_out = lin(F.gelu(lin(mlp_ln, p + "mlp.dense_h_to_4h")), p + "mlp.dense_4h_to_h")
        if new_arch or parallel:
            mlp_out = mlp_out + attn_out
        x = mlp_out + residual
    x = ln(x, "transformer.ln_f")
    head = w["transformer.word_embeddings.weight"] if cfg.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return F.linear(x, head)


def main():
    ckpt, out = sys.argv[1], sys.argv[2]
    cfg = json.load(open(f"{ckpt}/config.json"))
    w = read_safetensors(f"{ckpt}/model.safetensors")
    forward = falcon_forward if cfg["architectures"][0] == "FalconForCausalLM" else llama_forward
    ids = torch.tensor([INPUT_IDS])
    logits = forward(cfg, w, ids)[0].float().numpy()
    seq = list(INPUT_IDS)
    for _ in range(GREEDY_STEPS):  # greedy by full recomputation: no cache involved
        seq.append(int(forward(cfg, w, torch.tensor([seq]))[0, -1].argmax()))
    sha = hashlib.sha256(open(f"{ckpt}/model.safetensors", "rb").read()).hexdigest()
    json.dump({
        "checkpoint_sha256": sha,
        "input_ids": INPUT_IDS,
        "vocab_size": int(logits.shape[-1]),
        "logits_f32_base64": base64.b64encode(logits.astype("<f4").tobytes()).decode(),
        "greedy": seq[len(INPUT_IDS):],
        "torch": torch.__version__,
    }, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
