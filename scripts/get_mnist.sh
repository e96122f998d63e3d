#!/usr/bin/env bash
# Fetches MNIST's four IDX .gz files into DIR (default data/mnist), where mnist_train looks
# first, checking each against its SHA-256 before it takes its name. For users with
# internet; without it (or with a mirror serving something else) it fails saying which
# file and why, and leaves no partial file under a final name.
# Usage: scripts/get_mnist.sh [DIR]
#   TG_MNIST_MIRRORS  space-separated base URLs tried in order (default: PyTorch's and
#                     Google's mirrors of the original files)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-data/mnist}
mirrors=${TG_MNIST_MIRRORS:-"https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist"}

# The published SHA-256 of each file (the same bytes on every mirror).
declare -A sha256=(
  [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
  [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
  [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
  [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)

command -v curl >/dev/null || { echo "get_mnist: curl is needed (apt-get install -y curl)" >&2; exit 1; }
mkdir -p "$dir"
for file in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  want=${sha256[$file]}
  if [ -f "$dir/$file" ] && [ "$(sha256sum "$dir/$file" | cut -d' ' -f1)" = "$want" ]; then
    echo "get_mnist: $dir/$file present and verified"
    continue
  fi
  tmp=$(mktemp "$dir/.$file.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  fetched=
  why=
  for mirror in $mirrors; do
    if ! curl -fsSL --retry 2 --connect-timeout 15 -o "$tmp" "$mirror/$file" 2>"$tmp.err"; then
      why="$why; $mirror: $(tail -n 1 "$tmp.err")"
      continue
    fi
    got=$(sha256sum "$tmp" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
      why="$why; $mirror: SHA-256 $got, expected $want"
      continue
    fi
    fetched=$mirror
    break
  done
  rm -f "$tmp.err"
  if [ -z "$fetched" ]; then
    rm -f "$tmp"
    echo "get_mnist: could not fetch $file${why}" >&2
    exit 1
  fi
  mv "$tmp" "$dir/$file"
  trap - EXIT
  echo "get_mnist: $dir/$file from $fetched, SHA-256 verified"
done
echo "get_mnist: MNIST is in $dir; mnist_train uses it by default (or --data $dir)"
