"""WS-17: assembles the image's build context: busybox (the image is FROM scratch, nothing is
pulled), the Dockerfile, the health check and the sprites. usage: docker_context.py <out dir> <sprites dir>"""
import json
import shutil
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
out, sprites = Path(sys.argv[1]), Path(sys.argv[2])
busybox = Path(shutil.which("busybox") or "/bin/busybox")
if not busybox.exists():
    sys.exit("busybox is not installed (apt-get install busybox-static): the image needs it")
shutil.rmtree(out, ignore_errors=True)
(out / "sprites").mkdir(parents=True)
shutil.copy(busybox, out / "busybox")
for name in ("Dockerfile", "healthcheck.sh"):
    shutil.copy(here / "docker" / name, out / name)
files = [shutil.copy(p, out / "sprites" / p.name) for p in sorted(sprites.glob("*.png"))]
print(json.dumps({"context": str(out), "sprites": len(files)}))
