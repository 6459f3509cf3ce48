//! Conditional jumps on scalars: whether a branch is decided (`is_scalar_branch_taken`) and
//! what each side learns about its operands (`regs_refine_cond_op`).

use super::*;

/// Whether `a OP b` is always true (`Some(true)`), always false, or unknown
/// (`is_scalar_branch_taken`).
pub fn branch_taken(a: &Scalar, b: &Scalar, op: Cmp, w32: bool) -> Option<bool> {
    let (t1, t2) = if w32 {
        (a.var_off.subreg(), b.var_off.subreg())
    } else {
        (a.var_off, b.var_off)
    };
    let (umin1, umax1, umin2, umax2) = if w32 {
        (
            a.u32_min as u64,
            a.u32_max as u64,
            b.u32_min as u64,
            b.u32_max as u64,
        )
    } else {
        (a.umin, a.umax, b.umin, b.umax)
    };
    let (smin1, smax1, smin2, smax2) = if w32 {
        (
            a.s32_min as i64,
            a.s32_max as i64,
            b.s32_min as i64,
            b.s32_max as i64,
        )
    } else {
        (a.smin, a.smax, b.smin, b.smax)
    };
    let disjoint32 = |a: &Scalar, b: &Scalar| {
        a.u32_min > b.u32_max
            || a.u32_max < b.u32_min
            || a.s32_min > b.s32_max
            || a.s32_max < b.s32_min
    };
    match op {
        Cmp::Eq | Cmp::Ne => {
            let eq = op == Cmp::Eq;
            if t1.is_const() && t2.is_const() {
                return Some((t1.value == t2.value) == eq);
            }
            // Known bits that differ make equality impossible.
            let known_both = !t1.mask & !t2.mask;
            if (t1.value ^ t2.value) & known_both != 0 {
                return Some(!eq);
            }
            if umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2 {
                return Some(!eq);
            }
            if !w32 && disjoint32(a, b) {
                return Some(!eq);
            }
            None
        }
        Cmp::Set | Cmp::NotSet => {
            let (t1, t2) = if t2.is_const() {
                (t1, t2)
            } else if t1.is_const() {
                (t2, t1)
            } else {
                return None;
            };
            let set = op == Cmp::Set;
            if (!t1.mask & t1.value) & t2.value != 0 {
                return Some(set);
            }
            if (t1.mask | t1.value) & t2.value == 0 {
                return Some(!set);
            }
            None
        }
        Cmp::Gt => tri(umin1 > umax2, umax1 <= umin2),
        Cmp::Sgt => tri(smin1 > smax2, smax1 <= smin2),
        Cmp::Lt => tri(umax1 < umin2, umin1 >= umax2),
        Cmp::Slt => tri(smax1 < smin2, smin1 >= smax2),
        Cmp::Ge => tri(umin1 >= umax2, umax1 < umin2),
        Cmp::Sge => tri(smin1 >= smax2, smax1 < smin2),
        Cmp::Le => tri(umax1 <= umin2, umin1 > umax2),
        Cmp::Sle => tri(smax1 <= smin2, smin1 > smax2),
    }
}

fn tri(yes: bool, no: bool) -> Option<bool> {
    if yes {
        Some(true)
    } else if no {
        Some(false)
    } else {
        None
    }
}

/// Narrows `a` and `b` assuming `a OP b` holds (`regs_refine_cond_op`), then syncs.
pub fn refine(a: &mut Scalar, b: &mut Scalar, op: Cmp, w32: bool) {
    let (r1, r2, op) = match op {
        Cmp::Ge | Cmp::Gt | Cmp::Sge | Cmp::Sgt => (b, a, op.flip()),
        _ => (a, b, op),
    };
    match op {
        Cmp::Eq => {
            if w32 {
                r1.u32_min = r1.u32_min.max(r2.u32_min);
                r1.u32_max = r1.u32_max.min(r2.u32_max);
                r1.s32_min = r1.s32_min.max(r2.s32_min);
                r1.s32_max = r1.s32_max.min(r2.s32_max);
                r2.u32_min = r1.u32_min;
                r2.u32_max = r1.u32_max;
                r2.s32_min = r1.s32_min;
                r2.s32_max = r1.s32_max;
                let t = r1.var_off.subreg().intersect(r2.var_off.subreg());
                r1.var_off = r1.var_off.with_subreg(t);
                r2.var_off = r2.var_off.with_subreg(t);
            } else {
                r1.umin = r1.umin.max(r2.umin);
                r1.umax = r1.umax.min(r2.umax);
                r1.smin = r1.smin.max(r2.smin);
                r1.smax = r1.smax.min(r2.smax);
                r2.umin = r1.umin;
                r2.umax = r1.umax;
                r2.smin = r1.smin;
                r2.smax = r1.smax;
                r1.var_off = r1.var_off.intersect(r2.var_off);
                r2.var_off = r1.var_off;
            }
        }
        Cmp::Ne => {
            let (r1, r2) = if !r2.is_const_w(w32) {
                (r2, r1)
            } else {
                (r1, r2)
            };
            if r2.is_const_w(w32) {
                let v = r2.const_w(w32);
                if w32 {
                    if r1.u32_min == v as u32 {
                        r1.u32_min = r1.u32_min.wrapping_add(1);
                    }
                    if r1.u32_max == v as u32 {
                        r1.u32_max = r1.u32_max.wrapping_sub(1);
                    }
                    if r1.s32_min == v as i32 {
                        r1.s32_min = r1.s32_min.wrapping_add(1);
                    }
                    if r1.s32_max == v as i32 {
                        r1.s32_max = r1.s32_max.wrapping_sub(1);
                    }
                } else {
                    if r1.umin == v {
                        r1.umin = r1.umin.wrapping_add(1);
                    }
                    if r1.umax == v {
                        r1.umax = r1.umax.wrapping_sub(1);
                    }
                    if r1.smin == v as i64 {
                        r1.smin = r1.smin.wrapping_add(1);
                    }
                    if r1.smax == v as i64 {
                        r1.smax = r1.smax.wrapping_sub(1);
                    }
                }
            }
            r1.sync();
            r2.sync();
            return;
        }
        Cmp::Set | Cmp::NotSet => {
            let (r1, r2) = if !r2.is_const_w(w32) {
                (r2, r1)
            } else {
                (r1, r2)
            };
            if r2.is_const_w(w32) {
                let v = r2.const_w(w32);
                if op == Cmp::Set {
                    if v.is_power_of_two() {
                        if w32 {
                            let t = r1.var_off.subreg().or(Tnum::konst(v));
                            r1.var_off = r1.var_off.with_subreg(t);
                        } else {
                            r1.var_off = r1.var_off.or(Tnum::konst(v));
                        }
                    }
                } else {
                    r1.mark_unbounded64();
                    r1.mark_unbounded32();
                    if w32 {
                        let t = r1.var_off.subreg().and(Tnum::konst(!v));
                        r1.var_off = r1.var_off.with_subreg(t);
                    } else {
                        r1.var_off = r1.var_off.and(Tnum::konst(!v));
                    }
                }
            }
            r1.sync();
            r2.sync();
            return;
        }
        Cmp::Le => {
            if w32 {
                r1.u32_max = r1.u32_max.min(r2.u32_max);
                r2.u32_min = r1.u32_min.max(r2.u32_min);
            } else {
                r1.umax = r1.umax.min(r2.umax);
                r2.umin = r1.umin.max(r2.umin);
            }
        }
        Cmp::Lt => {
            if w32 {
                r1.u32_max = r1.u32_max.min(r2.u32_max.wrapping_sub(1));
                r2.u32_min = r1.u32_min.wrapping_add(1).max(r2.u32_min);
            } else {
                r1.umax = r1.umax.min(r2.umax.wrapping_sub(1));
                r2.umin = r1.umin.wrapping_add(1).max(r2.umin);
            }
        }
        Cmp::Sle => {
            if w32 {
                r1.s32_max = r1.s32_max.min(r2.s32_max);
                r2.s32_min = r1.s32_min.max(r2.s32_min);
            } else {
                r1.smax = r1.smax.min(r2.smax);
                r2.smin = r1.smin.max(r2.smin);
            }
        }
        Cmp::Slt => {
            if w32 {
                r1.s32_max = r1.s32_max.min(r2.s32_max.wrapping_sub(1));
                r2.s32_min = r1.s32_min.wrapping_add(1).max(r2.s32_min);
            } else {
                r1.smax = r1.smax.min(r2.smax.wrapping_sub(1));
                r2.smin = r1.smin.wrapping_add(1).max(r2.smin);
            }
        }
        Cmp::Ge | Cmp::Gt | Cmp::Sge | Cmp::Sgt => unreachable!("flipped above"),
    }
    r1.sync();
    r2.sync();
}
