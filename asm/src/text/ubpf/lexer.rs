//! Tokens of the ubpf dialect. Whitespace and comments (`#` or `//` to the end of the line)
//! are skipped; newlines are tokens because the dialect is line-based.

use crate::diag::{Diagnostic, Span};
use logos::Logos;

/// One token. Numbers and registers keep their text: the parser checks their spelling and
/// range so it can point at the exact operand in its diagnostics.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip r"#[^\n]*")]
#[logos(skip r"//[^\n]*")]
pub(crate) enum Tok<'a> {
    /// End of a line.
    #[token("\n")]
    Newline,
    #[token(",")]
    Comma,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token(":")]
    Colon,
    /// `%r1` (and, so it can be reported well, any other `%name`).
    #[regex(r"%[A-Za-z0-9_]*", |lex| lex.slice())]
    Reg(&'a str),
    /// `42`, `0x2a` (and malformed ones such as `12ab`, reported by the parser).
    #[regex(r"[0-9][0-9A-Za-z_]*", |lex| lex.slice())]
    Num(&'a str),
    /// Mnemonics, modifiers (`local`, `fetch`) and label names.
    #[regex(r"[A-Za-z_.$][A-Za-z0-9_.$]*", |lex| lex.slice())]
    Ident(&'a str),
}

impl Tok<'_> {
    /// How the token is named in "unexpected ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Newline => "end of line".into(),
            Tok::Comma => "`,`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Reg(s) => format!("register `{s}`"),
            Tok::Num(s) => format!("number `{s}`"),
            Tok::Ident(s) => format!("`{s}`"),
        }
    }
}

/// A character no token starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LexError {
    pub(crate) span: Span,
    pub(crate) text: String,
}

impl LexError {
    pub(crate) fn into_diagnostic(self) -> Diagnostic {
        Diagnostic::error(
            self.span,
            format!("unexpected character `{}`", self.text.escape_debug()),
        )
        .with_help("comments start with `#` or `//`")
    }
}

/// A token with its byte range.
pub(crate) type Spanned<'a> = (usize, Tok<'a>, usize);

/// Splits the source into lines of tokens (without the newline tokens), each line paired
/// with the lexical errors found in it.
pub(crate) fn lines(src: &str) -> Vec<(Vec<Spanned<'_>>, Vec<LexError>)> {
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut errors = Vec::new();
    let mut lex = Tok::lexer(src);
    while let Some(tok) = lex.next() {
        let span = lex.span();
        match tok {
            Ok(Tok::Newline) => {
                out.push((std::mem::take(&mut line), std::mem::take(&mut errors)));
            }
            Ok(t) => line.push((span.start, t, span.end)),
            Err(()) => {
                errors.push(LexError {
                    span: span.clone().into(),
                    text: src[span].to_string(),
                });
                // One error per line: the rest of a bad line is skipped (a run of bad
                // characters would otherwise give one error each).
                let rest = lex.remainder();
                lex.bump(rest.find('\n').unwrap_or(rest.len()));
            }
        }
    }
    out.push((line, errors));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        Tok::lexer(src).map(|t| t.unwrap()).collect()
    }

    #[test]
    fn tokens_and_comments() {
        assert_eq!(
            toks("ldxw %r0, [%r1-4] # c\n// d\nL1: ja +0x2"),
            vec![
                Tok::Ident("ldxw"),
                Tok::Reg("%r0"),
                Tok::Comma,
                Tok::LBracket,
                Tok::Reg("%r1"),
                Tok::Minus,
                Tok::Num("4"),
                Tok::RBracket,
                Tok::Newline,
                Tok::Newline,
                Tok::Ident("L1"),
                Tok::Colon,
                Tok::Ident("ja"),
                Tok::Plus,
                Tok::Num("0x2"),
            ]
        );
    }

    #[test]
    fn bad_characters_are_reported_per_line() {
        let l = lines("mov %r0, 1 @\nexit");
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].1,
            vec![LexError {
                span: Span::new(11, 12),
                text: "@".into()
            }]
        );
        assert!(l[1].1.is_empty());
    }
}
