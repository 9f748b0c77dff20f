#!/usr/bin/env python3
"""Writes a pairs file for `fq verify` from the shared images: every pair of named single-face
photos (identities from images/MANIFEST.tsv) and the pre-aligned LFW crop pairs. Paths are
written as images/..., so put a link named images to the shared images folder beside the file.

  make-pairs.py SHARED_IMAGES_DIR > pairs.tsv
"""
import csv
import itertools
import os
import sys

images = sys.argv[1]
people = {}
with open(os.path.join(images, "MANIFEST.tsv"), newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        words = row["identity"].split()
        if not words or words[0].rstrip(":") in ("multi-face", "group", "LFW"):
            continue
        people.setdefault(words[0].rstrip(",;"), []).append(row["path"])
photos = sorted((path, name) for name, paths in people.items() for path in paths)
print("a\tb\tsame")
for (a, name_a), (b, name_b) in itertools.combinations(photos, 2):
    print(f"images/{a}\timages/{b}\t{int(name_a == name_b)}")
crops = "images/insightface_small_lfw_aligned112"
with open(os.path.join(images, "insightface_small_lfw_aligned112", "pairs.tsv")) as f:
    next(f)
    for line in f:
        a, b, same = line.split()
        print(f"{crops}/{a}\t{crops}/{b}\t{same}")
