//! The history walk behind every range: which commits `include` reaches and `exclude`
//! does not, newest first, like `git log exclude..include`.
//!
//! Written here rather than taken from libgit2's revwalk for two measured reasons
//! (BENCHMARKS.md): the revwalk parses each commit and the caller then reads it again
//! for its message (every commit inflated twice), and a sorted or hiding revwalk reads
//! the whole history before yielding anything. Here the caller's `read` sees each
//! commit once, and the walk stops as soon as nothing it could still reach matters.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
#[cfg(test)]
use std::collections::HashMap;

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use git2::Oid;

/// A commit's parents: one or two in nearly every history, kept inline so that
/// reading a commit allocates nothing for them (two allocations a commit on the
/// walking thread before).
pub type Parents = smallvec::SmallVec<[Oid; 2]>;

/// What the walk needs of one commit: when it was committed and its parents; and its
/// tree, which the walk keeps for the caller (`Graph::tree`).
pub struct Visit {
    /// Committer time, seconds since the epoch (git log's order).
    pub time: i64,
    pub tree: Oid,
    pub parents: Parents,
}

/// How many excluded commits older than the last included one are still read before
/// stopping, to tolerate clock skew between commits (git's `SLOP`).
const SLOP: u32 = 5;

/// A commit the walk has read. Its parents' ids wait in the queue with it (`Queued`);
/// once it is popped, only their positions stay (what `hide` follows, and what the
/// range's links are read from after the walk: `Graph`). 52 bytes a commit; the walk
/// and a separate list of each commit's id, tree and parents took 104.
struct Node {
    oid: Oid,
    /// `Oid::ZERO_SHA1` for a commit not in the graph (`read` answered `None`).
    tree: Oid,
    /// The first two parents' positions in `nodes` (`NONE` where absent); more
    /// (an octopus merge) go to `Graph::more_parents`.
    parents: [u32; 2],
    hidden: bool,
    popped: bool,
}

const NONE: u32 = u32::MAX;

/// A commit waiting in the queue: newest first, then first queued first.
struct Queued {
    time: i64,
    seq: Reverse<u64>,
    node: u32,
    parents: Parents,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Queued) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Queued) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Queued) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// Commits reachable from `include` and not from `exclude`, newest first by committer
/// time (ties in the order found), as `git log` lists them.
///
/// `read(oid, hidden)` is called exactly once per commit the walk touches, with
/// `hidden` telling whether the commit is already known to be excluded (the caller
/// need not keep its message); `Ok(None)` means "not part of the graph" (a commit
/// outside an in-memory range, a shallow clone's missing parent). A commit first read
/// as included can still turn out excluded (clock skew): it is then dropped.
///
/// Cost: the commits of the range plus the excluded commits newer than the range's
/// oldest commit; never the history below.
pub fn limited<E>(
    include: &[Oid],
    exclude: &[Oid],
    read: impl FnMut(Oid, bool) -> Result<Option<Visit>, E>,
    on_found: impl FnMut(),
) -> Result<Vec<Oid>, E> {
    let graph = graph(include, exclude, |_| false, read, on_found)?;
    Ok(graph.found.iter().map(|&i| graph.oid(i)).collect())
}

/// `limited`, keeping what the walk learnt: every commit it touched, numbered by the
/// `read` call that answered it (from 0), with its tree and its parents, and the
/// commits found as those numbers. A caller that keeps something per read finds it
/// by that number, and the range's ids, trees and parents need no second list (a
/// million commits' list took 75 MB beside the walk's own 34).
///
/// `is_base(oid)` is asked of each commit found, newest first, until it answers
/// true: that commit (`Graph::base`) is then excluded with everything it reaches, as
/// if it had been in `exclude` (a commit found before it that it reaches, through
/// clock skew, is dropped). This finds the previous release and reads the range
/// since in one walk; finding the tag first read the whole range twice.
pub fn graph<E>(
    include: &[Oid],
    exclude: &[Oid],
    mut is_base: impl FnMut(Oid) -> bool,
    read: impl FnMut(Oid, bool) -> Result<Option<Visit>, E>,
    mut on_found: impl FnMut(),
) -> Result<Graph, E> {
    let mut walk = Walk {
        read,
        graph: Graph::default(),
        heap: BinaryHeap::new(),
        seq: 0,
        live: 0,
    };
    for &oid in exclude {
        walk.visit(oid, true)?;
    }
    for &oid in include {
        walk.visit(oid, false)?;
    }
    let mut found = Vec::new();
    let mut last_time = i64::MAX;
    let mut slop = SLOP;
    while let Some(Queued {
        time,
        node: i,
        parents,
        ..
    }) = walk.heap.pop()
    {
        let node = &mut walk.graph.nodes[i as usize];
        node.popped = true;
        if !node.hidden {
            walk.live -= 1;
            if walk.graph.base.is_none() && is_base(node.oid) {
                // Its parents are queued as excluded below, and whatever it reaches
                // that was already found is hidden when they are visited.
                node.hidden = true;
                walk.graph.base = Some(i);
            } else {
                found.push(i);
                last_time = time;
                on_found();
            }
        }
        let hidden = node.hidden;
        for (k, parent) in parents.into_iter().enumerate() {
            let j = walk.visit(parent, hidden)?;
            match walk.graph.nodes[i as usize].parents.get_mut(k) {
                Some(slot) => *slot = j,
                None => walk.graph.more_parents.entry(i).or_default().push(j),
            }
        }
        if walk.live == 0 {
            // Only excluded commits are queued. One newer than the last commit found
            // may still reach (and exclude) it; older ones can only with clock skew.
            match walk.heap.peek() {
                None => break,
                Some(next) if next.time >= last_time => slop = SLOP,
                Some(_) => {
                    slop -= 1;
                    if slop == 0 {
                        break;
                    }
                }
            }
        }
    }
    let mut graph = walk.graph;
    found.retain(|&i| !graph.nodes[i as usize].hidden);
    graph.found = found;
    Ok(graph)
}

/// What a walk touched (`graph`): each commit by the number of the `read` call that
/// answered it, with its id, its tree and its parents (those of the commits whose
/// parents were reached: every commit found, and excluded ones above the boundary).
#[derive(Default)]
pub struct Graph {
    nodes: Vec<Node>,
    /// Parents past the second, by commit number.
    more_parents: FxHashMap<u32, Vec<u32>>,
    /// Commit numbers by id.
    index: IdTable,
    /// The commits found, newest first.
    pub found: Vec<u32>,
    /// The commit `is_base` accepted, if any.
    pub base: Option<u32>,
}

impl Graph {
    /// How many commits the walk touched (read calls made).
    pub fn touched(&self) -> usize {
        self.nodes.len()
    }

    pub fn oid(&self, i: u32) -> Oid {
        self.nodes[i as usize].oid
    }

    /// The tree `read` gave for commit `i` (zero for one not in the graph).
    pub fn tree(&self, i: u32) -> Oid {
        self.nodes[i as usize].tree
    }

    /// Commit `i`'s parents' numbers, in the commit's order (known for the commits
    /// whose parents the walk reached).
    pub fn parents(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        let more = self.more_parents.get(&i).map_or(&[][..], |p| &p[..]);
        self.nodes[i as usize]
            .parents
            .iter()
            .copied()
            .take_while(|&j| j != NONE)
            .chain(more.iter().copied())
    }

    /// The number of the commit with id `oid`, if the walk touched it.
    pub fn find(&self, oid: &Oid) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(oid, |i| nodes.get(i as usize).map(|n| n.oid))
    }
}

/// Positions in a list of commits, found by id. Only the position is stored, and the
/// id is read from the list: a bucket takes 5 bytes where a map from id to position
/// takes 25, and a million commits need two million buckets (52 MB as a map). The
/// walk's nodes are found this way (`Graph::find`).
#[derive(Default)]
struct IdTable(hashbrown::HashTable<u32>);

impl IdTable {
    /// The position holding `oid`; `id_at(i)` is the id at position `i`, if any.
    fn find(&self, oid: &Oid, id_at: impl Fn(u32) -> Option<Oid>) -> Option<u32> {
        self.0
            .find(hash_of(oid), |&i| id_at(i) == Some(*oid))
            .copied()
    }

    /// Records `position` as holding `oid` (not recorded yet); `id_at(i)` is the id
    /// at each position already recorded.
    fn insert(&mut self, oid: &Oid, position: u32, id_at: impl Fn(u32) -> Oid) {
        self.0
            .insert_unique(hash_of(oid), position, |&i| hash_of(&id_at(i)));
    }
}

fn hash_of(oid: &Oid) -> u64 {
    FxBuildHasher.hash_one(oid)
}

struct Walk<R> {
    read: R,
    graph: Graph,
    heap: BinaryHeap<Queued>,
    seq: u64,
    /// Queued commits not (yet) known to be excluded.
    live: usize,
}

impl<E, R: FnMut(Oid, bool) -> Result<Option<Visit>, E>> Walk<R> {
    /// Reads `oid` unless already read, and queues it; its number. A commit not in
    /// the graph gets a number too (excluded, never queued): it is a parent all the
    /// same, and `read` is not asked about it again.
    fn visit(&mut self, oid: Oid, hidden: bool) -> Result<u32, E> {
        if let Some(i) = self.graph.find(&oid) {
            if hidden {
                self.hide(i);
            }
            return Ok(i);
        }
        let visit = (self.read)(oid, hidden)?;
        let i = self.graph.nodes.len() as u32;
        self.graph.nodes.push(Node {
            oid,
            tree: visit.as_ref().map_or(Oid::ZERO_SHA1, |v| v.tree),
            parents: [NONE; 2],
            hidden: hidden || visit.is_none(),
            popped: visit.is_none(),
        });
        let nodes = &self.graph.nodes;
        self.graph.index.insert(&oid, i, |j| nodes[j as usize].oid);
        if let Some(visit) = visit {
            self.heap.push(Queued {
                time: visit.time,
                seq: Reverse(self.seq),
                node: i,
                parents: visit.parents,
            });
            self.seq += 1;
            if !hidden {
                self.live += 1;
            }
        }
        Ok(i)
    }

    /// Marks `i` excluded, and everything already read below it: a commit first
    /// reached from `include` can be reached from `exclude` later (clock skew).
    fn hide(&mut self, i: u32) {
        let mut stack = vec![i];
        while let Some(i) = stack.pop() {
            let node = &mut self.graph.nodes[i as usize];
            if node.hidden {
                continue;
            }
            node.hidden = true;
            if !node.popped {
                self.live -= 1;
                continue;
            }
            stack.extend(self.graph.parents(i));
        }
    }
}

/// Which commits of a walk, newest first, were reached only down the branches of
/// merges that fold them (a pull request's branch, listed by its title): as the walk
/// finds them, before the range is known whole. Only the walk's frontier is held.
/// In date order a commit comes after the commits that reach it; where a skewed
/// clock puts it earlier, it may be taken as on a branch when it is not, so callers
/// use the answer only to put work off, never to drop it.
#[derive(Default)]
pub struct BranchReach {
    /// Commits reached and not visited yet: whether only down a folded branch.
    reached: FxHashMap<Oid, bool>,
}

impl BranchReach {
    /// Visits `oid`, whose parents are `parents` (first parent first); `folds` says
    /// it is a merge that folds the branches of its second and later parents.
    /// Returns whether `oid` was reached only down such branches.
    pub fn visit(&mut self, oid: &Oid, parents: &[Oid], folds: bool) -> bool {
        let on_branch = self.reached.remove(oid) == Some(true);
        for (i, parent) in parents.iter().enumerate() {
            let down_a_branch = on_branch || (folds && i > 0);
            self.reached
                .entry(*parent)
                .and_modify(|only| *only &= down_a_branch)
                .or_insert(down_a_branch);
        }
        on_branch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_reach_marks_what_only_a_folding_merge_reaches() {
        // Newest first. 9 is a pull request's merge that folds its branch (5, 4, and
        // 3, which an ordinary merge brought into 4) into main (8, 7, 2). 7 is a
        // merge that folds nothing: its branch commit 6 stays listed. 2, where the
        // branches forked, is on main.
        let order: &[(u8, &[u8], bool)] = &[
            (9, &[8, 5], true),
            (8, &[7], false),
            (7, &[2, 6], false),
            (6, &[2], false),
            (5, &[4], false),
            (4, &[2, 3], false),
            (3, &[2], false),
            (2, &[1], false),
        ];
        let mut reach = BranchReach::default();
        let on_branch: Vec<u8> = order
            .iter()
            .filter(|(n, parents, folds)| {
                let parents: Vec<Oid> = parents.iter().map(|p| oid(*p)).collect();
                reach.visit(&oid(*n), &parents, *folds)
            })
            .map(|(n, _, _)| *n)
            .collect();
        assert_eq!(on_branch, [5, 4, 3]);
        // Only the frontier is held: the root's parent, 1.
        assert_eq!(reach.reached.len(), 1);
    }

    /// A graph by single-digit names: `(name, time, parents)`.
    fn graph(edges: &[(u8, i64, &[u8])]) -> HashMap<Oid, (i64, Vec<Oid>)> {
        edges
            .iter()
            .map(|(n, t, ps)| (oid(*n), (*t, ps.iter().map(|p| oid(*p)).collect())))
            .collect()
    }

    fn oid(n: u8) -> Oid {
        let mut bytes = [0u8; 20];
        bytes[19] = n;
        Oid::from_bytes(&bytes).unwrap()
    }

    /// What `read` answers for `o` in `g`: its time and parents, and as its tree the
    /// id named 100 more than it, wrapping (`None` outside the graph).
    fn visit_of(g: &HashMap<Oid, (i64, Vec<Oid>)>, o: Oid) -> Option<Visit> {
        g.get(&o).map(|(t, ps)| Visit {
            time: *t,
            tree: oid(o.as_bytes()[19].wrapping_add(100)),
            parents: ps.iter().copied().collect(),
        })
    }

    fn walk(g: &HashMap<Oid, (i64, Vec<Oid>)>, include: u8, exclude: &[u8]) -> Vec<u8> {
        walk_counting(g, include, exclude).0
    }

    /// The commits found, by name, and how many commits were read.
    fn walk_counting(
        g: &HashMap<Oid, (i64, Vec<Oid>)>,
        include: u8,
        exclude: &[u8],
    ) -> (Vec<u8>, usize) {
        let mut reads = std::collections::HashSet::new();
        let exclude: Vec<Oid> = exclude.iter().map(|n| oid(*n)).collect();
        let found = limited::<()>(
            &[oid(include)],
            &exclude,
            |o, _| {
                assert!(reads.insert(o), "commit {o} read twice");
                Ok(visit_of(g, o))
            },
            || {},
        )
        .unwrap();
        (
            found.iter().map(|o| o.as_bytes()[19]).collect(),
            reads.len(),
        )
    }

    #[test]
    fn linear_range_newest_first() {
        let g = graph(&[(1, 10, &[]), (2, 20, &[1]), (3, 30, &[2]), (4, 40, &[3])]);
        assert_eq!(walk(&g, 4, &[2]), vec![4, 3]);
        assert_eq!(walk(&g, 4, &[]), vec![4, 3, 2, 1]);
        assert_eq!(walk(&g, 4, &[4]), Vec::<u8>::new());
        assert_eq!(walk(&g, 2, &[4]), Vec::<u8>::new());
    }

    #[test]
    fn merged_branch_commits_are_in_the_range_and_its_base_is_not() {
        // 1 - 2 - 5(merge of 4) ; 2 - 3 - 4 ; release tag at 2
        let g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[2]),
            (4, 40, &[3]),
            (5, 50, &[2, 4]),
        ]);
        assert_eq!(walk(&g, 5, &[2]), vec![5, 4, 3]);
        // The branch alone, as a pull request's merge sees it.
        assert_eq!(walk(&g, 4, &[2]), vec![4, 3]);
    }

    #[test]
    fn clock_skew_does_not_leak_excluded_commits() {
        // The excluded tip 6 is dated before its own parent 3 (a skewed clock), so 3
        // is found from the included side first and must be dropped once 6 is read.
        let g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[2]),
            (6, 25, &[3]),
            (7, 40, &[3]),
            (8, 50, &[7, 6]),
        ]);
        assert_eq!(walk(&g, 8, &[6]), vec![8, 7]);
    }

    #[test]
    fn an_old_excluded_tip_hides_everything_already_found_below_it() {
        // The excluded tip 5 is dated before all of 1..4 (a skewed clock) yet has 4
        // as parent: 4, 3, 2 and 1 are all found from 9 first, then all excluded.
        let g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[2]),
            (4, 40, &[3]),
            (5, 5, &[4]),
            (9, 50, &[4]),
        ]);
        assert_eq!(walk(&g, 9, &[5]), vec![9]);
        // The same through an octopus merge: its third parent is followed too.
        let g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[1]),
            (4, 40, &[1]),
            (6, 45, &[2, 3, 4]),
            (5, 5, &[6]),
            (9, 50, &[6]),
        ]);
        assert_eq!(walk(&g, 9, &[5]), vec![9]);
    }

    #[test]
    fn stops_without_reading_old_history() {
        // A long history below the excluded tag: the walk must not read it.
        let edges: Vec<(u8, i64, Vec<u8>)> = (1..=200u8)
            .map(|n| {
                (
                    n,
                    i64::from(n) * 10,
                    if n > 1 { vec![n - 1] } else { vec![] },
                )
            })
            .collect();
        let g: HashMap<Oid, (i64, Vec<Oid>)> = edges
            .iter()
            .map(|(n, t, ps)| (oid(*n), (*t, ps.iter().map(|p| oid(*p)).collect())))
            .collect();
        let (found, reads) = walk_counting(&g, 200, &[195]);
        assert_eq!(found, vec![200, 199, 198, 197, 196]);
        assert!(reads <= 5 + 1 + SLOP as usize + 1, "read {reads} commits");
    }

    #[test]
    fn the_graph_keeps_each_commits_tree_and_parents_in_order_missing_ones_included() {
        // An octopus merge 9 of 4, 3 and 7, where 7 is missing (a shallow clone's
        // boundary); 4 and 3 share the missing parent 1.
        let g = graph(&[(3, 30, &[1]), (4, 40, &[1]), (9, 90, &[4, 3, 7])]);
        let mut reads = 0;
        let graph = super::graph::<()>(
            &[oid(9)],
            &[],
            |_| false,
            |o, _| {
                reads += 1;
                Ok(visit_of(&g, o))
            },
            || {},
        )
        .unwrap();
        // Each commit read once, the missing ones too.
        assert_eq!((reads, graph.touched()), (5, 5));
        let name = |i: u32| graph.oid(i).as_bytes()[19];
        assert_eq!(
            graph.found.iter().map(|&i| name(i)).collect::<Vec<_>>(),
            [9, 4, 3]
        );
        let at = |n: u8| graph.find(&oid(n)).unwrap();
        let parents = |n: u8| graph.parents(at(n)).map(name).collect::<Vec<_>>();
        assert_eq!(parents(9), [4, 3, 7]);
        assert_eq!((parents(4), parents(3)), (vec![1], vec![1]));
        assert_eq!(graph.tree(at(9)), oid(109));
        assert_eq!(graph.tree(at(7)), Oid::ZERO_SHA1);
        assert_eq!(graph.find(&oid(8)), None);
    }

    /// The commits found when the base is the first commit `is_base` accepts, and the
    /// base, by name; and the same range walked with that base excluded from the start.
    fn walk_to_base(
        g: &HashMap<Oid, (i64, Vec<Oid>)>,
        include: u8,
        bases: &[u8],
    ) -> (Vec<u8>, Option<u8>) {
        let read = |o: Oid, _| Ok::<_, ()>(visit_of(g, o));
        let is_base = |o: Oid| bases.contains(&o.as_bytes()[19]);
        let graph = super::graph(&[oid(include)], &[], is_base, read, || {}).unwrap();
        let found: Vec<u8> = graph
            .found
            .iter()
            .map(|&i| graph.oid(i).as_bytes()[19])
            .collect();
        let base = graph.base.map(|i| graph.oid(i).as_bytes()[19]);
        let exclude: Vec<Oid> = base.iter().map(|&n| oid(n)).collect();
        let excluded = limited(&[oid(include)], &exclude, read, || {}).unwrap();
        let excluded: Vec<u8> = excluded.iter().map(|o| o.as_bytes()[19]).collect();
        assert_eq!(found, excluded, "one walk and two walks differ");
        (found, base)
    }

    #[test]
    fn the_base_is_the_newest_accepted_commit_and_the_range_stops_there() {
        // 1 - 2(tag) - 3 - 6(merge of 5) - 7 ; 1 - 4 - 5: a branch started before the
        // release at 2 and merged after it brings 4 and 5, not 1.
        let g = graph(&[
            (1, 10, &[]),
            (2, 20, &[1]),
            (3, 30, &[2]),
            (4, 15, &[1]),
            (5, 25, &[4]),
            (6, 60, &[3, 5]),
            (7, 70, &[6]),
        ]);
        assert_eq!(walk_to_base(&g, 7, &[2]), (vec![7, 6, 3, 5, 4], Some(2)));
        // The newest of two tags is the base; the older one is then below it.
        assert_eq!(walk_to_base(&g, 7, &[1, 3]), (vec![7, 6, 5, 4], Some(3)));
        // No tag reachable: everything.
        assert_eq!(walk_to_base(&g, 7, &[9]), (vec![7, 6, 3, 5, 2, 4, 1], None));
        // The tip itself tagged: nothing.
        assert_eq!(walk_to_base(&g, 7, &[7]), (vec![], Some(7)));
        // A skewed clock: 8 is dated after the tag 2 but is its parent, and 9 reaches
        // it directly too, so it is found first and must be dropped once the tag is.
        let g = graph(&[(1, 10, &[]), (8, 50, &[1]), (2, 40, &[8]), (9, 60, &[2, 8])]);
        assert_eq!(walk_to_base(&g, 9, &[2]), (vec![9], Some(2)));
    }

    #[test]
    fn missing_commits_are_boundaries() {
        // A shallow clone: 2's parent 1 is not in the graph.
        let g = graph(&[(2, 20, &[1]), (3, 30, &[2])]);
        assert_eq!(walk(&g, 3, &[]), vec![3, 2]);
    }
}
