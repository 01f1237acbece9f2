//! Conventional Commits 1.0.0 parsing (https://www.conventionalcommits.org/en/v1.0.0/).
//!
//! Hand-written rather than the `git-conventional` crate: that crate implements the
//! strict grammar, and real histories need tolerance it lacks (CRLF, leading blank
//! lines, `#` comment lines left by editors, `Feat:` in any case, a missing space
//! after the colon, a footer without the blank line before it). Every step is one
//! pass over the lines: the cost is linear in the message length on any input, and
//! nothing here can panic (slicing only at positions found by `find`/`char_indices`).
//!
//! Tolerance, decided once:
//! - `feat:x` (no space after the colon) is accepted, description `x`.
//! - `feat :x` / `feat (api): x` (whitespace before the colon or scope) is NOT a
//!   conventional header: the spec puts the type, scope, `!` and `:` together, and a
//!   space there is more often prose ("Note : ...") than a typo.
//! - The type is any word of ASCII letters, digits, `-` and `_` starting with a letter,
//!   compared case-insensitively and reported lower-cased (spec rule 15).

/// A message split into header, body and footers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The first non-blank line, trimmed: what `git log --oneline` shows.
    pub subject: String,
    /// The parsed header, when it is a conventional one.
    pub header: Option<Header>,
    /// Free-form text between the header and the footers (normalized line endings).
    pub body: String,
    /// Trailers in order: `Token: value` or `Token #value`; values may span lines.
    pub footers: Vec<Footer>,
}

/// `type(scope)!: description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Lower-cased.
    pub kind: String,
    /// Trimmed; `None` when absent or empty.
    pub scope: Option<String>,
    /// `!` before the colon.
    pub bang: bool,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// As written (`BREAKING CHANGE`, `Co-authored-by`, `Refs`).
    pub token: String,
    /// Trimmed; continuation lines joined with `\n`.
    pub value: String,
}

impl Footer {
    /// `BREAKING CHANGE` / `BREAKING-CHANGE`, upper case only (spec rules 11, 12, 16).
    pub fn is_breaking(&self) -> bool {
        self.token == "BREAKING CHANGE" || self.token == "BREAKING-CHANGE"
    }
}

impl Message {
    /// The migration notes of every breaking footer, joined by blank lines.
    pub fn breaking_note(&self) -> Option<String> {
        let notes: Vec<&str> = self
            .footers
            .iter()
            .filter(|f| f.is_breaking())
            .map(|f| f.value.as_str())
            .filter(|v| !v.is_empty())
            .collect();
        let any = self.footers.iter().any(Footer::is_breaking);
        match (any, notes.is_empty()) {
            (false, _) => None,
            (true, true) => Some(String::new()),
            (true, false) => Some(notes.join("\n\n")),
        }
    }

    /// Values of footers whose token equals `token`, case-insensitively.
    pub fn footer_values<'a>(&'a self, token: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.footers
            .iter()
            .filter(move |f| f.token.eq_ignore_ascii_case(token))
            .map(|f| f.value.as_str())
    }
}

/// Lines of `raw` with CRLF/CR normalized, trailing whitespace trimmed, and editor
/// comment lines (`#` alone or followed by a space or tab, as git's default cleanup
/// writes them) dropped. `#123 ...` is kept: it is text, not a comment.
fn clean_lines(raw: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    // `split` on '\n' then strip a trailing '\r' handles CRLF; lone '\r' (old Mac)
    // separators are split too.
    for line in raw
        .split('\n')
        .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
    {
        let line = line.trim_end();
        if line == "#" || line.starts_with("# ") || line.starts_with("#\t") {
            continue;
        }
        lines.push(line);
    }
    lines
}

/// Parses a whole commit message. Never fails: a message that is not conventional
/// has `header: None` and still gets its body and footers.
pub fn parse(raw: &str) -> Message {
    let lines = clean_lines(raw);
    let Some(start) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Message::default();
    };
    let subject = lines[start].trim().to_string();
    let header = parse_header(&subject);
    let rest = &lines[start + 1..];
    let footer_start = footer_start(rest);
    let body_lines = &rest[..footer_start];
    let body = trim_blank(body_lines).join("\n");
    let footers = parse_footers(&rest[footer_start..]);
    Message {
        subject,
        header,
        body,
        footers,
    }
}

fn trim_blank<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    match (first, last) {
        (Some(a), Some(b)) => &lines[a..=b],
        _ => &[],
    }
}

/// Parses `type(scope)!: description`; `None` when the line is not a conventional header.
pub fn parse_header(line: &str) -> Option<Header> {
    let line = line.trim();
    let mut chars = line.char_indices().peekable();
    // type: [A-Za-z][A-Za-z0-9_-]*
    let (_, first) = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let mut type_end = first.len_utf8();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            chars.next();
            type_end = i + c.len_utf8();
        } else {
            break;
        }
    }
    let kind = line[..type_end].to_ascii_lowercase();
    let mut rest = &line[type_end..];
    let mut scope = None;
    if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')')?;
        let inner = &after[..close];
        if inner.contains('(') {
            return None;
        }
        let inner = inner.trim();
        scope = (!inner.is_empty()).then(|| inner.to_string());
        rest = &after[close + 1..];
    }
    let bang = rest.starts_with('!');
    if bang {
        rest = &rest[1..];
    }
    let rest = rest.strip_prefix(':')?;
    let description = rest.trim();
    if description.is_empty() {
        return None;
    }
    Some(Header {
        kind,
        scope,
        bang,
        description: description.to_string(),
    })
}

/// If `line` starts a footer, its token and the value's first line.
/// `Token: value`, `Token #value`, `BREAKING CHANGE: value`; a token uses `-` for
/// spaces (spec rule 9), so `Fixed bug: x` is prose, not a footer.
pub fn footer_line(line: &str) -> Option<(&str, &str)> {
    for special in ["BREAKING CHANGE", "BREAKING-CHANGE"] {
        if let Some(rest) = line.strip_prefix(special) {
            if let Some(value) = rest.strip_prefix(':') {
                return Some((special, value.trim()));
            }
        }
    }
    let first = line.chars().next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    let token = &line[..end];
    let rest = &line[end..];
    if let Some(value) = rest.strip_prefix(": ") {
        return Some((token, value.trim()));
    }
    if rest == ":" {
        return Some((token, ""));
    }
    if let Some(value) = rest.strip_prefix(" #") {
        if !value.is_empty() && !value.starts_with(' ') {
            return Some((token, value.trim()));
        }
    }
    None
}

/// Index in `rest` (the lines after the header) where the footers begin; `rest.len()`
/// when there are none.
///
/// Footers are the trailing paragraphs whose first line is a footer (spec rule 8:
/// one blank line after the body). Two tolerances: a paragraph that opens with a
/// `BREAKING CHANGE:` footer starts the footers even when prose follows (its value
/// runs until the next token, spec rule 10), and a footer directly under the header
/// (no blank line) counts.
fn footer_start(rest: &[&str]) -> usize {
    // Paragraph starts: the first non-blank line after a blank line (or the header).
    let mut starts = Vec::new();
    let mut after_blank = true;
    for (i, line) in rest.iter().enumerate() {
        if line.trim().is_empty() {
            after_blank = true;
        } else {
            if after_blank {
                starts.push(i);
            }
            after_blank = false;
        }
    }
    let mut start = rest.len();
    for &i in starts.iter().rev() {
        if footer_line(rest[i]).is_some() {
            start = i;
        } else {
            break;
        }
    }
    if let Some(&i) = starts
        .iter()
        .find(|&&i| footer_line(rest[i]).is_some_and(|(t, _)| t.starts_with("BREAKING")))
    {
        start = start.min(i);
    }
    start
}

fn parse_footers(lines: &[&str]) -> Vec<Footer> {
    let mut footers: Vec<(String, Vec<&str>)> = Vec::new();
    for line in lines {
        match footer_line(line) {
            Some((token, value)) => footers.push((token.to_string(), vec![value])),
            None => {
                if let Some((_, value)) = footers.last_mut() {
                    value.push(line.trim());
                }
            }
        }
    }
    footers
        .into_iter()
        .map(|(token, value)| Footer {
            token,
            value: trim_blank(&value).join("\n"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> Option<(String, Option<String>, bool, String)> {
        parse_header(line).map(|h| (h.kind, h.scope, h.bang, h.description))
    }

    // Spec rules 1-5: type, optional scope in parentheses, `!`, colon and space, description.
    #[test]
    fn header_type_scope_bang_description() {
        assert_eq!(
            header("feat(parser)!: accept arrays"),
            Some((
                "feat".into(),
                Some("parser".into()),
                true,
                "accept arrays".into()
            ))
        );
        assert_eq!(
            header("fix: one"),
            Some(("fix".into(), None, false, "one".into()))
        );
        assert_eq!(
            header("chore!: drop node 14"),
            Some(("chore".into(), None, true, "drop node 14".into()))
        );
    }

    // Rule 15: types are case-insensitive; reported lower-cased.
    #[test]
    fn header_type_is_case_insensitive() {
        assert_eq!(header("Feat: X").unwrap().0, "feat");
        assert_eq!(header("FIX(Auth): y").unwrap().1.as_deref(), Some("Auth"));
    }

    #[test]
    fn header_tolerance_is_as_documented() {
        assert_eq!(header("feat:x").unwrap().3, "x");
        assert_eq!(header("feat :x"), None);
        assert_eq!(header("feat (api): x"), None);
        assert_eq!(header("feat: "), None, "description must not be empty");
        assert_eq!(
            header("feat()!: x").unwrap().1,
            None,
            "empty scope is no scope"
        );
        assert_eq!(header("feat(a(b)): x"), None);
        assert_eq!(header("feat(api: x"), None);
        assert_eq!(header("Update the readme"), None);
        assert_eq!(header("Fix bug: x"), None, "a type is one word");
        assert_eq!(header("1.2.3: release"), None);
        assert_eq!(header("ünïcode: x"), None);
        assert_eq!(header("feat(ünï): ☃ snow").unwrap().3, "☃ snow");
    }

    // Rule 6-7: the body starts one blank line after the header, any number of paragraphs.
    #[test]
    fn body_is_free_form_paragraphs() {
        let m = parse("fix: a\n\nfirst paragraph\nstill first\n\nsecond\n");
        assert_eq!(m.body, "first paragraph\nstill first\n\nsecond");
        assert!(m.footers.is_empty());
    }

    // Rules 8-10: git-trailer footers, `-` for spaces, values spanning lines.
    #[test]
    fn footers_are_trailers_with_multiline_values() {
        let m = parse("fix: a\n\nbody\n\nReviewed-by: Z\nRefs #133\nNote: line one\n  line two\n");
        assert_eq!(m.body, "body");
        let pairs: Vec<(&str, &str)> = m
            .footers
            .iter()
            .map(|f| (f.token.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("Reviewed-by", "Z"),
                ("Refs", "133"),
                ("Note", "line one\nline two")
            ]
        );
    }

    #[test]
    fn prose_with_a_colon_is_not_a_footer() {
        let m = parse("fix: a\n\nFixed the bug: it was bad\n");
        assert!(m.footers.is_empty());
        assert_eq!(m.body, "Fixed the bug: it was bad");
    }

    // Rules 11-13, 16: BREAKING CHANGE footer (upper case), BREAKING-CHANGE synonym.
    #[test]
    fn breaking_footers_upper_case_only() {
        let m = parse("feat: a\n\nBREAKING CHANGE: use `b` instead of `a`\n");
        assert_eq!(m.breaking_note().as_deref(), Some("use `b` instead of `a`"));
        let m = parse("feat: a\n\nBREAKING-CHANGE: gone\n");
        assert_eq!(m.breaking_note().as_deref(), Some("gone"));
        let m = parse("feat: a\n\nbreaking change: not really\n");
        assert_eq!(m.breaking_note(), None);
        let m = parse("feat: a\n\nbreaking-change: not really\n");
        assert_eq!(m.breaking_note(), None);
    }

    #[test]
    fn breaking_note_runs_until_the_next_token() {
        let m = parse(
            "feat: a\n\nintro\n\nBREAKING CHANGE: config moved.\n\nRename `x` to `y`.\nRefs: #9\n",
        );
        assert_eq!(m.body, "intro");
        assert_eq!(
            m.breaking_note().as_deref(),
            Some("config moved.\n\nRename `x` to `y`.")
        );
        assert_eq!(m.footer_values("refs").collect::<Vec<_>>(), vec!["#9"]);
    }

    #[test]
    fn footer_without_blank_line_is_forgiven() {
        let m = parse("feat: a\nBREAKING CHANGE: b\n");
        assert_eq!(m.breaking_note().as_deref(), Some("b"));
    }

    #[test]
    fn crlf_comments_leading_blanks_and_trailing_spaces() {
        let m = parse("\r\n\r\n  feat(x): y  \r\n\r\nbody line   \r\n# Please enter the commit message\r\n#\r\n#123 is an issue\r\n\r\nSigned-off-by: A <a@b>\r\n");
        assert_eq!(m.subject, "feat(x): y");
        assert_eq!(m.header.as_ref().unwrap().description, "y");
        assert_eq!(m.body, "body line\n#123 is an issue");
        assert_eq!(m.footers[0].value, "A <a@b>");
    }

    #[test]
    fn empty_and_blank_messages() {
        assert_eq!(parse(""), Message::default());
        assert_eq!(parse("\r\n\n  \n"), Message::default());
        assert_eq!(parse("# only a comment\n").subject, "");
    }
}
