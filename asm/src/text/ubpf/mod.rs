//! The `ubpf` dialect: parser and printer. (Being written; see ARCHITECTURE.md.)

use crate::diag::Diagnostic;
use crate::insn::Insn;
use crate::text::Stmt;

/// Parses a source text into statements, reporting every syntax error.
pub fn parse(src: &str) -> Result<Vec<Stmt>, Vec<Diagnostic>> {
    let _ = src;
    Err(vec![Diagnostic::error(
        0..0,
        "the ubpf dialect parser is not built yet",
    )])
}

/// Prints one instruction.
pub fn print(insn: &Insn) -> String {
    format!("{insn}")
}
