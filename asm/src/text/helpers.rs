//! The kernel's helper functions by id (`__BPF_FUNC_MAPPER` in `include/uapi/linux/bpf.h`),
//! so `call bpf_trace_printk` assembles to `call 6` and disassembly can name helpers.

/// Helper names without the `bpf_` prefix; the index is the helper id (0 is unused). Derived
/// from the helper table, [`crate::types::helpers`].
pub static HELPERS: &[&str] = &crate::types::helpers::NAMES;

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

/// The name of a helper id without the `bpf_` prefix (no allocation).
pub fn bare(id: u32) -> Option<&'static str> {
    match id {
        0 => None,
        _ => HELPERS.get(id as usize).copied(),
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

    #[test]
    fn kernel_ids() {
        // Ids from __BPF_FUNC_MAPPER in include/uapi/linux/bpf.h (6.18 ends at 211).
        let cases = [
            (1, "map_lookup_elem"),
            (6, "trace_printk"),
            (12, "tail_call"),
            (14, "get_current_pid_tgid"),
            (16, "get_current_comm"),
            (113, "probe_read_kernel"),
            (130, "ringbuf_output"),
            (209, "user_ringbuf_drain"),
            (210, "cgrp_storage_get"),
            (211, "cgrp_storage_delete"),
        ];
        for (id, n) in cases {
            assert_eq!(
                name(id).as_deref(),
                Some(format!("bpf_{n}").as_str()),
                "{id}"
            );
            assert_eq!(by_name(n), Some(id));
        }
        assert_eq!(HELPERS.len(), 212);
        assert_eq!(name(212), None);
        assert_eq!(name(0), None);
        let mut seen = std::collections::HashSet::new();
        assert!(
            HELPERS.iter().all(|h| seen.insert(*h)),
            "helper names are unique"
        );
    }
}
