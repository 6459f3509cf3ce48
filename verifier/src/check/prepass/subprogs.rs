//! Subprograms: `check_subprogs` (function boundaries, calls and jumps that cross them) and
//! `check_max_stack_depth` (the combined stack of the deepest call chain).

use crate::check::{fail, opcode, unsupported, Env, Sub, MAX_BPF_STACK, MAX_CALL_FRAMES, R};
use crate::{E2BIG, EACCES, EINVAL};
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

    /// `check_max_stack_depth`: from the main program and from each asynchronous callback,
    /// every chain of calls (bpf-to-bpf calls and function pointers, as
    /// `check_max_stack_depth_subprog` walks them, in instruction order) must fit in 512
    /// bytes of combined stack and 8 frames.
    pub(crate) fn check_max_stack_depth(&mut self) -> R<()> {
        let mut roots = vec![0usize];
        roots.extend(self.async_subs.iter().copied().filter(|&s| s != 0));
        for root in roots {
            self.check_max_stack_depth_subprog(root)?;
        }
        Ok(())
    }

    fn check_max_stack_depth_subprog(&mut self, root: usize) -> R<()> {
        let round = |d: u32| d.max(1).div_ceil(16) * 16;
        // The chain being walked: (function, the slot to resume at, depth so far).
        let mut chain: Vec<(usize, usize, u32)> = Vec::new();
        let mut idx = root;
        let mut i = self.prog.subs[root].start;
        let mut depth = 0u32;
        loop {
            // process_func
            depth += round(self.stack_depth[idx]);
            if depth > MAX_BPF_STACK as u32 {
                return fail(
                    EACCES,
                    format!(
                        "combined stack size of {} calls is {depth}. Too large",
                        chain.len() + 1
                    ),
                );
            }
            // continue_func
            let mut called = false;
            while !called {
                let end = self.prog.subs[idx].end;
                while i < end {
                    let insn = self.prog.insns[i];
                    let func_ptr = opcode::is_lddw_func(&insn);
                    if !self.is_pseudo_call(i) && !func_ptr {
                        i += 1;
                        continue;
                    }
                    let target = (i as i64 + insn.imm + 1) as usize;
                    let sidx = self.prog.sub_of[target];
                    // An asynchronous callback's stack is its own, unless it is also called.
                    if self.async_subs.contains(&sidx) && func_ptr {
                        i += 1;
                        continue;
                    }
                    chain.push((idx, i + 1, depth));
                    if chain.len() >= MAX_CALL_FRAMES {
                        self.trace.pc = i;
                        return fail(
                            E2BIG,
                            format!("the call stack of {} frames is too deep !", chain.len()),
                        );
                    }
                    idx = sidx;
                    i = self.prog.subs[sidx].start;
                    called = true;
                    break;
                }
                if called {
                    break;
                }
                // End of the function: back to the caller's next slot.
                let Some((caller, resume, caller_depth)) = chain.pop() else {
                    return Ok(());
                };
                depth = caller_depth;
                idx = caller;
                i = resume;
            }
        }
    }
}
