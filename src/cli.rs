//! Command-line definitions (clap). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// relplan: an evidence-based release plan from your git history.
///
/// Run inside a git repository before cutting a release. relplan reads the
/// commits since the last release tag, classifies them by Conventional Commits,
/// and writes a dated plan (scope, risks, strategy, schedule, team, rollback,
/// communications) to releases/v<VERSION>/.
///
/// Start with `relplan plan --date 2026-12-15 --dry-run` to see what it would write.
#[derive(Debug, Parser)]
#[command(name = "relplan", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress output on stderr (warnings and errors still print). Progress is
    /// also hidden when stderr is not a terminal; with CI=true it is one line per phase.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the release plan directory for a version.
    ///
    /// Examples:
    ///   relplan plan 1.4.0 --date 2026-12-15
    ///   relplan plan --date 2026-12-15 --dry-run   (version suggested from the commits)
    ///   relplan plan 2.0.0 --from v1.3.0 --format json
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
    /// Post the plan summary as a sticky comment on a pull request.
    ///
    /// One comment, found by a hidden marker: updated in place on re-runs, never
    /// duplicated, not rewritten when nothing changed. Needs GITHUB_TOKEN or GH_TOKEN.
    ///
    /// Examples:
    ///   relplan comment --pr 42                         (summary of the latest plan written)
    ///   relplan comment --plan releases/v1.4.0          (in Actions: the PR of the event)
    #[command(verbatim_doc_comment)]
    Comment(CommentArgs),
    /// Print the classified changes of a range (no files written).
    ///
    /// The JSON form is a stable contract for scripts: see README "JSON contract".
    Scope(ScopeArgs),
    /// Print the next version the changes call for, and why.
    NextVersion(NextVersionArgs),
    /// Write .relplan.toml in the repository root from the documented example.
    Init(InitArgs),
    /// Work with the document templates.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Internal: answers changed-path requests of another relplan process (one diff
    /// per line on stdin, see src/git/helper.rs), so that its tree diffs run on
    /// another core.
    #[command(name = "__changed-paths", hide = true)]
    ChangedPaths {
        /// The repository's git directory.
        git_dir: PathBuf,
    },
}

/// Options shared by every command that reads a range of history.
#[derive(Debug, Args, Clone, Default)]
pub struct RangeArgs {
    /// Start of the range (exclusive). Default: the nearest release tag reachable from --to.
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// End of the range (inclusive).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub to: String,
    /// Config file. Default: .relplan.toml in the repository root, if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Version to plan, SemVer with an optional leading `v` (1.4.0, v2.0.0-rc.1).
    /// Default: the version the changes call for (see `relplan next-version`).
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    /// Target release date, YYYY-MM-DD. Default: today + schedule.lead_days from the config.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Folder that holds plan directories (the plan goes to DIR/v<VERSION>).
    /// Default: release.output_dir from the config, "releases" under the repository root.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of template overrides (see `relplan templates export`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How to print the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Overwrite documents a person edited instead of writing <name>.new beside them.
    #[arg(long)]
    pub force: bool,
    /// Print what would be written and the summary; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub github: GithubArgs,
}

/// How relplan talks to GitHub (token from GITHUB_TOKEN or GH_TOKEN; API base from
/// GITHUB_API_URL, for GitHub Enterprise Server `https://HOST/api/v3`).
#[derive(Debug, Args, Clone, Default)]
pub struct GithubArgs {
    /// Make no network call at all: plan from git alone.
    #[arg(long)]
    pub offline: bool,
    /// GitHub repository OWNER/NAME. Default: GITHUB_REPOSITORY, else the `origin` remote.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Fail (exit 1) when GitHub cannot be used, instead of planning from git alone.
    #[arg(long, conflicts_with = "offline")]
    pub require_github: bool,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// Pull request number. Default: the pull request of the workflow event (GITHUB_EVENT_PATH).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Plan directory to summarise (its metadata.json gives version and date).
    /// Default: the most recently written plan under the output folder; without one,
    /// a plan computed in memory (needs --date or schedule.lead_days).
    #[arg(long, value_name = "DIR")]
    pub plan: Option<PathBuf>,
    /// Target release date for a plan computed in memory, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Folder that holds plan directories. Default: release.output_dir.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the comment body instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScopeFormat::Markdown)]
    pub format: ScopeFormat,
}

#[derive(Debug, Args)]
pub struct NextVersionArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Print the reason on stdout after the version (it always goes to stderr otherwise).
    #[arg(long)]
    pub explain: bool,
    /// Suggest a prerelease with this identifier: `--pre rc` gives 2.0.0-rc.1, or
    /// 2.0.0-rc.2 when 2.0.0-rc.1 is already tagged.
    #[arg(long, value_name = "IDENT")]
    pub pre: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config. Default: .relplan.toml in the repository root.
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the built-in templates to DIR so you can edit them; then pass
    /// `--templates DIR` (or set templates.dir). Files you delete fall back to the built-in ones.
    Export {
        /// Folder to write into (created if missing; existing templates are never overwritten).
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary for a terminal.
    Text,
    /// The whole Plan model as JSON (the data templates see).
    Json,
    /// The summary as Markdown (for PR comments and step summaries).
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeFormat {
    Markdown,
    Json,
}

#[cfg(test)]
mod tests {
    #[test]
    fn readme_documents_every_subcommand() {
        use clap::CommandFactory;
        let readme = include_str!("../README.md");
        // Hidden subcommands are internal (the tree-diff helper process).
        for sub in super::Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let name = sub.get_name();
            assert!(
                readme.contains(&format!("`relplan {name}")),
                "README.md does not document `relplan {name}`"
            );
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
