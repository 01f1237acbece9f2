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
pub mod json;
pub mod memory;
pub mod plan;
pub mod progress;
pub mod risk;
pub mod schedule;
pub mod team;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use git2::Oid;
use semver::Version;
use serde::Serialize;

use crate::cli::{
    Cli, Command, CommentArgs, Format, PlanArgs, RangeArgs, ScopeFormat, TemplatesCommand,
};
use crate::commits::Change;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::{ReleaseTag, Repo};
use crate::plan::render;
use crate::plan::summary::{self, Report};
use crate::plan::write;
use crate::plan::{Files, Plan, PreviousRelease, Range, RefId, Scope};

/// What a command prints on stdout, once it has succeeded.
pub enum Output {
    Text(String),
    /// Pretty JSON and a newline, serialized straight into stdout: a long range's
    /// JSON is never held in memory whole.
    Json(Box<dyn WriteJson>),
}

/// A value `Output::Json` can print, whatever its type.
pub trait WriteJson {
    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()>;
}

/// Any serializable value, written by serde_json as it is.
struct Pretty<T>(T);

impl<T: Serialize> WriteJson for Pretty<T> {
    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        // serde_json writes token by token: into a concrete buffer, not through the
        // `dyn Write` (a virtual call per token was a tenth of a long `scope`).
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer_pretty(&mut buffered, &self.0)?;
        buffered.flush().map_err(serde_json::Error::io)
    }
}

impl Output {
    pub fn json(value: impl Serialize + 'static) -> Output {
        Output::Json(Box::new(Pretty(value)))
    }

    /// Writes the output to `out` (buffer it: JSON comes in small pieces). A
    /// serialization failure is an `InvalidData` error, a failed write keeps its kind.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Output::Text(text) => out.write_all(text.as_bytes()),
            Output::Json(value) => {
                value.write_json(out)?;
                out.write_all(b"\n")
            }
        }
    }
}

/// Runs a parsed command line; returns what to print on stdout.
pub fn run(cli: Cli) -> Result<Output> {
    progress::configure(cli.quiet);
    let cwd = std::env::current_dir()
        .map_err(|e| Error::runtime(format!("cannot read the current directory: {e}")))?;
    match cli.command {
        Command::Plan(args) => plan_command(&cwd, args),
        Command::Comment(args) => comment_command(&cwd, args).map(Output::Text),
        Command::Scope(args) => scope_command(&cwd, &args.range, args.format),
        Command::NextVersion(args) => {
            next_version_command(&cwd, &args.range, args.pre.as_deref(), args.explain)
                .map(Output::Text)
        }
        Command::ChangedPaths { git_dir } => {
            git::helper::serve(&git_dir, std::io::stdin().lock(), std::io::stdout().lock())
                .map(|()| Output::Text(String::new()))
        }
        Command::Init(args) => init_command(&cwd, args.path.as_deref()).map(Output::Text),
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
            Ok(Output::Text(out))
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
    let project = config
        .project
        .name
        .clone()
        .or_else(|| {
            repo.remote_url("origin")
                .and_then(|url| project_from_url(&url))
        })
        .unwrap_or_else(|| {
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

/// The repository name in a remote URL (`git@github.com:acme/api.git` → `api`).
fn project_from_url(url: &str) -> Option<String> {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    (!name.is_empty()).then(|| name.to_string())
}

/// The resolved range and its classified changes: packed (`commits::Changes`) as
/// `read_range` returns them, which `scope` writes out one at a time, or unpacked
/// (`RangeData::unpacked`) for the commands that work on the whole list.
struct RangeData<C = Vec<Change>> {
    from: Option<(String, Oid)>,
    to: (String, Oid),
    previous: Option<ReleaseTag>,
    /// How many commits the range has (its graph is let go once classified).
    commits: usize,
    changes: C,
    /// Once unpacked: each commit's whole message (same order) when asked for
    /// (`plan`) and the risk engine can find something in it (`risk::MessageFilter`).
    messages: Vec<Option<Box<str>>>,
    /// Each commit's changed paths, when asked for (`plan`: the risk engine's evidence).
    paths: Option<git::PathLists>,
    /// Files, insertions and deletions between the range's ends, with the paths.
    totals: Option<Result<git::DiffTotals>>,
    warnings: Vec<String>,
    /// Every release tag's version (to number prereleases), when the tags were read
    /// to find the previous release.
    tagged: Option<Vec<Version>>,
}

/// Resolves `--from`/`--to` (the previous release tag by default) and classifies the range.
///
/// The previous release is the nearest reachable release tag, except that prerelease
/// tags only count when `planned` is known and they are not earlier prereleases of
/// the final version being planned: `2.0.0-rc.2` starts after `2.0.0-rc.1`, but
/// `2.0.0` starts after the last final release, and so do `scope` and `next-version`
/// (whose bump must be measured from a final release).
///
/// `with_paths` (`plan`) also reads every commit's changed paths (one tree diff per
/// commit), which then serve the path fallback of classification too, and keeps each
/// commit's message for the risk engine; without it, messages are dropped once
/// classified.
fn read_range(
    ws: &Workspace,
    args: &RangeArgs,
    planned: Option<&Version>,
    with_paths: bool,
) -> Result<RangeData<commits::Changes>> {
    let repo = &ws.repo;
    let to = repo.resolve(&args.to)?;
    let pattern = ws.config.tag_regex();
    // Read only when needed: with 1,000 tags, listing and peeling them took 40 ms,
    // as long as `git log` takes for 4,000 commits (BENCHMARKS.md). A `--from` that
    // names a release tag needs none of them.
    let mut tags = None;
    let mut warnings = Vec::new();
    let same_core =
        |a: &Version, b: &Version| (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch);
    // Without --from, the range starts at the previous release: the nearest release
    // tag the walk meets, newest first (`git::Base::First`), except that prerelease
    // tags only count as described above.
    let accept = |t: &ReleaseTag| {
        t.version.pre.is_empty()
            || planned.is_some_and(|v| !v.pre.is_empty() || !same_core(v, &t.version))
    };
    let (mut from, mut previous) = (None, None);
    match &args.from {
        Some(rev) => {
            let oid = repo.resolve(rev)?;
            previous = match git::tag_version(rev, &pattern) {
                Some(version) => Some(ReleaseTag {
                    name: rev.clone(),
                    commit: oid,
                    version,
                }),
                None => tags
                    .insert(repo.release_tags(&pattern)?)
                    .get(&oid)
                    .and_then(|t| t.first().cloned()),
            };
            from = Some((rev.clone(), oid));
        }
        None => {
            if repo.is_shallow() {
                return Err(Error::shallow(
                    "this repository is a shallow clone: the history since the last release tag is incomplete",
                )
                .with_hint("fetch the whole history (`git fetch --unshallow --tags`; in GitHub Actions set `fetch-depth: 0` on actions/checkout), or pass --from"));
            }
            tags = Some(repo.release_tags(&pattern)?);
        }
    }
    // The accepted release tag on `oid`, if any.
    let release_at = |oid: &Oid| tags.as_ref()?.get(oid)?.iter().find(|t| accept(t));
    let is_release = |oid: &Oid| release_at(oid).is_some();
    let base = match &from {
        Some((_, oid)) => git::Base::Commit(*oid),
        None if tags.as_ref().is_some_and(|t| !t.is_empty()) => git::Base::First(&is_release),
        None => git::Base::Root,
    };
    let mut phase = progress::phase("walking history", None);
    // Each commit is classified by its message while the walk reads the next ones.
    let classifier = commits::Classifier::new(&ws.config.commits);
    // `plan`'s risk engine searches whole messages again: those it can find something in
    // are kept with the drafts.
    let message_filter =
        with_paths.then(|| risk::MessageFilter::new(&ws.config.risk, &ws.config.deploy.flags));
    // Without every commit's paths, the path fallback diffs the commits the messages
    // leave unclassified: asked of a helper process as the walk finds them, so the
    // diffs overlap the walk (a conventional history costs no diff at all).
    // Each of those diffs stops once no path rule can match all of its paths.
    let mut helper = (!with_paths && classifier.uses_paths())
        .then(|| git::helper::PathHelper::new(repo).stopping_at(classifier.path_rules()));
    // Commits on a pull request's branch whose merge folds them are listed by its
    // title: their requests wait for the walk's end, when the fold is known, rather
    // than keep the helper busy (half the commits of a merge-heavy history).
    let mut branches = git::walk::BranchReach::default();
    // Every draft of the range, packed end to end (`commits::Changes`): the walk's
    // peak is when they are all held.
    let mut packed = commits::Packer::default();
    let git::Walked {
        commits,
        done: handles,
        base: found_base,
    } = repo.walk_with(base, to, &mut || phase.inc(1), |commit| {
        let mut draft = classifier.first_pass(&commit);
        if let Some(helper) = helper.as_mut() {
            let on_branch = branches.visit(&commit.oid, &commit.parents, draft.folds_its_branch());
            if !draft.unclassified() {
                helper.pump();
            } else if on_branch {
                helper.defer_commit(&commit);
            } else {
                helper.request_commit(&commit);
            }
        }
        // What the output needs of the message and author is in the draft now.
        if message_filter
            .as_ref()
            .is_some_and(|f| f.wants(&commit.message))
        {
            draft.keep_message(commit.message);
        }
        draft.pack_into(&mut packed)
    })?;
    let packed = commits::Changes::new(packed, handles);
    phase.finish();
    if args.from.is_none() {
        previous = found_base.and_then(|oid| release_at(&oid).cloned());
        match &previous {
            Some(tag) => from = Some((tag.name.clone(), tag.commit)),
            None => warnings.push(format!(
                "no release tag matching release.tag_pattern is reachable from {}: the range starts at the root commit",
                args.to
            )),
        }
    }
    // The line counts read every blob the range changed: before the changed paths
    // are held.
    let totals = with_paths.then(|| repo.diff_totals(from.as_ref().map(|f| f.1), to));
    if commits.is_empty() {
        warnings.push(format!(
            "the range {}..{} is empty: there is nothing to release",
            from.as_ref().map_or("root", |f| f.0.as_str()),
            args.to
        ));
    }
    let paths = with_paths.then(|| {
        let mut phase = progress::phase("reading changed paths", Some(commits.len() as u64));
        let (paths, by_helper) =
            repo.changed_paths_many(&commits, &mut |done| phase.set(done as u64));
        phase.finish_with(
            (by_helper > 0).then(|| format!("{by_helper} of them by a helper process")),
        );
        paths
    });
    let mut phase = progress::phase("classifying", Some(commits.len() as u64));
    let settled = commits::settle(packed);
    let merged = pull_request_branches(&commits, &settled);
    let (fallback, by_helper) = match helper {
        Some(helper) => {
            // A pull request's branch commits folded into its merge are listed by its
            // title: their own paths would go unused (half the commits of a
            // merge-heavy history).
            let mut folded = vec![false; commits.len()];
            for (m, members) in &merged {
                if commits::folds(&settled, *m) {
                    for &j in members {
                        folded[j] = true;
                    }
                }
            }
            let unneeded = |oid: &Oid| commits.position(oid).is_some_and(|i| folded[i as usize]);
            repo.fallback_paths(&commits, helper, unneeded)
        }
        None => Default::default(),
    };
    let mut changes = classifier.by_paths(settled, |i| match &paths {
        Some(all) => Some(
            all.get(i)?
                .ok()?
                .iter()
                .map(|p| p.path.to_string())
                .collect(),
        ),
        None => {
            let paths = fallback.get(&commits.oid(i))?.as_ref().ok()?;
            Some(paths.iter().map(|p| p.path.to_string()).collect())
        }
    });
    let count = commits.len();
    drop(commits);
    commits::fold_pull_request_commits(&mut changes, &merged);
    phase.set(count as u64);
    let diffed = fallback.len();
    phase.finish_with((diffed > 0).then(|| {
        format!(
            "path fallback: {diffed} commits diffed, {by_helper} of them by a helper process; `commits.paths = []` turns it off"
        )
    }));
    let tagged = tags.as_ref().map(tag_versions);
    Ok(RangeData {
        from,
        to: (args.to.clone(), to),
        previous,
        commits: count,
        changes,
        messages: Vec::new(),
        paths,
        totals,
        warnings,
        tagged,
    })
}

impl RangeData<commits::Changes> {
    /// The changes unpacked, with the messages their drafts kept.
    fn unpacked(self) -> RangeData {
        let (changes, messages) = self.changes.into_parts();
        RangeData {
            from: self.from,
            to: self.to,
            previous: self.previous,
            commits: self.commits,
            changes,
            messages,
            paths: self.paths,
            totals: self.totals,
            warnings: self.warnings,
            tagged: self.tagged,
        }
    }
}

/// For each `Merge pull request` commit of the range (newest first), the range's
/// commits its second parent brought in (reachable from it, not from the first
/// parent). Each commit belongs to the newest merge that brought it. Walked over the
/// range's own commits in memory: every path from a merge to a commit of the range
/// stays inside the range, so no commit is read again.
fn pull_request_branches(
    commits: &git::Commits,
    changes: &commits::Changes,
) -> Vec<(usize, Vec<usize>)> {
    let read = |oid: Oid, _hidden: bool| -> std::result::Result<Option<git::walk::Visit>, ()> {
        Ok(commits.position(&oid).map(|i| {
            let links = commits.links(i as usize);
            git::walk::Visit {
                // Newest first by committer time already: the position stands in for it.
                time: -(i as i64),
                tree: links.tree,
                parents: links.parents,
            }
        }))
    };
    let mut taken = rustc_hash::FxHashSet::default();
    let mut merged = Vec::new();
    for (i, commit) in commits.iter().enumerate() {
        if commit.parents.len() < 2 || !commits::is_pull_request_merge(changes.subject(i)) {
            continue;
        }
        let Ok(branch) =
            git::walk::limited(&commit.parents[1..2], &commit.parents[..1], read, || {})
        else {
            continue;
        };
        let members: Vec<usize> = branch
            .iter()
            .filter_map(|oid| commits.position(oid).map(|j| j as usize))
            .filter(|&j| taken.insert(j))
            .collect();
        merged.push((i, members));
    }
    merged
}

/// The JSON contract of `relplan scope --format json` (DESIGN.md).
#[derive(Serialize)]
struct ScopeJson {
    from: Option<RefId>,
    to: RefId,
    changes: commits::Changes,
}

/// Written as serde_json writes the derived `Serialize`, but with the changes (most
/// of a long range's output) unpacked and rendered on every core, a block at a time.
impl WriteJson for ScopeJson {
    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        let io = serde_json::Error::io;
        out.write_all(b"{\n  \"from\": ").map_err(io)?;
        json::write_pretty_at(&mut out, &self.from, 1)?;
        out.write_all(b",\n  \"to\": ").map_err(io)?;
        json::write_pretty_at(&mut out, &self.to, 1)?;
        out.write_all(b",\n  \"changes\": ").map_err(io)?;
        let changes = &self.changes;
        json::write_pretty_seq(&mut out, changes.handles(), 1, |&handle, buf, depth| {
            changes.draft(handle).write_json(buf, depth);
            Ok(())
        })?;
        out.write_all(b"\n}").map_err(io)?;
        out.flush().map_err(io)
    }
}

fn ref_id(name: &str, oid: Oid) -> RefId {
    RefId {
        name: name.to_string(),
        id: oid.to_string(),
    }
}

fn scope_command(cwd: &Path, args: &RangeArgs, format: ScopeFormat) -> Result<Output> {
    let ws = open(cwd, args.config.as_deref())?;
    let range = read_range(&ws, args, None, false)?;
    for w in &range.warnings {
        eprintln!("warning: {w}");
    }
    match format {
        ScopeFormat::Json => {
            // The commits (messages included) are dropped before the JSON is written.
            Ok(Output::Json(Box::new(ScopeJson {
                from: range.from.as_ref().map(|(n, o)| ref_id(n, *o)),
                to: ref_id(&range.to.0, range.to.1),
                changes: range.changes,
            })))
        }
        ScopeFormat::Markdown => {
            let scope = Scope::from_changes(range.changes.into_vec());
            let mut out = String::new();
            let from = range.from.as_ref().map_or("root", |f| f.0.as_str());
            out.push_str(&format!("# Changes {from}..{}\n", range.to.0));
            if !scope.breaking.is_empty() {
                out.push_str("\n## Breaking changes\n\n");
                for c in scope.breaking.iter() {
                    out.push_str(&format!("- {} ({})\n", c.summary(), c.short_id()));
                }
            }
            for section in &scope.sections {
                out.push_str(&format!(
                    "\n## {} ({})\n\n",
                    section.title,
                    section.changes.len()
                ));
                for c in section.changes.iter() {
                    out.push_str(&format!("- {} ({})\n", c.summary(), c.short_id()));
                }
            }
            Ok(Output::Text(out))
        }
    }
}

/// Validates a `--pre` identifier: one SemVer prerelease identifier (`rc`, `beta`).
fn parse_pre(ident: &str) -> Result<String> {
    let valid = !ident.is_empty()
        && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !ident.chars().all(|c| c.is_ascii_digit())
        && semver::Prerelease::new(&format!("{ident}.1")).is_ok();
    if !valid {
        return Err(Error::input(format!(
            "--pre {ident:?} is not a prerelease identifier; expected letters, digits or `-`, not only digits, e.g. rc or beta"
        )));
    }
    Ok(ident.to_string())
}

/// Every release tag's version, in order.
fn tag_versions(tags: &std::collections::HashMap<Oid, Vec<ReleaseTag>>) -> Vec<Version> {
    let mut tagged: Vec<Version> = tags.values().flatten().map(|t| t.version.clone()).collect();
    tagged.sort();
    tagged
}

/// The version rules of the config; a prerelease is numbered against the
/// repository's tags.
fn version_rules(
    ws: &Workspace,
    range: &RangeData,
    pre: Option<String>,
) -> Result<commits::VersionRules> {
    let tagged = match (&pre, &range.tagged) {
        (None, _) => Vec::new(),
        (Some(_), Some(tagged)) => tagged.clone(),
        (Some(_), None) => tag_versions(&ws.repo.release_tags(&ws.config.tag_regex())?),
    };
    Ok(commits::VersionRules {
        pre,
        tagged,
        ..commits::VersionRules::from_config(&ws.config.commits)
    })
}

fn next_version_command(
    cwd: &Path,
    args: &RangeArgs,
    pre: Option<&str>,
    explain: bool,
) -> Result<String> {
    let pre = pre.map(parse_pre).transpose()?;
    let ws = open(cwd, args.config.as_deref())?;
    let range = read_range(&ws, args, None, false)?.unpacked();
    for w in &range.warnings {
        eprintln!("warning: {w}");
    }
    let rules = version_rules(&ws, &range, pre)?;
    let bump = commits::suggest(
        range.previous.as_ref().map(|t| &t.version),
        &range.changes,
        &rules,
    );
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

/// A plan computed in memory: the Plan, its rendered documents, and what writing would do.
struct Built {
    plan: Plan,
    /// Rendered and staged, not yet in the plan directory (`write::Stage`).
    documents: write::Stage,
    decisions: Vec<write::Written>,
    shown_dir: String,
    /// The plan directory relative to the repository root (links on GitHub).
    repo_dir: String,
    now: chrono::DateTime<chrono::FixedOffset>,
    slug: Option<github::RepoSlug>,
    /// What was done or skipped on GitHub, one line for stderr.
    github_note: String,
}

fn plan_command(cwd: &Path, args: PlanArgs) -> Result<Output> {
    let env = github::Env::from_process();
    let built = build_plan(cwd, &args, &env)?;
    eprintln!("note: {}", built.github_note);
    let links = plan_links(&env, &built);
    let Built {
        plan,
        documents,
        decisions,
        shown_dir,
        now,
        ..
    } = built;
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
        write::write_plan(documents, &decisions, metadata(&plan), &log_line)?;
    }
    let report = Report {
        plan: &plan,
        dir: &shown_dir,
        written: &decisions,
        dry_run: args.dry_run,
    };
    if env.actions {
        github::actions::publish(
            &env,
            &github::comment::markdown(&plan, links.as_ref()),
            &[
                ("version", plan.version.clone()),
                ("next-version", plan.suggested.next.clone()),
                (
                    "risk-level",
                    format!("{:?}", plan.risk.level).to_lowercase(),
                ),
                ("strategy", plan.strategy.recommended.clone()),
                ("plan-dir", shown_dir.clone()),
            ],
            &plan.warnings,
        )?;
    }
    Ok(match args.format {
        Format::Text => Output::Text(summary::text(&report)),
        Format::Markdown => Output::Text(summary::markdown(&report)),
        Format::Json => Output::json(plan),
    })
}

fn build_plan(cwd: &Path, args: &PlanArgs, env: &github::Env) -> Result<Built> {
    // Validate every CLI value before touching git.
    let requested = args.version.as_deref().map(parse_version).transpose()?;
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let now = clock::now()?;
    let mut ws = open(cwd, args.range.config.as_deref())?;
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
    let mut range = read_range(&ws, &args.range, requested.as_ref(), true)?.unpacked();
    let mut warnings = range.warnings.clone();

    // Pull requests: enrich the classified changes before anything is decided from them.
    let options = github::Options {
        offline: args.github.offline,
        repo: args.github.repo.clone(),
        require: args.github.require_github,
    };
    let slug = github::repo::resolve(
        options.repo.as_deref(),
        env.repository.as_deref(),
        ws.repo.remote_url("origin").as_deref(),
    )?;
    // PRs updated before the range's oldest commit (less a day of clock skew) cannot be in it.
    let since = range
        .changes
        .iter()
        .map(|c| c.time())
        .min()
        .map(|t| t - 86_400);
    let ids = || range.changes.iter().map(|c| c.id().to_string()).collect();
    let fetched =
        github::pull_requests(env, &options, &ws.config.github, slug.as_ref(), ids, since)?;
    let enrichment = github::enrich(
        &mut range.changes,
        &fetched.prs,
        &ws.config.github,
        &ws.config.commits,
    );
    warnings.extend(fetched.warnings.iter().cloned());
    warnings.extend(enrichment.warnings.iter().cloned());
    // Planning `2.0.0-rc.2`: suggest within the same prerelease series.
    let pre_ident = requested
        .as_ref()
        .and_then(|v| v.pre.as_str().rsplit_once('.'))
        .filter(|(_, n)| n.parse::<u64>().is_ok())
        .map(|(ident, _)| ident.to_string());
    let rules = version_rules(&ws, &range, pre_ident)?;
    let suggested = commits::suggest(
        range.previous.as_ref().map(|t| &t.version),
        &range.changes,
        &rules,
    );
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
        // Compare releases, not prerelease numbers: 2.0.0-rc.1 answers a major bump.
        let core = |v: &Version| Version::new(v.major, v.minor, v.patch);
        if core(&version) < core(&needed) && args.version.is_some() {
            warnings.push(format!(
                "version {version} is smaller than the changes call for ({} bump): {}",
                suggested.level.as_str(),
                suggested.reason
            ));
        }
    }

    // Changed paths per commit: the risk engine's evidence. A commit whose trees
    // cannot be read (pruned or missing objects) loses its paths with one warning;
    // the plan goes on.
    let mut phase = progress::phase("assessing risks", Some(range.commits as u64));
    // Shared from here: the risk engine's evidence (`risk::CommitRef`), the commits'
    // paths and the plan's scope hold the same changes.
    let changes = std::mem::take(&mut range.changes);
    // Index for index with the changes.
    let paths = range
        .paths
        .take()
        .unwrap_or_else(|| git::PathLists::with_len(changes.len()));
    let unreadable: Vec<(&str, &Error)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, change)| Some((change.id(), paths.get(i)?.err()?)))
        .collect();
    // A treeless partial clone fails every commit: one warning, not one per commit.
    if unreadable.len() <= UNREADABLE_LISTED {
        for (id, e) in &unreadable {
            warnings.push(format!("skipped the paths of commit {id}: {e}"));
        }
    } else {
        let listed: Vec<&str> = unreadable
            .iter()
            .take(UNREADABLE_LISTED)
            .map(|u| u.0)
            .collect();
        warnings.push(format!(
            "skipped the paths of {} commits whose trees cannot be read (a partial clone or pruned objects?): {} and {} more; the first failed with: {}",
            unreadable.len(),
            listed.join(", "),
            unreadable.len() - UNREADABLE_LISTED,
            unreadable[0].1
        ));
    }
    drop(unreadable);
    // Distinct paths only: a long range touches the same files again and again.
    let all_paths: Vec<String> = paths.names().iter().map(|p| p.to_string()).collect();
    let totals = match range.totals.take().unwrap_or_else(|| {
        ws.repo
            .diff_totals(range.from.as_ref().map(|f| f.1), range.to.1)
    }) {
        Ok(totals) => totals,
        Err(e) => {
            warnings.push(format!(
                "line counts of the range are unknown (shown as 0): {e}"
            ));
            git::DiffTotals::default()
        }
    };
    let mut changed_paths = all_paths.clone();
    changed_paths.sort();
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
    let texts = read_risk_texts(&ws, &range, &changes, &paths, &mut warnings);
    // The reading is done (migration files, lockfiles, files searched for flags): a
    // fresh handle lets go of the pack index those reads touched
    // (`git::Repo::reopen`), before the risk engine and the documents.
    if let Ok(fresh) = ws.repo.reopen() {
        ws.repo = fresh;
    }
    // Moved, not copied: nothing after the risk engine reads the commits' messages.
    let messages: std::collections::BTreeMap<&str, String> = changes
        .iter()
        .zip(std::mem::take(&mut range.messages))
        .filter_map(|(c, message)| Some((c.id(), message?.into_string())))
        .collect();
    let labels = enrichment.labels_by_commit();
    let labelled: Vec<risk::LabelledPullRequest> = enrichment
        .pull_requests
        .iter()
        .filter_map(|pr| {
            let level = pr.risk.as_deref().and_then(risk::Level::parse)?;
            Some(risk::LabelledPullRequest {
                number: pr.number,
                title: pr.title.clone(),
                label: pr
                    .labels
                    .iter()
                    .find(|l| l.to_lowercase().starts_with("risk:"))
                    .cloned()
                    .unwrap_or_else(|| format!("risk:{level:?}").to_lowercase()),
                level,
                commits: pr.commits.clone(),
            })
        })
        .collect();
    let assessment = risk::assess(
        &risk::RiskInput {
            changes: &changes,
            paths: &paths,
            totals: &files.totals,
            texts: &texts,
            labels: &labels,
            messages: &messages,
            messages_filtered: true,
            flags: &ws.config.deploy.flags,
            labelled: &labelled,
        },
        &ws.config.risk,
    );
    // The per-commit inputs of the risk engine are the bulk of a long range's memory.
    drop((messages, texts, paths));
    let commit_count = range.commits;
    phase.set(commit_count as u64);
    phase.finish();
    let strategy = risk::choose_strategy(&assessment, &ws.config.deploy);
    let rollback = risk::plan_rollback(
        range.previous.as_ref().map(|t| risk::RollbackTarget {
            tag: t.name.clone(),
            id: t.commit.to_string(),
        }),
        &assessment,
        &strategy,
        &ws.config.deploy,
    );
    let mut team = team::build(&ws.config.team, &changes, &schedule);
    // GitHub uses the first CODEOWNERS it finds, as of the commit being released.
    if let Some((location, text)) = team::codeowners::LOCATIONS.iter().find_map(|loc| {
        ws.repo
            .file_at(range.to.1, loc)
            .map(|bytes| (*loc, String::from_utf8_lossy(&bytes).into_owned()))
    }) {
        let owners = team::codeowners::parse(&text);
        for error in &owners.errors {
            warnings.push(format!("{location} {error}: line skipped"));
        }
        team.reviewers = team::codeowners::review(location, &owners, &changed_paths);
    }
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
            commits: commit_count,
        },
        suggested,
        scope: Scope::from_changes(changes),
        files,
        risk: assessment,
        strategy,
        rollback,
        schedule,
        team,
        pull_requests: enrichment.pull_requests,
        first_time_contributors: enrichment.first_time_contributors,
        warnings,
        to_fill_in,
    };

    let templates_dir = args.templates.as_ref().map(|d| cwd.join(d)).or_else(|| {
        ws.config
            .templates
            .dir
            .as_ref()
            .map(|d| ws.repo.root().join(d))
    });
    let mut phase = progress::phase("rendering documents", Some(plan.range.commits as u64));
    let mut documents = write::Stage::new(&plan_dir, args.dry_run)?;
    render::render_all(&plan, templates_dir.as_deref(), &mut documents)?;
    phase.set(plan.range.commits as u64);
    phase.finish();
    let stamp = chrono::DateTime::parse_from_rfc3339(&plan.planning_started)
        .unwrap_or(now)
        .with_timezone(&chrono::Utc);
    let calendar = schedule::ics::render(
        &schedule::ics::CalendarInfo {
            project: &plan.project,
            version: &plan.version,
            tag: &plan.tag,
            relplan_version: &plan.relplan_version,
            stamp,
        },
        &plan.schedule,
    );
    documents.add("schedule/release.ics", |out| {
        out.write_all(calendar.as_bytes())
            .map_err(|e| Error::runtime(format!("cannot write schedule/release.ics: {e}")))
    })?;
    let decisions = documents.decide(&previous_files, args.force);
    let shown_dir = display_path(&plan_dir, cwd);
    let repo_dir = display_path(&plan_dir, ws.repo.root());
    Ok(Built {
        plan,
        documents,
        decisions,
        shown_dir,
        repo_dir,
        now,
        slug,
        github_note: fetched.note,
    })
}

/// Where the plan's files are on GitHub, when the repository is known.
fn plan_links(env: &github::Env, built: &Built) -> Option<github::comment::Links> {
    let slug = built.slug.as_ref()?;
    let at = |kind: &str| {
        format!(
            "{}/{slug}/{kind}/{}/{}",
            env.server_url, built.plan.range.to.id, built.repo_dir
        )
    };
    Some(github::comment::Links {
        tree: at("tree"),
        blob: at("blob"),
        files: built.documents.paths().map(str::to_string).collect(),
    })
}

/// The plan directory `relplan comment` summarises: `--plan`, else the one whose
/// metadata.json was written last under the output folder.
fn find_plan_dir(out_root: &Path, explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(dir) = explicit {
        if !dir.join("metadata.json").is_file() {
            return Err(Error::input(format!(
                "--plan {}: no metadata.json there; expected a plan directory written by `relplan plan`",
                dir.display()
            )));
        }
        return Ok(Some(dir.to_path_buf()));
    }
    let Ok(entries) = std::fs::read_dir(out_root) else {
        return Ok(None);
    };
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(modified) = std::fs::metadata(dir.join("metadata.json")).and_then(|m| m.modified())
        else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|(t, d)| (modified, &dir) > (*t, d))
        {
            best = Some((modified, dir));
        }
    }
    Ok(best.map(|(_, d)| d))
}

fn comment_command(cwd: &Path, args: CommentArgs) -> Result<String> {
    let env = github::Env::from_process();
    let event = env
        .event_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| github::actions::event_pr(&text));
    let pr = args.pr.or(event.as_ref().map(|e| e.number));
    if let Some(date) = &args.date {
        parse_date(date)?;
    }

    let ws = open(cwd, args.range.config.as_deref())?;
    let out_root = match &args.out {
        Some(dir) => cwd.join(dir),
        None => ws.repo.root().join(&ws.config.release.output_dir),
    };
    let explicit = args.plan.as_ref().map(|p| cwd.join(p));
    let plan_dir = find_plan_dir(&out_root, explicit.as_deref())?;
    let (version, date, out) = match &plan_dir {
        Some(dir) => {
            let path = dir.join("metadata.json");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
            let meta: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::input(format!("{} is not valid JSON: {e}", path.display())))?;
            let field = |key: &str| meta.get(key).and_then(|v| v.as_str()).map(str::to_string);
            let version = field("version")
                .ok_or_else(|| Error::input(format!("{} has no \"version\"", path.display())))?;
            let date = args.date.clone().or_else(|| field("release_date"));
            (Some(version), date, dir.parent().map(Path::to_path_buf))
        }
        None => (None, args.date.clone(), args.out.clone()),
    };
    let plan_args = PlanArgs {
        version,
        date,
        range: args.range.clone(),
        out,
        templates: None,
        format: Format::Markdown,
        force: false,
        dry_run: true,
        github: args.github.clone(),
    };
    let built = build_plan(cwd, &plan_args, &env)?;
    eprintln!("note: {}", built.github_note);
    let links = plan_links(&env, &built);
    let markdown = github::comment::markdown(&built.plan, links.as_ref());
    let body = github::comment::body(&markdown);
    if args.dry_run {
        return Ok(body);
    }
    // When the comment is skipped, the step summary carries the plan instead.
    let notice = |message: String| -> Result<String> {
        if env.actions {
            if let Some(path) = &env.step_summary {
                github::actions::append_step_summary(Path::new(path), &markdown)?;
            }
            eprintln!("{}", github::actions::annotation("notice", &message));
        } else {
            eprintln!("note: {message}");
        }
        Ok(String::new())
    };
    let Some(pr) = pr else {
        return Err(Error::input(
            "no pull request to comment on: pass --pr N, or run in a pull_request workflow (GITHUB_EVENT_PATH)",
        ));
    };
    if let Some(event) = event.as_ref().filter(|e| e.number == pr && e.from_fork) {
        return notice(format!(
            "skipped the plan comment: pull request #{} comes from a fork, and its token cannot write comments (the step summary has the plan)",
            event.number
        ));
    }
    if !ws.config.github.comment {
        return notice("skipped the plan comment: github.comment = false".into());
    }
    let options = github::Options {
        offline: args.github.offline,
        repo: args.github.repo.clone(),
        require: args.github.require_github,
    };
    if let Some(reason) = github::skip_reason(&env, &options) {
        if options.require {
            return Err(Error::input(format!("--require-github, but {reason}")));
        }
        return notice(format!("{reason}; no comment written"));
    }
    let Some(slug) = built.slug.as_ref() else {
        return Err(Error::input(
            "no GitHub repository to comment on: pass --repo OWNER/NAME or set GITHUB_REPOSITORY",
        ));
    };
    post_comment(&env, &ws.config.github, slug, pr, &body)
}

#[cfg(feature = "github")]
fn post_comment(
    env: &github::Env,
    config: &github::GithubConfig,
    slug: &github::RepoSlug,
    pr: u64,
    body: &str,
) -> Result<String> {
    let line = github::comment::post(env, config, slug, pr, body)?;
    Ok(format!("{line}\n"))
}

#[cfg(not(feature = "github"))]
fn post_comment(
    _env: &github::Env,
    _config: &github::GithubConfig,
    _slug: &github::RepoSlug,
    _pr: u64,
    _body: &str,
) -> Result<String> {
    unreachable!("skip_reason covers builds without the github feature")
}

/// Most bytes read from one file for the risk engine; larger files are cut here.
const RISK_READ_LIMIT: usize = 1 << 20;
/// Most changed files searched for declared flag names.
const FLAG_SCAN_LIMIT: usize = 2000;

fn text_of(bytes: Vec<u8>) -> String {
    let cut = bytes.len().min(RISK_READ_LIMIT);
    String::from_utf8_lossy(&bytes[..cut]).into_owned()
}

/// Reads what the risk engine asked for: migration files at the end of the range,
/// countable lockfiles at both ends and, when flags are declared, the changed files
/// that may name them. Nothing else is read.
/// Commits named one by one in the warning about unreadable trees; beyond, a count.
const UNREADABLE_LISTED: usize = 5;

fn read_risk_texts(
    ws: &Workspace,
    range: &RangeData,
    changes: &[commits::Change],
    paths: &git::PathLists,
    warnings: &mut Vec<String>,
) -> risk::FileTexts {
    let repo = &ws.repo;
    let to = range.to.1;
    let from = range.from.as_ref().map(|f| f.1);
    let requests = risk::content_requests(changes, paths, &ws.config.risk);
    let mut texts = risk::FileTexts::default();
    let at_end = repo.snapshot(to);
    let at_start = from.and_then(|f| repo.snapshot(f));
    let read = |snapshot: &Option<git::Snapshot<'_>>, path: &str| {
        snapshot.as_ref().and_then(|s| s.file(path)).map(text_of)
    };
    for path in requests.migrations {
        if let Some(text) = read(&at_end, &path) {
            texts.migrations.insert(path, text);
        }
    }
    for path in requests.lockfiles {
        let before = read(&at_start, &path);
        let after = read(&at_end, &path);
        texts.lockfiles.insert(path, (before, after));
    }
    let flags = &ws.config.deploy.flags;
    if !flags.is_empty() {
        let changed: std::collections::BTreeSet<&str> = (0..paths.len())
            .filter_map(|i| paths.get(i)?.ok())
            .flat_map(|list| list.iter())
            .filter(|p| p.status != 'D')
            .map(|p| p.path)
            .collect();
        if changed.len() > FLAG_SCAN_LIMIT {
            warnings.push(format!(
                "searched only the first {} changed files for feature flag names",
                FLAG_SCAN_LIMIT.min(changed.len())
            ));
        }
        for path in changed.into_iter().take(FLAG_SCAN_LIMIT) {
            if let Some(text) = read(&at_end, path) {
                texts
                    .flag_mentions
                    .extend(risk::flags_in_text(flags, path, &text));
            }
        }
    }
    texts
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
        "suggested_level": plan.suggested.level,
        "risk_level": plan.risk.level,
        "strategy": plan.strategy.recommended,
        "risks": plan.risk.risks.iter().map(|r| serde_json::json!({"key": r.key, "severity": r.severity})).collect::<Vec<_>>(),
        "relplan_version": plan.relplan_version,
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
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

    /// The hand-written envelope of `scope --format json` must stay what serde_json
    /// writes for the derived `Serialize`, with and without a start, on both sides
    /// of the parallel threshold.
    #[test]
    fn scope_json_is_written_as_serde_json_writes_it() {
        let messages = [
            "feat(api)!: new \"endpoint\"\n\nBREAKING CHANGE: old one gone",
            "fix: crash on \u{e9}mpty input (#12)",
            "Update README",
        ];
        let commits: Vec<git::Commit> = (0..20_000)
            .map(|i| git::Commit {
                oid: Oid::ZERO_SHA1,
                id: format!("{i:040x}").into(),
                message: messages[i % messages.len()].into(),
                author: "Ada".into(),
                author_email: "ada@example.com".into(),
                time: 1_700_000_000 + i as i64,
                parent_count: 1,
                tree: Oid::ZERO_SHA1,
                parents: Default::default(),
            })
            .collect();
        let changes = commits::classify(&commits, &Default::default());
        for (n, from) in [
            (3, None),
            (changes.len(), Some(ref_id("v1.0.0", Oid::ZERO_SHA1))),
        ] {
            let scope = ScopeJson {
                from,
                to: ref_id("main", Oid::ZERO_SHA1),
                changes: changes[..n].to_vec().into(),
            };
            let mut written = Vec::new();
            scope.write_json(&mut written).unwrap();
            let expected = serde_json::to_string_pretty(&scope).unwrap();
            assert!(written == expected.as_bytes(), "{n} changes differ");
        }
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("v1.4.0").unwrap(), Version::new(1, 4, 0));
        let err = parse_version("1.4").unwrap_err();
        assert!(err.message.contains("\"1.4\""), "{}", err.message);
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn project_names_from_remotes() {
        assert_eq!(
            project_from_url("git@github.com:acme/api.git").as_deref(),
            Some("api")
        );
        assert_eq!(
            project_from_url("https://ghe.example.com/acme/web/").as_deref(),
            Some("web")
        );
        assert_eq!(project_from_url("/srv/git/tool").as_deref(), Some("tool"));
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
