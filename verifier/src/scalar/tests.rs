//! Unit tests of the range arithmetic, scalar and pointer.

use super::*;

#[test]
fn pointer_add_shares_signed_bounds_and_tnum_with_scalar_add() {
    let ptr = Scalar::range_u(0, 100);
    let off = Scalar::range_u(4, 8);
    let p = ptr_add(&ptr, &off);
    let mut s = ptr;
    alu(&mut s, &off, AluOp::Add, false);
    assert_eq!((p.smin, p.smax, p.umin, p.umax), (4, 108, 4, 108));
    assert_eq!((p.smin, p.smax), (s.smin, s.smax));
    // Scalar addition syncs the tnum with the bounds; `adjust_ptr` does the same later.
    assert_eq!(p.var_off, ptr.var_off.add(off.var_off));
    let mut synced = p;
    synced.sync();
    assert_eq!(synced.var_off, s.var_off);
    // 32-bit bounds are the caller's business: unchanged here.
    assert_eq!((p.u32_min, p.u32_max), (ptr.u32_min, ptr.u32_max));
}

#[test]
fn pointer_add_unsigned_wrap_at_either_end_is_unbounded() {
    // Both ends wrap: scalar addition keeps the wrapped range (`scalar_min_max_add`),
    // `adjust_ptr_min_max_vals` gives up on the unsigned range.
    let ptr = Scalar::range_u(u64::MAX - 1, u64::MAX);
    let off = Scalar::known(2);
    let p = ptr_add(&ptr, &off);
    assert_eq!((p.umin, p.umax), (0, u64::MAX));
    let mut s = ptr;
    alu(&mut s, &off, AluOp::Add, false);
    assert_eq!((s.umin, s.umax), (0, 1));
}

#[test]
fn pointer_sub_unbounded_once_low_end_may_go_negative() {
    let ptr = Scalar::range_u(10, 20);
    let p = ptr_sub(&ptr, &Scalar::range_u(0, 10));
    assert_eq!((p.umin, p.umax, p.smin, p.smax), (0, 20, 0, 20));
    let q = ptr_sub(&ptr, &Scalar::range_u(0, 11));
    assert_eq!((q.umin, q.umax), (0, u64::MAX));
    assert_eq!((q.smin, q.smax), (-1, 20));
    // Both ends below zero: still unbounded for a pointer.
    let r = ptr_sub(&ptr, &Scalar::known(30));
    assert_eq!((r.umin, r.umax), (0, u64::MAX));
    assert_eq!((r.smin, r.smax), (-20, -10));
    assert_eq!(r.var_off, ptr.var_off.sub(Scalar::known(30).var_off));
}

#[test]
fn add_constants_and_ranges() {
    let mut a = Scalar::known(5);
    alu(&mut a, &Scalar::known(7), AluOp::Add, false);
    assert_eq!(a, Scalar::known(12));
    let mut r = Scalar::range_u(0, 10);
    alu(&mut r, &Scalar::known(4), AluOp::Add, false);
    assert_eq!((r.umin, r.umax, r.smin, r.smax), (4, 14, 4, 14));
}

#[test]
fn and_bounds_by_mask() {
    let mut u = Scalar::UNKNOWN;
    alu(&mut u, &Scalar::known(0xff), AluOp::And, false);
    assert_eq!((u.umin, u.umax), (0, 255));
    let mut w = Scalar::known(u64::MAX);
    alu(&mut w, &Scalar::known(1), AluOp::Add, true);
    assert_eq!(w, Scalar::known(0));
}

#[test]
fn sign_extension_keeps_one_sided_ranges() {
    let mut a = Scalar::range_u(128, 143);
    a.sign_extend(1);
    assert_eq!((a.smin, a.smax), (-128, -113));
    let mut b = Scalar::range_u(0, 15);
    b.sign_extend(1);
    assert_eq!((b.smin, b.smax), (0, 15));
    let mut c = Scalar::range_u(0x70, 0x90);
    c.sign_extend(1);
    assert_eq!((c.smin, c.smax), (-128, 127));
}

#[test]
fn branches_refine() {
    let mut a = Scalar::UNKNOWN;
    let mut b = Scalar::known(10);
    refine(&mut a, &mut b, Cmp::Lt, false);
    assert_eq!((a.umin, a.umax), (0, 9));
    assert_eq!(
        branch_taken(&a, &Scalar::known(10), Cmp::Lt, false),
        Some(true)
    );
    let mut c = Scalar::UNKNOWN;
    let mut z = Scalar::known(0);
    refine(&mut c, &mut z, Cmp::Sgt, false);
    assert_eq!((c.smin, c.umin), (1, 1));
    assert!(Scalar::UNKNOWN.covers(&c));
    assert!(!c.covers(&Scalar::UNKNOWN));
}
