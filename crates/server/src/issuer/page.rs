//! The HTML the authorize endpoint shows: a plain sign-in form and an error
//! page. Self-contained (no scripts, no external resources), every value
//! escaped, and a CSP that allows nothing else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Params, TenantPath};
use crate::demo::DEMO_USERS;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f6;margin:0}\
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3rem;margin-top:0}\
label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;\
box-sizing:border-box;padding:.5rem;font-size:1rem}button{margin-top:1.2rem;padding:.5rem 1.2rem;\
font-size:1rem}.error{color:#a4262c;font-weight:600}.note{color:#555;font-size:.85rem}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The sign-in form. It posts back to `action` with the authorization
/// request's own parameters as hidden fields; the password is never put
/// back into the page. The note names the demo users who may sign in
/// through `tenant`.
pub fn login_form(
    action: &str,
    tenant: TenantPath,
    params: &Params,
    username: &str,
    error: Option<&str>,
) -> String {
    let hidden: String = params
        .iter()
        .filter(|(name, _)| !matches!(*name, "username" | "password"))
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(name),
                escape(value)
            )
        })
        .collect();
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let users: Vec<&str> = DEMO_USERS
        .iter()
        .filter(|u| tenant.admits(u.tenant_id))
        .map(|u| u.user_principal_name)
        .collect();
    let organisation = match tenant {
        TenantPath::Tenant(demo) => demo.display_name,
        TenantPath::Multi(_) => "any demo organisation",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sign in – Convene dev</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>Sign in to Convene (dev)</h1>\n{error}\
         <form method=\"post\" action=\"{action}\">\n{hidden}\
         <label for=\"username\">User name</label>\n\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" \
         autocomplete=\"username\" autofocus required>\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n\
         <p class=\"note\">Development sign-in for {organisation} ({users}). \
         Never expose this server to a network.</p>\n</main>\n</body>\n</html>\n",
        action = escape(action),
        username = escape(username),
        organisation = escape(organisation),
        users = escape(&users.join(", ")),
    )
}

/// An error shown in the browser, when the client cannot be told through
/// its redirect URI.
pub fn error_page(message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Sign-in error – Convene dev</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <main>\n<h1>Sorry, that did not work</h1>\n<p class=\"error\">{}</p>\n</main>\n\
         </body>\n</html>\n",
        escape(message)
    )
}

/// An HTML response with headers that keep the page private and inert.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn form_escapes_values_keeps_oauth_fields_and_drops_the_password() {
        let params = Params::parse(
            b"state=%22%3E%3Cscript%3Ex%3C%2Fscript%3E&client_id=c&password=hunter2&username=u",
        )
        .unwrap();
        let page = login_form(
            "/t/oauth2/v2.0/authorize",
            TenantPath::Multi("common"),
            &params,
            "<b>",
            Some("Wrong & bad"),
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        assert!(page.contains("name=\"client_id\" value=\"c\""));
        assert!(!page.contains("hunter2"));
        assert!(page.contains("value=\"&lt;b&gt;\""));
        assert!(page.contains("Wrong &amp; bad"));
        assert!(!page.contains("http"), "no external resources: {page}");
    }

    #[test]
    fn the_note_names_the_users_of_the_tenant() {
        let params = Params::parse(b"client_id=c").unwrap();
        let convene = TenantPath::parse("convene.example").unwrap();
        let page = login_form("/a", convene, &params, "", None);
        assert!(page.contains("Convene Example (alice@convene.example, bob@"));
        assert!(!page.contains("dave@"));
        let fabrikam = TenantPath::parse("fabrikam.example").unwrap();
        let page = login_form("/a", fabrikam, &params, "", None);
        assert!(page.contains("Fabrikam Example (dave@fabrikam.example)"));
        let page = login_form("/a", TenantPath::Multi("organizations"), &params, "", None);
        assert!(page.contains("carol@convene.example, dave@fabrikam.example"));
    }
}
