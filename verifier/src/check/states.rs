//! State equivalence, as the kernel keeps it in `states.c`-era `regsafe`, `stacksafe`,
//! `check_ids` and `states_equal`: whether a state already proven safe covers the current one.

use crate::check::{Env, ADD_CONST};
use crate::scalar::Scalar;
use crate::state::{Frame, Reg, Slot, StackSlot, State, Ty};

/// Whether two states are in the same call chain (`frame[i]->callsite` equal at each depth).
pub(crate) fn same_callsites(a: &State, b: &State) -> bool {
    a.frames.len() == b.frames.len()
        && a.frames
            .iter()
            .zip(&b.frames)
            .all(|(x, y)| x.callsite == y.callsite)
}

/// `widen_imprecise_scalars`: scalars that changed since the previous visit of the loop
/// head become unknown, so the loop converges.
pub(crate) fn widen_scalars(old: &State, cur: &mut State) {
    for (of, cf) in old.frames.iter().zip(cur.frames.iter_mut()) {
        for (o, c) in of.regs.iter().zip(cf.regs.iter_mut()) {
            if o.ty == Ty::Scalar && c.ty == Ty::Scalar && !reg_exact(o, c) {
                *c = Reg::unknown();
            }
        }
        for (os, cs) in of.stack.iter().zip(cf.stack.iter_mut()) {
            if os.bytes[7] == Slot::Spill
                && cs.bytes[7] == Slot::Spill
                && os.spilled.ty == Ty::Scalar
                && cs.spilled.ty == Ty::Scalar
                && !reg_exact(&os.spilled, &cs.spilled)
            {
                cs.spilled = Reg::unknown();
            }
        }
    }
}

/// Whether a scalar register's range became empty: the path is infeasible.
pub(crate) fn state_has_empty(st: &State) -> bool {
    st.cur()
        .regs
        .iter()
        .any(|r| r.ty == Ty::Scalar && r.s.is_empty())
}

/// Old-to-current id correspondence; it must be a bijection (`check_ids`).
#[derive(Default)]
pub(crate) struct IdMap {
    pairs: Vec<(u32, u32)>,
    tmp: u32,
}

/// `check_ids`: ids `a` (old) and `b` (current) must map to each other one-to-one across the
/// whole state comparison, so registers sharing an id in the old state share one now.
pub(crate) fn check_ids(a: u32, b: u32, map: &mut IdMap) -> bool {
    if (a == 0) != (b == 0) {
        return false;
    }
    if a == 0 {
        return true;
    }
    for &(o, c) in &map.pairs {
        if o == a {
            return c == b;
        }
        if c == b {
            return false;
        }
    }
    map.pairs.push((a, b));
    true
}

/// Linked scalars in the old state must stay linked in the current one
/// (`check_scalar_ids`); unlinked ones get fresh temporary ids.
pub(crate) fn check_scalar_ids(a: u32, b: u32, map: &mut IdMap) -> bool {
    let fresh = |map: &mut IdMap| {
        map.tmp += 1;
        (1 << 31) | map.tmp
    };
    let a = if a == 0 { fresh(map) } else { a };
    let b = if b == 0 { fresh(map) } else { b };
    check_ids(a, b, map)
}

/// `regsafe`: whether the old register's abstract value covers the current one's.
pub(crate) fn regsafe(old: &Reg, cur: &Reg, idmap: &mut IdMap) -> bool {
    if old.ty == Ty::NotInit {
        return true;
    }
    if cur.ty == Ty::NotInit {
        return false;
    }
    match old.ty {
        Ty::Scalar => {
            cur.ty == Ty::Scalar
                && (old.id & ADD_CONST) == (cur.id & ADD_CONST)
                && (old.id & ADD_CONST == 0 || old.off == cur.off)
                && old.s.covers(&cur.s)
                && check_scalar_ids(old.id, cur.id, idmap)
        }
        Ty::Pkt | Ty::PktMeta => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.range <= cur.range
                && old.off == cur.off
                && check_ids(old.id, cur.id, idmap)
                && old.s.covers(&cur.s)
        }
        Ty::MapValue | Ty::MapKey | Ty::RingbufMem => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.off == cur.off
                && old.aux == cur.aux
                && old.mem_size == cur.mem_size
                && old.s.covers(&cur.s)
                && check_ids(old.id, cur.id, idmap)
                && check_ids(old.ref_id, cur.ref_id, idmap)
        }
        Ty::Stack => {
            cur.ty == Ty::Stack && old.off == cur.off && old.aux == cur.aux && old.s == cur.s
        }
        _ => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.off == cur.off
                && old.aux == cur.aux
                && old.s == cur.s
                && old.range == cur.range
                && check_ids(old.id, cur.id, idmap)
                && check_ids(old.ref_id, cur.ref_id, idmap)
        }
    }
}

/// `stacksafe`: whether every stack byte the old frame relied on is covered in the current
/// frame (slots the old state never wrote cover anything).
pub(crate) fn stack_safe(old: &Frame, cur: &Frame, idmap: &mut IdMap) -> bool {
    for (si, os) in old.stack.iter().enumerate() {
        let cs = cur.stack.get(si).copied().unwrap_or(StackSlot::EMPTY);
        let old_spill = os.bytes[7] == Slot::Spill;
        let cur_spill = cs.bytes[7] == Slot::Spill;
        if old_spill && os.bytes.iter().all(|b| *b == Slot::Spill) {
            if !cur_spill {
                // A spilled scalar is covered by misc bytes only if it is unknown.
                if os.spilled.ty == Ty::Scalar
                    && os.spilled.s == Scalar::UNKNOWN
                    && cs
                        .bytes
                        .iter()
                        .all(|b| matches!(b, Slot::Misc | Slot::Zero))
                {
                    continue;
                }
                return false;
            }
            if !regsafe(&os.spilled, &cs.spilled, idmap) {
                return false;
            }
            continue;
        }
        for i in 0..8 {
            let (o, c) = (os.bytes[i], cs.bytes[i]);
            match o {
                Slot::Invalid | Slot::Misc => {}
                Slot::Zero => {
                    if c != Slot::Zero && !(c == Slot::Spill && cs.spilled.s == Scalar::known(0)) {
                        return false;
                    }
                }
                Slot::Spill => {
                    if c != Slot::Spill {
                        return false;
                    }
                }
            }
        }
        if old_spill && !regsafe(&os.spilled, &cs.spilled, idmap) {
            return false;
        }
    }
    true
}

/// `states_equal(..., RANGE_WITHIN/EXACT)` as used for loop detection: the states are the
/// same, not merely covered, so exploring on would repeat forever.
pub(crate) fn looping_equal(old: &State, cur: &State) -> bool {
    if old.frames.len() != cur.frames.len() || old.refs.len() != cur.refs.len() {
        return false;
    }
    for (a, b) in old.frames.iter().zip(&cur.frames) {
        if a.callsite != b.callsite {
            return false;
        }
        for (x, y) in a.regs.iter().zip(&b.regs) {
            if !reg_exact(x, y) {
                return false;
            }
        }
        let n = a.stack.len().max(b.stack.len());
        for i in 0..n {
            let sa = a.stack.get(i).copied().unwrap_or(StackSlot::EMPTY);
            let sb = b.stack.get(i).copied().unwrap_or(StackSlot::EMPTY);
            if sa.bytes != sb.bytes {
                return false;
            }
            if sa.bytes[7] == Slot::Spill && !reg_exact(&sa.spilled, &sb.spilled) {
                return false;
            }
        }
    }
    true
}

/// Registers equal as the loop checks need it: same type, bounds and offset; ids only need
/// to agree on being set.
pub(crate) fn reg_exact(a: &Reg, b: &Reg) -> bool {
    a.ty == b.ty
        && a.maybe_null == b.maybe_null
        && a.off == b.off
        && a.s == b.s
        && a.range == b.range
        && a.aux == b.aux
        && (a.id == 0) == (b.id == 0)
}

impl Env<'_> {
    /// `states_equal`: whether the checkpoint `old` at `pc` covers `cur`, comparing only
    /// registers live at `pc` (in callers: live after the call returns, r0 excluded).
    pub(crate) fn states_safe(&self, old: &State, cur: &State, pc: usize) -> bool {
        if old.frames.len() != cur.frames.len()
            || old.refs.len() != cur.refs.len()
            || old.lock.is_some() != cur.lock.is_some()
        {
            return false;
        }
        let mut idmap = IdMap::default();
        let nf = old.frames.len();
        for (fi, (of, cf)) in old.frames.iter().zip(&cur.frames).enumerate() {
            if of.callsite != cf.callsite {
                return false;
            }
            let live = if fi == nf - 1 {
                self.prog.live[pc]
            } else {
                let ret = old.frames[fi + 1].callsite + 1;
                self.prog.live.get(ret).copied().unwrap_or(0xffff) & !1
            };
            for r in 0..11 {
                if live & (1 << r) == 0 {
                    continue;
                }
                if !regsafe(&of.regs[r], &cf.regs[r], &mut idmap) {
                    return false;
                }
            }
            if !stack_safe(of, cf, &mut idmap) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(lo: u64, hi: u64) -> Reg {
        let mut r = Reg::unknown();
        r.s = Scalar::range_u(lo, hi);
        r
    }

    #[test]
    fn wider_scalar_range_covers_narrower() {
        let mut ids = IdMap::default();
        assert!(regsafe(&scalar(0, 10), &scalar(2, 5), &mut ids));
        assert!(!regsafe(
            &scalar(2, 5),
            &scalar(0, 10),
            &mut IdMap::default()
        ));
        assert!(regsafe(
            &Reg::unknown(),
            &Reg::known(7),
            &mut IdMap::default()
        ));
    }

    #[test]
    fn uninitialised_old_covers_anything_but_not_the_reverse() {
        assert!(regsafe(
            &Reg::NOT_INIT,
            &Reg::ptr(Ty::Ctx),
            &mut IdMap::default()
        ));
        assert!(!regsafe(
            &Reg::unknown(),
            &Reg::NOT_INIT,
            &mut IdMap::default()
        ));
    }

    #[test]
    fn pointers_need_the_same_type_and_offset() {
        let ctx = Reg::ptr(Ty::Ctx);
        assert!(regsafe(&ctx, &ctx, &mut IdMap::default()));
        assert!(!regsafe(&ctx, &Reg::ptr(Ty::Stack), &mut IdMap::default()));
        let mut moved = ctx;
        moved.off = 4;
        assert!(!regsafe(&ctx, &moved, &mut IdMap::default()));
        assert!(!regsafe(&scalar(0, 10), &ctx, &mut IdMap::default()));
    }

    #[test]
    fn packet_range_proven_before_must_be_proven_now() {
        let mut old = Reg::ptr(Ty::Pkt);
        old.range = 8;
        let mut cur = old;
        cur.range = 16;
        assert!(regsafe(&old, &cur, &mut IdMap::default()));
        assert!(!regsafe(&cur, &old, &mut IdMap::default()));
    }

    #[test]
    fn ids_map_one_to_one() {
        let mut m = IdMap::default();
        assert!(check_ids(1, 5, &mut m));
        assert!(check_ids(1, 5, &mut m));
        // old 1 is already current 5
        assert!(!check_ids(1, 6, &mut m));
        // current 5 is already old 1
        assert!(!check_ids(2, 5, &mut m));
        assert!(check_ids(2, 6, &mut m));
        assert!(check_ids(0, 0, &mut m));
        assert!(!check_ids(0, 7, &mut m));
    }

    #[test]
    fn linked_scalars_must_stay_linked() {
        // Old: r1 and r2 share id 3 (a bound on one bounds the other). Current: unlinked.
        let mut m = IdMap::default();
        assert!(check_scalar_ids(3, 0, &mut m));
        assert!(!check_scalar_ids(3, 0, &mut m));
        // Unlinked in the old state get fresh temporary ids, which map one-to-one too:
        // two old unlinked scalars cannot both stand for one current id (as the kernel's
        // `check_scalar_ids` does it).
        let mut m = IdMap::default();
        assert!(check_scalar_ids(0, 4, &mut m));
        assert!(!check_scalar_ids(0, 4, &mut m));
        assert!(check_scalar_ids(0, 0, &mut m));
    }

    fn frame_with(slot: StackSlot) -> Frame {
        let mut f = Frame::new(usize::MAX, 0, 0);
        f.grow(-8);
        f.stack[0] = slot;
        f
    }

    #[test]
    fn stack_zero_bytes_need_zero_now() {
        let zero = StackSlot {
            bytes: [Slot::Zero; 8],
            spilled: Reg::NOT_INIT,
        };
        let misc = StackSlot {
            bytes: [Slot::Misc; 8],
            spilled: Reg::NOT_INIT,
        };
        let (z, m) = (frame_with(zero), frame_with(misc));
        assert!(stack_safe(&z, &z, &mut IdMap::default()));
        assert!(stack_safe(&m, &z, &mut IdMap::default()));
        assert!(!stack_safe(&z, &m, &mut IdMap::default()));
        // A slot the old state never wrote covers anything, even a missing one.
        let empty = Frame::new(usize::MAX, 0, 0);
        assert!(stack_safe(&empty, &z, &mut IdMap::default()));
        assert!(!stack_safe(&z, &empty, &mut IdMap::default()));
    }

    #[test]
    fn spilled_unknown_scalar_is_covered_by_misc_bytes() {
        let spill = |r: Reg| StackSlot {
            bytes: [Slot::Spill; 8],
            spilled: r,
        };
        let misc = frame_with(StackSlot {
            bytes: [Slot::Misc; 8],
            spilled: Reg::NOT_INIT,
        });
        assert!(stack_safe(
            &frame_with(spill(Reg::unknown())),
            &misc,
            &mut IdMap::default()
        ));
        assert!(!stack_safe(
            &frame_with(spill(scalar(0, 3))),
            &misc,
            &mut IdMap::default()
        ));
        assert!(stack_safe(
            &frame_with(spill(scalar(0, 3))),
            &frame_with(spill(scalar(1, 2))),
            &mut IdMap::default()
        ));
    }

    #[test]
    fn loop_equality_is_exact() {
        let mut a = State {
            frames: vec![Frame::new(usize::MAX, 0, 0)],
            refs: Vec::new(),
            lock: None,
            may_goto_depth: 0,
            callback_unroll_depth: 0,
        };
        a.frames[0].regs[0] = scalar(0, 10);
        let mut b = a.clone();
        assert!(looping_equal(&a, &b));
        b.frames[0].regs[0] = scalar(0, 9);
        assert!(!looping_equal(&a, &b));
        // widening forgets the changed scalar, so the next visit compares equal
        widen_scalars(&a, &mut b);
        assert_eq!(b.frames[0].regs[0], Reg::unknown());
    }
}
