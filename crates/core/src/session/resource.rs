//! The resources Convene holds access tokens for. Entra issues one access
//! token per resource; the refresh token gets the others.

/// OpenID scopes asked for with every resource.
pub const OPENID_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Azure Communication Services, for the Teams-user token exchange.
    Communication,
    /// Microsoft Graph (or convene-server's Graph-shaped API): chat,
    /// presence, people.
    Graph,
}

impl Resource {
    /// Delegated permissions, fully qualified with the resource.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Resource::Communication => &[
                "https://auth.msft.communication.azure.com/Teams.ManageCalls",
                "https://auth.msft.communication.azure.com/Teams.ManageChats",
            ],
            Resource::Graph => &[
                "https://graph.microsoft.com/Chat.ReadWrite",
                "https://graph.microsoft.com/Presence.Read.All",
                "https://graph.microsoft.com/User.ReadBasic.All",
            ],
        }
    }

    /// The `scope` parameter for a token request for this resource.
    pub fn scopes(self) -> Vec<String> {
        OPENID_SCOPES
            .iter()
            .chain(self.permissions())
            .map(|s| s.to_string())
            .collect()
    }
}
