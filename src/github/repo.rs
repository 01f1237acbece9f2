//! Which GitHub repository the plan is about: `--repo`, else `GITHUB_REPOSITORY`,
//! else the `origin` remote's URL. Pure parsing; the caller reads the remote.

use std::fmt;

use crate::error::{Error, Result};

/// `owner/name` of a GitHub repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSlug {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

fn valid_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl RepoSlug {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Option<RepoSlug> {
        let (owner, name) = text.trim().split_once('/')?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        (valid_part(owner) && valid_part(name)).then(|| RepoSlug {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// Parses a remote URL: `https://HOST/owner/name(.git)`, `ssh://git@HOST[:port]/owner/name.git`,
    /// `git@HOST:owner/name.git`. Any host (GitHub Enterprise included).
    pub fn from_remote_url(url: &str) -> Option<RepoSlug> {
        let url = url.trim().trim_end_matches('/');
        let path = if let Some((_, rest)) = url.split_once("://") {
            // scheme://[user@]host[:port]/path
            rest.split_once('/')?.1
        } else {
            // scp-like: [user@]host:path
            let (host, path) = url.split_once(':')?;
            if host.contains('/') {
                return None;
            }
            path
        };
        let mut parts = path.trim_matches('/').rsplitn(3, '/');
        let name = parts.next()?;
        let owner = parts.next()?;
        RepoSlug::parse(&format!("{owner}/{name}"))
    }
}

/// `--repo`, else `GITHUB_REPOSITORY`, else the origin remote. A bad `--repo` is an error;
/// an unparsable remote just means "no repository".
pub fn resolve(
    flag: Option<&str>,
    env_repository: Option<&str>,
    origin_url: Option<&str>,
) -> Result<Option<RepoSlug>> {
    if let Some(flag) = flag {
        return RepoSlug::parse(flag).map(Some).ok_or_else(|| {
            Error::input(format!(
                "--repo {flag:?} is not a repository; expected OWNER/NAME such as octo-org/octo-repo"
            ))
        });
    }
    if let Some(value) = env_repository {
        return RepoSlug::parse(value).map(Some).ok_or_else(|| {
            Error::input(format!(
                "GITHUB_REPOSITORY={value:?} is not a repository; expected OWNER/NAME"
            ))
        });
    }
    Ok(origin_url.and_then(RepoSlug::from_remote_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> Option<String> {
        RepoSlug::from_remote_url(s).map(|r| r.to_string())
    }

    #[test]
    fn remote_url_forms() {
        let want = Some("octo-org/octo-repo".to_string());
        assert_eq!(slug("https://github.com/octo-org/octo-repo.git"), want);
        assert_eq!(slug("https://github.com/octo-org/octo-repo"), want);
        assert_eq!(slug("https://user@github.com/octo-org/octo-repo/"), want);
        assert_eq!(slug("ssh://git@github.com/octo-org/octo-repo.git"), want);
        assert_eq!(
            slug("ssh://git@ghe.corp.example:2222/octo-org/octo-repo.git"),
            want
        );
        assert_eq!(slug("git@github.com:octo-org/octo-repo.git"), want);
        assert_eq!(slug("git@ghe.corp.example:octo-org/octo-repo"), want);
        assert_eq!(slug("/srv/git/repo"), None);
        assert_eq!(slug("https://github.com/only-owner"), None);
    }

    #[test]
    fn precedence_flag_env_remote() {
        let r = resolve(Some("a/b"), Some("c/d"), Some("git@github.com:e/f.git")).unwrap();
        assert_eq!(r.unwrap().to_string(), "a/b");
        let r = resolve(None, Some("c/d"), Some("git@github.com:e/f.git")).unwrap();
        assert_eq!(r.unwrap().to_string(), "c/d");
        let r = resolve(None, None, Some("git@github.com:e/f.git")).unwrap();
        assert_eq!(r.unwrap().to_string(), "e/f");
        assert!(resolve(Some("nope"), None, None).is_err());
        assert_eq!(resolve(None, None, None).unwrap(), None);
    }
}
