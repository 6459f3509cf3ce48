//! The control-flow graph: jump targets, successors and `check_cfg`'s depth-first search
//! for unreachable instructions, back-edges and jumps out of range.

use crate::check::insn::callback;
use crate::check::opcode::Flow;
use crate::check::{fail, opcode, Env, R};
use crate::EINVAL;
use asm::isa::CallKind;

impl Env<'_> {
    /// The target of a jump at `pc` (any class-JMP slot but calls and exits), unchecked.
    pub(crate) fn jump_target(&self, pc: usize) -> Option<i64> {
        let insn = self.prog.insns[pc];
        match opcode::flow(&insn) {
            Flow::Straight | Flow::Call | Flow::Exit => None,
            Flow::Gotol => Some(pc as i64 + insn.imm + 1),
            Flow::Ja | Flow::Cond => Some(pc as i64 + insn.off as i64 + 1),
        }
    }

    /// A bpf-to-bpf call (`BPF_PSEUDO_CALL`).
    pub(crate) fn is_pseudo_call(&self, pc: usize) -> bool {
        opcode::is_call(&self.prog.insns[pc], CallKind::Local)
    }

    /// The slots control may reach from `pc`, as `visit_insn` pushes them; a local call and
    /// an `lddw` of a function also lead to the callee.
    pub(crate) fn successors(&self, pc: usize) -> Vec<usize> {
        let insn = self.prog.insns[pc];
        match opcode::flow(&insn) {
            Flow::Exit => vec![],
            Flow::Call => {
                let mut v = vec![pc + 1];
                if self.is_pseudo_call(pc) {
                    v.push((pc as i64 + insn.imm + 1) as usize);
                }
                v
            }
            Flow::Ja | Flow::Gotol => vec![self.jump_target(pc).unwrap_or(0) as usize],
            Flow::Cond => vec![pc + 1, self.jump_target(pc).unwrap_or(0) as usize],
            Flow::Straight => {
                let size = if self.is_lddw(pc) { 2 } else { 1 };
                let mut v = vec![pc + size];
                if opcode::is_lddw_func(&insn) {
                    v.push((pc as i64 + insn.imm + 1) as usize);
                }
                v
            }
        }
    }

    /// `check_cfg`: depth-first search over the CFG for jumps out of range, back-edges without
    /// privilege, unreachable instructions and jumps into an `lddw`; marks prune points.
    pub(crate) fn check_cfg(&mut self) -> R<()> {
        let n = self.prog.insns.len();
        // 0 unseen, 1 on the DFS stack, 2 done (`insn_state` DISCOVERED / EXPLORED).
        let mut state = vec![0u8; n];
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        state[0] = 1;
        while let Some(&mut (t, ref mut k)) = stack.last_mut() {
            let succ = self.successors(t);
            if *k >= succ.len() {
                state[t] = 2;
                stack.pop();
                continue;
            }
            let w = succ[*k];
            *k += 1;
            let insn = self.prog.insns[t];
            let flow = opcode::flow(&insn);
            // Prune points as `visit_insn` marks them (`mark_prune_point`): jump targets,
            // conditional jumps themselves, callees and the insn after a call.
            let is_branch = !matches!(flow, Flow::Straight | Flow::Call)
                && (w != t + 1 || matches!(flow, Flow::Ja | Flow::Gotol));
            if (is_branch || self.is_pseudo_call(t)) && w < n {
                self.prog.prune[w] = true;
            }
            if flow == Flow::Cond {
                self.prog.prune[t] = true;
            }
            if flow == Flow::Call && opcode::class(insn.code) == asm::isa::class::JMP && t + 1 < n {
                self.prog.prune[t + 1] = true;
            }
            if opcode::is_lddw_func(&insn) {
                // `visit_func_call_insn` for a function pointer: the lddw and the slot after
                // it are prune points.
                self.prog.prune[t] = true;
                if t + 2 < n {
                    self.prog.prune[t + 2] = true;
                }
            }
            if opcode::is_call(&insn, CallKind::Helper) {
                if callback::is_async_callback_helper(insn.imm) {
                    self.prog.prune[t] = true;
                }
                if callback::is_sync_callback_helper(insn.imm) {
                    // `mark_calls_callback`, `mark_force_checkpoint`, `mark_prune_point`.
                    self.prog.calls_callback[t] = true;
                    self.prog.prune[t] = true;
                }
            }
            if w >= n {
                self.trace.pc = t;
                return fail(EINVAL, format!("jump out of range from insn {t} to {w}"));
            }
            match state[w] {
                0 => {
                    state[w] = 1;
                    stack.push((w, 0));
                }
                1 if !self.prog.opts.privileged => {
                    self.trace.pc = t;
                    return fail(EINVAL, format!("back-edge from insn {t} to {w}"));
                }
                _ => {}
            }
        }
        let mut i = 0;
        while i < n {
            if state[i] != 2 {
                self.trace.pc = i;
                return fail(EINVAL, format!("unreachable insn {i}"));
            }
            if self.is_lddw(i) {
                if i + 1 < n && state[i + 1] != 0 {
                    self.trace.pc = i;
                    return fail(EINVAL, format!("jump into the middle of ldimm64 insn {i}"));
                }
                i += 1;
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use asm::text::{assemble, Dialect};
    use asm::types::ProgType;
    use asm::Insn;

    fn slots(text: &str) -> Vec<Insn> {
        let bytes = assemble(text, Dialect::Llvm).unwrap().bytes();
        bytes.chunks(8).map(Insn::from_slot).collect()
    }

    /// Runs `check_subprogs` and `check_cfg` on `text`: the error message, or the prune
    /// points and each slot's successors.
    fn cfg(text: &str, privileged: bool) -> Result<(Vec<bool>, Vec<Vec<usize>>), String> {
        let mut opts = Options::new(ProgType::SocketFilter);
        opts.privileged = privileged;
        let mut env = Env::new(slots(text), &opts);
        let run = env.check_subprogs().and_then(|()| env.check_cfg());
        run.map_err(|f| format!("{} at {}", f.lines.join(" / "), env.trace.pc))?;
        let succ = (0..env.prog.insns.len())
            .map(|pc| env.successors(pc))
            .collect();
        Ok((env.prog.prune.clone(), succ))
    }

    #[test]
    fn conditional_jump_and_its_target_are_prune_points() {
        let (prune, succ) = cfg("if r1 == 0 goto +1\nr0 = 0\nexit\n", true).unwrap();
        assert_eq!(prune, [true, false, true]);
        assert_eq!(succ, [vec![1, 2], vec![2], vec![]]);
    }

    #[test]
    fn local_call_reaches_callee_and_return_point() {
        let (prune, succ) = cfg("call pc+2\nr0 = 0\nexit\nr0 = 1\nexit\n", true).unwrap();
        assert_eq!(succ[0], [1, 3]);
        // The callee's entry and the insn after the call (`mark_prune_point` in visit_insn).
        assert!(prune[1] && prune[3]);
        assert!(!prune[0]);
    }

    #[test]
    fn lddw_is_two_slots() {
        let (_, succ) = cfg("r1 = 5 ll\nr0 = 0\nexit\n", true).unwrap();
        assert_eq!(succ[0], [2]);
    }

    #[test]
    fn back_edges_need_privilege() {
        let looped = "r0 = 0\nl:\nr0 += 1\nif r0 < 10 goto l\nexit\n";
        assert!(cfg(looped, true).is_ok());
        assert_eq!(
            cfg(looped, false).unwrap_err(),
            "back-edge from insn 2 to 1 at 2"
        );
    }

    #[test]
    fn cfg_errors_name_the_insn() {
        assert_eq!(
            cfg("r0 = 0\nexit\nr0 = 1\nexit\n", true).unwrap_err(),
            "unreachable insn 2 at 2"
        );
        assert_eq!(
            cfg("if r1 == 0 goto +1\nr0 = 1 ll\nexit\n", true).unwrap_err(),
            "jump into the middle of ldimm64 insn 1 at 1"
        );
        assert_eq!(
            cfg("r0 = 0\n", true).unwrap_err(),
            "last insn is not an exit or jmp at 0"
        );
    }

    #[test]
    fn jumps_may_not_leave_their_function() {
        // main: call f; goto into f's body
        let text = "call pc+2\ngoto +2\nexit\nr0 = 0\nexit\n";
        assert_eq!(
            cfg(text, true).unwrap_err(),
            "jump out of range from insn 1 to 4 at 1"
        );
    }
}
