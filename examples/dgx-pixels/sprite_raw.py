"""Decodes a PNG sprite to raw RGBA bytes for the C programs (WS-08, WS-14), which stay free of
image libraries. usage: sprite_raw.py <in.png> <out.rgba>   — prints {"width", "height"} as JSON."""
import json
import sys

from pngio import read_png

w, h, rgba = read_png(sys.argv[1])
open(sys.argv[2], "wb").write(rgba)
print(json.dumps({"width": w, "height": h, "bytes": len(rgba)}))
