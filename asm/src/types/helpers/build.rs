//! Short constructors for the rows of the table (`const fn`, so the table is a `static`).

pub(super) use super::ArgBase::*;

pub(super) use super::{
    ArgType, Callback, CallbackArg, Helper, HelperFlags, ProgSet, RetBase, RetType, TypeFlags,
};

pub(super) const GPL_ONLY: HelperFlags = HelperFlags::GPL_ONLY;
pub(super) const PKT_ACCESS: HelperFlags = HelperFlags::PKT_ACCESS;
pub(super) const MIGHT_SLEEP: HelperFlags = HelperFlags::MIGHT_SLEEP;
pub(super) const ALLOWED_CHECK: HelperFlags = HelperFlags::ALLOWED_CHECK;

pub(super) const MAYBE_NULL: TypeFlags = TypeFlags::MAYBE_NULL;
pub(super) const MEM_RDONLY: TypeFlags = TypeFlags::MEM_RDONLY;
pub(super) const MEM_UNINIT: TypeFlags = TypeFlags::MEM_UNINIT;
pub(super) const MEM_WRITE: TypeFlags = TypeFlags::MEM_WRITE;
pub(super) const MEM_FIXED_SIZE: TypeFlags = TypeFlags::MEM_FIXED_SIZE;
pub(super) const MEM_ALIGNED: TypeFlags = TypeFlags::MEM_ALIGNED;
pub(super) const OBJ_RELEASE: TypeFlags = TypeFlags::OBJ_RELEASE;
pub(super) const DYNPTR_LOCAL: TypeFlags = TypeFlags::DYNPTR_LOCAL;
pub(super) const DYNPTR_RINGBUF: TypeFlags = TypeFlags::DYNPTR_RINGBUF;
pub(super) const MEM_RINGBUF: TypeFlags = TypeFlags::MEM_RINGBUF;

/// An argument of base type `base`, no flags.
pub(super) const fn a(base: super::ArgBase) -> ArgType {
    ArgType {
        base,
        flags: TypeFlags::NONE,
        size: 0,
        btf: None,
    }
}

/// A return type of base type `base`, no flags.
pub(super) const fn r(base: super::RetBase) -> RetType {
    RetType {
        base,
        flags: TypeFlags::NONE,
        btf: None,
    }
}

/// One row.
pub(super) const fn h(
    id: u32,
    name: &'static str,
    flags: &[HelperFlags],
    ret: RetType,
    args: &'static [ArgType],
    callback: Option<&'static Callback>,
    progs: ProgSet,
) -> Helper {
    let mut all = HelperFlags::NONE;
    let mut i = 0;
    while i < flags.len() {
        all = all.or(flags[i]);
        i += 1;
    }
    Helper {
        id,
        name,
        flags: all,
        ret,
        args,
        callback,
        progs,
    }
}

// The callback signatures, as the kernel's `set_*_callback_state` in kernel/bpf/verifier.c
// sets up the callee's registers (r1 first) and the return range it enforces.

/// `set_map_elem_callback_state`: `(map, key, value, ctx)`, returns 0 or 1.
pub(super) const FOR_EACH_MAP_ELEM_CB: Callback = Callback {
    arg: 2,
    params: &[
        CallbackArg::MapOfArg(1),
        CallbackArg::KeyOfArg(1),
        CallbackArg::ValueOfArg(1),
        CallbackArg::CallerArg(3),
    ],
    ret_min: 0,
    ret_max: 1,
    is_async: false,
};

/// `set_timer_callback_state`: `(map, key, value)` of the map holding the timer; runs
/// asynchronously (`in_async_callback_fn`).
pub(super) const TIMER_CB: Callback = Callback {
    arg: 2,
    params: &[
        CallbackArg::TimerMap,
        CallbackArg::TimerKey,
        CallbackArg::TimerValue,
    ],
    ret_min: 0,
    ret_max: 1,
    is_async: true,
};

/// `set_find_vma_callback_state`: `(task, vma, ctx)`.
pub(super) const FIND_VMA_CB: Callback = Callback {
    arg: 3,
    params: &[
        CallbackArg::CallerArg(1),
        CallbackArg::Btf("vm_area_struct"),
        CallbackArg::CallerArg(4),
    ],
    ret_min: 0,
    ret_max: 1,
    is_async: false,
};

/// `set_loop_callback_state`: `(index, ctx)`.
pub(super) const LOOP_CB: Callback = Callback {
    arg: 2,
    params: &[CallbackArg::Scalar, CallbackArg::CallerArg(3)],
    ret_min: 0,
    ret_max: 1,
    is_async: false,
};

/// `set_user_ringbuf_callback_state`: `(dynptr, ctx)`, the dynptr a local one over the sample.
pub(super) const USER_RINGBUF_DRAIN_CB: Callback = Callback {
    arg: 2,
    params: &[CallbackArg::LocalDynptr, CallbackArg::CallerArg(3)],
    ret_min: 0,
    ret_max: 1,
    is_async: false,
};
