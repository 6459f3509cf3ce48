//! Helper prototypes as the verifier checks them, derived from the one helper table
//! ([`asm::types::helpers`]): each kernel argument type (`enum bpf_arg_type` with its flags)
//! becomes the [`Arg`] kind `check_helper_call` handles, or [`Arg::Unmodelled`] where bpfx
//! cannot check it yet (BTF pointers, dynptrs, timers ...), so that such a call is declined
//! as unsupported, never accepted unchecked.

use asm::types::helpers::{self as table, ArgBase, ArgType, RetBase, TypeFlags};
use asm::types::ProgType;
use std::sync::OnceLock;

/// An argument kind the verifier checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Any initialised value.
    Any,
    /// A map pointer.
    MapPtr,
    /// A pointer to a key of the map in the map argument.
    MapKey,
    /// A pointer to a value of the map in the map argument.
    MapValue,
    /// Readable memory whose size is the next argument.
    Mem,
    /// Readable memory or NULL.
    MemOrNull,
    /// Writable, possibly uninitialised memory whose size is the next argument.
    UninitMem,
    /// Size of the previous memory argument, > 0.
    Size,
    /// Size of the previous memory argument, >= 0.
    SizeOrZero,
    /// Allocation size (a constant).
    AllocSize,
    /// The context.
    Ctx,
    /// The context or NULL.
    CtxOrNull,
    /// A map value holding a `bpf_spin_lock`.
    SpinLock,
    /// A socket (`sock_common` or more).
    SockCommon,
    /// A referenced socket to release.
    SockRelease,
    /// Ring buffer memory to release.
    RingbufRelease,
    /// Pointer to an 8-byte writable, aligned slot (`MEM_FIXED_SIZE` of a `u64`).
    Long,
    /// A pointer to the stack, or NULL (`ARG_PTR_TO_STACK_OR_NULL`, the callback context).
    StackOrNull,
    /// A BTF-typed pointer (not modelled).
    Btf,
    /// A callback function (`ARG_PTR_TO_FUNC`).
    Func,
    /// A map value's `struct bpf_timer` (`ARG_PTR_TO_TIMER`).
    Timer,
    /// An argument type bpfx does not check yet: calls are declined as unsupported.
    Unmodelled(ArgType),
}

/// A return kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// A number.
    Int,
    /// Nothing (r0 becomes unreadable).
    Void,
    /// A value of the map argument, or NULL.
    MapValueOrNull,
    /// A value of the map argument (never NULL).
    MapValue,
    /// A referenced socket or NULL.
    SockOrNull,
    /// A socket or NULL (no reference).
    SockNoRefOrNull,
    /// A tcp socket or NULL.
    TcpSockOrNull,
    /// Ring buffer memory of the size argument, or NULL (referenced).
    RingbufOrNull,
    /// A BTF pointer (not modelled).
    Btf,
    /// Another return type bpfx does not model (dynptr memory, memory or BTF id).
    Unmodelled,
}

/// One helper's prototype as the verifier uses it.
#[derive(Clone, Debug)]
pub struct Proto {
    /// Helper id.
    pub id: u32,
    /// Kernel name without `bpf_`.
    pub name: &'static str,
    /// Return type.
    pub ret: Ret,
    /// Arguments r1..r5.
    pub args: Vec<Arg>,
    /// The table's row (program types, `gpl_only`, callback ...).
    pub helper: &'static table::Helper,
}

impl Proto {
    /// Whether every argument and the return type are checked by bpfx (no BTF pointer,
    /// no unmodelled kind).
    pub fn fully_modelled(&self) -> bool {
        !matches!(self.ret, Ret::Btf | Ret::Unmodelled)
            && !self
                .args
                .iter()
                .any(|a| matches!(a, Arg::Btf | Arg::Unmodelled(_)))
    }
}

/// The verifier's reading of one argument type of the table.
fn arg(a: &ArgType) -> Arg {
    let null = a.flags.has(TypeFlags::MAYBE_NULL);
    let release = a.flags.has(TypeFlags::OBJ_RELEASE);
    match a.base {
        ArgBase::Anything => Arg::Any,
        ArgBase::ConstMapPtr => Arg::MapPtr,
        ArgBase::PtrToMapKey => Arg::MapKey,
        // bpf_map_pop_elem / bpf_map_peek_elem write a whole value (ARG_PTR_TO_MAP_VALUE |
        // MEM_UNINIT): checked as writable memory of the value size.
        ArgBase::PtrToMapValue if a.flags.has(TypeFlags::MEM_UNINIT) && !null => Arg::UninitMem,
        ArgBase::PtrToMapValue if !null => Arg::MapValue,
        ArgBase::PtrToMem if a.flags.has(TypeFlags::MEM_FIXED_SIZE) => {
            if a.size == 8
                && a.flags.has(TypeFlags::MEM_UNINIT)
                && a.flags.has(TypeFlags::MEM_ALIGNED)
            {
                Arg::Long
            } else {
                Arg::Unmodelled(*a)
            }
        }
        ArgBase::PtrToMem if null => Arg::MemOrNull,
        ArgBase::PtrToMem if a.flags.has(TypeFlags::MEM_UNINIT) => Arg::UninitMem,
        ArgBase::PtrToMem => Arg::Mem,
        ArgBase::ConstSize => Arg::Size,
        ArgBase::ConstSizeOrZero => Arg::SizeOrZero,
        ArgBase::ConstAllocSizeOrZero => Arg::AllocSize,
        ArgBase::PtrToCtx if null => Arg::CtxOrNull,
        ArgBase::PtrToCtx => Arg::Ctx,
        ArgBase::PtrToSpinLock => Arg::SpinLock,
        ArgBase::PtrToSockCommon => Arg::SockCommon,
        ArgBase::PtrToBtfIdSockCommon if release => Arg::SockRelease,
        ArgBase::PtrToRingbufMem if release => Arg::RingbufRelease,
        ArgBase::PtrToStack if null => Arg::StackOrNull,
        ArgBase::PtrToFunc => Arg::Func,
        ArgBase::PtrToTimer => Arg::Timer,
        ArgBase::PtrToBtfId | ArgBase::PtrToBtfIdSockCommon | ArgBase::PtrToPercpuBtfId => Arg::Btf,
        _ => Arg::Unmodelled(*a),
    }
}

/// The verifier's reading of a return type; `id` says whether the helper acquires a
/// reference (`is_acquire_function` in kernel/bpf/verifier.c: the socket lookups).
fn ret(id: u32, r: &asm::types::helpers::RetType) -> Ret {
    let null = r.flags.has(TypeFlags::MAYBE_NULL);
    let acquires = matches!(id, 84 | 85 | 99);
    match r.base {
        RetBase::Integer => Ret::Int,
        RetBase::Void => Ret::Void,
        RetBase::PtrToMapValue if null => Ret::MapValueOrNull,
        RetBase::PtrToMapValue => Ret::MapValue,
        RetBase::PtrToSocket | RetBase::PtrToSockCommon if null && acquires => Ret::SockOrNull,
        RetBase::PtrToSocket if null => Ret::SockNoRefOrNull,
        RetBase::PtrToTcpSock if null => Ret::TcpSockOrNull,
        RetBase::PtrToMem if null && r.flags.has(TypeFlags::MEM_RINGBUF) => Ret::RingbufOrNull,
        RetBase::PtrToBtfId => Ret::Btf,
        _ => Ret::Unmodelled,
    }
}

fn protos() -> &'static [Proto] {
    static PROTOS: OnceLock<Vec<Proto>> = OnceLock::new();
    PROTOS.get_or_init(|| {
        table::all()
            .map(|h| Proto {
                id: h.id,
                name: h.name,
                ret: ret(h.id, &h.ret),
                args: h.args.iter().map(arg).collect(),
                helper: h,
            })
            .collect()
    })
}

/// The prototype of helper `id` (every 6.18 helper has one); `None` for 0 and unknown ids.
pub fn proto(id: u32) -> Option<&'static Proto> {
    let i = usize::try_from(id).ok()?.checked_sub(1)?;
    protos().get(i)
}

/// The kernel's name for helper `id` (`func_id_name`): `bpf_unspec` for 0, `unknown` when
/// out of range.
pub fn name(id: i64) -> String {
    match u32::try_from(id) {
        Ok(0) => "bpf_unspec".to_string(),
        Ok(u) => asm::text::helpers::name(u).unwrap_or_else(|| "unknown".to_string()),
        Err(_) => "unknown".to_string(),
    }
}

/// Whether the kernel counts `pt` as a tracing program (`is_tracing_prog_type`).
pub fn is_tracing(pt: ProgType) -> bool {
    matches!(
        pt,
        ProgType::Kprobe | ProgType::Tracepoint | ProgType::PerfEvent | ProgType::RawTracepoint
    )
}

/// Whether a program of type `pt` attached as `attach` (`expected_attach_type`, 0 when
/// unset) may call `p` (the type's `*_func_proto` offers it).
pub fn available(p: &Proto, pt: ProgType, attach: u32) -> bool {
    // cgroup_common_func_proto() in kernel/bpf/cgroup.c offers bpf_get_retval and
    // bpf_set_retval to cgroup programs except those attached where the hook has no return
    // value to change: inet ingress/egress, sock_ops, recvmsg, getpeername, getsockname.
    if matches!(p.id, 186 | 187) && matches!(attach, 0 | 1 | 3 | 19 | 20 | 29..=32 | 51..=53) {
        return false;
    }
    p.helper.progs.contains(pt)
}

/// Whether `p` is `gpl_only` for programs of type `pt`: the table's prototype, except where
/// a type's `*_func_proto` answers with another one. pe_prog_func_proto() in
/// kernel/trace/bpf_trace.c gives perf_event programs bpf_get_stackid_proto_pe, which is
/// not gpl_only (measured on 6.18 by tests/kernel_differential.rs).
pub fn gpl_only(p: &Proto, pt: ProgType) -> bool {
    if p.id == 27 && pt == ProgType::PerfEvent {
        return false;
    }
    p.helper.gpl_only()
}

/// `license_is_gpl_compatible()` in include/linux/license.h: the licence strings that
/// unlock `gpl_only` helpers.
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_id_has_a_prototype() {
        for id in 1..table::MAX_ID {
            let p = proto(id).unwrap();
            assert_eq!(p.id, id);
            assert_eq!(p.args.len(), p.helper.args.len());
        }
        assert!(proto(0).is_none() && proto(table::MAX_ID).is_none());
    }

    #[test]
    fn derived_kinds() {
        use Arg::*;
        let args = |id| proto(id).unwrap().args.clone();
        assert_eq!(args(1), [MapPtr, MapKey]);
        assert_eq!(args(26), [Ctx, Any, UninitMem, Size]);
        assert_eq!(
            args(28),
            [MemOrNull, SizeOrZero, MemOrNull, SizeOrZero, Any]
        );
        assert_eq!(args(86), [SockRelease]);
        assert_eq!(args(106), [Mem, Size, Any, Long]);
        assert_eq!(args(131), [MapPtr, AllocSize, Any]);
        assert_eq!(args(132), [RingbufRelease, Any]);
        assert_eq!(args(181), [Any, Func, StackOrNull, Any]);
        assert_eq!(proto(84).unwrap().ret, Ret::SockOrNull);
        assert_eq!(proto(95).unwrap().ret, Ret::SockNoRefOrNull);
        assert_eq!(proto(131).unwrap().ret, Ret::RingbufOrNull);
        assert!(proto(1).unwrap().fully_modelled());
        // bpf_timer_init's timer is checked (process_timer_func); bpf_dynptr_read's dynptr
        // is declined, not guessed.
        assert_eq!(args(169), [Timer, MapPtr, Any]);
        assert!(proto(169).unwrap().fully_modelled());
        assert!(!proto(201).unwrap().fully_modelled());
    }

    #[test]
    fn names() {
        assert_eq!(name(0), "bpf_unspec");
        assert_eq!(name(1), "bpf_map_lookup_elem");
        assert_eq!(name(212), "unknown");
        assert_eq!(name(-1), "unknown");
    }

    #[test]
    fn gpl_compatible_licenses() {
        assert!(license_is_gpl_compatible("Dual BSD/GPL"));
        assert!(!license_is_gpl_compatible("MIT"));
        assert!(!license_is_gpl_compatible("gpl"));
    }
}
