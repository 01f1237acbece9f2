//! Reading migration files for statements that make a rollback hard: destructive
//! ones (data or schema lost for good) and data backfills (rows rewritten).
//! Plain text scanning, statement by statement; no SQL parser, never fails.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// One statement worth a release manager's attention, with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line of the keyword.
    pub line: usize,
    /// `DROP TABLE`, `DROP COLUMN`, `TRUNCATE`, `ALTER TYPE`, `RENAME`, `DELETE without WHERE`, `UPDATE (backfill)`.
    pub kind: String,
    /// True when only a restore from backup undoes it.
    pub destructive: bool,
    /// The line, trimmed and shortened.
    pub text: String,
}

struct Pattern {
    kind: &'static str,
    regex: Regex,
    destructive: bool,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |kind, re: &str, destructive| Pattern {
        kind,
        regex: Regex::new(re).expect("migration pattern"),
        destructive,
    };
    vec![
        p("DROP TABLE", r"(?is)\bDROP\s+TABLE\b", true),
        p("DROP COLUMN", r"(?is)\bDROP\s+COLUMN\b", true),
        p("DROP SCHEMA", r"(?is)\bDROP\s+(?:SCHEMA|DATABASE)\b", true),
        p("TRUNCATE", r"(?is)\bTRUNCATE\b", true),
        p(
            "ALTER TYPE",
            r"(?is)\bALTER\s+TABLE\b.*?\b(?:ALTER|MODIFY)\b.*?\bTYPE\b",
            true,
        ),
        p("RENAME", r"(?is)\bRENAME\s+(?:COLUMN|TO|TABLE)\b", true),
        // Framework migrations (Rails, Alembic, Laravel, Knex...).
        p(
            "DROP TABLE",
            r"\b(?:drop_table|dropTable|dropIfExists)\b",
            true,
        ),
        p(
            "DROP COLUMN",
            r"\b(?:remove_column|drop_column|dropColumn)\b",
            true,
        ),
        p(
            "RENAME",
            r"\b(?:rename_column|rename_table|renameColumn)\b",
            true,
        ),
        p("ALTER TYPE", r"\bchange_column\b", true),
    ]
});

static DELETE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)\bDELETE\s+FROM\b").expect("delete"));
static WHERE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)\bWHERE\b").expect("where"));
static UPDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)\bUPDATE\s+\S+\s+SET\b").expect("update"));

/// Blanks `--` and `#` line comments and `/* */` blocks, keeping every offset and newline.
fn blank_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let starts_line_comment = (bytes[i] == b'-' && bytes.get(i + 1) == Some(&b'-'))
            || (bytes[i] == b'#' && bytes.get(i + 1) != Some(&b'{'));
        if starts_line_comment {
            while i < bytes.len() && bytes[i] != b'\n' {
                out[i] = b' ';
                i += 1;
            }
        } else if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                if bytes[i] != b'\n' {
                    out[i] = b' ';
                }
                i += 1;
            }
            for _ in 0..2 {
                if i < bytes.len() {
                    out[i] = b' ';
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII spaces; multi-byte characters are intact
    // unless a comment held them, in which case the lossy decode keeps lengths close enough.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn excerpt(original: &str, line: usize) -> String {
    let text = original.lines().nth(line - 1).unwrap_or("").trim();
    let mut short: String = text.chars().take(100).collect();
    if text.chars().count() > 100 {
        short.push('…');
    }
    short
}

/// Every destructive statement and data backfill in a migration's text, in file order.
pub fn scan(text: &str) -> Vec<Finding> {
    let clean = blank_comments(text);
    let mut findings = Vec::new();
    let mut start = 0;
    for statement in clean.split_inclusive(';') {
        let offset = start;
        start += statement.len();
        let mut add = |at: usize, kind: &str, destructive: bool| {
            let line = line_at(&clean, offset + at);
            if !findings
                .iter()
                .any(|f: &Finding| f.line == line && f.kind == kind)
            {
                findings.push(Finding {
                    line,
                    kind: kind.to_string(),
                    destructive,
                    text: excerpt(text, line),
                });
            }
        };
        for pattern in PATTERNS.iter() {
            for m in pattern.regex.find_iter(statement) {
                add(m.start(), pattern.kind, pattern.destructive);
            }
        }
        if let Some(m) = DELETE.find(statement) {
            if !WHERE.is_match(&statement[m.end()..]) {
                add(m.start(), "DELETE without WHERE", true);
            }
        }
        if let Some(m) = UPDATE.find(statement) {
            add(m.start(), "UPDATE (backfill)", false);
        }
    }
    findings.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.kind.cmp(&b.kind)));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(usize, String, bool)> {
        scan(text)
            .into_iter()
            .map(|f| (f.line, f.kind, f.destructive))
            .collect()
    }

    #[test]
    fn destructive_statements_with_lines() {
        let sql = "CREATE TABLE a (id int);\n\
                   ALTER TABLE users DROP COLUMN legacy_name;\n\
                   DROP TABLE sessions;\n\
                   TRUNCATE audit_log;\n\
                   ALTER TABLE users\n  ALTER COLUMN age TYPE bigint;\n\
                   ALTER TABLE users RENAME COLUMN a TO b;\n\
                   DELETE FROM tokens;\n\
                   DELETE FROM tokens WHERE expired;\n\
                   UPDATE users SET plan = 'free' WHERE plan IS NULL;\n";
        assert_eq!(
            kinds(sql),
            vec![
                (2, "DROP COLUMN".into(), true),
                (3, "DROP TABLE".into(), true),
                (4, "TRUNCATE".into(), true),
                (5, "ALTER TYPE".into(), true),
                (7, "RENAME".into(), true),
                (8, "DELETE without WHERE".into(), true),
                (10, "UPDATE (backfill)".into(), false),
            ]
        );
    }

    #[test]
    fn additive_and_commented_statements_are_not_flagged() {
        let sql = "-- DROP TABLE users; (kept for reference)\n\
                   /* TRUNCATE x; */\n\
                   CREATE TABLE users (id int);\n\
                   ALTER TABLE users ADD COLUMN email text;\n\
                   CREATE INDEX users_email ON users (email);\n";
        assert!(scan(sql).is_empty(), "{:?}", scan(sql));
    }

    #[test]
    fn framework_migrations() {
        let rb = "class X < ActiveRecord::Migration[7.0]\n  def change\n    remove_column :users, :name\n  end\nend\n";
        assert_eq!(kinds(rb), vec![(3, "DROP COLUMN".into(), true)]);
        let py = "def upgrade():\n    op.drop_table('sessions')\n";
        assert_eq!(kinds(py), vec![(2, "DROP TABLE".into(), true)]);
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "",
            ";;;",
            "/* unterminated",
            "--",
            "é DROP TABLE x",
            "DELETE FROM",
        ] {
            let _ = scan(text);
        }
        assert_eq!(kinds("é DROP TABLE x")[0].0, 1);
    }
}
