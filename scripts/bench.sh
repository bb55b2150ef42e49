#!/usr/bin/env bash
# Runs one of the benchmarks in release builds, under Xvfb with a private
# D-Bus session and a throwaway gnome-keyring, as the tests run: the real
# app's (benches/open_chat.rs, benches/app_call.rs) or the one between two
# CLI clients (crates/e2e/benches/calls.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 open_chat|app_call|calls" >&2; exit 2; }
if [ -z "${CONVENE_BENCH_SESSION:-}" ]; then
  exec dbus-run-session -- env CONVENE_BENCH_SESSION=1 "$0" "$@"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/convene-target}"
keyring_home=$(mktemp -d)
eval "$(printf 'convene-bench' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets)"
display_file=$(mktemp)
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$display_file" >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$display_file" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$display_file")"
npm --prefix ui run build >/dev/null
# The server, the CLI and the scripted browser (convene-e2e's bin).
cargo build --release --workspace --bins
case "$1" in
  calls) package=convene-e2e ;;
  *) package=convene ;;
esac
cargo bench -p "$package" --bench "$1"
