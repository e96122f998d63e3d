#!/usr/bin/env bash
# A README example is the code a test compiles and runs: the lines between the test file's
# "[readme TAG begin]" and "[readme TAG end]" markers, unindented, must appear in the README
# as one block whose first line holds "[readme TAG]". Fails naming the first line that
# differs.
# Usage: readme_example_test.sh [TEST_FILE TAG]  (default: tests/unit/method_syntax_test.cpp,
# example: the method-syntax example; tests/train/readme_trainer_test.cpp trainer: training
# from your own program)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
test_file="$root/${1:-tests/unit/method_syntax_test.cpp}"
tag=${2:-example}
readme="$root/README.md"
example=$(sed -n "/\\[readme $tag begin\\]/,/\\[readme $tag end\\]/p" "$test_file" | sed '1d;$d' | sed 's/^  //')
[ -n "$example" ] || { echo "readme_example_test: no marked example in $test_file" >&2; exit 1; }
block=$(awk -v tag="[readme $tag]" '/^```cpp$/{inside=1; text=""; next} /^```$/{if (inside && index(text, tag)) {print text}; inside=0; next} inside{text = text $0 "\n"}' "$readme" | sed '1d' | sed '$d')
if [ "$example" != "$block" ]; then
  echo "readme_example_test: the README's example differs from $test_file's:" >&2
  diff <(echo "$example") <(echo "$block") >&2 || true
  exit 1
fi
echo "readme_example_test: the README's example is the tested code ($(echo "$example" | wc -l) lines)"
