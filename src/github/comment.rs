//! The sticky plan-summary comment on the release pull request: one comment,
//! found by its hidden marker, updated in place (PATCH), created only when none
//! exists, and not written at all when its body is unchanged.

use crate::plan::summary::{self, Report};
use crate::plan::Plan;

use super::text::neutralise;

/// Hidden marker that identifies relplan's comment among the PR's comments.
pub const MARKER: &str = "<!-- relplan:plan-summary -->";

/// GitHub rejects comment bodies over 65,536 characters; stay well below.
pub const MAX_BODY_CHARS: usize = 60_000;

/// What to do with the PR's comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Update(u64),
    Unchanged(u64),
}

/// Picks the comment to update: the oldest one carrying the marker.
pub fn decide(existing: &[(u64, String)], body: &str) -> Action {
    match existing
        .iter()
        .filter(|(_, b)| b.contains(MARKER))
        .min_by_key(|(id, _)| *id)
    {
        Some((id, b)) if b.trim_end() == body.trim_end() => Action::Unchanged(*id),
        Some((id, _)) => Action::Update(*id),
        None => Action::Create,
    }
}

/// A copy of the plan whose text from commits and PRs is neutralised for Markdown
/// shown on GitHub (see `text::neutralise`).
fn neutralised(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    plan.project = neutralise(&plan.project);
    if let Some(from) = plan.range.from.as_mut() {
        from.name = neutralise(&from.name);
    }
    plan.range.to.name = neutralise(&plan.range.to.name);
    plan.suggested.reason = neutralise(&plan.suggested.reason);
    for risk in &mut plan.risk.risks {
        risk.title = neutralise(&risk.title);
        for e in &mut risk.evidence {
            *e = neutralise(e);
        }
    }
    plan.risk.reason = neutralise(&plan.risk.reason);
    for w in &mut plan.warnings {
        *w = neutralise(w);
    }
    plan
}

/// Where the plan's files can be read on GitHub.
pub struct Links {
    /// The plan directory: `https://github.com/OWNER/NAME/tree/REF/releases/v1.4.0`
    pub tree: String,
    /// Prefix of file links: `https://github.com/OWNER/NAME/blob/REF/releases/v1.4.0`
    pub blob: String,
    pub files: Vec<String>,
}

/// The Markdown summary (the one `--format markdown` prints) without its local
/// file list, with links to the plan files instead. Neutralised, capped.
pub fn markdown(plan: &Plan, links: Option<&Links>) -> String {
    let plan = neutralised(plan);
    let report = Report {
        plan: &plan,
        dir: "",
        written: &[],
        dry_run: true,
    };
    let full = summary::markdown(&report);
    let mut text = match full.find("\n### Files\n") {
        Some(at) => full[..at].trim_end().to_string(),
        None => full.trim_end().to_string(),
    };
    if !plan.pull_requests.is_empty() {
        text.push_str(&format!(
            "\n\n{} merged pull requests in this release.",
            plan.pull_requests.len()
        ));
    }
    if let Some(links) = links {
        text.push_str(&format!(
            "\n\n### Plan files\n\n[The whole plan]({})\n\n",
            links.tree
        ));
        for file in &links.files {
            text.push_str(&format!("- [`{file}`]({}/{file})\n", links.blob));
        }
    }
    text.push('\n');
    text
}

/// The comment body: marker first, then the summary, capped below GitHub's limit.
pub fn body(markdown: &str) -> String {
    let mut body = format!("{MARKER}\n{}", markdown.trim_end());
    if body.chars().count() > MAX_BODY_CHARS {
        let note =
            "\n\n_(The summary was cut to fit a GitHub comment; the plan files hold everything.)_";
        let keep = MAX_BODY_CHARS - note.chars().count();
        let cut: String = body.chars().take(keep).collect();
        // Cut at a line end so no Markdown construct is left half open.
        body = match cut.rfind('\n') {
            Some(at) if at > MARKER.len() => cut[..at].to_string(),
            _ => cut,
        };
        body.push_str(note);
    }
    body.push('\n');
    body
}

#[cfg(feature = "github")]
pub use network::post;

#[cfg(feature = "github")]
mod network {
    use serde_json::{json, Value};

    use super::super::client::{Client, Failure, Verb};
    use super::super::{Env, GithubConfig, RepoSlug};
    use super::{decide, Action};
    use crate::error::{Error, Result};

    const MAX_PAGES: u32 = 30;

    fn list(client: &Client, pr: u64) -> Result<Vec<(u64, String)>, Failure> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let answer = client.send(
                Verb::Get,
                &client.repo_path(&format!("/issues/{pr}/comments?per_page=100&page={page}")),
                None,
            )?;
            let items: Vec<Value> = match serde_json::from_str(&answer.body) {
                Ok(Value::Array(items)) => items,
                _ => {
                    return Err(Failure::Malformed(
                        "comment list: expected a JSON array".into(),
                    ))
                }
            };
            let n = items.len();
            for item in items {
                if let (Some(id), Some(body)) = (
                    item.get("id").and_then(Value::as_u64),
                    item.get("body").and_then(Value::as_str),
                ) {
                    out.push((id, body.to_string()));
                }
            }
            if n < 100 || !answer.link_next {
                break;
            }
        }
        Ok(out)
    }

    /// Creates or updates the sticky comment; returns one line saying what happened.
    pub fn post(
        env: &Env,
        config: &GithubConfig,
        slug: &RepoSlug,
        pr: u64,
        body: &str,
    ) -> Result<String> {
        let client = Client::new(env, slug, config).map_err(Error::runtime)?;
        let fail = |f: Failure| Error::runtime(client.explain(&format!("comment on #{pr}"), &f));
        let payload = json!({ "body": body });
        let mut posted_once = false;
        loop {
            let existing = list(&client, pr).map_err(fail)?;
            match decide(&existing, body) {
                Action::Unchanged(id) => {
                    return Ok(format!(
                        "GitHub: plan comment {id} on #{pr} is up to date (not rewritten; {} API requests)",
                        client.requests()
                    ))
                }
                Action::Update(id) => {
                    client
                        .send(
                            Verb::Patch,
                            &client.repo_path(&format!("/issues/comments/{id}")),
                            Some(&payload),
                        )
                        .map_err(fail)?;
                    return Ok(format!(
                        "GitHub: updated plan comment {id} on #{pr} ({} API requests)",
                        client.requests()
                    ));
                }
                Action::Create => {
                    match client.send(
                        Verb::Post,
                        &client.repo_path(&format!("/issues/{pr}/comments")),
                        Some(&payload),
                    ) {
                        Ok(_) => {
                            return Ok(format!(
                                "GitHub: created the plan comment on #{pr} ({} API requests)",
                                client.requests()
                            ))
                        }
                        // The POST may have landed even though we saw no answer:
                        // list again before another attempt, so there is never a second comment.
                        Err(Failure::Transport(_) | Failure::Status(500..=599, _))
                            if !posted_once =>
                        {
                            posted_once = true;
                        }
                        Err(f) => return Err(fail(f)),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marked_comment_is_updated_or_left_alone() {
        let body = body("hello");
        assert!(body.starts_with(MARKER));
        assert_eq!(decide(&[(1, "other".into())], &body), Action::Create);
        assert_eq!(
            decide(&[(1, "other".into()), (5, format!("{MARKER}\nold"))], &body),
            Action::Update(5)
        );
        assert_eq!(
            decide(&[(5, body.trim_end().to_string())], &body),
            Action::Unchanged(5)
        );
    }

    #[test]
    fn long_bodies_are_cut_with_a_note() {
        let long = "- a line of the summary\n".repeat(10_000);
        let body = body(&long);
        assert!(body.chars().count() <= MAX_BODY_CHARS + 1);
        assert!(body.contains("was cut to fit"));
    }
}
