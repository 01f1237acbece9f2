//! Drafts packed into bytes while the history is walked.
//!
//! A walk holds one draft per commit of the range until the range-wide passes run. As
//! structs, with an allocation for each id, summary, description and author list,
//! that was about 500 bytes a commit: most of a million-commit range's memory, at the
//! moment the walk's own bookkeeping and the pack index pages are resident too. Packed,
//! it is the text itself plus a few bytes (about 90 on the benchmark histories, the
//! authors named by number). When the range-wide passes are done, each draft's bytes
//! become a `Change` (the same format, with the id and the authors as text).
//!
//! The format is private to one run: the flags word, the category and what
//! classified it first (read without the rest), then strings as a length and UTF-8
//! bytes, numbers as LEB128 varints, presence as bits of the flags. Reading never
//! panics: a short read yields empty fields (it cannot happen for bytes `pack` wrote).

use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use super::classify::{Item, Pending};
use super::{Category, Change, ChangeFields, Draft};

/// One `Draft`, packed (`Draft::pack_into`, `PackedDraft::unpack`): read in place
/// where it lies in its range's buffer (`Changes`), with the names its authors'
/// numbers point to.
#[derive(Clone, Copy)]
pub struct PackedDraft<'a> {
    bytes: &'a [u8],
    names: &'a [Box<str>],
}

/// Where drafts are packed as a history is walked: their bytes end to end, and the
/// names of their authors, each kept once. A range names the same people again and
/// again: numbers instead of names were about 11 MiB of a million-commit range
/// (BENCHMARKS.md item 73).
#[derive(Default)]
pub struct Packer {
    buffer: Vec<u8>,
    names: Vec<Box<str>>,
    numbers: FxHashMap<Box<str>, u32>,
}

impl Packer {
    /// The number of author `name`, given one if it has none yet.
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(name.into());
        self.numbers.insert(name.into(), n);
        n
    }
}

/// Where a packed draft starts in the buffer it was packed into: its length (4 bytes,
/// little-endian), then its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(u64);

/// What `classified_by` can be: stored as its position here.
const CLASSIFIED_BY: [&str; 8] = [
    "type",
    "rule",
    "merge",
    "revert",
    "fixup",
    "paths",
    "heuristic",
    "none",
];

const CONVENTIONAL: u32 = 1;
const BREAKING: u32 = 1 << 1;
const KIND: u32 = 1 << 2;
const SCOPE: u32 = 1 << 3;
const DESCRIPTION: u32 = 1 << 4;
const PR: u32 = 1 << 5;
const BREAKING_NOTE: u32 = 1 << 6;
const NOTE: u32 = 1 << 7;
/// The subject is its own text, not the summary's.
const SUBJECT: u32 = 1 << 8;
const REVERT: u32 = 1 << 9;
const REVERT_ID: u32 = 1 << 10;
const FIXUP: u32 = 1 << 11;
const MESSAGE: u32 = 1 << 12;
/// The category is `Unclassified` (read by the path fallback without unpacking).
const UNCLASSIFIED: u32 = 1 << 13;
/// The id is 40 lower-case hex digits, stored as its 20 bytes.
const BINARY_ID: u32 = 1 << 14;
/// The short id is the id's first seven characters: not stored.
const SHORT_ID_OF_ID: u32 = 1 << 15;
/// The description is the end of the summary (`type(scope): description`): stored
/// as its length.
const DESCRIPTION_IN_SUMMARY: u32 = 1 << 16;
/// Authors are numbers into the names of the drafts' list (`Packer`), not texts.
const AUTHOR_NUMBERS: u32 = 1 << 17;
/// Category is custom: its name follows.
const CUSTOM: u8 = u8::MAX;

impl Draft {
    /// Appends the packed draft to `packer`; where it starts.
    pub fn pack_into(self, packer: &mut Packer) -> Handle {
        let start = packer.buffer.len();
        packer.buffer.extend_from_slice(&[0; 4]);
        self.write(packer);
        let buffer = &mut packer.buffer;
        let len = (buffer.len() - start - 4) as u32;
        buffer[start..start + 4].copy_from_slice(&len.to_le_bytes());
        Handle(start as u64)
    }

    fn write(self, packer: &mut Packer) {
        let Draft { item, message } = self;
        let Item { change, pending } = item;
        let mut extra = 0;
        match pending.as_deref() {
            Some(Pending::Revert { id, .. }) => {
                extra |= REVERT;
                if id.is_some() {
                    extra |= REVERT_ID;
                }
            }
            Some(Pending::Fixup { .. }) => extra |= FIXUP,
            None => {}
        }
        if message.is_some() {
            extra |= MESSAGE;
        }
        let numbers: Vec<u32> = change.authors.iter().map(|a| packer.number(a)).collect();
        write_change(&change, extra, true, &mut packer.buffer, Some(&numbers));
        let mut out = Writer(&mut packer.buffer);
        match pending.map(|p| *p) {
            Some(Pending::Revert { id, header }) => {
                if let Some(id) = id {
                    out.text(&id);
                }
                out.text(&header);
            }
            Some(Pending::Fixup { target }) => out.text(&target),
            None => {}
        }
        if let Some(message) = &message {
            out.text(message);
        }
    }
}

/// Appends `change` packed, flags first: `extra` adds the flags of what the caller
/// writes after it (a draft's pending pass and message). A draft stores a git id as
/// its 20 bytes (`binary_id`) and its authors as numbers (`author_numbers`, one per
/// author); a `Change` keeps both as text, to lend them out as `&str`.
pub(super) fn write_change(
    change: &ChangeFields,
    extra: u32,
    binary_id: bool,
    buffer: &mut Vec<u8>,
    author_numbers: Option<&[u32]>,
) {
    // Every field by name: a field added to `ChangeFields` does not compile until it
    // is packed too.
    let ChangeFields {
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
    } = change;
    let mut flags = extra;
    let mut set = |bit: u32, on: bool| {
        if on {
            flags |= bit;
        }
    };
    set(CONVENTIONAL, *conventional);
    set(BREAKING, *breaking);
    set(KIND, kind.is_some());
    set(SCOPE, scope.is_some());
    set(DESCRIPTION, description.is_some());
    set(PR, pr.is_some());
    set(BREAKING_NOTE, breaking_note.is_some());
    set(NOTE, note.is_some());
    set(SUBJECT, subject != summary);
    set(UNCLASSIFIED, *category == Category::Unclassified);
    let binary_id = hex_bytes(id).filter(|_| binary_id);
    set(BINARY_ID, binary_id.is_some());
    set(AUTHOR_NUMBERS, author_numbers.is_some());
    set(
        SHORT_ID_OF_ID,
        id.get(..7).is_some_and(|p| p == &**short_id),
    );
    set(
        DESCRIPTION_IN_SUMMARY,
        description.as_deref().is_some_and(|d| summary.ends_with(d)),
    );

    let mut out = Writer(buffer);
    out.number(u64::from(flags));
    // What most passes ask of every change comes first: read without the texts.
    let custom = BUILT_IN.iter().position(|c| c == category).is_none();
    out.0
        .push(match BUILT_IN.iter().position(|c| c == category) {
            Some(i) => i as u8,
            None => CUSTOM,
        });
    // Every name the classifier assigns is listed; were one not, it would come back
    // as "none" (a `&'static str` cannot be rebuilt from text).
    let by = CLASSIFIED_BY.iter().position(|b| b == classified_by);
    debug_assert!(
        by.is_some(),
        "classified_by {classified_by:?} is not listed"
    );
    out.0.push(by.unwrap_or(CLASSIFIED_BY.len() - 1) as u8);
    if custom {
        out.text(category.as_str());
    }
    match binary_id {
        Some(bytes) => out.0.extend_from_slice(&bytes),
        None => out.text(id),
    }
    out.text(summary);
    if flags & SUBJECT != 0 {
        out.text(subject);
    }
    for text in [kind, scope].into_iter().flatten() {
        out.text(text);
    }
    if let Some(description) = description {
        if flags & DESCRIPTION_IN_SUMMARY != 0 {
            out.number(description.len() as u64);
        } else {
            out.text(description);
        }
    }
    for text in [breaking_note, note].into_iter().flatten() {
        out.text(text);
    }
    if let Some(pr) = pr {
        out.number(*pr);
    }
    out.number(authors.len() as u64);
    match author_numbers {
        Some(numbers) => {
            for &n in numbers {
                out.number(u64::from(n));
            }
        }
        None => {
            for author in authors {
                out.text(author);
            }
        }
    }
    if flags & SHORT_ID_OF_ID == 0 {
        out.text(short_id);
    }
    // Zigzag: times before 1970 stay short too.
    out.number(((time << 1) ^ (time >> 63)) as u64);
}

/// The built-in categories, where a packed category byte points.
static BUILT_IN: [Category; 13] = Category::BUILT_IN;

/// A packed change's fields, read in place. Texts are checked as UTF-8 only when
/// asked for: a pass that reads one field of every change of a long range (most
/// risk signals) checked all of them, a tenth of a million-commit `plan`.
pub(super) struct View<'a> {
    /// The flags, the category and what classified it.
    pub head: Head<'a>,
    id: RawId<'a>,
    summary: &'a [u8],
    subject: &'a [u8],
    kind: Option<&'a [u8]>,
    scope: Option<&'a [u8]>,
    description: Option<&'a [u8]>,
    breaking_note: Option<&'a [u8]>,
    note: Option<&'a [u8]>,
    pub pr: Option<u64>,
    authors: Texts<'a>,
    /// Where the author count and the authors lie in the bytes read.
    authors_at: std::ops::Range<usize>,
    /// `None`: the id's first seven characters.
    short_id: Option<&'a [u8]>,
    pub time: i64,
}

/// A category as packed: a built-in one's place in `BUILT_IN`, or a custom one's name.
#[derive(Clone, Copy)]
enum RawCategory<'a> {
    BuiltIn(u8),
    Custom(&'a [u8]),
}

/// An id as packed: text, or 20 bytes.
#[derive(Clone, Copy)]
enum RawId<'a> {
    Text(&'a [u8]),
    Binary(&'a [u8]),
}

impl<'a> RawId<'a> {
    fn id(self) -> Id<'a> {
        match self {
            RawId::Text(text) => Id::Text(str_of(text)),
            RawId::Binary(bytes) => Id::of_bytes(bytes),
        }
    }
}

/// Packed text, written from a `&str`, so valid (a damaged buffer reads as empty).
fn str_of(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

impl<'a> View<'a> {
    /// The change's fields at the start of `bytes` (authors given by number name
    /// `names`), and what follows them.
    pub(super) fn read(bytes: &'a [u8], names: &'a [Box<str>]) -> (View<'a>, Reader<'a>) {
        let mut r = Reader(bytes);
        let head = r.head();
        let flags = head.flags;
        let has = |bit: u32| flags & bit != 0;
        let id = r.raw_id(has(BINARY_ID));
        let summary = r.raw();
        let subject = if has(SUBJECT) { r.raw() } else { summary };
        let kind = has(KIND).then(|| r.raw());
        let scope = has(SCOPE).then(|| r.raw());
        let description = has(DESCRIPTION).then(|| {
            if has(DESCRIPTION_IN_SUMMARY) {
                let len = (r.number() as usize).min(summary.len());
                &summary[summary.len() - len..]
            } else {
                r.raw()
            }
        });
        let breaking_note = has(BREAKING_NOTE).then(|| r.raw());
        let note = has(NOTE).then(|| r.raw());
        let pr = has(PR).then(|| r.number());
        let authors_start = bytes.len() - r.0.len();
        // Each author takes at least a byte: a damaged count cannot ask for more.
        let count = r.number().min(r.0.len() as u64);
        let numbers = has(AUTHOR_NUMBERS);
        let authors = Texts {
            left: count,
            reader: r,
            names: numbers.then_some(names),
        };
        for _ in 0..count {
            if numbers {
                r.number();
            } else {
                r.raw();
            }
        }
        let authors_end = bytes.len() - r.0.len();
        let short_id = (!has(SHORT_ID_OF_ID)).then(|| r.raw());
        let zigzag = r.number();
        let time = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
        let view = View {
            head,
            id,
            summary,
            subject,
            kind,
            scope,
            description,
            breaking_note,
            note,
            pr,
            authors,
            authors_at: authors_start..authors_end,
            short_id,
            time,
        };
        (view, r)
    }

    pub fn id(&self) -> Id<'a> {
        self.id.id()
    }

    pub fn summary(&self) -> &'a str {
        str_of(self.summary)
    }

    pub fn subject(&self) -> &'a str {
        str_of(self.subject)
    }

    pub fn kind(&self) -> Option<&'a str> {
        self.kind.map(str_of)
    }

    pub fn scope(&self) -> Option<&'a str> {
        self.scope.map(str_of)
    }

    pub fn description(&self) -> Option<&'a str> {
        self.description.map(str_of)
    }

    pub fn breaking_note(&self) -> Option<&'a str> {
        self.breaking_note.map(str_of)
    }

    pub fn note(&self) -> Option<&'a str> {
        self.note.map(str_of)
    }

    pub fn authors(&self) -> Texts<'a> {
        self.authors.clone()
    }

    /// The short id, given the id as read (`id`): stored, or the id's first seven
    /// characters.
    pub fn short_id_of<'b>(&'b self, id: &'b Id<'b>) -> &'b str {
        match self.short_id {
            Some(short) => str_of(short),
            None => id.as_str().get(..7).unwrap_or_default(),
        }
    }

    /// The short id, for a change whose id is packed as text (`Change`); a draft's
    /// binary id has its short id spelled out by `fields`.
    pub fn short_id(&self) -> &'a str {
        match (self.short_id, &self.id) {
            (Some(short), _) => str_of(short),
            (None, RawId::Text(id)) => str_of(id).get(..7).unwrap_or_default(),
            (None, RawId::Binary(_)) => "",
        }
    }

    /// Every field, unpacked.
    pub fn fields(&self) -> ChangeFields {
        let id: Arc<str> = self.id().as_str().into();
        let summary: Arc<str> = self.summary().into();
        let subject = if self.head.flags & SUBJECT != 0 {
            self.subject().into()
        } else {
            Arc::clone(&summary)
        };
        let short_id = match self.short_id {
            Some(short) => str_of(short).into(),
            None => id.get(..7).unwrap_or_default().into(),
        };
        ChangeFields {
            summary,
            subject,
            conventional: self.head.conventional(),
            kind: self.kind().map(CompactString::from),
            scope: self.scope().map(CompactString::from),
            breaking: self.head.breaking(),
            description: self.description().map(str::to_string),
            category: self.head.category(),
            pr: self.pr,
            authors: self.authors().map(CompactString::from).collect(),
            short_id,
            breaking_note: self.breaking_note().map(str::to_string),
            time: self.time,
            classified_by: self.head.classified_by,
            note: self.note().map(str::to_string),
            id,
        }
    }
}

/// Texts packed one after another, read in place: or numbers into `names`.
#[derive(Clone)]
pub(super) struct Texts<'a> {
    left: u64,
    reader: Reader<'a>,
    names: Option<&'a [Box<str>]>,
}

impl<'a> Iterator for Texts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.left = self.left.checked_sub(1)?;
        Some(match self.names {
            Some(names) => usize::try_from(self.reader.number())
                .ok()
                .and_then(|n| names.get(n))
                .map_or("", |name| &**name),
            None => str_of(self.reader.raw()),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Texts<'_> {}

/// The id, the summary and the subject (the summary's text when they are one) of the
/// packed change at the start of `bytes`, read without the rest.
pub(super) fn head(bytes: &[u8]) -> (Id<'_>, &str, &str) {
    let (id, summary, subject) = lead(bytes);
    (id.id(), str_of(summary), str_of(subject))
}

/// The summary (`subject: false`) or the subject of the packed change at the start
/// of `bytes`, read without the rest.
pub(super) fn summary_or_subject(bytes: &[u8], subject: bool) -> &str {
    let (_, summary, own_subject) = lead(bytes);
    str_of(if subject { own_subject } else { summary })
}

/// The id of a change packed with its id as text (`Change`).
pub(super) fn text_id(bytes: &[u8]) -> &str {
    match lead(bytes).0 {
        RawId::Text(id) => str_of(id),
        RawId::Binary(_) => "",
    }
}

/// The id, summary and subject of the packed change at the start of `bytes`, as
/// stored (checked as UTF-8 by whoever reads them).
fn lead(bytes: &[u8]) -> (RawId<'_>, &[u8], &[u8]) {
    let mut r = Reader(bytes);
    let flags = r.head().flags;
    let id = r.raw_id(flags & BINARY_ID != 0);
    let summary = r.raw();
    let subject = if flags & SUBJECT != 0 {
        r.raw()
    } else {
        summary
    };
    (id, summary, subject)
}

/// The flags, category and classifier of the packed change at the start of
/// `bytes`, read without the rest.
pub(super) fn kind_of(bytes: &[u8]) -> Head<'_> {
    Reader(bytes).head()
}

/// What `kind_of` reads.
pub(super) struct Head<'a> {
    flags: u32,
    category: RawCategory<'a>,
    pub classified_by: &'static str,
}

impl<'a> Head<'a> {
    pub fn conventional(&self) -> bool {
        self.flags & CONVENTIONAL != 0
    }

    pub fn breaking(&self) -> bool {
        self.flags & BREAKING != 0
    }

    pub fn category(&self) -> Category {
        match self.category {
            RawCategory::BuiltIn(i) => BUILT_IN
                .get(usize::from(i))
                .cloned()
                .unwrap_or(Category::Unclassified),
            RawCategory::Custom(name) => Category::Custom(str_of(name).to_string()),
        }
    }

    pub fn category_name(&self) -> &'a str {
        match self.category {
            RawCategory::BuiltIn(i) => BUILT_IN
                .get(usize::from(i))
                .unwrap_or(&Category::Unclassified)
                .as_str(),
            RawCategory::Custom(name) => str_of(name),
        }
    }
}

impl<'a> PackedDraft<'a> {
    pub fn unpack(&self) -> Draft {
        let (view, mut r) = View::read(self.bytes, self.names);
        let has = |bit: u32| view.head.flags & bit != 0;
        let change = view.fields();
        let pending = if has(REVERT) {
            let id = has(REVERT_ID).then(|| r.text().to_string());
            Some(Box::new(Pending::Revert {
                id,
                header: r.text().to_string(),
            }))
        } else if has(FIXUP) {
            Some(Box::new(Pending::Fixup {
                target: r.text().to_string(),
            }))
        } else {
            None
        };
        let message = has(MESSAGE).then(|| r.text().into());
        Draft {
            item: Item { change, pending },
            message,
        }
    }
}

/// The range's changes, packed end to end in one buffer: the range-wide passes settle
/// them in place (`Classifier::finish`), and `scope` writes them out one at a time. A
/// million commits as structs of fields take about 480 MB; packed, about 90, and one buffer
/// spares each draft an allocation of its own (BENCHMARKS.md items 42 and 49).
#[derive(Default)]
pub struct Changes {
    packer: Packer,
    /// Each change's draft in the packer's buffer, in range order.
    handles: Vec<Handle>,
}

impl Changes {
    /// The drafts `handles` point to in `packer` (what `Draft::pack_into` returned).
    pub fn new(packer: Packer, handles: Vec<Handle>) -> Changes {
        Changes { packer, handles }
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The draft of change `i`.
    pub fn get(&self, i: usize) -> PackedDraft<'_> {
        self.draft(self.handles[i])
    }

    /// Every draft, in order.
    pub fn iter(&self) -> impl Iterator<Item = PackedDraft<'_>> {
        self.handles.iter().map(|&h| self.draft(h))
    }

    /// The drafts' handles, for writers that split the list and unpack each as they go
    /// (`Changes::draft`).
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// The draft at `handle` (one of `handles`). Never panics: a handle from
    /// elsewhere gives a draft that unpacks empty.
    pub fn draft(&self, handle: Handle) -> PackedDraft<'_> {
        let bytes = self
            .span(handle)
            .and_then(|span| self.packer.buffer.get(span));
        PackedDraft {
            bytes: bytes.unwrap_or_default(),
            names: &self.packer.names,
        }
    }

    /// Where the draft at `handle` lies in the buffer, after its length prefix.
    fn span(&self, handle: Handle) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(handle.0).ok()?.checked_add(4)?;
        let len = self.packer.buffer.get(start - 4..start)?;
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        Some(start..start.checked_add(len)?)
    }

    pub fn subject(&self, i: usize) -> &str {
        self.get(i).subject()
    }

    /// Unpacks change `i`, lets `f` change it, and packs it again (at the buffer's end:
    /// few changes are updated, and the old bytes stay until the list goes).
    pub(super) fn update(&mut self, i: usize, f: impl FnOnce(&mut ChangeFields)) {
        let mut draft = self.get(i).unpack();
        f(&mut draft.item.change);
        self.handles[i] = draft.pack_into(&mut self.packer);
    }

    pub fn into_vec(self) -> Vec<Change> {
        self.into_parts().0
    }

    /// The changes, and the message each draft kept (`Draft::keep_message`), in order.
    ///
    /// Copied out from the buffer's end back, giving its tail back as it goes:
    /// holding both in full was the top of a million-commit `plan` (BENCHMARKS.md
    /// item 59).
    pub fn into_parts(self) -> (Vec<Change>, Vec<Option<Box<str>>>) {
        self.into_parts_giving_back(16 << 20)
    }

    /// `into_parts`, giving the buffer back whenever `step` bytes of it are done with.
    fn into_parts_giving_back(mut self, step: usize) -> (Vec<Change>, Vec<Option<Box<str>>>) {
        let n = self.len();
        // Mostly in range order, but an updated draft was packed again at the end.
        let mut by_offset: Vec<u32> = (0..n as u32).collect();
        by_offset.sort_unstable_by_key(|&i| std::cmp::Reverse(self.handles[i as usize].0));
        let mut changes: Vec<Option<Change>> = Vec::with_capacity(n);
        changes.resize_with(n, || None);
        let mut messages = vec![None; n];
        for i in by_offset {
            let handle = self.handles[i as usize];
            let draft = self.draft(handle);
            messages[i as usize] = draft.message().map(Into::into);
            changes[i as usize] = Some(draft.change());
            // Every draft not unpacked yet lies before this one.
            let start = usize::try_from(handle.0).unwrap_or(usize::MAX);
            if self.packer.buffer.len().saturating_sub(start) >= step {
                self.packer.buffer.truncate(start);
                self.packer.buffer.shrink_to_fit();
            }
        }
        // Each slot was filled once. `filter_map` collects in place (`Option<Change>`
        // is no larger); `flatten` allocated a second vector, 270 MiB at a million.
        #[allow(clippy::filter_map_identity)]
        let changes = changes.into_iter().filter_map(|c| c).collect();
        (changes, messages)
    }
}

/// Drafts packed as they come.
impl FromIterator<Draft> for Changes {
    fn from_iter<I: IntoIterator<Item = Draft>>(drafts: I) -> Changes {
        let mut packer = Packer::default();
        let handles = drafts
            .into_iter()
            .map(|d| d.pack_into(&mut packer))
            .collect();
        Changes { packer, handles }
    }
}

/// Changes settled elsewhere, packed as they are.
impl From<Vec<Change>> for Changes {
    fn from(changes: Vec<Change>) -> Changes {
        changes
            .into_iter()
            .map(|change| Draft {
                item: Item {
                    change: change.fields(),
                    pending: None,
                },
                message: None,
            })
            .collect()
    }
}

/// Serialized as the list of changes it holds (the JSON contract's `changes`).
impl serde::Serialize for Changes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(|d| d.change()))
    }
}

/// What the range-wide passes read of every commit, without unpacking it: the flags
/// word and the leading texts are read in place.
impl<'a> PackedDraft<'a> {
    fn flags(&self) -> u32 {
        Reader(self.bytes).number() as u32
    }

    /// The id, the summary and the subject (the summary's text when they are one).
    pub(super) fn head(&self) -> (Id<'a>, &'a str, &'a str) {
        head(self.bytes)
    }

    /// The change alone, as a `Change`: its packed bytes copied, with the id and the
    /// authors spelled out (`Change` lends them out as text) and the draft's own flags
    /// cleared.
    pub fn change(&self) -> Change {
        let bytes = self.bytes;
        let mut r = Reader(bytes);
        let after_flags = {
            let mut f = Reader(bytes);
            f.number();
            bytes.len() - f.0.len()
        };
        let flags = r.head().flags;
        let category = &bytes[after_flags..bytes.len() - r.0.len()];
        let id = r.id(flags & BINARY_ID != 0);
        let after_id = bytes.len() - r.0.len();
        let (view, rest) = View::read(bytes, self.names);
        let end = bytes.len() - rest.0.len();
        let authors = view.authors_at.clone();
        let mut out = Vec::with_capacity(end - after_id + 64);
        let mut w = Writer(&mut out);
        w.number(u64::from(
            flags & !(BINARY_ID | REVERT | REVERT_ID | FIXUP | MESSAGE | AUTHOR_NUMBERS),
        ));
        w.0.extend_from_slice(category);
        w.text(id.as_str());
        // Each of these ranges lies in order within the draft's bytes; a damaged
        // draft gives empty ones rather than a panic.
        w.0.extend_from_slice(bytes.get(after_id..authors.start).unwrap_or_default());
        w.number(view.authors().len() as u64);
        for author in view.authors() {
            w.text(author);
        }
        w.0.extend_from_slice(bytes.get(authors.end..end).unwrap_or_default());
        Change::from_packed(out)
    }

    /// `Change::write_json` of the draft's change, read in place: `scope` writes
    /// one per commit of the range.
    pub fn write_json(&self, out: &mut Vec<u8>, depth: usize) {
        super::change::write_json(&View::read(self.bytes, self.names).0, out, depth);
    }

    /// The whole message the draft kept (`Draft::keep_message`).
    fn message(&self) -> Option<&'a str> {
        let (view, mut r) = View::read(self.bytes, self.names);
        let has = |bit: u32| view.head.flags & bit != 0;
        if !has(MESSAGE) {
            return None;
        }
        if has(REVERT) {
            if has(REVERT_ID) {
                r.text();
            }
            r.text();
        } else if has(FIXUP) {
            r.text();
        }
        Some(r.text())
    }

    pub(super) fn id(&self) -> Id<'a> {
        self.head().0
    }

    pub(super) fn subject(&self) -> &'a str {
        self.head().2
    }

    pub(super) fn is_fixup(&self) -> bool {
        self.flags() & FIXUP != 0
    }

    pub(super) fn is_revert(&self) -> bool {
        self.flags() & REVERT != 0
    }

    pub(super) fn is_unclassified(&self) -> bool {
        self.flags() & UNCLASSIFIED != 0
    }
}

struct Writer<'b>(&'b mut Vec<u8>);

impl Writer<'_> {
    fn number(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn text(&mut self, s: &str) {
        self.number(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// A commit id as packed: its text, or (nearly always) its 20 bytes, spelled out
/// in hex on request.
pub(super) enum Id<'a> {
    Text(&'a str),
    Hex([u8; 40]),
}

impl Id<'_> {
    /// The id of up to 20 bytes, in hex.
    fn of_bytes(bytes: &[u8]) -> Id<'static> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [b'0'; 40];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        Id::Hex(hex)
    }

    pub(super) fn as_str(&self) -> &str {
        match self {
            Id::Text(text) => text,
            // Only hex digits were written.
            Id::Hex(hex) => std::str::from_utf8(hex).unwrap_or_default(),
        }
    }
}

/// The 20 bytes of a 40-digit lower-case hex id (`None` for anything else, which is
/// then stored as text and comes back exactly as it was).
fn hex_bytes(id: &str) -> Option<[u8; 20]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let hex = id.as_bytes();
    if hex.len() != 40 {
        return None;
    }
    let mut bytes = [0u8; 20];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

#[derive(Clone, Copy)]
pub(super) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn number(&mut self) -> u64 {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        n
    }

    fn id(&mut self, binary: bool) -> Id<'a> {
        self.raw_id(binary).id()
    }

    fn raw_id(&mut self, binary: bool) -> RawId<'a> {
        if !binary {
            return RawId::Text(self.raw());
        }
        let (bytes, rest) = self.0.split_at(self.0.len().min(20));
        self.0 = rest;
        RawId::Binary(bytes)
    }

    /// The flags, the category (a built-in one's place in `BUILT_IN`, or a custom
    /// one's name) and what classified it: what a packed change starts with.
    fn head(&mut self) -> Head<'a> {
        let flags = self.number() as u32;
        let category = self.byte();
        let classified_by = CLASSIFIED_BY
            .get(usize::from(self.byte()))
            .copied()
            .unwrap_or("none");
        let category = match category {
            CUSTOM => RawCategory::Custom(self.raw()),
            i => RawCategory::BuiltIn(i),
        };
        Head {
            flags,
            category,
            classified_by,
        }
    }

    /// Length-prefixed bytes.
    fn raw(&mut self) -> &'a [u8] {
        let len = (self.number() as usize).min(self.0.len());
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        bytes
    }

    fn text(&mut self) -> &'a str {
        // A short read could split a character: then empty.
        str_of(self.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Any characters: multi-byte ones, controls and lengths past one varint byte.
        prop_oneof![".{0,12}", ".{120,200}"]
    }

    fn some_text() -> impl Strategy<Value = Option<String>> {
        prop::option::of(text())
    }

    fn category() -> impl Strategy<Value = Category> {
        prop_oneof![
            prop::sample::select(Category::BUILT_IN.to_vec()),
            // Custom names that are also built-in ones included: unpacked as written.
            prop::sample::select(Category::BUILT_IN.to_vec())
                .prop_map(|c| Category::Custom(c.as_str().to_string())),
            "[a-z]{1,8}-custom".prop_map(Category::Custom),
        ]
    }

    fn pending() -> impl Strategy<Value = Option<Box<Pending>>> {
        prop_oneof![
            Just(None),
            (some_text(), text())
                .prop_map(|(id, header)| Some(Box::new(Pending::Revert { id, header }))),
            text().prop_map(|target| Some(Box::new(Pending::Fixup { target }))),
        ]
    }

    prop_compose! {
        fn draft()(
            // Ids as git writes them (40 lower-case hex digits, stored as bytes) or
            // anything else (stored as text); short ids the id's first seven
            // characters or not; descriptions the summary's end or not.
            (id, summary, subject, short_id) in (
                prop_oneof!["[0-9a-f]{40}", text(), "[0-9a-fA-F]{40}"],
                text(),
                some_text(),
                prop::option::of(text()),
            ),
            (kind, scope, description, breaking_note, note) in
                (some_text(), some_text(), prop::option::of(prop_oneof![text().prop_map(Some), Just(None)]), some_text(), some_text()),
            (conventional, breaking, pr, time) in
                (any::<bool>(), any::<bool>(), any::<Option<u64>>(), any::<i64>()),
            (category, classified_by) in (category(), prop::sample::select(CLASSIFIED_BY.to_vec())),
            authors in prop::collection::vec(text(), 0..4),
            (pending, message) in (pending(), some_text()),
        ) -> Draft {
            let short_id = short_id.unwrap_or_else(|| id.chars().take(7).collect());
            // `Some(None)`: the description is the summary's last characters.
            let description = description.map(|d| {
                d.unwrap_or_else(|| {
                    let chars = summary.chars().count();
                    summary.chars().skip(chars / 3).collect()
                })
            });
            let summary: Arc<str> = summary.into();
            Draft {
                item: Item {
                    change: ChangeFields {
                        id: id.into(),
                        subject: subject.map_or_else(|| Arc::clone(&summary), Into::into),
                        summary,
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
                        classified_by,
                        note,
                    },
                    pending,
                },
                message: message.map(Into::into),
            }
        }
    }

    fn shown(d: &Draft) -> String {
        format!("{:?} {:?}", d.item, d.message)
    }

    proptest! {
        #[test]
        fn unpacking_gives_back_every_field(d in draft()) {
            let before = shown(&d);
            let changes: Changes = [d].into_iter().collect();
            prop_assert_eq!(before, shown(&changes.get(0).unpack()));
        }

        #[test]
        fn read_in_place_as_unpacked(d in draft()) {
            let (change, pending) = (&d.item.change, d.item.pending.as_deref());
            let (id, summary, subject) = (change.id.clone(), change.summary.clone(), change.subject.clone());
            let unclassified = change.category == Category::Unclassified;
            let fixup = matches!(pending, Some(Pending::Fixup { .. }));
            let revert = matches!(pending, Some(Pending::Revert { .. }));
            let fields = format!("{:?}", d.item.change);
            let mut contract = Vec::new();
            crate::json::write_pretty_at(&mut contract, &d.item.change, 1).unwrap();
            let changes: Changes = [d].into_iter().collect();
            let packed = changes.get(0);
            prop_assert_eq!(format!("{:?}", packed.change().fields()), fields);
            // Written in place, the draft's change is what its fields serialize to.
            let mut in_place = Vec::new();
            packed.write_json(&mut in_place, 1);
            prop_assert_eq!(String::from_utf8(in_place).unwrap(), String::from_utf8(contract).unwrap());
            let packed_id = packed.id();
            prop_assert_eq!(packed_id.as_str(), &*id);
            prop_assert_eq!(packed.head().1, &*summary);
            prop_assert_eq!(packed.subject(), &*subject);
            prop_assert_eq!(packed.is_unclassified(), unclassified);
            prop_assert_eq!(packed.is_fixup(), fixup);
            prop_assert_eq!(packed.is_revert(), revert);
        }

        #[test]
        fn unpacked_in_order_while_the_buffer_is_given_back(
            drafts in prop::collection::vec(draft(), 1..12),
            updated in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            step in 1usize..600,
        ) {
            let mut changes: Changes = drafts.into_iter().collect();
            // Updated drafts are packed again at the buffer's end, out of order.
            for at in updated {
                let i = at.index(changes.len());
                changes.update(i, |c| c.note = Some(format!("updated {i}")));
            }
            // What each draft unpacks to where it lies.
            let expected: Vec<(String, String)> = changes
                .iter()
                .map(|packed| {
                    let mut draft = packed.unpack();
                    let message = draft.take_message();
                    (format!("{:?}", draft.item.change), format!("{message:?}"))
                })
                .collect();
            let (unpacked, messages) = changes.into_parts_giving_back(step);
            let got: Vec<(String, String)> = unpacked
                .iter()
                .zip(&messages)
                .map(|(c, m)| (format!("{c:?}"), format!("{m:?}")))
                .collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn an_update_changes_only_what_it_sets(d in draft(), note in some_text()) {
            // Between two copies (unpacked again), which must not change.
            let (first, last) = (shown(&d), shown(&d));
            let one: Changes = [d].into_iter().collect();
            let mut changes: Changes = (0..3).map(|_| one.get(0).unpack()).collect();
            let mut expected = changes.get(1).unpack();
            expected.item.change.note = note.clone();
            expected.item.change.category = Category::Skipped;
            changes.update(1, |c| {
                c.note = note;
                c.category = Category::Skipped;
            });
            prop_assert!(!changes.get(1).is_unclassified());
            prop_assert_eq!(shown(&expected), shown(&changes.get(1).unpack()));
            prop_assert_eq!(first, shown(&changes.get(0).unpack()));
            prop_assert_eq!(last, shown(&changes.get(2).unpack()));
        }
    }

    #[test]
    fn a_packed_draft_is_a_fraction_of_the_struct() {
        let summary: Arc<str> = "feat(api): rework worker report (#616712)".into();
        let draft = Draft {
            item: Item {
                change: ChangeFields {
                    id: "0123456789abcdef0123456789abcdef01234567".into(),
                    subject: Arc::clone(&summary),
                    summary,
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
                    classified_by: "type",
                    note: None,
                },
                pending: None,
            },
            message: None,
        };
        let mut packer = Packer::default();
        let handle = draft.pack_into(&mut packer);
        // The author is a number: the name is kept once, in the packer.
        assert!(packer.buffer.len() < 100, "{} bytes", packer.buffer.len());
        assert_eq!(packer.names, [Box::from("Donald Knuth")]);
        let changes = Changes::new(packer, vec![handle]);
        assert_eq!(
            changes.get(0).unpack().item.change.description.as_deref(),
            Some("rework worker report (#616712)")
        );
    }

    #[test]
    fn damaged_bytes_unpack_without_a_panic() {
        for bytes in [
            &[][..],
            &[0xff; 40][..],
            &[0x80, 0x80, 0x80][..],
            &[3, 2, 0xc3, 0x28][..],
            // No flags, built-in category and classifier, empty id and summary,
            // then an author count of 2^63 - 1 with nothing after it.
            &[
                0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ][..],
            // Authors by number (flag bit 17), past the names there are and cut short.
            &[0x80, 0x80, 0x08, 0, 0, 0, 0, 3, 5, 0xc8, 0x01, 0x80][..],
        ] {
            let draft = PackedDraft { bytes, names: &[] };
            let _ = draft.unpack();
            let _ = draft.change().fields();
        }
        // Handles that point nowhere, or at a length past the end.
        let packer = Packer {
            buffer: vec![9, 0, 0, 0, 1],
            ..Packer::default()
        };
        let changes = Changes::new(packer, vec![Handle(0), Handle(3), Handle(u64::MAX)]);
        for draft in changes.iter() {
            assert_eq!(draft.change().id(), "");
        }
    }
}
