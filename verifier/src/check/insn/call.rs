//! bpf-to-bpf calls, `exit` (`check_func_call`, `prepare_func_exit`) and the return-value
//! check (`check_return_code`).

use crate::check::insn::callback::invalid_scalar;
use crate::check::{fail, Env, Next, Work, MAX_CALL_FRAMES, R};
use crate::state::{Frame, Reg, State, Ty};
use crate::{E2BIG, EACCES, EINVAL};
use asm::types::ProgType;

impl Env<'_> {
    pub(crate) fn ref_leak_lines(&self, st: &State, prefix: &str) -> Vec<String> {
        let mut lines: Vec<String> = st
            .refs
            .iter()
            .map(|r| format!("Unreleased reference id={} alloc_insn={}", r.id, r.insn))
            .collect();
        lines.push(format!("{prefix} would lead to reference leak"));
        lines
    }

    /// `check_func_call`: a new frame for a bpf-to-bpf call.
    pub(crate) fn check_func_call(&mut self, w: &mut Work) -> R<Next> {
        let pc = w.pc;
        let insn = self.prog.insns[pc];
        let target = (pc as i64 + insn.imm + 1) as usize;
        if w.st.frames.len() >= MAX_CALL_FRAMES {
            return fail(
                E2BIG,
                format!(
                    "the call stack of {} frames is too deep",
                    w.st.frames.len() + 1
                ),
            );
        }
        let sub = self.prog.sub_of[target];
        let frameno = w.st.frames.len() as u32;
        let mut callee = Frame::new(pc, sub, frameno);
        for r in 1..=5 {
            callee.regs[r] = w.st.cur().regs[r];
        }
        for r in 0..=5 {
            w.st.cur_mut().regs[r] = Reg::NOT_INIT;
        }
        w.st.frames.push(callee);
        Ok(Next::Go(target))
    }

    /// `prepare_func_exit`: back to the caller with r0.
    pub(crate) fn func_exit(&mut self, w: &mut Work) -> R<Next> {
        let r0 = w.st.cur().regs[0];
        if r0.ty == Ty::Stack && r0.aux as usize == w.st.frames.len() - 1 {
            return fail(EINVAL, "cannot return stack pointer to the caller frame");
        }
        let callee = w.st.frames.pop().expect("callee frame");
        w.st.cur_mut().regs[0] = r0;
        Ok(Next::Go(callee.callsite + 1))
    }

    /// `check_return_code`: r0's range at exit for the program type.
    pub(crate) fn check_return_code(&self, st: &State) -> R<()> {
        let r0 = self.check_reg_read(st, 0)?;
        if !self.prog.opts.privileged && r0.is_ptr() {
            return fail(EACCES, "R0 leaks addr as return value");
        }
        if let Some(cb) = st.cur().callback.filter(|c| c.is_async) {
            // An asynchronous callback's own exit: it must return 0.
            let (lo, hi) = cb.ret;
            if r0.ty != Ty::Scalar {
                return fail(
                    EINVAL,
                    format!(
                        "At async callback return the register R0 is not a known value ({})",
                        r0.type_name()
                    ),
                );
            }
            if !(lo <= r0.s.smin && r0.s.smax <= hi) {
                return fail(
                    EINVAL,
                    invalid_scalar("At async callback return", &r0, lo, hi),
                );
            }
            return Ok(());
        }
        use ProgType::*;
        let eat = self.prog.opts.expected_attach_type;
        let range: Option<(i64, i64)> = match self.prog.opts.prog_type {
            CgroupSockAddr => match eat {
                Some(19 | 20 | 51 | 29 | 30 | 31 | 32 | 52 | 53) => Some((1, 1)),
                Some(8 | 9) => Some((0, 3)),
                _ => Some((0, 1)),
            },
            CgroupSkb => {
                if eat == Some(1) {
                    Some((0, 3))
                } else {
                    Some((0, 1))
                }
            }
            CgroupSock | SockOps | CgroupDevice | CgroupSysctl | CgroupSockopt => Some((0, 1)),
            SkLookup => Some((0, 1)),
            Netfilter => Some((0, 1)),
            _ => None,
        };
        let Some((lo, hi)) = range else {
            return Ok(());
        };
        if r0.ty != Ty::Scalar {
            return fail(
                EINVAL,
                format!(
                    "At program exit the register R0 is not a known value ({})",
                    r0.type_name()
                ),
            );
        }
        if !(lo <= r0.s.smin && r0.s.smax <= hi) {
            return fail(EINVAL, invalid_scalar("At program exit", &r0, lo, hi));
        }
        Ok(())
    }
}
