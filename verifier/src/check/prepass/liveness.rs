//! Register liveness per instruction, used to forget dead registers before comparing states
//! (the kernel's `compute_live_registers`).

use crate::check::*;

impl Env<'_> {
    /// Registers live on entry to each instruction, within its function (a static
    /// approximation of the kernel's read marks, used to ignore dead registers when
    /// comparing states).
    pub(crate) fn compute_liveness(&mut self) {
        let n = self.prog.insns.len();
        let mut uses = vec![0u16; n];
        let mut defs = vec![0u16; n];
        for pc in 0..n {
            let i = self.prog.insns[pc];
            let (d, s) = (1u16 << (i.dst & 15), 1u16 << (i.src & 15));
            let class = i.code & 7;
            let x = i.code & 8 != 0;
            let op = i.code & 0xf0;
            let (u, df) = match class {
                4 | 7 => {
                    if op == 0xb0 {
                        (if x { s } else { 0 }, d)
                    } else {
                        (d | if x { s } else { 0 }, d)
                    }
                }
                0 if i.code == 0x18 => (0, d),
                0 => (1 << 6 | if i.code & 0xe0 == 0x40 { s } else { 0 }, 0x3f),
                1 => (s, d),
                2 => (d, 0),
                3 => {
                    if i.code & 0xe0 == 0xc0 {
                        (d | s | 1, s | 1)
                    } else {
                        (d | s, 0)
                    }
                }
                _ => match op {
                    0x00 => (0, 0),
                    0x80 => {
                        let nargs = if i.src == 0 {
                            helpers::proto(i.imm as u32)
                                .map(|p| p.args.len())
                                .unwrap_or(5)
                        } else {
                            5
                        };
                        (((1u16 << (nargs + 1)) - 2), 0x3f)
                    }
                    0x90 => (1, 0),
                    _ => (d | if x { s } else { 0 }, 0),
                },
            };
            uses[pc] = u | 1 << 10;
            defs[pc] = df;
        }
        let mut live = vec![0u16; n];
        let mut changed = true;
        while changed {
            changed = false;
            for pc in (0..n).rev() {
                let i = self.prog.insns[pc];
                let mut out = 0u16;
                if i.code != 0x95 {
                    for s in self.successors(pc) {
                        if s < n && self.prog.sub_of.get(s) == self.prog.sub_of.get(pc) {
                            out |= live[s];
                        }
                    }
                }
                let inn = uses[pc] | (out & !defs[pc]);
                if inn != live[pc] {
                    live[pc] = inn;
                    changed = true;
                }
            }
        }
        self.prog.live = live;
    }
}
