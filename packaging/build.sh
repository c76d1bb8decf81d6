#!/usr/bin/env bash
# Build the one-folder app for this OS into dist/studio-status/ and print its size.
# Needs: pip install pyinstaller (see the "packaging" extra). Usage: packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/studio-status.spec
echo "built dist/studio-status in $(( $(date +%s) - start )) s, $(du -sh dist/studio-status | cut -f1)"
