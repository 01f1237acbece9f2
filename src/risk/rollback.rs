//! The rollback facts: where to roll back to, when (triggers from
//! `[deploy.thresholds]`), how (by the chosen strategy), what the database and the
//! flags need, and what no rollback can undo. Sections exist only when the data
//! makes them relevant.

use serde::Serialize;

use super::signals::{CommitRef, FlagTouch, Migration};
use super::{Assessment, DeployConfig, Strategy};

/// The release to return to.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackTarget {
    pub tag: String,
    pub id: String,
}

/// A condition that calls for a rollback, and how fast.
#[derive(Debug, Clone, Serialize)]
pub struct Trigger {
    /// `automatic`, `immediate` or `fast`.
    pub urgency: String,
    pub condition: String,
}

/// The database part of a rollback; present only when migrations changed.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRollback {
    pub migrations: Vec<Migration>,
    /// Paths whose statements only a restore from backup undoes.
    pub destructive: Vec<String>,
    pub restore_required: bool,
}

/// Something a rollback of the code does not undo, and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Irreversible {
    pub what: String,
    pub evidence: String,
}

/// The rollback section of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    /// The previous release tag; `None` for a first release.
    pub target: Option<RollbackTarget>,
    /// The primary way back, from the chosen strategy.
    pub method: String,
    pub triggers: Vec<Trigger>,
    pub database: Option<DatabaseRollback>,
    /// Declared flags this release touches: the fastest way back for their code.
    pub flags: Vec<FlagTouch>,
    pub irreversible: Vec<Irreversible>,
}

/// Builds the rollback facts from the assessment and the chosen strategy.
pub fn plan_rollback(
    target: Option<RollbackTarget>,
    assessment: &Assessment,
    strategy: &Strategy,
    config: &DeployConfig,
) -> Rollback {
    let s = &assessment.signals;
    let t = &config.thresholds;
    let to = target
        .as_ref()
        .map_or("the last known-good build".to_string(), |t| t.tag.clone());
    let method = match strategy.recommended.as_str() {
        "blue-green" => format!("Switch traffic back to the previous environment, which still runs {to}; keep it running until the stability period ends"),
        "canary" => format!("Route the canary share back to the stable version ({to}); if the release was already promoted, redeploy {to}"),
        "feature-flags" => format!("Turn the touched flags off; if that is not enough, redeploy {to}"),
        "recreate" => format!("Redeploy {to} (the service is down while it restarts)"),
        _ => format!("Roll the deployment back to {to}, instance by instance"),
    };
    let mut triggers = vec![
        Trigger {
            urgency: "automatic".into(),
            condition: format!(
                "error rate above {}% for {} minutes",
                t.rollback_error_rate, t.rollback_error_minutes
            ),
        },
        Trigger {
            urgency: "automatic".into(),
            condition: format!(
                "critical endpoint availability below {}%",
                t.rollback_availability
            ),
        },
        Trigger {
            urgency: "fast".into(),
            condition: format!("P99 latency above {}× the baseline", t.rollback_p99_factor),
        },
    ];
    if !s.migrations.is_empty() {
        triggers.push(Trigger {
            urgency: "fast".into(),
            condition: format!(
                "database query latency above {}× the baseline",
                t.rollback_db_latency_factor
            ),
        });
        triggers.push(Trigger {
            urgency: "immediate".into(),
            condition: "data integrity checks fail after the migration".into(),
        });
    }
    if assessment.risks.iter().any(|r| r.key == "security") {
        triggers.push(Trigger {
            urgency: "immediate".into(),
            condition: "users locked out, or access granted where it should not be".into(),
        });
    }

    let database = (!s.migrations.is_empty()).then(|| {
        let destructive: Vec<String> = s
            .migrations
            .iter()
            .filter(|m| m.destructive)
            .map(|m| m.path.clone())
            .collect();
        DatabaseRollback {
            restore_required: !destructive.is_empty(),
            destructive,
            migrations: s.migrations.clone(),
        }
    });

    let mut irreversible = Vec::new();
    for m in &s.migrations {
        for f in &m.findings {
            let by = m.commits.first().map(CommitRef::line).unwrap_or_default();
            let what = if f.destructive {
                format!(
                    "{} in `{}`: the data it removes or rewrites comes back only from a backup",
                    f.kind, m.path
                )
            } else {
                format!("data backfill in `{}`: redeploying old code does not restore the previous values", m.path)
            };
            irreversible.push(Irreversible {
                what,
                evidence: format!("`{}:{}` `{}` ({by})", m.path, f.line, f.text),
            });
        }
    }
    for c in &s.breaking {
        irreversible.push(Irreversible {
            what: "external API or behaviour change: consumers that already adapted break again when it is rolled back".into(),
            evidence: c.line(),
        });
    }

    Rollback {
        target,
        method,
        triggers,
        database,
        flags: s.flags.clone(),
        irreversible,
    }
}
