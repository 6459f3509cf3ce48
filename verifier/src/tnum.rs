//! Tristate numbers: for each bit, known 0, known 1 or unknown (the kernel's
//! `kernel/bpf/tnum.c`). A bit is unknown when it is set in `mask`; `value` holds the known
//! ones and has no bit in common with `mask`.

// `add`/`sub`/`mul` mirror the kernel's tnum_* names; tnums are not numbers, so the
// std::ops traits would mislead.
#![allow(clippy::should_implement_trait)]

/// A value whose bits are partly known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// Bits known to be 1.
    pub value: u64,
    /// Unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Nothing known.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// A known constant.
    pub const fn konst(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// The smallest tnum holding every value in `[min, max]` (`tnum_range`).
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Whether every bit is known.
    pub fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Whether the low 32 bits are known.
    pub fn subreg_is_const(self) -> bool {
        self.mask as u32 == 0
    }

    /// Shift left.
    pub fn lshift(self, s: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shl(s),
            mask: self.mask.wrapping_shl(s),
        }
    }

    /// Logical shift right.
    pub fn rshift(self, s: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shr(s),
            mask: self.mask.wrapping_shr(s),
        }
    }

    /// Arithmetic shift right on a `bits`-wide value (`tnum_arshift`).
    pub fn arshift(self, s: u32, bits: u32) -> Tnum {
        if bits == 32 {
            Tnum {
                value: ((self.value as i32) >> s) as u32 as u64,
                mask: ((self.mask as i32) >> s) as u32 as u64,
            }
        } else {
            Tnum {
                value: ((self.value as i64) >> s) as u64,
                mask: ((self.mask as i64) >> s) as u64,
            }
        }
    }

    /// Addition.
    pub fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// Subtraction.
    pub fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// Bitwise and.
    pub fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// Bitwise or.
    pub fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// Bitwise xor.
    pub fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Multiplication (`tnum_mul`).
    pub fn mul(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let acc_v = a.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::konst(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::konst(acc_v).add(acc_m)
    }

    /// Values both may hold (`tnum_intersect`).
    pub fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Values either may hold (`tnum_union`).
    pub fn union(self, b: Tnum) -> Tnum {
        let v = self.value & b.value;
        let mu = (self.value ^ b.value) | self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Truncates to `size` bytes.
    pub fn cast(self, size: u32) -> Tnum {
        if size >= 8 {
            return self;
        }
        let m = (1u64 << (size * 8)) - 1;
        Tnum {
            value: self.value & m,
            mask: self.mask & m,
        }
    }

    /// Whether `self` is aligned to `size` bytes.
    pub fn is_aligned(self, size: u64) -> bool {
        if size == 0 {
            return true;
        }
        (self.value | self.mask) & (size - 1) == 0
    }

    /// Whether every value of `b` is a value of `self` (`tnum_in`).
    pub fn contains(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        let bv = b.value & !self.mask;
        self.value == bv
    }

    /// The low 32 bits.
    pub fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// Clears the low 32 bits.
    pub fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// Replaces the low 32 bits with `sub`.
    pub fn with_subreg(self, sub: Tnum) -> Tnum {
        self.clear_subreg().or(sub.subreg())
    }

    /// `value` when constant in the low 32 bits.
    pub fn const_subreg(v: u32) -> Tnum {
        Tnum::konst(v as u64)
    }

    /// The kernel's `var_off=(0x..; 0x..)` spelling.
    pub fn kernel_fmt(self) -> String {
        format!("({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_ops() {
        assert_eq!(Tnum::range(0, 7), Tnum { value: 0, mask: 7 });
        assert_eq!(Tnum::range(4, 5), Tnum { value: 4, mask: 1 });
        let a = Tnum::konst(3).add(Tnum::konst(4));
        assert_eq!(a, Tnum::konst(7));
        let u = Tnum::range(0, 3).add(Tnum::konst(1));
        assert!(u.contains(Tnum::konst(4)) && u.contains(Tnum::konst(1)));
        assert_eq!(Tnum::UNKNOWN.and(Tnum::konst(0xff)).mask, 0xff);
        assert_eq!(Tnum::konst(6).mul(Tnum::konst(7)), Tnum::konst(42));
        assert_eq!(Tnum::konst(1).sub(Tnum::konst(2)), Tnum::konst(u64::MAX));
        assert!(Tnum::range(0, 8).contains(Tnum::range(0, 3)));
        assert!(!Tnum::range(0, 3).contains(Tnum::range(0, 8)));
        assert_eq!(
            Tnum::konst(0x8000_0000).arshift(31, 32),
            Tnum::konst(0xffff_ffff)
        );
    }
}
