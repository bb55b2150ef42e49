//! The resources Convene holds access tokens for. Entra issues one access
//! token per resource; the refresh token gets the others, for whatever the
//! person consented to at sign-in.

use crate::config::ClientConfig;

/// OpenID scopes asked for with every resource.
pub const OPENID_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Convene's own API (convene-server), as the app registration
    /// exposes it.
    Api,
    /// Azure Communication Services, for the Teams-user token exchange.
    Communication,
    /// Microsoft Graph (or convene-server's Graph-shaped API): chat,
    /// presence, people.
    Graph,
}

impl Resource {
    /// Every resource Convene uses, in the order a sign-in asks for them.
    pub const ALL: [Resource; 3] = [Resource::Api, Resource::Communication, Resource::Graph];

    /// Delegated permissions, fully qualified with the resource.
    pub fn permissions(self, config: &ClientConfig) -> Vec<String> {
        let fixed: &[&str] = match self {
            Resource::Api => return vec![config.api_scope.clone()],
            Resource::Communication => &[
                "https://auth.msft.communication.azure.com/Teams.ManageCalls",
                "https://auth.msft.communication.azure.com/Teams.ManageChats",
            ],
            Resource::Graph => &[
                "https://graph.microsoft.com/Chat.ReadWrite",
                "https://graph.microsoft.com/Presence.Read.All",
                "https://graph.microsoft.com/User.ReadBasic.All",
            ],
        };
        fixed.iter().map(|s| s.to_string()).collect()
    }

    /// The `scope` parameter for a token request for this resource.
    pub fn scopes(self, config: &ClientConfig) -> Vec<String> {
        OPENID_SCOPES
            .iter()
            .map(|s| s.to_string())
            .chain(self.permissions(config))
            .collect()
    }

    /// The resource chat's token is for: Convene's own API when the chat
    /// API is convene-server's, Microsoft Graph otherwise.
    pub fn for_chat(config: &ClientConfig) -> Resource {
        if config.chat_is_self_hosted() {
            Resource::Api
        } else {
            Resource::Graph
        }
    }

    /// Every resource an account of `config` uses: Convene's API, ACS
    /// (for a server that forwards to it), and Graph unless chat is
    /// convene-server's.
    pub fn used_by(config: &ClientConfig) -> Vec<Resource> {
        Resource::ALL
            .into_iter()
            .filter(|r| *r != Resource::Graph || !config.chat_is_self_hosted())
            .collect()
    }

    /// What the person allows Convene when they consent to it, in words
    /// for a prompt.
    pub fn purpose(self) -> &'static str {
        match self {
            Resource::Api => "sign in to your organisation's Convene server",
            Resource::Communication => "make and receive calls",
            Resource::Graph => "read and send your chats and see colleagues' presence",
        }
    }
}

/// The `scope` of an interactive sign-in: every permission of every
/// resource the account uses, so that one consent covers everything
/// Convene will ask the refresh token for later (Entra's "extra scopes to
/// consent").
pub fn consent_scopes(config: &ClientConfig) -> Vec<String> {
    OPENID_SCOPES
        .iter()
        .map(|s| s.to_string())
        .chain(
            Resource::used_by(config)
                .iter()
                .flat_map(|r| r.permissions(config)),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_on_convene_server_uses_the_api_token_and_never_asks_for_graph() {
        let config = ClientConfig::default();
        assert_eq!(Resource::for_chat(&config), Resource::Api);
        let all = consent_scopes(&config);
        assert!(
            all.iter().all(|s| !s.contains("graph.microsoft.com")),
            "{all:?}"
        );
    }

    #[test]
    fn a_sign_in_asks_consent_for_every_resource_and_each_token_names_one() {
        let config = ClientConfig::from_layer(crate::config::ConfigLayer {
            authority: Some("https://login.microsoftonline.com/organizations/v2.0".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(Resource::for_chat(&config), Resource::Graph);
        let all = consent_scopes(&config);
        for resource in Resource::used_by(&config) {
            for permission in resource.permissions(&config) {
                assert!(
                    all.contains(&permission),
                    "{permission} missing from {all:?}"
                );
            }
        }
        assert!(all.contains(&format!("api://{}/Convene.Use", config.client_id)));
        let graph = Resource::Graph.scopes(&config);
        assert!(graph
            .iter()
            .all(|s| !s.starts_with("api://") && !s.contains("communication")));
        assert!(graph.contains(&"offline_access".to_string()));
    }
}
