#!/usr/bin/env python3
"""A small MNIST-format data set for the distributed scripts: DIR [TRAIN [TEST]] images of
28x28 (default 300 and 100), labels from the mean brightness of the left half, so there is
something to learn. Deterministic (seeded)."""
import gzip
import os
import random
import struct
import sys


def write(directory, name, magic, dims, body):
    with gzip.open(os.path.join(directory, name), "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", x) for x in dims) + body)


def main():
    directory = sys.argv[1]
    sizes = {"train": int(sys.argv[2]) if len(sys.argv) > 2 else 300,
             "t10k": int(sys.argv[3]) if len(sys.argv) > 3 else 100}
    os.makedirs(directory)
    rng = random.Random(7)
    for prefix, n in sizes.items():
        images, labels = bytearray(), bytearray()
        for _ in range(n):
            label = rng.randrange(10)
            for _r in range(28):
                for c in range(28):
                    base = 25 * label if c < 14 else 128
                    images.append(max(0, min(255, base + rng.randrange(-30, 31))))
            labels.append(label)
        write(directory, f"{prefix}-images-idx3-ubyte.gz", 0x803, (n, 28, 28), bytes(images))
        write(directory, f"{prefix}-labels-idx1-ubyte.gz", 0x801, (n,), bytes(labels))


if __name__ == "__main__":
    main()
