#!/usr/bin/env bash
# make test-integration: a real vLLM server (the CPU build, in .venv-vllm) on loopback.
# 1. the openai backend (chat, completions, logprobs) against the server, from .venv;
# 2. the server stopped, the offline vllm backend inside .venv-vllm.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
export HARNESS_CACHE="${HARNESS_CACHE:-$ROOT/.cache/test}"
export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}"
PORT="${HARNESS_VLLM_PORT:-8765}"
LOG="$ROOT/.cache/vllm-server.log"
mkdir -p "$ROOT/.cache"

MODEL_DIR=$(.venv/bin/python -c "from harness.core.models import BUILTINS; print(BUILTINS['smollm2-135m'].ensure())")
export HARNESS_VLLM_MODEL_DIR="$MODEL_DIR"
echo "starting vLLM (CPU) on 127.0.0.1:$PORT with $MODEL_DIR; log: $LOG"
# The package's `vllm` CLI entry point fails under the vllm-cpu name: start the module directly.
.venv-vllm/bin/python -m vllm.entrypoints.openai.api_server --model "$MODEL_DIR" \
  --served-model-name smollm2-135m --dtype float32 --max-model-len 8192 \
  --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER=$!
stop_server() { kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; }
trap stop_server EXIT

for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then echo "vLLM server died:"; tail -40 "$LOG"; exit 1; fi
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null || { echo "vLLM server did not start in 600 s"; tail -40 "$LOG"; exit 1; }
echo "server up"

HARNESS_VLLM_URL="http://127.0.0.1:$PORT/v1" .venv/bin/python -m pytest -q -m integration tests/integration/test_openai_server.py \
  tests/integration/test_helmet_judge.py
stop_server
trap - EXIT
.venv-vllm/bin/python -m pytest -q -m integration -p no:cacheprovider tests/integration/test_vllm_backend.py
