//! The line counts of a range: files, insertions and deletions between two trees,
//! as libgit2's `diff_tree_to_tree` and `Diff::stats` count them.
//!
//! libgit2 finds every object through its whole pack index, mapped: reading the few
//! thousand blobs a long range changed touched nearly all of a million-commit
//! history's index (250 MiB resident, the top of `plan`'s memory, BENCHMARKS.md).
//! Here the trees and blobs are read from the packs as the walk reads them (an
//! index that large is read with `pread`), and libgit2 only compares each pair of
//! contents (`Patch::from_buffers`, the same xdiff with the same options) and
//! looks up the `diff` attribute of each path, as its own diff does.

use std::path::Path;

use git2::{AttrCheckFlags, AttrValue, DiffOptions, Oid, Patch};

use super::{
    enter, tree_order, DiffTotals, Entry, GitResult, Objects, RawTree, Repo, MODE_TYPE_MASK,
};

/// Mode bits of a submodule entry (a commit inside a tree).
const GITLINK: u32 = 0o160000;

/// One side of a changed file: its mode and object.
#[derive(Clone, Copy)]
struct Side {
    mode: u32,
    id: Oid,
}

/// How a file's contents are compared, from its `diff` attribute.
enum Compare {
    /// `-diff`, `binary`, or a driver with `diff.<name>.binary = true`: no lines.
    Binary,
    /// `diff`, or a driver with `diff.<name>.binary = false`: lines even with NULs.
    Text,
    /// Unset: binary when either side has a NUL in its first 8,000 bytes.
    Auto,
}

impl Repo {
    /// Files, insertions and deletions between two commits (`None`: the empty tree).
    pub fn diff_totals(&self, from: Option<Oid>, to: Oid) -> crate::error::Result<DiffTotals> {
        use crate::error::Context;
        let objects = self.objects()?;
        let new = self.tree_of_in(&objects, to)?;
        let old = from.map(|f| self.tree_of_in(&objects, f)).transpose()?;
        let mut totals = DiffTotals::default();
        let mut count = |path: &[u8], old: Option<Side>, new: Option<Side>| -> GitResult<()> {
            self.count_lines(&objects, path, old, new, &mut totals)
        };
        pairs(&objects, old, Some(new), &mut Vec::new(), &mut count)
            .runtime_context(|| "cannot count the range's changes".into())?;
        Ok(totals)
    }

    /// Adds one changed file to `totals`. A change of kind (file, link, submodule)
    /// counts as a deletion and an addition, as libgit2 counts it without
    /// `GIT_DIFF_INCLUDE_TYPECHANGE`.
    fn count_lines(
        &self,
        objects: &Objects<'_>,
        path: &[u8],
        old: Option<Side>,
        new: Option<Side>,
        totals: &mut DiffTotals,
    ) -> GitResult<()> {
        if let (Some(o), Some(n)) = (old, new) {
            if o.mode & MODE_TYPE_MASK != n.mode & MODE_TYPE_MASK {
                self.count_lines(objects, path, Some(o), None, totals)?;
                return self.count_lines(objects, path, None, Some(n), totals);
            }
        }
        totals.files += 1;
        let compare = self.compare(path);
        if matches!(compare, Compare::Binary) {
            return Ok(());
        }
        let content = |side: Option<Side>| -> GitResult<Vec<u8>> {
            let Some(side) = side else {
                return Ok(Vec::new());
            };
            // libgit2 shows a submodule as the commit it points to.
            if side.mode & MODE_TYPE_MASK == GITLINK {
                return Ok(format!("Subproject commit {}\n", side.id).into_bytes());
            }
            objects
                .blob(side.id)
                .ok_or_else(|| git2::Error::from_str(&format!("cannot read blob {}", side.id)))
        };
        let (before, after) = (content(old)?, content(new)?);
        let mut options = DiffOptions::new();
        if matches!(compare, Compare::Text) {
            options.force_text(true);
        }
        let patch = Patch::from_buffers(&before, None, &after, None, Some(&mut options))?;
        let (_, insertions, deletions) = patch.line_stats()?;
        totals.insertions += insertions;
        totals.deletions += deletions;
        Ok(())
    }

    /// How libgit2's diff compares `path`: by its `diff` attribute (read from the
    /// work tree's `.gitattributes`, then the index's), and for a named driver by
    /// `diff.<name>.binary`.
    fn compare(&self, path: &[u8]) -> Compare {
        let path = path_of(path);
        let value = self
            .inner
            .get_attr_bytes(&path, "diff", AttrCheckFlags::FILE_THEN_INDEX)
            .ok()
            .flatten();
        match AttrValue::from_bytes(value) {
            AttrValue::False => Compare::Binary,
            AttrValue::True => Compare::Text,
            AttrValue::String(name) => self.driver_is_binary(name),
            AttrValue::Bytes(name) => self.driver_is_binary(&String::from_utf8_lossy(name)),
            AttrValue::Unspecified => Compare::Auto,
        }
    }

    fn driver_is_binary(&self, name: &str) -> Compare {
        let binary = self
            .inner
            .config()
            .and_then(|c| c.get_bool(&format!("diff.{name}.binary")));
        match binary {
            Ok(true) => Compare::Binary,
            Ok(false) => Compare::Text,
            Err(_) => Compare::Auto,
        }
    }
}

/// A path as the attribute lookup takes it.
fn path_of(path: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Path::new(std::ffi::OsStr::from_bytes(path)).to_path_buf()
    }
    #[cfg(not(unix))]
    {
        Path::new(&*String::from_utf8_lossy(path)).to_path_buf()
    }
}

/// What `pairs` calls with each changed file: its path, and its old and new sides.
type Found<'f> = dyn FnMut(&[u8], Option<Side>, Option<Side>) -> GitResult<()> + 'f;

/// Calls `found` with each file (or submodule) that differs between two trees,
/// with its sides, recursing into changed subtrees only.
fn pairs(
    objects: &Objects<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &mut Vec<u8>,
    found: &mut Found<'_>,
) -> GitResult<()> {
    let old = old.map(|id| RawTree::read(objects, id)).transpose()?;
    let new = new.map(|id| RawTree::read(objects, id)).transpose()?;
    let mut olds = old.iter().flat_map(RawTree::entries);
    let mut news = new.iter().flat_map(RawTree::entries);
    let (mut a, mut b) = (olds.next().transpose()?, news.next().transpose()?);
    loop {
        let order = match (&a, &b) {
            (None, None) => return Ok(()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => tree_order(x, y),
        };
        match (order, a, b) {
            (std::cmp::Ordering::Less, Some(x), _) => {
                one_side(objects, &x, false, prefix, found)?;
                a = olds.next().transpose()?;
            }
            (std::cmp::Ordering::Greater, _, Some(y)) => {
                one_side(objects, &y, true, prefix, found)?;
                b = news.next().transpose()?;
            }
            (std::cmp::Ordering::Equal, Some(x), Some(y)) => {
                if x.id != y.id || x.mode != y.mode {
                    if x.is_tree() {
                        let len = enter(prefix, x.name);
                        pairs(objects, Some(x.oid()?), Some(y.oid()?), prefix, found)?;
                        prefix.truncate(len);
                    } else {
                        let len = prefix.len();
                        prefix.extend_from_slice(x.name);
                        found(prefix, Some(side(&x)?), Some(side(&y)?))?;
                        prefix.truncate(len);
                    }
                }
                a = olds.next().transpose()?;
                b = news.next().transpose()?;
            }
            _ => return Ok(()),
        }
    }
}

/// An entry only one side has: a file, or every file under a folder.
fn one_side(
    objects: &Objects<'_>,
    entry: &Entry<'_>,
    added: bool,
    prefix: &mut Vec<u8>,
    found: &mut Found<'_>,
) -> GitResult<()> {
    if entry.is_tree() {
        let len = enter(prefix, entry.name);
        let tree = Some(entry.oid()?);
        let (old, new) = if added { (None, tree) } else { (tree, None) };
        pairs(objects, old, new, prefix, found)?;
        prefix.truncate(len);
        return Ok(());
    }
    let len = prefix.len();
    prefix.extend_from_slice(entry.name);
    let side = Some(side(entry)?);
    let result = if added {
        found(prefix, None, side)
    } else {
        found(prefix, side, None)
    };
    prefix.truncate(len);
    result
}

fn side(entry: &Entry<'_>) -> GitResult<Side> {
    Ok(Side {
        mode: entry.mode,
        id: entry.oid()?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::diff_tests::git;
    use super::*;

    /// What libgit2's own tree diff and stats count (what `diff_totals` used to call).
    fn libgit2(repo: &Repo, from: Option<Oid>, to: Oid) -> DiffTotals {
        let r = &repo.inner;
        let tree = |oid: Oid| r.find_commit(oid).unwrap().tree().unwrap();
        let old = from.map(tree);
        let diff = r
            .diff_tree_to_tree(old.as_ref(), Some(&tree(to)), None)
            .unwrap();
        let stats = diff.stats().unwrap();
        DiffTotals {
            files: stats.files_changed(),
            insertions: stats.insertions(),
            deletions: stats.deletions(),
        }
    }

    fn write(dir: &Path, path: &str, content: &[u8]) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn commit(dir: &Path, message: &str) -> Oid {
        git(dir, &["add", "-A"]);
        commit_staged(dir, message)
    }

    fn commit_staged(dir: &Path, message: &str) -> Oid {
        git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
        let head = git(dir, &["rev-parse", "HEAD"]);
        Oid::from_str(String::from_utf8(head).unwrap().trim()).unwrap()
    }

    /// Every kind of change libgit2 counts its own way: binary and forced-text files
    /// (by content, by attribute, by a named driver's config), a missing last
    /// newline, a mode change, links, a file that becomes a link and one that becomes
    /// a folder, folders added and removed, and submodules added and moved.
    #[test]
    fn counts_what_libgit2_counts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        git(dir, &["config", "diff.foo.binary", "true"]);
        git(dir, &["config", "diff.bar.binary", "false"]);
        write(
            dir,
            ".gitattributes",
            b"forced.txt diff\nnodiff.txt -diff\n*.foo diff=foo\n*.bar diff=bar\n*.baz diff=baz\n",
        );
        write(dir, "a.txt", b"one\ntwo\nthree\n");
        write(dir, "b.txt", b"gone\nsoon\n");
        write(dir, "bin.dat", b"\0\x01\x02\nline\n");
        write(dir, "forced.txt", b"nul\0here\nline\n");
        write(dir, "nodiff.txt", b"plain\ntext\n");
        write(dir, "named.foo", b"text\nfor foo\n");
        write(dir, "named.bar", b"nul\0for bar\nx\n");
        write(dir, "named.baz", b"no config\n");
        write(dir, "noeol.txt", b"first\nlast");
        write(dir, "mode.sh", b"echo hi\n");
        write(dir, "becomes-link", b"a file\nfor now\n");
        write(dir, "replaced", b"a file, then a folder\n");
        write(dir, "gone/y.txt", b"y\ny\n");
        write(dir, "dir/x.txt", b"x\n");
        std::os::unix::fs::symlink("a.txt", dir.join("link")).unwrap();
        let c1 = commit(dir, "one");

        write(dir, "a.txt", b"one\n2\nthree\nfour\nfive\n");
        std::fs::remove_file(dir.join("b.txt")).unwrap();
        write(dir, "bin.dat", b"\0\x01\x03\nline\nmore\n");
        write(dir, "forced.txt", b"nul\0there\nline\nadded\n");
        write(dir, "nodiff.txt", b"plain\ntext\nmore\n");
        write(dir, "named.foo", b"text\nfor foo, changed\n");
        write(dir, "named.bar", b"nul\0for bar\ny\nz\n");
        write(dir, "named.baz", b"no config\nat all\n");
        write(dir, "noeol.txt", b"first\nlast\nand more");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("mode.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::remove_file(dir.join("becomes-link")).unwrap();
        std::os::unix::fs::symlink("a.txt", dir.join("becomes-link")).unwrap();
        std::fs::remove_file(dir.join("replaced")).unwrap();
        write(dir, "replaced/z.txt", b"z\nz\nz\n");
        std::fs::remove_dir_all(dir.join("gone")).unwrap();
        std::fs::remove_file(dir.join("link")).unwrap();
        std::os::unix::fs::symlink("dir/x.txt", dir.join("link")).unwrap();
        write(dir, "new.txt", b"brand\nnew\n");
        git(dir, &["add", "-A"]);
        let sub = c1.to_string();
        git(
            dir,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{sub},sub"),
            ],
        );
        // Committed as staged: `git add -A` would drop a submodule with no folder.
        let c2 = commit_staged(dir, "two");
        git(
            dir,
            &["update-index", "--cacheinfo", &format!("160000,{c2},sub")],
        );
        let c3 = commit_staged(dir, "three");

        let repo = Repo::discover(dir).unwrap();
        for (from, to) in [
            (Some(c1), c2),
            (Some(c2), c3),
            (Some(c1), c3),
            (None, c3),
            (Some(c3), c1),
        ] {
            let expected = libgit2(&repo, from, to);
            assert!(expected.files > 0);
            assert_eq!(
                repo.diff_totals(from, to).unwrap(),
                expected,
                "{from:?}..{to}"
            );
        }
        // Every change above is there: a link made of a file, and a folder made of
        // a file, count twice.
        let first = libgit2(&repo, Some(c1), c2);
        assert_eq!(first.files, 18, "{first:?}");
    }

    #[test]
    fn a_missing_blob_is_an_error_not_a_guess() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        write(dir, "a.txt", b"one\n");
        let c1 = commit(dir, "one");
        write(dir, "a.txt", b"one\ntwo\n");
        let c2 = commit(dir, "two");
        let blob = git(dir, &["rev-parse", "HEAD:a.txt"]);
        let blob = String::from_utf8(blob).unwrap();
        let blob = blob.trim();
        std::fs::remove_file(dir.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
        let repo = Repo::discover(dir).unwrap();
        let err = repo.diff_totals(Some(c1), c2).unwrap_err().to_string();
        assert!(err.contains(blob), "{err}");
    }
}
