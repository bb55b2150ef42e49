#!/usr/bin/env bash
# Opening a chat of 10,000 messages in the real app, to first paint
# (benches/open_chat.rs).
exec "$(dirname "$0")/bench.sh" open_chat
