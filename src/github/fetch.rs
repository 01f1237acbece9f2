//! Pull requests of the range: GraphQL in batches (see `graphql`), with the REST
//! fallback when GraphQL is unavailable, and degradation to "git only" when
//! GitHub fails (unless `--require-github`).

use std::collections::{BTreeMap, HashSet, VecDeque};

use serde_json::Value;

use super::client::{Client, Failure, Verb};
use super::graphql::{self, Problem};
use super::{Env, Fetched, FetchedPr, GithubConfig, Options, RepoSlug};
use crate::error::{Error, Result};

pub fn pull_requests(
    env: &Env,
    options: &Options,
    config: &GithubConfig,
    slug: &RepoSlug,
    commits: &[String],
    since: Option<i64>,
) -> Result<Fetched> {
    let client = match Client::new(env, slug, config) {
        Ok(client) => client,
        Err(message) => return degrade(options, env.redact(&message), 0),
    };
    let mut warnings = Vec::new();
    let result = match by_graphql(&client, commits) {
        Ok(prs) => Ok(prs),
        Err(f @ (Failure::RateLimited { .. } | Failure::Unauthorized | Failure::Transport(_))) => {
            Err(f)
        }
        Err(f) => {
            warnings.push(format!(
                "{}; used the REST API instead",
                client.explain("GitHub GraphQL", &f)
            ));
            by_rest(&client, config, commits, since, &mut warnings)
        }
    };
    match result {
        Ok(prs) => Ok(Fetched {
            note: format!(
                "GitHub: {} merged pull requests for {} commits of {} ({} API requests)",
                prs.len(),
                commits.len(),
                slug,
                client.requests()
            ),
            prs,
            warnings,
            requests: client.requests(),
        }),
        Err(failure) => {
            let message = client.explain("GitHub pull requests", &failure);
            degrade(options, message, client.requests())
        }
    }
}

fn degrade(options: &Options, message: String, requests: usize) -> Result<Fetched> {
    if options.require {
        return Err(Error::runtime(format!("{message} (--require-github)")));
    }
    Ok(Fetched {
        prs: Vec::new(),
        warnings: vec![format!("{message}; the plan uses git only")],
        note: "GitHub: failed, pull requests not used (see the warning)".into(),
        requests,
    })
}

fn problem(p: Problem, reset: Option<String>) -> Failure {
    match p {
        Problem::RateLimited(_) => Failure::RateLimited { reset },
        Problem::Failed(m) => Failure::Status(200, m),
        Problem::Malformed(m) => Failure::Malformed(m),
    }
}

/// Runs `query` over `items` in chunks of `max`, halving a chunk GitHub answers
/// with 502/504 (a query too heavy to finish in time).
fn batched<T, R>(
    items: &[T],
    max: usize,
    mut query: impl FnMut(&[T]) -> Result<R, Failure>,
) -> Result<Vec<R>, Failure> {
    let mut queue: VecDeque<&[T]> = items.chunks(max.max(1)).collect();
    let mut out = Vec::new();
    while let Some(batch) = queue.pop_front() {
        match query(batch) {
            Ok(r) => out.push(r),
            Err(Failure::Gateway(_)) if batch.len() > 1 => {
                let (a, b) = batch.split_at(batch.len() / 2);
                queue.push_front(b);
                queue.push_front(a);
            }
            Err(f) => return Err(f),
        }
    }
    Ok(out)
}

fn by_graphql(client: &Client, commits: &[String]) -> Result<Vec<FetchedPr>, Failure> {
    let maps = batched(commits, graphql::COMMITS_PER_QUERY, |batch| {
        let body = graphql::commits_query(&client.slug, batch);
        let answer = client.send(Verb::Query, "", Some(&body))?;
        graphql::parse_commits(&answer.body, &client.slug, batch)
            .map_err(|p| problem(p, answer.reset.clone()))
    })?;
    let mut by_number: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for map in maps {
        for (number, ids) in map {
            by_number.entry(number).or_default().extend(ids);
        }
    }
    let numbers: Vec<u64> = by_number.keys().copied().collect();
    let details = batched(&numbers, graphql::PRS_PER_QUERY, |batch| {
        let body = graphql::prs_query(&client.slug, batch);
        let answer = client.send(Verb::Query, "", Some(&body))?;
        graphql::parse_prs(&answer.body, batch).map_err(|p| problem(p, answer.reset.clone()))
    })?;
    let mut prs: Vec<FetchedPr> = details.into_iter().flatten().collect();
    for pr in &mut prs {
        pr.commits = by_number.remove(&pr.number).unwrap_or_default();
    }
    Ok(prs)
}

/// A PR of the REST API (`GET /repos/{owner}/{repo}/pulls`), if merged into this repository.
fn rest_pr(value: &Value, slug: &RepoSlug) -> Option<FetchedPr> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let merged_at = text(value, "merged_at")?;
    let base = value.get("base")?;
    let base_repo = base
        .get("repo")
        .and_then(|r| r.get("full_name"))
        .and_then(Value::as_str)?;
    if !base_repo.eq_ignore_ascii_case(&slug.to_string()) {
        return None;
    }
    let mut labels: Vec<String> = value
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| text(l, "name"))
        .collect();
    labels.sort();
    Some(FetchedPr {
        number: value.get("number")?.as_u64()?,
        title: text(value, "title").unwrap_or_default(),
        url: text(value, "html_url").unwrap_or_default(),
        author: value.get("user").and_then(|u| text(u, "login")),
        author_association: text(value, "author_association").unwrap_or_default(),
        merged_at: Some(merged_at),
        merge_commit: text(value, "merge_commit_sha"),
        base: text(base, "ref").unwrap_or_default(),
        labels,
        commits: Vec::new(),
    })
}

fn json_array(body: &str, what: &str) -> Result<Vec<Value>, Failure> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(Failure::Malformed(format!("{what}: expected a JSON array"))),
        Err(e) => Err(Failure::Malformed(format!("{what}: {e}"))),
    }
}

/// REST fallback: closed PRs, most recently updated first, until they are older
/// than the previous release; matched by merge commit. Commits still unmatched are
/// looked up one by one, at most `max_commit_lookups` of them.
fn by_rest(
    client: &Client,
    config: &GithubConfig,
    commits: &[String],
    since: Option<i64>,
    warnings: &mut Vec<String>,
) -> Result<Vec<FetchedPr>, Failure> {
    let wanted: HashSet<&str> = commits.iter().map(String::as_str).collect();
    let mut found: BTreeMap<u64, FetchedPr> = BTreeMap::new();
    let mut matched: HashSet<String> = HashSet::new();
    let base = config
        .base_branch
        .as_ref()
        .map(|b| format!("&base={}", url_encode(b)))
        .unwrap_or_default();
    for page in 1..=config.max_pages.max(1) {
        let path = client.repo_path(&format!(
            "/pulls?state=closed&sort=updated&direction=desc&per_page=100&page={page}{base}"
        ));
        let answer = client.send(Verb::Get, &path, None)?;
        let items = json_array(&answer.body, "pull request list")?;
        let mut older = false;
        for item in &items {
            if let (Some(since), Some(updated)) = (
                since,
                item.get("updated_at")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
            ) {
                if updated.timestamp() < since {
                    older = true;
                }
            }
            let Some(mut pr) = rest_pr(item, &client.slug) else {
                continue;
            };
            let Some(sha) = pr
                .merge_commit
                .clone()
                .filter(|s| wanted.contains(s.as_str()))
            else {
                continue;
            };
            matched.insert(sha.clone());
            pr.commits.push(sha);
            found.insert(pr.number, pr);
        }
        if older || items.len() < 100 || !answer.link_next {
            break;
        }
    }
    let unmatched: Vec<&String> = commits.iter().filter(|c| !matched.contains(*c)).collect();
    let cap = config.max_commit_lookups as usize;
    if unmatched.len() > cap {
        warnings.push(format!(
            "{} commits matched no pull request by merge commit; looked up the newest {cap} one by one (github.max_commit_lookups)",
            unmatched.len()
        ));
    }
    for sha in unmatched.into_iter().take(cap) {
        let answer = client.send(
            Verb::Get,
            &client.repo_path(&format!("/commits/{sha}/pulls")),
            None,
        )?;
        for item in json_array(&answer.body, "pull requests of a commit")? {
            if let Some(pr) = rest_pr(&item, &client.slug) {
                found
                    .entry(pr.number)
                    .or_insert(pr)
                    .commits
                    .push(sha.clone());
            }
        }
    }
    Ok(found.into_values().collect())
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_errors_halve_the_batch() {
        let items: Vec<u32> = (0..100).collect();
        let mut sizes = Vec::new();
        let out = batched(&items, 100, |b| {
            sizes.push(b.len());
            if b.len() > 25 {
                Err(Failure::Gateway(502))
            } else {
                Ok(b.len())
            }
        })
        .unwrap();
        assert_eq!(out.iter().sum::<usize>(), 100);
        assert_eq!(&sizes[..3], &[100, 50, 25]);
    }
}
