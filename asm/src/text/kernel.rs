//! The `kernel` dialect: the spelling of the verifier log and bpftool (print only).

use crate::insn::Insn;

/// Prints one instruction.
pub fn print(insn: &Insn) -> String {
    format!("{insn}")
}
