//! The checklist's milestones (spec "Create Release Schedule"), used when
//! `[[schedule.milestones]]` is not configured. Wording is relplan's own.

use chrono::NaiveTime;

use super::config::{Clock, MilestoneConfig, WindowConfig};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn clock(h: u32, m: u32) -> Clock {
    Clock(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN))
}

fn window(
    key: &str,
    name: &str,
    from: (u32, u32),
    to: (u32, u32),
    owner: &str,
    activities: &[&str],
) -> WindowConfig {
    WindowConfig {
        key: key.into(),
        name: name.into(),
        start: clock(from.0, from.1),
        end: clock(to.0, to.1),
        owner: owner.into(),
        activities: strings(activities),
    }
}

#[allow(clippy::too_many_arguments)]
fn milestone(
    key: &str,
    name: &str,
    offset: i64,
    duration: i64,
    owner: &str,
    activities: &[&str],
    checklist: &[&str],
    windows: Vec<WindowConfig>,
) -> MilestoneConfig {
    MilestoneConfig {
        key: key.into(),
        name: name.into(),
        offset,
        duration,
        owner: owner.into(),
        activities: strings(activities),
        checklist: strings(checklist),
        windows,
    }
}

pub fn milestones() -> Vec<MilestoneConfig> {
    vec![
        milestone(
            "code-freeze",
            "Code freeze",
            -14,
            1,
            "tech_lead",
            &[
                "Merge the last feature into the release branch",
                "Finish code review of every change in scope",
                "Unit and integration tests green",
                "Documentation and draft release notes updated",
            ],
            &[
                "No open pull request targets the release",
                "Test coverage report attached",
            ],
            vec![],
        ),
        milestone(
            "qa",
            "QA and testing",
            -10,
            3,
            "qa_lead",
            &[
                "Regression, performance and security testing",
                "Accessibility and cross-platform checks",
                "Fix blocking bugs",
            ],
            &[
                "No critical or high-severity bug open",
                "Performance within the SLA",
                "Security scan without high or critical findings",
            ],
            vec![],
        ),
        milestone(
            "staging",
            "Staging deployment",
            -7,
            3,
            "devops",
            &[
                "Deploy the release candidate to staging",
                "Run the database migrations on staging",
                "Smoke and load tests; check monitoring",
                "Walk through the runbook",
            ],
            &["Staging matches the production configuration"],
            vec![],
        ),
        milestone(
            "uat",
            "User acceptance testing",
            -5,
            3,
            "product_manager",
            &[
                "Product team and stakeholders validate the new features",
                "Check workflows and documentation accuracy",
            ],
            &["UAT sign-off recorded"],
            vec![],
        ),
        milestone(
            "approval",
            "Change approval (CAB)",
            -2,
            1,
            "release_manager",
            &[
                "Finalize release notes and runbooks",
                "Security approval and change advisory board decision",
                "Prepare customer communication",
            ],
            &[
                "All testing complete and passed",
                "Risk assessment reviewed",
                "Rollback plan validated",
                "Support team briefed",
                "Monitoring alerts configured",
                "On-call engineers confirmed",
            ],
            vec![],
        ),
        milestone(
            "release",
            "Production release",
            0,
            1,
            "devops",
            &["Deploy, validate and announce the release"],
            &[
                "All approvals obtained",
                "Test results acceptable",
                "Team available, no planned absences",
                "No competing change scheduled",
                "Rollback procedure ready and tested",
            ],
            vec![
                window(
                    "pre-deployment",
                    "Pre-deployment checks",
                    (6, 0),
                    (7, 0),
                    "release_manager",
                    &[
                        "Final go/no-go decision",
                        "Back up the production database",
                        "Alert the on-call engineers",
                        "Announce the maintenance on the status page",
                    ],
                ),
                window(
                    "migration",
                    "Database migration",
                    (7, 0),
                    (7, 30),
                    "dba",
                    &[
                        "Take the final backup",
                        "Run and verify the migrations",
                        "Roll back if they take longer than 45 minutes or fail integrity checks",
                    ],
                ),
                window(
                    "deployment",
                    "Application deployment",
                    (7, 30),
                    (8, 0),
                    "devops",
                    &[
                        "Deploy the new version beside the current one",
                        "Smoke tests and health checks on the new version",
                    ],
                ),
                window(
                    "canary",
                    "Canary rollout (10% → 50% → 100%)",
                    (8, 0),
                    (9, 0),
                    "devops",
                    &[
                        "Shift traffic in steps, watching error rate, latency and logs at each step",
                        "Stop and switch back at the first unhealthy signal",
                    ],
                ),
                window(
                    "validation",
                    "Post-deployment validation",
                    (9, 0),
                    (11, 0),
                    "qa_lead",
                    &[
                        "Production smoke tests and critical user journeys",
                        "Dashboards, error logs and integrations checked",
                    ],
                ),
                window(
                    "announcement",
                    "Release announcement",
                    (11, 0),
                    (11, 30),
                    "product_manager",
                    &[
                        "Status page resolved",
                        "Customer and internal announcements sent",
                        "Documentation site updated",
                    ],
                ),
            ],
        ),
        milestone(
            "monitoring",
            "Enhanced monitoring",
            1,
            3,
            "devops",
            &[
                "Watch dashboards and alerts; triage issues at once",
                "Keep a hot-fix ready",
                "Collect support tickets and user feedback",
            ],
            &["Error rate back to baseline"],
            vec![],
        ),
        milestone(
            "retrospective",
            "Release retrospective",
            7,
            1,
            "release_manager",
            &[
                "What went well, what to improve",
                "Action items with owners",
                "Update the release process documentation",
            ],
            &[],
            vec![],
        ),
    ]
}
