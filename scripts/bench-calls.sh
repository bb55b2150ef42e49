#!/usr/bin/env bash
# Call figures between two convene-cli processes
# (crates/e2e/benches/calls.rs; the app is not built):
# answer → first decoded audio over 20 calls, CPU and memory per client in
# an audio call and a 720p video call. Release builds, with a private D-Bus
# session and a throwaway gnome-keyring, as the tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CONVENE_BENCH_SESSION:-}" ]; then
  exec dbus-run-session -- env CONVENE_BENCH_SESSION=1 "$0" "$@"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/convene-target}"
keyring_home=$(mktemp -d)
eval "$(printf 'convene-bench' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets)"
# The CLI, the server and the scripted browser that signs them in.
cargo build --release -p convene-cli -p convene-server -p convene-e2e --bins
cargo bench -p convene-e2e --bench calls
