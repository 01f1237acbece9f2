//! `[risk]` and `[deploy]` in `.relplan.toml`: the globs, thresholds and custom
//! rules the risk engine reads, and the team's deployment capabilities. Validated
//! (every glob and regex compiled) before any git work starts.

use regex::Regex;
use serde::Deserialize;

use super::{Impact, ProbabilityLevel};
use crate::config::glob_set;
use crate::error::{Error, Result};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `[risk]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Evidence lines listed per risk before "and N more".
    pub evidence_cap: usize,
    pub paths: RiskPaths,
    pub thresholds: RiskThresholds,
    pub probabilities: ProbabilityPercents,
    pub rules: Vec<RuleConfig>,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            evidence_cap: 5,
            paths: RiskPaths::default(),
            thresholds: RiskThresholds::default(),
            probabilities: ProbabilityPercents::default(),
            rules: Vec::new(),
        }
    }
}

/// `[risk.paths]`: which changed paths raise which signal (gitignore-like globs:
/// `*` stays inside one folder, `**` crosses folders).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskPaths {
    pub migrations: Vec<String>,
    /// Paths that look like migrations but are not (documentation about migrations).
    pub migrations_exclude: Vec<String>,
    pub dependencies: Vec<String>,
    pub infrastructure: Vec<String>,
    pub security: Vec<String>,
    /// Performance-sensitive code; empty by default (only you know your hot paths).
    pub hot: Vec<String>,
}

impl Default for RiskPaths {
    fn default() -> Self {
        RiskPaths {
            migrations: strings(&[
                "**/migrations/**",
                "**/migrate/**",
                "**/*.sql",
                "db/schema.rb",
                "**/alembic/versions/**",
                "prisma/migrations/**",
                "**/flyway/**",
                "**/liquibase/**",
            ]),
            migrations_exclude: strings(&["**/*.md", "**/*.rst", "**/*.txt", "docs/**"]),
            dependencies: strings(&[
                "**/Cargo.lock",
                "**/Cargo.toml",
                "**/package.json",
                "**/package-lock.json",
                "**/yarn.lock",
                "**/pnpm-lock.yaml",
                "**/go.mod",
                "**/go.sum",
                "**/requirements*.txt",
                "**/pyproject.toml",
                "**/poetry.lock",
                "**/uv.lock",
                "**/Pipfile.lock",
                "**/Gemfile",
                "**/Gemfile.lock",
                "**/pom.xml",
                "**/build.gradle",
                "**/build.gradle.kts",
                "**/composer.lock",
                "**/mix.lock",
            ]),
            infrastructure: strings(&[
                "**/Dockerfile",
                "**/Dockerfile.*",
                "**/*.dockerfile",
                "**/docker-compose*.yml",
                "**/docker-compose*.yaml",
                "**/compose.yml",
                "**/compose.yaml",
                "**/k8s/**",
                "**/kubernetes/**",
                "**/helm/**",
                "**/charts/**",
                "**/*.tf",
                "**/*.tfvars",
                ".github/workflows/**",
                ".gitlab-ci.yml",
                ".circleci/**",
                "**/Jenkinsfile",
                "**/.env",
                "**/.env.*",
                "**/config/production.*",
                "**/config/prod/**",
            ]),
            security: strings(&[
                "**/auth/**",
                "**/authn/**",
                "**/authz/**",
                "**/oauth/**",
                "**/crypto/**",
                "**/security/**",
                "**/permissions/**",
            ]),
            hot: Vec::new(),
        }
    }
}

/// `[risk.thresholds]`: the counts at which a signal's probability rises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskThresholds {
    /// Changed files that make a large change (Medium); twice this is High.
    pub large_files: usize,
    /// Changed lines (insertions + deletions) that make a large change (Medium); twice this is High.
    pub large_lines: usize,
    /// Top-level areas touched that make a wide change (Medium).
    pub wide_areas: usize,
    /// Migration files that make the migration risk Medium (a destructive one always does).
    pub many_migrations: usize,
    /// Changed dependency entries (lockfiles) that make the dependency risk Medium; twice this is High.
    pub many_dependencies: usize,
    /// Breaking commits that raise the breaking-change impact to High.
    pub many_breaking: usize,
    /// Infrastructure files that make the infrastructure risk Medium.
    pub many_infrastructure: usize,
    /// Feature commits that raise the new-functionality risk (and call for a canary phase).
    pub many_features: usize,
    /// Percentage of unclassified commits that raises the unclear-scope risk.
    pub unclassified_percent: usize,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        RiskThresholds {
            large_files: 100,
            large_lines: 5000,
            wide_areas: 8,
            many_migrations: 3,
            many_dependencies: 10,
            many_breaking: 3,
            many_infrastructure: 5,
            many_features: 8,
            unclassified_percent: 30,
        }
    }
}

/// `[risk.probabilities]`: the percentage shown for each probability level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbabilityPercents {
    pub low: u8,
    pub medium: u8,
    pub high: u8,
}

impl Default for ProbabilityPercents {
    fn default() -> Self {
        ProbabilityPercents {
            low: 20,
            medium: 40,
            high: 70,
        }
    }
}

impl ProbabilityPercents {
    pub fn of(&self, level: ProbabilityLevel) -> u8 {
        match level {
            ProbabilityLevel::Low => self.low,
            ProbabilityLevel::Medium => self.medium,
            ProbabilityLevel::High => self.high,
        }
    }
}

/// One `[[risk.rules]]` entry: a risk of your own, raised when a commit matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    #[serde(rename = "match")]
    pub matcher: RuleMatch,
    pub probability: ProbabilityLevel,
    pub impact: Impact,
    #[serde(default)]
    pub mitigations: Vec<String>,
    #[serde(default)]
    pub contingency: Vec<String>,
    #[serde(default)]
    pub go_no_go: Vec<String>,
}

/// What a rule matches. Every matcher given must hold for the same commit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleMatch {
    /// Globs; a commit matches when one of its changed paths matches one of them.
    pub paths: Vec<String>,
    /// Regex searched in the whole commit message.
    pub commits: Option<String>,
    /// Categories (`features`, `security`, ...); `breaking` matches breaking commits.
    pub categories: Vec<String>,
    /// Pull request labels (used once pull requests are read from GitHub).
    pub labels: Vec<String>,
}

/// `[deploy]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {
    /// Strategies the team can run. Unset: all five are assumed possible.
    pub supports: Option<Vec<String>>,
    pub flags: Vec<FlagConfig>,
    pub thresholds: DeployThresholds,
}

/// One `[[deploy.flags]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagConfig {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Code the flag guards: a release touching these paths touches the flag.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// `[deploy.thresholds]`: promotion criteria and automated rollback triggers.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployThresholds {
    /// Canary traffic steps in percent, ending at 100.
    pub canary_steps: Vec<u8>,
    /// Minutes to watch each step before promoting.
    pub step_minutes: u32,
    /// Promote only while the error rate stays below baseline + this many points.
    pub promote_max_error_increase: f64,
    /// Promote only while P99 latency stays below baseline + this percent.
    pub promote_max_p99_increase: u32,
    /// Roll back automatically when the error rate exceeds this percent...
    pub rollback_error_rate: f64,
    /// ...for this many minutes.
    pub rollback_error_minutes: u32,
    /// Roll back when critical endpoint availability falls below this percent.
    pub rollback_availability: f64,
    /// Roll back when P99 latency exceeds this multiple of the baseline.
    pub rollback_p99_factor: f64,
    /// Roll back when database query latency exceeds this multiple of the baseline.
    pub rollback_db_latency_factor: f64,
    /// Hours of enhanced monitoring after the release.
    pub monitoring_hours: u32,
}

impl Default for DeployThresholds {
    fn default() -> Self {
        DeployThresholds {
            canary_steps: vec![5, 25, 50, 100],
            step_minutes: 15,
            promote_max_error_increase: 1.0,
            promote_max_p99_increase: 10,
            rollback_error_rate: 10.0,
            rollback_error_minutes: 5,
            rollback_availability: 95.0,
            rollback_p99_factor: 3.0,
            rollback_db_latency_factor: 3.0,
            monitoring_hours: 72,
        }
    }
}

/// The strategies relplan scores, in tie-break order.
pub const STRATEGIES: [&str; 5] = [
    "blue-green",
    "canary",
    "rolling",
    "feature-flags",
    "recreate",
];

impl RiskConfig {
    pub fn validate(&self) -> Result<()> {
        let p = &self.paths;
        for (key, globs) in [
            ("risk.paths.migrations", &p.migrations),
            ("risk.paths.migrations_exclude", &p.migrations_exclude),
            ("risk.paths.dependencies", &p.dependencies),
            ("risk.paths.infrastructure", &p.infrastructure),
            ("risk.paths.security", &p.security),
            ("risk.paths.hot", &p.hot),
        ] {
            glob_set(key, globs)?;
        }
        if self.evidence_cap == 0 {
            return Err(Error::input(
                "risk.evidence_cap = 0: expected at least 1 evidence line per risk",
            ));
        }
        let pr = &self.probabilities;
        if !(pr.low <= pr.medium && pr.medium <= pr.high && pr.high <= 100) {
            return Err(Error::input(format!(
                "risk.probabilities low = {}, medium = {}, high = {}: expected percentages with low <= medium <= high <= 100",
                pr.low, pr.medium, pr.high
            )));
        }
        let t = &self.thresholds;
        for (key, value) in [
            ("large_files", t.large_files),
            ("large_lines", t.large_lines),
            ("wide_areas", t.wide_areas),
            ("many_migrations", t.many_migrations),
            ("many_dependencies", t.many_dependencies),
            ("many_breaking", t.many_breaking),
            ("many_infrastructure", t.many_infrastructure),
            ("many_features", t.many_features),
        ] {
            if value == 0 {
                return Err(Error::input(format!(
                    "risk.thresholds.{key} = 0: expected a count of at least 1"
                )));
            }
        }
        if t.unclassified_percent > 100 {
            return Err(Error::input(format!(
                "risk.thresholds.unclassified_percent = {}: expected a percentage from 0 to 100",
                t.unclassified_percent
            )));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("risk.rules[{i}] ({:?})", rule.name);
            if rule.name.trim().is_empty() {
                return Err(Error::input(format!(
                    "risk.rules[{i}].name is empty: expected the risk's title"
                )));
            }
            let m = &rule.matcher;
            if m.paths.is_empty()
                && m.commits.is_none()
                && m.categories.is_empty()
                && m.labels.is_empty()
            {
                return Err(Error::input(format!(
                    "{at}.match is empty: expected at least one of paths, commits, categories, labels"
                )));
            }
            glob_set(&format!("{at}.match.paths"), &m.paths)?;
            if let Some(re) = &m.commits {
                Regex::new(re).map_err(|e| {
                    Error::input(format!(
                        "{at}.match.commits {re:?} is not a valid regex: {e}"
                    ))
                })?;
            }
        }
        Ok(())
    }
}

impl DeployConfig {
    pub fn validate(&self) -> Result<()> {
        if let Some(supports) = &self.supports {
            for s in supports {
                if !STRATEGIES.contains(&s.as_str()) {
                    return Err(Error::input(format!(
                        "deploy.supports: unknown strategy {s:?}; expected some of {}",
                        STRATEGIES.join(", ")
                    )));
                }
            }
            if supports.is_empty() {
                return Err(Error::input(format!(
                    "deploy.supports is empty: expected at least one of {}",
                    STRATEGIES.join(", ")
                )));
            }
        }
        for (i, flag) in self.flags.iter().enumerate() {
            if flag.name.trim().is_empty() {
                return Err(Error::input(format!(
                    "deploy.flags[{i}].name is empty: expected the flag's name as it appears in code"
                )));
            }
            glob_set(&format!("deploy.flags[{i}].paths"), &flag.paths)?;
        }
        let t = &self.thresholds;
        let steps_ok = !t.canary_steps.is_empty()
            && t.canary_steps.windows(2).all(|w| w[0] < w[1])
            && t.canary_steps.last() == Some(&100)
            && t.canary_steps[0] > 0;
        if !steps_ok {
            return Err(Error::input(format!(
                "deploy.thresholds.canary_steps = {:?}: expected increasing percentages ending at 100, e.g. [5, 25, 50, 100]",
                t.canary_steps
            )));
        }
        for (key, value) in [
            ("rollback_error_rate", t.rollback_error_rate),
            ("rollback_availability", t.rollback_availability),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(Error::input(format!(
                    "deploy.thresholds.{key} = {value}: expected a percentage from 0 to 100"
                )));
            }
        }
        for (key, value) in [
            ("rollback_p99_factor", t.rollback_p99_factor),
            ("rollback_db_latency_factor", t.rollback_db_latency_factor),
        ] {
            if value.is_nan() || value <= 1.0 {
                return Err(Error::input(format!(
                    "deploy.thresholds.{key} = {value}: expected a multiple of the baseline above 1, e.g. 3"
                )));
            }
        }
        Ok(())
    }

    /// Whether the team can run `strategy`.
    pub fn supports(&self, strategy: &str) -> bool {
        self.supports
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == strategy))
    }
}
