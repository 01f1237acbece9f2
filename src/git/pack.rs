//! Commits and trees read straight from the pack files.
//!
//! The walk reads every commit of the range once, on one thread, and that thread is
//! the critical path of `scope`; `plan` reads a few trees per commit. Through
//! libgit2's object database each read paid for a general lookup: a binary search of
//! the pack index through a C `memcmp` call per step, a lock, window bookkeeping, a
//! fresh buffer and the zlib checksum, a third of the walking thread and of `plan`
//! (BENCHMARKS.md). Here an object is found in the index from where its id says it
//! must be (ids are hashes, so evenly spread: one random read instead of a dozen), a
//! commit stored whole (as git stores nearly every commit) is inflated straight into
//! the caller's buffer, and a tree stored as a chain of deltas is rebuilt with the
//! bases kept for the next read.
//!
//! Only a fast path: anything else (a loose object, a commit stored as a delta, a
//! base in another pack, an alternate object store, an index version this does not
//! read, a damaged entry) answers "no", and the caller reads the object through
//! libgit2 as before. So this never has to be complete, only right when it answers.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fs::File;
use std::path::Path;
use std::rc::Rc;

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;
use memmap2::{Mmap, MmapOptions};
use rustc_hash::FxHashMap;

/// Pack data is read through mapped windows of this size, at most `WINDOWS` at once:
/// the walk moves through a pack in one direction, and a bounded mapping keeps the
/// resident memory flat on packs of many gigabytes.
const WINDOW: u64 = 16 << 20;
const WINDOWS: usize = 2;
/// Larger objects are left to libgit2: compressed, and inflated (a damaged size field
/// must not become an allocation of gigabytes).
const MAX_COMPRESSED: u64 = 1 << 20;
const MAX_INFLATED: usize = 1 << 28;

/// Pack entry types.
const OBJ_COMMIT: u8 = 1;
const OBJ_TREE: u8 = 2;
const OBJ_BLOB: u8 = 3;
const OBJ_TAG: u8 = 4;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;
/// Longer delta chains (git writes at most 50, or 250 with `--aggressive`) are left to
/// libgit2: a bound, so that a damaged pack cannot loop.
const MAX_CHAIN: usize = 10_000;

/// The pack files of one object directory.
pub struct Packs {
    packs: Vec<Pack>,
    /// The pack that answered last: tried first.
    last: usize,
    inflate: Decompress,
}

struct Pack {
    index: Index,
    file: File,
    len: u64,
    /// Most recently used first.
    windows: Vec<(u64, Mmap)>,
    bases: Bases,
}

/// A version 2 pack index (`git help format-pack`) with SHA-1 ids.
struct Index {
    table: Table,
    /// How many ids sort at or below each first byte (the index's fanout table).
    fanout: Box<[u32; 256]>,
}

/// Where an index's ids and offsets are read from.
enum Table {
    /// Mapped: a lookup reads the pages in place.
    Mapped(Mmap),
    /// Read a few kilobytes per lookup with `pread`. A walk of a long range looks up
    /// ids spread over the whole index, so a mapped index ends up resident in full:
    /// 258 MB of a million-commit repository's 718 MB pack, a third of the walk's
    /// peak (BENCHMARKS.md item 41). Read this way, those pages stay in the page
    /// cache, shared and reclaimable, and out of relplan's resident memory.
    Read(File),
}

/// Indexes up to this size are mapped; larger ones are read (`Table::Read`). A
/// hundred-thousand-commit repository's index (26 MB) is mapped: its pages cost
/// little, and a system call per lookup would be a few percent of `scope`. A
/// million-commit one (258 MB) is read: mapped, random lookups (a walk's commits, a
/// diff's trees) leave nearly all of it resident, most of `scope`'s peak and 240 MiB
/// of `plan`'s, for about 3 µs a lookup (BENCHMARKS.md items 41 and 57).
const MAPPED_MAX: u64 = 64 << 20;

impl Packs {
    /// The packs under `objects/pack`. Never fails: a pack that cannot be opened or
    /// read is left out (its objects then come from libgit2).
    pub fn open(objects: &Path) -> Packs {
        let mut packs = Vec::new();
        if let Ok(entries) = std::fs::read_dir(objects.join("pack")) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "idx") {
                    packs.extend(Pack::open(&path, MAPPED_MAX));
                }
            }
        }
        Packs {
            packs,
            last: 0,
            inflate: Decompress::new(false),
        }
    }

    /// Appends the raw data of commit `oid` to `out` and returns true, or leaves `out`
    /// as it was and returns false when it cannot (see the module comment).
    pub fn read_commit(&mut self, oid: &Oid, out: &mut Vec<u8>) -> bool {
        match locate(&mut self.packs, &mut self.last, oid) {
            Some((pack, offset)) => pack.read_commit(offset, &mut self.inflate, out),
            None => false,
        }
    }

    /// Tree `oid`, if a pack holds it (whole, or as deltas within that pack).
    pub fn read_tree(&mut self, oid: &Oid) -> Option<Rc<[u8]>> {
        self.read(oid, OBJ_TREE)
    }

    /// Blob `oid`, if a pack holds it (whole, or as deltas within that pack).
    pub fn read_blob(&mut self, oid: &Oid) -> Option<Rc<[u8]>> {
        self.read(oid, OBJ_BLOB)
    }

    fn read(&mut self, oid: &Oid, kind: u8) -> Option<Rc<[u8]>> {
        let (pack, offset) = locate(&mut self.packs, &mut self.last, oid)?;
        match pack.object(offset, &mut self.inflate)? {
            (found, data) if found == kind => Some(data),
            _ => None,
        }
    }
}

/// The pack that lists `oid`, and where in it; the one that answered `last` is asked
/// first.
fn locate<'p>(packs: &'p mut [Pack], last: &mut usize, oid: &Oid) -> Option<(&'p mut Pack, u64)> {
    let n = packs.len();
    let (i, offset) = (0..n)
        .map(|k| (*last + k) % n)
        .find_map(|i| Some((i, packs[i].index.find(oid.as_bytes())?)))?;
    *last = i;
    Some((&mut packs[i], offset))
}

impl Pack {
    fn open(idx: &Path, mapped_max: u64) -> Option<Pack> {
        let file = File::open(idx.with_extension("pack")).ok()?;
        let len = file.metadata().ok()?.len();
        let index = Index::open(idx, mapped_max)?;
        Some(Pack {
            index,
            file,
            len,
            windows: Vec::new(),
            bases: Bases::default(),
        })
    }

    /// The bytes of the pack from `offset` on, up to `want` bytes (fewer at the end
    /// of the file), through a mapped window.
    fn bytes(&mut self, offset: u64, want: u64) -> Option<&[u8]> {
        if offset >= self.len {
            return None;
        }
        let end = offset.saturating_add(want).min(self.len);
        let hit = self
            .windows
            .iter()
            .position(|(start, map)| *start <= offset && end <= start + map.len() as u64);
        let i = match hit {
            Some(i) => i,
            None => {
                // A walk moves through a pack one way: forwards through a pack git
                // wrote (newest commits first), backwards through one written in
                // commit order (`git fast-import`). The new window lies ahead of
                // the walk either way.
                let backwards = self
                    .windows
                    .first()
                    .is_some_and(|(start, _)| offset < *start);
                let start = if backwards {
                    end.saturating_sub(WINDOW)
                } else {
                    offset
                } & !0xffff;
                let len = WINDOW.max(end - start).min(self.len - start);
                // SAFETY: as in `open`.
                let map = unsafe {
                    MmapOptions::new()
                        .offset(start)
                        .len(usize::try_from(len).ok()?)
                        .map(&self.file)
                }
                .ok()?;
                if self.windows.len() == WINDOWS {
                    self.windows.pop();
                }
                self.windows.insert(0, (start, map));
                0
            }
        };
        if i != 0 {
            let window = self.windows.remove(i);
            self.windows.insert(0, window);
        }
        let (start, map) = &self.windows[0];
        map.get((offset - start) as usize..(end - start) as usize)
    }

    /// The entry at `offset`: its type, inflated size and what follows the header.
    fn entry(&mut self, offset: u64) -> Option<(u8, usize, &[u8])> {
        let data = self.bytes(offset, MAX_COMPRESSED)?;
        // Type in bits 4-6 of the first byte, then the inflated size: four bits, and
        // seven more per byte while the top bit is set.
        let (&first, mut rest) = data.split_first()?;
        let mut size = u64::from(first & 0x0f);
        let mut shift = 4;
        let mut more = first & 0x80 != 0;
        while more {
            let (&byte, tail) = rest.split_first()?;
            if shift > 57 {
                return None;
            }
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            more = byte & 0x80 != 0;
            rest = tail;
        }
        let size = usize::try_from(size).ok().filter(|&s| s <= MAX_INFLATED)?;
        Some(((first >> 4) & 7, size, rest))
    }

    fn read_commit(&mut self, offset: u64, inflate: &mut Decompress, out: &mut Vec<u8>) -> bool {
        match self.entry(offset) {
            Some((OBJ_COMMIT, size, rest)) => inflate_into(inflate, rest, size, out),
            _ => false,
        }
    }

    /// The object at `offset` (its type and data), resolving deltas within this pack.
    fn object(&mut self, offset: u64, inflate: &mut Decompress) -> Option<(u8, Rc<[u8]>)> {
        // Down the delta chain to a whole object or one already rebuilt...
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut data) = loop {
            if let Some(hit) = self.bases.get(at) {
                break hit;
            }
            if chain.len() > MAX_CHAIN {
                return None;
            }
            let (kind, size, rest) = self.entry(at)?;
            match kind {
                OBJ_COMMIT..=OBJ_TAG => {
                    let mut out = Vec::new();
                    if !inflate_into(inflate, rest, size, &mut out) {
                        return None;
                    }
                    break (kind, out.into());
                }
                OBJ_OFS_DELTA => {
                    // The base's distance back from this entry, in a big-endian
                    // base-128 where each continuation also adds one.
                    let (&byte, mut tail) = rest.split_first()?;
                    let mut back = u64::from(byte & 0x7f);
                    let mut more = byte & 0x80 != 0;
                    while more {
                        let (&byte, t) = tail.split_first()?;
                        back = back.checked_add(1)?.checked_mul(128)? | u64::from(byte & 0x7f);
                        more = byte & 0x80 != 0;
                        tail = t;
                    }
                    chain.push((at, (rest.len() - tail.len()) as u64, size));
                    at = at.checked_sub(back).filter(|_| back > 0)?;
                }
                OBJ_REF_DELTA => {
                    let base: [u8; 20] = rest.get(..20)?.try_into().ok()?;
                    chain.push((at, 20, size));
                    at = self.index.find(&base)?;
                }
                _ => return None,
            }
        };
        // ...then back up, applying each delta to the object below it.
        for (at, skip, size) in chain.into_iter().rev() {
            let (_, _, rest) = self.entry(at)?;
            let mut delta = Vec::new();
            if !inflate_into(inflate, rest.get(skip as usize..)?, size, &mut delta) {
                return None;
            }
            data = apply_delta(&data, &delta)?.into();
            self.bases.put(at, kind, data.clone());
        }
        Some((kind, data))
    }
}

/// Inflates the zlib stream at the start of `stream` (exactly `size` bytes) onto the
/// end of `out`; on any failure `out` is left as it was.
///
/// A zlib stream is a two-byte header (deflate, no preset dictionary), the deflate
/// data, and an Adler-32 checksum that is not checked here (git and libgit2 check it;
/// skipping it saved about 1% of `scope`'s CPU). A damaged stream nearly always fails
/// to inflate to the announced size, and libgit2 then reads the object; one that
/// still does would go unnoticed.
fn inflate_into(inflate: &mut Decompress, stream: &[u8], size: usize, out: &mut Vec<u8>) -> bool {
    let [cmf, flg, ref deflate @ ..] = *stream else {
        return false;
    };
    if cmf & 0x0f != 8 || flg & 0x20 != 0 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 {
        return false;
    }
    let before = out.len();
    out.reserve(size + 1);
    inflate.reset(false);
    let status = inflate.decompress_vec(deflate, out, FlushDecompress::Finish);
    if matches!(status, Ok(Status::StreamEnd)) && out.len() - before == size {
        true
    } else {
        out.truncate(before);
        false
    }
}

/// `base` rebuilt into the object `delta` describes (`git help format-pack`,
/// "Deltified representation"): the two sizes, then copies from the base and
/// inserted bytes.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    fn size(bytes: &mut &[u8]) -> Option<usize> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return usize::try_from(value).ok();
            }
        }
        None
    }
    let mut rest = delta;
    if size(&mut rest)? != base.len() {
        return None;
    }
    let target = size(&mut rest).filter(|&t| t <= MAX_INFLATED)?;
    let mut out = Vec::with_capacity(target);
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        if op & 0x80 != 0 {
            // Copy: which offset and size bytes follow is in the op's low seven bits.
            let mut field = |bits: std::ops::Range<u32>| -> Option<usize> {
                let mut value = 0usize;
                for (i, bit) in bits.enumerate() {
                    if op & (1 << bit) != 0 {
                        let (&byte, tail) = rest.split_first()?;
                        rest = tail;
                        value |= usize::from(byte) << (8 * i);
                    }
                }
                Some(value)
            };
            let start = field(0..4)?;
            let len = match field(4..7)? {
                0 => 0x10000,
                n => n,
            };
            out.extend_from_slice(base.get(start..start.checked_add(len)?)?);
        } else if op != 0 {
            let (insert, tail) = rest.split_at_checked(usize::from(op))?;
            out.extend_from_slice(insert);
            rest = tail;
        } else {
            return None;
        }
        if out.len() > target {
            return None;
        }
    }
    (out.len() == target).then_some(out)
}

/// Objects rebuilt from deltas, kept because the next read usually continues the
/// same chain (the trees of consecutive commits are deltas of one another). Evicted
/// oldest first past a byte budget.
#[derive(Default)]
struct Bases {
    by_offset: FxHashMap<u64, (u8, Rc<[u8]>)>,
    order: VecDeque<u64>,
    bytes: usize,
}

impl Bases {
    const BUDGET: usize = 32 << 20;

    fn get(&self, offset: u64) -> Option<(u8, Rc<[u8]>)> {
        self.by_offset.get(&offset).cloned()
    }

    fn put(&mut self, offset: u64, kind: u8, data: Rc<[u8]>) {
        if data.len() > Self::BUDGET / 4 {
            return;
        }
        self.bytes += data.len();
        if let Some((_, old)) = self.by_offset.insert(offset, (kind, data)) {
            self.bytes -= old.len();
        } else {
            self.order.push_back(offset);
        }
        while self.bytes > Self::BUDGET {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, gone)) = self.by_offset.remove(&oldest) {
                self.bytes -= gone.len();
            }
        }
    }
}

impl Index {
    const MAGIC: [u8; 4] = [0xff, b't', b'O', b'c'];
    const HEADER: usize = 8;
    const FANOUT: usize = 256 * 4;
    /// At most this many ids are read per step of a lookup (`find`).
    const WINDOW: usize = 512;

    /// The index at `path`, mapped when it is at most `mapped_max` bytes long.
    fn open(path: &Path, mapped_max: u64) -> Option<Index> {
        let file = File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let table = if len <= mapped_max || cfg!(not(unix)) {
            // SAFETY: pack files and their indexes are never modified in place (git
            // writes new ones and renames them), so the mapping stays valid while
            // relplan runs.
            Table::Mapped(unsafe { Mmap::map(&file) }.ok()?)
        } else {
            Table::Read(file)
        };
        Index::new(table, len)
    }

    fn new(table: Table, len: u64) -> Option<Index> {
        let mut head = [0u8; Self::HEADER + Self::FANOUT];
        let head = table.read(0, &mut head)?;
        if head[..4] != Self::MAGIC || u32_at(head, 4)? != 2 {
            return None;
        }
        let mut fanout = Box::new([0u32; 256]);
        for (byte, n) in fanout.iter_mut().enumerate() {
            *n = u32_at(head, Self::HEADER + byte * 4)?;
        }
        let index = Index { table, fanout };
        // ids, CRCs and 4-byte offsets, then the 8-byte offsets and two trailing ids.
        let least = Self::HEADER + Self::FANOUT + index.count() * (20 + 4 + 4) + 40;
        (len >= least as u64).then_some(index)
    }

    /// How many ids the index lists.
    fn count(&self) -> usize {
        self.fanout[255] as usize
    }

    /// Where `id` starts in the pack, if this index lists it.
    ///
    /// Ids are hashes, so within the fanout's range for their first byte they are
    /// spread evenly: the next eight bytes, as a fraction, give the position to within
    /// about half the square root of that range's length. The search reads a window
    /// of ids around that estimate: one random read of the index, where bisection
    /// (libgit2's) costs a dozen. When the id lies outside the window, the window's
    /// ends narrow the range and the estimate is made again within it, now close.
    /// The window is a quarter of that square root on either side: read with `pread`,
    /// the copy costs more than the odd second read (1M `scope`: 2.5 s less system
    /// time than a window of the whole square root each side).
    fn find(&self, id: &[u8]) -> Option<u64> {
        let first = usize::from(id[0]);
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1] as usize
        };
        let mut hi = (self.fanout[first] as usize).min(self.count());
        // Every id in `lo..hi` has its `prefix` in `lo_key..=hi_key`, and so has `id`.
        let (mut lo_key, mut hi_key) = (0u64, u64::MAX);
        let key = prefix(id);
        let mut buf = [0u8; Self::WINDOW * 20];
        while lo < hi {
            let n = hi - lo;
            // (Saturating and clamped: a damaged index, its ids out of order, must not
            // make this panic.)
            let span = u128::from(hi_key.saturating_sub(lo_key)) + 1;
            let ahead = u128::from(key.saturating_sub(lo_key)) * n as u128 / span;
            let guess = lo + (ahead as usize).min(n - 1);
            let half = (n.isqrt() / 4 + 4).min(Self::WINDOW / 2);
            let (a, b) = (guess.saturating_sub(half).max(lo), (guess + half).min(hi));
            let ids = self.table.read(self.id_at(a), &mut buf[..(b - a) * 20])?;
            let at = |k: usize| &ids[k * 20..k * 20 + 20];
            let (mut x, mut y) = (0, b - a);
            while x < y {
                let mid = x + (y - x) / 2;
                match compare(at(mid), id) {
                    Ordering::Equal => return self.offset(a + mid),
                    Ordering::Less => x = mid + 1,
                    Ordering::Greater => y = mid,
                }
            }
            if x == 0 && a > lo {
                (hi, hi_key) = (a, prefix(at(0)));
            } else if x == b - a && b < hi {
                (lo, lo_key) = (b, prefix(at(b - a - 1)));
            } else {
                return None;
            }
        }
        None
    }

    fn id_at(&self, i: usize) -> usize {
        Self::HEADER + Self::FANOUT + i * 20
    }

    #[cfg(test)]
    fn id(&self, i: usize) -> Vec<u8> {
        let mut id = [0u8; 20];
        self.table
            .read(self.id_at(i), &mut id)
            .map_or(Vec::new(), <[u8]>::to_vec)
    }

    fn offset(&self, i: usize) -> Option<u64> {
        let offsets = Self::HEADER + Self::FANOUT + self.count() * 24;
        let mut buf = [0u8; 8];
        let small = u32_at(self.table.read(offsets + i * 4, &mut buf[..4])?, 0)?;
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large = offsets + self.count() * 4 + (small & 0x7fff_ffff) as usize * 8;
        let bytes = self.table.read(large, &mut buf)?;
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }
}

impl Table {
    /// `buf.len()` bytes from `at`: in place when mapped, else read into `buf`.
    fn read<'a>(&'a self, at: usize, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        match self {
            Table::Mapped(map) => map.get(at..at.checked_add(buf.len())?),
            #[cfg(unix)]
            Table::Read(file) => {
                use std::os::unix::fs::FileExt;
                file.read_exact_at(buf, at as u64).ok()?;
                Some(buf)
            }
            #[cfg(not(unix))]
            Table::Read(_) => None,
        }
    }
}

/// Two ids. The first eight bytes nearly always decide: compared as one number
/// rather than through a `memcmp` call.
fn compare(here: &[u8], id: &[u8]) -> Ordering {
    u64::from_be_bytes(here[..8].try_into().unwrap_or_default())
        .cmp(&u64::from_be_bytes(id[..8].try_into().unwrap_or_default()))
        .then_with(|| here[8..].cmp(&id[8..]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Bytes 1 to 8 of an id (byte 0 is the fanout's), as a number.
fn prefix(id: &[u8]) -> u64 {
    u64::from_be_bytes(id[1..9].try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A repository with `n` commits, packed or not.
    fn repo(n: usize, pack: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q"]);
        git(p, &["config", "user.name", "T"]);
        git(p, &["config", "user.email", "t@example.com"]);
        for i in 0..n {
            std::fs::write(p.join("f.txt"), format!("{i}\n")).unwrap();
            git(p, &["add", "f.txt"]);
            git(
                p,
                &[
                    "commit",
                    "-q",
                    "-m",
                    &format!("fix: change {i}\n\nbody {i}"),
                ],
            );
        }
        if pack {
            git(p, &["gc", "-q", "--aggressive"]);
        }
        dir
    }

    fn ids(dir: &Path) -> Vec<Oid> {
        git(dir, &["rev-list", "--all"])
            .lines()
            .map(|l| Oid::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn packed_commits_read_as_libgit2_reads_them() {
        let dir = repo(60, true);
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let mut packs = Packs::open(&dir.path().join(".git/objects"));
        let mut read = 0;
        for oid in ids(dir.path()) {
            let mut out = b"kept".to_vec();
            if packs.read_commit(&oid, &mut out) {
                read += 1;
                assert_eq!(&out[..4], b"kept");
                assert_eq!(&out[4..], odb.read(oid).unwrap().data(), "{oid}");
            } else {
                assert_eq!(out, b"kept");
            }
        }
        // git may store a few commits as deltas (read by libgit2 then); most are whole.
        assert!(read >= 50, "{read} of 60 read from the pack");
        // A tree, a blob, an id that is not there: not commits this can answer for.
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let mut out = Vec::new();
        assert!(!packs.read_commit(&head.tree_id(), &mut out));
        assert!(!packs.read_commit(&Oid::from_str(&"ab".repeat(20)).unwrap(), &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn loose_objects_and_missing_packs_are_left_to_libgit2() {
        let dir = repo(3, false);
        let mut packs = Packs::open(&dir.path().join(".git/objects"));
        let mut out = Vec::new();
        for oid in ids(dir.path()) {
            assert!(!packs.read_commit(&oid, &mut out));
        }
        let mut none = Packs::open(&dir.path().join("no-such-dir"));
        assert!(!none.read_commit(&ids(dir.path())[0], &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn a_damaged_index_is_not_used() {
        let dir = repo(5, true);
        let pack_dir = dir.path().join(".git/objects/pack");
        for entry in std::fs::read_dir(&pack_dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "idx") {
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.truncate(bytes.len() / 2);
                let mut perms = std::fs::metadata(&path).unwrap().permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                std::fs::set_permissions(&path, perms).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        }
        let mut packs = Packs::open(&dir.path().join(".git/objects"));
        assert!(packs.packs.is_empty());
        let mut out = Vec::new();
        assert!(!packs.read_commit(&ids(dir.path())[0], &mut out));
    }

    /// Trees of a history where each commit changes one of 30 files: under a full
    /// repack most trees are stored as deltas, with offsets to their bases or (with
    /// `repack.useDeltaBaseOffset=false`) their bases' ids.
    #[test]
    fn trees_stored_as_deltas_read_as_libgit2_reads_them() {
        for offsets in ["true", "false"] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path();
            git(p, &["init", "-q"]);
            git(p, &["config", "user.name", "T"]);
            git(p, &["config", "user.email", "t@example.com"]);
            std::fs::create_dir(p.join("src")).unwrap();
            for i in 0..60 {
                let file = format!("src/file{:02}.rs", i % 30);
                std::fs::write(p.join(&file), format!("// version {i}\n").repeat(20)).unwrap();
                git(p, &["add", "-A"]);
                git(p, &["commit", "-q", "-m", &format!("change {i}")]);
            }
            let option = format!("repack.useDeltaBaseOffset={offsets}");
            git(
                p,
                &[
                    "-c",
                    &option,
                    "repack",
                    "-q",
                    "-a",
                    "-d",
                    "-f",
                    "--depth=50",
                ],
            );
            let pack_dir = p.join(".git/objects/pack");
            let idx = std::fs::read_dir(&pack_dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "idx"))
                .unwrap();
            let listing = git(p, &["verify-pack", "-v", idx.to_str().unwrap()]);
            let objects: Vec<(Oid, &str, bool)> = listing
                .lines()
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let oid = Oid::from_str(fields.first()?).ok()?;
                    Some((oid, *fields.get(1)?, fields.len() > 5))
                })
                .collect();
            let deltas = objects
                .iter()
                .filter(|(_, kind, d)| *kind == "tree" && *d)
                .count();
            assert!(deltas >= 20, "{deltas} trees stored as deltas ({offsets})");

            let repo = git2::Repository::open(p).unwrap();
            let odb = repo.odb().unwrap();
            let mut packs = Packs::open(&p.join(".git/objects"));
            for (oid, kind, _) in &objects {
                let read = packs.read_tree(oid);
                if *kind == "tree" {
                    let want = odb.read(*oid).unwrap();
                    assert_eq!(read.as_deref(), Some(want.data()), "{oid} ({offsets})");
                } else {
                    assert_eq!(read, None, "{oid} is a {kind}");
                }
            }
        }
    }

    /// Damaged pack data (300 places in turn overwritten three ways) never panics.
    /// (What is still answered is not checked: a damaged stream that inflates to the
    /// right length would take the zlib checksum `inflate_into` skips to catch.)
    #[test]
    fn damaged_pack_data_is_refused_or_read_but_never_panics() {
        let dir = repo(12, true);
        let objects = dir.path().join(".git/objects");
        let listing: Vec<Oid> = git(dir.path(), &["rev-list", "--objects", "--all"])
            .lines()
            .map(|l| Oid::from_str(&l[..40]).unwrap())
            .collect();
        let pack = std::fs::read_dir(objects.join("pack"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "pack"))
            .unwrap();
        let original = std::fs::read(&pack).unwrap();
        let mut perms = std::fs::metadata(&pack).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&pack, perms).unwrap();
        let step = (original.len() / 300).max(1);
        for at in (12..original.len()).step_by(step) {
            for value in [0x00, 0xff, original[at] ^ 0x10] {
                let mut damaged = original.clone();
                damaged[at] = value;
                std::fs::write(&pack, &damaged).unwrap();
                let mut packs = Packs::open(&objects);
                for oid in &listing {
                    let mut out = Vec::new();
                    packs.read_commit(oid, &mut out);
                    packs.read_tree(oid);
                }
            }
        }
    }

    /// A pack file of `entries` (after the 12-byte header), with an empty index.
    fn pack_of(dir: &Path, entries: &[u8]) -> Pack {
        let path = dir.join("test.pack");
        let mut bytes = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
        bytes.extend(entries);
        std::fs::write(&path, &bytes).unwrap();
        Pack {
            index: index_of(&[], &[]),
            file: File::open(&path).unwrap(),
            len: bytes.len() as u64,
            windows: Vec::new(),
            bases: Bases::default(),
        }
    }

    #[test]
    fn an_entry_claiming_an_enormous_size_is_left_to_libgit2() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(b"tree 0\n").unwrap();
        let stream = zlib.finish().unwrap();
        let mut inflate = Decompress::new(false);

        // A commit of 7 bytes (type 1, size in the low four bits): read.
        let mut sane = vec![0x17];
        sane.extend(&stream);
        let mut out = Vec::new();
        assert!(pack_of(dir.path(), &sane).read_commit(12, &mut inflate, &mut out));
        assert_eq!(out, b"tree 0\n");

        // The same stream claiming 2^46 bytes: refused before any allocation.
        let mut huge = vec![0x9f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        huge.extend(&stream);
        let mut pack = pack_of(dir.path(), &huge);
        assert!(pack.entry(12).is_none());
        assert!(!pack.read_commit(12, &mut inflate, &mut out));
        // A delta announcing a result of 2^40 bytes.
        assert_eq!(
            apply_delta(b"abc", &[3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]),
            None
        );
    }

    #[test]
    fn a_delta_that_does_not_fit_its_base_is_refused() {
        // Base size 3, target size 5: copy bytes 1..3 of the base, insert "xyz".
        let good = [3, 5, 0x80 | 0x01 | 0x10, 1, 2, 3, b'x', b'y', b'z'];
        assert_eq!(apply_delta(b"abc", &good).as_deref(), Some(&b"bcxyz"[..]));
        // The base has another size.
        assert_eq!(apply_delta(b"abcd", &good), None);
        // A copy past the end of the base.
        assert_eq!(apply_delta(b"abc", &[3, 5, 0x80 | 0x01 | 0x10, 2, 5]), None);
        // An insert longer than the rest of the delta; the reserved op 0.
        assert_eq!(apply_delta(b"abc", &[3, 5, 9, b'x']), None);
        assert_eq!(apply_delta(b"abc", &[3, 5, 0]), None);
        // More or less output than announced.
        assert_eq!(apply_delta(b"abc", &[3, 2, 3, b'x', b'y', b'z']), None);
        assert_eq!(apply_delta(b"abc", &[3, 5, 1, b'x']), None);
    }

    /// A version 2 index of `ids` (sorted) at `offsets`, mapped.
    fn index_of(ids: &[[u8; 20]], offsets: &[u64]) -> Index {
        let bytes = index_bytes(ids, offsets);
        let mut map = memmap2::MmapMut::map_anon(bytes.len()).unwrap();
        map.copy_from_slice(&bytes);
        Index::new(
            Table::Mapped(map.make_read_only().unwrap()),
            bytes.len() as u64,
        )
        .unwrap()
    }

    fn index_bytes(ids: &[[u8; 20]], offsets: &[u64]) -> Vec<u8> {
        let mut bytes = Index::MAGIC.to_vec();
        bytes.extend(2u32.to_be_bytes());
        for b in 0..256 {
            let below = ids.iter().filter(|id| usize::from(id[0]) <= b).count();
            bytes.extend((below as u32).to_be_bytes());
        }
        ids.iter().for_each(|id| bytes.extend(id));
        ids.iter().for_each(|_| bytes.extend(0u32.to_be_bytes()));
        let mut large = Vec::new();
        for &offset in offsets {
            if offset < 0x8000_0000 {
                bytes.extend((offset as u32).to_be_bytes());
            } else {
                bytes.extend((0x8000_0000 | large.len() as u32).to_be_bytes());
                large.push(offset);
            }
        }
        large.iter().for_each(|o| bytes.extend(o.to_be_bytes()));
        bytes.extend([0u8; 40]);
        bytes
    }

    /// 20,000 ids spread like hashes (about 80 per first byte), plus `crowded` ids
    /// in one first byte's range and packed into a small part of it, so that the
    /// estimate misses the window and the search narrows and estimates again. About
    /// a third of the offsets lie past 4 GiB (the 8-byte table).
    fn hashlike_ids(crowded: usize) -> (Vec<[u8; 20]>, Vec<u64>) {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ids: Vec<[u8; 20]> = (0..20_000 + crowded)
            .map(|k| {
                let mut id = [0u8; 20];
                for chunk in id.chunks_mut(8) {
                    let n = chunk.len();
                    chunk.copy_from_slice(&next().to_be_bytes()[..n]);
                }
                if k >= 20_000 {
                    // All under 0x42 0x00..0x0f: the first sixteenth of that range.
                    id[0] = 0x42;
                    id[1] &= 0x0f;
                }
                id
            })
            .collect();
        ids.sort();
        ids.dedup();
        let offsets: Vec<u64> = (0..ids.len() as u64)
            .map(|i| {
                if i % 3 == 0 {
                    (5 << 30) + i
                } else {
                    12 + i * 100
                }
            })
            .collect();
        (ids, offsets)
    }

    fn finds_every_id_and_nothing_else(index: &Index, ids: &[[u8; 20]], offsets: &[u64]) {
        for (id, &offset) in ids.iter().zip(offsets) {
            assert_eq!(index.find(id), Some(offset), "{id:02x?}");
            for (byte, bit) in [(19, 1), (8, 0x10), (1, 0x80), (1, 0x01)] {
                let mut other = *id;
                other[byte] ^= bit;
                if ids.binary_search(&other).is_err() {
                    assert_eq!(index.find(&other), None);
                }
            }
        }
        assert_eq!(index.find(&[0u8; 20]), None);
        assert_eq!(index.find(&[0xffu8; 20]), None);
        let mut past_crowd = [0u8; 20];
        past_crowd[0] = 0x42;
        past_crowd[1] = 0xf0;
        assert_eq!(index.find(&past_crowd), None);
    }

    #[test]
    fn a_large_index_finds_every_id_and_nothing_else() {
        let (ids, offsets) = hashlike_ids(0);
        finds_every_id_and_nothing_else(&index_of(&ids, &offsets), &ids, &offsets);
    }

    /// 5,000 extra ids under one first byte, bunched: the first window misses.
    #[test]
    fn a_crowded_index_range_is_searched_again_within_the_window_ends() {
        let (ids, offsets) = hashlike_ids(5_000);
        finds_every_id_and_nothing_else(&index_of(&ids, &offsets), &ids, &offsets);
    }

    /// An index too large to map is read a window at a time, and answers the same.
    #[test]
    fn an_index_read_rather_than_mapped_answers_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, offsets) = hashlike_ids(5_000);
        let path = dir.path().join("test.idx");
        std::fs::write(&path, index_bytes(&ids, &offsets)).unwrap();
        let index = Index::open(&path, 1024).unwrap();
        assert!(matches!(index.table, Table::Read(_)));
        finds_every_id_and_nothing_else(&index, &ids, &offsets);
        let mapped = Index::open(&path, u64::MAX).unwrap();
        assert!(matches!(mapped.table, Table::Mapped(_)));
        finds_every_id_and_nothing_else(&mapped, &ids, &offsets);
    }

    /// Ids out of order (a damaged index) may find nothing, but never panic.
    #[test]
    fn a_damaged_index_table_never_panics() {
        let (mut ids, offsets) = hashlike_ids(5_000);
        let probes = ids.clone();
        ids.reverse();
        let index = index_of(&ids, &offsets);
        for id in &probes {
            let _ = index.find(id);
        }
    }

    #[test]
    fn index_lookup_finds_every_id_and_nothing_else() {
        let dir = repo(40, true);
        let packs = Packs::open(&dir.path().join(".git/objects"));
        let index = &packs.packs[0].index;
        let listed: Vec<Vec<u8>> = (0..index.count()).map(|i| index.id(i)).collect();
        for (i, id) in listed.iter().enumerate() {
            assert_eq!(index.find(id), index.offset(i));
            let mut other = id.clone();
            other[19] ^= 1;
            if !listed.contains(&other) {
                assert_eq!(index.find(&other), None);
            }
        }
        assert_eq!(index.find(&[0u8; 20]), None);
        assert_eq!(index.find(&[0xffu8; 20]), None);
    }
}
