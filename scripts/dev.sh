#!/usr/bin/env bash
# Installs what is needed, then runs Convene against a local
# `convene-server --dev` (demo users alice, bob and carol @convene.example).
# The server stops when the app quits.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "==> building the UI and the app"
npm --prefix ui run build
cargo build -p convene -p convene-server

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
listen="${CONVENE_LISTEN:-127.0.0.1:8750}"
"$target_dir/debug/convene-server" --dev --listen "$listen" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT

export CONVENE_SERVER="http://$listen"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "==> no display: running the app in a virtual one (xvfb-run)"
  xvfb-run -a "$target_dir/debug/convene"
else
  "$target_dir/debug/convene"
fi
