//! Choosing how to deploy: every strategy is scored against the signals by a fixed
//! table of adjustments (each with its reason), restricted to what the team can
//! run (`[deploy] supports`), and the best wins; ties go to the simpler strategy.

use serde::Serialize;

use super::{Assessment, DeployConfig, Level, Strategy};

/// The facts the strategy is chosen from (a summary of the assessment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrategyFacts {
    pub level: Option<Level>,
    pub migrations: usize,
    pub destructive_migrations: usize,
    pub breaking: usize,
    pub features: usize,
    /// The feature count reached `risk.thresholds.many_features`.
    pub many_features: bool,
    pub flags_declared: usize,
    pub flags_touched: usize,
    pub infrastructure: usize,
    pub performance: bool,
    pub large: bool,
}

impl StrategyFacts {
    pub fn from_assessment(a: &Assessment, config: &DeployConfig) -> StrategyFacts {
        let s = &a.signals;
        let has = |key: &str| a.risks.iter().any(|r| r.key == key);
        StrategyFacts {
            level: Some(a.level),
            migrations: s.migrations.len(),
            destructive_migrations: s.migrations.iter().filter(|m| m.destructive).count(),
            breaking: s.breaking.len(),
            features: s.features.len(),
            many_features: has("features"),
            flags_declared: config.flags.len(),
            flags_touched: s.flags.len(),
            infrastructure: s.infrastructure.len(),
            performance: has("performance"),
            large: has("size"),
        }
    }
}

/// One strategy's score and how it got there.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyOption {
    pub key: String,
    pub name: String,
    pub score: i32,
    /// In `[deploy] supports` (or assumed when unset).
    pub available: bool,
    pub recommended: bool,
    /// Signed adjustments: "+3 overall risk High: instant switch-back".
    pub reasons: Vec<String>,
}

/// Ties go to the first in this list: the simpler, cheaper strategy.
const TIE_ORDER: [&str; 5] = [
    "rolling",
    "canary",
    "blue-green",
    "feature-flags",
    "recreate",
];

fn name_of(key: &str) -> &'static str {
    match key {
        "blue-green" => "Blue-green",
        "canary" => "Canary",
        "rolling" => "Rolling",
        "feature-flags" => "Feature flags",
        _ => "Recreate",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The scoring table: (strategy, points, reason) for every signal that applies.
fn adjustments(f: &StrategyFacts) -> Vec<(&'static str, i32, String)> {
    let mut adj: Vec<(&'static str, i32, String)> = vec![
        (
            "rolling",
            3,
            "baseline: zero downtime at the lowest cost".into(),
        ),
        (
            "blue-green",
            2,
            "baseline: zero downtime, instant switch-back, needs a second environment".into(),
        ),
        (
            "canary",
            2,
            "baseline: zero downtime, limits exposure, needs traffic splitting and metrics".into(),
        ),
        (
            "recreate",
            1,
            "baseline: simplest, but takes the service down".into(),
        ),
        (
            "feature-flags",
            0,
            "baseline: only as good as the flags guarding the new code".into(),
        ),
    ];
    let mut add = |k, p, r: String| adj.push((k, p, r));
    match f.level {
        Some(level @ (Level::High | Level::Critical)) => {
            add(
                "blue-green",
                3,
                format!("overall risk {level:?}: switching back must take seconds"),
            );
            add(
                "canary",
                2,
                format!("overall risk {level:?}: limit how many users meet a problem"),
            );
            add(
                "rolling",
                -1,
                format!("overall risk {level:?}: a rolling rollback is slow"),
            );
            add(
                "recreate",
                -2,
                format!("overall risk {level:?}: downtime plus a slow way back"),
            );
        }
        Some(Level::Medium) => {
            add(
                "canary",
                2,
                "overall risk Medium: a small first slice catches problems cheaply".into(),
            );
            add(
                "blue-green",
                1,
                "overall risk Medium: instant switch-back".into(),
            );
        }
        _ => add(
            "rolling",
            2,
            "overall risk Low: the simplest zero-downtime strategy is enough".into(),
        ),
    }
    if f.destructive_migrations > 0 {
        let what = format!(
            "{} with destructive statements",
            plural(f.destructive_migrations, "migration", "migrations")
        );
        add(
            "blue-green",
            2,
            format!("{what}: switch back without waiting on the database"),
        );
        add(
            "canary",
            -2,
            format!("{what}: old and new versions would share one changed schema"),
        );
        add(
            "rolling",
            -2,
            format!("{what}: mixed versions would run against a destructive schema change"),
        );
        add(
            "recreate",
            1,
            format!("{what}: a maintenance window keeps old code off the new schema"),
        );
    } else if f.migrations > 0 {
        let what = plural(f.migrations, "migration", "migrations");
        add(
            "blue-green",
            1,
            format!("{what}: migrate backward-compatibly, then switch"),
        );
        add(
            "rolling",
            -1,
            format!("{what}: old and new code run together against the changed schema"),
        );
    }
    if f.breaking > 0 {
        let what = plural(f.breaking, "breaking change", "breaking changes");
        add(
            "blue-green",
            1,
            format!("{what}: switch back at once if consumers break"),
        );
        add(
            "rolling",
            -1,
            format!("{what}: clients would see both behaviours mid-rollout"),
        );
    }
    if f.many_features {
        add(
            "canary",
            2,
            format!(
                "{}: expose them to a small share of users first",
                plural(f.features, "user-facing feature", "user-facing features")
            ),
        );
    } else if f.features > 0 {
        add(
            "canary",
            1,
            format!(
                "{}: a canary slice shows how users meet them",
                plural(f.features, "user-facing feature", "user-facing features")
            ),
        );
    }
    if f.flags_touched > 0 {
        add(
            "feature-flags",
            6,
            format!(
                "{} touched: the new code can ship dark and be switched on gradually",
                plural(f.flags_touched, "declared flag", "declared flags")
            ),
        );
    } else if f.flags_declared == 0 {
        add(
            "feature-flags",
            -2,
            "no flags declared in [[deploy.flags]]".into(),
        );
    } else {
        add(
            "feature-flags",
            -1,
            "none of the declared flags is touched by this release".into(),
        );
    }
    if f.infrastructure > 0 {
        let what = plural(
            f.infrastructure,
            "infrastructure file",
            "infrastructure files",
        );
        add(
            "blue-green",
            1,
            format!("{what} changed: build and test the new environment before the switch"),
        );
        add(
            "rolling",
            -1,
            format!("{what} changed: a rolling update changes infrastructure under live traffic"),
        );
    }
    if f.performance {
        add(
            "canary",
            1,
            "performance risk: compare latency on a small share of traffic".into(),
        );
    }
    if f.large {
        add(
            "canary",
            1,
            "large change set: surface problems on a small share of traffic".into(),
        );
        add(
            "blue-green",
            1,
            "large change set: keep the previous environment ready".into(),
        );
    }
    adj
}

/// Scores every strategy and picks the best the team can run.
pub fn score(facts: &StrategyFacts, config: &DeployConfig) -> Vec<StrategyOption> {
    let adj = adjustments(facts);
    let mut options: Vec<StrategyOption> = TIE_ORDER
        .iter()
        .map(|&key| {
            let mine: Vec<&(&str, i32, String)> =
                adj.iter().filter(|(k, _, _)| *k == key).collect();
            let mut reasons: Vec<String> =
                mine.iter().map(|(_, p, r)| format!("{p:+} {r}")).collect();
            let available = config.supports(key);
            if !available {
                reasons.push("not in [deploy] supports: the team cannot run it".into());
            }
            StrategyOption {
                key: key.into(),
                name: name_of(key).into(),
                score: mine.iter().map(|(_, p, _)| p).sum(),
                available,
                recommended: false,
                reasons,
            }
        })
        .collect();
    // Stable sort keeps TIE_ORDER among equal scores; unavailable ones last.
    options.sort_by(|a, b| b.available.cmp(&a.available).then(b.score.cmp(&a.score)));
    if let Some(first) = options.first_mut() {
        first.recommended = first.available;
    }
    options
}

/// Picks a deployment strategy for the assessed range.
pub fn choose_strategy(assessment: &Assessment, config: &DeployConfig) -> Strategy {
    let facts = StrategyFacts::from_assessment(assessment, config);
    let options = score(&facts, config);
    let winner = options
        .iter()
        .find(|o| o.recommended)
        .or(options.first())
        .map_or("rolling".to_string(), |o| o.key.clone());
    let canary_phase = winner == "blue-green"
        && config.supports("canary")
        && (facts.features > 0 || facts.performance || facts.large);
    let mut reasons = Vec::new();
    if let Some(opt) = options.iter().find(|o| o.key == winner) {
        let mut positive: Vec<(i32, String)> = adjustments(&facts)
            .into_iter()
            .filter(|(k, p, r)| *k == winner && *p > 0 && !r.starts_with("baseline"))
            .map(|(_, p, r)| (p, r))
            .collect();
        positive.sort_by_key(|p| std::cmp::Reverse(p.0));
        reasons.extend(positive.into_iter().map(|(_, r)| r));
        if let Some(runner_up) = options.iter().find(|o| o.key != winner && o.available) {
            reasons.push(format!(
                "scores {} against {} for {}, the runner-up",
                opt.score, runner_up.score, runner_up.name
            ));
        }
    }
    if facts.migrations > 0 {
        reasons.push(format!(
            "{}, {} destructive: run the backward-compatible part of the migrations before the switch{}",
            plural(facts.migrations, "migration", "migrations"),
            facts.destructive_migrations,
            if facts.destructive_migrations > 0 {
                "; move the destructive statements to a later release or plan a restore"
            } else {
                ""
            }
        ));
    }
    if canary_phase {
        let why = if facts.features > 0 {
            plural(
                facts.features,
                "user-facing feature",
                "user-facing features",
            )
        } else if facts.performance {
            "a performance risk".to_string()
        } else {
            "a large change set".to_string()
        };
        reasons.push(format!(
            "canary phase during the switch because of {why}: shift traffic in steps of {}",
            config
                .thresholds
                .canary_steps
                .iter()
                .map(|s| format!("{s}%"))
                .collect::<Vec<_>>()
                .join(" → ")
        ));
    }
    if reasons.is_empty() {
        reasons.push("no risk signal calls for more than the simplest strategy".into());
    }
    let base = name_of(&winner);
    let name = if canary_phase {
        format!("{base} with a canary phase")
    } else {
        base.to_string()
    };
    Strategy {
        recommended: winner,
        name,
        canary_phase,
        reasons,
        options,
        capabilities_assumed: config.supports.is_none(),
        backward_compatible_migrations: facts.migrations > 0,
        thresholds: config.thresholds.clone(),
        flags: assessment.signals.flags.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn winner(facts: &StrategyFacts, supports: Option<&[&str]>) -> String {
        let config = DeployConfig {
            supports: supports.map(|s| s.iter().map(|x| x.to_string()).collect()),
            ..DeployConfig::default()
        };
        score(facts, &config)
            .into_iter()
            .find(|o| o.recommended)
            .map(|o| o.key)
            .unwrap_or_default()
    }

    #[test]
    fn strategy_table() {
        let low = StrategyFacts {
            level: Some(Level::Low),
            ..Default::default()
        };
        let medium_features = StrategyFacts {
            level: Some(Level::Medium),
            features: 3,
            ..Default::default()
        };
        let destructive = StrategyFacts {
            level: Some(Level::Critical),
            migrations: 3,
            destructive_migrations: 1,
            breaking: 1,
            ..Default::default()
        };
        let flags = StrategyFacts {
            level: Some(Level::Medium),
            features: 2,
            flags_declared: 2,
            flags_touched: 2,
            ..Default::default()
        };
        let many_features = StrategyFacts {
            level: Some(Level::Medium),
            features: 12,
            many_features: true,
            ..Default::default()
        };
        let all: &[&str] = &[
            "rolling",
            "canary",
            "blue-green",
            "feature-flags",
            "recreate",
        ];
        for (name, facts, supports, expected) in [
            ("docs only", &low, None, "rolling"),
            (
                "medium risk with features",
                &medium_features,
                None,
                "canary",
            ),
            (
                "destructive migration and breaking",
                &destructive,
                None,
                "blue-green",
            ),
            (
                "destructive, no blue-green",
                &destructive,
                Some(&["rolling", "recreate"][..]),
                "recreate",
            ),
            ("touched flags", &flags, None, "feature-flags"),
            ("many features", &many_features, Some(all), "canary"),
            (
                "only rolling possible",
                &destructive,
                Some(&["rolling"][..]),
                "rolling",
            ),
        ] {
            assert_eq!(winner(facts, supports), expected, "{name}");
        }
    }

    #[test]
    fn unavailable_strategies_are_scored_but_never_recommended() {
        let facts = StrategyFacts {
            level: Some(Level::Critical),
            destructive_migrations: 1,
            migrations: 1,
            ..Default::default()
        };
        let config = DeployConfig {
            supports: Some(vec!["rolling".into()]),
            ..DeployConfig::default()
        };
        let options = score(&facts, &config);
        let bg = options.iter().find(|o| o.key == "blue-green").unwrap();
        assert!(!bg.available && !bg.recommended);
        assert!(bg.score > options[0].score);
        assert_eq!(options[0].key, "rolling");
    }
}
