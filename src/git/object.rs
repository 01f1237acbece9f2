//! Commit objects read from their raw bytes.
//!
//! The walk reads each commit of the range on one thread (the critical path of
//! `scope`), so that thread does as little as it can: inflate the object and find
//! the committer time and parents (`walk_fields`). Everything else (message, author,
//! hex id) is decoded by `commit` on the classification thread. libgit2's own commit
//! parse allocated an object, a signature and copies of every field on the walking
//! thread, only for relplan to copy them again (BENCHMARKS.md).
//!
//! Lenient by design: a malformed header line (a signature without `<>`, a time that
//! is not a number) gives empty or zero fields, never an error or a panic. libgit2
//! refused such commits outright, which stopped a plan over one odd commit.

use git2::Oid;

use super::Commit;

/// What the walk needs: committer time (seconds, 0 if unreadable), tree (zero if
/// unreadable) and parents.
pub fn walk_fields(data: &[u8]) -> super::walk::Visit {
    let mut visit = super::walk::Visit {
        time: 0,
        tree: Oid::ZERO_SHA1,
        parents: super::walk::Parents::new(),
    };
    for (key, value) in headers(data) {
        match key {
            b"tree" => visit.tree = parse_oid(value).unwrap_or(Oid::ZERO_SHA1),
            b"parent" => visit.parents.extend(parse_oid(value)),
            b"committer" => visit.time = signature(value).2,
            _ => {}
        }
    }
    visit
}

/// The commit's tree, if its header names one.
pub fn tree_field(data: &[u8]) -> Option<Oid> {
    headers(data)
        .find(|(key, _)| *key == b"tree")
        .and_then(|(_, value)| parse_oid(value))
}

/// The whole commit, decoded lossily.
pub fn commit(oid: Oid, data: &[u8]) -> Commit {
    let mut tree = Oid::ZERO_SHA1;
    let mut parents = super::walk::Parents::new();
    let (mut author, mut author_email, mut time) = (&b""[..], &b""[..], 0);
    for (key, value) in headers(data) {
        match key {
            b"tree" => tree = parse_oid(value).unwrap_or(Oid::ZERO_SHA1),
            b"parent" => parents.extend(parse_oid(value)),
            b"author" => (author, author_email, time) = signature(value),
            _ => {}
        }
    }
    // As libgit2's `git_commit_message`: the text after the header, leading newlines
    // dropped.
    let message = match find(data, b"\n\n") {
        Some(end) => {
            let body = &data[end + 2..];
            &body[body.iter().take_while(|&&b| b == b'\n').count()..]
        }
        None => &[][..],
    };
    Commit {
        oid,
        id: oid.to_string().into(),
        message: String::from_utf8_lossy(message).into_owned(),
        author: String::from_utf8_lossy(author).into_owned(),
        author_email: String::from_utf8_lossy(author_email).into_owned(),
        time,
        parent_count: parents.len(),
        tree,
        parents,
    }
}

/// The header lines (`key value`) before the first empty line. Continuation lines
/// (a signature's, starting with a space) belong to the previous header and are
/// skipped.
fn headers(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let header = match find(data, b"\n\n") {
        Some(end) => &data[..end],
        None => data,
    };
    header
        .split(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b" "))
        .map(|line| match line.iter().position(|&b| b == b' ') {
            Some(space) => (&line[..space], &line[space + 1..]),
            None => (line, &[][..]),
        })
}

/// `Name <email> seconds tz` → (name, email, seconds). As libgit2 reads it: the last
/// `<` and `>` delimit the email, the name before it is trimmed.
fn signature(value: &[u8]) -> (&[u8], &[u8], i64) {
    let (Some(open), Some(close)) = (rposition(value, b'<'), rposition(value, b'>')) else {
        return (trim(value), &[], 0);
    };
    if close < open {
        return (trim(value), &[], 0);
    }
    let name = trim(&value[..open]);
    let email = &value[open + 1..close];
    let time = std::str::from_utf8(&value[close + 1..])
        .ok()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or(0);
    (name, email, time)
}

fn parse_oid(hex: &[u8]) -> Option<Oid> {
    std::str::from_utf8(hex.get(..40)?)
        .ok()
        .and_then(|h| Oid::from_str(h).ok())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn rposition(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().rposition(|&b| b == byte)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let end = bytes.len()
        - bytes[start..]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const P1: &str = "1111111111111111111111111111111111111111";
    const P2: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn the_tree_field_is_the_header_s_not_the_message_s() {
        let raw = format!("tree {TREE}\nparent {P1}\n\ntree {P2}\n");
        assert_eq!(
            tree_field(raw.as_bytes()),
            Some(Oid::from_str(TREE).unwrap())
        );
        let raw = format!("parent {P1}\n\ntree {P2}\n");
        assert_eq!(tree_field(raw.as_bytes()), None);
        assert_eq!(tree_field(b"tree not-hex\n"), None);
    }

    #[test]
    fn a_merge_with_a_signature_and_an_encoding() {
        let raw = format!(
            "tree {TREE}\nparent {P1}\nparent {P2}\nauthor Ada  Lovelace <ada@example.com> 1700000000 +0100\ncommitter Bot <bot@example.com> 1700000500 -0700\nencoding ISO-8859-1\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n parent {TREE}\n -----END PGP SIGNATURE-----\n\n\nfeat: caf\u{e9}\n\nbody\n"
        );
        let visit = walk_fields(raw.as_bytes());
        assert_eq!(visit.time, 1_700_000_500);
        assert_eq!(visit.tree, Oid::from_str(TREE).unwrap());
        let want = [Oid::from_str(P1).unwrap(), Oid::from_str(P2).unwrap()];
        assert_eq!(visit.parents.as_slice(), want);
        let oid = Oid::from_str(P2).unwrap();
        let c = commit(oid, raw.as_bytes());
        assert_eq!(&*c.id, P2);
        assert_eq!(c.tree, Oid::from_str(TREE).unwrap());
        assert_eq!((c.parents.as_slice(), c.parent_count), (&want[..], 2));
        assert_eq!(
            (c.author.as_str(), c.author_email.as_str()),
            ("Ada  Lovelace", "ada@example.com")
        );
        assert_eq!(c.time, 1_700_000_000);
        assert_eq!(c.message, "feat: caf\u{e9}\n\nbody\n");
    }

    #[test]
    fn odd_headers_give_empty_fields_never_a_panic() {
        for raw in [
            &b""[..],
            b"tree nothex\n",
            b"tree \nauthor\ncommitter >< 12\n\n",
            b"author no email 17\n\nmsg",
            b"author A <a@b> notatime +0000\ncommitter C <c@d>\n\n\xff\xfe",
            b"parent 1234\n\n",
        ] {
            let visit = walk_fields(raw);
            assert_eq!((visit.time, visit.tree), (0, Oid::ZERO_SHA1));
            assert!(visit.parents.is_empty());
            let c = commit(Oid::ZERO_SHA1, raw);
            assert_eq!(c.tree, Oid::ZERO_SHA1);
            assert_eq!(c.time, 0);
        }
        let c = commit(Oid::ZERO_SHA1, b"author A <a@b> notatime +0000\n\n\xff\xfe");
        assert_eq!((c.author.as_str(), c.author_email.as_str()), ("A", "a@b"));
        assert_eq!(c.message, "\u{fffd}\u{fffd}");
        assert_eq!(
            commit(Oid::ZERO_SHA1, b"author no email 17\n\nmsg").author,
            "no email 17"
        );
    }

    #[test]
    fn agrees_with_libgit2_on_a_real_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(tmp.path()).unwrap();
        let sig = git2::Signature::new(
            "Zoë Q.",
            "z@example.com",
            &git2::Time::new(1_600_000_000, 60),
        )
        .unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let first = repo
            .commit(None, &sig, &sig, "\n\nfirst\n", &tree, &[])
            .unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = repo
            .commit(
                None,
                &sig,
                &sig,
                "second: ünïcode\n\nbody",
                &tree,
                &[&parent],
            )
            .unwrap();
        for id in [first, second] {
            let theirs = Commit::read(&repo.find_commit(id).unwrap());
            let odb = repo.odb().unwrap();
            let raw = odb.read(id).unwrap();
            let ours = commit(id, raw.data());
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        }
    }
}
