//! `/v1.0/users`: a people picker over the caller's tenant.
//!
//! `$filter` takes `eq` on `id`, `userPrincipalName`, `mail` or
//! `displayName` and `startswith(…, '…')` on the same, joined by `or`;
//! `$search` takes `"property:words"` clauses joined by `OR` (or `AND`)
//! and, as at Graph, only with `ConsistencyLevel: eventual`. Matching is
//! case-insensitive; a search word matches the start of a word of the
//! property (`"displayName:bob"` finds "Bob Example").

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::odata::{self, user_json};
use super::{Caller, Graph, GraphError};
use crate::store::{Cursor, User};

/// Graph's page size limits for users.
const MAX_USERS_TOP: usize = 999;
const DEFAULT_USERS_TOP: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    Id,
    UserPrincipalName,
    Mail,
    DisplayName,
}

impl Property {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "id" => Some(Self::Id),
            "userPrincipalName" => Some(Self::UserPrincipalName),
            "mail" => Some(Self::Mail),
            "displayName" => Some(Self::DisplayName),
            _ => None,
        }
    }

    fn of(self, user: &User) -> String {
        match self {
            Self::Id => user.object_id.to_string(),
            Self::UserPrincipalName | Self::Mail => user.user_principal_name.clone(),
            Self::DisplayName => user.display_name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    Eq(Property, String),
    StartsWith(Property, String),
    /// Every word of the term starts a word of the property.
    Search(Property, Vec<String>),
}

impl Test {
    fn matches(&self, user: &User) -> bool {
        match self {
            Test::Eq(p, v) => p.of(user).to_lowercase() == v.to_lowercase(),
            Test::StartsWith(p, v) => p.of(user).to_lowercase().starts_with(&v.to_lowercase()),
            Test::Search(p, terms) => {
                let words = words(&p.of(user));
                terms
                    .iter()
                    .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
            }
        }
    }
}

/// Lower-case alphanumeric runs.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

/// `$filter`'s tokens; strings are single-quoted with `''` for a quote.
fn tokens(s: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '\'' => {
                let mut text = String::new();
                loop {
                    match chars.next()? {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        '\'' => break,
                        c => text.push(c),
                    }
                }
                out.push(Token::Text(text));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Some(out)
}

/// `$filter`: clauses joined by `or`; any one must match.
fn parse_filter(value: &str) -> Result<Vec<Test>, GraphError> {
    let unsupported = || {
        GraphError::unsupported_query(format!(
            "Unsupported $filter '{value}': use 'eq' or 'startswith' on id, \
             userPrincipalName, mail or displayName, joined by 'or'."
        ))
    };
    let tokens = tokens(value).ok_or_else(unsupported)?;
    let mut tests = Vec::new();
    for clause in tokens.split(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("or"))) {
        let test = match clause {
            [Token::Word(p), Token::Word(op), Token::Text(v)] if op.eq_ignore_ascii_case("eq") => {
                Test::Eq(Property::parse(p).ok_or_else(unsupported)?, v.clone())
            }
            [Token::Word(f), Token::Open, Token::Word(p), Token::Comma, Token::Text(v), Token::Close]
                if f.eq_ignore_ascii_case("startswith") =>
            {
                Test::StartsWith(Property::parse(p).ok_or_else(unsupported)?, v.clone())
            }
            _ => return Err(unsupported()),
        };
        tests.push(test);
    }
    Ok(tests)
}

/// `$search`: `"property:words"` clauses joined by `OR` or `AND`. The
/// tests, and whether all (`AND`) rather than any must match.
fn parse_search(value: &str) -> Result<(Vec<Test>, bool), GraphError> {
    let unsupported = || {
        GraphError::unsupported_query(format!(
            "Unsupported $search '{value}': use \"property:words\" clauses on displayName, \
             userPrincipalName or mail, joined by OR or AND."
        ))
    };
    let mut tests = Vec::new();
    let mut operator: Option<bool> = None;
    let mut rest = value.trim();
    loop {
        let inner = rest.strip_prefix('"').ok_or_else(unsupported)?;
        let (clause, after) = inner.split_once('"').ok_or_else(unsupported)?;
        let (property, term) = clause.split_once(':').ok_or_else(unsupported)?;
        let property = match Property::parse(property.trim()) {
            Some(Property::Id) | None => return Err(unsupported()),
            Some(p) => p,
        };
        let terms = words(term);
        if terms.is_empty() {
            return Err(unsupported());
        }
        tests.push(Test::Search(property, terms));
        rest = after.trim_start();
        if rest.is_empty() {
            break;
        }
        let (op, after) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        let all = match op {
            "OR" => false,
            "AND" => true,
            _ => return Err(unsupported()),
        };
        if operator.is_some_and(|o| o != all) {
            return Err(unsupported());
        }
        operator = Some(all);
        rest = after.trim_start();
    }
    Ok((tests, operator.unwrap_or(false)))
}

fn eventual(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

fn context(caller: &Caller) -> String {
    format!("{}/v1.0/$metadata#users", caller.base)
}

/// `GET /v1.0/users` (`$filter`, `$search`, `$top`, `$count`,
/// `$skiptoken`): users of the caller's tenant, by sign-in name.
pub async fn list(
    State(graph): State<Arc<Graph>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let pairs = odata::query_pairs(query.as_deref());
    let top = odata::top(&pairs, DEFAULT_USERS_TOP, MAX_USERS_TOP)?;
    let filter = odata::option(&pairs, "$filter")
        .map(parse_filter)
        .transpose()?;
    let search = match odata::option(&pairs, "$search") {
        None => None,
        Some(_) if !eventual(&headers) => {
            return Err(GraphError::unsupported_query(
                "Request with $search query parameter only works through MSGraph with a \
                 special request header: 'ConsistencyLevel: eventual'",
            ))
        }
        Some(value) => Some(parse_search(value)?),
    };
    let after = odata::cursor(&pairs)?;
    let matched: Vec<User> = graph
        .store
        .users(caller.tid)
        .await?
        .into_iter()
        .filter(|u| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|t| t.matches(u)))
        })
        .filter(|u| {
            search.as_ref().is_none_or(|(tests, all)| {
                if *all {
                    tests.iter().all(|t| t.matches(u))
                } else {
                    tests.iter().any(|t| t.matches(u))
                }
            })
        })
        .collect();
    let total = matched.len();
    let mut page: Vec<&User> = matched
        .iter()
        .filter(|u| {
            after
                .as_ref()
                .is_none_or(|c| u.user_principal_name.as_str() > c.id.as_str())
        })
        .take(top + 1)
        .collect();
    let more = page.len() > top;
    page.truncate(top);
    let mut body = json!({
        "@odata.context": context(&caller),
        "value": page.iter().map(|u| user_json(u)).collect::<Vec<_>>(),
    });
    if odata::option(&pairs, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true")) {
        body["@odata.count"] = json!(total);
    }
    if let (true, Some(last)) = (more, page.last()) {
        let cursor = Cursor {
            ms: 0,
            id: last.user_principal_name.clone(),
        };
        body["@odata.nextLink"] = json!(odata::next_link(
            &caller.base,
            "/v1.0/users",
            &pairs,
            &cursor
        ));
    }
    Ok(Json(body))
}

/// `GET /v1.0/users/{id or userPrincipalName}`: a user of the caller's
/// tenant. `User.Read` is enough for the caller's own entry.
pub async fn one(
    State(graph): State<Arc<Graph>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let caller = graph.authorize(&headers).await?;
    let id = Uuid::try_parse(&key).ok();
    let user = graph
        .store
        .users(caller.tid)
        .await?
        .into_iter()
        .find(|u| match id {
            Some(id) => u.object_id == id,
            None => u.user_principal_name.eq_ignore_ascii_case(&key),
        })
        .ok_or_else(|| {
            GraphError::no_resource(format!(
                "Resource '{key}' does not exist or one of its queried reference-property \
                 objects are not present."
            ))
        })?;
    let mut value = user_json(&user);
    value["@odata.context"] = json!(format!("{}/$entity", context(&caller)));
    Ok(Json(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(upn: &str, name: &str) -> User {
        User {
            tenant_id: Uuid::nil(),
            object_id: Uuid::from_u128(7),
            user_principal_name: upn.into(),
            display_name: name.into(),
        }
    }

    #[test]
    fn filters_parse_and_match() {
        let bob = user("bob@convene.example", "Bob O'Brien");
        let f = parse_filter("userPrincipalName eq 'BOB@convene.example'").unwrap();
        assert!(f[0].matches(&bob));
        let f = parse_filter("startswith(displayName,'bob o''b') or mail eq 'x'").unwrap();
        assert_eq!(f.len(), 2);
        assert!(f[0].matches(&bob) && !f[1].matches(&bob));
        assert!(parse_filter("jobTitle eq 'x'").is_err());
        assert!(parse_filter("userPrincipalName eq 'open").is_err());
        assert!(parse_filter("userPrincipalName ne 'x'").is_err());
    }

    #[test]
    fn searches_match_word_starts() {
        let bob = user("bob@convene.example", "Bob Example");
        let (s, all) = parse_search("\"displayName:bob\"").unwrap();
        assert!(!all && s[0].matches(&bob));
        let (s, _) = parse_search("\"displayName:exa bo\"").unwrap();
        assert!(s[0].matches(&bob));
        let (s, _) = parse_search("\"displayName:ob\"").unwrap();
        assert!(!s[0].matches(&bob));
        let (s, all) = parse_search("\"displayName:alice\" OR \"mail:convene\"").unwrap();
        assert!(!all && !s[0].matches(&bob) && s[1].matches(&bob));
        assert!(parse_search("bob").is_err());
        assert!(parse_search("\"displayName:\"").is_err());
        assert!(parse_search("\"a:b\" OR \"mail:c\"").is_err());
        assert!(parse_search("\"mail:a\" OR \"mail:b\" AND \"mail:c\"").is_err());
    }
}
