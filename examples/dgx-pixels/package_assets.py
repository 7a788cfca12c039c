"""WS-15 Asset Deployment: packs processed sprites with a manifest (sha256 per file) into a
reproducible tar.gz (fixed mtimes and owners), the unit the game build pulls in.
usage: package_assets.py <dir> <out.tar.gz>   — prints {"files", "sha256"} as JSON."""
import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

src, out = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted(p for p in src.glob("*.png"))
if not files:
    sys.exit(f"nothing to deploy in {src}")
manifest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
out.parent.mkdir(parents=True, exist_ok=True)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    for name, data in [("manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())] + [(p.name, p.read_bytes()) for p in files]:
        info = tarfile.TarInfo(f"sprites/{name}")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
packed = gzip.compress(buf.getvalue(), mtime=0)
out.write_bytes(packed)
print(json.dumps({"files": len(files), "bytes": len(packed), "sha256": hashlib.sha256(packed).hexdigest()}))
