//! Helpers that call back into the program (`push_callback_call` and the
//! `set_*_callback_state` functions of 6.18's verifier.c).
//!
//! A synchronous callback (`bpf_loop`, `bpf_for_each_map_elem`, `bpf_user_ringbuf_drain`;
//! `bpf_find_vma` needs BTF-typed task pointers, which bpfx does not model) is verified as a new frame
//! queued at the helper call, with the argument registers its helper gives it; the path that
//! made the call goes on after the helper as if the callback never ran. When the callback
//! exits, its r0 must be in the helper's range and the path goes back to the helper call
//! itself, which queues the callback once more: the callback is visited again and again
//! until the state at the call repeats (a checkpoint is forced there and compared with
//! `RANGE_WITHIN`), or, for `bpf_loop`, until its count of iterations is reached.
//!
//! An asynchronous callback (`bpf_timer_set_callback`) runs later, on its own: it is queued
//! as a state whose only frame is the callback, and must return 0.

use crate::check::{fail, Env, Work, MAX_CALL_FRAMES, R};
use crate::state::{Callback, Frame, Reg, State, Ty};
use crate::{E2BIG, ENOTSUPP};
use asm::types::MapType;

/// `bpf_for_each_map_elem`.
pub(crate) const FOR_EACH_MAP_ELEM: u32 = 164;
/// `bpf_timer_set_callback`.
pub(crate) const TIMER_SET_CALLBACK: u32 = 170;
/// `bpf_find_vma`.
pub(crate) const FIND_VMA: u32 = 180;
/// `bpf_loop`.
pub(crate) const LOOP: u32 = 181;
/// `bpf_user_ringbuf_drain`.
pub(crate) const USER_RINGBUF_DRAIN: u32 = 209;

/// `is_sync_callback_calling_function`.
pub(crate) fn is_sync_callback_helper(id: i64) -> bool {
    [FOR_EACH_MAP_ELEM, FIND_VMA, LOOP, USER_RINGBUF_DRAIN]
        .iter()
        .any(|&h| h as i64 == id)
}

/// `is_async_callback_calling_function`.
pub(crate) fn is_async_callback_helper(id: i64) -> bool {
    id == TIMER_SET_CALLBACK as i64
}

/// The callback visit a helper call queued, waiting for the exploration to take it.
pub(crate) struct PendingCallback {
    pub(crate) st: State,
    pub(crate) start: usize,
    /// An asynchronous callback's state starts afresh (`push_async_cb`): no checkpoint of
    /// the path that queued it waits for it.
    pub(crate) detached: bool,
}

impl Env<'_> {
    /// `push_callback_call`: after helper `id`'s arguments were checked (`st` is the state
    /// before the helper clobbers r0-r5), the callback `sub`'s visit, if one is due.
    pub(crate) fn push_callback_call(
        &mut self,
        st: &mut State,
        pc: usize,
        id: u32,
        sub: usize,
        map: Option<u32>,
    ) -> R<()> {
        let start = self.prog.subs[sub].start;
        if id == TIMER_SET_CALLBACK {
            // `push_async_cb`: a state of its own, the callback as frame 0.
            let mut callee = Frame::new(pc, sub, 0);
            callee.async_entry_cnt = st.cur().async_entry_cnt + 1;
            self.set_timer_callback_state(st, &mut callee, map);
            callee.callback = Some(Callback {
                ret: (0, 0),
                is_async: true,
            });
            self.pending_callback = Some(PendingCallback {
                st: State {
                    frames: vec![callee],
                    refs: Vec::new(),
                    lock: None,
                    may_goto_depth: 0,
                    callback_unroll_depth: 0,
                },
                start,
                detached: true,
            });
            return Ok(());
        }
        if id == LOOP {
            // The iteration count bounds the visits: with r1 <= N the callback runs at
            // most N times in a row.
            let nr_loops = self.reg(st, 1).s.umax;
            if st.cur().callback_depth >= nr_loops {
                st.cur_mut().callback_depth = 0;
                return Ok(());
            }
        }
        // `setup_func_entry`.
        if st.frames.len() >= MAX_CALL_FRAMES {
            return fail(
                E2BIG,
                format!(
                    "the call stack of {} frames is too deep",
                    st.frames.len() + 1
                ),
            );
        }
        let caller = st.cur().clone();
        let mut callee = Frame::new(pc, sub, st.frames.len() as u32);
        match id {
            LOOP => {
                // `set_loop_callback_state`: callback_fn(u32 index, void *ctx).
                callee.regs[1] = Reg::unknown();
                callee.regs[2] = caller.regs[3];
            }
            FOR_EACH_MAP_ELEM => {
                // `set_map_elem_callback_state`: callback_fn(map, key, value, ctx).
                let m = map.unwrap_or(0);
                let t = self.prog.maps[m as usize].map_type;
                // The map types with `map_for_each_callback`.
                if !matches!(
                    t,
                    MapType::Array
                        | MapType::PercpuArray
                        | MapType::Hash
                        | MapType::PercpuHash
                        | MapType::LruHash
                        | MapType::LruPercpuHash
                ) {
                    return fail(ENOTSUPP, "callback function not allowed for map");
                }
                for (r, ty) in [(1, Ty::MapPtr), (2, Ty::MapKey), (3, Ty::MapValue)] {
                    let mut reg = Reg::ptr(ty);
                    reg.aux = m;
                    callee.regs[r] = reg;
                }
                callee.regs[4] = caller.regs[3];
            }
            USER_RINGBUF_DRAIN => {
                // `set_user_ringbuf_callback_state`: callback_fn(dynptr, ctx).
                callee.regs[1] = Reg::ptr(Ty::ConstDynptr);
                callee.regs[2] = caller.regs[3];
            }
            _ => unreachable!("only sync callback helpers with a prototype reach here"),
        }
        callee.callback = Some(Callback {
            ret: (0, 1),
            is_async: false,
        });
        let mut queued = st.clone();
        queued.callback_unroll_depth += 1;
        queued.cur_mut().callback_depth += 1;
        queued.frames.push(callee);
        st.cur_mut().callback_depth = 0;
        self.pending_callback = Some(PendingCallback {
            st: queued,
            start,
            detached: false,
        });
        Ok(())
    }

    /// `set_timer_callback_state`: callback_fn(map, key, value) of the timer's map.
    fn set_timer_callback_state(&self, st: &State, callee: &mut Frame, map: Option<u32>) {
        let m = map.unwrap_or_else(|| self.reg(st, 1).aux);
        for (r, ty) in [(1, Ty::MapPtr), (2, Ty::MapKey), (3, Ty::MapValue)] {
            let mut reg = Reg::ptr(ty);
            reg.aux = m;
            callee.regs[r] = reg;
        }
    }

    /// Queues the callback visit a helper call left pending, as `push_stack` does.
    pub(crate) fn queue_pending_callback(&mut self, w: &Work, stack: &mut Vec<Work>) {
        if let Some(p) = self.pending_callback.take() {
            let parent = if p.detached { None } else { w.parent };
            if let Some(parent) = parent {
                self.ckpts[parent].branches += 1;
            }
            stack.push(Work {
                st: p.st,
                pc: p.start,
                parent,
                path: w.path.clone(),
            });
        }
    }

    /// At a callback's `exit` (`prepare_func_exit` with `in_callback_fn`): r0 a scalar in
    /// the helper's range; then back to the helper call, which queues the next visit.
    pub(crate) fn callback_exit(&mut self, st: &mut State, cb: Callback) -> R<usize> {
        let r0 = st.cur().regs[0];
        if r0.ty != Ty::Scalar {
            return fail(crate::EACCES, "R0 not a scalar value");
        }
        let (lo, hi) = cb.ret;
        if !(lo <= r0.s.smin && r0.s.smax <= hi) {
            return fail(
                crate::EINVAL,
                invalid_scalar("At callback return", &r0, lo, hi),
            );
        }
        let callee = st.frames.pop().expect("callback frame");
        Ok(callee.callsite)
    }
}

/// `verbose_invalid_scalar`: "`ctx` the register R0 has smin=.. smax=.. should have been in
/// [lo, hi]".
pub(crate) fn invalid_scalar(ctx: &str, r0: &Reg, lo: i64, hi: i64) -> String {
    let mut m = format!("{ctx} the register R0 has");
    let mut unknown = true;
    if r0.s.smin > i64::MIN {
        m.push_str(&format!(" smin={}", r0.s.smin));
        unknown = false;
    }
    if r0.s.smax < i64::MAX {
        m.push_str(&format!(" smax={}", r0.s.smax));
        unknown = false;
    }
    if unknown {
        m.push_str(" unknown scalar value");
    }
    m.push_str(&format!(" should have been in [{lo}, {hi}]"));
    m
}
