#!/usr/bin/env bash
# Runs every test: formatting, lints, the UI's checks and unit tests, all
# Rust unit and integration tests, and the end-to-end tests that drive the
# real app window under Xvfb through WebDriver. Installs what is missing and
# starts the services the tests need (a D-Bus session with an unlocked
# gnome-keyring, a virtual X display) itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CONVENE_TEST_SESSION:-}" ]; then
  ./scripts/setup.sh
  echo "==> installing the tenant-mode tests' OpenID provider (Node's oidc-provider)"
  npm ci --prefix crates/test-support/entra-op --no-audit --no-fund --loglevel=error
  # Everything below runs inside a private D-Bus session.
  exec dbus-run-session -- env CONVENE_TEST_SESSION=1 "$0" "$@"
fi

export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/convene-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE=1
started=$SECONDS
step() { echo; echo "==> [$((SECONDS - started))s] $*"; }

step "services: gnome-keyring (Secret Service) and Xvfb"
# The keyring daemon registers on this session's bus and unlocks (creating
# it) a login collection with a throwaway password. Its files live in a
# fresh directory, so no run sees accounts that an earlier run left behind.
fresh_keyring() {
  local home
  home=$(mktemp -d)
  eval "$(printf 'convene-test' | XDG_DATA_HOME="$home" gnome-keyring-daemon --replace --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
}
fresh_keyring
xvfb_log=$(mktemp)
display_file=$(mktemp)
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$display_file" >"$xvfb_log" 2>&1 &
xvfb_pid=$!
trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$display_file" ] && break; sleep 0.1; done
[ -s "$display_file" ] || { cat "$xvfb_log"; echo "Xvfb did not start"; exit 1; }
export DISPLAY=":$(head -n1 "$display_file")"
echo "Xvfb on $DISPLAY"

step "UI: type check, lint, unit tests, build"
npm --prefix ui run typecheck
npm --prefix ui run lint
npm --prefix ui test
npm --prefix ui run build

step "Rust: format"
cargo fmt --all -- --check

step "Rust: clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: build"
# Every binary the process tests start: convene-server, convene-cli, the
# app, and convene-e2e's scripted_browser (their $BROWSER).
cargo build --workspace --locked

step "Rust: unit and integration tests"
# All but the app's own (ignored here): the core, CLI and server end to
# end are in crates/e2e/tests and never build the app.
cargo test --workspace --locked

step "end-to-end: the real app under Xvfb through tauri-driver"
# Each scenario starts from an empty keyring: an app whose keyring holds an
# account from an earlier scenario's server would start signed in to it.
for scenario in e2e e2e_chat e2e_call; do
  fresh_keyring
  cargo test -p convene --locked --test "$scenario" -- --ignored --test-threads=1
done

step "convene-core and its tests, and convene-e2e, have no Tauri crate in their dependency trees"
for package in convene-core convene-e2e; do
  if cargo tree -p "$package" -e normal,build,dev --prefix none | grep -Eq '^tauri([-_ ]|$)'; then
    echo "$package depends on a tauri crate:"; cargo tree -p "$package" -e normal,build,dev -i tauri || true
    exit 1
  fi
done
echo "ok"

step "all tests passed in $((SECONDS - started))s"
