//! What the dev issuer's tokens say, in Entra's claim names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::scopes::AccessGrant;
use crate::store::User;

/// Claims of an ID token (`aud` is the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub oid: Uuid,
    pub tid: Uuid,
    pub preferred_username: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub ver: String,
}

/// Claims of an access token (`aud` is the resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub aud: String,
    pub iss: String,
    pub tid: Uuid,
    pub oid: Uuid,
    pub sub: String,
    /// The client, as v1.0 tokens (and ACS's exchange) name it.
    pub appid: String,
    /// The client, as v2.0 tokens name it.
    pub azp: String,
    pub scp: String,
    pub name: String,
    pub preferred_username: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub ver: String,
}

/// Entra's `sub` is pairwise: the same person has a different one in each
/// app. Derived from tenant, user and client, so it is stable.
pub fn pairwise_subject(tenant_id: Uuid, object_id: Uuid, client_id: &str) -> String {
    let digest = Sha256::digest(format!("{tenant_id}:{object_id}:{client_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// The times every token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub issued_at: i64,
    pub expires_at: i64,
}

pub fn id_token(
    issuer: &str,
    client_id: &str,
    user: &User,
    nonce: Option<String>,
    validity: Validity,
) -> IdTokenClaims {
    IdTokenClaims {
        iss: issuer.to_owned(),
        aud: client_id.to_owned(),
        sub: pairwise_subject(user.tenant_id, user.object_id, client_id),
        oid: user.object_id,
        tid: user.tenant_id,
        preferred_username: user.user_principal_name.clone(),
        name: user.display_name.clone(),
        nonce,
        iat: validity.issued_at,
        nbf: validity.issued_at,
        exp: validity.expires_at,
        ver: "2.0".to_owned(),
    }
}

pub fn access_token(
    issuer: &str,
    client_id: &str,
    user: &User,
    grant: &AccessGrant,
    validity: Validity,
) -> AccessTokenClaims {
    AccessTokenClaims {
        aud: grant.resource.audience().to_owned(),
        iss: issuer.to_owned(),
        tid: user.tenant_id,
        oid: user.object_id,
        sub: pairwise_subject(user.tenant_id, user.object_id, client_id),
        appid: client_id.to_owned(),
        azp: client_id.to_owned(),
        scp: grant.scp(),
        name: user.display_name.clone(),
        preferred_username: user.user_principal_name.clone(),
        iat: validity.issued_at,
        nbf: validity.issued_at,
        exp: validity.expires_at,
        ver: "2.0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{ALICE, BOB};
    use crate::issuer::scopes::Scopes;

    #[test]
    fn subject_is_stable_per_app_and_differs_between_apps_and_people() {
        let t = crate::demo::DEMO_TENANT_ID;
        let a = pairwise_subject(t, ALICE.object_id, "app-1");
        assert_eq!(a, pairwise_subject(t, ALICE.object_id, "app-1"));
        assert_eq!(a.len(), 43);
        assert_ne!(a, pairwise_subject(t, ALICE.object_id, "app-2"));
        assert_ne!(a, pairwise_subject(t, BOB.object_id, "app-1"));
    }

    #[test]
    fn claims_carry_the_user_client_and_resource() {
        let user = ALICE.to_user();
        let validity = Validity {
            issued_at: 100,
            expires_at: 3_700,
        };
        let id = id_token("iss", "client", &user, Some("n-1".into()), validity);
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json["aud"], "client");
        assert_eq!(json["oid"], ALICE.object_id.to_string());
        assert_eq!(json["tid"], crate::demo::DEMO_TENANT_ID.to_string());
        assert_eq!(json["preferred_username"], "alice@convene.example");
        assert_eq!(json["nonce"], "n-1");
        assert_eq!(
            (json["iat"].clone(), json["nbf"].clone()),
            (100.into(), 100.into())
        );
        assert_eq!(json["ver"], "2.0");
        let without_nonce = id_token("iss", "client", &user, None, validity);
        assert!(serde_json::to_value(without_nonce)
            .unwrap()
            .get("nonce")
            .is_none());

        let grant = Scopes::parse("Chat.ReadWrite User.Read")
            .unwrap()
            .first_grant();
        let access = access_token("iss", "client", &user, &grant, validity);
        assert_eq!(access.aud, "https://graph.microsoft.com");
        assert_eq!(access.scp, "Chat.ReadWrite User.Read");
        assert_eq!((access.appid.as_str(), access.exp), ("client", 3_700));
        assert_eq!(access.sub, id.sub);
    }
}
