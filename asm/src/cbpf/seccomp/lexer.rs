//! Tokens of the seccomp dialect.

use logos::Logos;

pub use crate::cbpf::bpf_asm::LexErrorPub as LexError;

fn radix(s: &str, skip: usize, radix: u32) -> Result<u64, LexError> {
    u64::from_str_radix(&s[skip..], radix).map_err(|_| LexError::TooLarge)
}

/// A seccomp-dialect token.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(error = LexError)]
#[allow(missing_docs)]
pub enum Tok<'s> {
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'s str),
    #[token("if")]
    If,
    #[token("goto")]
    Goto,
    #[token("else")]
    Else,
    #[token("return")]
    Return,
    #[regex(r"0[xX][0-9a-fA-F]+", |l| radix(l.slice(), 2, 16))]
    #[regex(r"0[bB][01]+", |l| radix(l.slice(), 2, 2))]
    #[regex(r"0[0-7]+", |l| radix(l.slice(), 1, 8))]
    #[regex(r"[1-9][0-9]*|0", |l| radix(l.slice(), 0, 10))]
    Num(u64),
    #[token("=")]
    Assign,
    #[token("==")]
    Eq,
    #[token("!=")]
    Ne,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token("&")]
    Amp,
    #[token("!")]
    Bang,
    #[token("+=")]
    AddEq,
    #[token("-=")]
    SubEq,
    #[token("*=")]
    MulEq,
    #[token("/=")]
    DivEq,
    #[token("%=")]
    ModEq,
    #[token("&=")]
    AndEq,
    #[token("|=")]
    OrEq,
    #[token("^=")]
    XorEq,
    #[token("<<=")]
    LshEq,
    #[token(">>=")]
    RshEq,
    #[token(">>")]
    Shr,
    #[token("?")]
    Question,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(":")]
    Colon,
    #[token(",")]
    Comma,
    #[token("-")]
    Minus,
    #[token(".")]
    Dot,
}

/// A token with its span, or a lexing error with its span.
pub type Spanned<'s> = Result<(usize, Tok<'s>, usize), (usize, LexError, usize)>;

/// Lexes one line whose first byte is at `base` in the whole text.
pub fn lex(line: &str, base: usize) -> Vec<Spanned<'_>> {
    Tok::lexer(line)
        .spanned()
        .map(|(t, r)| match t {
            Ok(t) => Ok((base + r.start, t, base + r.end)),
            Err(e) => Err((base + r.start, e, base + r.end)),
        })
        .collect()
}
