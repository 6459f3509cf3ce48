//! The exploration: `do_check`'s depth-first walk over paths with a work stack, the
//! per-instruction dispatch, and pruning against stored checkpoints (`is_state_visited`).

use crate::check::states::looping_equal;
use crate::check::{fail, opcode, Ckpt, Env, Fail, Next, Work, R};
use crate::state::{Frame, Reg, State, Ty};
use crate::{log, RejectKind, COMPLEXITY_LIMIT, E2BIG, EINVAL};
use asm::isa::{class, Form};

impl Env<'_> {
    /// The entry state: r1 = context, r10 = frame pointer (`init_func_state`).
    pub(crate) fn initial_state(&self) -> State {
        let mut f = Frame::new(usize::MAX, 0, 0);
        f.regs[1] = Reg::ptr(Ty::Ctx);
        State {
            frames: vec![f],
            refs: Vec::new(),
            lock: None,
            may_goto_depth: 0,
            callback_unroll_depth: 0,
        }
    }

    /// `do_check`: explores paths depth-first from the entry, one instruction at a time, until
    /// every path has exited or was pruned; the first violation ends it.
    pub(crate) fn do_check(&mut self) -> R<()> {
        let mut stack: Vec<Work> = vec![Work {
            st: self.initial_state(),
            pc: 0,
            parent: None,
            path: None,
        }];
        let mut first_path = true;
        while let Some(mut w) = stack.pop() {
            let mut first = true;
            if self.prog.opts.log_level >= 2 && !first_path {
                let from = w
                    .path
                    .as_ref()
                    .map(|p| p.b.insn.to_string())
                    .unwrap_or_default();
                let s = log::state(&w.st, &self.prog.maps);
                self.trace
                    .log
                    .push_str(&format!("from {from} to {}: {s}\n", w.pc));
            }
            first_path = false;
            loop {
                self.trace.pc = w.pc;
                self.trace.path = w.path.clone();
                self.processed += 1;
                if self.processed > COMPLEXITY_LIMIT {
                    return fail(
                        E2BIG,
                        format!(
                            "BPF program is too large. Processed {} insn",
                            self.processed
                        ),
                    );
                }
                if (self.prog.prune[w.pc] || self.prog.opts.test_state_freq)
                    && !(first && w.pc == 0)
                    && self.is_state_visited(&mut w)?
                {
                    if self.prog.opts.log_level >= 2 {
                        self.trace.log.push_str(&format!("{}: safe\n", w.pc));
                    }
                    self.finish(w.parent);
                    break;
                }
                first = false;
                let line = (self.prog.opts.log_level >= 1)
                    .then(|| format!("{}: {}", w.pc, log::insn(&self.insn_at(w.pc))));
                let next = match self.step(&mut w, &mut stack) {
                    Ok(n) => n,
                    Err(e) => {
                        if let Some(l) = line {
                            self.trace.log.push_str(&l);
                            self.trace.log.push('\n');
                        }
                        return Err(e);
                    }
                };
                if let Some(l) = line {
                    if self.prog.opts.log_level >= 2 && matches!(next, Next::Go(_)) {
                        let s = log::state(&w.st, &self.prog.maps);
                        self.trace.log.push_str(&format!("{l:<37}; {s}\n"));
                    } else {
                        self.trace.log.push_str(&l);
                        self.trace.log.push('\n');
                    }
                }
                match next {
                    Next::Go(pc) => {
                        w.pc = pc;
                    }
                    Next::Exit => {
                        self.finish(w.parent);
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// A path ended: its checkpoints lose one pending branch (`update_branch_counts`).
    pub(crate) fn finish(&mut self, parent: Option<usize>) {
        let mut p = parent;
        while let Some(i) = p {
            let c = &mut self.ckpts[i];
            c.branches = c.branches.saturating_sub(1);
            if c.branches > 0 {
                break;
            }
            p = c.parent;
        }
    }

    /// `is_state_visited`: at a prune point, whether a stored checkpoint covers the current state
    /// (then the path is done), and whether to store the current one as a new checkpoint.
    pub(crate) fn is_state_visited(&mut self, w: &mut Work) -> R<bool> {
        let pc = w.pc;
        let may_goto = opcode::form(&self.prog.insns[pc]) == Some(Form::MayGoto);
        let calls_callback = self.prog.calls_callback[pc];
        let force = self.prog.opts.test_state_freq || may_goto || calls_callback;
        let mut add =
            force || (self.jmps - self.prev_jmps >= 2 && self.processed - self.prev_insns >= 8);
        let list = self.visited.get(&pc).cloned().unwrap_or_default();
        let mut evict = Vec::new();
        for ci in list {
            let c = &self.ckpts[ci];
            let other_async_entry = {
                let (old, cur) = (c.st.cur(), w.st.cur());
                old.callback.is_some_and(|cb| cb.is_async)
                    && old.async_entry_cnt != cur.async_entry_cnt
            };
            if c.branches > 0 && other_async_entry {
                // Another entry into an asynchronous callback whose earlier visit has not
                // finished: neither a loop nor covered (is_state_visited's async_entry_cnt).
                if !force
                    && self.jmps - self.prev_jmps < 20
                    && self.processed - self.prev_insns < 100
                {
                    add = false;
                }
            } else if c.branches > 0 {
                if may_goto
                    && c.st.may_goto_depth != w.st.may_goto_depth
                    && self.states_safe(&c.st, &w.st, pc)
                {
                    self.ckpts[ci].hits += 1;
                    return Ok(true);
                }
                if calls_callback {
                    // The callback's iteration converged: this visit adds nothing.
                    if self.states_safe(&c.st, &w.st, pc) {
                        self.ckpts[ci].hits += 1;
                        return Ok(true);
                    }
                } else if c.st.may_goto_depth == w.st.may_goto_depth
                    && c.st.callback_unroll_depth == w.st.callback_unroll_depth
                    && looping_equal(&c.st, &w.st)
                {
                    let cur = log::state(&w.st, &self.prog.maps);
                    let old = log::state(&c.st, &self.prog.maps);
                    return Err(Fail {
                        lines: vec![
                            format!("infinite loop detected at insn {pc}"),
                            format!("cur state: {cur}"),
                            format!("old state: {old}"),
                        ],
                        errno: EINVAL,
                        kind: RejectKind::Kernel,
                    });
                }
                if !force
                    && self.jmps - self.prev_jmps < 20
                    && self.processed - self.prev_insns < 100
                {
                    add = false;
                }
            } else if self.states_safe(&c.st, &w.st, pc) {
                self.ckpts[ci].hits += 1;
                return Ok(true);
            }
            // A state that keeps missing is dropped from the list, as the kernel does
            // (`miss_cnt > hit_cnt * n + n` in is_state_visited).
            let c = &mut self.ckpts[ci];
            c.misses += 1;
            let n = if force { 64 } else { 3 };
            if c.misses > c.hits * n + n {
                evict.push(ci);
            }
        }
        if !evict.is_empty() {
            if let Some(l) = self.visited.get_mut(&pc) {
                l.retain(|c| !evict.contains(c));
            }
        }
        if add {
            self.prev_jmps = self.jmps;
            self.prev_insns = self.processed;
            let idx = self.ckpts.len();
            self.ckpts.push(Ckpt {
                st: w.st.clone(),
                branches: 1,
                parent: w.parent,
                hits: 0,
                misses: 0,
            });
            w.parent = Some(idx);
            self.visited.entry(pc).or_default().push(idx);
        }
        Ok(false)
    }

    /// A fresh register id (`++env->id_gen`).
    pub(crate) fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }

    /// Checks the instruction at `w.pc` and says where the path goes next (`do_check`'s body).
    pub(crate) fn step(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.prog.insns[pc];
        match opcode::class(insn.code) {
            class::ALU | class::ALU64 => {
                self.check_alu(&mut w.st, &insn)?;
                Ok(Next::Go(pc + 1))
            }
            class::LDX => {
                self.check_ldx(&mut w.st, &insn)?;
                Ok(Next::Go(pc + 1))
            }
            class::ST | class::STX => {
                if opcode::class(insn.code) == class::STX
                    && matches!(opcode::mode_form(insn.code), Some(Form::Atomic { .. }))
                {
                    self.check_atomic(&mut w.st, &insn)?;
                } else {
                    self.check_store(&mut w.st, &insn)?;
                }
                Ok(Next::Go(pc + 1))
            }
            class::LD => {
                if self.is_lddw(pc) {
                    self.check_ld_imm(&mut w.st, pc)?;
                    Ok(Next::Go(pc + 2))
                } else if matches!(opcode::mode_form(insn.code), Some(Form::LoadPacket { .. })) {
                    self.check_ld_abs(&mut w.st, &insn)?;
                    if w.st.frames.len() > 1 {
                        self.ld_abs_in_subprog(w, stack)?;
                        return Ok(Next::Go(w.pc));
                    }
                    Ok(Next::Go(pc + 1))
                } else {
                    fail(EINVAL, "invalid BPF_LD mode")
                }
            }
            _ => {
                self.jmps += 1;
                self.check_jmp(w, stack)
            }
        }
    }
}
