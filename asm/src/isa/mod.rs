//! The eBPF instruction set as data: one [`OpDef`] per instruction.
//!
//! Everything else derives from [`table`]: the binary decoder looks opcodes up here, the
//! encoder and the field checks use [`OpDef::fields`], each text dialect parses and prints
//! through [`OpDef::form`] and [`OpDef::name`], and the VM dispatches on [`Form`].
//!
//! The table is one declarative list (`table.rs`, in opcode order like RFC 9669 Appendix A)
//! that expands at compile time into the [`table`] itself, the opcode index behind
//! [`by_code`], and the named opcode bytes in [`op`]. Typed builders such as
//! [`Insn::mov64_imm`](crate::Insn::mov64_imm) pick their opcodes from the same table.
//!
//! Values follow RFC 9669 §4–§5 and, where Linux goes further, `include/uapi/linux/bpf.h`
//! of kernel 6.18 (`BPF_JCOND`, `BPF_LOAD_ACQ`, `BPF_ADDR_SPACE_CAST`, pseudo sources).

mod form;
pub mod op;
mod table;

pub use form::{Fields, Form, OpDef, Selector};
pub use table::{by_code, by_name, lookup, table, TABLE};

/// Instruction class, the low three bits of the opcode (RFC 9669 §3.3).
#[allow(missing_docs)]
pub mod class {
    pub const LD: u8 = 0x00;
    pub const LDX: u8 = 0x01;
    pub const ST: u8 = 0x02;
    pub const STX: u8 = 0x03;
    pub const ALU: u8 = 0x04;
    pub const JMP: u8 = 0x05;
    pub const JMP32: u8 = 0x06;
    pub const ALU64: u8 = 0x07;
}

/// Operand width of an arithmetic or jump instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit (`BPF_ALU`, `BPF_JMP32`): `w` registers in LLVM syntax.
    W32,
    /// 64-bit (`BPF_ALU64`, `BPF_JMP`): `r` registers.
    W64,
}

/// Where the second operand of an ALU or jump instruction comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// `BPF_K`: the 32-bit immediate, sign-extended.
    Imm,
    /// `BPF_X`: the `src` register.
    Reg,
}

/// Memory access size (RFC 9669 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Size {
    /// 1 byte, `BPF_B`.
    B,
    /// 2 bytes, `BPF_H`.
    H,
    /// 4 bytes, `BPF_W`.
    W,
    /// 8 bytes, `BPF_DW`.
    DW,
}

impl Size {
    /// All sizes, smallest first.
    pub const ALL: [Size; 4] = [Size::B, Size::H, Size::W, Size::DW];

    /// Number of bytes accessed.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// Number of bits accessed.
    pub const fn bits(self) -> u32 {
        self.bytes() as u32 * 8
    }

    /// The size bits of the opcode (`BPF_SIZE`).
    pub const fn code(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }

    /// The size an opcode's `BPF_SIZE` bits (`code & 0x18`) name: the inverse of
    /// [`Size::code`], for load and store opcodes (RFC 9669 §5.1).
    pub const fn from_code(code: u8) -> Size {
        let mut i = 0;
        while Size::ALL[i].code() != code & Size::DW.code() {
            i += 1;
        }
        Size::ALL[i]
    }

    /// The suffix in ubpf mnemonics: `b`, `h`, `w`, `dw`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Size::B => "b",
            Size::H => "h",
            Size::W => "w",
            Size::DW => "dw",
        }
    }
}

/// Binary arithmetic operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    SDiv,
    Or,
    And,
    Lsh,
    Rsh,
    Mod,
    SMod,
    Xor,
    Mov,
    Arsh,
}

impl AluOp {
    /// LLVM's compound-assignment operator (`+=`, `s/=`, `=` for mov ...).
    pub const fn llvm_operator(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::SDiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::SMod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov => "=",
            AluOp::Arsh => "s>>=",
        }
    }
}

/// Byte-order operations (`BPF_END`, RFC 9669 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `BPF_ALU | BPF_END | BPF_TO_LE`: convert to little-endian (truncates on this host).
    Le,
    /// `BPF_ALU | BPF_END | BPF_TO_BE`: convert to big-endian.
    Be,
    /// `BPF_ALU64 | BPF_END`: unconditional swap (ISA v4).
    Swap,
}

/// Atomic operations (`BPF_ATOMIC` mode, selected by `imm`, RFC 9669 §5.3 and Linux's
/// `BPF_LOAD_ACQ` / `BPF_STORE_REL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    FetchAdd,
    FetchOr,
    FetchAnd,
    FetchXor,
    Xchg,
    CmpXchg,
    LoadAcquire,
    StoreRelease,
}

impl AtomicOp {
    /// The `imm` value that selects this operation.
    pub const fn imm(self) -> i32 {
        match self {
            AtomicOp::Add => 0x00,
            AtomicOp::Or => 0x40,
            AtomicOp::And => 0x50,
            AtomicOp::Xor => 0xa0,
            AtomicOp::FetchAdd => 0x01,
            AtomicOp::FetchOr => 0x41,
            AtomicOp::FetchAnd => 0x51,
            AtomicOp::FetchXor => 0xa1,
            AtomicOp::Xchg => 0xe1,
            AtomicOp::CmpXchg => 0xf1,
            AtomicOp::LoadAcquire => 0x100,
            AtomicOp::StoreRelease => 0x110,
        }
    }

    /// Whether the old memory value is written back to a register.
    pub const fn fetches(self) -> bool {
        !matches!(
            self,
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor
        )
    }
}

/// Jump conditions (RFC 9669 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

impl Cond {
    /// The operator LLVM prints between the operands (`==`, `s>`, `&` ...).
    pub const fn llvm_operator(self) -> &'static str {
        match self {
            Cond::Eq => "==",
            Cond::Gt => ">",
            Cond::Ge => ">=",
            Cond::Set => "&",
            Cond::Ne => "!=",
            Cond::Sgt => "s>",
            Cond::Sge => "s>=",
            Cond::Lt => "<",
            Cond::Le => "<=",
            Cond::Slt => "s<",
            Cond::Sle => "s<=",
        }
    }

    /// The ubpf mnemonic stem (`jeq`, `jsgt` ...).
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Cond::Eq => "jeq",
            Cond::Gt => "jgt",
            Cond::Ge => "jge",
            Cond::Set => "jset",
            Cond::Ne => "jne",
            Cond::Sgt => "jsgt",
            Cond::Sge => "jsge",
            Cond::Lt => "jlt",
            Cond::Le => "jle",
            Cond::Slt => "jslt",
            Cond::Sle => "jsle",
        }
    }

    /// The condition tested when the operands are swapped (`a < b` ⇔ `b > a`); `None` for `&`.
    pub const fn swapped(self) -> Option<Cond> {
        Some(match self {
            Cond::Eq => Cond::Eq,
            Cond::Ne => Cond::Ne,
            Cond::Gt => Cond::Lt,
            Cond::Lt => Cond::Gt,
            Cond::Ge => Cond::Le,
            Cond::Le => Cond::Ge,
            Cond::Sgt => Cond::Slt,
            Cond::Slt => Cond::Sgt,
            Cond::Sge => Cond::Sle,
            Cond::Sle => Cond::Sge,
            Cond::Set => return None,
        })
    }
}

/// Legacy packet-access modes (`BPF_LD | BPF_ABS` / `BPF_IND`, RFC 9669 §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketMode {
    /// `BPF_ABS`: offset is `imm`.
    Abs,
    /// `BPF_IND`: offset is `src + imm`.
    Ind,
}

/// What `src` selects for a 64-bit immediate load (`include/uapi/linux/bpf.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pseudo {
    /// `src = 0`: a plain 64-bit constant.
    None,
    /// `BPF_PSEUDO_MAP_FD` (1): `imm` is a map file descriptor.
    MapFd,
    /// `BPF_PSEUDO_MAP_VALUE` (2): map fd in the first `imm`, value offset in the second.
    MapValue,
    /// `BPF_PSEUDO_BTF_ID` (3): a kernel variable by BTF id.
    BtfId,
    /// `BPF_PSEUDO_FUNC` (4): address of a subprogram, `imm` instructions after this one.
    Func,
    /// `BPF_PSEUDO_MAP_IDX` (5): map by index into `fd_array`.
    MapIdx,
    /// `BPF_PSEUDO_MAP_IDX_VALUE` (6): map value by index into `fd_array`, offset second.
    MapIdxValue,
}

impl Pseudo {
    /// All pseudo sources in `src` order.
    pub const ALL: [Pseudo; 7] = [
        Pseudo::None,
        Pseudo::MapFd,
        Pseudo::MapValue,
        Pseudo::BtfId,
        Pseudo::Func,
        Pseudo::MapIdx,
        Pseudo::MapIdxValue,
    ];

    /// From the `src` field.
    pub fn from_src(src: u8) -> Option<Pseudo> {
        Pseudo::ALL.get(src as usize).copied()
    }

    /// The `src` field value.
    pub const fn src(self) -> u8 {
        self as u8
    }

    /// The name bpfx's text forms use for it (`map_fd`, `map_value` ...); `None` for plain.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Pseudo::None => None,
            Pseudo::MapFd => Some("map_fd"),
            Pseudo::MapValue => Some("map_value"),
            Pseudo::BtfId => Some("btf_id"),
            Pseudo::Func => Some("func"),
            Pseudo::MapIdx => Some("map_idx"),
            Pseudo::MapIdxValue => Some("map_idx_value"),
        }
    }

    /// Whether the second slot's `imm` is a separate offset rather than the high half.
    pub const fn has_value_offset(self) -> bool {
        matches!(self, Pseudo::MapValue | Pseudo::MapIdxValue)
    }
}

/// What `src` selects for `call` (`BPF_JMP | BPF_CALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `src = 0`: a helper function by id.
    Helper,
    /// `BPF_PSEUDO_CALL` (1): a bpf-to-bpf call, `imm` is the pc-relative target.
    Local,
    /// `BPF_PSEUDO_KFUNC_CALL` (2): a kernel function by BTF id.
    Kfunc,
}

/// The ISA version that introduced an instruction (`-mcpu=v1..v4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// The original instruction set.
    V1,
    /// Adds `jlt`, `jle`, `jslt`, `jsle`.
    V2,
    /// Adds `BPF_JMP32` and 32-bit atomics.
    V3,
    /// Adds sdiv/smod, movsx, ldsx, bswap, gotol.
    V4,
    /// Linux extensions not in any `-mcpu` level (may_goto, load-acquire, addr_space_cast ...).
    Linux,
}
