//! Classic BPF (cBPF): the instruction set of socket filters and seccomp.
//!
//! One [`OpDef`] per opcode in [`table`] (values from `include/uapi/linux/filter.h` and
//! `include/uapi/linux/bpf_common.h`; the set of opcodes the kernel accepts is the one of
//! `chk_code_allowed()` in `net/core/filter.c`). [`SockFilter`] is `struct sock_filter`
//! with its host-endian encoding ([`decode`], [`encode`]). Text forms live in [`bpf_asm`]
//! (the kernel's `tools/bpf/bpf_asm` syntax) and [`seccomp`] (a readable form for
//! seccomp filters); [`formats`] reads and writes the binary/C/`N,...` forms; [`check`] is
//! the kernel's load-time checker.
//!
//! ```
//! use asm::cbpf::{self, SockFilter};
//!
//! let prog = cbpf::bpf_asm::assemble("ld [4]\njeq #0xc000003e, ok\nret #0\nok: ret #0x7fff0000\n")
//!     .unwrap();
//! assert_eq!(prog[1], SockFilter { code: 0x15, jt: 1, jf: 0, k: 0xc000003e });
//! let bytes = cbpf::encode(&prog);
//! assert_eq!(cbpf::decode(&bytes).unwrap(), prog);
//! ```

use std::sync::OnceLock;

pub mod bpf_asm;
pub mod check;
pub mod formats;
pub mod seccomp;
mod text;

pub use text::{CStmt, Target};

/// Instruction classes (`BPF_CLASS`). The first six are eBPF's too (one
/// `include/uapi/linux/bpf_common.h` for both); classic BPF has `RET` and `MISC` where eBPF has
/// `JMP32` and `ALU64`.
#[allow(missing_docs)]
pub mod class {
    use crate::isa::class as ebpf;
    pub const LD: u16 = ebpf::LD as u16;
    pub const LDX: u16 = ebpf::LDX as u16;
    pub const ST: u16 = ebpf::ST as u16;
    pub const STX: u16 = ebpf::STX as u16;
    pub const ALU: u16 = ebpf::ALU as u16;
    pub const JMP: u16 = ebpf::JMP as u16;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;
}

/// `SKF_AD_OFF`: ancillary loads are absolute loads at `SKF_AD_OFF + SKF_AD_*`.
pub const SKF_AD_OFF: i32 = -0x1000;
/// `SKF_NET_OFF`: absolute loads relative to the network header.
pub const SKF_NET_OFF: i32 = -0x100000;
/// `SKF_LL_OFF`: absolute loads relative to the link-layer header.
pub const SKF_LL_OFF: i32 = -0x200000;
/// `BPF_MEMWORDS`: the number of scratch words `M[0..16]`.
pub const BPF_MEMWORDS: u32 = 16;
/// `BPF_MAXINSNS`: the longest classic program the kernel loads.
pub const BPF_MAXINSNS: usize = 4096;

/// The ancillary ("extension") loads of `bpf_anc_helper()` in `net/core/filter.c`:
/// `(name in bpf_asm without '#', SKF_AD_* offset, meaning)`.
pub const ANCILLARY: &[(&str, u32, &str)] = &[
    ("proto", 0, "skb->protocol"),
    ("type", 4, "skb->pkt_type"),
    ("ifidx", 8, "skb->dev->ifindex"),
    ("nla", 12, "netlink attribute of type X at offset A"),
    ("nlan", 16, "nested netlink attribute"),
    ("mark", 20, "skb->mark"),
    ("queue", 24, "skb->queue_mapping"),
    ("hatype", 28, "skb->dev->type"),
    ("rxhash", 32, "skb->hash"),
    ("cpu", 36, "raw_smp_processor_id()"),
    ("xor_x", 40, "A ^ X (SKF_AD_ALU_XOR_X)"),
    ("vlan_tci", 44, "skb_vlan_tag_get()"),
    ("vlan_avail", 48, "skb_vlan_tag_present()"),
    ("poff", 52, "payload offset"),
    ("rand", 56, "get_random_u32()"),
    ("vlan_tpid", 60, "skb->vlan_proto"),
];

/// The ancillary load at absolute offset `k`, if `k` names one (`SKF_AD_OFF + SKF_AD_*`).
pub fn ancillary(k: u32) -> Option<&'static (&'static str, u32, &'static str)> {
    let off = (k as i32).checked_sub(SKF_AD_OFF)?;
    ANCILLARY.iter().find(|a| a.1 as i32 == off)
}

/// The ancillary load called `name` (without `#`); `vlan_pr` is bpf_asm's other spelling of
/// `vlan_avail`.
pub fn ancillary_by_name(name: &str) -> Option<u32> {
    let name = if name == "vlan_pr" {
        "vlan_avail"
    } else {
        name
    };
    ANCILLARY
        .iter()
        .find(|a| a.0 == name)
        .map(|a| (SKF_AD_OFF + a.1 as i32) as u32)
}

/// Arithmetic operations (`BPF_OP` of class `BPF_ALU`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Or,
    And,
    Lsh,
    Rsh,
    Neg,
    Mod,
    Xor,
}

impl AluOp {
    /// The bpf_asm mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            AluOp::Add => "add",
            AluOp::Sub => "sub",
            AluOp::Mul => "mul",
            AluOp::Div => "div",
            AluOp::Or => "or",
            AluOp::And => "and",
            AluOp::Lsh => "lsh",
            AluOp::Rsh => "rsh",
            AluOp::Neg => "neg",
            AluOp::Mod => "mod",
            AluOp::Xor => "xor",
        }
    }

    /// The C compound-assignment operator used by the seccomp dialect (`+=`, ...).
    pub const fn operator(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Neg => "= -A",
            AluOp::Mod => "%=",
            AluOp::Xor => "^=",
        }
    }
}

/// Conditional jump tests (`BPF_OP` of class `BPF_JMP`); compares are unsigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum JmpOp {
    Jeq,
    Jgt,
    Jge,
    Jset,
}

impl JmpOp {
    /// The bpf_asm mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            JmpOp::Jeq => "jeq",
            JmpOp::Jgt => "jgt",
            JmpOp::Jge => "jge",
            JmpOp::Jset => "jset",
        }
    }
}

/// The second operand of an ALU op or a jump: `BPF_K` or `BPF_X`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    /// `BPF_K`: the 32-bit constant `k`.
    K,
    /// `BPF_X`: the index register.
    X,
}

/// Load widths (`BPF_SIZE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// `BPF_W`, 4 bytes.
    W,
    /// `BPF_H`, 2 bytes.
    H,
    /// `BPF_B`, 1 byte.
    B,
}

impl Size {
    /// Bytes loaded.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::W => 4,
            Size::H => 2,
            Size::B => 1,
        }
    }
    /// bpf_asm's mnemonic suffix (`ld`, `ldh`, `ldb`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Size::W => "",
            Size::H => "h",
            Size::B => "b",
        }
    }
}

/// What an instruction does: the dispatch key for parsers, printers, the VM and the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// `A = P[k:size]` (`BPF_LD | BPF_ABS`); ancillary when `k >= SKF_AD_OFF`.
    LdAbs(Size),
    /// `A = P[X + k:size]` (`BPF_LD | BPF_IND`).
    LdInd(Size),
    /// `A = len` (`BPF_LD | BPF_W | BPF_LEN`).
    LdLen,
    /// `A = k` (`BPF_LD | BPF_IMM`).
    LdImm,
    /// `A = M[k]` (`BPF_LD | BPF_MEM`).
    LdMem,
    /// `X = k` (`BPF_LDX | BPF_IMM`).
    LdxImm,
    /// `X = M[k]` (`BPF_LDX | BPF_MEM`).
    LdxMem,
    /// `X = len` (`BPF_LDX | BPF_W | BPF_LEN`).
    LdxLen,
    /// `X = 4 * (P[k:1] & 0xf)` (`BPF_LDX | BPF_B | BPF_MSH`).
    LdxMsh,
    /// `M[k] = A`.
    St,
    /// `M[k] = X`.
    Stx,
    /// `A = A op K/X`; `Neg` has no operand.
    Alu(AluOp, Src),
    /// `pc += k`.
    Ja,
    /// `pc += (A op K/X) ? jt : jf`.
    Jmp(JmpOp, Src),
    /// Return `k`.
    RetK,
    /// Return `A`.
    RetA,
    /// Return `X` (encodable, but the kernel rejects it).
    RetX,
    /// `X = A`.
    Tax,
    /// `A = X`.
    Txa,
}

/// One classic opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpDef {
    /// The 16-bit `code`.
    pub code: u16,
    /// The bpf_asm mnemonic (`ldh`, `jeq`, `ret`, ...).
    pub name: &'static str,
    /// What it does.
    pub form: Form,
    /// Whether `bpf_check_classic()` accepts the opcode (`chk_code_allowed()`).
    pub kernel: bool,
}

/// Every classic opcode, in code order.
pub fn table() -> &'static [OpDef] {
    static TABLE: OnceLock<Vec<OpDef>> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn build_table() -> Vec<OpDef> {
    use class::*;
    const ABS: u16 = 0x20;
    const IND: u16 = 0x40;
    const MEM: u16 = 0x60;
    const LEN: u16 = 0x80;
    const MSH: u16 = 0xa0;
    let size = |s: Size| match s {
        Size::W => 0x00,
        Size::H => 0x08,
        Size::B => 0x10,
    };
    let mut t = Vec::new();
    let mut add = |code: u16, name: &'static str, form: Form, kernel: bool| {
        t.push(OpDef {
            code,
            name,
            form,
            kernel,
        })
    };
    for s in [Size::W, Size::H, Size::B] {
        let name = match s {
            Size::W => "ld",
            Size::H => "ldh",
            Size::B => "ldb",
        };
        add(LD | size(s) | ABS, name, Form::LdAbs(s), true);
        add(LD | size(s) | IND, name, Form::LdInd(s), true);
    }
    add(LD | LEN, "ld", Form::LdLen, true);
    add(LD, "ld", Form::LdImm, true);
    add(LD | MEM, "ld", Form::LdMem, true);
    add(LDX, "ldx", Form::LdxImm, true);
    add(LDX | MEM, "ldx", Form::LdxMem, true);
    add(LDX | LEN, "ldx", Form::LdxLen, true);
    add(LDX | 0x10 | MSH, "ldxb", Form::LdxMsh, true);
    add(ST, "st", Form::St, true);
    add(STX, "stx", Form::Stx, true);
    use AluOp::*;
    for (op, bits) in [
        (Add, 0x00),
        (Sub, 0x10),
        (Mul, 0x20),
        (Div, 0x30),
        (Or, 0x40),
        (And, 0x50),
        (Lsh, 0x60),
        (Rsh, 0x70),
        (Mod, 0x90),
        (Xor, 0xa0),
    ] {
        add(ALU | bits, op.mnemonic(), Form::Alu(op, Src::K), true);
        add(
            ALU | bits | 0x08,
            op.mnemonic(),
            Form::Alu(op, Src::X),
            true,
        );
    }
    add(ALU | 0x80, "neg", Form::Alu(Neg, Src::K), true);
    add(JMP, "ja", Form::Ja, true);
    for (op, bits) in [
        (JmpOp::Jeq, 0x10),
        (JmpOp::Jgt, 0x20),
        (JmpOp::Jge, 0x30),
        (JmpOp::Jset, 0x40),
    ] {
        add(JMP | bits, op.mnemonic(), Form::Jmp(op, Src::K), true);
        add(
            JMP | bits | 0x08,
            op.mnemonic(),
            Form::Jmp(op, Src::X),
            true,
        );
    }
    add(RET, "ret", Form::RetK, true);
    add(RET | 0x08, "ret", Form::RetX, false);
    add(RET | 0x10, "ret", Form::RetA, true);
    add(MISC, "tax", Form::Tax, true);
    add(MISC | 0x80, "txa", Form::Txa, true);
    t.sort_by_key(|d| d.code);
    t
}

/// The definition of `code`, if it is a classic opcode.
pub fn lookup(code: u16) -> Option<&'static OpDef> {
    let t = table();
    t.binary_search_by_key(&code, |d| d.code)
        .ok()
        .map(|i| &t[i])
}

/// The opcode of `form`.
pub fn code_of(form: Form) -> u16 {
    table()
        .iter()
        .find(|d| d.form == form)
        .map(|d| d.code)
        .expect("every Form is in the table")
}

/// `struct sock_filter`: one classic instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Forward offset when the test is true.
    pub jt: u8,
    /// Forward offset when the test is false.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

impl SockFilter {
    /// An instruction.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    /// Its definition, if the opcode is known.
    pub fn def(&self) -> Option<&'static OpDef> {
        lookup(self.code)
    }

    /// The 8 host-endian bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0; 8];
        b[0..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_ne_bytes());
        b
    }

    /// From 8 host-endian bytes.
    pub fn from_bytes(b: [u8; 8]) -> SockFilter {
        SockFilter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// Why a byte string is not a `struct sock_filter[]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The length is not a multiple of 8.
    #[error("{len} bytes is not a whole number of 8-byte instructions (instruction {index} is cut short)")]
    Truncated {
        /// Total length.
        len: usize,
        /// Index of the partial instruction.
        index: usize,
    },
    /// An unknown opcode.
    #[error("instruction {index}: unknown classic BPF opcode {code:#06x}")]
    UnknownOpcode {
        /// Instruction index.
        index: usize,
        /// The opcode.
        code: u16,
    },
}

/// Decodes a `struct sock_filter[]`; every opcode must be in [`table`] (including ones the
/// kernel refuses, such as `ret x`: refusing those is the [`check`]er's job).
pub fn decode(bytes: &[u8]) -> Result<Vec<SockFilter>, DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(DecodeError::Truncated {
            len: bytes.len(),
            index: bytes.len() / 8,
        });
    }
    let prog = decode_lenient(bytes)?;
    for (index, f) in prog.iter().enumerate() {
        if lookup(f.code).is_none() {
            return Err(DecodeError::UnknownOpcode {
                index,
                code: f.code,
            });
        }
    }
    Ok(prog)
}

/// Decodes without checking opcodes (for the checker and disassembly of invalid filters).
pub fn decode_lenient(bytes: &[u8]) -> Result<Vec<SockFilter>, DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(DecodeError::Truncated {
            len: bytes.len(),
            index: bytes.len() / 8,
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| SockFilter::from_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// Encodes a program as a `struct sock_filter[]`.
pub fn encode(prog: &[SockFilter]) -> Vec<u8> {
    prog.iter().flat_map(|f| f.to_bytes()).collect()
}

/// Byte order of a `struct sock_filter[]` from another machine (the kernel reads host
/// order: s390x, PowerPC BE and MIPS BE filters are big-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Endian {
    /// This machine's order.
    #[default]
    Native,
    /// Little-endian (x86-64, aarch64, riscv64, ...).
    Little,
    /// Big-endian (s390x, ...).
    Big,
}

impl Endian {
    fn is_native(self) -> bool {
        match self {
            Endian::Native => true,
            Endian::Little => cfg!(target_endian = "little"),
            Endian::Big => cfg!(target_endian = "big"),
        }
    }
}

fn swap(f: SockFilter) -> SockFilter {
    SockFilter {
        code: f.code.swap_bytes(),
        k: f.k.swap_bytes(),
        ..f
    }
}

/// [`decode_lenient`] for a filter in byte order `endian`.
pub fn decode_endian(bytes: &[u8], endian: Endian) -> Result<Vec<SockFilter>, DecodeError> {
    let prog = decode_lenient(bytes)?;
    Ok(if endian.is_native() {
        prog
    } else {
        prog.into_iter().map(swap).collect()
    })
}

/// [`encode`] in byte order `endian`.
pub fn encode_endian(prog: &[SockFilter], endian: Endian) -> Vec<u8> {
    if endian.is_native() {
        encode(prog)
    } else {
        prog.iter().flat_map(|f| swap(*f).to_bytes()).collect()
    }
}
