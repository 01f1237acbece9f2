//! Signals: the facts about a range that risks, strategy and rollback are decided
//! from, computed once. Commits cancelled by a revert in the same range (and merge
//! plumbing) change nothing in the release, so their paths raise no signal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use globset::GlobSet;
use regex::Regex;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::lockfile::{self, EntryChange};
use super::sql::{self, Finding};
use super::{FlagConfig, RiskConfig, RiskInput};
use crate::commits::{Category, Change};
use crate::config::glob_set;
use crate::git::{PathLists, PathsOf};

/// A commit named as evidence: the change itself, shared, read as its id, short id,
/// summary and pull request. A long range names hundreds of thousands (a million
/// commits: 710,000, 60 MiB as copies of those four fields).
#[derive(Debug, Clone)]
pub struct CommitRef(Change);

impl std::ops::Deref for CommitRef {
    type Target = Change;

    fn deref(&self) -> &Change {
        &self.0
    }
}

impl PartialEq for CommitRef {
    fn eq(&self, other: &CommitRef) -> bool {
        (self.id(), self.short_id(), self.summary(), self.pr())
            == (other.id(), other.short_id(), other.summary(), other.pr())
    }
}

impl Eq for CommitRef {}

impl Serialize for CommitRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("CommitRef", 4)?;
        s.serialize_field("id", self.id())?;
        s.serialize_field("short_id", self.short_id())?;
        s.serialize_field("summary", self.summary())?;
        s.serialize_field("pr", &self.pr())?;
        s.end()
    }
}

impl CommitRef {
    pub(super) fn of(change: &Change) -> CommitRef {
        CommitRef(change.clone())
    }

    /// The commit's id, shared with its change.
    pub fn commit_id(&self) -> super::CommitId {
        super::CommitId::Change(self.0.clone())
    }

    /// `abc1234 feat(db): drop legacy column (#12)`.
    pub fn line(&self) -> String {
        format!("`{}` {}", self.short_id(), self.summary())
    }
}

/// A changed path that raised a signal, and the commits that changed it (newest first).
#[derive(Debug, Clone, Serialize)]
pub struct PathHit {
    pub path: String,
    /// Status in the newest commit that touched it (`A`, `M`, `D`, `R`, ...).
    pub status: char,
    pub commits: Vec<CommitRef>,
}

impl PathHit {
    pub fn line(&self) -> String {
        let ids: Vec<String> = self
            .commits
            .iter()
            .map(|c| format!("`{}`", c.short_id()))
            .collect();
        let verb = match self.status {
            'A' => "added",
            'D' => "deleted",
            'R' => "renamed",
            _ => "changed",
        };
        format!("`{}` {verb} in {}", self.path, ids.join(", "))
    }
}

/// A migration file the range changed, with what reading it found.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub path: String,
    pub status: char,
    pub commits: Vec<CommitRef>,
    /// Destructive statements and backfills, in file order (empty when not read).
    pub findings: Vec<Finding>,
    pub destructive: bool,
    pub backfill: bool,
    /// Whether relplan read the file (false when deleted or unreadable).
    pub read: bool,
}

/// A declared feature flag this release touches, and how relplan knows.
#[derive(Debug, Clone, Serialize)]
pub struct FlagTouch {
    pub name: String,
    pub description: Option<String>,
    pub evidence: Vec<String>,
}

/// A security reference (CVE, GHSA) found in a commit message.
#[derive(Debug, Clone, Serialize)]
pub struct Advisory {
    pub id: String,
    pub commit: CommitRef,
}

/// The facts the risk engine decides from.
#[derive(Debug, Clone, Serialize)]
pub struct Signals {
    /// Commits in the range (all of them).
    pub commits: usize,
    /// Commits that ship (not reverted within the range, not merge plumbing).
    pub shipping_commits: usize,
    pub authors: usize,
    pub files: usize,
    pub insertions: usize,
    pub deletions: usize,
    /// Top-level folders touched (`(root)` for files at the top).
    pub areas: Vec<String>,
    pub features: Vec<CommitRef>,
    pub breaking: Vec<CommitRef>,
    pub migrations: Vec<Migration>,
    pub dependency_files: Vec<PathHit>,
    pub dependency_commits: Vec<CommitRef>,
    /// Changed entries of countable lockfiles (`Cargo.lock`, `package-lock.json`).
    pub dependency_changes: Vec<EntryChange>,
    /// Lockfiles whose entries were counted.
    pub lockfiles_counted: Vec<String>,
    pub infrastructure: Vec<PathHit>,
    pub security_commits: Vec<CommitRef>,
    pub advisories: Vec<Advisory>,
    pub security_files: Vec<PathHit>,
    pub performance_commits: Vec<CommitRef>,
    pub hot_files: Vec<PathHit>,
    pub reverts: Vec<CommitRef>,
    pub fixups: Vec<CommitRef>,
    pub unclassified: Vec<CommitRef>,
    /// Unclassified commits as a percentage of shipping commits.
    pub unclassified_percent: usize,
    pub flags: Vec<FlagTouch>,
}

/// Which files the edge must read for the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentRequests {
    /// Migration files (read at the end of the range).
    pub migrations: Vec<String>,
    /// Countable lockfiles (read at both ends of the range).
    pub lockfiles: Vec<String>,
}

/// The compiled `[risk.paths]` globs.
struct Globs {
    migrations: GlobSet,
    migrations_exclude: GlobSet,
    dependencies: GlobSet,
    infrastructure: GlobSet,
    security: GlobSet,
    hot: GlobSet,
}

impl Globs {
    /// `validate()` compiled every glob already; a failure here falls back to "matches nothing".
    fn new(config: &RiskConfig) -> Globs {
        let set = |globs: &[String]| glob_set("", globs).unwrap_or_else(|_| GlobSet::empty());
        let p = &config.paths;
        Globs {
            migrations: set(&p.migrations),
            migrations_exclude: set(&p.migrations_exclude),
            dependencies: set(&p.dependencies),
            infrastructure: set(&p.infrastructure),
            security: set(&p.security),
            hot: set(&p.hot),
        }
    }

    fn is_migration(&self, path: &str) -> bool {
        self.migrations.is_match(path) && !self.migrations_exclude.is_match(path)
    }
}

/// Whether a change ships in this release. Only a revert pair cancels out: a
/// skipped commit (a fixup, a branch commit folded into its pull request, a
/// configured skip) is left out of the scope's lists, but its files still ship.
pub(super) fn ships(change: &Change) -> bool {
    change.category() != Category::Reverted
}

/// The changed paths of the commits that ship, in the order of the commit paths.
type Shipping<'c> = Vec<(&'c Change, PathsOf<'c>)>;

fn shipping<'c>(changes: &'c [Change], paths: &'c PathLists) -> Shipping<'c> {
    super::with_paths(changes, paths)
        .filter(|(change, _)| ships(change))
        .collect()
}

/// Paths matching `is_hit`, with the shipping commits that changed them.
fn path_hits<'c>(shipping: &Shipping<'c>, is_hit: impl Fn(&str) -> bool) -> Vec<PathHit> {
    // A long range touches the same few thousand files again and again: match each
    // distinct path against the globs once.
    let mut matches: FxHashMap<&'c str, bool> = FxHashMap::default();
    let mut is_hit =
        |path: &'c str| -> bool { *matches.entry(path).or_insert_with(|| is_hit(path)) };
    let mut hits: BTreeMap<String, PathHit> = BTreeMap::new();
    // The status in the oldest commit that touched each path.
    let mut first_status: BTreeMap<String, char> = BTreeMap::new();
    // commit_paths is newest first: the first status seen is the final one.
    for (change, paths) in shipping {
        for pc in paths.iter() {
            if !is_hit(pc.path) {
                continue;
            }
            let hit = hits.entry(pc.path.to_string()).or_insert_with(|| PathHit {
                path: pc.path.to_string(),
                status: pc.status,
                commits: Vec::new(),
            });
            // One commit's paths come together: only the last entry can repeat it
            // (a path hit again through a rename). Scanning every commit of a busy
            // file (a lockfile bumped thousands of times) was quadratic.
            if hit.commits.last().is_none_or(|c| *c.id() != *change.id()) {
                hit.commits.push(CommitRef::of(change));
            }
            first_status.insert(pc.path.to_string(), pc.status);
        }
    }
    // A file added and deleted again within the range never ships.
    hits.into_values()
        .filter(|h| !(h.status == 'D' && first_status.get(&h.path) == Some(&'A')))
        .collect()
}

/// Which files the engine needs read, so the edge reads nothing else.
pub fn content_requests(
    changes: &[Change],
    paths: &PathLists,
    config: &RiskConfig,
) -> ContentRequests {
    let globs = Globs::new(config);
    let shipping = shipping(changes, paths);
    let migrations = path_hits(&shipping, |p| globs.is_migration(p))
        .into_iter()
        .filter(|h| h.status != 'D')
        .map(|h| h.path)
        .collect();
    let lockfiles = path_hits(&shipping, |p| {
        globs.dependencies.is_match(p) && lockfile::countable(p)
    })
    .into_iter()
    .map(|h| h.path)
    .collect();
    ContentRequests {
        migrations,
        lockfiles,
    }
}

/// The declared flags named in `text` (as a whole identifier), paired with `path`.
pub fn flags_in_text(flags: &[FlagConfig], path: &str, text: &str) -> Vec<(String, String)> {
    flags
        .iter()
        .filter(|f| contains_identifier(text, &f.name))
        .map(|f| (f.name.clone(), path.to_string()))
        .collect()
}

pub(super) fn contains_identifier(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Whether `text` names a security advisory (what `collect` lists).
pub(super) fn mentions_advisory(text: &str) -> bool {
    ADVISORY.is_match(text)
}

static ADVISORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3})\b").expect("advisory regex")
});

/// Computes every signal from the input. Never fails: odd data yields fewer signals.
pub fn collect(input: &RiskInput<'_>, config: &RiskConfig) -> Signals {
    let globs = Globs::new(config);
    let shipping = shipping(input.changes, input.paths);
    let live: Vec<&Change> = input.changes.iter().filter(|c| ships(c)).collect();
    let refs = |pred: &dyn Fn(&Change) -> bool| -> Vec<CommitRef> {
        live.iter()
            .filter(|c| pred(c))
            .map(|c| CommitRef::of(c))
            .collect()
    };

    let mut areas: BTreeSet<&str> = BTreeSet::new();
    for (_, paths) in &shipping {
        for pc in paths.iter() {
            areas.insert(match pc.path.split_once('/') {
                Some((top, _)) => top,
                None => "(root)",
            });
        }
    }
    let authors: BTreeSet<&str> = live.iter().flat_map(|c| c.authors()).collect();

    let migrations = path_hits(&shipping, |p| globs.is_migration(p))
        .into_iter()
        .map(|hit| {
            let text = input.texts.migrations.get(&hit.path);
            let findings = text.map(|t| sql::scan(t)).unwrap_or_default();
            Migration {
                destructive: findings.iter().any(|f| f.destructive),
                backfill: findings.iter().any(|f| !f.destructive),
                read: text.is_some(),
                findings,
                path: hit.path,
                status: hit.status,
                commits: hit.commits,
            }
        })
        .collect();

    let mut dependency_changes = Vec::new();
    let mut lockfiles_counted = Vec::new();
    for (path, (before, after)) in &input.texts.lockfiles {
        // A lockfile that did not exist at the start of the range (a first release,
        // or a newly adopted package manager) pins dependencies; it updates none.
        if before.is_none() {
            continue;
        }
        if let Some(changes) = lockfile::diff(path, before.as_deref(), after.as_deref()) {
            lockfiles_counted.push(path.clone());
            dependency_changes.extend(changes);
        }
    }

    let mut advisories = Vec::new();
    for change in &live {
        let message = input.message(change);
        let mut seen = BTreeSet::new();
        for m in ADVISORY.find_iter(message) {
            if !seen.insert(m.as_str().to_uppercase()) {
                continue;
            }
            advisories.push(Advisory {
                id: m.as_str().to_uppercase(),
                commit: CommitRef::of(change),
            });
        }
    }

    let unclassified = refs(&|c| c.category() == Category::Unclassified);
    let unclassified_percent = if live.is_empty() {
        0
    } else {
        unclassified.len() * 100 / live.len()
    };

    Signals {
        commits: input.changes.len(),
        shipping_commits: live.len(),
        authors: authors.len(),
        files: input.totals.files,
        insertions: input.totals.insertions,
        deletions: input.totals.deletions,
        areas: areas.into_iter().map(str::to_string).collect(),
        features: refs(&|c| c.category() == Category::Features),
        breaking: refs(&|c| c.breaking()),
        migrations,
        dependency_files: path_hits(&shipping, |p| globs.dependencies.is_match(p)),
        dependency_commits: refs(&|c| c.category() == Category::Dependencies),
        dependency_changes,
        lockfiles_counted,
        infrastructure: path_hits(&shipping, |p| globs.infrastructure.is_match(p)),
        security_commits: refs(&|c| c.category() == Category::Security),
        advisories,
        security_files: path_hits(&shipping, |p| globs.security.is_match(p)),
        performance_commits: refs(&|c| c.category() == Category::Performance),
        hot_files: path_hits(&shipping, |p| globs.hot.is_match(p)),
        reverts: input
            .changes
            .iter()
            .filter(|c| {
                c.kind() == Some("revert")
                    || c.summary().starts_with("Revert \"")
                    || c.summary().starts_with("Revert '")
            })
            .map(CommitRef::of)
            .collect(),
        fixups: input
            .changes
            .iter()
            .filter(|c| {
                ["fixup!", "squash!", "amend!"]
                    .iter()
                    .any(|p| c.summary().starts_with(p))
            })
            .map(CommitRef::of)
            .collect(),
        unclassified,
        unclassified_percent,
        flags: flag_touches(input, &shipping, &live),
    }
}

fn flag_touches(
    input: &RiskInput<'_>,
    shipping: &Shipping<'_>,
    live: &[&Change],
) -> Vec<FlagTouch> {
    let mut touches = Vec::new();
    if input.flags.is_empty() {
        return touches;
    }
    let mut by_commit: Vec<&Change> = live.to_vec();
    by_commit.sort_by_cached_key(|c| c.id());
    for flag in input.flags {
        let mut evidence = Vec::new();
        if !flag.paths.is_empty() {
            let set = glob_set("", &flag.paths).unwrap_or_else(|_| GlobSet::empty());
            for hit in path_hits(shipping, |p| set.is_match(p)) {
                evidence.push(format!("guarded path {}", hit.line()));
            }
        }
        for change in &by_commit {
            if contains_identifier(input.message(change), &flag.name) {
                evidence.push(format!("named in commit {}", CommitRef::of(change).line()));
            }
        }
        let mut mentioned: Vec<&str> = input
            .texts
            .flag_mentions
            .iter()
            .filter(|(f, _)| *f == flag.name)
            .map(|(_, p)| p.as_str())
            .collect();
        mentioned.sort();
        mentioned.dedup();
        for path in mentioned {
            evidence.push(format!("named in changed file `{path}`"));
        }
        if !evidence.is_empty() {
            touches.push(FlagTouch {
                name: flag.name.clone(),
                description: flag.description.clone(),
                evidence,
            });
        }
    }
    touches.sort_by(|a, b| a.name.cmp(&b.name));
    touches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::PathChange;

    #[test]
    fn a_commit_named_as_evidence_is_written_as_its_four_fields() {
        let change = Change::from(crate::commits::ChangeFields {
            pr: Some(12),
            ..crate::risk::rules::tests::fields("abc1234def", "feat: x (#12)", Category::Features)
        });
        let json = serde_json::to_string(&CommitRef::of(&change)).unwrap();
        assert_eq!(
            json,
            r#"{"id":"abc1234def","short_id":"abc1234","summary":"feat: x (#12)","pr":12}"#
        );
    }

    #[test]
    fn identifiers_match_whole_names_only() {
        assert!(contains_identifier(
            "if flags.on(\"new_checkout\")",
            "new_checkout"
        ));
        assert!(!contains_identifier("new_checkout_v2", "new_checkout"));
        assert!(!contains_identifier("", "x"));
    }

    #[test]
    fn migration_globs_skip_documentation_about_migrations() {
        let globs = Globs::new(&RiskConfig::default());
        for path in [
            "db/migrations/0003_drop.sql",
            "migrations/2026_add.py",
            "schema.sql",
            "db/schema.rb",
            "app/alembic/versions/abc.py",
            "prisma/migrations/20260101/migration.sql",
        ] {
            assert!(globs.is_migration(path), "{path}");
        }
        for path in [
            "docs/migrations.md",
            "docs/migrations/guide.md",
            "src/migrate.rs",
            "README.md",
        ] {
            assert!(!globs.is_migration(path), "{path}");
        }
    }

    #[test]
    fn requests_name_only_migrations_and_countable_lockfiles() {
        let change = |id: &str| -> Change {
            crate::commits::ChangeFields {
                id: id.into(),
                summary: "chore: x".into(),
                conventional: true,
                kind: Some("chore".into()),
                scope: None,
                breaking: false,
                description: None,
                category: Category::Other,
                pr: None,
                authors: vec!["Ada".into()],
                short_id: id.into(),
                breaking_note: None,
                time: 0,
                subject: "".into(),
                classified_by: "type",
                note: None,
            }
            .into()
        };
        let pc = |status, path: &str| PathChange {
            status,
            path: path.into(),
        };
        let changes = vec![change("b"), change("a")];
        let paths = PathLists::from(vec![
            Ok(vec![
                pc('D', "db/migrations/old.sql"),
                pc('M', "Cargo.lock"),
            ]),
            Ok(vec![
                pc('A', "db/migrations/new.sql"),
                pc('A', "db/migrations/old.sql"),
                pc('M', "yarn.lock"),
                pc('M', "src/main.rs"),
            ]),
        ]);
        let req = content_requests(&changes, &paths, &RiskConfig::default());
        // old.sql was added and deleted again: it never ships, so it is not read.
        assert_eq!(req.migrations, vec!["db/migrations/new.sql"]);
        let shipping = shipping(&changes, &paths);
        let globs = Globs::new(&RiskConfig::default());
        let hits = path_hits(&shipping, |p| globs.is_migration(p));
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(req.lockfiles, vec!["Cargo.lock"]);
    }
}
