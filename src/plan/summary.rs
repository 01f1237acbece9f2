//! The summary printed after planning, as text (terminal) or Markdown (PR comment,
//! step summary). Built from the `Plan` and what was written; no decisions here.

use std::fmt::Write as _;

use super::write::{Outcome, Written};
use super::Plan;

/// What the run did with the plan directory.
pub struct Report<'a> {
    pub plan: &'a Plan,
    /// The plan directory, as shown to the user.
    pub dir: &'a str,
    pub written: &'a [Written],
    pub dry_run: bool,
}

fn key_dates(plan: &Plan) -> Vec<(String, String)> {
    plan.schedule
        .milestones
        .iter()
        .map(|m| {
            let moved = m
                .moved_from
                .map(|from| format!(", moved from {from}"))
                .unwrap_or_default();
            (
                m.name.clone(),
                format!("{} ({}{moved})", m.date, &m.weekday),
            )
        })
        .collect()
}

fn counts_line(plan: &Plan) -> String {
    let c = &plan.scope.counts;
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let listed = ["features", "fixes", "unclassified", "skipped", "reverted"];
    let other = c
        .iter()
        .filter(|(k, _)| !listed.contains(&k.as_str()))
        .map(|(_, n)| n)
        .sum::<usize>();
    let mut parts = vec![
        format!("{} breaking", plan.scope.breaking.len()),
        plural(get("features"), "feature", "features"),
        plural(get("fixes"), "fix", "fixes"),
        format!("{other} other"),
        format!("{} unclassified", get("unclassified")),
    ];
    for (key, word) in [("reverted", "reverted"), ("skipped", "skipped")] {
        if get(key) > 0 {
            parts.push(format!("{} {word}", get(key)));
        }
    }
    format!(
        "{}: {}",
        plural(plan.range.commits, "commit", "commits"),
        parts.join(", ")
    )
}

fn outcome_note(outcome: Outcome, dry_run: bool) -> &'static str {
    if dry_run {
        return match outcome {
            Outcome::Created => "would create",
            Outcome::Updated => "would update",
            Outcome::Unchanged => "unchanged",
            Outcome::KeptEdited => "edited by you: would keep it and write .new beside it",
            Outcome::Overwritten => "edited by you: would overwrite (--force)",
        };
    }
    match outcome {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Unchanged => "unchanged",
        Outcome::KeptEdited => "kept your edits; new version beside it as .new",
        Outcome::Overwritten => "overwritten (--force)",
    }
}

pub fn text(report: &Report<'_>) -> String {
    let plan = report.plan;
    let mut out = String::new();
    let title = if report.dry_run {
        "RELEASE PLAN (dry run: nothing written)"
    } else {
        "RELEASE PLAN CREATED"
    };
    let _ = writeln!(out, "=== {title} ===\n");
    let _ = writeln!(out, "Release:       {} {}", plan.project, plan.tag);
    let _ = writeln!(out, "Target date:   {}", plan.release_date);
    let _ = writeln!(out, "Manager:       {}", plan.release_manager);
    let from = plan
        .range
        .from
        .as_ref()
        .map_or("the root commit", |f| f.name.as_str());
    let _ = writeln!(
        out,
        "Range:         {from}..{} ({})",
        plan.range.to.name,
        counts_line(plan)
    );
    let _ = writeln!(
        out,
        "Suggested:     {} ({})",
        plan.suggested.next, plan.suggested.reason
    );
    let _ = writeln!(
        out,
        "Risk level:    {:?} ({})",
        plan.risk.level, plan.risk.reason
    );
    let _ = writeln!(out, "Strategy:      {}", plan.strategy.name);
    let _ = writeln!(
        out,
        "\n{}{}/",
        if report.dry_run { "Would write " } else { "" },
        report.dir
    );
    for w in report.written {
        let _ = writeln!(
            out,
            "  {:<42} {}",
            w.path,
            outcome_note(w.outcome, report.dry_run)
        );
    }
    if !plan.risk.risks.is_empty() {
        let _ = writeln!(out, "\nTop risks:");
        for risk in plan.risk.risks.iter().take(3) {
            let evidence = risk.evidence.first().map(String::as_str).unwrap_or("");
            let _ = writeln!(
                out,
                "  - [{:?}] {}: {}",
                risk.severity, risk.title, evidence
            );
        }
    }
    let _ = writeln!(out, "\nKey dates:");
    for (name, date) in key_dates(plan) {
        let _ = writeln!(out, "  {name:<28} {date}");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for w in &plan.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    if !plan.to_fill_in.is_empty() {
        let _ = writeln!(out, "\nTo fill in (TBD in the documents):");
        for item in &plan.to_fill_in {
            let _ = writeln!(out, "  - {item}");
        }
    }
    let _ = writeln!(out, "\nNext steps:");
    let _ = writeln!(out, "  1. Review the documents and fill in what is TBD");
    if report
        .written
        .iter()
        .any(|w| w.outcome == Outcome::KeptEdited)
    {
        let _ = writeln!(
            out,
            "  2. Merge the .new files into your edited documents, then delete them"
        );
    }
    let _ = writeln!(
        out,
        "  {}. Get approval, then follow schedule/timeline.md",
        if report
            .written
            .iter()
            .any(|w| w.outcome == Outcome::KeptEdited)
        {
            3
        } else {
            2
        }
    );
    out
}

pub fn markdown(report: &Report<'_>) -> String {
    let plan = report.plan;
    let mut out = String::new();
    let _ = writeln!(out, "## Release plan: {} {}\n", plan.project, plan.tag);
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Target date | {} |", plan.release_date);
    let from = plan.range.from.as_ref().map_or("root", |f| f.name.as_str());
    let _ = writeln!(out, "| Range | `{from}..{}` |", plan.range.to.name);
    let _ = writeln!(out, "| Changes | {} |", counts_line(plan));
    let _ = writeln!(
        out,
        "| Suggested version | {} ({}) |",
        plan.suggested.next, plan.suggested.reason
    );
    let _ = writeln!(out, "| Risk level | **{:?}** |", plan.risk.level);
    let _ = writeln!(out, "| Strategy | {} |", plan.strategy.name);
    if !plan.risk.risks.is_empty() {
        let _ = writeln!(out, "\n### Top risks\n");
        for risk in plan.risk.risks.iter().take(3) {
            let evidence = risk.evidence.first().map(String::as_str).unwrap_or("");
            let _ = writeln!(
                out,
                "- **{:?}**: {} ({})",
                risk.severity, risk.title, evidence
            );
        }
    }
    let _ = writeln!(out, "\n### Key dates\n");
    for (name, date) in key_dates(plan) {
        let _ = writeln!(out, "- {name}: {date}");
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    if !plan.to_fill_in.is_empty() {
        let _ = writeln!(out, "\n### To fill in\n");
        for item in &plan.to_fill_in {
            let _ = writeln!(out, "- [ ] {item}");
        }
    }
    let _ = writeln!(out, "\n### Files\n");
    for w in report.written {
        let _ = writeln!(
            out,
            "- `{}/{}` ({})",
            report.dir,
            w.path,
            outcome_note(w.outcome, report.dry_run)
        );
    }
    out
}
