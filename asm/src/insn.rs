//! Instructions and their binary form (RFC 9669 §3: 8-byte little-endian slots).

use crate::isa::{self, Form, OpDef, Pseudo, Selector};
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
    pub fn new(def: &OpDef, dst: u8, src: u8, off: i16, imm: i64) -> Insn {
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

    /// Number of 8-byte slots (2 for `lddw`).
    pub fn slots(&self) -> usize {
        if self.code == 0x18 {
            2
        } else {
            1
        }
    }

    /// The pseudo source of an `lddw`.
    pub fn pseudo(&self) -> Option<Pseudo> {
        (self.code == 0x18)
            .then(|| Pseudo::from_src(self.src))
            .flatten()
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

fn read_slot(bytes: &[u8]) -> Insn {
    Insn {
        code: bytes[0],
        dst: bytes[1] & 0x0f,
        src: bytes[1] >> 4,
        off: i16::from_le_bytes([bytes[2], bytes[3]]),
        imm: i32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as i64,
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
    let mut insn = read_slot(slot);
    if insn.code == 0x18 {
        let Some(next) = bytes.get(at + Insn::SLOT..at + 2 * Insn::SLOT) else {
            return Err(err(DecodeErrorKind::TruncatedLddw));
        };
        let hi = read_slot(next);
        if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
            return Err(DecodeError {
                index: pc + 1,
                byte_offset: at + Insn::SLOT,
                kind: DecodeErrorKind::BadLddwSecondSlot,
            });
        }
        insn.imm = (insn.imm as u32 as i64) | (hi.imm << 32);
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

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

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
}
