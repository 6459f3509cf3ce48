//! Helper prototypes (`struct bpf_func_proto`) as data: id, name, return type, argument
//! types, and which program types may call each (the `*_func_proto` switches).

use asm::types::ProgType;

/// An argument type (`enum bpf_arg_type`, the subset these helpers use).
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
    /// Pointer to an 8-byte writable stack slot.
    Long,
    /// A BTF-typed pointer (not modelled).
    Btf,
    /// A callback function (`ARG_PTR_TO_FUNC`).
    Func,
    /// A pointer to the stack or NULL (`ARG_PTR_TO_STACK_OR_NULL`, a callback's context).
    StackOrNull,
    /// A map value's `struct bpf_timer` (`ARG_PTR_TO_TIMER`).
    Timer,
}

/// A return type (`enum bpf_return_type`).
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
}

/// One helper's prototype.
#[derive(Clone, Copy, Debug)]
pub struct Proto {
    /// Helper id.
    pub id: u32,
    /// Kernel name without `bpf_`.
    pub name: &'static str,
    /// Return type.
    pub ret: Ret,
    /// Arguments r1..r5.
    pub args: &'static [Arg],
    /// Which program types may call it.
    pub avail: Avail,
}

/// Program type groups (which `*_func_proto` offers the helper).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Avail {
    /// `bpf_base_func_proto`: every type.
    Base,
    /// Tracing types only.
    Tracing,
    /// Programs that see an skb (tc, socket filter, cgroup skb, lwt, sk_skb).
    Skb,
    /// tc and lwt_xmit / sk_skb: skbs they may modify.
    SkbWrite,
    /// tc and XDP.
    Net,
    /// XDP only.
    Xdp,
    /// cgroup skb / cgroup sock / sockops ... (`get_local_storage`).
    CgroupStorage,
    /// Socket lookup from tc, XDP, sk_skb, cgroup skb.
    SkLookup,
    /// sk_reuseport only.
    Reuseport,
    /// Any program type (checked elsewhere).
    All,
    /// Every type but these (`*_func_proto` switches that do not offer it; the lists
    /// are what kernel 6.18 refuses with "cannot use helper").
    Except(&'static [ProgType]),
    /// Only these types (where the groups above are too coarse; checked against 6.18 by
    /// tests/kernel_differential.rs).
    Only(&'static [ProgType]),
}

use Arg::*;

/// Types whose `*_func_proto` has no `bpf_get_socket_cookie` (6.18: sk_filter, tc, cgroup
/// skb/sock/sock_addr, sock_ops, sk_skb, sk_reuseport and tracing have one).
const NO_SOCKET_COOKIE: &[ProgType] = &[
    ProgType::Kprobe,
    ProgType::Tracepoint,
    ProgType::Xdp,
    ProgType::PerfEvent,
    ProgType::LwtIn,
    ProgType::LwtOut,
    ProgType::LwtXmit,
    ProgType::CgroupDevice,
    ProgType::SkMsg,
    ProgType::RawTracepoint,
    ProgType::LwtSeg6local,
    ProgType::FlowDissector,
    ProgType::CgroupSysctl,
    ProgType::RawTracepointWritable,
];

/// Types without `bpf_getsockopt` (it belongs to sock_ops, cgroup sockopt/sock_addr hooks
/// and struct_ops).
const NO_GETSOCKOPT: &[ProgType] = &[
    ProgType::SocketFilter,
    ProgType::Kprobe,
    ProgType::SchedCls,
    ProgType::SchedAct,
    ProgType::Tracepoint,
    ProgType::Xdp,
    ProgType::PerfEvent,
    ProgType::CgroupSkb,
    ProgType::CgroupSock,
    ProgType::LwtIn,
    ProgType::LwtOut,
    ProgType::LwtXmit,
    ProgType::SkSkb,
    ProgType::CgroupDevice,
    ProgType::SkMsg,
    ProgType::RawTracepoint,
    ProgType::LwtSeg6local,
    ProgType::SkReuseport,
    ProgType::FlowDissector,
    ProgType::CgroupSysctl,
    ProgType::RawTracepointWritable,
];

/// Types without `bpf_get_netns_cookie` (sk_filter, tc, cgroup hooks, sock_ops and
/// sk_msg have one).
const NO_NETNS_COOKIE: &[ProgType] = &[
    ProgType::Kprobe,
    ProgType::Tracepoint,
    ProgType::Xdp,
    ProgType::PerfEvent,
    ProgType::LwtIn,
    ProgType::LwtOut,
    ProgType::LwtXmit,
    ProgType::SkSkb,
    ProgType::CgroupDevice,
    ProgType::RawTracepoint,
    ProgType::LwtSeg6local,
    ProgType::SkReuseport,
    ProgType::FlowDissector,
    ProgType::CgroupSysctl,
    ProgType::RawTracepointWritable,
];

/// The table.
pub static PROTOS: &[Proto] = &[
    p(
        1,
        "map_lookup_elem",
        Ret::MapValueOrNull,
        &[MapPtr, MapKey],
        Avail::Base,
    ),
    p(
        2,
        "map_update_elem",
        Ret::Int,
        &[MapPtr, MapKey, MapValue, Any],
        Avail::Base,
    ),
    p(
        3,
        "map_delete_elem",
        Ret::Int,
        &[MapPtr, MapKey],
        Avail::Base,
    ),
    p(
        4,
        "probe_read",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Tracing,
    ),
    p(5, "ktime_get_ns", Ret::Int, &[], Avail::Base),
    p(6, "trace_printk", Ret::Int, &[Mem, Size], Avail::Base),
    p(7, "get_prandom_u32", Ret::Int, &[], Avail::Base),
    p(8, "get_smp_processor_id", Ret::Int, &[], Avail::Base),
    p(
        9,
        "skb_store_bytes",
        Ret::Int,
        &[Ctx, Any, Mem, Size, Any],
        Avail::SkbWrite,
    ),
    p(
        10,
        "l3_csum_replace",
        Ret::Int,
        &[Ctx, Any, Any, Any, Any],
        Avail::Only(&[ProgType::SchedCls, ProgType::SchedAct, ProgType::LwtXmit]),
    ),
    p(
        11,
        "l4_csum_replace",
        Ret::Int,
        &[Ctx, Any, Any, Any, Any],
        Avail::Only(&[ProgType::SchedCls, ProgType::SchedAct, ProgType::LwtXmit]),
    ),
    p(12, "tail_call", Ret::Void, &[Ctx, MapPtr, Any], Avail::Base),
    p(
        13,
        "clone_redirect",
        Ret::Int,
        &[Ctx, Any, Any],
        Avail::Only(&[ProgType::SchedCls, ProgType::SchedAct, ProgType::LwtXmit]),
    ),
    p(14, "get_current_pid_tgid", Ret::Int, &[], Avail::Base),
    p(15, "get_current_uid_gid", Ret::Int, &[], Avail::Base),
    p(
        16,
        "get_current_comm",
        Ret::Int,
        &[UninitMem, Size],
        Avail::Base,
    ),
    // 6.18 answers every type with bpf_get_cgroup_classid_curr_proto (no arguments): a
    // program calling it with r1 unwritten loads as sched_cls too (checked against the
    // kernel by tests/kernel_differential.rs).
    p(17, "get_cgroup_classid", Ret::Int, &[], Avail::Base),
    p(23, "redirect", Ret::Int, &[Any, Any], Avail::Net),
    p(
        25,
        "perf_event_output",
        Ret::Int,
        &[Ctx, MapPtr, Any, Mem, SizeOrZero],
        Avail::All,
    ),
    p(
        26,
        "skb_load_bytes",
        Ret::Int,
        &[Ctx, Any, UninitMem, Size],
        Avail::Skb,
    ),
    p(
        27,
        "get_stackid",
        Ret::Int,
        &[Ctx, MapPtr, Any],
        Avail::Tracing,
    ),
    p(
        28,
        "csum_diff",
        Ret::Int,
        &[MemOrNull, SizeOrZero, MemOrNull, SizeOrZero, Any],
        Avail::Only(&[
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::Xdp,
            ProgType::LwtIn,
            ProgType::LwtOut,
            ProgType::LwtXmit,
            ProgType::LwtSeg6local,
        ]),
    ),
    p(
        34,
        "get_hash_recalc",
        Ret::Int,
        &[Ctx],
        Avail::Only(&[
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::LwtIn,
            ProgType::LwtOut,
            ProgType::LwtXmit,
            ProgType::LwtSeg6local,
        ]),
    ),
    p(35, "get_current_task", Ret::Int, &[], Avail::Base),
    p(
        39,
        "skb_pull_data",
        Ret::Int,
        &[Ctx, Any],
        Avail::Only(&[
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::LwtIn,
            ProgType::LwtOut,
            ProgType::LwtXmit,
            ProgType::LwtSeg6local,
            ProgType::SkSkb,
        ]),
    ),
    p(
        40,
        "csum_update",
        Ret::Int,
        &[Ctx, Any],
        Avail::Only(&[ProgType::SchedCls, ProgType::SchedAct, ProgType::LwtXmit]),
    ),
    p(42, "get_numa_node_id", Ret::Int, &[], Avail::Base),
    p(
        43,
        "skb_change_head",
        Ret::Int,
        &[Ctx, Any, Any],
        Avail::SkbWrite,
    ),
    p(44, "xdp_adjust_head", Ret::Int, &[Ctx, Any], Avail::Xdp),
    p(
        45,
        "probe_read_str",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Tracing,
    ),
    p(
        46,
        "get_socket_cookie",
        Ret::Int,
        &[Ctx],
        Avail::Except(NO_SOCKET_COOKIE),
    ),
    p(
        51,
        "redirect_map",
        Ret::Int,
        &[MapPtr, Any, Any],
        Avail::Xdp,
    ),
    p(
        57,
        "getsockopt",
        Ret::Int,
        &[Ctx, Any, Any, UninitMem, Size],
        Avail::Except(NO_GETSOCKOPT),
    ),
    p(
        67,
        "get_stack",
        Ret::Int,
        &[Ctx, UninitMem, SizeOrZero, Any],
        Avail::Tracing,
    ),
    p(
        69,
        "fib_lookup",
        Ret::Int,
        &[Ctx, Mem, Size, Any],
        Avail::Only(&[ProgType::SchedCls, ProgType::SchedAct, ProgType::Xdp]),
    ),
    p(
        81,
        "get_local_storage",
        Ret::MapValue,
        &[MapPtr, Any],
        Avail::CgroupStorage,
    ),
    p(
        82,
        "sk_select_reuseport",
        Ret::Int,
        &[Ctx, MapPtr, MapKey, Any],
        Avail::Reuseport,
    ),
    p(
        84,
        "sk_lookup_tcp",
        Ret::SockOrNull,
        &[Ctx, Mem, Size, Any, Any],
        Avail::SkLookup,
    ),
    p(
        85,
        "sk_lookup_udp",
        Ret::SockOrNull,
        &[Ctx, Mem, Size, Any, Any],
        Avail::SkLookup,
    ),
    p(86, "sk_release", Ret::Int, &[SockRelease], Avail::SkLookup),
    p(
        87,
        "map_push_elem",
        Ret::Int,
        &[MapPtr, MapValue, Any],
        Avail::Base,
    ),
    p(
        88,
        "map_pop_elem",
        Ret::Int,
        &[MapPtr, UninitMem],
        Avail::Base,
    ),
    p(
        89,
        "map_peek_elem",
        Ret::Int,
        &[MapPtr, UninitMem],
        Avail::Base,
    ),
    p(93, "spin_lock", Ret::Void, &[SpinLock], Avail::Base),
    p(94, "spin_unlock", Ret::Void, &[SpinLock], Avail::Base),
    p(
        95,
        "sk_fullsock",
        Ret::SockNoRefOrNull,
        &[SockCommon],
        Avail::Only(&[
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::CgroupSkb,
            ProgType::SkLookup,
        ]),
    ),
    p(
        96,
        "tcp_sock",
        Ret::TcpSockOrNull,
        &[SockCommon],
        Avail::Only(&[
            ProgType::SchedCls,
            ProgType::SchedAct,
            ProgType::CgroupSkb,
            ProgType::SockOps,
            ProgType::SkLookup,
        ]),
    ),
    p(
        99,
        "skc_lookup_tcp",
        Ret::SockOrNull,
        &[Ctx, Mem, Size, Any, Any],
        Avail::SkLookup,
    ),
    p(
        106,
        "strtoul",
        Ret::Int,
        &[Mem, Size, Any, Long],
        Avail::All,
    ),
    p(
        107,
        "sk_storage_get",
        Ret::MapValueOrNull,
        &[MapPtr, Btf, MemOrNull, Any],
        Avail::All,
    ),
    p(
        112,
        "probe_read_user",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Base,
    ),
    p(
        113,
        "probe_read_kernel",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Base,
    ),
    p(
        114,
        "probe_read_user_str",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Base,
    ),
    p(
        115,
        "probe_read_kernel_str",
        Ret::Int,
        &[UninitMem, SizeOrZero, Any],
        Avail::Base,
    ),
    p(118, "jiffies64", Ret::Int, &[], Avail::Base),
    p(
        122,
        "get_netns_cookie",
        Ret::Int,
        &[CtxOrNull],
        Avail::Except(NO_NETNS_COOKIE),
    ),
    p(125, "ktime_get_boot_ns", Ret::Int, &[], Avail::Base),
    p(
        130,
        "ringbuf_output",
        Ret::Int,
        &[MapPtr, Mem, SizeOrZero, Any],
        Avail::Base,
    ),
    p(
        131,
        "ringbuf_reserve",
        Ret::RingbufOrNull,
        &[MapPtr, AllocSize, Any],
        Avail::Base,
    ),
    p(
        132,
        "ringbuf_submit",
        Ret::Void,
        &[RingbufRelease, Any],
        Avail::Base,
    ),
    p(
        133,
        "ringbuf_discard",
        Ret::Void,
        &[RingbufRelease, Any],
        Avail::Base,
    ),
    p(134, "ringbuf_query", Ret::Int, &[MapPtr, Any], Avail::Base),
    p(137, "skc_to_tcp_sock", Ret::Btf, &[Btf], Avail::Base),
    p(
        139,
        "skc_to_tcp_request_sock",
        Ret::Btf,
        &[Btf],
        Avail::Base,
    ),
    p(
        160,
        "ktime_get_coarse_ns",
        Ret::Int,
        &[],
        Avail::Except(&[
            ProgType::Kprobe,
            ProgType::Tracepoint,
            ProgType::PerfEvent,
            ProgType::RawTracepoint,
            ProgType::RawTracepointWritable,
            ProgType::CgroupDevice,
        ]),
    ),
    p(
        169,
        "timer_init",
        Ret::Int,
        &[Timer, MapPtr, Any],
        Avail::Base,
    ),
    p(
        170,
        "timer_set_callback",
        Ret::Int,
        &[Timer, Func],
        Avail::Base,
    ),
    p(
        171,
        "timer_start",
        Ret::Int,
        &[Timer, Any, Any],
        Avail::Base,
    ),
    p(172, "timer_cancel", Ret::Int, &[Timer], Avail::Base),
    p(
        164,
        "for_each_map_elem",
        Ret::Int,
        &[MapPtr, Func, StackOrNull, Any],
        Avail::Base,
    ),
    p(
        181,
        "loop",
        Ret::Int,
        &[Any, Func, StackOrNull, Any],
        Avail::Base,
    ),
    p(
        209,
        "user_ringbuf_drain",
        Ret::Int,
        &[MapPtr, Func, StackOrNull, Any],
        Avail::Base,
    ),
];

const fn p(id: u32, name: &'static str, ret: Ret, args: &'static [Arg], avail: Avail) -> Proto {
    Proto {
        id,
        name,
        ret,
        args,
        avail,
    }
}

/// The prototype of helper `id`, if bpfx knows it.
pub fn proto(id: u32) -> Option<&'static Proto> {
    PROTOS.iter().find(|p| p.id == id)
}

/// The kernel's name for helper `id` (`func_id_name`), `unknown` when out of range.
pub fn name(id: i64) -> String {
    if let Some(p) = PROTOS.iter().find(|p| p.id as i64 == id) {
        return format!("bpf_{}", p.name);
    }
    if let Ok(u) = u32::try_from(id) {
        if let Some(n) = asm::text::helpers::name(u) {
            return n;
        }
    }
    // func_id_str[] names id 0 after FN(unspec).
    if id == 0 {
        return "bpf_unspec".to_string();
    }
    "unknown".to_string()
}

/// Whether the kernel counts `pt` as a tracing program (`is_tracing_prog_type`).
pub fn is_tracing(pt: ProgType) -> bool {
    matches!(
        pt,
        ProgType::Kprobe | ProgType::Tracepoint | ProgType::PerfEvent | ProgType::RawTracepoint
    )
}

fn is_skb(pt: ProgType) -> bool {
    use ProgType::*;
    matches!(
        pt,
        SocketFilter | SchedCls | SchedAct | CgroupSkb | LwtIn | LwtOut | LwtXmit | SkSkb
    ) || pt == LwtSeg6local
}

/// Whether a program of type `pt` may call `p`.
pub fn available(p: &Proto, pt: ProgType) -> bool {
    use ProgType::*;
    match p.avail {
        Avail::Base | Avail::All => true,
        Avail::Except(no) => !no.contains(&pt),
        Avail::Only(yes) => yes.contains(&pt),
        Avail::Tracing => is_tracing(pt) || pt == Tracing,
        Avail::Skb => is_skb(pt) || pt == FlowDissector || pt == SkReuseport,
        Avail::SkbWrite => matches!(pt, SchedCls | SchedAct | LwtXmit | SkSkb),
        Avail::Net => matches!(pt, SchedCls | SchedAct | Xdp | LwtXmit),
        Avail::Xdp => pt == Xdp,
        Avail::CgroupStorage => {
            matches!(
                pt,
                CgroupSkb | CgroupSock | CgroupSockAddr | SockOps | CgroupDevice | CgroupSysctl
            ) || pt == CgroupSockopt
        }
        Avail::SkLookup => matches!(pt, SchedCls | SchedAct | Xdp | SkSkb | CgroupSkb | SkLookup),
        Avail::Reuseport => pt == SkReuseport,
    }
}
