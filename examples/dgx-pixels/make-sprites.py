"""Draws the example's sprites (examples/assets/*.png) once; the PNGs are committed.

Run with the project's venv (it has Pillow):  .tools/venv/bin/python examples/dgx-pixels/make-sprites.py
Deterministic: the same script draws the same pixels, so re-running it changes nothing in git.
"""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "assets"
SIZE = 64


def gradient(draw, box, top, bottom):
    x0, y0, x1, y1 = box
    for y in range(y0, y1):
        t = (y - y0) / max(1, y1 - y0 - 1)
        draw.line([(x0, y), (x1 - 1, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)) + (255,))


def knight():
    im = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    gradient(d, (22, 24, 42, 50), (170, 180, 200), (90, 100, 120))       # armour
    d.ellipse((22, 6, 42, 26), fill=(200, 205, 215, 255), outline=(60, 60, 70, 255))  # helmet
    d.rectangle((26, 14, 38, 17), fill=(20, 20, 30, 255))                 # visor
    d.rectangle((44, 10, 47, 48), fill=(220, 220, 230, 255))              # sword
    d.rectangle((40, 30, 51, 33), fill=(150, 110, 40, 255))               # hilt
    d.polygon([(10, 26), (21, 26), (21, 44), (15, 50), (10, 44)], fill=(170, 30, 40, 255))  # shield
    d.rectangle((24, 50, 29, 60), fill=(70, 60, 50, 255))
    d.rectangle((35, 50, 40, 60), fill=(70, 60, 50, 255))
    return im


def tree():
    im = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rectangle((28, 40, 36, 62), fill=(110, 70, 35, 255))
    for i, (r, c) in enumerate([(22, (30, 120, 45)), (17, (45, 150, 60)), (11, (80, 185, 80))]):
        d.ellipse((32 - r, 26 - r - i * 4, 32 + r, 26 + r - i * 4), fill=c + (255,))
    for x, y in [(22, 22), (40, 16), (30, 30), (44, 28)]:
        d.ellipse((x, y, x + 3, y + 3), fill=(220, 40, 50, 255))      # apples
    return im


def potion():
    im = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rectangle((27, 8, 37, 22), fill=(190, 220, 235, 200))
    d.rectangle((25, 4, 39, 9), fill=(140, 90, 50, 255))                  # cork
    d.ellipse((14, 18, 50, 58), fill=(190, 220, 235, 210))
    gradient(d, (17, 34, 48, 56), (190, 60, 220), (90, 20, 140))          # liquid
    d.ellipse((20, 24, 27, 31), fill=(255, 255, 255, 230))                # glint
    return im


def coin():
    im = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 56, 56), fill=(180, 130, 20, 255))
    d.ellipse((12, 12, 52, 52), fill=(240, 195, 50, 255))
    d.ellipse((18, 18, 46, 46), outline=(200, 150, 30, 255), width=3)
    d.polygon([(32, 20), (36, 30), (46, 31), (38, 37), (41, 47), (32, 41), (23, 47), (26, 37), (18, 31), (28, 30)],
              fill=(255, 235, 140, 255))
    return im


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in [("knight", knight), ("tree", tree), ("potion", potion), ("coin", coin)]:
        draw().save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")
