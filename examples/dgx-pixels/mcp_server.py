"""WS-13 MCP server: the Model Context Protocol's JSON-RPC surface (initialize, tools/list,
tools/call) over HTTP, with a `pixelize_palette` tool. `--selftest` starts it on a free local port,
calls it as a client would and prints the results as JSON; without it, it serves until stopped.
usage: mcp_server.py [--selftest] [--port N] [--dataset manifest.json]"""
import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOLS = [
    {"name": "list_sprites", "description": "Sprites in the indexed dataset",
     "inputSchema": {"type": "object", "properties": {}}},
    {"name": "pixelize_palette", "description": "Quantise an RGB colour to an n-level-per-channel palette",
     "inputSchema": {"type": "object", "properties": {"rgb": {"type": "array"}, "levels": {"type": "integer"}},
                     "required": ["rgb"]}},
]
DATASET = {"images": []}


def call_tool(name, args):
    if name == "list_sprites":
        return [img["file"] for img in DATASET["images"]]
    if name == "pixelize_palette":
        levels = int(args.get("levels", 4))
        step = 255 / (levels - 1)
        return [round(round(c / step) * step) for c in args["rgb"]]
    raise KeyError(name)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            if req["method"] == "initialize":
                result = {"protocolVersion": "2025-06-18", "serverInfo": {"name": "dgx-pixels", "version": "0.1"},
                          "capabilities": {"tools": {}}}
            elif req["method"] == "tools/list":
                result = {"tools": TOOLS}
            elif req["method"] == "tools/call":
                value = call_tool(req["params"]["name"], req["params"].get("arguments", {}))
                result = {"content": [{"type": "text", "text": json.dumps(value)}]}
            else:
                raise KeyError(req["method"])
            body = {"jsonrpc": "2.0", "id": req.get("id"), "result": result}
        except KeyError as e:
            body = {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": -32601, "message": f"unknown: {e}"}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def rpc(port, method, params=None, id=1):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", method="POST",
                                 data=json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--dataset" in args:
        DATASET.update(json.load(open(args[args.index("--dataset") + 1])))
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if "--selftest" not in args:
        server.serve_forever()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    init = rpc(port, "initialize")
    tools = rpc(port, "tools/list")["result"]["tools"]
    sprites = json.loads(rpc(port, "tools/call", {"name": "list_sprites"})["result"]["content"][0]["text"])
    quant = json.loads(rpc(port, "tools/call", {"name": "pixelize_palette", "arguments": {"rgb": [200, 30, 90]}})["result"]["content"][0]["text"])
    unknown = rpc(port, "nope")
    server.shutdown()
    ok = init["result"]["serverInfo"]["name"] == "dgx-pixels" and quant == [170, 0, 85] and "error" in unknown
    print(json.dumps({"ok": ok, "tools": len(tools), "sprites": len(sprites)}))
    sys.exit(0 if ok else 1)
