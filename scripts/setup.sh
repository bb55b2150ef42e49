#!/usr/bin/env bash
# Installs everything Convene needs to build, run and test on Debian 12 /
# Ubuntu 22.04+: Debian packages, the Rust toolchain and Node.js if missing,
# the UI's npm packages and tauri-driver. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEBIAN_PACKAGES=(
  # build
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  # run and test: a virtual display, WebDriver for WebKit, a keyring
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring
  imagemagick fonts-dejavu-core procps
  # calls: a real TURN server for the relay tests, and a browser peer for
  # the WebRTC interoperability test
  coturn chromium chromium-driver
  # a real notification service for the incoming-call notification tests
  dunst
  # media: Opus and VP8 codecs, ALSA for cpal, echo cancellation
  libopus-dev libvpx-dev libasound2-dev libwebrtc-audio-processing-dev
  # cameras through PipeWire; the tests run a private pipewire and
  # wireplumber with PipeWire's video test source as the camera
  libpipewire-0.3-dev pipewire pipewire-bin wireplumber
  libclang-dev  # bindgen, for webrtc-audio-processing-sys
  # media tests: a private PulseAudio daemon as a virtual speaker and mic,
  # reached from cpal's ALSA backend through the pulse plugin
  pulseaudio pulseaudio-utils libasound2-plugins
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "==> installing the Rust toolchain (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  echo "==> installing Node.js 22 (the UI's build tools need 20 or newer)"
  curl -fsSL https://deb.nodesource.com/setup_22.x | $SUDO bash - >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs >/dev/null
fi

echo "==> installing the UI's npm packages"
npm ci --prefix ui --no-audit --no-fund --loglevel=error

TAURI_DRIVER_VERSION=2.1.0
if ! tauri-driver --help >/dev/null 2>&1 && ! "$HOME/.cargo/bin/tauri-driver" --help >/dev/null 2>&1; then
  echo "==> installing tauri-driver $TAURI_DRIVER_VERSION (WebDriver for the real app)"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" --quiet
fi
