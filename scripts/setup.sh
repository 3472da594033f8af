#!/usr/bin/env bash
# One-shot set-up on a fresh Python 3.11 machine: torch pins, learn2learn, this package.
# --no-compile: pip would byte-compile every installed module (torch has thousands) up
# front; Python compiles each on first import instead, so only what runs is compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q --no-compile torch==2.14.1 torchvision==0.29.1
bash scripts/install_learn2learn.sh
"$PY" -m pip install -q --no-compile -e ".[dev]"
