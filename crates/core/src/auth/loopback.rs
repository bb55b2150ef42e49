//! The loopback redirect (RFC 8252 §7.3): a listener on 127.0.0.1 with an
//! ephemeral port receives the authorization response from the browser.

use std::collections::HashMap;
use std::future::IntoFuture as _;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::AuthError;

/// What came back to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Code {
        code: String,
        state: String,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
}

pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackListener {
    pub async fn bind() -> Result<Self, AuthError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(AuthError::Loopback)?;
        let port = listener.local_addr().map_err(AuthError::Loopback)?.port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}/"))
            .expect("a loopback URL with a port parses");
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Serves until the browser delivers an authorization response, shows
    /// the person a page saying what happened, and returns the response.
    /// Requests without `code` or `error` (a favicon, a stray visit) are
    /// answered 404 and ignored.
    pub async fn receive(self) -> Result<Callback, AuthError> {
        let (tx, mut rx) = mpsc::channel::<Callback>(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new().route("/", get(callback)).with_state(tx);
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        // Aborted if this future is dropped (sign-in cancelled or timed out),
        // so the port never stays open after the sign-in ends.
        let mut serving = AbortOnDrop(tokio::spawn(server.into_future()));
        let received = rx.recv().await;
        // Let the page that answers the browser finish, briefly.
        let _ = stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut serving.0).await;
        received.ok_or(AuthError::LoopbackStopped)
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<std::io::Result<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn callback(
    State(tx): State<mpsc::Sender<Callback>>,
    Query(params): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let state = params.get("state").cloned();
    let received = if let Some(code) = params.get("code") {
        Callback::Code {
            code: code.clone(),
            state: state.unwrap_or_default(),
        }
    } else if let Some(error) = params.get("error") {
        Callback::Error {
            error: error.clone(),
            description: params.get("error_description").cloned(),
            state,
        }
    } else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Nothing here",
                "This address only receives Convene's sign-in.",
            )),
        )
            .into_response();
    };
    let signed_in = matches!(received, Callback::Code { .. });
    let _ = tx.try_send(received);
    if signed_in {
        Html(page(
            "Signed in",
            "You are signed in to Convene. You can close this tab and return to the app.",
        ))
        .into_response()
    } else {
        Html(page(
            "Sign-in did not complete",
            "Convene shows what went wrong. You can close this tab and return to the app.",
        ))
        .into_response()
    }
}

/// A small self-contained page; the texts are ours, never echoed input.
fn page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Convene: {title}</title>\
         <style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;\
         min-height:90vh;color:#1b1b1b;background:#f5f5f5}}main{{background:#fff;padding:2rem 3rem;\
         border-radius:8px;box-shadow:0 2px 8px #0002;max-width:32rem}}h1{{color:#057d75}}</style>\
         </head><body><main><h1>{title}</h1><p>{message}</p></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn receives_the_code_and_tells_the_browser() {
        let listener = LoopbackListener::bind().await.unwrap();
        let uri = listener.redirect_uri().clone();
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        let waiting = tokio::spawn(listener.receive());

        let http = reqwest::Client::new();
        let stray = http
            .get(uri.join("favicon.ico").unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(stray.status(), 404);
        let page = http
            .get(format!("{uri}?code=abc&state=xyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("You can close this tab"));
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            Callback::Code {
                code: "abc".into(),
                state: "xyz".into()
            }
        );
    }

    #[tokio::test]
    async fn an_error_response_is_returned_too() {
        let listener = LoopbackListener::bind().await.unwrap();
        let uri = listener.redirect_uri().clone();
        let waiting = tokio::spawn(listener.receive());
        reqwest::get(format!(
            "{uri}?error=access_denied&error_description=AADSTS65004%3A+declined&state=s"
        ))
        .await
        .unwrap();
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            Callback::Error {
                error: "access_denied".into(),
                description: Some("AADSTS65004: declined".into()),
                state: Some("s".into())
            }
        );
    }
}
