//! The `kernel` dialect: the verifier log's and bpftool's spelling (`print_bpf_insn` in
//! `kernel/bpf/disasm.c`). Printed text starts with the `(xx)` opcode column the kernel
//! prints, e.g. `(b7) r0 = 1`; the verifier log adds only the `N: ` index.
//!
//! The column is part of the text because the kernel prints `lddw` without `ll`
//! (`(18) r1 = 0x1234`): with it, the text reassembles (through [`crate::text::llvm::parse`])
//! to the same bytes. Where the kernel's text loses information, bpfx extensions are printed
//! instead: `lddw` with a pseudo source (`(18) r1 = map_fd(5) ll`; the kernel prints the
//! bare or hidden value) and `callx` (`(8d) callx r2`; the kernel has no printer for it).
//! A kfunc call prints as the kernel does without BTF, `call kernel-function#1234`, which
//! the parser reads back as a kfunc call.
//!
//! ```
//! use asm::text::{assemble, kernel, Dialect};
//!
//! let prog = assemble("r0 = *(u32 *)(r1 + 4)\ncall 1\n", Dialect::Llvm).unwrap();
//! assert_eq!(kernel::print(&prog.insns[0]), "(61) r0 = *(u32 *)(r1 +4)");
//! assert_eq!(kernel::print(&prog.insns[1]), "(85) call bpf_map_lookup_elem#1");
//! ```

use crate::insn::Insn;
use crate::isa::{AtomicOp, ByteOrder, CallKind, Form, PacketMode, Pseudo, Size, Source, Width};
use crate::text::helpers;
use std::fmt::{self, Write};

/// Prints one instruction.
pub fn print(insn: &Insn) -> String {
    let mut s = String::with_capacity(48);
    write(insn, &mut s);
    s
}

/// Appends one instruction's text to `out` (no newline).
pub fn write(insn: &Insn, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = write_fmt(insn, out);
}

fn ty(size: Size) -> &'static str {
    match size {
        Size::B => "u8",
        Size::H => "u16",
        Size::W => "u32",
        Size::DW => "u64",
    }
}

fn wc(width: Width) -> char {
    match width {
        Width::W64 => 'r',
        Width::W32 => 'w',
    }
}

fn write_fmt(i: &Insn, o: &mut String) -> fmt::Result {
    let Some(def) = i.def() else {
        return write!(o, "({:02x}) BUG_{:02x}", i.code, i.code);
    };
    let (d, s, off, imm) = (i.dst, i.src, i.off, i.imm);
    write!(o, "({:02x}) ", i.code)?;
    match def.form {
        Form::Alu {
            op,
            width,
            source: Source::Reg,
        } => {
            let c = wc(width);
            write!(o, "{c}{d} {} {c}{s}", op.llvm_operator())
        }
        Form::Alu {
            op,
            width,
            source: Source::Imm,
        } => write!(o, "{}{d} {} {}", wc(width), op.llvm_operator(), imm),
        Form::Neg { width } => {
            let c = wc(width);
            write!(o, "{c}{d} = -{c}{d}")
        }
        Form::MovSx { width, from } => {
            let c = wc(width);
            write!(o, "{c}{d} = (s{from}){c}{s}")
        }
        Form::AddrSpaceCast => write!(
            o,
            "r{d} = addr_space_cast(r{s}, {}, {})",
            (imm as u32) >> 16,
            imm as u16
        ),
        Form::Endian { order, bits } => {
            let name = match order {
                ByteOrder::Le => "le",
                ByteOrder::Be => "be",
                ByteOrder::Swap => "bswap",
            };
            write!(o, "r{d} = {name}{bits} r{d}")
        }
        Form::Load { size, signed } => {
            let t = if signed {
                ["s8", "s16", "s32", "s64"][size as usize]
            } else {
                ty(size)
            };
            write!(o, "r{d} = *({t} *)(r{s} {off:+})")
        }
        Form::Store {
            size,
            source: Source::Reg,
        } => write!(o, "*({} *)(r{d} {off:+}) = r{s}", ty(size)),
        Form::Store {
            size,
            source: Source::Imm,
        } => write!(o, "*({} *)(r{d} {off:+}) = {imm}", ty(size)),
        Form::Atomic { size, op } => {
            let t = ty(size);
            let w = if size == Size::DW { "64" } else { "" };
            match op {
                AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                    let sym = match op {
                        AtomicOp::Add => "+=",
                        AtomicOp::Or => "|=",
                        AtomicOp::And => "&=",
                        _ => "^=",
                    };
                    write!(o, "lock *({t} *)(r{d} {off:+}) {sym} r{s}")
                }
                AtomicOp::FetchAdd
                | AtomicOp::FetchOr
                | AtomicOp::FetchAnd
                | AtomicOp::FetchXor => {
                    let name = match op {
                        AtomicOp::FetchAdd => "add",
                        AtomicOp::FetchOr => "or",
                        AtomicOp::FetchAnd => "and",
                        _ => "xor",
                    };
                    write!(
                        o,
                        "r{s} = atomic{w}_fetch_{name}(({t} *)(r{d} {off:+}), r{s})"
                    )
                }
                AtomicOp::Xchg => write!(o, "r{s} = atomic{w}_xchg(({t} *)(r{d} {off:+}), r{s})"),
                AtomicOp::CmpXchg => {
                    write!(o, "r0 = atomic{w}_cmpxchg(({t} *)(r{d} {off:+}), r0, r{s})")
                }
                AtomicOp::LoadAcquire => write!(o, "r{d} = load_acquire(({t} *)(r{s} {off:+}))"),
                AtomicOp::StoreRelease => write!(o, "store_release(({t} *)(r{d} {off:+}), r{s})"),
            }
        }
        Form::LoadPacket {
            mode: PacketMode::Abs,
            size,
        } => write!(o, "r0 = *({} *)skb[{imm}]", ty(size)),
        Form::LoadPacket {
            mode: PacketMode::Ind,
            size,
        } => write!(o, "r0 = *({} *)skb[r{s} + {imm}]", ty(size)),
        Form::LoadImm64 => {
            let (lo, hi) = (imm as u32, (imm as u64 >> 32) as u32);
            match Pseudo::from_src(s) {
                Some(Pseudo::None) | None => write!(o, "r{d} = 0x{:x}", imm as u64),
                Some(p @ Pseudo::Func) if hi == 0 => {
                    write!(o, "r{d} = {}({:+}) ll", p.name().unwrap_or(""), lo as i32)
                }
                Some(p @ Pseudo::Func) => write!(
                    o,
                    "r{d} = {}({:+}, {hi}) ll",
                    p.name().unwrap_or(""),
                    lo as i32
                ),
                Some(p) if hi == 0 => write!(o, "r{d} = {}({lo}) ll", p.name().unwrap_or("")),
                Some(p) => write!(o, "r{d} = {}({lo}, {hi}) ll", p.name().unwrap_or("")),
            }
        }
        Form::Jump {
            cond,
            width,
            source,
        } => {
            let c = wc(width);
            let op = cond.llvm_operator();
            match source {
                Source::Reg => write!(o, "if {c}{d} {op} {c}{s} goto pc{off:+}"),
                Source::Imm => write!(o, "if {c}{d} {op} 0x{:x} goto pc{off:+}", imm as u32),
            }
        }
        Form::Ja => write!(o, "goto pc{off:+}"),
        Form::Gotol => write!(o, "gotol pc{imm:+}"),
        Form::MayGoto => write!(o, "may_goto pc{off:+}"),
        Form::Call(CallKind::Helper) => {
            let name = u32::try_from(imm).ok().and_then(helpers::bare);
            match name {
                Some(n) => write!(o, "call bpf_{n}#{imm}"),
                None => write!(o, "call unknown#{imm}"),
            }
        }
        Form::Call(CallKind::Local) => write!(o, "call pc{imm:+}"),
        Form::Call(CallKind::Kfunc) => write!(o, "call kernel-function#{imm}"),
        Form::Callx => write!(o, "callx r{d}"),
        Form::Exit => o.write_str("exit"),
    }
}
