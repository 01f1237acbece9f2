//! Enrichment: what the range's merged pull requests add to its classified changes.
//! Pure: takes the changes and the fetched PRs, returns the Plan's PR list and warnings.
//!
//! Rules:
//! - A PR whose title is a Conventional Commit classifies its change when it is
//!   squash-merged (its only commit in the range) — if `title_source = "pr"`, or the
//!   commit header is not conventional — and classifies its merge commit when
//!   none of the PR's own commits is conventional (so the change is counted once).
//!   Rebase-merged PRs with several commits keep their commits' classification.
//! - Labels act on every change of the PR (`[github.labels]`).
//! - A merged PR whose title is not conventional and none of whose commits was
//!   classified is listed in a warning.

use std::collections::{BTreeSet, HashMap};

use crate::commits::{self, Category, Change, CommitsConfig};
use crate::git::Commit;

use super::{FetchedPr, GithubConfig, LabelAction, PullRequest, TitleSource};

/// What the PRs add to the plan.
#[derive(Debug, Default, Clone)]
pub struct Enrichment {
    pub pull_requests: Vec<PullRequest>,
    /// PR author logins GitHub marks as first-time contributors, sorted.
    pub first_time_contributors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Enrichment {
    /// PR labels by commit id, the shape the risk engine takes as label evidence
    /// (every commit of a PR carries that PR's labels).
    pub fn labels_by_commit(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for pr in &self.pull_requests {
            for id in &pr.commits {
                let labels = out.entry(id.clone()).or_default();
                labels.extend(pr.labels.iter().cloned());
                labels.sort();
                labels.dedup();
            }
        }
        out
    }
}

fn classify_title(title: &str, config: &CommitsConfig) -> Option<Change> {
    let commit = Commit {
        oid: git2::Oid::ZERO_SHA1,
        id: "".into(),
        message: title.to_string(),
        author: String::new(),
        author_email: String::new(),
        time: 0,
        parent_count: 1,
        tree: git2::Oid::ZERO_SHA1,
        parents: Default::default(),
    };
    commits::classify(&[commit], config)
        .into_iter()
        .next()
        .filter(|c| c.conventional())
}

/// A merge commit the classifier could not place by itself (no pull request title
/// in its message, or one that is not conventional). `subject` is the commit's own
/// first line; `summary` may already be the title read from the message.
fn is_merge(change: &Change) -> bool {
    matches!(
        change.category(),
        Category::Skipped | Category::Unclassified
    ) && change.subject().starts_with("Merge ")
}

fn category_named(name: &str) -> Category {
    Category::BUILT_IN
        .iter()
        .find(|c| c.as_str() == name)
        .cloned()
        .unwrap_or_else(|| Category::Custom(name.to_string()))
}

fn apply_title(change: &mut Change, title: &Change) {
    change.edit(|change| {
        change.conventional = true;
        change.kind = title.kind().map(Into::into);
        change.scope = title.scope().map(Into::into);
        change.description = title.description().map(str::to_string);
        change.category = title.category();
        change.breaking |= title.breaking();
    });
}

fn level_rank(level: &str) -> u8 {
    match level {
        "low" => 0,
        "medium" => 1,
        "high" => 2,
        _ => 3,
    }
}

/// Applies `prs` to `changes` (in place) and returns the plan's PR view.
pub fn enrich(
    changes: &mut [Change],
    prs: &[FetchedPr],
    config: &GithubConfig,
    commits_config: &CommitsConfig,
) -> Enrichment {
    // Only the commits pull requests name are looked for: a long range has many more.
    let mut index: HashMap<&str, usize> = prs
        .iter()
        .flat_map(|pr| pr.commits.iter().map(|id| (id.as_str(), usize::MAX)))
        .collect();
    for (i, change) in changes.iter().enumerate() {
        if let Some(at) = index.get_mut(change.id()) {
            *at = i;
        }
    }
    index.retain(|_, i| *i != usize::MAX);
    let actions = config.label_actions();
    let mut prs: Vec<&FetchedPr> = prs.iter().collect();
    prs.sort_by_key(|p| p.number);
    prs.dedup_by_key(|p| p.number);

    let mut out = Enrichment::default();
    let mut unclassified = Vec::new();
    let mut first_timers = BTreeSet::new();
    for pr in prs {
        let mut members: Vec<usize> = pr
            .commits
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        members.sort_unstable();
        members.dedup();
        if members.is_empty() {
            continue;
        }
        for &i in &members {
            changes[i].edit(|c| c.pr = Some(pr.number));
        }
        let title = classify_title(&pr.title, commits_config);
        let (merges, own): (Vec<usize>, Vec<usize>) =
            members.iter().partition(|&&i| is_merge(&changes[i]));
        if let Some(title) = &title {
            if merges.is_empty() && own.len() == 1 {
                let change = &mut changes[own[0]];
                if config.title_source == TitleSource::Pr || !change.conventional() {
                    apply_title(change, title);
                }
            } else if !merges.is_empty() && !own.iter().any(|&i| changes[i].conventional()) {
                apply_title(&mut changes[merges[0]], title);
            }
        }
        // A merge whose pull request's commits speak for themselves is plumbing.
        for &m in &merges {
            if changes[m].category() == Category::Unclassified {
                changes[m].edit(|c| {
                    c.category = Category::Skipped;
                    c.classified_by = "merge";
                });
            }
        }

        let mut labels: Vec<String> = pr.labels.clone();
        labels.sort();
        labels.dedup();
        let mut risk: Option<String> = None;
        for label in &labels {
            let key = label.to_lowercase();
            for (_, action) in actions.iter().filter(|(name, _)| *name == key) {
                match action {
                    LabelAction::Skip => {
                        for &i in &members {
                            changes[i].edit(|c| c.category = Category::Skipped);
                        }
                    }
                    LabelAction::Breaking => {
                        for &i in &members {
                            if !matches!(
                                changes[i].category(),
                                Category::Skipped | Category::Reverted
                            ) {
                                changes[i].edit(|c| c.breaking = true);
                            }
                        }
                    }
                    LabelAction::Category(name) => {
                        for &i in &members {
                            if !matches!(
                                changes[i].category(),
                                Category::Skipped | Category::Reverted
                            ) {
                                changes[i].edit(|c| c.category = category_named(name));
                            }
                        }
                    }
                    LabelAction::Risk(level) => {
                        if risk
                            .as_deref()
                            .is_none_or(|r| level_rank(level) > level_rank(r))
                        {
                            risk = Some(level.clone());
                        }
                    }
                }
            }
        }

        let classified = members.iter().any(|&i| {
            !matches!(
                changes[i].category(),
                Category::Unclassified | Category::Skipped
            )
        });
        let skipped_by_label = members
            .iter()
            .all(|&i| changes[i].category() == Category::Skipped)
            && labels.iter().any(|l| {
                actions
                    .iter()
                    .any(|(n, a)| *n == l.to_lowercase() && *a == LabelAction::Skip)
            });
        if title.is_none() && !classified && !skipped_by_label {
            unclassified.push(format!("#{} {:?}", pr.number, pr.title));
        }
        let first_time = matches!(
            pr.author_association.as_str(),
            "FIRST_TIME_CONTRIBUTOR" | "FIRST_TIMER"
        );
        if first_time {
            if let Some(login) = &pr.author {
                first_timers.insert(login.clone());
            }
        }
        out.pull_requests.push(PullRequest {
            number: pr.number,
            title: pr.title.clone(),
            url: pr.url.clone(),
            author: pr.author.clone(),
            first_time_contributor: first_time,
            merged_at: pr.merged_at.clone(),
            merge_commit: pr.merge_commit.clone(),
            base: pr.base.clone(),
            labels,
            risk,
            commits: members
                .iter()
                .map(|&i| changes[i].id().to_string())
                .collect(),
            conventional_title: title.is_some(),
        });
    }
    if !unclassified.is_empty() {
        out.warnings.push(format!(
            "{} merged pull request(s) have a title that is not a Conventional Commit and no commit that classifies them: {}",
            unclassified.len(),
            unclassified.join(", ")
        ));
    }
    out.first_time_contributors = first_timers.into_iter().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: &str, message: &str, parents: usize) -> Change {
        let commit = Commit {
            oid: git2::Oid::ZERO_SHA1,
            id: id.into(),
            message: message.into(),
            author: "Ada".into(),
            author_email: "ada@example.com".into(),
            time: 0,
            parent_count: parents,
            tree: git2::Oid::ZERO_SHA1,
            parents: Default::default(),
        };
        commits::classify(&[commit], &CommitsConfig::default()).remove(0)
    }

    fn pr(number: u64, title: &str, commits: &[&str], labels: &[&str]) -> FetchedPr {
        FetchedPr {
            number,
            title: title.into(),
            url: format!("https://github.com/o/r/pull/{number}"),
            author: Some("octocat".into()),
            author_association: "CONTRIBUTOR".into(),
            commits: commits.iter().map(|c| c.to_string()).collect(),
            labels: labels.iter().map(|c| c.to_string()).collect(),
            ..FetchedPr::default()
        }
    }

    #[test]
    fn squash_merge_takes_the_pr_title() {
        let mut changes = vec![change("a", "Add search", 1)];
        let e = enrich(
            &mut changes,
            &[pr(5, "feat(api): add search", &["a"], &[])],
            &GithubConfig::default(),
            &CommitsConfig::default(),
        );
        assert_eq!(changes[0].category(), Category::Features);
        assert_eq!(changes[0].pr(), Some(5));
        assert_eq!(changes[0].scope(), Some("api"));
        assert!(e.warnings.is_empty());
        assert_eq!(e.pull_requests[0].commits, vec!["a"]);
    }

    #[test]
    fn commit_title_source_keeps_a_conventional_header() {
        let mut changes = vec![change("a", "fix: x", 1)];
        let config = GithubConfig {
            title_source: TitleSource::Commit,
            ..GithubConfig::default()
        };
        enrich(
            &mut changes,
            &[pr(5, "feat: y", &["a"], &[])],
            &config,
            &CommitsConfig::default(),
        );
        assert_eq!(changes[0].category(), Category::Fixes);
    }

    #[test]
    fn merge_commit_is_classified_only_when_its_commits_are_not() {
        let mut changes = vec![
            change("m", "Merge pull request #7 from o/branch", 2),
            change("b", "wip", 1),
        ];
        enrich(
            &mut changes,
            &[pr(7, "fix: crash on start", &["m", "b"], &[])],
            &GithubConfig::default(),
            &CommitsConfig::default(),
        );
        assert_eq!(changes[0].category(), Category::Fixes);
        assert_eq!(changes[1].category(), Category::Unclassified);

        let mut changes = vec![
            change("m", "Merge pull request #7 from o/branch", 2),
            change("b", "fix: the real fix", 1),
        ];
        enrich(
            &mut changes,
            &[pr(7, "fix: crash on start", &["m", "b"], &[])],
            &GithubConfig::default(),
            &CommitsConfig::default(),
        );
        assert_eq!(changes[0].category(), Category::Skipped);
    }

    #[test]
    fn labels_map_to_breaking_category_skip_and_risk() {
        let mut changes = vec![
            change("a", "feat: one", 1),
            change("b", "fix: two", 1),
            change("c", "chore: three", 1),
        ];
        let e = enrich(
            &mut changes,
            &[
                pr(1, "feat: one", &["a"], &["breaking-change", "risk:high"]),
                pr(2, "fix: two", &["b"], &["Security"]),
                pr(3, "chore: three", &["c"], &["skip-changelog"]),
            ],
            &GithubConfig::default(),
            &CommitsConfig::default(),
        );
        assert!(changes[0].breaking());
        assert_eq!(e.pull_requests[0].risk.as_deref(), Some("high"));
        assert_eq!(changes[1].category(), Category::Security);
        assert_eq!(changes[2].category(), Category::Skipped);
        let by_commit = e.labels_by_commit();
        assert_eq!(by_commit["a"], vec!["breaking-change", "risk:high"]);
        assert_eq!(by_commit["b"], vec!["Security"]);
        assert_eq!(by_commit["c"], vec!["skip-changelog"]);
    }

    #[test]
    fn unclassified_prs_are_warned_about_and_first_timers_listed() {
        let mut changes = vec![change("a", "Update things", 1)];
        let mut p = pr(9, "Update things", &["a"], &[]);
        p.author_association = "FIRST_TIME_CONTRIBUTOR".into();
        p.author = Some("newbie".into());
        let e = enrich(
            &mut changes,
            &[p, pr(10, "feat: not in range", &["zzz"], &[])],
            &GithubConfig::default(),
            &CommitsConfig::default(),
        );
        assert_eq!(
            e.pull_requests.len(),
            1,
            "PRs outside the range are dropped"
        );
        assert_eq!(e.warnings.len(), 1);
        assert!(e.warnings[0].contains("#9"), "{}", e.warnings[0]);
        assert_eq!(e.first_time_contributors, vec!["newbie"]);
    }
}
