//! Typed instruction builders: `Insn::mov64_imm(0, 1)` rather than `Insn { code: 0xb7, .. }`.
//!
//! Opcodes come from the [table](crate::isa::TABLE): the indexes below are filled from it at
//! compile time, keyed by [`Form`], and each builder goes through [`Insn::new`] so the
//! selector field (`off` for sdiv/movsx, `imm` for atomics and byte swaps, `src` for calls)
//! is the table's too. No opcode byte is written in this file.
//!
//! Builders are `const fn` and never truncate: immediates and offsets take exactly their
//! field's type (`i32`, `i16`; `i64` only for `lddw`), and a register above r10 or a form
//! the table does not have (`ldxs(Size::DW, ..)`, `ld_abs(Size::DW, ..)`) is a panic — a
//! compile error in a `const`. To build a deliberately invalid instruction, write the
//! [`Insn`] fields directly; [`Insn::check`] then rejects it as [`decode`](super::decode)
//! would.

use super::Insn;
use crate::isa::{
    AluOp, AtomicOp, ByteOrder, CallKind, Cond, Form, OpDef, PacketMode, Pseudo, Size, Source,
    Width, TABLE,
};

/// Marks an index slot the table has no instruction for.
const MISSING: u8 = u8::MAX;

// Index dimensions: each enum's last variant plus one (a variant added after it fails the
// `ROWS` build at compile time with an out-of-bounds index).
const ALU_OPS: usize = AluOp::Arsh as usize + 1;
const CONDS: usize = Cond::Sle as usize + 1;
const ATOMIC_OPS: usize = AtomicOp::StoreRelease as usize + 1;
const SIZES: usize = Size::DW as usize + 1;

/// Table rows by form, filled at compile time by one pass over [`TABLE`].
struct Rows {
    /// `[op][width][source]`.
    alu: [[[u8; 2]; 2]; ALU_OPS],
    /// `[width]`.
    neg: [u8; 2],
    /// `[width][from 8, 16, 32]`.
    movsx: [[u8; 3]; 2],
    addr_space_cast: u8,
    /// `[order][bits 16, 32, 64]`.
    endian: [[u8; 3]; 3],
    /// `[size][signed]`.
    load: [[u8; 2]; SIZES],
    /// `[size][source]`.
    store: [[u8; 2]; SIZES],
    /// `[size][op]`.
    atomic: [[u8; ATOMIC_OPS]; SIZES],
    /// `[mode][size]`.
    packet: [[u8; SIZES]; 2],
    lddw: u8,
    /// `[cond][width][source]`.
    jump: [[[u8; 2]; 2]; CONDS],
    ja: u8,
    gotol: u8,
    may_goto: u8,
    /// `[kind]`.
    call: [u8; 3],
    callx: u8,
    exit: u8,
}

/// Position of a bit count among its three allowed values `first`, `2 * first`, `4 * first`
/// (16/32/64 for byte swaps, 8/16/32 for movsx); 3 or more when it is none of them.
const fn bits_slot(bits: u8, first: u8) -> usize {
    if bits == first {
        0
    } else if bits == 2 * first {
        1
    } else if bits == 4 * first {
        2
    } else {
        MISSING as usize
    }
}

const ROWS: Rows = {
    assert!(TABLE.len() < MISSING as usize, "row numbers must fit a u8");
    let mut r = Rows {
        alu: [[[MISSING; 2]; 2]; ALU_OPS],
        neg: [MISSING; 2],
        movsx: [[MISSING; 3]; 2],
        addr_space_cast: MISSING,
        endian: [[MISSING; 3]; 3],
        load: [[MISSING; 2]; SIZES],
        store: [[MISSING; 2]; SIZES],
        atomic: [[MISSING; ATOMIC_OPS]; SIZES],
        packet: [[MISSING; SIZES]; 2],
        lddw: MISSING,
        jump: [[[MISSING; 2]; 2]; CONDS],
        ja: MISSING,
        gotol: MISSING,
        may_goto: MISSING,
        call: [MISSING; 3],
        callx: MISSING,
        exit: MISSING,
    };
    let mut i = 0;
    while i < TABLE.len() {
        let row = i as u8;
        match TABLE[i].form {
            Form::Alu { op, width, source } => {
                r.alu[op as usize][width as usize][source as usize] = row
            }
            Form::Neg { width } => r.neg[width as usize] = row,
            Form::MovSx { width, from } => r.movsx[width as usize][bits_slot(from, 8)] = row,
            Form::AddrSpaceCast => r.addr_space_cast = row,
            Form::Endian { order, bits } => r.endian[order as usize][bits_slot(bits, 16)] = row,
            Form::Load { size, signed } => r.load[size as usize][signed as usize] = row,
            Form::Store { size, source } => r.store[size as usize][source as usize] = row,
            Form::Atomic { size, op } => r.atomic[size as usize][op as usize] = row,
            Form::LoadPacket { mode, size } => r.packet[mode as usize][size as usize] = row,
            Form::LoadImm64 => r.lddw = row,
            Form::Jump {
                cond,
                width,
                source,
            } => r.jump[cond as usize][width as usize][source as usize] = row,
            Form::Ja => r.ja = row,
            Form::Gotol => r.gotol = row,
            Form::MayGoto => r.may_goto = row,
            Form::Call(kind) => r.call[kind as usize] = row,
            Form::Callx => r.callx = row,
            Form::Exit => r.exit = row,
        }
        i += 1;
    }
    r
};

/// The table row an index slot names.
///
/// # Panics
/// If the table has no instruction of that form.
const fn def(row: u8) -> &'static OpDef {
    assert!(
        row != MISSING,
        "the instruction table has no such instruction"
    );
    &TABLE[row as usize]
}

/// A register operand.
///
/// # Panics
/// Above r10 (RFC 9669 §2.4: eBPF has eleven registers).
const fn reg(r: u8) -> u8 {
    assert!(r <= 10, "eBPF registers are r0 to r10");
    r
}

impl Insn {
    /// `dst op= imm` on 64 bits (`BPF_ALU64 | BPF_K`); `op` may be signed (`SDiv`, `SMod`).
    pub const fn alu64_imm(op: AluOp, dst: u8, imm: i32) -> Insn {
        let row = ROWS.alu[op as usize][Width::W64 as usize][Source::Imm as usize];
        Insn::new(def(row), reg(dst), 0, 0, imm as i64)
    }

    /// `dst op= src` on 64 bits (`BPF_ALU64 | BPF_X`).
    pub const fn alu64_reg(op: AluOp, dst: u8, src: u8) -> Insn {
        let row = ROWS.alu[op as usize][Width::W64 as usize][Source::Reg as usize];
        Insn::new(def(row), reg(dst), reg(src), 0, 0)
    }

    /// `wdst op= imm` on 32 bits (`BPF_ALU | BPF_K`).
    pub const fn alu32_imm(op: AluOp, dst: u8, imm: i32) -> Insn {
        let row = ROWS.alu[op as usize][Width::W32 as usize][Source::Imm as usize];
        Insn::new(def(row), reg(dst), 0, 0, imm as i64)
    }

    /// `wdst op= wsrc` on 32 bits (`BPF_ALU | BPF_X`).
    pub const fn alu32_reg(op: AluOp, dst: u8, src: u8) -> Insn {
        let row = ROWS.alu[op as usize][Width::W32 as usize][Source::Reg as usize];
        Insn::new(def(row), reg(dst), reg(src), 0, 0)
    }

    /// `dst = imm`, sign-extended to 64 bits.
    pub const fn mov64_imm(dst: u8, imm: i32) -> Insn {
        Insn::alu64_imm(AluOp::Mov, dst, imm)
    }

    /// `dst = src`.
    pub const fn mov64_reg(dst: u8, src: u8) -> Insn {
        Insn::alu64_reg(AluOp::Mov, dst, src)
    }

    /// `wdst = imm`, zero-extending into the upper half.
    pub const fn mov32_imm(dst: u8, imm: i32) -> Insn {
        Insn::alu32_imm(AluOp::Mov, dst, imm)
    }

    /// `wdst = wsrc`, zero-extending into the upper half.
    pub const fn mov32_reg(dst: u8, src: u8) -> Insn {
        Insn::alu32_reg(AluOp::Mov, dst, src)
    }

    /// `dst = -dst`.
    pub const fn neg64(dst: u8) -> Insn {
        Insn::new(def(ROWS.neg[Width::W64 as usize]), reg(dst), 0, 0, 0)
    }

    /// `wdst = -wdst`.
    pub const fn neg32(dst: u8) -> Insn {
        Insn::new(def(ROWS.neg[Width::W32 as usize]), reg(dst), 0, 0, 0)
    }

    /// `dst = (s{from}) src` (ISA v4 `movsx`), `from` = 8, 16 or 32.
    pub const fn movsx64(dst: u8, src: u8, from: u8) -> Insn {
        Insn::movsx(Width::W64, dst, src, from)
    }

    /// `wdst = (s{from}) wsrc` (ISA v4 `movsx`), `from` = 8 or 16.
    pub const fn movsx32(dst: u8, src: u8, from: u8) -> Insn {
        Insn::movsx(Width::W32, dst, src, from)
    }

    const fn movsx(width: Width, dst: u8, src: u8, from: u8) -> Insn {
        let slot = bits_slot(from, 8);
        assert!(slot < 3, "movsx extends from 8, 16 or 32 bits");
        Insn::new(
            def(ROWS.movsx[width as usize][slot]),
            reg(dst),
            reg(src),
            0,
            0,
        )
    }

    /// `dst = addr_space_cast(src, dst_as, src_as)` (Linux `BPF_ADDR_SPACE_CAST`:
    /// `imm = dst_as << 16 | src_as`; Linux accepts only casts between spaces 0 and 1).
    pub const fn addr_space_cast(dst: u8, src: u8, dst_as: u16, src_as: u16) -> Insn {
        let imm = ((dst_as as u32) << 16 | src_as as u32) as i32;
        Insn::new(def(ROWS.addr_space_cast), reg(dst), reg(src), 0, imm as i64)
    }

    /// `dst = le16/be32/bswap64 dst ...` (`BPF_END`, RFC 9669 §4.2), `bits` = 16, 32 or 64.
    pub const fn endian(order: ByteOrder, dst: u8, bits: u8) -> Insn {
        let slot = bits_slot(bits, 16);
        assert!(slot < 3, "byte swaps are 16, 32 or 64 bits");
        Insn::new(def(ROWS.endian[order as usize][slot]), reg(dst), 0, 0, 0)
    }

    /// `dst = *(size *)(src + off)`, zero-extending.
    pub const fn ldx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(def(ROWS.load[size as usize][0]), reg(dst), reg(src), off, 0)
    }

    /// `dst = *(s{size} *)(src + off)`, sign-extending (ISA v4 `BPF_MEMSX`; B, H, W).
    pub const fn ldxs(size: Size, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(def(ROWS.load[size as usize][1]), reg(dst), reg(src), off, 0)
    }

    /// `*(size *)(dst + off) = imm` (`BPF_ST`).
    pub const fn st(size: Size, dst: u8, off: i16, imm: i32) -> Insn {
        let row = ROWS.store[size as usize][Source::Imm as usize];
        Insn::new(def(row), reg(dst), 0, off, imm as i64)
    }

    /// `*(size *)(dst + off) = src` (`BPF_STX`).
    pub const fn stx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
        let row = ROWS.store[size as usize][Source::Reg as usize];
        Insn::new(def(row), reg(dst), reg(src), off, 0)
    }

    /// An atomic operation on `*(size *)(dst + off)` with `src` (RFC 9669 §5.3; W and DW,
    /// all sizes for load-acquire / store-release).
    pub const fn atomic(size: Size, op: AtomicOp, dst: u8, src: u8, off: i16) -> Insn {
        let row = ROWS.atomic[size as usize][op as usize];
        Insn::new(def(row), reg(dst), reg(src), off, 0)
    }

    /// `r0 = *(size *)skb[imm]`, the legacy absolute packet load (B, H, W).
    pub const fn ld_abs(size: Size, imm: i32) -> Insn {
        let row = ROWS.packet[PacketMode::Abs as usize][size as usize];
        Insn::new(def(row), 0, 0, 0, imm as i64)
    }

    /// `r0 = *(size *)skb[src + imm]`, the legacy indirect packet load (B, H, W).
    pub const fn ld_ind(size: Size, src: u8, imm: i32) -> Insn {
        let row = ROWS.packet[PacketMode::Ind as usize][size as usize];
        Insn::new(def(row), 0, reg(src), 0, imm as i64)
    }

    /// `dst = imm` for a full 64-bit constant (`lddw`, two slots).
    pub const fn lddw(dst: u8, imm: i64) -> Insn {
        Insn::ld_pseudo(Pseudo::None, dst, imm)
    }

    /// `lddw` with a [`Pseudo`] source; `imm` is the whole 64-bit immediate (for the
    /// `*_value` sources: `value_offset << 32 | map`).
    pub const fn ld_pseudo(pseudo: Pseudo, dst: u8, imm: i64) -> Insn {
        Insn::new(def(ROWS.lddw), reg(dst), pseudo.src(), 0, imm)
    }

    /// `dst = map_by_fd(fd)` (`BPF_PSEUDO_MAP_FD`).
    pub const fn ld_map_fd(dst: u8, fd: i32) -> Insn {
        Insn::ld_pseudo(Pseudo::MapFd, dst, fd as i64)
    }

    /// `dst = map_value_by_fd(fd) + value_offset` (`BPF_PSEUDO_MAP_VALUE`).
    pub const fn ld_map_value(dst: u8, fd: i32, value_offset: u32) -> Insn {
        Insn::ld_pseudo(Pseudo::MapValue, dst, pair(fd, value_offset))
    }

    /// `dst = map_by_idx(idx)` (`BPF_PSEUDO_MAP_IDX`: an index into `fd_array`).
    pub const fn ld_map_idx(dst: u8, idx: i32) -> Insn {
        Insn::ld_pseudo(Pseudo::MapIdx, dst, idx as i64)
    }

    /// `dst = map_value_by_idx(idx) + value_offset` (`BPF_PSEUDO_MAP_IDX_VALUE`).
    pub const fn ld_map_idx_value(dst: u8, idx: i32, value_offset: u32) -> Insn {
        Insn::ld_pseudo(Pseudo::MapIdxValue, dst, pair(idx, value_offset))
    }

    /// `dst = &kernel_variable` by BTF id (`BPF_PSEUDO_BTF_ID`).
    pub const fn ld_btf_id(dst: u8, btf_id: i32) -> Insn {
        Insn::ld_pseudo(Pseudo::BtfId, dst, btf_id as i64)
    }

    /// `dst = &subprogram` at slot `pc + 1 + off` (`BPF_PSEUDO_FUNC`; see
    /// [`Insn::jump_target`]).
    pub const fn ld_func(dst: u8, off: i32) -> Insn {
        Insn::ld_pseudo(Pseudo::Func, dst, off as i64)
    }

    /// `goto +off` (`BPF_JA`).
    pub const fn ja(off: i16) -> Insn {
        Insn::new(def(ROWS.ja), 0, 0, off, 0)
    }

    /// `gotol +off`: the 32-bit-offset jump (ISA v4 `BPF_JMP32 | BPF_JA`).
    pub const fn gotol(off: i32) -> Insn {
        Insn::new(def(ROWS.gotol), 0, 0, 0, off as i64)
    }

    /// `may_goto +off` (Linux `BPF_JCOND`).
    pub const fn may_goto(off: i16) -> Insn {
        Insn::new(def(ROWS.may_goto), 0, 0, off, 0)
    }

    /// `if dst cond imm goto +off` on 64 bits (`BPF_JMP | BPF_K`).
    pub const fn jmp_imm(cond: Cond, dst: u8, imm: i32, off: i16) -> Insn {
        let row = ROWS.jump[cond as usize][Width::W64 as usize][Source::Imm as usize];
        Insn::new(def(row), reg(dst), 0, off, imm as i64)
    }

    /// `if dst cond src goto +off` on 64 bits (`BPF_JMP | BPF_X`).
    pub const fn jmp_reg(cond: Cond, dst: u8, src: u8, off: i16) -> Insn {
        let row = ROWS.jump[cond as usize][Width::W64 as usize][Source::Reg as usize];
        Insn::new(def(row), reg(dst), reg(src), off, 0)
    }

    /// `if wdst cond imm goto +off` on 32 bits (`BPF_JMP32 | BPF_K`).
    pub const fn jmp32_imm(cond: Cond, dst: u8, imm: i32, off: i16) -> Insn {
        let row = ROWS.jump[cond as usize][Width::W32 as usize][Source::Imm as usize];
        Insn::new(def(row), reg(dst), 0, off, imm as i64)
    }

    /// `if wdst cond wsrc goto +off` on 32 bits (`BPF_JMP32 | BPF_X`).
    pub const fn jmp32_reg(cond: Cond, dst: u8, src: u8, off: i16) -> Insn {
        let row = ROWS.jump[cond as usize][Width::W32 as usize][Source::Reg as usize];
        Insn::new(def(row), reg(dst), reg(src), off, 0)
    }

    /// `call id`: a helper function.
    pub const fn call_helper(id: i32) -> Insn {
        Insn::new(
            def(ROWS.call[CallKind::Helper as usize]),
            0,
            0,
            0,
            id as i64,
        )
    }

    /// A bpf-to-bpf call to slot `pc + 1 + off` (`BPF_PSEUDO_CALL`).
    pub const fn call_local(off: i32) -> Insn {
        Insn::new(
            def(ROWS.call[CallKind::Local as usize]),
            0,
            0,
            0,
            off as i64,
        )
    }

    /// A kernel function call by BTF id (`BPF_PSEUDO_KFUNC_CALL`).
    pub const fn call_kfunc(btf_id: i32) -> Insn {
        Insn::new(
            def(ROWS.call[CallKind::Kfunc as usize]),
            0,
            0,
            0,
            btf_id as i64,
        )
    }

    /// `callx dst`: a call through a register (ISA v4).
    pub const fn callx(dst: u8) -> Insn {
        Insn::new(def(ROWS.callx), reg(dst), 0, 0, 0)
    }

    /// `exit`.
    pub const fn exit() -> Insn {
        Insn::new(def(ROWS.exit), 0, 0, 0, 0)
    }
}

/// The 64-bit `imm` of an `lddw` whose second slot holds a separate value offset.
const fn pair(first: i32, second: u32) -> i64 {
    ((second as i64) << 32) | first as u32 as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::decode;

    /// The builder for a table row's form, with operands that exercise every field.
    fn build(d: &OpDef) -> Insn {
        let (w64, imm) = (Width::W64, Source::Imm);
        match d.form {
            Form::Alu { op, width, source } => match (width == w64, source == imm) {
                (true, true) => Insn::alu64_imm(op, 1, -5),
                (true, false) => Insn::alu64_reg(op, 1, 2),
                (false, true) => Insn::alu32_imm(op, 1, -5),
                (false, false) => Insn::alu32_reg(op, 1, 2),
            },
            Form::Neg { width } if width == w64 => Insn::neg64(1),
            Form::Neg { .. } => Insn::neg32(1),
            Form::MovSx { width, from } if width == w64 => Insn::movsx64(1, 2, from),
            Form::MovSx { from, .. } => Insn::movsx32(1, 2, from),
            Form::AddrSpaceCast => Insn::addr_space_cast(1, 2, 1, 0),
            Form::Endian { order, bits } => Insn::endian(order, 1, bits),
            Form::Load {
                size,
                signed: false,
            } => Insn::ldx(size, 1, 2, -3),
            Form::Load { size, signed: true } => Insn::ldxs(size, 1, 2, -3),
            Form::Store { size, source } if source == imm => Insn::st(size, 1, -3, -5),
            Form::Store { size, .. } => Insn::stx(size, 1, 2, -3),
            Form::Atomic { size, op } => Insn::atomic(size, op, 1, 2, -3),
            Form::LoadPacket {
                mode: PacketMode::Abs,
                size,
            } => Insn::ld_abs(size, -5),
            Form::LoadPacket { size, .. } => Insn::ld_ind(size, 2, -5),
            Form::LoadImm64 => Insn::lddw(1, -5 << 40),
            Form::Jump {
                cond,
                width,
                source,
            } => match (width == w64, source == imm) {
                (true, true) => Insn::jmp_imm(cond, 1, -5, -3),
                (true, false) => Insn::jmp_reg(cond, 1, 2, -3),
                (false, true) => Insn::jmp32_imm(cond, 1, -5, -3),
                (false, false) => Insn::jmp32_reg(cond, 1, 2, -3),
            },
            Form::Ja => Insn::ja(-3),
            Form::Gotol => Insn::gotol(-5),
            Form::MayGoto => Insn::may_goto(-3),
            Form::Call(CallKind::Helper) => Insn::call_helper(5),
            Form::Call(CallKind::Local) => Insn::call_local(-5),
            Form::Call(CallKind::Kfunc) => Insn::call_kfunc(5),
            Form::Callx => Insn::callx(1),
            Form::Exit => Insn::exit(),
        }
    }

    #[test]
    fn every_table_row_has_a_builder_that_round_trips() {
        for d in TABLE {
            let insn = build(d);
            assert_eq!(insn.check(), Ok(d), "{}: {insn}", d.name);
            let decoded = decode(&insn.encode()).unwrap();
            assert_eq!((decoded[0].insn, decoded[0].def), (insn, d), "{}", d.name);
        }
    }

    #[test]
    fn builders_fill_fields_and_selectors() {
        use crate::isa::op;
        let cases = [
            (Insn::mov64_imm(0, 2), (op::MOV64_IMM, 0, 0, 0, 2)),
            (Insn::mov64_reg(6, 1), (op::MOV64_REG, 6, 1, 0, 0)),
            (
                Insn::alu64_imm(AluOp::SDiv, 3, 7),
                (op::DIV64_IMM, 3, 0, 1, 7),
            ),
            (Insn::movsx64(1, 2, 16), (op::MOV64_REG, 1, 2, 16, 0)),
            (
                Insn::addr_space_cast(1, 2, 1, 0),
                (op::MOV64_REG, 1, 2, 1, 1 << 16),
            ),
            (Insn::endian(ByteOrder::Be, 4, 32), (op::BE, 4, 0, 0, 32)),
            (
                Insn::atomic(Size::DW, AtomicOp::CmpXchg, 10, 1, -8),
                (op::ATOMIC_DW, 10, 1, -8, 0xf1),
            ),
            (Insn::call_helper(7), (op::CALL, 0, 0, 0, 7)),
            (Insn::call_local(3), (op::CALL, 0, 1, 0, 3)),
            (Insn::call_kfunc(9), (op::CALL, 0, 2, 0, 9)),
            (Insn::ld_map_fd(1, 4), (op::LDDW, 1, 1, 0, 4)),
            (
                Insn::ld_map_value(1, 4, 8),
                (op::LDDW, 1, 2, 0, 8 << 32 | 4),
            ),
            (
                Insn::ld_map_idx_value(2, -1, 1),
                (op::LDDW, 2, 6, 0, 1 << 32 | 0xffff_ffff),
            ),
            (Insn::exit(), (op::EXIT, 0, 0, 0, 0)),
        ];
        for (insn, (code, dst, src, off, imm)) in cases {
            assert_eq!(
                insn,
                Insn {
                    code,
                    dst,
                    src,
                    off,
                    imm
                }
            );
        }
    }

    #[test]
    fn builders_are_const() {
        const PROG: [Insn; 2] = [Insn::mov64_imm(0, 0), Insn::exit()];
        assert_eq!(PROG[1].code, crate::isa::op::EXIT);
    }

    #[test]
    #[should_panic(expected = "registers are r0 to r10")]
    fn a_register_above_r10_panics() {
        let dst = std::hint::black_box(11);
        Insn::mov64_reg(dst, 0);
    }

    #[test]
    #[should_panic(expected = "no such instruction")]
    fn a_form_outside_the_table_panics() {
        Insn::ldxs(std::hint::black_box(Size::DW), 0, 1, 0);
    }
}
