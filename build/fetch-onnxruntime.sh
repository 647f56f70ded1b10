#!/usr/bin/env bash
# Obtains the native ONNX Runtime CPU library (libonnxruntime.so.1) from the npm package onnxruntime-node and
# places it at the path given as $1 (a per-user cache outside the repository, see OnnxRuntime.Native.targets).
# Safe when several builds run at once: one holds a lock, the others wait and then find the file in place.
# The file is verified by sha256 before an atomic rename, so a half-written or tampered file is never used.
set -euo pipefail

target=${1:?usage: fetch-onnxruntime.sh TARGET_FILE}
version=${ORT_NPM_VERSION:-1.30.0}
expected_sha256=${ORT_SHA256:-ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23}
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

dir=$(dirname "$target")
mkdir -p "$dir"
exec 9>"$dir/.fetch.lock"
flock 9
if [[ -f "$target" ]]; then exit 0; fi   # another build fetched it while we waited

command -v npm >/dev/null || { echo "error: npm is required to fetch ONNX Runtime (npm pack onnxruntime-node@$version); install Node.js, or set MLNT_ONNXRUNTIME_PATH to an existing libonnxruntime.so" >&2; exit 1; }

work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "Fetching ONNX Runtime $version (npm pack onnxruntime-node@$version) into $dir" >&2
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$work/onnxruntime-node-$version.tgz" -C "$work" "$member"
actual=$(sha256sum "$work/$member" | cut -d' ' -f1)
if [[ "$actual" != "$expected_sha256" ]]; then
  echo "error: sha256 mismatch for $member from onnxruntime-node@$version: expected $expected_sha256, got $actual" >&2
  exit 1
fi
touch "$work/$member"   # npm tarballs carry 1985 mtimes; copy-if-newer needs a current one
mv -f "$work/$member" "$target"
echo "ONNX Runtime $version ready: $target" >&2
