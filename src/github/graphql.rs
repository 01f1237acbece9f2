//! The two GraphQL queries relplan sends, and their answers. Pure.
//!
//! 1. Each commit's merged pull requests: aliased `object(oid:)` nodes, up to
//!    `COMMITS_PER_QUERY` per query, oids passed as variables (never spliced).
//! 2. Details of up to `PRS_PER_QUERY` pull requests per query, aliased
//!    `pullRequest(number:)` nodes.
//!
//! N commits and M PRs cost ceil(N/100) + ceil(M/50) requests.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{FetchedPr, RepoSlug};

pub const COMMITS_PER_QUERY: usize = 100;
pub const PRS_PER_QUERY: usize = 50;

/// The request body asking which merged PRs contain each commit.
pub fn commits_query(slug: &RepoSlug, commits: &[String]) -> Value {
    let mut decl = String::from("$owner: String!, $name: String!");
    let mut body = String::new();
    let mut vars = Map::new();
    vars.insert("owner".into(), json!(slug.owner));
    vars.insert("name".into(), json!(slug.name));
    for (i, id) in commits.iter().enumerate() {
        decl.push_str(&format!(", $c{i}: GitObjectID!"));
        body.push_str(&format!(
            "    c{i}: object(oid: $c{i}) {{ ... on Commit {{ oid associatedPullRequests(first: 10) {{ nodes {{ number merged baseRepository {{ nameWithOwner }} }} }} }} }}\n"
        ));
        vars.insert(format!("c{i}"), json!(id));
    }
    let query = format!(
        "query RelplanCommitPulls({decl}) {{\n  rateLimit {{ remaining resetAt }}\n  repository(owner: $owner, name: $name) {{\n{body}  }}\n}}\n"
    );
    json!({"query": query, "variables": vars})
}

/// The request body asking for PR details.
pub fn prs_query(slug: &RepoSlug, numbers: &[u64]) -> Value {
    let mut decl = String::from("$owner: String!, $name: String!");
    let mut body = String::new();
    let mut vars = Map::new();
    vars.insert("owner".into(), json!(slug.owner));
    vars.insert("name".into(), json!(slug.name));
    for (i, n) in numbers.iter().enumerate() {
        decl.push_str(&format!(", $p{i}: Int!"));
        body.push_str(&format!(
            "    p{i}: pullRequest(number: $p{i}) {{ number title url mergedAt mergeCommit {{ oid }} baseRefName author {{ login }} authorAssociation labels(first: 50) {{ nodes {{ name }} }} }}\n"
        ));
        vars.insert(format!("p{i}"), json!(n));
    }
    let query = format!(
        "query RelplanPulls({decl}) {{\n  repository(owner: $owner, name: $name) {{\n{body}  }}\n}}\n"
    );
    json!({"query": query, "variables": vars})
}

/// What a GraphQL answer can be besides data.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// `errors[].type == "RATE_LIMITED"` (GitHub answers it with HTTP 200).
    RateLimited(String),
    /// Errors and no data, or data without the repository.
    Failed(String),
    /// Not the JSON shape GitHub documents.
    Malformed(String),
}

fn repository(answer: &str) -> Result<Map<String, Value>, Problem> {
    let value: Value = serde_json::from_str(answer)
        .map_err(|e| Problem::Malformed(format!("GraphQL answer is not JSON: {e}")))?;
    let errors: Vec<&Value> = value
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(e) = errors
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("RATE_LIMITED"))
    {
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("rate limited");
        return Err(Problem::RateLimited(message.to_string()));
    }
    match value
        .get("data")
        .and_then(|d| d.get("repository"))
        .and_then(Value::as_object)
    {
        Some(repo) => Ok(repo.clone()),
        None => {
            let message = errors
                .first()
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("no repository in the answer");
            if errors.is_empty() && value.get("data").is_none() {
                Err(Problem::Malformed(format!(
                    "GraphQL answer has no data: {message}"
                )))
            } else {
                Err(Problem::Failed(message.to_string()))
            }
        }
    }
}

/// PR number -> commits of `commits` it contains; only merged PRs whose base
/// repository is `slug` (PRs in forks that contain the same commit are ignored).
pub fn parse_commits(
    answer: &str,
    slug: &RepoSlug,
    commits: &[String],
) -> Result<BTreeMap<u64, Vec<String>>, Problem> {
    let repo = repository(answer)?;
    let this = slug.to_string().to_lowercase();
    let mut out: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (i, id) in commits.iter().enumerate() {
        let Some(node) = repo.get(&format!("c{i}")) else {
            continue;
        };
        let nodes = node
            .get("associatedPullRequests")
            .and_then(|a| a.get("nodes"))
            .and_then(Value::as_array);
        for pr in nodes.into_iter().flatten() {
            let merged = pr.get("merged").and_then(Value::as_bool) == Some(true);
            let base = pr
                .get("baseRepository")
                .and_then(|b| b.get("nameWithOwner"))
                .and_then(Value::as_str)
                .map(str::to_lowercase);
            let Some(number) = pr.get("number").and_then(Value::as_u64) else {
                continue;
            };
            if merged && base.as_deref() == Some(this.as_str()) {
                out.entry(number).or_default().push(id.clone());
            }
        }
    }
    Ok(out)
}

/// The PRs of a details answer (PRs GitHub does not know are skipped).
pub fn parse_prs(answer: &str, numbers: &[u64]) -> Result<Vec<FetchedPr>, Problem> {
    let repo = repository(answer)?;
    let mut out = Vec::new();
    for (i, _) in numbers.iter().enumerate() {
        let Some(pr) = repo.get(&format!("p{i}")).filter(|v| v.is_object()) else {
            continue;
        };
        let text = |key: &str| pr.get(key).and_then(Value::as_str).map(str::to_string);
        let Some(number) = pr.get("number").and_then(Value::as_u64) else {
            return Err(Problem::Malformed(format!(
                "pull request p{i} has no number"
            )));
        };
        let mut labels: Vec<String> = pr
            .get("labels")
            .and_then(|l| l.get("nodes"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        labels.sort();
        out.push(FetchedPr {
            number,
            title: text("title").unwrap_or_default(),
            url: text("url").unwrap_or_default(),
            author: pr
                .get("author")
                .and_then(|a| a.get("login"))
                .and_then(Value::as_str)
                .map(str::to_string),
            author_association: text("authorAssociation").unwrap_or_default(),
            merged_at: text("mergedAt"),
            merge_commit: pr
                .get("mergeCommit")
                .and_then(|m| m.get("oid"))
                .and_then(Value::as_str)
                .map(str::to_string),
            base: text("baseRefName").unwrap_or_default(),
            labels,
            commits: Vec::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug() -> RepoSlug {
        RepoSlug::parse("octo-org/octo-repo").unwrap()
    }

    #[test]
    fn commit_ids_are_variables_not_query_text() {
        let ids = vec!["a".repeat(40), "b".repeat(40)];
        let q = commits_query(&slug(), &ids);
        let text = q["query"].as_str().unwrap();
        assert!(!text.contains(&"a".repeat(40)));
        assert!(text.contains("c1: object(oid: $c1)"));
        assert_eq!(q["variables"]["c1"], json!("b".repeat(40)));
        assert_eq!(q["variables"]["owner"], json!("octo-org"));
    }

    #[test]
    fn fork_and_unmerged_prs_are_ignored() {
        let ids = vec!["a".repeat(40)];
        let answer = json!({"data": {"repository": {"c0": {"oid": ids[0], "associatedPullRequests": {"nodes": [
            {"number": 1, "merged": true, "baseRepository": {"nameWithOwner": "Octo-Org/octo-repo"}},
            {"number": 2, "merged": true, "baseRepository": {"nameWithOwner": "someone/octo-repo"}},
            {"number": 3, "merged": false, "baseRepository": {"nameWithOwner": "octo-org/octo-repo"}}
        ]}}}}});
        let map = parse_commits(&answer.to_string(), &slug(), &ids).unwrap();
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn rate_limited_errors_and_malformed_answers() {
        let answer = r#"{"data":null,"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#;
        assert!(matches!(
            parse_commits(answer, &slug(), &[]),
            Err(Problem::RateLimited(_))
        ));
        assert!(matches!(
            parse_prs("{not json", &[1]),
            Err(Problem::Malformed(_))
        ));
    }
}
