//! Tokens of the LLVM dialect (and the verifier-log spellings it also accepts).
//!
//! Keywords that carry a meaning (sizes, byte orders, atomic functions, pseudo sources)
//! are single tokens with data, so the grammar stays small and the parser never compares
//! strings.

use crate::isa::{AluOp, AtomicOp, ByteOrder, Cond, Pseudo, Size};
use logos::{FilterResult, Logos};

/// A register as written: `r3` or `w3` (the number may be out of range; the grammar's
/// actions report that with the register's span).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegTok {
    /// Register number (saturated at 255).
    pub n: u8,
    /// `r` (64-bit) rather than `w` (32-bit).
    pub wide: bool,
}

/// A whole memory operand lexed as one token, `(r1 + 4)` / `(r1 -4)` / `(r1)`: most
/// loads and stores are written this way, and one token instead of five makes the parser
/// markedly faster. Other spellings (`(r1 + NAME)`) go through the grammar's general rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemTok<'a> {
    /// The base register.
    pub reg: RegTok,
    /// Whether the offset was written with `-`.
    pub neg: bool,
    /// The offset's digits (empty when there is no offset).
    pub digits: &'a str,
    /// Where the register starts in the token, and its length.
    pub reg_at: (u8, u8),
    /// Where the offset (from its sign) starts in the token, and its length.
    pub off_at: (u8, u8),
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn ident_char(c: Option<&u8>) -> bool {
    matches!(c, Some(c) if c.is_ascii_alphanumeric() || *c == b'_')
}

/// Matches `u32 *)` (what follows `(` in a cast); returns the size and the length matched.
fn match_cast(b: &[u8]) -> Option<(SizeTok, usize)> {
    let i = skip_ws(b, 0);
    let at = i;
    let signed = match b.get(i)? {
        b'u' => false,
        b's' => true,
        _ => return None,
    };
    let (size, len) = match b.get(i + 1..i + 3)? {
        [b'8', _] => (Size::B, 1),
        b"16" => (Size::H, 2),
        b"32" => (Size::W, 2),
        b"64" => (Size::DW, 2),
        _ => return None,
    };
    let i = i + 1 + len;
    if ident_char(b.get(i)) {
        return None;
    }
    let i = skip_ws(b, i);
    if b.get(i) != Some(&b'*') {
        return None;
    }
    let i = skip_ws(b, i + 1);
    let word = (at as u8, (1 + len) as u8);
    (b.get(i) == Some(&b')')).then_some((SizeTok { size, signed, word }, i + 1))
}

/// Matches `r1 + 4)` (what follows `(` in a memory operand).
fn match_mem(s: &str) -> Option<(MemTok<'_>, usize)> {
    let b = s.as_bytes();
    let i = skip_ws(b, 0);
    let wide = match b.get(i)? {
        b'r' | b'R' => true,
        b'w' | b'W' => false,
        _ => return None,
    };
    let start = i;
    let mut j = i + 1;
    let mut n: u32 = 0;
    while let Some(c @ b'0'..=b'9') = b.get(j) {
        n = (n * 10 + (c - b'0') as u32).min(255);
        j += 1;
    }
    if j == i + 1 || ident_char(b.get(j)) {
        return None;
    }
    let reg = RegTok { n: n as u8, wide };
    // The token starts at the `(` just before `b`.
    let reg_at = ((start + 1).min(255) as u8, (j - start).min(255) as u8);
    let mut i = skip_ws(b, j);
    let (mut neg, mut digits) = (false, "");
    let sign = i;
    let mut off_at = (0, 0);
    if let Some(&c @ (b'+' | b'-')) = b.get(i) {
        neg = c == b'-';
        i = skip_ws(b, i + 1);
        let d0 = i;
        if b.get(i..i + 2)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"0x"))
        {
            i += 2;
            while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
        } else {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if i == d0 || ident_char(b.get(i)) {
            return None;
        }
        digits = &s[d0..i];
        off_at = ((sign + 1).min(255) as u8, (i - sign).min(255) as u8);
        i = skip_ws(b, i);
    }
    (b.get(i) == Some(&b')')).then_some((
        MemTok {
            reg,
            neg,
            digits,
            reg_at,
            off_at,
        },
        i + 1,
    ))
}

/// Fuses `*(u32 *)`, `(u32 *)` and `(r1 + 4)` into single tokens after the lexer has seen
/// their first character (logos cannot fall back from a long pattern that fails midway,
/// so these are matched by hand).
pub fn fuse<'a>(tok: Tok<'a>, lex: &mut logos::Lexer<'a, Tok<'a>>) -> Tok<'a> {
    let rem = lex.remainder();
    match tok {
        Tok::LParen => {
            if let Some((mut size, len)) = match_cast(rem.as_bytes()) {
                lex.bump(len);
                size.word.0 += 1;
                Tok::Cast(size)
            } else if let Some((m, len)) = match_mem(rem) {
                lex.bump(len);
                Tok::Mem(m)
            } else {
                tok
            }
        }
        Tok::Star if rem.starts_with('(') => match match_cast(&rem.as_bytes()[1..]) {
            Some((mut size, len)) => {
                lex.bump(len + 1);
                size.word.0 += 2;
                Tok::Deref(size)
            }
            None => tok,
        },
        _ => tok,
    }
}

/// A size in a cast lexed as one token with the cast (`*(u32 *)`, `(u32 *)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeTok {
    /// The size.
    pub size: Size,
    /// `s8` .. `s64` rather than `u8` .. `u64`.
    pub signed: bool,
    /// Where the size word (`u32`) starts in the token, and its length, for diagnostics.
    pub word: (u8, u8),
}

/// Functions in atomic instructions' LLVM and kernel spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomicFn {
    /// `atomic_fetch_add((u64 *)(r1 + 0), r2)` (LLVM, kernel 32-bit), `atomic_xchg(...)`.
    Fetch(AtomicOp),
    /// `atomic64_fetch_add((u64 *)...)`, `atomic64_xchg(...)` (kernel, 64-bit only).
    Fetch64(AtomicOp),
    /// `atomic_cmpxchg((u32 *)(r1 +0), r0, r2)` (kernel).
    CmpXchg,
    /// `atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)` (kernel).
    CmpXchg64,
    /// `xchg_64(r1 + 0, r2)` / `xchg32_32(r1 + 0, w2)` (LLVM).
    LlvmXchg(Size),
    /// `cmpxchg_64(r1 + 0, r0, r2)` / `cmpxchg32_32(r1 + 0, w0, w2)` (LLVM).
    LlvmCmpXchg(Size),
}

/// What went wrong while splitting the text into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    Invalid,
    /// `/*` without `*/`.
    UnterminatedComment,
}

fn block_comment<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> FilterResult<(), LexError> {
    match lex.remainder().find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            FilterResult::Skip
        }
        None => {
            lex.bump(lex.remainder().len());
            FilterResult::Error(LexError::UnterminatedComment)
        }
    }
}

fn skip_line<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> logos::Skip {
    // Directives that produce no bytes (`.section .text,"ax",@progbits`) are skipped up to
    // the end of the line, whatever their operands look like.
    let rest = lex.remainder();
    lex.bump(rest.find('\n').unwrap_or(rest.len()));
    logos::Skip
}

fn reg<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> RegTok {
    let s = lex.slice().as_bytes();
    let mut n: u32 = 0;
    for &c in &s[1..] {
        n = (n * 10 + (c - b'0') as u32).min(255);
    }
    RegTok {
        n: n as u8,
        wide: matches!(s[0], b'r' | b'R'),
    }
}

/// A token.
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip r"//[^\n]*")]
#[logos(skip r"#[^\n]*")]
#[logos(error = LexError)]
pub enum Tok<'a> {
    /// End of a line.
    #[token("\n")]
    Newline,
    /// Statement separator.
    #[token(";")]
    Semi,
    /// `/* ... */`, possibly over several lines. Never emitted for a comment: the parser
    /// feeds it in place of text the lexer rejected.
    #[token("/*", block_comment)]
    BlockComment,
    /// A directive without bytes (never emitted).
    #[regex(
        r"\.(text|globl|global|section|p2align|align|balign|type|size|file|local|weak|hidden|protected|ident|addrsig|addrsig_sym|previous|pushsection|popsection|loc|cfi_[a-z_]+)",
        skip_line,
        priority = 20
    )]
    SkippedDirective,
    /// `r0`..`r10`, `w0`..`w10`.
    #[regex("[rRwW][0-9]+", reg, priority = 10)]
    Reg(RegTok),
    /// A number as written (decimal, `0x` hex, `0b` binary, leading-zero octal).
    #[regex("[0-9][0-9a-zA-Z_]*")]
    Num(&'a str),
    /// A name: label, constant or helper.
    #[regex(r"[A-Za-z_$][A-Za-z0-9_.$]*")]
    Ident(&'a str),
    /// A name starting with a dot: an unsupported directive (`.byte`) or a local label
    /// (`.LBB0_1`), told apart by the grammar.
    #[regex(r"\.[A-Za-z0-9_.$]+")]
    DotName(&'a str),
    /// The kernel's `bpf_map_lookup_elem#1` / `unknown#300` spelling of a helper call.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*#-?[0-9]+")]
    HelperRef(&'a str),
    /// The kernel's spelling of a kfunc call target, `kernel-function#1234`.
    #[regex(r"kernel-function#-?[0-9]+")]
    KfuncRef(&'a str),
    /// The `(b7)` opcode column of verifier logs and bpftool dumps.
    #[regex(r"\([0-9a-fA-F][0-9a-fA-F]\)")]
    OpPrefix(&'a str),

    /// `*(u32 *)` as one token (see [`MemTok`] for why).
    Deref(SizeTok),
    /// `(u32 *)` as one token.
    Cast(SizeTok),
    /// `(r1 + 4)` as one token.
    Mem(MemTok<'a>),
    /// A compound assignment (`+=`, `s/=` ...).
    #[token("+=", |_| AluOp::Add)]
    #[token("-=", |_| AluOp::Sub)]
    #[token("*=", |_| AluOp::Mul)]
    #[token("/=", |_| AluOp::Div)]
    #[token("s/=", |_| AluOp::SDiv)]
    #[token("|=", |_| AluOp::Or)]
    #[token("&=", |_| AluOp::And)]
    #[token("<<=", |_| AluOp::Lsh)]
    #[token(">>=", |_| AluOp::Rsh)]
    #[token("%=", |_| AluOp::Mod)]
    #[token("s%=", |_| AluOp::SMod)]
    #[token("^=", |_| AluOp::Xor)]
    #[token("s>>=", |_| AluOp::Arsh)]
    AluOp(AluOp),
    /// A comparison in a conditional jump.
    #[token("==", |_| Cond::Eq)]
    #[token("!=", |_| Cond::Ne)]
    #[token(">", |_| Cond::Gt)]
    #[token(">=", |_| Cond::Ge)]
    #[token("<", |_| Cond::Lt)]
    #[token("<=", |_| Cond::Le)]
    #[token("s>", |_| Cond::Sgt)]
    #[token("s>=", |_| Cond::Sge)]
    #[token("s<", |_| Cond::Slt)]
    #[token("s<=", |_| Cond::Sle)]
    #[token("&", |_| Cond::Set)]
    Cond(Cond),
    /// `u8` .. `u64`, `s8` .. `s64`.
    #[token("u8", |_| { (Size::B, false) })]
    #[token("u16", |_| { (Size::H, false) })]
    #[token("u32", |_| { (Size::W, false) })]
    #[token("u64", |_| { (Size::DW, false) })]
    #[token("s8", |_| { (Size::B, true) })]
    #[token("s16", |_| { (Size::H, true) })]
    #[token("s32", |_| { (Size::W, true) })]
    #[token("s64", |_| { (Size::DW, true) })]
    Size((Size, bool)),
    /// `be16`, `le32`, `bswap64` ...
    #[token("be16", |_| { (ByteOrder::Be, 16) })]
    #[token("be32", |_| { (ByteOrder::Be, 32) })]
    #[token("be64", |_| { (ByteOrder::Be, 64) })]
    #[token("le16", |_| { (ByteOrder::Le, 16) })]
    #[token("le32", |_| { (ByteOrder::Le, 32) })]
    #[token("le64", |_| { (ByteOrder::Le, 64) })]
    #[token("bswap16", |_| { (ByteOrder::Swap, 16) })]
    #[token("bswap32", |_| { (ByteOrder::Swap, 32) })]
    #[token("bswap64", |_| { (ByteOrder::Swap, 64) })]
    Endian((ByteOrder, u8)),
    /// Atomic functions.
    #[token("atomic_fetch_add", |_| AtomicFn::Fetch(AtomicOp::FetchAdd))]
    #[token("atomic_fetch_or", |_| AtomicFn::Fetch(AtomicOp::FetchOr))]
    #[token("atomic_fetch_and", |_| AtomicFn::Fetch(AtomicOp::FetchAnd))]
    #[token("atomic_fetch_xor", |_| AtomicFn::Fetch(AtomicOp::FetchXor))]
    #[token("atomic_xchg", |_| AtomicFn::Fetch(AtomicOp::Xchg))]
    #[token("atomic64_fetch_add", |_| AtomicFn::Fetch64(AtomicOp::FetchAdd))]
    #[token("atomic64_fetch_or", |_| AtomicFn::Fetch64(AtomicOp::FetchOr))]
    #[token("atomic64_fetch_and", |_| AtomicFn::Fetch64(AtomicOp::FetchAnd))]
    #[token("atomic64_fetch_xor", |_| AtomicFn::Fetch64(AtomicOp::FetchXor))]
    #[token("atomic64_xchg", |_| AtomicFn::Fetch64(AtomicOp::Xchg))]
    #[token("atomic_cmpxchg", |_| AtomicFn::CmpXchg)]
    #[token("atomic64_cmpxchg", |_| AtomicFn::CmpXchg64)]
    #[token("xchg_64", |_| AtomicFn::LlvmXchg(Size::DW))]
    #[token("xchg32_32", |_| AtomicFn::LlvmXchg(Size::W))]
    #[token("cmpxchg_64", |_| AtomicFn::LlvmCmpXchg(Size::DW))]
    #[token("cmpxchg32_32", |_| AtomicFn::LlvmCmpXchg(Size::W))]
    Atomic(AtomicFn),
    /// bpfx's names for `lddw` pseudo sources (`map_fd(5) ll`).
    #[token("map_fd", |_| Pseudo::MapFd)]
    #[token("map_value", |_| Pseudo::MapValue)]
    #[token("btf_id", |_| Pseudo::BtfId)]
    #[token("func", |_| Pseudo::Func)]
    #[token("map_idx", |_| Pseudo::MapIdx)]
    #[token("map_idx_value", |_| Pseudo::MapIdxValue)]
    Pseudo(Pseudo),

    #[token("=")]
    #[allow(missing_docs)]
    Assign,
    #[token("+")]
    #[allow(missing_docs)]
    Plus,
    #[token("-")]
    #[allow(missing_docs)]
    Minus,
    #[token("*")]
    #[allow(missing_docs)]
    Star,
    #[token("(")]
    #[allow(missing_docs)]
    LParen,
    #[token(")")]
    #[allow(missing_docs)]
    RParen,
    #[token("[")]
    #[allow(missing_docs)]
    LBracket,
    #[token("]")]
    #[allow(missing_docs)]
    RBracket,
    #[token(",")]
    #[allow(missing_docs)]
    Comma,
    #[token(":")]
    #[allow(missing_docs)]
    Colon,
    #[token("if")]
    #[allow(missing_docs)]
    If,
    #[token("goto")]
    #[allow(missing_docs)]
    Goto,
    #[token("gotol")]
    #[allow(missing_docs)]
    Gotol,
    #[token("may_goto")]
    #[allow(missing_docs)]
    MayGoto,
    #[token("call")]
    #[allow(missing_docs)]
    Call,
    #[token("callx")]
    #[allow(missing_docs)]
    Callx,
    #[token("exit")]
    #[allow(missing_docs)]
    Exit,
    #[token("lock")]
    #[allow(missing_docs)]
    Lock,
    #[token("ll")]
    #[allow(missing_docs)]
    Ll,
    #[token("skb")]
    #[allow(missing_docs)]
    Skb,
    #[token("pc")]
    #[allow(missing_docs)]
    Pc,
    #[token("kfunc")]
    #[allow(missing_docs)]
    Kfunc,
    #[token("addr_space_cast")]
    #[allow(missing_docs)]
    AddrSpaceCast,
    #[token("load_acquire")]
    #[allow(missing_docs)]
    LoadAcquire,
    #[token("store_release")]
    #[allow(missing_docs)]
    StoreRelease,
    #[token("ld_pseudo")]
    #[allow(missing_docs)]
    LdPseudo,
    #[token(".equ")]
    #[token(".set")]
    #[allow(missing_docs)]
    Equ,
}

impl Tok<'_> {
    /// How the token is named in "expected ..." lists and messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Newline => "end of line".into(),
            Tok::Reg(r) => format!("register `{}{}`", if r.wide { 'r' } else { 'w' }, r.n),
            Tok::Num(s) => format!("number `{s}`"),
            Tok::DotName(s) => format!("directive `{s}`"),
            Tok::BlockComment => "invalid character".into(),
            Tok::Ident(s) | Tok::HelperRef(s) | Tok::KfuncRef(s) | Tok::OpPrefix(s) => {
                format!("`{s}`")
            }
            other => format!("`{}`", other.text()),
        }
    }

    /// The spelling of a fixed token.
    pub fn text(&self) -> &'static str {
        match self {
            Tok::Semi => ";",
            Tok::AluOp(op) => op.llvm_operator(),
            Tok::Cond(c) => c.llvm_operator(),
            Tok::Assign => "=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::If => "if",
            Tok::Goto => "goto",
            Tok::Gotol => "gotol",
            Tok::MayGoto => "may_goto",
            Tok::Call => "call",
            Tok::Callx => "callx",
            Tok::Exit => "exit",
            Tok::Lock => "lock",
            Tok::Ll => "ll",
            Tok::Skb => "skb",
            Tok::Pc => "pc",
            Tok::Kfunc => "kfunc",
            Tok::AddrSpaceCast => "addr_space_cast",
            Tok::LoadAcquire => "load_acquire",
            Tok::StoreRelease => "store_release",
            Tok::LdPseudo => "ld_pseudo",
            Tok::Equ => ".equ",
            Tok::Size(_) => "size",
            Tok::Deref(_) => "*(size *)",
            Tok::Cast(_) => "(size *)",
            Tok::Mem(_) => "(register + offset)",
            Tok::Endian(_) => "byte-order keyword",
            Tok::Atomic(_) => "atomic function",
            Tok::Pseudo(p) => p.name().unwrap_or(""),
            _ => "token",
        }
    }
}
