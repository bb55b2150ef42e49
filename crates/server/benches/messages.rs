//! Sustained message throughput of convene-server, printed (never
//! pass/fail): `POST /v1.0/chats/{id}/messages` through the real HTTP API
//! of a real `convene-server --dev` process (SQLite, WAL,
//! `synchronous=FULL`), with 1, 4 and 16 concurrent senders for a while
//! each. Each sender posts one message at a time (the next when the
//! previous is answered) over its own keep-alive connection.
//!
//! `cargo bench -p convene-server --bench messages` (cargo builds the
//! server binary with the bench profile). `BENCH_SECONDS` sets the time
//! per run (default 10), `BENCH_SENDERS` the sender counts (default
//! `1,4,16`). The data directory is a temporary folder under `TMPDIR` (it
//! should be on a real disk: the figures are fsync-bound). The per-user
//! rate limit is switched off (`--graph-rate-limit 0`): with the default
//! 50/s a sender would be throttled.

use std::time::{Duration, Instant};

use convene_test_support::server_api::graph::{api_token, group_of, BOB_OID, CAROL_OID};
use convene_test_support::server_api::oidc::ALICE_OID;
use convene_test_support::server_api::ServerCommand;
use reqwest::StatusCode;
use serde_json::json;

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// One sender: posts until `until`; latencies of the 201s, and errors.
async fn sender(url: String, token: String, until: Instant, n: usize) -> (Vec<Duration>, usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut k = 0u64;
    while Instant::now() < until {
        k += 1;
        let body = json!({"body": {
            "contentType": "html",
            "content": format!("<p>sender {n} message {k}: the quarterly figures look fine.</p>"),
        }});
        let start = Instant::now();
        let response = http.post(&url).bearer_auth(&token).json(&body).send().await;
        match response {
            Ok(r) if r.status() == StatusCode::CREATED => {
                // Read the body, as a client would.
                let _ = r.bytes().await;
                latencies.push(start.elapsed());
            }
            Ok(r) => {
                errors += 1;
                if errors <= 3 {
                    eprintln!(
                        "sender {n}: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
            }
            Err(e) => {
                errors += 1;
                if errors <= 3 {
                    eprintln!("sender {n}: {e}");
                }
            }
        }
    }
    (latencies, errors)
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let counts: Vec<usize> = std::env::var("BENCH_SENDERS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 16]);
    let scratch = tempfile::tempdir().unwrap();
    let server = ServerCommand::dev(scratch.path())
        .args(["--graph-rate-limit", "0"])
        .env("RUST_LOG", "warn")
        .start();
    println!(
        "messages: convene-server {} (profile {}), data in {}, {seconds} s per run",
        server.addr,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimised (bench/release)"
        },
        scratch.path().display()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let users = [
            ("alice@convene.example", ALICE_OID),
            ("bob@convene.example", BOB_OID),
            ("carol@convene.example", CAROL_OID),
        ];
        let mut tokens = Vec::new();
        for (name, _) in users {
            tokens.push(api_token(&server, name).await);
        }
        let most = counts.iter().copied().max().unwrap_or(1);
        // One group chat per sender, all three people in each; sender k
        // writes as person k % 3.
        let members = [ALICE_OID, BOB_OID, CAROL_OID];
        let mut chats = Vec::new();
        for _ in 0..most {
            chats.push(group_of(&server, &tokens[0], &members).await);
        }
        // Warm-up: a second of one sender.
        let warm = Instant::now() + Duration::from_secs(1);
        sender(
            server.url(&format!("/v1.0/chats/{}/messages", chats[0])),
            tokens[0].clone(),
            warm,
            0,
        )
        .await;

        println!(
            "{:>7} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
            "senders", "messages", "msg/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
        );
        for &count in &counts {
            let start = Instant::now();
            let until = start + Duration::from_secs(seconds);
            let tasks: Vec<_> = (0..count)
                .map(|k| {
                    tokio::spawn(sender(
                        server.url(&format!("/v1.0/chats/{}/messages", chats[k])),
                        tokens[k % 3].clone(),
                        until,
                        k,
                    ))
                })
                .collect();
            let mut all = Vec::new();
            let mut errors = 0;
            for task in tasks {
                let (latencies, e) = task.await.unwrap();
                all.extend(latencies);
                errors += e;
            }
            let elapsed = start.elapsed();
            all.sort();
            println!(
                "{:>7} {:>10} {:>8.0} {:>8} {:>8} {:>8} {:>8} {:>6}",
                count,
                all.len(),
                all.len() as f64 / elapsed.as_secs_f64(),
                ms(percentile(&all, 0.50)),
                ms(percentile(&all, 0.95)),
                ms(percentile(&all, 0.99)),
                ms(all.last().copied().unwrap_or_default()),
                errors,
            );
        }
    });
    let finished = server.stop();
    assert!(finished.status.success(), "{}", finished.stderr);
}
