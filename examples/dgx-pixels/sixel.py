"""WS-11 Sixel Preview: encodes a sprite as DEC sixel graphics (what a sixel terminal shows inline),
palette from the sprite's own colours reduced to 3 bits per channel.
usage: sixel.py <in.png> <out.six> [scale]   — prints {"bytes", "colors"} as JSON."""
import json
import sys

from pngio import read_png

w, h, rgba = read_png(sys.argv[1])
scale = int(sys.argv[3]) if len(sys.argv) > 3 else 2
W, H = w * scale, h * scale
pixel = lambda x, y: rgba[((y // scale) * w + x // scale) * 4:((y // scale) * w + x // scale) * 4 + 4]
palette = {}
grid = [[None] * W for _ in range(H)]
for y in range(H):
    for x in range(W):
        r, g, b, a = pixel(x, y)
        if a >= 128:
            grid[y][x] = palette.setdefault((r >> 5, g >> 5, b >> 5), len(palette))
out = ['\x1bPq', f'"1;1;{W};{H}']
for (r, g, b), i in palette.items():
    out.append(f"#{i};2;{r * 100 // 7};{g * 100 // 7};{b * 100 // 7}")
for band in range(0, H, 6):
    rows = []
    for color in range(len(palette)):
        chars = []
        for x in range(W):
            bits = sum(1 << k for k in range(6) if band + k < H and grid[band + k][x] == color)
            chars.append(chr(63 + bits))
        if any(c != "?" for c in chars):
            rows.append(f"#{color}" + "".join(chars))
    out.append("$".join(rows) + "-")
out.append("\x1b\\")
data = "".join(out)
open(sys.argv[2], "w").write(data)
print(json.dumps({"bytes": len(data), "colors": len(palette), "width": W, "height": H}))
