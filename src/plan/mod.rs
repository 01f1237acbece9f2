//! The `Plan`: the one model every template renders and `--format json` prints.
//! Assembled here from the engines' outputs; rendered (`render`), written (`write`)
//! and summarised (`summary`) by the submodules.
//!
//! The serialized shape is a public contract (README "The Plan model"): add
//! fields freely, change or remove them deliberately.

pub mod render;
pub mod summary;
pub mod write;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;

use crate::commits::{Bump, Category, Change};
use crate::git::DiffTotals;
use crate::risk::{Assessment, Rollback, Strategy};
use crate::schedule::Schedule;
use crate::team::Team;

/// A commit the range starts or ends at.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RefId {
    #[serde(rename = "ref")]
    pub name: String,
    pub id: String,
}

/// The commits the plan covers.
#[derive(Debug, Clone, Serialize)]
pub struct Range {
    /// `None` when the range starts at the root commit.
    pub from: Option<RefId>,
    pub to: RefId,
    pub commits: usize,
}

/// The previous release, the rollback target.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousRelease {
    pub tag: String,
    pub id: String,
    pub version: String,
}

/// Changes of one category, in history order.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub category: Category,
    pub title: String,
    #[serde(serialize_with = "render::shared_list")]
    pub changes: Arc<[Change]>,
}

/// The classified changes of the range. Sections and `breaking` share the
/// changes of `changes` (serialized as plain objects, serde's `rc` feature), so a
/// long range holds each change once; templates read them in place too
/// (`render::shared_list`).
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    /// Every commit of the range, newest first.
    #[serde(serialize_with = "render::shared_list")]
    pub changes: Arc<[Change]>,
    /// Breaking changes (any category), listed first in documents.
    #[serde(serialize_with = "render::shared_list")]
    pub breaking: Arc<[Change]>,
    /// Non-empty categories in document order.
    pub sections: Vec<Section>,
    /// Commits per category name, every built-in category present.
    pub counts: BTreeMap<String, usize>,
}

/// The paths the range touched.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub totals: DiffTotals,
    /// Top-level folders (or `(root)`) and how many changed files each holds.
    pub areas: Vec<Area>,
    /// Every changed path, sorted, capped at `PATH_LIST_CAP`.
    pub paths: Vec<String>,
    /// How many paths the cap left out.
    pub paths_omitted: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Area {
    pub name: String,
    pub files: usize,
}

pub const PATH_LIST_CAP: usize = 200;

/// The whole release plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub relplan_version: String,
    pub project: String,
    /// The version being planned, without prefix (`1.4.0`).
    pub version: String,
    /// The tag the release will carry (`v1.4.0`).
    pub tag: String,
    pub release_date: NaiveDate,
    /// RFC 3339; the only wall-clock value in the documents.
    pub planning_started: String,
    pub release_manager: String,
    pub status: String,
    pub previous: Option<PreviousRelease>,
    pub range: Range,
    /// What the changes call for, and why.
    pub suggested: Bump,
    pub scope: Scope,
    pub files: Files,
    pub risk: Assessment,
    pub strategy: Strategy,
    /// Rollback target, triggers, database and flag steps, what cannot be undone.
    pub rollback: Rollback,
    pub schedule: Schedule,
    pub team: Team,
    /// Merged pull requests of the range, by number (empty without GitHub).
    pub pull_requests: Vec<crate::github::PullRequest>,
    /// Pull request authors GitHub marks as first-time contributors, sorted.
    pub first_time_contributors: Vec<String>,
    /// Things a person should look at; they never fail the run.
    pub warnings: Vec<String>,
    /// Values only a person can supply, still `TBD` in the documents.
    pub to_fill_in: Vec<String>,
}

impl Scope {
    pub fn from_changes(changes: Vec<Change>) -> Scope {
        let mut counts: BTreeMap<String, usize> = Category::BUILT_IN
            .iter()
            .map(|c| (c.as_str().to_string(), 0))
            .collect();
        let mut by_category: Vec<((u8, String), Vec<Change>)> = Vec::new();
        let mut breaking = Vec::new();
        for change in &changes {
            let category = change.category();
            match counts.get_mut(category.as_str()) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(category.as_str().to_string(), 1);
                }
            }
            if change.breaking() && !matches!(category, Category::Reverted | Category::Skipped) {
                breaking.push(change.clone());
            }
            // A few categories: found by a look along them, without a key made per change.
            let key = (category.rank(), category.as_str());
            match by_category
                .iter_mut()
                .find(|((rank, name), _)| (*rank, name.as_str()) == key)
            {
                Some((_, section)) => section.push(change.clone()),
                None => by_category.push(((key.0, key.1.to_string()), vec![change.clone()])),
            }
        }
        by_category.sort_by(|a, b| a.0.cmp(&b.0));
        let sections = by_category
            .into_iter()
            .map(|(_, changes)| {
                let category = changes[0].category();
                Section {
                    title: category.title(),
                    category,
                    changes: changes.into(),
                }
            })
            .collect();
        Scope {
            changes: changes.into(),
            breaking: breaking.into(),
            sections,
            counts,
        }
    }
}

impl Files {
    pub fn from_paths(mut paths: Vec<String>, totals: DiffTotals) -> Files {
        paths.sort();
        paths.dedup();
        let mut areas: BTreeMap<String, usize> = BTreeMap::new();
        for path in &paths {
            let area = match path.split_once('/') {
                Some((top, _)) => top.to_string(),
                None => "(root)".to_string(),
            };
            *areas.entry(area).or_default() += 1;
        }
        let mut areas: Vec<Area> = areas
            .into_iter()
            .map(|(name, files)| Area { name, files })
            .collect();
        areas.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.name.cmp(&b.name)));
        let paths_omitted = paths.len().saturating_sub(PATH_LIST_CAP);
        paths.truncate(PATH_LIST_CAP);
        Files {
            totals,
            areas,
            paths,
            paths_omitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_count_top_level_folders() {
        let files = Files::from_paths(
            vec![
                "src/a.rs".into(),
                "src/b.rs".into(),
                "README.md".into(),
                "src/a.rs".into(),
            ],
            DiffTotals::default(),
        );
        assert_eq!(
            files.areas,
            vec![
                Area {
                    name: "src".into(),
                    files: 2
                },
                Area {
                    name: "(root)".into(),
                    files: 1
                }
            ]
        );
        assert_eq!(files.paths, vec!["README.md", "src/a.rs", "src/b.rs"]);
    }
}
