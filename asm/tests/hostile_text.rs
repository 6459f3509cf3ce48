//! Hostile text in every dialect: a long line of bad characters gives one error per line
//! (after the first error the rest of the line is skipped), in time and memory linear in the
//! input. The work is bounded by counting diagnostics, not by timing.

use asm::{cbpf, text, Diagnostic, Dialect};

/// An assembler: the diagnostics of a text (none if it assembles).
type Assembler = fn(&str) -> Vec<Diagnostic>;

fn dialects() -> Vec<(&'static str, Assembler)> {
    vec![
        ("llvm", |s| {
            text::assemble(s, Dialect::Llvm).err().unwrap_or_default()
        }),
        ("ubpf", |s| {
            text::assemble(s, Dialect::Ubpf).err().unwrap_or_default()
        }),
        ("bpf_asm", |s| {
            cbpf::bpf_asm::assemble(s).err().unwrap_or_default()
        }),
        ("seccomp", |s| {
            cbpf::seccomp::assemble(s).err().unwrap_or_default()
        }),
    ]
}

fn lines_with_errors(src: &str, diags: &[Diagnostic]) -> usize {
    let idx = asm::diag::LineIndex::new(src);
    let mut lines: Vec<usize> = diags
        .iter()
        .map(|d| idx.line_col(d.span.start.min(src.len())).0)
        .collect();
    lines.dedup();
    lines.len()
}

#[test]
fn a_line_of_bad_characters_is_one_error() {
    for bad in ['(', '@', '`', 'é'] {
        let line: String = std::iter::repeat(bad).take(100_000).collect();
        let src = format!("{line}\n{line}\n");
        for (name, asm) in dialects() {
            let diags = asm(&src);
            assert!(!diags.is_empty(), "{name}: `{bad}` accepted");
            assert!(
                diags.len() <= 2 * lines_with_errors(&src, &diags),
                "{name}: {} errors for 2 lines of `{bad}`",
                diags.len()
            );
        }
    }
}

#[test]
fn a_megabyte_line_fails_with_bounded_errors() {
    let src: String = "(".repeat(1 << 20);
    for (name, asm) in dialects() {
        let diags = asm(&src);
        assert!(
            (1..=2).contains(&diags.len()),
            "{name}: {} errors",
            diags.len()
        );
        let bytes: usize = diags
            .iter()
            .map(|d| d.message.len() + d.expected.iter().map(String::len).sum::<usize>())
            .sum();
        assert!(bytes < 64 << 10, "{name}: {bytes} bytes of diagnostics");
    }
}
