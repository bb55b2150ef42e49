//! End-to-end chat: alice in the real app (under Xvfb, through tauri-driver
//! and WebKitWebDriver), bob at a terminal with convene-cli, both on a real
//! convene-server. Ignored by a plain `cargo test`; `./scripts/test.sh`
//! runs it with `--ignored` after starting Xvfb and the keyring.

use std::time::Duration;

use convene_core::session::Sessions;
use convene_core::vault::{Vault, VaultKind};
use convene_test_support::artifacts_dir;
use convene_test_support::dev_server::DevServer;
use convene_test_support::scene::AppScene;
use convene_test_support::wait::wait_until_async;
use fantoccini::Locator;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);
const APP: &str = env!("CARGO_BIN_EXE_convene");
const BOB_OID: &str = "00000000-b0b0-4000-8000-000000000002";

/// Each payload carries a marker word that must still be readable, and
/// tries to set `window.__pwned` (or load something, or restyle the app).
const XSS_CORPUS: &[&str] = &[
    "XSS-01 <script>window.__pwned = 1</script>",
    "XSS-02 <img src=x onerror=\"window.__pwned = 2\">",
    "XSS-03 <a href=\"javascript:window.__pwned = 3\">link</a>",
    "XSS-04 <svg onload=\"window.__pwned = 4\"><circle r=9></circle></svg>",
    "XSS-05 <iframe srcdoc=\"<script>parent.__pwned = 5</script>\"></iframe>",
    "XSS-06 <a href=\"data:text/html,<script>alert(6)</script>\">data</a>",
    "XSS-07 <style>body { display: none }</style>",
    "XSS-08 <div style=\"position:fixed;inset:0;background:red\">cover</div>",
    "XSS-09 <math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned = 9\">",
    "XSS-10 <details open ontoggle=\"window.__pwned = 10\">x</details>",
    "XSS-11 <object data=\"javascript:window.__pwned = 11\"></object>",
    "XSS-12 <form action=\"javascript:window.__pwned = 12\"><button>go</button></form>",
    "XSS-13 <a href=\" jav&#x09;ascript:window.__pwned = 13\">tab</a>",
    "XSS-14 <base href=\"https://evil.example/\"><link rel=stylesheet href=x.css>",
    "XSS-15 <at id=\"0\" onclick=\"window.__pwned = 15\">Bob</at>",
];

/// Bob's Graph token, from the keyring his `convene-cli login` filled: for
/// sending what a hostile client would, bypassing Convene's own sanitiser.
async fn bobs_graph_token(server: &DevServer) -> String {
    let config = convene_core::ClientConfig::from_layer(convene_core::config::ConfigLayer {
        server: Some(server.url()),
        ..Default::default()
    })
    .unwrap();
    let vault = Vault::open(VaultKind::System).await.unwrap();
    let sessions = Sessions::new(
        vault,
        convene_core::http::client(Duration::from_secs(10)),
        config,
        None,
    );
    let bob = sessions
        .switch_to(BOB_OID)
        .await
        .expect("bob is in the keyring");
    sessions
        .access_token(&bob, sessions.chat_resource())
        .await
        .unwrap()
        .expose()
        .to_owned()
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and a Secret Service: run through ./scripts/test.sh"]
async fn alice_in_the_app_chats_with_bob_at_a_terminal() {
    let scratch = tempfile::tempdir().unwrap();
    let artifacts = artifacts_dir("chat");
    let scene = AppScene::open(scratch.path(), APP.as_ref()).await;
    let app = &scene.app;

    // Bob writes first: the chat appears in alice's list, unread.
    let sent = scene.bob.json_lines(&[
        "send",
        "alice@convene.example",
        "Hi Alice, from a terminal",
        "--json",
    ]);
    let chat_id = sent[0]["chatId"].as_str().unwrap().to_owned();
    let row = format!("[data-testid=chat-row][data-chat-id=\"{chat_id}\"]");
    app.wait_for_text(&row, "", WAIT).await;
    app.screenshot(&artifacts.join("chat-list.png")).await;
    app.wait_for_content(&row, "Bob Example", WAIT).await;
    app.wait_for_content(&row, "Hi Alice, from a terminal", WAIT)
        .await;
    app.click(&row).await;
    app.wait_for_text("[data-testid=thread]", "Hi Alice, from a terminal", WAIT)
        .await;

    // Alice answers with Enter; it shows as sent, and bob reads it.
    let composer = app
        .client
        .find(Locator::Css("[data-testid=composer]"))
        .await
        .expect("the composer");
    composer.send_keys("Hello Bob, from the app").await.unwrap();
    // As a person would: the words are in the box before Enter.
    let typed = wait_until_async(WAIT, || async {
        composer.prop("value").await.unwrap().as_deref() == Some("Hello Bob, from the app")
    })
    .await;
    assert!(typed, "the composer never showed the words");
    composer.send_keys("\u{E007}").await.unwrap(); // Enter
    app.wait_for_content(
        "[data-testid=message][data-mine=true]",
        "Hello Bob, from the app",
        WAIT,
    )
    .await;
    app.screenshot(&artifacts.join("sent.png")).await;
    app.wait_for_content(
        "[data-testid=message][data-mine=true][data-state=sent]",
        "Hello Bob, from the app",
        WAIT,
    )
    .await;
    let bodies: Vec<String> = scene
        .bob
        .json_lines(&["messages", &chat_id, "--json"])
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies,
        ["Hi Alice, from a terminal", "Hello Bob, from the app"]
    );

    // Bob types: alice sees it.
    let mut typing = scene
        .bob
        .command(&["typing", &chat_id, "--for", "8"])
        .spawn()
        .expect("start convene-cli typing");
    app.wait_for_text(
        "[data-testid=typing-indicator]",
        "Bob Example is typing",
        WAIT,
    )
    .await;
    app.screenshot(&artifacts.join("typing.png")).await;
    let _ = typing.wait();

    // A hostile client sends raw HTML past Convene's own sanitiser: every
    // message renders, as text or harmless markup, and nothing runs.
    let token = bobs_graph_token(&scene.server).await;
    let http = reqwest::Client::new();
    for payload in XSS_CORPUS {
        let response = http
            .post(format!(
                "{}/v1.0/chats/{}/messages",
                scene.server.url(),
                urlencode(&chat_id)
            ))
            .bearer_auth(&token)
            .json(&json!({ "body": { "contentType": "html", "content": payload } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{payload}");
    }
    app.wait_for_content("[data-testid=thread]", "XSS-15", WAIT)
        .await;
    // Give any handler that would fire a moment to do so: only time shows
    // that nothing runs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The thread is virtualised: scroll it top to bottom and look at every
    // message body as it is rendered.
    let verdict = app
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const thread = document.querySelector('[data-testid=thread]');
            const risky = ':is(script, iframe, img, svg, style, object, form, base, link, math, details),'
              + '[style], [onerror], [onload], [onclick], [ontoggle],'
              + 'a[href^="javascript" i], a[href^=" javascript" i], a[href^="data" i]';
            const seen = new Set();
            let dangerous = 0;
            const look = () => {
              for (const body of document.querySelectorAll('[data-testid=message-body]')) {
                seen.add(body.innerHTML);
                dangerous += body.querySelectorAll(risky).length;
              }
            };
            thread.scrollTop = 0;
            const step = () => {
              look();
              const bottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 1;
              if (bottom) {
                done({ pwned: window.__pwned ?? null, dangerous, html: [...seen].join('\n'),
                       visible: getComputedStyle(document.body).display });
                return;
              }
              thread.scrollTop += thread.clientHeight / 2;
              requestAnimationFrame(() => requestAnimationFrame(step));
            };
            requestAnimationFrame(() => requestAnimationFrame(step));"#,
            vec![],
        )
        .await
        .expect("inspect the thread");
    app.screenshot(&artifacts.join("xss-corpus.png")).await;
    assert_eq!(verdict["pwned"], serde_json::Value::Null, "{verdict}");
    assert_eq!(verdict["dangerous"], 0, "{verdict}");
    assert_ne!(
        verdict["visible"], "none",
        "the app was restyled: {verdict}"
    );
    for n in 1..=XSS_CORPUS.len() {
        let marker = format!("XSS-{n:02}");
        assert!(
            verdict["html"].as_str().unwrap().contains(&marker),
            "{marker} is shown: {verdict}"
        );
    }
}

/// A chat id as one path segment.
fn urlencode(segment: &str) -> String {
    segment.replace(':', "%3A").replace('@', "%40")
}
