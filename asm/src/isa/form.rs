//! The shape of an instruction ([`Form`]), the fields it uses ([`Fields`]) and its table
//! entry ([`OpDef`]).

use super::{AluOp, AtomicOp, ByteOrder, CallKind, Cond, Isa, PacketMode, Size, Source, Width};

/// The shape and meaning of an instruction. Parsers, printers and the VM match on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// `dst op= src|imm`, including `mov` and the signed division forms.
    Alu {
        /// The operation.
        op: AluOp,
        /// 32- or 64-bit.
        width: Width,
        /// Register or immediate operand.
        source: Source,
    },
    /// `dst = -dst`.
    Neg {
        /// 32- or 64-bit.
        width: Width,
    },
    /// `dst = (sN) src`: sign-extending move; `from` is 8, 16 or 32 bits.
    MovSx {
        /// 32- or 64-bit destination.
        width: Width,
        /// Bits of the source that are sign-extended.
        from: u8,
    },
    /// `dst = addr_space_cast(src, dst_as, src_as)` (Linux, `BPF_ADDR_SPACE_CAST`).
    AddrSpaceCast,
    /// `dst = be16|le32|bswap64 dst ...`.
    Endian {
        /// Direction of the conversion.
        order: ByteOrder,
        /// 16, 32 or 64.
        bits: u8,
    },
    /// `dst = *(size *)(src + off)`, optionally sign-extending.
    Load {
        /// Access size.
        size: Size,
        /// `BPF_MEMSX` (ISA v4).
        signed: bool,
    },
    /// `*(size *)(dst + off) = src|imm`.
    Store {
        /// Access size.
        size: Size,
        /// Register (`BPF_STX`) or immediate (`BPF_ST`).
        source: Source,
    },
    /// Atomic read-modify-write, load-acquire or store-release on `*(size *)(dst + off)`.
    Atomic {
        /// Access size.
        size: Size,
        /// The operation, selected by `imm`.
        op: AtomicOp,
    },
    /// Legacy packet load into r0 (`ld_abs`/`ld_ind`).
    LoadPacket {
        /// Absolute or indirect.
        mode: PacketMode,
        /// Access size (B, H, W).
        size: Size,
    },
    /// `dst = imm64` over two slots (`lddw`), `src` selects a [`Pseudo`](super::Pseudo) source.
    LoadImm64,
    /// `if dst cond src|imm goto +off`.
    Jump {
        /// The comparison.
        cond: Cond,
        /// `BPF_JMP` (64-bit) or `BPF_JMP32`.
        width: Width,
        /// Register or immediate operand.
        source: Source,
    },
    /// `goto +off` (`BPF_JA`, 16-bit offset).
    Ja,
    /// `gotol +imm` (`BPF_JMP32 | BPF_JA`, 32-bit offset, ISA v4).
    Gotol,
    /// `may_goto +off` (Linux `BPF_JCOND`): jumps once the loop budget is spent.
    MayGoto,
    /// `call imm`, `src` selects the [`CallKind`].
    Call(CallKind),
    /// `callx dst`: call through a register.
    Callx,
    /// `exit`.
    Exit,
}

/// Which instruction fields a form uses; any field not used must be zero in the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// `dst` holds a register.
    pub dst: bool,
    /// `src` holds a register (or, for lddw, a pseudo source).
    pub src: bool,
    /// `off` is an operand.
    pub off: bool,
    /// `imm` is an operand.
    pub imm: bool,
}

/// A field value that, together with the opcode byte, selects an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// The opcode byte alone decides.
    None,
    /// `off` must equal this (sdiv/smod: 1, movsx: 8/16/32, addr_space_cast: 1).
    Off(i16),
    /// `imm` must equal this (byte swaps, atomics).
    Imm(i32),
    /// `src` must equal this (call kinds).
    Src(u8),
}

/// One instruction of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpDef {
    /// The opcode byte.
    pub code: u8,
    /// The field that, with `code`, identifies this instruction.
    pub selector: Selector,
    /// The canonical mnemonic: the ubpf / bpf_conformance spelling, unique in the table.
    pub name: &'static str,
    /// Shape and meaning.
    pub form: Form,
    /// First ISA version with this instruction.
    pub isa: Isa,
}

impl OpDef {
    /// The instruction class (low three bits of the opcode).
    pub const fn class(&self) -> u8 {
        self.code & 0x07
    }

    /// Which fields carry operands; the rest must be zero.
    pub const fn fields(&self) -> Fields {
        const fn f(dst: bool, src: bool, off: bool, imm: bool) -> Fields {
            Fields { dst, src, off, imm }
        }
        match self.form {
            Form::Alu {
                source: Source::Imm,
                ..
            } => f(true, false, false, true),
            Form::Alu {
                source: Source::Reg,
                ..
            } => f(true, true, false, false),
            Form::Neg { .. } | Form::Endian { .. } => f(true, false, false, false),
            Form::MovSx { .. } => f(true, true, false, false),
            Form::AddrSpaceCast => f(true, true, false, true),
            Form::Load { .. } => f(true, true, true, false),
            Form::Store {
                source: Source::Imm,
                ..
            } => f(true, false, true, true),
            Form::Store {
                source: Source::Reg,
                ..
            } => f(true, true, true, false),
            Form::Atomic { .. } => f(true, true, true, false),
            Form::LoadPacket {
                mode: PacketMode::Abs,
                ..
            } => f(false, false, false, true),
            Form::LoadPacket {
                mode: PacketMode::Ind,
                ..
            } => f(false, true, false, true),
            Form::LoadImm64 => f(true, true, false, true),
            Form::Jump {
                source: Source::Imm,
                ..
            } => f(true, false, true, true),
            Form::Jump {
                source: Source::Reg,
                ..
            } => f(true, true, true, false),
            Form::Ja | Form::MayGoto => f(false, false, true, false),
            Form::Gotol => f(false, false, false, true),
            Form::Call(_) => f(false, false, false, true),
            Form::Callx => f(true, false, false, false),
            Form::Exit => f(false, false, false, false),
        }
    }

    /// Number of 8-byte slots the instruction occupies (2 for `lddw`).
    pub const fn slots(&self) -> usize {
        if matches!(self.form, Form::LoadImm64) {
            2
        } else {
            1
        }
    }

    /// Whether `off` is a pc-relative jump target.
    pub const fn is_jump(&self) -> bool {
        matches!(self.form, Form::Jump { .. } | Form::Ja | Form::MayGoto)
    }
}
