//! Instructions and their binary form (RFC 9669 §3: 8-byte little-endian slots).
//!
//! - [`Insn`] is one instruction; its typed builders (`Insn::mov64_imm`, `Insn::ldx`,
//!   `Insn::jmp_imm`, `Insn::call_helper`, `Insn::exit` ...) take their opcodes from the
//!   [table](crate::isa::TABLE).
//! - [`decode`] / [`decode_all`] check bytes against the table; [`slots`] walks them
//!   without checking, one `(slot index, Insn)` per instruction, and [`Insn::from_slot`]
//!   reads a single raw slot.
//! - [`Insn::jump_target`] is the one place a pc-relative target is computed.
//!
//! ```
//! use asm::insn::{decode, encode, Insn};
//! use asm::isa::{AluOp, Cond};
//!
//! let prog = [
//!     Insn::mov64_imm(0, 0),
//!     Insn::jmp_imm(Cond::Eq, 1, 0, 1),
//!     Insn::alu64_imm(AluOp::Add, 0, 1),
//!     Insn::exit(),
//! ];
//! let decoded = decode(&encode(&prog)).unwrap();
//! assert_eq!(decoded[1].insn.jump_target(decoded[1].pc), Some(3));
//! ```

mod build;
mod lenient;

pub use lenient::{decode_lenient, Lenient};

use crate::isa::{self, op, CallKind, Form, OpDef, Pseudo, Selector};
use std::fmt;

/// One eBPF instruction. `lddw` is one `Insn` with its full 64-bit immediate in `imm`
/// (it occupies two slots in the binary form); every other instruction keeps `imm` within
/// `i32` range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    /// The opcode byte.
    pub code: u8,
    /// Destination register field (4 bits).
    pub dst: u8,
    /// Source register field (4 bits); a pseudo source for `lddw` and `call`.
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Immediate: 32 bits sign-extended, or 64 bits for `lddw`.
    pub imm: i64,
}

impl Insn {
    /// Size of one slot in bytes.
    pub const SLOT: usize = 8;

    /// Builds an instruction from a table entry, filling in its selector field.
    pub const fn new(def: &OpDef, dst: u8, src: u8, off: i16, imm: i64) -> Insn {
        let mut insn = Insn {
            code: def.code,
            dst,
            src,
            off,
            imm,
        };
        match def.selector {
            Selector::None => {}
            Selector::Off(v) => insn.off = v,
            Selector::Imm(v) => insn.imm = v as i64,
            Selector::Src(v) => insn.src = v,
        }
        insn
    }

    /// The table entry for this instruction, if the opcode and selector are known.
    pub fn def(&self) -> Option<&'static OpDef> {
        isa::lookup(self.code, self.src, self.off, self.imm as i32)
    }

    /// The form of this instruction, if it is in the table: the way to ask "is this a
    /// local call / an exit / a jump" without comparing opcode bits, e.g.
    /// `insn.form() == Some(Form::Call(CallKind::Local))`.
    pub fn form(&self) -> Option<Form> {
        self.def().map(|d| d.form)
    }

    /// Number of 8-byte slots (2 for `lddw`).
    pub fn slots(&self) -> usize {
        if self.code == op::LDDW {
            2
        } else {
            1
        }
    }

    /// The instruction class: the low three bits of the opcode (RFC 9669 §3.3), one of
    /// [`crate::isa::class`].
    pub const fn class(&self) -> u8 {
        self.code & 0b111
    }

    /// The pseudo source of an `lddw`.
    pub fn pseudo(&self) -> Option<Pseudo> {
        (self.code == op::LDDW)
            .then(|| Pseudo::from_src(self.src))
            .flatten()
    }

    /// Reads one 8-byte slot as it is, without checking it against the table: `imm` is the
    /// slot's 32 bits sign-extended, so an `lddw` read this way has only its low half (use
    /// [`slots`] or [`decode`] for whole instructions).
    ///
    /// # Panics
    /// If `slot` is shorter than 8 bytes; bytes past the eighth are ignored, so
    /// `bytes.chunks_exact(Insn::SLOT).map(Insn::from_slot)` reads every slot.
    pub fn from_slot(slot: &[u8]) -> Insn {
        Insn {
            code: slot[0],
            dst: slot[1] & 0x0f,
            src: slot[1] >> 4,
            off: i16::from_le_bytes([slot[2], slot[3]]),
            imm: i32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]) as i64,
        }
    }

    /// How far a pc-relative instruction reaches, in slots counted from the slot after
    /// the instruction's first: `off` for `goto`, conditional jumps and `may_goto`; `imm`
    /// for `gotol` and local calls; the low `imm` for `lddw` of a function address.
    /// (RFC 9669 §4.3; the kernel resolves `BPF_PSEUDO_FUNC` as `i + imm + 1` too.)
    /// `None` for every other instruction, including helper and kfunc calls.
    pub fn branch_offset(&self) -> Option<i64> {
        match self.def()?.form {
            Form::Jump { .. } | Form::Ja | Form::MayGoto => Some(self.off as i64),
            Form::Gotol | Form::Call(CallKind::Local) => Some(self.imm),
            Form::LoadImm64 if self.pseudo() == Some(Pseudo::Func) => Some(self.imm as i32 as i64),
            _ => None,
        }
    }

    /// The slot a jump, local call or function address at slot `pc` refers to:
    /// `pc + 1 + `[`branch_offset`](Insn::branch_offset). Slot indexes are those of
    /// [`Decoded::pc`] and [`slots`] (an `lddw` counts two). `None` when the instruction
    /// has no target, or the target would be before slot 0 — use `branch_offset` to tell
    /// these apart. The caller checks the target against the program's length.
    pub fn jump_target(&self, pc: usize) -> Option<usize> {
        let target = (pc as i64).checked_add(1 + self.branch_offset()?)?;
        usize::try_from(target).ok()
    }

    /// Appends the binary form. Fields are truncated to their widths: call
    /// [`Insn::check`] (or use the assembler) to reject out-of-range values first.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push((self.src << 4) | (self.dst & 0x0f));
        out.extend_from_slice(&self.off.to_le_bytes());
        out.extend_from_slice(&(self.imm as i32).to_le_bytes());
        if self.slots() == 2 {
            // The high half; for map_value / map_idx_value it is the value offset, which
            // the 64-bit `imm` holds as (offset << 32) | fd.
            let hi = (self.imm >> 32) as i32;
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(&hi.to_le_bytes());
        }
    }

    /// The binary form as a new vector.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16);
        self.encode_into(&mut v);
        v
    }

    /// Checks that the instruction is in the table and that every field fits and every
    /// unused field is zero — the same rules [`decode`] applies to bytes.
    pub fn check(&self) -> Result<&'static OpDef, DecodeErrorKind> {
        let def = self.def().ok_or(DecodeErrorKind::UnknownOpcode {
            code: self.code,
            detail: unknown_detail(self.code),
        })?;
        if self.dst > 0x0f || self.src > 0x0f {
            return Err(DecodeErrorKind::Reserved {
                name: def.name,
                field: "register",
            });
        }
        if def.slots() == 1 && i32::try_from(self.imm).is_err() {
            return Err(DecodeErrorKind::Reserved {
                name: def.name,
                field: "imm",
            });
        }
        check_fields(def, self)?;
        Ok(def)
    }
}

fn check_fields(def: &OpDef, insn: &Insn) -> Result<(), DecodeErrorKind> {
    let f = def.fields();
    let reserved = |field: &'static str| {
        Err(DecodeErrorKind::Reserved {
            name: def.name,
            field,
        })
    };
    let sel_off = matches!(def.selector, Selector::Off(_));
    let sel_imm = matches!(def.selector, Selector::Imm(_));
    let sel_src = matches!(def.selector, Selector::Src(_));
    if !f.dst && insn.dst != 0 {
        return reserved("dst");
    }
    if !f.src && !sel_src && insn.src != 0 {
        return reserved("src");
    }
    if !f.off && !sel_off && insn.off != 0 {
        return reserved("off");
    }
    if !f.imm && !sel_imm && insn.imm != 0 {
        return reserved("imm");
    }
    if f.dst && insn.dst > 10 {
        return Err(DecodeErrorKind::BadRegister {
            name: def.name,
            field: "dst",
            reg: insn.dst,
        });
    }
    match def.form {
        Form::LoadImm64 if Pseudo::from_src(insn.src).is_none() => {
            return Err(DecodeErrorKind::BadPseudo { src: insn.src });
        }
        Form::LoadImm64 => {}
        _ if f.src && insn.src > 10 => {
            return Err(DecodeErrorKind::BadRegister {
                name: def.name,
                field: "src",
                reg: insn.src,
            });
        }
        Form::AddrSpaceCast => {
            // Linux accepts only casts between address space 0 and 1 (check_alu_op).
            let (dst_as, src_as) = ((insn.imm >> 16) as u16, insn.imm as u16);
            if insn.imm as u32 >> 16 > 1 || !matches!((dst_as, src_as), (0, 1) | (1, 0)) {
                return reserved("imm");
            }
        }
        _ => {}
    }
    Ok(())
}

fn unknown_detail(code: u8) -> &'static str {
    match code & 0x07 {
        0..=3 => "no load/store instruction has this mode and size",
        4 | 7 => "no arithmetic instruction has this operation and source",
        _ => "no jump instruction has this operation and source",
    }
}

/// Why a sequence of bytes is not a valid instruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The opcode byte (with its selector field) is not in the table.
    #[error("unknown opcode {code:#04x}: {detail}")]
    UnknownOpcode {
        /// The opcode byte.
        code: u8,
        /// What part of the opcode has no meaning.
        detail: &'static str,
    },
    /// A field the instruction does not use is not zero.
    #[error("`{name}` uses reserved field `{field}`: it must be zero")]
    Reserved {
        /// The instruction.
        name: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A register field names a register above r10.
    #[error("`{name}` has invalid {field} register r{reg} (registers are r0 to r10)")]
    BadRegister {
        /// The instruction.
        name: &'static str,
        /// `dst` or `src`.
        field: &'static str,
        /// The register number.
        reg: u8,
    },
    /// `lddw` with a `src` that is no pseudo source.
    #[error("`lddw` has unknown pseudo source {src} (0 to 6 are defined)")]
    BadPseudo {
        /// The `src` field.
        src: u8,
    },
    /// The second slot of `lddw` is missing.
    #[error("`lddw` needs two slots but the program ends after the first")]
    TruncatedLddw,
    /// The second slot of `lddw` has a non-zero opcode, register or offset.
    #[error("second slot of `lddw` must have zero opcode, registers and offset")]
    BadLddwSecondSlot,
    /// The input is not a whole number of 8-byte slots.
    #[error("{len} bytes is not a whole number of 8-byte instructions ({extra} bytes left over)")]
    TrailingBytes {
        /// Total length.
        len: usize,
        /// Bytes past the last whole slot.
        extra: usize,
    },
}

/// A decoding error with where it happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("instruction {index} (byte offset {byte_offset}): {kind}")]
pub struct DecodeError {
    /// Slot index of the offending instruction.
    pub index: usize,
    /// Byte offset of the offending instruction.
    pub byte_offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// A decoded instruction with its slot index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Slot index (the unit of jump offsets).
    pub pc: usize,
    /// The instruction.
    pub insn: Insn,
    /// Its table entry.
    pub def: &'static OpDef,
}

/// The 64-bit immediate of an `lddw` from its two slots' 32-bit immediates.
fn lddw_imm(lo: i64, hi: i64) -> i64 {
    (lo as u32 as i64) | (hi << 32)
}

/// Iterates over the instructions in `bytes` as `(slot index, Insn)`, without checking them
/// against the table — the unchecked counterpart of [`decode`]. An `lddw` is one `Insn`
/// with its whole 64-bit `imm` and advances the slot index by 2; when its second slot is
/// missing it is yielded with only its low half. A trailing partial slot is not yielded.
///
/// ```
/// use asm::insn::{encode, slots, Insn};
///
/// let bytes = encode(&[Insn::lddw(1, 1 << 40), Insn::exit()]);
/// let pcs: Vec<usize> = slots(&bytes).map(|(pc, _)| pc).collect();
/// assert_eq!(pcs, [0, 2]);
/// ```
pub fn slots(bytes: &[u8]) -> Slots<'_> {
    Slots { bytes, pc: 0 }
}

/// The iterator [`slots`] returns.
#[derive(Clone, Debug)]
pub struct Slots<'a> {
    bytes: &'a [u8],
    pc: usize,
}

impl Iterator for Slots<'_> {
    type Item = (usize, Insn);

    fn next(&mut self) -> Option<(usize, Insn)> {
        let at = self.pc * Insn::SLOT;
        let mut insn = Insn::from_slot(self.bytes.get(at..at + Insn::SLOT)?);
        let pc = self.pc;
        self.pc += 1;
        if insn.code == op::LDDW {
            if let Some(hi) = self.bytes.get(at + Insn::SLOT..at + 2 * Insn::SLOT) {
                insn.imm = lddw_imm(insn.imm, Insn::from_slot(hi).imm);
                self.pc += 1;
            }
        }
        Some((pc, insn))
    }
}

/// Decodes one instruction at slot `pc`; returns it and the number of slots it used.
pub fn decode_one(bytes: &[u8], pc: usize) -> Result<Decoded, DecodeError> {
    let at = pc * Insn::SLOT;
    let err = |kind| DecodeError {
        index: pc,
        byte_offset: at,
        kind,
    };
    let slot = bytes.get(at..at + Insn::SLOT).ok_or_else(|| {
        err(DecodeErrorKind::TrailingBytes {
            len: bytes.len(),
            extra: bytes.len() % Insn::SLOT,
        })
    })?;
    let mut insn = Insn::from_slot(slot);
    if insn.code == op::LDDW {
        let hi = lddw_second_slot(bytes, pc)?;
        insn.imm = lddw_imm(insn.imm, hi.imm);
    }
    let def = insn.check().map_err(err)?;
    Ok(Decoded { pc, insn, def })
}

/// Decodes a whole program. Stops at the first error.
pub fn decode(bytes: &[u8]) -> Result<Vec<Decoded>, DecodeError> {
    let mut out = Vec::with_capacity(bytes.len() / Insn::SLOT);
    if bytes.len() % Insn::SLOT != 0 {
        let whole = bytes.len() / Insn::SLOT;
        return Err(DecodeError {
            index: whole,
            byte_offset: whole * Insn::SLOT,
            kind: DecodeErrorKind::TrailingBytes {
                len: bytes.len(),
                extra: bytes.len() % Insn::SLOT,
            },
        });
    }
    let mut pc = 0;
    while pc * Insn::SLOT < bytes.len() {
        let d = decode_one(bytes, pc)?;
        pc += d.def.slots();
        out.push(d);
    }
    Ok(out)
}

/// Decodes a program and reports every bad instruction, not just the first: an undecodable
/// slot is skipped (as one slot) and decoding goes on.
pub fn decode_all(bytes: &[u8]) -> (Vec<Decoded>, Vec<DecodeError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let whole = bytes.len() / Insn::SLOT;
    let mut pc = 0;
    while pc < whole {
        match decode_one(bytes, pc) {
            Ok(d) => {
                pc += d.def.slots();
                out.push(d);
            }
            Err(e) => {
                errors.push(e);
                pc += 1;
            }
        }
    }
    if bytes.len() % Insn::SLOT != 0 {
        errors.push(DecodeError {
            index: whole,
            byte_offset: whole * Insn::SLOT,
            kind: DecodeErrorKind::TrailingBytes {
                len: bytes.len(),
                extra: bytes.len() % Insn::SLOT,
            },
        });
    }
    (out, errors)
}

/// The second slot of the `lddw` at slot `pc`: present, and zero but for its `imm` (the
/// high half), as `bpf_check`'s `resolve_pseudo_ldimm64` requires.
pub(crate) fn lddw_second_slot(bytes: &[u8], pc: usize) -> Result<Insn, DecodeError> {
    let at = (pc + 1) * Insn::SLOT;
    let Some(next) = bytes.get(at..at + Insn::SLOT) else {
        return Err(DecodeError {
            index: pc,
            byte_offset: pc * Insn::SLOT,
            kind: DecodeErrorKind::TruncatedLddw,
        });
    };
    let hi = Insn::from_slot(next);
    if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
        return Err(DecodeError {
            index: pc + 1,
            byte_offset: at,
            kind: DecodeErrorKind::BadLddwSecondSlot,
        });
    }
    Ok(hi)
}

/// Encodes a sequence of instructions.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * Insn::SLOT);
    for i in insns {
        i.encode_into(&mut out);
    }
    out
}

impl fmt::Display for Insn {
    /// Raw fields, for debugging; use a dialect's printer for assembly text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{code: {:#04x}, dst: {}, src: {}, off: {}, imm: {:#x}}}",
            self.code, self.dst, self.src, self.off, self.imm
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_support::hex;

    #[test]
    fn lddw_roundtrip() {
        let bytes = hex("18000000f0debc9a0000000078563412");
        let d = decode(&bytes).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].insn.imm, 0x123456789abcdef0);
        assert_eq!(encode(&[d[0].insn]), bytes);
    }

    #[test]
    fn errors_name_index_and_offset() {
        let e = decode(&hex("95000000000000008e00000000000000")).unwrap_err();
        assert_eq!((e.index, e.byte_offset), (1, 8));
        assert!(matches!(
            e.kind,
            DecodeErrorKind::UnknownOpcode { code: 0x8e, .. }
        ));
        let e = decode(&hex("0501000000000000")).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::Reserved {
                name: "ja",
                field: "dst"
            }
        );
        let e = decode(&hex("1800000001000000")).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TruncatedLddw);
        let e = decode(&hex("180000000100000000010000000000009500000000000000")).unwrap_err();
        assert_eq!((e.index, e.kind), (1, DecodeErrorKind::BadLddwSecondSlot));
        let e = decode(&[0x95, 0, 0]).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::TrailingBytes { len: 3, extra: 3 }
        ));
        let e = decode(&hex("b70b000000000000")).unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::BadRegister { reg: 11, .. }
        ));
    }

    #[test]
    fn every_table_entry_encodes_and_decodes() {
        for def in isa::table() {
            let f = def.fields();
            let insn = Insn::new(
                def,
                if f.dst { 1 } else { 0 },
                if f.src { 2 } else { 0 },
                if f.off { -3 } else { 0 },
                if def.form == Form::AddrSpaceCast {
                    1
                } else if f.imm {
                    -5
                } else {
                    0
                },
            );
            let bytes = insn.encode();
            let d = decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", def.name));
            assert_eq!(d[0].insn, insn, "{}", def.name);
            assert_eq!(d[0].def, def);
        }
    }

    #[test]
    fn jump_targets_count_lddw_as_two_slots() {
        use crate::isa::Cond;
        let prog = [
            Insn::jmp_imm(Cond::Eq, 1, 0, 2), // 0 -> 3
            Insn::lddw(1, 1 << 40),           // 1, 2
            Insn::ld_func(2, 1),              // 3, 4 -> 5
            Insn::call_local(-6),             // 5 -> 0
            Insn::ja(-8),                     // 6 -> None (before slot 0)
            Insn::call_helper(1),             // 7: no target
            Insn::gotol(-1),                  // 8 -> 8
            Insn::exit(),                     // 9
        ];
        let bytes = encode(&prog);
        let decoded = decode(&bytes).unwrap();
        let targets: Vec<_> = decoded
            .iter()
            .map(|d| (d.pc, d.insn.jump_target(d.pc)))
            .collect();
        let expected = [
            (0, Some(3)),
            (1, None),
            (3, Some(5)),
            (5, Some(0)),
            (6, None),
            (7, None),
            (8, Some(8)),
            (9, None),
        ];
        assert_eq!(targets, expected);
        assert_eq!(prog[4].branch_offset(), Some(-8));
        assert_eq!(prog[3].form(), Some(Form::Call(CallKind::Local)));
        assert_eq!(
            Insn {
                code: 0x8e, // BPF_JMP32 | BPF_CALL | BPF_X: no such instruction
                ..Insn::default()
            }
            .form(),
            None
        );
        assert_eq!(prog[5].branch_offset(), None);
        // The unchecked walk gives the same slot indexes and instructions.
        let walked: Vec<_> = slots(&bytes).collect();
        let checked: Vec<_> = decoded.iter().map(|d| (d.pc, d.insn)).collect();
        assert_eq!(walked, checked);
    }

    #[test]
    fn slots_tolerate_truncation() {
        let mut bytes = Insn::lddw(1, 1 << 40).encode();
        bytes.truncate(12);
        let walked: Vec<_> = slots(&bytes).collect();
        assert_eq!(
            walked,
            [(
                0,
                Insn {
                    imm: 0,
                    ..Insn::lddw(1, 0)
                }
            )]
        );
    }
}
