"""The TensorBoard side of the interoperability test.

check_tensorboard.py MNIST_TRAIN DIR: writes a small MNIST-format data set (random
images, IDX .gz), trains two epochs with --tensorboard and --metrics, reads the event
file back with TensorBoard's own EventAccumulator and checks every scalar (tags, steps,
values) against the --metrics file. Exit 0: all held.
"""
import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def write_idx(path, array):
    code = 0x08  # unsigned byte
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def expect(condition, message):
    if not condition:
        print(f"check_tensorboard: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    mnist_train, directory = sys.argv[1], sys.argv[2]
    data = os.path.join(directory, "tb_data")
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 256), ("t10k", 64)):
        write_idx(f"{data}/{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(f"{data}/{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,)))
    logs = os.path.join(directory, "tb_logs")
    for old in os.listdir(logs) if os.path.isdir(logs) else []:
        os.remove(os.path.join(logs, old))
    metrics = os.path.join(directory, "tb_metrics.jsonl")
    subprocess.run([mnist_train, "--epochs", "2", "--batch", "64", "--device", "cpu",
                    "--data", data, "--tensorboard", logs, "--metrics", metrics], check=True,
                   stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in open(metrics)]
    accumulator = EventAccumulator(logs)
    accumulator.Reload()
    tags = sorted(accumulator.Tags()["scalars"])
    # Every numeric field is a scalar; the epoch is the step, and "alarms" (a list of the
    # gradient monitor's alarms, empty without --monitor) is not a scalar.
    want = sorted(k for k, v in rows[0].items() if k != "epoch" and not isinstance(v, list))
    expect(tags == want, f"tags {tags}, expected {want}")
    for tag in tags:
        events = accumulator.Scalars(tag)
        expect([e.step for e in events] == [r["epoch"] for r in rows],
               f"{tag}: steps {[e.step for e in events]}")
        for e, r in zip(events, rows):
            expect(abs(e.value - r[tag]) <= 1e-5 * max(1.0, abs(r[tag])),
                   f"{tag} step {e.step}: TensorBoard reads {e.value}, --metrics says {r[tag]}")
    print(f"check_tensorboard: {len(tags)} scalars x {len(rows)} epochs read back by "
          f"TensorBoard's EventAccumulator equal the --metrics file")


if __name__ == "__main__":
    main()
