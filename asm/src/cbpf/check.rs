//! The kernel's load-time checks for classic programs, rule for rule:
//! `bpf_check_basics()` + `bpf_check_classic()` + `check_load_and_stores()` of
//! `net/core/filter.c` (socket filters, and first for seccomp), then
//! `seccomp_check_filter()` of `kernel/seccomp.c` for seccomp. The kernel answers only
//! `EINVAL`; the messages here name the rule and the instruction.
//!
//! ```
//! use asm::cbpf::{bpf_asm, check::{check, Mode, Rule}};
//! let ok = bpf_asm::assemble("ld [0]\nret a\n").unwrap();
//! assert!(check(&ok, Mode::Seccomp).is_ok());
//! let bad = bpf_asm::assemble("ldh [0]\nret a\n").unwrap();
//! let e = check(&bad, Mode::Seccomp).unwrap_err();
//! assert_eq!((e.index, e.rule), (Some(0), Rule::SeccompOpcode));
//! ```

use super::{ancillary, lookup, Form, SockFilter, BPF_MAXINSNS, BPF_MEMWORDS, SKF_AD_OFF};

/// What kind of program is being loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `SO_ATTACH_FILTER` (and `PACKET_FANOUT`, `SO_ATTACH_REUSEPORT_CBPF`).
    Socket,
    /// `seccomp(SECCOMP_SET_MODE_FILTER)`.
    Seccomp,
}

/// The rule a program breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Rule {
    /// Zero instructions.
    Empty,
    /// More than `BPF_MAXINSNS` (4096).
    TooLong,
    /// An opcode outside `chk_code_allowed()`.
    Opcode,
    /// `div #0` / `mod #0`.
    DivByZero,
    /// `lsh`/`rsh` by a constant of 32 or more.
    ShiftTooFar,
    /// `M[k]` with `k >= 16`.
    MemOutOfRange,
    /// A jump past the last instruction.
    JumpOutOfRange,
    /// An absolute load at `SKF_AD_OFF + n` that is no known ancillary load.
    UnknownAncillary,
    /// The last instruction is not `ret #k` / `ret a`.
    NoFinalRet,
    /// `M[k]` read where some path has not written it.
    MemReadBeforeWrite,
    /// An instruction seccomp does not allow (byte/half/indexed loads, `mod`, ...).
    SeccompOpcode,
    /// A seccomp load that is not an aligned 32-bit word inside `struct seccomp_data`.
    SeccompLoad,
    /// A stack of seccomp filters longer than `MAX_INSNS_PER_PATH` (the kernel says ENOMEM).
    StackTooLong,
}

/// `MAX_INSNS_PER_PATH` of `kernel/seccomp.c`: 256 KiB of instructions per syscall path.
pub const MAX_INSNS_PER_PATH: usize = (1 << 18) / 8;

/// `seccomp_attach_filter()`'s limit for stacked filters (lengths oldest first): the new
/// filter's length plus, for every filter already installed, its length and a penalty of 4
/// must not exceed [`MAX_INSNS_PER_PATH`]. Reports the first filter that cannot be added.
pub fn check_stack(lens: &[usize]) -> Result<(), CheckError> {
    let mut installed = 0usize;
    for (i, &len) in lens.iter().enumerate() {
        if installed + len > MAX_INSNS_PER_PATH {
            return Err(err(
                Some(i),
                Rule::StackTooLong,
                format!(
                    "filter {i}: {} instructions on the path (at most {MAX_INSNS_PER_PATH}, counting 4 extra per installed filter)",
                    installed + len
                ),
            ));
        }
        installed += len + 4;
    }
    Ok(())
}

/// Why the kernel would refuse a program (it says `EINVAL`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}{message}", index.map(|i| format!("instruction {i}: ")).unwrap_or_default())]
pub struct CheckError {
    /// The instruction, if the rule concerns one.
    pub index: Option<usize>,
    /// The rule.
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
}

fn err(index: Option<usize>, rule: Rule, message: impl Into<String>) -> CheckError {
    CheckError {
        index,
        rule,
        message: message.into(),
    }
}

/// Checks a program as the kernel does when it is loaded in `mode`; the first failing rule
/// in the kernel's order is reported.
pub fn check(prog: &[SockFilter], mode: Mode) -> Result<(), CheckError> {
    // bpf_check_basics()
    if prog.is_empty() {
        return Err(err(None, Rule::Empty, "the program is empty"));
    }
    if prog.len() > BPF_MAXINSNS {
        return Err(err(
            None,
            Rule::TooLong,
            format!("{} instructions (at most {BPF_MAXINSNS})", prog.len()),
        ));
    }
    check_classic(prog)?;
    if mode == Mode::Seccomp {
        check_seccomp(prog)?;
    }
    Ok(())
}

fn check_classic(prog: &[SockFilter]) -> Result<(), CheckError> {
    let flen = prog.len();
    for (pc, f) in prog.iter().enumerate() {
        let i = Some(pc);
        let def = match lookup(f.code) {
            Some(d) if d.kernel => d,
            _ => {
                return Err(err(
                    i,
                    Rule::Opcode,
                    format!(
                        "opcode {:#06x} is not a classic BPF instruction the kernel accepts",
                        f.code
                    ),
                ))
            }
        };
        match def.form {
            Form::Alu(super::AluOp::Div | super::AluOp::Mod, super::Src::K) if f.k == 0 => {
                return Err(err(i, Rule::DivByZero, "division by the constant 0"))
            }
            Form::Alu(super::AluOp::Lsh | super::AluOp::Rsh, super::Src::K) if f.k >= 32 => {
                return Err(err(
                    i,
                    Rule::ShiftTooFar,
                    format!("shift by {} (at most 31)", f.k),
                ))
            }
            Form::LdMem | Form::LdxMem | Form::St | Form::Stx if f.k >= BPF_MEMWORDS => {
                return Err(err(
                    i,
                    Rule::MemOutOfRange,
                    format!("M[{}] does not exist (M[0] ..= M[15])", f.k),
                ))
            }
            Form::Ja if f.k as u64 >= (flen - pc - 1) as u64 => {
                return Err(err(
                    i,
                    Rule::JumpOutOfRange,
                    format!("ja +{} leaves the program ({} instructions)", f.k, flen),
                ))
            }
            Form::Jmp(..) if pc + f.jt as usize + 1 >= flen || pc + f.jf as usize + 1 >= flen => {
                return Err(err(
                    i,
                    Rule::JumpOutOfRange,
                    format!(
                        "jt {} / jf {} leaves the program ({} instructions)",
                        f.jt, f.jf, flen
                    ),
                ))
            }
            Form::LdAbs(_) if f.k >= SKF_AD_OFF as u32 && ancillary(f.k).is_none() => {
                return Err(err(
                    i,
                    Rule::UnknownAncillary,
                    format!("{:#x} is no known ancillary load (SKF_AD_OFF + n)", f.k),
                ))
            }
            _ => {}
        }
    }
    match lookup(prog[flen - 1].code).map(|d| d.form) {
        Some(Form::RetK | Form::RetA) => {}
        _ => {
            return Err(err(
                Some(flen - 1),
                Rule::NoFinalRet,
                "the last instruction must be `ret #k` or `ret a`",
            ))
        }
    }
    check_load_and_stores(prog)
}

/// `check_load_and_stores()`: one pass in program order with a 16-bit "written" mask per
/// instruction; a jump ANDs its mask into its targets and the next instruction starts from
/// all-valid (only jumps reach it). Note the kernel does not reset the mask after `ret`.
fn check_load_and_stores(prog: &[SockFilter]) -> Result<(), CheckError> {
    let mut masks = vec![0xffffu16; prog.len()];
    let mut valid: u16 = 0;
    for (pc, f) in prog.iter().enumerate() {
        valid &= masks[pc];
        match lookup(f.code).map(|d| d.form) {
            Some(Form::St | Form::Stx) => valid |= 1 << f.k,
            Some(Form::LdMem | Form::LdxMem) if valid & (1 << f.k) == 0 => {
                return Err(err(
                    Some(pc),
                    Rule::MemReadBeforeWrite,
                    format!("M[{}] is read but not written on every path to here", f.k),
                ));
            }
            Some(Form::Ja) => {
                masks[pc + 1 + f.k as usize] &= valid;
                valid = 0xffff;
            }
            Some(Form::Jmp(..)) => {
                masks[pc + 1 + f.jt as usize] &= valid;
                masks[pc + 1 + f.jf as usize] &= valid;
                valid = 0xffff;
            }
            _ => {}
        }
    }
    Ok(())
}

/// `seccomp_check_filter()`.
fn check_seccomp(prog: &[SockFilter]) -> Result<(), CheckError> {
    for (pc, f) in prog.iter().enumerate() {
        let form = lookup(f.code).map(|d| d.form);
        match form {
            Some(Form::LdAbs(super::Size::W)) => {
                if f.k >= 64 || f.k & 3 != 0 {
                    return Err(err(
                        Some(pc),
                        Rule::SeccompLoad,
                        format!("ld [{}]: seccomp loads aligned 32-bit words inside struct seccomp_data (0, 4, ..., 60)", f.k),
                    ));
                }
            }
            Some(
                Form::LdLen
                | Form::LdxLen
                | Form::RetK
                | Form::RetA
                | Form::LdImm
                | Form::LdxImm
                | Form::Tax
                | Form::Txa
                | Form::LdMem
                | Form::LdxMem
                | Form::St
                | Form::Stx
                | Form::Ja
                | Form::Jmp(..),
            ) => {}
            Some(Form::Alu(op, _)) if op != super::AluOp::Mod => {}
            _ => {
                let name = super::bpf_asm::print_insn(f, pc, prog.len(), &|t| t.to_string());
                return Err(err(
                    Some(pc),
                    Rule::SeccompOpcode,
                    format!("`{name}` is not allowed in a seccomp filter"),
                ));
            }
        }
    }
    Ok(())
}
