#!/usr/bin/env bash
# One-shot set-up on a fresh Python 3.11 machine: torch pins, learn2learn, this package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q torch==2.14.1 torchvision==0.29.1
bash scripts/install_learn2learn.sh
"$PY" -m pip install -q -e ".[dev]"
