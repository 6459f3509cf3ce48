//! The kernel's helper functions by id (`__BPF_FUNC_MAPPER` in `include/uapi/linux/bpf.h`),
//! so `call bpf_trace_printk` assembles to `call 6` and disassembly can name helpers.

/// Helper names without the `bpf_` prefix; the index is the helper id (0 is unused).
pub static HELPERS: &[&str] = &[
    "unspec",
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "probe_read",
    "ktime_get_ns",
    "trace_printk",
    "get_prandom_u32",
    "get_smp_processor_id",
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "tail_call",
];

/// The id of a helper, by its kernel name with or without the `bpf_` prefix.
pub fn by_name(name: &str) -> Option<u32> {
    let bare = name.strip_prefix("bpf_").unwrap_or(name);
    if bare == "unspec" {
        return None;
    }
    HELPERS.iter().position(|h| *h == bare).map(|i| i as u32)
}

/// The kernel name (`bpf_...`) of a helper id.
pub fn name(id: u32) -> Option<String> {
    match id {
        0 => None,
        _ => HELPERS.get(id as usize).map(|h| format!("bpf_{h}")),
    }
}

/// The closest helper name to a misspelt one, if any is close.
pub fn suggest(name: &str) -> Option<String> {
    let bare = name.strip_prefix("bpf_").unwrap_or(name);
    HELPERS
        .iter()
        .skip(1)
        .map(|h| (edit_distance(bare, h), h))
        .filter(|(d, h)| *d <= 2.max(h.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, h)| format!("bpf_{h}"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(by_name("bpf_trace_printk"), Some(6));
        assert_eq!(by_name("map_lookup_elem"), Some(1));
        assert_eq!(by_name("bpf_unspec"), None);
        assert_eq!(name(12).as_deref(), Some("bpf_tail_call"));
        assert_eq!(
            suggest("bpf_trace_printf").as_deref(),
            Some("bpf_trace_printk")
        );
    }
}
