#!/usr/bin/env python3
"""Reads a compute-sanitizer memcheck log (--leak-check full) of a GoogleTest run and says
whether it is clean, telling apart one known report that is not ours.

cudnnCreate allocates, once per process, a little device and pinned host memory inside
libcudnn_graph (cuDNN 9.19: 25,344 + 4 bytes of device memory, 4 bytes of pinned memory)
that cudnnDestroy does not release; memcheck's leak check reports it at exit although
tamegrad destroys every handle it made (Note [context lifetime], core/context.cpp). A leak
whose allocation backtrace runs through cudnnCreate inside libcudnn is counted as that;
every other report (leaks elsewhere, invalid accesses, API errors) counts against us.

  memcheck_summary.py LOG        exit 0 when the tests passed and no other report exists
"""
import re
import sys


def main(path):
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    records, current = [], None
    for line in lines:
        if not line.startswith("========= "):
            continue
        body = line[len("========= "):]
        if body and not body.startswith(" "):  # a new report; indented lines continue it
            current = [body]
            records.append(current)
        elif current is not None:
            current.append(body)
    summary = [r[0] for r in records if r[0].startswith("ERROR SUMMARY")]
    if not summary:
        print(f"memcheck: no ERROR SUMMARY in {path} (did the run finish?)")
        return 1
    errors = int(re.search(r"(\d+) error", summary[-1]).group(1))
    cudnn_static = sum(1 for r in records if r[0].startswith("Leaked")
                       and any("cudnnCreate" in frame and "libcudnn" in frame for frame in r[1:]))
    passed = any("[  PASSED  ]" in line for line in lines) and not any("[  FAILED  ]" in line for line in lines)
    ours = errors - cudnn_static
    print(f"memcheck: {errors} reports, {cudnn_static} of them cuDNN's process-static allocations in "
          f"cudnnCreate, {ours} others; tests {'passed' if passed else 'FAILED'}")
    return 0 if passed and ours == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
