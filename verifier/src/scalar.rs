//! Scalar knowledge: known bits plus signed and unsigned 64- and 32-bit ranges, kept
//! consistent the way `reg_bounds_sync` does in `kernel/bpf/verifier.c`, with the
//! arithmetic (`adjust_scalar_min_max_vals`) and branch refinement (`regs_refine_cond_op`,
//! `is_scalar_branch_taken`) of kernel 6.18.

use crate::tnum::Tnum;

/// What is known about a 64-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// Known bits.
    pub var_off: Tnum,
    /// Signed 64-bit minimum.
    pub smin: i64,
    /// Signed 64-bit maximum.
    pub smax: i64,
    /// Unsigned 64-bit minimum.
    pub umin: u64,
    /// Unsigned 64-bit maximum.
    pub umax: u64,
    /// Signed 32-bit minimum of the low half.
    pub s32_min: i32,
    /// Signed 32-bit maximum of the low half.
    pub s32_max: i32,
    /// Unsigned 32-bit minimum of the low half.
    pub u32_min: u32,
    /// Unsigned 32-bit maximum of the low half.
    pub u32_max: u32,
}

/// A conditional jump's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&` (jset)
    Set,
    /// the fallthrough of jset: `!(a & b)`
    NotSet,
    /// unsigned `>`
    Gt,
    /// unsigned `>=`
    Ge,
    /// unsigned `<`
    Lt,
    /// unsigned `<=`
    Le,
    /// signed `>`
    Sgt,
    /// signed `>=`
    Sge,
    /// signed `<`
    Slt,
    /// signed `<=`
    Sle,
}

impl Cmp {
    /// The comparison that holds on the other branch (`rev_opcode`).
    pub fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            Set => NotSet,
            NotSet => Set,
            Gt => Le,
            Le => Gt,
            Ge => Lt,
            Lt => Ge,
            Sgt => Sle,
            Sle => Sgt,
            Sge => Slt,
            Slt => Sge,
        }
    }

    /// The comparison with operands swapped (`flip_opcode`).
    pub fn flip(self) -> Cmp {
        use Cmp::*;
        match self {
            Gt => Lt,
            Lt => Gt,
            Ge => Le,
            Le => Ge,
            Sgt => Slt,
            Slt => Sgt,
            Sge => Sle,
            Sle => Sge,
            c => c,
        }
    }
}

impl Scalar {
    /// Nothing known.
    pub const UNKNOWN: Scalar = Scalar {
        var_off: Tnum::UNKNOWN,
        smin: i64::MIN,
        smax: i64::MAX,
        umin: 0,
        umax: u64::MAX,
        s32_min: i32::MIN,
        s32_max: i32::MAX,
        u32_min: 0,
        u32_max: u32::MAX,
    };

    /// A known constant.
    pub fn known(v: u64) -> Scalar {
        Scalar {
            var_off: Tnum::konst(v),
            smin: v as i64,
            smax: v as i64,
            umin: v,
            umax: v,
            s32_min: v as i32,
            s32_max: v as i32,
            u32_min: v as u32,
            u32_max: v as u32,
        }
    }

    /// Whether the full 64-bit value is known.
    pub fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// The constant value (meaningful when [`Scalar::is_const`]).
    pub fn value(&self) -> u64 {
        self.var_off.value
    }

    /// Whether the value (or its low half for `jmp32`) is known.
    pub fn is_const_w(&self, w32: bool) -> bool {
        if w32 {
            self.var_off.subreg_is_const()
        } else {
            self.var_off.is_const()
        }
    }

    /// The known value as seen at width `w32`.
    pub fn const_w(&self, w32: bool) -> u64 {
        if w32 {
            self.var_off.value as u32 as u64
        } else {
            self.var_off.value
        }
    }

    /// A value in `[0, max]` with the other ranges derived.
    pub fn range_u(min: u64, max: u64) -> Scalar {
        let mut s = Scalar::UNKNOWN;
        s.umin = min;
        s.umax = max;
        s.var_off = Tnum::range(min, max);
        s.sync();
        s
    }

    fn mark_unbounded64(&mut self) {
        self.smin = i64::MIN;
        self.smax = i64::MAX;
        self.umin = 0;
        self.umax = u64::MAX;
    }

    fn mark_unbounded32(&mut self) {
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
    }

    fn known32(&mut self, v: u32) {
        self.var_off = self.var_off.with_subreg(Tnum::konst(v as u64));
        self.s32_min = v as i32;
        self.s32_max = v as i32;
        self.u32_min = v;
        self.u32_max = v;
    }

    fn update_bounds32(&mut self) {
        let t = self.var_off.subreg();
        let (v, m) = (t.value as u32, t.mask as u32);
        self.s32_min = self.s32_min.max((v | (m & 0x8000_0000)) as i32);
        self.s32_max = self.s32_max.min((v | (m & 0x7fff_ffff)) as i32);
        self.u32_min = self.u32_min.max(v);
        self.u32_max = self.u32_max.min(v | m);
    }

    fn update_bounds64(&mut self) {
        let (v, m) = (self.var_off.value, self.var_off.mask);
        self.smin = self.smin.max((v | (m & (1 << 63))) as i64);
        self.smax = self.smax.min((v | (m & !(1u64 << 63))) as i64);
        self.umin = self.umin.max(v);
        self.umax = self.umax.min(v | m);
    }

    fn update_bounds(&mut self) {
        self.update_bounds32();
        self.update_bounds64();
    }

    fn deduce32(&mut self) {
        if (self.umin >> 32) == (self.umax >> 32) {
            self.u32_min = self.u32_min.max(self.umin as u32);
            self.u32_max = self.u32_max.min(self.umax as u32);
            if (self.umin as i32) <= (self.umax as i32) {
                self.s32_min = self.s32_min.max(self.umin as i32);
                self.s32_max = self.s32_max.min(self.umax as i32);
            }
        }
        if (self.smin >> 32) == (self.smax >> 32) {
            self.u32_min = self.u32_min.max(self.smin as u32);
            self.u32_max = self.u32_max.min(self.smax as u32);
            if (self.smin as i32) <= (self.smax as i32) {
                self.s32_min = self.s32_min.max(self.smin as i32);
                self.s32_max = self.s32_max.min(self.smax as i32);
            }
        }
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.s32_min = self.s32_min.max(self.u32_min as i32);
            self.s32_max = self.s32_max.min(self.u32_max as i32);
        }
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            self.u32_min = self.u32_min.max(self.s32_min as u32);
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if self.u32_max < self.s32_min as u32 {
            self.s32_min = self.u32_min as i32;
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if (self.s32_max as u32) < self.u32_min {
            self.s32_max = self.u32_max as i32;
            self.u32_min = self.u32_min.max(self.s32_min as u32);
        }
    }

    fn deduce64(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        } else if self.umax < self.smin as u64 {
            // The signed range crosses the sign boundary, so as unsigned it is
            // [0, smax] and [smin, U64_MAX]; the unsigned range touches only the first.
            self.smin = self.umin as i64;
            self.umax = self.umax.min(self.smax as u64);
        } else if (self.smax as u64) < self.umin {
            self.smax = self.umax as i64;
            self.umin = self.umin.max(self.smin as u64);
        }
    }

    fn deduce_mixed(&mut self) {
        let new_umin = (self.umin & !0xffff_ffff) | self.u32_min as u64;
        let new_umax = (self.umax & !0xffff_ffff) | self.u32_max as u64;
        self.umin = self.umin.max(new_umin);
        self.umax = self.umax.min(new_umax);
        let new_smin = ((self.smin as u64 & !0xffff_ffff) | self.u32_min as u64) as i64;
        let new_smax = ((self.smax as u64 & !0xffff_ffff) | self.u32_max as u64) as i64;
        self.smin = self.smin.max(new_smin);
        self.smax = self.smax.min(new_smax);
        if self.s32_min >= 0 && self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
            self.umin = self.s32_min as u64;
            self.umax = self.s32_max as u64;
            self.var_off = self
                .var_off
                .intersect(Tnum::range(self.smin as u64, self.smax as u64));
        }
    }

    fn bound_offset(&mut self) {
        let v64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let v32 = v64
            .subreg()
            .intersect(Tnum::range(self.u32_min as u64, self.u32_max as u64));
        self.var_off = v64.clear_subreg().or(v32);
    }

    /// Makes the ranges and known bits agree (`reg_bounds_sync`).
    pub fn sync(&mut self) {
        self.update_bounds();
        for _ in 0..3 {
            self.deduce32();
            self.deduce64();
            self.deduce_mixed();
        }
        self.bound_offset();
        self.update_bounds();
    }

    /// Whether the ranges are empty (a dead branch).
    pub fn is_empty(&self) -> bool {
        self.smin > self.smax
            || self.umin > self.umax
            || self.s32_min > self.s32_max
            || self.u32_min > self.u32_max
            || (self.var_off.value & self.var_off.mask) != 0
    }

    /// Zero-extends the low 32 bits into the full register (`zext_32_to_64`).
    pub fn zext32(&mut self) {
        self.var_off = self.var_off.subreg();
        self.umin = self.u32_min as u64;
        self.umax = self.u32_max as u64;
        if self.s32_min >= 0 && self.s32_max >= 0 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
        } else {
            self.smin = 0;
            self.smax = u32::MAX as i64;
        }
    }

    /// Truncates to `size` bytes (`coerce_reg_to_size`), as a narrow load does.
    pub fn truncate(&mut self, size: u32) {
        if size >= 8 {
            return;
        }
        self.var_off = self.var_off.cast(size);
        let mask = (1u64 << (size * 8)) - 1;
        if (self.umin & !mask) == (self.umax & !mask) {
            self.umin &= mask;
            self.umax &= mask;
        } else {
            self.umin = 0;
            self.umax = mask;
        }
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        if size >= 4 {
            self.u32_min = self.umin as u32;
            self.u32_max = self.umax as u32;
            self.s32_min = i32::MIN;
            self.s32_max = i32::MAX;
            if (self.u32_min as i32) <= (self.u32_max as i32) {
                self.s32_min = self.u32_min as i32;
                self.s32_max = self.u32_max as i32;
            }
        } else {
            self.u32_min = self.umin as u32;
            self.u32_max = self.umax as u32;
            self.s32_min = self.umin as i32;
            self.s32_max = self.umax as i32;
        }
        self.sync();
    }

    /// A sign-extending load or `movsx` of `size` bytes: the value is unknown within the
    /// signed range of that size unless known.
    pub fn sign_extend(&mut self, size: u32) {
        if self.is_const() {
            let v = self.value();
            let s = match size {
                1 => v as i8 as i64,
                2 => v as i16 as i64,
                _ => v as i32 as i64,
            };
            *self = Scalar::known(s as u64);
            return;
        }
        let bits = size * 8;
        if self.umax < 1u64 << (bits - 1) {
            // No value has the narrow sign bit set: extension changes nothing.
            return;
        }
        let mask = (1u64 << bits) - 1;
        let sext = |v: u64| ((v << (64 - bits)) as i64) >> (64 - bits);
        let (lo, hi) = (self.umin, self.umax);
        let mut s = Scalar::UNKNOWN;
        if lo >> bits == hi >> bits && (lo & mask) >> (bits - 1) == (hi & mask) >> (bits - 1) {
            // The range stays within one narrow sign half: extend its ends.
            s.smin = sext(lo & mask);
            s.smax = sext(hi & mask);
        } else {
            s.smin = -(1i64 << (bits - 1));
            s.smax = (1i64 << (bits - 1)) - 1;
        }
        s.s32_min = s.smin as i32;
        s.s32_max = s.smax as i32;
        s.sync();
        *self = s;
    }

    /// Whether `self` (an older state) covers `cur` (`range_within` plus `tnum_in`).
    pub fn covers(&self, cur: &Scalar) -> bool {
        self.umin <= cur.umin
            && self.umax >= cur.umax
            && self.smin <= cur.smin
            && self.smax >= cur.smax
            && self.u32_min <= cur.u32_min
            && self.u32_max >= cur.u32_max
            && self.s32_min <= cur.s32_min
            && self.s32_max >= cur.s32_max
            && self.var_off.contains(cur.var_off)
    }
}

/// ALU operations on scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `|`
    Or,
    /// `&`
    And,
    /// `^`
    Xor,
    /// `<<`
    Lsh,
    /// `>>`
    Rsh,
    /// `s>>`
    Arsh,
}

/// The 64-bit offset range of `ptr + off` for a pointer's variable offset `ptr` and a scalar
/// `off` (`adjust_ptr_min_max_vals`, `BPF_ADD`). The signed bounds and the tnum are the scalar
/// addition's; unlike it, an unsigned overflow at either end makes the unsigned range
/// unbounded (the kernel uses `check_add_overflow` on each end). The 32-bit bounds are left
/// as they were: pointers carry none.
pub fn ptr_add(ptr: &Scalar, off: &Scalar) -> Scalar {
    let mut d = *ptr;
    add_s64(&mut d, off);
    match (
        ptr.umin.checked_add(off.umin),
        ptr.umax.checked_add(off.umax),
    ) {
        (Some(a), Some(b)) => {
            d.umin = a;
            d.umax = b;
        }
        _ => {
            d.umin = 0;
            d.umax = u64::MAX;
        }
    }
    d.var_off = ptr.var_off.add(off.var_off);
    d
}

/// The 64-bit offset range of `ptr - off` (`adjust_ptr_min_max_vals`, `BPF_SUB`): the scalar
/// subtraction's signed bounds and tnum; the unsigned range is unbounded as soon as the low
/// end may go below zero (`umin_ptr < umax_val`), even when both ends would wrap.
pub fn ptr_sub(ptr: &Scalar, off: &Scalar) -> Scalar {
    let mut d = *ptr;
    sub_s64(&mut d, off);
    if ptr.umin < off.umax {
        d.umin = 0;
        d.umax = u64::MAX;
    } else {
        d.umin = ptr.umin - off.umax;
        d.umax = ptr.umax - off.umin;
    }
    d.var_off = ptr.var_off.sub(off.var_off);
    d
}

/// Applies `op` to `dst` and `src` at width 32 or 64 (`adjust_scalar_min_max_vals`).
pub fn alu(dst: &mut Scalar, src: &Scalar, op: AluOp, alu32: bool) {
    let bits = if alu32 { 32 } else { 64 };
    let src_const = if alu32 {
        src.var_off.subreg_is_const()
    } else {
        src.is_const()
    };
    let safe = match op {
        AluOp::Add | AluOp::Sub | AluOp::Mul | AluOp::And | AluOp::Or | AluOp::Xor => true,
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => src_const && src.umax < bits as u64,
        AluOp::Div | AluOp::Mod => false,
    };
    if !safe {
        // Kernel 6.18 tracks no division: the result is unknown even for constants.
        *dst = Scalar::UNKNOWN;
        return;
    }
    match op {
        AluOp::Add => {
            add32(dst, src);
            add64(dst, src);
            dst.var_off = dst.var_off.add(src.var_off);
        }
        AluOp::Sub => {
            sub32(dst, src);
            sub64(dst, src);
            dst.var_off = dst.var_off.sub(src.var_off);
        }
        AluOp::Mul => {
            dst.var_off = dst.var_off.mul(src.var_off);
            mul32(dst, src);
            mul64(dst, src);
        }
        AluOp::And => {
            dst.var_off = dst.var_off.and(src.var_off);
            bit32(dst, src, op);
            bit64(dst, src, op);
        }
        AluOp::Or => {
            dst.var_off = dst.var_off.or(src.var_off);
            bit32(dst, src, op);
            bit64(dst, src, op);
        }
        AluOp::Xor => {
            dst.var_off = dst.var_off.xor(src.var_off);
            bit32(dst, src, op);
            bit64(dst, src, op);
        }
        AluOp::Lsh => {
            if alu32 {
                let (umin, umax) = (src.u32_min as u64, src.u32_max as u64);
                let sub = dst.var_off.subreg();
                dst.s32_min = i32::MIN;
                dst.s32_max = i32::MAX;
                if umax > 31 || dst.u32_max as u64 > 1u64 << (31 - umax) {
                    dst.u32_min = 0;
                    dst.u32_max = u32::MAX;
                } else {
                    dst.u32_min <<= umin;
                    dst.u32_max <<= umax;
                }
                dst.var_off = sub.lshift(umin as u32).subreg();
                dst.mark_unbounded64();
                dst.update_bounds32();
            } else {
                let (umin, umax) = (src.umin, src.umax);
                // `<<32` of a non-negative 32-bit value is a common sign-extension idiom.
                dst.smax = if umin == 32 && umax == 32 && dst.s32_max >= 0 {
                    (dst.s32_max as i64) << 32
                } else {
                    i64::MAX
                };
                dst.smin = if umin == 32 && umax == 32 && dst.s32_min >= 0 {
                    (dst.s32_min as i64) << 32
                } else {
                    i64::MIN
                };
                if dst.umax > 1u64 << (63 - umax) {
                    dst.umin = 0;
                    dst.umax = u64::MAX;
                } else {
                    dst.umin <<= umin;
                    dst.umax <<= umax;
                }
                // 32-bit bounds of the result
                let (u0, u1) = (src.umin, src.umax);
                dst.s32_min = i32::MIN;
                dst.s32_max = i32::MAX;
                if u1 > 31 || dst.u32_max as u64 > 1u64 << (31 - u1) {
                    dst.u32_min = 0;
                    dst.u32_max = u32::MAX;
                } else {
                    dst.u32_min <<= u0;
                    dst.u32_max <<= u1;
                }
                dst.var_off = dst.var_off.lshift(umin as u32);
                dst.update_bounds();
            }
        }
        AluOp::Rsh => {
            if alu32 {
                let (umin, umax) = (src.u32_min, src.u32_max);
                let sub = dst.var_off.subreg();
                dst.s32_min = i32::MIN;
                dst.s32_max = i32::MAX;
                dst.var_off = sub.rshift(umin);
                dst.u32_min >>= umax;
                dst.u32_max >>= umin;
                dst.mark_unbounded64();
                dst.update_bounds32();
            } else {
                let (umin, umax) = (src.umin as u32, src.umax as u32);
                dst.smin = i64::MIN;
                dst.smax = i64::MAX;
                dst.var_off = dst.var_off.rshift(umin);
                dst.umin >>= umax;
                dst.umax >>= umin;
                dst.mark_unbounded32();
                dst.update_bounds();
            }
        }
        AluOp::Arsh => {
            if alu32 {
                let umin = src.u32_min;
                dst.s32_min >>= umin;
                dst.s32_max >>= umin;
                dst.var_off = dst.var_off.subreg().arshift(umin, 32).subreg();
                dst.u32_min = 0;
                dst.u32_max = u32::MAX;
                dst.mark_unbounded64();
                dst.update_bounds32();
            } else {
                let umin = src.umin as u32;
                dst.smin >>= umin;
                dst.smax >>= umin;
                dst.var_off = dst.var_off.arshift(umin, 64);
                dst.umin = 0;
                dst.umax = u64::MAX;
                dst.mark_unbounded32();
                dst.update_bounds();
            }
        }
        AluOp::Div | AluOp::Mod => unreachable!("handled above"),
    }
    if alu32 {
        dst.zext32();
    }
    dst.sync();
}

fn add32(d: &mut Scalar, s: &Scalar) {
    match (
        d.s32_min.checked_add(s.s32_min),
        d.s32_max.checked_add(s.s32_max),
    ) {
        (Some(a), Some(b)) => {
            d.s32_min = a;
            d.s32_max = b;
        }
        _ => {
            d.s32_min = i32::MIN;
            d.s32_max = i32::MAX;
        }
    }
    let (lo, o1) = d.u32_min.overflowing_add(s.u32_min);
    let (hi, o2) = d.u32_max.overflowing_add(s.u32_max);
    if !o1 && o2 {
        d.u32_min = 0;
        d.u32_max = u32::MAX;
    } else {
        d.u32_min = lo;
        d.u32_max = hi;
    }
}

/// Sets the signed 64-bit bounds to `[lo, hi]`, or to unbounded when either end overflowed
/// (`None`), as `scalar_min_max_add`/`_sub` do.
fn set_s64(d: &mut Scalar, lo: Option<i64>, hi: Option<i64>) {
    (d.smin, d.smax) = match (lo, hi) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => (i64::MIN, i64::MAX),
    };
}

/// The signed 64-bit bounds of `d + s`. Scalar and pointer addition agree on this half.
fn add_s64(d: &mut Scalar, s: &Scalar) {
    set_s64(d, d.smin.checked_add(s.smin), d.smax.checked_add(s.smax));
}

/// The signed 64-bit bounds of `d - s`.
fn sub_s64(d: &mut Scalar, s: &Scalar) {
    set_s64(d, d.smin.checked_sub(s.smax), d.smax.checked_sub(s.smin));
}

fn add64(d: &mut Scalar, s: &Scalar) {
    add_s64(d, s);
    // `scalar_min_max_add`: a range whose both ends wrap is still a range.
    let (lo, o1) = d.umin.overflowing_add(s.umin);
    let (hi, o2) = d.umax.overflowing_add(s.umax);
    if !o1 && o2 {
        d.umin = 0;
        d.umax = u64::MAX;
    } else {
        d.umin = lo;
        d.umax = hi;
    }
}

fn sub32(d: &mut Scalar, s: &Scalar) {
    match (
        d.s32_min.checked_sub(s.s32_max),
        d.s32_max.checked_sub(s.s32_min),
    ) {
        (Some(a), Some(b)) => {
            d.s32_min = a;
            d.s32_max = b;
        }
        _ => {
            d.s32_min = i32::MIN;
            d.s32_max = i32::MAX;
        }
    }
    let (lo, u1) = d.u32_min.overflowing_sub(s.u32_max);
    let (hi, u2) = d.u32_max.overflowing_sub(s.u32_min);
    if u1 && !u2 {
        d.u32_min = 0;
        d.u32_max = u32::MAX;
    } else {
        d.u32_min = lo;
        d.u32_max = hi;
    }
}

fn sub64(d: &mut Scalar, s: &Scalar) {
    sub_s64(d, s);
    let (lo, u1) = d.umin.overflowing_sub(s.umax);
    let (hi, u2) = d.umax.overflowing_sub(s.umin);
    if u1 && !u2 {
        d.umin = 0;
        d.umax = u64::MAX;
    } else {
        d.umin = lo;
        d.umax = hi;
    }
}

fn mul32(d: &mut Scalar, s: &Scalar) {
    match (
        d.u32_max.checked_mul(s.u32_max),
        d.u32_min.checked_mul(s.u32_min),
    ) {
        (Some(hi), Some(lo)) => {
            d.u32_min = lo;
            d.u32_max = hi;
        }
        _ => {
            d.u32_min = 0;
            d.u32_max = u32::MAX;
        }
    }
    let p = [
        d.s32_min.checked_mul(s.s32_min),
        d.s32_min.checked_mul(s.s32_max),
        d.s32_max.checked_mul(s.s32_min),
        d.s32_max.checked_mul(s.s32_max),
    ];
    if p.iter().all(|x| x.is_some()) {
        let v: Vec<i32> = p.iter().map(|x| x.unwrap_or(0)).collect();
        d.s32_min = *v.iter().min().unwrap_or(&i32::MIN);
        d.s32_max = *v.iter().max().unwrap_or(&i32::MAX);
    } else {
        d.s32_min = i32::MIN;
        d.s32_max = i32::MAX;
    }
}

fn mul64(d: &mut Scalar, s: &Scalar) {
    match (d.umax.checked_mul(s.umax), d.umin.checked_mul(s.umin)) {
        (Some(hi), Some(lo)) => {
            d.umin = lo;
            d.umax = hi;
        }
        _ => {
            d.umin = 0;
            d.umax = u64::MAX;
        }
    }
    let p = [
        d.smin.checked_mul(s.smin),
        d.smin.checked_mul(s.smax),
        d.smax.checked_mul(s.smin),
        d.smax.checked_mul(s.smax),
    ];
    if p.iter().all(|x| x.is_some()) {
        let v: Vec<i64> = p.iter().map(|x| x.unwrap_or(0)).collect();
        d.smin = *v.iter().min().unwrap_or(&i64::MIN);
        d.smax = *v.iter().max().unwrap_or(&i64::MAX);
    } else {
        d.smin = i64::MIN;
        d.smax = i64::MAX;
    }
}

fn bit32(d: &mut Scalar, s: &Scalar, op: AluOp) {
    let t = d.var_off.subreg();
    let src_known = s.var_off.subreg_is_const();
    if src_known && t.is_const() {
        d.known32(t.value as u32);
        return;
    }
    match op {
        AluOp::And => {
            d.u32_min = t.value as u32;
            d.u32_max = d.u32_max.min(s.u32_max);
        }
        AluOp::Or => {
            d.u32_min = d.u32_min.max(s.u32_min);
            d.u32_max = (t.value | t.mask) as u32;
        }
        _ => {
            d.u32_min = t.value as u32;
            d.u32_max = (t.value | t.mask) as u32;
        }
    }
    if (d.u32_min as i32) <= (d.u32_max as i32) {
        d.s32_min = d.u32_min as i32;
        d.s32_max = d.u32_max as i32;
    } else {
        d.s32_min = i32::MIN;
        d.s32_max = i32::MAX;
    }
}

fn bit64(d: &mut Scalar, s: &Scalar, op: AluOp) {
    let t = d.var_off;
    if s.is_const() && t.is_const() {
        let keep = (d.s32_min, d.s32_max, d.u32_min, d.u32_max);
        *d = Scalar::known(t.value);
        (d.s32_min, d.s32_max, d.u32_min, d.u32_max) = keep;
        return;
    }
    match op {
        AluOp::And => {
            d.umin = t.value;
            d.umax = d.umax.min(s.umax);
        }
        AluOp::Or => {
            d.umin = d.umin.max(s.umin);
            d.umax = t.value | t.mask;
        }
        _ => {
            d.umin = t.value;
            d.umax = t.value | t.mask;
        }
    }
    if (d.umin as i64) <= (d.umax as i64) {
        d.smin = d.umin as i64;
        d.smax = d.umax as i64;
    } else {
        d.smin = i64::MIN;
        d.smax = i64::MAX;
    }
    d.update_bounds();
}

/// Negation, as `0 - x`.
pub fn neg(dst: &mut Scalar, alu32: bool) {
    let src = *dst;
    *dst = Scalar::known(0);
    alu(dst, &src, AluOp::Sub, alu32);
}

mod branch;
#[cfg(test)]
mod tests;

pub use branch::{branch_taken, refine};
