#!/usr/bin/env bash
# The README's method-syntax example is the code that tests/unit/method_syntax_test.cpp
# compiles and runs (TheReadmeExampleTrains): the lines between its "[readme example
# begin]" and "[readme example end]" markers, unindented, must appear in the README as one
# block. Fails naming the first line that differs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
test_file="$root/tests/unit/method_syntax_test.cpp"
readme="$root/README.md"
example=$(sed -n '/\[readme example begin\]/,/\[readme example end\]/p' "$test_file" | sed '1d;$d' | sed 's/^  //')
[ -n "$example" ] || { echo "readme_example_test: no marked example in $test_file" >&2; exit 1; }
block=$(awk '/^```cpp$/{inside=1; text=""; next} /^```$/{if (inside && text ~ /\[readme example\]/) {print text}; inside=0; next} inside{text = text $0 "\n"}' "$readme" | sed '1d' | sed '$d')
if [ "$example" != "$block" ]; then
  echo "readme_example_test: the README's example differs from $test_file's:" >&2
  diff <(echo "$example") <(echo "$block") >&2 || true
  exit 1
fi
echo "readme_example_test: the README's example is the tested code ($(echo "$example" | wc -l) lines)"
