//! Every return value a seccomp filter can give for one system call, whatever the
//! arguments and instruction pointer: a walk of the program where values loaded from
//! `args[]` / `instruction_pointer` are unknown and a test on an unknown value takes both
//! branches (so correlated tests may add paths no real call takes: the set is an
//! over-approximation, and exact when the filter never tests arguments).

use super::RunError;
use asm::cbpf::{lookup, AluOp, Form, JmpOp, Size, SockFilter, Src};
use std::collections::{BTreeSet, HashSet};

/// A register or scratch value: known, or derived from the arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum V {
    Known(u32),
    Unknown,
}

/// The possible results of a filter for one `(nr, arch)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Possible {
    /// Return values some argument values lead to.
    pub rets: BTreeSet<u32>,
    /// Whether some path returns a value computed from the arguments (`ret a` of an
    /// unknown A), which could be anything.
    pub computed: bool,
    /// Whether the walk gave up (more than its step budget): the set is then incomplete.
    pub truncated: bool,
}

const BUDGET: usize = 200_000;

/// Walks `prog` for system call `nr` on audit arch `arch`.
pub fn possible_returns(prog: &[SockFilter], nr: u32, arch: u32) -> Result<Possible, RunError> {
    let mut out = Possible::default();
    let mut seen: HashSet<(usize, V, V, [V; 16])> = HashSet::new();
    let mut stack = vec![(0usize, V::Known(0), V::Known(0), [V::Known(0); 16])];
    let mut steps = 0;
    while let Some((mut pc, mut a, mut x, mut m)) = stack.pop() {
        loop {
            steps += 1;
            if steps > BUDGET {
                out.truncated = true;
                return Ok(out);
            }
            if !seen.insert((pc, a, x, m)) {
                break;
            }
            let Some(f) = prog.get(pc) else {
                return Err(RunError::FellOff);
            };
            let def = lookup(f.code).ok_or(RunError::UnknownOpcode {
                index: pc,
                code: f.code,
            })?;
            let k = f.k;
            let jump = |off: u64| -> Result<usize, RunError> {
                let t = pc as u64 + 1 + off;
                if t < prog.len() as u64 {
                    Ok(t as usize)
                } else {
                    Err(RunError::OutOfProgram { index: pc })
                }
            };
            let memk = |k: u32| -> Result<usize, RunError> {
                if k < 16 {
                    Ok(k as usize)
                } else {
                    Err(RunError::BadMem { index: pc, k })
                }
            };
            let mut next = pc + 1;
            match def.form {
                Form::LdAbs(Size::W) if k < 64 && k % 4 == 0 => {
                    a = match k {
                        0 => V::Known(nr),
                        4 => V::Known(arch),
                        _ => V::Unknown,
                    }
                }
                Form::LdAbs(_) | Form::LdInd(_) | Form::LdxMsh => {
                    return Err(RunError::NotSeccomp { index: pc })
                }
                Form::LdLen => a = V::Known(64),
                Form::LdxLen => x = V::Known(64),
                Form::LdImm => a = V::Known(k),
                Form::LdxImm => x = V::Known(k),
                Form::LdMem => a = m[memk(k)?],
                Form::LdxMem => x = m[memk(k)?],
                Form::St => m[memk(k)?] = a,
                Form::Stx => m[memk(k)?] = x,
                Form::Tax => x = a,
                Form::Txa => a = x,
                Form::Alu(op, src) => {
                    let v = match src {
                        Src::K => V::Known(k),
                        Src::X => x,
                    };
                    if matches!(op, AluOp::Div | AluOp::Mod) {
                        match v {
                            V::Known(0) => {
                                out.rets.insert(0);
                                break;
                            }
                            // A divisor from the arguments may be 0: that path returns 0.
                            V::Unknown => {
                                out.rets.insert(0);
                            }
                            V::Known(_) => {}
                        }
                    }
                    a = match (a, v) {
                        // A known zero divisor ended this path above.
                        (V::Known(a), V::Known(v)) => match super::alu(op, a, v) {
                            Some(r) => V::Known(r),
                            None => break,
                        },
                        (V::Known(a), _) if op == AluOp::Neg => V::Known(a.wrapping_neg()),
                        (_, V::Known(0)) if matches!(op, AluOp::And | AluOp::Mul) => V::Known(0),
                        _ => V::Unknown,
                    };
                }
                Form::Ja => next = jump(k as u64)?,
                Form::Jmp(op, src) => {
                    let v = match src {
                        Src::K => V::Known(k),
                        Src::X => x,
                    };
                    match (a, v) {
                        (V::Known(a), V::Known(v)) => {
                            let taken = match op {
                                JmpOp::Jeq => a == v,
                                JmpOp::Jgt => a > v,
                                JmpOp::Jge => a >= v,
                                JmpOp::Jset => a & v != 0,
                            };
                            next = jump(if taken { f.jt } else { f.jf } as u64)?;
                        }
                        _ => {
                            stack.push((jump(f.jf as u64)?, a, x, m));
                            next = jump(f.jt as u64)?;
                        }
                    }
                }
                Form::RetK => {
                    out.rets.insert(k);
                    break;
                }
                Form::RetA | Form::RetX => {
                    match if def.form == Form::RetA { a } else { x } {
                        V::Known(v) => {
                            out.rets.insert(v);
                        }
                        V::Unknown => out.computed = true,
                    }
                    break;
                }
            }
            pc = next;
        }
    }
    Ok(out)
}

/// The possible results of stacked filters (oldest first), combined as the kernel does:
/// every combination of the filters' possible return values. `None` when a filter's set is
/// incomplete or computed, or the combinations exceed 100 000.
pub fn possible_stack(
    filters: &[Vec<SockFilter>],
    nr: u32,
    arch: u32,
) -> Result<Option<BTreeSet<u32>>, (usize, RunError)> {
    let mut sets = Vec::new();
    for (i, f) in filters.iter().enumerate().rev() {
        let p = possible_returns(f, nr, arch).map_err(|e| (i, e))?;
        if p.truncated || p.computed {
            return Ok(None);
        }
        sets.push(p.rets.into_iter().collect::<Vec<_>>());
    }
    if sets
        .iter()
        .map(Vec::len)
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .map_or(true, |n| n > 100_000)
    {
        return Ok(None);
    }
    let mut out = BTreeSet::new();
    let mut idx = vec![0usize; sets.len()];
    loop {
        let rets: Vec<u32> = idx.iter().zip(&sets).map(|(&i, s)| s[i]).collect();
        match asm::cbpf::seccomp::combine(&rets) {
            Some(w) => out.insert(rets[w]),
            None => out.insert(asm::cbpf::seccomp::Action::Allow.to_ret()),
        };
        // Next combination (newest filter varies slowest).
        let mut d = sets.len();
        loop {
            if d == 0 {
                return Ok(Some(out));
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < sets[d].len() {
                break;
            }
            idx[d] = 0;
        }
    }
}
