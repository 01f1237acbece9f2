//! The next SemVer version the changes call for, and the reason in words.
//!
//! breaking → major, feature → minor, anything else → patch (SemVer 2.0.0 §8, the
//! Conventional Commits "Why use" mapping). While the major version is 0 the public
//! API is not stable (SemVer §4): by default breaking → minor and feature → patch,
//! both configurable. A prerelease (`--pre rc`) numbers itself after the tags that
//! already exist for the same version: `2.0.0-rc.1`, then `2.0.0-rc.2`.

use semver::{Prerelease, Version};
use serde::{Deserialize, Serialize};

use super::{Category, Change, CommitsConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BumpLevel {
    Patch,
    Minor,
    Major,
}

impl BumpLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            BumpLevel::Major => "major",
            BumpLevel::Minor => "minor",
            BumpLevel::Patch => "patch",
        }
    }
}

/// The suggested version with its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Bump {
    pub level: BumpLevel,
    /// The version the bump starts from (the previous release tag's).
    pub previous: Option<String>,
    pub next: String,
    /// "2 breaking changes (abc1234, def5678) → major: 1.4.2 → 2.0.0".
    pub reason: String,
    /// Short ids of the changes that decided the level (breaking ones, else features).
    pub because: Vec<String>,
    /// The prerelease identifier asked for (`rc`), if any.
    pub pre: Option<String>,
}

/// What the bump needs besides the changes.
#[derive(Debug, Clone)]
pub struct VersionRules {
    pub zero_major_breaking: BumpLevel,
    pub zero_major_feature: BumpLevel,
    /// Prerelease identifier (`rc`, `beta`) for a prerelease suggestion.
    pub pre: Option<String>,
    /// Every release tag's version in the repository, to number prereleases.
    pub tagged: Vec<Version>,
}

impl Default for VersionRules {
    fn default() -> Self {
        VersionRules::from_config(&CommitsConfig::default())
    }
}

impl VersionRules {
    pub fn from_config(config: &CommitsConfig) -> VersionRules {
        VersionRules {
            zero_major_breaking: config.zero_major_breaking,
            zero_major_feature: config.zero_major_feature,
            pre: None,
            tagged: Vec::new(),
        }
    }
}

/// The next `N` for `<core>-<ident>.N`: one more than the highest already tagged.
pub fn prerelease_number(core: &Version, ident: &str, tagged: &[Version]) -> u64 {
    tagged
        .iter()
        .filter(|v| (v.major, v.minor, v.patch) == (core.major, core.minor, core.patch))
        .filter_map(|v| {
            let pre = v.pre.as_str();
            if pre == ident {
                return Some(0);
            }
            pre.strip_prefix(ident)?
                .strip_prefix('.')?
                .parse::<u64>()
                .ok()
        })
        .max()
        .map_or(1, |n| n.saturating_add(1))
}

/// The version `changes` call for after `previous` (`0.1.0` without one).
pub fn suggest(previous: Option<&Version>, changes: &[Change], rules: &VersionRules) -> Bump {
    let counted = |c: &&Change| !matches!(c.category(), Category::Reverted | Category::Skipped);
    let breaking: Vec<&Change> = changes
        .iter()
        .filter(counted)
        .filter(|c| c.breaking())
        .collect();
    let features: Vec<&Change> = changes
        .iter()
        .filter(counted)
        .filter(|c| c.category() == Category::Features)
        .collect();
    let (mut level, because, drivers) = if !breaking.is_empty() {
        (
            BumpLevel::Major,
            describe(&breaking, "breaking change"),
            &breaking,
        )
    } else if !features.is_empty() {
        (BumpLevel::Minor, describe(&features, "feature"), &features)
    } else {
        (
            BumpLevel::Patch,
            "no breaking changes or features".to_string(),
            &breaking,
        )
    };
    let because_ids = drivers.iter().map(|c| c.short_id().to_string()).collect();
    let Some(previous) = previous else {
        let core = Version::new(0, 1, 0);
        let next = with_pre(&core, rules);
        return Bump {
            level,
            previous: None,
            next: next.to_string(),
            reason: format!("no previous release tag → {next}{}", pre_note(&next, rules)),
            because: because_ids,
            pre: rules.pre.clone(),
        };
    };
    let mut policy = String::new();
    if previous.major == 0 {
        let adjusted = match level {
            BumpLevel::Major => rules.zero_major_breaking,
            BumpLevel::Minor => rules.zero_major_feature,
            BumpLevel::Patch => BumpLevel::Patch,
        };
        if adjusted != level {
            policy = format!(
                " (0.x: {} bump the {} version)",
                if level == BumpLevel::Major {
                    "breaking changes"
                } else {
                    "features"
                },
                adjusted.as_str()
            );
        }
        level = adjusted;
    }
    let core = bump_core(previous, level);
    let next = with_pre(&core, rules);
    Bump {
        level,
        previous: Some(previous.to_string()),
        next: next.to_string(),
        reason: format!(
            "{because} → {}{policy}: {previous} → {next}{}",
            level.as_str(),
            pre_note(&next, rules)
        ),
        because: because_ids,
        pre: rules.pre.clone(),
    }
}

/// `previous` bumped by `level`. A prerelease already stands for its release, so
/// `2.0.0-rc.1` + major is `2.0.0`, and `1.5.0-rc.1` + major is `2.0.0`.
fn bump_core(previous: &Version, level: BumpLevel) -> Version {
    let (ma, mi, pa) = (previous.major, previous.minor, previous.patch);
    if previous.pre.is_empty() {
        return match level {
            BumpLevel::Major => Version::new(ma.saturating_add(1), 0, 0),
            BumpLevel::Minor => Version::new(ma, mi.saturating_add(1), 0),
            BumpLevel::Patch => Version::new(ma, mi, pa.saturating_add(1)),
        };
    }
    match level {
        BumpLevel::Major if mi != 0 || pa != 0 => Version::new(ma.saturating_add(1), 0, 0),
        BumpLevel::Minor if pa != 0 => Version::new(ma, mi.saturating_add(1), 0),
        _ => Version::new(ma, mi, pa),
    }
}

fn with_pre(core: &Version, rules: &VersionRules) -> Version {
    let Some(ident) = &rules.pre else {
        return core.clone();
    };
    let n = prerelease_number(core, ident, &rules.tagged);
    let pre = Prerelease::new(&format!("{ident}.{n}")).unwrap_or(Prerelease::EMPTY);
    Version {
        pre,
        ..core.clone()
    }
}

fn pre_note(next: &Version, rules: &VersionRules) -> String {
    let Some(ident) = &rules.pre else {
        return String::new();
    };
    let n = prerelease_number(next, ident, &rules.tagged);
    if n <= 1 {
        return String::new();
    }
    format!(
        " ({}.{}.{}-{ident}.{} is already tagged)",
        next.major,
        next.minor,
        next.patch,
        n - 1
    )
}

fn describe(changes: &[&Change], noun: &str) -> String {
    let ids: Vec<&str> = changes.iter().take(3).map(|c| c.short_id()).collect();
    let more = if changes.len() > 3 {
        format!(", and {} more", changes.len() - 3)
    } else {
        String::new()
    };
    let plural = if changes.len() == 1 { "" } else { "s" };
    format!(
        "{} {noun}{plural} ({}{more})",
        changes.len(),
        ids.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commits::classify;
    use crate::git::Commit;

    fn changes(messages: &[&str]) -> Vec<Change> {
        let commits: Vec<Commit> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| Commit {
                oid: git2::Oid::ZERO_SHA1,
                id: format!("{:07x}{}", i + 0xabc0001, "0".repeat(33)).into(),
                message: m.to_string(),
                author: "Ada".into(),
                author_email: "a@x".into(),
                time: 0,
                parent_count: 1,
                tree: git2::Oid::ZERO_SHA1,
                parents: Default::default(),
            })
            .collect();
        classify(&commits, &CommitsConfig::default())
    }

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn next(previous: &str, messages: &[&str], rules: &VersionRules) -> Bump {
        suggest(Some(&v(previous)), &changes(messages), rules)
    }

    #[test]
    fn breaking_major_feature_minor_else_patch() {
        let r = VersionRules::default();
        let b = next("1.4.2", &["feat!: a", "fix: b", "refactor!: c"], &r);
        assert_eq!(b.next, "2.0.0");
        assert_eq!(
            b.reason,
            "2 breaking changes (abc0001, abc0003) → major: 1.4.2 → 2.0.0"
        );
        assert_eq!(next("1.4.2", &["feat: a", "fix: b"], &r).next, "1.5.0");
        assert_eq!(next("1.4.2", &["fix: b", "Tidy"], &r).next, "1.4.3");
        let b = next("1.4.2", &[], &r);
        assert_eq!(
            b.reason,
            "no breaking changes or features → patch: 1.4.2 → 1.4.3"
        );
    }

    #[test]
    fn reverted_and_skipped_changes_do_not_count() {
        let r = VersionRules::default();
        let b = next("1.0.0", &["Revert \"feat!: a\"", "feat!: a", "fix: b"], &r);
        assert_eq!(b.next, "1.0.1");
    }

    #[test]
    fn zero_major_policy_is_configurable() {
        let r = VersionRules::default();
        let b = next("0.3.1", &["feat!: a"], &r);
        assert_eq!(b.next, "0.4.0");
        assert!(
            b.reason.contains("0.x: breaking changes bump the minor"),
            "{}",
            b.reason
        );
        assert_eq!(next("0.3.1", &["feat: a"], &r).next, "0.3.2");
        let strict = VersionRules {
            zero_major_breaking: BumpLevel::Major,
            zero_major_feature: BumpLevel::Minor,
            ..VersionRules::default()
        };
        assert_eq!(next("0.3.1", &["feat!: a"], &strict).next, "1.0.0");
        assert_eq!(next("0.3.1", &["feat: a"], &strict).next, "0.4.0");
    }

    #[test]
    fn prereleases_number_after_existing_tags() {
        let mut r = VersionRules {
            pre: Some("rc".into()),
            ..VersionRules::default()
        };
        assert_eq!(next("1.4.2", &["feat!: a"], &r).next, "2.0.0-rc.1");
        r.tagged = vec![v("2.0.0-rc.1"), v("1.4.2"), v("2.0.0-beta.7")];
        let b = next("1.4.2", &["feat!: a"], &r);
        assert_eq!(b.next, "2.0.0-rc.2");
        assert!(
            b.reason.ends_with("(2.0.0-rc.1 is already tagged)"),
            "{}",
            b.reason
        );
        assert_eq!(prerelease_number(&v("2.0.0"), "beta", &r.tagged), 8);
        assert_eq!(prerelease_number(&v("2.0.0"), "alpha", &r.tagged), 1);
    }

    #[test]
    fn after_a_prerelease_the_release_itself() {
        let r = VersionRules::default();
        assert_eq!(next("2.0.0-rc.1", &["feat!: a"], &r).next, "2.0.0");
        assert_eq!(next("1.5.0-rc.1", &["feat!: a"], &r).next, "2.0.0");
        assert_eq!(next("1.5.0-rc.1", &["feat: a"], &r).next, "1.5.0");
        assert_eq!(next("1.5.1-rc.1", &["feat: a"], &r).next, "1.6.0");
    }

    #[test]
    fn first_release() {
        let b = suggest(None, &changes(&["feat: a"]), &VersionRules::default());
        assert_eq!((b.next.as_str(), b.previous), ("0.1.0", None));
    }
}
