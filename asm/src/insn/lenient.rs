//! The kernel's load-time reading of bytecode, for loaders that must accept every program
//! the kernel accepts (the VM): [`decode_lenient`].
//!
//! The strict [`decode`](super::decode) (RFC 9669: every unused field zero) is what the
//! assembler, the disassembler and the bpf_conformance negative cases use. The kernel is
//! looser, in exactly these ways (Linux 6.18, `kernel/bpf/verifier.c`, measured with
//! `kernel/tests/lenient.rs`):
//!
//! - Before any instruction is verified, `resolve_pseudo_ldimm64` walks **every** slot and
//!   rejects only: `BPF_LDX` with a mode other than `BPF_MEM`/`BPF_MEMSX` or a non-zero
//!   `imm`; an `lddw` without a well-formed second slot or with an unknown pseudo source;
//!   an opcode byte that is in no instruction (`bpf_opcode_in_insntable`). These stay errors.
//! - Every other field is judged by `do_check` only when it reaches the instruction, so an
//!   invalid encoding (reserved field set, register above r10, unknown selector) in code the
//!   verifier never visits — dead code behind a constant branch — loads. It becomes
//!   [`Lenient::Invalid`]: an interpreter makes it a trap that faults if reached.
//! - Of the fields `do_check` does look at, it ignores one: `off` of `exit` (the `BPF_EXIT`
//!   check tests `BPF_SRC`, `imm`, `src_reg`, `dst_reg` and the class, not `off`). Such an
//!   `exit` is [`Lenient::Valid`].

use super::{lddw_imm, DecodeError, DecodeErrorKind, Decoded, Insn};
use crate::isa::{self, class, op, Form, Pseudo};

/// One instruction as the kernel's loader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lenient {
    /// A valid instruction (possibly with a field the kernel ignores set, e.g. `exit` with
    /// a non-zero `off`; `insn` keeps the bytes as they were).
    Valid(Decoded),
    /// An encoding the kernel loads but rejects if its verifier reaches it.
    Invalid {
        /// Slot index.
        pc: usize,
        /// The slot(s) as read (an `lddw` has its 64-bit `imm`).
        insn: Insn,
        /// 1, or 2 for an `lddw`.
        slots: usize,
        /// What the strict decoder says about it.
        kind: DecodeErrorKind,
    },
}

impl Lenient {
    /// Slot index.
    pub fn pc(&self) -> usize {
        match self {
            Lenient::Valid(d) => d.pc,
            Lenient::Invalid { pc, .. } => *pc,
        }
    }

    /// The instruction as read.
    pub fn insn(&self) -> Insn {
        match self {
            Lenient::Valid(d) => d.insn,
            Lenient::Invalid { insn, .. } => *insn,
        }
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        match self {
            Lenient::Valid(d) => d.def.slots(),
            Lenient::Invalid { slots, .. } => *slots,
        }
    }
}

/// Decodes a program the way the kernel's loader reads it (see the [module](self)): errors
/// only for what the kernel rejects wherever it is; invalid encodings it rejects only when
/// reached are [`Lenient::Invalid`].
pub fn decode_lenient(bytes: &[u8]) -> Result<Vec<Lenient>, DecodeError> {
    let whole = bytes.len() / Insn::SLOT;
    if bytes.len() % Insn::SLOT != 0 {
        return Err(DecodeError {
            index: whole,
            byte_offset: whole * Insn::SLOT,
            kind: DecodeErrorKind::TrailingBytes {
                len: bytes.len(),
                extra: bytes.len() % Insn::SLOT,
            },
        });
    }
    let mut out = Vec::with_capacity(whole);
    let mut pc = 0;
    while pc < whole {
        let item = lenient_one(bytes, pc)?;
        pc += item.slots();
        out.push(item);
    }
    Ok(out)
}

fn lenient_one(bytes: &[u8], pc: usize) -> Result<Lenient, DecodeError> {
    let at = pc * Insn::SLOT;
    let err = |kind| DecodeError {
        index: pc,
        byte_offset: at,
        kind,
    };
    let mut insn = Insn::from_slot(&bytes[at..at + Insn::SLOT]);
    let mut slots = 1;
    if insn.code == op::LDDW {
        let hi = super::lddw_second_slot(bytes, pc)?;
        if Pseudo::from_src(insn.src).is_none() {
            return Err(err(DecodeErrorKind::BadPseudo { src: insn.src }));
        }
        insn.imm = lddw_imm(insn.imm, hi.imm);
        slots = 2;
    }
    let strict = insn.check();
    if insn.code & 0b111 == class::LDX {
        // BPF_LDX must be BPF_MEM or BPF_MEMSX with imm 0, wherever it is.
        let mode = (insn.code & 0b1110_0000) | class::LDX;
        let is_load = matches!(
            isa::by_code(mode).first().map(|d| d.form),
            Some(Form::Load { .. })
        );
        if !is_load || insn.imm != 0 {
            return Err(err(strict.err().unwrap_or(DecodeErrorKind::Reserved {
                name: "ldx",
                field: "imm",
            })));
        }
    }
    if isa::by_code(insn.code).is_empty() {
        return Err(err(DecodeErrorKind::UnknownOpcode {
            code: insn.code,
            detail: super::unknown_detail(insn.code),
        }));
    }
    let kind = match strict {
        Ok(def) => return Ok(Lenient::Valid(Decoded { pc, insn, def })),
        Err(kind) => kind,
    };
    // `exit`: the kernel does not look at `off`.
    let no_off = Insn { off: 0, ..insn };
    if let Ok(def) = no_off.check() {
        if def.form == Form::Exit {
            return Ok(Lenient::Valid(Decoded { pc, insn, def }));
        }
    }
    Ok(Lenient::Invalid {
        pc,
        insn,
        slots,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_support::hex;

    #[test]
    fn exit_with_off_is_valid() {
        let b = hex("b700000000000000 9500010000000000");
        assert!(crate::insn::decode(&b).is_err(), "strict decode rejects it");
        let l = decode_lenient(&b).unwrap();
        assert!(matches!(&l[1], Lenient::Valid(d) if d.def.form == Form::Exit));
    }

    #[test]
    fn invalid_encodings_the_kernel_only_rejects_when_reached() {
        // 0xd3: an atomic with a byte size and imm 0; r15; a reserved `imm` on `exit`.
        for h in ["d300000000000000", "bf0f000000000000", "9500000001000000"] {
            let b = hex(&format!("{h} 9500000000000000"));
            let l = decode_lenient(&b).unwrap();
            assert!(matches!(l[0], Lenient::Invalid { .. }), "{h}: {l:?}");
        }
    }

    #[test]
    fn what_the_kernel_rejects_anywhere_stays_an_error() {
        for h in [
            "8e00000000000000",                  // in no instruction
            "6100000001000000",                  // ldx with imm
            "1800000000000000 0100000000000000", // lddw second slot
            "1870000000000000 0000000000000000", // lddw pseudo 7
            "18000000000000",                    // not whole slots
            "1800000000000000",                  // truncated lddw
        ] {
            assert!(decode_lenient(&hex(h)).is_err(), "{h}");
        }
    }
}
