//! The dispatch loop. One `match` on the op tag per instruction; registers live in a local
//! array indexed with `& 15` (no bounds check); memory goes through [`Machine::load`] /
//! [`Machine::store`] (a shift, a match, a checked slice access).

use crate::error::{ErrorKind, VmError};
use crate::helpers::{builtin_name, Helper, HelperImpl};
use crate::machine::Machine;
use crate::mem::{MAX_FRAMES, R_CODE, R_STACK0, STACK_SIZE};
use crate::program::{Program, K};
use crate::{Outcome, Step, Vm};
use asm::isa::AtomicOp;

mod callcx;
pub(crate) use callcx::{CallCx, CbError};

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
        $r[$i as u8 as usize]
    };
}

/// Interpreter state that survives the switch from block-wise to step-wise budgeting.
struct State {
    r: [u64; 16],
    pc: usize,
    cur: u32,
    /// Budget left: `budget - executed` (charged per block in fast mode).
    left: u64,
    frames: [Frame; MAX_FRAMES],
    depth: usize,
    /// Depth of the frame whose `exit` ends this loop: 0 for a run, deeper for a callback
    /// a helper called ([`CallCx::call`]).
    base: usize,
    may_goto: u64,
    tail_calls: u32,
}

impl Vm {
    /// Runs program `prog` with `r` as the initial registers.
    ///
    /// Untraced runs go block by block on the fused ops, charging the budget when a block is
    /// entered; when a block would overrun it, the run goes on one unfused instruction at a
    /// time, so it stops at exactly the same instruction a step-by-step run would.
    pub(crate) fn exec<const TRACE: bool>(
        &mut self,
        prog: u32,
        pc: usize,
        mut r: [u64; 16],
        steps: &mut Vec<Step>,
    ) -> Result<Outcome, VmError> {
        r[10] = stack_top(0);
        self.machine.stack_live = R_STACK0;
        self.machine.running_prog = prog;
        self.machine.held_lock = None;
        let mut st = State {
            r,
            pc,
            cur: prog,
            left: self.budget,
            frames: [Frame::default(); MAX_FRAMES],
            depth: 0,
            base: 0,
            may_goto: MAY_GOTO_BUDGET,
            tail_calls: 0,
        };
        if TRACE {
            return self.run_loop_here::<false, true>(&mut st, steps).map(|o| {
                o.unwrap_or(Outcome {
                    r0: st.r[0],
                    insns: 0,
                })
            });
        }
        let fast = match self.programs.get(prog as usize) {
            Some(p) => p.blockwise,
            None => false,
        };
        match if fast {
            self.run_loop_here::<true, false>(&mut st, steps)?
        } else {
            None
        } {
            Some(out) => Ok(out),
            None => self.run_loop_here::<false, false>(&mut st, steps).map(|o| {
                o.unwrap_or(Outcome {
                    r0: st.r[0],
                    insns: 0,
                })
            }),
        }
    }

    fn run_loop_here<const FAST: bool, const TRACE: bool>(
        &mut self,
        st: &mut State,
        steps: &mut Vec<Step>,
    ) -> Result<Option<Outcome>, VmError> {
        run_loop::<FAST, TRACE>(
            &self.programs,
            &mut self.helpers,
            &mut self.machine,
            self.budget,
            &mut self.last_regs,
            st,
            steps,
        )
    }
}

/// The dispatch loop. `FAST`: fused ops, budget charged per block; returns `Ok(None)`
/// (with `st` updated) at a block that would overrun the budget. Otherwise: one
/// instruction at a time, recording steps if `TRACE`; never returns `Ok(None)`.
#[inline(never)]
fn run_loop<const FAST: bool, const TRACE: bool>(
    programs: &[Program],
    helpers: &mut [Option<Helper>],
    m: &mut Machine,
    budget: u64,
    last_regs: &mut [u64; 16],
    st: &mut State,
    steps: &mut Vec<Step>,
) -> Result<Option<Outcome>, VmError> {
    {
        // 256 registers, so that any `u8` register number indexes without a check or mask;
        // the decoder only produces 0..=10.
        let mut r = [0u64; 256];
        r[..16].copy_from_slice(&st.r);
        let mut cur = st.cur;
        let mut pc = st.pc;
        let mut left = st.left;
        let mut depth = st.depth;
        let base = st.base;
        let mut may_goto = st.may_goto;
        let mut tail_calls = st.tail_calls;
        let frames = &mut st.frames;
        let mut ops = ops_of::<FAST>(&programs[cur as usize]);
        let mut rem: &[u32] = &programs[cur as usize].rem;
        let mut before = regs16(&r);

        macro_rules! fail {
            ($kind:expr) => {{
                *last_regs = regs16(&r);
                let slot = programs[cur as usize].slot(pc.saturating_sub(1));
                if TRACE {
                    finish(steps, &before, &regs16(&r));
                }
                return Err(VmError {
                    pc: slot,
                    kind: $kind,
                });
            }};
        }
        // Instructions executed up to and including the current one: in fast mode the
        // budget was charged up to the end of the block, which did not all run.
        macro_rules! executed {
            () => {
                if FAST {
                    budget - left - (rem.get(pc.wrapping_sub(1)).copied().unwrap_or(1) as u64 - 1)
                } else {
                    budget - left
                }
            };
        }
        macro_rules! finish_ok {
            ($r0:expr) => {{
                let r0 = $r0;
                *last_regs = regs16(&r);
                if TRACE {
                    finish(steps, &before, &regs16(&r));
                }
                return Ok(Some(Outcome {
                    r0,
                    insns: executed!(),
                }));
            }};
        }
        // Entering the block at `pc`: charge it, or hand over to step mode if it would
        // overrun the budget.
        macro_rules! enter {
            () => {
                if FAST {
                    let n = rem[pc] as u64;
                    if n > left {
                        st.r = regs16(&r);
                        st.pc = pc;
                        st.cur = cur;
                        st.left = left;
                        st.depth = depth;
                        st.may_goto = may_goto;
                        st.tail_calls = tail_calls;
                        return Ok(None);
                    }
                    left -= n;
                }
            };
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
                enter!();
            }};
        }
        // A helper that calls back into the program (`HelperImpl::Interp`). In fast mode
        // `refund` instructions of the current block were charged but not run: the
        // callbacks run step by step on the exact budget, then `enter!` charges the rest
        // of the block again (or hands over to step mode).
        macro_rules! interp_call {
            ($id:expr, $f:expr, $args:expr, $refund:expr) => {{
                if FAST {
                    left += $refund;
                }
                let call_step = steps.len().wrapping_sub(1);
                let mut cx = CallCx {
                    programs,
                    helpers: &mut *helpers,
                    m: &mut *m,
                    budget,
                    last_regs: &mut *last_regs,
                    steps: &mut *steps,
                    trace: TRACE,
                    prog: cur,
                    depth,
                    left,
                    pc: programs[cur as usize].slot(pc - 1),
                };
                let res = $f(&mut cx, $args);
                left = cx.left;
                match res {
                    Ok(v) => r[0] = v,
                    Err(CbError::Run(e)) => return Err(e),
                    Err(CbError::Helper(e)) => {
                        let name = helpers[$id as usize]
                            .as_ref()
                            .map(|h| h.name.clone())
                            .unwrap_or_default();
                        fail!(helper_error($id, name, e))
                    }
                }
                if TRACE {
                    // The callbacks' steps follow the call's: record its change of r0
                    // there, and start the next comparison afresh.
                    let after = regs16(&r);
                    if let Some(s) = steps.get_mut(call_step) {
                        s.changed = changed(&before, &after);
                    }
                    before = after;
                }
                enter!();
            }};
        }
        // A jump: in fast mode the op carries the lengths of both successor blocks.
        macro_rules! jump {
            ($op:ident, $cond:expr) => {{
                if FAST {
                    let n = if $cond {
                        pc = $op.off as usize;
                        ($op.imm >> 32) as u16
                    } else {
                        // A branch the CPU predicts, not a conditional move: with `cmov`
                        // the next op's address would wait for the comparison.
                        not_a_cmov();
                        ($op.imm >> 48) as u16
                    } as u64;
                    if n > left {
                        st.r = regs16(&r);
                        st.pc = pc;
                        st.cur = cur;
                        st.left = left;
                        st.depth = depth;
                        st.may_goto = may_goto;
                        st.tail_calls = tail_calls;
                        return Ok(None);
                    }
                    left -= n;
                } else if $cond {
                    pc = $op.off as usize;
                }
            }};
        }

        enter!();
        loop {
            let op = ops[pc];
            pc += 1;
            if !FAST {
                if left == 0 {
                    fail!(ErrorKind::Budget { limit: budget });
                }
                left -= 1;
            }
            if TRACE {
                finish(steps, &before, &regs16(&r));
                before = regs16(&r);
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
                    // The operation is the table's `imm` selector (`AtomicOp::imm`).
                    const ADD: u64 = AtomicOp::Add.imm() as u64;
                    const OR: u64 = AtomicOp::Or.imm() as u64;
                    const AND: u64 = AtomicOp::And.imm() as u64;
                    const XOR: u64 = AtomicOp::Xor.imm() as u64;
                    const FETCH_ADD: u64 = AtomicOp::FetchAdd.imm() as u64;
                    const FETCH_OR: u64 = AtomicOp::FetchOr.imm() as u64;
                    const FETCH_AND: u64 = AtomicOp::FetchAnd.imm() as u64;
                    const FETCH_XOR: u64 = AtomicOp::FetchXor.imm() as u64;
                    const XCHG: u64 = AtomicOp::Xchg.imm() as u64;
                    let (new, fetch_to): (Option<u64>, Option<usize>) = match op.imm {
                        ADD => (Some(old.wrapping_add(v)), None),
                        OR => (Some(old | v), None),
                        AND => (Some(old & v), None),
                        XOR => (Some(old ^ v), None),
                        FETCH_ADD => (Some(old.wrapping_add(v)), Some(s as usize)),
                        FETCH_OR => (Some(old | v), Some(s as usize)),
                        FETCH_AND => (Some(old & v), Some(s as usize)),
                        FETCH_XOR => (Some(old ^ v), Some(s as usize)),
                        XCHG => (Some(v), Some(s as usize)),
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
                    let pkt = if crate::ctx::is_skb(m.prog_type) {
                        &m.packet
                    } else {
                        &m.mem
                    };
                    let bytes = usize::try_from(off).ok().and_then(|o| pkt.get(o..o + size));
                    match bytes {
                        Some(b) => r[0] = b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64),
                        None => {
                            r[0] = 0;
                            finish_ok!(0)
                        }
                    }
                }

                K::Ja => jump!(op, true),
                K::Jeq64I => jump!(op, reg!(r, d) == sx32(op.imm)),
                K::Jgt64I => jump!(op, reg!(r, d) > sx32(op.imm)),
                K::Jge64I => jump!(op, reg!(r, d) >= sx32(op.imm)),
                K::Jset64I => jump!(op, reg!(r, d) & sx32(op.imm) != 0),
                K::Jne64I => jump!(op, reg!(r, d) != sx32(op.imm)),
                K::Jsgt64I => jump!(op, (reg!(r, d) as i64) > sx32(op.imm) as i64),
                K::Jsge64I => jump!(op, (reg!(r, d) as i64) >= sx32(op.imm) as i64),
                K::Jlt64I => jump!(op, reg!(r, d) < sx32(op.imm)),
                K::Jle64I => jump!(op, reg!(r, d) <= sx32(op.imm)),
                K::Jslt64I => jump!(op, (reg!(r, d) as i64) < sx32(op.imm) as i64),
                K::Jsle64I => jump!(op, (reg!(r, d) as i64) <= sx32(op.imm) as i64),
                K::Jeq64X => jump!(op, reg!(r, d) == reg!(r, s)),
                K::Jgt64X => jump!(op, reg!(r, d) > reg!(r, s)),
                K::Jge64X => jump!(op, reg!(r, d) >= reg!(r, s)),
                K::Jset64X => jump!(op, reg!(r, d) & reg!(r, s) != 0),
                K::Jne64X => jump!(op, reg!(r, d) != reg!(r, s)),
                K::Jsgt64X => jump!(op, (reg!(r, d) as i64) > reg!(r, s) as i64),
                K::Jsge64X => jump!(op, (reg!(r, d) as i64) >= reg!(r, s) as i64),
                K::Jlt64X => jump!(op, reg!(r, d) < reg!(r, s)),
                K::Jle64X => jump!(op, reg!(r, d) <= reg!(r, s)),
                K::Jslt64X => jump!(op, (reg!(r, d) as i64) < reg!(r, s) as i64),
                K::Jsle64X => jump!(op, (reg!(r, d) as i64) <= reg!(r, s) as i64),
                K::Jeq32I => jump!(op, reg!(r, d) as u32 == op.imm as u32),
                K::Jgt32I => jump!(op, reg!(r, d) as u32 > op.imm as u32),
                K::Jge32I => jump!(op, reg!(r, d) as u32 >= op.imm as u32),
                K::Jset32I => jump!(op, reg!(r, d) as u32 & op.imm as u32 != 0),
                K::Jne32I => jump!(op, reg!(r, d) as u32 != op.imm as u32),
                K::Jsgt32I => jump!(op, reg!(r, d) as i32 > op.imm as i32),
                K::Jsge32I => jump!(op, reg!(r, d) as i32 >= op.imm as i32),
                K::Jlt32I => jump!(op, (reg!(r, d) as u32) < op.imm as u32),
                K::Jle32I => jump!(op, reg!(r, d) as u32 <= op.imm as u32),
                K::Jslt32I => jump!(op, (reg!(r, d) as i32) < op.imm as i32),
                K::Jsle32I => jump!(op, reg!(r, d) as i32 <= op.imm as i32),
                K::Jeq32X => jump!(op, reg!(r, d) as u32 == reg!(r, s) as u32),
                K::Jgt32X => jump!(op, reg!(r, d) as u32 > reg!(r, s) as u32),
                K::Jge32X => jump!(op, reg!(r, d) as u32 >= reg!(r, s) as u32),
                K::Jset32X => jump!(op, reg!(r, d) as u32 & reg!(r, s) as u32 != 0),
                K::Jne32X => jump!(op, reg!(r, d) as u32 != reg!(r, s) as u32),
                K::Jsgt32X => jump!(op, reg!(r, d) as i32 > reg!(r, s) as i32),
                K::Jsge32X => jump!(op, reg!(r, d) as i32 >= reg!(r, s) as i32),
                K::Jlt32X => jump!(op, (reg!(r, d) as u32) < reg!(r, s) as u32),
                K::Jle32X => jump!(op, reg!(r, d) as u32 <= reg!(r, s) as u32),
                K::Jslt32X => jump!(op, (reg!(r, d) as i32) < reg!(r, s) as i32),
                K::Jsle32X => jump!(op, reg!(r, d) as i32 <= reg!(r, s) as i32),
                K::MayGoto => {
                    let exhausted = may_goto == 0;
                    if !exhausted {
                        may_goto -= 1;
                    }
                    jump!(op, exhausted)
                }

                K::Call => {
                    let id = op.imm as u32;
                    let args = [r[1], r[2], r[3], r[4], r[5]];
                    match helpers.get_mut(id as usize).and_then(|h| h.as_mut()) {
                        Some(Helper {
                            f: HelperImpl::Plain(f),
                            name,
                        }) => match f(m, args) {
                            Ok(v) => r[0] = v,
                            Err(crate::HelperError::Exit(v)) => {
                                r[0] = v;
                                finish_ok!(v)
                            }
                            Err(e) => {
                                let name = name.clone();
                                fail!(helper_error(id, name, e))
                            }
                        },
                        // The rest of the block was charged: give it back while the
                        // callbacks run step by step, charge it again after.
                        Some(Helper {
                            f: HelperImpl::Interp(f),
                            ..
                        }) => {
                            let f = *f;
                            interp_call!(id, f, args, rem[pc] as u64)
                        }
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
                            Some(Helper {
                                f: HelperImpl::Plain(f),
                                name,
                            }) => match f(m, args) {
                                Ok(v) => r[0] = v,
                                Err(crate::HelperError::Exit(v)) => {
                                    r[0] = v;
                                    finish_ok!(v)
                                }
                                Err(e) => {
                                    let name = name.clone();
                                    fail!(helper_error(id, name, e))
                                }
                            },
                            // callx ends its block: nothing to give back.
                            Some(Helper {
                                f: HelperImpl::Interp(f),
                                ..
                            }) => {
                                let f = *f;
                                interp_call!(id, f, args, 0)
                            }
                            None => fail!(ErrorKind::BadCallx { target: v }),
                        }
                        enter!();
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
                            m.running_prog = cur;
                            ops = ops_of::<FAST>(&programs[cur as usize]);
                            rem = &programs[cur as usize].rem;
                            pc = 0;
                        }
                    } else if m.map_by_handle(r[2]).is_none() {
                        fail!(ErrorKind::Helper {
                            id: 12,
                            name: "bpf_tail_call".into(),
                            message: format!("{:#x} is not a program array", r[2]),
                        })
                    }
                    enter!();
                }
                K::Exit => {
                    if depth == base {
                        finish_ok!(r[0])
                    }
                    depth -= 1;
                    m.stack_live = R_STACK0 + depth as u32;
                    let f = frames[depth];
                    [r[6], r[7], r[8], r[9], r[10]] = f.saved;
                    may_goto = f.may_goto;
                    if f.prog != cur {
                        cur = f.prog;
                        m.running_prog = cur;
                        ops = ops_of::<FAST>(&programs[cur as usize]);
                        rem = &programs[cur as usize].rem;
                    }
                    pc = f.ret as usize;
                    enter!();
                }
                K::FellOff => fail!(ErrorKind::FellOffEnd),
                K::Trap => {
                    let insn = programs[cur as usize].insns[pc - 1];
                    let kind =
                        insn.check()
                            .err()
                            .unwrap_or(asm::insn::DecodeErrorKind::UnknownOpcode {
                                code: insn.code,
                                detail: "invalid encoding",
                            });
                    fail!(ErrorKind::InvalidInsn { kind })
                }

                // Fused pairs (fast mode only, where the whole block was charged): both
                // halves run and the unfused second instruction is skipped.
                K::MovAddI => {
                    reg!(r, d) = reg!(r, s).wrapping_add(op.imm);
                    pc += 1;
                }
                K::MovAddX => {
                    reg!(r, d) = reg!(r, s).wrapping_add(reg!(r, op.imm));
                    pc += 1;
                }
                K::LdxBe16 => {
                    let v = mem!(m.load::<2>(reg!(r, s).wrapping_add(op.off as i64 as u64)));
                    reg!(r, d) = (v as u16).swap_bytes() as u64;
                    pc += 1;
                }
                K::LdxBe32 => {
                    let v = mem!(m.load::<4>(reg!(r, s).wrapping_add(op.off as i64 as u64)));
                    reg!(r, d) = (v as u32).swap_bytes() as u64;
                    pc += 1;
                }
                K::AddJltI | K::AddJneI | K::AddJleI | K::AddJgtI => {
                    let v = reg!(r, d).wrapping_add(s as i8 as i64 as u64);
                    reg!(r, d) = v;
                    let b = sx32(op.imm);
                    let taken = match op.k {
                        K::AddJltI => v < b,
                        K::AddJneI => v != b,
                        K::AddJleI => v <= b,
                        _ => v > b,
                    };
                    pc += 1;
                    jump!(op, taken)
                }
            }
        }
    }
}

#[inline(always)]
fn ops_of<const FAST: bool>(p: &crate::Program) -> &[crate::program::Op] {
    if FAST {
        &p.ops
    } else {
        &p.plain
    }
}

/// The sign-extended low half of a jump's immediate (the high half may hold block lengths).
/// Marks a path as unlikely, which keeps LLVM from turning the branch into a conditional
/// move (the branch weights make it keep a predicted branch).
#[cold]
#[inline(always)]
fn not_a_cmov() {}

#[inline(always)]
fn regs16(r: &[u64; 256]) -> [u64; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&r[..16]);
    out
}

#[inline(always)]
fn sx32(imm: u64) -> u64 {
    imm as i32 as i64 as u64
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

fn changed(before: &[u64; 16], after: &[u64; 16]) -> Vec<(u8, u64)> {
    (0..11u8)
        .filter(|&i| before[i as usize] != after[i as usize])
        .map(|i| (i, after[i as usize]))
        .collect()
}

fn finish(steps: &mut [Step], before: &[u64; 16], after: &[u64; 16]) {
    if let Some(last) = steps.last_mut() {
        if last.changed.is_empty() {
            last.changed = changed(before, after);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Vm;
    use asm::text::{assemble, Dialect};

    /// Block-wise budgeting must be invisible: for every budget, a plain run ends like a
    /// traced (step-by-step) run, with the same instruction count, r0 or error, even when
    /// the program leaves in mid-block (a helper's exit, a failed `ldabs`), calls and returns
    /// across blocks, or runs fused pairs.
    #[test]
    fn block_budget_matches_stepping_for_every_budget() {
        let progs = [
            // Loops, fused pairs (mov+add, ldxh+be16, add+jlt), a local call.
            "mov %r2, %r1\nadd %r2, 1\nldxh %r0, [%r2]\nbe16 %r0\nmov %r3, 0\nloop:\n\
             add %r3, 1\ncall local f\njlt %r3, 3, loop\nexit\nf:\nmov %r4, %r3\n\
             add %r4, %r3\nadd %r0, %r4\nexit",
            // The ubpf `unwind` helper ends the run in mid-block when r1 is 0.
            "mov %r6, 3\nmov %r0, 7\nloop:\nsub %r6, 1\nmov %r1, %r6\ncall 5\n\
             add %r0, 1\nadd %r0, 2\njne %r6, 0, loop\nexit",
            // ldabs past the end of memory returns 0 in mid-block.
            "mov %r0, 1\nmov %r6, %r1\nldabsb 1\nldabsb 9\nadd %r0, 5\nexit",
            // bpf_loop in mid-block: the callbacks run step by step on the budget the
            // block gives back, then the rest of the block is charged again.
            "lddw func %r2, 7\nmov %r1, 3\nmov %r3, 0\nmov %r4, 0\ncall 181\nadd %r0, 1\nexit\n\
             mov %r0, %r1\nadd %r0, 2\nmov %r0, 0\nexit",
            // may_goto and a jump back into the middle of a straight run.
            "mov %r0, 0\nmov %r1, 0\nja mid\ntop:\nadd %r0, 3\nmid:\nadd %r0, 1\nadd %r1, 1\n\
             may_goto +1\nadd %r0, 7\njlt %r1, 4, top\nexit",
        ];
        for src in progs {
            let a = assemble(src, Dialect::Ubpf).unwrap_or_else(|e| panic!("{src}: {e:?}"));
            let setup = |budget: u64| {
                let mut m = Vm::new();
                crate::helpers::register_ubpf_test_helpers(&mut m);
                m.set_mem(vec![0, 0x12, 0x34]);
                m.set_budget(budget);
                let id = m.load_insns(&a.insns, None).unwrap();
                (m, id)
            };
            let (mut m, id) = setup(u64::MAX);
            let full = m.run(id).unwrap_or_else(|e| panic!("{src}: {e}"));
            let (traced, steps) = m.run_traced(id);
            assert_eq!(Ok(full), traced, "{src}");
            assert_eq!(steps.len() as u64, full.insns, "{src}");
            for budget in 0..=full.insns + 1 {
                let (mut m, id) = setup(budget);
                let plain = m.run(id);
                let plain_regs = m.last_regs;
                let (traced, steps) = m.run_traced(id);
                assert_eq!(plain, traced, "{src}: budget {budget}");
                assert_eq!(plain_regs, m.last_regs, "{src}: budget {budget}");
                assert_eq!(
                    plain.is_ok(),
                    budget >= full.insns,
                    "{src}: budget {budget}"
                );
                assert_eq!(steps.len() as u64, budget.min(full.insns), "{src}");
            }
        }
    }

    /// A block too long for a jump's 16-bit length field makes the program run step by
    /// step, with the same results.
    #[test]
    fn programs_with_huge_blocks_run_step_by_step() {
        let mut src = String::from("mov %r0, 0\nja +0\n");
        src.push_str(&"add %r0, 1\n".repeat(70_000));
        src.push_str("exit");
        let a = assemble(&src, Dialect::Ubpf).unwrap();
        let mut m = Vm::new();
        let id = m.load_insns(&a.insns, None).unwrap();
        assert!(!m.programs[id.0 as usize].blockwise);
        let out = m.run(id).unwrap();
        assert_eq!((out.r0, out.insns), (70_000, 70_003));
        m.set_budget(50_000);
        assert_eq!(m.run(id), m.run_traced(id).0);
        // Short blocks keep the fast path.
        let a = assemble(
            "mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 9, loop\nexit",
            Dialect::Ubpf,
        )
        .unwrap();
        let id = m.load_insns(&a.insns, None).unwrap();
        assert!(m.programs[id.0 as usize].blockwise);
    }
}
