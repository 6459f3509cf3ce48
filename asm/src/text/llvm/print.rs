//! The printer: exactly the instruction text of `llvm-objdump-19 -d --mcpu=v4` (without the
//! `<.text+0x..>` target annotation), or a bpfx extension where objdump's text would not
//! reassemble to the same bytes (see the module docs).

use crate::insn::Insn;
use crate::isa::{AtomicOp, ByteOrder, CallKind, Form, PacketMode, Pseudo, Size, Source, Width};
use std::fmt::{self, Write};

/// objdump's immediates: signed hexadecimal (`0x10`, `-0x1`).
struct Hex(i64);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "-0x{:x}", self.0.unsigned_abs())
        } else {
            write!(f, "0x{:x}", self.0)
        }
    }
}

/// A jump offset: always signed (`+0x3`, `-0x1`, `+0x0`).
struct Rel(i64);

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "-0x{:x}", self.0.unsigned_abs())
        } else {
            write!(f, "+0x{:x}", self.0)
        }
    }
}

/// A memory operand `(r1 + 0x4)` / `(r1 - 0x2)`; `paren` false gives `r1 + 0x4`.
struct MemRef(u8, i16);

impl fmt::Display for MemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 < 0 {
            write!(f, "r{} - 0x{:x}", self.0, self.1.unsigned_abs())
        } else {
            write!(f, "r{} + 0x{:x}", self.0, self.1)
        }
    }
}

fn ty(size: Size) -> &'static str {
    match size {
        Size::B => "u8",
        Size::H => "u16",
        Size::W => "u32",
        Size::DW => "u64",
    }
}

/// `w` for sub-64-bit memory operands (objdump with `--mcpu=v4` uses ALU32 registers),
/// `r` for 64-bit ones.
fn rw(size: Size) -> char {
    if size == Size::DW {
        'r'
    } else {
        'w'
    }
}

fn wc(width: Width) -> char {
    match width {
        Width::W64 => 'r',
        Width::W32 => 'w',
    }
}

/// Prints one instruction as `llvm-objdump-19 -d --mcpu=v4` does (immediates in signed
/// hexadecimal, `w` registers for 8- to 32-bit memory operands), except where objdump's
/// text would assemble to other bytes; there bpfx prints an extension the parser reads:
///
/// | encoding | objdump 19 | bpfx |
/// |---|---|---|
/// | `lddw` with a pseudo source and a non-zero second slot | `ld_pseudo r1, 0x2, 0x5` | `r1 = map_value(5, 16) ll` |
/// | local call (`src` 1) | `call 0x3` | `call pc+0x3` |
/// | kfunc call (`src` 2) | `call 0x4d2` | `call kfunc 0x4d2` |
/// | indirect packet load with `imm` ≠ 0 | `r0 = *(u8 *)skb[r1]` | `r0 = *(u8 *)skb[r1 + 0x4]` |
/// | load-acquire / store-release | `<unknown>` | LLVM 21's `w0 = load_acquire((u8 *)(r1 + 0x0))` |
///
/// `lddw` with a pseudo source and a zero second slot prints as objdump's `ld_pseudo`
/// (tab after the mnemonic), which llvm-mc also reads. Invalid encodings print as
/// `<unknown>`.
pub fn print(insn: &Insn) -> String {
    let mut s = String::with_capacity(40);
    write(insn, &mut s);
    s
}

/// Appends one instruction's text to `out` (no newline).
pub fn write(insn: &Insn, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = write_fmt(insn, out);
}

fn write_fmt(i: &Insn, o: &mut String) -> fmt::Result {
    let Some(def) = i.def() else {
        o.push_str("<unknown>");
        return Ok(());
    };
    let (d, s, off, imm) = (i.dst, i.src, i.off, i.imm);
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
        } => {
            write!(o, "{}{d} {} {}", wc(width), op.llvm_operator(), Hex(imm))
        }
        Form::Neg { width } => {
            let c = wc(width);
            write!(o, "{c}{d} = -{c}{d}")
        }
        Form::MovSx { width, from } => {
            let c = wc(width);
            write!(o, "{c}{d} = (s{from}){c}{s}")
        }
        Form::AddrSpaceCast => {
            write!(
                o,
                "r{d} = addr_space_cast(r{s}, 0x{:x}, 0x{:x})",
                (imm as u32) >> 16,
                imm as u16
            )
        }
        Form::Endian { order, bits } => {
            let name = match order {
                ByteOrder::Le => "le",
                ByteOrder::Be => "be",
                ByteOrder::Swap => "bswap",
            };
            write!(o, "r{d} = {name}{bits} r{d}")
        }
        Form::Load {
            size,
            signed: false,
        } => {
            write!(o, "{}{d} = *({} *)({})", rw(size), ty(size), MemRef(s, off))
        }
        Form::Load { size, signed: true } => {
            write!(o, "r{d} = *(s{} *)({})", size.bits(), MemRef(s, off))
        }
        Form::Store {
            size,
            source: Source::Reg,
        } => {
            write!(o, "*({} *)({}) = {}{s}", ty(size), MemRef(d, off), rw(size))
        }
        Form::Store {
            size,
            source: Source::Imm,
        } => {
            write!(o, "*({} *)({}) = {}", ty(size), MemRef(d, off), Hex(imm))
        }
        Form::Atomic { size, op } => {
            let c = rw(size);
            let (t, m) = (ty(size), MemRef(d, off));
            match op {
                AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                    let sym = match op {
                        AtomicOp::Add => "+=",
                        AtomicOp::Or => "|=",
                        AtomicOp::And => "&=",
                        _ => "^=",
                    };
                    write!(o, "lock *({t} *)({m}) {sym} {c}{s}")
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
                    write!(o, "{c}{s} = atomic_fetch_{name}(({t} *)({m}), {c}{s})")
                }
                AtomicOp::Xchg if size == Size::DW => write!(o, "r{s} = xchg_64({m}, r{s})"),
                AtomicOp::Xchg => write!(o, "w{s} = xchg32_32({m}, w{s})"),
                AtomicOp::CmpXchg if size == Size::DW => {
                    write!(o, "r0 = cmpxchg_64({m}, r0, r{s})")
                }
                AtomicOp::CmpXchg => write!(o, "w0 = cmpxchg32_32({m}, w0, w{s})"),
                // objdump 19 prints `<unknown>`; this is LLVM 21's syntax.
                AtomicOp::LoadAcquire => {
                    write!(o, "{c}{d} = load_acquire(({t} *)({}))", MemRef(s, off))
                }
                AtomicOp::StoreRelease => write!(o, "store_release(({t} *)({m}), {c}{s})"),
            }
        }
        Form::LoadPacket {
            mode: PacketMode::Abs,
            size,
        } => write!(o, "r0 = *({} *)skb[{}]", ty(size), Hex(imm)),
        Form::LoadPacket {
            mode: PacketMode::Ind,
            size,
        } => {
            // objdump drops a non-zero imm here (`skb[r1]`); bpfx prints it so the text
            // reassembles to the same bytes.
            if imm == 0 {
                write!(o, "r0 = *({} *)skb[r{s}]", ty(size))
            } else if imm < 0 {
                write!(
                    o,
                    "r0 = *({} *)skb[r{s} - 0x{:x}]",
                    ty(size),
                    imm.unsigned_abs()
                )
            } else {
                write!(o, "r0 = *({} *)skb[r{s} + 0x{:x}]", ty(size), imm)
            }
        }
        Form::LoadImm64 => {
            let (lo, hi) = (imm as u32, (imm as u64 >> 32) as u32);
            match Pseudo::from_src(s) {
                Some(Pseudo::None) | None => write!(o, "r{d} = {} ll", Hex(imm)),
                // objdump's form keeps only the first slot's imm.
                Some(_) if hi == 0 => write!(o, "ld_pseudo\tr{d}, 0x{s:x}, 0x{lo:x}"),
                Some(p @ Pseudo::Func) => write!(
                    o,
                    "r{d} = {}({:+}, {hi}) ll",
                    p.name().unwrap_or(""),
                    lo as i32
                ),
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
                Source::Reg => write!(o, "if {c}{d} {op} {c}{s} goto {}", Rel(off as i64)),
                Source::Imm => write!(o, "if {c}{d} {op} {} goto {}", Hex(imm), Rel(off as i64)),
            }
        }
        Form::Ja => write!(o, "goto {}", Rel(off as i64)),
        Form::Gotol => write!(o, "gotol {}", Rel(imm)),
        Form::MayGoto => write!(o, "may_goto {}", Rel(off as i64)),
        Form::Call(CallKind::Helper) => write!(o, "call {}", Hex(imm)),
        // objdump prints these as `call 0x3`, which would assemble as a helper call.
        Form::Call(CallKind::Local) => write!(o, "call pc{}", Rel(imm)),
        Form::Call(CallKind::Kfunc) => write!(o, "call kfunc {}", Hex(imm)),
        Form::Callx => write!(o, "callx r{d}"),
        Form::Exit => o.write_str("exit"),
    }
}
