#!/usr/bin/python3
"""Writes peft_adapter/: an adapter folder as PEFT's save_pretrained lays it out, made without our code.

adapter_config.json carries every field PEFT 0.13 writes (extra ones included) and the weights file
is written with Python's own safetensors framing (8-byte header length, JSON header, raw data) in
fp16, as PEFT saves an adapter trained in half precision. The module paths are a Llama's.
Run from this folder: /usr/bin/python3 make_peft_adapter.py
"""
import json
import struct

import numpy as np

rng = np.random.default_rng(7)
config = {
    "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
    "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
    "layer_replication": None, "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
    "lora_alpha": 16, "lora_dropout": 0.05, "megatron_config": None, "megatron_core": "megatron.core",
    "modules_to_save": None, "peft_type": "LORA", "r": 4, "rank_pattern": {}, "revision": None,
    "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False,
}
tensors = {}
for layer in range(2):
    for proj, out_dim in [("q_proj", 8), ("v_proj", 4)]:
        base = f"base_model.model.model.layers.{layer}.self_attn.{proj}"
        tensors[base + ".lora_A.weight"] = rng.standard_normal((4, 8)).astype(np.float16)
        tensors[base + ".lora_B.weight"] = rng.standard_normal((out_dim, 4)).astype(np.float16)

header = {"__metadata__": {"format": "pt"}}
offset = 0
blobs = []
for name in sorted(tensors):
    data = tensors[name].tobytes()
    header[name] = {"dtype": "F16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
    offset += len(data)
    blobs.append(data)
head = json.dumps(header).encode()
head += b" " * (-len(head) % 8)
with open("peft_adapter/adapter_model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
with open("peft_adapter/adapter_config.json", "w") as f:
    json.dump(config, f, indent=2)
with open("peft_adapter/expected.json", "w") as f:  # the factors as fp32, for the test to compare
    json.dump({n: t.astype(np.float32).reshape(-1).tolist() for n, t in tensors.items()}, f)
