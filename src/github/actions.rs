//! The GitHub Actions runner's files and workflow commands: `$GITHUB_STEP_SUMMARY`,
//! `$GITHUB_OUTPUT` (heredoc with a random delimiter), `::warning::`/`::error::`
//! annotations, and the pull request of `$GITHUB_EVENT_PATH`. No network.
//!
//! Protocol: <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::Path;

use crate::error::{Context, Result};

/// Escapes the data of a workflow command (`%`, CR, LF), as the runner expects.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `::warning::message` / `::error::message` / `::notice::message`.
pub fn annotation(kind: &str, message: &str) -> String {
    format!("::{kind}::{}", escape_data(message))
}

fn random_hex() -> String {
    // RandomState is seeded from the OS per process: enough to make the
    // delimiter unguessable by commit authors.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    let a = h.finish();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

/// The `$GITHUB_OUTPUT` text for `outputs`: each value in a heredoc whose
/// delimiter is random and absent from the value, so a value cannot inject outputs.
pub fn outputs_text(outputs: &[(&str, String)]) -> String {
    let mut text = String::new();
    for (name, value) in outputs {
        let mut delimiter = format!("ghadelimiter_{}", random_hex());
        while value.contains(&delimiter) {
            delimiter = format!("ghadelimiter_{}", random_hex());
        }
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    text
}

fn append(path: &Path, text: &str, what: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .runtime_context(|| format!("cannot open {what} {}", path.display()))?;
    file.write_all(text.as_bytes())
        .runtime_context(|| format!("cannot write {what} {}", path.display()))
}

pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    append(path, &outputs_text(outputs), "$GITHUB_OUTPUT")
}

pub fn append_step_summary(path: &Path, markdown: &str) -> Result<()> {
    let mut text = markdown.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    append(path, &text, "$GITHUB_STEP_SUMMARY")
}

/// In a workflow: the summary to `$GITHUB_STEP_SUMMARY`, the outputs to
/// `$GITHUB_OUTPUT`, and each warning as a `::warning::` annotation (stderr; the
/// runner reads workflow commands from both streams).
pub fn publish(
    env: &super::Env,
    markdown: &str,
    outputs: &[(&str, String)],
    warnings: &[String],
) -> Result<()> {
    if let Some(path) = &env.step_summary {
        append_step_summary(Path::new(path), markdown)?;
    }
    if let Some(path) = &env.output {
        write_outputs(Path::new(path), outputs)?;
    }
    for w in warnings {
        eprintln!("{}", annotation("warning", w));
    }
    Ok(())
}

/// The pull request a `pull_request` / `pull_request_target` event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPr {
    pub number: u64,
    /// Head and base live in different repositories: the token is read-only.
    pub from_fork: bool,
    pub head_sha: Option<String>,
}

/// Reads the event payload; `None` when it is not about a pull request.
pub fn event_pr(json: &str) -> Option<EventPr> {
    let event: serde_json::Value = serde_json::from_str(json).ok()?;
    let pr = event.get("pull_request")?;
    let number = pr.get("number")?.as_u64()?;
    let full_name = |side: &str| {
        pr.get(side)
            .and_then(|s| s.get("repo"))
            .and_then(|r| r.get("full_name"))
            .and_then(|n| n.as_str())
            .map(str::to_lowercase)
    };
    let head = full_name("head");
    let base = full_name("base");
    let from_fork = match (head, base) {
        (Some(h), Some(b)) => h != b,
        // A deleted fork leaves head.repo null.
        (None, Some(_)) => true,
        _ => false,
    };
    let head_sha = pr
        .get("head")
        .and_then(|h| h.get("sha"))
        .and_then(|s| s.as_str())
        .map(str::to_string);
    Some(EventPr {
        number,
        from_fork,
        head_sha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_newlines() {
        assert_eq!(
            annotation("warning", "a\nb 100%"),
            "::warning::a%0Ab 100%25"
        );
    }

    #[test]
    fn outputs_use_a_random_delimiter_absent_from_values() {
        let text = outputs_text(&[("version", "1.4.0".into()), ("x", "a\nb".into())]);
        let first = text.lines().next().unwrap();
        let delimiter = first.strip_prefix("version<<").unwrap();
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() > 20);
        assert!(text.contains(&format!("version<<{delimiter}\n1.4.0\n{delimiter}\n")));
        assert!(text.contains("\na\nb\n"));
        let again = outputs_text(&[("version", "1.4.0".into())]);
        assert_ne!(first, again.lines().next().unwrap());
    }

    #[test]
    fn fork_pull_requests_are_recognised() {
        let same = r#"{"pull_request":{"number":7,"head":{"sha":"abc","repo":{"full_name":"o/r"}},"base":{"repo":{"full_name":"o/r"}}}}"#;
        assert_eq!(
            event_pr(same),
            Some(EventPr {
                number: 7,
                from_fork: false,
                head_sha: Some("abc".into())
            })
        );
        let fork = r#"{"pull_request":{"number":8,"head":{"repo":{"full_name":"someone/r"}},"base":{"repo":{"full_name":"o/r"}}}}"#;
        assert!(event_pr(fork).unwrap().from_fork);
        assert_eq!(event_pr(r#"{"push":1}"#), None);
        assert_eq!(event_pr("not json"), None);
    }
}
