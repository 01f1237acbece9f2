//! A classified change, held packed: the form every pass after classification
//! reads, shares and renders.
//!
//! A million-commit `plan` holds every change of its range from the risk engine to
//! the last document. As a struct of fields (`ChangeFields`), with an allocation for
//! each id, summary, description and author list, a change took about 540 bytes:
//! 520 MiB at a million, most of that run's peak. Packed into the bytes of one
//! shared allocation it takes about 140 with the allocation's own (BENCHMARKS.md
//! item 65). Fields are read in place,
//! as borrowed text; a change is edited by unpacking its fields and packing them
//! again (`Change::edit`), which only enrichment does, for a few changes.

use std::fmt;
use std::sync::Arc;

use compact_str::CompactString;
use serde::{Serialize, Serializer};

use super::packed::{self, View};
use super::Category;

/// One commit of the range, classified (its fields: `ChangeFields`). Cheap to clone:
/// lists that name a change (sections, breaking changes, risk evidence) share its
/// bytes. Serialized as `ChangeFields` is: the JSON contract of `relplan scope
/// --format json` (DESIGN.md).
#[derive(Clone, PartialEq, Eq)]
pub struct Change(Arc<[u8]>);

/// A change's fields, for building and editing one. The first fields are the JSON
/// contract of `relplan scope --format json` (DESIGN.md); the rest may grow.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeFields {
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

impl From<ChangeFields> for Change {
    fn from(fields: ChangeFields) -> Change {
        Change::from(&fields)
    }
}

impl From<&ChangeFields> for Change {
    fn from(fields: &ChangeFields) -> Change {
        let mut bytes = Vec::with_capacity(64 + fields.summary.len());
        packed::write_change(fields, 0, false, &mut bytes, None);
        Change(bytes.into())
    }
}

impl Change {
    /// A change from bytes `packed::write_change` wrote with its id as text.
    pub(super) fn from_packed(bytes: Vec<u8>) -> Change {
        Change(bytes.into())
    }

    /// Whether both are the same change, shared (not merely equal).
    #[cfg(test)]
    pub(crate) fn is_shared_with(&self, other: &Change) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn view(&self) -> View<'_> {
        View::read(&self.0, &[]).0
    }

    /// The full commit id.
    pub fn id(&self) -> &str {
        packed::text_id(&self.0)
    }

    /// What documents list: the commit's subject, or its pull request's title.
    pub fn summary(&self) -> &str {
        packed::summary_or_subject(&self.0, false)
    }

    /// The commit's own first line.
    pub fn subject(&self) -> &str {
        packed::summary_or_subject(&self.0, true)
    }

    pub fn conventional(&self) -> bool {
        packed::kind_of(&self.0).conventional()
    }

    /// The Conventional Commits type (`feat`, `fix`, ...).
    pub fn kind(&self) -> Option<&str> {
        self.view().kind()
    }

    pub fn scope(&self) -> Option<&str> {
        self.view().scope()
    }

    pub fn breaking(&self) -> bool {
        packed::kind_of(&self.0).breaking()
    }

    pub fn description(&self) -> Option<&str> {
        self.view().description()
    }

    pub fn category(&self) -> Category {
        packed::kind_of(&self.0).category()
    }

    /// The category's name (`Category::as_str`), read in place.
    pub fn category_name(&self) -> &str {
        packed::kind_of(&self.0).category_name()
    }

    pub fn pr(&self) -> Option<u64> {
        self.view().pr
    }

    pub fn authors(&self) -> impl Iterator<Item = &str> + '_ {
        self.view().authors()
    }

    pub fn short_id(&self) -> &str {
        self.view().short_id()
    }

    /// Text of `BREAKING CHANGE:` footers: the migration note.
    pub fn breaking_note(&self) -> Option<&str> {
        self.view().breaking_note()
    }

    /// Author time, seconds since the epoch.
    pub fn time(&self) -> i64 {
        self.view().time
    }

    /// What decided the category (`ChangeFields::classified_by`).
    pub fn classified_by(&self) -> &'static str {
        packed::kind_of(&self.0).classified_by
    }

    /// Why a change is reverted or skipped, in words.
    pub fn note(&self) -> Option<&str> {
        self.view().note()
    }

    /// Every field, unpacked.
    pub fn fields(&self) -> ChangeFields {
        self.view().fields()
    }

    /// Unpacks the fields, lets `f` change them, and packs them again.
    pub fn edit(&mut self, f: impl FnOnce(&mut ChangeFields)) {
        let mut fields = self.fields();
        f(&mut fields);
        *self = Change::from(&fields);
    }

    /// `time` as JSON and the documents show it: RFC 3339 in UTC to the second,
    /// empty for a time chrono cannot represent.
    pub fn time_rfc3339(&self) -> String {
        rfc3339(self.time())
    }

    /// Appends this change to `out` exactly as `serde_json::to_writer_pretty` writes
    /// its `Serialize` `depth` levels deep, about three times as fast: `scope --format
    /// json` writes one per commit of the range, after the walk, and serde_json's
    /// general machinery was most of that time (BENCHMARKS.md). A property test holds
    /// the two to the same bytes.
    pub fn write_json(&self, out: &mut Vec<u8>, depth: usize) {
        write_json(&self.view(), out, depth);
    }
}

/// `Change::write_json` of the change `v` reads, a `Change` or a draft
/// (`PackedDraft::write_json`).
pub(super) fn write_json(v: &View<'_>, out: &mut Vec<u8>, depth: usize) {
    let id = v.id();
    let mut o = crate::json::PrettyObject::begin(out, depth);
    o.string("id", id.as_str());
    o.string("summary", v.summary());
    o.bool("conventional", v.head.conventional());
    o.opt_string("type", v.kind());
    o.opt_string("scope", v.scope());
    o.bool("breaking", v.head.breaking());
    o.opt_string("description", v.description());
    o.string("category", v.head.category_name());
    o.opt_u64("pr", v.pr);
    o.strings("authors", v.authors());
    o.string("short_id", v.short_id_of(&id));
    o.opt_string("breaking_note", v.breaking_note());
    match rfc3339_digits(v.time) {
        Some(digits) => o.string("time", std::str::from_utf8(&digits).unwrap_or_default()),
        None => o.string("time", &rfc3339(v.time)),
    }
    o.string("subject", v.subject());
    o.string("classified_by", v.head.classified_by);
    o.opt_string("note", v.note());
    o.end();
}

/// The keys of a change as serialized, in order.
pub const KEYS: &[&str] = &[
    "id",
    "summary",
    "conventional",
    "type",
    "scope",
    "breaking",
    "description",
    "category",
    "pr",
    "authors",
    "short_id",
    "breaking_note",
    "time",
    "subject",
    "classified_by",
    "note",
];

impl Serialize for Change {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = self.view();
        let mut s = serializer.serialize_struct("Change", KEYS.len())?;
        s.serialize_field("id", v.id().as_str())?;
        s.serialize_field("summary", v.summary())?;
        s.serialize_field("conventional", &v.head.conventional())?;
        s.serialize_field("type", &v.kind())?;
        s.serialize_field("scope", &v.scope())?;
        s.serialize_field("breaking", &v.head.breaking())?;
        s.serialize_field("description", &v.description())?;
        s.serialize_field("category", v.head.category_name())?;
        s.serialize_field("pr", &v.pr)?;
        s.serialize_field("authors", &Authors(v.authors()))?;
        s.serialize_field("short_id", v.short_id())?;
        s.serialize_field("breaking_note", &v.breaking_note())?;
        s.serialize_field("time", &rfc3339(v.time))?;
        s.serialize_field("subject", v.subject())?;
        s.serialize_field("classified_by", v.head.classified_by)?;
        s.serialize_field("note", &v.note())?;
        s.end()
    }
}

/// A change's authors read in place, serialized as a list of strings.
struct Authors<'a>(packed::Texts<'a>);

impl Serialize for Authors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fields().fmt(f)
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

fn serialize_time<S: Serializer>(time: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commits::Category;
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
        ) -> ChangeFields {
            ChangeFields {
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

        /// Packed, a change serializes as its fields do (the JSON contract), and
        /// `write_json` is serde_json's pretty output of that, byte for byte, at
        /// any depth.
        #[test]
        fn write_json_matches_serde_json(fields in change(), depth in 0usize..4) {
            let change = Change::from(&fields);
            let mut fast = Vec::new();
            change.write_json(&mut fast, depth);
            let mut serde = Vec::new();
            crate::json::write_pretty_at(&mut serde, &change, depth).unwrap();
            let mut contract = Vec::new();
            crate::json::write_pretty_at(&mut contract, &fields, depth).unwrap();
            prop_assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(serde).unwrap());
            prop_assert_eq!(String::from_utf8(contract).unwrap(), String::from_utf8(serde_bytes(&change, depth)).unwrap());
        }

        /// Every field reads back as it was packed.
        #[test]
        fn fields_read_back(fields in change()) {
            let change = Change::from(&fields);
            prop_assert_eq!(format!("{:?}", change.fields()), format!("{fields:?}"));
            prop_assert_eq!(change.id(), &*fields.id);
            prop_assert_eq!(change.summary(), &*fields.summary);
            prop_assert_eq!(change.subject(), &*fields.subject);
            prop_assert_eq!(change.kind(), fields.kind.as_deref());
            prop_assert_eq!(change.scope(), fields.scope.as_deref());
            prop_assert_eq!(change.description(), fields.description.as_deref());
            prop_assert_eq!(change.category(), fields.category.clone());
            prop_assert_eq!(change.category_name(), fields.category.as_str());
            prop_assert_eq!(change.pr(), fields.pr);
            prop_assert_eq!(change.authors().collect::<Vec<_>>(), fields.authors.iter().map(|a| a.as_str()).collect::<Vec<_>>());
            prop_assert_eq!(change.short_id(), fields.short_id.as_str());
            prop_assert_eq!(change.breaking_note(), fields.breaking_note.as_deref());
            prop_assert_eq!(change.note(), fields.note.as_deref());
            prop_assert_eq!(change.time(), fields.time);
            prop_assert_eq!(change.classified_by(), fields.classified_by);
            prop_assert_eq!((change.conventional(), change.breaking()), (fields.conventional, fields.breaking));
        }
    }

    fn serde_bytes(change: &Change, depth: usize) -> Vec<u8> {
        let mut out = Vec::new();
        crate::json::write_pretty_at(&mut out, change, depth).unwrap();
        out
    }

    /// The benchmark histories' typical change: 40-digit id, short summary.
    fn typical() -> ChangeFields {
        ChangeFields {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            summary: "feat(api): rework worker report (#616712)".into(),
            conventional: true,
            kind: Some("feat".into()),
            scope: Some("api".into()),
            breaking: false,
            description: Some("rework worker report (#616712)".into()),
            category: Category::Features,
            pr: Some(616712),
            authors: vec!["Donald Knuth".into()],
            short_id: "0123456".into(),
            breaking_note: None,
            time: 1_796_032_800,
            subject: "feat(api): rework worker report (#616712)".into(),
            classified_by: "type",
            note: None,
        }
    }

    #[test]
    fn an_edit_changes_only_what_it_sets() {
        let fields = ChangeFields {
            pr: None,
            ..typical()
        };
        let mut change = Change::from(&fields);
        change.edit(|c| {
            c.pr = Some(7);
            c.category = Category::Custom("ops".into());
        });
        let expected = ChangeFields {
            pr: Some(7),
            category: Category::Custom("ops".into()),
            ..fields
        };
        assert_eq!(format!("{:?}", change.fields()), format!("{expected:?}"));
        assert_eq!(change, Change::from(expected));
    }

    #[test]
    fn a_change_is_a_fraction_of_its_fields() {
        let change = Change::from(typical());
        assert!(change.0.len() <= 128, "{} bytes", change.0.len());
        assert!(std::mem::size_of::<ChangeFields>() > 2 * 128);
        assert_eq!(std::mem::size_of::<Change>(), 16);
    }
}
