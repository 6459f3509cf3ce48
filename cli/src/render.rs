//! Renders library diagnostics rustc-style: the message, the source line, a caret.

use asm::diag::{expected_list, Diagnostic, Severity};
use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::term::{self, termcolor};
use std::io::IsTerminal;

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// Color when stderr is a terminal.
    Auto,
    /// Never color.
    Never,
    /// Always color.
    Always,
}

fn to_report(d: &Diagnostic) -> Report<()> {
    let report = match d.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
    };
    let label_text = if d.expected.is_empty() {
        String::new()
    } else {
        format!("expected {}", expected_list(&d.expected))
    };
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(help) = &d.help {
        notes.push(format!("help: {help}"));
    }
    report
        .with_message(&d.message)
        .with_labels(vec![
            Label::primary((), d.span.range()).with_message(label_text)
        ])
        .with_notes(notes)
}

/// Renders diagnostics for `src` (named `name`) into a string, without color.
#[allow(dead_code)] // used by the unit tests and by subcommands that embed reports
pub fn to_string(name: &str, src: &str, diags: &[Diagnostic]) -> String {
    let mut out = termcolor::NoColor::new(Vec::new());
    let shown = write(&mut out, name, src, diags);
    let mut s = String::from_utf8_lossy(&out.into_inner()).into_owned();
    if let Some(line) = left_out(shown, diags.len()) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// At most this many diagnostics are rendered; the rest are counted.
pub const MAX_SHOWN: usize = 50;
/// Lines longer than this are cut around the span, with `…` where text was left out.
const MAX_LINE: usize = 120;

/// One diagnostic's source line as codespan sees it: only that line (cut to
/// [`MAX_LINE`] around the span when long), reported at its real line and column, so
/// rendering costs the same whatever the size of the file or the length of the line.
struct Snippet<'a> {
    name: &'a str,
    text: String,
    /// 0-based line index in the real source.
    line: usize,
    /// Byte offset in `text` of the first byte taken from the source.
    lead: usize,
    /// Characters of the real line before that byte.
    col_base: usize,
}

impl<'a> codespan_reporting::files::Files<'a> for Snippet<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), _: usize) -> Result<usize, codespan_reporting::files::Error> {
        Ok(self.line)
    }

    fn column_number(
        &'a self,
        (): (),
        _: usize,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let at = byte_index.clamp(self.lead, self.text.len());
        let before = self
            .text
            .get(self.lead..at)
            .map_or(0, |t| t.chars().count());
        Ok(self.col_base + before + 1)
    }

    fn line_range(
        &'a self,
        (): (),
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        if line_index == self.line {
            Ok(0..self.text.len())
        } else {
            Ok(self.text.len()..self.text.len())
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The snippet for `d` (span clamped to its first line) and the span within it.
fn snippet<'a>(
    name: &'a str,
    src: &str,
    lines: &asm::diag::LineIndex,
    d: &Diagnostic,
) -> (Snippet<'a>, std::ops::Range<usize>) {
    let start = floor_char(src, d.span.start.min(src.len()));
    let (line, col) = lines.line_col(start);
    let ls = start + 1 - col;
    let le = src[ls..].find('\n').map_or(src.len(), |i| ls + i);
    let le = if src[..le].ends_with('\r') {
        le - 1
    } else {
        le
    }
    .max(start);
    let end = floor_char(src, d.span.end.clamp(start, le));
    let (a, b) = if le - ls <= MAX_LINE {
        (ls, le)
    } else {
        let a = floor_char(src, start.saturating_sub(MAX_LINE / 2).max(ls));
        (a, floor_char(src, (a + MAX_LINE).min(le)))
    };
    let mut text = String::with_capacity(b - a + 8);
    if a > ls {
        text.push('…');
    }
    let lead = text.len();
    text.push_str(&src[a..b]);
    if b < le {
        text.push('…');
    }
    let span = (start - a + lead)..(end.min(b).max(start) - a + lead);
    let col_base = src[ls..a].chars().count();
    let snip = Snippet {
        name,
        text,
        line: line - 1,
        lead,
        col_base,
    };
    (snip, span)
}

/// Renders at most [`MAX_SHOWN`] diagnostics, one per source line; returns how many were
/// rendered.
fn write(
    out: &mut dyn termcolor::WriteColor,
    name: &str,
    src: &str,
    diags: &[Diagnostic],
) -> usize {
    let config = term::Config::default();
    let lines = asm::diag::LineIndex::new(src);
    let mut shown = 0;
    let mut last_line = None;
    for d in diags {
        if shown == MAX_SHOWN {
            break;
        }
        // After the first error on a line the rest are usually its echoes (a run of bad
        // characters gives one error each): one per line.
        let line = lines.line_col(d.span.start.min(src.len())).0;
        if last_line == Some(line) {
            continue;
        }
        last_line = Some(line);
        let (file, span) = snippet(name, src, &lines, d);
        let mut d = d.clone();
        d.span.start = span.start;
        d.span.end = span.end;
        if term::emit(out, &config, &file, &to_report(&d)).is_err() {
            // Rendering only fails on a broken stderr; there is nowhere left to report to.
            break;
        }
        shown += 1;
    }
    shown
}

/// The line after the rendered diagnostics when some were left out.
fn left_out(shown: usize, total: usize) -> Option<String> {
    (total > shown).then(|| {
        if shown == MAX_SHOWN {
            format!(
                "error: too many errors ({shown} shown, {} more)",
                total - shown
            )
        } else {
            format!(
                "note: {} more diagnostics on lines already reported",
                total - shown
            )
        }
    })
}

/// Prints diagnostics to stderr, colored per `color`, followed by a summary line.
pub fn emit(color: Color, name: &str, src: &str, diags: &[Diagnostic]) {
    let choice = match color {
        Color::Always => termcolor::ColorChoice::Always,
        Color::Never => termcolor::ColorChoice::Never,
        Color::Auto if std::io::stderr().is_terminal() => termcolor::ColorChoice::Auto,
        Color::Auto => termcolor::ColorChoice::Never,
    };
    let stream = termcolor::StandardStream::stderr(choice);
    let mut lock = stream.lock();
    let shown = write(&mut lock, name, src, diags);
    drop(lock);
    if let Some(line) = left_out(shown, diags.len()) {
        eprintln!("{line}");
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprintln!(
            "error: {name}: {errors} error{} found",
            if errors == 1 { "" } else { "s" }
        );
    }
}
