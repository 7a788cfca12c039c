# Sparky worker image (CPU worker and GPU pool workers): Node 20 + the docker CLI for docker steps.
# Multi-arch: node:20-bookworm-slim exists for linux/amd64 and linux/arm64 (DGX Spark).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends docker.io build-essential python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production SPARKY_DATA_DIR=/data
VOLUME ["/data"]
CMD ["npx", "tsx", "workers/cpu.ts"]
