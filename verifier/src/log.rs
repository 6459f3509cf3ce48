//! The verifier log in the kernel's spelling: instructions as `print_bpf_insn` prints them
//! and states as `print_verifier_state` does.

use crate::scalar::Scalar;
use crate::state::{Frame, Reg, Slot, State, Ty};
use asm::Insn;

/// One instruction as the kernel's log prints it, after `N: ` (`(b7) r0 = 1`), from the
/// shared kernel-dialect printer.
pub fn insn(i: &Insn) -> String {
    asm::text::kernel::print(i)
}

fn snum(v: i64) -> String {
    if (-(1 << 16)..=(1 << 16)).contains(&v) {
        format!("{v}")
    } else {
        format!("{:#x}", v)
    }
}

fn unum(v: u64) -> String {
    if v <= 1 << 16 {
        format!("{v}")
    } else {
        format!("{v:#x}")
    }
}

/// A scalar's bounds as `print_scalar_ranges` lists them.
pub fn scalar(s: &Scalar) -> String {
    let fields: [(&str, i128, bool, String); 8] = [
        ("smin", s.smin as i128, s.smin == i64::MIN, snum(s.smin)),
        ("smax", s.smax as i128, s.smax == i64::MAX, snum(s.smax)),
        ("umin", s.umin as i128, s.umin == 0, unum(s.umin)),
        ("umax", s.umax as i128, s.umax == u64::MAX, unum(s.umax)),
        (
            "smin32",
            s.s32_min as i128,
            s.s32_min == i32::MIN,
            snum(s.s32_min as i64),
        ),
        (
            "smax32",
            s.s32_max as i128,
            s.s32_max == i32::MAX,
            snum(s.s32_max as i64),
        ),
        (
            "umin32",
            s.u32_min as i128,
            s.u32_min == 0,
            unum(s.u32_min as u64),
        ),
        (
            "umax32",
            s.u32_max as i128,
            s.u32_max == u32::MAX,
            unum(s.u32_max as u64),
        ),
    ];
    let mut done = [false; 8];
    let mut parts = Vec::new();
    for i in 0..8 {
        if done[i] || fields[i].2 {
            continue;
        }
        let mut names = vec![fields[i].0];
        for j in i + 1..8 {
            if !done[j] && !fields[j].2 && fields[j].1 == fields[i].1 {
                names.push(fields[j].0);
                done[j] = true;
            }
        }
        parts.push(format!("{}={}", names.join("="), fields[i].3));
    }
    let t = s.var_off;
    if !t.is_const() && t.mask != u64::MAX {
        parts.push(format!("var_off={}", t.kernel_fmt()));
    }
    parts.join(",")
}

/// A register as the state printer shows it (`R1=ctx()`, `R0=map_value(...)`).
pub fn reg(r: &Reg, maps: &[crate::MapSpec]) -> String {
    match r.ty {
        Ty::NotInit => "?".to_string(),
        Ty::Scalar => {
            if r.s.is_const() {
                format!("{}", r.s.value() as i64)
            } else {
                let mut inner = String::new();
                if r.id != 0 {
                    inner.push_str(&format!("id={}", r.id));
                }
                let sc = scalar(&r.s);
                if !sc.is_empty() {
                    if !inner.is_empty() {
                        inner.push(',');
                    }
                    inner.push_str(&sc);
                }
                format!("scalar({inner})")
            }
        }
        Ty::Stack => format!("fp{}", r.off as i64 + r.s.value() as i64),
        _ => {
            let mut parts = Vec::new();
            if r.id != 0 {
                parts.push(format!("id={}", r.id));
            }
            if r.ref_id != 0 {
                parts.push(format!("ref_obj_id={}", r.ref_id));
            }
            if matches!(r.ty, Ty::MapValue | Ty::MapKey | Ty::MapPtr) {
                if let Some(m) = maps.get(r.aux as usize) {
                    parts.push(format!("ks={},vs={}", m.key_size, m.value_size));
                }
            }
            if r.off != 0 {
                parts.push(format!("off={}", r.off));
            }
            if r.is_pkt() {
                parts.push(format!("r={}", r.range));
            }
            if !r.s.is_const() {
                parts.push(scalar(&r.s));
            }
            format!("{}({})", r.type_name(), parts.join(","))
        }
    }
}

/// A frame's registers and stack, `R1=ctx() R10=fp0 fp-8=mmmmmmmm`.
pub fn frame(f: &Frame, maps: &[crate::MapSpec]) -> String {
    let mut out = Vec::new();
    for (i, r) in f.regs.iter().enumerate() {
        if r.ty != Ty::NotInit {
            out.push(format!("R{i}={}", reg(r, maps)));
        }
    }
    for (i, s) in f.stack.iter().enumerate() {
        let off = -8 * (i as i64 + 1);
        if s.bytes[7] == Slot::Spill {
            out.push(format!("fp{off}={}", reg(&s.spilled, maps)));
        } else if s.bytes.iter().any(|b| *b != Slot::Invalid) {
            let t: String = s
                .bytes
                .iter()
                .rev()
                .map(|b| match b {
                    Slot::Invalid => '?',
                    Slot::Spill => 'r',
                    Slot::Misc => 'm',
                    Slot::Zero => '0',
                })
                .collect();
            out.push(format!("fp{off}={t}"));
        }
    }
    out.join(" ")
}

/// The innermost frame of a state, with the `frameN: ` prefix for callees.
pub fn state(s: &State, maps: &[crate::MapSpec]) -> String {
    let n = s.frames.len() - 1;
    let body = frame(s.cur(), maps);
    if n > 0 {
        format!("frame{n}: {body}")
    } else {
        body
    }
}
