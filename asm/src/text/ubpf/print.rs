//! The printer: one instruction in the conformance spelling.

use crate::insn::Insn;
use crate::isa::{AtomicOp, CallKind, Form, PacketMode, Pseudo, Source};

/// `[%r1]`, `[%r1+4]`, `[%r10-8]`.
fn mem(reg: u8, off: i16) -> String {
    if off == 0 {
        format!("[%r{reg}]")
    } else {
        format!("[%r{reg}{off:+}]")
    }
}

pub(super) fn print(insn: &Insn) -> String {
    let Some(def) = insn.def().filter(|_| insn.check().is_ok()) else {
        // Not an instruction: print something that names the fields and that the parser
        // refuses (`<` starts no token), so a disassembly never reassembles to other bytes.
        return format!("<invalid {insn}>");
    };
    let (name, dst, src, off) = (def.name, insn.dst, insn.src, insn.off);
    // Every one-slot immediate fits in i32 (checked above); printing it signed and in
    // decimal keeps it inside the range the parser accepts for decimal numbers.
    let imm = insn.imm as i32;
    match def.form {
        Form::Alu {
            source: Source::Imm,
            ..
        } => format!("{name} %r{dst}, {imm}"),
        Form::Alu {
            source: Source::Reg,
            ..
        }
        | Form::MovSx { .. } => format!("{name} %r{dst}, %r{src}"),
        Form::Neg { .. } | Form::Endian { .. } => format!("{name} %r{dst}"),
        Form::AddrSpaceCast => {
            let (dst_as, src_as) = ((imm as u32) >> 16, imm as u32 & 0xffff);
            format!("{name} %r{dst}, %r{src}, {dst_as}, {src_as}")
        }
        Form::Load { .. }
        | Form::Atomic {
            op: AtomicOp::LoadAcquire,
            ..
        } => {
            format!("{name} %r{dst}, {}", mem(src, off))
        }
        Form::Store {
            source: Source::Imm,
            ..
        } => format!("{name} {}, {imm}", mem(dst, off)),
        Form::Store {
            source: Source::Reg,
            ..
        }
        | Form::Atomic { .. } => {
            format!("{name} {}, %r{src}", mem(dst, off))
        }
        Form::LoadPacket {
            mode: PacketMode::Abs,
            ..
        } => format!("{name} {imm}"),
        Form::LoadPacket {
            mode: PacketMode::Ind,
            ..
        } => format!("{name} %r{src}, {imm}"),
        Form::LoadImm64 => match insn.pseudo() {
            None | Some(Pseudo::None) => format!("lddw %r{dst}, {:#x}", insn.imm as u64),
            Some(p) if p.has_value_offset() => format!(
                "lddw {} %r{dst}, {}, {}",
                p.name().unwrap_or_default(),
                insn.imm as i32,
                (insn.imm >> 32) as i32
            ),
            Some(p) => format!(
                "lddw {} %r{dst}, {:#x}",
                p.name().unwrap_or_default(),
                insn.imm as u64
            ),
        },
        Form::Jump {
            source: Source::Imm,
            ..
        } => format!("{name} %r{dst}, {imm}, {off:+}"),
        Form::Jump {
            source: Source::Reg,
            ..
        } => format!("{name} %r{dst}, %r{src}, {off:+}"),
        Form::Ja | Form::MayGoto => format!("{name} {off:+}"),
        Form::Gotol | Form::Call(CallKind::Local) => format!("{name} {imm:+}"),
        Form::Call(CallKind::Helper | CallKind::Kfunc) => format!("{name} {imm}"),
        // The conformance suite writes callx as `call %rN` (with the register in dst).
        Form::Callx => format!("call %r{dst}"),
        Form::Exit => name.to_string(),
    }
}
