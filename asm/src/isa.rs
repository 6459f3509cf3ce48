//! The eBPF instruction set as data: one [`OpDef`] per instruction.
//!
//! Everything else derives from [`table`]: the binary decoder looks opcodes up here, the
//! encoder and the field checks use [`OpDef::fields`], each text dialect parses and prints
//! through [`OpDef::form`] and [`OpDef::name`], and the VM dispatches on [`Form`].
//!
//! Values follow RFC 9669 §4–§5 and, where Linux goes further, `include/uapi/linux/bpf.h`
//! of kernel 6.18 (`BPF_JCOND`, `BPF_LOAD_ACQ`, `BPF_ADDR_SPACE_CAST`, pseudo sources).

use std::sync::OnceLock;

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
    /// `dst = imm64` over two slots (`lddw`), `src` selects a [`Pseudo`] source.
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

/// The whole table, in a stable order (grouped by class).
pub fn table() -> &'static [OpDef] {
    static TABLE: OnceLock<Vec<OpDef>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// Looks an instruction up by its canonical (ubpf) name.
pub fn by_name(name: &str) -> Option<&'static OpDef> {
    table().iter().find(|d| d.name == name)
}

/// All table entries whose opcode byte is `code` (several when a field selects).
pub fn by_code(code: u8) -> &'static [OpDef] {
    static INDEX: OnceLock<[(u16, u16); 256]> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index = [(0u16, 0u16); 256];
        let t = table();
        let mut i = 0;
        while i < t.len() {
            let code = t[i].code;
            let start = i;
            while i < t.len() && t[i].code == code {
                i += 1;
            }
            assert_eq!(
                index[code as usize],
                (0, 0),
                "opcode {code:#04x} is not contiguous"
            );
            index[code as usize] = (start as u16, i as u16);
        }
        index
    });
    let (start, end) = index[code as usize];
    &table()[start as usize..end as usize]
}

/// Finds the entry for an encoded instruction, if its opcode and selector field are known.
pub fn lookup(code: u8, src: u8, off: i16, imm: i32) -> Option<&'static OpDef> {
    by_code(code).iter().find(|d| match d.selector {
        Selector::None => true,
        Selector::Off(v) => off == v,
        Selector::Imm(v) => imm == v,
        Selector::Src(v) => src == v,
    })
}

// ---- the table itself ---------------------------------------------------------------------

/// Arithmetic operations: (op, BPF_OP bits, ubpf stem, off selector for the signed forms, ISA).
const ALU_OPS: &[(AluOp, u8, &str, Option<i16>, Isa)] = &[
    (AluOp::Add, 0x00, "add", None, Isa::V1),
    (AluOp::Sub, 0x10, "sub", None, Isa::V1),
    (AluOp::Mul, 0x20, "mul", None, Isa::V1),
    (AluOp::Div, 0x30, "div", Some(0), Isa::V1),
    (AluOp::SDiv, 0x30, "sdiv", Some(1), Isa::V4),
    (AluOp::Or, 0x40, "or", None, Isa::V1),
    (AluOp::And, 0x50, "and", None, Isa::V1),
    (AluOp::Lsh, 0x60, "lsh", None, Isa::V1),
    (AluOp::Rsh, 0x70, "rsh", None, Isa::V1),
    (AluOp::Mod, 0x90, "mod", Some(0), Isa::V1),
    (AluOp::SMod, 0x90, "smod", Some(1), Isa::V4),
    (AluOp::Xor, 0xa0, "xor", None, Isa::V1),
    (AluOp::Mov, 0xb0, "mov", Some(0), Isa::V1),
    (AluOp::Arsh, 0xc0, "arsh", None, Isa::V1),
];

const JMP_CONDS: &[(Cond, u8, Isa)] = &[
    (Cond::Eq, 0x10, Isa::V1),
    (Cond::Gt, 0x20, Isa::V1),
    (Cond::Ge, 0x30, Isa::V1),
    (Cond::Set, 0x40, Isa::V1),
    (Cond::Ne, 0x50, Isa::V1),
    (Cond::Sgt, 0x60, Isa::V1),
    (Cond::Sge, 0x70, Isa::V1),
    (Cond::Lt, 0xa0, Isa::V2),
    (Cond::Le, 0xb0, Isa::V2),
    (Cond::Slt, 0xc0, Isa::V2),
    (Cond::Sle, 0xd0, Isa::V2),
];

/// Atomic operations with their ubpf spelling (after `lock`) and the sizes allowed.
const ATOMIC_OPS: &[(AtomicOp, &str, &[Size], Isa)] = &[
    (AtomicOp::Add, "add", &[Size::W, Size::DW], Isa::V1),
    (AtomicOp::Or, "or", &[Size::W, Size::DW], Isa::V3),
    (AtomicOp::And, "and", &[Size::W, Size::DW], Isa::V3),
    (AtomicOp::Xor, "xor", &[Size::W, Size::DW], Isa::V3),
    (
        AtomicOp::FetchAdd,
        "fetch add",
        &[Size::W, Size::DW],
        Isa::V3,
    ),
    (AtomicOp::FetchOr, "fetch or", &[Size::W, Size::DW], Isa::V3),
    (
        AtomicOp::FetchAnd,
        "fetch and",
        &[Size::W, Size::DW],
        Isa::V3,
    ),
    (
        AtomicOp::FetchXor,
        "fetch xor",
        &[Size::W, Size::DW],
        Isa::V3,
    ),
    (AtomicOp::Xchg, "xchg", &[Size::W, Size::DW], Isa::V3),
    (AtomicOp::CmpXchg, "cmpxchg", &[Size::W, Size::DW], Isa::V3),
    (
        AtomicOp::LoadAcquire,
        "load_acquire",
        &Size::ALL,
        Isa::Linux,
    ),
    (
        AtomicOp::StoreRelease,
        "store_release",
        &Size::ALL,
        Isa::Linux,
    ),
];

fn leak(s: String) -> &'static str {
    // The table is built once per process; its names live as long as the table.
    Box::leak(s.into_boxed_str())
}

fn build() -> Vec<OpDef> {
    use class::*;
    let mut t = Vec::with_capacity(256);
    let mut push = |code: u8, selector: Selector, name: &'static str, form: Form, isa: Isa| {
        t.push(OpDef {
            code,
            selector,
            name,
            form,
            isa,
        })
    };

    // LD: 64-bit immediate and the legacy packet loads.
    push(LD | 0x18, Selector::None, "lddw", Form::LoadImm64, Isa::V1);
    for mode in [PacketMode::Abs, PacketMode::Ind] {
        for size in [Size::W, Size::H, Size::B] {
            let (bits, stem) = match mode {
                PacketMode::Abs => (0x20, "ldabs"),
                PacketMode::Ind => (0x40, "ldind"),
            };
            push(
                LD | bits | size.code(),
                Selector::None,
                leak(format!("{stem}{}", size.suffix())),
                Form::LoadPacket { mode, size },
                Isa::V1,
            );
        }
    }

    // LDX: loads and sign-extending loads.
    for size in [Size::W, Size::H, Size::B, Size::DW] {
        let name = leak(format!("ldx{}", size.suffix()));
        push(
            LDX | 0x60 | size.code(),
            Selector::None,
            name,
            Form::Load {
                size,
                signed: false,
            },
            Isa::V1,
        );
    }
    for size in [Size::W, Size::H, Size::B] {
        let name = leak(format!("ldxs{}", size.suffix()));
        push(
            LDX | 0x80 | size.code(),
            Selector::None,
            name,
            Form::Load { size, signed: true },
            Isa::V4,
        );
    }

    // ST / STX: stores and atomics.
    for size in [Size::W, Size::H, Size::B, Size::DW] {
        let name = leak(format!("st{}", size.suffix()));
        push(
            ST | 0x60 | size.code(),
            Selector::None,
            name,
            Form::Store {
                size,
                source: Source::Imm,
            },
            Isa::V1,
        );
    }
    for size in [Size::W, Size::H, Size::B, Size::DW] {
        let name = leak(format!("stx{}", size.suffix()));
        push(
            STX | 0x60 | size.code(),
            Selector::None,
            name,
            Form::Store {
                size,
                source: Source::Reg,
            },
            Isa::V1,
        );
    }
    for size in [Size::W, Size::H, Size::B, Size::DW] {
        for &(op, stem, sizes, isa) in ATOMIC_OPS {
            if !sizes.contains(&size) {
                continue;
            }
            // ubpf spells the 64-bit form without a suffix and the 32-bit one with `32`.
            let name = match (op, size) {
                (AtomicOp::LoadAcquire | AtomicOp::StoreRelease, _) => {
                    format!("{stem}{}", size.suffix())
                }
                (_, Size::DW) => format!("lock {stem}"),
                _ => format!("lock {stem}32"),
            };
            let isa = if size == Size::W && isa == Isa::V1 {
                Isa::V3
            } else {
                isa
            };
            // The 32-bit `lock add` (xadd) is as old as the 64-bit one.
            let isa = if op == AtomicOp::Add { Isa::V1 } else { isa };
            push(
                STX | 0xc0 | size.code(),
                Selector::Imm(op.imm()),
                leak(name),
                Form::Atomic { size, op },
                isa,
            );
        }
    }

    // ALU (32-bit) and ALU64.
    for (cls, width, suffix32, suffix64) in
        [(ALU, Width::W32, "32", ""), (ALU64, Width::W64, "", "")]
    {
        let suffix = if width == Width::W32 {
            suffix32
        } else {
            suffix64
        };
        for source in [Source::Imm, Source::Reg] {
            let src_bit = if source == Source::Reg { 0x08 } else { 0x00 };
            for &(op, bits, stem, off, isa) in ALU_OPS {
                let code = cls | bits | src_bit;
                let selector = match off {
                    Some(v) => Selector::Off(v),
                    None => Selector::None,
                };
                push(
                    code,
                    selector,
                    leak(format!("{stem}{suffix}")),
                    Form::Alu { op, width, source },
                    isa,
                );
                if op == AluOp::Mov && source == Source::Reg {
                    // movsx shares the opcode of mov (off = 8/16/32), addr_space_cast is
                    // the 64-bit mov with off = 1.
                    let froms: &[u8] = if width == Width::W64 {
                        &[8, 16, 32]
                    } else {
                        &[8, 16]
                    };
                    for &from in froms {
                        let dst_bits = if width == Width::W64 { 64 } else { 32 };
                        push(
                            code,
                            Selector::Off(from as i16),
                            leak(format!("movsx{from}{dst_bits}")),
                            Form::MovSx { width, from },
                            Isa::V4,
                        );
                    }
                    if width == Width::W64 {
                        push(
                            code,
                            Selector::Off(1),
                            "addr_space_cast",
                            Form::AddrSpaceCast,
                            Isa::Linux,
                        );
                    }
                }
            }
        }
        push(
            cls | 0x80,
            Selector::None,
            leak(format!("neg{suffix}")),
            Form::Neg { width },
            Isa::V1,
        );
    }
    // Byte order: ALU | END | TO_LE/TO_BE, ALU64 | END (bswap).
    for (code, order, stem, isa) in [
        (ALU | 0xd0, ByteOrder::Le, "le", Isa::V1),
        (ALU | 0xd8, ByteOrder::Be, "be", Isa::V1),
        (ALU64 | 0xd0, ByteOrder::Swap, "bswap", Isa::V4),
    ] {
        for bits in [16u8, 32, 64] {
            push(
                code,
                Selector::Imm(bits as i32),
                leak(format!("{stem}{bits}")),
                Form::Endian { order, bits },
                isa,
            );
        }
    }

    // JMP and JMP32.
    push(JMP, Selector::None, "ja", Form::Ja, Isa::V1);
    push(JMP32, Selector::None, "ja32", Form::Gotol, Isa::V4);
    for (cls, width, suffix) in [(JMP, Width::W64, ""), (JMP32, Width::W32, "32")] {
        for &(cond, bits, isa) in JMP_CONDS {
            let isa = if width == Width::W32 {
                Isa::V3.max(isa)
            } else {
                isa
            };
            for source in [Source::Imm, Source::Reg] {
                let src_bit = if source == Source::Reg { 0x08 } else { 0x00 };
                push(
                    cls | bits | src_bit,
                    Selector::None,
                    leak(format!("{}{suffix}", cond.mnemonic())),
                    Form::Jump {
                        cond,
                        width,
                        source,
                    },
                    isa,
                );
            }
        }
    }
    push(
        JMP | 0x80,
        Selector::Src(0),
        "call",
        Form::Call(CallKind::Helper),
        Isa::V1,
    );
    push(
        JMP | 0x80,
        Selector::Src(1),
        "call local",
        Form::Call(CallKind::Local),
        Isa::V1,
    );
    push(
        JMP | 0x80,
        Selector::Src(2),
        "call kfunc",
        Form::Call(CallKind::Kfunc),
        Isa::Linux,
    );
    push(JMP | 0x88, Selector::None, "callx", Form::Callx, Isa::V4);
    push(JMP | 0x90, Selector::None, "exit", Form::Exit, Isa::V1);
    push(
        JMP | 0xe0,
        Selector::None,
        "may_goto",
        Form::MayGoto,
        Isa::Linux,
    );

    t.sort_by_key(|d| d.code);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_except_jump_sources() {
        // Register and immediate jumps share a mnemonic (`jeq %r1, 1` / `jeq %r1, %r2`), as do
        // ALU forms; a name plus its operand kind is unique.
        let mut seen = std::collections::HashSet::new();
        for d in table() {
            let src = matches!(
                d.form,
                Form::Alu {
                    source: Source::Reg,
                    ..
                } | Form::Jump {
                    source: Source::Reg,
                    ..
                }
            );
            assert!(seen.insert((d.name, src)), "duplicate {} ({src})", d.name);
        }
    }

    #[test]
    fn selectors_distinguish_every_entry() {
        for code in 0..=255u8 {
            let defs = by_code(code);
            for (i, a) in defs.iter().enumerate() {
                for b in &defs[i + 1..] {
                    assert_ne!(a.selector, b.selector, "{} and {} collide", a.name, b.name);
                    assert!(
                        !matches!(a.selector, Selector::None)
                            && !matches!(b.selector, Selector::None),
                        "{code:#04x} mixes selected and unselected entries"
                    );
                }
            }
        }
    }

    #[test]
    fn known_opcodes() {
        let cases: &[(u8, u8, i16, i32, &str)] = &[
            (0xb4, 0, 0, 0, "mov32"),
            (0xb7, 0, 0, 0, "mov"),
            (0xbf, 0, 8, 0, "movsx864"),
            (0xbc, 0, 16, 0, "movsx1632"),
            (0x3f, 0, 1, 0, "sdiv"),
            (0x9c, 0, 1, 0, "smod32"),
            (0xd7, 0, 0, 16, "bswap16"),
            (0xdc, 0, 0, 32, "be32"),
            (0xdb, 0, 0, 1, "lock fetch add"),
            (0xc3, 0, 0, 0xf1, "lock cmpxchg32"),
            (0x06, 0, 0, 0, "ja32"),
            (0x8d, 0, 0, 0, "callx"),
            (0x85, 1, 0, 0, "call local"),
            (0x18, 0, 0, 0, "lddw"),
            (0x30, 0, 0, 0, "ldabsb"),
            (0x91, 0, 0, 0, "ldxsb"),
            (0xe5, 0, 0, 0, "may_goto"),
            (0xd3, 0, 0, 0x100, "load_acquireb"),
        ];
        for &(code, src, off, imm, name) in cases {
            assert_eq!(
                lookup(code, src, off, imm).map(|d| d.name),
                Some(name),
                "{code:#04x}"
            );
        }
        assert!(lookup(0x8e, 0, 0, 0).is_none());
        assert!(lookup(0xbf, 0, 3, 0).is_none());
    }
}
