//! Writing a plan directory without losing a person's edits.
//!
//! Every file is written atomically: documents are staged (`Stage`) and renamed into
//! place once all rendered; metadata and the log go through a temporary file in
//! their own folder. `metadata.json` records the SHA-256 of every document relplan wrote;
//! on a re-run a document whose content still has that hash is regenerated, one a
//! person edited is kept and the fresh version goes beside it as `<name>.new`.
//! `force` overwrites everything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const METADATA: &str = "metadata.json";
pub const LOG: &str = "planning.log";

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New file.
    Created,
    /// Existing file relplan had written and nobody edited: regenerated.
    Updated,
    /// Existing file already had exactly this content.
    Unchanged,
    /// Edited by a person: kept, fresh version written as `<name>.new`.
    KeptEdited,
    /// Edited by a person, overwritten because of `--force`.
    Overwritten,
}

#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub path: String,
    pub outcome: Outcome,
}

/// The state of an existing plan directory, read before writing.
#[derive(Debug, Default)]
pub struct Previous {
    /// Hashes recorded by the last run, by relative path.
    pub hashes: BTreeMap<String, String>,
    /// `planning_started` of the first run, kept across re-runs.
    pub planning_started: Option<String>,
}

/// Reads `metadata.json` of an existing plan directory, if any.
pub fn read_previous(dir: &Path) -> Result<Previous> {
    let path = dir.join(METADATA);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Previous::default());
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::input(format!(
            "{} is not valid JSON ({e}); fix or delete it, or re-run with --force",
            path.display()
        ))
    })?;
    let hashes = value
        .get("files")
        .and_then(|f| f.as_object())
        .map(|files| {
            files
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|h| (k.clone(), h.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let planning_started = value
        .get("planning_started")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(Previous {
        hashes,
        planning_started,
    })
}

pub fn sha256(content: &[u8]) -> String {
    hex_digest(Sha256::new_with_prefix(content))
}

/// `sha256:` and the hex digest: how metadata.json records a file.
fn hex_digest(hasher: Sha256) -> String {
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in hasher.finalize() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The plan's documents as they are rendered, one at a time, straight to where they
/// go: each one's bytes are hashed as they come and, unless this is a dry run,
/// written to a file in a private staging folder beside the plan directory. Nothing
/// is moved into the plan directory until every document rendered (`write_plan`): a
/// template error writes nothing. No document is held in memory: on a
/// million-commit range the scope alone is about 100 MB (BENCHMARKS.md item 53).
pub struct Stage {
    dir: PathBuf,
    /// `None` for a dry run.
    staging: Option<tempfile::TempDir>,
    documents: Vec<Staged>,
}

/// One rendered document: its path in the plan directory and its hash.
struct Staged {
    path: String,
    hash: String,
}

/// Where a document's bytes go while it is rendered.
struct Sink {
    hasher: Sha256,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = &mut self.file {
            file.write_all(bytes)?;
        }
        self.hasher.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Stage {
    /// A stage for the plan directory `dir`; `dry_run` keeps only the hashes.
    pub fn new(dir: &Path, dry_run: bool) -> Result<Stage> {
        let staging = if dry_run {
            None
        } else {
            // In the nearest folder that exists: on the same file system as the plan
            // directory (a rename moves each file in), and nothing new is left
            // behind if a template fails.
            let base = dir
                .ancestors()
                .find(|a| a.is_dir())
                .or_else(|| Some(Path::new(".")).filter(|d| d.is_dir()))
                .ok_or_else(|| {
                    Error::runtime(format!(
                        "cannot write {}: none of its folders exists",
                        dir.display()
                    ))
                })?;
            Some(
                tempfile::Builder::new()
                    .prefix(".relplan-")
                    .tempdir_in(base)
                    .map_err(|e| {
                        Error::runtime(format!("cannot create a folder in {}: {e}", base.display()))
                    })?,
            )
        };
        Ok(Stage {
            dir: dir.to_path_buf(),
            staging,
            documents: Vec::new(),
        })
    }

    /// Adds the document at `path` (relative, `/`-separated), whose bytes `render`
    /// writes.
    pub fn add(
        &mut self,
        path: &str,
        render: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let file = match &self.staging {
            Some(staging) => {
                let at = staged_file(staging.path(), self.documents.len());
                let file = std::fs::File::create(&at)
                    .map_err(|e| Error::runtime(format!("cannot create {}: {e}", at.display())))?;
                Some(std::io::BufWriter::with_capacity(1 << 16, file))
            }
            None => None,
        };
        let mut sink = Sink {
            hasher: Sha256::new(),
            file,
        };
        render(&mut sink)?;
        if let Some(file) = sink.file.take() {
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::runtime(format!("cannot write {path}: {e}")))?;
        }
        self.documents.push(Staged {
            path: path.to_string(),
            hash: hex_digest(sink.hasher),
        });
        Ok(())
    }

    /// The documents' paths, in the order they were added.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.documents.iter().map(|d| d.path.as_str())
    }

    /// Decides what to do with each document, without touching the disk beyond reads.
    pub fn decide(&self, previous: &Previous, force: bool) -> Vec<Written> {
        self.documents
            .iter()
            .map(|doc| {
                let outcome = match file_hash(&self.dir.join(&doc.path)) {
                    None => Outcome::Created,
                    Some(existing) if existing == doc.hash => Outcome::Unchanged,
                    Some(existing) => {
                        let untouched = previous.hashes.get(&doc.path) == Some(&existing);
                        match (untouched, force) {
                            (true, _) => Outcome::Updated,
                            (false, true) => Outcome::Overwritten,
                            (false, false) => Outcome::KeptEdited,
                        }
                    }
                };
                Written {
                    path: doc.path.clone(),
                    outcome,
                }
            })
            .collect()
    }
}

/// Where the `i`th document added waits in the staging folder.
fn staged_file(staging: &Path, i: usize) -> PathBuf {
    staging.join(i.to_string())
}

/// The hash of the file at `path`, read in blocks; `None` if it cannot be read.
fn file_hash(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex_digest(hasher))
}

/// Writes the staged documents per `decisions` (from `Stage::decide`), then
/// `metadata` (with the hashes added) and one line appended to `planning.log`.
/// A dry run's stage writes nothing.
pub fn write_plan(
    stage: Stage,
    decisions: &[Written],
    mut metadata: serde_json::Map<String, serde_json::Value>,
    log_line: &str,
) -> Result<()> {
    let Some(staging) = &stage.staging else {
        return Ok(());
    };
    let dir = &stage.dir;
    let mut hashes = serde_json::Map::new();
    for (i, (doc, decision)) in stage.documents.iter().zip(decisions).enumerate() {
        let path = dir.join(&doc.path);
        let staged = staged_file(staging.path(), i);
        match decision.outcome {
            Outcome::Created | Outcome::Updated | Outcome::Overwritten => {
                move_into_place(&staged, &path)?
            }
            Outcome::Unchanged => {}
            Outcome::KeptEdited => move_into_place(&staged, &new_path(&path))?,
        }
        hashes.insert(doc.path.clone(), doc.hash.clone().into());
    }
    metadata.insert("files".into(), serde_json::Value::Object(hashes));
    let mut json = serde_json::to_string_pretty(&serde_json::Value::Object(metadata))
        .map_err(|e| Error::runtime(format!("cannot serialize metadata: {e}")))?;
    json.push('\n');
    atomic_write(&dir.join(METADATA), json.as_bytes())?;
    let log_path = dir.join(LOG);
    let mut log = std::fs::read(&log_path).unwrap_or_default();
    if !log.is_empty() && !log.ends_with(b"\n") {
        log.push(b'\n');
    }
    log.extend_from_slice(log_line.as_bytes());
    log.push(b'\n');
    atomic_write(&log_path, &log)
}

/// Renames a staged file to `path`, with the mode of the file it replaces, else
/// what a new file gets (0666 less the umask, as the staged file was created).
fn move_into_place(staged: &Path, path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create folder {}: {e}", dir.display())))?;
    if let Ok(existing) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(staged, existing.permissions());
    }
    std::fs::rename(staged, path)
        .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))
}

/// `scope.md` → `scope.md.new`.
pub fn new_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    path.with_file_name(name)
}

/// Writes via a temporary file in the same folder and a rename: readers see the
/// old content or the new, never half a file.
pub fn atomic_write(path: &Path, content: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create folder {}: {e}", dir.display())))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".relplan-");
    // A temporary file is private (0600); the document is not. Keep the mode of the
    // file being replaced, else what any new file gets (0666 less the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(match std::fs::metadata(path) {
            Ok(existing) => existing.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o666),
        });
    }
    let mut file = builder
        .tempfile_in(dir)
        .map_err(|e| Error::runtime(format!("cannot create a file in {}: {e}", dir.display())))?;
    file.write_all(content)
        .and_then(|_| file.as_file().sync_all())
        .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
    file.persist(path)
        .map_err(|e| Error::runtime(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stage of documents given as (path, content).
    fn stage(dir: &Path, dry_run: bool, docs: &[(&str, &str)]) -> Stage {
        let mut stage = Stage::new(dir, dry_run).unwrap();
        for (path, content) in docs {
            stage
                .add(path, |out| {
                    out.write_all(content.as_bytes())
                        .map_err(|e| Error::runtime(e.to_string()))
                })
                .unwrap();
        }
        stage
    }

    #[test]
    fn decisions_cover_every_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("same.md"), "same").unwrap();
        std::fs::write(dir.path().join("ours.md"), "old").unwrap();
        std::fs::write(dir.path().join("edited.md"), "a person wrote this").unwrap();
        let previous = Previous {
            hashes: [
                ("ours.md".to_string(), sha256(b"old")),
                ("edited.md".to_string(), sha256(b"old")),
            ]
            .into(),
            planning_started: None,
        };
        let docs = [
            ("new.md", "x"),
            ("same.md", "same"),
            ("ours.md", "new"),
            ("edited.md", "new"),
        ];
        let staged = stage(dir.path(), true, &docs);
        let outcomes: Vec<Outcome> = staged
            .decide(&previous, false)
            .into_iter()
            .map(|w| w.outcome)
            .collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Created,
                Outcome::Unchanged,
                Outcome::Updated,
                Outcome::KeptEdited
            ]
        );
        let forced: Vec<Outcome> = staged
            .decide(&previous, true)
            .into_iter()
            .map(|w| w.outcome)
            .collect();
        assert_eq!(forced[3], Outcome::Overwritten);
    }

    #[test]
    fn staged_documents_reach_the_plan_directory_only_when_written() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("releases/v1.0.0");
        let docs = [("a.md", "alpha"), ("sub/b.md", "beta")];
        // A stage dropped unwritten (a template failed) leaves nothing behind.
        drop(stage(&dir, false, &docs));
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
        // Written: the files, their hashes in metadata.json, nothing staged left.
        let staged = stage(&dir, false, &docs);
        let decisions = staged.decide(&Previous::default(), false);
        write_plan(staged, &decisions, serde_json::Map::new(), "log line").unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.md")).unwrap(), "alpha");
        assert_eq!(
            std::fs::read_to_string(dir.join("sub/b.md")).unwrap(),
            "beta"
        );
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(METADATA)).unwrap()).unwrap();
        assert_eq!(meta["files"]["sub/b.md"], sha256(b"beta"));
        assert_eq!(
            std::fs::read_dir(root.path()).unwrap().count(),
            1,
            "only releases/ is left at the root"
        );
        // Again, with a.md edited by a person: kept, the fresh version beside it.
        std::fs::write(dir.join("a.md"), "edited").unwrap();
        let previous = read_previous(&dir).unwrap();
        let staged = stage(&dir, false, &[("a.md", "alpha 2"), ("sub/b.md", "beta")]);
        let decisions = staged.decide(&previous, false);
        let outcomes: Vec<Outcome> = decisions.iter().map(|w| w.outcome).collect();
        assert_eq!(outcomes, [Outcome::KeptEdited, Outcome::Unchanged]);
        write_plan(staged, &decisions, serde_json::Map::new(), "again").unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.md")).unwrap(), "edited");
        assert_eq!(
            std::fs::read_to_string(dir.join("a.md.new")).unwrap(),
            "alpha 2"
        );
        // A dry run writes nothing at all.
        let staged = stage(&dir, true, &[("c.md", "gamma")]);
        let decisions = staged.decide(&previous, false);
        write_plan(staged, &decisions, serde_json::Map::new(), "dry").unwrap();
        assert!(!dir.join("c.md").exists());
    }
}
