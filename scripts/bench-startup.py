#!/usr/bin/env python3
"""Cold start and idle memory of Convene, side by side with an empty Tauri
window built the same way (benches/empty-window).

Cold start: from spawning the process to the UI's first rendered screen
(the app logs "first screen rendered" two animation frames after its first
render). Idle memory: PSS summed over the app and all its descendants
(WebKitWebProcess, WebKitNetworkProcess), read from /proc/PID/smaps_rollup
after the app has idled.

Usage (release build first; needs a display, e.g. under xvfb-run -a):
  cargo build --release -p convene -p convene-server -p convene-bench-empty-window
  xvfb-run -a python3 scripts/bench-startup.py [--runs 10] [--idle 10]
Prints a Markdown table for docs/benchmarks.md.
"""
import argparse
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def target_dir():
    out = subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], text=True
    )
    import json

    return json.loads(out)["target_directory"]


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_once(binary, env, idle):
    """Returns (cold start in ms, idle PSS in MiB, process count)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    ready_ms = None
    buf = b""
    deadline = started + 30
    while ready_ms is None and time.monotonic() < deadline:
        r, _, _ = select.select([proc.stderr], [], [], 0.5)
        if not r:
            continue
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        if b"first screen rendered" in buf:
            ready_ms = (time.monotonic() - started) * 1000
    if ready_ms is None:
        proc.kill()
        sys.exit(f"{binary} never rendered its first screen:\n{buf.decode(errors='replace')[-2000:]}")
    # Keep draining stderr while idling so the app never blocks on a full pipe.
    until = time.monotonic() + idle
    while time.monotonic() < until:
        r, _, _ = select.select([proc.stderr], [], [], 0.2)
        if r:
            os.read(proc.stderr.fileno(), 65536)
    pids = descendants(proc.pid)
    pss = sum(pss_kib(p) for p in pids) / 1024
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return ready_ms, pss, len(pids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to idle before reading memory")
    parser.add_argument("--profile", default="release")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        sys.exit("no display: run under xvfb-run -a")

    bins = os.path.join(target_dir(), args.profile)
    with tempfile.TemporaryDirectory() as scratch:
        server = subprocess.Popen(
            [os.path.join(bins, "convene-server"), "--dev", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(scratch, "server")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = server.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            sys.exit(f"convene-server did not start: {line!r}")
        env = dict(os.environ)
        env.update(
            CONVENE_SERVER=match.group(1),
            RUST_LOG="info",
            XDG_CONFIG_HOME=os.path.join(scratch, "config"),
            XDG_STATE_HOME=os.path.join(scratch, "state"),
            XDG_DATA_HOME=os.path.join(scratch, "data"),
            XDG_CACHE_HOME=os.path.join(scratch, "cache"),
        )
        apps = {
            "Convene": os.path.join(bins, "convene"),
            "empty Tauri window": os.path.join(bins, "convene-bench-empty-window"),
        }
        results = {name: [] for name in apps}
        try:
            # Alternate the two so that drift on the machine hits both alike.
            for i in range(args.runs):
                for name, binary in apps.items():
                    results[name].append(run_once(binary, env, args.idle))
                    print(f"run {i + 1}/{args.runs} {name}: {results[name][-1][0]:.0f} ms, {results[name][-1][1]:.1f} MiB", file=sys.stderr)
        finally:
            server.terminate()
            server.wait()

    print(f"| app | cold start p50 (ms) | cold start max (ms) | idle PSS p50 (MiB) | processes |")
    print(f"|---|---|---|---|---|")
    for name, rows in results.items():
        starts = [r[0] for r in rows]
        pss = [r[1] for r in rows]
        print(f"| {name} | {statistics.median(starts):.0f} | {max(starts):.0f} | {statistics.median(pss):.1f} | {rows[-1][2]} |")
    convene = statistics.median(r[1] for r in results["Convene"])
    empty = statistics.median(r[1] for r in results["empty Tauri window"])
    print(f"\nConvene idle PSS is {100 * (convene - empty) / empty:+.1f} % of the empty window's ({args.runs} runs, {args.idle:.0f} s idle).")


if __name__ == "__main__":
    main()
