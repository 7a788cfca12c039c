"""WS-07 Dataset Tools: indexes a sprite folder into a training manifest (size, opaque-pixel share,
sha256 per image) and rejects images a sprite model cannot use. usage: dataset.py <dir> <out.json>"""
import hashlib
import json
import sys
from pathlib import Path

from pngio import read_png

folder, out = Path(sys.argv[1]), sys.argv[2]
items, rejected = [], []
for path in sorted(folder.glob("*.png")):
    w, h, rgba = read_png(path)
    opaque = sum(1 for i in range(3, len(rgba), 4) if rgba[i] >= 128) / (w * h)
    entry = {"file": path.name, "width": w, "height": h, "opaque": round(opaque, 3),
             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (items if w == h and 16 <= w <= 512 and opaque > 0.05 else rejected).append(entry)
if not items:
    sys.exit(f"no usable sprites in {folder}")
json.dump({"images": items, "rejected": rejected}, open(out, "w"), indent=2)
print(json.dumps({"images": len(items), "rejected": len(rejected)}))
