//! A readable form for seccomp filters, in the spirit of seccomp-tools' disassembly:
//!
//! ```text
//! .arch x86_64                      # or `#arch x86_64`; see "Syscall names" below
//!     A = arch
//!     if (A != ARCH_X86_64) goto kill
//!     A = sys_number
//!     if (A == openat) goto deny else goto next
//! next:
//!     A = args[1]                   # args_hi[1] is the high word; args are u64
//!     if (A & 0x40) goto deny
//!     return ALLOW
//! deny: return ERRNO(1)
//! kill: return KILL_PROCESS
//! ```
//!
//! Statements: `A = arch | sys_number | instruction_pointer | instruction_pointer_hi |
//! args[i] | args_hi[i] | data[k] | len | X | mem[k] | CONST`, `X = A | len | mem[k] |
//! CONST`, `mem[k] = A | X`, `A op= CONST | X` (`+= -= *= /= %= &= |= ^= <<= >>=`),
//! `A = -A`, `if (A op CONST|X) goto L [else goto L]` (`== != > >= < <= &`, and
//! `if !(A & K)`), `goto L`, `return ACTION | A | X | CONST`, labels `name:`, and
//! `.raw code, jt, jf, k` for what has no readable form. A jump target is a label, `next`
//! (the following instruction, unless a label is called that), or an absolute instruction
//! number. Comments start with `#` or `//`.
//!
//! seccomp-tools spellings are accepted too: `A == K ? L1 : L2`, `A = args[i] >> 32`,
//! `A = instruction_pointer >> 32`, `A = data[k]`, `return KILL`. (Unlike seccomp-tools,
//! a numeric `goto N` is an absolute instruction number, as in disassembly listings, and
//! an `if` is written on one line.)
//!
//! Constants: numbers, `ARCH_*` / `AUDIT_ARCH_*`, `SECCOMP_RET_*`, actions (`ALLOW`,
//! `KILL_PROCESS`, `KILL_THREAD` = `KILL`, `TRAP(n)`, `ERRNO(n)`, `TRACE(n)`, `LOG`,
//! `USER_NOTIF`) and syscall names.
//!
//! Syscall names: the architecture is set by `.arch NAME` (`x86_64`, `i386`, `x32`,
//! `aarch64`, `arm`, `riscv64`) and, textually, by every comparison written with an
//! `ARCH_*` name (`if (A != ARCH_I386) ...` makes later names i386 ones). x32 shares
//! `ARCH_X86_64` with x86_64, so its names need `.arch x32`. The disassembler follows the
//! filter's own arch checks by data flow and writes `.arch` where the text would differ
//! (numbers with `__X32_SYSCALL_BIT` under `ARCH_X86_64` are named as x32 calls).
//!
//! A conditional branch farther than 255 instructions goes through an inserted `ja`.
//!
//! ```
//! use asm::cbpf::seccomp::{self, Arch};
//! let prog = seccomp::assemble(".arch x86_64\nA = sys_number\nif (A == getpid) goto no\nreturn ALLOW\nno: return ERRNO(1)\n").unwrap();
//! assert_eq!(prog[1].k, 39);
//! let text = seccomp::disassemble(&prog, Arch::X86_64);
//! assert!(text.contains("if (A == getpid) goto l3"));
//! assert_eq!(seccomp::assemble(&text).unwrap(), prog);
//! ```

mod disasm;
mod lexer;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        missing_docs,
        unused_parens,
        missing_debug_implementations
    )]
    grammar,
    "/cbpf/seccomp/grammar.rs"
);

use super::bpf_asm::{parse_error, raw_fields};
use super::text::{resolve, CStmt, Target};
use super::{code_of, AluOp, Form, JmpOp, Size, SockFilter, Src};
use crate::diag::{Diagnostic, Span};
use std::fmt;
use std::sync::OnceLock;

pub use disasm::{disassemble, ret_name};

/// `AUDIT_ARCH_*` values (`include/uapi/linux/audit.h`), without the prefix.
pub const AUDIT_ARCHES: &[(&str, u32)] = &[
    ("X86_64", 0xc000_003e),
    ("I386", 0x4000_0003),
    ("AARCH64", 0xc000_00b7),
    ("ARM", 0x4000_0028),
    ("RISCV64", 0xc000_00f3),
    ("RISCV32", 0x4000_00f3),
    ("PPC", 0x0000_0014),
    ("PPC64", 0x8000_0015),
    ("PPC64LE", 0xc000_0015),
    ("S390", 0x0000_0016),
    ("S390X", 0x8000_0016),
    ("MIPS", 0x0000_0008),
    ("MIPSEL", 0x4000_0008),
    ("MIPS64", 0x8000_0008),
    ("MIPSEL64", 0xc000_0008),
    ("LOONGARCH64", 0xc000_0102),
];

/// `SECCOMP_RET_*` values (`include/uapi/linux/seccomp.h`), without the prefix.
pub const RET_CONSTS: &[(&str, u32)] = &[
    ("KILL_PROCESS", 0x8000_0000),
    ("KILL_THREAD", 0x0000_0000),
    ("KILL", 0x0000_0000),
    ("TRAP", 0x0003_0000),
    ("ERRNO", 0x0005_0000),
    ("USER_NOTIF", 0x7fc0_0000),
    ("TRACE", 0x7ff0_0000),
    ("LOG", 0x7ffc_0000),
    ("ALLOW", 0x7fff_0000),
    ("ACTION_FULL", 0xffff_0000),
    ("ACTION", 0x7fff_0000),
    ("DATA", 0x0000_ffff),
];

/// `__X32_SYSCALL_BIT`: x32 system call numbers have it set.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Architectures with syscall-name tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Arch {
    X86_64,
    I386,
    X32,
    Aarch64,
    Arm,
    Riscv64,
}

fn parse_table(text: &'static str) -> Vec<(&'static str, u32)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, nr) = l
                .split_once(' ')
                .expect("syscall table lines are `name number`");
            (
                name,
                nr.trim().parse().expect("syscall numbers are decimal"),
            )
        })
        .collect()
}

impl Arch {
    /// Every architecture.
    pub const ALL: [Arch; 6] = [
        Arch::X86_64,
        Arch::I386,
        Arch::X32,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Riscv64,
    ];

    /// The name used by `.arch` and `--arch`.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::X32 => "x32",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// By name (also `amd64`, `x86`, `arm64`).
    pub fn from_name(name: &str) -> Option<Arch> {
        Some(match name.to_ascii_lowercase().as_str() {
            "x86_64" | "amd64" => Arch::X86_64,
            "i386" | "x86" | "i686" => Arch::I386,
            "x32" => Arch::X32,
            "aarch64" | "arm64" => Arch::Aarch64,
            "arm" | "armhf" | "armel" => Arch::Arm,
            "riscv64" => Arch::Riscv64,
            _ => return None,
        })
    }

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub const fn audit(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => 0xc000_003e,
            Arch::I386 => 0x4000_0003,
            Arch::Aarch64 => 0xc000_00b7,
            Arch::Arm => 0x4000_0028,
            Arch::Riscv64 => 0xc000_00f3,
        }
    }

    /// The architecture an `AUDIT_ARCH_*` value names (x86_64 for the value x32 shares).
    pub fn from_audit(audit: u32) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.audit() == audit)
    }

    /// `(name, number)` for every system call, by number. Generated from the kernel's
    /// syscall tables (see `src/cbpf/syscalls/`); x32 numbers include `__X32_SYSCALL_BIT`.
    pub fn syscalls(self) -> &'static [(&'static str, u32)] {
        static T: [OnceLock<Vec<(&'static str, u32)>>; 6] = [const { OnceLock::new() }; 6];
        let (i, text) = match self {
            Arch::X86_64 => (0, include_str!("../syscalls/x86_64.txt")),
            Arch::I386 => (1, include_str!("../syscalls/i386.txt")),
            Arch::X32 => (2, include_str!("../syscalls/x32.txt")),
            Arch::Aarch64 => (3, include_str!("../syscalls/aarch64.txt")),
            Arch::Arm => (4, include_str!("../syscalls/arm.txt")),
            Arch::Riscv64 => (5, include_str!("../syscalls/riscv64.txt")),
        };
        T[i].get_or_init(|| parse_table(text))
    }

    /// The number of a system call.
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        self.syscalls().iter().find(|s| s.0 == name).map(|s| s.1)
    }

    /// The name of a system call number.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        self.syscalls().iter().find(|s| s.1 == nr).map(|s| s.0)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a seccomp filter's return value asks for (`SECCOMP_RET_ACTION_FULL` + data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Action {
    /// Kill the process (`SECCOMP_RET_KILL_PROCESS`).
    KillProcess,
    /// Kill the thread (`SECCOMP_RET_KILL_THREAD`, 0).
    KillThread,
    /// Send SIGSYS with `si_errno` = data.
    Trap(u16),
    /// Fail with errno = data (capped at 4095 by the kernel).
    Errno(u16),
    /// Ask the user-space notifier.
    UserNotif,
    /// Notify a ptrace tracer with the data.
    Trace(u16),
    /// Allow and log.
    Log,
    /// Allow.
    Allow,
    /// A value with no known action: the kernel kills the process.
    Unknown(u32),
}

impl Action {
    /// Decodes a filter's return value (`SECCOMP_RET_ACTION_FULL` selects the action).
    pub fn from_ret(ret: u32) -> Action {
        let data = (ret & 0xffff) as u16;
        match ret & 0xffff_0000 {
            0x8000_0000 => Action::KillProcess,
            0x0000_0000 => Action::KillThread,
            0x0003_0000 => Action::Trap(data),
            0x0005_0000 => Action::Errno(data),
            0x7fc0_0000 => Action::UserNotif,
            0x7ff0_0000 => Action::Trace(data),
            0x7ffc_0000 => Action::Log,
            0x7fff_0000 => Action::Allow,
            _ => Action::Unknown(ret),
        }
    }

    /// The canonical return value.
    pub fn to_ret(self) -> u32 {
        match self {
            Action::KillProcess => 0x8000_0000,
            Action::KillThread => 0,
            Action::Trap(d) => 0x0003_0000 | d as u32,
            Action::Errno(d) => 0x0005_0000 | d as u32,
            Action::UserNotif => 0x7fc0_0000,
            Action::Trace(d) => 0x7ff0_0000 | d as u32,
            Action::Log => 0x7ffc_0000,
            Action::Allow => 0x7fff_0000,
            Action::Unknown(r) => r,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::KillProcess => f.write_str("KILL_PROCESS"),
            Action::KillThread => f.write_str("KILL_THREAD"),
            Action::Trap(d) => write!(f, "TRAP({d})"),
            Action::Errno(d) => write!(f, "ERRNO({d})"),
            Action::UserNotif => f.write_str("USER_NOTIF"),
            Action::Trace(d) => write!(f, "TRACE({d})"),
            Action::Log => f.write_str("LOG"),
            Action::Allow => f.write_str("ALLOW"),
            Action::Unknown(r) => write!(f, "UNKNOWN({r:#010x})"),
        }
    }
}

/// How the kernel combines stacked filters (`seccomp_run_filters()`): `rets` are the
/// return values in run order, newest filter first; the lowest action wins, compared as
/// signed 32-bit `ret & SECCOMP_RET_ACTION_FULL`, and ties go to the earlier (newer) one.
/// Returns the index of the winning filter.
pub fn combine(rets: &[u32]) -> Option<usize> {
    let key = |r: u32| (r & 0xffff_0000) as i32;
    let mut best: Option<usize> = None;
    for (i, &r) in rets.iter().enumerate() {
        if best.map_or(true, |b| key(r) < key(rets[b])) {
            best = Some(i);
        }
    }
    best
}

/// One parsed line (grammar output).
#[doc(hidden)]
#[derive(Debug)]
pub struct SLine<'s> {
    pub label: Option<(&'s str, Span)>,
    pub stmt: Option<(SStmt<'s>, Span)>,
}

/// Statements (grammar output).
#[doc(hidden)]
#[derive(Debug)]
pub enum SStmt<'s> {
    Assign(Val<'s>, Val<'s>),
    AssignShr(Val<'s>, Val<'s>, Val<'s>),
    Neg(Val<'s>, Val<'s>),
    Alu(Val<'s>, AluOp, Val<'s>),
    If(Val<'s>, Cmp, Val<'s>, Val<'s>, Option<Val<'s>>),
    Goto(Val<'s>),
    Return(Val<'s>),
    Directive(Val<'s>, Vec<Val<'s>>),
}

/// Comparisons (grammar output).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Set,
    NotSet,
}

/// A value and its span (grammar output).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Val<'s> {
    pub v: V<'s>,
    pub span: Span,
}

/// Value shapes (grammar output).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum V<'s> {
    Num(i128),
    Name(&'s str),
    Call(&'s str, i128),
    Index(&'s str, i128),
}

fn strip_comment(line: &str) -> String {
    let t = line.trim_start();
    let mut s = line.to_string();
    if t.starts_with("#arch") {
        let at = line.len() - t.len();
        s.replace_range(at..at + 1, ".");
    }
    let cut = [s.find('#'), s.find("//")].into_iter().flatten().min();
    if let Some(c) = cut {
        s.truncate(c);
    }
    s
}

/// Parses the seccomp dialect into statements, reporting every error.
pub fn parse(src: &str) -> Result<Vec<CStmt>, Vec<Diagnostic>> {
    let mut stmts = Vec::new();
    let mut errors = Vec::new();
    let mut base = 0;
    let mut arch: Option<Arch> = None;
    for raw in src.split_inclusive('\n') {
        let text = raw.trim_end_matches(['\n', '\r']);
        let line = strip_comment(text);
        let tokens = lexer::lex(&line, base);
        let line_base = base;
        base += raw.len();
        if tokens.is_empty() {
            continue;
        }
        match grammar::LineParser::new().parse(tokens) {
            Ok(l) => {
                if let Some((name, span)) = l.label {
                    stmts.push(CStmt::Label(name.to_string(), span));
                }
                if let Some((s, span)) = l.stmt {
                    match lower(s, span, &mut arch) {
                        Ok(Some(s)) => stmts.push(s),
                        Ok(None) => {}
                        Err(e) => errors.push(e),
                    }
                }
            }
            Err(e) => errors.push(parse_error(e, line_base + line.trim_end().len())),
        }
    }
    if errors.is_empty() {
        Ok(stmts)
    } else {
        Err(errors)
    }
}

/// Assembles the seccomp dialect; far conditional branches get `ja` trampolines.
pub fn assemble(src: &str) -> Result<Vec<SockFilter>, Vec<Diagnostic>> {
    resolve(parse(src)?, true)
}

fn k32(n: i128, span: Span) -> Result<u32, Diagnostic> {
    if (-(1i128 << 31)..(1i128 << 32)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(
            Diagnostic::error(span, format!("{n} does not fit in 32 bits"))
                .with_expected(["-2147483648 ..= 4294967295"]),
        )
    }
}

fn is_reg(v: &Val<'_>, r: &str) -> bool {
    matches!(v.v, V::Name(n) if n.eq_ignore_ascii_case(r))
}

/// The `seccomp_data` offset a value names.
fn field(v: &Val<'_>) -> Result<Option<u32>, Diagnostic> {
    let arg = |i: i128, hi: bool| -> Result<Option<u32>, Diagnostic> {
        if (0..6).contains(&i) {
            Ok(Some(16 + 8 * i as u32 + if hi { 4 } else { 0 }))
        } else {
            Err(Diagnostic::error(
                v.span,
                format!("there are 6 arguments; args[{i}] does not exist"),
            )
            .with_expected(["args[0] ..= args[5]"]))
        }
    };
    Ok(match v.v {
        V::Name("sys_number" | "nr" | "syscall") => Some(0),
        V::Name("arch") => Some(4),
        V::Name("instruction_pointer" | "ip") => Some(8),
        V::Name("instruction_pointer_hi" | "ip_hi") => Some(12),
        V::Index("args" | "arg", i) => return arg(i, false),
        V::Index("args_hi" | "arg_hi", i) => return arg(i, true),
        V::Index("data", k) => Some(k32(k, v.span)?),
        _ => None,
    })
}

fn mem(v: &Val<'_>) -> Result<Option<u32>, Diagnostic> {
    match v.v {
        V::Index("mem" | "M", k) => {
            if (0..16).contains(&k) {
                Ok(Some(k as u32))
            } else {
                Err(
                    Diagnostic::error(v.span, format!("mem[{k}] does not exist"))
                        .with_expected(["mem[0] ..= mem[15]"]),
                )
            }
        }
        _ => Ok(None),
    }
}

fn data16(n: i128, span: Span) -> Result<u32, Diagnostic> {
    if (0..=0xffff).contains(&n) {
        Ok(n as u32)
    } else {
        Err(
            Diagnostic::error(span, format!("action data {n} does not fit in 16 bits"))
                .with_expected(["0 ..= 65535"]),
        )
    }
}

/// An action spelled `ALLOW`, `ERRNO(1)`, ...
fn action(v: &Val<'_>) -> Option<Result<u32, Diagnostic>> {
    let (name, data) = match v.v {
        V::Name(n) => (n, None),
        V::Call(n, d) => (n, Some(d)),
        _ => return None,
    };
    let name = name.strip_prefix("SECCOMP_RET_").unwrap_or(name);
    let base = match name {
        "KILL_PROCESS" | "KILL_THREAD" | "KILL" | "LOG" | "ALLOW" | "USER_NOTIF" => {
            if data.is_some() {
                return Some(Err(Diagnostic::error(
                    v.span,
                    format!("{name} takes no data"),
                )));
            }
            RET_CONSTS.iter().find(|c| c.0 == name)?.1
        }
        "TRAP" | "ERRNO" | "TRACE" => RET_CONSTS.iter().find(|c| c.0 == name)?.1,
        _ => return None,
    };
    Some(match data {
        None => Ok(base),
        Some(d) => data16(d, v.span).map(|d| base | d),
    })
}

fn audit_arch(name: &str) -> Option<u32> {
    let n = name
        .strip_prefix("AUDIT_ARCH_")
        .or_else(|| name.strip_prefix("ARCH_"))?;
    AUDIT_ARCHES.iter().find(|a| a.0 == n).map(|a| a.1)
}

/// A constant: number, `ARCH_*`, `SECCOMP_RET_*`, action, or a syscall name.
fn konst(v: &Val<'_>, arch: Option<Arch>) -> Result<u32, Diagnostic> {
    match v.v {
        V::Num(n) => k32(n, v.span),
        V::Name(n) => {
            if let Some(a) = audit_arch(n) {
                return Ok(a);
            }
            if n == "X32_SYSCALL_BIT" || n == "__X32_SYSCALL_BIT" {
                return Ok(X32_SYSCALL_BIT);
            }
            if let Some(r) = n
                .strip_prefix("SECCOMP_RET_")
                .and_then(|r| RET_CONSTS.iter().find(|c| c.0 == r))
            {
                return Ok(r.1);
            }
            if let Some(a) = action(v) {
                return a;
            }
            match arch {
                Some(a) => a.syscall_nr(n).ok_or_else(|| {
                    Diagnostic::error(
                        v.span,
                        format!("`{n}` is no {a} system call and no known constant"),
                    )
                    .with_help("write a number, or change the architecture with `.arch NAME`")
                }),
                None => Err(Diagnostic::error(
                    v.span,
                    format!(
                        "`{n}` is no known constant, and no architecture is set for syscall names"
                    ),
                )
                .with_help("add `.arch x86_64` (or compare A with ARCH_* first)")),
            }
        }
        V::Call(..) => action(v).unwrap_or_else(|| {
            Err(Diagnostic::error(v.span, "unknown action")
                .with_expected(["TRAP(n)", "ERRNO(n)", "TRACE(n)"]))
        }),
        V::Index(..) => {
            Err(Diagnostic::error(v.span, "expected a constant")
                .with_expected(["a number", "a name"]))
        }
    }
}

fn target(v: &Val<'_>) -> Result<Target, Diagnostic> {
    match v.v {
        V::Name(n) => Ok(Target::Label(n.to_string(), v.span)),
        V::Num(n) if n >= 0 => Ok(Target::Abs(n as u64, v.span)),
        _ => Err(Diagnostic::error(v.span, "expected a jump target")
            .with_expected(["a label", "an instruction number"])),
    }
}

fn plain(code: u16, k: u32, span: Span) -> CStmt {
    CStmt::Insn {
        code,
        k,
        jt: Target::Next,
        jf: Target::Next,
        span,
    }
}

fn lower(s: SStmt<'_>, span: Span, arch: &mut Option<Arch>) -> Result<Option<CStmt>, Diagnostic> {
    let bad = |v: &Val<'_>, what: &str, expected: &[&str]| -> Diagnostic {
        Diagnostic::error(v.span, what.to_string()).with_expected(expected.iter().copied())
    };
    Ok(Some(match s {
        SStmt::Assign(lhs, rhs) => {
            if is_reg(&lhs, "A") {
                if is_reg(&rhs, "X") {
                    plain(code_of(Form::Txa), 0, span)
                } else if let Some(k) = field(&rhs)? {
                    plain(code_of(Form::LdAbs(Size::W)), k, span)
                } else if rhs.v == V::Name("len") {
                    plain(code_of(Form::LdLen), 0, span)
                } else if let Some(k) = mem(&rhs)? {
                    plain(code_of(Form::LdMem), k, span)
                } else {
                    plain(code_of(Form::LdImm), konst(&rhs, *arch)?, span)
                }
            } else if is_reg(&lhs, "X") {
                if is_reg(&rhs, "A") {
                    plain(code_of(Form::Tax), 0, span)
                } else if rhs.v == V::Name("len") {
                    plain(code_of(Form::LdxLen), 0, span)
                } else if let Some(k) = mem(&rhs)? {
                    plain(code_of(Form::LdxMem), k, span)
                } else {
                    plain(code_of(Form::LdxImm), konst(&rhs, *arch)?, span)
                }
            } else if let Some(k) = mem(&lhs)? {
                if is_reg(&rhs, "A") {
                    plain(code_of(Form::St), k, span)
                } else if is_reg(&rhs, "X") {
                    plain(code_of(Form::Stx), k, span)
                } else {
                    return Err(bad(&rhs, "only A or X can be stored", &["A", "X"]));
                }
            } else {
                return Err(bad(&lhs, "cannot assign to this", &["A", "X", "mem[k]"]));
            }
        }
        SStmt::AssignShr(lhs, rhs, n) => {
            // seccomp-tools' spelling of the high words: `args[i] >> 32`,
            // `instruction_pointer >> 32` (a 32-bit load of the upper half).
            let hi = match (field(&rhs)?, &n.v) {
                (Some(k @ (8 | 16 | 24 | 32 | 40 | 48 | 56)), V::Num(32)) => k + 4,
                _ => {
                    return Err(Diagnostic::error(
                        rhs.span.to(n.span),
                        "only `args[i] >> 32` and `instruction_pointer >> 32` can be loaded",
                    )
                    .with_help("classic BPF loads 32-bit words; `>> 32` selects the upper one"))
                }
            };
            if !is_reg(&lhs, "A") {
                return Err(bad(&lhs, "loads go to A", &["A"]));
            }
            plain(code_of(Form::LdAbs(Size::W)), hi, span)
        }
        SStmt::Neg(lhs, rhs) => {
            if is_reg(&lhs, "A") && is_reg(&rhs, "A") {
                plain(code_of(Form::Alu(AluOp::Neg, Src::K)), 0, span)
            } else {
                return Err(Diagnostic::error(span, "negation is only `A = -A`"));
            }
        }
        SStmt::Alu(lhs, op, rhs) => {
            if !is_reg(&lhs, "A") {
                return Err(bad(&lhs, "arithmetic works on A", &["A"]));
            }
            if is_reg(&rhs, "X") {
                plain(code_of(Form::Alu(op, Src::X)), 0, span)
            } else {
                plain(code_of(Form::Alu(op, Src::K)), konst(&rhs, *arch)?, span)
            }
        }
        SStmt::If(a, cmp, b, t, e) => {
            if !is_reg(&a, "A") {
                return Err(bad(&a, "comparisons test A", &["A"]));
            }
            let (src, k) = if is_reg(&b, "X") {
                (Src::X, 0)
            } else {
                (Src::K, konst(&b, *arch)?)
            };
            if let V::Name(n) = b.v {
                if let Some(a) = audit_arch(n).and_then(Arch::from_audit) {
                    // Names after an arch check are that arch's (x32 shares x86_64's value).
                    *arch = Some(a);
                }
            }
            let (op, negated) = match cmp {
                Cmp::Eq => (JmpOp::Jeq, false),
                Cmp::Ne => (JmpOp::Jeq, true),
                Cmp::Gt => (JmpOp::Jgt, false),
                Cmp::Le => (JmpOp::Jgt, true),
                Cmp::Ge => (JmpOp::Jge, false),
                Cmp::Lt => (JmpOp::Jge, true),
                Cmp::Set => (JmpOp::Jset, false),
                Cmp::NotSet => (JmpOp::Jset, true),
            };
            let t = target(&t)?;
            let e = match e {
                Some(e) => target(&e)?,
                None => Target::Next,
            };
            let (jt, jf) = if negated { (e, t) } else { (t, e) };
            CStmt::Insn {
                code: code_of(Form::Jmp(op, src)),
                k,
                jt,
                jf,
                span,
            }
        }
        SStmt::Goto(t) => CStmt::Insn {
            code: code_of(Form::Ja),
            k: 0,
            jt: target(&t)?,
            jf: Target::Next,
            span,
        },
        SStmt::Return(v) => {
            if is_reg(&v, "A") {
                plain(code_of(Form::RetA), 0, span)
            } else if is_reg(&v, "X") {
                plain(code_of(Form::RetX), 0, span)
            } else {
                plain(code_of(Form::RetK), konst(&v, *arch)?, span)
            }
        }
        SStmt::Directive(d, args) => match d.v {
            V::Name("arch") => {
                let [a] = args.as_slice() else {
                    return Err(Diagnostic::error(span, "`.arch` takes one name")
                        .with_expected(Arch::ALL.map(Arch::name)));
                };
                match a.v {
                    V::Name(n) if Arch::from_name(n).is_some() => {
                        *arch = Arch::from_name(n);
                        return Ok(None);
                    }
                    _ => return Err(bad(a, "unknown architecture", &Arch::ALL.map(Arch::name))),
                }
            }
            V::Name("raw") => {
                let mut vals = Vec::new();
                for a in &args {
                    match a.v {
                        V::Num(n) => vals.push((n, a.span)),
                        _ => return Err(bad(a, "`.raw` takes numbers", &["code, jt, jf, k"])),
                    }
                }
                raw_fields(&vals, span)?
            }
            _ => return Err(bad(&d, "unknown directive", &[".arch", ".raw"])),
        },
    }))
}
