//! The grammar's actions: turn parsed pieces into [`PendingInsn`]s, checking what the
//! grammar alone cannot (register classes, sizes, operand agreement).

use crate::diag::{Diagnostic, Span};
use crate::isa::{
    self, AluOp, AtomicOp, ByteOrder, CallKind, Cond, Form, OpDef, PacketMode, Pseudo,
};
use crate::isa::{op, Size, Source, Width};
use crate::text::{Operand, PendingInsn, Stmt, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

use super::lexer::{AtomicFn, RegTok};

/// A result of one grammar action.
pub type Res = Result<Stmt, Diagnostic>;

/// A register with its place in the source.
#[derive(Clone, Copy, Debug)]
pub struct Reg {
    /// As lexed.
    pub tok: RegTok,
    /// Where.
    pub span: Span,
}

impl Reg {
    fn name(&self) -> String {
        format!("{}{}", if self.tok.wide { 'r' } else { 'w' }, self.tok.n)
    }

    fn width(&self) -> Width {
        if self.tok.wide {
            Width::W64
        } else {
            Width::W32
        }
    }

    /// The register number, if it exists.
    fn num(&self) -> Result<u8, Diagnostic> {
        if self.tok.n > 10 {
            return Err(Diagnostic::error(
                self.span,
                format!("there is no register `{}`", self.name()),
            )
            .with_help("eBPF has registers r0 to r10 (w0 to w10 for their low 32 bits)"));
        }
        Ok(self.tok.n)
    }

    /// The register number; it must be a 64-bit `r` register.
    fn r(&self, why: &str) -> Result<u8, Diagnostic> {
        let n = self.num()?;
        if !self.tok.wide {
            return Err(Diagnostic::error(
                self.span,
                format!("expected a 64-bit register (`r{n}`), found `w{n}`"),
            )
            .with_expected([format!("r{n}")])
            .with_help(why.to_string()));
        }
        Ok(n)
    }

    /// The register number; it must have the given width.
    fn of(&self, width: Width, why: &str) -> Result<u8, Diagnostic> {
        let n = self.num()?;
        if self.width() != width {
            let (want, class) = match width {
                Width::W64 => (format!("r{n}"), "a 64-bit register"),
                Width::W32 => (format!("w{n}"), "a 32-bit register"),
            };
            return Err(Diagnostic::error(
                self.span,
                format!("expected {class} (`{want}`), found `{}`", self.name()),
            )
            .with_expected([want])
            .with_help(why.to_string()));
        }
        Ok(n)
    }
}

/// A memory operand `(rN + off)`.
#[derive(Clone, Debug)]
pub struct Mem {
    /// Base register.
    pub base: Reg,
    /// Offset (absent means 0).
    pub off: Option<Operand>,
}

/// A multiply-rotate hasher (as in rustc's FxHash): the keys are a few small enum fields,
/// and SipHash showed up in profiles of million-line inputs.
#[derive(Default)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

type FormMap = HashMap<Form, &'static OpDef, std::hash::BuildHasherDefault<FxHasher>>;

fn by_form() -> &'static FormMap {
    static MAP: OnceLock<FormMap> = OnceLock::new();
    MAP.get_or_init(|| isa::table().iter().map(|d| (d.form, d)).collect())
}

/// The table entry of a form (every form the grammar builds exists in the table).
pub fn def(form: Form) -> &'static OpDef {
    by_form()[&form]
}

fn insn(
    form: Form,
    dst: u8,
    src: u8,
    off: Option<Operand>,
    imm: Option<Operand>,
    span: Span,
) -> Res {
    Ok(Stmt::Insn(PendingInsn {
        def: def(form),
        dst,
        src,
        off,
        imm,
        span,
    }))
}

/// Parses a number token: decimal, `0x` hex, `0b` binary, or octal with a leading zero
/// (as llvm-mc reads them).
pub fn number(text: &str, span: Span) -> Result<i128, Diagnostic> {
    let (digits, radix) =
        if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(b) = text.strip_prefix("0b").or_else(|| text.strip_prefix("0B")) {
            (b, 2)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() {
        return Err(Diagnostic::error(span, format!("`{text}` has no digits")));
    }
    let mut v: i128 = 0;
    for c in digits.bytes() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 255,
        } as u32;
        if d >= radix {
            let base = match radix {
                16 => "hexadecimal",
                2 => "binary",
                8 => "octal (it starts with 0)",
                _ => "decimal",
            };
            return Err(Diagnostic::error(span, format!("`{text}` is not a valid {base} number"))
                .with_help("numbers are decimal (`42`), hexadecimal (`0x2a`), binary (`0b101010`) or octal (`052`)"));
        }
        v = v * radix as i128 + d as i128;
        if v > u64::MAX as i128 {
            return Err(Diagnostic::error(
                span,
                format!("`{text}` does not fit in 64 bits"),
            ));
        }
    }
    Ok(v)
}

/// `dst op= src`.
pub fn alu_reg(d: Reg, op: AluOp, s: Reg, span: Span) -> Res {
    let width = d.width();
    let dst = d.num()?;
    let src = s.of(
        width,
        &format!(
            "both operands of `{}` must have the same width",
            op.llvm_operator()
        ),
    )?;
    insn(
        Form::Alu {
            op,
            width,
            source: Source::Reg,
        },
        dst,
        src,
        None,
        None,
        span,
    )
}

/// `dst op= imm`.
pub fn alu_imm(d: Reg, op: AluOp, imm: Operand, span: Span) -> Res {
    let width = d.width();
    insn(
        Form::Alu {
            op,
            width,
            source: Source::Imm,
        },
        d.num()?,
        0,
        None,
        Some(imm),
        span,
    )
}

/// `dst = imm ll`.
pub fn lddw(d: Reg, imm: Operand, span: Span) -> Res {
    let dst = d.r("`ll` loads a 64-bit constant into a 64-bit register")?;
    insn(Form::LoadImm64, dst, 0, None, Some(imm), span)
}

/// `dst = NAME(lo[, hi]) ll` and `ld_pseudo dst, src, imm`.
pub fn lddw_pseudo(
    d: Reg,
    pseudo: Pseudo,
    lo: (i128, Span),
    hi: Option<(i128, Span)>,
    span: Span,
) -> Res {
    let dst = d.r("`ll` loads a 64-bit value into a 64-bit register")?;
    let lo_range = super::super::range::IMM;
    if !lo_range.contains(&lo.0) {
        return Err(
            Diagnostic::error(lo.1, format!("{} does not fit in 32 bits", lo.0))
                .with_help("the first slot of `lddw` holds a 32-bit value"),
        );
    }
    let mut hi_v = 0;
    if let Some((h, hs)) = hi {
        if !super::super::range::IMM.contains(&h) {
            return Err(
                Diagnostic::error(hs, format!("{h} does not fit in 32 bits"))
                    .with_help("the second slot of `lddw` holds a 32-bit value"),
            );
        }
        hi_v = h;
    }
    let imm = ((hi_v as u32 as u64) << 32) | (lo.0 as u32 as u64);
    Ok(Stmt::Insn(PendingInsn {
        def: def(Form::LoadImm64),
        dst,
        src: pseudo.src(),
        off: None,
        imm: Some(Operand::num(imm as i128, lo.1.to(hi.map_or(lo.1, |h| h.1)))),
        span,
    }))
}

/// `ld_pseudo dst, src, imm` (llvm-objdump's spelling of `lddw` with a pseudo source).
pub fn ld_pseudo(d: Reg, src: (i128, Span), imm: (i128, Span), span: Span) -> Res {
    let pseudo = u8::try_from(src.0).ok().and_then(Pseudo::from_src).ok_or_else(|| {
        Diagnostic::error(src.1, format!("unknown pseudo source {}", src.0))
            .with_help("`lddw` pseudo sources are 0 to 6 (map_fd, map_value, btf_id, func, map_idx, map_idx_value)")
    })?;
    lddw_pseudo(d, pseudo, imm, None, span)
}

/// `dst = src`.
pub fn mov_reg(d: Reg, s: Reg, span: Span) -> Res {
    alu_reg(d, AluOp::Mov, s, span)
}

/// `dst = -dst`.
pub fn neg(d: Reg, s: Reg, span: Span) -> Res {
    let width = d.width();
    let dst = d.num()?;
    let src = s.of(width, "negation keeps the width of its register")?;
    if src != dst {
        return Err(Diagnostic::error(
            s.span,
            "negation works in place: the source must be the destination",
        )
        .with_expected([d.name()])
        .with_help(format!("write `{} = -{}`", d.name(), d.name())));
    }
    insn(Form::Neg { width }, dst, 0, None, None, span)
}

/// `dst = (s8) src`.
pub fn movsx(d: Reg, from: (isa::Size, bool), from_span: Span, s: Reg, span: Span) -> Res {
    let width = d.width();
    let dst = d.num()?;
    let src = s.of(
        width,
        "a sign-extending move keeps the width of its registers",
    )?;
    let bits = from.0.bits() as u8;
    let ok = from.1 && (bits < 32 || (bits == 32 && width == Width::W64));
    if !ok {
        return Err(Diagnostic::error(from_span, "invalid sign-extension cast")
            .with_expected(if width == Width::W64 { vec!["(s8)", "(s16)", "(s32)"] } else { vec!["(s8)", "(s16)"] })
            .with_help("`(s8)`, `(s16)` (and `(s32)` for r registers) sign-extend the low bits of the source"));
    }
    insn(
        Form::MovSx { width, from: bits },
        dst,
        src,
        None,
        None,
        span,
    )
}

/// `dst = be16 dst`, `dst = bswap64 dst` ...
pub fn endian(d: Reg, e: (ByteOrder, u8), s: Reg, span: Span) -> Res {
    let dst = d.r("byte-order conversions are written on r registers (`r0 = be16 r0`)")?;
    let src = s.r("byte-order conversions are written on r registers (`r0 = be16 r0`)")?;
    if src != dst {
        return Err(Diagnostic::error(
            s.span,
            "byte-order conversion works in place: the operand must be the destination",
        )
        .with_expected([d.name()]));
    }
    insn(
        Form::Endian {
            order: e.0,
            bits: e.1,
        },
        dst,
        0,
        None,
        None,
        span,
    )
}

/// `dst = addr_space_cast(src, dst_as, src_as)`.
pub fn addr_space_cast(
    d: Reg,
    s: Reg,
    dst_as: (i128, Span),
    src_as: (i128, Span),
    span: Span,
) -> Res {
    let dst = d.r("addr_space_cast works on 64-bit registers")?;
    let src = s.r("addr_space_cast works on 64-bit registers")?;
    for (v, sp) in [dst_as, src_as] {
        if !(0..=0xffff).contains(&v) {
            return Err(Diagnostic::error(
                sp,
                format!("address space {v} does not fit in 16 bits"),
            ));
        }
    }
    let imm = (dst_as.0 << 16) | src_as.0;
    insn(
        Form::AddrSpaceCast,
        dst,
        src,
        None,
        Some(Operand::num(imm, dst_as.1.to(src_as.1))),
        span,
    )
}

fn check_size_reg(r: &Reg, size: Size, what: &str) -> Result<u8, Diagnostic> {
    // llvm-mc takes r or w for accesses up to 32 bits (objdump prints w, the kernel r);
    // a 64-bit access needs an r register.
    if size == Size::DW {
        r.r(&format!("a 64-bit {what} needs a 64-bit register"))
    } else {
        r.num()
    }
}

fn base(m: &Mem) -> Result<u8, Diagnostic> {
    m.base.r("memory is addressed through a 64-bit register")
}

/// `dst = *(size *)(src + off)`.
pub fn load(d: Reg, size: (Size, bool), size_span: Span, m: Mem, span: Span) -> Res {
    let (size, signed) = size;
    if signed && size == Size::DW {
        return Err(
            Diagnostic::error(size_span, "there is no sign-extending 64-bit load")
                .with_help("use `u64`"),
        );
    }
    let dst = if signed {
        d.r("sign-extending loads write a 64-bit register")?
    } else {
        check_size_reg(&d, size, "load")?
    };
    let src = base(&m)?;
    insn(
        Form::Load { size, signed },
        dst,
        src,
        m.off.clone(),
        None,
        span,
    )
}

fn unsigned(size: (Size, bool), span: Span) -> Result<Size, Diagnostic> {
    if size.1 {
        return Err(
            Diagnostic::error(span, "stores and atomics take an unsigned size")
                .with_expected(["u8", "u16", "u32", "u64"]),
        );
    }
    Ok(size.0)
}

/// `*(size *)(dst + off) = src`.
pub fn store_reg(size: (Size, bool), size_span: Span, m: Mem, s: Reg, span: Span) -> Res {
    let size = unsigned(size, size_span)?;
    let dst = base(&m)?;
    let src = check_size_reg(&s, size, "store")?;
    insn(
        Form::Store {
            size,
            source: Source::Reg,
        },
        dst,
        src,
        m.off.clone(),
        None,
        span,
    )
}

/// `*(size *)(dst + off) = imm`.
pub fn store_imm(size: (Size, bool), size_span: Span, m: Mem, imm: Operand, span: Span) -> Res {
    let size = unsigned(size, size_span)?;
    let dst = base(&m)?;
    insn(
        Form::Store {
            size,
            source: Source::Imm,
        },
        dst,
        0,
        m.off.clone(),
        Some(imm),
        span,
    )
}

fn atomic_size(size: (Size, bool), span: Span) -> Result<Size, Diagnostic> {
    let size = unsigned(size, span)?;
    if !matches!(size, Size::W | Size::DW) {
        return Err(Diagnostic::error(
            span,
            "atomic read-modify-write operations work on 32 or 64 bits",
        )
        .with_expected(["u32", "u64"]));
    }
    Ok(size)
}

fn atomic(size: Size, op: AtomicOp, m: &Mem, src: u8, span: Span) -> Res {
    insn(
        Form::Atomic { size, op },
        base(m)?,
        src,
        m.off.clone(),
        None,
        span,
    )
}

/// `lock *(size *)(dst + off) op= src`.
pub fn lock(
    size: (Size, bool),
    size_span: Span,
    m: Mem,
    op: AluOp,
    op_span: Span,
    s: Reg,
    span: Span,
) -> Res {
    let size = atomic_size(size, size_span)?;
    let aop = match op {
        AluOp::Add => AtomicOp::Add,
        AluOp::Or => AtomicOp::Or,
        AluOp::And => AtomicOp::And,
        AluOp::Xor => AtomicOp::Xor,
        _ => {
            return Err(Diagnostic::error(
                op_span,
                format!("`lock {}` is not an atomic operation", op.llvm_operator()),
            )
            .with_expected(["+=", "|=", "&=", "^="]))
        }
    };
    let src = check_size_reg(&s, size, "atomic operation")?;
    atomic(size, aop, &m, src, span)
}

fn same_reg(a: &Reg, b: &Reg, what: &str) -> Result<(), Diagnostic> {
    if a.tok.n != b.tok.n {
        return Err(Diagnostic::error(
            b.span,
            format!("{what} must use the same register as the result"),
        )
        .with_expected([a.name()])
        .with_help(format!(
            "the old value is returned in the source register, here `{}`",
            a.name()
        )));
    }
    Ok(())
}

/// `dst = atomic_fetch_add((u64 *)(r1 + 0), src)` and the kernel's `atomic64_*` spellings.
#[allow(clippy::too_many_arguments)]
pub fn fetch(
    d: Reg,
    f: AtomicFn,
    f_span: Span,
    size: (Size, bool),
    size_span: Span,
    m: Mem,
    s: Reg,
    span: Span,
) -> Res {
    let size = atomic_size(size, size_span)?;
    let op = match f {
        AtomicFn::Fetch(op) => op,
        AtomicFn::Fetch64(op) => {
            if size != Size::DW {
                return Err(
                    Diagnostic::error(f_span, "`atomic64_` functions work on u64")
                        .with_help("drop the `64` for a 32-bit operation"),
                );
            }
            op
        }
        _ => {
            return Err(Diagnostic::error(
                f_span,
                "this atomic function takes other operands",
            ))
        }
    };
    check_size_reg(&d, size, "atomic operation")?;
    let src = check_size_reg(&s, size, "atomic operation")?;
    same_reg(&d, &s, "the operand")?;
    atomic(size, op, &m, src, span)
}

/// `dst = xchg_64(r1 + 0, src)`.
pub fn llvm_xchg(d: Reg, f: AtomicFn, f_span: Span, m: Mem, s: Reg, span: Span) -> Res {
    let AtomicFn::LlvmXchg(size) = f else {
        return Err(Diagnostic::error(
            f_span,
            "this atomic function takes other operands",
        ));
    };
    check_size_reg(&d, size, "exchange")?;
    let src = check_size_reg(&s, size, "exchange")?;
    same_reg(&d, &s, "the operand")?;
    atomic(size, AtomicOp::Xchg, &m, src, span)
}

/// `r0 = cmpxchg_64(r1 + 0, r0, src)` and `r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, src)`.
#[allow(clippy::too_many_arguments)]
pub fn cmpxchg(
    d: Reg,
    f: AtomicFn,
    f_span: Span,
    size: Option<((Size, bool), Span)>,
    m: Mem,
    r0: Reg,
    s: Reg,
    span: Span,
) -> Res {
    let size = match (f, size) {
        (AtomicFn::LlvmCmpXchg(size), None) => size,
        (AtomicFn::CmpXchg, Some((sz, sp))) => atomic_size(sz, sp)?,
        (AtomicFn::CmpXchg64, Some((sz, sp))) => {
            let size = atomic_size(sz, sp)?;
            if size != Size::DW {
                return Err(Diagnostic::error(f_span, "`atomic64_cmpxchg` works on u64"));
            }
            size
        }
        _ => {
            return Err(Diagnostic::error(
                f_span,
                "this atomic function takes other operands",
            ))
        }
    };
    for r in [&d, &r0] {
        check_size_reg(r, size, "compare-and-exchange")?;
        if r.tok.n != 0 {
            return Err(Diagnostic::error(
                r.span,
                "compare-and-exchange compares with and returns in r0",
            )
            .with_expected([if r.tok.wide { "r0" } else { "w0" }]));
        }
    }
    let src = check_size_reg(&s, size, "compare-and-exchange")?;
    atomic(size, AtomicOp::CmpXchg, &m, src, span)
}

/// `dst = load_acquire((size *)(src + off))`.
pub fn load_acquire(d: Reg, size: (Size, bool), size_span: Span, m: Mem, span: Span) -> Res {
    let size = unsigned(size, size_span)?;
    let dst = check_size_reg(&d, size, "load")?;
    // Load-acquire keeps the encoding of BPF_STX: the address is in src, the result in dst.
    insn(
        Form::Atomic {
            size,
            op: AtomicOp::LoadAcquire,
        },
        dst,
        base(&m)?,
        m.off.clone(),
        None,
        span,
    )
}

/// `store_release((size *)(dst + off), src)`.
pub fn store_release(size: (Size, bool), size_span: Span, m: Mem, s: Reg, span: Span) -> Res {
    let size = unsigned(size, size_span)?;
    let src = check_size_reg(&s, size, "store")?;
    atomic(size, AtomicOp::StoreRelease, &m, src, span)
}

/// `r0 = *(size *)skb[imm]` / `skb[rN]` / `skb[rN + imm]`.
pub fn packet(
    d: Reg,
    size: (Size, bool),
    size_span: Span,
    ind: Option<Reg>,
    imm: Option<Operand>,
    span: Span,
) -> Res {
    let size = unsigned(size, size_span)?;
    if size == Size::DW {
        return Err(
            Diagnostic::error(size_span, "packet loads read 1, 2 or 4 bytes")
                .with_expected(["u8", "u16", "u32"]),
        );
    }
    let n = d.r("packet loads write r0")?;
    if n != 0 {
        return Err(
            Diagnostic::error(d.span, "legacy packet loads always load into r0")
                .with_expected(["r0"]),
        );
    }
    match ind {
        None => insn(
            Form::LoadPacket {
                mode: PacketMode::Abs,
                size,
            },
            0,
            0,
            None,
            imm,
            span,
        ),
        Some(r) => {
            let src = r.r("the packet offset register is a 64-bit register")?;
            insn(
                Form::LoadPacket {
                    mode: PacketMode::Ind,
                    size,
                },
                0,
                src,
                None,
                imm,
                span,
            )
        }
    }
}

/// `if dst cond src goto target`.
pub fn jump_reg(d: Reg, cond: Cond, s: Reg, target: Operand, span: Span) -> Res {
    let width = d.width();
    let dst = d.num()?;
    let src = s.of(
        width,
        "both operands of a comparison must have the same width",
    )?;
    insn(
        Form::Jump {
            cond,
            width,
            source: Source::Reg,
        },
        dst,
        src,
        Some(target),
        None,
        span,
    )
}

/// `if dst cond imm goto target`.
pub fn jump_imm(d: Reg, cond: Cond, imm: Operand, target: Operand, span: Span) -> Res {
    let width = d.width();
    insn(
        Form::Jump {
            cond,
            width,
            source: Source::Imm,
        },
        d.num()?,
        0,
        Some(target),
        Some(imm),
        span,
    )
}

/// `goto target`.
pub fn ja(target: Operand, span: Span) -> Res {
    insn(Form::Ja, 0, 0, Some(target), None, span)
}

/// `gotol target`.
pub fn gotol(target: Operand, span: Span) -> Res {
    insn(Form::Gotol, 0, 0, None, Some(target), span)
}

/// `may_goto target`.
pub fn may_goto(target: Operand, span: Span) -> Res {
    insn(Form::MayGoto, 0, 0, Some(target), None, span)
}

/// `call target` (a helper by number or name, a label, or `pc+N`).
pub fn call(kind: CallKind, target: Operand, span: Span) -> Res {
    let src = match kind {
        CallKind::Helper => 0,
        CallKind::Local => 1,
        CallKind::Kfunc => 2,
    };
    insn(Form::Call(kind), 0, src, None, Some(target), span)
}

/// `call bpf_map_lookup_elem#1` / `call kernel-function#5` (verifier log).
pub fn call_ref(kind: CallKind, text: &str, span_tok: Span, span: Span) -> Res {
    let hash = text.rfind('#').expect("the token has a #");
    let digits = &text[hash + 1..];
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    let n = number(digits, span_tok)?;
    let id = if neg { -n } else { n };
    // A helper's name must agree with its id (`unknown#300` and kfunc names pass).
    let name = &text[..hash];
    if let (CallKind::Helper, Some(known)) = (kind, crate::text::helpers::by_name(name)) {
        if known as i128 != id {
            return Err(Diagnostic::error(
                span_tok,
                format!("`{name}` is helper {known}, not {id}"),
            )
            .with_help(format!("write `call {name}#{known}`, or `call {id}`")));
        }
    }
    call(kind, Operand::num(id, span_tok), span)
}

/// `callx rN`.
pub fn callx(r: Reg, span: Span) -> Res {
    let dst = r.r("`callx` calls through a 64-bit register")?;
    insn(Form::Callx, dst, 0, None, None, span)
}

/// `exit`.
pub fn exit(span: Span) -> Res {
    insn(Form::Exit, 0, 0, None, None, span)
}

/// The value of a kernel `(xx)` opcode column.
pub fn op_prefix(text: &str) -> u8 {
    u8::from_str_radix(&text[1..3], 16).expect("the lexer only accepts two hex digits")
}

/// Applies a kernel `(xx)` opcode column to a parsed statement: `(18) r1 = 0x1234` is the
/// kernel's spelling of `lddw` (the verifier log prints no `ll`); any other prefix must agree
/// with the instruction.
pub fn apply_prefix(code: u8, prefix_span: Span, stmt: Stmt) -> Res {
    let Stmt::Insn(mut p) = stmt else {
        return Ok(stmt);
    };
    if code == op::LDDW
        && matches!(
            p.def.form,
            Form::Alu {
                op: AluOp::Mov,
                width: Width::W64,
                source: Source::Imm
            }
        )
    {
        p.def = def(Form::LoadImm64);
        return Ok(Stmt::Insn(p));
    }
    if p.def.code != code {
        return Err(Diagnostic::error(
            prefix_span,
            format!(
                "opcode ({code:02x}) does not match the instruction, which is ({:02x})",
                p.def.code
            ),
        )
        .with_help("remove the `(xx)` column or correct it"));
    }
    Ok(Stmt::Insn(p))
}

/// A jump target written as a relative number (`+3`, `-1`, `pc+3`, `3`).
pub fn rel(n: i128, span: Span) -> Operand {
    Operand {
        value: Value::Rel(n),
        span,
    }
}

/// A name operand.
pub fn name(s: &str, span: Span) -> Operand {
    Operand {
        value: Value::Name(s.to_string()),
        span,
    }
}

/// The placeholder span of a statement under construction.
pub const NO: Span = Span::new(0, 0);

/// Gives a statement built with [`NO`] its span.
pub fn set_span(stmt: &mut Stmt, span: Span) {
    match stmt {
        Stmt::Insn(p) => p.span = span,
        Stmt::Equ { span: sp, .. } | Stmt::Label { span: sp, .. } => *sp = span,
    }
}

/// Errors carried on the parser's stack are boxed to keep its values small.
pub type E = Box<Diagnostic>;

/// Unboxes a carried error.
pub fn u<T>(r: Result<T, E>) -> Result<T, Diagnostic> {
    r.map_err(|e| *e)
}

/// A memory operand lexed as one token.
pub fn mem_tok(m: super::lexer::MemTok<'_>, span: Span) -> Result<Mem, Diagnostic> {
    let at = span.start + m.reg_at.0 as usize;
    let base = Reg {
        tok: m.reg,
        span: Span::new(at, at + m.reg_at.1 as usize),
    };
    let off = if m.digits.is_empty() {
        None
    } else {
        let at = span.start + m.off_at.0 as usize;
        let sp = Span::new(at, at + m.off_at.1 as usize);
        let v = number(m.digits, sp)?;
        Some(Operand::num(if m.neg { -v } else { v }, sp))
    };
    Ok(Mem { base, off })
}

/// The span of the size word in a fused cast token starting at `at`.
pub fn word(at: usize, s: super::lexer::SizeTok) -> Span {
    let start = at + s.word.0 as usize;
    Span::new(start, start + s.word.1 as usize)
}
