//! From commit messages to classified changes: Conventional Commits parsing
//! (`parse`), the classification rules (`classify`, `config`), reverts, merges and
//! fixups, and the suggested version bump (`version`). Pure: takes `git::Commit`s
//! (and, for the path fallback, a lookup the caller provides), returns data. Never
//! reads the repository itself.

mod classify;
mod config;
mod packed;
pub mod parse;
mod version;

use compact_str::CompactString;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

pub use classify::{
    classify, fold_pull_request_commits, folds, is_pull_request_merge, settle, Classifier, Draft,
};
pub use config::{CommitsConfig, PathRule, Rule};
pub use packed::{Changes, PackedDraft};
pub use version::{prerelease_number, suggest, Bump, BumpLevel, VersionRules};

/// Where a change is listed. Serialized as the lower-case names of the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Features,
    Fixes,
    Performance,
    Security,
    Dependencies,
    Documentation,
    Refactoring,
    Tests,
    Build,
    Other,
    /// Not a conventional commit and no rule matched.
    Unclassified,
    /// Cancelled by a revert in the same range (and that revert).
    Reverted,
    /// Merge plumbing, fixups, configured skips.
    Skipped,
    /// A category a user configured.
    Custom(String),
}

impl Category {
    pub fn as_str(&self) -> &str {
        match self {
            Category::Features => "features",
            Category::Fixes => "fixes",
            Category::Performance => "performance",
            Category::Security => "security",
            Category::Dependencies => "dependencies",
            Category::Documentation => "documentation",
            Category::Refactoring => "refactoring",
            Category::Tests => "tests",
            Category::Build => "build",
            Category::Other => "other",
            Category::Unclassified => "unclassified",
            Category::Reverted => "reverted",
            Category::Skipped => "skipped",
            Category::Custom(name) => name,
        }
    }

    /// Heading used in documents.
    pub fn title(&self) -> String {
        match self {
            Category::Features => "Features".into(),
            Category::Fixes => "Bug fixes".into(),
            Category::Performance => "Performance".into(),
            Category::Security => "Security".into(),
            Category::Dependencies => "Dependencies".into(),
            Category::Documentation => "Documentation".into(),
            Category::Refactoring => "Refactoring".into(),
            Category::Tests => "Tests".into(),
            Category::Build => "Build and CI".into(),
            Category::Other => "Other changes".into(),
            Category::Unclassified => "Unclassified".into(),
            Category::Reverted => "Reverted within this release".into(),
            Category::Skipped => "Skipped".into(),
            Category::Custom(name) => {
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }

    /// The order sections appear in scope.md (custom categories after `other`).
    pub fn rank(&self) -> u8 {
        match self {
            Category::Features => 0,
            Category::Fixes => 1,
            Category::Performance => 2,
            Category::Security => 3,
            Category::Dependencies => 4,
            Category::Documentation => 5,
            Category::Refactoring => 6,
            Category::Tests => 7,
            Category::Build => 8,
            Category::Other => 9,
            Category::Custom(_) => 10,
            Category::Unclassified => 11,
            Category::Reverted => 12,
            Category::Skipped => 13,
        }
    }

    /// The category a config names: a built-in name, or a custom one.
    pub fn from_name(name: &str) -> Category {
        Category::BUILT_IN
            .iter()
            .find(|c| c.as_str() == name)
            .cloned()
            .unwrap_or_else(|| Category::Custom(name.to_string()))
    }

    /// The built-in categories, in document order.
    pub const BUILT_IN: [Category; 13] = [
        Category::Features,
        Category::Fixes,
        Category::Performance,
        Category::Security,
        Category::Dependencies,
        Category::Documentation,
        Category::Refactoring,
        Category::Tests,
        Category::Build,
        Category::Other,
        Category::Unclassified,
        Category::Reverted,
        Category::Skipped,
    ];
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Change {
    /// `time` as JSON and the documents show it: RFC 3339 in UTC to the second,
    /// empty for a time chrono cannot represent.
    pub fn time_rfc3339(&self) -> String {
        rfc3339(self.time)
    }

    /// Appends this change to `out` exactly as `serde_json::to_writer_pretty` writes
    /// its `Serialize` `depth` levels deep, about three times as fast: `scope --format
    /// json` writes one per commit of the range, after the walk, and serde_json's
    /// general machinery was most of that time (BENCHMARKS.md). A property test holds
    /// the two to the same bytes.
    pub fn write_json(&self, out: &mut Vec<u8>, depth: usize) {
        // No `..`: a new field of `Change` does not compile until it is written here.
        let Change {
            id,
            summary,
            conventional,
            kind,
            scope,
            breaking,
            description,
            category,
            pr,
            authors,
            short_id,
            breaking_note,
            time,
            subject,
            classified_by,
            note,
        } = self;
        let mut o = crate::json::PrettyObject::begin(out, depth);
        o.string("id", id);
        o.string("summary", summary);
        o.bool("conventional", *conventional);
        o.opt_string("type", kind.as_deref());
        o.opt_string("scope", scope.as_deref());
        o.bool("breaking", *breaking);
        o.opt_string("description", description.as_deref());
        o.string("category", category.as_str());
        o.opt_u64("pr", *pr);
        o.strings("authors", authors);
        o.string("short_id", short_id);
        o.opt_string("breaking_note", breaking_note.as_deref());
        match rfc3339_digits(*time) {
            Some(digits) => o.string("time", std::str::from_utf8(&digits).unwrap_or_default()),
            None => o.string("time", &rfc3339(*time)),
        }
        o.string("subject", subject);
        o.string("classified_by", classified_by);
        o.opt_string("note", note.as_deref());
        o.end();
    }
}

/// `rfc3339` without an allocation, for the years 1000–9999 (where chrono writes
/// exactly four digits); `None` elsewhere.
fn rfc3339_digits(seconds: i64) -> Option<[u8; 20]> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp(seconds, 0)?;
    let year = t.year();
    if !(1000..=9999).contains(&year) {
        return None;
    }
    let mut d = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (0..width).rev() {
            d[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    Some(d)
}

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn serialize_time<S: Serializer>(time: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*time))
}

/// One commit of the range, classified. The first fields are the JSON contract
/// of `relplan scope --format json` (DESIGN.md); the rest may grow.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Shared with the commit it came from (and the risk engine's inputs): a long
    /// range holds each id once.
    pub id: Arc<str>,
    pub summary: Arc<str>,
    pub conventional: bool,
    #[serde(rename = "type")]
    pub kind: Option<CompactString>,
    pub scope: Option<CompactString>,
    pub breaking: bool,
    pub description: Option<String>,
    pub category: Category,
    pub pr: Option<u64>,
    pub authors: Vec<CompactString>,
    pub short_id: CompactString,
    /// Text of `BREAKING CHANGE:` footers: the migration note.
    pub breaking_note: Option<String>,
    /// Author time, seconds since the epoch; written as RFC 3339 (`time_rfc3339`).
    /// Kept as a number: one string a commit fewer on long ranges.
    #[serde(serialize_with = "serialize_time")]
    pub time: i64,
    /// The commit's own first line (for a merged pull request, `summary` is the PR title).
    /// Usually the same text as `summary`, and then the same allocation.
    pub subject: Arc<str>,
    /// What decided the category: `type`, `rule`, `merge`, `revert`, `fixup`,
    /// `paths`, `heuristic` or `none` (unclassified).
    pub classified_by: &'static str,
    /// Why a change is reverted or skipped, in words ("reverted by abc1234").
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text with what JSON must escape (quotes, backslashes, every kind of control
    /// character) among ordinary and non-ASCII characters.
    fn text() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '"', '\\', '\n', '\t', '\r', '\u{8}', '\u{c}', '\0', '\u{1f}', '\u{7f}', 'é',
            '\u{2028}', '😀', ' ', 'a',
        ]);
        prop::collection::vec(prop_oneof![special, any::<char>()], 0..24)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn category() -> impl Strategy<Value = Category> {
        prop_oneof![
            prop::sample::select(vec![
                Category::Features,
                Category::Fixes,
                Category::Security,
                Category::Unclassified,
                Category::Reverted,
                Category::Skipped,
            ]),
            text().prop_map(Category::Custom),
        ]
    }

    fn time() -> impl Strategy<Value = i64> {
        prop_oneof![
            0i64..4_102_444_800,
            -62_135_596_800i64..0,
            any::<i64>(),
            Just(253_402_300_799),
            Just(253_402_300_800),
            Just(-30_610_224_000),
        ]
    }

    prop_compose! {
        fn change()(
            (id, summary, subject, short_id) in (text(), text(), text(), text()),
            (kind, scope, description) in (
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(text()),
            ),
            (breaking_note, note) in (prop::option::of(text()), prop::option::of(text())),
            (conventional, breaking) in (any::<bool>(), any::<bool>()),
            category in category(),
            pr in prop::option::of(any::<u64>()),
            authors in prop::collection::vec(text(), 0..3),
            time in time(),
            classified_by in prop::sample::select(vec!["type", "paths", "none"]),
        ) -> Change {
            Change {
                id: id.into(),
                summary: summary.into(),
                conventional,
                kind: kind.map(Into::into),
                scope: scope.map(Into::into),
                breaking,
                description,
                category,
                pr,
                authors: authors.into_iter().map(Into::into).collect(),
                short_id: short_id.into(),
                breaking_note,
                time,
                subject: subject.into(),
                classified_by,
                note,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// `write_json` is serde_json's pretty output of the derived `Serialize`, byte
        /// for byte, at any depth.
        #[test]
        fn write_json_matches_serde_json(change in change(), depth in 0usize..4) {
            let mut fast = Vec::new();
            change.write_json(&mut fast, depth);
            let mut serde = Vec::new();
            crate::json::write_pretty_at(&mut serde, &change, depth).unwrap();
            prop_assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(serde).unwrap());
        }
    }
}
