//! The control-flow graph: jump targets, successors and `check_cfg`'s depth-first search
//! for unreachable instructions, back-edges and jumps out of range.

use crate::check::*;

impl Env<'_> {
    pub(crate) fn jump_target(&self, pc: usize) -> Option<i64> {
        let insn = self.prog.insns[pc];
        let class = insn.code & 7;
        if class != 5 && class != 6 {
            return None;
        }
        let op = insn.code & 0xf0;
        if op == 0x80 || op == 0x90 {
            return None;
        }
        if insn.code == 0x06 {
            Some(pc as i64 + insn.imm + 1)
        } else {
            Some(pc as i64 + insn.off as i64 + 1)
        }
    }

    pub(crate) fn is_pseudo_call(&self, pc: usize) -> bool {
        let i = self.prog.insns[pc];
        i.code == 0x85 && i.src == 1
    }

    pub(crate) fn successors(&self, pc: usize) -> Vec<usize> {
        let insn = self.prog.insns[pc];
        let class = insn.code & 7;
        let size = if insn.code == 0x18 { 2 } else { 1 };
        if class == 5 || class == 6 {
            let op = insn.code & 0xf0;
            match op {
                0x90 => return vec![],
                0x80 => {
                    let mut v = vec![pc + 1];
                    if self.is_pseudo_call(pc) {
                        v.push((pc as i64 + insn.imm + 1) as usize);
                    }
                    return v;
                }
                0x00 => return vec![self.jump_target(pc).unwrap_or(0) as usize],
                _ => {
                    return vec![pc + 1, self.jump_target(pc).unwrap_or(0) as usize];
                }
            }
        }
        let mut v = vec![pc + size];
        if insn.code == 0x18 && insn.src == 4 {
            v.push((pc as i64 + insn.imm + 1) as usize);
        }
        v
    }

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
            let class = insn.code & 7;
            let is_branch = (class == 5 || class == 6)
                && (insn.code & 0xf0 != 0x80)
                && (w != t + 1 || insn.code & 0xf0 == 0);
            if (is_branch || (class == 5 && insn.code & 0xf0 == 0x80 && self.is_pseudo_call(t)))
                && w < n
            {
                self.prog.prune[w] = true;
            }
            if (class == 5 || class == 6) && !matches!(insn.code & 0xf0, 0x00 | 0x80 | 0x90) {
                self.prog.prune[t] = true;
            }
            if class == 5 && insn.code & 0xf0 == 0x80 && t + 1 < n {
                self.prog.prune[t + 1] = true;
            }
            if w >= n {
                self.cur_pc = t;
                return fail(EINVAL, format!("jump out of range from insn {t} to {w}"));
            }
            match state[w] {
                0 => {
                    state[w] = 1;
                    stack.push((w, 0));
                }
                1 if !self.prog.opts.privileged => {
                    self.cur_pc = t;
                    return fail(EINVAL, format!("back-edge from insn {t} to {w}"));
                }
                _ => {}
            }
        }
        let mut i = 0;
        while i < n {
            if state[i] != 2 {
                self.cur_pc = i;
                return fail(EINVAL, format!("unreachable insn {i}"));
            }
            if self.is_lddw(i) {
                if i + 1 < n && state[i + 1] != 0 {
                    self.cur_pc = i;
                    return fail(EINVAL, format!("jump into the middle of ldimm64 insn {i}"));
                }
                i += 1;
            }
            i += 1;
        }
        Ok(())
    }
}
