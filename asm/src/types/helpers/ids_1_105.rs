//! Helpers 1-105 (`map_lookup_elem` .. `strtol`).
//!
//! Each row follows the Linux 6.1 `struct bpf_func_proto` named in its comment (with the
//! file defining it) and 6.18's `enum bpf_func_id`; the program types are what 6.18
//! answers for each loadable type (see `mod.rs` for the types that cannot be loaded
//! without a target). One row per line, so the table reads as a table.

use super::build::*;
use crate::types::ProgType::*;

#[rustfmt::skip]
pub(super) const ROWS: &[Helper] = &[
    h(1, "map_lookup_elem", &[PKT_ACCESS], r(RetBase::PtrToMapValue).f(&[MAYBE_NULL]), &[a(ConstMapPtr), a(PtrToMapKey)], None, ProgSet::ALL), // bpf_map_lookup_elem_proto kernel/bpf/helpers.c
    h(2, "map_update_elem", &[PKT_ACCESS], r(RetBase::Integer), &[a(ConstMapPtr), a(PtrToMapKey), a(PtrToMapValue), a(Anything)], None, ProgSet::ALL), // bpf_map_update_elem_proto kernel/bpf/helpers.c
    h(3, "map_delete_elem", &[PKT_ACCESS], r(RetBase::Integer), &[a(ConstMapPtr), a(PtrToMapKey)], None, ProgSet::ALL), // bpf_map_delete_elem_proto kernel/bpf/helpers.c
    h(4, "probe_read", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSizeOrZero), a(Anything)], None, ProgSet::of(&[Kprobe, Tracepoint, PerfEvent, RawTracepoint, RawTracepointWritable, Tracing, Lsm, Syscall])), // bpf_probe_read_compat_proto kernel/trace/bpf_trace.c
    h(5, "ktime_get_ns", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_ktime_get_ns_proto kernel/bpf/helpers.c
    h(6, "trace_printk", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::ALL), // bpf_trace_printk_proto kernel/trace/bpf_trace.c
    h(7, "get_prandom_u32", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_prandom_u32_proto kernel/bpf/helpers.c
    h(8, "get_smp_processor_id", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_smp_processor_id_proto kernel/bpf/helpers.c
    h(9, "skb_store_bytes", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit, SkSkb])), // bpf_skb_store_bytes_proto net/core/filter.c
    h(10, "l3_csum_replace", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_l3_csum_replace_proto net/core/filter.c
    h(11, "l4_csum_replace", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_l4_csum_replace_proto net/core/filter.c
    h(12, "tail_call", &[], r(RetBase::Void), &[a(PtrToCtx), a(ConstMapPtr), a(Anything)], None, ProgSet::ALL), // bpf_tail_call_proto kernel/bpf/core.c
    h(13, "clone_redirect", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_clone_redirect_proto net/core/filter.c
    h(14, "get_current_pid_tgid", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_current_pid_tgid_proto kernel/bpf/helpers.c
    h(15, "get_current_uid_gid", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_current_uid_gid_proto kernel/bpf/helpers.c
    h(16, "get_current_comm", &[], r(RetBase::Integer), &[a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::ALL), // bpf_get_current_comm_proto kernel/bpf/helpers.c
    h(17, "get_cgroup_classid", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_cgroup_classid_curr_proto net/core/filter.c
    h(18, "skb_vlan_push", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_skb_vlan_push_proto net/core/filter.c
    h(19, "skb_vlan_pop", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_skb_vlan_pop_proto net/core/filter.c
    h(20, "skb_get_tunnel_key", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_skb_get_tunnel_key_proto net/core/filter.c
    h(21, "skb_set_tunnel_key", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_skb_set_tunnel_key_proto net/core/filter.c
    h(22, "perf_event_read", &[GPL_ONLY], r(RetBase::Integer), &[a(ConstMapPtr), a(Anything)], None, ProgSet::ALL), // bpf_perf_event_read_proto kernel/trace/bpf_trace.c
    h(23, "redirect", &[], r(RetBase::Integer), &[a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, LwtXmit])), // bpf_redirect_proto net/core/filter.c
    h(24, "get_route_realm", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct, LwtIn, LwtOut, LwtXmit, LwtSeg6local])), // bpf_get_route_realm_proto net/core/filter.c
    h(25, "perf_event_output", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSizeOrZero)], None, ProgSet::ALL.without(&[LircMode2, SkReuseport, FlowDissector, StructOps, Netfilter])), // bpf_perf_event_output_proto kernel/trace/bpf_trace.c
    h(26, "skb_load_bytes", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[SocketFilter, SchedCls, SchedAct, CgroupSkb, LwtIn, LwtOut, LwtXmit, SkSkb, LwtSeg6local, SkReuseport, FlowDissector])), // bpf_skb_load_bytes_proto net/core/filter.c
    h(27, "get_stackid", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(Anything)], None, ProgSet::of(&[Kprobe, Tracepoint, PerfEvent, RawTracepoint, RawTracepointWritable, Tracing, Lsm, Syscall])), // bpf_get_stackid_proto kernel/bpf/stackmap.c
    h(28, "csum_diff", &[PKT_ACCESS], r(RetBase::Integer), &[a(PtrToMem).f(&[MAYBE_NULL, MEM_RDONLY]), a(ConstSizeOrZero), a(PtrToMem).f(&[MAYBE_NULL, MEM_RDONLY]), a(ConstSizeOrZero), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, LwtIn, LwtOut, LwtXmit, LwtSeg6local])), // bpf_csum_diff_proto net/core/filter.c
    h(29, "skb_get_tunnel_opt", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_skb_get_tunnel_opt_proto net/core/filter.c
    h(30, "skb_set_tunnel_opt", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_skb_set_tunnel_opt_proto net/core/filter.c
    h(31, "skb_change_proto", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_skb_change_proto_proto net/core/filter.c
    h(32, "skb_change_type", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_skb_change_type_proto net/core/filter.c
    h(33, "skb_under_cgroup", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtIn, LwtOut, LwtXmit, LwtSeg6local])), // bpf_skb_under_cgroup_proto net/core/filter.c
    h(34, "get_hash_recalc", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct, LwtIn, LwtOut, LwtXmit, LwtSeg6local])), // bpf_get_hash_recalc_proto net/core/filter.c
    h(35, "get_current_task", &[GPL_ONLY], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_current_task_proto kernel/trace/bpf_trace.c
    h(36, "probe_write_user", &[GPL_ONLY], r(RetBase::Integer), &[a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::NONE), // bpf_probe_write_user_proto kernel/trace/bpf_trace.c
    h(37, "current_task_under_cgroup", &[], r(RetBase::Integer), &[a(ConstMapPtr), a(Anything)], None, ProgSet::ALL), // bpf_current_task_under_cgroup_proto kernel/trace/bpf_trace.c
    h(38, "skb_change_tail", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit, SkSkb])), // bpf_skb_change_tail_proto net/core/filter.c
    h(39, "skb_pull_data", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtIn, LwtOut, LwtXmit, SkSkb, LwtSeg6local])), // bpf_skb_pull_data_proto net/core/filter.c
    h(40, "csum_update", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_csum_update_proto net/core/filter.c
    h(41, "set_hash_invalid", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit])), // bpf_set_hash_invalid_proto net/core/filter.c
    h(42, "get_numa_node_id", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_numa_node_id_proto kernel/bpf/helpers.c
    h(43, "skb_change_head", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, LwtXmit, SkSkb])), // bpf_skb_change_head_proto net/core/filter.c
    h(44, "xdp_adjust_head", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[Xdp])), // bpf_xdp_adjust_head_proto net/core/filter.c
    h(45, "probe_read_str", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSizeOrZero), a(Anything)], None, ProgSet::of(&[Kprobe, Tracepoint, PerfEvent, RawTracepoint, RawTracepointWritable, Tracing, Lsm, Syscall])), // bpf_probe_read_compat_str_proto kernel/trace/bpf_trace.c
    h(46, "get_socket_cookie", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SocketFilter, SchedCls, SchedAct, CgroupSkb, CgroupSock, SockOps, SkSkb, CgroupSockAddr, SkReuseport, Tracing, Lsm, Syscall])), // bpf_get_socket_cookie_proto net/core/filter.c
    h(47, "get_socket_uid", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SocketFilter, SchedCls, SchedAct, CgroupSkb, SkSkb])), // bpf_get_socket_uid_proto net/core/filter.c
    h(48, "set_hash", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_set_hash_proto net/core/filter.c
    h(49, "setsockopt", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[SockOps, CgroupSockAddr, StructOps, Lsm])), // bpf_sock_ops_setsockopt_proto net/core/filter.c
    h(50, "skb_adjust_room", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, SkSkb])), // bpf_skb_adjust_room_proto net/core/filter.c
    h(51, "redirect_map", &[], r(RetBase::Integer), &[a(ConstMapPtr), a(Anything), a(Anything)], None, ProgSet::of(&[Xdp])), // bpf_xdp_redirect_map_proto net/core/filter.c
    h(52, "sk_redirect_map", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(Anything), a(Anything)], None, ProgSet::of(&[SkSkb])), // bpf_sk_redirect_map_proto net/core/sock_map.c
    h(53, "sock_map_update", &[PKT_ACCESS], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(PtrToMapKey), a(Anything)], None, ProgSet::of(&[SockOps])), // bpf_sock_map_update_proto net/core/sock_map.c
    h(54, "xdp_adjust_meta", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[Xdp])), // bpf_xdp_adjust_meta_proto net/core/filter.c
    h(55, "perf_event_read_value", &[GPL_ONLY], r(RetBase::Integer), &[a(ConstMapPtr), a(Anything), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::ALL), // bpf_perf_event_read_value_proto kernel/trace/bpf_trace.c
    h(56, "perf_prog_read_value", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[PerfEvent])), // bpf_perf_prog_read_value_proto kernel/trace/bpf_trace.c
    h(57, "getsockopt", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[SockOps, CgroupSockAddr, StructOps, Lsm])), // bpf_sock_ops_getsockopt_proto net/core/filter.c
    h(58, "override_return", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::NONE), // bpf_override_return_proto kernel/trace/bpf_trace.c
    h(59, "sock_ops_cb_flags_set", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SockOps])), // bpf_sock_ops_cb_flags_set_proto net/core/filter.c
    h(60, "msg_redirect_map", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(Anything), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_redirect_map_proto net/core/sock_map.c
    h(61, "msg_apply_bytes", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_apply_bytes_proto net/core/filter.c
    h(62, "msg_cork_bytes", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_cork_bytes_proto net/core/filter.c
    h(63, "msg_pull_data", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_pull_data_proto net/core/filter.c
    h(64, "bind", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[CgroupSockAddr])), // bpf_bind_proto net/core/filter.c
    h(65, "xdp_adjust_tail", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[Xdp])), // bpf_xdp_adjust_tail_proto net/core/filter.c
    h(66, "skb_get_xfrm_state", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct])), // bpf_skb_get_xfrm_state_proto net/core/filter.c
    h(67, "get_stack", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSizeOrZero), a(Anything)], None, ProgSet::of(&[Kprobe, Tracepoint, PerfEvent, RawTracepoint, RawTracepointWritable, Tracing, Lsm, Syscall])), // bpf_get_stack_proto kernel/bpf/stackmap.c
    h(68, "skb_load_bytes_relative", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize), a(Anything)], None, ProgSet::of(&[SocketFilter, SchedCls, SchedAct, CgroupSkb, SkReuseport])), // bpf_skb_load_bytes_relative_proto net/core/filter.c
    h(69, "fib_lookup", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem), a(ConstSize), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp])), // bpf_skb_fib_lookup_proto net/core/filter.c
    h(70, "sock_hash_update", &[PKT_ACCESS], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(PtrToMapKey), a(Anything)], None, ProgSet::of(&[SockOps])), // bpf_sock_hash_update_proto net/core/sock_map.c
    h(71, "msg_redirect_hash", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(PtrToMapKey), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_redirect_hash_proto net/core/sock_map.c
    h(72, "sk_redirect_hash", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(PtrToMapKey), a(Anything)], None, ProgSet::of(&[SkSkb])), // bpf_sk_redirect_hash_proto net/core/sock_map.c
    h(73, "lwt_push_encap", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[LwtIn, LwtXmit])), // bpf_lwt_in_push_encap_proto net/core/filter.c
    h(74, "lwt_seg6_store_bytes", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[LwtSeg6local])), // bpf_lwt_seg6_store_bytes_proto net/core/filter.c
    h(75, "lwt_seg6_adjust_srh", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[LwtSeg6local])), // bpf_lwt_seg6_adjust_srh_proto net/core/filter.c
    h(76, "lwt_seg6_action", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[LwtSeg6local])), // bpf_lwt_seg6_action_proto net/core/filter.c
    h(77, "rc_repeat", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[LircMode2])), // rc_repeat_proto drivers/media/rc/bpf-lirc.c
    h(78, "rc_keydown", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[LircMode2])), // rc_keydown_proto drivers/media/rc/bpf-lirc.c
    h(79, "skb_cgroup_id", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb])), // bpf_skb_cgroup_id_proto net/core/filter.c
    h(80, "get_current_cgroup_id", &[], r(RetBase::Integer), &[], None, ProgSet::ALL), // bpf_get_current_cgroup_id_proto kernel/bpf/helpers.c
    h(81, "get_local_storage", &[], r(RetBase::PtrToMapValue), &[a(ConstMapPtr), a(Anything)], None, ProgSet::of(&[CgroupSkb, CgroupSock, SockOps, CgroupDevice, CgroupSockAddr, CgroupSysctl, CgroupSockopt])), // bpf_get_local_storage_proto kernel/bpf/cgroup.c
    h(82, "sk_select_reuseport", &[], r(RetBase::Integer), &[a(PtrToCtx), a(ConstMapPtr), a(PtrToMapKey), a(Anything)], None, ProgSet::of(&[SkReuseport])), // sk_select_reuseport_proto net/core/filter.c
    h(83, "skb_ancestor_cgroup_id", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb])), // bpf_skb_ancestor_cgroup_id_proto net/core/filter.c
    h(84, "sk_lookup_tcp", &[PKT_ACCESS], r(RetBase::PtrToSocket).f(&[MAYBE_NULL]), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, CgroupSkb, SkSkb, CgroupSockAddr])), // bpf_sk_lookup_tcp_proto net/core/filter.c
    h(85, "sk_lookup_udp", &[PKT_ACCESS], r(RetBase::PtrToSocket).f(&[MAYBE_NULL]), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, CgroupSkb, SkSkb, CgroupSockAddr])), // bpf_sk_lookup_udp_proto net/core/filter.c
    h(86, "sk_release", &[], r(RetBase::Integer), &[a(PtrToBtfIdSockCommon).f(&[OBJ_RELEASE])], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, CgroupSkb, SkSkb, CgroupSockAddr, SkLookup])), // bpf_sk_release_proto net/core/filter.c
    h(87, "map_push_elem", &[PKT_ACCESS], r(RetBase::Integer), &[a(ConstMapPtr), a(PtrToMapValue), a(Anything)], None, ProgSet::ALL), // bpf_map_push_elem_proto kernel/bpf/helpers.c
    h(88, "map_pop_elem", &[], r(RetBase::Integer), &[a(ConstMapPtr), a(PtrToMapValue).f(&[MEM_UNINIT, MEM_WRITE])], None, ProgSet::ALL), // bpf_map_pop_elem_proto kernel/bpf/helpers.c
    h(89, "map_peek_elem", &[], r(RetBase::Integer), &[a(ConstMapPtr), a(PtrToMapValue).f(&[MEM_UNINIT, MEM_WRITE])], None, ProgSet::ALL), // bpf_map_peek_elem_proto kernel/bpf/helpers.c
    h(90, "msg_push_data", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_push_data_proto net/core/filter.c
    h(91, "msg_pop_data", &[], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything), a(Anything)], None, ProgSet::of(&[SkMsg])), // bpf_msg_pop_data_proto net/core/filter.c
    h(92, "rc_pointer_rel", &[GPL_ONLY], r(RetBase::Integer), &[a(PtrToCtx), a(Anything), a(Anything)], None, ProgSet::of(&[LircMode2])), // rc_pointer_rel_proto drivers/media/rc/bpf-lirc.c
    h(93, "spin_lock", &[], r(RetBase::Void), &[a(PtrToSpinLock)], None, ProgSet::ALL), // bpf_spin_lock_proto kernel/bpf/helpers.c
    h(94, "spin_unlock", &[], r(RetBase::Void), &[a(PtrToSpinLock)], None, ProgSet::ALL), // bpf_spin_unlock_proto kernel/bpf/helpers.c
    h(95, "sk_fullsock", &[], r(RetBase::PtrToSocket).f(&[MAYBE_NULL]), &[a(PtrToSockCommon)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb])), // bpf_sk_fullsock_proto net/core/filter.c
    h(96, "tcp_sock", &[], r(RetBase::PtrToTcpSock).f(&[MAYBE_NULL]), &[a(PtrToSockCommon)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb, SockOps, CgroupSockopt])), // bpf_tcp_sock_proto net/core/filter.c
    h(97, "skb_ecn_set_ce", &[], r(RetBase::Integer), &[a(PtrToCtx)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb])), // bpf_skb_ecn_set_ce_proto net/core/filter.c
    h(98, "get_listener_sock", &[], r(RetBase::PtrToSocket).f(&[MAYBE_NULL]), &[a(PtrToSockCommon)], None, ProgSet::of(&[SchedCls, SchedAct, CgroupSkb])), // bpf_get_listener_sock_proto net/core/filter.c
    h(99, "skc_lookup_tcp", &[PKT_ACCESS], r(RetBase::PtrToSockCommon).f(&[MAYBE_NULL]), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything), a(Anything)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp, CgroupSkb, SkSkb, CgroupSockAddr])), // bpf_skc_lookup_tcp_proto net/core/filter.c
    h(100, "tcp_check_syncookie", &[GPL_ONLY, PKT_ACCESS], r(RetBase::Integer), &[a(PtrToBtfIdSockCommon), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[SchedCls, SchedAct, Xdp])), // bpf_tcp_check_syncookie_proto net/core/filter.c
    h(101, "sysctl_get_name", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem), a(ConstSize), a(Anything)], None, ProgSet::of(&[CgroupSysctl])), // bpf_sysctl_get_name_proto kernel/bpf/cgroup.c
    h(102, "sysctl_get_current_value", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[CgroupSysctl])), // bpf_sysctl_get_current_value_proto kernel/bpf/cgroup.c
    h(103, "sysctl_get_new_value", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_UNINIT, MEM_WRITE]), a(ConstSize)], None, ProgSet::of(&[CgroupSysctl])), // bpf_sysctl_get_new_value_proto kernel/bpf/cgroup.c
    h(104, "sysctl_set_new_value", &[], r(RetBase::Integer), &[a(PtrToCtx), a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize)], None, ProgSet::of(&[CgroupSysctl])), // bpf_sysctl_set_new_value_proto kernel/bpf/cgroup.c
    h(105, "strtol", &[], r(RetBase::Integer), &[a(PtrToMem).f(&[MEM_RDONLY]), a(ConstSize), a(Anything), a(PtrToMem).f(&[MEM_ALIGNED, MEM_FIXED_SIZE, MEM_UNINIT, MEM_WRITE]).size(8)], None, ProgSet::ALL), // bpf_strtol_proto kernel/bpf/helpers.c
];
