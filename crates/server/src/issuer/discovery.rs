//! OpenID discovery and the JWKS, in Entra's shape.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::{base_url, issuer_url, DevIssuer, OAuthError, TenantPath};

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn configuration(
    State(issuer): State<Arc<DevIssuer>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, OAuthError> {
    let tenant_path =
        TenantPath::parse(&tenant).ok_or_else(|| OAuthError::unknown_tenant(&tenant))?;
    let base = base_url(&headers)?;
    // A client that reads discovery is about to sign in: have the key ready.
    issuer.keys.warm_up();
    Ok(Json(document(&base, &tenant, tenant_path)))
}

/// The discovery document for a tenant segment, as Entra writes it: for
/// `common` and `organizations` the issuer is the literal template
/// `{base}/{tenantid}/v2.0`.
pub fn document(base: &str, tenant: &str, tenant_path: TenantPath) -> Value {
    let issuer = match tenant_path {
        TenantPath::Tenant(demo) => issuer_url(base, demo.id),
        TenantPath::Multi(_) => format!("{base}/{{tenantid}}/v2.0"),
    };
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name",
            "preferred_username", "oid", "tid", "ver"
        ],
        "request_uri_parameter_supported": false,
        "tenant_region_scope": null,
        "cloud_instance_name": "convene.example",
    })
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn keys(
    State(issuer): State<Arc<DevIssuer>>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, OAuthError> {
    TenantPath::parse(&tenant).ok_or_else(|| OAuthError::unknown_tenant(&tenant))?;
    let key = issuer.keys.get().await.map_err(|error| {
        tracing::error!(%error, "dev issuer: no signing key");
        OAuthError::server_error("The signing key is not available.")
    })?;
    Ok(Json(json!({ "keys": [key.jwk()] })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tenant_document_names_its_own_issuer_and_endpoints() {
        let tid = convene_proto::dev::DEV_TENANT_ID;
        let doc = document(
            "http://127.0.0.1:8750",
            tid,
            TenantPath::Tenant(crate::demo::CONVENE_TENANT),
        );
        let base = format!("http://127.0.0.1:8750/{tid}");
        assert_eq!(doc["issuer"], format!("{base}/v2.0"));
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/oauth2/v2.0/authorize")
        );
        assert_eq!(doc["token_endpoint"], format!("{base}/oauth2/v2.0/token"));
        assert_eq!(doc["jwks_uri"], format!("{base}/discovery/v2.0/keys"));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    }

    #[test]
    fn fabrikam_document_by_domain_names_fabrikams_issuer() {
        let doc = document(
            "http://127.0.0.1:8750",
            "fabrikam.example",
            TenantPath::Tenant(crate::demo::FABRIKAM_TENANT),
        );
        assert_eq!(
            doc["issuer"],
            "http://127.0.0.1:8750/00000000-c0de-4000-8000-000000000002/v2.0"
        );
        assert_eq!(
            doc["token_endpoint"],
            "http://127.0.0.1:8750/fabrikam.example/oauth2/v2.0/token"
        );
    }

    #[test]
    fn common_document_has_the_template_issuer() {
        let doc = document("http://localhost:9", "common", TenantPath::Multi("common"));
        assert_eq!(doc["issuer"], "http://localhost:9/{tenantid}/v2.0");
        assert_eq!(
            doc["token_endpoint"],
            "http://localhost:9/common/oauth2/v2.0/token"
        );
    }
}
