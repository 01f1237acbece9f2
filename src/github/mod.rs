//! GitHub: pull requests for the range, the sticky plan comment, and the Actions
//! environment. The network lives here and nowhere else, and only behind the
//! `github` cargo feature; everything that decides (enrichment, text
//! neutralising, repository parsing, Actions files) is pure and always built.
//!
//! Tokens are read once into `Env` and never printed, logged, written or put in
//! an error message: errors name the token's *source* (`GITHUB_TOKEN`), never its value.

pub mod actions;
pub mod comment;
pub mod enrich;
pub mod repo;
pub mod text;

#[cfg(feature = "github")]
mod client;
#[cfg(feature = "github")]
mod fetch;
#[cfg(feature = "github")]
pub mod graphql;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use enrich::{enrich, Enrichment};
pub use repo::RepoSlug;

/// `[github]` in `.relplan.toml`. Always parsed, even in builds without the
/// `github` feature, so one config works with every build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// Which text classifies a squash-merged or merge-commit change:
    /// `"pr"` (the PR title when it is a Conventional Commit) or `"commit"`
    /// (the commit header when it is one, else the PR title).
    pub title_source: TitleSource,
    /// Label name -> what it means: `breaking`, `skip`, `risk:low|medium|high|critical`,
    /// or a category (`features`, `security`, ... or a custom name).
    pub labels: BTreeMap<String, String>,
    /// Longest rate-limit wait relplan sits through, in seconds. A longer wait is
    /// not started: the plan is made from git alone, with a warning.
    pub max_rate_limit_wait_secs: u64,
    /// Connect timeout and read timeout of each request, in seconds.
    pub connect_timeout_secs: u64,
    pub read_timeout_secs: u64,
    /// Retries of a failed read (5xx, timeout) before giving up.
    pub retries: u32,
    /// REST fallback: base branch of the pull requests (default: any branch).
    pub base_branch: Option<String>,
    /// REST fallback: pages of 100 closed pull requests read at most.
    pub max_pages: u32,
    /// REST fallback: commits looked up one by one at most, when no listed PR matched them.
    pub max_commit_lookups: u32,
    /// Write the sticky plan comment on the release pull request (`relplan comment`).
    pub comment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TitleSource {
    Pr,
    Commit,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            title_source: TitleSource::Pr,
            labels: default_labels(),
            max_rate_limit_wait_secs: 20,
            connect_timeout_secs: 10,
            read_timeout_secs: 30,
            retries: 2,
            base_branch: None,
            max_pages: 10,
            max_commit_lookups: 20,
            comment: true,
        }
    }
}

fn default_labels() -> BTreeMap<String, String> {
    [
        ("breaking-change", "breaking"),
        ("security", "security"),
        ("dependencies", "dependencies"),
        ("skip-changelog", "skip"),
        ("risk:high", "risk:high"),
        ("risk:critical", "risk:critical"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// What a label does to the changes of its pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelAction {
    Breaking,
    Skip,
    Risk(String),
    Category(String),
}

impl LabelAction {
    pub fn parse(value: &str) -> Option<LabelAction> {
        let value = value.trim();
        match value {
            "breaking" => Some(LabelAction::Breaking),
            "skip" => Some(LabelAction::Skip),
            _ => {
                if let Some(level) = value.strip_prefix("risk:") {
                    return ["low", "medium", "high", "critical"]
                        .contains(&level)
                        .then(|| LabelAction::Risk(level.to_string()));
                }
                let ok = !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                ok.then(|| LabelAction::Category(value.to_lowercase()))
            }
        }
    }
}

impl GithubConfig {
    pub fn validate(&self) -> Result<()> {
        for (label, value) in &self.labels {
            if LabelAction::parse(value).is_none() {
                return Err(Error::input(format!(
                    "github.labels.{label:?} = {value:?} is not a label action; expected \"breaking\", \"skip\", \"risk:low|medium|high|critical\" or a category name such as \"security\""
                )));
            }
        }
        if self.max_rate_limit_wait_secs > 600 {
            return Err(Error::input(format!(
                "github.max_rate_limit_wait_secs = {} is too long; expected at most 600 seconds",
                self.max_rate_limit_wait_secs
            )));
        }
        for (key, value) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("read_timeout_secs", self.read_timeout_secs),
        ] {
            if value == 0 || value > 600 {
                return Err(Error::input(format!(
                    "github.{key} = {value} is out of range; expected 1 to 600 seconds"
                )));
            }
        }
        if self.retries > 10 {
            return Err(Error::input(format!(
                "github.retries = {} is too many; expected 0 to 10",
                self.retries
            )));
        }
        Ok(())
    }

    pub fn label_actions(&self) -> Vec<(String, LabelAction)> {
        self.labels
            .iter()
            .filter_map(|(k, v)| LabelAction::parse(v).map(|a| (k.to_lowercase(), a)))
            .collect()
    }
}

/// A merged pull request of the range, as the Plan exposes it (`plan.pull_requests`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub url: String,
    /// The author's login; `None` for a deleted account.
    pub author: Option<String>,
    /// GitHub marks the author as a first-time contributor to the repository.
    pub first_time_contributor: bool,
    pub merged_at: Option<String>,
    pub merge_commit: Option<String>,
    pub base: String,
    /// Label names, sorted.
    pub labels: Vec<String>,
    /// The level a `risk:*` label asks for (the risk engine takes it as evidence).
    pub risk: Option<String>,
    /// Commits of the range associated with this PR, newest first.
    pub commits: Vec<String>,
    /// Whether the title is a Conventional Commit header.
    pub conventional_title: bool,
}

/// A pull request as fetched, before it is matched to the range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchedPr {
    pub number: u64,
    pub title: String,
    pub url: String,
    pub author: Option<String>,
    pub author_association: String,
    pub merged_at: Option<String>,
    pub merge_commit: Option<String>,
    pub base: String,
    pub labels: Vec<String>,
    /// Commits of the range associated with this PR.
    pub commits: Vec<String>,
}

/// What the CLI said about GitHub.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub offline: bool,
    pub repo: Option<String>,
    pub require: bool,
}

/// GitHub-related environment, read once.
#[derive(Clone, Default)]
pub struct Env {
    token: Option<(String, &'static str)>,
    pub api_url: String,
    pub graphql_url: String,
    pub server_url: String,
    pub repository: Option<String>,
    pub actions: bool,
    pub event_path: Option<String>,
    pub event_name: Option<String>,
    pub output: Option<String>,
    pub step_summary: Option<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("Env")
            .field("token_source", &self.token_source())
            .field("api_url", &self.api_url)
            .field("repository", &self.repository)
            .finish()
    }
}

pub const DEFAULT_API_URL: &str = "https://api.github.com";

impl Env {
    pub fn from_process() -> Env {
        Env::from_vars(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Env {
        let token = get("GITHUB_TOKEN")
            .map(|t| (t, "GITHUB_TOKEN"))
            .or_else(|| get("GH_TOKEN").map(|t| (t, "GH_TOKEN")));
        let api_url = get("GITHUB_API_URL")
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let graphql_url = get("GITHUB_GRAPHQL_URL").unwrap_or_else(|| graphql_url_for(&api_url));
        let server_url = get("GITHUB_SERVER_URL")
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| server_url_for(&api_url));
        Env {
            token,
            api_url,
            graphql_url,
            server_url,
            repository: get("GITHUB_REPOSITORY"),
            actions: get("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            event_path: get("GITHUB_EVENT_PATH"),
            event_name: get("GITHUB_EVENT_NAME"),
            output: get("GITHUB_OUTPUT"),
            step_summary: get("GITHUB_STEP_SUMMARY"),
        }
    }

    /// Which variable the token came from, for messages.
    pub fn token_source(&self) -> Option<&'static str> {
        self.token.as_ref().map(|t| t.1)
    }

    #[cfg(feature = "github")]
    fn token(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.0.as_str())
    }

    /// Removes the token from `text` (defence in depth for messages built from
    /// server responses).
    pub fn redact(&self, text: &str) -> String {
        match &self.token {
            Some((token, _)) if token.len() >= 4 => text.replace(token.as_str(), "***"),
            _ => text.to_string(),
        }
    }
}

/// GraphQL endpoint for a REST base: `https://api.github.com/graphql` on
/// github.com, `https://HOST/api/graphql` on GitHub Enterprise Server (whose REST
/// base is `https://HOST/api/v3`).
pub fn graphql_url_for(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api}/graphql"),
    }
}

/// Web URL for a REST base (links in comments).
pub fn server_url_for(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    if api == DEFAULT_API_URL {
        return "https://github.com".into();
    }
    api.strip_suffix("/api/v3").unwrap_or(api).to_string()
}

/// The outcome of asking GitHub about the range.
#[derive(Debug, Default)]
pub struct Fetched {
    pub prs: Vec<FetchedPr>,
    pub warnings: Vec<String>,
    /// One line for stderr: what was done or skipped.
    pub note: String,
    pub requests: usize,
}

/// Why GitHub was not asked, if it is not: one line for the user.
pub fn skip_reason(env: &Env, options: &Options) -> Option<String> {
    if options.offline {
        return Some(
            "GitHub: skipped (--offline): pull requests not fetched, the plan uses git only".into(),
        );
    }
    if !cfg!(feature = "github") {
        return Some("GitHub: skipped (relplan was built without the `github` feature): the plan uses git only".into());
    }
    if env.token.is_none() {
        return Some("GitHub: skipped (no GITHUB_TOKEN or GH_TOKEN): pull requests not fetched, the plan uses git only".into());
    }
    None
}

/// Pull requests of the commits `commits` lists (asked only when GitHub is asked: a
/// million ids take 45 MiB). Never fails because GitHub failed unless
/// `options.require`: failures become warnings and an empty list.
pub fn pull_requests(
    env: &Env,
    options: &Options,
    config: &GithubConfig,
    slug: Option<&RepoSlug>,
    commits: impl FnOnce() -> Vec<String>,
    since: Option<i64>,
) -> Result<Fetched> {
    if let Some(reason) = skip_reason(env, options) {
        if options.require {
            return Err(Error::input(format!(
                "--require-github, but {}",
                reason.trim_start_matches("GitHub: ")
            )));
        }
        return Ok(Fetched {
            note: reason,
            ..Fetched::default()
        });
    }
    let Some(slug) = slug else {
        let reason = "GitHub: skipped (no repository: pass --repo OWNER/NAME, set GITHUB_REPOSITORY, or add an `origin` remote on GitHub)";
        if options.require {
            return Err(Error::input(format!("--require-github, but {reason}")));
        }
        return Ok(Fetched {
            note: reason.into(),
            ..Fetched::default()
        });
    };
    #[cfg(feature = "github")]
    {
        fetch::pull_requests(env, options, config, slug, &commits(), since)
    }
    #[cfg(not(feature = "github"))]
    {
        let _ = (config, slug, commits, since);
        unreachable!("skip_reason covers builds without the github feature")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn graphql_url_on_github_com_and_enterprise() {
        assert_eq!(
            graphql_url_for("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url_for("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            server_url_for("https://ghe.example.com/api/v3"),
            "https://ghe.example.com"
        );
        let e = env(&[("GITHUB_API_URL", "https://ghe.example.com/api/v3")]);
        assert_eq!(e.graphql_url, "https://ghe.example.com/api/graphql");
    }

    #[test]
    fn token_source_and_redaction_never_show_the_token() {
        let e = env(&[("GH_TOKEN", "ghp_secret123")]);
        assert_eq!(e.token_source(), Some("GH_TOKEN"));
        assert!(!format!("{e:?}").contains("ghp_secret123"));
        assert_eq!(e.redact("bad ghp_secret123 x"), "bad *** x");
        let e = env(&[("GITHUB_TOKEN", "a1b2c3"), ("GH_TOKEN", "zzzz")]);
        assert_eq!(e.token_source(), Some("GITHUB_TOKEN"));
    }

    #[test]
    fn offline_and_tokenless_runs_skip_with_one_line() {
        let config = GithubConfig::default();
        let fetched = pull_requests(
            &env(&[]),
            &Options::default(),
            &config,
            None,
            Vec::new,
            None,
        )
        .unwrap();
        let expected = if cfg!(feature = "github") {
            "no GITHUB_TOKEN"
        } else {
            "without the `github` feature"
        };
        assert!(fetched.note.contains(expected), "{}", fetched.note);
        let offline = Options {
            offline: true,
            ..Options::default()
        };
        let fetched = pull_requests(
            &env(&[("GITHUB_TOKEN", "t0k3n")]),
            &offline,
            &config,
            None,
            Vec::new,
            None,
        )
        .unwrap();
        assert!(fetched.note.contains("--offline"));
        let require = Options {
            require: true,
            ..Options::default()
        };
        let err = pull_requests(&env(&[]), &require, &config, None, Vec::new, None).unwrap_err();
        assert!(err.message.contains("--require-github"));
    }

    #[test]
    fn label_values_are_validated() {
        let mut config = GithubConfig::default();
        config.validate().unwrap();
        config.labels.insert("risky".into(), "risk:enormous".into());
        let err = config.validate().unwrap_err();
        assert!(err.message.contains("risky"), "{}", err.message);
        assert_eq!(
            LabelAction::parse("risk:high"),
            Some(LabelAction::Risk("high".into()))
        );
        assert_eq!(
            LabelAction::parse("security"),
            Some(LabelAction::Category("security".into()))
        );
    }
}
