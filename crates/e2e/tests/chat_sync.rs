//! The chat engine between two people through the real convene-server:
//! messages arrive, and the outbox loses nothing and doubles nothing when
//! the server goes away, crashes mid-send, or the client quits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use convene_core::chat::view::{Delivery, ThreadMessage};
use convene_core::clock::ManualClock;
use convene_core::{Client, ClientEvent, EventStream, UserErrorCode};
use convene_e2e::chat::{delivered, next_matching, text, Account};
use convene_test_support::dev_server::DevServer;
use convene_test_support::wait::wait_for_async_every;

const WITHIN: Duration = Duration::from_secs(20);

fn words(message: &convene_proto::graph::ChatMessage) -> String {
    convene_core::chat::preview_text(&message.body.content, 200)
}

/// Each expected text is on the server exactly once, and the service
/// stamped them in the order they were written. (Messages stamped in the
/// same millisecond may be listed in either order, as on Graph.)
fn assert_once_in_order(on_server: &[convene_proto::graph::ChatMessage], expected: &[String]) {
    let mut texts: Vec<String> = on_server.iter().map(words).collect();
    let mut wanted = expected.to_vec();
    texts.sort();
    wanted.sort();
    assert_eq!(texts, wanted, "each message exactly once");
    let stamped: Vec<&str> = expected
        .iter()
        .map(|text| {
            on_server
                .iter()
                .find(|m| &words(m) == text)
                .map(|m| m.created_date_time.as_str())
                .unwrap()
        })
        .collect();
    assert!(
        stamped.windows(2).all(|pair| pair[0] <= pair[1]),
        "stamped in the order written: {expected:?} at {stamped:?}"
    );
}

/// Waits until the client's first sync has put `chat_id` in its list.
async fn wait_for_chat(events: &mut EventStream, chat_id: &str) {
    next_matching(events, WITHIN, "the chat in the list", |e| match e {
        ClientEvent::Chats { chats } => chats.iter().any(|c| c.id == chat_id).then_some(()),
        _ => None,
    })
    .await
}

/// Waits until every key has been reported sent.
async fn wait_until_sent(events: &mut EventStream, keys: &[String], within: Duration) {
    let mut waiting: Vec<&String> = keys.iter().collect();
    tokio::time::timeout(within, async {
        while !waiting.is_empty() {
            let event = events.next().await.expect("client running");
            waiting.retain(|key| delivered(&event, key, true).is_none());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("still not sent after {within:?}: {waiting:?}"));
}

async fn chat_between(alice: &Client, bob: &Account) -> String {
    alice
        .start_chat(vec![bob.profile.user_id.clone()], None)
        .await
        .expect("alice starts a chat with bob")
        .id
}

/// Alice and bob signed in to a dev server kept in `scratch`, alice's
/// client running on its cache in `scratch/alice`, and a chat between them.
struct AliceAndBob {
    server: DevServer,
    alice: Account,
    bob: Account,
    cache: PathBuf,
    client: Client,
    events: EventStream,
    chat_id: String,
}

async fn alice_chatting_with_bob(scratch: &Path) -> AliceAndBob {
    alice_chatting_with_bob_on(DevServer::start(&scratch.join("server")), scratch).await
}

async fn alice_chatting_with_bob_on(server: DevServer, scratch: &Path) -> AliceAndBob {
    let alice = Account::sign_in(&server.url(), "alice@convene.example").await;
    let bob = Account::sign_in(&server.url(), "bob@convene.example").await;
    let cache = scratch.join("alice");
    let (client, events) = alice.client(&cache).await;
    let chat_id = chat_between(&client, &bob).await;
    AliceAndBob {
        server,
        alice,
        bob,
        cache,
        client,
        events,
        chat_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_other_person_once() {
    let scratch = tempfile::tempdir().unwrap();
    let AliceAndBob {
        server: _server,
        alice,
        bob,
        client: alice_client,
        events: mut alice_events,
        chat_id,
        ..
    } = alice_chatting_with_bob(scratch.path()).await;
    let (bob_client, mut bob_events) = bob.client(&scratch.path().join("bob")).await;
    wait_for_chat(&mut bob_events, &chat_id).await;

    let sending = alice_client
        .send_message(&chat_id, text("Hello <b>Bob</b>"))
        .await
        .unwrap();
    assert_eq!(sending.delivery, Delivery::Sending);
    assert!(sending.mine);
    next_matching(&mut alice_events, WITHIN, "alice's message sent", |e| {
        delivered(e, &sending.key, true)
    })
    .await;

    let (chat, message) = next_matching(&mut bob_events, WITHIN, "bob's incoming", |e| match e {
        ClientEvent::Incoming { chat, message } => Some((chat.clone(), message.clone())),
        _ => None,
    })
    .await;
    assert_eq!(chat.id, chat_id);
    assert_eq!(message.from.display_name, "Alice Example");
    assert_eq!(message.body_html, "Hello <b>Bob</b>");
    assert!(!message.mine);

    // Bob's list shows it unread; reading it clears the badge.
    let row = bob_client
        .chats()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == chat_id)
        .unwrap();
    assert_eq!(row.unread_count, 1);
    assert_eq!(row.last_message.unwrap().text, "Hello Bob");
    bob_client.mark_read(&chat_id).await.unwrap();
    let row = bob_client.chats().await.unwrap().remove(0);
    assert_eq!(row.unread_count, 0);

    let on_server = alice.server_messages(&chat_id).await;
    assert_eq!(on_server.len(), 1, "exactly one copy on the server");
    let thread = alice_client.thread(&chat_id, None, 50).await.unwrap();
    let keys: Vec<&str> = thread.messages.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        keys,
        [sending.key.as_str()],
        "the sent message keeps its key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_offline_go_out_once_after_a_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let AliceAndBob {
        mut server,
        alice,
        cache,
        client,
        events: _events,
        chat_id,
        ..
    } = alice_chatting_with_bob(scratch.path()).await;

    server.stop();
    let mut keys = Vec::new();
    for n in 1..=3 {
        let message: ThreadMessage = client
            .send_message(&chat_id, text(&format!("offline {n}")))
            .await
            .expect("writing works offline");
        assert_eq!(message.delivery, Delivery::Sending);
        keys.push(message.key);
    }
    // The app quits with the three still in the outbox.
    drop(client);

    server.resume();
    let (client, mut events) = alice.client(&cache).await;
    let thread = client.thread(&chat_id, None, 50).await.unwrap();
    assert_eq!(
        thread
            .messages
            .iter()
            .map(|m| m.key.clone())
            .collect::<Vec<_>>(),
        keys,
        "the outbox came back from disk, in order"
    );
    wait_until_sent(&mut events, &keys, WITHIN).await;
    let expected: Vec<String> = (1..=3).map(|n| format!("offline {n}")).collect();
    assert_once_in_order(&alice.server_messages(&chat_id).await, &expected);
}

/// The server stops accepting alice's chat token long before it expires
/// (here: its signing key is replaced while it is down). Her client drops
/// the token at the first 401, renews it once, and the message goes out;
/// it does not keep knocking with the refused token until renewal time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_before_its_time_is_renewed_at_once_and_the_message_goes_out() {
    let scratch = tempfile::tempdir().unwrap();
    let AliceAndBob {
        mut server,
        alice,
        client,
        mut events,
        chat_id,
        ..
    } = alice_chatting_with_bob(scratch.path()).await;

    server.stop();
    std::fs::remove_file(server.data_dir().join("dev-issuer-key.pem")).expect("the issuer key");
    server.resume();
    let message = client
        .send_message(&chat_id, text("after the key changed"))
        .await
        .expect("writing works");
    wait_until_sent(&mut events, std::slice::from_ref(&message.key), WITHIN).await;
    assert_once_in_order(
        &alice.server_messages(&chat_id).await,
        &["after the key changed".to_owned()],
    );
}

/// Alice's session ends (signed out elsewhere, a password change) while
/// her app runs. What she writes then waits in the outbox, and goes out as
/// soon as she signs in again, not at the outbox's next slow retry. Her
/// client's clock is moved on by hand: its tokens run out at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_after_the_session_ended_goes_out_once_signed_in_again() {
    let scratch = tempfile::tempdir().unwrap();
    let server = DevServer::start(&scratch.path().join("server"));
    let alice = Account::sign_in(&server.url(), "alice@convene.example").await;
    let bob = Account::sign_in(&server.url(), "bob@convene.example").await;
    let clock = ManualClock::starting_now();
    let (client, mut events) = alice
        .client_on(&scratch.path().join("alice"), clock.clone())
        .await;
    let chat_id = chat_between(&client, &bob).await;

    let key = alice.profile.key();
    let message = client.send_message(&chat_id, text("before")).await.unwrap();
    wait_until_sent(&mut events, &[message.key], WITHIN).await;
    // The refresh token goes, and the access tokens run out: the client
    // must ask for new ones, and is told to sign in again. (Should a
    // renewal in flight store a new refresh token after the delete, the
    // client renews instead: the token goes again.)
    let ended = wait_for_async_every(WITHIN, Duration::from_millis(200), || async {
        alice.vault.delete(&key, "refresh_token").await.unwrap();
        clock.advance(Duration::from_secs(2 * 3600));
        match client
            .start_chat(vec![bob.profile.user_id.clone()], None)
            .await
        {
            Err(error) if error.code == UserErrorCode::SignInAgain => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(ended.is_some(), "the client never found its session ended");

    // What she writes now stays queued, not refused, and the app says the
    // session has ended.
    let waiting = client.send_message(&chat_id, text("after")).await.unwrap();
    next_matching(&mut events, WITHIN, "the ended session", |e| {
        matches!(e, ClientEvent::SessionExpired { .. }).then_some(())
    })
    .await;
    let thread = client.thread(&chat_id, None, 50).await.unwrap();
    let queued = thread
        .messages
        .iter()
        .find(|m| m.key == waiting.key)
        .unwrap();
    assert_eq!(queued.delivery, Delivery::Sending);

    alice.sign_in_again().await;
    // The app follows the account after a sign-in, as it does here.
    client.switch_account(&alice.profile.user_id).await.unwrap();
    wait_until_sent(&mut events, &[waiting.key], Duration::from_secs(8)).await;
    let expected = ["before".to_owned(), "after".to_owned()];
    assert_once_in_order(&alice.server_messages(&chat_id).await, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_server_crashes_mid_send_lose_nothing_and_double_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let AliceAndBob {
        mut server,
        alice,
        client,
        mut events,
        chat_id,
        ..
    } = alice_chatting_with_bob(scratch.path()).await;

    let mut keys = Vec::new();
    for cut in 0..20u64 {
        let message = client
            .send_message(&chat_id, text(&format!("cut {cut}")))
            .await
            .unwrap();
        keys.push(message.key);
        // Kill the server at varied moments: before, during and after the
        // POST lands (the varied moment is what the test is about).
        tokio::time::sleep(Duration::from_millis(cut * 3 % 25)).await;
        server.kill();
        server.resume();
    }
    wait_until_sent(&mut events, &keys, Duration::from_secs(90)).await;
    let expected: Vec<String> = (0..20).map(|n| format!("cut {n}")).collect();
    assert_once_in_order(&alice.server_messages(&chat_id).await, &expected);
}

/// Another process holds the cache file's write lock for longer than
/// SQLite waits for it (5 s) just as a queued message goes out: the
/// message waits, is not marked failed, and lands once when the file is
/// free again. (Which cache errors count as passing is unit-tested in
/// `chat::cache`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_file_locked_by_another_process_delays_a_message_and_loses_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let AliceAndBob {
        mut server,
        alice,
        cache,
        client,
        mut events,
        chat_id,
        ..
    } = alice_chatting_with_bob(scratch.path()).await;

    // Queued while the server is away; it goes out when it is back.
    server.stop();
    let message = client
        .send_message(&chat_id, text("through a locked file"))
        .await
        .expect("writing works offline");
    let database = cache_file(&cache);
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    const HELD: Duration = Duration::from_secs(8);
    let locker = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&database).expect("open the cache file");
        conn.execute_batch("BEGIN EXCLUSIVE")
            .expect("take the write lock");
        locked_tx.send(std::time::Instant::now()).unwrap();
        // Held past SQLite's busy timeout, as a slow other process would.
        std::thread::sleep(HELD);
        conn.execute_batch("COMMIT")
            .expect("release the write lock");
    });
    let locked_at = locked_rx.recv().unwrap();
    server.resume();

    let outcome = next_matching(
        &mut events,
        Duration::from_secs(60),
        "the message's fate",
        |e| {
            delivered(e, &message.key, true)
                .map(|_| true)
                .or_else(|| delivered(e, &message.key, false).map(|_| false))
        },
    )
    .await;
    assert!(outcome, "the message was marked failed, not retried");
    assert!(
        locked_at.elapsed() >= HELD,
        "it was recorded as sent while the file was locked: the lock was never in the way"
    );
    locker.join().unwrap();
    assert_once_in_order(
        &alice.server_messages(&chat_id).await,
        &["through a locked file".to_owned()],
    );
}

/// The one chat cache file under an account's cache folder.
fn cache_file(folder: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(folder)
        .expect("the cache folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("chat.db"))
        .find(|path| path.is_file())
        .expect("a chat.db in the cache folder")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_client_waits_as_told_and_still_delivers_everything_once() {
    let scratch = tempfile::tempdir().unwrap();
    // Two requests a second per user: a burst of messages meets 429s.
    let server =
        DevServer::start_with(&scratch.path().join("server"), &["--graph-rate-limit", "2"]);
    let alice = Account::sign_in(&server.url(), "alice@convene.example").await;
    let bob = Account::sign_in(&server.url(), "bob@convene.example").await;
    let (client, mut events) = alice.client(&scratch.path().join("alice")).await;
    // Creating the chat may itself be throttled by the first sync: asked
    // again each second.
    let chat_id = wait_for_async_every(WITHIN, Duration::from_secs(1), || async {
        match client
            .start_chat(vec![bob.profile.user_id.clone()], None)
            .await
        {
            Ok(chat) => Some(chat.id),
            Err(error) if error.code == UserErrorCode::Offline => None,
            Err(error) => panic!("{error:?}"),
        }
    })
    .await
    .expect("the chat was made despite the throttling");
    let mut keys = Vec::new();
    for n in 0..8 {
        let message = client
            .send_message(&chat_id, text(&format!("burst {n}")))
            .await
            .unwrap();
        keys.push(message.key);
    }
    wait_until_sent(&mut events, &keys, Duration::from_secs(60)).await;
    let expected: Vec<String> = (0..8).map(|n| format!("burst {n}")).collect();
    assert_once_in_order(&alice.server_messages(&chat_id).await, &expected);
}
