#!/usr/bin/env bash
# scripts/get_mnist.sh without the real files (CI has no route to the mirrors): an
# unreachable mirror and one serving other bytes each end with exit 1, a message naming
# the file and the reason, and nothing under a final name. (The success path needs the
# real files: run the script on a machine with internet.)
set -uo pipefail
script="$(cd "$(dirname "$0")/../.." && pwd)/scripts/get_mnist.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "get_mnist_test: FAILED: $*" >&2; exit 1; }

out=$(TG_MNIST_MIRRORS="http://127.0.0.1:9" "$script" "$work/a" 2>&1) && fail "an unreachable mirror passed"
grep -q "could not fetch train-images-idx3-ubyte.gz; http://127.0.0.1:9: curl: " <<<"$out" || fail "message: $out"
[ -z "$(ls -A "$work/a")" ] || fail "files left: $(ls -A "$work/a")"

mkdir -p "$work/mirror"
echo "not mnist" >"$work/mirror/train-images-idx3-ubyte.gz"
out=$(TG_MNIST_MIRRORS="file://$work/mirror" "$script" "$work/b" 2>&1) && fail "wrong bytes passed"
grep -q "file://$work/mirror: SHA-256 [0-9a-f]*, expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" <<<"$out" || fail "message: $out"
[ -z "$(ls -A "$work/b")" ] || fail "files left: $(ls -A "$work/b")"
echo "get_mnist_test: both failures clean"
