"""WS-05 SDXL Inference Optimization: compares the tuned GEMM run with the WS-01 baseline (both
values arrive through ${{ outputs... }} references). usage: gemm_report.py <baseline tflops> <tuned tflops>"""
import json
import sys

baseline, tuned = float(sys.argv[1]), float(sys.argv[2])
if baseline <= 0 or tuned <= 0:
    sys.exit(f"GEMM throughput must be positive (baseline {baseline}, tuned {tuned})")
print(json.dumps({"baseline_tflops": baseline, "tuned_tflops": tuned, "speedup": round(tuned / baseline, 3)}))
