//! Writing a plan directory without losing a person's edits.
//!
//! Every file is written atomically (temporary file in the same folder, then
//! rename). `metadata.json` records the SHA-256 of every document relplan wrote;
//! on a re-run a document whose content still has that hash is regenerated, one a
//! person edited is kept and the fresh version goes beside it as `<name>.new`.
//! `force` overwrites everything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::render::Document;
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
    let digest = Sha256::digest(content);
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Decides what to do with each document, without touching the disk beyond reads.
pub fn decide(
    dir: &Path,
    documents: &[Document],
    previous: &Previous,
    force: bool,
) -> Vec<Written> {
    documents
        .iter()
        .map(|doc| {
            let path = dir.join(&doc.path);
            let outcome = match std::fs::read(&path) {
                Err(_) => Outcome::Created,
                Ok(existing) if existing == doc.content.as_bytes() => Outcome::Unchanged,
                Ok(existing) => {
                    let untouched = previous
                        .hashes
                        .get(&doc.path)
                        .is_some_and(|h| *h == sha256(&existing));
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

/// Writes documents per `decisions`, then `metadata` (with the hashes added) and
/// one line appended to `planning.log`.
pub fn write_plan(
    dir: &Path,
    documents: &[Document],
    decisions: &[Written],
    mut metadata: serde_json::Map<String, serde_json::Value>,
    log_line: &str,
) -> Result<()> {
    let mut hashes = serde_json::Map::new();
    for (doc, decision) in documents.iter().zip(decisions) {
        let path = dir.join(&doc.path);
        match decision.outcome {
            Outcome::Created | Outcome::Updated | Outcome::Overwritten => {
                atomic_write(&path, doc.content.as_bytes())?
            }
            Outcome::Unchanged => {}
            Outcome::KeptEdited => atomic_write(&new_path(&path), doc.content.as_bytes())?,
        }
        hashes.insert(doc.path.clone(), sha256(doc.content.as_bytes()).into());
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

    fn doc(path: &str, content: &str) -> Document {
        Document {
            path: path.into(),
            content: content.into(),
        }
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
            doc("new.md", "x"),
            doc("same.md", "same"),
            doc("ours.md", "new"),
            doc("edited.md", "new"),
        ];
        let outcomes: Vec<Outcome> = decide(dir.path(), &docs, &previous, false)
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
        let forced: Vec<Outcome> = decide(dir.path(), &docs, &previous, true)
            .into_iter()
            .map(|w| w.outcome)
            .collect();
        assert_eq!(forced[3], Outcome::Overwritten);
    }
}
