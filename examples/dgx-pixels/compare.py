"""WS-12 Side-by-Side Comparison: pairs each original sprite with its pixelized version (by name)
and writes one PNG per pair, original left, pixelized right (nearest-neighbour to the same size),
plus the mean colour difference. usage: compare.py <originals> <pixelized> <out dir>"""
import json
import re
import sys
from pathlib import Path

from pngio import read_png, write_png

orig_dir, pix_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
out_dir.mkdir(parents=True, exist_ok=True)
natural = lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]
pixelized = sorted(pix_dir.glob("*.png"), key=natural)
originals = sorted(orig_dir.glob("*.png"))
by_name = {o: next((p for p in pixelized if o.stem in p.stem), None) for o in originals}
if not any(by_name.values()) and len(pixelized) == len(originals):
    by_name = dict(zip(originals, pixelized))  # results named by position, in input order
pairs, diffs = 0, []
for orig, match in by_name.items():
    if match is None:
        continue
    w, h, a = read_png(orig)
    pw, ph, b = read_png(match)
    canvas = bytearray(w * 2 * h * 4)
    total = 0
    for y in range(h):
        for x in range(w):
            src = a[(y * w + x) * 4:(y * w + x) * 4 + 4]
            sx, sy = x * pw // w, y * ph // h
            pix = b[(sy * pw + sx) * 4:(sy * pw + sx) * 4 + 4]
            canvas[(y * w * 2 + x) * 4:(y * w * 2 + x) * 4 + 4] = src
            canvas[(y * w * 2 + w + x) * 4:(y * w * 2 + w + x) * 4 + 4] = pix
            if src[3] >= 128:
                total += sum(abs(src[c] - pix[c]) for c in range(3)) / 3
    write_png(out_dir / f"{orig.stem}-side-by-side.png", w * 2, h, bytes(canvas))
    diffs.append(total / (w * h))
    pairs += 1
if pairs == 0:
    sys.exit(f"no pixelized image in {pix_dir} matches a sprite in {orig_dir}")
print(json.dumps({"pairs": pairs, "mean_abs_diff": round(sum(diffs) / len(diffs), 2)}))
