"""WS-06 LoRA Training, in miniature: learns a rank-r update B·A so that W0 + B·A matches a target
matrix, by gradient descent, in plain Python. The same maths as a LoRA adapter on one layer.
usage: lora_train.py <out.json> [rank] [steps]   — writes the loss curve; fails if the loss did not fall."""
import json
import random
import sys

out = sys.argv[1]
rank = int(sys.argv[2]) if len(sys.argv) > 2 else 4
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 400
n, lr = 16, 0.02
rng = random.Random(7)
mat = lambda r, c, s: [[rng.gauss(0, s) for _ in range(c)] for _ in range(r)]
mul = lambda x, y: [[sum(x[i][k] * y[k][j] for k in range(len(y))) for j in range(len(y[0]))] for i in range(len(x))]
W0 = mat(n, n, 1.0)
delta = mul(mat(n, rank, 0.5), mat(rank, n, 0.5))               # the adaptation to learn
target = [[W0[i][j] + delta[i][j] for j in range(n)] for i in range(n)]
B, A = mat(n, rank, 0.1), mat(rank, n, 0.1)
curve = []
for step in range(steps + 1):
    BA = mul(B, A)
    err = [[W0[i][j] + BA[i][j] - target[i][j] for j in range(n)] for i in range(n)]
    loss = sum(e * e for row in err for e in row) / (n * n)
    if step % 50 == 0:
        curve.append({"step": step, "loss": round(loss, 6)})
    if step == steps:
        break
    gB = [[sum(err[i][j] * A[k][j] for j in range(n)) * 2 / n for k in range(rank)] for i in range(n)]
    gA = [[sum(B[i][k] * err[i][j] for i in range(n)) * 2 / n for j in range(n)] for k in range(rank)]
    B = [[B[i][k] - lr * gB[i][k] for k in range(rank)] for i in range(n)]
    A = [[A[k][j] - lr * gA[k][j] for j in range(n)] for k in range(rank)]
report = {"rank": rank, "steps": steps, "initial_loss": curve[0]["loss"], "final_loss": round(loss, 6), "curve": curve}
json.dump(report, open(out, "w"), indent=2)
print(json.dumps({k: report[k] for k in ("rank", "steps", "initial_loss", "final_loss")}))
sys.exit(0 if report["final_loss"] < report["initial_loss"] else 1)
