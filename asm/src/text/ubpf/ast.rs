//! The shape of a line, as the grammar finds it (before the opcode table gives it meaning).

use crate::diag::Span;

/// A name: a mnemonic word, a modifier or a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    pub(crate) text: &'a str,
    pub(crate) span: Span,
}

/// A number as written: its sign (if any) and its digits (`0x2a`, `42`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawNum<'a> {
    pub(crate) sign: Option<char>,
    pub(crate) digits: &'a str,
    pub(crate) span: Span,
}

/// One operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawOp<'a> {
    /// `%r1`.
    Reg(Word<'a>),
    /// `[%r1+4]`, `[%r1-4]`, `[%r1]`.
    Mem {
        reg: Word<'a>,
        off: Option<RawNum<'a>>,
        span: Span,
    },
    /// `4`, `-1`, `+3`, `0xff`.
    Num(RawNum<'a>),
    /// A label or helper name after a comma (`jeq %r1, 0, done`).
    Name(Word<'a>),
}

impl RawOp<'_> {
    pub(crate) fn span(&self) -> Span {
        match self {
            RawOp::Reg(w) | RawOp::Name(w) => w.span,
            RawOp::Mem { span, .. } => *span,
            RawOp::Num(n) => n.span,
        }
    }
}

/// Words (mnemonic, modifiers, possibly a trailing label) and comma-separated operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawInsn<'a> {
    pub(crate) words: Vec<Word<'a>>,
    pub(crate) ops: Vec<RawOp<'a>>,
    pub(crate) span: Span,
}

/// A line: an optional label and an optional instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawLine<'a> {
    pub(crate) label: Option<Word<'a>>,
    pub(crate) insn: Option<RawInsn<'a>>,
}
