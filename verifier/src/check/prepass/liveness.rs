//! Register liveness per instruction, used to forget dead registers before comparing states
//! (the kernel's `compute_live_registers`).

use crate::check::opcode::Flow;
use crate::check::{opcode, Env};
use crate::helpers;
use asm::isa::{class, Form, PacketMode};

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
            let x = opcode::src_is_reg(i.code);
            let xs = if x { s } else { 0 };
            let (u, df) = match opcode::class(i.code) {
                class::ALU | class::ALU64 => match opcode::op_form(i.code) {
                    Some(Form::Alu {
                        op: asm::isa::AluOp::Mov,
                        ..
                    }) => (xs, d),
                    _ => (d | xs, d),
                },
                class::LD if self.is_lddw(pc) => (0, d),
                // ld_abs/ld_ind read the skb from r6 (and ld_ind its index) and clobber r0-r5.
                class::LD => {
                    let ind = matches!(
                        opcode::mode_form(i.code),
                        Some(Form::LoadPacket {
                            mode: PacketMode::Ind,
                            ..
                        })
                    );
                    (1 << 6 | if ind { s } else { 0 }, 0x3f)
                }
                class::LDX => (s, d),
                class::ST => (d, 0),
                class::STX => {
                    if matches!(opcode::mode_form(i.code), Some(Form::Atomic { .. })) {
                        (d | s | 1, s | 1)
                    } else {
                        (d | s, 0)
                    }
                }
                _ => match opcode::flow(&i) {
                    Flow::Ja | Flow::Gotol => (0, 0),
                    Flow::Call => {
                        let nargs = if i.src == 0 {
                            helpers::proto(i.imm as u32)
                                .map(|p| p.args.len())
                                .unwrap_or(5)
                        } else {
                            5
                        };
                        (((1u16 << (nargs + 1)) - 2), 0x3f)
                    }
                    Flow::Exit => (1, 0),
                    Flow::Cond | Flow::Straight => (d | xs, 0),
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
                if opcode::form(&i) != Some(Form::Exit) {
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
