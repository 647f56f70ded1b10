#!/usr/bin/env bash
# Native C baseline for the binding's per-run overhead: compiles run_overhead.c with gcc -O2, writes the tiny graph with the
# C# benchmark program (--write-model), and times it against the same ONNX Runtime library the binding loads.
#
# usage: tests/MLNetTransformers.Benchmarks/native/run.sh [ITERATIONS=200000] [ROUNDS=5]
# env:   MLNT_ONNXRUNTIME_PATH  the library file (or its folder); default
#                               ${MLNT_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/mlnettransformers}/onnxruntime/1.30.0/linux-x64/libonnxruntime.so.1
#        MLNT_BENCH_MODEL       an existing model file to use instead of writing one
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
out="$here/bin"
mkdir -p "$out"

if [[ -n "${MLNT_CACHE_DIR:-}" ]]; then
  cache="$MLNT_CACHE_DIR"
elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
  cache="$XDG_CACHE_HOME/mlnettransformers"
else
  cache="$HOME/.cache/mlnettransformers"
fi
lib="${MLNT_ONNXRUNTIME_PATH:-$cache/onnxruntime/1.30.0/linux-x64/libonnxruntime.so.1}"
if [[ -d "$lib" ]]; then
  lib="$lib/libonnxruntime.so.1"
fi
if [[ ! -f "$lib" ]]; then
  echo "ONNX Runtime library not found: $lib (build the solution once to fetch it, or set MLNT_ONNXRUNTIME_PATH)" >&2
  exit 1
fi

model="${MLNT_BENCH_MODEL:-}"
if [[ -z "$model" ]]; then
  model="$out/tiny_add.onnx"
  dotnet run -c Release --project "$project" -- --write-model "$model" >/dev/null
fi

gcc -O2 -std=c11 -Wall -Wextra -Werror -o "$out/run_overhead" "$here/run_overhead.c" -ldl
echo "gcc: $(gcc --version | head -n1)"
"$out/run_overhead" "$lib" "$model" "${1:-200000}" "${2:-5}"
