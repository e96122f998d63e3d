#!/usr/bin/env python3
"""The house rules of the includes (Note [includes] in CMakeLists.txt; README "Where things
go"), checked from the checkout alone, with no build tree:

  1. every quoted include of a project file resolves relative to the including file;
  2. no include runs from a lower floor to a higher one, and the library's parts of one
     floor know nothing of each other (layers/ and optim/ meet only through core's
     Tensor); the programs (examples, bench, tests) may share code.

  check_includes.py [--graph]    exit 0 when both hold; --graph prints the parts, their
                                 floors and every arrow between parts with its count

Files of an outside project (tests/consumer, which spells <tamegrad/...> against the
installed package) are not the repository's own and are skipped.
"""
import collections
import os
import re
import subprocess
import sys

# The floor of each part: a part may include its own files and those of lower floors.
FLOORS = {
    "foundation": 0,
    "kernels": 1,
    "core": 2,
    "data": 3, "layers": 3, "optim": 3,
    "distributed": 4,
    "train": 5,
    "tamegrad.h": 6,
    "examples": 7, "bench": 7, "tests": 7,
}
PROGRAMS = 7
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def part_of(path):
    head = path.split("/", 1)[0]
    return head if head in FLOORS else None


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    files = subprocess.check_output(
        ["git", "ls-files", "*.h", "*.cpp", "*.cu", "*.cuh"], text=True).split()
    problems = []
    arrows = collections.Counter()
    for f in files:
        if f.startswith("tests/consumer/"):
            continue
        with open(f, errors="replace") as handle:
            text = handle.read()
        for spelled in INCLUDE.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(f), spelled))
            if not os.path.isfile(target):
                problems.append(f"{f}: #include \"{spelled}\" does not resolve from the checkout "
                                f"(relative to {os.path.dirname(f) or '.'}/)")
                continue
            a, b = part_of(f), part_of(target)
            if a is None or b is None or a == b:
                continue
            arrows[(a, b)] += 1
            # The programs (floor 7) may share code: tests run the examples' models.
            if FLOORS[b] > FLOORS[a] or (FLOORS[b] == FLOORS[a] and FLOORS[a] < PROGRAMS):
                where = "a higher floor" if FLOORS[b] > FLOORS[a] else "a part of its own floor"
                problems.append(f"{f}: includes {target}, on {where} ({a} is on floor "
                                f"{FLOORS[a]}, {b} on floor {FLOORS[b]})")
    if "--graph" in sys.argv:
        parts = sorted({p for arrow in arrows for p in arrow}, key=lambda p: (FLOORS[p], p))
        for floor in sorted({FLOORS[p] for p in parts}):
            print(f"floor {floor}: " + ", ".join(p for p in parts if FLOORS[p] == floor))
        for (a, b), n in sorted(arrows.items(), key=lambda x: (-FLOORS[x[0][0]], x[0])):
            print(f"  {a} -> {b} ({n})")
        print(f"{len(parts)} parts, {len(arrows)} arrows")
    for p in problems:
        print("check_includes: " + p, file=sys.stderr)
    if not problems:
        print(f"check_includes: {len(files)} files, every include resolves from the checkout, "
              f"no arrow runs up or across a floor")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
