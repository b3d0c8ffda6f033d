#!/usr/bin/python3
"""Convert a Hugging Face Llama checkpoint folder to GGUF v3 for llama.cpp.

usage: gguf.py CHECKPOINT_DIR OUT.gguf TYPE      TYPE: F32, F16, Q8_0 or Q4_0

The folder holds config.json, model.safetensors (or model-0000X-of-0000N.safetensors with
model.safetensors.index.json) and tokenizer.json (byte-level BPE). Needs only numpy
(Debian: apt-get install python3-numpy). Tensors are read one at a time, a slab of rows at
a time, through a memory map, so a 14 GB checkpoint never sits in memory whole.

The file follows llama.cpp's "llama" architecture as its convert_hf_to_gguf.py writes it:
q_proj and k_proj rows permuted for llama.cpp's rotary layout, 2-D weights (token_embd and
output included) in TYPE, 1-D tensors (the RMSNorm weights) in F32. Q8_0 and Q4_0 follow
ggml's reference quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref); a matrix whose
rows are not a multiple of 32 long falls back to F16, as llama.cpp's converter does.
"""
import json
import os
import struct
import sys

import numpy as np

GGUF_MAGIC = 0x46554747  # "GGUF" little-endian
GGUF_VERSION = 3
ALIGNMENT = 32
QUANT_VERSION = 2  # GGML_QNT_VERSION

# GGUF metadata value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)

# ggml tensor types: id, elements per block, bytes per block
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34)}
# llama_ftype (general.file_type)
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7}
# llama.cpp token types
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6

ROWS_ELEMENTS = 1 << 24  # elements converted at once (64 MB of fp32)


# ---------------------------------------------------------------- safetensors

class Safetensors:
    """The tensors of a checkpoint folder: name -> (file, dtype, shape, byte offset, byte length)."""

    DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}

    def __init__(self, folder):
        index = os.path.join(folder, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        elif os.path.exists(os.path.join(folder, "model.safetensors")):
            files = ["model.safetensors"]
        else:
            raise SystemExit(f"{folder}: no model.safetensors nor model.safetensors.index.json")
        self.tensors = {}
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
            for key, info in header.items():
                if key == "__metadata__":
                    continue
                if info["dtype"] not in self.DTYPES:
                    raise SystemExit(f"{path}: tensor {key} has dtype {info['dtype']} (F32, F16, BF16 supported)")
                begin, end = info["data_offsets"]
                self.tensors[key] = (path, info["dtype"], tuple(info["shape"]), 8 + n + begin, end - begin)

    def shape(self, name):
        return self.tensors[name][2]

    def raw(self, name):
        """The tensor as a read-only memory map of its own in its stored dtype (BF16 as uint16), shaped:
        dropping it unmaps it, so the pages read do not stay in the process's RSS."""
        path, dtype, shape, offset, length = self.tensors[name]
        return np.memmap(path, dtype=self.DTYPES[dtype], mode="r", offset=offset, shape=shape), dtype

    @staticmethod
    def to_f32(values, dtype):
        if dtype == "BF16":
            return (values.astype(np.uint32) << 16).view(np.float32)
        return values.astype(np.float32)


# ---------------------------------------------------------------- quantizers

def quantize_q8_0(x):
    """x: float32 (n, k), k % 32 == 0 -> uint8 (n, k/32*34): per block fp16 d = amax/127, then 32 int8."""
    blocks = x.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    v = blocks * inv[:, None]
    q = (np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))).astype(np.int8)  # roundf: half away from zero
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.reshape(x.shape[0], -1)


def quantize_q4_0(x):
    """x: float32 (n, k), k % 32 == 0 -> uint8 (n, k/32*18), as ggml's quantize_row_q4_0_ref:
    d = (the value of largest magnitude) / -8, q = min(15, (int8)(x/d + 8.5)), element j in the low
    nibble of byte j and element j+16 in its high nibble, fp16 d first."""
    blocks = x.reshape(-1, 32)
    pick = np.abs(blocks).argmax(axis=1)  # first of equal magnitudes, as the C loop's strict '<'
    mx = blocks[np.arange(blocks.shape[0]), pick]
    d = (mx / np.float32(-8)).astype(np.float32)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0).astype(np.float32)
    v = blocks * inv[:, None] + np.float32(8.5)
    q = np.minimum(np.trunc(v), 15).astype(np.uint8)  # (int8_t) truncates toward zero; v > 0 here
    out = np.empty((blocks.shape[0], 18), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.reshape(x.shape[0], -1)


def encode(x, ggml_type):
    """float32 rows -> the bytes of those rows in ggml_type."""
    if ggml_type == "F32":
        return x.astype("<f4")
    if ggml_type == "F16":
        return x.astype("<f2")
    if ggml_type == "Q8_0":
        return quantize_q8_0(x)
    if ggml_type == "Q4_0":
        return quantize_q4_0(x)
    raise ValueError(ggml_type)


def nbytes(shape, ggml_type):
    _, block, size = GGML[ggml_type]
    elements = 1
    for s in shape:
        elements *= s
    assert elements % block == 0
    return elements // block * size


# ---------------------------------------------------------------- the model

def rope_permutation(rows, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute applied to row indices: out row i = in row perm[i]."""
    idx = np.arange(rows)
    return idx.reshape(n_head, 2, rows // n_head // 2).swapaxes(1, 2).reshape(rows)


def plan_tensors(st, cfg, file_type):
    """[(gguf name, hf name, gguf shape (ne0 first), ggml type, row permutation or None)]."""
    layers = cfg["num_hidden_layers"]
    n_head = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads", n_head)
    tied = cfg.get("tie_word_embeddings", False) or "lm_head.weight" not in st.tensors
    names = [("token_embd.weight", "model.embed_tokens.weight", None)]
    for i in range(layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        names += [
            (b + "attn_norm.weight", p + "input_layernorm.weight", None),
            (b + "attn_q.weight", p + "self_attn.q_proj.weight", n_head),
            (b + "attn_k.weight", p + "self_attn.k_proj.weight", n_kv),
            (b + "attn_v.weight", p + "self_attn.v_proj.weight", None),
            (b + "attn_output.weight", p + "self_attn.o_proj.weight", None),
            (b + "ffn_norm.weight", p + "post_attention_layernorm.weight", None),
            (b + "ffn_gate.weight", p + "mlp.gate_proj.weight", None),
            (b + "ffn_up.weight", p + "mlp.up_proj.weight", None),
            (b + "ffn_down.weight", p + "mlp.down_proj.weight", None),
        ]
    names.append(("output_norm.weight", "model.norm.weight", None))
    if not tied:
        names.append(("output.weight", "lm_head.weight", None))
    for hf in st.tensors:
        if hf.endswith(".bias"):
            raise SystemExit(f"tensor {hf}: biases are not part of the llama architecture")
    plan = []
    for gguf_name, hf_name, heads in names:
        if hf_name not in st.tensors:
            raise SystemExit(f"checkpoint lacks {hf_name}")
        shape = st.shape(hf_name)
        if len(shape) == 1:
            ggml_type = "F32"
        elif file_type in ("Q8_0", "Q4_0") and shape[-1] % 32 != 0:
            ggml_type = "F16"
        else:
            ggml_type = file_type
        perm = rope_permutation(shape[0], heads) if heads else None
        plan.append((gguf_name, hf_name, tuple(reversed(shape)), ggml_type, perm))
    return plan


def tokenizer_metadata(folder, cfg, vocab_size):
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    model = tok["model"]
    if model.get("type") != "BPE":
        raise SystemExit(f"tokenizer.json: model type {model.get('type')}, byte-level BPE needed")
    tokens = {}
    for text, i in model["vocab"].items():
        tokens[i] = text
    types = {}
    for added in tok.get("added_tokens", []):
        tokens[added["id"]] = added["content"]
        types[added["id"]] = TOKEN_CONTROL if added.get("special") else TOKEN_USER_DEFINED
    n = max(vocab_size, max(tokens) + 1)
    if n > vocab_size:
        raise SystemExit(f"tokenizer has id {max(tokens)} past the model's vocab_size {vocab_size}")
    token_list, type_list = [], []
    for i in range(n):
        if i in tokens:
            token_list.append(tokens[i])
            type_list.append(types.get(i, TOKEN_NORMAL))
        else:  # ids the embedding has and the tokenizer does not
            token_list.append(f"[PAD{i}]")
            type_list.append(TOKEN_UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]

    def special_id(key):
        tc_path = os.path.join(folder, "tokenizer_config.json")
        if os.path.exists(tc_path):
            with open(tc_path, encoding="utf-8") as f:
                value = json.load(f).get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                for i, text in tokens.items():
                    if text == value:
                        return i
        value = cfg.get(key + "_id")
        if isinstance(value, list):
            value = value[0]
        return value

    kv = [
        ("tokenizer.ggml.model", T_STRING, "gpt2"),
        ("tokenizer.ggml.pre", T_STRING, "gpt-2"),
        ("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, token_list)),
        ("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, type_list)),
        ("tokenizer.ggml.merges", T_ARRAY, (T_STRING, merges)),
    ]
    for key, name in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"), ("pad_token", "padding_token_id")):
        i = special_id(key)
        if i is not None:
            kv.append(("tokenizer.ggml." + name, T_UINT32, int(i)))
    return kv


# ---------------------------------------------------------------- GGUF writing

def pack_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


SCALAR = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
          T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}


def pack_value(vtype, value):
    if vtype == T_STRING:
        return pack_string(value)
    if vtype == T_ARRAY:
        etype, items = value
        head = struct.pack("<IQ", etype, len(items))
        if etype == T_STRING:
            return head + b"".join(pack_string(s) for s in items)
        return head + np.asarray(items, dtype=SCALAR[etype]).tobytes()
    return struct.pack(SCALAR[vtype], value)


def pad(n):
    return (-n) % ALIGNMENT


def convert(folder, out_path, file_type):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    archs = cfg.get("architectures", [])
    if cfg.get("model_type") != "llama" and "LlamaForCausalLM" not in archs:
        raise SystemExit(f"{folder}: model_type {cfg.get('model_type')}, a Llama checkpoint needed")
    if cfg.get("rope_scaling"):
        raise SystemExit(f"{folder}: rope_scaling {cfg['rope_scaling']} is not supported by this converter")
    st = Safetensors(folder)
    hidden = cfg["hidden_size"]
    n_head = cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or hidden // n_head
    vocab = cfg["vocab_size"]
    plan = plan_tensors(st, cfg, file_type)

    kv = [
        ("general.architecture", T_STRING, "llama"),
        ("general.name", T_STRING, os.path.basename(os.path.normpath(folder))),
        ("general.file_type", T_UINT32, FILE_TYPE[file_type]),
        ("general.alignment", T_UINT32, ALIGNMENT),
        ("llama.vocab_size", T_UINT32, vocab),
        ("llama.context_length", T_UINT32, cfg.get("max_position_embeddings", 2048)),
        ("llama.embedding_length", T_UINT32, hidden),
        ("llama.block_count", T_UINT32, cfg["num_hidden_layers"]),
        ("llama.feed_forward_length", T_UINT32, cfg["intermediate_size"]),
        ("llama.attention.head_count", T_UINT32, n_head),
        ("llama.attention.head_count_kv", T_UINT32, cfg.get("num_key_value_heads", n_head)),
        ("llama.rope.freq_base", T_FLOAT32, float(cfg.get("rope_theta", 10000.0))),
        ("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, float(cfg.get("rms_norm_eps", 1e-6))),
        ("llama.rope.dimension_count", T_UINT32, head_dim),
    ]
    if head_dim != hidden // n_head:
        kv += [("llama.attention.key_length", T_UINT32, head_dim), ("llama.attention.value_length", T_UINT32, head_dim)]
    if file_type in ("Q8_0", "Q4_0"):
        kv.append(("general.quantization_version", T_UINT32, QUANT_VERSION))
    kv += tokenizer_metadata(folder, cfg, vocab)

    header = bytearray(struct.pack("<IIQQ", GGUF_MAGIC, GGUF_VERSION, len(plan), len(kv)))
    for key, vtype, value in kv:
        header += pack_string(key) + struct.pack("<I", vtype) + pack_value(vtype, value)
    offset = 0
    for gguf_name, _, shape, ggml_type, _ in plan:
        header += pack_string(gguf_name) + struct.pack("<I", len(shape))
        header += b"".join(struct.pack("<Q", s) for s in shape)
        header += struct.pack("<IQ", GGML[ggml_type][0], offset)
        offset += nbytes(shape, ggml_type)
        offset += pad(offset)
    header += bytes(pad(len(header)))

    tmp = out_path + ".part"
    with open(tmp, "wb") as out:
        out.write(header)
        for gguf_name, hf_name, shape, ggml_type, perm in plan:
            values, dtype = st.raw(hf_name)
            written = 0
            if values.ndim == 1:
                data = encode(Safetensors.to_f32(values, dtype)[None, :], ggml_type)
                out.write(data.tobytes())
                written = data.nbytes
            else:
                rows, cols = values.shape
                step = max(1, ROWS_ELEMENTS // cols)
                for r in range(0, rows, step):
                    chunk = values[perm[r:r + step]] if perm is not None else values[r:r + step]
                    data = encode(Safetensors.to_f32(chunk, dtype), ggml_type)
                    out.write(data.tobytes())
                    written += data.nbytes
            del values  # unmap
            assert written == nbytes(shape, ggml_type), (gguf_name, written)
            out.write(bytes(pad(written)))
    os.replace(tmp, out_path)
    size = os.path.getsize(out_path)
    print(json.dumps({"out": out_path, "type": file_type, "tensors": len(plan), "file_mb": round(size / 2**20, 1)}))


def main(argv):
    if len(argv) != 4 or argv[3] not in FILE_TYPE:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    convert(argv[1], argv[2], argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
