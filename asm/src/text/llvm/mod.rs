//! The `llvm` dialect: LLVM's BPF assembly as `llvm-mc -triple bpfel -mcpu=v4` reads it and
//! `llvm-objdump -d --mcpu=v4` prints it, plus the verifier log's spellings and a few bpfx
//! extensions for encodings LLVM cannot write.
//!
//! The parser is a `logos` lexer feeding a `lalrpop` grammar (`grammar.lalrpop`). It accepts:
//!
//! * everything llvm-mc 19 accepts in BPF syntax, with the same bytes: `r0 += r1`,
//!   `w0 s/= 3`, `r0 = (s8)r1`, `r0 = be16 r0`, `r0 = *(u32 *)(r1 + 4)`,
//!   `lock *(u64 *)(r1 + 0) += r2`, `r0 = cmpxchg_64(r1 + 0, r0, r2)`, `r1 = 0x1234 ll`,
//!   `ld_pseudo r1, 1, 5`, `if w1 s< w2 goto -1`, `gotol +5`, `callx r2`, `may_goto +3` ...;
//!   comments (`//`, `#`, `/* */`), `;` separators, labels, `.equ`/`.set`/`NAME = value`,
//!   and directives that make no bytes (`.text`, `.globl`, `.section`, `.p2align` ...);
//! * what llvm-objdump and the kernel print, so pasted disassembly reassembles:
//!   `goto pc+3`, `call bpf_map_lookup_elem#1`, `call pc+3`, `r0 = *(u32 *)(r1 +4)`,
//!   `r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)`, `r0 = *(u32 *)skb[r1 + 4]`, and a leading
//!   `N: (xx)` column; with the `(18)` opcode column, `r1 = 0x1234` is an `lddw`, and after
//!   an opcode column `;` starts the log's register-state comment (`; R0_w=1`);
//! * bpfx extensions (see [`print()`] for when they are printed):
//!   `r1 = map_fd(5) ll`, `r1 = map_value(5, 16) ll`, `r1 = btf_id(7) ll`, `r1 = func(+3) ll`,
//!   `r1 = map_idx(0) ll`, `r1 = map_idx_value(0, 8) ll` (an optional second argument is the
//!   second slot's `imm`), `call kfunc 1234` (and the kernel's `call kernel-function#1234`),
//!   `call pc+3` (local call), LLVM 21's `w0 = load_acquire((u8 *)(r1 + 0))` and
//!   `store_release((u64 *)(r1 + 0), r2)`, and `r0 = *(u8 *)skb[r1 + 4]`.
//!
//! Unlike llvm-mc, out-of-range values are errors, not truncations, and registers must exist.
//!
//! ```
//! use asm::text::{assemble, Dialect, llvm};
//!
//! let prog = assemble("r0 = *(u32 *)(r1 + 4)\nexit\n", Dialect::Llvm).unwrap();
//! assert_eq!(prog.bytes()[..8], [0x61, 0x10, 4, 0, 0, 0, 0, 0]);
//! assert_eq!(llvm::print(&prog.insns[0]), "w0 = *(u32 *)(r1 + 0x4)");
//! ```

use crate::diag::{Diagnostic, Span};
use crate::text::Stmt;
use lalrpop_util::{ErrorRecovery, ParseError};
use logos::Logos;

pub mod forms;
pub mod lexer;
mod print;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused,
        missing_docs,
        missing_debug_implementations,
        rust_2018_idioms
    )]
    grammar,
    "/text/llvm/grammar.rs"
);

pub use print::{print, write};

use lexer::{LexError, Tok};

/// Where the grammar's actions put statements and errors.
#[derive(Debug, Default)]
pub struct Sink {
    stmts: Vec<Stmt>,
    errors: Vec<Diagnostic>,
    /// The kernel `(xx)` opcode column of the current line.
    prefix: Option<(u8, Span)>,
}

impl Sink {
    /// A kernel opcode column `(xx)`.
    pub fn prefix(&mut self, code: u8, span: Span) {
        self.prefix = Some((code, span));
    }

    /// A label definition.
    pub fn label(&mut self, name: &str, span: Span) {
        self.stmts.push(Stmt::Label {
            name: name.to_string(),
            span,
        });
    }

    /// A statement from `lo` to `hi`, built by `build` (with a placeholder span).
    pub fn stmt(&mut self, lo: usize, hi: usize, build: impl FnOnce() -> forms::Res) {
        match build() {
            Ok(mut stmt) => {
                forms::set_span(&mut stmt, Span::new(lo, hi));
                match self.prefix.take() {
                    None => self.stmts.push(stmt),
                    Some((code, pspan)) => match forms::apply_prefix(code, pspan, stmt) {
                        Ok(s) => self.stmts.push(s),
                        Err(e) => self.errors.push(e),
                    },
                }
            }
            Err(e) => {
                self.prefix = None;
                self.errors.push(e);
            }
        }
    }

    /// A syntax error; the parser has skipped to the end of the line.
    pub fn recover(&mut self, e: ErrorRecovery<usize, Tok<'_>, LexError>) {
        self.prefix = None;
        if let Some(d) = syntax_error(e.error) {
            self.errors.push(d);
        }
    }
}

fn expected_names(expected: Vec<String>) -> Vec<String> {
    expected
        .into_iter()
        .map(|e| {
            let bare = e.trim_matches('"');
            if bare.chars().all(|c| c.is_ascii_alphabetic() || c == ' ') && bare.len() > 3 {
                bare.to_string()
            } else {
                format!("`{bare}`")
            }
        })
        .collect()
}

fn syntax_error(e: ParseError<usize, Tok<'_>, LexError>) -> Option<Diagnostic> {
    Some(match e {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            if tok == Tok::BlockComment {
                // The lexer reported this one already.
                return None;
            }
            Diagnostic::error(Span::new(l, r), format!("unexpected {}", tok.describe()))
                .with_expected(expected_names(expected))
        }
        ParseError::UnrecognizedEof { location, expected } => {
            Diagnostic::error(Span::new(location, location), "unexpected end of input")
                .with_expected(expected_names(expected))
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(location, location + 1), "invalid token")
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::error(Span::new(l, r), format!("unexpected {}", tok.describe()))
        }
        ParseError::User { error } => Diagnostic::error(Span::new(0, 0), format!("{error:?}")),
    })
}

/// Feeds the grammar: turns lexer errors into diagnostics (and a token the grammar never
/// accepts, so it recovers at the line end) and ends the input with a newline.
struct Tokens<'a, 'e> {
    lex: logos::Lexer<'a, Tok<'a>>,
    errors: &'e mut Vec<Diagnostic>,
    done: bool,
    line_start: bool,
    /// The line began with a kernel `(xx)` opcode column.
    kernel_line: bool,
}

impl<'a> Iterator for Tokens<'a, '_> {
    type Item = Result<(usize, Tok<'a>, usize), LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.lex.next() {
            Some(Ok(tok)) => {
                let tok = match tok {
                    Tok::LParen | Tok::Star => lexer::fuse(tok, &mut self.lex),
                    _ => tok,
                };
                match tok {
                    Tok::OpPrefix(_) => self.kernel_line = true,
                    Tok::Newline => self.kernel_line = false,
                    Tok::Semi if self.kernel_line => {
                        // In a verifier log, `;` starts the register-state annotation
                        // (`0: (b7) r0 = 1  ; R0_w=1`): the rest of the line is a comment.
                        let rest = self.lex.remainder();
                        self.lex.bump(rest.find('\n').unwrap_or(rest.len()));
                    }
                    _ => {}
                }
                let s = self.lex.span();
                let first = std::mem::replace(
                    &mut self.line_start,
                    matches!(tok, Tok::Newline | Tok::Semi),
                );
                if let (true, Tok::DotName(name)) = (first, tok) {
                    // A dotted name starting a statement is a label (`.LBB0_1:`) or a
                    // directive; the directives that make no bytes were skipped by the lexer.
                    if !self
                        .lex
                        .remainder()
                        .trim_start_matches([' ', '\t'])
                        .starts_with(':')
                    {
                        self.errors.push(
                            Diagnostic::error(s.clone(), format!("unsupported directive `{name}`")).with_help(
                                "bpfx assembles instructions only; data directives like `.byte` are not supported",
                            ),
                        );
                        return Some(Ok((s.start, Tok::BlockComment, s.end)));
                    }
                }
                Some(Ok((s.start, tok, s.end)))
            }
            Some(Err(e)) => {
                let s = self.lex.span();
                let text = &self.lex.source()[s.clone()];
                self.errors.push(match e {
                    LexError::UnterminatedComment => {
                        Diagnostic::error(s.start..s.start + 2, "comment is not closed")
                            .with_help("add `*/`")
                    }
                    LexError::Invalid => {
                        let c = text.chars().next().unwrap_or(' ');
                        // One error per line: the rest of a bad line is skipped.
                        let rest = self.lex.remainder();
                        self.lex.bump(rest.find('\n').unwrap_or(rest.len()));
                        Diagnostic::error(
                            s.start..s.start + c.len_utf8(),
                            format!("unexpected character `{}`", c.escape_debug()),
                        )
                    }
                });
                Some(Ok((s.start, Tok::BlockComment, s.end)))
            }
            None if !self.done => {
                self.done = true;
                let n = self.lex.source().len();
                Some(Ok((n, Tok::Newline, n)))
            }
            None => None,
        }
    }
}

/// Parses a source text into statements, reporting every error: the parser recovers at the
/// end of each bad line, and when there are syntax errors the statements that did parse are
/// also checked as [`crate::text::resolve`] would check them.
pub fn parse(src: &str) -> Result<Vec<Stmt>, Vec<Diagnostic>> {
    let mut sink = Sink {
        stmts: Vec::with_capacity(src.len() / 20 + 1),
        ..Sink::default()
    };
    let mut lex_errors = Vec::new();
    let tokens = Tokens {
        lex: Tok::lexer(src),
        errors: &mut lex_errors,
        done: false,
        line_start: true,
        kernel_line: false,
    };
    let result = grammar::ProgramParser::new().parse(&mut sink, tokens);
    if let Err(e) = result {
        sink.errors.extend(syntax_error(e));
    }
    sink.errors.append(&mut lex_errors);
    if sink.errors.is_empty() {
        return Ok(sink.stmts);
    }
    Err(crate::text::with_resolution_errors(sink.stmts, sink.errors))
}
