"""WS-02 Reproducibility: two builds of the same source must be byte-identical.
usage: repro.py <build-a> <build-b> <out.json>"""
import hashlib
import json
import sys

a, b, out = sys.argv[1:4]
digests = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (a, b)]
report = {"identical": digests[0] == digests[1], "sha256": digests[0], "sha256_b": digests[1]}
json.dump(report, open(out, "w"), indent=2)
print(json.dumps(report))
sys.exit(0 if report["identical"] else 1)
