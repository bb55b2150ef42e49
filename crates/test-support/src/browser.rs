//! A person at a browser: opens the sign-in page, fills the login form,
//! follows the redirects back to the app. It reads the form from the page
//! rather than knowing the issuer's URLs, as a person would.

use reqwest::redirect::Policy;
use reqwest::Url;

/// The text of attribute `name` in the HTML tag `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<tag ...>` opening tag in `html`.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    html.match_indices(&open)
        .filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..i + end]))
        .collect()
}

/// Signs in at `authorize` as `username`, following redirects until the
/// loopback page answers. Returns that page's text.
pub async fn sign_in_at(authorize: Url, username: &str, password: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = browser
        .get(authorize.clone())
        .send()
        .await
        .expect("open the sign-in page");
    assert!(
        page.status().is_success(),
        "sign-in page: {}",
        page.status()
    );
    let html = page.text().await.unwrap();
    let forms = tags(&html, "form");
    let form = forms.first().expect("the sign-in page has a form");
    let action = attribute(form, "action").unwrap_or_default();
    let target = authorize.join(&action).expect("form action is a URL");
    let mut fields: Vec<(String, String)> = tags(&html, "input")
        .into_iter()
        .filter(|input| attribute(input, "type").as_deref() == Some("hidden"))
        .filter_map(|input| {
            Some((
                attribute(input, "name")?,
                attribute(input, "value").unwrap_or_default(),
            ))
        })
        .collect();
    fields.push(("username".into(), username.into()));
    fields.push(("password".into(), password.into()));

    let mut response = browser
        .post(target)
        .form(&fields)
        .send()
        .await
        .expect("submit the login form");
    let mut here = authorize;
    for _ in 0..5 {
        if !response.status().is_redirection() {
            break;
        }
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        here = here.join(&location).unwrap();
        response = browser
            .get(here.clone())
            .send()
            .await
            .expect("follow the redirect");
    }
    response.text().await.unwrap()
}
