//! The path fallback's diffs in a helper process, so that they run on another core
//! while the walk is still reading history.
//!
//! Why a process and not a thread: libgit2 reads pack files behind one process-wide
//! lock, and a second thread diffing trees slowed the walk by more than it saved
//! (BENCHMARKS.md). A second process has its own libgit2, so its reads do not wait
//! on the walk's. The helper is relplan itself (`relplan __changed-paths`), so there
//! is nothing extra to install; if it cannot be started or dies, the commits it did
//! not answer are diffed in process as before, so it only ever changes the speed.
//!
//! Protocol: one commit id per line on the helper's stdin; one answer per request on
//! its stdout, in order: `<commit> <n>\n` followed by `n` NUL-terminated paths, or
//! `<commit> !<error>\n`.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use git2::Oid;
use rustc_hash::FxHashMap;

use super::{Commit, Repo};
use crate::error::{Error, Result};

/// The hidden subcommand the helper runs as.
pub const SUBCOMMAND: &str = "__changed-paths";

/// Below this many requests a range's fallback is cheap in process (about 0.1–0.2 ms
/// a commit), and starting a process is not worth it. `RELPLAN_PATH_HELPER_MIN`
/// overrides it (`off`: never use the helper).
const DEFAULT_MIN_REQUESTS: usize = 256;

/// The executable that serves `SUBCOMMAND`: set by the `relplan` binary at startup.
/// Unset (library users, unit tests) means every diff stays in process.
static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// Lets `PathHelper` start `executable __changed-paths` (called by `main`).
pub fn enable(executable: PathBuf) {
    let _ = EXECUTABLE.set(executable);
}

/// Answers from the helper, by commit: changed paths, or why they could not be read.
pub type Answers = FxHashMap<Oid, std::result::Result<Vec<String>, String>>;

/// Changed-path requests for a range's fallback commits, sent to a helper process
/// once there are enough of them to pay for it.
pub struct PathHelper {
    git_dir: PathBuf,
    min_requests: Option<usize>,
    /// Requests made before the helper was started.
    pending: Vec<String>,
    running: Option<Running>,
    /// The helper could not be started or stopped answering: no more requests.
    failed: bool,
}

struct Running {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    answers: JoinHandle<Answers>,
}

impl PathHelper {
    pub fn new(repo: &Repo) -> PathHelper {
        let min_requests = match std::env::var("RELPLAN_PATH_HELPER_MIN") {
            Ok(v) if v == "off" => None,
            Ok(v) => Some(v.parse().unwrap_or(DEFAULT_MIN_REQUESTS)),
            Err(_) => Some(DEFAULT_MIN_REQUESTS),
        };
        PathHelper {
            git_dir: repo.inner.path().to_path_buf(),
            min_requests: min_requests.filter(|_| EXECUTABLE.get().is_some()),
            pending: Vec::new(),
            running: None,
            failed: false,
        }
    }

    /// Asks for the changed paths of `commit` (answered by `finish`).
    pub fn request(&mut self, commit: &Commit) {
        let Some(min) = self.min_requests else {
            return;
        };
        if self.failed {
            return;
        }
        let line = format!("{}\n", commit.oid);
        match &mut self.running {
            Some(running) => {
                if running.stdin.write_all(line.as_bytes()).is_err() {
                    self.failed = true;
                }
            }
            None => {
                self.pending.push(line);
                if self.pending.len() >= min.max(1) {
                    self.start();
                }
            }
        }
    }

    fn start(&mut self) {
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
            self.failed = true;
            return;
        };
        let answers = std::thread::spawn(move || read_answers(BufReader::new(stdout)));
        let mut stdin = BufWriter::new(stdin);
        for line in self.pending.drain(..) {
            if stdin.write_all(line.as_bytes()).is_err() {
                self.failed = true;
                break;
            }
        }
        self.running = Some(Running {
            child,
            stdin,
            answers,
        });
    }

    /// Every answer the helper gave (none if it never started). Commits missing from
    /// the answers are the caller's to diff.
    pub fn finish(mut self) -> Answers {
        let Some(mut running) = self.running.take() else {
            return Answers::default();
        };
        // Closing stdin tells the helper there is nothing more to ask.
        let _ = running.stdin.flush();
        drop(running.stdin);
        let answers = running.answers.join().unwrap_or_default();
        let _ = running.child.wait();
        answers
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

/// Reads answers until the helper closes its stdout (or sends something unreadable).
fn read_answers(mut from: impl BufRead) -> Answers {
    let mut answers = Answers::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return answers,
            Ok(_) => {}
        }
        let Some(text) = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| l.strip_suffix('\n'))
        else {
            return answers;
        };
        let Some((id, rest)) = text.split_once(' ') else {
            return answers;
        };
        let Ok(oid) = Oid::from_str(id) else {
            return answers;
        };
        if let Some(error) = rest.strip_prefix('!') {
            answers.insert(oid, Err(error.to_string()));
            continue;
        }
        let Ok(count) = rest.parse::<usize>() else {
            return answers;
        };
        let mut paths = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let mut path = Vec::new();
            match from.read_until(0, &mut path) {
                Ok(_) if path.last() == Some(&0) => {
                    path.pop();
                    paths.push(String::from_utf8_lossy(&path).into_owned());
                }
                _ => return answers,
            }
        }
        answers.insert(oid, Ok(paths));
    }
}

/// The helper's side: answers requests from `input` on `output` until `input` ends.
pub fn serve(git_dir: &Path, input: impl Read, output: impl Write) -> Result<()> {
    let repo = Repo::discover(git_dir)?;
    let odb = repo.odb()?;
    let mut reader = repo.path_reader(&odb, &[]);
    let mut out = BufWriter::new(output);
    let write_error = |e: std::io::Error| Error::runtime(format!("cannot answer: {e}"));
    for line in BufReader::new(input).lines() {
        let line = line.map_err(|e| Error::runtime(format!("cannot read a request: {e}")))?;
        let oid = Oid::from_str(line.trim())
            .map_err(|_| Error::input(format!("malformed request {line:?}")))?;
        let answer = repo
            .read_commit(oid)
            .and_then(|commit| reader.changed_paths(&commit));
        match answer {
            Ok(paths) => {
                writeln!(out, "{oid} {}", paths.len()).map_err(write_error)?;
                for p in paths {
                    out.write_all(p.path.as_bytes()).map_err(write_error)?;
                    out.write_all(b"\0").map_err(write_error)?;
                }
            }
            Err(e) => {
                let error = e.to_string().replace('\n', " ");
                writeln!(out, "{oid} !{error}").map_err(write_error)?;
            }
        }
    }
    out.flush().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::diff_tests::{commit, git};

    #[test]
    fn answers_parse_and_a_cut_stream_keeps_only_whole_answers() {
        let (a, b, c) = (
            Oid::from_bytes(&[1; 20]).unwrap(),
            Oid::from_bytes(&[2; 20]).unwrap(),
            Oid::from_bytes(&[3; 20]).unwrap(),
        );
        let stream =
            format!("{a} 2\nsrc/x.rs\0docs/a b.md\0{b} !cannot read tree\n{c} 2\nonly-one\0");
        let answers = read_answers(stream.as_bytes());
        assert_eq!(
            answers[&a],
            Ok(vec!["src/x.rs".to_string(), "docs/a b.md".to_string()])
        );
        assert_eq!(answers[&b], Err("cannot read tree".to_string()));
        assert!(!answers.contains_key(&c), "{answers:?}");
        assert!(read_answers(&b"not an answer\n"[..]).is_empty());
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
        std::fs::write(dir.join("a.txt"), "changed").unwrap();
        let second = commit(dir, "second");
        let missing = Oid::from_bytes(&[7; 20]).unwrap();

        let mut out = Vec::new();
        let input = format!("{second}\n{missing}\n{root}\n");
        serve(&dir.join(".git"), input.as_bytes(), &mut out).unwrap();
        let answers = read_answers(&out[..]);
        assert_eq!(
            answers[&second],
            Ok(vec!["a.txt".to_string(), "docs/new\nline.md".to_string()])
        );
        assert_eq!(answers[&root], Ok(vec!["a.txt".to_string()]));
        assert!(
            answers[&missing]
                .as_ref()
                .is_err_and(|e| e.contains(&missing.to_string())),
            "{answers:?}"
        );

        let bad = serve(&dir.join(".git"), &b"not-an-id\n"[..], &mut Vec::new());
        assert!(bad.is_err());
    }
}
