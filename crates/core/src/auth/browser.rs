//! Opening the authorization URL in the person's browser.
//!
//! `$BROWSER` comes first (the xdg convention: a colon-separated list of
//! commands, `%s` standing for the URL, else the URL is appended), so that
//! scripts and tests can stand in for a person; then the platform opener.

use std::process::{Command, Stdio};

use url::Url;

use super::AuthError;

pub fn open(url: &Url) -> Result<(), AuthError> {
    let mut tried = Vec::new();
    if let Ok(browsers) = std::env::var("BROWSER") {
        for browser in browsers.split(':').filter(|b| !b.trim().is_empty()) {
            match spawn_browser(browser, url) {
                Ok(()) => return Ok(()),
                Err(e) => tried.push(format!("{browser}: {e}")),
            }
        }
    }
    let opener = platform_opener(url);
    match spawn(opener) {
        Ok(()) => Ok(()),
        Err(e) => {
            tried.push(format!("the system opener: {e}"));
            Err(AuthError::Browser(format!(
                "could not open a browser ({}); open this address yourself: {url}",
                tried.join("; ")
            )))
        }
    }
}

fn spawn_browser(browser: &str, url: &Url) -> std::io::Result<()> {
    let mut words: Vec<String> = browser.split_whitespace().map(str::to_owned).collect();
    if words.iter().any(|w| w.contains("%s")) {
        for word in &mut words {
            *word = word.replace("%s", url.as_str());
        }
    } else {
        words.push(url.to_string());
    }
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    spawn(command)
}

fn platform_opener(url: &Url) -> Command {
    #[cfg(target_os = "macos")]
    let mut command = Command::new("open");
    #[cfg(target_os = "windows")]
    let mut command = {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    };
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let mut command = Command::new("xdg-open");
    command.arg(url.as_str());
    command
}

/// Starts the browser without waiting for it (it may run for hours), and
/// reaps it when it exits.
fn spawn(mut command: Command) -> std::io::Result<()> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}
