# Sparky inference server image, one container per GPU (`--gpu N`).
# BASE_IMAGE: an image with CUDA + PyTorch for GPU hosts (NVIDIA's PyTorch containers are published for
# amd64 and arm64/DGX Spark); python:3.11-slim for a CPU-only server (the server falls back to numpy).
ARG BASE_IMAGE=nvcr.io/nvidia/pytorch:25.01-py3
FROM ${BASE_IMAGE}
WORKDIR /app
COPY inference/requirements.txt inference/requirements.txt
RUN python -m pip install --no-cache-dir -r inference/requirements.txt
COPY inference inference
EXPOSE 5555 5556 9465
CMD ["python", "-m", "inference.server", "--gpu", "0", "--bind", "tcp://0.0.0.0:5555", "--pub", "tcp://0.0.0.0:5556"]
