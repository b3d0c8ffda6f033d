#!/usr/bin/env bash
# Prints the path of the MKL vendor-check shim (native/mkl-amd.c) when it applies: an AMD CPU and a C
# compiler to build it with (once, into app/target/native/). Prints nothing otherwise.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
grep -q -m1 AuthenticAMD /proc/cpuinfo 2>/dev/null || exit 0
out="$here/../app/target/native/libfinadvisor-mkl-amd.so"
if [[ ! -f "$out" || "$here/mkl-amd.c" -nt "$out" ]]; then
  cc="$(command -v cc || command -v gcc || true)"
  [[ -n "$cc" ]] || exit 0
  mkdir -p "$(dirname "$out")"
  "$cc" -shared -fPIC -O2 -o "$out.tmp.$$" "$here/mkl-amd.c" 2>/dev/null && mv -f "$out.tmp.$$" "$out" || { rm -f "$out.tmp.$$"; exit 0; }
fi
echo "$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
