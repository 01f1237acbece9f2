//! People: the release roles from `[team]`, the contributors of the range, and what
//! is left for a person to fill in. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::commits::{Category, Change};
use crate::config::{Person, TeamConfig};

/// Written where only a person can supply the value.
pub const TBD: &str = "TBD";

/// One release role and who holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub key: String,
    pub title: String,
    pub name: String,
    pub backup: String,
    pub contact: String,
    pub responsibilities: Vec<String>,
    pub commitment: String,
}

/// Someone who authored or co-authored commits in the range.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Contributor {
    pub name: String,
    pub commits: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub roles: Vec<Role>,
    pub contributors: Vec<Contributor>,
}

struct RoleSpec {
    key: &'static str,
    title: &'static str,
    responsibilities: &'static [&'static str],
    commitment: &'static str,
}

const ROLES: &[RoleSpec] = &[
    RoleSpec {
        key: "release_manager",
        title: "Release Manager",
        responsibilities: &[
            "Overall coordination and schedule",
            "Go/no-go decisions",
            "Stakeholder communication",
            "Risk register owner",
        ],
        commitment: "Full-time during release week",
    },
    RoleSpec {
        key: "tech_lead",
        title: "Technical Lead",
        responsibilities: &[
            "Technical decisions and final code review",
            "Technical risk assessment",
            "Integration troubleshooting",
        ],
        commitment: "50% during planning, full-time on release day",
    },
    RoleSpec {
        key: "devops",
        title: "DevOps Engineer",
        responsibilities: &[
            "Deployment execution",
            "Monitoring and alerting setup",
            "Rollback execution if needed",
        ],
        commitment: "Full-time on release day, on call during the stability period",
    },
    RoleSpec {
        key: "dba",
        title: "Database Administrator",
        responsibilities: &[
            "Migration review and execution",
            "Backup and restore",
            "Database performance monitoring",
        ],
        commitment: "Present during deployment",
    },
    RoleSpec {
        key: "qa_lead",
        title: "QA Lead",
        responsibilities: &[
            "Test plan and execution",
            "UAT coordination",
            "Post-deployment validation",
        ],
        commitment: "Full-time from QA start to release",
    },
    RoleSpec {
        key: "security",
        title: "Security Engineer",
        responsibilities: &[
            "Security scanning and approval",
            "Incident response if needed",
        ],
        commitment: "25% during planning, on call during release",
    },
    RoleSpec {
        key: "support_lead",
        title: "Support Lead",
        responsibilities: &[
            "Support team briefing",
            "Customer issue triage and escalation",
        ],
        commitment: "On call during release and 48 hours after",
    },
    RoleSpec {
        key: "product_manager",
        title: "Product Manager",
        responsibilities: &[
            "Feature validation and UAT",
            "Release notes review",
            "Customer communication",
        ],
        commitment: "50% during UAT, available on release day",
    },
    RoleSpec {
        key: "on_call_primary",
        title: "Primary On-Call",
        responsibilities: &["First responder during the release window"],
        commitment: "Day before release through the stability period",
    },
    RoleSpec {
        key: "on_call_secondary",
        title: "Secondary On-Call",
        responsibilities: &["Backup when the primary is unavailable"],
        commitment: "Same dates as the primary",
    },
];

fn person<'a>(config: &'a TeamConfig, key: &str) -> &'a Person {
    match key {
        "release_manager" => &config.release_manager,
        "tech_lead" => &config.tech_lead,
        "devops" => &config.devops,
        "dba" => &config.dba,
        "qa_lead" => &config.qa_lead,
        "security" => &config.security,
        "support_lead" => &config.support_lead,
        "product_manager" => &config.product_manager,
        "on_call_primary" => &config.on_call_primary,
        _ => &config.on_call_secondary,
    }
}

/// Roles from config (`TBD` where unset) and the range's contributors, most commits first.
pub fn build(config: &TeamConfig, changes: &[Change]) -> Team {
    let or_tbd = |v: &Option<String>| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| TBD.into())
    };
    let roles = ROLES
        .iter()
        .map(|spec| {
            let p = person(config, spec.key);
            Role {
                key: spec.key.into(),
                title: spec.title.into(),
                name: or_tbd(&p.name),
                backup: or_tbd(&p.backup),
                contact: or_tbd(&p.contact),
                responsibilities: spec
                    .responsibilities
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                commitment: spec.commitment.into(),
            }
        })
        .collect();
    Team {
        roles,
        contributors: contributors(changes),
    }
}

/// Authors and co-authors with their commit counts (merge plumbing excluded).
pub fn contributors(changes: &[Change]) -> Vec<Contributor> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.category != Category::Skipped) {
        for author in &change.authors {
            *counts.entry(author.as_str()).or_default() += 1;
        }
    }
    let mut list: Vec<Contributor> = counts
        .into_iter()
        .map(|(name, commits)| Contributor {
            name: name.into(),
            commits,
        })
        .collect();
    list.sort_by(|a, b| b.commits.cmp(&a.commits).then_with(|| a.name.cmp(&b.name)));
    list
}

/// The "to fill in" list: every role field still `TBD`.
pub fn unfilled(team: &Team) -> Vec<String> {
    let mut out = Vec::new();
    for role in &team.roles {
        if role.name == TBD {
            out.push(format!("team.{}.name ({})", role.key, role.title));
        }
    }
    out
}
