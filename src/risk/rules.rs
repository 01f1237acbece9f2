//! From signals to risks: the built-in rules (one per signal, raised only when the
//! signal is present) and the `[[risk.rules]]` a team adds. Each rule states its
//! probability and impact and why; severity always comes from the matrix.

use regex::Regex;

use super::signals::{ships, CommitRef, PathHit, Signals};
use super::{
    severity, CommitId, GoNoGo, Impact, Level, Probability, ProbabilityLevel, Risk, RiskConfig,
    RiskInput,
};
use crate::config::glob_set;

/// A risk's evidence as it is shown: the first `cap` lines written, the rest only
/// counted ("and N more"). A long range cites hundreds of thousands of commits for
/// a risk that shows five of them (a million-commit plan's features: 250,000 lines,
/// 20 MiB formatted to be dropped).
struct Evidence {
    lines: Vec<String>,
    cap: usize,
    more: usize,
}

impl Evidence {
    fn new(cap: usize) -> Evidence {
        Evidence {
            lines: Vec::new(),
            cap,
            more: 0,
        }
    }

    /// `lines`, written up to the cap.
    fn of(lines: impl Iterator<Item = String>, cap: usize) -> Evidence {
        let mut evidence = Evidence::new(cap);
        evidence.extend(lines);
        evidence
    }

    fn push(&mut self, line: String) {
        self.extend(std::iter::once(line));
    }

    /// Lines past the cap are counted, and not made at all when the iterator knows
    /// how many are left.
    fn extend(&mut self, mut lines: impl Iterator<Item = String>) {
        while self.lines.len() < self.cap {
            match lines.next() {
                Some(line) => self.lines.push(line),
                None => return,
            }
        }
        self.more += match lines.size_hint() {
            (low, Some(high)) if low == high => low,
            _ => lines.count(),
        };
    }

    fn into_lines(mut self) -> Vec<String> {
        if self.more > 0 {
            self.lines.push(format!("and {} more", self.more));
        }
        self.lines
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn gate(milestone: &str, item: impl Into<String>) -> GoNoGo {
    GoNoGo {
        milestone: milestone.into(),
        item: item.into(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A risk under construction: the parts every rule fills in.
struct Draft {
    key: &'static str,
    title: String,
    description: &'static str,
    probability: ProbabilityLevel,
    impact: Impact,
    rationale: String,
    evidence: Evidence,
    commits: Vec<CommitId>,
    files: Vec<String>,
    mitigations: Vec<String>,
    contingency: Vec<String>,
    go_no_go: Vec<GoNoGo>,
}

impl Draft {
    fn finish(self, config: &RiskConfig) -> Risk {
        let mut commits = self.commits;
        commits.sort();
        commits.dedup();
        let mut files = self.files;
        files.sort();
        files.dedup();
        Risk {
            key: self.key.to_string(),
            title: self.title,
            description: self.description.to_string(),
            probability: Probability {
                level: self.probability,
                percent: config.probabilities.of(self.probability),
            },
            impact: self.impact,
            severity: severity(self.probability, self.impact),
            rationale: self.rationale,
            evidence: self.evidence.into_lines(),
            commits: commits.into(),
            files,
            mitigations: self.mitigations,
            contingency: self.contingency,
            go_no_go: self.go_no_go,
        }
    }
}

fn ids(refs: &[CommitRef]) -> Vec<CommitId> {
    refs.iter().map(CommitRef::commit_id).collect()
}

fn hit_ids(hits: &[PathHit]) -> Vec<CommitId> {
    hits.iter()
        .flat_map(|h| h.commits.iter().map(CommitRef::commit_id))
        .collect()
}

fn hit_paths(hits: &[PathHit]) -> Vec<String> {
    hits.iter().map(|h| h.path.clone()).collect()
}

/// The built-in risks, in a fixed order, each raised only when its signal is present.
pub fn builtin(s: &Signals, config: &RiskConfig) -> Vec<Risk> {
    let t = &config.thresholds;
    let cap = config.evidence_cap;
    let mut drafts: Vec<Draft> = Vec::new();

    // Database migrations.
    if !s.migrations.is_empty() {
        let destructive: Vec<_> = s.migrations.iter().filter(|m| m.destructive).collect();
        let backfills = s.migrations.iter().filter(|m| m.backfill).count();
        let n = s.migrations.len();
        let probability = if !destructive.is_empty() && n >= t.many_migrations {
            ProbabilityLevel::High
        } else if !destructive.is_empty() || n >= t.many_migrations {
            ProbabilityLevel::Medium
        } else {
            ProbabilityLevel::Low
        };
        let impact = if destructive.is_empty() {
            Level::High
        } else {
            Level::Critical
        };
        let mut evidence = Evidence::new(cap);
        // Destructive statements first, then backfills, then the other migration files.
        for want_destructive in [true, false] {
            for m in &s.migrations {
                for f in m
                    .findings
                    .iter()
                    .filter(|f| f.destructive == want_destructive)
                {
                    let by = m.commits.first().map(|c| c.line()).unwrap_or_default();
                    evidence.push(format!(
                        "`{}:{}` {}: `{}` ({by})",
                        m.path, f.line, f.kind, f.text
                    ));
                }
            }
        }
        for m in &s.migrations {
            if m.findings.is_empty() {
                let ids: Vec<String> = m
                    .commits
                    .iter()
                    .map(|c| format!("`{}`", c.short_id()))
                    .collect();
                evidence.push(format!(
                    "`{}` {} in {}",
                    m.path,
                    if m.read { "(additive)" } else { "(not read)" },
                    ids.join(", ")
                ));
            }
        }
        let mut rationale = format!(
            "{} changed; {} destructive",
            plural(n, "migration file", "migration files"),
            plural(destructive.len(), "is", "are")
        );
        if backfills > 0 {
            rationale.push_str(&format!(
                ", {} data",
                plural(backfills, "file rewrites", "files rewrite")
            ));
        }
        rationale.push_str(&format!(
            ". Probability is {probability:?}: {}. Impact is {impact:?}: {}.",
            match probability {
                ProbabilityLevel::High => format!(
                    "destructive statements among {n} migrations (threshold {})",
                    t.many_migrations
                ),
                ProbabilityLevel::Medium if destructive.is_empty() => format!(
                    "{n} migrations reach the threshold of {}",
                    t.many_migrations
                ),
                ProbabilityLevel::Medium => "a destructive statement is present".into(),
                ProbabilityLevel::Low => format!(
                    "additive changes only, below the threshold of {} migrations",
                    t.many_migrations
                ),
            },
            if destructive.is_empty() {
                "a failed schema change means downtime"
            } else {
                "a destructive statement cannot be undone by redeploying the old code: only a restore from backup brings the data back"
            }
        ));
        let mut mitigations = strings(&[
            "Run every migration on staging against a recent, production-sized copy of the data and time it",
            "Take a full database backup right before migrating, and verify it restores",
            "Ship schema changes backward-compatible (expand first): the previous release must keep working on the new schema",
            "Migrate in the lowest-traffic window with the DBA on hand",
        ]);
        let mut contingency = strings(&[
            "If the migration overruns its window: stop, roll back the application and reschedule",
            "If data is damaged: restore from the pre-migration backup and postpone the release",
        ]);
        let mut go_no_go = vec![
            gate(
                "staging",
                "Migrations ran cleanly on staging with production-sized data",
            ),
            gate(
                "approval",
                "Pre-migration backup procedure and restore rehearsed",
            ),
            gate("release", "DBA available for the whole deployment window"),
        ];
        if !destructive.is_empty() {
            mitigations.insert(
                0,
                "Move the destructive statements to a later release (contract step), once no running code reads the dropped data".into(),
            );
            contingency.insert(
                0,
                "Destructive statements have no down-migration: rolling back means restoring the backup, losing writes made since".into(),
            );
            go_no_go.push(gate(
                "approval",
                "Data owners accepted that the destructive statements cannot be rolled back without a restore",
            ));
        }
        let files = s.migrations.iter().map(|m| m.path.clone()).collect();
        let commits = s
            .migrations
            .iter()
            .flat_map(|m| m.commits.iter().map(CommitRef::commit_id))
            .collect::<Vec<CommitId>>();
        drafts.push(Draft {
            key: "migrations",
            title: if destructive.is_empty() {
                "Database schema changes".into()
            } else {
                "Destructive database migration".into()
            },
            description: "A migration that fails or cannot be reversed turns a rollback into downtime or data loss.",
            probability,
            impact,
            rationale,
            evidence,
            commits,
            files,
            mitigations,
            contingency,
            go_no_go,
        });
    }

    // Breaking changes.
    if !s.breaking.is_empty() {
        let n = s.breaking.len();
        let impact = if n >= t.many_breaking {
            Level::High
        } else {
            Level::Medium
        };
        drafts.push(Draft {
            key: "breaking-changes",
            title: "Breaking changes for existing users".into(),
            description: "Clients, integrations or scripts built against the previous release stop working until they adapt.",
            probability: ProbabilityLevel::High,
            impact,
            rationale: format!(
                "{} marked breaking: someone relying on the old behaviour will be affected (High). Impact is {impact:?}: {n} against the threshold of {}.",
                plural(n, "commit is", "commits are"),
                t.many_breaking
            ),
            evidence: Evidence::of(s.breaking.iter().map(CommitRef::line), cap),
            commits: ids(&s.breaking),
            files: Vec::new(),
            mitigations: strings(&[
                "Publish migration notes with the release (scope.md lists each change with its note)",
                "Tell API consumers and integrators before release day",
                "Keep the old behaviour available behind a version or deprecation period where possible",
            ]),
            contingency: strings(&[
                "If key clients break: roll back, then re-release with a compatibility path",
            ]),
            go_no_go: vec![
                gate("uat", "Each breaking change has a migration note reviewed by its owner"),
                gate("approval", "Affected consumers notified of the breaking changes"),
            ],
        });
    }

    // Dependencies.
    if !s.dependency_files.is_empty() || !s.dependency_commits.is_empty() {
        let entries = s.dependency_changes.len();
        let majors: Vec<_> = s.dependency_changes.iter().filter(|c| c.major).collect();
        let probability = if entries >= 2 * t.many_dependencies {
            ProbabilityLevel::High
        } else if entries >= t.many_dependencies || !majors.is_empty() {
            ProbabilityLevel::Medium
        } else {
            ProbabilityLevel::Low
        };
        let mut evidence = Evidence::new(cap);
        if !s.lockfiles_counted.is_empty() {
            evidence.push(format!(
                "{} changed in {} ({} major)",
                plural(entries, "dependency entry", "dependency entries"),
                s.lockfiles_counted
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                majors.len()
            ));
        }
        evidence.extend(majors.iter().map(|c| c.describe()));
        evidence.extend(s.dependency_commits.iter().map(CommitRef::line));
        evidence.extend(s.dependency_files.iter().map(PathHit::line));
        evidence.extend(
            s.dependency_changes
                .iter()
                .filter(|c| !c.major)
                .map(|c| c.describe()),
        );
        let mut commits = ids(&s.dependency_commits);
        commits.extend(hit_ids(&s.dependency_files));
        drafts.push(Draft {
            key: "dependencies",
            title: "Dependency updates".into(),
            description: "Updated libraries can change behaviour or introduce incompatibilities the project's own diff does not show.",
            probability,
            impact: Level::Medium,
            rationale: format!(
                "{} and {}; {} counted in lockfiles, {} (Medium from {} entries or any major upgrade, High from {}).",
                plural(s.dependency_files.len(), "manifest or lockfile changed", "manifests or lockfiles changed"),
                plural(s.dependency_commits.len(), "deps commit", "deps commits"),
                plural(entries, "changed entry", "changed entries"),
                plural(majors.len(), "major upgrade", "major upgrades"),
                t.many_dependencies,
                2 * t.many_dependencies
            ),
            evidence,
            commits,
            files: hit_paths(&s.dependency_files),
            mitigations: strings(&[
                "Run the full regression suite on the updated dependencies",
                "Read the changelogs of major upgrades for behaviour changes",
                "Run the ecosystem's vulnerability audit (cargo audit, npm audit, ...) on the new lockfiles",
            ]),
            contingency: strings(&["Pin the offending dependency back to its previous version and re-release"]),
            go_no_go: vec![gate("qa", "Regression suite green on the updated dependencies")],
        });
    }

    // Infrastructure and deployment configuration.
    if !s.infrastructure.is_empty() {
        let n = s.infrastructure.len();
        let probability = if n >= t.many_infrastructure {
            ProbabilityLevel::Medium
        } else {
            ProbabilityLevel::Low
        };
        drafts.push(Draft {
            key: "infrastructure",
            title: "Infrastructure and deployment configuration changes".into(),
            description: "Changes to images, manifests, pipelines or environment config can break the deployment itself, not just the code.",
            probability,
            impact: Level::High,
            rationale: format!(
                "{} changed (Medium from {}); a broken deployment affects every user (High impact).",
                plural(n, "infrastructure file", "infrastructure files"),
                t.many_infrastructure
            ),
            evidence: Evidence::of(s.infrastructure.iter().map(PathHit::line), cap),
            commits: hit_ids(&s.infrastructure),
            files: hit_paths(&s.infrastructure),
            mitigations: strings(&[
                "Apply the infrastructure changes to staging with the same tooling first",
                "Review the planned diff (terraform plan, helm diff, kubectl diff) before applying",
                "Keep the previous images and manifests ready to re-apply",
            ]),
            contingency: strings(&["Re-apply the previous release's images and manifests"]),
            go_no_go: vec![gate(
                "staging",
                "Infrastructure changes applied on staging with the production tooling",
            )],
        });
    }

    // Security.
    if !s.security_commits.is_empty() || !s.advisories.is_empty() || !s.security_files.is_empty() {
        let mut evidence = Evidence::of(
            s.advisories
                .iter()
                .map(|a| format!("{} referenced by {}", a.id, a.commit.line())),
            cap,
        );
        evidence.extend(s.security_commits.iter().map(CommitRef::line));
        evidence.extend(s.security_files.iter().map(PathHit::line));
        let mut commits = ids(&s.security_commits);
        commits.extend(s.advisories.iter().map(|a| a.commit.commit_id()));
        commits.extend(hit_ids(&s.security_files));
        let probability = if s.security_files.is_empty() {
            ProbabilityLevel::Low
        } else {
            ProbabilityLevel::Medium
        };
        let mut go_no_go = vec![gate(
            "approval",
            "Security review of the listed changes signed off",
        )];
        if !s.advisories.is_empty() {
            go_no_go.push(gate(
                "release",
                "Advisory publication timed after the fixed release is available",
            ));
        }
        drafts.push(Draft {
            key: "security",
            title: "Security-sensitive changes".into(),
            description: "Changes to authentication, authorisation or cryptography can lock users out or open a hole; security fixes must be complete.",
            probability,
            impact: Level::High,
            rationale: format!(
                "{}, {} and {} under security paths (Medium when security paths changed); a security defect has High impact.",
                plural(s.security_commits.len(), "security commit", "security commits"),
                plural(s.advisories.len(), "advisory reference", "advisory references"),
                plural(s.security_files.len(), "file", "files")
            ),
            evidence,
            commits,
            files: hit_paths(&s.security_files),
            mitigations: strings(&[
                "Have the security owner review the listed commits",
                "Test sign-in, sessions and permission checks end to end on staging",
                "For advisories: keep details private until the fixed release is out",
            ]),
            contingency: strings(&[
                "If users are locked out or access is wrong: roll back immediately (immediate trigger)",
            ]),
            go_no_go,
        });
    }

    // Performance.
    if !s.performance_commits.is_empty() || !s.hot_files.is_empty() {
        let probability = if s.hot_files.is_empty() {
            ProbabilityLevel::Low
        } else {
            ProbabilityLevel::Medium
        };
        let mut evidence = Evidence::of(s.performance_commits.iter().map(CommitRef::line), cap);
        evidence.extend(s.hot_files.iter().map(PathHit::line));
        let mut commits = ids(&s.performance_commits);
        commits.extend(hit_ids(&s.hot_files));
        drafts.push(Draft {
            key: "performance",
            title: "Performance regression".into(),
            description:
                "Changes to performance-sensitive code can slow the service down under real load.",
            probability,
            impact: Level::Medium,
            rationale: format!(
                "{} and {} in configured hot paths (Medium when hot paths changed).",
                plural(s.performance_commits.len(), "perf commit", "perf commits"),
                plural(s.hot_files.len(), "file", "files")
            ),
            evidence,
            commits,
            files: hit_paths(&s.hot_files),
            mitigations: strings(&[
                "Load-test the release on staging against the current baseline",
                "Watch P99 latency and throughput during the rollout",
            ]),
            contingency: strings(&["If P99 latency passes the rollback threshold: roll back"]),
            go_no_go: vec![gate(
                "staging",
                "Load test within the promotion latency budget",
            )],
        });
    }

    // Size and spread.
    let lines = s.insertions + s.deletions;
    let large = s.files >= t.large_files || lines >= t.large_lines;
    let wide = s.areas.len() >= t.wide_areas;
    if large || wide {
        let probability = if s.files >= 2 * t.large_files || lines >= 2 * t.large_lines {
            ProbabilityLevel::High
        } else {
            ProbabilityLevel::Medium
        };
        drafts.push(Draft {
            key: "size",
            title: "Large, wide-reaching change set".into(),
            description: "The more a release changes, the more it can break in ways no single review saw.",
            probability,
            impact: Level::Medium,
            rationale: format!(
                "{} files and {} lines changed, {} areas touched (thresholds: {} files, {} lines, {} areas; High from twice the file or line threshold).",
                s.files, lines, s.areas.len(), t.large_files, t.large_lines, t.wide_areas
            ),
            evidence: Evidence::of(
                [
                    format!(
                        "{} files changed, +{} / -{} lines, by {} across {} commits",
                        s.files,
                        s.insertions,
                        s.deletions,
                        plural(s.authors, "author", "authors"),
                        s.shipping_commits
                    ),
                    format!("{} areas: {}", s.areas.len(), s.areas.join(", ")),
                ]
                .into_iter(),
                cap,
            ),
            commits: Vec::new(),
            files: Vec::new(),
            mitigations: strings(&[
                "Give QA the full regression pass, not a targeted one",
                "Release in stages so problems surface on a small share of traffic",
            ]),
            contingency: strings(&["Roll back the whole release rather than hot-fixing forward"]),
            go_no_go: vec![gate("qa", "Full regression pass completed")],
        });
    }

    // Many user-facing changes.
    if s.features.len() >= t.many_features {
        drafts.push(Draft {
            key: "features",
            title: "Many user-facing changes at once".into(),
            description: "Users meet many new behaviours at once; support load and confusion rise, and defects hide among them.",
            probability: ProbabilityLevel::Medium,
            impact: Level::Medium,
            rationale: format!(
                "{} in this release (threshold {}).",
                plural(s.features.len(), "feature commit", "feature commits"),
                t.many_features
            ),
            evidence: Evidence::of(s.features.iter().map(CommitRef::line), cap),
            commits: ids(&s.features),
            files: Vec::new(),
            mitigations: strings(&[
                "Brief support on the new features before release day",
                "Expose the features gradually (canary or flags)",
            ]),
            contingency: strings(&["Disable the feature by flag if it has one; otherwise roll back"]),
            go_no_go: vec![gate("uat", "Product signed off every new feature on staging")],
        });
    }

    // Churn: reverts and fixups.
    if !s.reverts.is_empty() || !s.fixups.is_empty() {
        let mut evidence = Evidence::of(s.reverts.iter().map(CommitRef::line), cap);
        evidence.extend(s.fixups.iter().map(CommitRef::line));
        let mut commits = ids(&s.reverts);
        commits.extend(ids(&s.fixups));
        drafts.push(Draft {
            key: "churn",
            title: "Reverts and fixups in the range".into(),
            description: "Work that was reverted or patched up during the cycle points at areas that were hard to get right.",
            probability: ProbabilityLevel::Low,
            impact: Level::Medium,
            rationale: format!(
                "{} and {} in the range.",
                plural(s.reverts.len(), "revert", "reverts"),
                plural(s.fixups.len(), "fixup", "fixups")
            ),
            evidence,
            commits,
            files: Vec::new(),
            mitigations: strings(&["Re-test the areas the reverted and fixed-up commits touched"]),
            contingency: strings(&["Roll back if the reverted behaviour resurfaces"]),
            go_no_go: vec![gate("qa", "Reverted and fixed-up areas re-tested")],
        });
    }

    // Unclassified commits.
    if !s.unclassified.is_empty() && s.unclassified_percent >= t.unclassified_percent {
        drafts.push(Draft {
            key: "unclassified",
            title: "Changes without a clear description".into(),
            description: "Commits that do not say what they change may hide behaviour changes nobody planned for.",
            probability: ProbabilityLevel::Low,
            impact: Level::Medium,
            rationale: format!(
                "{} of {} shipping commits ({}%) do not follow Conventional Commits (threshold {}%).",
                s.unclassified.len(),
                s.shipping_commits,
                s.unclassified_percent,
                t.unclassified_percent
            ),
            evidence: Evidence::of(s.unclassified.iter().map(CommitRef::line), cap),
            commits: ids(&s.unclassified),
            files: Vec::new(),
            mitigations: strings(&["Review each unclassified commit and place it in scope.md by hand"]),
            contingency: strings(&["Roll back if an unplanned behaviour change reaches users"]),
            go_no_go: vec![gate("code-freeze", "Every unclassified commit reviewed and placed")],
        });
    }

    drafts.into_iter().map(|d| d.finish(config)).collect()
}

/// Risks from `[[risk.rules]]`: raised when at least one shipping commit satisfies
/// every matcher the rule gives.
pub fn custom(input: &RiskInput<'_>, config: &RiskConfig) -> Vec<Risk> {
    let mut risks = Vec::new();
    for rule in &config.rules {
        let m = &rule.matcher;
        let paths = glob_set("", &m.paths).ok();
        let regex = m.commits.as_deref().and_then(|re| Regex::new(re).ok());
        let mut evidence = Evidence::new(config.evidence_cap);
        let mut commits = Vec::new();
        let mut files = Vec::new();
        for (i, change) in input.changes.iter().enumerate().filter(|(_, c)| ships(c)) {
            let mut matched_files = Vec::new();
            if !m.paths.is_empty() {
                let Some(set) = &paths else { continue };
                if let Some(Ok(changed)) = input.paths.get(i) {
                    matched_files = changed
                        .iter()
                        .filter(|p| set.is_match(p.path))
                        .map(|p| p.path.to_string())
                        .collect();
                }
                if matched_files.is_empty() {
                    continue;
                }
            }
            if let Some(re) = &regex {
                if !re.is_match(input.message(change)) {
                    continue;
                }
            } else if m.commits.is_some() {
                continue;
            }
            if !m.categories.is_empty()
                && !m
                    .categories
                    .iter()
                    .any(|c| c == change.category_name() || (c == "breaking" && change.breaking()))
            {
                continue;
            }
            if !m.labels.is_empty() {
                let labels = input.labels.get(change.id());
                if !labels.is_some_and(|l| l.iter().any(|x| m.labels.contains(x))) {
                    continue;
                }
            }
            let line = CommitRef::of(change).line();
            if matched_files.is_empty() {
                evidence.push(line);
            } else {
                evidence.push(format!(
                    "{line}: {}",
                    matched_files
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            commits.push(CommitId::Change(change.clone()));
            files.extend(matched_files);
        }
        if commits.is_empty() {
            continue;
        }
        let mut matched_by = Vec::new();
        if !m.paths.is_empty() {
            matched_by.push(format!("paths {}", m.paths.join(", ")));
        }
        if let Some(re) = &m.commits {
            matched_by.push(format!("commit message /{re}/"));
        }
        if !m.categories.is_empty() {
            matched_by.push(format!("categories {}", m.categories.join(", ")));
        }
        if !m.labels.is_empty() {
            matched_by.push(format!("labels {}", m.labels.join(", ")));
        }
        let n = commits.len();
        let draft = Draft {
            key: "rule",
            title: rule.name.clone(),
            description: "A risk your team declared in .relplan.toml.",
            probability: rule.probability,
            impact: rule.impact,
            rationale: format!(
                "custom rule: {} matched {} ({:?} probability and {:?} impact as configured).",
                matched_by.join(" and "),
                plural(n, "commit", "commits"),
                rule.probability,
                rule.impact
            ),
            evidence,
            commits,
            files,
            mitigations: rule.mitigations.clone(),
            contingency: rule.contingency.clone(),
            go_no_go: rule
                .go_no_go
                .iter()
                .map(|item| gate("approval", item.clone()))
                .collect(),
        };
        let mut risk = draft.finish(config);
        risk.key = format!("rule:{}", rule.name);
        risks.push(risk);
    }
    risks
}

/// One risk per pull request labelled `risk:<level>`: the label sets the severity
/// (Medium probability, the label's level as impact, which the matrix maps back
/// to that level), and the pull request is the evidence.
pub fn labelled(input: &RiskInput<'_>, config: &RiskConfig) -> Vec<Risk> {
    input
        .labelled
        .iter()
        .map(|pr| {
            let mut evidence = Evidence::new(config.evidence_cap);
            evidence.push(format!("pull request #{}: {}", pr.number, pr.title));
            evidence.extend(
                input
                    .changes
                    .iter()
                    .filter(|c| pr.commits.iter().any(|id| id == c.id()))
                    .map(|c| CommitRef::of(c).line()),
            );
            let files = input
                .commit_paths()
                .filter(|(c, _)| pr.commits.iter().any(|id| id == c.id()))
                .flat_map(|(_, paths)| paths.iter().map(|p| p.path.to_string()))
                .collect();
            let draft = Draft {
                key: "label",
                title: format!("Pull request #{} is labelled {}", pr.number, pr.label),
                description: "A reviewer marked this pull request as risky.",
                probability: ProbabilityLevel::Medium,
                impact: pr.level,
                rationale: format!(
                    "the label `{}` on pull request #{} sets the impact to {:?}.",
                    pr.label, pr.number, pr.level
                ),
                evidence,
                commits: pr
                    .commits
                    .iter()
                    .map(|c| CommitId::Text(c.as_str().into()))
                    .collect(),
                files,
                mitigations: vec![format!(
                    "Ask the author of #{} what to watch after the release, and add it to the monitoring plan",
                    pr.number
                )],
                contingency: vec![format!(
                    "If #{} misbehaves in production, roll back or disable it first",
                    pr.number
                )],
                go_no_go: vec![gate(
                    "approval",
                    format!("The risk of pull request #{} was reviewed and accepted", pr.number),
                )],
            };
            let mut risk = draft.finish(config);
            risk.key = format!("label:{}", pr.number);
            risk
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    use std::collections::BTreeMap;

    use crate::commits::{Category, Change, ChangeFields};
    use crate::git::{DiffTotals, PathChange, PathLists};
    use crate::risk::{FileTexts, RuleConfig, RuleMatch};

    pub(crate) fn change(id: &str, summary: &str, category: Category) -> Change {
        fields(id, summary, category).into()
    }

    pub(crate) fn fields(id: &str, summary: &str, category: Category) -> ChangeFields {
        ChangeFields {
            id: id.into(),
            summary: summary.into(),
            conventional: true,
            kind: None,
            scope: None,
            breaking: false,
            description: None,
            category,
            pr: None,
            authors: vec!["Ada".into()],
            short_id: id.chars().take(7).collect(),
            breaking_note: None,
            time: 0,
            subject: "".into(),
            classified_by: "type",
            note: None,
        }
    }

    #[test]
    fn custom_rules_match_labels_paths_and_messages_together() {
        let changes = vec![
            change("aaaaaaa1", "feat: new billing page", Category::Features),
            change("bbbbbbb2", "fix: billing rounding", Category::Fixes),
        ];
        let commit_paths = PathLists::from(vec![
            Ok(vec![PathChange {
                status: 'A',
                path: "src/billing/page.rs".into(),
            }]),
            Ok(vec![PathChange {
                status: 'M',
                path: "src/billing/round.rs".into(),
            }]),
        ]);
        let mut labels = BTreeMap::new();
        labels.insert("bbbbbbb2".to_string(), vec!["risky".to_string()]);
        let messages = BTreeMap::new();
        let texts = FileTexts::default();
        let totals = DiffTotals::default();
        let input = RiskInput {
            changes: &changes,
            paths: &commit_paths,
            totals: &totals,
            texts: &texts,
            labels: &labels,
            messages: &messages,
            messages_filtered: false,
            flags: &[],
            labelled: &[],
        };
        let rule = |name: &str, matcher: RuleMatch| RuleConfig {
            name: name.into(),
            matcher,
            probability: ProbabilityLevel::Low,
            impact: Level::High,
            mitigations: Vec::new(),
            contingency: Vec::new(),
            go_no_go: Vec::new(),
        };
        let config = RiskConfig {
            rules: vec![
                rule(
                    "labelled billing",
                    RuleMatch {
                        paths: vec!["src/billing/**".into()],
                        labels: vec!["risky".into()],
                        ..RuleMatch::default()
                    },
                ),
                rule(
                    "rounding",
                    RuleMatch {
                        commits: Some("(?i)ROUNDING".into()),
                        categories: vec!["features".into()],
                        ..RuleMatch::default()
                    },
                ),
            ],
            ..RiskConfig::default()
        };
        let risks = custom(&input, &config);
        assert_eq!(
            risks.len(),
            1,
            "the rounding commit is a fix, not a feature"
        );
        assert_eq!(risks[0].key, "rule:labelled billing");
        let ids: Vec<&str> = risks[0].commits.iter().map(|c| c.as_str()).collect();
        assert_eq!(ids, ["bbbbbbb2"]);
        assert_eq!(risks[0].files, vec!["src/billing/round.rs"]);
        assert_eq!(risks[0].severity, Level::Medium);
    }

    #[test]
    fn evidence_is_capped_with_a_count_of_the_rest() {
        let made = std::cell::Cell::new(0);
        let line = |i: usize| {
            made.set(made.get() + 1);
            format!("line {i}")
        };
        let mut evidence = Evidence::of((1..=7).map(line), 5);
        assert_eq!(made.get(), 5, "lines past the cap are counted, not made");
        // Lists added past the cap are counted too, of unknown length or one line.
        evidence.extend((1..=9).filter(|i| i % 3 == 0).map(|i| format!("x {i}")));
        evidence.push("last".into());
        assert_eq!(
            evidence.into_lines(),
            vec![
                "line 1",
                "line 2",
                "line 3",
                "line 4",
                "line 5",
                "and 6 more"
            ]
        );
        let five = Evidence::of((1..=5).map(|i| format!("line {i}")), 5);
        assert_eq!(five.into_lines().len(), 5);
    }
}
