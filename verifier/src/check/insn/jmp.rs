//! Jumps: `goto`, conditional jumps with branch pruning and range refinement
//! (`check_cond_jmp_op`, `reg_set_min_max`, `mark_ptr_or_null_regs`), `may_goto`.

use crate::check::states::{same_callsites, state_has_empty, widen_scalars};
use crate::check::verdict::push_path;
use crate::check::{
    fail, opcode, st_lock, unsupported, Env, Fail, Next, Work, ADD_CONST, JMP_SEQ_LIMIT,
    MAX_PACKET_OFF, R,
};
use crate::scalar::{AluOp, Cmp, Scalar};
use crate::state::{Reg, State, Ty};
use crate::{scalar, RejectKind, EACCES, EFAULT, EINVAL};
use asm::isa::{class, CallKind, Cond, Form};

pub(crate) fn branch_taken(dst: &Reg, src: &Reg, cmp: Cmp, w32: bool) -> Option<bool> {
    if dst.is_ptr() || src.is_ptr() {
        if (dst.is_pkt() || dst.ty == Ty::PktEnd) && (src.is_pkt() || src.ty == Ty::PktEnd) {
            return None;
        }
        let (p, s, cmp) = if src.ty == Ty::Scalar && src.s.is_const_w(w32) {
            (dst, src, cmp)
        } else {
            (src, dst, cmp.flip())
        };
        // `reg_not_null`: only these pointer types are known to be non-NULL.
        let not_null = matches!(
            p.ty,
            Ty::Sock
                | Ty::TcpSock
                | Ty::MapValue
                | Ty::MapKey
                | Ty::SockCommon
                | Ty::MapPtr
                | Ty::RingbufMem
        );
        if !(s.ty == Ty::Scalar && s.s.is_const_w(w32)) || p.maybe_null || !not_null {
            return None;
        }
        if s.s.const_w(w32) != 0 {
            return None;
        }
        return match cmp {
            Cmp::Eq => Some(false),
            Cmp::Ne => Some(true),
            _ => None,
        };
    }
    scalar::branch_taken(&dst.s, &src.s, cmp, w32)
}

/// `sync_linked_regs`: copies of a refined scalar learn the same bounds, shifted by the
/// constant each one added.
pub(crate) fn sync_linked(st: &mut State, known: &Reg) {
    let base = known.id & !ADD_CONST;
    st.for_each_reg(|r| {
        if r.ty != Ty::Scalar || r.id == 0 || r.id & !ADD_CONST != base {
            return;
        }
        let plain = r.id & ADD_CONST == 0 && known.id & ADD_CONST == 0;
        if plain || r.off == known.off {
            *r = *known;
        } else {
            let off = r.off;
            let delta = (r.off as i64 - known.off as i64) as u64;
            let mut s = known.s;
            scalar::alu(&mut s, &Scalar::known(delta), AluOp::Add, false);
            *r = Reg { s, off, ..*known };
        }
    });
}

/// `mark_ptr_not_null_reg`: one register's pointer is known not to be NULL (an inner map's
/// lookup result becomes the inner map pointer).
pub(crate) fn mark_ptr_not_null_reg(r: &mut Reg) {
    if !r.maybe_null {
        return;
    }
    if r.ty == Ty::MapValue && r.mem_size != 0 {
        let inner = r.mem_size - 1;
        *r = Reg {
            aux: inner,
            ..Reg::ptr(Ty::MapPtr)
        };
    } else {
        r.maybe_null = false;
    }
}

pub(crate) fn mark_ptr_or_null(st: &mut State, reg: &Reg, is_null: bool) {
    let id = reg.id;
    if id == 0 {
        return;
    }
    if is_null && reg.ref_id != 0 && reg.ref_id == id {
        st.refs.retain(|r| r.id != id);
    }
    st.for_each_reg(|r| {
        if r.maybe_null && r.id == id {
            if is_null {
                *r = Reg::known(0);
            } else if r.ty == Ty::MapValue && r.mem_size != 0 {
                let inner = r.mem_size - 1;
                *r = Reg::ptr(Ty::MapPtr);
                r.aux = inner;
            } else {
                r.maybe_null = false;
                let keep_id = r.ty == Ty::MapValue || r.ref_id != 0;
                if !keep_id {
                    r.id = 0;
                }
            }
        }
    });
}

pub(crate) fn find_good_pkt_pointers(st: &mut State, ptr: &Reg, open: bool) {
    if ptr.off < 0 || (ptr.off == 0 && open) {
        return;
    }
    if ptr.s.umax > MAX_PACKET_OFF || ptr.s.umax + ptr.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let new_range = ptr.off + open as i32;
    let (ty, id) = (ptr.ty, ptr.id);
    st.for_each_reg(|r| {
        if r.ty == ty && r.id == id {
            r.range = r.range.max(new_range);
        }
    });
}

impl Env<'_> {
    /// Jump-class instructions: `goto`, calls, `exit`, `may_goto` and conditional jumps.
    pub(crate) fn check_jmp(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.prog.insns[pc];
        let jmp32 = opcode::class(insn.code) == class::JMP32;
        let x = opcode::src_is_reg(insn.code);
        // `do_check` switches on BPF_OP whatever the class.
        match opcode::op_form(insn.code) {
            Some(Form::Ja) => {
                let bad = if jmp32 {
                    x || insn.src != 0 || insn.dst != 0 || insn.off != 0
                } else {
                    x || insn.src != 0 || insn.dst != 0 || insn.imm != 0
                };
                if bad {
                    return fail(EINVAL, "BPF_JA uses reserved fields");
                }
                Ok(Next::Go(self.jump_target(pc).unwrap_or(0) as usize))
            }
            Some(Form::Call(_)) => {
                if x || (insn.src != 2 && insn.off != 0)
                    || !matches!(insn.src, 0..=2)
                    || insn.dst != 0
                    || jmp32
                {
                    return fail(EINVAL, "BPF_CALL uses reserved fields");
                }
                if st_lock(&w.st) && (insn.src != 0 || insn.imm != 94) {
                    return fail(
                        EINVAL,
                        "function calls are not allowed while holding a lock",
                    );
                }
                if opcode::is_call(&insn, CallKind::Local) {
                    return self.check_func_call(w);
                }
                if opcode::is_call(&insn, CallKind::Kfunc) {
                    return unsupported("kfunc calls need kernel BTF");
                }
                self.check_helper_call(&mut w.st, pc)?;
                self.queue_pending_callback(w, stack);
                Ok(Next::Go(pc + 1))
            }
            Some(Form::Exit) => {
                if x || insn.imm != 0 || insn.src != 0 || insn.dst != 0 || jmp32 {
                    return fail(EINVAL, "BPF_EXIT uses reserved fields");
                }
                let main = w.st.frames.len() == 1;
                let callback = w.st.cur().callback;
                if main && w.st.lock.is_some() {
                    return fail(
                        EINVAL,
                        "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
                    );
                }
                if main && !w.st.refs.is_empty() {
                    let lines = self.ref_leak_lines(&w.st, "BPF_EXIT instruction in main prog");
                    return Err(Fail {
                        lines,
                        errno: EINVAL,
                        kind: RejectKind::Kernel,
                    });
                }
                if !main {
                    if let Some(cb) = callback.filter(|c| !c.is_async) {
                        let callsite = self.callback_exit(&mut w.st, cb)?;
                        return Ok(Next::Go(callsite));
                    }
                    return self.func_exit(w);
                }
                self.check_return_code(&w.st)?;
                Ok(Next::Exit)
            }
            Some(Form::MayGoto) => self.check_may_goto(w, stack),
            Some(Form::Jump { cond, .. }) => self.check_cond_jmp(w, stack, cond),
            _ => fail(
                EINVAL,
                format!(
                    "invalid BPF_JMP/JMP32 opcode {:x}",
                    opcode::op_bits(insn.code)
                ),
            ),
        }
    }

    /// `check_cond_jmp_op`: follows the decided branch, or queues the other side with what
    /// each side learns (`reg_set_min_max`, `mark_ptr_or_null_regs`, packet ranges).
    pub(crate) fn check_cond_jmp(
        &mut self,
        w: &mut Work,
        stack: &mut Vec<Work>,
        cond: Cond,
    ) -> R<Next> {
        let pc = w.pc;
        let insn = self.prog.insns[pc];
        let w32 = opcode::class(insn.code) == class::JMP32;
        let x = opcode::src_is_reg(insn.code);
        let cmp = match cond {
            Cond::Eq => Cmp::Eq,
            Cond::Gt => Cmp::Gt,
            Cond::Ge => Cmp::Ge,
            Cond::Set => Cmp::Set,
            Cond::Ne => Cmp::Ne,
            Cond::Sgt => Cmp::Sgt,
            Cond::Sge => Cmp::Sge,
            Cond::Lt => Cmp::Lt,
            Cond::Le => Cmp::Le,
            Cond::Slt => Cmp::Slt,
            Cond::Sle => Cmp::Sle,
        };
        let dst = self.check_reg_read(&w.st, insn.dst)?;
        let src = if x {
            if insn.imm != 0 {
                return fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
            }
            let s = self.check_reg_read(&w.st, insn.src)?;
            if (!(dst.is_pkt() || dst.ty == Ty::PktEnd) || !(s.is_pkt() || s.ty == Ty::PktEnd))
                && s.is_ptr()
                && !self.prog.opts.privileged
            {
                return fail(
                    EACCES,
                    format!("R{} pointer comparison prohibited", insn.src),
                );
            }
            s
        } else {
            if insn.src != 0 {
                return fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
            }
            Reg::known(insn.imm as u64)
        };
        let target = (pc as i64 + insn.off as i64 + 1) as usize;
        let pred = branch_taken(&dst, &src, cmp, w32);
        match pred {
            Some(true) => {
                w.path = push_path(&w.path, pc, true);
                return Ok(Next::Go(target));
            }
            Some(false) => {
                w.path = push_path(&w.path, pc, false);
                return Ok(Next::Go(pc + 1));
            }
            None => {}
        }
        if stack.len() >= JMP_SEQ_LIMIT {
            // push_stack counts the state it is pushing, and check_cond_jmp_op turns its
            // failure into EFAULT (measured on 6.18: "The sequence of 8193 jumps ...", 14).
            return fail(
                EFAULT,
                format!("The sequence of {} jumps is too complex.", stack.len() + 1),
            );
        }
        let mut other = w.st.clone();
        let mut this = std::mem::replace(&mut w.st, other.clone());
        // Refine scalars on both sides.
        if dst.ty == Ty::Scalar && src.ty == Ty::Scalar {
            let (mut td, mut ts) = (dst.s, src.s);
            scalar::refine(&mut td, &mut ts, cmp, w32);
            let (mut fd, mut fs) = (dst.s, src.s);
            scalar::refine(&mut fd, &mut fs, cmp.negate(), w32);
            other.cur_mut().regs[insn.dst as usize].s = td;
            this.cur_mut().regs[insn.dst as usize].s = fd;
            if x {
                other.cur_mut().regs[insn.src as usize].s = ts;
                this.cur_mut().regs[insn.src as usize].s = fs;
                if src.id != 0 {
                    sync_linked(&mut other, &Reg { s: ts, ..src });
                    sync_linked(&mut this, &Reg { s: fs, ..src });
                }
            }
            if dst.id != 0 {
                sync_linked(&mut other, &Reg { s: td, ..dst });
                sync_linked(&mut this, &Reg { s: fd, ..dst });
            }
        }
        // A pointer that may be NULL compared with one that may not: equal, it is not NULL
        // either (check_cond_jmp_op's `mark_ptr_not_null_reg` on the register itself; not
        // for BTF pointers, which may be NULL unmarked).
        if !w32
            && x
            && dst.is_ptr()
            && src.is_ptr()
            && dst.maybe_null != src.maybe_null
            && dst.ty != Ty::BtfPtr
            && src.ty != Ty::BtfPtr
        {
            let eq_branch = match cmp {
                Cmp::Eq => Some(&mut other),
                Cmp::Ne => Some(&mut this),
                _ => None,
            };
            if let Some(branch) = eq_branch {
                let r = if src.maybe_null { insn.src } else { insn.dst };
                mark_ptr_not_null_reg(&mut branch.cur_mut().regs[r as usize]);
            }
        }
        if !w32 && !x && insn.imm == 0 && matches!(cmp, Cmp::Eq | Cmp::Ne) && dst.maybe_null {
            mark_ptr_or_null(&mut this, &dst, cmp == Cmp::Ne);
            mark_ptr_or_null(&mut other, &dst, cmp == Cmp::Eq);
        } else if !(x && !w32 && self.match_pkt_pointers(cmp, &dst, &src, &mut this, &mut other))
            && dst.is_ptr()
            && !self.prog.opts.privileged
        {
            return fail(
                EACCES,
                format!("R{} pointer comparison prohibited", insn.dst),
            );
        }
        w.st = this;
        let ok_other = !state_has_empty(&other);
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        let taken_path = push_path(&w.path, pc, true);
        if ok_other {
            stack.push(Work {
                st: other,
                pc: target,
                parent: w.parent,
                path: taken_path,
            });
        } else {
            self.finish(w.parent);
        }
        w.path = push_path(&w.path, pc, false);
        Ok(Next::Go(pc + 1))
    }

    /// `may_goto`: the current path leaves the loop (the jump); the loop body is explored
    /// later with a deeper count, its scalars widened against the previous visit.
    pub(crate) fn check_may_goto(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.prog.insns[pc];
        if insn.src != 0 || insn.dst != 0 || insn.imm != 0 {
            return fail(EINVAL, format!("invalid may_goto imm {}", insn.imm));
        }
        if stack.len() >= JMP_SEQ_LIMIT {
            // push_stack counts the state it is pushing, and check_cond_jmp_op turns its
            // failure into EFAULT (measured on 6.18: "The sequence of 8193 jumps ...", 14).
            return fail(
                EFAULT,
                format!("The sequence of {} jumps is too complex.", stack.len() + 1),
            );
        }
        let mut queued = w.st.clone();
        queued.may_goto_depth += 1;
        let prev = self.visited.get(&pc).and_then(|l| {
            l.iter()
                .rev()
                .find(|&&c| self.ckpts[c].branches > 0 && same_callsites(&self.ckpts[c].st, &w.st))
                .copied()
        });
        if let Some(p) = prev {
            widen_scalars(&self.ckpts[p].st, &mut queued);
        }
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        stack.push(Work {
            st: queued,
            pc: pc + 1,
            parent: w.parent,
            path: push_path(&w.path, pc, false),
        });
        w.path = push_path(&w.path, pc, true);
        Ok(Next::Go((pc as i64 + insn.off as i64 + 1) as usize))
    }

    pub(crate) fn match_pkt_pointers(
        &mut self,
        cmp: Cmp,
        dst: &Reg,
        src: &Reg,
        this: &mut State,
        other: &mut State,
    ) -> bool {
        // (pointer that gets a range, whether "taken" proves it, right-open)
        let lhs_pkt = (dst.ty == Ty::Pkt && src.ty == Ty::PktEnd)
            || (dst.ty == Ty::PktMeta && src.ty == Ty::Pkt && src.off == 0 && src.s.is_const());
        let rhs_pkt = (dst.ty == Ty::PktEnd && src.ty == Ty::Pkt)
            || (dst.ty == Ty::Pkt && dst.off == 0 && dst.s.is_const() && src.ty == Ty::PktMeta);
        let (ptr, on_taken, open) = if lhs_pkt {
            match cmp {
                Cmp::Gt => (dst, false, false),
                Cmp::Lt => (dst, true, true),
                Cmp::Ge => (dst, false, true),
                Cmp::Le => (dst, true, false),
                _ => return false,
            }
        } else if rhs_pkt {
            match cmp {
                Cmp::Gt => (src, true, true),
                Cmp::Lt => (src, false, false),
                Cmp::Ge => (src, true, false),
                Cmp::Le => (src, false, true),
                _ => return false,
            }
        } else {
            return false;
        };
        let target = if on_taken { other } else { this };
        find_good_pkt_pointers(target, ptr, open);
        true
    }
}
