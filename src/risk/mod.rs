//! What could go wrong with this release and why relplan thinks so: signals from the
//! changed commits and paths, risks with their evidence, the deployment strategy
//! and the rollback facts. Pure functions over data; no git, no network.

use serde::{Deserialize, Serialize};

use crate::commits::{Category, Change};
use crate::error::Result;
use crate::git::PathChange;

/// `[risk]` in `.relplan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {}

impl RiskConfig {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// `[deploy]` in `.relplan.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployConfig {}

impl DeployConfig {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// The paths one commit changed, as the risk engine sees them.
#[derive(Debug, Clone)]
pub struct CommitPaths {
    pub id: String,
    pub paths: Vec<PathChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    Low,
    Medium,
    High,
    Critical,
}

/// One evidence-backed risk.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub key: String,
    pub title: String,
    pub severity: Level,
    pub evidence: Vec<String>,
    pub mitigations: Vec<String>,
}

/// The risk section of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub level: Level,
    pub reason: String,
    pub risks: Vec<Risk>,
}

/// The chosen deployment strategy and the signals that chose it.
#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    pub recommended: String,
    pub reasons: Vec<String>,
}

/// Assesses the range. Only risks the data shows are raised.
pub fn assess(changes: &[Change], _paths: &[CommitPaths], _config: &RiskConfig) -> Assessment {
    let breaking: Vec<&Change> = changes
        .iter()
        .filter(|c| c.breaking && !matches!(c.category, Category::Reverted | Category::Skipped))
        .collect();
    let mut risks = Vec::new();
    if !breaking.is_empty() {
        risks.push(Risk {
            key: "breaking-changes".into(),
            title: "Breaking changes affect existing users".into(),
            severity: Level::High,
            evidence: breaking
                .iter()
                .map(|c| format!("{} {}", c.short_id, c.summary))
                .collect(),
            mitigations: vec!["Publish migration notes with the release".into()],
        });
    }
    let level = risks.iter().map(|r| r.severity).max().unwrap_or(Level::Low);
    let reason = match risks.iter().max_by_key(|r| r.severity) {
        Some(r) => format!(
            "highest severity among {} risk(s): {}",
            risks.len(),
            r.title
        ),
        None => "no risk signals in this range".into(),
    };
    Assessment {
        level,
        reason,
        risks,
    }
}

/// Picks a deployment strategy from the assessment.
pub fn choose_strategy(assessment: &Assessment, _config: &DeployConfig) -> Strategy {
    if assessment.level >= Level::High {
        Strategy {
            recommended: "blue-green".into(),
            reasons: vec![format!(
                "overall risk is {:?}: instant switch-back needed",
                assessment.level
            )],
        }
    } else {
        Strategy {
            recommended: "rolling".into(),
            reasons: vec![format!("overall risk is {:?}", assessment.level)],
        }
    }
}
