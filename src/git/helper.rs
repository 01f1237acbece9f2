//! Tree diffs in a helper process, so that they run on another core: half of
//! `plan`'s diff phase, and the path fallback's diffs while the walk is still
//! reading history.
//!
//! Why a process and not a thread: libgit2 reads pack files behind one process-wide
//! lock, and a second thread diffing trees slowed the walk by more than it saved
//! (BENCHMARKS.md). A second process has its own libgit2, so its reads do not wait
//! on the walk's. The helper is relplan itself (`relplan __changed-paths`), so there
//! is nothing extra to install; if it cannot be started or dies, the commits it did
//! not answer are diffed in process as before, so it only ever changes the speed.
//!
//! Protocol: one request per line on the helper's stdin, `<commit> <tree> <parent>`
//! where `<parent>` is `-` (root commit), `m` (merge: nothing to list), `t<tree>` (the
//! first parent's tree) or `c<commit>` (the first parent, whose tree the helper
//! reads). One answer per request on its stdout, in order: `<commit> <n>\n` and `n`
//! NUL-terminated records `<status><path>`, or `<commit> !<error>\n`. A first line
//! `stop <json>` gives the path fallback's rules (`PathRules`): each diff then stops
//! once no rule can match all of its paths.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use git2::Oid;
use rustc_hash::FxHashMap;

use super::{
    job, DiffJob, Parent, PathChange, PathLists, PathNames, PathRules, Paths, Repo, TreeCache,
};
use crate::error::{Error, Result};

/// The hidden subcommand the helper runs as.
pub const SUBCOMMAND: &str = "__changed-paths";

/// Below this many diffs, doing them in process is cheap (about 0.05–0.2 ms each)
/// and starting a process is not worth it. `RELPLAN_HELPER_MIN` overrides it
/// (`off`: never start a helper).
const DEFAULT_MIN_REQUESTS: usize = 256;

/// The executable that serves `SUBCOMMAND`: set by the `relplan` binary at startup.
/// Unset (library users, unit tests) means every diff stays in process.
static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// Lets `PathHelper` start `executable __changed-paths` (called by `main`).
pub fn enable(executable: PathBuf) {
    let _ = EXECUTABLE.set(executable);
}

/// How many diffs make a helper worth starting (`None`: never).
fn min_requests() -> Option<usize> {
    EXECUTABLE.get()?;
    match std::env::var("RELPLAN_HELPER_MIN") {
        Ok(v) if v == "off" => None,
        Ok(v) => Some(v.parse::<usize>().unwrap_or(DEFAULT_MIN_REQUESTS).max(1)),
        Err(_) => Some(DEFAULT_MIN_REQUESTS),
    }
}

/// One commit's changed paths as the helper wrote them, or why they could not be
/// read.
type Answer = std::result::Result<Vec<PathChange>, String>;

/// Answers from the helper, by commit, in the order they came (the order the
/// requests were sent, which is the order they are taken in). A list, not a map,
/// and the paths packed as they come (`PathLists`): a million-commit `plan` has the
/// helper answer half a million, and a map of lists of paths was 100 MiB at the
/// top of reading them (BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct Answers {
    ids: Vec<Oid>,
    paths: PathLists,
    taken: Vec<bool>,
    /// Where `take` looks first.
    next: usize,
    /// Each answer's place by commit, made only if one is asked for out of order.
    index: Option<FxHashMap<Oid, usize>>,
    /// Answers not taken yet.
    left: usize,
}

impl Answers {
    fn push(&mut self, oid: Oid, paths: Paths) {
        self.ids.push(oid);
        self.paths.push(paths);
        self.taken.push(false);
        self.left += 1;
    }

    /// The answer for `oid`, if one came and was not taken yet. A commit answered
    /// twice gives its first answer first.
    pub fn take(&mut self, oid: &Oid) -> Option<Paths> {
        while self.taken.get(self.next) == Some(&true) {
            self.next += 1;
        }
        let at = if self.ids.get(self.next) == Some(oid) {
            self.next
        } else {
            let ids = &self.ids;
            let index = self.index.get_or_insert_with(|| {
                let mut index = FxHashMap::default();
                for (at, id) in ids.iter().enumerate().rev() {
                    index.insert(*id, at);
                }
                index
            });
            // The first answer not taken: later duplicates wait for a later ask.
            let first = *index.get(oid)?;
            (first..self.ids.len()).find(|&at| self.ids[at] == *oid && !self.taken[at])?
        };
        self.taken[at] = true;
        self.left -= 1;
        Some(self.paths.to_paths(at))
    }

    pub fn len(&self) -> usize {
        self.left
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The answers not taken, in the order they came.
    pub fn into_untaken(self) -> impl Iterator<Item = (Oid, Paths)> {
        let Answers {
            ids, paths, taken, ..
        } = self;
        (0..ids.len())
            .filter(move |&at| !taken[at])
            .map(move |at| (ids[at], paths.to_paths(at)))
    }
}

/// How many requests the helper is given ahead of its answers: enough that it never
/// waits, few enough that whoever asks can still take the rest. 256 unless
/// `RELPLAN_HELPER_AHEAD` says otherwise (tests use a small one to exercise the
/// backlog).
pub fn ahead() -> usize {
    static AHEAD: OnceLock<usize> = OnceLock::new();
    *AHEAD.get_or_init(|| {
        std::env::var("RELPLAN_HELPER_AHEAD")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n >= 2)
            .unwrap_or(256)
    })
}

/// Diff requests for a helper process. Every method is best effort: a helper that
/// cannot be started or stops answering only leaves requests unanswered, and every
/// request not sent or not answered is handed back (`take_backlog`, `finish`) for the
/// caller to diff in process. Nothing asked is ever lost.
pub struct PathHelper {
    git_dir: PathBuf,
    /// Requests to collect before starting the helper (`None`: never start).
    min_requests: Option<usize>,
    /// Requests not sent yet, oldest first: before the helper starts, and beyond
    /// the `ahead()` it is kept to.
    backlog: VecDeque<DiffJob>,
    /// Requests kept back until the walk is over (`defer_commit`).
    deferred: Vec<DiffJob>,
    running: Option<Running>,
    /// The helper could not be started or stopped reading: no more requests.
    failed: bool,
    /// The requests sent and not known to be answered, in order: those answered
    /// are let go as the answers come (`pruned` counts them), the rest are handed
    /// back by `finish` if the helper dies. Kept whole, they were 33–66 MiB of a
    /// million-commit `plan`.
    sent: VecDeque<DiffJob>,
    /// How many requests were sent and let go from `sent`.
    pruned: usize,
    answered: Arc<AtomicUsize>,
    /// What the requests are for: only whether every path matches one rule.
    stop: Option<Arc<PathRules>>,
}

struct Running {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    reader: JoinHandle<()>,
    inbox: Arc<Mutex<Inbox>>,
}

/// Where the reader thread puts the helper's answers as they come: the newest in a
/// queue the caller takes them from (`take_next`), the older packed (`Answers`)
/// once the queue is long, which it only gets while nothing takes them (during a
/// walk). Taken as they come, `plan`'s half a million answers are never all held.
#[derive(Default)]
struct Inbox {
    older: Answers,
    queue: VecDeque<(Oid, Paths)>,
}

/// Answers kept unpacked in the queue, at most: a few times `ahead()`.
const QUEUE_MAX: usize = 1024;

impl Inbox {
    fn push(&mut self, oid: Oid, paths: Paths) {
        self.queue.push_back((oid, paths));
        if self.queue.len() > QUEUE_MAX {
            if let Some((oid, paths)) = self.queue.pop_front() {
                self.older.push(oid, paths);
            }
        }
    }

    /// Every answer not taken, packed, in the order they came.
    fn into_answers(self) -> Answers {
        let mut answers = self.older;
        for (oid, paths) in self.queue {
            answers.push(oid, paths);
        }
        answers
    }
}

impl PathHelper {
    /// A helper started once enough requests have been made (the path fallback,
    /// whose number of diffs is not known in advance).
    pub fn new(repo: &Repo) -> PathHelper {
        PathHelper {
            git_dir: repo.inner.path().to_path_buf(),
            min_requests: min_requests(),
            backlog: VecDeque::new(),
            deferred: Vec::new(),
            running: None,
            failed: false,
            sent: VecDeque::new(),
            pruned: 0,
            answered: Arc::new(AtomicUsize::new(0)),
            stop: None,
        }
    }

    /// Diffs for the path fallback: each may stop as soon as no rule of `rules` can
    /// match every path it lists, here and in the helper.
    pub fn stopping_at(mut self, rules: Option<PathRules>) -> PathHelper {
        self.stop = rules.map(Arc::new);
        self
    }

    pub(crate) fn stop_rules(&self) -> Option<Arc<PathRules>> {
        self.stop.clone()
    }

    /// A helper started now, if `diffs` diffs are worth one.
    pub fn start(repo: &Repo, diffs: usize) -> Option<PathHelper> {
        let mut helper = PathHelper::new(repo);
        if helper.min_requests.is_none_or(|min| diffs < min) {
            return None;
        }
        helper.spawn();
        helper.is_running().then_some(helper)
    }

    /// Whether requests are being answered (started, and not failed).
    pub fn is_running(&self) -> bool {
        self.running.is_some() && !self.failed
    }

    /// Asks for the changed paths of `commit` of a walk (its parent's tree is read by
    /// the helper): sent when the helper has room for it, else kept in the backlog.
    pub fn request_commit(&mut self, commit: &super::Commit) {
        self.enqueue(&commit_job(commit));
        self.pump();
    }

    /// Keeps the request for `commit`'s changed paths back until the walk is over
    /// (`take_backlog`), when the caller knows whether they are needed: a commit on a
    /// pull request's branch whose merge folds it is listed by the title.
    pub fn defer_commit(&mut self, commit: &super::Commit) {
        self.deferred.push(commit_job(commit));
    }

    /// Adds `job` to the backlog (starting the helper once it is worth it); `send`
    /// sends it.
    pub(crate) fn enqueue(&mut self, job: &DiffJob) {
        self.backlog.push_back(*job);
        let worth_it = self
            .min_requests
            .is_some_and(|min| self.backlog.len() >= min);
        if self.running.is_none() && !self.failed && worth_it {
            self.spawn();
        }
    }

    /// Sends backlog requests while the helper has fewer than `ahead()` to answer, in
    /// batches while it is busy: a request at a time would wake both processes (and
    /// this one's reader thread) for every diff.
    pub fn pump(&mut self) {
        let batch = (ahead() / 8).max(1);
        if self.outstanding() >= batch && self.backlog.len() < batch {
            return;
        }
        self.send();
    }

    /// Sends backlog requests while the helper has fewer than `ahead()` to answer.
    pub fn send(&mut self) {
        let ahead = ahead();
        if !self.is_running() || self.backlog.is_empty() || self.outstanding() >= ahead {
            return;
        }
        // Answers come in the order requests were sent.
        let answered = self.answered();
        while self.pruned < answered && self.sent.pop_front().is_some() {
            self.pruned += 1;
        }
        let mut ok = true;
        while self.outstanding() < ahead {
            // `is_running` above: there is a helper to write to.
            let (Some(running), Some(job)) = (self.running.as_mut(), self.backlog.pop_front())
            else {
                break;
            };
            if running
                .stdin
                .write_all(request_line(&job).as_bytes())
                .is_err()
            {
                self.backlog.push_front(job);
                ok = false;
                break;
            }
            self.sent.push_back(job);
        }
        let flushed = self
            .running
            .as_mut()
            .is_some_and(|running| running.stdin.flush().is_ok());
        if !ok || !flushed {
            self.failed = true;
        }
    }

    /// Requests sent and not answered yet.
    pub fn outstanding(&self) -> usize {
        (self.pruned + self.sent.len()).saturating_sub(self.answered())
    }

    /// The helper's answer for `oid`, if it is the next one that came and was not
    /// taken. Answers that came before this caller's requests are left for `finish`.
    pub(crate) fn take_next(&mut self, oid: &Oid) -> Option<Paths> {
        let running = self.running.as_ref()?;
        let mut inbox = running.inbox.lock().ok()?;
        if !inbox.older.is_empty() || inbox.queue.front().is_none_or(|(id, _)| id != oid) {
            return None;
        }
        inbox.queue.pop_front().map(|(_, paths)| paths)
    }

    /// Requests answered so far.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// The requests not sent (yet), for the caller to diff or to ask again.
    pub(crate) fn take_backlog(&mut self) -> Vec<DiffJob> {
        let deferred = std::mem::take(&mut self.deferred);
        self.backlog.drain(..).chain(deferred).collect()
    }

    fn spawn(&mut self) {
        let Some(exe) = EXECUTABLE.get() else {
            self.failed = true;
            return;
        };
        let spawned = Command::new(exe)
            .arg(SUBCOMMAND)
            .arg(&self.git_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = spawned else {
            self.failed = true;
            return;
        };
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            self.failed = true;
            return;
        };
        let answered = Arc::clone(&self.answered);
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let filled = Arc::clone(&inbox);
        let reader = std::thread::spawn(move || {
            read_answers(BufReader::new(stdout), &answered, &filled);
        });
        let mut stdin = BufWriter::with_capacity(1 << 16, stdin);
        if let Some(stop) = &self.stop {
            // Buffered with the first requests; a failed write shows when they are sent.
            let _ = writeln!(stdin, "stop {}", stop.to_json());
        }
        self.running = Some(Running {
            child,
            stdin,
            reader,
            inbox,
        });
    }

    /// Every answer the helper gave, and the requests it was sent but did not
    /// answer (it died), for the caller to diff. Call `take_backlog` first: what
    /// was never sent is not returned here.
    pub(crate) fn finish(mut self) -> (Answers, Vec<DiffJob>) {
        let Some(mut running) = self.running.take() else {
            return (Answers::default(), Vec::new());
        };
        // Closing stdin tells the helper there is nothing more to ask.
        let _ = running.stdin.flush();
        drop(running.stdin);
        let _ = running.reader.join();
        let _ = running.child.wait();
        let inbox = std::mem::take(&mut *running.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        // Answers come in the order requests were sent: those still held past the
        // answers that came were not answered.
        let answered = self.answered();
        while self.pruned < answered && self.sent.pop_front().is_some() {
            self.pruned += 1;
        }
        let unanswered = self.sent.drain(..).collect();
        (inbox.into_answers(), unanswered)
    }
}

impl Drop for PathHelper {
    fn drop(&mut self) {
        // Only reached without `finish` (an error elsewhere): no helper outlives us.
        if let Some(running) = &mut self.running {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}

/// The request for `commit`'s changed paths, its parent's tree read by the helper.
fn commit_job(commit: &super::Commit) -> DiffJob {
    job(&super::Links::of(commit), |_| None)
}

/// Reads answers until the helper closes its stdout (or sends something unreadable).
fn read_answers(mut from: impl BufRead, answered: &AtomicUsize, inbox: &Mutex<Inbox>) {
    let mut names = PathNames::default();
    while let Some((oid, answer)) = read_answer(&mut from, &mut names) {
        match inbox.lock() {
            Ok(mut inbox) => inbox.push(oid, answer.map_err(|e| Box::new(Error::runtime(e)))),
            Err(_) => return,
        }
        // Counted once it can be taken.
        answered.fetch_add(1, Ordering::Relaxed);
    }
}

/// One whole answer, or `None` at the end of the stream or on anything unreadable.
fn read_answer(from: &mut impl BufRead, names: &mut PathNames) -> Option<(Oid, Answer)> {
    let mut line = Vec::new();
    from.read_until(b'\n', &mut line).ok()?;
    let text = std::str::from_utf8(&line).ok()?.strip_suffix('\n')?;
    let (id, rest) = text.split_once(' ')?;
    let oid = Oid::from_str(id).ok()?;
    if let Some(error) = rest.strip_prefix('!') {
        return Some((oid, Err(error.to_string())));
    }
    let count: usize = rest.parse().ok()?;
    let mut paths = Vec::with_capacity(count.min(1 << 16));
    let mut record = Vec::new();
    for _ in 0..count {
        record.clear();
        from.read_until(0, &mut record).ok()?;
        let [status, path @ .., 0] = &record[..] else {
            return None;
        };
        paths.push(PathChange {
            status: char::from(*status),
            path: names.get(&[path]),
        });
    }
    Some((oid, Ok(paths)))
}

/// The helper's side: answers requests from `input` on `output` until `input` ends.
pub fn serve(git_dir: &Path, input: impl Read, output: impl Write) -> Result<()> {
    let repo = Repo::discover(git_dir)?;
    // Opened at the first request.
    let objects = std::cell::OnceCell::new();
    let mut cache = TreeCache::default();
    let mut out = BufWriter::with_capacity(1 << 16, output);
    let mut first = true;
    let write_error = |e: std::io::Error| Error::runtime(format!("cannot answer: {e}"));
    let mut input = BufReader::new(input);
    let mut line = String::new();
    // Tests stand in for a helper that dies mid-way: it stops after this many answers.
    let mut answers_left: Option<usize> = std::env::var("RELPLAN_HELPER_STOP_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    loop {
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| Error::runtime(format!("cannot read a request: {e}")))?;
        if read == 0 {
            break;
        }
        if std::mem::take(&mut first) {
            if let Some(rules) = line.trim_end().strip_prefix("stop ") {
                // Rules that do not compile only cost the early stop.
                cache = TreeCache::stopping_at(PathRules::from_json(rules).map(Arc::new));
                continue;
            }
        }
        if let Some(left) = answers_left.as_mut() {
            if *left == 0 {
                out.flush().map_err(write_error)?;
                return Err(Error::runtime("stopped by RELPLAN_HELPER_STOP_AFTER"));
            }
            *left -= 1;
        }
        let job = parse_request(line.trim_end())
            .ok_or_else(|| Error::input(format!("malformed request {line:?}")))?;
        let objects = match objects.get() {
            Some(objects) => objects,
            None => {
                let opened = repo.objects()?;
                objects.get_or_init(|| opened)
            }
        };
        match repo.diff_job(objects, &job, &mut cache) {
            Ok(paths) => {
                writeln!(out, "{} {}", job.commit, paths.len()).map_err(write_error)?;
                for p in paths {
                    let status = if p.status.is_ascii() {
                        p.status as u8
                    } else {
                        b'M'
                    };
                    out.write_all(&[status]).map_err(write_error)?;
                    out.write_all(p.path.as_bytes()).map_err(write_error)?;
                    out.write_all(b"\0").map_err(write_error)?;
                }
            }
            Err(e) => {
                let error = e.to_string().replace('\n', " ");
                writeln!(out, "{} !{error}", job.commit).map_err(write_error)?;
            }
        }
        // Answer as soon as the asker has nothing more queued: it may be waiting.
        if input.buffer().is_empty() {
            out.flush().map_err(write_error)?;
        }
    }
    out.flush().map_err(write_error)
}

/// One request line (see the module documentation), newline included.
fn request_line(job: &DiffJob) -> String {
    let parent = match job.parent {
        Parent::Root => "-".to_string(),
        Parent::Merge => "m".to_string(),
        Parent::Tree(tree) => format!("t{tree}"),
        Parent::Commit(commit) => format!("c{commit}"),
    };
    format!("{} {} {parent}\n", job.commit, job.tree)
}

fn parse_request(line: &str) -> Option<DiffJob> {
    let mut fields = line.split(' ');
    let commit = Oid::from_str(fields.next()?).ok()?;
    let tree = Oid::from_str(fields.next()?).ok()?;
    let parent = fields.next()?;
    let parent = match (parent, parent.get(1..)) {
        ("-", _) => Parent::Root,
        ("m", _) => Parent::Merge,
        (p, Some(id)) if p.starts_with('t') => Parent::Tree(Oid::from_str(id).ok()?),
        (p, Some(id)) if p.starts_with('c') => Parent::Commit(Oid::from_str(id).ok()?),
        _ => return None,
    };
    fields.next().is_none().then_some(DiffJob {
        commit,
        tree,
        parent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::diff_tests::{commit, git};

    fn paths<E: std::fmt::Debug>(
        answer: &std::result::Result<Vec<PathChange>, E>,
    ) -> Vec<(char, &str)> {
        let paths = answer.as_ref().expect("an answer with paths");
        paths.iter().map(|p| (p.status, &*p.path)).collect()
    }

    /// A taken answer, comparable: its paths, or its error's text.
    fn shown(taken: Option<Paths>) -> Option<std::result::Result<Vec<(char, String)>, String>> {
        taken.map(|answer| match answer {
            Ok(list) => Ok(list
                .iter()
                .map(|p| (p.status, p.path.to_string()))
                .collect()),
            Err(e) => Err(e.to_string()),
        })
    }

    #[test]
    fn answers_parse_and_a_cut_stream_keeps_only_whole_answers() {
        let [a, b, c] = [1u8, 2, 3].map(|n| Oid::from_bytes(&[n; 20]).unwrap());
        let stream =
            format!("{a} 2\nMsrc/x.rs\0Adocs/a b.md\0{b} !cannot read tree\n{c} 2\nDonly-one\0");
        let answered = AtomicUsize::new(0);
        let read = |stream: &[u8]| {
            let inbox = Mutex::new(Inbox::default());
            read_answers(stream, &answered, &inbox);
            inbox.into_inner().unwrap().into_answers()
        };
        let mut answers = read(stream.as_bytes());
        assert_eq!(answers.len(), 2);
        assert_eq!(
            paths(&answers.take(&a).unwrap()),
            [('M', "src/x.rs"), ('A', "docs/a b.md")]
        );
        assert_eq!(
            shown(answers.take(&b)),
            Some(Err("cannot read tree".to_string()))
        );
        assert!(answers.take(&c).is_none(), "{answers:?}");
        assert_eq!(answered.load(Ordering::Relaxed), 2);
        assert!(read(&b"not an answer\n"[..]).is_empty());
    }

    #[test]
    fn answers_are_taken_in_order_or_out_of_it_each_once() {
        let [a, b, c, d] = [1u8, 2, 3, 4].map(|n| Oid::from_bytes(&[n; 20]).unwrap());
        let answer = |n: usize| {
            Ok(vec![PathChange {
                status: 'M',
                path: format!("f{n}").into(),
            }])
        };
        let expected = |n: usize| shown(Some(answer(n)));
        let mut answers = Answers::default();
        for (n, oid) in [a, b, c, b, d].into_iter().enumerate() {
            answers.push(oid, answer(n));
        }
        assert_eq!(answers.len(), 5);
        // In the order they came, then out of it, and a commit answered twice gives
        // its answers one after the other.
        assert_eq!(shown(answers.take(&a)), expected(0));
        assert_eq!(shown(answers.take(&c)), expected(2));
        assert_eq!(shown(answers.take(&b)), expected(1));
        assert_eq!(shown(answers.take(&b)), expected(3));
        assert!(answers.take(&b).is_none());
        assert!(answers.take(&a).is_none());
        assert_eq!(answers.len(), 1);
        let left: Vec<Oid> = answers.into_untaken().map(|(oid, _)| oid).collect();
        assert_eq!(left, [d]);
    }

    #[test]
    fn requests_round_trip_and_malformed_ones_are_refused() {
        let [c, t, p] = [4u8, 5, 6].map(|n| Oid::from_bytes(&[n; 20]).unwrap());
        for parent in [
            Parent::Root,
            Parent::Merge,
            Parent::Tree(p),
            Parent::Commit(p),
        ] {
            let want = format!("{parent:?}");
            let line = request_line(&DiffJob {
                commit: c,
                tree: t,
                parent,
            });
            let job = parse_request(line.trim_end()).expect(&line);
            assert_eq!((job.commit, job.tree), (c, t));
            assert_eq!(format!("{:?}", job.parent), want);
        }
        for bad in [
            "",
            "abc",
            &format!("{c} {t}"),
            &format!("{c} {t} x{p}"),
            &format!("{c} {t} - extra"),
        ] {
            assert!(parse_request(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn serve_answers_every_request_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        std::fs::write(dir.join("a.txt"), "a").unwrap();
        let root = commit(dir, "root");
        std::fs::create_dir(dir.join("docs")).unwrap();
        std::fs::write(dir.join("docs/new\nline.md"), "b").unwrap();
        std::fs::remove_file(dir.join("a.txt")).unwrap();
        let second = commit(dir, "second");
        let tree = |c: Oid| {
            let out = git(dir, &["rev-parse", &format!("{c}^{{tree}}")]);
            String::from_utf8(out).unwrap().trim().to_string()
        };
        let (root_tree, second_tree) = (tree(root), tree(second));
        let missing = Oid::from_bytes(&[7; 20]).unwrap();

        let mut out = Vec::new();
        let input = format!(
            "{second} {second_tree} c{root}\n{missing} {missing} -\n{root} {root_tree} -\n{second} {second_tree} t{root_tree}\n{second} {second_tree} m\n"
        );
        serve(&dir.join(".git"), input.as_bytes(), &mut out).unwrap();
        // In order: the same commit asked three ways gives three answers.
        let mut rest = &out[..];
        let mut names = PathNames::default();
        let answers: Vec<_> = std::iter::from_fn(|| read_answer(&mut rest, &mut names)).collect();
        assert_eq!(answers.len(), 5);
        assert_eq!(answers[0].0, second);
        assert_eq!(
            paths(&answers[0].1),
            [('D', "a.txt"), ('A', "docs/new\nline.md")]
        );
        assert_eq!(answers[1].0, missing);
        assert!(answers[1]
            .1
            .as_ref()
            .is_err_and(|e| e.contains(&missing.to_string())));
        assert_eq!(
            (answers[2].0, paths(&answers[2].1)),
            (root, vec![('A', "a.txt")])
        );
        assert_eq!(paths(&answers[3].1), paths(&answers[0].1));
        assert_eq!(paths(&answers[4].1), []);

        let bad = serve(&dir.join(".git"), &b"not-a-request\n"[..], &mut Vec::new());
        assert!(bad.is_err());
    }
}
