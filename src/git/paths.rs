//! The changed paths of every commit of a range, packed.
//!
//! `plan` holds each commit's changed paths from the moment they are read until the
//! risk engine is done. As a list per commit (a vector of shared names), that was
//! about 100 bytes a commit: 95 MiB at a million, at the top of reading them and
//! again under the risk engine. Here each commit is a place in one list of name
//! numbers and statuses, about 13 bytes a commit (BENCHMARKS.md).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::PathChange;
use crate::error::Error;

/// Changed paths of commits `0..len()`: each path a number into the range's
/// distinct names, with its status (`A`, `M`, `D`, `T`). A commit whose paths could
/// not be read holds why. Filled in any order (`set`).
#[derive(Debug, Default)]
pub struct PathLists {
    names: Vec<Arc<str>>,
    numbers: FxHashMap<Arc<str>, u32>,
    /// Name numbers, each commit's together.
    paths: Vec<u32>,
    /// The status of each of `paths`.
    statuses: Vec<u8>,
    /// Each commit's place in `paths`.
    spans: Vec<Span>,
    errors: Vec<Error>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    /// `FAILED`: `start` is the place of the error in `errors`.
    len: u32,
}

const FAILED: u32 = u32::MAX;

/// One commit's changed paths, read in place.
#[derive(Clone, Copy)]
pub struct PathsOf<'a> {
    lists: &'a PathLists,
    start: usize,
    len: usize,
}

/// A changed path, read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRef<'a> {
    pub status: char,
    pub path: &'a str,
}

impl PathLists {
    /// `len` commits, none with a changed path yet. Room for a few paths a commit
    /// is set aside (only what is filled takes memory): grown by doubling, the list
    /// of a long range was copied whole at each step, both copies held.
    pub fn with_len(len: usize) -> PathLists {
        PathLists {
            spans: vec![Span::default(); len],
            paths: Vec::with_capacity(len.saturating_mul(4)),
            statuses: Vec::with_capacity(len.saturating_mul(4)),
            ..PathLists::default()
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Adds a commit after the last, with its paths.
    pub fn push(&mut self, paths: Result<Vec<PathChange>, Box<Error>>) {
        self.spans.push(Span::default());
        self.set(self.spans.len() - 1, paths);
    }

    /// Sets commit `i`'s paths (or why they could not be read). Each commit is set
    /// once: setting one again leaves its earlier paths unused in the list.
    pub fn set(&mut self, i: usize, paths: Result<Vec<PathChange>, Box<Error>>) {
        let span = match paths {
            Ok(paths) => self.add(paths),
            Err(e) => self.failed(*e),
        };
        if let Some(slot) = self.spans.get_mut(i) {
            *slot = span;
        }
    }

    fn add(&mut self, paths: Vec<PathChange>) -> Span {
        let start = self.paths.len();
        // Places are 32-bit, and a length of `FAILED` marks an error.
        let Some(end) = u32::try_from(start + paths.len())
            .ok()
            .filter(|&end| end != FAILED)
        else {
            return self.failed(Error::runtime("too many changed paths to hold"));
        };
        for change in paths {
            let number = match self.numbers.get(&change.path) {
                Some(&n) => n,
                None => {
                    let n = self.names.len() as u32;
                    self.names.push(Arc::clone(&change.path));
                    self.numbers.insert(change.path, n);
                    n
                }
            };
            self.paths.push(number);
            // Statuses are ASCII letters; anything else reads back as `?`.
            self.statuses
                .push(u8::try_from(change.status).unwrap_or(b'?'));
        }
        let start = start as u32;
        Span {
            start,
            len: end - start,
        }
    }

    fn failed(&mut self, error: Error) -> Span {
        let start = self.errors.len() as u32;
        self.errors.push(error);
        Span { start, len: FAILED }
    }

    /// Commit `i`'s paths, or why they could not be read (`None` past the end).
    pub fn get(&self, i: usize) -> Option<Result<PathsOf<'_>, &Error>> {
        let span = *self.spans.get(i)?;
        if span.len == FAILED {
            return self.errors.get(span.start as usize).map(Err);
        }
        Some(Ok(PathsOf {
            lists: self,
            start: span.start as usize,
            len: span.len as usize,
        }))
    }

    /// Commit `i`'s paths as a list of their own.
    pub fn to_paths(&self, i: usize) -> super::Paths {
        match self.get(i) {
            Some(Ok(paths)) => Ok(paths
                .numbered()
                .map(|(n, status)| PathChange {
                    status,
                    path: Arc::clone(&self.names[n as usize]),
                })
                .collect()),
            Some(Err(e)) => Err(Box::new(Error::runtime(e.to_string()))),
            None => Ok(Vec::new()),
        }
    }

    /// Every distinct path of every commit.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Lets go of what only filling needed.
    pub fn shrink(&mut self) {
        self.numbers = FxHashMap::default();
        self.paths.shrink_to_fit();
        self.statuses.shrink_to_fit();
        self.names.shrink_to_fit();
    }
}

impl From<Vec<Result<Vec<PathChange>, Box<Error>>>> for PathLists {
    fn from(lists: Vec<Result<Vec<PathChange>, Box<Error>>>) -> PathLists {
        let mut all = PathLists::with_len(lists.len());
        for (i, paths) in lists.into_iter().enumerate() {
            all.set(i, paths);
        }
        all
    }
}

impl<'a> PathsOf<'a> {
    pub fn iter(&self) -> impl Iterator<Item = PathRef<'a>> + 'a {
        let names = &self.lists.names;
        self.numbered().map(move |(n, status)| PathRef {
            status,
            path: &names[n as usize],
        })
    }

    /// Each path's name number, with its status.
    fn numbered(&self) -> impl Iterator<Item = (u32, char)> + 'a {
        let lists = self.lists;
        let range = self.start..self.start + self.len;
        lists.paths[range.clone()]
            .iter()
            .zip(&lists.statuses[range])
            .map(|(&n, &status)| (n, char::from(status)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(status: char, path: &str) -> PathChange {
        PathChange {
            status,
            path: path.into(),
        }
    }

    fn listed(lists: &PathLists, i: usize) -> Result<Vec<(char, String)>, String> {
        match lists.get(i).unwrap() {
            Ok(paths) => Ok(paths
                .iter()
                .map(|p| (p.status, p.path.to_string()))
                .collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn commits_set_in_any_order_read_back_as_set() {
        let mut lists = PathLists::with_len(4);
        lists.set(
            3,
            Ok(vec![change('A', "src/a.rs"), change('M', "README.md")]),
        );
        lists.set(0, Ok(vec![change('D', "src/a.rs")]));
        lists.set(2, Err(Box::new(Error::runtime("cannot read tree of abc"))));
        lists.shrink();
        assert_eq!(lists.len(), 4);
        assert_eq!(listed(&lists, 0), Ok(vec![('D', "src/a.rs".into())]));
        assert_eq!(listed(&lists, 1), Ok(vec![]));
        assert_eq!(listed(&lists, 2), Err("cannot read tree of abc".into()));
        assert_eq!(
            listed(&lists, 3),
            Ok(vec![('A', "src/a.rs".into()), ('M', "README.md".into())])
        );
        assert!(lists.get(4).is_none());
        // Each distinct path is held once.
        let mut names: Vec<&str> = lists.names().iter().map(|n| &**n).collect();
        names.sort();
        assert_eq!(names, ["README.md", "src/a.rs"]);
        let own = lists.to_paths(3).unwrap();
        assert_eq!((own[1].status, &*own[1].path), ('M', "README.md"));
        assert!(lists.to_paths(2).is_err());
    }
}
