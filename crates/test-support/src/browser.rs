//! A person at a browser: opens the sign-in page, fills in whatever form
//! the identity provider shows (an account name, a password, a consent
//! page), keeps the provider's cookies, and follows the redirects back to
//! the app. It reads the forms from the pages rather than knowing the
//! issuer's URLs, as a person would, so it serves Convene's dev issuer and
//! the Entra-shaped provider of the tenant-mode tests alike.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Method, Url};

/// The text of attribute `name` in the HTML tag `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

fn html_unescape(text: &str) -> String {
    let mut text = text
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    // Numeric references, as some providers escape every attribute.
    while let Some(start) = text.find("&#") {
        let Some(len) = text[start..].find(';') else {
            break;
        };
        let code = &text[start + 2..start + len];
        let Some(c) = code.parse::<u32>().ok().and_then(char::from_u32) else {
            break;
        };
        text.replace_range(start..start + len + 1, &c.to_string());
    }
    text.replace("&amp;", "&")
}

/// Every `<tag ...>` opening tag in `html`.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    html.match_indices(&open)
        .filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..i + end]))
        .collect()
}

/// The first form of a page: where it goes and what it sends, with the
/// account name and password typed into the fields that ask for them.
fn fill_form(
    html: &str,
    username: &str,
    password: &str,
) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let action = attribute(tags(form, "form").first()?, "action").unwrap_or_default();
    let mut fields = Vec::new();
    for input in tags(form, "input") {
        let Some(name) = attribute(input, "name") else {
            continue;
        };
        let value = match attribute(input, "type").as_deref() {
            Some("password") => password.to_owned(),
            Some("hidden") => attribute(input, "value").unwrap_or_default(),
            _ if name == "username" || name == "login" => username.to_owned(),
            _ => attribute(input, "value").unwrap_or_default(),
        };
        fields.push((name, value));
    }
    Some((action, fields))
}

/// Signs in at `authorize` as `username`, submitting each form the
/// provider shows and following redirects until a page without a form
/// answers (the app's loopback page, or an error). Returns that page's
/// text.
pub async fn sign_in_at(authorize: Url, username: &str, password: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut here = authorize;
    let mut request = (Method::GET, here.clone(), Vec::new());
    let mut password_typed = false;
    for _ in 0..16 {
        let (method, url, form) = request;
        let mut builder = browser.request(method.clone(), url.clone());
        if !cookies.is_empty() {
            let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header(COOKIE, header.join("; "));
        }
        if method == Method::POST {
            builder = builder.form(&form);
        }
        let response = builder.send().await.expect("the browser reaches the page");
        for set in response.headers().get_all(SET_COOKIE) {
            let pair = set
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    cookies.remove(name.trim());
                } else {
                    cookies.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        here = url;
        if response.status().is_redirection() {
            let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
            request = (Method::GET, here.join(&location).unwrap(), Vec::new());
            continue;
        }
        let status = response.status();
        let html = response.text().await.unwrap();
        let asks_password = html.contains("type=\"password\"");
        if asks_password && password_typed {
            // Asked again: the password was refused; the page says why.
            return html;
        }
        password_typed |= asks_password;
        match fill_form(&html, username, password) {
            Some((action, fields)) if status.is_success() => {
                request = (
                    Method::POST,
                    here.join(&action).expect("form action is a URL"),
                    fields,
                );
            }
            _ => return html,
        }
    }
    panic!("the sign-in went through 16 pages without coming back to the app");
}
