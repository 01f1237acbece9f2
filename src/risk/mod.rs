//! What could go wrong with this release and why relplan thinks so: signals from the
//! changed commits and paths (`signals`), risks with their evidence on a documented
//! probability × impact matrix (`rules`), the deployment strategy (`strategy`) and
//! the rollback facts (`rollback`). Pure functions over data: file contents arrive
//! already read (`FileTexts`); no git, no files, no network here.

mod config;
pub mod lockfile;
mod rollback;
mod rules;
mod signals;
pub mod sql;
mod strategy;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::commits::Change;
use crate::git::{DiffTotals, PathLists, PathsOf};

pub use config::{
    DeployConfig, DeployThresholds, FlagConfig, ProbabilityPercents, RiskConfig, RiskPaths,
    RiskThresholds, RuleConfig, RuleMatch, STRATEGIES,
};
pub use rollback::{plan_rollback, Irreversible, Rollback, RollbackTarget, Trigger};
pub use signals::{
    content_requests, flags_in_text, CommitRef, ContentRequests, FlagTouch, Migration, PathHit,
    Signals,
};
pub use strategy::{choose_strategy, StrategyFacts, StrategyOption};

/// Each of `changes` whose paths could be read (`paths`, index for index), with them.
fn with_paths<'a>(
    changes: &'a [Change],
    paths: &'a PathLists,
) -> impl Iterator<Item = (&'a Change, PathsOf<'a>)> + 'a {
    changes
        .iter()
        .enumerate()
        .filter_map(move |(i, change)| Some((change, paths.get(i)?.ok()?)))
}

/// A commit a risk names, written as its full id: shared with the commit's change
/// where the range has it (a long range names hundreds of thousands), else the id
/// a pull request listed.
#[derive(Debug, Clone)]
pub enum CommitId {
    Change(Change),
    Text(Arc<str>),
}

impl CommitId {
    pub fn as_str(&self) -> &str {
        match self {
            CommitId::Change(change) => change.id(),
            CommitId::Text(id) => id,
        }
    }
}

impl PartialEq for CommitId {
    fn eq(&self, other: &CommitId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for CommitId {}

impl PartialOrd for CommitId {
    fn partial_cmp(&self, other: &CommitId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CommitId {
    fn cmp(&self, other: &CommitId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for CommitId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// File contents the engine needs, read at the edge (only files matching the
/// migration globs and countable lockfiles).
#[derive(Debug, Clone, Default)]
pub struct FileTexts {
    /// Migration path → its text at the end of the range (absent when deleted).
    pub migrations: BTreeMap<String, String>,
    /// Lockfile path → (text at the start, text at the end of the range).
    pub lockfiles: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Declared flag names found in the content of changed files: (flag, path).
    pub flag_mentions: Vec<(String, String)>,
}

/// Everything the risk engine reads.
#[derive(Debug, Clone, Copy)]
pub struct RiskInput<'a> {
    /// Shared with the plan's scope: the commits the engine names are these.
    pub changes: &'a [Change],
    /// The paths each of `changes` changed, index for index.
    pub paths: &'a PathLists,
    pub totals: &'a DiffTotals,
    pub texts: &'a FileTexts,
    /// Pull request labels by commit id (empty until pull requests are read).
    pub labels: &'a BTreeMap<String, Vec<String>>,
    /// Whole commit messages by commit id (for advisories, rule regexes, flag names).
    pub messages: &'a BTreeMap<&'a str, String>,
    /// Whether `messages` lists only what `MessageFilter` wants, so a commit it does
    /// not list has a message in which nothing can match (rather than one unknown,
    /// for which the summary stands in).
    pub messages_filtered: bool,
    pub flags: &'a [FlagConfig],
    /// Pull requests a person labelled with a risk level (`risk:high`, ...).
    pub labelled: &'a [LabelledPullRequest],
}

impl<'a> RiskInput<'a> {
    /// Each change whose paths could be read, with them.
    pub(crate) fn commit_paths(&self) -> impl Iterator<Item = (&'a Change, PathsOf<'a>)> + 'a {
        with_paths(self.changes, self.paths)
    }

    /// What the engine searches for `change`: its whole message when listed.
    fn message<'c>(&'c self, change: &'c Change) -> &'c str {
        match self.messages.get(change.id()) {
            Some(message) => message,
            None if self.messages_filtered => "",
            None => change.summary(),
        }
    }
}

/// Which commit messages the risk engine can find something in: those naming a
/// security advisory or a declared feature flag, or matching a `[[risk.rules]]`
/// `commits` regex. A long range's other messages need not be kept until the risk
/// pass (on a 1M-commit range they were the largest single use of memory).
pub struct MessageFilter {
    flags: Vec<String>,
    rules: Vec<regex::Regex>,
    /// A rule regex matches the empty message, so leaving a message out could make
    /// it match: every message is kept.
    all: bool,
}

impl MessageFilter {
    pub fn new(config: &RiskConfig, flags: &[FlagConfig]) -> MessageFilter {
        let rules: Vec<regex::Regex> = config
            .rules
            .iter()
            .filter_map(|r| r.matcher.commits.as_deref())
            .filter_map(|re| regex::Regex::new(re).ok())
            .collect();
        MessageFilter {
            all: rules.iter().any(|re| re.is_match("")),
            flags: flags.iter().map(|f| f.name.clone()).collect(),
            rules,
        }
    }

    pub fn wants(&self, message: &str) -> bool {
        self.all
            || signals::mentions_advisory(message)
            || self
                .flags
                .iter()
                .any(|f| signals::contains_identifier(message, f))
            || self.rules.iter().any(|re| re.is_match(message))
    }
}

/// A pull request whose label declares its risk: a reviewer's judgement, taken as evidence.
#[derive(Debug, Clone)]
pub struct LabelledPullRequest {
    pub number: u64,
    pub title: String,
    pub label: String,
    pub level: Level,
    /// Commit ids of the pull request inside the range.
    pub commits: Vec<String>,
}

/// Severity, and also impact: Low < Medium < High < Critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(alias = "low")]
    Low,
    #[serde(alias = "medium")]
    Medium,
    #[serde(alias = "high")]
    High,
    #[serde(alias = "critical")]
    Critical,
}

/// How bad it is if the risk happens.
pub type Impact = Level;

/// How likely the risk is to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProbabilityLevel {
    #[serde(alias = "low")]
    Low,
    #[serde(alias = "medium")]
    Medium,
    #[serde(alias = "high")]
    High,
}

impl ProbabilityLevel {
    pub const ALL: [ProbabilityLevel; 3] = [
        ProbabilityLevel::Low,
        ProbabilityLevel::Medium,
        ProbabilityLevel::High,
    ];
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Low, Level::Medium, Level::High, Level::Critical];

    /// `low`, `medium`, `high` or `critical`, any case.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| format!("{l:?}").eq_ignore_ascii_case(text.trim()))
    }
}

/// A probability level and the percentage configured for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Probability {
    pub level: ProbabilityLevel,
    pub percent: u8,
}

/// The severity matrix (README "Risk assessment"): rows are probability, columns impact.
///
/// | probability \ impact | Low    | Medium | High     | Critical |
/// |----------------------|--------|--------|----------|----------|
/// | Low                  | Low    | Low    | Medium   | High     |
/// | Medium               | Low    | Medium | High     | Critical |
/// | High                 | Medium | High   | Critical | Critical |
pub fn severity(probability: ProbabilityLevel, impact: Impact) -> Level {
    use Level::*;
    const MATRIX: [[Level; 4]; 3] = [
        [Low, Low, Medium, High],
        [Low, Medium, High, Critical],
        [Medium, High, Critical, Critical],
    ];
    MATRIX[probability as usize][impact as usize]
}

/// One row of the matrix, for the documents.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub probability: ProbabilityLevel,
    pub percent: u8,
    /// Severity for impact Low, Medium, High, Critical.
    pub cells: Vec<Level>,
}

/// A go/no-go item and the milestone whose gate it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoNoGo {
    /// A schedule milestone key (`staging`, `approval`, `release`, ...).
    pub milestone: String,
    pub item: String,
}

/// One evidence-backed risk.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    /// `migrations`, `breaking-changes`, ..., `rule:<name>` for a custom rule, or
    /// `label:<PR number>` for a pull request labelled `risk:<level>`.
    pub key: String,
    pub title: String,
    /// Why this can hurt, in one sentence.
    pub description: String,
    pub probability: Probability,
    pub impact: Impact,
    pub severity: Level,
    /// Why the probability and impact are what they are.
    pub rationale: String,
    /// Human-readable evidence lines (commits, files, counts), capped with "and N more".
    pub evidence: Vec<String>,
    /// Full ids of the commits that raised it (shared with the changes). Shared with
    /// the documents' view of the plan too (`render::shared_list`).
    #[serde(serialize_with = "crate::plan::render::shared_list")]
    pub commits: Arc<[CommitId]>,
    /// Paths that raised it.
    pub files: Vec<String>,
    pub mitigations: Vec<String>,
    pub contingency: Vec<String>,
    pub go_no_go: Vec<GoNoGo>,
}

/// A point of the Mermaid quadrant chart (coordinates in 0..1, two decimals).
#[derive(Debug, Clone, Serialize)]
pub struct ChartPoint {
    pub label: String,
    pub x: String,
    pub y: String,
}

/// Go/no-go items gathered for one milestone, in schedule order.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneChecklist {
    pub milestone: String,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub item: String,
    /// The title of the risk that asks for it.
    pub risk: String,
}

/// The risk section of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The highest severity among the risks; Low when there are none.
    pub level: Level,
    /// Why the level is what it is.
    pub reason: String,
    /// The rule that sets the overall level.
    pub rule: String,
    /// Highest severity first.
    pub risks: Vec<Risk>,
    pub matrix: Vec<MatrixRow>,
    pub chart: Vec<ChartPoint>,
    /// Go/no-go items per milestone (feeds the schedule).
    pub go_no_go: Vec<MilestoneChecklist>,
    /// Shared, so that templates can read it in place (`plan::render`).
    #[serde(serialize_with = "crate::plan::render::signals_in_place")]
    pub signals: Arc<Signals>,
}

/// Assesses the range: signals first, then only the risks the data shows.
pub fn assess(input: &RiskInput<'_>, config: &RiskConfig) -> Assessment {
    let signals = signals::collect(input, config);
    let mut risks = rules::builtin(&signals, config);
    risks.extend(rules::custom(input, config));
    risks.extend(rules::labelled(input, config));
    // Highest severity first; stable among equals (built-ins in their fixed order).
    risks.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let level = risks.iter().map(|r| r.severity).max().unwrap_or(Level::Low);
    let rule =
        "the overall level is the highest severity among the risks; Low when no risk is raised"
            .to_string();
    let reason = match risks.first() {
        Some(top) => {
            let same = risks.iter().filter(|r| r.severity == top.severity).count();
            format!(
                "{} of {} risk{} {} {:?}; the highest is \"{}\" ({:?} probability × {:?} impact)",
                same,
                risks.len(),
                if risks.len() == 1 { "" } else { "s" },
                if same == 1 { "is" } else { "are" },
                top.severity,
                top.title,
                top.probability.level,
                top.impact
            )
        }
        None => format!(
            "no risk signal in the {} commit{} of this range",
            signals.commits,
            if signals.commits == 1 { "" } else { "s" }
        ),
    };
    let matrix = ProbabilityLevel::ALL
        .iter()
        .map(|&p| MatrixRow {
            probability: p,
            percent: config.probabilities.of(p),
            cells: Level::ALL.iter().map(|&i| severity(p, i)).collect(),
        })
        .collect();
    let chart = chart_points(&risks);
    let go_no_go = checklists(&risks);
    Assessment {
        level,
        reason,
        rule,
        risks,
        matrix,
        chart,
        go_no_go,
        signals: Arc::new(signals),
    }
}

/// Mermaid quadrant points: x = probability, y = impact. Points that would sit on
/// top of each other are nudged apart so every risk stays visible.
fn chart_points(risks: &[Risk]) -> Vec<ChartPoint> {
    let mut used: Vec<(i32, i32)> = Vec::new();
    risks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let x = (i32::from(r.probability.percent)).clamp(5, 95);
            let y = match r.impact {
                Level::Low => 15,
                Level::Medium => 40,
                Level::High => 65,
                Level::Critical => 90,
            };
            let mut point = (x, y);
            while used.contains(&point) {
                point.0 = if point.0 >= 90 { 10 } else { point.0 + 5 };
                point.1 = (point.1 + 3).min(97);
            }
            used.push(point);
            // Mermaid's quadrant grammar takes letters, digits and spaces in point names,
            // and coordinates written as 0.dd (never 1.0): both are enforced here.
            let title: String = r
                .title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            ChartPoint {
                label: format!("R{} {}", i + 1, title),
                x: format!("{:.2}", f64::from(point.0) / 100.0),
                y: format!("{:.2}", f64::from(point.1) / 100.0),
            }
        })
        .collect()
}

/// The schedule's milestone keys in order; unknown keys go last.
const MILESTONE_ORDER: [&str; 9] = [
    "code-freeze",
    "qa",
    "staging",
    "uat",
    "approval",
    "release",
    "monitoring",
    "stability",
    "retrospective",
];

fn checklists(risks: &[Risk]) -> Vec<MilestoneChecklist> {
    let mut by: BTreeMap<(usize, String), Vec<ChecklistItem>> = BTreeMap::new();
    for r in risks {
        for g in &r.go_no_go {
            let rank = MILESTONE_ORDER
                .iter()
                .position(|m| *m == g.milestone)
                .unwrap_or(MILESTONE_ORDER.len());
            let items = by.entry((rank, g.milestone.clone())).or_default();
            if !items.iter().any(|i| i.item == g.item) {
                items.push(ChecklistItem {
                    item: g.item.clone(),
                    risk: r.title.clone(),
                });
            }
        }
    }
    by.into_iter()
        .map(|((_, milestone), items)| MilestoneChecklist { milestone, items })
        .collect()
}

/// The chosen deployment strategy and the signals that chose it.
#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    /// `blue-green`, `canary`, `rolling`, `feature-flags` or `recreate`.
    pub recommended: String,
    /// Display name, with its complement: "Blue-green with a canary phase".
    pub name: String,
    pub canary_phase: bool,
    /// The evidence-based reasons, most important first.
    pub reasons: Vec<String>,
    /// Every strategy with its score, highest first.
    pub options: Vec<StrategyOption>,
    /// True when `[deploy] supports` is unset and every strategy was assumed possible.
    pub capabilities_assumed: bool,
    /// Migrations should ship backward-compatible, before the code that needs them.
    pub backward_compatible_migrations: bool,
    pub thresholds: DeployThresholds,
    /// Declared flags this release touches.
    pub flags: Vec<FlagTouch>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;
    use ProbabilityLevel as P;

    fn filter(rules: &str, flags: &[&str]) -> MessageFilter {
        let config: RiskConfig = toml::from_str(rules).unwrap();
        let flags: Vec<FlagConfig> = flags
            .iter()
            .map(|name| FlagConfig {
                name: name.to_string(),
                description: None,
                paths: Vec::new(),
            })
            .collect();
        MessageFilter::new(&config, &flags)
    }

    #[test]
    fn a_message_the_filter_left_out_matches_nothing() {
        // The summary names an advisory the commit message did not (a pull request's
        // title): a message left out by the filter must not be replaced by it.
        let change = Change::from(crate::commits::ChangeFields {
            subject: "fix: patch the parser".into(),
            pr: Some(7),
            ..rules::tests::fields(
                &"a".repeat(40),
                "fix: patch CVE-2026-11111",
                crate::commits::Category::Fixes,
            )
        });
        let advisories = |filtered: bool| {
            let input = RiskInput {
                changes: std::slice::from_ref(&change),
                paths: &crate::git::PathLists::with_len(1),
                totals: &DiffTotals::default(),
                texts: &FileTexts::default(),
                labels: &BTreeMap::new(),
                messages: &BTreeMap::new(),
                messages_filtered: filtered,
                flags: &[],
                labelled: &[],
            };
            assess(&input, &RiskConfig::default())
                .signals
                .advisories
                .len()
        };
        assert_eq!(
            advisories(false),
            1,
            "without a filter the summary stands in"
        );
        assert_eq!(advisories(true), 0);
    }

    #[test]
    fn message_filter_keeps_what_the_engine_can_match() {
        let rule = "[[rules]]\nname = \"Payments\"\nmatch = { commits = \"(?i)stripe\" }\nprobability = \"high\"\nimpact = \"high\"\n";
        let f = filter(rule, &["new_checkout"]);
        assert!(f.wants("fix: tokens\n\nFixes CVE-2026-12345."));
        assert!(f.wants("fix: bump\n\nSee GHSA-abcd-efgh-ijkl"));
        assert!(f.wants("feat: pay\n\nMoves charges to Stripe."));
        assert!(f.wants("feat: ship it\n\nGuarded by new_checkout."));
        assert!(!f.wants("feat: ship it\n\nGuarded by new_checkout_v2."));
        assert!(!f.wants("docs: typo\n\nNothing to see."));
        assert!(!f.wants(""));
        // A rule that matches an empty message would match one left out: keep all.
        let all = filter(
            "[[rules]]\nname = \"Terse\"\nmatch = { commits = \"^$\" }\nprobability = \"low\"\nimpact = \"low\"\n",
            &[],
        );
        assert!(all.wants("docs: typo") && all.wants(""));
    }

    #[test]
    fn severity_matrix() {
        for (p, i, expected) in [
            (P::Low, Low, Low),
            (P::Low, Medium, Low),
            (P::Low, High, Medium),
            (P::Low, Critical, High),
            (P::Medium, Low, Low),
            (P::Medium, Medium, Medium),
            (P::Medium, High, High),
            (P::Medium, Critical, Critical),
            (P::High, Low, Medium),
            (P::High, Medium, High),
            (P::High, High, Critical),
            (P::High, Critical, Critical),
        ] {
            assert_eq!(severity(p, i), expected, "{p:?} × {i:?}");
        }
    }

    fn risk(title: &str, p: P, percent: u8, impact: Level) -> Risk {
        Risk {
            key: "k".into(),
            title: title.into(),
            description: String::new(),
            probability: Probability { level: p, percent },
            impact,
            severity: severity(p, impact),
            rationale: String::new(),
            evidence: Vec::new(),
            commits: Arc::from([]),
            files: Vec::new(),
            mitigations: Vec::new(),
            contingency: Vec::new(),
            go_no_go: Vec::new(),
        }
    }

    #[test]
    fn chart_points_are_valid_mermaid_and_never_overlap() {
        let risks = vec![
            risk("Payment flow (v2) → “new”", P::High, 100, Critical),
            risk("Same spot", P::Medium, 40, High),
            risk("Same spot again", P::Medium, 40, High),
        ];
        let points = chart_points(&risks);
        assert_eq!(points[0].label, "R1 Payment flow v2 new");
        assert_eq!(
            (points[0].x.as_str(), points[0].y.as_str()),
            ("0.95", "0.90")
        );
        assert_eq!(
            (points[1].x.as_str(), points[1].y.as_str()),
            ("0.40", "0.65")
        );
        assert_eq!(
            (points[2].x.as_str(), points[2].y.as_str()),
            ("0.45", "0.68")
        );
        for p in &points {
            assert!(p.x.starts_with("0.") && p.y.starts_with("0."), "{p:?}");
        }
    }

    #[test]
    fn severity_never_falls_when_probability_or_impact_rises() {
        for p in P::ALL {
            for w in Level::ALL.windows(2) {
                assert!(severity(p, w[0]) <= severity(p, w[1]));
            }
        }
        for i in Level::ALL {
            for w in P::ALL.windows(2) {
                assert!(severity(w[0], i) <= severity(w[1], i));
            }
        }
    }
}
