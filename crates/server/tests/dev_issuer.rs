//! The dev issuer of a running `convene-server --dev`, walked as a client
//! would: discovery, JWKS, the sign-in form, the code with PKCE, tokens,
//! refresh; and the ways each step refuses a bad request.

use convene_test_support::server_api::oidc::*;
use convene_test_support::server_api::{get_json, ServerCommand, ServerProcess};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

fn assert_entra_error(status: StatusCode, body: &Value, error: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], error, "{body}");
    for field in [
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    let code = body["error_codes"][0].as_u64().unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with(&format!("AADSTS{code}: ")));
}

/// Verifies `token` against the server's JWKS and returns its claims.
async fn verify(server: &ServerProcess, token: &str, audience: &str) -> Value {
    verify_in(server, token, audience, TENANT).await
}

/// Verifies `token` against the JWKS of tenant `tid`, requiring its issuer
/// `{base}/{tid}/v2.0`, and returns its claims.
async fn verify_in(server: &ServerProcess, token: &str, audience: &str, tid: &str) -> Value {
    let (_, jwks) = get_json(&server.url(&format!("/{tid}/discovery/v2.0/keys"))).await;
    let jwks: JwkSet = serde_json::from_value(jwks).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[server.url(&format!("/{tid}/v2.0"))]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn discovery_is_entra_shaped_for_the_tenant_and_for_common() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let base = server.url("");

    let (status, doc) =
        get_json(&server.url(&format!("/{TENANT}/v2.0/.well-known/openid-configuration"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], format!("{base}/{TENANT}/v2.0"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{base}/{TENANT}/discovery/v2.0/keys")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(doc["response_types_supported"]
        .as_array()
        .unwrap()
        .contains(&"code".into()));
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&"offline_access".into()));

    for multi in ["common", "organizations"] {
        let (status, doc) =
            get_json(&server.url(&format!("/{multi}/v2.0/.well-known/openid-configuration"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["issuer"], format!("{base}/{{tenantid}}/v2.0"));
        assert_eq!(
            doc["token_endpoint"],
            format!("{base}/{multi}/oauth2/v2.0/token")
        );
    }

    // The base is the address the client used.
    let localhost = format!("http://localhost:{}", server.addr.port());
    let (_, doc) = get_json(&format!(
        "{localhost}/{TENANT}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(doc["issuer"], format!("{localhost}/{TENANT}/v2.0"));

    let (status, body) =
        get_json(&server.url("/contoso.example/v2.0/.well-known/openid-configuration")).await;
    assert_entra_error(status, &body, "invalid_tenant");
}

#[tokio::test]
async fn the_second_demo_tenant_has_its_own_discovery_by_id_and_domain() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let base = server.url("");
    for segment in [FABRIKAM_TENANT, "fabrikam.example"] {
        let (status, doc) =
            get_json(&server.url(&format!("/{segment}/v2.0/.well-known/openid-configuration")))
                .await;
        assert_eq!(status, StatusCode::OK, "{segment}: {doc}");
        assert_eq!(doc["issuer"], format!("{base}/{FABRIKAM_TENANT}/v2.0"));
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/{segment}/oauth2/v2.0/authorize")
        );
        let (status, jwks) =
            get_json(&server.url(&format!("/{segment}/discovery/v2.0/keys"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    }
}

/// Signs `username` in through `tenant` for ACS, redeems the code at the
/// same tenant's token endpoint and returns the token response.
async fn sign_in_and_redeem(server: &ServerProcess, tenant: &str, username: &str) -> Value {
    let redirect_uri = "http://127.0.0.1:53682/callback";
    let code = code_for_user_at(server, tenant, username, redirect_uri, ACS_SCOPES).await;
    let (status, body) = redeem_at(server, tenant, &code, redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tenant} {username}: {body}");
    body
}

#[tokio::test]
async fn dave_signs_in_via_organizations_and_his_own_tenant_with_fabrikams_tid_and_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let base = server.url("");
    for tenant in [
        "organizations",
        "common",
        FABRIKAM_TENANT,
        "fabrikam.example",
    ] {
        let body = sign_in_and_redeem(&server, tenant, "dave@fabrikam.example").await;
        let id = verify_in(
            &server,
            body["id_token"].as_str().unwrap(),
            CLIENT_ID,
            FABRIKAM_TENANT,
        )
        .await;
        assert_eq!(id["tid"], FABRIKAM_TENANT, "{tenant}");
        assert_eq!(
            id["iss"],
            format!("{base}/{FABRIKAM_TENANT}/v2.0"),
            "{tenant}"
        );
        assert_eq!(id["oid"], DAVE_OID);
        assert_eq!(id["preferred_username"], "dave@fabrikam.example");
        assert_eq!(id["name"], "Dave Fabrikam");
        let acs = verify_in(
            &server,
            body["access_token"].as_str().unwrap(),
            "https://auth.msft.communication.azure.com",
            FABRIKAM_TENANT,
        )
        .await;
        assert_eq!(acs["tid"], FABRIKAM_TENANT, "{tenant}");
        assert_eq!(acs["iss"], format!("{base}/{FABRIKAM_TENANT}/v2.0"));
        assert_eq!(acs["oid"], DAVE_OID);

        // Refreshing keeps his tenant.
        let rt = body["refresh_token"].as_str().unwrap();
        let (status, body) = token_at(
            &server,
            tenant,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("refresh_token", rt),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let acs = verify_in(
            &server,
            body["access_token"].as_str().unwrap(),
            "https://auth.msft.communication.azure.com",
            FABRIKAM_TENANT,
        )
        .await;
        assert_eq!(acs["tid"], FABRIKAM_TENANT);
    }
    // A bare name works at his own tenant too.
    let body = sign_in_and_redeem(&server, "fabrikam.example", "dave").await;
    let id = verify_in(
        &server,
        body["id_token"].as_str().unwrap(),
        CLIENT_ID,
        FABRIKAM_TENANT,
    )
    .await;
    assert_eq!(id["oid"], DAVE_OID);
}

#[tokio::test]
async fn alice_via_organizations_gets_the_first_demo_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let base = server.url("");
    let body = sign_in_and_redeem(&server, "organizations", "alice@convene.example").await;
    let id = verify(&server, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id["tid"], TENANT);
    assert_eq!(id["iss"], format!("{base}/{TENANT}/v2.0"));
    assert_eq!(id["oid"], ALICE_OID);
    let acs = verify(
        &server,
        body["access_token"].as_str().unwrap(),
        "https://auth.msft.communication.azure.com",
    )
    .await;
    assert_eq!(acs["tid"], TENANT);

    // And alice is a stranger in Fabrikam.
    let params = authorize_params("http://127.0.0.1:40000/cb", ACS_SCOPES);
    let response = sign_in_at(&server, "fabrikam.example", &params, "alice", "convene").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("AADSTS50020"));
}

#[tokio::test]
async fn dave_at_the_first_tenants_endpoint_is_refused_with_aadsts50020() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let params = authorize_params("http://127.0.0.1:40000/cb", ACS_SCOPES);
    for tenant in [TENANT, "convene.example"] {
        let response =
            sign_in_at(&server, tenant, &params, "dave@fabrikam.example", "convene").await;
        // As at Entra, the sign-in page says so (no redirect, no code); the
        // user can sign in with another account.
        assert_eq!(response.status(), StatusCode::OK, "{tenant}");
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("AADSTS50020: User account"), "{html}");
        assert!(html.contains("dave@fabrikam.example"), "{html}");
        assert!(html.contains("name=\"password\""), "{html}");
    }
    // A wrong password is just a wrong password, whoever the user is.
    let response = sign_in_at(&server, TENANT, &params, "dave@fabrikam.example", "nope").await;
    let html = response.text().await.unwrap();
    assert!(
        html.contains("incorrect") && !html.contains("AADSTS50020"),
        "{html}"
    );

    // A code dave got through organizations is not redeemed at the first
    // tenant either.
    let redirect_uri = "http://127.0.0.1:40000/cb";
    let code = code_for_user_at(
        &server,
        "organizations",
        "dave@fabrikam.example",
        redirect_uri,
        ACS_SCOPES,
    )
    .await;
    let (status, body) = redeem_at(&server, "convene.example", &code, redirect_uri, VERIFIER).await;
    assert_entra_error(status, &body, "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([50020]));
}

#[tokio::test]
async fn jwks_lists_the_rs256_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let (status, jwks) = get_json(&server.url(&format!("/{TENANT}/discovery/v2.0/keys"))).await;
    assert_eq!(status, StatusCode::OK);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["use"].as_str(),
            key["alg"].as_str()
        ),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );
    assert_eq!(key["e"], "AQAB");
    assert!(key["n"].as_str().unwrap().len() > 300);
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(key.get("d").is_none(), "no private parts");
}

#[tokio::test]
async fn sign_in_code_exchange_refresh_and_tokens_verify_against_the_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let redirect_uri = "http://127.0.0.1:53682/callback";

    let code = code_for(&server, redirect_uri, ACS_SCOPES).await;
    let (status, body) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    let scope = body["scope"].as_str().unwrap();
    assert!(
        scope.contains("https://auth.msft.communication.azure.com/Teams.ManageCalls"),
        "{scope}"
    );

    let id = verify(&server, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id["tid"], TENANT);
    assert_eq!(id["oid"], ALICE_OID);
    assert_eq!(id["preferred_username"], "alice@convene.example");
    assert_eq!(id["name"], "Alice Example");
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["ver"], "2.0");
    assert!(id["sub"].as_str().is_some_and(|s| !s.is_empty()));
    let (iat, exp) = (id["iat"].as_i64().unwrap(), id["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
    assert_eq!(id["nbf"], id["iat"]);

    let acs = verify(
        &server,
        body["access_token"].as_str().unwrap(),
        "https://auth.msft.communication.azure.com",
    )
    .await;
    assert_eq!(acs["appid"], CLIENT_ID);
    assert_eq!(acs["oid"], ALICE_OID);
    assert_eq!(acs["tid"], TENANT);
    assert_eq!(acs["scp"], "Teams.ManageCalls Teams.ManageChats");
    assert_eq!(acs["preferred_username"], "alice@convene.example");
    assert_eq!(acs["name"], "Alice Example");

    // The refresh token gets a Graph token too, and rotates.
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&server, &first, Some(GRAPH_SCOPES)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let graph = verify(
        &server,
        body["access_token"].as_str().unwrap(),
        "https://graph.microsoft.com",
    )
    .await;
    assert_eq!(
        graph["scp"],
        "Chat.ReadWrite Presence.Read.All User.ReadBasic.All"
    );
    assert_eq!(graph["oid"], ALICE_OID);
    let id = verify(&server, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id["oid"], ALICE_OID);
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);

    // The old one presented again at once (a client that died before
    // storing `second`) still works within the reuse grace; the new one
    // works too (back to ACS by default). A replay after the grace revokes
    // the family: see the issuer's unit tests, which move the clock.
    let (status, body) = refresh(&server, &first, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = refresh(&server, &second, Some("User.Read")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A fresh sign-in: plain rotation, each new token working once.
    let code = code_for(&server, redirect_uri, ACS_SCOPES).await;
    let (_, body) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    let mut current = body["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, body) = refresh(&server, &current, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let acs = verify(
            &server,
            body["access_token"].as_str().unwrap(),
            "https://auth.msft.communication.azure.com",
        )
        .await;
        assert_eq!(acs["scp"], "Teams.ManageCalls Teams.ManageChats");
        current = body["refresh_token"].as_str().unwrap().to_owned();
    }

    // Nothing secret reaches the log.
    let finished = server.stop();
    assert!(!finished.stderr.contains(&code), "code logged");
    assert!(!finished.stderr.contains(&current), "refresh token logged");
    assert!(!finished.stderr.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let redirect_uri = "http://localhost:8400/";
    let code = code_for(&server, redirect_uri, ACS_SCOPES).await;
    let (status, _) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    assert_entra_error(status, &body, "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([54005]));
}

#[tokio::test]
async fn a_wrong_code_verifier_or_redirect_uri_is_invalid_grant() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let redirect_uri = "http://127.0.0.1:40000/cb";
    let code = code_for(&server, redirect_uri, ACS_SCOPES).await;

    let wrong = "x".repeat(43);
    let (status, body) = redeem(&server, &code, redirect_uri, &wrong).await;
    assert_entra_error(status, &body, "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([501481]));
    let (status, body) = redeem(&server, &code, "http://127.0.0.1:40001/cb", VERIFIER).await;
    assert_entra_error(status, &body, "invalid_grant");
    let (status, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", &code),
            ("redirect_uri", redirect_uri),
        ],
    )
    .await;
    assert_entra_error(status, &body, "invalid_request");

    // Failed attempts do not spend the code.
    let (status, body) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_missing_code_challenge_is_sent_back_to_the_redirect_uri() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let mut params = authorize_params("http://127.0.0.1:40000/cb", ACS_SCOPES);
    params.retain(|(k, _)| k != "code_challenge");
    let response = client()
        .get(authorize_url(&server, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:40000/cb?"),
        "{location}"
    );
    let query = query_of(location);
    assert_eq!(query["error"], "invalid_request");
    assert!(query["error_description"].starts_with("AADSTS"));
    assert_eq!(query["state"], "state-123");
    assert!(!query.contains_key("code"));

    // The same check holds when the form is posted without it.
    let mut fields = params.clone();
    fields.push(("username".into(), "alice".into()));
    fields.push(("password".into(), "convene".into()));
    let response = client()
        .post(server.url(&format!("/{TENANT}/oauth2/v2.0/authorize")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        query_of(response.headers()["location"].to_str().unwrap())["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let params = authorize_params("http://127.0.0.1:40000/cb", ACS_SCOPES);
    let response = sign_in(&server, &params, "alice@convene.example", "wrong").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("location").is_none());
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("incorrect"), "{html}");
    assert!(html.contains("name=\"password\""));
    assert!(html.contains("value=\"alice@convene.example\""));
    assert!(!html.contains("value=\"wrong\""));

    // An unknown user gets the same answer; bob's right password works.
    let response = sign_in(&server, &params, "mallory@convene.example", "convene").await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = sign_in(&server, &params, "bob", "convene").await;
    assert_eq!(response.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn dev_password_flag_sets_the_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(KEY_FILE), test_key()).unwrap();
    let server = ServerCommand::dev(dir.path())
        .args(["--dev-password", "s3cret-pw"])
        .start();
    let params = authorize_params("http://127.0.0.1:40000/cb", ACS_SCOPES);
    let response = sign_in(&server, &params, "carol@convene.example", "convene").await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = sign_in(&server, &params, "carol@convene.example", "s3cret-pw").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let finished = server.stop();
    assert!(!finished.stderr.contains("s3cret-pw"));
}

#[tokio::test]
async fn a_non_loopback_redirect_uri_is_a_400_page_not_a_redirect() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    for redirect_uri in [
        "https://evil.example/cb",
        "http://192.0.2.1:8080/cb",
        "http://[::1]:8080/cb",
    ] {
        let params = authorize_params(redirect_uri, ACS_SCOPES);
        let response = client()
            .get(authorize_url(&server, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("AADSTS50011"), "{html}");
    }
    let mut params = authorize_params("http://127.0.0.1:1/cb", ACS_SCOPES);
    params[0].1 = "11111111-1111-4111-8111-111111111111".into();
    let response = client()
        .get(authorize_url(&server, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn mixed_resource_scopes_in_a_token_request_are_invalid_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_key(dir.path());
    let redirect_uri = "http://127.0.0.1:40000/cb";
    let code = code_for(&server, redirect_uri, ACS_SCOPES).await;
    let mixed = "openid https://graph.microsoft.com/User.Read https://auth.msft.communication.azure.com/Teams.ManageCalls";
    let (status, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
            ("scope", mixed),
        ],
    )
    .await;
    assert_entra_error(status, &body, "invalid_scope");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("more than one resource"));

    let (status, body) = redeem(&server, &code, redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let rt = body["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&server, rt, Some(mixed)).await;
    assert_entra_error(status, &body, "invalid_scope");
}

#[cfg(unix)]
#[tokio::test]
async fn the_key_is_made_once_kept_private_and_reused_after_a_restart() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join(KEY_FILE);
    let server = ServerCommand::dev(dir.path()).start();
    let (status, jwks) = get_json(&server.url(&format!("/{TENANT}/discovery/v2.0/keys"))).await;
    assert_eq!(status, StatusCode::OK);
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let finished = server.stop();
    assert!(finished.status.success(), "{finished:#?}");
    assert!(!finished.stderr.contains("PRIVATE KEY"));

    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let pem = std::fs::read_to_string(&key_path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));

    let server = ServerCommand::dev(dir.path()).start();
    let (_, jwks) = get_json(&server.url(&format!("/{TENANT}/discovery/v2.0/keys"))).await;
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), pem);
}

#[test]
fn a_garbled_key_file_stops_startup_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(KEY_FILE), "not a key").unwrap();
    let finished = ServerCommand::dev(dir.path()).run_to_exit();
    finished.assert_clean_failure("the dev issuer key");
    assert!(finished.stderr.contains(KEY_FILE), "{}", finished.stderr);
}

#[tokio::test]
async fn tenant_mode_has_no_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerCommand::bare()
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args([
            "--authority",
            "https://login.microsoftonline.com/organizations/v2.0",
            "--client-id",
            CLIENT_ID,
        ])
        .start();
    let (status, body) =
        get_json(&server.url(&format!("/{TENANT}/v2.0/.well-known/openid-configuration"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "notFound");
    assert!(!dir.path().join(KEY_FILE).exists());
}
