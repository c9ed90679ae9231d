#!/usr/bin/env bash
# Set up (if needed) and run the demo on the best device found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
