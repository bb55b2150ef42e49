#!/usr/bin/env bash
# The real app in a 720p video call and an audio call: frames drawn per
# second, CPU and memory (benches/app_call.rs).
exec "$(dirname "$0")/bench.sh" app_call
