//! Source lines of a program's instructions, from its `.BTF.ext` line info: what the
//! kernel's verifier prints as `; <source text> @ file.c:42` (`verbose_linfo`), as data, so
//! a front end can name the line of an instruction a verifier or VM error points at.

use crate::Program;

/// The source position of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine {
    /// File name as the compiler recorded it (often an absolute path).
    pub file: String,
    /// Line number (1-based).
    pub line: u32,
    /// Column (1-based; 0 when not recorded).
    pub col: u32,
    /// The line's text as clang stored it in BTF (trimmed), empty when it has none.
    pub text: String,
}

impl std::fmt::Display for SourceLine {
    /// `file.c:42: text`, with the file's base name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.file.rsplit('/').next().unwrap_or(&self.file);
        write!(f, "{base}:{}", self.line)?;
        if !self.text.is_empty() {
            write!(f, ": {}", self.text)?;
        }
        Ok(())
    }
}

impl Program {
    /// The source line of the instruction at `slot` (an 8-byte slot index in
    /// [`Program::insns`], as the kernel's verifier and the VM count): the line info
    /// record at or before it, as the kernel's `find_linfo` picks it. `None` when the
    /// object has no line info, or none covers the slot.
    pub fn source_line(&self, slot: usize) -> Option<SourceLine> {
        let btf = self.ext.btf.as_ref()?;
        let at = self.ext.line_info.partition_point(|l| l.insn <= slot);
        let l = self.ext.line_info.get(at.checked_sub(1)?)?;
        let total: usize = self.insns.iter().map(|i| i.slots()).sum();
        if slot >= total {
            return None;
        }
        Some(SourceLine {
            file: btf.string(l.file_name_off).unwrap_or("").to_owned(),
            line: l.line,
            col: l.col,
            text: btf.string(l.line_off).unwrap_or("").trim().to_owned(),
        })
    }
}
