//! Reading the repository: discovery, revisions, release tags, the commit range and
//! the paths each commit changed. The only module that talks to libgit2.
//!
//! Everything user-controlled (messages, names, paths) is decoded lossily: a
//! non-UTF-8 byte never fails or panics a plan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Sort};
use regex::Regex;
use semver::Version;

use crate::error::{Context, Error, Result};

/// An open repository and its work-tree root.
pub struct Repo {
    inner: Repository,
    root: PathBuf,
}

/// One commit of the range, as read from git.
#[derive(Debug, Clone)]
pub struct Commit {
    pub oid: Oid,
    pub id: String,
    /// The whole message, lossily decoded.
    pub message: String,
    pub author: String,
    pub author_email: String,
    /// Author time, seconds since the epoch.
    pub time: i64,
    pub parent_count: usize,
}

/// A tag whose name is a release version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub name: String,
    pub commit: Oid,
    pub version: Version,
}

/// One path a commit added, modified, deleted or renamed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathChange {
    /// `A`, `M`, `D`, `R` (renamed), `T` (type changed) or `C` (copied).
    pub status: char,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
}

/// Totals of the range's net diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiffTotals {
    pub files: usize,
    pub insertions: usize,
    pub deletions: usize,
}

impl Repo {
    /// Finds the repository containing `dir`, searching upwards like git does.
    pub fn discover(dir: &Path) -> Result<Repo> {
        tune_libgit2();
        let inner = Repository::discover(dir).map_err(|_| {
            Error::input(format!(
                "not inside a git repository: {} (run relplan from a repository's work tree)",
                dir.display()
            ))
        })?;
        let root = match inner.workdir() {
            Some(dir) => dir.to_path_buf(),
            None => inner.path().to_path_buf(),
        };
        Ok(Repo { inner, root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn raw(&self) -> &Repository {
        &self.inner
    }

    pub fn is_shallow(&self) -> bool {
        self.inner.is_shallow()
    }

    /// Resolves a revision (tag, branch, id, `HEAD~3`) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Oid> {
        let object = self.inner.revparse_single(rev).map_err(|_| {
            Error::input(format!(
                "revision {rev:?} does not resolve to a commit (expected a tag, branch or commit id)"
            ))
        })?;
        let commit = object.peel(ObjectType::Commit).map_err(|_| {
            Error::input(format!(
                "revision {rev:?} is not a commit (it names a {:?})",
                object.kind()
            ))
        })?;
        Ok(commit.id())
    }

    /// Every tag matching `pattern` whose name parses as SemVer, by the commit it points at.
    ///
    /// One pass over the tag refs: cost grows with the number of tags, never with
    /// tags × history.
    pub fn release_tags(&self, pattern: &Regex) -> Result<HashMap<Oid, Vec<ReleaseTag>>> {
        let mut by_commit: HashMap<Oid, Vec<ReleaseTag>> = HashMap::new();
        let refs = self
            .inner
            .references_glob("refs/tags/*")
            .runtime_context(|| "cannot list tags".into())?;
        for reference in refs.flatten() {
            let Ok(name) = reference.shorthand().map(str::to_string) else {
                continue;
            };
            let Some(version) = tag_version(&name, pattern) else {
                continue;
            };
            let Ok(commit) = reference.peel(ObjectType::Commit) else {
                continue;
            };
            by_commit.entry(commit.id()).or_default().push(ReleaseTag {
                name,
                commit: commit.id(),
                version,
            });
        }
        for tags in by_commit.values_mut() {
            tags.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
        }
        Ok(by_commit)
    }

    /// The nearest release tag reachable from `to` (by history, newest commit first)
    /// among those `accept` allows. Stops at the first tagged commit: the walk is
    /// proportional to the distance to that tag.
    pub fn previous_tag(
        &self,
        to: Oid,
        tags: &HashMap<Oid, Vec<ReleaseTag>>,
        accept: impl Fn(&ReleaseTag) -> bool,
    ) -> Result<Option<ReleaseTag>> {
        if tags.is_empty() {
            return Ok(None);
        }
        let mut walk = self
            .inner
            .revwalk()
            .runtime_context(|| "cannot walk history".into())?;
        walk.set_sorting(Sort::TIME)
            .runtime_context(|| "cannot walk history".into())?;
        walk.push(to)
            .runtime_context(|| format!("cannot walk history from {to}"))?;
        for oid in walk {
            let oid = oid.runtime_context(|| "cannot read history".into())?;
            if let Some(found) = tags.get(&oid).and_then(|t| t.iter().find(|t| accept(t))) {
                return Ok(Some(found.clone()));
            }
        }
        Ok(None)
    }

    /// Commits reachable from `to` and not from `from`, newest first.
    pub fn walk(&self, from: Option<Oid>, to: Oid) -> Result<Vec<Commit>> {
        let mut walk = self
            .inner
            .revwalk()
            .runtime_context(|| "cannot walk history".into())?;
        walk.set_sorting(Sort::TIME)
            .runtime_context(|| "cannot walk history".into())?;
        walk.push(to)
            .runtime_context(|| format!("cannot walk history from {to}"))?;
        if let Some(from) = from {
            walk.hide(from)
                .runtime_context(|| format!("cannot exclude history of {from}"))?;
        }
        let mut commits = Vec::new();
        for oid in walk {
            let oid = oid.runtime_context(|| "cannot read history".into())?;
            let commit = self
                .inner
                .find_commit(oid)
                .runtime_context(|| format!("cannot read commit {oid}"))?;
            let author = commit.author();
            commits.push(Commit {
                oid,
                id: oid.to_string(),
                message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
                author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                time: author.when().seconds(),
                parent_count: commit.parent_count(),
            });
        }
        Ok(commits)
    }

    /// Paths `commit` changed against its first parent (the whole tree for a root
    /// commit). Merge commits report nothing, as `git log --name-status` does: their
    /// changes belong to the merged commits. Only trees are compared, never content.
    pub fn changed_paths(&self, commit: Oid) -> Result<Vec<PathChange>> {
        let commit = self
            .inner
            .find_commit(commit)
            .runtime_context(|| format!("cannot read commit {commit}"))?;
        if commit.parent_count() > 1 {
            return Ok(Vec::new());
        }
        let tree = commit
            .tree()
            .runtime_context(|| format!("cannot read tree of {}", commit.id()))?;
        let parent_tree = match commit.parent_ids().next() {
            Some(parent) => Some(
                self.inner
                    .find_commit(parent)
                    .and_then(|p| p.tree())
                    .runtime_context(|| format!("cannot read tree of {parent}"))?,
            ),
            None => None,
        };
        let mut changes = Vec::new();
        let mut prefix = Vec::new();
        diff_trees(
            &self.inner,
            parent_tree.as_ref(),
            Some(&tree),
            &mut prefix,
            &mut changes,
        )
        .runtime_context(|| format!("cannot diff commit {}", commit.id()))?;
        Ok(changes)
    }

    /// Files, insertions and deletions between two commits (`None`: the empty tree).
    pub fn diff_totals(&self, from: Option<Oid>, to: Oid) -> Result<DiffTotals> {
        let tree_of = |oid: Oid| -> Result<git2::Tree<'_>> {
            self.inner
                .find_commit(oid)
                .and_then(|c| c.tree())
                .runtime_context(|| format!("cannot read tree of {oid}"))
        };
        let old = from.map(tree_of).transpose()?;
        let new = tree_of(to)?;
        let diff = self
            .inner
            .diff_tree_to_tree(old.as_ref(), Some(&new), None)
            .runtime_context(|| "cannot diff the range".into())?;
        let stats = diff
            .stats()
            .runtime_context(|| "cannot count the range's changes".into())?;
        Ok(DiffTotals {
            files: stats.files_changed(),
            insertions: stats.insertions(),
            deletions: stats.deletions(),
        })
    }

    /// The content of `path` as of `commit`, if it exists there and is a file.
    pub fn file_at(&self, commit: Oid, path: &str) -> Option<Vec<u8>> {
        let tree = self.inner.find_commit(commit).ok()?.tree().ok()?;
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(&self.inner).ok()?.into_blob().ok()?;
        Some(blob.content().to_vec())
    }

    /// The URL of a remote, if configured.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        self.inner
            .find_remote(name)
            .ok()?
            .url()
            .ok()
            .map(str::to_string)
    }
}

/// libgit2 settings for a read-only, history-sized workload (see BENCHMARKS.md):
/// - no SHA-1 re-check of every object read (git itself does not re-hash on read;
///   this was 9% of a `plan` profile);
/// - a small object cache: a walk reads each commit and tree about once, so the
///   default 256 MiB cache only grew memory with the range.
fn tune_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        let cache: isize = std::env::var("RELPLAN_GIT_CACHE_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(16);
        // SAFETY: called once, before any repository is opened in this process.
        unsafe {
            let _ = git2::opts::set_cache_max_size(cache * 1024 * 1024);
        }
    });
}

/// The SemVer version a tag name carries under `pattern`: its first capture group,
/// else the whole name without a leading `v`.
pub fn tag_version(name: &str, pattern: &Regex) -> Option<Version> {
    let captures = pattern.captures(name)?;
    let text = captures.get(1).map_or(name, |m| m.as_str());
    Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

const MODE_TYPE_MASK: i32 = 0o170000;
const MODE_TREE: i32 = 0o040000;

fn is_tree(entry: &git2::TreeEntry<'_>) -> bool {
    entry.filemode() & MODE_TYPE_MASK == MODE_TREE
}

/// Git's tree order: names compare bytewise, a tree's name as if it ended in `/`
/// (git's `base_name_compare`). A file and a folder of the same name differ, so a
/// file replaced by a folder is a deletion plus additions, as in `git log --name-status`.
fn tree_order(a: &git2::TreeEntry<'_>, b: &git2::TreeEntry<'_>) -> std::cmp::Ordering {
    let (an, bn) = (a.name_bytes(), b.name_bytes());
    let common = an.len().min(bn.len());
    an[..common].cmp(&bn[..common]).then_with(|| {
        let end = |name: &[u8], e: &git2::TreeEntry<'_>| match name.get(common) {
            Some(&c) => c,
            None if is_tree(e) => b'/',
            None => 0,
        };
        end(an, a).cmp(&end(bn, b))
    })
}

/// The paths that differ between two trees, in tree order, like
/// `git diff-tree -r --no-renames --name-status`. Identical subtrees (same id) are
/// skipped without being read, and no blob is ever read: the cost is the number of
/// changed trees, not the size of the repository, and pruned blobs do not matter.
fn diff_trees(
    repo: &Repository,
    old: Option<&git2::Tree<'_>>,
    new: Option<&git2::Tree<'_>>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<PathChange>,
) -> std::result::Result<(), git2::Error> {
    let old_len = old.map_or(0, |t| t.len());
    let new_len = new.map_or(0, |t| t.len());
    let (mut i, mut j) = (0, 0);
    while i < old_len || j < new_len {
        let a = old.and_then(|t| t.get(i));
        let b = new.and_then(|t| t.get(j));
        match (a, b) {
            (Some(a), Some(b)) => match tree_order(&a, &b) {
                std::cmp::Ordering::Less => {
                    one_side(repo, &a, 'D', prefix, out)?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    one_side(repo, &b, 'A', prefix, out)?;
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a.id() != b.id() || a.filemode() != b.filemode() {
                        if is_tree(&a) {
                            let len = enter(prefix, a.name_bytes());
                            let (ta, tb) = (repo.find_tree(a.id())?, repo.find_tree(b.id())?);
                            diff_trees(repo, Some(&ta), Some(&tb), prefix, out)?;
                            prefix.truncate(len);
                        } else {
                            let same_type =
                                a.filemode() & MODE_TYPE_MASK == b.filemode() & MODE_TYPE_MASK;
                            let status = if same_type { 'M' } else { 'T' };
                            push_change(status, prefix, b.name_bytes(), out);
                        }
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                one_side(repo, &a, 'D', prefix, out)?;
                i += 1;
            }
            (None, Some(b)) => {
                one_side(repo, &b, 'A', prefix, out)?;
                j += 1;
            }
            (None, None) => break,
        }
    }
    Ok(())
}

/// An entry only one side has: a file, or every file under a folder.
fn one_side(
    repo: &Repository,
    entry: &git2::TreeEntry<'_>,
    status: char,
    prefix: &mut Vec<u8>,
    out: &mut Vec<PathChange>,
) -> std::result::Result<(), git2::Error> {
    if is_tree(entry) {
        let len = enter(prefix, entry.name_bytes());
        let tree = repo.find_tree(entry.id())?;
        let (old, new) = if status == 'D' {
            (Some(&tree), None)
        } else {
            (None, Some(&tree))
        };
        diff_trees(repo, old, new, prefix, out)?;
        prefix.truncate(len);
    } else {
        push_change(status, prefix, entry.name_bytes(), out);
    }
    Ok(())
}

fn enter(prefix: &mut Vec<u8>, name: &[u8]) -> usize {
    let len = prefix.len();
    prefix.extend_from_slice(name);
    prefix.push(b'/');
    len
}

fn push_change(status: char, prefix: &[u8], name: &[u8], out: &mut Vec<PathChange>) {
    let mut path = String::from_utf8_lossy(prefix).into_owned();
    path.push_str(&String::from_utf8_lossy(name));
    out.push(PathChange {
        status,
        path,
        old_path: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_versions() {
        let re = Regex::new(&crate::config::ReleaseConfig::default().tag_pattern).unwrap();
        assert_eq!(tag_version("v1.2.3", &re), Some(Version::new(1, 2, 3)));
        assert_eq!(tag_version("1.2.3", &re), Some(Version::new(1, 2, 3)));
        assert_eq!(
            tag_version("v1.2.3-rc.1", &re).unwrap().pre.as_str(),
            "rc.1"
        );
        assert_eq!(tag_version("release-1", &re), None);
        assert_eq!(tag_version("v1.2", &re), None);
    }
}
