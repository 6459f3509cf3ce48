//! The instruction table: one declarative list, expanded at compile time into [`table`],
//! the opcode index behind [`by_code`], and the constants in [`op`](super::op).

use super::{
    AluOp as A, AtomicOp as At, ByteOrder, CallKind, Cond as C, Form, Isa, OpDef, PacketMode,
    Selector as S, Size, Size::*, Source, Source::*, Width, Width::*,
};

/// Calls `$callback!` with the whole instruction list, the one place opcodes are written.
///
/// Each group is `NAME = byte => [selector, "name", form, isa], ...;`: the named opcode
/// byte (see [`op`](super::op) for the naming scheme) and the instructions it encodes,
/// told apart by their [`S`]elector field when there are several. Groups are in opcode
/// order, as in RFC 9669 Appendix A (a compile-time check in `INDEX` holds the list to it).
/// Names are the ubpf / bpf_conformance mnemonics; the ISA column
/// is the first `-mcpu` level (or Linux) that has the instruction. The pattern follows
/// wasmparser's `for_each_operator!`: consumers are macros that pick the columns they need.
macro_rules! for_each_opcode {
    ($callback:ident) => {
        $callback! {
            ADD32_IMM = 0x04 => [S::None, "add32", alu(A::Add, W32, Imm), V1];
            JA = 0x05 => [S::None, "ja", Form::Ja, V1];
            // `gotol`: BPF_JMP32 | BPF_JA takes its 32-bit offset from imm (RFC 9669 §4.3).
            JA32 = 0x06 => [S::None, "ja32", Form::Gotol, V4];
            ADD64_IMM = 0x07 => [S::None, "add", alu(A::Add, W64, Imm), V1];
            ADD32_REG = 0x0c => [S::None, "add32", alu(A::Add, W32, Reg), V1];
            ADD64_REG = 0x0f => [S::None, "add", alu(A::Add, W64, Reg), V1];
            SUB32_IMM = 0x14 => [S::None, "sub32", alu(A::Sub, W32, Imm), V1];
            JEQ_IMM = 0x15 => [S::None, "jeq", jmp(C::Eq, W64, Imm), V1];
            JEQ32_IMM = 0x16 => [S::None, "jeq32", jmp(C::Eq, W32, Imm), V3];
            SUB64_IMM = 0x17 => [S::None, "sub", alu(A::Sub, W64, Imm), V1];
            // BPF_LD | BPF_IMM | BPF_DW, two slots; src picks a pseudo source (uapi bpf.h, RFC 9669 §5.4).
            LDDW = 0x18 => [S::None, "lddw", Form::LoadImm64, V1];
            SUB32_REG = 0x1c => [S::None, "sub32", alu(A::Sub, W32, Reg), V1];
            JEQ_REG = 0x1d => [S::None, "jeq", jmp(C::Eq, W64, Reg), V1];
            JEQ32_REG = 0x1e => [S::None, "jeq32", jmp(C::Eq, W32, Reg), V3];
            SUB64_REG = 0x1f => [S::None, "sub", alu(A::Sub, W64, Reg), V1];
            LDABSW = 0x20 => [S::None, "ldabsw", ldabs(W), V1];
            MUL32_IMM = 0x24 => [S::None, "mul32", alu(A::Mul, W32, Imm), V1];
            JGT_IMM = 0x25 => [S::None, "jgt", jmp(C::Gt, W64, Imm), V1];
            JGT32_IMM = 0x26 => [S::None, "jgt32", jmp(C::Gt, W32, Imm), V3];
            MUL64_IMM = 0x27 => [S::None, "mul", alu(A::Mul, W64, Imm), V1];
            LDABSH = 0x28 => [S::None, "ldabsh", ldabs(H), V1];
            MUL32_REG = 0x2c => [S::None, "mul32", alu(A::Mul, W32, Reg), V1];
            JGT_REG = 0x2d => [S::None, "jgt", jmp(C::Gt, W64, Reg), V1];
            JGT32_REG = 0x2e => [S::None, "jgt32", jmp(C::Gt, W32, Reg), V3];
            MUL64_REG = 0x2f => [S::None, "mul", alu(A::Mul, W64, Reg), V1];
            LDABSB = 0x30 => [S::None, "ldabsb", ldabs(B), V1];
            // The signed division forms share the opcode, off = 1 (RFC 9669 §4.1); so do SMOD and MOD.
            DIV32_IMM = 0x34 =>
                [S::Off(0), "div32", alu(A::Div, W32, Imm), V1],
                [S::Off(1), "sdiv32", alu(A::SDiv, W32, Imm), V4];
            JGE_IMM = 0x35 => [S::None, "jge", jmp(C::Ge, W64, Imm), V1];
            JGE32_IMM = 0x36 => [S::None, "jge32", jmp(C::Ge, W32, Imm), V3];
            DIV64_IMM = 0x37 =>
                [S::Off(0), "div", alu(A::Div, W64, Imm), V1],
                [S::Off(1), "sdiv", alu(A::SDiv, W64, Imm), V4];
            DIV32_REG = 0x3c =>
                [S::Off(0), "div32", alu(A::Div, W32, Reg), V1],
                [S::Off(1), "sdiv32", alu(A::SDiv, W32, Reg), V4];
            JGE_REG = 0x3d => [S::None, "jge", jmp(C::Ge, W64, Reg), V1];
            JGE32_REG = 0x3e => [S::None, "jge32", jmp(C::Ge, W32, Reg), V3];
            DIV64_REG = 0x3f =>
                [S::Off(0), "div", alu(A::Div, W64, Reg), V1],
                [S::Off(1), "sdiv", alu(A::SDiv, W64, Reg), V4];
            LDINDW = 0x40 => [S::None, "ldindw", ldind(W), V1];
            OR32_IMM = 0x44 => [S::None, "or32", alu(A::Or, W32, Imm), V1];
            JSET_IMM = 0x45 => [S::None, "jset", jmp(C::Set, W64, Imm), V1];
            JSET32_IMM = 0x46 => [S::None, "jset32", jmp(C::Set, W32, Imm), V3];
            OR64_IMM = 0x47 => [S::None, "or", alu(A::Or, W64, Imm), V1];
            LDINDH = 0x48 => [S::None, "ldindh", ldind(H), V1];
            OR32_REG = 0x4c => [S::None, "or32", alu(A::Or, W32, Reg), V1];
            JSET_REG = 0x4d => [S::None, "jset", jmp(C::Set, W64, Reg), V1];
            JSET32_REG = 0x4e => [S::None, "jset32", jmp(C::Set, W32, Reg), V3];
            OR64_REG = 0x4f => [S::None, "or", alu(A::Or, W64, Reg), V1];
            LDINDB = 0x50 => [S::None, "ldindb", ldind(B), V1];
            AND32_IMM = 0x54 => [S::None, "and32", alu(A::And, W32, Imm), V1];
            JNE_IMM = 0x55 => [S::None, "jne", jmp(C::Ne, W64, Imm), V1];
            JNE32_IMM = 0x56 => [S::None, "jne32", jmp(C::Ne, W32, Imm), V3];
            AND64_IMM = 0x57 => [S::None, "and", alu(A::And, W64, Imm), V1];
            AND32_REG = 0x5c => [S::None, "and32", alu(A::And, W32, Reg), V1];
            JNE_REG = 0x5d => [S::None, "jne", jmp(C::Ne, W64, Reg), V1];
            JNE32_REG = 0x5e => [S::None, "jne32", jmp(C::Ne, W32, Reg), V3];
            AND64_REG = 0x5f => [S::None, "and", alu(A::And, W64, Reg), V1];
            LDXW = 0x61 => [S::None, "ldxw", ldx(W), V1];
            STW = 0x62 => [S::None, "stw", st(W), V1];
            STXW = 0x63 => [S::None, "stxw", stx(W), V1];
            LSH32_IMM = 0x64 => [S::None, "lsh32", alu(A::Lsh, W32, Imm), V1];
            JSGT_IMM = 0x65 => [S::None, "jsgt", jmp(C::Sgt, W64, Imm), V1];
            JSGT32_IMM = 0x66 => [S::None, "jsgt32", jmp(C::Sgt, W32, Imm), V3];
            LSH64_IMM = 0x67 => [S::None, "lsh", alu(A::Lsh, W64, Imm), V1];
            LDXH = 0x69 => [S::None, "ldxh", ldx(H), V1];
            STH = 0x6a => [S::None, "sth", st(H), V1];
            STXH = 0x6b => [S::None, "stxh", stx(H), V1];
            LSH32_REG = 0x6c => [S::None, "lsh32", alu(A::Lsh, W32, Reg), V1];
            JSGT_REG = 0x6d => [S::None, "jsgt", jmp(C::Sgt, W64, Reg), V1];
            JSGT32_REG = 0x6e => [S::None, "jsgt32", jmp(C::Sgt, W32, Reg), V3];
            LSH64_REG = 0x6f => [S::None, "lsh", alu(A::Lsh, W64, Reg), V1];
            LDXB = 0x71 => [S::None, "ldxb", ldx(B), V1];
            STB = 0x72 => [S::None, "stb", st(B), V1];
            STXB = 0x73 => [S::None, "stxb", stx(B), V1];
            RSH32_IMM = 0x74 => [S::None, "rsh32", alu(A::Rsh, W32, Imm), V1];
            JSGE_IMM = 0x75 => [S::None, "jsge", jmp(C::Sge, W64, Imm), V1];
            JSGE32_IMM = 0x76 => [S::None, "jsge32", jmp(C::Sge, W32, Imm), V3];
            RSH64_IMM = 0x77 => [S::None, "rsh", alu(A::Rsh, W64, Imm), V1];
            LDXDW = 0x79 => [S::None, "ldxdw", ldx(DW), V1];
            STDW = 0x7a => [S::None, "stdw", st(DW), V1];
            STXDW = 0x7b => [S::None, "stxdw", stx(DW), V1];
            RSH32_REG = 0x7c => [S::None, "rsh32", alu(A::Rsh, W32, Reg), V1];
            JSGE_REG = 0x7d => [S::None, "jsge", jmp(C::Sge, W64, Reg), V1];
            JSGE32_REG = 0x7e => [S::None, "jsge32", jmp(C::Sge, W32, Reg), V3];
            RSH64_REG = 0x7f => [S::None, "rsh", alu(A::Rsh, W64, Reg), V1];
            LDXSW = 0x81 => [S::None, "ldxsw", ldxs(W), V4];
            NEG32 = 0x84 => [S::None, "neg32", neg(W32), V1];
            // src picks the callee: helper id, pc-relative subprogram (BPF_PSEUDO_CALL) or kfunc
            // (BPF_PSEUDO_KFUNC_CALL), include/uapi/linux/bpf.h.
            CALL = 0x85 =>
                [S::Src(0), "call", Form::Call(CallKind::Helper), V1],
                [S::Src(1), "call local", Form::Call(CallKind::Local), V1],
                [S::Src(2), "call kfunc", Form::Call(CallKind::Kfunc), Linux];
            NEG64 = 0x87 => [S::None, "neg", neg(W64), V1];
            LDXSH = 0x89 => [S::None, "ldxsh", ldxs(H), V4];
            CALLX = 0x8d => [S::None, "callx", Form::Callx, V4];
            LDXSB = 0x91 => [S::None, "ldxsb", ldxs(B), V4];
            MOD32_IMM = 0x94 =>
                [S::Off(0), "mod32", alu(A::Mod, W32, Imm), V1],
                [S::Off(1), "smod32", alu(A::SMod, W32, Imm), V4];
            EXIT = 0x95 => [S::None, "exit", Form::Exit, V1];
            MOD64_IMM = 0x97 =>
                [S::Off(0), "mod", alu(A::Mod, W64, Imm), V1],
                [S::Off(1), "smod", alu(A::SMod, W64, Imm), V4];
            MOD32_REG = 0x9c =>
                [S::Off(0), "mod32", alu(A::Mod, W32, Reg), V1],
                [S::Off(1), "smod32", alu(A::SMod, W32, Reg), V4];
            MOD64_REG = 0x9f =>
                [S::Off(0), "mod", alu(A::Mod, W64, Reg), V1],
                [S::Off(1), "smod", alu(A::SMod, W64, Reg), V4];
            XOR32_IMM = 0xa4 => [S::None, "xor32", alu(A::Xor, W32, Imm), V1];
            JLT_IMM = 0xa5 => [S::None, "jlt", jmp(C::Lt, W64, Imm), V2];
            JLT32_IMM = 0xa6 => [S::None, "jlt32", jmp(C::Lt, W32, Imm), V3];
            XOR64_IMM = 0xa7 => [S::None, "xor", alu(A::Xor, W64, Imm), V1];
            XOR32_REG = 0xac => [S::None, "xor32", alu(A::Xor, W32, Reg), V1];
            JLT_REG = 0xad => [S::None, "jlt", jmp(C::Lt, W64, Reg), V2];
            JLT32_REG = 0xae => [S::None, "jlt32", jmp(C::Lt, W32, Reg), V3];
            XOR64_REG = 0xaf => [S::None, "xor", alu(A::Xor, W64, Reg), V1];
            MOV32_IMM = 0xb4 => [S::Off(0), "mov32", alu(A::Mov, W32, Imm), V1];
            JLE_IMM = 0xb5 => [S::None, "jle", jmp(C::Le, W64, Imm), V2];
            JLE32_IMM = 0xb6 => [S::None, "jle32", jmp(C::Le, W32, Imm), V3];
            MOV64_IMM = 0xb7 => [S::Off(0), "mov", alu(A::Mov, W64, Imm), V1];
            // movsx shares mov's opcode with off = 8/16/32 (RFC 9669 §4.1); addr_space_cast is the
            // 64-bit mov with off = 1 (Linux BPF_ADDR_SPACE_CAST).
            MOV32_REG = 0xbc =>
                [S::Off(0), "mov32", alu(A::Mov, W32, Reg), V1],
                [S::Off(8), "movsx832", movsx(W32, 8), V4],
                [S::Off(16), "movsx1632", movsx(W32, 16), V4];
            JLE_REG = 0xbd => [S::None, "jle", jmp(C::Le, W64, Reg), V2];
            JLE32_REG = 0xbe => [S::None, "jle32", jmp(C::Le, W32, Reg), V3];
            MOV64_REG = 0xbf =>
                [S::Off(0), "mov", alu(A::Mov, W64, Reg), V1],
                [S::Off(8), "movsx864", movsx(W64, 8), V4],
                [S::Off(16), "movsx1664", movsx(W64, 16), V4],
                [S::Off(32), "movsx3264", movsx(W64, 32), V4],
                [S::Off(1), "addr_space_cast", Form::AddrSpaceCast, Linux];
            // imm picks the operation (RFC 9669 §5.3). The 32-bit `lock add` (the old BPF_XADD) is as
            // old as the 64-bit one; the other atomics came with -mcpu=v3, load-acquire and
            // store-release later with Linux (BPF_LOAD_ACQ / BPF_STORE_REL, all four sizes).
            ATOMIC_W = 0xc3 =>
                [S::Imm(At::Add.imm()), "lock add32", atomic(W, At::Add), V1],
                [S::Imm(At::Or.imm()), "lock or32", atomic(W, At::Or), V3],
                [S::Imm(At::And.imm()), "lock and32", atomic(W, At::And), V3],
                [S::Imm(At::Xor.imm()), "lock xor32", atomic(W, At::Xor), V3],
                [S::Imm(At::FetchAdd.imm()), "lock fetch add32", atomic(W, At::FetchAdd), V3],
                [S::Imm(At::FetchOr.imm()), "lock fetch or32", atomic(W, At::FetchOr), V3],
                [S::Imm(At::FetchAnd.imm()), "lock fetch and32", atomic(W, At::FetchAnd), V3],
                [S::Imm(At::FetchXor.imm()), "lock fetch xor32", atomic(W, At::FetchXor), V3],
                [S::Imm(At::Xchg.imm()), "lock xchg32", atomic(W, At::Xchg), V3],
                [S::Imm(At::CmpXchg.imm()), "lock cmpxchg32", atomic(W, At::CmpXchg), V3],
                [S::Imm(At::LoadAcquire.imm()), "load_acquirew", atomic(W, At::LoadAcquire), Linux],
                [S::Imm(At::StoreRelease.imm()), "store_releasew", atomic(W, At::StoreRelease), Linux];
            ARSH32_IMM = 0xc4 => [S::None, "arsh32", alu(A::Arsh, W32, Imm), V1];
            JSLT_IMM = 0xc5 => [S::None, "jslt", jmp(C::Slt, W64, Imm), V2];
            JSLT32_IMM = 0xc6 => [S::None, "jslt32", jmp(C::Slt, W32, Imm), V3];
            ARSH64_IMM = 0xc7 => [S::None, "arsh", alu(A::Arsh, W64, Imm), V1];
            ATOMIC_H = 0xcb =>
                [S::Imm(At::LoadAcquire.imm()), "load_acquireh", atomic(H, At::LoadAcquire), Linux],
                [S::Imm(At::StoreRelease.imm()), "store_releaseh", atomic(H, At::StoreRelease), Linux];
            ARSH32_REG = 0xcc => [S::None, "arsh32", alu(A::Arsh, W32, Reg), V1];
            JSLT_REG = 0xcd => [S::None, "jslt", jmp(C::Slt, W64, Reg), V2];
            JSLT32_REG = 0xce => [S::None, "jslt32", jmp(C::Slt, W32, Reg), V3];
            ARSH64_REG = 0xcf => [S::None, "arsh", alu(A::Arsh, W64, Reg), V1];
            ATOMIC_B = 0xd3 =>
                [S::Imm(At::LoadAcquire.imm()), "load_acquireb", atomic(B, At::LoadAcquire), Linux],
                [S::Imm(At::StoreRelease.imm()), "store_releaseb", atomic(B, At::StoreRelease), Linux];
            // imm is the width; BPF_ALU64 | BPF_END (0xd7) is the unconditional swap (RFC 9669 §4.2).
            LE = 0xd4 =>
                [S::Imm(16), "le16", endian(ByteOrder::Le, 16), V1],
                [S::Imm(32), "le32", endian(ByteOrder::Le, 32), V1],
                [S::Imm(64), "le64", endian(ByteOrder::Le, 64), V1];
            JSLE_IMM = 0xd5 => [S::None, "jsle", jmp(C::Sle, W64, Imm), V2];
            JSLE32_IMM = 0xd6 => [S::None, "jsle32", jmp(C::Sle, W32, Imm), V3];
            BSWAP = 0xd7 =>
                [S::Imm(16), "bswap16", endian(ByteOrder::Swap, 16), V4],
                [S::Imm(32), "bswap32", endian(ByteOrder::Swap, 32), V4],
                [S::Imm(64), "bswap64", endian(ByteOrder::Swap, 64), V4];
            ATOMIC_DW = 0xdb =>
                [S::Imm(At::Add.imm()), "lock add", atomic(DW, At::Add), V1],
                [S::Imm(At::Or.imm()), "lock or", atomic(DW, At::Or), V3],
                [S::Imm(At::And.imm()), "lock and", atomic(DW, At::And), V3],
                [S::Imm(At::Xor.imm()), "lock xor", atomic(DW, At::Xor), V3],
                [S::Imm(At::FetchAdd.imm()), "lock fetch add", atomic(DW, At::FetchAdd), V3],
                [S::Imm(At::FetchOr.imm()), "lock fetch or", atomic(DW, At::FetchOr), V3],
                [S::Imm(At::FetchAnd.imm()), "lock fetch and", atomic(DW, At::FetchAnd), V3],
                [S::Imm(At::FetchXor.imm()), "lock fetch xor", atomic(DW, At::FetchXor), V3],
                [S::Imm(At::Xchg.imm()), "lock xchg", atomic(DW, At::Xchg), V3],
                [S::Imm(At::CmpXchg.imm()), "lock cmpxchg", atomic(DW, At::CmpXchg), V3],
                [S::Imm(At::LoadAcquire.imm()), "load_acquiredw", atomic(DW, At::LoadAcquire), Linux],
                [S::Imm(At::StoreRelease.imm()), "store_releasedw", atomic(DW, At::StoreRelease), Linux];
            BE = 0xdc =>
                [S::Imm(16), "be16", endian(ByteOrder::Be, 16), V1],
                [S::Imm(32), "be32", endian(ByteOrder::Be, 32), V1],
                [S::Imm(64), "be64", endian(ByteOrder::Be, 64), V1];
            JSLE_REG = 0xdd => [S::None, "jsle", jmp(C::Sle, W64, Reg), V2];
            JSLE32_REG = 0xde => [S::None, "jsle32", jmp(C::Sle, W32, Reg), V3];
            MAY_GOTO = 0xe5 => [S::None, "may_goto", Form::MayGoto, Linux];
        }
    };
}
pub(crate) use for_each_opcode;

// Short constructors for the table rows, so each row fits on a line.
const fn alu(op: A, width: Width, source: Source) -> Form {
    Form::Alu { op, width, source }
}
const fn neg(width: Width) -> Form {
    Form::Neg { width }
}
const fn movsx(width: Width, from: u8) -> Form {
    Form::MovSx { width, from }
}
const fn endian(order: ByteOrder, bits: u8) -> Form {
    Form::Endian { order, bits }
}
const fn ldx(size: Size) -> Form {
    Form::Load {
        size,
        signed: false,
    }
}
const fn ldxs(size: Size) -> Form {
    Form::Load { size, signed: true }
}
const fn st(size: Size) -> Form {
    Form::Store { size, source: Imm }
}
const fn stx(size: Size) -> Form {
    Form::Store { size, source: Reg }
}
const fn atomic(size: Size, op: At) -> Form {
    Form::Atomic { size, op }
}
const fn ldabs(size: Size) -> Form {
    Form::LoadPacket {
        mode: PacketMode::Abs,
        size,
    }
}
const fn ldind(size: Size) -> Form {
    Form::LoadPacket {
        mode: PacketMode::Ind,
        size,
    }
}
const fn jmp(cond: C, width: Width, source: Source) -> Form {
    Form::Jump {
        cond,
        width,
        source,
    }
}

macro_rules! define_table {
    ($( $op:ident = $code:literal => $( [$sel:expr, $name:literal, $form:expr, $isa:ident] ),+ ; )*) => {
        /// Every instruction, in opcode order (several rows share an opcode byte when a
        /// selector field tells them apart).
        pub const TABLE: &[OpDef] = &[
            $( $( OpDef { code: $code, selector: $sel, name: $name, form: $form, isa: Isa::$isa }, )+ )*
        ];
    };
}
for_each_opcode!(define_table);

/// `INDEX[code]` is the range of [`TABLE`] rows with that opcode byte, built at compile time.
/// Building it checks that the groups are in strictly increasing opcode order, so each
/// opcode's rows are contiguous and the range is all of them.
const INDEX: [(u8, u8); 256] = {
    assert!(TABLE.len() < 256, "row numbers must fit the u8 index");
    let mut index = [(0u8, 0u8); 256];
    let mut i = 0;
    while i < TABLE.len() {
        let code = TABLE[i].code;
        let start = i;
        while i < TABLE.len() && TABLE[i].code == code {
            i += 1;
        }
        assert!(
            start == 0 || TABLE[start - 1].code < code,
            "table groups must be in increasing opcode order"
        );
        index[code as usize] = (start as u8, i as u8);
    }
    index
};

/// The whole table, in opcode order.
pub fn table() -> &'static [OpDef] {
    TABLE
}

/// Looks an instruction up by its canonical (ubpf) name.
pub fn by_name(name: &str) -> Option<&'static OpDef> {
    TABLE.iter().find(|d| d.name == name)
}

/// All table entries whose opcode byte is `code` (several when a field selects).
pub fn by_code(code: u8) -> &'static [OpDef] {
    let (start, end) = INDEX[code as usize];
    &TABLE[start as usize..end as usize]
}

/// Finds the entry for an encoded instruction, if its opcode and selector field are known.
pub fn lookup(code: u8, src: u8, off: i16, imm: i32) -> Option<&'static OpDef> {
    by_code(code).iter().find(|d| match d.selector {
        S::None => true,
        S::Off(v) => off == v,
        S::Imm(v) => imm == v,
        S::Src(v) => src == v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Selector;

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
