//! Builds throwaway git repositories and runs relplan in a sealed environment:
//! cleared env, temp HOME, no user or system gitconfig, fixed clock, no tokens.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

/// "Today" for every test unless a test sets its own.
pub const NOW: &str = "2026-12-01T09:00:00Z";

pub struct TestRepo {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
    /// Seconds added to the commit clock per commit, so history order is stable.
    tick: std::cell::Cell<i64>,
}

impl TestRepo {
    pub fn new() -> TestRepo {
        let repo = TestRepo {
            dir: tempfile::tempdir().expect("temp dir"),
            home: tempfile::tempdir().expect("temp home"),
            tick: std::cell::Cell::new(0),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// A git command in the repository, sealed from the machine's config.
    pub fn git_command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com");
        let t = 1_780_000_000 + self.tick.get() * 60;
        cmd.env("GIT_AUTHOR_DATE", format!("@{t} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        cmd
    }

    /// Runs git with `args`; panics with git's stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_command().args(args).output().expect("run git");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Writes `content` to `path` (creating folders).
    pub fn write(&self, path: &str, content: &str) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
        self
    }

    /// Commits everything in the work tree with `message`; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.tick.set(self.tick.get() + 1);
        self.git(&["add", "-A"]);
        let output = self
            .git_command()
            .args([
                "commit",
                "-q",
                "--allow-empty",
                "--cleanup=verbatim",
                "-F",
                "-",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(message.as_bytes())?;
                child.wait_with_output()
            })
            .expect("git commit");
        assert!(
            output.status.success(),
            "commit failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.head()
    }

    /// Writes a file named after the message's first word and commits.
    pub fn change(&self, path: &str, message: &str) -> String {
        let n = self.tick.get();
        self.write(path, &format!("{message}\n{n}\n"));
        self.commit(message)
    }

    /// Runs a git command that creates a commit (`merge`, `revert`) one clock tick
    /// later, so history order stays stable; returns the new HEAD.
    pub fn git_commit_step(&self, args: &[&str]) -> String {
        self.tick.set(self.tick.get() + 1);
        self.git(args);
        self.head()
    }

    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// relplan, run in the repository root with a sealed environment.
    pub fn relplan(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.relplan_process())
    }

    /// The same sealed relplan as a plain process, to read its output as it comes.
    pub fn relplan_process(&self) -> Command {
        let mut cmd = Command::cargo_bin("relplan").unwrap();
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("RELPLAN_NOW", NOW);
        cmd
    }

    /// `relplan scope --format json`, which must succeed, parsed.
    pub fn scope_json(&self) -> serde_json::Value {
        json_of(
            self.relplan()
                .args(["scope", "--format", "json"])
                .assert()
                .success(),
        )
    }

    /// `relplan plan VERSION --date 2026-12-15 --dry-run --format json`, which must
    /// succeed: the plan as JSON, nothing written.
    pub fn dry_run_plan(&self, version: &str) -> serde_json::Value {
        json_of(
            self.relplan()
                .args([
                    "plan",
                    version,
                    "--date",
                    "2026-12-15",
                    "--dry-run",
                    "--format",
                    "json",
                ])
                .assert()
                .success(),
        )
    }

    /// Reads a file of the repository (e.g. a plan document).
    pub fn read(&self, path: &str) -> String {
        let full: PathBuf = self.path().join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.path().join(path).exists()
    }
}

/// stdout of a successful command, as a string.
pub fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).expect("utf-8 stdout")
}

/// stdout of a successful command, as JSON.
pub fn json_of(assert: assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("JSON on stdout")
}
