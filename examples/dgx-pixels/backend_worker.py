"""WS-10 Python Backend Worker: a pool of worker processes takes sprite jobs from a queue, decodes
each sprite and computes its colour histogram and dominant colours, the backend half of the TUI.
usage: backend_worker.py <dir> <out.json> [workers]"""
import json
import sys
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

from pngio import read_png


def job(path):
    w, h, rgba = read_png(path)
    # 3 bits per channel: 512 bins, enough to name a sprite's palette.
    bins = Counter((rgba[i] >> 5, rgba[i + 1] >> 5, rgba[i + 2] >> 5) for i in range(0, len(rgba), 4) if rgba[i + 3] >= 128)
    top = [{"rgb": [c * 32 + 16 for c in key], "pixels": n} for key, n in bins.most_common(4)]
    return {"file": Path(path).name, "pixels": w * h, "bins": len(bins), "dominant": top}


if __name__ == "__main__":
    folder, out = Path(sys.argv[1]), sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    paths = sorted(str(p) for p in folder.glob("*.png"))
    with Pool(workers) as pool:
        results = pool.map(job, paths)
    json.dump({"workers": workers, "jobs": results}, open(out, "w"), indent=2)
    print(json.dumps({"jobs": len(results), "workers": workers}))
