//! The disassembler: the readable form of a filter, naming syscalls by the architecture
//! the filter's own checks establish (a forward data-flow pass over what A holds).

use super::{Action, Arch, AUDIT_ARCHES, X32_SYSCALL_BIT};
use crate::cbpf::bpf_asm::{has_stray_fields, targets};
use crate::cbpf::{lookup, AluOp, Form, JmpOp, Size, SockFilter, Src};

/// What A holds, for choosing names in the disassembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holds {
    Nr,
    Arch,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    arch: Option<Arch>,
    a: Holds,
}

fn merge(into: &mut Option<State>, s: State) {
    *into = Some(match *into {
        None => s,
        Some(o) => State {
            arch: if o.arch == s.arch { o.arch } else { None },
            a: if o.a == s.a { o.a } else { Holds::Other },
        },
    });
}

/// The data-flow states on entry to each instruction (jumps are forward-only, so one pass
/// in order sees every predecessor first).
fn states(prog: &[SockFilter], arch: Arch) -> Vec<Option<State>> {
    let n = prog.len();
    let mut st: Vec<Option<State>> = vec![None; n];
    if n > 0 {
        st[0] = Some(State {
            arch: Some(arch),
            a: Holds::Other,
        });
    }
    for pc in 0..n {
        let Some(s) = st[pc] else { continue };
        let f = prog[pc];
        let to = |off: u64, s: State, st: &mut Vec<Option<State>>| {
            let t = pc as u64 + 1 + off;
            if t < n as u64 {
                merge(&mut st[t as usize], s);
            }
        };
        let form = if has_stray_fields(&f) {
            None
        } else {
            lookup(f.code).map(|d| d.form)
        };
        match form {
            Some(Form::RetK | Form::RetA | Form::RetX) => {}
            Some(Form::Ja) => to(f.k as u64, s, &mut st),
            Some(Form::Jmp(op, src)) => {
                let mut t = s;
                if op == JmpOp::Jeq && src == Src::K && s.a == Holds::Arch {
                    // An architecture without a table (s390x, ...) names nothing.
                    t.arch = Arch::from_audit(f.k);
                }
                to(f.jt as u64, t, &mut st);
                to(f.jf as u64, s, &mut st);
            }
            Some(Form::LdAbs(Size::W)) => {
                let a = match f.k {
                    0 => Holds::Nr,
                    4 => Holds::Arch,
                    _ => Holds::Other,
                };
                to(0, State { a, ..s }, &mut st);
            }
            Some(
                Form::Tax
                | Form::St
                | Form::Stx
                | Form::LdxImm
                | Form::LdxMem
                | Form::LdxLen
                | Form::LdxMsh,
            ) => to(0, s, &mut st),
            _ => to(
                0,
                State {
                    a: Holds::Other,
                    ..s
                },
                &mut st,
            ),
        }
    }
    st
}

fn num(k: u32) -> String {
    if k < 10 {
        k.to_string()
    } else {
        format!("{k:#x}")
    }
}

fn field_name(k: u32) -> String {
    match k {
        0 => "sys_number".into(),
        4 => "arch".into(),
        8 => "instruction_pointer".into(),
        12 => "instruction_pointer_hi".into(),
        16..=63 if k % 4 == 0 => {
            let i = (k - 16) / 8;
            if k % 8 == 0 {
                format!("args[{i}]")
            } else {
                format!("args_hi[{i}]")
            }
        }
        _ => format!("data[{}]", num(k)),
    }
}

/// The readable form of a return value: an action when the value is a canonical one.
pub fn ret_name(k: u32) -> String {
    let a = Action::from_ret(k);
    match a {
        Action::Unknown(_) => format!("{k:#010x}"),
        Action::Trap(_) | Action::Errno(_) | Action::Trace(_) => a.to_string(),
        _ if a.to_ret() == k => a.to_string(),
        _ => format!("{k:#010x}"),
    }
}

/// Disassembles to the readable form; `arch` names syscalls until the filter's own arch
/// checks say otherwise. The text reassembles to the same instructions.
pub fn disassemble(prog: &[SockFilter], arch: Arch) -> String {
    let is_target = targets(prog);
    let st = states(prog, arch);
    let label = |i: usize| format!("l{i}");
    let n = prog.len();
    let tgt = |pc: usize, off: u64| -> String {
        let t = pc as u64 + 1 + off;
        if t < n as u64 {
            label(t as usize)
        } else {
            t.to_string()
        }
    };
    let mut textual: Option<Arch> = None;
    let mut out = String::new();
    for (pc, f) in prog.iter().enumerate() {
        let s = st[pc].unwrap_or(State {
            arch: None,
            a: Holds::Other,
        });
        let form = if has_stray_fields(f) {
            None
        } else {
            lookup(f.code).map(|d| d.form)
        };
        let mut pre = String::new();
        let k = f.k;
        // `mem[k]` exists for k < 16 only; the parser refuses others, so they print raw.
        let bad_mem = matches!(
            form,
            Some(Form::LdMem | Form::LdxMem | Form::St | Form::Stx)
        ) && k >= 16;
        let line = match form {
            _ if bad_mem => format!(".raw {:#06x}, {}, {}, {:#x}", f.code, f.jt, f.jf, k),
            None | Some(Form::LdAbs(Size::H | Size::B) | Form::LdInd(_) | Form::LdxMsh) => {
                format!(".raw {:#06x}, {}, {}, {:#x}", f.code, f.jt, f.jf, k)
            }
            Some(Form::LdAbs(Size::W)) => format!("A = {}", field_name(k)),
            Some(Form::LdLen) => "A = len".into(),
            Some(Form::LdxLen) => "X = len".into(),
            Some(Form::LdImm) => format!("A = {}", num(k)),
            Some(Form::LdxImm) => format!("X = {}", num(k)),
            Some(Form::LdMem) => format!("A = mem[{k}]"),
            Some(Form::LdxMem) => format!("X = mem[{k}]"),
            Some(Form::St) => format!("mem[{k}] = A"),
            Some(Form::Stx) => format!("mem[{k}] = X"),
            Some(Form::Alu(AluOp::Neg, _)) => "A = -A".into(),
            Some(Form::Alu(op, Src::K)) => format!("A {} {}", op.operator(), num(k)),
            Some(Form::Alu(op, Src::X)) => format!("A {} X", op.operator()),
            Some(Form::Tax) => "X = A".into(),
            Some(Form::Txa) => "A = X".into(),
            Some(Form::Ja) => format!("goto {}", tgt(pc, k as u64)),
            Some(Form::RetK) => format!("return {}", ret_name(k)),
            Some(Form::RetA) => "return A".into(),
            Some(Form::RetX) => "return X".into(),
            Some(Form::Jmp(op, src)) => {
                let value = match src {
                    Src::X => "X".to_string(),
                    Src::K => match s.a {
                        Holds::Arch => match AUDIT_ARCHES.iter().find(|a| a.1 == k) {
                            Some(a) => {
                                if let Some(ar) = Arch::from_audit(k) {
                                    textual = Some(ar);
                                }
                                format!("ARCH_{}", a.0)
                            }
                            None => num(k),
                        },
                        Holds::Nr => match s
                            .arch
                            .map(|a| {
                                if a == Arch::X86_64 && k & X32_SYSCALL_BIT != 0 {
                                    Arch::X32
                                } else {
                                    a
                                }
                            })
                            .and_then(|a| a.syscall_name(k).map(|n| (a, n)))
                        {
                            Some((a, name)) => {
                                if textual != Some(a) {
                                    pre = format!(".arch {a}\n");
                                    textual = Some(a);
                                }
                                name.to_string()
                            }
                            None => num(k),
                        },
                        Holds::Other => num(k),
                    },
                };
                let (pos, neg) = match op {
                    JmpOp::Jeq => ("==", "!="),
                    JmpOp::Jgt => (">", "<="),
                    JmpOp::Jge => (">=", "<"),
                    JmpOp::Jset => ("&", ""),
                };
                let (jt, jf) = (f.jt as u64, f.jf as u64);
                if jf == 0 {
                    format!("if (A {pos} {value}) goto {}", tgt(pc, jt))
                } else if jt == 0 {
                    if op == JmpOp::Jset {
                        format!("if !(A & {value}) goto {}", tgt(pc, jf))
                    } else {
                        format!("if (A {neg} {value}) goto {}", tgt(pc, jf))
                    }
                } else {
                    format!(
                        "if (A {pos} {value}) goto {} else goto {}",
                        tgt(pc, jt),
                        tgt(pc, jf)
                    )
                }
            }
        };
        out.push_str(&pre);
        if is_target[pc] {
            out.push_str(&label(pc));
            out.push_str(": ");
        } else {
            out.push_str("    ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
