//! The dispatch loop. One `match` on the op tag per instruction; registers live in a local
//! array indexed with `& 15` (no bounds check); memory goes through [`Machine::load`] /
//! [`Machine::store`] (a shift, a match, a checked slice access).

use crate::error::{ErrorKind, VmError};
use crate::helpers::builtin_name;
use crate::mem::{MAX_FRAMES, R_CODE, R_STACK0, STACK_SIZE};
use crate::program::K;
use crate::{Outcome, Step, Vm};

/// `BPF_MAX_LOOPS`: the per-frame `may_goto` budget the verifier sets up (do_misc_fixups).
pub const MAY_GOTO_BUDGET: u64 = 8 * 1024 * 1024;
/// `MAX_TAIL_CALL_CNT`.
pub const MAX_TAIL_CALLS: u32 = 33;

#[derive(Clone, Copy, Default)]
struct Frame {
    prog: u32,
    ret: u32,
    saved: [u64; 5],
    may_goto: u64,
}

#[inline(always)]
fn stack_top(depth: usize) -> u64 {
    crate::mem::addr(R_STACK0 + depth as u32, STACK_SIZE as u64)
}

macro_rules! reg {
    ($r:ident, $i:expr) => {
        $r[($i & 15) as usize]
    };
}

impl Vm {
    /// Runs program `prog` with `r` as the initial registers.
    pub(crate) fn exec<const TRACE: bool>(
        &mut self,
        prog: u32,
        mut r: [u64; 16],
        steps: &mut Vec<Step>,
    ) -> Result<Outcome, VmError> {
        let Vm {
            programs,
            helpers,
            machine: m,
            budget,
            last_regs,
            ..
        } = self;
        let budget = *budget;
        let mut cur = prog;
        let mut ops = ops_of::<TRACE>(&programs[cur as usize]);
        let mut pc = 0usize;
        let mut count: u64 = 0;
        let mut frames = [Frame::default(); MAX_FRAMES];
        let mut depth = 0usize;
        let mut may_goto = MAY_GOTO_BUDGET;
        let mut tail_calls = 0u32;
        r[10] = stack_top(0);
        m.stack_live = R_STACK0;
        let mut before = r;

        macro_rules! fail {
            ($kind:expr) => {{
                *last_regs = r;
                let slot = programs[cur as usize].slot(pc.saturating_sub(1));
                if TRACE {
                    finish(steps, &before, &r);
                }
                return Err(VmError {
                    pc: slot,
                    kind: $kind,
                });
            }};
        }
        macro_rules! mem {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(f) => fail!(ErrorKind::Memory(f)),
                }
            };
        }
        macro_rules! local_call {
            ($target:expr) => {{
                if depth + 1 >= MAX_FRAMES {
                    fail!(ErrorKind::CallDepth { limit: MAX_FRAMES });
                }
                frames[depth] = Frame {
                    prog: cur,
                    ret: pc as u32,
                    saved: [r[6], r[7], r[8], r[9], r[10]],
                    may_goto,
                };
                depth += 1;
                m.stack_live = R_STACK0 + depth as u32;
                m.stack_dirty = m.stack_dirty.max(m.stack_live);
                may_goto = MAY_GOTO_BUDGET;
                r[10] = stack_top(depth);
                pc = $target;
            }};
        }

        loop {
            let op = ops[pc];
            pc += 1;
            count += 1;
            if count > budget {
                fail!(ErrorKind::Budget { limit: budget });
            }
            if TRACE {
                finish(steps, &before, &r);
                before = r;
                let p = &programs[cur as usize];
                let idx = (pc - 1).min(p.insns.len().saturating_sub(1));
                steps.push(Step {
                    prog: cur,
                    pc: p.slot(pc - 1),
                    insn: p.insns[idx],
                    changed: Vec::new(),
                });
            }
            let (d, s) = (op.dst, op.src);
            match op.k {
                K::Add64I => reg!(r, d) = reg!(r, d).wrapping_add(op.imm),
                K::Sub64I => reg!(r, d) = reg!(r, d).wrapping_sub(op.imm),
                K::Mul64I => reg!(r, d) = reg!(r, d).wrapping_mul(op.imm),
                K::Div64I => reg!(r, d) = reg!(r, d).checked_div(op.imm).unwrap_or(0),
                K::SDiv64I => {
                    reg!(r, d) = if op.imm == 0 {
                        0
                    } else {
                        (reg!(r, d) as i64).wrapping_div(op.imm as i64) as u64
                    }
                }
                K::Or64I => reg!(r, d) |= op.imm,
                K::And64I => reg!(r, d) &= op.imm,
                K::Lsh64I => reg!(r, d) <<= op.imm & 63,
                K::Rsh64I => reg!(r, d) >>= op.imm & 63,
                K::Mod64I => reg!(r, d) = reg!(r, d).checked_rem(op.imm).unwrap_or(reg!(r, d)),
                K::SMod64I => {
                    if op.imm != 0 {
                        reg!(r, d) = (reg!(r, d) as i64).wrapping_rem(op.imm as i64) as u64
                    }
                }
                K::Xor64I => reg!(r, d) ^= op.imm,
                K::Mov64I => reg!(r, d) = op.imm,
                K::Arsh64I => reg!(r, d) = ((reg!(r, d) as i64) >> (op.imm & 63)) as u64,

                K::Add64X => reg!(r, d) = reg!(r, d).wrapping_add(reg!(r, s)),
                K::Sub64X => reg!(r, d) = reg!(r, d).wrapping_sub(reg!(r, s)),
                K::Mul64X => reg!(r, d) = reg!(r, d).wrapping_mul(reg!(r, s)),
                K::Div64X => reg!(r, d) = reg!(r, d).checked_div(reg!(r, s)).unwrap_or(0),
                K::SDiv64X => {
                    let b = reg!(r, s) as i64;
                    reg!(r, d) = if b == 0 {
                        0
                    } else {
                        (reg!(r, d) as i64).wrapping_div(b) as u64
                    }
                }
                K::Or64X => reg!(r, d) |= reg!(r, s),
                K::And64X => reg!(r, d) &= reg!(r, s),
                K::Lsh64X => reg!(r, d) <<= reg!(r, s) & 63,
                K::Rsh64X => reg!(r, d) >>= reg!(r, s) & 63,
                K::Mod64X => reg!(r, d) = reg!(r, d).checked_rem(reg!(r, s)).unwrap_or(reg!(r, d)),
                K::SMod64X => {
                    let b = reg!(r, s) as i64;
                    if b != 0 {
                        reg!(r, d) = (reg!(r, d) as i64).wrapping_rem(b) as u64
                    }
                }
                K::Xor64X => reg!(r, d) ^= reg!(r, s),
                K::Mov64X => reg!(r, d) = reg!(r, s),
                K::Arsh64X => reg!(r, d) = ((reg!(r, d) as i64) >> (reg!(r, s) & 63)) as u64,

                K::Add32I => reg!(r, d) = (reg!(r, d) as u32).wrapping_add(op.imm as u32) as u64,
                K::Sub32I => reg!(r, d) = (reg!(r, d) as u32).wrapping_sub(op.imm as u32) as u64,
                K::Mul32I => reg!(r, d) = (reg!(r, d) as u32).wrapping_mul(op.imm as u32) as u64,
                K::Div32I => {
                    reg!(r, d) = (reg!(r, d) as u32).checked_div(op.imm as u32).unwrap_or(0) as u64
                }
                K::SDiv32I => reg!(r, d) = sdiv32(reg!(r, d), op.imm),
                K::Or32I => reg!(r, d) = (reg!(r, d) as u32 | op.imm as u32) as u64,
                K::And32I => reg!(r, d) = (reg!(r, d) as u32 & op.imm as u32) as u64,
                K::Lsh32I => reg!(r, d) = ((reg!(r, d) as u32) << (op.imm & 31)) as u64,
                K::Rsh32I => reg!(r, d) = ((reg!(r, d) as u32) >> (op.imm & 31)) as u64,
                K::Mod32I => reg!(r, d) = mod32(reg!(r, d), op.imm),
                K::SMod32I => reg!(r, d) = smod32(reg!(r, d), op.imm),
                K::Xor32I => reg!(r, d) = (reg!(r, d) as u32 ^ op.imm as u32) as u64,
                K::Mov32I => reg!(r, d) = op.imm as u32 as u64,
                K::Arsh32I => reg!(r, d) = ((reg!(r, d) as i32) >> (op.imm & 31)) as u32 as u64,

                K::Add32X => {
                    reg!(r, d) = (reg!(r, d) as u32).wrapping_add(reg!(r, s) as u32) as u64
                }
                K::Sub32X => {
                    reg!(r, d) = (reg!(r, d) as u32).wrapping_sub(reg!(r, s) as u32) as u64
                }
                K::Mul32X => {
                    reg!(r, d) = (reg!(r, d) as u32).wrapping_mul(reg!(r, s) as u32) as u64
                }
                K::Div32X => {
                    reg!(r, d) = (reg!(r, d) as u32)
                        .checked_div(reg!(r, s) as u32)
                        .unwrap_or(0) as u64
                }
                K::SDiv32X => reg!(r, d) = sdiv32(reg!(r, d), reg!(r, s)),
                K::Or32X => reg!(r, d) = (reg!(r, d) as u32 | reg!(r, s) as u32) as u64,
                K::And32X => reg!(r, d) = (reg!(r, d) as u32 & reg!(r, s) as u32) as u64,
                K::Lsh32X => reg!(r, d) = ((reg!(r, d) as u32) << (reg!(r, s) & 31)) as u64,
                K::Rsh32X => reg!(r, d) = ((reg!(r, d) as u32) >> (reg!(r, s) & 31)) as u64,
                K::Mod32X => reg!(r, d) = mod32(reg!(r, d), reg!(r, s)),
                K::SMod32X => reg!(r, d) = smod32(reg!(r, d), reg!(r, s)),
                K::Xor32X => reg!(r, d) = (reg!(r, d) as u32 ^ reg!(r, s) as u32) as u64,
                K::Mov32X => reg!(r, d) = reg!(r, s) as u32 as u64,
                K::Arsh32X => reg!(r, d) = ((reg!(r, d) as i32) >> (reg!(r, s) & 31)) as u32 as u64,

                K::Neg64 => reg!(r, d) = reg!(r, d).wrapping_neg(),
                K::Neg32 => reg!(r, d) = (reg!(r, d) as u32).wrapping_neg() as u64,
                K::MovSx64_8 => reg!(r, d) = reg!(r, s) as i8 as i64 as u64,
                K::MovSx64_16 => reg!(r, d) = reg!(r, s) as i16 as i64 as u64,
                K::MovSx64_32 => reg!(r, d) = reg!(r, s) as i32 as i64 as u64,
                K::MovSx32_8 => reg!(r, d) = reg!(r, s) as i8 as i32 as u32 as u64,
                K::MovSx32_16 => reg!(r, d) = reg!(r, s) as i16 as i32 as u32 as u64,

                // The VM is a little-endian BPF machine on any host (memory is read with
                // from_le_bytes), so `le` truncates and `be` swaps, as on x86-64 Linux.
                K::Le16 => reg!(r, d) = reg!(r, d) as u16 as u64,
                K::Le32 => reg!(r, d) = reg!(r, d) as u32 as u64,
                K::Nop => {}
                K::Be16 => reg!(r, d) = (reg!(r, d) as u16).swap_bytes() as u64,
                K::Be32 => reg!(r, d) = (reg!(r, d) as u32).swap_bytes() as u64,
                K::Be64 => reg!(r, d) = reg!(r, d).swap_bytes(),
                K::Swap16 => reg!(r, d) = (reg!(r, d) as u16).swap_bytes() as u64,
                K::Swap32 => reg!(r, d) = (reg!(r, d) as u32).swap_bytes() as u64,
                K::Swap64 => reg!(r, d) = reg!(r, d).swap_bytes(),

                K::Ldx8 => {
                    reg!(r, d) = mem!(m.load::<1>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                }
                K::Ldx16 => {
                    reg!(r, d) = mem!(m.load::<2>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                }
                K::Ldx32 => {
                    reg!(r, d) = mem!(m.load::<4>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                }
                K::Ldx64 => {
                    reg!(r, d) = mem!(m.load::<8>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                }
                K::LdxS8 => {
                    reg!(r, d) = mem!(m.load::<1>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                        as i8 as i64 as u64
                }
                K::LdxS16 => {
                    reg!(r, d) = mem!(m.load::<2>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                        as i16 as i64 as u64
                }
                K::LdxS32 => {
                    reg!(r, d) = mem!(m.load::<4>(reg!(r, s).wrapping_add(op.off as i64 as u64)))
                        as i32 as i64 as u64
                }
                K::St8 => mem!(m.store::<1>(reg!(r, d).wrapping_add(op.off as i64 as u64), op.imm)),
                K::St16 => {
                    mem!(m.store::<2>(reg!(r, d).wrapping_add(op.off as i64 as u64), op.imm))
                }
                K::St32 => {
                    mem!(m.store::<4>(reg!(r, d).wrapping_add(op.off as i64 as u64), op.imm))
                }
                K::St64 => {
                    mem!(m.store::<8>(reg!(r, d).wrapping_add(op.off as i64 as u64), op.imm))
                }
                K::Stx8 => {
                    mem!(m.store::<1>(reg!(r, d).wrapping_add(op.off as i64 as u64), reg!(r, s)))
                }
                K::Stx16 => {
                    mem!(m.store::<2>(reg!(r, d).wrapping_add(op.off as i64 as u64), reg!(r, s)))
                }
                K::Stx32 => {
                    mem!(m.store::<4>(reg!(r, d).wrapping_add(op.off as i64 as u64), reg!(r, s)))
                }
                K::Stx64 => {
                    mem!(m.store::<8>(reg!(r, d).wrapping_add(op.off as i64 as u64), reg!(r, s)))
                }
                K::Atomic32 | K::Atomic64 => {
                    let wide = op.k == K::Atomic64;
                    let addr = reg!(r, d).wrapping_add(op.off as i64 as u64);
                    let old = if wide {
                        mem!(m.load::<8>(addr))
                    } else {
                        mem!(m.load::<4>(addr))
                    };
                    let v = reg!(r, s);
                    let (new, fetch_to): (Option<u64>, Option<usize>) = match op.imm {
                        0x00 => (Some(old.wrapping_add(v)), None),
                        0x40 => (Some(old | v), None),
                        0x50 => (Some(old & v), None),
                        0xa0 => (Some(old ^ v), None),
                        0x01 => (Some(old.wrapping_add(v)), Some(s as usize)),
                        0x41 => (Some(old | v), Some(s as usize)),
                        0x51 => (Some(old & v), Some(s as usize)),
                        0xa1 => (Some(old ^ v), Some(s as usize)),
                        0xe1 => (Some(v), Some(s as usize)),
                        _ => {
                            // cmpxchg: compare with r0 (32-bit: its low half), old value to r0.
                            let eq = if wide {
                                r[0] == old
                            } else {
                                r[0] as u32 == old as u32
                            };
                            (eq.then_some(v), Some(0))
                        }
                    };
                    if let Some(n) = new {
                        if wide {
                            mem!(m.store::<8>(addr, n))
                        } else {
                            mem!(m.store::<4>(addr, n))
                        }
                    }
                    if let Some(t) = fetch_to {
                        reg!(r, t) = old;
                    }
                }
                K::LdAbs8 | K::LdAbs16 | K::LdAbs32 | K::LdInd8 | K::LdInd16 | K::LdInd32 => {
                    let ind = matches!(op.k, K::LdInd8 | K::LdInd16 | K::LdInd32);
                    let size = match op.k {
                        K::LdAbs8 | K::LdInd8 => 1,
                        K::LdAbs16 | K::LdInd16 => 2,
                        _ => 4,
                    };
                    // bpf_skb_load_helper_*: the offset is a 32-bit int; big-endian; a read
                    // outside the packet ends the program with r0 = 0.
                    let off = if ind {
                        reg!(r, s).wrapping_add(op.imm) as i32
                    } else {
                        op.imm as i32
                    };
                    let pkt = if m.prog_type.is_skb() {
                        &m.packet
                    } else {
                        &m.mem
                    };
                    let bytes = usize::try_from(off).ok().and_then(|o| pkt.get(o..o + size));
                    match bytes {
                        Some(b) => r[0] = b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64),
                        None => {
                            r[0] = 0;
                            *last_regs = r;
                            if TRACE {
                                finish(steps, &before, &r);
                            }
                            return Ok(Outcome {
                                r0: 0,
                                insns: count,
                            });
                        }
                    }
                }

                K::Ja => pc = op.off as usize,
                K::Jeq64I => jump(&mut pc, op.off, reg!(r, d) == op.imm),
                K::Jgt64I => jump(&mut pc, op.off, reg!(r, d) > op.imm),
                K::Jge64I => jump(&mut pc, op.off, reg!(r, d) >= op.imm),
                K::Jset64I => jump(&mut pc, op.off, reg!(r, d) & op.imm != 0),
                K::Jne64I => jump(&mut pc, op.off, reg!(r, d) != op.imm),
                K::Jsgt64I => jump(&mut pc, op.off, (reg!(r, d) as i64) > op.imm as i64),
                K::Jsge64I => jump(&mut pc, op.off, (reg!(r, d) as i64) >= op.imm as i64),
                K::Jlt64I => jump(&mut pc, op.off, reg!(r, d) < op.imm),
                K::Jle64I => jump(&mut pc, op.off, reg!(r, d) <= op.imm),
                K::Jslt64I => jump(&mut pc, op.off, (reg!(r, d) as i64) < op.imm as i64),
                K::Jsle64I => jump(&mut pc, op.off, (reg!(r, d) as i64) <= op.imm as i64),
                K::Jeq64X => jump(&mut pc, op.off, reg!(r, d) == reg!(r, s)),
                K::Jgt64X => jump(&mut pc, op.off, reg!(r, d) > reg!(r, s)),
                K::Jge64X => jump(&mut pc, op.off, reg!(r, d) >= reg!(r, s)),
                K::Jset64X => jump(&mut pc, op.off, reg!(r, d) & reg!(r, s) != 0),
                K::Jne64X => jump(&mut pc, op.off, reg!(r, d) != reg!(r, s)),
                K::Jsgt64X => jump(&mut pc, op.off, (reg!(r, d) as i64) > reg!(r, s) as i64),
                K::Jsge64X => jump(&mut pc, op.off, (reg!(r, d) as i64) >= reg!(r, s) as i64),
                K::Jlt64X => jump(&mut pc, op.off, reg!(r, d) < reg!(r, s)),
                K::Jle64X => jump(&mut pc, op.off, reg!(r, d) <= reg!(r, s)),
                K::Jslt64X => jump(&mut pc, op.off, (reg!(r, d) as i64) < reg!(r, s) as i64),
                K::Jsle64X => jump(&mut pc, op.off, (reg!(r, d) as i64) <= reg!(r, s) as i64),
                K::Jeq32I => jump(&mut pc, op.off, reg!(r, d) as u32 == op.imm as u32),
                K::Jgt32I => jump(&mut pc, op.off, reg!(r, d) as u32 > op.imm as u32),
                K::Jge32I => jump(&mut pc, op.off, reg!(r, d) as u32 >= op.imm as u32),
                K::Jset32I => jump(&mut pc, op.off, reg!(r, d) as u32 & op.imm as u32 != 0),
                K::Jne32I => jump(&mut pc, op.off, reg!(r, d) as u32 != op.imm as u32),
                K::Jsgt32I => jump(&mut pc, op.off, reg!(r, d) as i32 > op.imm as i32),
                K::Jsge32I => jump(&mut pc, op.off, reg!(r, d) as i32 >= op.imm as i32),
                K::Jlt32I => jump(&mut pc, op.off, (reg!(r, d) as u32) < op.imm as u32),
                K::Jle32I => jump(&mut pc, op.off, reg!(r, d) as u32 <= op.imm as u32),
                K::Jslt32I => jump(&mut pc, op.off, (reg!(r, d) as i32) < op.imm as i32),
                K::Jsle32I => jump(&mut pc, op.off, reg!(r, d) as i32 <= op.imm as i32),
                K::Jeq32X => jump(&mut pc, op.off, reg!(r, d) as u32 == reg!(r, s) as u32),
                K::Jgt32X => jump(&mut pc, op.off, reg!(r, d) as u32 > reg!(r, s) as u32),
                K::Jge32X => jump(&mut pc, op.off, reg!(r, d) as u32 >= reg!(r, s) as u32),
                K::Jset32X => jump(&mut pc, op.off, reg!(r, d) as u32 & reg!(r, s) as u32 != 0),
                K::Jne32X => jump(&mut pc, op.off, reg!(r, d) as u32 != reg!(r, s) as u32),
                K::Jsgt32X => jump(&mut pc, op.off, reg!(r, d) as i32 > reg!(r, s) as i32),
                K::Jsge32X => jump(&mut pc, op.off, reg!(r, d) as i32 >= reg!(r, s) as i32),
                K::Jlt32X => jump(&mut pc, op.off, (reg!(r, d) as u32) < reg!(r, s) as u32),
                K::Jle32X => jump(&mut pc, op.off, reg!(r, d) as u32 <= reg!(r, s) as u32),
                K::Jslt32X => jump(&mut pc, op.off, (reg!(r, d) as i32) < reg!(r, s) as i32),
                K::Jsle32X => jump(&mut pc, op.off, reg!(r, d) as i32 <= reg!(r, s) as i32),
                K::MayGoto => {
                    if may_goto == 0 {
                        pc = op.off as usize;
                    } else {
                        may_goto -= 1;
                    }
                }

                K::Call => {
                    let id = op.imm as u32;
                    let args = [r[1], r[2], r[3], r[4], r[5]];
                    match helpers.get_mut(id as usize).and_then(|h| h.as_mut()) {
                        Some(h) => match (h.f)(m, args) {
                            Ok(v) => r[0] = v,
                            Err(crate::HelperError::Exit(v)) => {
                                r[0] = v;
                                *last_regs = r;
                                if TRACE {
                                    finish(steps, &before, &r);
                                }
                                return Ok(Outcome {
                                    r0: v,
                                    insns: count,
                                });
                            }
                            Err(e) => {
                                let name = h.name.clone();
                                fail!(helper_error(id, name, e))
                            }
                        },
                        None => fail!(ErrorKind::UnknownHelper {
                            id,
                            name: asm::text::helpers::name(id)
                        }),
                    }
                }
                K::Callx => {
                    let v = reg!(r, d);
                    if v >> 32 == R_CODE as u64 {
                        let p = &programs[cur as usize];
                        match p.index_of_slot.get(v as u32 as usize) {
                            Some(&t) if t != u32::MAX && (t as usize) < p.insns.len() => {
                                local_call!(t as usize)
                            }
                            _ => fail!(ErrorKind::BadCallx { target: v }),
                        }
                    } else if let Ok(id) = u32::try_from(v) {
                        // A plain number is a helper id (the bpf_conformance `callx` test;
                        // Linux itself has no callx outside its JITs).
                        let args = [r[1], r[2], r[3], r[4], r[5]];
                        match helpers.get_mut(id as usize).and_then(|h| h.as_mut()) {
                            Some(h) => match (h.f)(m, args) {
                                Ok(v) => r[0] = v,
                                Err(crate::HelperError::Exit(v)) => {
                                    r[0] = v;
                                    *last_regs = r;
                                    if TRACE {
                                        finish(steps, &before, &r);
                                    }
                                    return Ok(Outcome {
                                        r0: v,
                                        insns: count,
                                    });
                                }
                                Err(e) => {
                                    let name = h.name.clone();
                                    fail!(helper_error(id, name, e))
                                }
                            },
                            None => fail!(ErrorKind::BadCallx { target: v }),
                        }
                    } else {
                        fail!(ErrorKind::BadCallx { target: v })
                    }
                }
                K::CallLocal => local_call!(op.off as usize),
                K::TailCall => {
                    // bpf_tail_call(ctx, prog_array, index): on failure execution continues
                    // after the call with r0 unchanged (the kernel's interpreter and JITs).
                    let target = m
                        .map_by_handle(r[2])
                        .and_then(|(_, map)| map.prog_at(r[3] as u32 as u64))
                        .filter(|&p| (p as usize) < programs.len());
                    if let Some(p) = target {
                        if tail_calls < MAX_TAIL_CALLS {
                            tail_calls += 1;
                            cur = p;
                            ops = ops_of::<TRACE>(&programs[cur as usize]);
                            pc = 0;
                        }
                    } else if m.map_by_handle(r[2]).is_none() {
                        fail!(ErrorKind::Helper {
                            id: 12,
                            name: "bpf_tail_call".into(),
                            message: format!("{:#x} is not a program array", r[2]),
                        })
                    }
                }
                K::Exit => {
                    if depth == 0 {
                        *last_regs = r;
                        if TRACE {
                            finish(steps, &before, &r);
                        }
                        return Ok(Outcome {
                            r0: r[0],
                            insns: count,
                        });
                    }
                    depth -= 1;
                    m.stack_live = R_STACK0 + depth as u32;
                    let f = frames[depth];
                    [r[6], r[7], r[8], r[9], r[10]] = f.saved;
                    may_goto = f.may_goto;
                    if f.prog != cur {
                        cur = f.prog;
                        ops = ops_of::<TRACE>(&programs[cur as usize]);
                    }
                    pc = f.ret as usize;
                }
                K::FellOff => fail!(ErrorKind::FellOffEnd),

                // Fused pairs: the second half runs only if the budget allows it; otherwise
                // execution goes on with the (unfused) second instruction, which then stops.
                K::MovAddI => {
                    reg!(r, d) = reg!(r, s);
                    if count < budget {
                        count += 1;
                        pc += 1;
                        reg!(r, d) = reg!(r, d).wrapping_add(op.imm);
                    }
                }
                K::MovAddX => {
                    reg!(r, d) = reg!(r, s);
                    if count < budget {
                        count += 1;
                        pc += 1;
                        reg!(r, d) = reg!(r, d).wrapping_add(reg!(r, op.imm));
                    }
                }
                K::LdxBe16 => {
                    let v = mem!(m.load::<2>(reg!(r, s).wrapping_add(op.off as i64 as u64)));
                    reg!(r, d) = v;
                    if count < budget {
                        count += 1;
                        pc += 1;
                        reg!(r, d) = (v as u16).swap_bytes() as u64;
                    }
                }
                K::LdxBe32 => {
                    let v = mem!(m.load::<4>(reg!(r, s).wrapping_add(op.off as i64 as u64)));
                    reg!(r, d) = v;
                    if count < budget {
                        count += 1;
                        pc += 1;
                        reg!(r, d) = (v as u32).swap_bytes() as u64;
                    }
                }
                K::AddJltI | K::AddJneI | K::AddJleI | K::AddJgtI => {
                    let v = reg!(r, d).wrapping_add(op.imm as i32 as i64 as u64);
                    reg!(r, d) = v;
                    if count < budget {
                        count += 1;
                        let b = (op.imm >> 32) as i32 as i64 as u64;
                        let taken = match op.k {
                            K::AddJltI => v < b,
                            K::AddJneI => v != b,
                            K::AddJleI => v <= b,
                            _ => v > b,
                        };
                        pc = if taken { op.off as usize } else { pc + 1 };
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn ops_of<const TRACE: bool>(p: &crate::Program) -> &[crate::program::Op] {
    if TRACE {
        &p.plain
    } else {
        &p.ops
    }
}

#[inline(always)]
fn jump(pc: &mut usize, target: i32, cond: bool) {
    if cond {
        *pc = target as usize;
    }
}

#[inline(always)]
fn sdiv32(a: u64, b: u64) -> u64 {
    let b = b as i32;
    if b == 0 {
        0
    } else {
        (a as i32).wrapping_div(b) as u32 as u64
    }
}

/// Modulo by zero leaves dst, truncated to 32 bits (the verifier's `mov32 dst, dst` rewrite).
#[inline(always)]
fn mod32(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    if b == 0 {
        a as u64
    } else {
        (a % b) as u64
    }
}

#[inline(always)]
fn smod32(a: u64, b: u64) -> u64 {
    let b = b as i32;
    if b == 0 {
        a as u32 as u64
    } else {
        (a as i32).wrapping_rem(b) as u32 as u64
    }
}

#[cold]
fn helper_error(id: u32, name: String, e: crate::HelperError) -> ErrorKind {
    let name = if name.is_empty() {
        builtin_name(id)
    } else {
        name
    };
    match e {
        crate::HelperError::Memory(f) => ErrorKind::Helper {
            id,
            name,
            message: f.to_string(),
        },
        crate::HelperError::Other(message) => ErrorKind::Helper { id, name, message },
        crate::HelperError::Exit(v) => ErrorKind::Helper {
            id,
            name,
            message: format!("exit with {v:#x}"),
        },
    }
}

fn finish(steps: &mut [Step], before: &[u64; 16], after: &[u64; 16]) {
    if let Some(last) = steps.last_mut() {
        if last.changed.is_empty() {
            last.changed = (0..11u8)
                .filter(|&i| before[i as usize] != after[i as usize])
                .map(|i| (i, after[i as usize]))
                .collect();
        }
    }
}
