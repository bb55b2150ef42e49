//! Two people chat from two terminals through `convene-server --dev`:
//! `send`, `chats`, `messages`, edits, reactions and deletions, with bodies
//! shown sanitised; and an outbox that survives SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use convene_test_support::dev_server::DevServer;
use convene_test_support::terminal::Person;
use serde_json::Value;

const ALICE_OID: &str = "00000000-a11c-4000-8000-000000000001";
const BOB_OID: &str = "00000000-b0b0-4000-8000-000000000002";

/// The demo users are the same people on every dev server and the test
/// session has one keyring, so these tests take turns.
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    KEYRING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn alice_writes_and_bob_reads_with_bodies_sanitised() {
    let _turn = one_at_a_time();
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, "bob@convene.example");

    let sent = alice.json_lines(&["send", BOB_OID, "hello bob", "--json"]);
    let chat_id = sent[0]["chatId"].as_str().expect("a chat id").to_owned();
    alice.json_lines(&[
        "send",
        &chat_id,
        "<script>alert(1)</script> & more",
        "--json",
    ]);

    let chats = bob.json_lines(&["chats", "--json"]);
    let listed: Vec<_> = chats[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(listed.contains(&chat_id), "bob sees the chat: {listed:?}");

    let messages = bob.json_lines(&["messages", &chat_id, "--json"]);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["body"], "hello bob");
    assert_eq!(messages[0]["from"], ALICE_OID);
    assert_eq!(messages[0]["fromName"], "Alice Example");
    assert_eq!(
        messages[1]["body"], "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more",
        "typed markup is shown as text"
    );

    // Writing to the same person again lands in the same chat, whether
    // they are named by id or by username.
    let again = bob.json_lines(&["send", ALICE_OID, "hi alice", "--json"]);
    assert_eq!(again[0]["chatId"], chat_id.as_str());
    let by_name = alice.json_lines(&["send", "bob@convene.example", "by name", "--json"]);
    assert_eq!(by_name[0]["chatId"], chat_id.as_str());
    let unknown = alice.run(&["send", "nobody@convene.example", "hello?"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user nobody@convene.example"));

    assert!(alice.run(&["logout"]).status.success());
    assert!(bob.run(&["logout"]).status.success());
}

#[test]
fn watch_prints_each_new_message_once_as_it_arrives() {
    let _turn = one_at_a_time();

    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, "bob@convene.example");
    let before = bob.json_lines(&["send", ALICE_OID, "sent before the watch", "--json"]);
    let chat_id = before[0]["chatId"].as_str().unwrap().to_owned();

    let mut watch = alice
        .command(&["watch", "--json", "--interval-ms", "200"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start convene-cli watch");
    let (lines, received) = mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let (said, heard) = mpsc::channel();
    let stderr = watch.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = said.send(line);
        }
    });
    // Once the watch has taken its first look, bob writes twice.
    let caught_up = std::iter::from_fn(|| heard.recv_timeout(Duration::from_secs(15)).ok())
        .any(|line| line == "watching for new messages");
    assert!(caught_up, "the watch never said it had caught up");
    bob.json_lines(&["send", &chat_id, "one", "--json"]);
    bob.json_lines(&["send", &chat_id, "<b>two</b>", "--json"]);

    let mut bodies = Vec::new();
    while bodies.len() < 2 {
        let line = received
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("watch printed only {bodies:?}"));
        let message: Value = serde_json::from_str(&line).expect("one JSON object per line");
        assert_eq!(message["chatId"], chat_id.as_str());
        assert_eq!(message["fromName"], "Bob Example");
        bodies.push(message["body"].as_str().unwrap().to_owned());
    }
    assert_eq!(bodies, ["one", "&lt;b&gt;two&lt;/b&gt;"]);
    // Nothing else: not the message from before the watch, no repeats.
    assert!(received.recv_timeout(Duration::from_millis(1000)).is_err());

    let _ = watch.kill();
    let _ = watch.wait();
    assert!(alice.run(&["logout"]).status.success());
    assert!(bob.run(&["logout"]).status.success());
}

#[test]
fn edits_reactions_and_deletions_reach_the_other_terminal() {
    let _turn = one_at_a_time();
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(scratch.path());
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, "bob@convene.example");

    let sent = alice.json_lines(&["send", "bob@convene.example", "lunch at noon?", "--json"]);
    let chat_id = sent[0]["chatId"].as_str().unwrap().to_owned();
    let message_id = sent[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sent[0]["state"], "sent");

    let react = bob.run(&["react", &chat_id, &message_id, "👍"]);
    assert!(react.status.success(), "{react:?}");
    let reply = bob.json_lines(&[
        "send",
        &chat_id,
        "yes!",
        "--reply-to",
        &message_id,
        "--json",
    ]);
    assert_eq!(reply[0]["replyTo"], message_id.as_str());
    let edit = alice.run(&["edit", &chat_id, &message_id, "lunch at one?"]);
    assert!(edit.status.success(), "{edit:?}");

    let seen = bob.json_lines(&["messages", &chat_id, "--json"]);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["body"], "lunch at one?");
    assert!(seen[0]["editedDateTime"].is_string(), "{:?}", seen[0]);
    assert_eq!(seen[0]["reactions"][0]["reaction"], "👍");
    assert_eq!(seen[0]["reactions"][0]["count"], 1);
    assert_eq!(seen[1]["replyTo"], message_id.as_str());

    // Only one's own messages can be edited.
    let theirs = bob.run(&["edit", &chat_id, &message_id, "dinner"]);
    assert_eq!(theirs.status.code(), Some(1), "{theirs:?}");

    let delete = alice.run(&["delete", &chat_id, &message_id]);
    assert!(delete.status.success(), "{delete:?}");
    let seen = bob.json_lines(&["messages", &chat_id, "--json"]);
    assert_eq!(seen[0]["deleted"], true);
    assert_eq!(seen[0]["body"], "");

    assert!(alice.run(&["logout"]).status.success());
    assert!(bob.run(&["logout"]).status.success());
}

/// SIGKILL, as the OOM killer or a power cut would.
fn kill_hard(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Alice has written to bob; then, while the server was away, `count`
/// more messages ("queued 0", …) went into her outbox. The server is back.
struct Queued {
    /// The server's data; removed when the test ends.
    _scratch: tempfile::TempDir,
    server: DevServer,
    alice: Person,
    bob: Person,
    chat_id: String,
}

fn queued_while_the_server_was_away(count: usize) -> Queued {
    let scratch = tempfile::tempdir().unwrap();
    let mut server = DevServer::start(&scratch.path().join("server"));
    let alice = Person::signed_in(&server, "alice@convene.example");
    let bob = Person::signed_in(&server, "bob@convene.example");
    let first = alice.json_lines(&["send", "bob@convene.example", "first", "--json"]);
    let chat_id = first[0]["chatId"].as_str().unwrap().to_owned();
    server.stop();
    for n in 0..count {
        let queued = alice.run(&["send", &chat_id, &format!("queued {n}"), "--wait", "0"]);
        assert_eq!(
            queued.status.code(),
            Some(3),
            "left in the outbox: {queued:?}"
        );
    }
    server.resume();
    Queued {
        _scratch: scratch,
        server,
        alice,
        bob,
        chat_id,
    }
}

#[test]
fn a_killed_client_delivers_its_outbox_exactly_once() {
    let _turn = one_at_a_time();
    let queued = queued_while_the_server_was_away(10);
    let (alice, bob, chat_id) = (&queued.alice, &queued.bob, &queued.chat_id);

    // The client delivering the outbox is killed again and again, at
    // varied moments, before one finally runs to the end.
    for round in 0..8u64 {
        let mut flush = alice
            .command(&["flush", "--wait", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start convene-cli flush");
        // The varied moment of the kill is what the test is about.
        std::thread::sleep(Duration::from_millis(40 + round * 35));
        kill_hard(&mut flush);
    }
    let flush = alice.run(&["flush", "--wait", "30"]);
    assert!(flush.status.success(), "the rest goes out: {flush:?}");

    let seen = bob.json_lines(&["messages", chat_id, "--top", "50", "--json"]);
    let mut expected = vec!["first".to_owned()];
    expected.extend((0..10).map(|n| format!("queued {n}")));
    let mut bodies: Vec<String> = seen
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.sort();
    let mut wanted = expected.clone();
    wanted.sort();
    assert_eq!(bodies, wanted, "each message exactly once");
    // Stamped in the order written (the same millisecond may list either way).
    let stamped: Vec<String> = expected
        .iter()
        .map(|text| {
            seen.iter()
                .find(|m| m["body"] == text.as_str())
                .map(|m| m["createdDateTime"].as_str().unwrap().to_owned())
                .unwrap()
        })
        .collect();
    assert!(
        stamped.windows(2).all(|pair| pair[0] <= pair[1]),
        "in order: {stamped:?}"
    );

    assert!(alice.run(&["logout"]).status.success());
    assert!(bob.run(&["logout"]).status.success());
}

#[test]
fn messages_wait_in_the_outbox_while_the_session_has_ended() {
    let _turn = one_at_a_time();
    let queued = queued_while_the_server_was_away(3);
    let (server, alice, bob, chat_id) =
        (&queued.server, &queued.alice, &queued.bob, &queued.chat_id);
    // While the messages wait, alice's session ends (a password change).
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(convene_e2e::sessions::end_session(server, ALICE_OID));

    // Delivering them now asks for a sign-in at once, and keeps them.
    let flush = alice.run(&["flush", "--wait", "30"]);
    assert_eq!(flush.status.code(), Some(4), "sign-in needed: {flush:?}");
    let said = String::from_utf8_lossy(&flush.stderr);
    assert!(said.contains("sign in again"), "{said}");
    assert!(said.contains("3 message(s) stay in the outbox"), "{said}");

    assert!(alice.run(&["login"]).status.success());
    let flush = alice.run(&["flush", "--wait", "30"]);
    assert!(
        flush.status.success(),
        "they go out after the sign-in: {flush:?}"
    );
    let seen = bob.json_lines(&["messages", chat_id, "--json"]);
    let bodies: Vec<&str> = seen.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["first", "queued 0", "queued 1", "queued 2"]);

    assert!(alice.run(&["logout"]).status.success());
    assert!(bob.run(&["logout"]).status.success());
}
