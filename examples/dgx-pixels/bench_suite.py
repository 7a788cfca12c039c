"""WS-03 Benchmark Suite: runs the bandwidth probe several times and reports the spread, so a
regression shows as a number, not a feeling. usage: bench_suite.py <membw binary> <runs> <out.json>

`spread` (interquartile range over median) is what the gate checks: unlike the coefficient of
variation, one run slowed by a busy neighbour on a shared machine does not move it much."""
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

binary, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
samples = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(runs):
        path = Path(tmp) / f"run{i}.json"
        subprocess.run([binary, str(path), "32"], check=True, stdout=subprocess.DEVNULL)
        samples.append(json.loads(path.read_text())["triad_gbps"])
report = {"runs": runs, "triad_gbps_mean": round(statistics.mean(samples), 3),
          "triad_gbps_stdev": round(statistics.pstdev(samples), 3),
          "cv": round(statistics.pstdev(samples) / statistics.mean(samples), 4), "samples": samples}
q1, _, q3 = statistics.quantiles(samples, n=4)
report["spread"] = round((q3 - q1) / statistics.median(samples), 4)
json.dump(report, open(out, "w"), indent=2)
print(json.dumps(report))
