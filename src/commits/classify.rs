//! Classification: each commit alone first (configured rules, merges, fixups,
//! reverts, the header's type, heuristics), then the range as a whole (fixups folded
//! into their targets, reverts cancelled against what they revert), then the
//! changed-path fallback for what is still unclassified.
//!
//! Order of precedence for one commit, first match wins:
//! 1. `[[commits.rules]]`, in order (users can override everything below);
//! 2. `Merge pull request #N from ...`: the PR title in the body is classified instead;
//!    other merge commits are structural and skipped (`commits.skip_merge_commits`);
//! 3. `fixup!` / `squash!` / `amend!`: skipped, folded into their target when in range;
//! 4. reverts (`Revert "<header>"`, `revert: <header>`): the reverted header's category,
//!    or `reverted` when the reverted commit is in the range;
//! 5. the conventional type (aliased), with `security` and `deps` scopes, `Security:`
//!    footers and CVE/GHSA references taking precedence;
//! 6. non-conventional: CVE/GHSA references → security, dependency-bot subjects →
//!    dependencies, else the path fallback, else `unclassified`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet};
use std::sync::{Arc, LazyLock};

use compact_str::CompactString;
use regex::Regex;

use super::config::Compiled;
use super::packed::Changes;
use super::parse::{self, Header, Message};
use super::{Category, Change, ChangeFields, CommitsConfig};
use crate::git::Commit;

static PR_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(#(\d{1,18})\)$").expect("pr regex"));
static MERGE_PR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Merge pull request #(\d{1,18}) from \S").expect("merge pr regex")
});
static MERGE_STRUCTURAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Merge (?:branch|branches|remote-tracking branch|tag|commit) ")
        .expect("merge regex")
});
static REVERT_QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^Revert "(.+)"$"#).expect("revert regex"));
static REVERTS_COMMIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"This reverts commit ([0-9a-fA-F]{7,64})").expect("reverts regex")
});
static SECURITY_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3})\b").expect("security regex")
});
// Dependabot ("Bump serde from 1.0.1 to 1.0.2") and Renovate ("Update dependency x
// to v2", "Update rust crate serde to 1.0.200") subjects, when not conventional.
static DEPENDENCY_BOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:bump \S+ from \S+ to \S+|update (?:dependency|module|rust crate|\S+ digest) \S+ to \S+)",
    )
    .expect("dependency regex")
});

/// `re`'s captures in `text`, searched only when `possible`: a literal check that the
/// anchored pattern implies, sparing nearly every commit a regex search and its
/// `Captures` allocation (a tenth of the classifying thread's time at 100k).
fn captures_if<'h>(possible: bool, re: &Regex, text: &'h str) -> Option<regex::Captures<'h>> {
    possible.then(|| re.captures(text)).flatten()
}

/// A `Merge pull request #N from ...` subject's captures (the number is group 1).
fn merge_pr(subject: &str) -> Option<regex::Captures<'_>> {
    captures_if(
        subject.starts_with("Merge pull request #"),
        &MERGE_PR,
        subject,
    )
}

static DEFAULT_COMPILED: LazyLock<Option<Compiled>> =
    LazyLock::new(|| CommitsConfig::default().compile().ok());

/// Classifies every commit of the range (newest first, as `git::Repo::walk` returns
/// them), keeping their order. No path fallback: `Classifier::finish` takes paths.
pub fn classify(commits: &[Commit], config: &CommitsConfig) -> Vec<Change> {
    let classifier = Classifier::new(config);
    let drafts = commits.iter().map(|c| classifier.first_pass(c)).collect();
    classifier.finish(drafts, |_| None).into_vec()
}

/// Classification in two steps, so that the per-commit step can run while the history
/// is still being read (on another thread: it is pure and `Sync`): `first_pass` on
/// each commit alone, in any order, then `finish` on the whole range.
pub struct Classifier {
    owned: Option<Compiled>,
}

/// One commit classified alone, before the range-wide passes.
#[derive(Debug)]
pub struct Draft {
    pub(super) item: Item,
    /// The whole message, when the caller keeps it for a later pass (`keep_message`):
    /// the commit itself is dropped once drafted.
    pub(super) message: Option<Box<str>>,
}

impl Draft {
    fn new(item: Item) -> Draft {
        Draft {
            item,
            message: None,
        }
    }

    /// Keeps `message` (the commit's) with the draft, for `take_message`.
    pub fn keep_message(&mut self, message: String) {
        self.message = Some(message.into_boxed_str());
    }

    /// The message kept by `keep_message`, if any.
    pub fn take_message(&mut self) -> Option<Box<str>> {
        self.message.take()
    }

    /// Whether this is a pull request's merge whose title classifies it, so that its
    /// branch commits will be folded into it (`fold_pull_request_commits`) unless a
    /// range-wide pass reverts or skips it.
    pub fn folds_its_branch(&self) -> bool {
        let change = &self.item.change;
        is_pull_request_merge(&change.subject) && folds_its_branch(&change.category)
    }

    /// Whether the message left this commit unclassified, so that the path fallback
    /// may be asked for its changed paths (a superset of the commits it is asked for:
    /// range-wide passes can still settle some).
    pub fn unclassified(&self) -> bool {
        self.item.change.category == Category::Unclassified
    }
}

impl Classifier {
    pub fn new(config: &CommitsConfig) -> Classifier {
        // The config was validated when it was loaded; the default config always
        // compiles, once per process (callers classify one PR title at a time too).
        let owned = if config.uses_default_rules() {
            None
        } else {
            config.compile().ok()
        };
        Classifier { owned }
    }

    fn compiled(&self) -> Option<&Compiled> {
        self.owned.as_ref().or(DEFAULT_COMPILED.as_ref())
    }

    /// Whether any `[[commits.paths]]` rule exists, i.e. the fallback can use paths.
    pub fn uses_paths(&self) -> bool {
        self.compiled().is_some_and(|c| !c.paths.is_empty())
    }

    /// The path rules, for diffs that need only know whether every changed path
    /// matches one of them (`finish` gives the same answer on such a diff's list).
    pub fn path_rules(&self) -> Option<crate::git::PathRules> {
        crate::git::PathRules::new(self.compiled()?.path_globs.clone())
    }

    /// Classifies one commit by itself (rules, merges, fixups, reverts, type).
    pub fn first_pass(&self, commit: &Commit) -> Draft {
        match self.compiled() {
            Some(compiled) => Draft::new(first_pass(commit, compiled)),
            None => Draft::new(Item {
                change: unclassified(commit, &parse::parse(&commit.message)),
                pending: None,
            }),
        }
    }

    /// The range-wide passes over `drafts` (one per commit of `commits`, same order):
    /// fixups folded, reverts cancelled, then the path fallback, which asks `paths_of`
    /// for the changed paths of each commit still unclassified. The drafts stay
    /// packed: a pass unpacks only the commits it changes.
    pub fn finish(
        &self,
        drafts: Changes,
        paths_of: impl FnMut(usize) -> Option<Vec<String>>,
    ) -> Changes {
        self.by_paths(settle(drafts), paths_of)
    }

    /// The path fallback of `finish`, on drafts already `settle`d.
    pub fn by_paths(
        &self,
        mut drafts: Changes,
        mut paths_of: impl FnMut(usize) -> Option<Vec<String>>,
    ) -> Changes {
        let rules = self.compiled().map_or(&[][..], |c| &c.paths[..]);
        if !rules.is_empty() {
            for i in 0..drafts.len() {
                if !drafts.get(i).is_unclassified() {
                    continue;
                }
                let Some(paths) = paths_of(i).filter(|p| !p.is_empty()) else {
                    continue;
                };
                if let Some((_, category)) = rules
                    .iter()
                    .find(|(set, _)| paths.iter().all(|p| set.is_match(p)))
                {
                    drafts.update(i, |change| {
                        change.category = category.clone();
                        change.classified_by = "paths";
                    });
                }
            }
        }
        drafts
    }
}

/// The range-wide passes that need no paths: fixups folded, reverts cancelled. The
/// pull-request merges that fold their branch commits (`folds`) are known after
/// these, before the path fallback.
pub fn settle(mut drafts: Changes) -> Changes {
    fold_fixups(&mut drafts);
    resolve_reverts(&mut drafts);
    drafts
}

/// Whether the pull-request merge at `merge` (of `settle`d drafts) folds its branch
/// commits (`fold_pull_request_commits`): then their own categories, and so their
/// paths, do not matter. A merge is never classified by paths (it lists none).
pub fn folds(drafts: &Changes, merge: usize) -> bool {
    merge < drafts.len() && folds_its_branch(&drafts.get(merge).change().category())
}

/// Whether a pull-request merge of this category folds its branch commits: not when
/// it is skipped or reverted itself, nor when its title classifies nothing (its
/// commits are then listed one by one).
fn folds_its_branch(category: &Category) -> bool {
    !matches!(
        category,
        Category::Skipped | Category::Reverted | Category::Unclassified
    )
}

/// Whether `subject` is a pull request's merge commit's (`Merge pull request #N from ...`).
pub fn is_pull_request_merge(subject: &str) -> bool {
    merge_pr(subject).is_some()
}

/// Folds the commits a merged pull request brought in (`merged`: the merge's index and
/// its branch commits' indices, from the caller's history walk) into the merge: the
/// PR title already lists the change, so the branch commits ("wip", "address review",
/// the feature itself) are `skipped` instead of counted twice. A breaking change on
/// the branch makes the merge breaking, with its migration note.
pub fn fold_pull_request_commits(drafts: &mut Changes, merged: &[(usize, Vec<usize>)]) {
    for (m, members) in merged {
        if *m >= drafts.len() {
            continue;
        }
        let merge = drafts.get(*m).change();
        if merge.category() == Category::Unclassified {
            // The pull request's title says nothing a reader can use: list its
            // commits one by one and treat the merge itself as plumbing.
            drafts.update(*m, |merge| {
                merge.category = Category::Skipped;
                merge.classified_by = "merge";
                merge.note = Some("merge commit; the pull request's title is not a conventional commit, so its commits are listed one by one".into());
            });
            continue;
        }
        if !folds_its_branch(&merge.category()) {
            continue;
        }
        let label = match merge.pr() {
            Some(n) => format!("in pull request #{n}, listed as {}", merge.short_id()),
            None => format!("in the pull request merged by {}", merge.short_id()),
        };
        let mut notes = Vec::new();
        let mut breaking = false;
        for &j in members {
            if j >= drafts.len() || j == *m {
                continue;
            }
            drafts.update(j, |change| {
                if matches!(change.category, Category::Reverted | Category::Skipped) {
                    return;
                }
                if change.breaking {
                    breaking = true;
                    notes.extend(change.breaking_note.clone());
                }
                change.category = Category::Skipped;
                change.classified_by = "merge";
                change.note = Some(label.clone());
            });
        }
        if breaking {
            drafts.update(*m, |merge| {
                merge.breaking = true;
                notes.extend(merge.breaking_note.take());
                merge.breaking_note = (!notes.is_empty()).then(|| notes.join("\n\n"));
            });
        }
    }
}

/// A change and what the range-wide passes still have to settle.
#[derive(Debug)]
pub(super) struct Item {
    pub(super) change: ChangeFields,
    /// Boxed: few commits have one, and every commit of the range holds the field.
    pub(super) pending: Option<Box<Pending>>,
}

#[derive(Debug, Clone)]
pub(super) enum Pending {
    /// A revert of the commit with this id (when the body names it) or header.
    Revert { id: Option<String>, header: String },
    /// A fixup/squash/amend of the commit with this subject.
    Fixup { target: String },
}

fn first_pass(commit: &Commit, compiled: &Compiled) -> Item {
    let msg = parse::parse(&commit.message);
    let mut change = unclassified(commit, &msg);
    // Breaking footers count even on a non-conventional message: a maintainer who
    // wrote `BREAKING CHANGE:` meant it, and dropping it silently would be worse.
    if let Some(note) = msg.breaking_note() {
        change.breaking = true;
        change.breaking_note = (!note.is_empty()).then_some(note);
    }
    if let Some(header) = &msg.header {
        change.conventional = true;
        change.kind = Some(canonical_type(&header.kind, compiled).into());
        change.scope = header.scope.as_deref().map(CompactString::from);
        change.description = Some(header.description.clone());
        change.breaking |= header.bang;
    }
    let item = |change, pending: Option<Pending>| Item {
        change,
        pending: pending.map(Box::new),
    };

    // 1. Configured rules.
    if let Some((i, category)) = match_rule(commit, &msg, compiled) {
        if category == Category::Skipped {
            change.note = Some(format!("skipped by commits.rules[{i}]"));
        }
        change.category = category;
        change.classified_by = "rule";
        return item(change, None);
    }

    // 2. Merges.
    if let Some(captures) = merge_pr(&msg.subject) {
        let number: Option<u64> = captures[1].parse().ok();
        // Not `msg.body`: a title such as `docs: guide` has the shape of a footer.
        let body = after_subject(&commit.message);
        if body.is_empty() {
            change.pr = number;
            change.note = Some("the merge message has no pull request title".into());
            return item(change, None);
        }
        // GitHub writes the PR title (and description) as the merge commit's body.
        let synthetic = Commit {
            message: body.to_string(),
            parent_count: 1,
            ..commit.clone()
        };
        let mut inner = first_pass(&synthetic, compiled);
        inner.change.subject = change.subject;
        inner.change.pr = number.or(inner.change.pr);
        if inner.change.classified_by == "type" {
            inner.change.classified_by = "merge";
        }
        return inner;
    }
    let structural = MERGE_STRUCTURAL.is_match(&msg.subject)
        || (commit.parent_count > 1 && msg.subject.starts_with("Merge "));
    if structural && compiled.skip_merge_commits {
        change.category = Category::Skipped;
        change.classified_by = "merge";
        change.note = Some("merge commit (structural)".into());
        return item(change, None);
    }

    // 3. fixup! / squash! / amend!
    if let Some(target) = fixup_target(&msg.subject) {
        change.category = Category::Skipped;
        change.classified_by = "fixup";
        change.note = Some(format!("fixup of \"{target}\", which is not in this range"));
        let target = target.to_string();
        return item(change, Some(Pending::Fixup { target }));
    }

    // 4. Reverts.
    let revert_quoted = captures_if(
        msg.subject.starts_with("Revert \""),
        &REVERT_QUOTED,
        &msg.subject,
    );
    let reverted_header = match (&msg.header, revert_quoted) {
        (_, Some(c)) => Some(c[1].to_string()),
        (Some(h), None) if canonical_type(&h.kind, compiled) == "revert" => {
            Some(h.description.clone())
        }
        _ => None,
    };
    if let Some(header) = reverted_header {
        let id = REVERTS_COMMIT
            .captures(&msg.body)
            .map(|c| c[1].to_ascii_lowercase());
        // A revert of a commit outside the range is a change of its own, filed
        // under the reverted commit's category.
        let original = parse::parse_header(&header);
        let (category, _) = type_category(original.as_ref(), &msg, compiled);
        change.category = match category {
            Category::Unclassified => Category::Other,
            c => c,
        };
        change.classified_by = "revert";
        change.note = Some(format!("reverts \"{header}\""));
        return item(change, Some(Pending::Revert { id, header }));
    }

    // 5-6. The type, references and heuristics.
    let (category, by) = type_category(msg.header.as_ref(), &msg, compiled);
    change.category = category;
    change.classified_by = by;
    item(change, None)
}

/// The change of `commit` before any classification step.
fn unclassified(commit: &Commit, msg: &Message) -> ChangeFields {
    let subject: Arc<str> = msg.subject.as_str().into();
    ChangeFields {
        id: commit.id.clone(),
        summary: Arc::clone(&subject),
        conventional: false,
        kind: None,
        scope: None,
        breaking: false,
        description: None,
        category: Category::Unclassified,
        pr: captures_if(msg.subject.ends_with(')'), &PR_SUFFIX, &msg.subject)
            .and_then(|c| c[1].parse().ok()),
        authors: authors(commit),
        short_id: commit.id.chars().take(7).collect(),
        breaking_note: None,
        time: commit.time,
        subject,
        classified_by: "none",
        note: None,
    }
}

/// Everything after the first non-blank line, trimmed.
fn after_subject(raw: &str) -> &str {
    let rest = raw.trim_start();
    rest.split_once('\n').map_or("", |(_, rest)| rest.trim())
}

fn canonical_type(kind: &str, compiled: &Compiled) -> String {
    compiled
        .aliases
        .get(kind)
        .cloned()
        .unwrap_or_else(|| kind.to_string())
}

/// The category a header (or its absence) calls for, and what decided it.
fn type_category(
    header: Option<&Header>,
    msg: &Message,
    compiled: &Compiled,
) -> (Category, &'static str) {
    let security_ref = || {
        msg.footer_values("security").next().is_some()
            || SECURITY_REF.is_match(&msg.subject)
            || SECURITY_REF.is_match(&msg.body)
            || msg.footers.iter().any(|f| SECURITY_REF.is_match(&f.value))
    };
    let Some(header) = header else {
        if security_ref() {
            return (Category::Security, "heuristic");
        }
        if DEPENDENCY_BOT.is_match(&msg.subject) {
            return (Category::Dependencies, "heuristic");
        }
        return (Category::Unclassified, "none");
    };
    let kind = canonical_type(&header.kind, compiled);
    let scope = header.scope.as_deref().unwrap_or("");
    if kind == "security" || scope.eq_ignore_ascii_case("security") {
        return (Category::Security, "type");
    }
    // Documenting or testing a CVE fix is not the fix itself.
    if !matches!(kind.as_str(), "docs" | "test") && security_ref() {
        return (Category::Security, "type");
    }
    if kind == "deps" || scope.eq_ignore_ascii_case("deps") {
        return (Category::Dependencies, "type");
    }
    let category = compiled
        .types
        .get(&kind)
        .cloned()
        .unwrap_or(Category::Other);
    (category, "type")
}

fn match_rule(commit: &Commit, msg: &Message, compiled: &Compiled) -> Option<(usize, Category)> {
    if compiled.rules.is_empty() {
        return None;
    }
    let author = format!("{} <{}>", commit.author, commit.author_email);
    let message = || {
        let mut text = msg.subject.clone();
        if !msg.body.is_empty() {
            text.push_str("\n\n");
            text.push_str(&msg.body);
        }
        if !msg.footers.is_empty() {
            text.push_str("\n\n");
            for f in &msg.footers {
                text.push_str(&format!("{}: {}\n", f.token, f.value));
            }
        }
        text
    };
    let matches = |re: &Option<Regex>, text: &dyn Fn() -> String| {
        re.as_ref().is_none_or(|re| re.is_match(&text()))
    };
    compiled.rules.iter().enumerate().find_map(|(i, rule)| {
        let ok = matches(&rule.subject, &|| msg.subject.clone())
            && matches(&rule.body, &|| msg.body.clone())
            && matches(&rule.author, &|| author.clone())
            && matches(&rule.message, &message)
            && rule.footer.as_ref().is_none_or(|re| {
                msg.footers
                    .iter()
                    .any(|f| re.is_match(&format!("{}: {}", f.token, f.value)))
            });
        ok.then(|| (i, rule.category.clone()))
    })
}

/// The subject a `fixup!`/`squash!`/`amend!` commit targets (nested prefixes removed).
fn fixup_target(subject: &str) -> Option<&str> {
    let mut rest = subject;
    let mut found = false;
    loop {
        let next = ["fixup! ", "squash! ", "amend! "]
            .iter()
            .find_map(|p| rest.strip_prefix(p));
        match next {
            Some(r) => {
                rest = r.trim_start();
                found = true;
            }
            None => break,
        }
    }
    (found && !rest.is_empty()).then_some(rest)
}

fn authors(commit: &Commit) -> Vec<CompactString> {
    let mut authors = vec![CompactString::from(commit.author.as_str())];
    for line in commit.message.lines() {
        let line = line.trim();
        let Some((token, value)) = line.split_once(':') else {
            continue;
        };
        if !token.eq_ignore_ascii_case("co-authored-by") {
            continue;
        }
        let name = value.split('<').next().unwrap_or("").trim();
        if !name.is_empty() && !authors.iter().any(|a| a == name) {
            authors.push(name.into());
        }
    }
    authors
}

/// Index of each subject (and, for merged PRs, title), for matching fixups and reverts.
fn subjects<'a>(drafts: &'a Changes, wanted: &FxHashSet<&str>) -> HashMap<&'a str, Vec<usize>> {
    let mut map: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, draft) in drafts.iter().enumerate() {
        let (_, summary, subject) = draft.head();
        if wanted.contains(subject) {
            map.entry(subject).or_default().push(i);
        }
        if summary != subject && wanted.contains(summary) {
            map.entry(summary).or_default().push(i);
        }
    }
    map
}

/// The nearest older commit (greater index: the list is newest first) in `candidates`,
/// which `subjects` builds in ascending order: a binary search, so a history of a
/// thousand "WIP" commits and their fixups stays fast.
fn nearest_older(candidates: Option<&Vec<usize>>, i: usize) -> Option<usize> {
    let candidates = candidates?;
    let at = candidates.partition_point(|&j| j <= i);
    candidates.get(at).copied()
}

fn fold_fixups(drafts: &mut Changes) {
    // Few commits are fixups: only they are unpacked.
    let fixups: Vec<(usize, String)> = drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_fixup())
        .filter_map(|(i, d)| match d.unpack().item.pending.map(|p| *p) {
            Some(Pending::Fixup { target }) => Some((i, target)),
            _ => None,
        })
        .collect();
    if fixups.is_empty() {
        return;
    }
    let targets: FxHashSet<&str> = fixups.iter().map(|(_, t)| t.as_str()).collect();
    let mut folded = Vec::new();
    {
        let map = subjects(drafts, &targets);
        for (i, target) in &fixups {
            let found =
                nearest_older(map.get(target.as_str()), *i).filter(|&j| !drafts.get(j).is_fixup());
            if let Some(j) = found {
                folded.push((*i, drafts.get(j).change().short_id().to_string()));
            }
        }
    }
    for (i, short) in folded {
        drafts.update(i, |change| {
            change.note = Some(format!("folded into {short}"))
        });
    }
}

/// Cancels reverts against the commits they revert when both are in the range.
///
/// A chain (A, B reverts A, C reverts B, ...) is settled by its length: an odd
/// number of reverts leaves A undone (everything `reverted`), an even number
/// restores A (A keeps its category; the reverts are `reverted`).
fn resolve_reverts(drafts: &mut Changes) {
    let n = drafts.len();
    // Few commits are reverts: only they are unpacked.
    let reverts: Vec<(usize, Option<String>, String)> = drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_revert())
        .filter_map(|(i, d)| match d.unpack().item.pending.map(|p| *p) {
            Some(Pending::Revert { id, header }) => Some((i, id, header)),
            _ => None,
        })
        .collect();
    if reverts.is_empty() {
        return;
    }
    let headers: FxHashSet<&str> = reverts.iter().map(|(_, _, h)| h.as_str()).collect();
    let full_ids: FxHashSet<&str> = reverts
        .iter()
        .filter_map(|(_, id, _)| id.as_deref().filter(|id| id.len() >= 40))
        .collect();
    let abbreviated = reverts
        .iter()
        .any(|(_, id, _)| id.as_ref().is_some_and(|id| id.len() < 40));
    let mut target: Vec<Option<usize>> = vec![None; n];
    {
        let by_subject = subjects(drafts, &headers);
        // Full ids by exact lookup; abbreviated ones (rare) by their 7-character
        // prefix bucket, which random commit ids keep tiny.
        let mut by_id: HashMap<&str, usize> = HashMap::default();
        let mut by_prefix: HashMap<[u8; 7], Vec<usize>> = HashMap::default();
        let prefix = |id: &str| -> Option<[u8; 7]> { id.as_bytes().get(..7)?.try_into().ok() };
        for (i, draft) in drafts.iter().enumerate() {
            let id = draft.id();
            let id = id.as_str();
            if let Some(&full) = full_ids.get(id) {
                by_id.insert(full, i);
            }
            if abbreviated {
                if let Some(p) = prefix(id) {
                    by_prefix.entry(p).or_default().push(i);
                }
            }
        }
        for (i, id, header) in &reverts {
            let i = *i;
            let by_id = id.as_deref().and_then(|id| {
                if let Some(&j) = by_id.get(id) {
                    return (j > i).then_some(j);
                }
                let candidates = by_prefix.get(&prefix(id)?)?;
                let at = candidates.partition_point(|&j| j <= i);
                candidates[at..]
                    .iter()
                    .copied()
                    .find(|&j| drafts.get(j).id().as_str().starts_with(id))
            });
            target[i] = by_id.or_else(|| nearest_older(by_subject.get(header.as_str()), i));
        }
    }
    // Targets are always older (greater index): walk oldest first so each target's
    // depth and root are known before the reverts of it.
    let mut depth = vec![0usize; n];
    let mut root: Vec<usize> = (0..n).collect();
    for i in (0..n).rev() {
        if let Some(t) = target[i] {
            depth[i] = depth[t] + 1;
            root[i] = root[t];
        }
    }
    let mut chain_depth: HashMap<usize, usize> = HashMap::default();
    // The first revert of each commit: the nearest newer one (largest index below it).
    let mut reverter: Vec<Option<usize>> = vec![None; n];
    for i in 0..n {
        if let Some(t) = target[i] {
            let d = chain_depth.entry(root[i]).or_default();
            *d = (*d).max(depth[i]);
            reverter[t] = Some(i);
        }
    }
    for (i, &t) in target.iter().enumerate() {
        if let Some(t) = t {
            let short = drafts.get(t).change().short_id().to_string();
            drafts.update(i, |change| {
                change.category = Category::Reverted;
                change.classified_by = "revert";
                change.note = Some(format!("reverts {short}"));
            });
        }
    }
    for (r, d) in chain_depth {
        // The first revert of the root: the nearest newer item targeting it.
        let reverter = reverter[r]
            .map(|i| drafts.get(i).change().short_id().to_string())
            .unwrap_or_default();
        drafts.update(r, |change| {
            if d % 2 == 1 {
                change.category = Category::Reverted;
                change.classified_by = "revert";
                change.note = Some(format!("reverted by {reverter}"));
            } else {
                change.note = Some(format!(
                    "reverted by {reverter} and restored within this release"
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(id: usize, message: &str) -> Commit {
        Commit::fixture(format!("{id:07x}{}", "0".repeat(33)), message)
    }

    /// Classifies messages given newest first; ids are 1, 2, ... from the top.
    fn run(messages: &[&str]) -> Vec<Change> {
        run_with(messages, &CommitsConfig::default())
    }

    fn run_with(messages: &[&str], config: &CommitsConfig) -> Vec<Change> {
        let commits: Vec<Commit> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| commit(i + 1, m))
            .collect();
        classify(&commits, config)
    }

    fn one(message: &str) -> Change {
        run(&[message]).remove(0)
    }

    fn category(message: &str) -> String {
        one(message).category_name().to_string()
    }

    #[test]
    fn every_builtin_category_from_a_message() {
        for (message, expected) in [
            ("feat: a", "features"),
            ("feature(ui): a", "features"),
            ("fix: a", "fixes"),
            ("bugfix: a", "fixes"),
            ("perf: a", "performance"),
            ("security: a", "security"),
            ("fix(security): a", "security"),
            ("fix: a\n\nSecurity: token leak", "security"),
            ("fix: patch CVE-2024-12345", "security"),
            ("Patch GHSA-abcd-efgh-jkmp in parser", "security"),
            ("build(deps): bump x", "dependencies"),
            ("chore(deps): bump x", "dependencies"),
            ("deps: bump x", "dependencies"),
            ("Bump serde from 1.0.1 to 1.0.2", "dependencies"),
            ("docs: a", "documentation"),
            ("docs: explain CVE-2024-12345", "documentation"),
            ("refactor: a", "refactoring"),
            ("test: a", "tests"),
            ("build: a", "build"),
            ("ci: a", "build"),
            ("chore: a", "other"),
            ("style: a", "other"),
            ("Update the readme", "unclassified"),
            ("Merge branch 'main' into topic", "skipped"),
            ("fixup! feat: a", "skipped"),
        ] {
            assert_eq!(category(message), expected, "{message:?}");
        }
    }

    #[test]
    fn conventional_header_fills_the_contract() {
        let c = one("feat(api)!: drop v1 routes (#12)\n");
        assert!(c.conventional() && c.breaking());
        assert_eq!(c.kind(), Some("feat"));
        assert_eq!(c.scope(), Some("api"));
        assert_eq!(c.description(), Some("drop v1 routes (#12)"));
        assert_eq!(c.category(), Category::Features);
        assert_eq!(c.pr(), Some(12));
    }

    #[test]
    fn aliases_report_the_canonical_type() {
        assert_eq!(one("Feature: x").kind(), Some("feat"));
        let config = CommitsConfig {
            aliases: [("story".to_string(), "feat".to_string())].into(),
            ..Default::default()
        };
        let c = run_with(&["story: x"], &config).remove(0);
        assert_eq!((c.kind(), c.category()), (Some("feat"), Category::Features));
    }

    #[test]
    fn breaking_footer_is_the_migration_note_even_unconventional() {
        let c = one("fix: x\n\nBREAKING CHANGE: config key `a` is now `b`.\n");
        assert!(c.breaking());
        assert_eq!(c.breaking_note(), Some("config key `a` is now `b`."));
        let c = one("Rework config\n\nBREAKING CHANGE: `a` is gone\n");
        assert!(c.breaking() && !c.conventional());
        assert!(!one("fix: x\n\nbreaking change: lower case\n").breaking());
    }

    #[test]
    fn not_conventional_has_null_fields() {
        let c = one("Update readme");
        assert!(!c.conventional());
        assert_eq!(c.category(), Category::Unclassified);
        assert_eq!((c.kind(), c.scope(), c.description()), (None, None, None));
        assert_eq!(c.classified_by(), "none");
    }

    #[test]
    fn revert_within_the_range_cancels_both() {
        let changes = run(&[
            "Revert \"feat: search\"\n\nThis reverts commit 0000002000000000000000000000000000000000.\n",
            "feat: search",
            "fix: keep me",
        ]);
        let cats: Vec<&str> = changes.iter().map(|c| c.category_name()).collect();
        assert_eq!(cats, ["reverted", "reverted", "fixes"]);
        assert_eq!(changes[0].note(), Some("reverts 0000002"));
        assert_eq!(changes[1].note(), Some("reverted by 0000001"));
    }

    #[test]
    fn revert_by_header_and_conventional_revert_type() {
        let changes = run(&["revert: feat(api): search", "feat(api): search"]);
        assert!(changes.iter().all(|c| c.category() == Category::Reverted));
    }

    #[test]
    fn revert_of_something_outside_the_range_is_a_change() {
        let c = one("Revert \"feat: old thing\"\n\nThis reverts commit abcdef1234567.\n");
        assert_eq!(c.category(), Category::Features);
        assert_eq!(c.classified_by(), "revert");
        assert_eq!(category("revert: fix: old"), "fixes");
        assert_eq!(category("Revert \"Tidy up\""), "other");
    }

    #[test]
    fn revert_of_a_revert_restores_the_original() {
        let changes = run(&[
            "Revert \"Revert \"feat: a\"\"",
            "Revert \"feat: a\"",
            "feat: a",
        ]);
        let cats: Vec<&str> = changes.iter().map(|c| c.category_name()).collect();
        assert_eq!(cats, ["reverted", "reverted", "features"]);
        assert!(changes[2].note().unwrap().contains("restored"));
        let changes = run(&[
            "Revert \"Revert \"Revert \"feat: a\"\"\"",
            "Revert \"Revert \"feat: a\"\"",
            "Revert \"feat: a\"",
            "feat: a",
        ]);
        assert!(changes.iter().all(|c| c.category() == Category::Reverted));
    }

    #[test]
    fn revert_never_targets_a_newer_commit() {
        // The same header later in history: the revert cancels the older one only.
        let changes = run(&["feat: a", "Revert \"feat: a\"", "feat: a"]);
        let cats: Vec<&str> = changes.iter().map(|c| c.category_name()).collect();
        assert_eq!(cats, ["features", "reverted", "reverted"]);
    }

    #[test]
    fn merge_pull_request_takes_the_title() {
        let mut commits = vec![commit(
            1,
            "Merge pull request #42 from octo/search\n\nfeat(api): add search\n",
        )];
        commits[0].parent_count = 2;
        let c = classify(&commits, &CommitsConfig::default()).remove(0);
        assert_eq!(c.category(), Category::Features);
        assert_eq!(c.pr(), Some(42));
        assert_eq!(c.summary(), "feat(api): add search");
        assert_eq!(c.subject(), "Merge pull request #42 from octo/search");
        assert_eq!(c.classified_by(), "merge");
        let c = one("Merge pull request #8 from octo/x\r\n\r\ndocs: guide\r\n");
        assert_eq!(
            (c.category(), c.summary()),
            (Category::Documentation, "docs: guide")
        );
        let c = one("Merge pull request #7 from octo/x\n\nImprove things\n");
        assert_eq!((c.category(), c.pr()), (Category::Unclassified, Some(7)));
    }

    #[test]
    fn a_pull_requests_branch_commits_fold_into_its_merge() {
        let mut changes = Changes::from(run(&[
            "Merge pull request #9 from octo/x\n\nfeat: search\n",
            "address review comments",
            "feat!: search\n\nBREAKING CHANGE: the index format changed\n",
            "fix: on main",
        ]));
        fold_pull_request_commits(&mut changes, &[(0, vec![1, 2])]);
        let changes = changes.into_vec();
        let cats: Vec<&str> = changes.iter().map(|c| c.category_name()).collect();
        assert_eq!(cats, ["features", "skipped", "skipped", "fixes"]);
        assert_eq!(
            changes[1].note(),
            Some("in pull request #9, listed as 0000001")
        );
        assert!(changes[0].breaking());
        assert_eq!(changes[0].breaking_note(), Some("the index format changed"));
    }

    #[test]
    fn structural_merges_skip_unless_configured() {
        assert_eq!(
            category("Merge remote-tracking branch 'origin/main'"),
            "skipped"
        );
        assert_eq!(category("Merge tag 'v1.0.0'"), "skipped");
        let config = CommitsConfig {
            skip_merge_commits: false,
            ..Default::default()
        };
        let c = run_with(&["Merge branch 'x'"], &config).remove(0);
        assert_eq!(c.category(), Category::Unclassified);
    }

    #[test]
    fn squash_subject_gives_the_pr() {
        assert_eq!(one("fix: crash on empty input (#311)").pr(), Some(311));
        assert_eq!(one("fix: (#311) is not at the end").pr(), None);
    }

    #[test]
    fn fixups_fold_into_their_target_or_are_skipped() {
        let changes = run(&[
            "fixup! fixup! feat: a",
            "squash! feat: a",
            "amend! feat: gone",
            "feat: a",
        ]);
        assert_eq!(changes[0].note(), Some("folded into 0000004"));
        assert_eq!(changes[1].note(), Some("folded into 0000004"));
        assert!(changes[2].note().unwrap().contains("not in this range"));
        assert!(changes[..3]
            .iter()
            .all(|c| c.category() == Category::Skipped));
        assert_eq!(changes[3].category(), Category::Features);
    }

    #[test]
    fn co_authors_are_contributors() {
        let c = one("feat: a\n\nCo-authored-by: Grace Hopper <g@x>\nco-authored-by: Ada <a@x>\n");
        assert_eq!(c.authors().collect::<Vec<_>>(), ["Ada", "Grace Hopper"]);
    }

    #[test]
    fn rules_come_first_in_order() {
        let config: CommitsConfig = toml::from_str(
            r#"
[[rules]]
subject = '^chore\(release\)'
skip = true
[[rules]]
author = 'bot@'
category = "bots"
[[rules]]
footer = '^Ticket: OPS-'
category = "operations"
"#,
        )
        .unwrap();
        let mut commits = vec![
            commit(1, "chore(release): 1.2.0"),
            commit(2, "feat: from a bot"),
            commit(3, "Tweak\n\nTicket: OPS-12\n"),
        ];
        commits[1].author_email = "bot@example.com".into();
        let changes = classify(&commits, &config);
        assert_eq!(changes[0].category(), Category::Skipped);
        assert_eq!(changes[0].note(), Some("skipped by commits.rules[0]"));
        assert_eq!(changes[1].category(), Category::Custom("bots".into()));
        assert!(changes[1].conventional(), "rules keep the parsed header");
        assert_eq!(changes[2].category(), Category::Custom("operations".into()));
    }

    #[test]
    fn types_table_is_configurable() {
        let config = CommitsConfig {
            types: [("chore".to_string(), "maintenance".to_string())].into(),
            ..Default::default()
        };
        let c = run_with(&["chore: tidy"], &config).remove(0);
        assert_eq!(c.category_name(), "maintenance");
    }

    #[test]
    fn path_fallback_for_unclassified_only() {
        let commits = [
            commit(1, "Reword the guide"),
            commit(2, "Add a case"),
            commit(3, "Misc"),
            commit(4, "chore: docs only but conventional"),
        ];
        let paths = |i: usize| -> Option<Vec<String>> {
            Some(match &commits[i].id[..7] {
                "0000001" => vec!["docs/guide.md".into(), "README.md".into()],
                "0000002" => vec!["tests/cli/x.rs".into()],
                "0000003" => vec!["docs/a.md".into(), "src/lib.rs".into()],
                _ => panic!("paths asked for a classified commit"),
            })
        };
        let classifier = Classifier::new(&CommitsConfig::default());
        let drafts = commits.iter().map(|c| classifier.first_pass(c)).collect();
        let changes = classifier.finish(drafts, paths).into_vec();
        let cats: Vec<&str> = changes.iter().map(|c| c.category_name()).collect();
        assert_eq!(cats, ["documentation", "tests", "unclassified", "other"]);
        assert_eq!(changes[0].classified_by(), "paths");
    }
}

/// Robustness: any input, no panic, linear time.
#[cfg(test)]
mod robustness {
    use std::time::Instant;

    use proptest::prelude::*;

    use super::*;

    fn commit(message: String) -> Commit {
        Commit {
            oid: git2::Oid::ZERO_SHA1,
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            message,
            author: "Ada".into(),
            author_email: "a@x".into(),
            time: 0,
            parent_count: 2,
            tree: git2::Oid::ZERO_SHA1,
            parents: Default::default(),
        }
    }

    /// Pieces real messages are made of, so random inputs reach the interesting branches.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("feat".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("!".to_string()),
            Just(": ".to_string()),
            Just("\r\n".to_string()),
            Just("\n\n".to_string()),
            Just("\r".to_string()),
            Just("# ".to_string()),
            Just("BREAKING CHANGE: ".to_string()),
            Just("Co-authored-by: ".to_string()),
            Just("Revert \"".to_string()),
            Just("This reverts commit 0123456".to_string()),
            Just("Merge pull request #1 from a/b".to_string()),
            Just("fixup! ".to_string()),
            Just(" #".to_string()),
            Just("(#12)".to_string()),
            Just("ü☃\u{feff}\u{200b}".to_string()),
            "[ -~]{0,8}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let message = String::from_utf8_lossy(&bytes).into_owned();
            let changes = classify(&[commit(message.clone()), commit(message)], &CommitsConfig::default());
            prop_assert_eq!(changes.len(), 2);
        }

        #[test]
        fn message_shaped_input_never_panics(parts in proptest::collection::vec(fragment(), 0..40)) {
            let message = parts.concat();
            let m = parse::parse(&message);
            prop_assert!(!m.subject.contains('\n'));
            let commits = [commit(message.clone()), commit(format!("Revert \"{message}\"")), commit(message)];
            let changes = classify(&commits, &CommitsConfig::default());
            prop_assert_eq!(changes.len(), 3);
        }
    }

    #[test]
    fn two_megabytes_of_crlf_in_linear_time() {
        let message = "\r\n".repeat(1 << 20);
        let started = Instant::now();
        let c = classify(&[commit(message)], &CommitsConfig::default()).remove(0);
        assert_eq!(c.category(), Category::Unclassified);
        assert_eq!(c.summary(), "");
        // Linear work on 1M lines is milliseconds optimized and ~2 s in an unoptimized
        // test build on a busy machine; quadratic work would take hours.
        assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    }

    #[test]
    fn many_alike_commits_stay_fast() {
        // 20,000 commits sharing a subject and an id prefix, with fixups and reverts
        // of them: quadratic matching would be 10^8+ steps.
        let n = 20_000;
        let commits: Vec<Commit> = (0..n)
            .map(|i| Commit {
                id: format!("{:040x}", n - i).into(),
                ..commit(match i % 4 {
                    0 => "fixup! WIP".to_string(),
                    1 => format!(
                        "Revert \"WIP\"\n\nThis reverts commit {:040x}.\n",
                        n - i - 1
                    ),
                    2 => "WIP".to_string(),
                    _ => format!("Revert \"x\"\n\nThis reverts commit {:07x}.\n", n - i - 1),
                })
            })
            .collect();
        let started = Instant::now();
        let changes = classify(&commits, &CommitsConfig::default());
        assert_eq!(changes[1].category(), Category::Reverted);
        assert_eq!(changes[2].category(), Category::Reverted);
        assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    }

    #[test]
    fn pathological_shapes_stay_linear() {
        let started = Instant::now();
        for message in [
            format!("feat({}: x", "(".repeat(1 << 20)),
            format!("feat: x\n\n{}", "Token: v\n".repeat(100_000)),
            format!("fix: x\n\n{}", "BREAKING CHANGE: a\n\n".repeat(100_000)),
            format!("{}feat: x", "fixup! ".repeat(200_000)),
            "Revert \"".repeat(200_000),
        ] {
            let _ = classify(&[commit(message)], &CommitsConfig::default());
        }
        assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    }
}
