//! People: the release roles from `[team]`, the time they commit per phase, the
//! on-call rotation, CODEOWNERS reviewers, the contributors of the range, and what
//! is left for a person to fill in. Pure: files and dates come in as data.

pub mod codeowners;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::commits::{Category, Change};
use crate::config::{Person, TeamConfig};
use crate::schedule::Schedule;

pub use self::codeowners::Reviewers;

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

/// Hours one role spends in one phase.
#[derive(Debug, Clone, Serialize)]
pub struct Allocation {
    pub role: String,
    pub hours: String,
    pub activities: String,
}

/// A stretch of the release with its dates and who spends how much time in it.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    /// Offsets relative to the release, e.g. "T-14 to T-8".
    pub span: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub roles: Vec<Role>,
    /// Time commitments per phase, dated from the schedule.
    pub phases: Vec<Phase>,
    /// Suggested reviewers from CODEOWNERS (`file` is null without one).
    pub reviewers: Reviewers,
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

/// The title of a role key (`qa_lead` → `QA Lead`).
pub fn role_title(key: &str) -> Option<&'static str> {
    ROLES.iter().find(|r| r.key == key).map(|r| r.title)
}

struct PhaseSpec {
    name: &'static str,
    from: i64,
    to: i64,
    /// (role, hours per week, activities)
    rows: &'static [(&'static str, &'static str, &'static str)],
}

/// The checklist's time allocation by phase (spec "Resource Allocation").
const PHASES: &[PhaseSpec] = &[
    PhaseSpec {
        name: "Planning",
        from: -14,
        to: -8,
        rows: &[
            (
                "Release Manager",
                "20 h/week",
                "Planning, coordination, documentation",
            ),
            (
                "Technical Lead",
                "15 h/week",
                "Architecture review, risk assessment",
            ),
            (
                "DevOps Engineer",
                "10 h/week",
                "Pipeline and infrastructure preparation",
            ),
            ("Database Administrator", "5 h/week", "Migration planning"),
            ("QA Lead", "10 h/week", "Test plan"),
        ],
    },
    PhaseSpec {
        name: "Testing",
        from: -7,
        to: -1,
        rows: &[
            ("Release Manager", "15 h/week", "Status tracking, approvals"),
            ("QA team", "120 h/week (3 people)", "Testing, bug reports"),
            ("DevOps Engineer", "10 h/week", "Staging deployment support"),
            (
                "Support Lead",
                "5 h/week",
                "Support preparation and documentation",
            ),
        ],
    },
    PhaseSpec {
        name: "Release day",
        from: 0,
        to: 0,
        rows: &[
            (
                "Release Manager",
                "full day",
                "Go/no-go, coordination, communication",
            ),
            (
                "DevOps Engineer",
                "full day",
                "Deployment, monitoring, rollback if needed",
            ),
            (
                "Database Administrator",
                "deployment window",
                "Migrations, backups",
            ),
            ("QA Lead", "full day", "Post-deployment validation"),
            (
                "Technical Lead",
                "full day",
                "Troubleshooting, technical decisions",
            ),
        ],
    },
    PhaseSpec {
        name: "Stability",
        from: 1,
        to: 3,
        rows: &[
            ("Primary On-Call", "on call", "First responder"),
            ("Secondary On-Call", "on call", "Backup responder"),
            (
                "Support Lead",
                "48 hours after release",
                "Customer issue triage and escalation",
            ),
        ],
    },
];

fn span(from: i64, to: i64) -> String {
    let t = |o: i64| {
        if o == 0 {
            "T-0".to_string()
        } else {
            format!("T{o:+}")
        }
    };
    if from == to {
        t(from)
    } else {
        format!("{} to {}", t(from), t(to))
    }
}

/// The phases with calendar dates from the release date.
pub fn phases(release: NaiveDate) -> Vec<Phase> {
    PHASES
        .iter()
        .map(|p| Phase {
            name: p.name.into(),
            span: span(p.from, p.to),
            start: release + Duration::days(p.from),
            end: release + Duration::days(p.to),
            allocations: p
                .rows
                .iter()
                .map(|(role, hours, activities)| Allocation {
                    role: role.to_string(),
                    hours: hours.to_string(),
                    activities: activities.to_string(),
                })
                .collect(),
        })
        .collect()
}

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

/// Roles from config (`TBD` where unset), phases dated from `schedule`, and the
/// range's contributors, most commits first. Reviewers start empty (see `codeowners`).
pub fn build(config: &TeamConfig, changes: &[Change], schedule: &Schedule) -> Team {
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
                commitment: match spec.key {
                    "on_call_primary" | "on_call_secondary" => format!(
                        "On call {} ({}) to {} ({})",
                        schedule.on_call.start,
                        schedule.on_call.start_weekday,
                        schedule.on_call.end,
                        schedule.on_call.end_weekday
                    ),
                    _ => spec.commitment.into(),
                },
            }
        })
        .collect();
    Team {
        roles,
        phases: phases(schedule.release_date),
        reviewers: Reviewers::default(),
        contributors: contributors(changes),
    }
}

/// Authors and co-authors with their commit counts (merge plumbing excluded).
pub fn contributors(changes: &[Change]) -> Vec<Contributor> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.category() != Category::Skipped) {
        for author in change.authors() {
            *counts.entry(author).or_default() += 1;
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

/// The "to fill in" list: one line per role with the fields still `TBD`.
pub fn unfilled(team: &Team) -> Vec<String> {
    let mut out = Vec::new();
    for role in &team.roles {
        let missing: Vec<&str> = [
            ("name", &role.name),
            ("backup", &role.backup),
            ("contact", &role.contact),
        ]
        .iter()
        .filter(|(_, v)| v.as_str() == TBD)
        .map(|(k, _)| *k)
        .collect();
        if !missing.is_empty() {
            out.push(format!(
                "team.{} ({}): {}",
                role.key,
                role.title,
                missing.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleConfig;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn on_call_dates_come_from_the_schedule() {
        let schedule =
            crate::schedule::build(d("2026-12-15"), d("2026-12-01"), &ScheduleConfig::default());
        let team = build(&TeamConfig::default(), &[], &schedule);
        let primary = team
            .roles
            .iter()
            .find(|r| r.key == "on_call_primary")
            .unwrap();
        assert_eq!(
            primary.commitment,
            "On call 2026-12-14 (Monday) to 2026-12-18 (Friday)"
        );
        assert_eq!(team.phases[0].start, d("2026-12-01"));
        assert_eq!(team.phases[0].span, "T-14 to T-8");
        assert_eq!(team.phases[2].span, "T-0");
    }

    #[test]
    fn unfilled_lists_only_what_config_left_out() {
        let schedule =
            crate::schedule::build(d("2026-12-15"), d("2026-12-01"), &ScheduleConfig::default());
        let config = TeamConfig {
            release_manager: Person {
                name: Some("Ada".into()),
                backup: None,
                contact: Some("@ada".into()),
            },
            ..TeamConfig::default()
        };
        let team = build(&config, &[], &schedule);
        let todo = unfilled(&team);
        assert_eq!(todo[0], "team.release_manager (Release Manager): backup");
        assert_eq!(
            todo[1],
            "team.tech_lead (Technical Lead): name, backup, contact"
        );
        assert_eq!(todo.len(), ROLES.len());
        assert_eq!(role_title("qa_lead"), Some("QA Lead"));
        assert_eq!(role_title("nobody"), None);
    }
}
