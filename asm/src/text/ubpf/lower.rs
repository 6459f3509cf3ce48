//! Gives the shape of a line (from the grammar) its meaning through the opcode table:
//! which words form the mnemonic, which operand goes into which field, and whether each
//! number is written within the range the dialect allows.

use super::ast::{RawInsn, RawNum, RawOp, Word};
use crate::diag::{Diagnostic, Span};
use crate::isa::{self, AtomicOp, CallKind, Form, OpDef, PacketMode, Pseudo, Source};
use crate::text::{Operand, PendingInsn, Stmt, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a mnemonic spelling stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mnemonic {
    /// The table entries with this canonical name (two when a register and an immediate
    /// form share it).
    Table(&'static str),
    /// `lddw` with a pseudo source (`lddw map_fd %r1, 3`): bpfx's extension, since the
    /// conformance syntax only knows plain 64-bit constants.
    Lddw(Pseudo),
}

fn by_name() -> &'static HashMap<&'static str, Vec<&'static OpDef>> {
    static MAP: OnceLock<HashMap<&'static str, Vec<&'static OpDef>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<&'static OpDef>> = HashMap::new();
        for d in isa::table() {
            m.entry(d.name).or_default().push(d);
        }
        m
    })
}

/// Arithmetic stems that also take a `64` suffix (`add64` = `add`), as the conformance
/// assembler accepts.
const ALU_STEMS: &[&str] = &[
    "add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov",
    "arsh", "neg",
];

fn canonical(name: &'static str) -> Option<&'static str> {
    by_name().get_key_value(name).map(|(k, _)| *k)
}

fn mnemonic(spelling: &str) -> Option<Mnemonic> {
    if let Some((k, _)) = by_name().get_key_value(spelling) {
        return Some(Mnemonic::Table(k));
    }
    if let Some(p) = spelling.strip_prefix("lddw ") {
        return Pseudo::ALL
            .into_iter()
            .find(|ps| ps.name() == Some(p))
            .map(Mnemonic::Lddw);
    }
    let alias = match spelling {
        // The conformance suite's names for the ISA v4 unconditional byte swap.
        "swap16" => "bswap16",
        "swap32" => "bswap32",
        "swap64" => "bswap64",
        // The conformance assembler's spelling of the call modes.
        "call helper" => "call",
        "call runtime" => "call kfunc",
        _ => {
            let stem = spelling.strip_suffix("64")?;
            *ALU_STEMS.iter().find(|s| **s == stem)?
        }
    };
    canonical(alias).map(Mnemonic::Table)
}

/// How an instruction is written, for "write it as ..." help.
fn usage(name: &str, form: Form) -> String {
    let ops = match form {
        Form::Alu {
            source: Source::Imm,
            ..
        }
        | Form::Alu {
            source: Source::Reg,
            ..
        } => "%dst, %src|imm",
        Form::Neg { .. } | Form::Endian { .. } | Form::Callx => "%dst",
        Form::MovSx { .. } => "%dst, %src",
        Form::AddrSpaceCast => "%dst, %src, dst_as, src_as",
        Form::Load { .. } => "%dst, [%src+off]",
        Form::Store {
            source: Source::Imm,
            ..
        } => "[%dst+off], imm",
        Form::Store {
            source: Source::Reg,
            ..
        } => "[%dst+off], %src",
        Form::Atomic {
            op: AtomicOp::LoadAcquire,
            ..
        } => "%dst, [%src+off]",
        Form::Atomic { .. } => "[%dst+off], %src",
        Form::LoadPacket {
            mode: PacketMode::Abs,
            ..
        } => "imm",
        Form::LoadPacket {
            mode: PacketMode::Ind,
            ..
        } => "%src, imm",
        Form::LoadImm64 => "%dst, imm64",
        Form::Jump { .. } => "%dst, %src|imm, +off|label",
        Form::Ja | Form::Gotol | Form::MayGoto => "+off|label",
        Form::Call(CallKind::Helper) => "helper-id|helper-name|label|%reg",
        Form::Call(CallKind::Local) => "+off|label",
        Form::Call(CallKind::Kfunc) => "btf-id",
        Form::Exit => "",
    };
    if ops.is_empty() {
        name.to_string()
    } else {
        format!("{name} {ops}")
    }
}

/// Lowers parsed lines into statements; `src` is the whole source (for operand texts).
pub(crate) struct Lowerer<'s> {
    pub(crate) src: &'s str,
    pub(crate) stmts: Vec<Stmt>,
}

impl<'s> Lowerer<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Lowerer {
            src,
            stmts: Vec::new(),
        }
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.range()]
    }

    pub(crate) fn label(&mut self, w: Word<'_>) {
        self.stmts.push(Stmt::Label {
            name: w.text.to_string(),
            span: w.span,
        });
    }

    pub(crate) fn insn(&mut self, raw: &RawInsn<'_>) -> Result<(), Diagnostic> {
        let p = self.lower(raw)?;
        self.stmts.push(Stmt::Insn(p));
        Ok(())
    }

    /// The conformance assembler lets jumps name `exit`, meaning the first `exit`
    /// instruction, unless a label of that name exists.
    pub(crate) fn finish(mut self) -> Vec<Stmt> {
        let names_exit = |o: &Option<Operand>| matches!(o, Some(Operand { value: Value::Name(n), .. }) if n == "exit");
        let defined = self
            .stmts
            .iter()
            .any(|s| matches!(s, Stmt::Label { name, .. } if name == "exit"));
        let used = self
            .stmts
            .iter()
            .any(|s| matches!(s, Stmt::Insn(p) if names_exit(&p.off) || names_exit(&p.imm)));
        if used && !defined {
            if let Some(i) = self
                .stmts
                .iter()
                .position(|s| matches!(s, Stmt::Insn(p) if p.def.form == Form::Exit))
            {
                let span = match &self.stmts[i] {
                    Stmt::Insn(p) => p.span,
                    _ => unreachable!("position matched an instruction"),
                };
                self.stmts.insert(
                    i,
                    Stmt::Label {
                        name: "exit".into(),
                        span,
                    },
                );
            }
        }
        self.stmts
    }

    fn lower(&self, raw: &RawInsn<'_>) -> Result<PendingInsn, Diagnostic> {
        let words = &raw.words;
        // The longest run of leading words that names an instruction (`lock fetch add`,
        // `call local`); a single word after it is a label operand (`ja done`).
        let found = (1..=words.len()).rev().find_map(|k| {
            let spelling = words[..k]
                .iter()
                .map(|w| w.text)
                .collect::<Vec<_>>()
                .join(" ");
            mnemonic(&spelling).map(|m| (k, m, spelling))
        });
        let Some((k, mn, spelling)) = found else {
            return Err(self.unknown_mnemonic(raw));
        };
        let mut ops: Vec<RawOp<'_>> = Vec::with_capacity(raw.ops.len() + 1);
        match &words[k..] {
            [] => {}
            [label] if raw.ops.is_empty() => ops.push(RawOp::Name(*label)),
            [extra, ..] => {
                return Err(Diagnostic::error(
                    extra.span,
                    format!("unexpected `{}` after `{spelling}`", extra.text),
                )
                .with_help(format!("write it as `{}`", self.usage_of(mn))));
            }
        }
        ops.extend(raw.ops.iter().copied());

        let (defs, pseudo): (&[&'static OpDef], Option<Pseudo>) = match mn {
            Mnemonic::Table(name) => (&by_name()[name], None),
            Mnemonic::Lddw(p) => (&by_name()["lddw"], Some(p)),
        };
        let first = defs[0];
        let mut p = PendingInsn {
            def: first,
            dst: 0,
            src: 0,
            off: None,
            imm: None,
            span: raw.span,
        };

        let want = |n: usize| -> Result<(), Diagnostic> {
            if ops.len() == n {
                return Ok(());
            }
            let mut d = Diagnostic::error(
                raw.span,
                format!(
                    "invalid number of operands for `{spelling}`: expected {n}, found {}",
                    ops.len()
                ),
            )
            .with_help(format!("write it as `{}`", self.usage_of(mn)));
            if spelling.starts_with("lock") {
                d = d.with_note("atomic operations take a memory operand and a register: `lock add [%r10-8], %r1`");
            }
            Err(d)
        };
        // Picks the register or immediate entry by the operand written.
        let by_source = |op: &RawOp<'_>| -> Result<&'static OpDef, Diagnostic> {
            let source = match op {
                RawOp::Reg(_) => Source::Reg,
                RawOp::Num(_) => Source::Imm,
                other => {
                    return Err(self.expected(other, "a register or an immediate"));
                }
            };
            defs.iter()
                .copied()
                .find(|d| {
                    matches!(d.form, Form::Alu { source: s, .. } | Form::Jump { source: s, .. } if s == source)
                })
                .ok_or_else(|| self.expected(op, "a register"))
        };

        match first.form {
            Form::Alu { .. } => {
                want(2)?;
                p.def = by_source(&ops[1])?;
                p.dst = self.reg(&ops[0])?;
                match ops[1] {
                    RawOp::Reg(_) => p.src = self.reg(&ops[1])?,
                    _ => p.imm = Some(self.imm32(&ops[1])?),
                }
            }
            Form::Neg { .. } | Form::Endian { .. } => {
                want(1)?;
                p.dst = self.reg(&ops[0])?;
            }
            Form::MovSx { .. } => {
                want(2)?;
                p.dst = self.reg(&ops[0])?;
                p.src = self.reg(&ops[1])?;
            }
            Form::AddrSpaceCast => {
                want(4)?;
                p.dst = self.reg(&ops[0])?;
                p.src = self.reg(&ops[1])?;
                let dst_as = self.small(&ops[2], 0xffff, "address space")?;
                let src_as = self.small(&ops[3], 0xffff, "address space")?;
                p.imm = Some(Operand::num(
                    (dst_as << 16) | src_as,
                    ops[2].span().to(ops[3].span()),
                ));
            }
            Form::Load { .. }
            | Form::Atomic {
                op: AtomicOp::LoadAcquire,
                ..
            } => {
                want(2)?;
                p.dst = self.reg(&ops[0])?;
                (p.src, p.off) = self.mem(&ops[1])?;
            }
            Form::Store {
                source: Source::Imm,
                size,
            } => {
                want(2)?;
                (p.dst, p.off) = self.mem(&ops[0])?;
                p.imm = Some(self.imm32(&ops[1]).map_err(|d| match ops[1] {
                    RawOp::Reg(_) => {
                        d.with_help(format!("to store a register, use `stx{}`", size.suffix()))
                    }
                    _ => d,
                })?);
            }
            Form::Store {
                source: Source::Reg,
                size,
            } => {
                want(2)?;
                (p.dst, p.off) = self.mem(&ops[0])?;
                p.src = self.reg(&ops[1]).map_err(|d| match ops[1] {
                    RawOp::Num(_) => {
                        d.with_help(format!("to store an immediate, use `st{}`", size.suffix()))
                    }
                    _ => d,
                })?;
            }
            Form::Atomic { .. } => {
                want(2)?;
                (p.dst, p.off) = self.mem(&ops[0])?;
                p.src = self.reg(&ops[1])?;
            }
            Form::LoadPacket {
                mode: PacketMode::Abs,
                ..
            } => {
                want(1)?;
                p.imm = Some(self.imm32(&ops[0])?);
            }
            Form::LoadPacket {
                mode: PacketMode::Ind,
                ..
            } => {
                want(2)?;
                p.src = self.reg(&ops[0])?;
                p.imm = Some(self.imm32(&ops[1])?);
            }
            Form::LoadImm64 => {
                let pseudo = pseudo.unwrap_or(Pseudo::None);
                p.src = pseudo.src();
                if pseudo.has_value_offset() {
                    // `lddw map_value %r1, fd, offset`: the offset is the second slot's imm.
                    want(3)?;
                    p.dst = self.reg(&ops[0])?;
                    let fd = self.imm32_value(&ops[1])?;
                    let off = self.imm32_value(&ops[2])?;
                    let lo = fd as u32 as i128;
                    let hi = (off as u32 as i128) << 32;
                    p.imm = Some(Operand::num(
                        (hi | lo) as u64 as i64 as i128,
                        ops[1].span().to(ops[2].span()),
                    ));
                } else {
                    want(2)?;
                    p.dst = self.reg(&ops[0])?;
                    p.imm = Some(self.imm64(&ops[1])?);
                }
            }
            Form::Jump { .. } => {
                want(3)?;
                p.def = by_source(&ops[1])?;
                p.dst = self.reg(&ops[0])?;
                match ops[1] {
                    RawOp::Reg(_) => p.src = self.reg(&ops[1])?,
                    _ => p.imm = Some(self.imm32(&ops[1])?),
                }
                p.off = Some(self.target(&ops[2])?);
            }
            Form::Ja | Form::MayGoto => {
                want(1)?;
                p.off = Some(self.target(&ops[0])?);
            }
            Form::Gotol | Form::Call(CallKind::Local) => {
                want(1)?;
                p.imm = Some(self.target(&ops[0])?);
            }
            Form::Call(CallKind::Helper) => {
                want(1)?;
                match &ops[0] {
                    // `call %r2` is callx, as the conformance suite spells it.
                    RawOp::Reg(_) => {
                        p.def = by_name()["callx"][0];
                        p.dst = self.reg(&ops[0])?;
                    }
                    RawOp::Name(w) => {
                        p.imm = Some(Operand {
                            value: Value::Name(w.text.into()),
                            span: w.span,
                        })
                    }
                    other => p.imm = Some(self.imm32(other)?),
                }
            }
            Form::Call(CallKind::Kfunc) => {
                want(1)?;
                p.imm = Some(self.imm32(&ops[0])?);
            }
            Form::Callx => {
                want(1)?;
                p.dst = self.reg(&ops[0])?;
            }
            Form::Exit => want(0)?,
        }
        Ok(p)
    }

    fn usage_of(&self, mn: Mnemonic) -> String {
        match mn {
            Mnemonic::Table(name) => usage(name, by_name()[name][0].form),
            Mnemonic::Lddw(p) if p.has_value_offset() => {
                format!("lddw {} %dst, fd, offset", p.name().unwrap_or_default())
            }
            Mnemonic::Lddw(p) => format!("lddw {} %dst, imm64", p.name().unwrap_or_default()),
        }
    }

    fn unknown_mnemonic(&self, raw: &RawInsn<'_>) -> Diagnostic {
        let head = raw.words[0];
        if head.text == "lock" {
            let atomics = || {
                isa::table()
                    .iter()
                    .filter_map(|d| d.name.strip_prefix("lock "))
                    // The 32-bit forms are the same names with `32`; the help says so.
                    .filter(|s| !s.ends_with("32"))
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
            };
            return match raw.words.get(1) {
                None => Diagnostic::error(
                    raw.span,
                    "invalid number of operands for `lock`: it needs an atomic operation, a memory operand and a register",
                )
                .with_expected(atomics())
                .with_help("write it as `lock add [%r10-8], %r1`"),
                Some(op) => {
                    let last = raw.words.last().unwrap_or(op);
                    let words: Vec<&str> = raw.words[1..].iter().map(|w| w.text).collect();
                    Diagnostic::error(
                        op.span.to(last.span),
                        format!("unknown atomic operation `{}`", words.join(" ")),
                    )
                    .with_expected(atomics())
                    .with_help("write it as `lock [fetch] add|or|and|xor[32]`, `lock xchg[32]` or `lock cmpxchg[32]`")
                }
            };
        }
        let mut d = Diagnostic::error(head.span, format!("invalid mnemonic `{}`", head.text));
        if let Some(s) = suggest(head.text) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        d
    }

    fn expected(&self, op: &RawOp<'_>, what: &str) -> Diagnostic {
        let found = match op {
            RawOp::Reg(w) => format!("register `{}`", w.text),
            RawOp::Mem { span, .. } => format!("memory operand `{}`", self.text(*span)),
            RawOp::Num(n) => format!("number `{}`", self.text(n.span)),
            RawOp::Name(w) => format!("name `{}`", w.text),
        };
        Diagnostic::error(op.span(), format!("unexpected {found}")).with_expected([what])
    }

    fn reg(&self, op: &RawOp<'_>) -> Result<u8, Diagnostic> {
        match op {
            RawOp::Reg(w) => parse_reg(w),
            other => Err(self.expected(other, "a register")),
        }
    }

    fn mem(&self, op: &RawOp<'_>) -> Result<(u8, Option<Operand>), Diagnostic> {
        match op {
            RawOp::Mem { reg, off, .. } => {
                let r = parse_reg(reg)?;
                let off = match off {
                    None => None,
                    Some(n) => {
                        let (v, _) = self.number(n)?;
                        if !(i16::MIN as i128..=i16::MAX as i128).contains(&v) {
                            return Err(Diagnostic::error(
                                n.span,
                                format!("offset `{}` is out of 16-bit range", self.text(n.span)),
                            )
                            .with_help("offsets are signed 16-bit: -32768 to +32767"));
                        }
                        Some(Operand::num(v, n.span))
                    }
                };
                Ok((r, off))
            }
            other => Err(self
                .expected(other, "a memory operand like `[%r1+4]`")
                .with_help("memory operands are a register in brackets with an optional offset: `[%r1]`, `[%r1+4]`, `[%r10-8]`")),
        }
    }

    /// A sign and digits as a value, and whether the digits are hexadecimal.
    fn number(&self, n: &RawNum<'_>) -> Result<(i128, bool), Diagnostic> {
        let (digits, radix) = match n
            .digits
            .strip_prefix("0x")
            .or_else(|| n.digits.strip_prefix("0X"))
        {
            Some(h) => (h, 16),
            None => (n.digits, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return Err(Diagnostic::error(
                n.span,
                format!("malformed number `{}`", self.text(n.span)),
            )
            .with_help("numbers are decimal (`42`) or hexadecimal (`0x2a`)"));
        }
        let magnitude = u128::from_str_radix(digits, radix)
            .ok()
            .filter(|m| *m <= u64::MAX as u128)
            .ok_or_else(|| {
                Diagnostic::error(
                    n.span,
                    format!("number `{}` does not fit in 64 bits", self.text(n.span)),
                )
            })?;
        let v = magnitude as i128;
        Ok((if n.sign == Some('-') { -v } else { v }, radix == 16))
    }

    /// A 32-bit immediate. Decimal is signed (`-2147483648` to `2147483647`), hexadecimal
    /// may also spell the unsigned bit pattern (up to `0xffffffff`): the conformance
    /// assembler rejects `2147483648` but takes `0x80000000`.
    fn imm32_value(&self, op: &RawOp<'_>) -> Result<i128, Diagnostic> {
        let RawOp::Num(n) = op else {
            return Err(self.expected(op, "an immediate"));
        };
        let (v, hex) = self.number(n)?;
        let max = if hex {
            u32::MAX as i128
        } else {
            i32::MAX as i128
        };
        if !(i32::MIN as i128..=max).contains(&v) {
            let help = if !hex && (0..=u32::MAX as i128).contains(&v) {
                "decimal immediates are signed 32-bit (-2147483648 to 2147483647); write the bit pattern in hex, e.g. `0x80000000`"
            } else {
                "load a 64-bit constant with `lddw`"
            };
            return Err(Diagnostic::error(
                n.span,
                format!("immediate `{}` is out of 32-bit range", self.text(n.span)),
            )
            .with_help(help));
        }
        Ok(v)
    }

    fn imm32(&self, op: &RawOp<'_>) -> Result<Operand, Diagnostic> {
        Ok(Operand::num(self.imm32_value(op)?, op.span()))
    }

    /// A 64-bit immediate: signed decimal, or hexadecimal up to `0xffffffffffffffff`.
    fn imm64(&self, op: &RawOp<'_>) -> Result<Operand, Diagnostic> {
        let RawOp::Num(n) = op else {
            return Err(self.expected(op, "an immediate"));
        };
        let (v, hex) = self.number(n)?;
        let max = if hex {
            u64::MAX as i128
        } else {
            i64::MAX as i128
        };
        if !(i64::MIN as i128..=max).contains(&v) {
            return Err(Diagnostic::error(
                n.span,
                format!("immediate `{}` is out of 64-bit range", self.text(n.span)),
            )
            .with_help("decimal immediates are signed 64-bit; write larger bit patterns in hex"));
        }
        Ok(Operand::num(v, n.span))
    }

    fn small(&self, op: &RawOp<'_>, max: i128, what: &str) -> Result<i128, Diagnostic> {
        let RawOp::Num(n) = op else {
            return Err(self.expected(op, &format!("an {what}")));
        };
        let (v, _) = self.number(n)?;
        if !(0..=max).contains(&v) {
            return Err(Diagnostic::error(
                n.span,
                format!("{what} `{}` is out of range 0 to {max}", self.text(n.span)),
            ));
        }
        Ok(v)
    }

    /// A jump target: `+N`/`-N` slots after the next instruction, or a label. A bare number
    /// is refused: the conformance assembler would read it as a label name.
    fn target(&self, op: &RawOp<'_>) -> Result<Operand, Diagnostic> {
        match op {
            RawOp::Name(w) => Ok(Operand {
                value: Value::Name(w.text.into()),
                span: w.span,
            }),
            RawOp::Num(n) if n.sign.is_some() => {
                let (v, _) = self.number(n)?;
                Ok(Operand {
                    value: Value::Rel(v),
                    span: n.span,
                })
            }
            RawOp::Num(n) => Err(Diagnostic::error(
                n.span,
                format!(
                    "jump target `{}` must be a label or a signed offset",
                    self.text(n.span)
                ),
            )
            .with_help(format!(
                "write `+{}` to jump that many instructions forward",
                n.digits
            ))),
            other => Err(self.expected(other, "a jump target (`+N`, `-N` or a label)")),
        }
    }
}

fn parse_reg(w: &Word<'_>) -> Result<u8, Diagnostic> {
    let n = w.text.strip_prefix("%r").and_then(|d| {
        d.parse::<u8>()
            .ok()
            .filter(|r| *r <= 10 && r.to_string() == d)
    });
    n.ok_or_else(|| {
        Diagnostic::error(w.span, format!("invalid register `{}`", w.text))
            .with_help("registers are %r0 to %r10 (%r10 is the read-only frame pointer)")
    })
}

/// The known mnemonic closest to a misspelt one (edit distance at most 2).
fn suggest(word: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    let mut names: Vec<&'static str> = by_name()
        .keys()
        .copied()
        .filter(|n| !n.contains(' '))
        .collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| (distance(word, n), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}
