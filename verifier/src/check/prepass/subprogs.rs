//! Subprograms: `check_subprogs` (function boundaries, calls and jumps that cross them) and
//! `check_max_stack_depth` (the combined stack of the deepest call chain).

use crate::check::{fail, opcode, unsupported, Env, Sub, MAX_BPF_STACK, MAX_CALL_FRAMES, R};
use crate::{EACCES, EINVAL};
use asm::isa::{CallKind, Form};

impl Env<'_> {
    /// `check_subprogs`: function starts from calls and `lddw` of functions; jumps must stay in
    /// their function and each function must end in `exit` or `goto`.
    pub(crate) fn check_subprogs(&mut self) -> R<()> {
        let n = self.prog.insns.len();
        let mut starts = vec![0usize];
        let mut i = 0;
        while i < n {
            let insn = self.prog.insns[i];
            let target = if self.is_pseudo_call(i) || opcode::is_lddw_func(&insn) {
                Some(i as i64 + insn.imm + 1)
            } else {
                None
            };
            if let Some(t) = target {
                if t < 0 || t >= n as i64 {
                    self.trace.pc = i;
                    return fail(EINVAL, format!("function offset {} is out of range", t));
                }
                starts.push(t as usize);
            }
            if opcode::is_call(&insn, CallKind::Kfunc) {
                self.trace.pc = i;
                return unsupported("kfunc calls need kernel BTF");
            }
            i += if self.is_lddw(i) { 2 } else { 1 };
        }
        starts.sort_unstable();
        starts.dedup();
        self.prog.subs = starts
            .iter()
            .enumerate()
            .map(|(k, &s)| Sub {
                start: s,
                end: starts.get(k + 1).copied().unwrap_or(n),
            })
            .collect();
        self.stack_depth = vec![0; self.prog.subs.len()];
        for (k, s) in self.prog.subs.clone().iter().enumerate() {
            for pc in s.start..s.end {
                self.prog.sub_of[pc] = k;
                self.trace.pc = pc;
                if let Some(t) = self.jump_target(pc) {
                    if t < s.start as i64 || t >= s.end as i64 {
                        return fail(EINVAL, format!("jump out of range from insn {pc} to {t}"));
                    }
                }
                if pc == s.end - 1 {
                    let last = opcode::form(&self.prog.insns[pc]);
                    if !matches!(last, Some(Form::Exit | Form::Ja | Form::Gotol)) {
                        return fail(EINVAL, "last insn is not an exit or jmp");
                    }
                }
            }
        }
        Ok(())
    }

    /// `check_max_stack_depth`: the deepest call chain's combined stack must fit in 512 bytes.
    pub(crate) fn check_max_stack_depth(&mut self) -> R<()> {
        // Walk the static call graph from main, as `check_max_stack_depth_subprog` does.
        let n = self.prog.insns.len();
        let round = |d: u32| d.max(1).div_ceil(16) * 16;
        let mut calls: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.prog.subs.len()];
        for pc in 0..n {
            if self.is_pseudo_call(pc) {
                let t = (pc as i64 + self.prog.insns[pc].imm + 1) as usize;
                calls[self.prog.sub_of[pc]].push((pc, self.prog.sub_of[t]));
            }
        }
        let mut best: Option<(usize, u32, usize)> = None;
        // (sub, depth so far, frames)
        let mut stack = vec![(0usize, round(self.stack_depth[0]), 1usize)];
        let mut steps = 0;
        while let Some((s, depth, frames)) = stack.pop() {
            steps += 1;
            if steps > 100_000 {
                break;
            }
            if depth > MAX_BPF_STACK as u32 && best.is_none() {
                best = Some((frames, depth, s));
            }
            if frames >= MAX_CALL_FRAMES {
                continue;
            }
            for &(_, callee) in &calls[s] {
                let d = depth + round(self.stack_depth[callee]);
                stack.push((callee, d, frames + 1));
            }
        }
        if let Some((frames, depth, _)) = best {
            return fail(
                EACCES,
                format!("combined stack size of {frames} calls is {depth}. Too large"),
            );
        }
        Ok(())
    }
}
