//! Which map types each helper takes, and the other map checks the kernel's verifier makes
//! when a program passes a map to a helper (`check_map_func_compatibility` and
//! `record_func_map` in `kernel/bpf/verifier.c`). The VM has no verifier pass: it makes the
//! same checks when the call runs and ends the run with the verifier's message.

use crate::error::HelperError;
use crate::maps::flags::RDONLY_PROG;
use crate::maps::{Map, MapType};
use std::sync::OnceLock;

use MapType as T;

/// Helpers that accept only some map types, by name (`asm`'s helper table gives the ids).
const ONLY: &[(&str, &[MapType])] = &[
    ("tail_call", &[T::ProgArray]),
    ("perf_event_read", &[T::PerfEventArray]),
    ("perf_event_output", &[T::PerfEventArray]),
    ("perf_event_read_value", &[T::PerfEventArray]),
    ("skb_output", &[T::PerfEventArray]),
    ("xdp_output", &[T::PerfEventArray]),
    ("ringbuf_output", &[T::Ringbuf]),
    ("ringbuf_reserve", &[T::Ringbuf]),
    ("ringbuf_query", &[T::Ringbuf]),
    ("ringbuf_reserve_dynptr", &[T::Ringbuf]),
    ("user_ringbuf_drain", &[T::UserRingbuf]),
    ("get_stackid", &[T::StackTrace]),
    ("skb_under_cgroup", &[T::CgroupArray]),
    ("current_task_under_cgroup", &[T::CgroupArray]),
    (
        "redirect_map",
        &[T::Devmap, T::DevmapHash, T::Cpumap, T::Xskmap],
    ),
    ("sk_redirect_map", &[T::Sockmap]),
    ("msg_redirect_map", &[T::Sockmap]),
    ("sock_map_update", &[T::Sockmap]),
    ("sk_redirect_hash", &[T::Sockhash]),
    ("msg_redirect_hash", &[T::Sockhash]),
    ("sock_hash_update", &[T::Sockhash]),
    (
        "get_local_storage",
        &[T::CgroupStorage, T::PercpuCgroupStorage],
    ),
    (
        "sk_select_reuseport",
        &[T::ReuseportSockarray, T::Sockmap, T::Sockhash],
    ),
    ("map_pop_elem", &[T::Queue, T::Stack]),
    ("map_peek_elem", &[T::Queue, T::Stack, T::BloomFilter]),
    ("map_push_elem", &[T::Queue, T::Stack, T::BloomFilter]),
    (
        "map_lookup_percpu_elem",
        &[T::PercpuArray, T::PercpuHash, T::LruPercpuHash],
    ),
    ("sk_storage_get", &[T::SkStorage]),
    ("sk_storage_delete", &[T::SkStorage]),
    ("inode_storage_get", &[T::InodeStorage]),
    ("inode_storage_delete", &[T::InodeStorage]),
    ("task_storage_get", &[T::TaskStorage]),
    ("task_storage_delete", &[T::TaskStorage]),
    ("cgrp_storage_get", &[T::CgrpStorage]),
    ("cgrp_storage_delete", &[T::CgrpStorage]),
];

/// Map types that accept only some helpers, by name (the first half of
/// `check_map_func_compatibility`); other types accept any map helper.
const TYPE_ONLY: &[(MapType, &[&str])] = &[
    (T::ProgArray, &["tail_call"]),
    (
        T::PerfEventArray,
        &[
            "perf_event_read",
            "perf_event_output",
            "perf_event_read_value",
            "skb_output",
            "xdp_output",
        ],
    ),
    (
        T::Ringbuf,
        &[
            "ringbuf_output",
            "ringbuf_reserve",
            "ringbuf_query",
            "ringbuf_reserve_dynptr",
            "ringbuf_submit_dynptr",
            "ringbuf_discard_dynptr",
        ],
    ),
    (T::StackTrace, &["get_stackid"]),
    (T::CgroupStorage, &["get_local_storage"]),
    (T::PercpuCgroupStorage, &["get_local_storage"]),
    (T::Devmap, &["redirect_map", "map_lookup_elem"]),
    (T::DevmapHash, &["redirect_map", "map_lookup_elem"]),
    (T::Cpumap, &["redirect_map"]),
    (T::Xskmap, &["redirect_map", "map_lookup_elem"]),
    (T::ArrayOfMaps, &["map_lookup_elem"]),
    (T::HashOfMaps, &["map_lookup_elem"]),
    (
        T::Sockmap,
        &[
            "sk_redirect_map",
            "sock_map_update",
            "map_delete_elem",
            "msg_redirect_map",
            "sk_select_reuseport",
            "map_lookup_elem",
            "map_update_elem",
        ],
    ),
    (
        T::Sockhash,
        &[
            "sk_redirect_hash",
            "sock_hash_update",
            "map_delete_elem",
            "msg_redirect_hash",
            "sk_select_reuseport",
            "map_lookup_elem",
            "map_update_elem",
        ],
    ),
    (
        T::Queue,
        &["map_peek_elem", "map_pop_elem", "map_push_elem"],
    ),
    (
        T::Stack,
        &["map_peek_elem", "map_pop_elem", "map_push_elem"],
    ),
    (
        T::SkStorage,
        &["sk_storage_get", "sk_storage_delete", "kptr_xchg"],
    ),
    (
        T::InodeStorage,
        &["inode_storage_get", "inode_storage_delete"],
    ),
    (T::TaskStorage, &["task_storage_get", "task_storage_delete"]),
    (T::CgrpStorage, &["cgrp_storage_get", "cgrp_storage_delete"]),
    (T::BloomFilter, &["map_peek_elem", "map_push_elem"]),
];

/// Helpers that write to the map (`record_func_map`: refused on `BPF_F_RDONLY_PROG` maps).
const WRITERS: &[&str] = &[
    "map_delete_elem",
    "map_update_elem",
    "map_push_elem",
    "map_pop_elem",
];

struct Tables {
    only: Vec<(u32, &'static [MapType])>,
    type_only: Vec<(MapType, Vec<u32>)>,
    writers: Vec<u32>,
}

fn id(name: &str) -> u32 {
    asm::text::helpers::by_name(name).unwrap_or(u32::MAX)
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| Tables {
        only: ONLY.iter().map(|&(n, ts)| (id(n), ts)).collect(),
        type_only: TYPE_ONLY
            .iter()
            .map(|&(t, ns)| (t, ns.iter().map(|n| id(n)).collect()))
            .collect(),
        writers: WRITERS.iter().map(|n| id(n)).collect(),
    })
}

/// Whether the verifier lets helper `func` take a map of type `t`.
pub(crate) fn compatible(t: MapType, func: u32) -> bool {
    let tb = tables();
    let by_type = tb
        .type_only
        .iter()
        .find(|(mt, _)| *mt == t)
        .map_or(true, |(_, fs)| fs.contains(&func));
    let by_func = tb
        .only
        .iter()
        .find(|(f, _)| *f == func)
        .map_or(true, |(_, ts)| ts.contains(&t));
    by_type && by_func
}

/// The verifier's checks for passing `map` to helper `func`: the type
/// (`cannot pass map_type N into func NAME#ID`) and, for helpers that write, that programs
/// may write the map (`write into map forbidden`).
pub(crate) fn check(map: &Map, func: u32) -> Result<(), HelperError> {
    let t = map.spec().map_type;
    if !compatible(t, func) {
        return Err(HelperError::Other(format!(
            "cannot pass map_type {} into func {}#{func} (the verifier refuses: a {} map)",
            t.number(),
            crate::helpers::builtin_name(func),
            t.name()
        )));
    }
    if map.spec().flags & RDONLY_PROG != 0 && tables().writers.contains(&func) {
        return Err(HelperError::Other(format!(
            "write into map forbidden (map `{}` is BPF_F_RDONLY_PROG)",
            map.spec().name
        )));
    }
    Ok(())
}
