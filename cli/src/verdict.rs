//! Verifier verdicts as `bpfx verify` and `bpfx run` show them: the rejection with its
//! source line, path and notes; and the gate `bpfx run` passes programs through.

use crate::render;
use asm::diag::Diagnostic;
use asm::Span;
use verifier::{Options, RejectKind, Rejection};

/// What was read: bytes plus, for text, the source and each slot's span.
pub struct Program {
    /// The bytecode.
    pub bytes: Vec<u8>,
    /// The input's name for messages.
    pub name: String,
    /// For text: the source and each slot's span.
    pub source: Option<(String, Vec<Option<Span>>)>,
    /// For an object's program: it, for the source lines of its line info.
    pub object: Option<obj::Program>,
}

/// Verifies a program about to run (`bpfx run` without `--no-verify`) and reports a
/// rejection the way `bpfx verify` does, with the source line when there is one. Returns
/// whether the program may run: a kernel rejection stops it; a program bpfx cannot decide
/// (BTF, kfuncs) runs with a warning.
pub fn gate(
    insns: &[asm::Insn],
    name: &str,
    source: Option<(&str, &[Span])>,
    object: Option<&obj::Program>,
    opts: &Options,
    color: render::Color,
) -> bool {
    let mut spans = Vec::new();
    if let Some((_, per_insn)) = source {
        for (insn, span) in insns.iter().zip(per_insn) {
            spans.push(Some(*span));
            if insn.slots() == 2 {
                spans.push(None);
            }
        }
    }
    let prog = Program {
        bytes: asm::encode(insns),
        name: name.to_string(),
        source: source.map(|(src, _)| (src.to_string(), spans)),
        object: object.cloned(),
    };
    match verifier::verify_bytes(&prog.bytes, opts) {
        Ok(_) => true,
        Err(r) if r.kind == RejectKind::Unsupported => {
            eprintln!(
                "warning: {name}: bpfx cannot verify this program ({}); running it anyway",
                r.message
            );
            true
        }
        Err(r) => {
            report(&prog, &r, color);
            eprintln!(
                "note: the kernel would refuse to load it; `bpfx run --no-verify` runs it anyway"
            );
            false
        }
    }
}

/// The source line of the instruction at slot `insn`: the assembly line of a text
/// program, or for an object's program the C line its line info names (`file.c:42: text`).
/// `file.c:42:5: text` for the instruction at `slot` of an object's program with line
/// info ([`obj::Program::source_line`]).
pub fn object_line(prog: Option<&obj::Program>, slot: usize) -> Option<String> {
    let l = prog?.source_line(slot)?;
    let base = l.file.rsplit('/').next().unwrap_or(&l.file);
    Some(
        format!("{base}:{}:{}: {}", l.line, l.col, l.text)
            .trim_end_matches([':', ' '])
            .to_string(),
    )
}

pub fn source_line(prog: &Program, insn: usize) -> Option<String> {
    let Some((src, spans)) = prog.source.as_ref() else {
        return object_line(prog.object.as_ref(), insn);
    };
    let span = (*spans.get(insn)?)?;
    let start = src[..span.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = src[span.start..]
        .find('\n')
        .map(|i| span.start + i)
        .unwrap_or(src.len());
    Some(src[start..end].trim_end().to_string())
}

fn path_note(r: &Rejection) -> String {
    if r.path.is_empty() {
        return "path: straight from the entry (no branch decisions)".to_string();
    }
    let steps: Vec<String> = r
        .path
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b.insn,
                if b.taken { "taken" } else { "fallthrough" }
            )
        })
        .collect();
    format!("path: {}", steps.join(", "))
}

pub fn report(prog: &Program, r: &Rejection, color: render::Color) {
    let what = match r.kind {
        RejectKind::Kernel => "the kernel rejects this program",
        RejectKind::Unsupported => "bpfx cannot decide (not modelled)",
    };
    let mut notes = vec![path_note(r), format!("errno {}", r.errno)];
    if let Some(p) = r.processed {
        notes.push(format!("{p} instructions processed"));
    }
    let span = prog
        .source
        .as_ref()
        .and_then(|(_, spans)| spans.get(r.insn).copied().flatten());
    match (&prog.source, span) {
        (Some((src, _)), Some(span)) => {
            let mut d = Diagnostic::error(span, format!("{what}: {}", r.message));
            d.notes = notes;
            d.notes.insert(0, format!("at instruction {}", r.insn));
            render::emit(color, &prog.name, src, &[d]);
        }
        _ => {
            eprintln!("error: {what}: {}", r.message);
            // The instruction at the rejected slot, unchecked (an lddw with both halves).
            let insn = prog
                .bytes
                .get(r.insn * asm::Insn::SLOT..)
                .and_then(|b| asm::insn::slots(b).next())
                .map(|(_, i)| asm::text::kernel::print(&i));
            eprintln!(
                "  --> {}: instruction {}{}",
                prog.name,
                r.insn,
                insn.map(|t| format!(": {t}")).unwrap_or_default()
            );
            if let Some(line) = object_line(prog.object.as_ref(), r.insn) {
                eprintln!("  --> {line}");
            }
            for n in notes {
                eprintln!("  = note: {n}");
            }
        }
    }
}
