//! Scopes, and which resource (token audience) they ask for.
//!
//! As at Entra, one access token is for one resource: scopes under
//! `https://auth.msft.communication.azure.com/` ask for an ACS token, Graph
//! scopes (full or bare, like `User.Read`) for a Graph token, and
//! `api://{client id}/Convene.Use` for a token to Convene's own API (the
//! scope the app registration exposes; its tokens carry the client id as
//! `aud`). An authorization
//! request may name several resources (consent for all of them); a token
//! request may name only one. The OpenID scopes go with any resource.

use std::fmt;

/// The scopes that ask for no resource.
pub const OPENID_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A resource the dev issuer mints access tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Graph,
    Communication,
    /// Convene's own API: convene-server itself.
    Api,
}

/// The dev app's exposed API, the prefix of [`Resource::Api`]'s scopes.
pub const API_PREFIX: &str = convene_proto::dev::DEV_API_URI;

impl Resource {
    const ALL: [Resource; 3] = [Resource::Graph, Resource::Communication, Resource::Api];

    /// The prefix of its scopes (the resource's identifier URI).
    pub fn prefix(self) -> &'static str {
        match self {
            Resource::Graph => "https://graph.microsoft.com",
            Resource::Communication => "https://auth.msft.communication.azure.com",
            Resource::Api => API_PREFIX,
        }
    }

    /// The `aud` of its tokens: Entra's v2.0 tokens for an app's own API
    /// name the app's client id; Microsoft's APIs their identifier URI.
    pub fn audience(self) -> &'static str {
        match self {
            Resource::Api => super::CLIENT_ID,
            other => other.prefix(),
        }
    }

    /// The delegated permissions it knows, spelled as Entra spells them.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Resource::Graph => &[
                "User.Read",
                "User.ReadBasic.All",
                "Chat.Read",
                "Chat.ReadWrite",
                "Presence.Read",
                "Presence.Read.All",
                "Presence.ReadWrite",
            ],
            Resource::Communication => &["Teams.ManageCalls", "Teams.ManageChats"],
            Resource::Api => &["Convene.Use"],
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        let prefix = prefix.trim_end_matches('/');
        Self::ALL
            .into_iter()
            .find(|r| r.prefix().eq_ignore_ascii_case(prefix))
    }
}

/// Why a scope string was refused, as an OAuth error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// `invalid_scope`: a permission the resource does not have.
    UnknownPermission(String),
    /// `invalid_resource`: a resource the issuer does not know.
    UnknownResource(String),
    /// `invalid_scope`: a token request for two resources at once.
    SeveralResources(String),
}

impl ScopeError {
    /// The OAuth `error`, the AADSTS code and a message in Entra's words.
    pub fn describe(&self) -> (&'static str, u32, String) {
        match self {
            ScopeError::UnknownPermission(scope) => (
                "invalid_scope",
                70011,
                format!(
                    "The provided value for the input parameter 'scope' is not valid. \
                     The scope '{scope}' does not exist."
                ),
            ),
            ScopeError::UnknownResource(resource) => (
                "invalid_resource",
                500011,
                format!("The resource principal named {resource} was not found in the tenant."),
            ),
            ScopeError::SeveralResources(scope) => (
                "invalid_scope",
                28000,
                format!(
                    "Provided value for the input parameter scope is not valid because it \
                     contains more than one resource. Scope {scope} is not valid."
                ),
            ),
        }
    }
}

/// A parsed scope string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    /// OpenID scopes, in the order given, no duplicates.
    pub openid: Vec<&'static str>,
    /// Resources in the order they first appear, each with its permissions.
    pub resources: Vec<(Resource, Vec<&'static str>)>,
}

/// What one access token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub resource: Resource,
    pub permissions: Vec<&'static str>,
}

impl AccessGrant {
    /// The `scp` claim: permission names without the resource prefix.
    pub fn scp(&self) -> String {
        self.permissions.join(" ")
    }

    /// The permissions with their resource prefix, as the `scope` of a
    /// token response lists them.
    pub fn qualified(&self) -> impl Iterator<Item = String> + '_ {
        self.permissions
            .iter()
            .map(|p| format!("{}/{p}", self.resource.prefix()))
    }
}

impl Scopes {
    /// Parses a space-separated scope string. Names are matched without
    /// regard to case, as Entra does; `.default` means every permission of
    /// its resource.
    pub fn parse(scope: &str) -> Result<Self, ScopeError> {
        let mut scopes = Scopes::default();
        for item in scope.split_whitespace() {
            if let Some(known) = OPENID_SCOPES.iter().find(|s| s.eq_ignore_ascii_case(item)) {
                if !scopes.openid.contains(known) {
                    scopes.openid.push(known);
                }
                continue;
            }
            let (resource, permission) = match item.rsplit_once('/') {
                Some((prefix, permission)) => {
                    let resource = Resource::from_prefix(prefix)
                        .ok_or_else(|| ScopeError::UnknownResource(prefix.to_owned()))?;
                    (resource, permission)
                }
                // Bare names are Graph permissions.
                None => (Resource::Graph, item),
            };
            let wanted: Vec<&'static str> = if permission.eq_ignore_ascii_case(".default") {
                resource.permissions().to_vec()
            } else {
                let known = resource
                    .permissions()
                    .iter()
                    .find(|p| p.eq_ignore_ascii_case(permission))
                    .ok_or_else(|| ScopeError::UnknownPermission(item.to_owned()))?;
                vec![*known]
            };
            let index = match scopes.resources.iter().position(|(r, _)| *r == resource) {
                Some(index) => index,
                None => {
                    scopes.resources.push((resource, Vec::new()));
                    scopes.resources.len() - 1
                }
            };
            let permissions = &mut scopes.resources[index].1;
            for p in wanted {
                if !permissions.contains(&p) {
                    permissions.push(p);
                }
            }
        }
        Ok(scopes)
    }

    pub fn has(&self, openid_scope: &str) -> bool {
        self.openid.contains(&openid_scope)
    }

    /// The access token an authorization request's scopes give when the
    /// token request names none: its first resource, as at Entra; Graph
    /// `User.Read` if it named no resource at all.
    pub fn first_grant(&self) -> AccessGrant {
        match self.resources.first() {
            Some((resource, permissions)) => AccessGrant {
                resource: *resource,
                permissions: permissions.clone(),
            },
            None => AccessGrant {
                resource: Resource::Graph,
                permissions: vec!["User.Read"],
            },
        }
    }

    /// The access token a token request's own `scope` asks for: one
    /// resource at most. `raw` is the scope string, for the message.
    pub fn single_grant(&self, raw: &str) -> Result<AccessGrant, ScopeError> {
        if self.resources.len() > 1 {
            return Err(ScopeError::SeveralResources(raw.to_owned()));
        }
        Ok(self.first_grant())
    }
}

impl fmt::Display for Scopes {
    /// Canonical form: resources' permissions (qualified), then OpenID scopes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        for (resource, permissions) in &self.resources {
            items.extend(
                permissions
                    .iter()
                    .map(|p| format!("{}/{p}", resource.prefix())),
            );
        }
        items.extend(self.openid.iter().map(|s| s.to_string()));
        f.write_str(&items.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACS_CALLS: &str = "https://auth.msft.communication.azure.com/Teams.ManageCalls";
    const ACS_CHATS: &str = "https://auth.msft.communication.azure.com/Teams.ManageChats";

    #[test]
    fn communication_scopes_give_an_acs_token() {
        let raw = format!("openid profile offline_access {ACS_CALLS} {ACS_CHATS}");
        let scopes = Scopes::parse(&raw).unwrap();
        assert_eq!(scopes.openid, ["openid", "profile", "offline_access"]);
        let grant = scopes.single_grant(&raw).unwrap();
        assert_eq!(
            grant.resource.audience(),
            "https://auth.msft.communication.azure.com"
        );
        assert_eq!(grant.scp(), "Teams.ManageCalls Teams.ManageChats");
        assert_eq!(
            grant.qualified().collect::<Vec<_>>(),
            [ACS_CALLS, ACS_CHATS]
        );
    }

    #[test]
    fn graph_scopes_full_or_bare_give_a_graph_token() {
        let raw = "https://graph.microsoft.com/Chat.ReadWrite presence.read.all User.Read \
                   https://graph.microsoft.com/User.ReadBasic.All";
        let grant = Scopes::parse(raw).unwrap().single_grant(raw).unwrap();
        assert_eq!(grant.resource, Resource::Graph);
        assert_eq!(
            grant.scp(),
            "Chat.ReadWrite Presence.Read.All User.Read User.ReadBasic.All"
        );
    }

    #[test]
    fn the_apps_own_api_scope_gives_a_token_for_the_app() {
        let raw = format!("openid {API_PREFIX}/Convene.Use");
        let grant = Scopes::parse(&raw).unwrap().single_grant(&raw).unwrap();
        assert_eq!(grant.resource, Resource::Api);
        assert_eq!(grant.resource.audience(), super::super::CLIENT_ID);
        assert_eq!(grant.scp(), "Convene.Use");
        assert_eq!(
            grant.qualified().collect::<Vec<_>>(),
            [format!("{API_PREFIX}/Convene.Use")]
        );
    }

    #[test]
    fn two_resources_in_a_token_request_are_invalid_scope() {
        let raw = format!("openid https://graph.microsoft.com/User.Read {ACS_CALLS}");
        let scopes = Scopes::parse(&raw).unwrap();
        let err = scopes.single_grant(&raw).unwrap_err();
        let (error, code, message) = err.describe();
        assert_eq!((error, code), ("invalid_scope", 28000));
        assert!(message.contains("more than one resource"), "{message}");
        // An authorization request may name both: the first one wins.
        assert_eq!(scopes.first_grant().resource, Resource::Graph);
    }

    #[test]
    fn only_openid_scopes_give_graph_user_read() {
        let scopes = Scopes::parse("openid profile offline_access").unwrap();
        let grant = scopes.single_grant("").unwrap();
        assert_eq!(
            (grant.resource, grant.scp()),
            (Resource::Graph, "User.Read".into())
        );
        assert!(scopes.has("offline_access") && !scopes.has("email"));
    }

    #[test]
    fn default_means_every_permission_and_duplicates_collapse() {
        let raw = "https://auth.msft.communication.azure.com/.default openid OPENID";
        let scopes = Scopes::parse(raw).unwrap();
        assert_eq!(scopes.openid, ["openid"]);
        assert_eq!(
            scopes.first_grant().scp(),
            "Teams.ManageCalls Teams.ManageChats"
        );
        assert_eq!(
            scopes.to_string(),
            format!("{ACS_CALLS} {ACS_CHATS} openid")
        );
    }

    #[test]
    fn unknown_permissions_and_resources_are_refused() {
        assert_eq!(
            Scopes::parse("openid Mail.Send").unwrap_err(),
            ScopeError::UnknownPermission("Mail.Send".into())
        );
        let err = Scopes::parse("https://vault.azure.net/user_impersonation").unwrap_err();
        assert_eq!(
            err,
            ScopeError::UnknownResource("https://vault.azure.net".into())
        );
        assert_eq!(err.describe().0, "invalid_resource");
    }
}
