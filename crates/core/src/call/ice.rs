//! Where a call's ICE servers (STUN, and TURN with a short-lived
//! credential) come from: convene-server before each call, or a fixed list.

use std::sync::Arc;

use convene_proto::call::{IceServer, IceServers, ICE_SERVERS_PATH};
use url::Url;

use crate::session::{AccountProfile, Sessions};

/// Where ICE servers come from.
#[derive(Clone)]
pub enum IceSource {
    /// `GET /v1/ice-servers` on convene-server, before each call (the TURN
    /// credential is short-lived).
    Server {
        http: reqwest::Client,
        server_url: Url,
        sessions: Arc<Sessions>,
        account: AccountProfile,
    },
    Fixed(Vec<IceServer>),
}

impl IceSource {
    /// The servers to use now; none (host candidates only) if they cannot
    /// be had, which still connects two devices on one network.
    pub async fn fetch(&self) -> Vec<IceServer> {
        match self {
            IceSource::Fixed(servers) => servers.clone(),
            IceSource::Server {
                http,
                server_url,
                sessions,
                account,
            } => {
                let token = match sessions.communication_token(account).await {
                    Ok(token) => token,
                    Err(error) => {
                        tracing::warn!(%error, "no token for ICE servers: host candidates only");
                        return Vec::new();
                    }
                };
                let Ok(url) = server_url.join(ICE_SERVERS_PATH) else {
                    return Vec::new();
                };
                let response = http.get(url).bearer_auth(token.token.expose()).send().await;
                let servers = match response {
                    Ok(response) => crate::http::json_body::<IceServers>(response)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(error) => Err(crate::http::describe(&error)),
                };
                match servers {
                    Ok(servers) => servers.ice_servers,
                    Err(error) => {
                        tracing::warn!(%error, "no ICE servers: host candidates only");
                        Vec::new()
                    }
                }
            }
        }
    }
}
