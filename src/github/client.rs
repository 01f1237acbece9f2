//! The HTTP client (octocrab on a single-threaded tokio runtime) and relplan's
//! request policy. octocrab's own retry is not compiled in (it re-sends POSTs and
//! ignores `Retry-After`); this module decides instead:
//!
//! - reads (GET, GraphQL queries) are retried on 5xx and transport errors, with backoff;
//! - 403/429 rate limits wait `Retry-After` / until `x-ratelimit-reset` when that is
//!   within `max_rate_limit_wait_secs`, and otherwise fail at once (`Failure::RateLimited`)
//!   so the caller degrades without waiting;
//! - a GraphQL 502/504 is returned as `Failure::Gateway` so the caller halves its batch;
//! - 401 and 404 become messages naming the repository and the token's source.
//!
//! The token goes into octocrab's auth header (marked sensitive) and nowhere else.

use std::cell::Cell;
use std::time::Duration;

use octocrab::Octocrab;
use serde_json::Value;

use super::{Env, GithubConfig, RepoSlug};

/// Why a request did not produce an answer.
#[derive(Debug)]
pub enum Failure {
    /// Rate limited and the wait is longer than allowed (or retries ran out).
    RateLimited { reset: Option<String> },
    /// 401: the token was refused.
    Unauthorized,
    /// 404: no such repository / PR, or the token cannot see it.
    NotFound,
    /// 403 without rate limiting, e.g. a read-only token writing a comment.
    Forbidden(String),
    /// 502/504 on a GraphQL query: the batch was too heavy.
    Gateway(u16),
    /// Any other non-success status.
    Status(u16, String),
    /// Connect/read timeout or connection error.
    Transport(String),
    /// The answer is not the JSON GitHub documents.
    Malformed(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    /// A read sent as POST (GraphQL query): retried like a GET.
    Query,
    Post,
    Patch,
}

pub struct Client {
    octo: Octocrab,
    graphql: Octocrab,
    graphql_path: String,
    rt: tokio::runtime::Runtime,
    pub env: Env,
    pub slug: RepoSlug,
    config: GithubConfig,
    requests: Cell<usize>,
}

/// An answer with a success status.
pub struct Answer {
    pub body: String,
    pub link_next: bool,
    /// `x-ratelimit-reset` as RFC 3339 (GraphQL reports RATE_LIMITED with HTTP 200).
    pub reset: Option<String>,
}

impl Client {
    pub fn new(env: &Env, slug: &RepoSlug, config: &GithubConfig) -> Result<Client, String> {
        let token = env.token().ok_or("no token")?.trim().to_string();
        // octocrab panics on a header value it cannot encode; refuse it here instead.
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(format!(
                "the token in {} contains characters a token cannot have (spaces, line breaks or non-ASCII)",
                env.token_source().unwrap_or("the environment")
            ));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .enable_io()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        let build = |base: &str, what: &str| -> Result<Octocrab, String> {
            let _guard = rt.enter();
            Octocrab::builder()
                .base_uri(base)
                .map_err(|e| format!("{what} {base:?} is not a URL: {e}"))?
                .personal_token(token.clone())
                .set_connect_timeout(Some(Duration::from_secs(config.connect_timeout_secs)))
                .set_read_timeout(Some(Duration::from_secs(config.read_timeout_secs)))
                .build()
                .map_err(|e| format!("cannot set up the HTTP client: {e}"))
        };
        let octo = build(&env.api_url, "GITHUB_API_URL")?;
        // octocrab prefixes every request with its base path, absolute URLs included,
        // so `https://HOST/api/v3` + `/api/graphql` would go to `/api/v3/api/graphql`.
        // GraphQL gets its own client rooted at the endpoint's origin.
        let (origin, graphql_path) = split_url(&env.graphql_url)
            .ok_or_else(|| format!("GITHUB_GRAPHQL_URL {:?} is not a URL", env.graphql_url))?;
        let graphql = build(origin, "GITHUB_GRAPHQL_URL")?;
        Ok(Client {
            octo,
            graphql,
            graphql_path: graphql_path.to_string(),
            rt,
            env: env.clone(),
            slug: slug.clone(),
            config: config.clone(),
            requests: Cell::new(0),
        })
    }

    pub fn requests(&self) -> usize {
        self.requests.get()
    }

    /// A REST path under the repository: `/repos/OWNER/NAME{rest}`.
    pub fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.slug.owner, self.slug.name)
    }

    /// Sends one request under the policy. `target` is a REST path (relative to
    /// `GITHUB_API_URL`); a `Verb::Query` always goes to the GraphQL endpoint.
    pub fn send(&self, verb: Verb, target: &str, body: Option<&Value>) -> Result<Answer, Failure> {
        let retries = match verb {
            Verb::Get | Verb::Query => self.config.retries,
            Verb::Post | Verb::Patch => 0,
        };
        let mut attempt = 0u32;
        loop {
            self.requests.set(self.requests.get() + 1);
            let outcome = self.rt.block_on(self.once(verb, target, body));
            let retry_after = match outcome {
                Ok(raw) if (200..300).contains(&raw.status) => {
                    return Ok(Answer {
                        reset: raw
                            .reset
                            .as_deref()
                            .and_then(|r| r.trim().parse::<u64>().ok())
                            .and_then(rfc3339),
                        link_next: raw
                            .link
                            .as_deref()
                            .is_some_and(|l| l.contains("rel=\"next\"")),
                        body: raw.body,
                    });
                }
                Ok(raw) => match self.classify(verb, raw) {
                    Next::Fail(f) => return Err(f),
                    Next::RetryAfter(d) => Some(d),
                    Next::Backoff(f) => {
                        if attempt >= retries {
                            return Err(f);
                        }
                        None
                    }
                },
                Err(transport) => {
                    if attempt >= retries {
                        return Err(Failure::Transport(self.env.redact(&transport)));
                    }
                    None
                }
            };
            let wait = match retry_after {
                Some(wait) => {
                    if attempt >= retries.max(1) {
                        return Err(Failure::RateLimited { reset: None });
                    }
                    wait
                }
                None => Duration::from_millis(250 * (1 << attempt.min(6))),
            };
            attempt += 1;
            // The timer must be created inside the runtime.
            self.rt.block_on(async { tokio::time::sleep(wait).await });
        }
    }

    fn classify(&self, verb: Verb, raw: Raw) -> Next {
        let status = raw.status;
        if status == 403 || status == 429 {
            if let Some(limit) = rate_limit(&raw, now_epoch()) {
                if limit.wait_secs <= self.config.max_rate_limit_wait_secs {
                    return Next::RetryAfter(Duration::from_secs(limit.wait_secs));
                }
                return Next::Fail(Failure::RateLimited { reset: limit.reset });
            }
            if status == 403 {
                return Next::Fail(Failure::Forbidden(message_of(&raw.body)));
            }
        }
        match status {
            401 => Next::Fail(Failure::Unauthorized),
            404 => Next::Fail(Failure::NotFound),
            502 | 504 if verb == Verb::Query => Next::Fail(Failure::Gateway(status)),
            500..=599 if matches!(verb, Verb::Get | Verb::Query) => {
                Next::Backoff(Failure::Status(status, message_of(&raw.body)))
            }
            _ => Next::Fail(Failure::Status(
                status,
                self.env.redact(&message_of(&raw.body)),
            )),
        }
    }

    async fn once(&self, verb: Verb, target: &str, body: Option<&Value>) -> Result<Raw, String> {
        let response = match verb {
            Verb::Get => self.octo._get(target).await,
            Verb::Query => self.graphql._post(self.graphql_path.as_str(), body).await,
            Verb::Post => self.octo._post(target, body).await,
            // octocrab's update_comment sends POST; the API documents PATCH.
            Verb::Patch => self.octo._patch(target, body).await,
        }
        .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after");
        let remaining = header("x-ratelimit-remaining");
        let reset = header("x-ratelimit-reset");
        let link = header("link");
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| describe(&e))?;
        Ok(Raw {
            status,
            retry_after,
            remaining,
            reset,
            link,
            body,
        })
    }

    /// Turns a failure into one line naming the repository and the token's source.
    pub fn explain(&self, what: &str, failure: &Failure) -> String {
        let source = self.env.token_source().unwrap_or("the token");
        let repo = &self.slug;
        let text = match failure {
            Failure::RateLimited { reset } => format!(
                "{what}: GitHub rate limit reached{}",
                reset
                    .as_ref()
                    .map(|r| format!(" (it resets at {r})"))
                    .unwrap_or_default()
            ),
            Failure::Unauthorized => format!(
                "{what}: GitHub refused the token from {source} (401 Unauthorized) for {repo}: is it expired or revoked?"
            ),
            Failure::NotFound => format!(
                "{what}: repository {repo} was not found (404) with the token from {source}: check --repo / GITHUB_REPOSITORY, and that the token can read it"
            ),
            Failure::Forbidden(m) => format!(
                "{what}: GitHub forbade it for {repo} with the token from {source} (403: {m})"
            ),
            Failure::Gateway(s) => format!("{what}: GitHub answered {s} even to the smallest batch"),
            Failure::Status(s, m) => format!("{what}: GitHub answered {s} for {repo}: {m}"),
            Failure::Transport(m) => format!("{what}: cannot reach GitHub at {}: {m}", self.env.api_url),
            Failure::Malformed(m) => format!("{what}: GitHub's answer was not understood: {m}"),
        };
        self.env.redact(&text)
    }
}

/// `https://HOST[:port]/path` -> (`https://HOST[:port]`, `/path`).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    match url[scheme_end..].find('/') {
        Some(at) => Some(url.split_at(scheme_end + at)),
        None => Some((url, "/")),
    }
}

struct Raw {
    status: u16,
    retry_after: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
    link: Option<String>,
    body: String,
}

enum Next {
    Fail(Failure),
    RetryAfter(Duration),
    Backoff(Failure),
}

struct Limit {
    wait_secs: u64,
    reset: Option<String>,
}

fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn rfc3339(epoch: u64) -> Option<String> {
    chrono::DateTime::from_timestamp(epoch as i64, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Whether a 403/429 is a rate limit, and how long GitHub asks to wait
/// (docs: "Rate limits for the REST API", "Exceeding the rate limit").
fn rate_limit(raw: &Raw, now: u64) -> Option<Limit> {
    if let Some(secs) = raw
        .retry_after
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Limit {
            wait_secs: secs,
            reset: rfc3339(now + secs),
        });
    }
    let exhausted = raw.remaining.as_deref().map(str::trim) == Some("0");
    let secondary = raw.body.to_lowercase().contains("rate limit");
    if !(exhausted || secondary || raw.status == 429) {
        return None;
    }
    match raw
        .reset
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(reset) => Some(Limit {
            wait_secs: reset.saturating_sub(now),
            reset: rfc3339(reset),
        }),
        // Secondary limit without a hint: GitHub says wait at least a minute.
        None => Some(Limit {
            wait_secs: 60,
            reset: rfc3339(now + 60),
        }),
    }
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn describe(e: &octocrab::Error) -> String {
    // octocrab's Display names the failing layer; the source chain has the cause
    // (timeout, connection refused). Neither contains headers.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(
        status: u16,
        retry_after: Option<&str>,
        remaining: Option<&str>,
        reset: Option<&str>,
    ) -> Raw {
        Raw {
            status,
            retry_after: retry_after.map(str::to_string),
            remaining: remaining.map(str::to_string),
            reset: reset.map(str::to_string),
            link: None,
            body: "{}".into(),
        }
    }

    #[test]
    fn graphql_urls_split_into_origin_and_path() {
        assert_eq!(
            split_url("https://ghe.example.com/api/graphql"),
            Some(("https://ghe.example.com", "/api/graphql"))
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080"),
            Some(("http://127.0.0.1:8080", "/"))
        );
        assert_eq!(split_url("nonsense"), None);
    }

    #[test]
    fn rate_limit_headers() {
        let l = rate_limit(&raw(429, Some("3"), None, None), 1000).unwrap();
        assert_eq!(l.wait_secs, 3);
        let l = rate_limit(&raw(403, None, Some("0"), Some("4600")), 1000).unwrap();
        assert_eq!(l.wait_secs, 3600);
        assert_eq!(l.reset.as_deref(), Some("1970-01-01T01:16:40Z"));
        assert!(rate_limit(&raw(403, None, Some("10"), None), 1000).is_none());
    }
}
