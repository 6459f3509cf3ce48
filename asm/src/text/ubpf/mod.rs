//! The `ubpf` dialect: the assembly of uBPF and of the eBPF conformance suite
//! (`bpf_conformance`'s `-- asm` sections).
//!
//! ```text
//! mov %r0, 1              # 64-bit ALU; `mov32` for 32-bit, `mov64` is accepted too
//! ldxw %r0, [%r1+4]       # loads, stores: [%reg], [%reg+off], [%reg-off]
//! stxdw [%r10-8], %r0
//! lock fetch add [%r10-8], %r1
//! lddw %r0, 0x123456789abcdef0
//! jeq %r1, 1, +3          # jump targets are +N / -N slots or a label
//! jne32 %r1, %r2, done
//! call 1                  # helper by id; `call local L`; `call %r2` is callx
//! done:
//! exit
//! ```
//!
//! Mnemonics are the canonical names of [`crate::isa`] (`OpDef::name`), plus the aliases the
//! conformance corpus uses: `add64`… for the 64-bit ALU forms, `swap16/32/64` for `bswap`,
//! `call helper N` and `call runtime N` (= `call kfunc N`). A jump may name `exit`: the
//! first `exit` instruction, unless a label of that name is defined.
//!
//! Numbers are decimal or `0x` hexadecimal. A 32-bit immediate written in decimal must be
//! a signed 32-bit value; in hexadecimal it may also be the unsigned bit pattern
//! (`0xffffffff`). `lddw` takes the same rule at 64 bits. Offsets are signed 16-bit.
//!
//! Extensions, so that every valid encoding has a spelling (the conformance syntax has
//! none for these): `lddw map_fd|map_value|btf_id|func|map_idx|map_idx_value %dst, ...`
//! (the `_value` forms take `fd, offset`), `call kfunc N`, `may_goto +N`,
//! `addr_space_cast %dst, %src, dst_as, src_as`, `load_acquire{b,h,w,dw} %dst, [%src+off]`,
//! `store_release{b,h,w,dw} [%dst+off], %src`, `ldabs{b,h,w} imm`, `ldind{b,h,w} %src, imm`.
//!
//! ```
//! use asm::text::{assemble, Dialect};
//!
//! let prog = assemble("mov %r0, 1\nja +0\nexit", Dialect::Ubpf).unwrap();
//! assert_eq!(prog.insns.len(), 3);
//! assert_eq!(asm::text::ubpf::print(&prog.insns[0]), "mov %r0, 1");
//! ```

mod ast;
mod lexer;
mod lower;
mod print;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        unused,
        rust_2018_idioms,
        missing_debug_implementations,
        missing_docs
    )]
    grammar,
    "/text/ubpf/grammar.rs"
);

use crate::diag::{Diagnostic, Span};
use crate::insn::Insn;
use crate::text::Stmt;
use lalrpop_util::ParseError;
use lexer::{LexError, Tok};

/// Parses a source text into statements, reporting every error: a bad line is reported and
/// parsing goes on with the next line, and the lines that did parse are also resolved.
pub fn parse(src: &str) -> Result<Vec<Stmt>, Vec<Diagnostic>> {
    let parser = grammar::LineParser::new();
    let mut lower = lower::Lowerer::new(src);
    let mut errors = Vec::new();
    for (tokens, lex_errors) in lexer::lines(src) {
        if !lex_errors.is_empty() {
            errors.extend(lex_errors.into_iter().map(LexError::into_diagnostic));
            continue;
        }
        let line_end = tokens.last().map_or(0, |t| t.2);
        match parser.parse(tokens.into_iter().map(Ok::<_, LexError>)) {
            Err(e) => errors.push(parse_error(e, line_end)),
            Ok(line) => {
                if let Some(label) = line.label {
                    lower.label(label);
                }
                if let Some(insn) = &line.insn {
                    if let Err(d) = lower.insn(insn) {
                        errors.push(d);
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(lower.finish())
    } else {
        Err(crate::text::with_resolution_errors(lower.finish(), errors))
    }
}

/// Prints one instruction in the conformance spelling, without a newline. Jump and call
/// targets are relative (`ja +3`). For every valid encoding, parsing the text gives the
/// same instruction back; an invalid one prints as `<invalid {...}>`, which does not parse.
pub fn print(insn: &Insn) -> String {
    print::print(insn)
}

fn describe_expected(expected: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in expected {
        let s = match e.as_str() {
            "\"register\"" => "a register (`%r0` to `%r10`)".to_string(),
            "\"number\"" => "a number".to_string(),
            "\"name\"" => "a name".to_string(),
            "\"newline\"" => "end of line".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn parse_error(e: ParseError<usize, Tok<'_>, LexError>, line_end: usize) -> Diagnostic {
    match e {
        ParseError::UnrecognizedToken {
            token: (l, t, r),
            expected,
        } => {
            let mut d = Diagnostic::error(Span::new(l, r), format!("unexpected {}", t.describe()))
                .with_expected(describe_expected(expected));
            if t == Tok::Comma {
                d = d.with_help(
                    "operands follow the mnemonic without a comma; commas separate operands",
                );
            } else if d.expected.iter().any(|e| e == "`,`") {
                d = d.with_help("separate operands with commas: `add %r0, %r1`");
            }
            d
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.max(line_end);
            Diagnostic::error(Span::new(at, at), "unexpected end of line")
                .with_expected(describe_expected(expected))
        }
        ParseError::ExtraToken { token: (l, t, r) } => {
            Diagnostic::error(Span::new(l, r), format!("unexpected {}", t.describe()))
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(location, location), "invalid token")
        }
        ParseError::User { error } => error.into_diagnostic(),
    }
}

#[cfg(test)]
mod tests;
