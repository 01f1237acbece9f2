//! `.relplan.toml`: the one resolved settings value, read and validated before any
//! git or network work starts.
//!
//! Each engine owns the shape of its own section (`commits::CommitsConfig`,
//! `risk::RiskConfig`, ...); this module only stitches them together, finds the
//! file, and turns parse errors into `file:line:column: message`.
//! Unknown keys are errors (`deny_unknown_fields`): a typo must never be ignored.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The config file name looked up at the repository root.
pub const FILE_NAME: &str = ".relplan.toml";

/// The example shipped with relplan; `relplan init` writes it.
pub const EXAMPLE: &str = include_str!("../.relplan.toml.example");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub project: ProjectConfig,
    pub release: ReleaseConfig,
    pub templates: TemplatesConfig,
    pub team: TeamConfig,
    pub commits: crate::commits::CommitsConfig,
    pub risk: crate::risk::RiskConfig,
    pub deploy: crate::risk::DeployConfig,
    pub schedule: crate::schedule::ScheduleConfig,
    pub github: crate::github::GithubConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectConfig {
    /// Shown in titles and calendar UIDs; defaults to the repository folder name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseConfig {
    /// Regex a tag name must match to count as a release; its first capture
    /// group (or the whole name without a leading `v`) must be SemVer.
    pub tag_pattern: String,
    /// Prefix of the tag relplan suggests for the new version.
    pub tag_prefix: String,
    /// Where plan directories go, relative to the repository root.
    pub output_dir: String,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            tag_pattern: r"^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$".into(),
            tag_prefix: "v".into(),
            output_dir: "releases".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// Folder of template overrides; files missing there fall back to the embedded ones.
    pub dir: Option<PathBuf>,
}

/// A named person in a release role. Unset fields are `TBD` in the plan.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Person {
    pub name: Option<String>,
    pub backup: Option<String>,
    pub contact: Option<String>,
}

/// The release roles of the checklist. Fixed keys so a typo is an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    pub release_manager: Person,
    pub tech_lead: Person,
    pub devops: Person,
    pub dba: Person,
    pub qa_lead: Person,
    pub security: Person,
    pub support_lead: Person,
    pub product_manager: Person,
    pub on_call_primary: Person,
    pub on_call_secondary: Person,
}

impl Config {
    /// Parses `text` (read from `path`, used in messages) and validates it.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let (line, col) = line_col(text, span.start);
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            let message = e.message().trim().to_string();
            Error::input(format!("{}{at}: {message}", path.display()))
        })?;
        config
            .validate(path)
            .map_err(|e| with_key_line(text, path, e))?;
        Ok(config)
    }

    /// Reads `explicit` if given (it must exist), else `<root>/.relplan.toml` if present, else defaults.
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<(Config, Option<PathBuf>)> {
        let path = match explicit {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::input(format!(
                        "config file {} does not exist (expected a TOML file, e.g. one written by `relplan init`)",
                        path.display()
                    )));
                }
                path.to_path_buf()
            }
            None => {
                let path = root.join(FILE_NAME);
                if !path.is_file() {
                    return Ok((Config::default(), None));
                }
                path
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::input(format!("cannot read config file {}: {e}", path.display()))
        })?;
        let config = Config::parse(&text, &path)?;
        Ok((config, Some(path)))
    }

    fn validate(&self, path: &Path) -> Result<()> {
        Regex::new(&self.release.tag_pattern).map_err(|e| {
            Error::input(format!(
                "{}: release.tag_pattern {:?} is not a valid regex: {e}",
                path.display(),
                self.release.tag_pattern
            ))
        })?;
        if self.release.output_dir.trim().is_empty() {
            return Err(Error::input(format!(
                "{}: release.output_dir is empty (expected a folder such as \"releases\")",
                path.display()
            )));
        }
        self.commits.validate().map_err(|e| prefix(path, e))?;
        self.risk.validate().map_err(|e| prefix(path, e))?;
        self.deploy.validate().map_err(|e| prefix(path, e))?;
        self.schedule.validate().map_err(|e| prefix(path, e))?;
        self.github.validate().map_err(|e| prefix(path, e))?;
        Ok(())
    }

    pub fn tag_regex(&self) -> Regex {
        // Validated in `validate`; the default pattern always compiles.
        Regex::new(&self.release.tag_pattern).unwrap_or_else(|_| {
            Regex::new(&ReleaseConfig::default().tag_pattern).expect("default tag pattern")
        })
    }
}

fn prefix(path: &Path, e: Error) -> Error {
    Error {
        message: format!("{}: {}", path.display(), e.message),
        ..e
    }
}

/// Adds the line to a validation error "FILE: a.b.key ...": the line that sets `key`
/// under the `[a.b]` table (plain tables only; otherwise the message is unchanged).
fn with_key_line(text: &str, path: &Path, e: Error) -> Error {
    let shown = format!("{}: ", path.display());
    let Some(rest) = e.message.strip_prefix(&shown) else {
        return e;
    };
    let key_path: &str = rest.split([' ', ':']).next().unwrap_or("");
    let Some((table, key)) = key_path.rsplit_once('.') else {
        return e;
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    if !valid(table) || !valid(key) {
        return e;
    }
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_table = trimmed.trim_matches(|c| c == '[' || c == ']').trim() == table;
        } else if in_table
            && trimmed
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return Error {
                message: format!("{}:{}: {rest}", path.display(), i + 1),
                ..e
            };
        }
    }
    e
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// A glob set built gitignore-style (`*` does not cross `/`).
pub fn glob_set(key: &str, globs: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let compiled = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Error::input(format!(
                    "{key}: {glob:?} is not a valid glob ({e}); expected e.g. \"**/migrations/**\""
                ))
            })?;
        builder.add(compiled);
    }
    builder
        .build()
        .map_err(|e| Error::input(format!("{key}: cannot build the glob set: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        Config::parse(EXAMPLE, Path::new(".relplan.toml.example")).unwrap();
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = Config::parse(
            "[release]\noutput_dir = \"x\"\nflavour = 1\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message.starts_with("c.toml:3:1:"), "{}", err.message);
        assert!(err.message.contains("flavour"), "{}", err.message);
    }

    #[test]
    fn wrong_type_is_an_error() {
        let err = Config::parse("[release]\noutput_dir = 3\n", Path::new("c.toml")).unwrap_err();
        assert!(err.message.starts_with("c.toml:2:"), "{}", err.message);
    }

    #[test]
    fn validation_errors_name_the_line_of_the_key() {
        let err = Config::parse(
            "[risk]\nevidence_cap = 2\n\n[risk.paths]\nhot = []\nmigrations = [\"db/[\"]\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("c.toml:6: risk.paths.migrations"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_regex_is_an_error() {
        let err =
            Config::parse("[release]\ntag_pattern = \"(\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.message.contains("tag_pattern"), "{}", err.message);
    }
}
