//! `lddw` after resolution and the legacy packet loads `ld_abs`/`ld_ind` (`check_ld_abs`).

use crate::check::insn::mem::check_ptr_off_reg;
use crate::check::{fail, opcode, unsupported, Env, Fail, Work, R};
use crate::state::{Reg, State, Ty};
use crate::{RejectKind, EINVAL};
use asm::isa::{Form, PacketMode, Pseudo};
use asm::types::ProgType;
use asm::Insn;

impl Env<'_> {
    /// `check_ld_imm`: the register `lddw` produces (scalar, map pointer, map value, function).
    pub(crate) fn check_ld_imm(&mut self, st: &mut State, pc: usize) -> R<()> {
        let insn = self.prog.insns[pc];
        if insn.off != 0 {
            return fail(EINVAL, "BPF_LD_IMM64 uses reserved fields");
        }
        self.check_reg_write(insn.dst)?;
        let imm = self.lddw_imm(pc);
        let v = match insn.src {
            0 => Reg::known(imm as u64),
            1 | 5 => {
                let mut r = Reg::ptr(Ty::MapPtr);
                r.aux = imm as u32;
                r
            }
            2 | 6 => {
                let mut r = Reg::ptr(Ty::MapValue);
                r.aux = imm as u32;
                r.off = (imm >> 32) as u32 as i32;
                r
            }
            // BPF_PSEUDO_FUNC: a callback, as check_ld_imm() types it.
            src if matches!(Pseudo::from_src(src), Some(Pseudo::Func)) => {
                let target = (pc as i64 + insn.imm + 1) as usize;
                if !self.prog.opts.btf_func_info {
                    return fail(EINVAL, "missing btf func_info");
                }
                if self.prog.opts.global_funcs.contains(&target) {
                    return fail(EINVAL, "callback function not static");
                }
                let mut r = Reg::ptr(Ty::Func);
                r.aux = self.prog.sub_of[target] as u32;
                r
            }
            _ => return unsupported("this lddw source is not modelled"),
        };
        self.set(st, insn.dst, v);
        Ok(())
    }

    /// `check_ld_abs`: legacy packet loads.
    pub(crate) fn check_ld_abs(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        self.check_ld_abs_regs(st, insn)
    }

    /// LD_ABS/IND in a subprogram may end the program at run time; the kernel models that
    /// as the subprogram returning 0 to its caller, explored first.
    pub(crate) fn ld_abs_in_subprog(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<()> {
        let pc = w.pc;
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        stack.push(Work {
            st: w.st.clone(),
            pc: pc + 1,
            parent: w.parent,
            path: w.path.clone(),
        });
        let callee = w.st.frames.pop().expect("callee frame");
        w.st.cur_mut().regs[0] = Reg::known(0);
        w.pc = callee.callsite + 1;
        Ok(())
    }

    pub(crate) fn check_ld_abs_regs(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        use ProgType::*;
        if !matches!(self.prog.opts.prog_type, SocketFilter | SchedCls | SchedAct) {
            return fail(
                EINVAL,
                "BPF_LD_[ABS|IND] instructions not allowed for this program type",
            );
        }
        let mode = match opcode::mode_form(insn.code) {
            Some(Form::LoadPacket { mode, .. }) => Some(mode),
            _ => None,
        };
        if insn.dst != 0
            || insn.off != 0
            || opcode::size_bytes(insn.code) == 8
            || (mode == Some(PacketMode::Abs) && insn.src != 0)
        {
            return fail(EINVAL, "BPF_LD_[ABS|IND] uses reserved fields");
        }
        let ctx = self.check_reg_read(st, 6)?;
        if st.lock.is_some() {
            return fail(
                EINVAL,
                "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region",
            );
        }
        if !st.refs.is_empty() {
            let lines = self.ref_leak_lines(st, "BPF_LD_[ABS|IND]");
            return Err(Fail {
                lines,
                errno: EINVAL,
                kind: RejectKind::Kernel,
            });
        }
        if ctx.ty != Ty::Ctx {
            return fail(EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        }
        if mode == Some(PacketMode::Ind) {
            self.check_reg_read(st, insn.src)?;
        }
        check_ptr_off_reg(&ctx, 6, false)?;
        for r in 0..6 {
            self.set(st, r, Reg::NOT_INIT);
        }
        self.set(st, 0, Reg::unknown());
        Ok(())
    }
}
