//! Helpers that call back into the program: [`CallCx`], what such a helper sees, runs a
//! function of the running program as a new frame on the run's budget.

use super::{run_loop, stack_top, Frame, State, MAY_GOTO_BUDGET};
use crate::error::{ErrorKind, HelperError, MemFault, VmError};
use crate::helpers::Helper;
use crate::machine::Machine;
use crate::mem::{MAX_FRAMES, R_CODE, R_STACK0};
use crate::program::Program;
use crate::Step;

/// What a helper that calls back into the program sees ([`HelperImpl::Interp`]): the
/// machine, and [`CallCx::call`] to run a function of the running program as a new frame
/// above the caller's, sharing the run's instruction budget and call depth limit.
pub(crate) struct CallCx<'a> {
    pub(super) programs: &'a [Program],
    pub(super) helpers: &'a mut [Option<Helper>],
    /// The machine (memory, maps, environment).
    pub m: &'a mut Machine,
    pub(super) budget: u64,
    pub(super) last_regs: &'a mut [u64; 16],
    pub(super) steps: &'a mut Vec<Step>,
    pub(super) trace: bool,
    /// The running program (function addresses are its slots).
    pub(super) prog: u32,
    /// Depth of the frame that called the helper.
    pub(super) depth: usize,
    /// Budget left.
    pub(super) left: u64,
    /// Slot of the helper call, for errors.
    pub(super) pc: usize,
}

/// Why a callback helper stopped: its own failure, or the callback's run error (which
/// names the callback's instruction).
#[derive(Debug)]
pub(crate) enum CbError {
    Helper(HelperError),
    Run(VmError),
}

impl From<HelperError> for CbError {
    fn from(e: HelperError) -> CbError {
        CbError::Helper(e)
    }
}

impl From<MemFault> for CbError {
    fn from(e: MemFault) -> CbError {
        CbError::Helper(e.into())
    }
}

impl CallCx<'_> {
    /// Calls the function at `func` (a `BPF_PSEUDO_FUNC` address of the running program)
    /// with r1–r5 = `args`; returns its r0. Runs step by step (the budget stays exact).
    pub(crate) fn call(&mut self, func: u64, args: [u64; 5]) -> Result<u64, CbError> {
        let p = &self.programs[self.prog as usize];
        let target = (func >> 32 == R_CODE as u64)
            .then(|| p.index_of_slot.get(func as u32 as usize).copied())
            .flatten()
            .filter(|&t| t != u32::MAX && (t as usize) < p.insns.len())
            .ok_or_else(|| {
                HelperError::Other(format!(
                    "callback {func:#x} is not a function of the program (pass a function \
                     address: lddw with src = 4)"
                ))
            })?;
        let d = self.depth + 1;
        if d >= MAX_FRAMES {
            return Err(CbError::Run(VmError {
                pc: self.pc,
                kind: ErrorKind::CallDepth { limit: MAX_FRAMES },
            }));
        }
        let mut r = [0u64; 16];
        r[1..6].copy_from_slice(&args);
        r[10] = stack_top(d);
        let live = self.m.stack_live;
        self.m.stack_live = R_STACK0 + d as u32;
        self.m.stack_dirty = self.m.stack_dirty.max(self.m.stack_live);
        let mut st = State {
            r,
            pc: target as usize,
            cur: self.prog,
            left: self.left,
            frames: [Frame::default(); MAX_FRAMES],
            depth: d,
            base: d,
            may_goto: MAY_GOTO_BUDGET,
            tail_calls: 0,
        };
        let res = if self.trace {
            run_loop::<false, true>(
                self.programs,
                self.helpers,
                self.m,
                self.budget,
                self.last_regs,
                &mut st,
                self.steps,
            )
        } else {
            run_loop::<false, false>(
                self.programs,
                self.helpers,
                self.m,
                self.budget,
                self.last_regs,
                &mut st,
                self.steps,
            )
        };
        self.m.stack_live = live;
        match res {
            Ok(Some(out)) => {
                self.left = self.budget - out.insns;
                Ok(out.r0)
            }
            // Step-wise loops always finish.
            Ok(None) => Ok(st.r[0]),
            Err(e) => Err(CbError::Run(e)),
        }
    }

    /// Runs `f` with `bytes` copied to read-only helper data (a key, a `vm_area_struct`),
    /// passing its address; the copy is gone afterwards.
    pub(crate) fn with_helper_data<R>(
        &mut self,
        bytes: &[u8],
        f: impl FnOnce(&mut Self, u64) -> R,
    ) -> R {
        let (addr, mark) = self.m.push_helper_data(bytes);
        let out = f(self, addr);
        self.m.pop_helper_data(mark);
        out
    }
}
