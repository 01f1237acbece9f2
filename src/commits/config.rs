//! `[commits]` in `.relplan.toml`: classification rules, aliases, path fallback and
//! the 0.x bump policy; validated (every regex and glob compiled) before any git work.

use std::collections::{BTreeMap, HashMap};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;

use super::{BumpLevel, Category};
use crate::error::{Error, Result};

/// `[commits]` in `.relplan.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitsConfig {
    /// Skip `Merge branch ...`, `Merge remote-tracking branch ...`, `Merge tag ...`
    /// commits (category `skipped`). `false` classifies them like any other commit.
    pub skip_merge_commits: bool,
    /// Extra type aliases, `alias = "type"`, on top of the built-in ones
    /// (`feature` → `feat`, `bugfix` → `fix`, ...).
    pub aliases: BTreeMap<String, String>,
    /// Type → category, on top of the built-in table (`feat` → `features`, ...).
    pub types: BTreeMap<String, String>,
    /// Ordered rules, checked before everything else; the first match decides.
    pub rules: Vec<Rule>,
    /// Path fallback for commits nothing else classified. `None`: the built-in rules;
    /// a list (even empty) replaces them.
    pub paths: Option<Vec<PathRule>>,
    /// Bump for a breaking change while the major version is 0.
    pub zero_major_breaking: BumpLevel,
    /// Bump for a feature while the major version is 0.
    pub zero_major_feature: BumpLevel,
}

impl Default for CommitsConfig {
    fn default() -> Self {
        CommitsConfig {
            skip_merge_commits: true,
            aliases: BTreeMap::new(),
            types: BTreeMap::new(),
            rules: Vec::new(),
            paths: None,
            zero_major_breaking: BumpLevel::Minor,
            zero_major_feature: BumpLevel::Patch,
        }
    }
}

/// `[[commits.rules]]`: regexes on parts of the commit (all given must match) →
/// a category, or skip.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rule {
    pub subject: Option<String>,
    pub body: Option<String>,
    /// Matched against each footer written as `Token: value`.
    pub footer: Option<String>,
    /// The whole message (normalized line endings).
    pub message: Option<String>,
    /// `Name <email>` of the author.
    pub author: Option<String>,
    pub category: Option<String>,
    pub skip: bool,
}

/// `[[commits.paths]]`: when every path a commit changed matches `globs`, it gets `category`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathRule {
    pub globs: Vec<String>,
    pub category: String,
}

/// The built-in path fallback.
pub(super) fn default_path_rules() -> Vec<PathRule> {
    let rule = |category: &str, globs: &[&str]| PathRule {
        globs: globs.iter().map(|g| g.to_string()).collect(),
        category: category.into(),
    };
    vec![
        rule(
            "documentation",
            &[
                "docs/**",
                "doc/**",
                "**/*.md",
                "**/*.rst",
                "**/*.adoc",
                "LICENSE*",
            ],
        ),
        rule(
            "tests",
            &[
                "tests/**",
                "test/**",
                "spec/**",
                "**/*_test.go",
                "**/*_test.py",
                "**/test_*.py",
                "**/*.test.js",
                "**/*.test.ts",
                "**/*.spec.ts",
            ],
        ),
        rule(
            "build",
            &[
                ".github/**",
                ".gitlab-ci.yml",
                ".circleci/**",
                ".ci/**",
                "Dockerfile",
                "**/Makefile",
                "Jenkinsfile",
            ],
        ),
    ]
}

pub(super) const DEFAULT_ALIASES: [(&str, &str); 10] = [
    ("feature", "feat"),
    ("features", "feat"),
    ("bugfix", "fix"),
    ("hotfix", "fix"),
    ("doc", "docs"),
    ("tests", "test"),
    ("refactoring", "refactor"),
    ("performance", "perf"),
    ("dep", "deps"),
    ("sec", "security"),
];

pub(super) const DEFAULT_TYPES: [(&str, Category); 10] = [
    ("feat", Category::Features),
    ("fix", Category::Fixes),
    ("perf", Category::Performance),
    ("security", Category::Security),
    ("deps", Category::Dependencies),
    ("docs", Category::Documentation),
    ("refactor", Category::Refactoring),
    ("test", Category::Tests),
    ("build", Category::Build),
    ("ci", Category::Build),
];

/// The config with every regex and glob compiled, ready to classify.
pub(super) struct Compiled {
    pub skip_merge_commits: bool,
    pub aliases: HashMap<String, String>,
    pub types: HashMap<String, Category>,
    pub rules: Vec<CompiledRule>,
    pub paths: Vec<(GlobSet, Category)>,
    /// The globs of `paths`, rule by rule, for diffs that stop early (`git::PathRules`).
    pub path_globs: Vec<Vec<String>>,
}

pub(super) struct CompiledRule {
    pub subject: Option<Regex>,
    pub body: Option<Regex>,
    pub footer: Option<Regex>,
    pub message: Option<Regex>,
    pub author: Option<Regex>,
    /// `Skipped` for `skip = true`.
    pub category: Category,
}

fn category_name(key: &str, name: &str) -> Result<Category> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(Error::input(format!(
            "{key} = {name:?} is not a category name; expected lower-case letters, digits, `-` or `_`, e.g. \"features\" or \"infrastructure\""
        )));
    }
    Ok(Category::from_name(name))
}

fn regex(key: &str, pattern: &Option<String>) -> Result<Option<Regex>> {
    pattern
        .as_deref()
        .map(|p| {
            Regex::new(p)
                .map_err(|e| Error::input(format!("{key} = {p:?} is not a valid regex: {e}")))
        })
        .transpose()
}

impl CommitsConfig {
    /// Whether classification can use the built-in rules as they are (the bump
    /// settings do not matter to classification).
    pub(super) fn uses_default_rules(&self) -> bool {
        self.skip_merge_commits
            && self.aliases.is_empty()
            && self.types.is_empty()
            && self.rules.is_empty()
            && self.paths.is_none()
    }

    pub fn validate(&self) -> Result<()> {
        self.compile().map(|_| ())
    }

    pub(super) fn compile(&self) -> Result<Compiled> {
        let mut aliases: HashMap<String, String> = DEFAULT_ALIASES
            .iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect();
        for (alias, target) in &self.aliases {
            if target.trim().is_empty() {
                return Err(Error::input(format!(
                    "commits.aliases.{alias} is empty; expected the type it stands for, e.g. \"feat\""
                )));
            }
            aliases.insert(alias.to_ascii_lowercase(), target.to_ascii_lowercase());
        }
        let mut types: HashMap<String, Category> = DEFAULT_TYPES
            .iter()
            .map(|(t, c)| (t.to_string(), c.clone()))
            .collect();
        for (kind, category) in &self.types {
            let category = category_name(&format!("commits.types.{kind}"), category)?;
            types.insert(kind.to_ascii_lowercase(), category);
        }
        let mut rules = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let key = |field: &str| format!("commits.rules[{i}].{field}");
            let category = match (&rule.category, rule.skip) {
                (Some(_), true) => {
                    return Err(Error::input(format!(
                        "commits.rules[{i}] has both `category` and `skip = true`; expected one of them"
                    )))
                }
                (None, false) => {
                    return Err(Error::input(format!(
                        "commits.rules[{i}] has neither `category` nor `skip = true`; expected one of them"
                    )))
                }
                (Some(name), false) => category_name(&key("category"), name)?,
                (None, true) => Category::Skipped,
            };
            let compiled = CompiledRule {
                subject: regex(&key("subject"), &rule.subject)?,
                body: regex(&key("body"), &rule.body)?,
                footer: regex(&key("footer"), &rule.footer)?,
                message: regex(&key("message"), &rule.message)?,
                author: regex(&key("author"), &rule.author)?,
                category,
            };
            if compiled.subject.is_none()
                && compiled.body.is_none()
                && compiled.footer.is_none()
                && compiled.message.is_none()
                && compiled.author.is_none()
            {
                return Err(Error::input(format!(
                    "commits.rules[{i}] matches nothing; expected at least one of subject, body, footer, message, author"
                )));
            }
            rules.push(compiled);
        }
        let path_rules = self.paths.clone().unwrap_or_else(default_path_rules);
        let mut paths = Vec::new();
        for (i, rule) in path_rules.iter().enumerate() {
            let category = category_name(&format!("commits.paths[{i}].category"), &rule.category)?;
            if rule.globs.is_empty() {
                return Err(Error::input(format!(
                    "commits.paths[{i}].globs is empty; expected globs such as [\"docs/**\"]"
                )));
            }
            let mut set = GlobSetBuilder::new();
            for glob in &rule.globs {
                let compiled = GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        Error::input(format!(
                            "commits.paths[{i}].globs: {glob:?} is not a valid glob: {e}"
                        ))
                    })?;
                set.add(compiled);
            }
            let set = set.build().map_err(|e| {
                Error::input(format!("commits.paths[{i}].globs cannot be compiled: {e}"))
            })?;
            paths.push((set, category));
        }
        Ok(Compiled {
            skip_merge_commits: self.skip_merge_commits,
            aliases,
            types,
            rules,
            paths,
            path_globs: path_rules.into_iter().map(|r| r.globs).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CommitsConfig> {
        let config: CommitsConfig =
            toml::from_str(text).map_err(|e| Error::input(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn full_section_parses() {
        let c = parse(
            r#"
skip_merge_commits = false
zero_major_breaking = "major"
zero_major_feature = "minor"
aliases = { story = "feat" }
types = { chore = "maintenance" }
[[rules]]
subject = '^chore\(release\)'
skip = true
[[rules]]
author = '\[bot\]'
category = "dependencies"
[[paths]]
globs = ["infra/**"]
category = "infrastructure"
"#,
        )
        .unwrap();
        assert!(!c.skip_merge_commits);
        assert_eq!(c.zero_major_breaking, BumpLevel::Major);
        assert_eq!(c.rules.len(), 2);
        let compiled = c.compile().unwrap();
        assert_eq!(
            compiled.types["chore"],
            Category::Custom("maintenance".into())
        );
        assert_eq!(
            compiled.paths.len(),
            1,
            "a list replaces the built-in path rules"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let err = parse("[[rules]]\nsubject = '('\nskip = true\n").unwrap_err();
        assert!(
            err.message.contains("commits.rules[0].subject"),
            "{}",
            err.message
        );
        let err = parse("[[rules]]\nsubject = 'x'\n").unwrap_err();
        assert!(err.message.contains("neither"), "{}", err.message);
        let err = parse("[[rules]]\nskip = true\n").unwrap_err();
        assert!(err.message.contains("matches nothing"), "{}", err.message);
        let err = parse("types = { chore = \"Big Things\" }\n").unwrap_err();
        assert!(
            err.message.contains("commits.types.chore"),
            "{}",
            err.message
        );
        let err = parse("[[paths]]\nglobs = [\"a/[\"]\ncategory = \"x\"\n").unwrap_err();
        assert!(
            err.message.contains("commits.paths[0].globs"),
            "{}",
            err.message
        );
        assert!(parse("zero_major_feature = \"huge\"\n").is_err());
    }
}
