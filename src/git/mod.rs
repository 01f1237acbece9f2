//! Reading the repository: discovery, revisions, release tags, the commit range and
//! the paths each commit changed. The only module that talks to libgit2.
//!
//! Everything user-controlled (messages, names, paths) is decoded lossily: a
//! non-UTF-8 byte never fails or panics a plan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use git2::{ObjectType, Oid, Repository};
use regex::Regex;
use semver::Version;

use crate::error::{Context, Error, Result};

pub mod helper;
mod object;
mod pack;
mod paths;

pub use paths::{PathLists, PathRef, PathsOf};
mod totals;
pub mod walk;

/// A walked range: its commits newest first, and what `work` made of each (same order).
pub struct Walked<T> {
    pub commits: Commits,
    pub done: Vec<T>,
    /// The commit `Base::First` found, if any.
    pub base: Option<Oid>,
}

/// Where a range starts: what the walk excludes.
#[derive(Clone, Copy)]
pub enum Base<'a> {
    /// Nothing: everything `to` reaches.
    Root,
    /// What this commit reaches.
    Commit(Oid),
    /// What the first commit accepted here reaches, newest first from `to` (the
    /// previous release): found by the walk that reads the range (`walk::graph`).
    First(&'a dyn Fn(&Oid) -> bool),
}

/// A walked range's commits, newest first: each one's id, tree and parents, and its
/// position by id (what the range-wide passes look commits up by). Read from the
/// walk's own record of what it touched (`walk::Graph`), not copied out of it.
pub struct Commits {
    graph: walk::Graph,
    /// The range position of each commit the walk touched (`NOT_IN_RANGE` for the
    /// excluded ones); the graph's `found` holds the other direction.
    at: Vec<u32>,
}

const NOT_IN_RANGE: u32 = u32::MAX;

impl Commits {
    /// The range of `graph.found`.
    fn of(graph: walk::Graph) -> Commits {
        let mut at = vec![NOT_IN_RANGE; graph.touched()];
        for (position, &i) in graph.found.iter().enumerate() {
            at[i as usize] = position as u32;
        }
        Commits { graph, at }
    }

    pub fn len(&self) -> usize {
        self.graph.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.found.is_empty()
    }

    /// The id of the commit at `position`.
    pub fn oid(&self, position: usize) -> Oid {
        self.graph.oid(self.graph.found[position])
    }

    /// The commit at `position`: id, tree, parents.
    pub fn links(&self, position: usize) -> Links {
        let i = self.graph.found[position];
        Links {
            oid: self.graph.oid(i),
            tree: self.graph.tree(i),
            parents: self.graph.parents(i).map(|j| self.graph.oid(j)).collect(),
        }
    }

    /// Every commit, newest first.
    pub fn iter(&self) -> impl Iterator<Item = Links> + '_ {
        (0..self.len()).map(|position| self.links(position))
    }

    /// The position of `oid` in the range.
    pub fn position(&self, oid: &Oid) -> Option<u32> {
        self.in_range(oid).map(|(_, position)| position)
    }

    /// The tree of `oid`, if it is in the range.
    pub fn tree_of(&self, oid: &Oid) -> Option<Oid> {
        self.in_range(oid).map(|(i, _)| self.graph.tree(i))
    }

    /// The walk's number and the range position of `oid`, if it is in the range.
    fn in_range(&self, oid: &Oid) -> Option<(u32, u32)> {
        let i = self.graph.find(oid)?;
        Some((i, self.at[i as usize])).filter(|&(_, p)| p != NOT_IN_RANGE)
    }
}

/// How many batches of raw commits may wait to be decoded (about 80 KB each).
const RAW_BATCHES_AHEAD: usize = 32;

/// Raw commits on their way from the walking thread to the one that decodes them:
/// their bytes end to end, and each commit's id and end offset.
struct RawBatch {
    bytes: Vec<u8>,
    ends: Vec<(Oid, usize)>,
}

/// An open repository and its work-tree root.
pub struct Repo {
    inner: Repository,
    root: PathBuf,
}

/// One commit of the range, as read from git.
#[derive(Debug, Clone)]
pub struct Commit {
    pub oid: Oid,
    /// Hex id, shared with the commit's `Change`.
    pub id: Arc<str>,
    /// The whole message, lossily decoded.
    pub message: String,
    pub author: String,
    pub author_email: String,
    /// Author time, seconds since the epoch.
    pub time: i64,
    pub parent_count: usize,
    /// The commit's tree and parents, as read in the walk: the diff phase and the
    /// pull-request folding work from these instead of reading commits again.
    pub tree: Oid,
    pub parents: walk::Parents,
}

impl Commit {
    /// A commit for tests of what is made of messages: id `id`, message `message`,
    /// author Ada, time 0, no tree or parents.
    #[cfg(test)]
    pub(crate) fn fixture(id: String, message: &str) -> Commit {
        Commit {
            oid: Oid::ZERO_SHA1,
            id: id.into(),
            message: message.into(),
            author: "Ada".into(),
            author_email: "ada@example.com".into(),
            time: 0,
            parent_count: 1,
            tree: Oid::ZERO_SHA1,
            parents: Default::default(),
        }
    }

    /// libgit2's reading of a commit: what `object::commit` is checked against.
    #[cfg(test)]
    fn read(commit: &git2::Commit<'_>) -> Commit {
        let author = commit.author();
        let oid = commit.id();
        let parents: walk::Parents = commit.parent_ids().collect();
        Commit {
            oid,
            id: oid.to_string().into(),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: author.when().seconds(),
            parent_count: parents.len(),
            tree: commit.tree_id(),
            parents,
        }
    }
}

/// What the range-wide passes need of a walked commit: where it sits in the graph and
/// its tree (made on demand from `Commits`). The text (`Commit`) is `work`'s to keep or
/// drop: holding every message, author and id of a million-commit range until the end
/// cost about 100 MB that only the per-commit step reads.
#[derive(Debug, Clone)]
pub struct Links {
    pub oid: Oid,
    pub tree: Oid,
    pub parents: walk::Parents,
}

impl Links {
    pub fn of(commit: &Commit) -> Links {
        Links {
            oid: commit.oid,
            tree: commit.tree,
            parents: commit.parents.clone(),
        }
    }
}

/// A tag whose name is a release version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub name: String,
    pub commit: Oid,
    pub version: Version,
}

/// One path a commit added, modified, deleted or changed the type of. Renames are
/// not detected (as `git log --no-renames`): a rename is a deletion and an addition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathChange {
    /// `A`, `M`, `D` or `T` (type changed).
    pub status: char,
    /// Shared among the commits that changed the same path (`PathNames`).
    pub path: Arc<str>,
}

/// One commit's changed paths, or why they could not be read. The error is boxed: a
/// long range holds one of these a commit, nearly all `Ok` (24 bytes instead of 56).
pub type Paths = std::result::Result<Vec<PathChange>, Box<Error>>;

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

    /// Commits reachable from `to` and not from `from`, newest first.
    pub fn walk(&self, from: Option<Oid>, to: Oid) -> Result<Vec<Commit>> {
        Ok(self
            .walk_with(from.map_or(Base::Root, Base::Commit), to, &mut || {}, |c| c)?
            .done)
    }

    /// `walk`, also computing `work(commit)` for each commit of the range, and calling
    /// `on_commit` after each commit is read (progress feedback). Each commit is read
    /// once (`walk::limited`).
    ///
    /// `work` runs on a second thread, fed in batches as commits are read: reading
    /// (finding and inflating objects, straight from the packs for commits stored
    /// whole, through libgit2 otherwise) stays on this thread, while `work` is pure
    /// (classifying messages), so on two cores it costs no wall time until it is
    /// slower than the reading. It may also drop what no later step needs (a message
    /// already classified).
    pub fn walk_with<T: Send>(
        &self,
        base: Base<'_>,
        to: Oid,
        on_commit: &mut dyn FnMut(),
        mut work: impl FnMut(Commit) -> T + Send,
    ) -> Result<Walked<T>> {
        const BATCH: usize = 256;
        let shallow = self.inner.is_shallow();
        let odb = self.odb()?;
        // Commits stored whole in a pack are read without libgit2 (`pack`).
        let mut packs = pack::Packs::open(&self.objects_dir());
        let mut scratch = Vec::new();
        // For each commit read, its position among those sent to be decoded.
        const NOT_SENT: u32 = u32::MAX;
        let (mut sent_as, mut sent) = (Vec::<u32>::new(), 0u32);
        let (graph, mut done) = std::thread::scope(|scope| {
            // Bounded: should decoding fall behind the walk (the helper process takes
            // a core too), raw commits wait in a few megabytes, not in the whole range.
            let (send, receive) = std::sync::mpsc::sync_channel::<RawBatch>(RAW_BATCHES_AHEAD);
            // Emptied batches come back to be filled again: the walking thread copies
            // each commit into warm memory instead of allocating (and the worker
            // freeing) one buffer per commit.
            let (give_back, take_back) = std::sync::mpsc::channel::<RawBatch>();
            let worker = scope.spawn(move || {
                let mut done = Vec::new();
                for mut batch in receive {
                    let mut start = 0;
                    for &(oid, end) in &batch.ends {
                        done.push(work(object::commit(oid, &batch.bytes[start..end])));
                        start = end;
                    }
                    batch.bytes.clear();
                    batch.ends.clear();
                    let _ = give_back.send(batch);
                }
                done
            });
            let fresh = || RawBatch {
                bytes: Vec::new(),
                ends: Vec::with_capacity(BATCH),
            };
            let mut batch = fresh();
            let exclude = match base {
                Base::Commit(oid) => Some(oid),
                Base::Root | Base::First(_) => None,
            };
            let is_base = |oid: Oid| match base {
                Base::First(accept) => accept(&oid),
                Base::Root | Base::Commit(_) => false,
            };
            let graph = walk::graph(
                &[to],
                exclude.as_slice(),
                is_base,
                |oid, hidden| {
                    // One entry a call: the walk numbers commits by call.
                    sent_as.push(NOT_SENT);
                    // The raw commit goes where it is needed: appended to the batch for
                    // the decoding thread, or (excluded) to a scratch buffer.
                    let target = if hidden {
                        scratch.clear();
                        &mut scratch
                    } else {
                        &mut batch.bytes
                    };
                    let start = target.len();
                    if !packs.read_commit(&oid, target) {
                        match odb.read(oid) {
                            Ok(object) if object.kind() == ObjectType::Commit => {
                                target.extend_from_slice(object.data())
                            }
                            Ok(object) => {
                                return Err(Error::runtime(format!(
                                    "object {oid} is a {}, not a commit",
                                    object.kind().str()
                                )))
                            }
                            // A shallow clone's boundary: its parents were never fetched.
                            Err(e) if shallow && e.code() == git2::ErrorCode::NotFound => {
                                return Ok(None)
                            }
                            Err(e) => {
                                return Err(e)
                                    .runtime_context(|| format!("cannot read commit {oid}"))
                            }
                        }
                    }
                    let visit = object::walk_fields(&target[start..]);
                    // The decoding thread keeps commits in the order they are sent.
                    if !hidden {
                        *sent_as.last_mut().expect("pushed above") = sent;
                        sent += 1;
                        batch.ends.push((oid, batch.bytes.len()));
                        if batch.ends.len() == BATCH {
                            let next = take_back.try_recv().unwrap_or_else(|_| fresh());
                            // A closed channel means the worker panicked: `join` says so.
                            let _ = send.send(std::mem::replace(&mut batch, next));
                        }
                    }
                    Ok(Some(visit))
                },
                on_commit,
            );
            let _ = send.send(batch);
            drop(send);
            let done = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (graph, done)
        });
        let mut graph = graph?;
        // Into walk order, in place (one copy of the range at a time); commits first
        // read as in range and then found excluded (clock skew) go last, and then go.
        let mut placed = vec![false; done.len()];
        let mut order: Vec<usize> = Vec::with_capacity(done.len());
        // Every commit found was sent (one read excluded stays excluded); were one
        // not, it is left out rather than misplaced.
        graph.found.retain(|&i| match sent_as.get(i as usize) {
            Some(&sent) if (sent as usize) < done.len() && !placed[sent as usize] => {
                placed[sent as usize] = true;
                order.push(sent as usize);
                true
            }
            _ => false,
        });
        drop(sent_as);
        let kept = order.len();
        order.extend((0..done.len()).filter(|&i| !placed[i]));
        drop(placed);
        reorder(&mut order, &mut done);
        drop(order);
        done.truncate(kept);
        Ok(Walked {
            base: graph.base.map(|i| graph.oid(i)),
            commits: Commits::of(graph),
            done,
        })
    }

    /// `changed_paths` of every commit of a walked range, in the same order. Trees come
    /// from the walk, so no commit is read again (except the parents just outside the
    /// range).
    ///
    /// With enough commits, a helper process (`helper`) takes them from the oldest end
    /// while this process takes them from the newest: two libgit2 instances, each on a
    /// core, with no lock between them (two threads of one process lost to one). The
    /// helper is kept a few hundred requests ahead, so the two meet wherever the
    /// faster one gets to. `on_progress(done)` is called on the calling thread.
    /// Also returns how many commits the helper diffed.
    pub fn changed_paths_many(
        &self,
        commits: &Commits,
        on_progress: &mut dyn FnMut(usize),
    ) -> (PathLists, usize) {
        // Each job made when it is diffed or sent: made up front, they were 60 MiB
        // at a million commits.
        let tree_of = |oid: &Oid| commits.tree_of(oid);
        let jobs = |i: usize| job(&commits.links(i), tree_of);
        let helper = helper::PathHelper::start(self, commits.len());
        let (paths, earlier) = self.diff_jobs(commits.len(), &jobs, helper, None, on_progress);
        debug_assert!(earlier.answers.is_empty() && earlier.unanswered.is_empty());
        (paths.paths, paths.by_helper)
    }

    /// Changed paths of the path-fallback commits of a walked range, asked of `helper`
    /// while the range was walked: its answers, and the rest diffed here and by the
    /// helper from both ends, except those `unneeded` names (commits a pull-request
    /// merge folds). Also returns how many the helper diffed.
    pub fn fallback_paths(
        &self,
        commits: &Commits,
        mut helper: helper::PathHelper,
        unneeded: impl Fn(&Oid) -> bool,
    ) -> (FxHashMap<Oid, Paths>, usize) {
        // Asked for during the walk with their parent commit; now every tree is known.
        let known_parent = |j: &DiffJob| match j.parent {
            Parent::Commit(parent) => commits.tree_of(&parent).map_or(*j, |tree| DiffJob {
                parent: Parent::Tree(tree),
                ..*j
            }),
            _ => *j,
        };
        // Not sent yet, or never answered: only those still needed are diffed.
        let needed = |j: &&DiffJob| !unneeded(&j.commit);
        let jobs: Vec<DiffJob> = helper
            .take_backlog()
            .iter()
            .filter(needed)
            .map(known_parent)
            .collect();
        let stop = helper.stop_rules();
        let running = helper.is_running().then_some(helper);
        let (paths, earlier) =
            self.diff_jobs(jobs.len(), &|i| jobs[i], running, stop.clone(), &mut |_| {});
        let by_helper = paths.by_helper + earlier.answers.len();
        let mut all: FxHashMap<Oid, Paths> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.commit, paths.paths.to_paths(i)))
            .collect();
        all.extend(earlier.answers.into_untaken());
        // Sent during the walk and never answered (the helper died): diffed here.
        let unanswered: Vec<DiffJob> = earlier
            .unanswered
            .iter()
            .filter(needed)
            .map(known_parent)
            .collect();
        let (paths, _) = self.diff_jobs(
            unanswered.len(),
            &|i| unanswered[i],
            None,
            stop,
            &mut |_| {},
        );
        all.extend(
            unanswered
                .iter()
                .enumerate()
                .map(|(i, j)| (j.commit, paths.paths.to_paths(i))),
        );
        (all, by_helper)
    }

    /// Diffs the `count` jobs `job_at` makes by position: here from the first, and by
    /// `helper` (if any) from the last, kept `helper::ahead()` requests ahead, until
    /// the two meet. Results are in the jobs' order; also returns what the helper
    /// answered or left unanswered of requests made before (during the walk).
    fn diff_jobs(
        &self,
        count: usize,
        job_at: &dyn Fn(usize) -> DiffJob,
        mut helper: Option<helper::PathHelper>,
        stop: Option<Arc<PathRules>>,
        on_progress: &mut dyn FnMut(usize),
    ) -> (Diffed, Earlier) {
        let objects = match self.objects() {
            Ok(objects) => objects,
            Err(e) => {
                let message = e.to_string();
                let mut paths = PathLists::with_len(count);
                for i in 0..count {
                    paths.set(i, Err(Box::new(Error::runtime(message.clone()))));
                }
                let failed = Diffed {
                    paths,
                    by_helper: 0,
                };
                return (failed, Earlier::default());
            }
        };
        let before = helper
            .as_ref()
            .map_or(0, |h| h.answered() + h.outstanding());
        let mut results = PathLists::with_len(count);
        let mut by_helper = 0;
        // The helper's requests, in the order sent (positions from the last down),
        // and how many of their answers were taken as they came: positions
        // `count - drained..` are filled.
        let mut asked: std::collections::VecDeque<(usize, Oid)> = Default::default();
        let mut drained = 0;
        let mut cache = TreeCache::stopping_at(stop);
        // Jobs `..low` are done here, jobs `high..` are the helper's.
        let (mut low, mut high) = (0, count);
        while low < high {
            if let Some(helper) = helper.as_mut().filter(|h| h.is_running()) {
                let ahead = helper::ahead();
                if helper.outstanding() < ahead / 2 {
                    // Outstanding counts sent requests only: enqueue what fits.
                    let room = ahead - helper.outstanding();
                    for _ in 0..room {
                        if high <= low + 1 {
                            break;
                        }
                        high -= 1;
                        let job = job_at(high);
                        helper.enqueue(&job);
                        asked.push_back((high, job.commit));
                    }
                    helper.send();
                }
                // Taken as they come: held until the end, they were 35 MiB of a
                // million-commit `plan` at the top of this phase.
                while let Some(&(at, oid)) = asked.front() {
                    let Some(answer) = helper.take_next(&oid) else {
                        break;
                    };
                    results.set(at, answer);
                    by_helper += 1;
                    drained += 1;
                    asked.pop_front();
                }
                on_progress(low + helper.answered().saturating_sub(before));
            } else {
                on_progress(low);
            }
            if low < high {
                results.set(
                    low,
                    self.diff_job(&objects, &job_at(low), &mut cache)
                        .map_err(Box::new),
                );
                low += 1;
            }
        }
        // A backlog left here (the helper failed) is in jobs `high..`, unanswered.
        let (mut answers, unanswered) = match helper {
            Some(helper) => helper.finish(),
            None => Default::default(),
        };
        // Oldest first, as the helper went: what it did not answer is diffed here.
        for i in (high..count - drained).rev() {
            let job = &job_at(i);
            let paths = match answers.take(&job.commit) {
                Some(answer) => {
                    by_helper += 1;
                    answer
                }
                None => self.diff_job(&objects, job, &mut cache).map_err(Box::new),
            };
            results.set(i, paths);
        }
        results.shrink();
        on_progress(count);
        // Requests from before these jobs that were not answered (the helper died),
        // unless asked again here; usually there are none to sort out.
        let unanswered = if unanswered.is_empty() {
            unanswered
        } else {
            let asked: rustc_hash::FxHashSet<Oid> =
                (high..count).map(|i| job_at(i).commit).collect();
            unanswered
                .into_iter()
                .filter(|job| !asked.contains(&job.commit))
                .collect()
        };
        (
            Diffed {
                paths: results,
                by_helper,
            },
            Earlier {
                answers,
                unanswered,
            },
        )
    }

    /// Paths `commit` changed against its first parent (the whole tree for a root
    /// commit). Merge commits report nothing, as `git log --name-status` does: their
    /// changes belong to the merged commits. Only trees are compared, never content.
    #[cfg(test)]
    fn changed_paths(&self, commit: Oid) -> Result<Vec<PathChange>> {
        let read = self
            .inner
            .find_commit(commit)
            .map_err(|e| Error::runtime(e.to_string()))?;
        let job = job(&Links::of(&Commit::read(&read)), |_| None);
        self.diff_job(&self.objects()?, &job, &mut TreeCache::default())
    }

    fn tree_of(&self, commit: Oid) -> Result<Oid> {
        self.inner
            .find_commit(commit)
            .map(|c| c.tree_id())
            .runtime_context(|| format!("cannot read commit {commit}"))
    }

    /// `tree_of`, read from the packs where the commit is stored whole: through
    /// libgit2, the path fallback's parents (a few scattered commits of a long range)
    /// made the helper map and touch the whole pack index (BENCHMARKS.md item 44).
    fn tree_of_in(&self, objects: &Objects<'_>, commit: Oid) -> Result<Oid> {
        let mut data = Vec::new();
        if objects.packs.borrow_mut().read_commit(&commit, &mut data) {
            if let Some(tree) = object::tree_field(&data) {
                return Ok(tree);
            }
        }
        self.tree_of(commit)
    }

    fn diff_job<'r>(
        &'r self,
        objects: &'r Objects<'_>,
        job: &DiffJob,
        cache: &mut TreeCache<'r>,
    ) -> Result<Vec<PathChange>> {
        cache.next_commit();
        let parent_tree = match job.parent {
            Parent::Merge => return Ok(Vec::new()),
            Parent::Root => None,
            Parent::Tree(tree) => Some(tree),
            Parent::Commit(commit) => Some(self.tree_of_in(objects, commit)?),
        };
        let tree = cache
            .get(objects, job.tree)
            .runtime_context(|| format!("cannot read tree of {}", job.commit))?;
        let parent_tree =
            match parent_tree {
                Some(id) => Some(cache.get(objects, id).runtime_context(|| {
                    format!("cannot read the parent tree of {}", job.commit)
                })?),
                None => None,
            };
        let mut changes = Vec::new();
        let mut prefix = Vec::new();
        diff_trees(
            objects,
            cache,
            parent_tree.as_deref(),
            Some(&tree),
            &mut prefix,
            &mut changes,
        )
        .runtime_context(|| format!("cannot diff commit {}", job.commit))?;
        Ok(changes)
    }

    /// The object database for reading trees: straight from the packs where the
    /// object is stored there (`pack`), through libgit2 otherwise.
    fn objects(&self) -> Result<Objects<'_>> {
        Ok(Objects {
            odb: self.odb()?,
            packs: std::cell::RefCell::new(pack::Packs::open(&self.objects_dir())),
        })
    }

    /// Where the repository's objects are (shared by its worktrees).
    fn objects_dir(&self) -> PathBuf {
        self.inner.commondir().join("objects")
    }

    fn odb(&self) -> Result<git2::Odb<'_>> {
        self.inner
            .odb()
            .runtime_context(|| "cannot open the object database".into())
    }

    /// A fresh handle on the same repository, to replace this one after a burst of
    /// object reads. libgit2 keeps a pack's index mapped while any handle that read
    /// it lives (handles share open packs), and on a history of millions of objects
    /// a few thousand lookups touch nearly every page of it: 240 MiB that stay
    /// resident until the last such handle is dropped. A fresh handle opens the
    /// packs again only when it reads, and then touches only what it reads.
    pub fn reopen(&self) -> Result<Repo> {
        let inner = Repository::open(self.inner.path())
            .runtime_context(|| format!("cannot open {}", self.inner.path().display()))?;
        Ok(Repo {
            inner,
            root: self.root.clone(),
        })
    }

    /// The content of `path` as of `commit`, if it exists there and is a file.
    pub fn file_at(&self, commit: Oid, path: &str) -> Option<Vec<u8>> {
        self.snapshot(commit)?.file(path)
    }

    /// The tree of `commit`, read once for many `file` lookups (hundreds of migration
    /// files on a long range). Read from the packs as the walk reads them: libgit2
    /// maps and, over a few thousand reads, touches nearly all of a large pack index
    /// (about 230 MiB at a million commits, BENCHMARKS.md item 52).
    pub fn snapshot(&self, commit: Oid) -> Option<Snapshot<'_>> {
        let objects = self.objects().ok()?;
        let tree = self.tree_of_in(&objects, commit).ok()?;
        Some(Snapshot { objects, tree })
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

/// A commit's tree, for reading files as of that commit.
pub struct Snapshot<'r> {
    objects: Objects<'r>,
    tree: Oid,
}

impl Snapshot<'_> {
    /// The content of `path` (`/`-separated), if it exists and is a file (or a
    /// symbolic link: its target).
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        let mut tree = self.tree;
        let mut names = path.split('/').peekable();
        while let Some(name) = names.next() {
            let raw = RawTree::read(&self.objects, tree).ok()?;
            let entry = raw
                .entries()
                .map_while(GitResult::ok)
                .find(|e| e.name == name.as_bytes())?;
            let id = entry.oid().ok()?;
            match (names.peek(), entry.is_tree()) {
                (None, false) => return self.objects.blob(id),
                (Some(_), true) => tree = id,
                _ => return None,
            }
        }
        None
    }
}

/// Moves `a[order[k]]` to position `k`, in place, following the permutation's cycles
/// (`order` is left scrambled).
fn reorder<A>(order: &mut [usize], a: &mut [A]) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            a.swap(at, from);
            at = from;
        }
    }
}

/// libgit2 settings for a read-only, history-sized workload (see BENCHMARKS.md):
/// - no SHA-1 re-check of every object read (git itself does not re-hash on read;
///   this was 9% of a `plan` profile);
/// - no shared object cache: a walk reads each commit and tree about once, so the
///   default 256 MiB cache grew memory with the range and its eviction cost 14% of
///   a profile; `TreeCache` keeps exactly the trees the next diff needs.
fn tune_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        // Pack files are read through mapped windows (1 GiB each by default), and every
        // page touched stays resident: on a 1M-commit history that alone was most of
        // the peak memory. Smaller windows under a fixed cap keep it flat; libgit2
        // unmaps the least recently used window past the cap.
        let window_mb: usize = std::env::var("RELPLAN_PACK_WINDOW_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PACK_WINDOW_MB);
        let mapped_mb: usize = std::env::var("RELPLAN_PACK_MAPPED_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PACK_MAPPED_MB);
        // SAFETY: libgit2 global options, set once before any repository is opened.
        unsafe {
            let _ = git2::opts::set_mwindow_size(window_mb.max(1) * 1024 * 1024);
            let _ = git2::opts::set_mwindow_mapped_limit(mapped_mb.max(1) * 1024 * 1024);
        }
        let cache_mb: isize = std::env::var("RELPLAN_GIT_CACHE_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if cache_mb <= 0 {
            git2::opts::enable_caching(false);
            return;
        }
        // SAFETY: libgit2 global options, set once before any repository is opened.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(ObjectType::Tree, 0);
            let _ = git2::opts::set_cache_object_limit(ObjectType::Blob, 0);
            let _ = git2::opts::set_cache_max_size(cache_mb * 1024 * 1024);
        }
    });
}

/// Size of one mapped window of a pack file, and the cap on all mapped windows (MiB).
const PACK_WINDOW_MB: usize = 32;
const PACK_MAPPED_MB: usize = 128;

/// The SemVer version a tag name carries under `pattern`: its first capture group,
/// else the whole name without a leading `v`.
pub fn tag_version(name: &str, pattern: &Regex) -> Option<Version> {
    let captures = pattern.captures(name)?;
    let text = captures.get(1).map_or(name, |m| m.as_str());
    Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

/// The trees read for the current commit and the one before. Walking newest first,
/// a commit's parent is usually the next commit diffed, so its trees are read once
/// and reused; anything older is dropped. Exact, bounded by two commits' trees, and
/// free of the eviction work libgit2's shared cache did (14% of a profile).
#[derive(Default)]
struct TreeCache<'r> {
    current: FxHashMap<Oid, Rc<RawTree<'r>>>,
    previous: FxHashMap<Oid, Rc<RawTree<'r>>>,
    /// And the path names the diffs produced, kept for all of them.
    names: PathNames,
    /// The path fallback's diffs stop once no rule can match every path listed.
    stop: Option<Arc<PathRules>>,
    /// For the current diff: which rules still match every path listed so far.
    alive: Vec<bool>,
    stopped: bool,
}

/// Each job's result, in order, and how many of them the helper process computed.
struct Diffed {
    paths: PathLists,
    by_helper: usize,
}

/// What became of requests made of a helper before `diff_jobs` took it over.
#[derive(Default)]
struct Earlier {
    answers: helper::Answers,
    unanswered: Vec<DiffJob>,
}

/// One commit's diff: its tree against its first parent's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiffJob {
    pub(crate) commit: Oid,
    pub(crate) tree: Oid,
    pub(crate) parent: Parent,
}

/// What a commit's tree is compared with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parent {
    /// A root commit: every path is added.
    Root,
    /// A merge commit: nothing, as `git log --name-status` lists nothing for merges
    /// (their changes belong to the merged commits).
    Merge,
    /// The first parent's tree, known from the walk.
    Tree(Oid),
    /// The first parent, outside the walked range: its tree is read at diff time.
    Commit(Oid),
}

/// The diff job of `c` (no I/O); `tree_of(parent)` is the parent's tree when already
/// known (a commit of the range), else the job names the parent commit.
pub(crate) fn job(c: &Links, tree_of: impl Fn(&Oid) -> Option<Oid>) -> DiffJob {
    let parent = match c.parents.as_slice() {
        [] => Parent::Root,
        [parent] => match tree_of(parent) {
            Some(tree) => Parent::Tree(tree),
            None => Parent::Commit(*parent),
        },
        _ => Parent::Merge,
    };
    DiffJob {
        commit: c.oid,
        tree: c.tree,
        parent,
    }
}

impl<'r> TreeCache<'r> {
    /// A cache whose diffs stop as soon as no rule of `stop` can match every path.
    fn stopping_at(stop: Option<Arc<PathRules>>) -> TreeCache<'r> {
        TreeCache {
            stop,
            ..TreeCache::default()
        }
    }

    fn next_commit(&mut self) {
        std::mem::swap(&mut self.current, &mut self.previous);
        self.current.clear();
        self.stopped = false;
        if let Some(stop) = &self.stop {
            self.alive.clear();
            self.alive.resize(stop.sets.len(), true);
        }
    }

    /// Notes a path the current diff listed: `stopped` once no rule matches them all.
    fn listed(&mut self, path: &str) {
        let Some(stop) = &self.stop else {
            return;
        };
        let mut any = false;
        for (alive, set) in self.alive.iter_mut().zip(&stop.sets) {
            *alive = *alive && set.is_match(path);
            any |= *alive;
        }
        self.stopped = !any;
    }

    fn get(&mut self, objects: &'r Objects<'_>, id: Oid) -> GitResult<Rc<RawTree<'r>>> {
        if let Some(tree) = self.current.get(&id) {
            return Ok(tree.clone());
        }
        let tree = match self.previous.remove(&id) {
            Some(tree) => tree,
            None => Rc::new(RawTree::read(objects, id)?),
        };
        self.current.insert(id, tree.clone());
        Ok(tree)
    }
}

type GitResult<T> = std::result::Result<T, git2::Error>;

/// See `Repo::objects`.
struct Objects<'r> {
    odb: git2::Odb<'r>,
    packs: std::cell::RefCell<pack::Packs>,
}

impl Objects<'_> {
    /// Blob `id`'s content (from the packs, else through libgit2).
    fn blob(&self, id: Oid) -> Option<Vec<u8>> {
        if let Some(data) = self.packs.borrow_mut().read_blob(&id) {
            return Some(data.to_vec());
        }
        let object = self.odb.read(id).ok()?;
        (object.kind() == ObjectType::Blob).then(|| object.data().to_vec())
    }
}

/// A tree object's bytes as stored: `<octal mode> <name>\0<20-byte id>`, repeated.
/// Read straight from the object database and walked in place: libgit2's parsed
/// trees cost an allocation and a mode parse per entry (a tenth of a `plan` profile).
enum RawTree<'r> {
    Packed(Rc<[u8]>),
    Odb(git2::OdbObject<'r>),
}

impl<'r> RawTree<'r> {
    fn read(objects: &'r Objects<'_>, id: Oid) -> GitResult<RawTree<'r>> {
        if let Some(data) = objects.packs.borrow_mut().read_tree(&id) {
            return Ok(RawTree::Packed(data));
        }
        let object = objects.odb.read(id)?;
        if object.kind() != ObjectType::Tree {
            return Err(git2::Error::from_str(&format!("{id} is not a tree")));
        }
        Ok(RawTree::Odb(object))
    }

    fn entries(&self) -> Entries<'_> {
        Entries {
            rest: match self {
                RawTree::Packed(data) => data,
                RawTree::Odb(object) => object.data(),
            },
        }
    }
}

#[derive(Clone, Copy)]
struct Entry<'a> {
    mode: u32,
    name: &'a [u8],
    id: &'a [u8],
}

impl Entry<'_> {
    fn is_tree(&self) -> bool {
        self.mode & MODE_TYPE_MASK == MODE_TREE
    }

    fn oid(&self) -> GitResult<Oid> {
        Oid::from_bytes(self.id)
    }
}

/// Entries of a raw tree; a malformed tree ends in an `Err` item.
struct Entries<'a> {
    rest: &'a [u8],
}

const OID_LEN: usize = 20;

impl<'a> Iterator for Entries<'a> {
    type Item = GitResult<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let space = self.rest.iter().position(|&b| b == b' ')?;
            let mode = self.rest[..space].iter().try_fold(0u32, |m, &b| {
                (b'0'..=b'7')
                    .contains(&b)
                    .then(|| (m << 3) | u32::from(b - b'0'))
            })?;
            let after = &self.rest[space + 1..];
            let nul = after.iter().position(|&b| b == 0)?;
            let id = after.get(nul + 1..nul + 1 + OID_LEN)?;
            Some((mode, &after[..nul], id, &after[nul + 1 + OID_LEN..]))
        })();
        match parsed {
            Some((mode, name, id, rest)) => {
                self.rest = rest;
                Some(Ok(Entry { mode, name, id }))
            }
            None => {
                self.rest = &[];
                Some(Err(git2::Error::from_str("malformed tree object")))
            }
        }
    }
}

const MODE_TYPE_MASK: u32 = 0o170000;
const MODE_TREE: u32 = 0o040000;

/// Git's tree order: names compare bytewise, a tree's name as if it ended in `/`
/// (git's `base_name_compare`). A file and a folder of the same name differ, so a
/// file replaced by a folder is a deletion plus additions, as in `git log --name-status`.
fn tree_order(a: &Entry<'_>, b: &Entry<'_>) -> std::cmp::Ordering {
    let (an, bn) = (a.name, b.name);
    let common = an.len().min(bn.len());
    an[..common].cmp(&bn[..common]).then_with(|| {
        let end = |name: &[u8], e: &Entry<'_>| match name.get(common) {
            Some(&c) => c,
            None if e.is_tree() => b'/',
            None => 0,
        };
        end(an, a).cmp(&end(bn, b))
    })
}

/// The paths that differ between two trees, in tree order, like
/// `git diff-tree -r --no-renames --name-status`. Identical subtrees (same id) are
/// skipped without being read, and no blob is ever read: the cost is the number of
/// changed trees, not the size of the repository, and pruned blobs do not matter.
fn diff_trees<'r>(
    objects: &'r Objects<'_>,
    cache: &mut TreeCache<'r>,
    old: Option<&RawTree<'r>>,
    new: Option<&RawTree<'r>>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<PathChange>,
) -> GitResult<()> {
    let mut olds = old.map(RawTree::entries).into_iter().flatten();
    let mut news = new.map(RawTree::entries).into_iter().flatten();
    let (mut a, mut b) = (olds.next().transpose()?, news.next().transpose()?);
    // `cache.stopped`: the path fallback has its answer (see `PathRules`).
    while !cache.stopped {
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => tree_order(x, y),
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some(x) = &a {
                    one_side(objects, cache, x, 'D', prefix, out)?;
                }
                a = olds.next().transpose()?;
            }
            std::cmp::Ordering::Greater => {
                if let Some(y) = &b {
                    one_side(objects, cache, y, 'A', prefix, out)?;
                }
                b = news.next().transpose()?;
            }
            std::cmp::Ordering::Equal => {
                if let (Some(x), Some(y)) = (&a, &b) {
                    if x.id != y.id || x.mode != y.mode {
                        if x.is_tree() {
                            let len = enter(prefix, x.name);
                            let tx = cache.get(objects, x.oid()?)?;
                            let ty = cache.get(objects, y.oid()?)?;
                            diff_trees(objects, cache, Some(&tx), Some(&ty), prefix, out)?;
                            prefix.truncate(len);
                        } else {
                            let same_type = x.mode & MODE_TYPE_MASK == y.mode & MODE_TYPE_MASK;
                            let status = if same_type { 'M' } else { 'T' };
                            push_change(status, prefix, y.name, cache, out);
                        }
                    }
                }
                a = olds.next().transpose()?;
                b = news.next().transpose()?;
            }
        }
    }
    Ok(())
}

/// An entry only one side has: a file, or every file under a folder.
fn one_side<'r>(
    objects: &'r Objects<'_>,
    cache: &mut TreeCache<'r>,
    entry: &Entry<'_>,
    status: char,
    prefix: &mut Vec<u8>,
    out: &mut Vec<PathChange>,
) -> GitResult<()> {
    if entry.is_tree() {
        let len = enter(prefix, entry.name);
        let tree = cache.get(objects, entry.oid()?)?;
        let (old, new) = if status == 'D' {
            (Some(&*tree), None)
        } else {
            (None, Some(&*tree))
        };
        diff_trees(objects, cache, old, new, prefix, out)?;
        prefix.truncate(len);
    } else {
        push_change(status, prefix, entry.name, cache, out);
    }
    Ok(())
}

fn enter(prefix: &mut Vec<u8>, name: &[u8]) -> usize {
    let len = prefix.len();
    prefix.extend_from_slice(name);
    prefix.push(b'/');
    len
}

fn push_change(
    status: char,
    prefix: &[u8],
    name: &[u8],
    cache: &mut TreeCache<'_>,
    out: &mut Vec<PathChange>,
) {
    let path = cache.names.get(&[prefix, name]);
    cache.listed(&path);
    out.push(PathChange { status, path });
}

/// The path fallback's rules (`[[commits.paths]]` globs, one set per rule), for diffs
/// that only need to know whether every changed path matches one rule: such a diff
/// stops at the first path after which no rule can match them all. Its list is then
/// short of the commit's full list, and classifies the same way (not at all).
#[derive(Debug)]
pub struct PathRules {
    globs: Vec<Vec<String>>,
    sets: Vec<globset::GlobSet>,
}

impl PathRules {
    /// Compiled as every config glob is (`crate::config::glob_set`); `None` if any
    /// fails to compile (then diffs list every path).
    pub fn new(globs: Vec<Vec<String>>) -> Option<PathRules> {
        let sets = globs
            .iter()
            .map(|rule| crate::config::glob_set("commits.paths", rule).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(PathRules { globs, sets })
    }

    /// The globs, as the helper process is told them (JSON).
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(&self.globs).unwrap_or_else(|_| "[]".into())
    }

    pub(crate) fn from_json(text: &str) -> Option<PathRules> {
        PathRules::new(serde_json::from_str(text).ok()?)
    }
}

/// Every path name produced so far, allocated once: a long range changes the same
/// few thousand files again and again, and each commit's list then holds pointers
/// (a 1M-commit plan held two million copies).
#[derive(Default)]
pub(crate) struct PathNames {
    seen: rustc_hash::FxHashSet<Arc<str>>,
    scratch: String,
}

impl PathNames {
    /// The path made of `parts` (bytes as stored in git, decoded lossily).
    pub(crate) fn get(&mut self, parts: &[&[u8]]) -> Arc<str> {
        self.scratch.clear();
        for part in parts {
            self.scratch.push_str(&String::from_utf8_lossy(part));
        }
        if let Some(name) = self.seen.get(self.scratch.as_str()) {
            return Arc::clone(name);
        }
        let name: Arc<str> = self.scratch.as_str().into();
        self.seen.insert(Arc::clone(&name));
        name
    }
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

    #[test]
    fn reorder_applies_the_permutation() {
        // Every permutation of five elements, with cycles of every length.
        let mut order: Vec<usize> = (0..5).collect();
        let mut seen = 0;
        loop {
            let mut a: Vec<usize> = (0..5).collect();
            reorder(&mut order.clone(), &mut a);
            assert_eq!(a, order);
            seen += 1;
            // Next permutation in lexicographic order.
            let Some(i) = (0..4).rev().find(|&i| order[i] < order[i + 1]) else {
                break;
            };
            let j = (i + 1..5).rev().find(|&j| order[j] > order[i]).unwrap();
            order.swap(i, j);
            order[i + 1..].reverse();
        }
        assert_eq!(seen, 120);
    }
}

#[cfg(test)]
mod walk_with_tests {
    use super::diff_tests::{git, git_dated};
    use super::*;

    fn oid(text: Vec<u8>) -> Oid {
        Oid::from_str(String::from_utf8(text).unwrap().trim()).unwrap()
    }

    /// A commit with `parents`, committed at `date`, made with `git commit-tree`.
    fn commit(dir: &Path, date: &str, message: &str, parents: &[Oid]) -> Oid {
        let tree = oid(git(dir, &["write-tree"])).to_string();
        let parents: Vec<String> = parents.iter().map(Oid::to_string).collect();
        let mut args = vec!["commit-tree", &tree, "-m", message];
        for p in &parents {
            args.extend(["-p", p]);
        }
        oid(git_dated(dir, Some(date), &args))
    }

    /// The excluded tip `from` is committed years before a commit it contains, which
    /// the walk reaches first from `to` (through a merge) and reads as in range: that
    /// commit and its parent are sent to be decoded, then found excluded when `from`
    /// is popped. They must go, and the rest keep the walk's order with each commit's
    /// work beside it, as `git rev-list` lists them.
    #[test]
    fn commits_read_as_in_range_and_then_excluded_are_dropped_and_the_rest_stay_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        let c1 = commit(dir, "2026-01-01T00:00:00Z", "c1", &[]);
        let c2 = commit(dir, "2026-01-03T00:00:00Z", "c2", &[c1]);
        let from = commit(dir, "2019-01-01T00:00:00Z", "old tip", &[c2]);
        let merge = commit(dir, "2026-01-05T00:00:00Z", "merge", &[c2, from]);
        let side = commit(dir, "2026-01-04T00:00:00Z", "side", &[c1]);
        let to = commit(dir, "2026-01-06T00:00:00Z", "top", &[merge, side]);
        let range = format!("{from}..{to}");
        let expected: Vec<Oid> = String::from_utf8(git(dir, &["rev-list", &range]))
            .unwrap()
            .lines()
            .map(|l| Oid::from_str(l).unwrap())
            .collect();
        assert_eq!(expected, [to, merge, side]);

        let repo = Repo::discover(dir).unwrap();
        let walked = repo
            .walk_with(Base::Commit(from), to, &mut || {}, |c| c.oid)
            .unwrap();
        let order: Vec<Oid> = walked.commits.iter().map(|c| c.oid).collect();
        assert_eq!(order, expected);
        assert_eq!(walked.done, expected);
        for (i, id) in expected.iter().enumerate() {
            assert_eq!(walked.commits.position(id), Some(i as u32));
            assert_eq!(walked.commits.oid(i), *id);
        }
        // Read, then excluded: not in the range.
        for id in [from, c2, c1] {
            assert_eq!(walked.commits.position(&id), None);
            assert_eq!(walked.commits.tree_of(&id), None);
        }
        // Trees and parents (in the commit's order) as git has them.
        let raw = repo.raw();
        for (links, id) in walked.commits.iter().zip(&expected) {
            let commit = raw.find_commit(*id).unwrap();
            assert_eq!(links.tree, commit.tree_id());
            assert_eq!(walked.commits.tree_of(id), Some(commit.tree_id()));
            assert_eq!(
                links.parents.to_vec(),
                commit.parent_ids().collect::<Vec<_>>()
            );
        }
    }
}

#[cfg(test)]
mod raw_tree_tests {
    use super::*;

    #[test]
    fn entries_parse_and_a_truncated_tree_is_an_error() {
        let mut bytes = b"100644 a.txt\0".to_vec();
        bytes.extend([1u8; 20]);
        bytes.extend(b"40000 src\0");
        bytes.extend([2u8; 20]);
        let entries: Vec<_> = Entries { rest: &bytes }.map(|e| e.unwrap()).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].mode, entries[0].name),
            (0o100644, &b"a.txt"[..])
        );
        assert!(entries[1].is_tree() && !entries[0].is_tree());
        assert_eq!(entries[1].id, &[2u8; 20][..]);
        let truncated = &bytes[..bytes.len() - 5];
        let last = Entries { rest: truncated }.last().unwrap();
        assert!(last.is_err());
        assert!(Entries {
            rest: b"10x644 a\0"
        }
        .next()
        .unwrap()
        .is_err());
    }
}

#[cfg(test)]
mod diff_tests {
    //! The tree diff must list exactly what `git diff-tree -r --no-renames --name-status`
    //! lists, in the same order, for every kind of change.
    use super::*;
    use std::process::Command;

    pub(super) fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        git_dated(dir, None, args)
    }

    /// `git`, with the author and committer dates set to `date` when given.
    pub(super) fn git_dated(dir: &Path, date: Option<&str>, args: &[&str]) -> Vec<u8> {
        let mut command = Command::new("git");
        if let Some(date) = date {
            command
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date);
        }
        let out = command
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .args(args)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {:?}", out);
        out.stdout
    }

    pub(super) fn commit(dir: &Path, message: &str) -> Oid {
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
        let id = String::from_utf8(git(dir, &["rev-parse", "HEAD"])).unwrap();
        Oid::from_str(id.trim()).unwrap()
    }

    /// git's own answer, as (status, lossy path) pairs.
    fn git_paths(dir: &Path, id: Oid) -> Vec<(char, String)> {
        let id = id.to_string();
        let out = git(
            dir,
            &[
                "diff-tree",
                "-r",
                "--root",
                "--no-renames",
                "--name-status",
                "-z",
                "--no-commit-id",
                &id,
            ],
        );
        out.split(|b| *b == 0)
            .filter(|f| !f.is_empty())
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|pair| {
                (
                    pair[0][0] as char,
                    String::from_utf8_lossy(pair[1]).into_owned(),
                )
            })
            .collect()
    }

    fn ours(repo: &Repo, id: Oid) -> Vec<(char, String)> {
        repo.changed_paths(id)
            .unwrap()
            .into_iter()
            .map(|c| (c.status, c.path.to_string()))
            .collect()
    }

    #[test]
    fn matches_git_diff_tree_for_every_kind_of_change() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        let w = |p: &str, c: &str| {
            let full = dir.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, c).unwrap();
        };
        w("a.txt", "1");
        w("a-b/x.txt", "1");
        w("a/b/c/deep.rs", "1");
        w("a/b/keep.rs", "1");
        w("same", "1");
        w("z/removed/one.txt", "1");
        w("z/removed/two.txt", "1");
        let mut ids = vec![commit(dir, "root")];
        w("a/b/c/deep.rs", "2");
        w("a/new/file.rs", "1");
        std::fs::remove_dir_all(dir.join("z")).unwrap();
        ids.push(commit(dir, "modify, add folder, remove folder"));
        // A file replaced by a folder of the same name, and a folder sorting between
        // `a-b` and `a.txt` in git's tree order.
        std::fs::remove_file(dir.join("same")).unwrap();
        w("same/inside.txt", "1");
        ids.push(commit(dir, "file to folder"));
        git(dir, &["update-index", "--chmod=+x", "a/b/keep.rs"]);
        ids.push(commit(dir, "mode only"));
        std::fs::remove_file(dir.join("a.txt")).unwrap();
        std::os::unix::fs::symlink("a/b/keep.rs", dir.join("a.txt")).unwrap();
        ids.push(commit(dir, "type change"));
        let bad = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(dir.join(bad), "latin-1 name").unwrap();
        ids.push(commit(dir, "invalid UTF-8 path"));
        ids.push(commit(dir, "empty"));

        let repo = Repo::discover(dir).unwrap();
        for id in &ids {
            assert_eq!(ours(&repo, *id), git_paths(dir, *id), "commit {id}");
        }
        // The batch API returns the same, in order.
        let newest_first: Vec<Oid> = ids.iter().rev().copied().collect();
        let walked = repo
            .walk_with(Base::Root, *ids.last().unwrap(), &mut || {}, |_| ())
            .unwrap()
            .commits;
        assert_eq!(
            walked.iter().map(|c| c.oid).collect::<Vec<_>>(),
            newest_first
        );
        let lists = repo.changed_paths_many(&walked, &mut |_| {}).0;
        let many: Vec<Vec<(char, String)>> = (0..lists.len())
            .map(|i| {
                lists
                    .get(i)
                    .unwrap()
                    .unwrap()
                    .iter()
                    .map(|c| (c.status, c.path.to_string()))
                    .collect()
            })
            .collect();
        let expected: Vec<_> = newest_first.iter().map(|id| git_paths(dir, *id)).collect();
        assert_eq!(many, expected);
        assert!(ours(&repo, ids[5]).contains(&('A', "caf\u{fffd}.txt".to_string())));
        assert!(ours(&repo, ids[4]).contains(&('T', "a.txt".to_string())));
    }

    /// With path rules, a diff lists paths in tree order up to the first one after
    /// which no rule matches them all, and then stops; it lists everything while
    /// some rule still could.
    #[test]
    fn a_diff_with_path_rules_stops_once_no_rule_can_match_every_path() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        let w = |p: &str| {
            let full = dir.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, p).unwrap();
        };
        w("base.txt");
        commit(dir, "root");
        for p in ["docs/a.md", "src/b.rs", "tests/c.rs"] {
            w(p);
        }
        let mixed = commit(dir, "docs, code and tests");
        for p in ["docs/d.md", "guide/e.md", "notes.md"] {
            w(p);
        }
        let docs = commit(dir, "documentation only");

        let repo = Repo::discover(dir).unwrap();
        let objects = repo.objects().unwrap();
        let rules = |rules: &[&[&str]]| {
            let globs = rules
                .iter()
                .map(|r| r.iter().map(|g| g.to_string()).collect())
                .collect();
            TreeCache::stopping_at(Some(Arc::new(PathRules::new(globs).unwrap())))
        };
        fn listed<'r>(
            repo: &'r Repo,
            objects: &'r Objects<'_>,
            cache: &mut TreeCache<'r>,
            id: Oid,
        ) -> Vec<String> {
            let read = repo.inner.find_commit(id).unwrap();
            let job = job(&Links::of(&Commit::read(&read)), |_| None);
            repo.diff_job(objects, &job, cache)
                .unwrap()
                .into_iter()
                .map(|c| c.path.to_string())
                .collect()
        }
        let mut fallback = rules(&[&["docs/**", "**/*.md"], &["tests/**"]]);
        // `src/b.rs` matches no rule: `tests/` is never read.
        assert_eq!(
            listed(&repo, &objects, &mut fallback, mixed),
            ["docs/a.md", "src/b.rs"]
        );
        // One rule matches everything: the whole list (the same cache, a clean slate).
        assert_eq!(
            listed(&repo, &objects, &mut fallback, docs),
            ["docs/d.md", "guide/e.md", "notes.md"]
        );
        // Each path matches some rule, but no rule all of them: stops at the second.
        let mut split = rules(&[&["docs/**"], &["src/**", "tests/**"]]);
        assert_eq!(
            listed(&repo, &objects, &mut split, mixed),
            ["docs/a.md", "src/b.rs"]
        );
        let mut everything = rules(&[&["**"]]);
        assert_eq!(
            listed(&repo, &objects, &mut everything, mixed),
            ["docs/a.md", "src/b.rs", "tests/c.rs"]
        );
        // Rules travel to the helper as JSON and come back the same.
        let rules = PathRules::new(vec![vec!["docs/**".into()], vec!["tests/**".into()]]).unwrap();
        let back = PathRules::from_json(&rules.to_json()).unwrap();
        assert_eq!(back.globs, rules.globs);
        assert!(PathRules::new(vec![vec!["a/[".into()]]).is_none());
    }
}

#[cfg(test)]
mod snapshot_tests {
    //! Files as of a commit, read from the packs (deltas included) or loose objects,
    //! must be what `git show <commit>:<path>` prints.
    use super::diff_tests::{commit, git};
    use super::*;

    /// git's answer for `commit:path`, if it is a file.
    fn git_file(dir: &Path, commit: Oid, path: &str) -> Option<Vec<u8>> {
        let spec = format!("{commit}:{path}");
        let kind = std::process::Command::new("git")
            .current_dir(dir)
            .args(["cat-file", "-t", &spec])
            .output()
            .unwrap();
        (kind.status.success() && kind.stdout == b"blob\n")
            .then(|| git(dir, &["cat-file", "blob", &spec]))
    }

    #[test]
    fn files_as_of_a_commit_read_as_git_reads_them_loose_and_packed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        let w = |path: &str, text: &str| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        // Versions of one long file, so that the packed ones are stored as deltas.
        let long: String = (0..400)
            .map(|i| format!("line {i} of the schema\n"))
            .collect();
        w("db/migrations/001.sql", &long);
        w("Cargo.lock", "[[package]]\nname = \"a\"\n");
        w("a/b/c/deep.txt", "deep");
        std::os::unix::fs::symlink("a/b/c/deep.txt", dir.join("link")).unwrap();
        let first = commit(dir, "one");
        w("db/migrations/001.sql", &format!("{long}-- changed\n"));
        w("db/migrations/002.sql", "DROP TABLE users;\n");
        std::fs::remove_file(dir.join("Cargo.lock")).unwrap();
        let second = commit(dir, "two");
        let paths = [
            "db/migrations/001.sql",
            "db/migrations/002.sql",
            "Cargo.lock",
            "a/b/c/deep.txt",
            "link",
            "a/b",
            "a/b/c/deep.txt/x",
            "missing",
            "",
            "a//b/c/deep.txt",
        ];
        let check = |label: &str| {
            let repo = Repo::discover(dir).unwrap();
            for id in [first, second] {
                let snapshot = repo.snapshot(id).unwrap();
                for path in paths {
                    assert_eq!(
                        snapshot.file(path),
                        git_file(dir, id, path),
                        "{label}: {path} as of {id}"
                    );
                }
            }
        };
        check("loose");
        git(dir, &["gc", "-q", "--aggressive"]);
        check("packed");
        // Packed as deltas for real: the test means nothing otherwise.
        let verify = String::from_utf8(git(
            dir,
            &["verify-pack", "-v", &{
                let pack = std::fs::read_dir(dir.join(".git/objects/pack"))
                    .unwrap()
                    .flatten()
                    .find(|e| e.path().extension().is_some_and(|x| x == "idx"))
                    .unwrap();
                pack.path().to_string_lossy().into_owned()
            }],
        ))
        .unwrap();
        assert!(
            verify
                .lines()
                .any(|l| l.contains(" blob ") && l.split_whitespace().count() >= 7),
            "{verify}"
        );
    }
}
