//! Tokens of the bpf_asm dialect.

use logos::Logos;

/// What the lexer could not read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    BadChar,
    /// A number wider than 64 bits.
    TooLarge,
}

fn radix(s: &str, skip: usize, radix: u32) -> Result<u64, LexError> {
    u64::from_str_radix(&s[skip..], radix).map_err(|_| LexError::TooLarge)
}

/// A bpf_asm token.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(error = LexError)]
pub enum Tok<'s> {
    /// Mnemonics, labels, `x`, `a`, `.raw`.
    #[regex(r"[A-Za-z_.][A-Za-z0-9_.]*")]
    Ident(&'s str),
    /// The scratch memory `M`.
    #[token("M", priority = 10)]
    Mem,
    /// A number: decimal, `0x` hex, `0b` binary or `0` octal as bpf_asm reads them.
    #[regex(r"0[xX][0-9a-fA-F]+", |l| radix(l.slice(), 2, 16))]
    #[regex(r"0[bB][01]+", |l| radix(l.slice(), 2, 2))]
    #[regex(r"0[0-7]+", |l| radix(l.slice(), 1, 8))]
    #[regex(r"[1-9][0-9]*|0", |l| radix(l.slice(), 0, 10))]
    Num(u64),
    #[token("#")]
    /// `#`
    Hash,
    #[token("[")]
    /// `[`
    LBracket,
    #[token("]")]
    /// `]`
    RBracket,
    #[token("(")]
    /// `(`
    LParen,
    #[token(")")]
    /// `)`
    RParen,
    #[token("+")]
    /// `+`
    Plus,
    #[token("-")]
    /// `-`
    Minus,
    #[token("*")]
    /// `*`
    Star,
    #[token("&")]
    /// `&`
    Amp,
    #[token(",")]
    /// `,`
    Comma,
    #[token(":")]
    /// `:`
    Colon,
    #[token("%")]
    /// `%`
    Percent,
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
