//! The verifier log and the verdicts built from it: the branch path to a rejection, the
//! `processed N insns` trailer, and the short tnum spelling the kernel's `print_verifier_state`
//! uses. Kept apart from exploration like the kernel's `kernel/bpf/log.c`.

use crate::check::{Env, Fail};
use crate::tnum::Tnum;
use crate::{Accepted, Branch, Rejection, SubprogStats, COMPLEXITY_LIMIT};
use std::rc::Rc;

pub(crate) struct PathNode {
    pub(crate) b: Branch,
    pub(crate) up: Option<Rc<PathNode>>,
}

impl Drop for PathNode {
    // Paths through long loops are deep lists: free them iteratively, not recursively.
    fn drop(&mut self) {
        let mut next = self.up.take();
        while let Some(n) = next {
            match Rc::try_unwrap(n) {
                Ok(mut node) => next = node.up.take(),
                Err(_) => break,
            }
        }
    }
}

pub(crate) type Path = Option<Rc<PathNode>>;

pub(crate) fn push_path(p: &Path, insn: usize, taken: bool) -> Path {
    Some(Rc::new(PathNode {
        b: Branch { insn, taken },
        up: p.clone(),
    }))
}

pub(crate) fn path_vec(p: &Path) -> Vec<Branch> {
    let mut v = Vec::new();
    let mut cur = p.clone();
    while let Some(n) = cur {
        v.push(n.b);
        cur = n.up.clone();
    }
    v.reverse();
    v
}

pub(crate) fn tnum_short(t: Tnum) -> String {
    if t.is_const() {
        format!("{}", t.value as i64)
    } else {
        t.kernel_fmt()
    }
}

impl Env<'_> {
    /// The statistics and log of an accepted program.
    pub(crate) fn accepted(&self) -> Accepted {
        let subprogs: Vec<SubprogStats> = self
            .prog
            .subs
            .iter()
            .zip(&self.stack_depth)
            .map(|(s, d)| SubprogStats {
                start: s.start,
                stack_depth: d.div_ceil(8) * 8,
            })
            .collect();
        let mut log = self.trace.log.clone();
        if self.prog.opts.log_level > 0 {
            log.push_str(&format!(
                "processed {} insns (limit {}) total_states {}\n",
                self.processed,
                COMPLEXITY_LIMIT,
                self.ckpts.len()
            ));
        }
        Accepted {
            processed: self.processed,
            total_states: self.ckpts.len() as u64,
            max_stack_depth: subprogs.iter().map(|s| s.stack_depth).max().unwrap_or(0),
            subprogs,
            log,
        }
    }

    /// The rejection for a failure, with the log's `processed` trailer.
    pub(crate) fn rejection(&mut self, f: Fail) -> Rejection {
        let message = f.lines.last().cloned().unwrap_or_default();
        if self.prog.opts.log_level > 0 {
            for l in &f.lines {
                self.trace.log.push_str(l);
                self.trace.log.push('\n');
            }
            if self.trace.started {
                self.trace.log.push_str(&format!(
                    "processed {} insns (limit {}) total_states {}\n",
                    self.processed,
                    COMPLEXITY_LIMIT,
                    self.ckpts.len()
                ));
            }
        }
        Rejection {
            message,
            errno: f.errno,
            insn: self.trace.pc,
            path: path_vec(&self.trace.path),
            processed: self.trace.started.then_some(self.processed),
            kind: f.kind,
            log: std::mem::take(&mut self.trace.log),
        }
    }
}
