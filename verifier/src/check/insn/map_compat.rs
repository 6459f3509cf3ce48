//! `check_map_func_compatibility` (6.18): which helpers a map type may be passed to, and
//! which map types a helper takes, both directions, as data. Helpers are named as in
//! `asm::text::helpers` (the one list of helper names and ids).

use crate::check::{fail, Env, R};
use crate::helpers;
use crate::EINVAL;
use asm::types::{AttachType, MapType, ProgType};
use MapType::*;

/// Map types that only these helpers may take (the first switch).
const MAP_ONLY: &[(&[MapType], &[&str])] = &[
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
const FUNC_ONLY: &[(&[&str], &[MapType])] = &[
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

impl Env<'_> {
    /// `check_map_func_compatibility`: map `m` passed to helper `func`.
    pub(crate) fn check_map_func(&self, m: u32, func: u32) -> R<()> {
        let t = self.prog.maps[m as usize].map_type;
        let name = asm::text::helpers::bare(func).unwrap_or("");
        let bad = || {
            fail(
                EINVAL,
                format!(
                    "cannot pass map_type {} into func {}#{}",
                    t.number(),
                    helpers::name(func as i64),
                    func
                ),
            )
        };
        if let Some((_, funcs)) = MAP_ONLY.iter().find(|(types, _)| types.contains(&t)) {
            let sockmap_update = matches!(t, Sockmap | Sockhash) && self.may_update_sockmap(name);
            if !funcs.contains(&name) && !sockmap_update {
                return bad();
            }
        }
        if let Some((_, types)) = FUNC_ONLY.iter().find(|(funcs, _)| funcs.contains(&name)) {
            if !types.contains(&t) {
                return bad();
            }
        }
        Ok(())
    }

    /// `may_update_sockmap`: where `bpf_map_update_elem`/`bpf_map_delete_elem` may change a
    /// sockmap (no locked socket can be reached there).
    fn may_update_sockmap(&self, func: &str) -> bool {
        if func != "map_update_elem" && func != "map_delete_elem" {
            return false;
        }
        use ProgType::*;
        match self.prog.opts.prog_type {
            Tracing => self.prog.opts.expected_attach_type == Some(AttachType::TraceIter.number()),
            SockOps => func == "map_delete_elem",
            SocketFilter | SchedCls | SchedAct | Xdp | SkReuseport | FlowDissector | SkLookup => {
                true
            }
            _ => false,
        }
    }
}
