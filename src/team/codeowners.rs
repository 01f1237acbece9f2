//! CODEOWNERS: parse GitHub's file and say who owns the paths a release changes.
//! Pure: the file's text comes from the edge (`git::Repo::file_at`).
//!
//! Rules follow GitHub's documentation ("About code owners"): the first file found
//! of `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS` is used; patterns follow
//! gitignore syntax without negation (`!`) or character ranges; a pattern that starts
//! with `/` or contains a `/` before its end is anchored at the root; a trailing `/`
//! matches a directory's contents only; `dir/*` matches files directly in `dir`, not
//! deeper; the last matching line wins, and a line without owners leaves a path
//! unowned.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde::Serialize;

/// Where GitHub looks, in order.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: String,
    pub owners: Vec<String>,
    pub line: usize,
    exact: Option<GlobMatcher>,
    inside: Option<GlobMatcher>,
}

impl Rule {
    pub fn matches(&self, path: &str) -> bool {
        self.exact.as_ref().is_some_and(|g| g.is_match(path))
            || self.inside.as_ref().is_some_and(|g| g.is_match(path))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    pub rules: Vec<Rule>,
    /// Lines GitHub would reject, as `line N: why`.
    pub errors: Vec<String>,
}

fn glob(text: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .map(|g: Glob| g.compile_matcher())
}

fn compile(pattern: &str) -> Result<(Option<GlobMatcher>, Option<GlobMatcher>), String> {
    if pattern.starts_with('!') {
        return Err("negation (!) is not supported in CODEOWNERS".into());
    }
    if pattern.contains('[') || pattern.contains(']') {
        return Err("character ranges ([...]) are not supported in CODEOWNERS".into());
    }
    let dir_only = pattern.ends_with('/');
    let trimmed = pattern.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.contains('/');
    let body = trimmed.trim_start_matches('/');
    if body.is_empty() {
        // "/" alone: the whole repository.
        return Ok((None, Some(glob("**").map_err(|e| e.to_string())?)));
    }
    let base = if anchored || body.starts_with("**/") {
        body.to_string()
    } else {
        format!("**/{body}")
    };
    let exact = if dir_only {
        None
    } else {
        Some(glob(&base).map_err(|e| e.to_string())?)
    };
    // `docs/*` covers files directly in docs/ only; any other pattern that names a
    // directory covers everything below it.
    let inside = if body.ends_with("/*") || (body == "*" && anchored) {
        None
    } else {
        Some(glob(&format!("{base}/**")).map_err(|e| e.to_string())?)
    };
    Ok((exact, inside))
}

fn valid_owner(owner: &str) -> bool {
    let handle = owner.strip_prefix('@');
    match handle {
        Some(h) => !h.is_empty() && h.split('/').count() <= 2 && !h.ends_with('/'),
        None => owner.contains('@') && !owner.starts_with('@') && !owner.ends_with('@'),
    }
}

/// Parses CODEOWNERS text; bad lines are reported and skipped, as GitHub does.
pub fn parse(text: &str) -> CodeOwners {
    let mut out = CodeOwners::default();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        // A `#` starts a comment unless escaped (`\#` for a literal leading #).
        let mut content = String::new();
        let mut prev = '\0';
        for c in raw.chars() {
            if c == '#' && prev != '\\' {
                break;
            }
            content.push(c);
            prev = c;
        }
        let mut parts = content.split_whitespace();
        let Some(pattern) = parts.next() else {
            continue;
        };
        let pattern = pattern.replace("\\#", "#");
        let owners: Vec<String> = parts.map(str::to_string).collect();
        if let Some(bad) = owners.iter().find(|o| !valid_owner(o)) {
            out.errors.push(format!(
                "line {line_no}: {bad:?} is not an owner (expected @user, @org/team or an email address)"
            ));
            continue;
        }
        match compile(&pattern) {
            Ok((exact, inside)) => out.rules.push(Rule {
                pattern,
                owners,
                line: line_no,
                exact,
                inside,
            }),
            Err(why) => out
                .errors
                .push(format!("line {line_no}: pattern {pattern:?}: {why}")),
        }
    }
    out
}

impl CodeOwners {
    /// The last rule matching `path`, if any.
    pub fn owner_rule(&self, path: &str) -> Option<&Rule> {
        self.rules.iter().rev().find(|r| r.matches(path))
    }
}

/// How many changed files of one CODEOWNERS pattern an owner covers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AreaCount {
    pub pattern: String,
    pub files: usize,
}

/// One owner and the changed files they are asked to review.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OwnerCoverage {
    pub owner: String,
    pub files: usize,
    pub areas: Vec<AreaCount>,
}

/// Suggested reviewers and approvers from CODEOWNERS for the range's changed paths.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Reviewers {
    /// The CODEOWNERS file used, or null when the repository has none.
    pub file: Option<String>,
    /// How many distinct changed files were matched against it.
    pub files: usize,
    pub owners: Vec<OwnerCoverage>,
    /// Changed files no rule owns (count, and the first few paths).
    pub unowned: usize,
    pub unowned_paths: Vec<String>,
    /// CODEOWNERS lines skipped as invalid.
    pub errors: Vec<String>,
}

const UNOWNED_SHOWN: usize = 20;

/// Applies `owners` to the changed `paths` (last match wins).
pub fn review(file: &str, owners: &CodeOwners, paths: &[String]) -> Reviewers {
    let mut per_owner: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut unowned = Vec::new();
    let mut sorted: Vec<&String> = paths.iter().collect();
    sorted.sort();
    sorted.dedup();
    let files = sorted.len();
    for path in sorted {
        match owners.owner_rule(path) {
            Some(rule) if !rule.owners.is_empty() => {
                for owner in &rule.owners {
                    *per_owner
                        .entry(owner.as_str())
                        .or_default()
                        .entry(rule.pattern.as_str())
                        .or_default() += 1;
                }
            }
            _ => unowned.push(path.clone()),
        }
    }
    let mut list: Vec<OwnerCoverage> = per_owner
        .into_iter()
        .map(|(owner, areas)| {
            let mut areas: Vec<AreaCount> = areas
                .into_iter()
                .map(|(pattern, files)| AreaCount {
                    pattern: pattern.to_string(),
                    files,
                })
                .collect();
            areas.sort_by(|a, b| {
                b.files
                    .cmp(&a.files)
                    .then_with(|| a.pattern.cmp(&b.pattern))
            });
            OwnerCoverage {
                owner: owner.to_string(),
                files: areas.iter().map(|a| a.files).sum(),
                areas,
            }
        })
        .collect();
    list.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.owner.cmp(&b.owner)));
    let count = unowned.len();
    unowned.truncate(UNOWNED_SHOWN);
    Reviewers {
        file: Some(file.to_string()),
        files,
        owners: list,
        unowned: count,
        unowned_paths: unowned,
        errors: owners.errors.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_of(text: &str, path: &str) -> Option<String> {
        parse(text).owner_rule(path).map(|r| r.owners.join(" "))
    }

    #[test]
    fn github_documented_patterns() {
        // (CODEOWNERS line, path, owned by it?)
        let table: &[(&str, &str, bool)] = &[
            ("* @all", "README.md", true),
            ("* @all", "src/deep/file.rs", true),
            ("*.js @js", "app.js", true),
            ("*.js @js", "web/src/app.js", true),
            ("*.js @js", "app.jsx", false),
            ("/build/logs/ @logs", "build/logs/today.log", true),
            ("/build/logs/ @logs", "build/logs/old/x.log", true),
            ("/build/logs/ @logs", "src/build/logs/x.log", false),
            ("docs/* @docs", "docs/getting-started.md", true),
            ("docs/* @docs", "docs/build-app/troubleshooting.md", false),
            ("apps/ @apps", "apps/web/main.rs", true),
            ("apps/ @apps", "services/apps/x.rs", true),
            ("apps/ @apps", "apps", false),
            ("/docs/ @rootdocs", "docs/a.md", true),
            ("/docs/ @rootdocs", "src/docs/a.md", false),
            ("**/logs @l", "deep/down/logs/a.txt", true),
            ("**/logs @l", "logs/a.txt", true),
            ("/scripts/ @s", "scripts/run.sh", true),
            ("src/api @api", "src/api/v1/routes.rs", true),
            ("src/api @api", "lib/src/api/x.rs", false),
            ("Makefile @m", "tools/Makefile", true),
            ("/Makefile @m", "tools/Makefile", false),
            ("migrations @db", "db/migrations/001.sql", true),
        ];
        for (line, path, owned) in table {
            assert_eq!(
                owner_of(line, path).is_some(),
                *owned,
                "{line:?} vs {path:?}"
            );
        }
    }

    #[test]
    fn last_match_wins() {
        let text = "\
# Default owners
*       @acme/everyone
*.sql   @acme/dba
/src/   @acme/backend   # backend code
/src/api/ @ada @acme/api
/src/vendored/
";
        assert_eq!(
            owner_of(text, "README.md").as_deref(),
            Some("@acme/everyone")
        );
        assert_eq!(owner_of(text, "db/1.sql").as_deref(), Some("@acme/dba"));
        // /src/ comes after *.sql: it wins for SQL files under src.
        assert_eq!(
            owner_of(text, "src/q.sql").as_deref(),
            Some("@acme/backend")
        );
        assert_eq!(
            owner_of(text, "src/api/x.rs").as_deref(),
            Some("@ada @acme/api")
        );
        // A rule without owners makes the path unowned.
        assert_eq!(owner_of(text, "src/vendored/lib.c").as_deref(), Some(""));
    }

    #[test]
    fn invalid_lines_are_reported_and_skipped() {
        let parsed = parse("!secret @x\n*.rs not-an-owner\n[ab].txt @y\n*.md @ok\n");
        assert_eq!(parsed.rules.len(), 1);
        assert_eq!(parsed.errors.len(), 3, "{:?}", parsed.errors);
        assert!(
            parsed.errors[0].starts_with("line 1:"),
            "{:?}",
            parsed.errors
        );
        assert!(
            parsed.errors[1].contains("not-an-owner"),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn escaped_hash_is_a_literal() {
        assert!(owner_of("\\#notes.md @n", "#notes.md").is_some());
    }

    #[test]
    fn review_counts_files_per_owner_and_area() {
        let owners = parse("* @everyone\n/src/api/ @api @lead\n*.sql @dba\n/vendor/\n");
        let paths: Vec<String> = [
            "src/api/a.rs",
            "src/api/b.rs",
            "db/1.sql",
            "README.md",
            "vendor/x.c",
            "src/api/a.rs",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let r = review(".github/CODEOWNERS", &owners, &paths);
        let summary: Vec<(&str, usize)> = r
            .owners
            .iter()
            .map(|o| (o.owner.as_str(), o.files))
            .collect();
        assert_eq!(
            summary,
            vec![("@api", 2), ("@lead", 2), ("@dba", 1), ("@everyone", 1)]
        );
        assert_eq!(
            r.owners[0].areas,
            vec![AreaCount {
                pattern: "/src/api/".into(),
                files: 2
            }]
        );
        assert_eq!(r.unowned, 1);
        assert_eq!(r.unowned_paths, vec!["vendor/x.c"]);
        assert_eq!(r.files, 5, "a path changed twice counts once");
    }
}
