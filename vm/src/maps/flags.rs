//! `map_flags` (`BPF_F_*` of `include/uapi/linux/bpf.h`) and the creation checks every map
//! type shares: each type's `*_CREATE_FLAG_MASK` and `bpf_map_flags_access_ok()`.

use super::{inval, MapError, MapSpec, MapType};

/// `BPF_F_NO_PREALLOC`.
pub const NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_NO_COMMON_LRU`.
pub const NO_COMMON_LRU: u32 = 1 << 1;
/// `BPF_F_NUMA_NODE`.
pub const NUMA_NODE: u32 = 1 << 2;
/// `BPF_F_RDONLY`: user space may only read.
pub const RDONLY: u32 = 1 << 3;
/// `BPF_F_WRONLY`: user space may only write.
pub const WRONLY: u32 = 1 << 4;
/// `BPF_F_STACK_BUILD_ID`.
pub const STACK_BUILD_ID: u32 = 1 << 5;
/// `BPF_F_ZERO_SEED`: hash seeds are zero instead of random.
pub const ZERO_SEED: u32 = 1 << 6;
/// `BPF_F_RDONLY_PROG`: programs may only read.
pub const RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG`: programs may only write.
pub const WRONLY_PROG: u32 = 1 << 8;
/// `BPF_F_MMAPABLE`.
pub const MMAPABLE: u32 = 1 << 10;
/// `BPF_F_PRESERVE_ELEMS`.
pub const PRESERVE_ELEMS: u32 = 1 << 11;
/// `BPF_F_INNER_MAP`: an inner map whose `max_entries` may differ from the template's.
pub const INNER_MAP: u32 = 1 << 12;
/// `BPF_F_ACCESS_MASK`.
pub const ACCESS_MASK: u32 = RDONLY | RDONLY_PROG | WRONLY | WRONLY_PROG;

/// `ARRAY_CREATE_FLAG_MASK` (`arraymap.c`).
const ARRAY_MASK: u32 = NUMA_NODE | MMAPABLE | ACCESS_MASK | PRESERVE_ELEMS | INNER_MAP;
/// `HTAB_CREATE_FLAG_MASK` (`hashtab.c`).
const HTAB_MASK: u32 = NO_PREALLOC | NO_COMMON_LRU | NUMA_NODE | ACCESS_MASK | ZERO_SEED;

/// Refuses flags outside `mask`, and `BPF_F_RDONLY_PROG` with `BPF_F_WRONLY_PROG`
/// (`bpf_map_flags_access_ok`), with `EINVAL`.
pub(super) fn check_mask(spec: &MapSpec, mask: u32) -> Result<(), MapError> {
    let extra = spec.flags & !mask;
    if extra != 0 {
        return inval(format!(
            "map_flags {extra:#x} are not valid for {} maps",
            spec.map_type.name()
        ));
    }
    if spec.flags & (RDONLY_PROG | WRONLY_PROG) == RDONLY_PROG | WRONLY_PROG {
        return inval("BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
    }
    Ok(())
}

/// The flag checks of the types `mod.rs` creates itself (`array_map_alloc_check`,
/// `htab_map_alloc_check`, `queue_stack_map_alloc_check`, `ringbuf_map_alloc`,
/// `fd_array_map_alloc_check`).
pub(super) fn check_basic(spec: &MapSpec) -> Result<(), MapError> {
    let t = spec.map_type;
    match t {
        MapType::Array | MapType::PercpuArray | MapType::ProgArray | MapType::ArrayOfMaps => {
            check_mask(spec, ARRAY_MASK)?;
            if t != MapType::Array && spec.flags & (MMAPABLE | INNER_MAP) != 0 {
                return inval("BPF_F_MMAPABLE and BPF_F_INNER_MAP are for array maps only");
            }
            if spec.flags & PRESERVE_ELEMS != 0 {
                return inval("BPF_F_PRESERVE_ELEMS is for perf event arrays only");
            }
            // fd_array_map_alloc_check: program access flags are not supported.
            if matches!(t, MapType::ProgArray | MapType::ArrayOfMaps)
                && spec.flags & (RDONLY_PROG | WRONLY_PROG) != 0
            {
                return inval("program access flags are not supported on fd arrays");
            }
            Ok(())
        }
        MapType::Hash
        | MapType::PercpuHash
        | MapType::LruHash
        | MapType::LruPercpuHash
        | MapType::HashOfMaps => {
            check_mask(spec, HTAB_MASK)?;
            let lru = matches!(t, MapType::LruHash | MapType::LruPercpuHash);
            if !lru && spec.flags & NO_COMMON_LRU != 0 {
                return inval("BPF_F_NO_COMMON_LRU is for LRU maps only");
            }
            if lru && spec.flags & NO_PREALLOC != 0 {
                // htab_map_alloc_check: "LRU implementation is much complicated than other
                // maps", -ENOTSUPP.
                return Err(MapError::KernelNotSupported(
                    "LRU maps cannot be BPF_F_NO_PREALLOC".into(),
                ));
            }
            Ok(())
        }
        MapType::Queue | MapType::Stack => check_mask(spec, NUMA_NODE | ACCESS_MASK),
        MapType::Ringbuf | MapType::UserRingbuf => check_mask(spec, NUMA_NODE),
        _ => Ok(()),
    }
}
