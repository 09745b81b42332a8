//! Where an agent quotes rather than speaks: a fenced block, a quoted line,
//! inline code. Read one way for the whole suite, so that an action block
//! (`protocol`) and an assessment tag (`awareness`) shown in a quotation
//! are both a quotation, never an act or a statement.

use std::ops::Range;

/// The spans of `text` that quote rather than state, so that a tag written
/// in them is a quotation (the agent repeating a format, say), not the
/// agent's own statement:
///
/// - a fenced block, from a line starting with three or more backticks or
///   tildes to a line closing it with at least as many of the same (an
///   unclosed fence runs to the end);
/// - a quoted line, starting with `>`;
/// - inline code, between two runs of the same number of backticks on one
///   line (a run without its match is a plain backtick).
///
/// Leading whitespace before a fence or a `>` is allowed. Spans are byte
/// ranges, in order.
pub fn spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    // The fence being read: its character, its length and where it opened.
    let mut fence: Option<(u8, usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        if let Some((mark, length, opened)) = fence {
            if closes_fence(trimmed, mark, length) {
                spans.push(opened..offset);
                fence = None;
            }
            continue;
        }
        if let Some((mark, length)) = fence_mark(trimmed) {
            fence = Some((mark, length, start));
        } else if trimmed.starts_with('>') {
            spans.push(start..offset);
        } else {
            spans.extend(
                inline_code(line)
                    .into_iter()
                    .map(|span| start + span.start..start + span.end),
            );
        }
    }
    if let Some((_, _, opened)) = fence {
        spans.push(opened..text.len());
    }
    spans
}

/// Whether byte `at` of a text lies in one of its quotation `spans`.
pub fn is_quoted(quotations: &[Range<usize>], at: usize) -> bool {
    quotations.iter().any(|span| span.contains(&at))
}

/// The length of the run of `mark` that `text` starts with.
fn run(text: &[u8], mark: u8) -> usize {
    text.iter().take_while(|&&b| b == mark).count()
}

/// A line (without its indent) that opens a fence: its character and
/// length.
fn fence_mark(line: &str) -> Option<(u8, usize)> {
    let mark = *line.as_bytes().first()?;
    let length = run(line.as_bytes(), mark);
    (matches!(mark, b'`' | b'~') && length >= 3).then_some((mark, length))
}

fn closes_fence(line: &str, mark: u8, length: usize) -> bool {
    let found = run(line.as_bytes(), mark);
    found >= length && line[found..].trim().is_empty()
}

/// The inline code spans of one line, backticks included.
fn inline_code(line: &str) -> Vec<Range<usize>> {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'`' {
            at += 1;
            continue;
        }
        let length = run(&bytes[at..], b'`');
        let mut next = at + length;
        let mut close = None;
        while next < bytes.len() {
            if bytes[next] != b'`' {
                next += 1;
                continue;
            }
            let found = run(&bytes[next..], b'`');
            if found == length {
                close = Some(next + found);
                break;
            }
            next += found;
        }
        match close {
            Some(end) => {
                spans.push(at..end);
                at = end;
            }
            None => at += length,
        }
    }
    spans
}

/// A fenced block being read: its character and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fence {
    mark: u8,
    length: usize,
}

impl Fence {
    /// The fence a line (indent aside) opens, if it opens one.
    pub fn opened_by(line: &str) -> Option<Fence> {
        fence_mark(line.trim_start()).map(|(mark, length)| Fence { mark, length })
    }

    /// Whether a line (indent aside) closes this fence.
    pub fn closed_by(self, line: &str) -> bool {
        closes_fence(line.trim_start(), self.mark, self.length)
    }
}

/// Whether a line (indent aside) is a quoted line, starting with `>`.
pub fn is_quoted_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted_parts(text: &str) -> Vec<&str> {
        spans(text).into_iter().map(|span| &text[span]).collect()
    }

    #[test]
    fn fenced_blocks_are_quotations_to_their_closing_fence() {
        let text = "Before.\n```text\n<a>\n```\nBetween.\n  ~~~~\nx\n~~~\n~~~~\nAfter.";
        assert_eq!(
            quoted_parts(text),
            ["```text\n<a>\n```\n", "  ~~~~\nx\n~~~\n~~~~\n"]
        );
        assert_eq!(
            quoted_parts("a\n```\nrest\n``\nmore"),
            ["```\nrest\n``\nmore"]
        );
        assert_eq!(quoted_parts("``not a fence``\n"), ["``not a fence``"]);
    }

    #[test]
    fn quoted_lines_and_inline_code_are_spans() {
        let text = "Said:\n> quoted `x`\n   > also\nNot > this, but `this` and ``th`is``.\n`open";
        assert_eq!(
            quoted_parts(text),
            ["> quoted `x`\n", "   > also\n", "`this`", "``th`is``"]
        );
        assert_eq!(
            quoted_parts("a ` b ``c`` d"),
            ["``c``"],
            "a lone backtick quotes nothing"
        );
        assert!(spans("No quotes at all.").is_empty());
        let spans = spans("ab `cd` ef");
        assert!(!is_quoted(&spans, 2));
        assert!(is_quoted(&spans, 3) && is_quoted(&spans, 6));
        assert!(!is_quoted(&spans, 7));
    }

    #[test]
    fn a_fence_opens_and_closes_as_the_spans_say() {
        let fence = Fence::opened_by("  ````text\n").expect("opens");
        assert!(!fence.closed_by("```\n"));
        assert!(fence.closed_by("````\n") && fence.closed_by(" ~~~~~".replace('~', "`").as_str()));
        assert!(!Fence::opened_by("~~~").expect("opens").closed_by("```"));
        assert_eq!(Fence::opened_by("``not a fence``"), None);
        assert!(is_quoted_line("   > said") && !is_quoted_line("not > this"));
    }
}
