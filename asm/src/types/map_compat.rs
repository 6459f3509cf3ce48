//! `check_map_func_compatibility` of `kernel/bpf/verifier.c` (6.18) as data: which helpers a
//! map type may be passed to and which map types a helper takes, both directions. The
//! verifier reports a mismatch as the kernel does; the VM, which has no verifier pass, makes
//! the same check when the call runs. Helpers are named as in `asm::text::helpers`.

use crate::types::{AttachType, MapType, ProgType};
use MapType::*;

/// Map types that only these helpers may take (the first switch).
pub const MAP_ONLY: &[(&[MapType], &[&str])] = &[
    (&[ProgArray], &["tail_call"]),
    (
        &[PerfEventArray],
        &[
            "perf_event_read",
            "perf_event_output",
            "skb_output",
            "perf_event_read_value",
            "xdp_output",
        ],
    ),
    (
        &[Ringbuf],
        &[
            "ringbuf_output",
            "ringbuf_reserve",
            "ringbuf_query",
            "ringbuf_reserve_dynptr",
            "ringbuf_submit_dynptr",
            "ringbuf_discard_dynptr",
        ],
    ),
    (&[UserRingbuf], &["user_ringbuf_drain"]),
    (&[StackTrace], &["get_stackid"]),
    (
        &[CgroupArray],
        &["skb_under_cgroup", "current_task_under_cgroup"],
    ),
    (
        &[CgroupStorage, PercpuCgroupStorage],
        &["get_local_storage"],
    ),
    (&[Devmap, DevmapHash], &["redirect_map", "map_lookup_elem"]),
    (&[Cpumap], &["redirect_map"]),
    (&[Xskmap], &["redirect_map", "map_lookup_elem"]),
    (&[ArrayOfMaps, HashOfMaps], &["map_lookup_elem"]),
    (
        &[Sockmap],
        &[
            "sk_redirect_map",
            "sock_map_update",
            "msg_redirect_map",
            "sk_select_reuseport",
            "map_lookup_elem",
        ],
    ),
    (
        &[Sockhash],
        &[
            "sk_redirect_hash",
            "sock_hash_update",
            "msg_redirect_hash",
            "sk_select_reuseport",
            "map_lookup_elem",
        ],
    ),
    (&[ReuseportSockarray], &["sk_select_reuseport"]),
    (
        &[Queue, Stack],
        &["map_peek_elem", "map_pop_elem", "map_push_elem"],
    ),
    (
        &[SkStorage],
        &["sk_storage_get", "sk_storage_delete", "kptr_xchg"],
    ),
    (
        &[InodeStorage],
        &["inode_storage_get", "inode_storage_delete", "kptr_xchg"],
    ),
    (
        &[TaskStorage],
        &["task_storage_get", "task_storage_delete", "kptr_xchg"],
    ),
    (
        &[CgrpStorage],
        &["cgrp_storage_get", "cgrp_storage_delete", "kptr_xchg"],
    ),
    (&[BloomFilter], &["map_peek_elem", "map_push_elem"]),
];

/// Helpers that take only these map types (the second switch).
pub const FUNC_ONLY: &[(&[&str], &[MapType])] = &[
    (&["tail_call"], &[ProgArray]),
    (
        &[
            "perf_event_read",
            "perf_event_output",
            "perf_event_read_value",
            "skb_output",
            "xdp_output",
        ],
        &[PerfEventArray],
    ),
    (
        &[
            "ringbuf_output",
            "ringbuf_reserve",
            "ringbuf_query",
            "ringbuf_reserve_dynptr",
            "ringbuf_submit_dynptr",
            "ringbuf_discard_dynptr",
        ],
        &[Ringbuf],
    ),
    (&["user_ringbuf_drain"], &[UserRingbuf]),
    (&["get_stackid"], &[StackTrace]),
    (
        &["current_task_under_cgroup", "skb_under_cgroup"],
        &[CgroupArray],
    ),
    (&["redirect_map"], &[Devmap, DevmapHash, Cpumap, Xskmap]),
    (
        &["sk_redirect_map", "msg_redirect_map", "sock_map_update"],
        &[Sockmap],
    ),
    (
        &["sk_redirect_hash", "msg_redirect_hash", "sock_hash_update"],
        &[Sockhash],
    ),
    (
        &["get_local_storage"],
        &[CgroupStorage, PercpuCgroupStorage],
    ),
    (
        &["sk_select_reuseport"],
        &[ReuseportSockarray, Sockmap, Sockhash],
    ),
    (&["map_pop_elem"], &[Queue, Stack]),
    (
        &["map_peek_elem", "map_push_elem"],
        &[Queue, Stack, BloomFilter],
    ),
    (
        &["map_lookup_percpu_elem"],
        &[PercpuArray, PercpuHash, LruPercpuHash],
    ),
    (&["sk_storage_get", "sk_storage_delete"], &[SkStorage]),
    (
        &["inode_storage_get", "inode_storage_delete"],
        &[InodeStorage],
    ),
    (&["task_storage_get", "task_storage_delete"], &[TaskStorage]),
    (&["cgrp_storage_get", "cgrp_storage_delete"], &[CgrpStorage]),
];

/// Whether helper `helper` (its name without `bpf_`) may take a map of type `t` in a
/// program of type `prog_type` (`None`: a program without a kernel context, which the
/// sockmap rule does not restrict) attached as `attach` (`expected_attach_type`).
pub fn compatible(
    t: MapType,
    helper: &str,
    prog_type: Option<ProgType>,
    attach: Option<u32>,
) -> bool {
    if let Some((_, funcs)) = MAP_ONLY.iter().find(|(types, _)| types.contains(&t)) {
        let sockmap_update =
            matches!(t, Sockmap | Sockhash) && may_update_sockmap(prog_type, attach, helper);
        if !funcs.contains(&helper) && !sockmap_update {
            return false;
        }
    }
    if let Some((_, types)) = FUNC_ONLY.iter().find(|(funcs, _)| funcs.contains(&helper)) {
        if !types.contains(&t) {
            return false;
        }
    }
    true
}

/// `may_update_sockmap`: where `bpf_map_update_elem`/`bpf_map_delete_elem` may change a
/// sockmap (no locked socket can be reached there).
fn may_update_sockmap(prog_type: Option<ProgType>, attach: Option<u32>, func: &str) -> bool {
    if func != "map_update_elem" && func != "map_delete_elem" {
        return false;
    }
    use ProgType::*;
    let Some(t) = prog_type else { return true };
    match t {
        Tracing => attach == Some(AttachType::TraceIter.number()),
        SockOps => func == "map_delete_elem",
        SocketFilter | SchedCls | SchedAct | Xdp | SkReuseport | FlowDissector | SkLookup => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions() {
        use ProgType::{Kprobe, SchedCls, SockOps, Xdp};
        // (map type, helper, program type, compatible)
        let cases = [
            // A ring buffer takes only the ring buffer helpers; redirect_map only redirect maps.
            (Ringbuf, "ringbuf_output", Xdp, true),
            (Ringbuf, "map_lookup_elem", Xdp, false),
            (Array, "redirect_map", Xdp, false),
            (Devmap, "redirect_map", Xdp, true),
            // Sockmap updates: tc may, kprobe may not, sock_ops only deletes.
            (Sockmap, "map_update_elem", SchedCls, true),
            (Sockmap, "map_update_elem", Kprobe, false),
            (Sockmap, "map_update_elem", SockOps, false),
            (Sockmap, "map_delete_elem", SockOps, true),
        ];
        for (t, helper, prog, want) in cases {
            assert_eq!(
                compatible(t, helper, Some(prog), None),
                want,
                "{t:?} {helper} {prog:?}"
            );
        }
    }
}
