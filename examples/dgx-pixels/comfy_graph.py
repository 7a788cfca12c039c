"""WS-04 ComfyUI Setup: writes the sprite-generation workflow in ComfyUI's API format and checks
it the way ComfyUI would before queueing it: every link names an existing node output, no cycles.
usage: comfy_graph.py <out.json>   — prints {"nodes", "order"} as JSON."""
import json
import sys
from graphlib import TopologicalSorter

graph = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "pixel-art-xl.safetensors",
                                                 "strength_model": 0.9, "strength_clip": 0.9}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "pixel art sprite, knight, 32x32, game asset"}},
    "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "blurry, photo, 3d render"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 4}},
    "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0],
                                               "latent_image": ["5", 0], "seed": 42, "steps": 20, "cfg": 7.0,
                                               "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "dgx-pixels"}},
}
OUTPUTS = {"CheckpointLoaderSimple": 3, "LoraLoader": 2, "CLIPTextEncode": 1, "EmptyLatentImage": 1,
           "KSampler": 1, "VAEDecode": 1, "SaveImage": 0}
deps = {}
for node_id, node in graph.items():
    deps[node_id] = set()
    for name, value in node["inputs"].items():
        if isinstance(value, list):
            src, slot = value
            if src not in graph or slot >= OUTPUTS[graph[src]["class_type"]]:
                sys.exit(f"node {node_id} input {name}: no output {slot} on node {src}")
            deps[node_id].add(src)
order = list(TopologicalSorter(deps).static_order())  # raises CycleError on a cycle
json.dump(graph, open(sys.argv[1], "w"), indent=2)
print(json.dumps({"nodes": len(graph), "order": order}))
