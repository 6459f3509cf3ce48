//! Why `BPF_MAP_CREATE` refuses a map: the per-type attribute checks of the kernel's
//! `map_alloc_check`/`map_alloc` functions, so an `EINVAL` can name the rule the map broke.

use crate::map::MapSpec;
use asm::types::MapType;

/// `BPF_F_NO_PREALLOC`.
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_MMAPABLE`.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// The first attribute rule of the map's type that `spec` breaks (for an `EINVAL` from
/// `BPF_MAP_CREATE`), or `None` when bpfx knows no such rule.
pub fn broken_rule(spec: &MapSpec) -> Option<String> {
    let (k, v, n, f) = (spec.key_size, spec.value_size, spec.max_entries, spec.flags);
    let four_or_eight = |what: &str, size: u32, t: &str| {
        (size != 4 && size != 8).then(|| format!("a {t} {what} is 4 or 8 bytes, not {size}"))
    };
    use MapType as T;
    let t = spec.map_type.name();
    let rule = match spec.map_type {
        // ringbuf_map_alloc (kernel/bpf/ringbuf.c)
        T::Ringbuf | T::UserRingbuf if k != 0 || v != 0 => Some(format!(
            "a ring buffer has no key or value (key size {k}, value size {v} given; both must be 0)"
        )),
        T::Ringbuf | T::UserRingbuf if !n.is_power_of_two() || n % page_size() != 0 => {
            Some(format!(
                "a ring buffer's max_entries is its size in bytes: a power of 2 and a multiple of the page size ({}), not {n}",
                page_size()
            ))
        }
        // trie_alloc (kernel/bpf/lpm_trie.c)
        T::LpmTrie if f & BPF_F_NO_PREALLOC == 0 => Some(
            "an LPM trie must be created with BPF_F_NO_PREALLOC (flags 0x1)".to_string(),
        ),
        T::LpmTrie if !(5..=260).contains(&k) => Some(format!(
            "an LPM trie's key is a 4-byte prefix length and 1 to 256 bytes of data (5 to 260 bytes), not {k}"
        )),
        T::LpmTrie if n == 0 => Some("an LPM trie needs max_entries above 0".into()),
        // bpf_local_storage_map_alloc_check (kernel/bpf/bpf_local_storage.c)
        T::SkStorage | T::InodeStorage | T::TaskStorage | T::CgrpStorage
            if f & BPF_F_NO_PREALLOC == 0 =>
        {
            Some(format!(
                "a {t} map must be created with BPF_F_NO_PREALLOC (flags 0x1)"
            ))
        }
        T::SkStorage | T::InodeStorage | T::TaskStorage | T::CgrpStorage if k != 4 || n != 0 => {
            Some(format!(
                "a {t} map has a 4-byte key (an fd) and max_entries 0 (key size {k}, max_entries {n} given)"
            ))
        }
        // cgroup_storage_map_alloc (kernel/bpf/local_storage.c)
        // sizeof(struct bpf_cgroup_storage_key): a u64 and a u32, padded to 16.
        T::CgroupStorage | T::PercpuCgroupStorage if k != 16 && k != 8 => Some(format!(
            "a {t} key is a struct bpf_cgroup_storage_key (16 bytes) or a cgroup id (8), not {k}"
        )),
        T::CgroupStorage | T::PercpuCgroupStorage if n != 0 => Some(format!(
            "a {t} map has max_entries 0 (one value per attached cgroup), not {n}"
        )),
        // bloom_map_alloc (kernel/bpf/bloom_filter.c)
        T::BloomFilter if k != 0 || v == 0 || n == 0 => Some(format!(
            "a bloom filter has no key, a value size above 0 and max_entries above 0 (key size {k}, value size {v}, max_entries {n} given)"
        )),
        // queue_stack_map_alloc_check (kernel/bpf/queue_stack_maps.c)
        T::Queue | T::Stack if k != 0 => Some(format!("a {t} map has no key (key size {k} given)")),
        // array_map_alloc_check and fd arrays (kernel/bpf/arraymap.c)
        T::Array | T::PercpuArray if k != 4 => {
            Some(format!("an array's key is a 4-byte index, not {k} bytes"))
        }
        T::ProgArray | T::PerfEventArray | T::CgroupArray | T::ArrayOfMaps if k != 4 || v != 4 => {
            Some(format!(
                "a {t} map has 4-byte keys and 4-byte values (fds); key size {k}, value size {v} given"
            ))
        }
        // dev_map_init_map (kernel/bpf/devmap.c), cpu_map_alloc (cpumap.c)
        T::Devmap | T::DevmapHash | T::Cpumap | T::Sockmap | T::Sockhash
            if (spec.map_type != T::Sockhash && k != 4) =>
        {
            Some(format!("a {t} map's key is 4 bytes, not {k}"))
        }
        T::Devmap | T::DevmapHash | T::Cpumap | T::Sockmap | T::Sockhash => {
            four_or_eight("value", v, t)
        }
        // xsk_map_alloc (net/xdp/xskmap.c)
        T::Xskmap if k != 4 || v != 4 => Some(format!(
            "an xskmap has 4-byte keys and values; key size {k}, value size {v} given"
        )),
        T::ArrayOfMaps | T::HashOfMaps if spec.inner.is_none() => Some(format!(
            "a {t} map needs its inner map's shape (inner_map_fd): declare the inner map"
        )),
        T::StructOps => Some(
            "a struct_ops map needs the kernel struct's BTF type (btf_vmlinux_value_type_id), which bpfx does not look up".into(),
        ),
        T::Arena if f & BPF_F_MMAPABLE == 0 => {
            Some("an arena must be created with BPF_F_MMAPABLE (flags 0x400)".into())
        }
        _ => None,
    };
    rule.or_else(|| {
        (n == 0
            && !matches!(
                spec.map_type,
                T::SkStorage
                    | T::InodeStorage
                    | T::TaskStorage
                    | T::CgrpStorage
                    | T::CgroupStorage
                    | T::PercpuCgroupStorage
                    | T::StructOps
            ))
        .then(|| "max_entries must be above 0".to_string())
    })
}

/// The page size, which ring buffer sizes are counted in.
pub fn page_size() -> u32 {
    // SAFETY: sysconf only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u32::try_from(n).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_what_is_wrong() {
        let rb = MapSpec::new(MapType::Ringbuf, 0, 8, 4096);
        assert!(broken_rule(&rb).unwrap().contains("no key or value"));
        let rb = MapSpec::new(MapType::Ringbuf, 0, 0, 4096 * 3);
        assert!(broken_rule(&rb).unwrap().contains("power of 2"));
        assert_eq!(
            broken_rule(&MapSpec::new(MapType::Ringbuf, 0, 0, 1 << 16)),
            None
        );
        let lpm = MapSpec::new(MapType::LpmTrie, 8, 8, 16);
        assert!(broken_rule(&lpm).unwrap().contains("BPF_F_NO_PREALLOC"));
        assert_eq!(broken_rule(&lpm.with_flags(BPF_F_NO_PREALLOC)), None);
        let mim = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 4);
        assert!(broken_rule(&mim).unwrap().contains("inner map"));
        let sk = MapSpec::new(MapType::SkStorage, 4, 8, 0);
        assert!(broken_rule(&sk).unwrap().contains("BPF_F_NO_PREALLOC"));
        assert_eq!(broken_rule(&sk.with_flags(BPF_F_NO_PREALLOC)), None);
        assert!(broken_rule(&MapSpec::array(8, 0))
            .unwrap()
            .contains("max_entries"));
    }
}
