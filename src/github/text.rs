//! Neutralising text that comes from commits and pull requests before it goes
//! into a comment or step summary: it must not @-mention anyone, reference or
//! close issues (`fixes #12`), or break out of the Markdown around it (tables,
//! code spans, HTML comments such as relplan's own marker). Pure.

const ZWSP: char = '\u{200B}';

/// One line of inert Markdown text: line breaks become spaces, Markdown and HTML
/// punctuation is backslash-escaped, and a zero-width space breaks every
/// `@name` and `#123` so GitHub links neither people nor issues.
pub fn neutralise(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            '@' => {
                out.push('@');
                if chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '-' || *n == '_')
                {
                    out.push(ZWSP);
                }
            }
            '#' => {
                out.push_str("\\#");
                if chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                    out.push(ZWSP);
                }
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_issue_references_are_broken() {
        let out = neutralise("thanks @octocat, fixes #12 and owner/repo#3");
        assert!(!out.contains("@octocat"), "{out}");
        assert!(out.contains("@\u{200B}octocat"), "{out}");
        assert!(!out.contains("#12"), "{out}");
        assert!(!out.contains("#3"), "{out}");
        // an e-mail-like or lone @ stays readable
        assert_eq!(neutralise("a @ b"), "a @ b");
    }

    #[test]
    fn markdown_and_html_cannot_escape() {
        let out = neutralise("x | y\n\n## heading `code` <!-- relplan:plan-summary --> [l](u)");
        assert!(!out.contains('\n'), "{out}");
        assert!(!out.contains("<!--"), "{out}");
        assert!(out.contains("\\|"), "{out}");
        assert!(out.contains("\\`code\\`"), "{out}");
        assert!(out.contains("\\[l\\]"), "{out}");
    }
}
