"""WS-16 Observability: samples host metrics from /proc in Prometheus' text format (the node side
of the DCGM dashboards; the GPU side comes from dcgm/nvidia-smi where there is a GPU).
usage: sysmetrics.py <out.prom> [samples]   — prints {"series", "load1"} as JSON."""
import json
import os
import sys
import time

out = sys.argv[1]
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 3
lines, busy = [], []
for _ in range(samples):
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy.append((sum(fields) - fields[3], sum(fields)))
    time.sleep(0.2)
util = [(b2 - b1) / max(1, t2 - t1) for (b1, t1), (b2, t2) in zip(busy, busy[1:])]
mem = {}
with open("/proc/meminfo") as f:
    for line in f:
        key, value = line.split(":")
        mem[key] = int(value.split()[0]) * 1024
load1, load5, load15 = os.getloadavg()
lines += ["# TYPE node_load1 gauge", f"node_load1 {load1}",
          "# TYPE node_memory_MemAvailable_bytes gauge", f"node_memory_MemAvailable_bytes {mem['MemAvailable']}",
          "# TYPE node_memory_MemTotal_bytes gauge", f"node_memory_MemTotal_bytes {mem['MemTotal']}",
          "# TYPE node_cpu_busy_ratio gauge", f"node_cpu_busy_ratio {sum(util) / max(1, len(util)):.4f}"]
open(out, "w").write("\n".join(lines) + "\n")
print(json.dumps({"series": sum(1 for l in lines if not l.startswith("#")), "load1": load1}))
