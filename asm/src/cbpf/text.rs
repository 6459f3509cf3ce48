//! The statements both classic dialects parse into, and the one resolver that lays them
//! out: labels, absolute targets (`tcpdump -d` style), range checks, and (for the seccomp
//! dialect) `ja` trampolines for conditional jumps farther than 255 instructions.

use super::SockFilter;
use crate::diag::{Diagnostic, Span};
use std::collections::HashMap;

/// Where a jump goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A label.
    Label(String, Span),
    /// An absolute instruction index as written in the source's numbering (`jt 5`,
    /// `ja 12` of `tcpdump -d`, `goto 0012` of the seccomp form).
    Abs(u64, Span),
    /// The next instruction (offset 0).
    Next,
}

/// One parsed line item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CStmt {
    /// `name:`
    Label(String, Span),
    /// An instruction. For `ja`, `k` is ignored and `jt` holds the target.
    Insn {
        /// Opcode.
        code: u16,
        /// Constant operand (for jumps other than `ja`).
        k: u32,
        /// True target (for `ja`, the target).
        jt: Target,
        /// False target.
        jf: Target,
        /// The whole statement.
        span: Span,
    },
    /// `.raw code, jt, jf, k`: an instruction given field by field.
    Raw(SockFilter, Span),
}

fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == super::class::JMP && code & 0xf0 != 0
}
fn is_ja(code: u16) -> bool {
    code & 0x07 == super::class::JMP && code & 0xf0 == 0
}

/// Lays the statements out. With `trampolines`, a conditional branch farther than 255
/// instructions jumps to an inserted `ja` instead of being rejected.
pub(crate) fn resolve(
    stmts: Vec<CStmt>,
    trampolines: bool,
) -> Result<Vec<SockFilter>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    // Source-order instructions and the labels pointing at them.
    let mut insns: Vec<&CStmt> = Vec::new();
    let mut labels: HashMap<&str, (usize, Span)> = HashMap::new();
    for s in &stmts {
        match s {
            CStmt::Label(name, span) => {
                if let Some((_, first)) = labels.get(name.as_str()) {
                    errors.push(
                        Diagnostic::error(*span, format!("label `{name}` is defined twice"))
                            .with_note(format!("first defined at byte {}", first.start)),
                    );
                } else {
                    labels.insert(name, (insns.len(), *span));
                }
            }
            _ => insns.push(s),
        }
    }
    let n = insns.len();
    // Trampolines after each instruction: [jt needs one, jf needs one].
    let mut tramp = vec![[false; 2]; n];
    loop {
        let mut pos = Vec::with_capacity(n + 1);
        let mut p = 0usize;
        for t in &tramp {
            pos.push(p);
            p += 1 + t[0] as usize + t[1] as usize;
        }
        pos.push(p);
        let total = p;
        let place = |t: &Target, i: usize| -> Result<usize, Diagnostic> {
            match t {
                Target::Next => Ok(pos[i] + 1 + tramp[i][0] as usize + tramp[i][1] as usize),
                Target::Label(name, span) => match labels.get(name.as_str()) {
                    Some((idx, _)) => Ok(pos[*idx]),
                    // seccomp-tools' reserved `next`, when no label has that name.
                    None if name == "next" => {
                        Ok(pos[i] + 1 + tramp[i][0] as usize + tramp[i][1] as usize)
                    }
                    None => Err(Diagnostic::error(
                        *span,
                        format!("undefined label `{name}`"),
                    )),
                },
                Target::Abs(a, span) => {
                    let a = usize::try_from(*a)
                        .map_err(|_| Diagnostic::error(*span, "jump target too large"))?;
                    Ok(if a <= n { pos[a] } else { a - n + total })
                }
            }
        };
        let mut out = Vec::with_capacity(total);
        let mut changed = false;
        let mut marks = Vec::new();
        let mut errs = Vec::new();
        for (i, s) in insns.iter().enumerate() {
            let here = pos[i];
            match s {
                CStmt::Raw(f, _) => out.push(*f),
                CStmt::Insn {
                    code,
                    k,
                    jt,
                    jf,
                    span,
                } => {
                    let rel = |t: &Target| -> Result<u64, Diagnostic> {
                        let to = place(t, i)?;
                        if to <= here {
                            let sp = match t {
                                Target::Label(_, s) | Target::Abs(_, s) => *s,
                                Target::Next => *span,
                            };
                            return Err(Diagnostic::error(sp, "classic BPF jumps only forward")
                                .with_help("the target must come after the jump"));
                        }
                        Ok((to - here - 1) as u64)
                    };
                    if is_ja(*code) {
                        match rel(jt) {
                            Ok(off) if off <= u32::MAX as u64 => {
                                out.push(SockFilter::new(*code, 0, 0, off as u32))
                            }
                            Ok(_) => errs.push(Diagnostic::error(
                                *span,
                                "jump offset does not fit in 32 bits",
                            )),
                            Err(e) => errs.push(e),
                        }
                    } else if is_cond_jump(*code) {
                        let mut f = SockFilter::new(*code, 0, 0, *k);
                        let mut far = Vec::new();
                        for (b, t) in [jt, jf].into_iter().enumerate() {
                            match rel(t) {
                                Err(e) => errs.push(e),
                                Ok(off) => {
                                    if tramp[i][b] {
                                        // The branch goes to its trampoline, right after us.
                                        let slot = if b == 0 { 0 } else { tramp[i][0] as u8 };
                                        if b == 0 {
                                            f.jt = slot;
                                        } else {
                                            f.jf = slot;
                                        }
                                        far.push(off);
                                    } else if off > 255 {
                                        if trampolines {
                                            marks.push((i, b));
                                            changed = true;
                                        } else {
                                            let sp = match t {
                                                Target::Label(_, s) | Target::Abs(_, s) => *s,
                                                Target::Next => *span,
                                            };
                                            errs.push(
                                                Diagnostic::error(sp, format!("conditional jump of {off} instructions does not fit in 8 bits"))
                                                    .with_help("jt/jf reach at most 255 instructions; jump to a `ja` placed nearby"),
                                            );
                                        }
                                    } else if b == 0 {
                                        f.jt = off as u8;
                                    } else {
                                        f.jf = off as u8;
                                    }
                                }
                            }
                        }
                        out.push(f);
                        // `ja` at here+1+j has offset (target - (here+1+j) - 1) = off - j - 1.
                        for (j, off) in far.into_iter().enumerate() {
                            out.push(SockFilter::new(
                                super::class::JMP,
                                0,
                                0,
                                (off - j as u64 - 1) as u32,
                            ));
                        }
                    } else {
                        out.push(SockFilter::new(*code, 0, 0, *k));
                    }
                }
                CStmt::Label(..) => unreachable!("labels were separated above"),
            }
        }
        if changed {
            for (i, b) in marks {
                tramp[i][b] = true;
            }
            continue;
        }
        errors.extend(errs);
        if errors.is_empty() {
            return Ok(out);
        }
        errors.sort_by_key(|d| d.span);
        return Err(errors);
    }
}
