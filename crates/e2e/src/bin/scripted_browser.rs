//! A stand-in for a person at a browser, for `$BROWSER` in tests and
//! scripts: `BROWSER=target/debug/scripted_browser convene-cli login`
//! signs in as `$CONVENE_TEST_USERNAME` (default alice@convene.example) with
//! `$CONVENE_TEST_PASSWORD` (default convene) by filling the login form.
//! With `$CONVENE_TEST_BROWSER_LOG` set, it appends one line per visit to
//! that file, so a test can tell whether a browser was opened at all.

use convene_test_support::browser;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: scripted_browser URL");
    let username =
        std::env::var("CONVENE_TEST_USERNAME").unwrap_or_else(|_| "alice@convene.example".into());
    let password = std::env::var("CONVENE_TEST_PASSWORD").unwrap_or_else(|_| "convene".into());
    if let Some(log) = std::env::var_os("CONVENE_TEST_BROWSER_LOG") {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the browser log");
        writeln!(file, "{username}").expect("write the browser log");
    }
    let page = browser::sign_in_at(url.parse().expect("a URL"), &username, &password).await;
    eprintln!(
        "scripted browser: {}",
        page.lines().find(|l| l.contains("<p>")).unwrap_or(&page)
    );
}
