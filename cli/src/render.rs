//! Renders library diagnostics rustc-style: the message, the source line, a caret.

use asm::diag::{expected_list, Diagnostic, Severity};
use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
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
    write(&mut out, name, src, diags);
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

fn write(out: &mut dyn termcolor::WriteColor, name: &str, src: &str, diags: &[Diagnostic]) {
    let file = SimpleFile::new(name, src);
    let config = term::Config::default();
    for d in diags {
        // A span past the end (an error at end of input) is clamped so rendering never fails.
        // A span that ends in a line break (an error at end of line) is shrunk so the caret
        // stays on the line it is about instead of reaching into the next one.
        let mut d = d.clone();
        d.span.end = d.span.end.min(src.len());
        d.span.start = d.span.start.min(d.span.end);
        while d.span.end > d.span.start && matches!(src.as_bytes()[d.span.end - 1], b'\n' | b'\r') {
            d.span.end -= 1;
        }
        if term::emit(out, &config, &file, &to_report(&d)).is_err() {
            // Rendering only fails on a broken stderr; there is nowhere left to report to.
            return;
        }
    }
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
    write(&mut lock, name, src, diags);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprintln!(
            "error: {name}: {errors} error{} found",
            if errors == 1 { "" } else { "s" }
        );
    }
}
