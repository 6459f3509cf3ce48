//! `BPF_MAP_TYPE_STACK_TRACE` (`kernel/bpf/stackmap.c`): `bpf_get_stackid` stores a call
//! chain in bucket `jhash2(ips, 0) & (n_buckets - 1)` and answers the bucket id. The call
//! chain is the one the test provides ([`crate::Env::kernel_stack`],
//! [`crate::Env::user_stack`]); without one the kernel's answer is `-EFAULT`.

use super::jhash::jhash2;
use super::{flags, inval, Map, MapError, MapSpec, Store};

/// `sysctl_perf_event_max_stack`'s default (`PERF_MAX_STACK_DEPTH`).
pub(crate) const PERF_MAX_STACK_DEPTH: usize = 127;
/// `sizeof(struct bpf_stack_build_id)`.
const BUILD_ID_SIZE: u32 = 32;
/// `BPF_F_SKIP_FIELD_MASK`.
pub(crate) const SKIP_FIELD_MASK: u64 = 0xff;
/// `BPF_F_USER_STACK`.
pub(crate) const USER_STACK: u64 = 1 << 8;
/// `BPF_F_FAST_STACK_CMP`.
const FAST_STACK_CMP: u64 = 1 << 9;
/// `BPF_F_REUSE_STACKID`.
const REUSE_STACKID: u64 = 1 << 10;

#[derive(Clone, Debug)]
struct Bucket {
    hash: u32,
    ips: Vec<u64>,
}

#[derive(Clone, Debug)]
pub(super) struct Traces {
    buckets: Vec<Option<Bucket>>,
    value_size: usize,
    build_id: bool,
}

impl Traces {
    /// `stack_map_alloc`.
    pub(super) fn new(spec: &MapSpec) -> Result<Traces, MapError> {
        flags::check_mask(
            spec,
            flags::NUMA_NODE | flags::RDONLY | flags::WRONLY | flags::STACK_BUILD_ID,
        )?;
        let vs = spec.value_size;
        if spec.key_size != 4 || vs < 8 || vs % 8 != 0 {
            return inval("stack trace maps need key_size 4 and a value_size that is a positive multiple of 8");
        }
        let build_id = spec.flags & flags::STACK_BUILD_ID != 0;
        if build_id {
            if vs % BUILD_ID_SIZE != 0 {
                return inval(
                    "build-id stack values are a multiple of struct bpf_stack_build_id (32 bytes)",
                );
            }
        } else if vs as usize / 8 > PERF_MAX_STACK_DEPTH {
            return inval(format!(
                "value_size {vs} holds more than kernel.perf_event_max_stack ({PERF_MAX_STACK_DEPTH}) frames"
            ));
        }
        if spec.max_entries > 1 << 31 {
            return Err(MapError::Full);
        }
        Ok(Traces {
            buckets: vec![None; spec.max_entries.next_power_of_two() as usize],
            value_size: vs as usize,
            build_id,
        })
    }

    /// The value storage (none: values are built on lookup).
    pub(super) fn bytes(&self) -> usize {
        0
    }

    fn id(key: &[u8]) -> usize {
        u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize
    }

    /// `stack_map_get_next_key`: the next used bucket after `key` (from the start when `key`
    /// is absent, out of range or empty).
    pub(super) fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let mut id = match key.map(Traces::id) {
            Some(i) if i < self.buckets.len() && self.buckets[i].is_some() => i + 1,
            _ => 0,
        };
        while id < self.buckets.len() && self.buckets[id].is_none() {
            id += 1;
        }
        if id >= self.buckets.len() {
            return Err(MapError::NotFound);
        }
        Ok((id as u32).to_le_bytes().to_vec())
    }

    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        (0..self.buckets.len())
            .filter(|&i| self.buckets[i].is_some())
            .map(|i| (i as u32).to_le_bytes().to_vec())
            .collect()
    }

    pub(super) fn len(&self) -> usize {
        self.buckets.iter().flatten().count()
    }

    /// `__bpf_get_stackid` on the call chain `chain` (already cut to `max_depth`, and
    /// deeper than the frames to skip).
    fn get_stackid(&mut self, chain: &[u64], flags: u64) -> Result<u32, MapError> {
        let ips = &chain[(flags & SKIP_FIELD_MASK) as usize..];
        let words: Vec<u32> = ips
            .iter()
            .flat_map(|ip| [*ip as u32, (ip >> 32) as u32])
            .collect();
        let hash = jhash2(&words, 0);
        let id = hash as usize & (self.buckets.len() - 1);
        let bucket = &self.buckets[id];
        let hash_matches = bucket.as_ref().is_some_and(|b| b.hash == hash);
        if hash_matches && flags & FAST_STACK_CMP != 0 {
            return Ok(id as u32);
        }
        if hash_matches && bucket.as_ref().is_some_and(|b| b.ips == ips) {
            return Ok(id as u32);
        }
        if bucket.is_some() && flags & REUSE_STACKID == 0 {
            return Err(MapError::Exists);
        }
        self.buckets[id] = Some(Bucket {
            hash,
            ips: ips.to_vec(),
        });
        Ok(id as u32)
    }
}

impl Map {
    /// `bpf_get_stackid` with the test's call chain: the bucket id, or the kernel's errno
    /// (`EINVAL` for unknown flags, `EFAULT` for no stack deeper than the frames to skip,
    /// `EEXIST` for a collision without `BPF_F_REUSE_STACKID`).
    pub(crate) fn get_stackid(
        &mut self,
        stack: &[u64],
        flags: u64,
    ) -> Result<Result<u32, i32>, MapError> {
        let Store::StackTrace(t) = &mut self.store else {
            return inval("not a stack trace map");
        };
        if t.build_id {
            return Err(MapError::NotSupported(
                "build-id stack traces need the files' build ids, which the VM does not model"
                    .into(),
            ));
        }
        if flags & !(SKIP_FIELD_MASK | USER_STACK | FAST_STACK_CMP | REUSE_STACKID) != 0 {
            return Ok(Err(22));
        }
        // bpf_get_stackid: the chain holds at most value_size / 8 + skip frames (and no
        // more than perf_event_max_stack).
        let depth =
            (t.value_size / 8 + (flags & SKIP_FIELD_MASK) as usize).min(PERF_MAX_STACK_DEPTH);
        let chain = &stack[..stack.len().min(depth)];
        if chain.len() <= (flags & SKIP_FIELD_MASK) as usize {
            return Ok(Err(14));
        }
        Ok(t.get_stackid(chain, flags).map_err(|e| e.errno()))
    }

    /// `bpf_stackmap_copy`: the bucket's frames, zero-filled to `value_size`.
    pub(super) fn stack_lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let Store::StackTrace(t) = &self.store else {
            return inval("not a stack trace map");
        };
        Ok(t.buckets
            .get(Traces::id(key))
            .and_then(|b| b.as_ref())
            .map(|b| {
                let mut v: Vec<u8> = b.ips.iter().flat_map(|ip| ip.to_le_bytes()).collect();
                v.resize(t.value_size, 0);
                v
            }))
    }

    /// `stack_map_delete_elem`: `E2BIG` past the buckets, `ENOENT` when empty.
    pub(super) fn stack_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let Store::StackTrace(t) = &mut self.store else {
            return inval("not a stack trace map");
        };
        let b = t.buckets.get_mut(Traces::id(key)).ok_or(MapError::Full)?;
        b.take().map(drop).ok_or(MapError::NotFound)
    }
}
