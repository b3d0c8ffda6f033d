#!/usr/bin/python3
"""Check gguf.py's Q8_0 and Q4_0 quantizers byte for byte against ggml's own reference quantizers
(quantize_row_q8_0_ref, quantize_row_q4_0_ref) in the libggml-base.so that node-llama-cpp ships.

usage: check_quant.py [LIBGGML_BASE_SO]   (default: the one under node_modules/@node-llama-cpp/linux-x64)
"""
import ctypes
import os
import sys

import numpy as np

import gguf

here = os.path.dirname(os.path.abspath(__file__))
default_lib = os.path.join(here, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so")
lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else default_lib)
for name in ("quantize_row_q8_0_ref", "quantize_row_q4_0_ref"):
    getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    getattr(lib, name).restype = None


def ggml(name, x, block_bytes):
    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.zeros(x.size // 32 * block_bytes, dtype=np.uint8)
    getattr(lib, name)(x.ctypes.data, out.ctypes.data, x.size)
    return out


rng = np.random.default_rng(7)
cases = {
    "gaussian": rng.standard_normal((64, 256)).astype(np.float32) * 0.02,
    "wide": (rng.standard_normal((16, 4096)) * rng.uniform(0.001, 10, (16, 1))).astype(np.float32),
    "zeros": np.zeros((2, 64), np.float32),
    # ties in magnitude (+a and -a in one block), exact multiples, tiny values
    "ties": np.tile(np.array([0.5, -0.5] + [0.25, -0.125] * 15, np.float32), (4, 2)),
    "grid": (np.arange(-16, 16, dtype=np.float32)[None, :] / 8).repeat(3, 0),
    "tiny": (rng.standard_normal((4, 64)) * 1e-6).astype(np.float32),
}
failed = 0
for label, x in cases.items():
    for qname, fn, size in (("q8_0", gguf.quantize_q8_0, 34), ("q4_0", gguf.quantize_q4_0, 18)):
        ours = fn(x).ravel()
        ref = ggml(f"quantize_row_{qname}_ref", x, size)
        bad = int((ours != ref).sum())
        failed += bad != 0
        print(f"{label:9s} {qname}: {'ok' if bad == 0 else f'{bad} of {ref.size} bytes differ'}")
print("quantizers match ggml" if failed == 0 else f"{failed} mismatching cases")
sys.exit(1 if failed else 0)
