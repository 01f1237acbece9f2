//! relplan: evidence-based release plans from a git history.
//!
//! The pipeline runs one way (see DESIGN.md): config → git range → classified
//! changes → signals and risks → schedule → one `Plan` → rendered documents →
//! edit-preserving write → summary. `run` is the entry point the binary calls;
//! each command is a function here that wires the edges (git, files) to the pure
//! engines.

pub mod cli;
pub mod clock;
pub mod commits;
pub mod config;
pub mod error;
pub mod git;
pub mod github;
pub mod plan;
pub mod progress;
pub mod risk;
pub mod schedule;
pub mod team;

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use git2::Oid;
use semver::Version;
use serde::Serialize;

use crate::cli::{Cli, Command, Format, PlanArgs, RangeArgs, ScopeFormat, TemplatesCommand};
use crate::commits::Change;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::{ReleaseTag, Repo};
use crate::plan::render;
use crate::plan::summary::{self, Report};
use crate::plan::write;
use crate::plan::{Files, Plan, PreviousRelease, Range, RefId, Scope};

/// Runs a parsed command line; returns what to print on stdout.
pub fn run(cli: Cli) -> Result<String> {
    progress::configure(cli.quiet);
    let cwd = std::env::current_dir()
        .map_err(|e| Error::runtime(format!("cannot read the current directory: {e}")))?;
    match cli.command {
        Command::Plan(args) => plan_command(&cwd, args),
        Command::Scope(args) => scope_command(&cwd, &args.range, args.format),
        Command::NextVersion(args) => next_version_command(&cwd, &args.range, args.explain),
        Command::Init(args) => init_command(&cwd, args.path.as_deref()),
        Command::Templates(TemplatesCommand::Export { dir }) => {
            let written = render::export(&cwd.join(&dir))?;
            let mut out = format!("Wrote {} templates to {}:\n", written.len(), dir.display());
            for path in written {
                out.push_str(&format!("  {}\n", path.display()));
            }
            out.push_str(&format!(
                "Edit them, then run `relplan plan --templates {}` (or set templates.dir in .relplan.toml).\n",
                dir.display()
            ));
            Ok(out)
        }
    }
}

/// The repository and its resolved config.
struct Workspace {
    repo: Repo,
    config: Config,
    project: String,
}

fn open(cwd: &Path, config_path: Option<&Path>) -> Result<Workspace> {
    let repo = Repo::discover(cwd)?;
    let explicit = config_path.map(|p| cwd.join(p));
    let (config, _) = Config::load(explicit.as_deref(), repo.root())?;
    let project = config.project.name.clone().unwrap_or_else(|| {
        repo.root()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".into())
    });
    Ok(Workspace {
        repo,
        config,
        project,
    })
}

/// The resolved range and its classified changes.
struct RangeData {
    from: Option<(String, Oid)>,
    to: (String, Oid),
    previous: Option<ReleaseTag>,
    commits: Vec<git::Commit>,
    changes: Vec<Change>,
    warnings: Vec<String>,
}

/// Resolves `--from`/`--to` (the previous release tag by default) and classifies the range.
/// `include_prereleases`: whether prerelease tags count as the previous release.
fn read_range(ws: &Workspace, args: &RangeArgs, include_prereleases: bool) -> Result<RangeData> {
    let repo = &ws.repo;
    let to = repo.resolve(&args.to)?;
    let pattern = ws.config.tag_regex();
    let tags = repo.release_tags(&pattern)?;
    let mut warnings = Vec::new();
    let (from, previous) = match &args.from {
        Some(rev) => {
            let oid = repo.resolve(rev)?;
            let previous = git::tag_version(rev, &pattern)
                .map(|version| ReleaseTag {
                    name: rev.clone(),
                    commit: oid,
                    version,
                })
                .or_else(|| tags.get(&oid).and_then(|t| t.first().cloned()));
            (Some((rev.clone(), oid)), previous)
        }
        None => {
            if repo.is_shallow() {
                return Err(Error::shallow(
                    "this repository is a shallow clone: the history since the last release tag is incomplete",
                )
                .with_hint("fetch the whole history (`git fetch --unshallow --tags`; in GitHub Actions set `fetch-depth: 0` on actions/checkout), or pass --from"));
            }
            let previous = repo.previous_tag(to, &tags, |t| {
                include_prereleases || t.version.pre.is_empty()
            })?;
            match &previous {
                Some(tag) => (Some((tag.name.clone(), tag.commit)), previous),
                None => {
                    warnings.push(format!(
                        "no release tag matching release.tag_pattern is reachable from {}: the range starts at the root commit",
                        args.to
                    ));
                    (None, None)
                }
            }
        }
    };
    let mut phase = progress::phase("walking history", None);
    let commits = repo.walk_with(from.as_ref().map(|f| f.1), to, &mut || phase.inc(1))?;
    phase.finish();
    if commits.is_empty() {
        warnings.push(format!(
            "the range {}..{} is empty: there is nothing to release",
            from.as_ref().map_or("root", |f| f.0.as_str()),
            args.to
        ));
    }
    let changes = commits::classify(&commits, &ws.config.commits);
    Ok(RangeData {
        from,
        to: (args.to.clone(), to),
        previous,
        commits,
        changes,
        warnings,
    })
}

/// The JSON contract of `relplan scope --format json` (DESIGN.md).
#[derive(Serialize)]
struct ScopeJson<'a> {
    from: Option<RefId>,
    to: RefId,
    changes: &'a [Change],
}

fn ref_id(name: &str, oid: Oid) -> RefId {
    RefId {
        name: name.to_string(),
        id: oid.to_string(),
    }
}

fn scope_command(cwd: &Path, args: &RangeArgs, format: ScopeFormat) -> Result<String> {
    let ws = open(cwd, args.config.as_deref())?;
    let range = read_range(&ws, args, false)?;
    for w in &range.warnings {
        eprintln!("warning: {w}");
    }
    match format {
        ScopeFormat::Json => {
            let json = ScopeJson {
                from: range.from.as_ref().map(|(n, o)| ref_id(n, *o)),
                to: ref_id(&range.to.0, range.to.1),
                changes: &range.changes,
            };
            to_json(&json)
        }
        ScopeFormat::Markdown => {
            let scope = Scope::from_changes(range.changes);
            let mut out = String::new();
            let from = range.from.as_ref().map_or("root", |f| f.0.as_str());
            out.push_str(&format!("# Changes {from}..{}\n", range.to.0));
            if !scope.breaking.is_empty() {
                out.push_str("\n## Breaking changes\n\n");
                for c in &scope.breaking {
                    out.push_str(&format!("- {} ({})\n", c.summary, c.short_id));
                }
            }
            for section in &scope.sections {
                out.push_str(&format!(
                    "\n## {} ({})\n\n",
                    section.title,
                    section.changes.len()
                ));
                for c in &section.changes {
                    out.push_str(&format!("- {} ({})\n", c.summary, c.short_id));
                }
            }
            Ok(out)
        }
    }
}

fn next_version_command(cwd: &Path, args: &RangeArgs, explain: bool) -> Result<String> {
    let ws = open(cwd, args.config.as_deref())?;
    let range = read_range(&ws, args, false)?;
    let bump = commits::suggest(range.previous.as_ref().map(|t| &t.version), &range.changes);
    if explain {
        Ok(format!("{}\n{}\n", bump.next, bump.reason))
    } else {
        eprintln!("{}", bump.reason);
        Ok(format!("{}\n", bump.next))
    }
}

fn init_command(cwd: &Path, path: Option<&Path>) -> Result<String> {
    let target = match path {
        Some(p) => cwd.join(p),
        None => Repo::discover(cwd)?.root().join(config::FILE_NAME),
    };
    if target.exists() {
        return Err(Error::input(format!(
            "{} already exists: relplan init never overwrites a config (edit it, or remove it first)",
            target.display()
        )));
    }
    write::atomic_write(&target, config::EXAMPLE.as_bytes())?;
    Ok(format!(
        "Wrote {} (every option documented inline; all are optional).\n",
        target.display()
    ))
}

/// Parses a user-supplied version: SemVer with an optional leading `v`.
pub fn parse_version(text: &str) -> Result<Version> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    Version::parse(bare).map_err(|e| {
        Error::input(format!(
            "version {text:?} is not SemVer ({e}); expected MAJOR.MINOR.PATCH such as 1.4.0 or v2.0.0-rc.1"
        ))
    })
}

/// Parses `--date`: a real calendar date, YYYY-MM-DD.
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    let valid_shape = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| valid_shape)
        .ok_or_else(|| {
            Error::input(format!(
                "date {text:?} is not a real calendar date; expected YYYY-MM-DD, e.g. 2026-12-15"
            ))
        })
}

fn plan_command(cwd: &Path, args: PlanArgs) -> Result<String> {
    // Validate every CLI value before touching git.
    let requested = args.version.as_deref().map(parse_version).transpose()?;
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let now = clock::now()?;
    let ws = open(cwd, args.range.config.as_deref())?;
    let release_date = match date {
        Some(date) => date,
        None => match ws.config.schedule.lead_days {
            Some(days) => now.date_naive() + Duration::days(days),
            None => {
                return Err(Error::input(
                    "no release date: pass --date YYYY-MM-DD or set schedule.lead_days in .relplan.toml",
                )
                .with_hint("relplan plan 1.4.0 --date 2026-12-15"))
            }
        },
    };
    let include_pre = requested.as_ref().is_some_and(|v| !v.pre.is_empty());
    let range = read_range(&ws, &args.range, include_pre)?;
    let mut warnings = range.warnings.clone();
    let suggested = commits::suggest(range.previous.as_ref().map(|t| &t.version), &range.changes);
    let version = match requested {
        Some(v) => v,
        None => parse_version(&suggested.next)?,
    };
    if let Some(previous) = &range.previous {
        if version <= previous.version {
            return Err(Error::input(format!(
                "version {version} is not greater than the previous release {} ({}); expected a version after it, e.g. {}",
                previous.version, previous.name, suggested.next
            )));
        }
    }
    if let Ok(needed) = Version::parse(&suggested.next) {
        if version < needed && args.version.is_some() {
            warnings.push(format!(
                "version {version} is smaller than the changes call for: {}",
                suggested.reason
            ));
        }
    }

    // Changed paths per commit: the risk engine's evidence. A commit whose trees
    // cannot be read (pruned or missing objects) loses its paths with one warning;
    // the plan goes on.
    let oids: Vec<Oid> = range.commits.iter().map(|c| c.oid).collect();
    let mut phase = progress::phase("reading changed paths", Some(oids.len() as u64));
    let results = ws
        .repo
        .changed_paths_many(&oids, git::diff_threads(), &mut |done| {
            phase.set(done as u64)
        });
    phase.finish();
    let mut commit_paths = Vec::with_capacity(range.commits.len());
    // Distinct paths only: a long range touches the same files again and again.
    let mut distinct_paths = std::collections::HashSet::new();
    for (commit, result) in range.commits.iter().zip(results) {
        match result {
            Ok(paths) => {
                for p in &paths {
                    if !distinct_paths.contains(&p.path) {
                        distinct_paths.insert(p.path.clone());
                    }
                }
                commit_paths.push(risk::CommitPaths {
                    id: commit.id.clone(),
                    paths,
                });
            }
            Err(e) => warnings.push(format!("skipped the paths of commit {}: {}", commit.id, e)),
        }
    }
    let all_paths: Vec<String> = distinct_paths.into_iter().collect();
    let totals = match ws
        .repo
        .diff_totals(range.from.as_ref().map(|f| f.1), range.to.1)
    {
        Ok(totals) => totals,
        Err(e) => {
            warnings.push(format!(
                "line counts of the range are unknown (shown as 0): {e}"
            ));
            git::DiffTotals::default()
        }
    };
    let files = Files::from_paths(all_paths, totals);

    let out_root = match &args.out {
        Some(dir) => cwd.join(dir),
        None => ws.repo.root().join(&ws.config.release.output_dir),
    };
    let tag = format!("{}{version}", ws.config.release.tag_prefix);
    let plan_dir = out_root.join(format!("v{version}"));
    let previous_files = write::read_previous(&plan_dir)?;
    let planning_started = previous_files
        .planning_started
        .clone()
        .unwrap_or_else(|| now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));

    let schedule = schedule::build(release_date, now.date_naive(), &ws.config.schedule);
    warnings.extend(schedule.warnings.iter().cloned());
    let assessment = risk::assess(&range.changes, &commit_paths, &ws.config.risk);
    let strategy = risk::choose_strategy(&assessment, &ws.config.deploy);
    let team = team::build(&ws.config.team, &range.changes);
    let to_fill_in = team::unfilled(&team);
    let release_manager = team
        .roles
        .iter()
        .find(|r| r.key == "release_manager")
        .map_or_else(|| team::TBD.to_string(), |r| r.name.clone());
    let plan = Plan {
        relplan_version: env!("CARGO_PKG_VERSION").into(),
        project: ws.project.clone(),
        version: version.to_string(),
        tag,
        release_date,
        planning_started,
        release_manager,
        status: "planning".into(),
        previous: range.previous.as_ref().map(|t| PreviousRelease {
            tag: t.name.clone(),
            id: t.commit.to_string(),
            version: t.version.to_string(),
        }),
        range: Range {
            from: range.from.as_ref().map(|(n, o)| ref_id(n, *o)),
            to: ref_id(&range.to.0, range.to.1),
            commits: range.commits.len(),
        },
        suggested,
        scope: Scope::from_changes(range.changes),
        files,
        risk: assessment,
        strategy,
        schedule,
        team,
        warnings,
        to_fill_in,
    };

    let templates_dir = args.templates.map(|d| cwd.join(d)).or_else(|| {
        ws.config
            .templates
            .dir
            .as_ref()
            .map(|d| ws.repo.root().join(d))
    });
    let documents = render::render_all(&plan, templates_dir.as_deref())?;
    let decisions = write::decide(&plan_dir, &documents, &previous_files, args.force);
    let shown_dir = display_path(&plan_dir, cwd);
    if !args.dry_run {
        let log_line = format!(
            "{} relplan {} planned {} for {} from {}..{} ({} commits): {}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            plan.relplan_version,
            plan.tag,
            plan.release_date,
            plan.range.from.as_ref().map_or("root", |f| f.name.as_str()),
            plan.range.to.name,
            plan.range.commits,
            log_outcomes(&decisions),
        );
        write::write_plan(
            &plan_dir,
            &documents,
            &decisions,
            metadata(&plan),
            &log_line,
        )?;
    }
    let report = Report {
        plan: &plan,
        dir: &shown_dir,
        written: &decisions,
        dry_run: args.dry_run,
    };
    match args.format {
        Format::Text => Ok(summary::text(&report)),
        Format::Markdown => Ok(summary::markdown(&report)),
        Format::Json => to_json(&plan),
    }
}

fn log_outcomes(decisions: &[write::Written]) -> String {
    let mut parts = Vec::new();
    for (outcome, word) in [
        (write::Outcome::Created, "created"),
        (write::Outcome::Updated, "updated"),
        (write::Outcome::Unchanged, "unchanged"),
        (write::Outcome::KeptEdited, "kept edited"),
        (write::Outcome::Overwritten, "overwrote edited"),
    ] {
        let paths: Vec<&str> = decisions
            .iter()
            .filter(|d| d.outcome == outcome)
            .map(|d| d.path.as_str())
            .collect();
        if !paths.is_empty() {
            parts.push(format!("{word} {}", paths.join(", ")));
        }
    }
    parts.join("; ")
}

/// `metadata.json` without the file hashes (the writer adds them).
fn metadata(plan: &Plan) -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::json!({
        "version": plan.version,
        "tag": plan.tag,
        "release_date": plan.release_date,
        "planning_started": plan.planning_started,
        "release_manager": plan.release_manager,
        "status": plan.status,
        "previous_tag": plan.previous.as_ref().map(|p| &p.tag),
        "range": {
            "from": plan.range.from.as_ref().map(|f| &f.id),
            "to": plan.range.to.id,
            "commits": plan.range.commits,
        },
        "counts": plan.scope.counts,
        "breaking": plan.scope.breaking.len(),
        "suggested_version": plan.suggested.next,
        "version_reason": plan.suggested.reason,
        "risk_level": plan.risk.level,
        "strategy": plan.strategy.recommended,
        "relplan_version": plan.relplan_version,
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::runtime(format!("cannot serialize JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// `path` relative to `base` when it lies under it, for messages.
fn display_path(path: &Path, base: &Path) -> String {
    let shown: PathBuf = path
        .strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf());
    shown.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("v1.4.0").unwrap(), Version::new(1, 4, 0));
        let err = parse_version("1.4").unwrap_err();
        assert!(err.message.contains("\"1.4\""), "{}", err.message);
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn dates() {
        assert!(parse_date("2026-12-15").is_ok());
        assert!(parse_date("2026-02-30")
            .unwrap_err()
            .message
            .contains("2026-02-30"));
        assert!(parse_date("2026-1-5").is_err());
    }
}
