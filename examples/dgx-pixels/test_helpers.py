"""WS-18 CI: unit tests of the example's own helpers (python3 -m unittest -v test_helpers)."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from pngio import read_png, write_png

HERE = Path(__file__).resolve().parent
ASSETS = HERE.parent / "assets"


class PngTest(unittest.TestCase):
    def test_round_trip(self):
        rgba = bytes((x * 7 + y * 13 + c * 50) % 256 for y in range(5) for x in range(3) for c in range(4))
        with tempfile.TemporaryDirectory() as tmp:
            write_png(f"{tmp}/a.png", 3, 5, rgba)
            self.assertEqual(read_png(f"{tmp}/a.png"), (3, 5, rgba))

    def test_reads_the_shipped_sprites(self):
        for path in ASSETS.glob("*.png"):
            w, h, rgba = read_png(path)
            self.assertEqual(len(rgba), w * h * 4)


class ToolsTest(unittest.TestCase):
    def run_json(self, *args):
        out = subprocess.run([sys.executable, *args], cwd=HERE, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def test_comfy_graph_is_acyclic_and_complete(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = self.run_json("comfy_graph.py", f"{tmp}/wf.json")
        self.assertEqual(result["order"][-1], "8")

    def test_lora_loss_falls(self):
        with tempfile.TemporaryDirectory() as tmp:
            result = self.run_json("lora_train.py", f"{tmp}/m.json", "2", "100")
        self.assertLess(result["final_loss"], result["initial_loss"])

    def test_package_is_reproducible(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = self.run_json("package_assets.py", str(ASSETS), f"{tmp}/a.tar.gz")
            b = self.run_json("package_assets.py", str(ASSETS), f"{tmp}/b.tar.gz")
        self.assertEqual(a["sha256"], b["sha256"])


if __name__ == "__main__":
    unittest.main()
