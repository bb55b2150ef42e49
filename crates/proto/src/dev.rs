//! What a client and `convene-server --dev` agree on without being told:
//! the embedded default that runs everything on one machine.

/// The port `convene-server --dev` listens on (loopback) by default.
pub const DEV_PORT: u16 = 8750;
/// The tenant id (`tid`) of the dev server's demo organisation.
pub const DEV_TENANT_ID: &str = "00000000-c0de-4000-8000-000000000001";
/// The app registration (client id) Convene uses with the dev server.
pub const DEV_CLIENT_ID: &str = "00000000-c0de-4000-8000-0000000000a1";
/// The identifier URI of the dev app's own API (`api://{client id}`), the
/// prefix of the scope a client asks convene-server's tokens with.
pub const DEV_API_URI: &str = "api://00000000-c0de-4000-8000-0000000000a1";

#[cfg(test)]
mod tests {
    #[test]
    fn the_api_uri_names_the_dev_client() {
        assert_eq!(
            super::DEV_API_URI,
            format!("api://{}", super::DEV_CLIENT_ID)
        );
    }
}
