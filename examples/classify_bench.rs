//! Parsing + classifying 100,000 commit messages, for BENCHMARKS.md ("Classification").
//!
//!     cargo run --release --example classify_bench [COUNT]
//!
//! The messages are generated (deterministically) in the shapes real histories have:
//! conventional headers with bodies and footers, squash subjects, merges of pull
//! requests, reverts, fixups, dependency bots and plain prose.

use std::time::Instant;

use relplan::commits::{classify, CommitsConfig};
use relplan::git::Commit;

fn message(i: usize) -> String {
    let kinds = [
        "feat", "fix", "docs", "chore", "refactor", "perf", "test", "ci", "build",
    ];
    let scopes = ["api", "cli", "parser", "deps", "auth", "ui"];
    let kind = kinds[i % kinds.len()];
    let scope = scopes[(i / 7) % scopes.len()];
    match i % 10 {
        0 => format!("Update the {scope} module\n\nSome prose about change {i}.\n"),
        1 => format!(
            "{kind}({scope}): change number {i} (#{})\n\n* squashed commit one\n* squashed commit two\n\nCo-authored-by: Grace Hopper <grace@example.com>\n",
            i % 5000
        ),
        2 => format!(
            "Merge pull request #{} from octo/{scope}-{i}\n\n{kind}({scope}): pull request {i}\n",
            i % 5000
        ),
        3 => format!(
            "Revert \"{kind}({scope}): plain change {}\"\n\nThis reverts commit {}.\n",
            i.saturating_sub(6),
            fake_id(i.saturating_sub(6))
        ),
        4 => format!("fixup! {kind}({scope}): change number {}", i - 3),
        5 => format!("Bump serde from 1.0.{i} to 1.0.{}", i + 1),
        6 => format!(
            "{kind}({scope})!: breaking change {i}\r\n\r\nLong body line explaining the change in detail.\r\n\r\nBREAKING CHANGE: the {scope} option is renamed.\r\nRefs: #{i}\r\n"
        ),
        _ => format!("{kind}: plain change {i}\n\nBody paragraph one.\n\nBody paragraph two.\n\nSigned-off-by: Ada <ada@example.com>\n"),
    }
}

/// A commit id as random-looking as git's (ids of real commits share no prefixes).
fn fake_id(i: usize) -> String {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut id = String::with_capacity(40);
    while id.len() < 40 {
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        id.push_str(&format!("{x:016x}"));
    }
    id.truncate(40);
    id
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let commits: Vec<Commit> = (0..count)
        .map(|i| Commit {
            oid: git2::Oid::ZERO_SHA1,
            id: fake_id(count - i).into(),
            message: message(count - i),
            author: "Ada Lovelace".into(),
            author_email: "ada@example.com".into(),
            time: 1_780_000_000 + (count - i) as i64,
            parent_count: if (count - i) % 10 == 2 { 2 } else { 1 },
            tree: git2::Oid::ZERO_SHA1,
            parents: Default::default(),
        })
        .collect();
    let bytes: usize = commits.iter().map(|c| c.message.len()).sum();
    let config = CommitsConfig::default();
    // Warm-up (regex compilation), then the best of three runs.
    let _ = classify(&commits[..commits.len().min(1000)], &config);
    let mut best = f64::MAX;
    let mut changes = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        changes = classify(&commits, &config);
        best = best.min(started.elapsed().as_secs_f64());
    }
    let mut counts = std::collections::BTreeMap::new();
    for c in &changes {
        *counts
            .entry(c.category().as_str().to_string())
            .or_insert(0usize) += 1;
    }
    println!(
        "{count} messages ({:.1} MB) parsed and classified in {:.3} s (best of 3): {:.0} messages/s",
        bytes as f64 / 1e6,
        best,
        count as f64 / best
    );
    println!("categories: {counts:?}");
}
