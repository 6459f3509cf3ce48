//! `BPF_MAP_TYPE_BLOOM_FILTER` (`kernel/bpf/bloom_filter.c`): `map_push_elem` sets
//! `nr_hash_funcs` bits of a bit array, `map_peek_elem` answers whether all of a value's bits
//! are set (0) or not (`ENOENT`). The hashes are the kernel's `jhash`/`jhash2` with seed
//! `hash_seed + i`; the seed is random unless `BPF_F_ZERO_SEED`, so only a zero-seeded
//! filter answers the kernel's false positives bit for bit. (The VM draws a fixed non-zero
//! seed otherwise: a test must not rely on one.)
//!
//! `map_extra` (its low 4 bits choose `nr_hash_funcs`) is not part of a map's spec here, so
//! every filter uses the kernel's default of 5 hash functions.

use super::jhash::{jhash, jhash2, words};
use super::{flags, inval, Map, MapError, MapSpec, Store, BPF_ANY};
use std::collections::HashSet;

/// `nr_hash_funcs` when `map_extra` is 0.
const DEFAULT_HASH_FUNCS: u32 = 5;
/// `KMALLOC_MAX_SIZE` on x86-64 (4 MiB pages order 10 ... `1 << (PAGE_SHIFT + MAX_ORDER)`).
const KMALLOC_MAX_SIZE: u32 = 1 << 22;
/// The seed the VM uses when the kernel would draw a random one.
const VM_RANDOM_SEED: u32 = 0x6b8b_4567;

#[derive(Clone, Debug)]
pub(super) struct Bloom {
    nr_hash_funcs: u32,
    bitset_mask: u32,
    hash_seed: u32,
    /// The words of a value, when `value_size` is a multiple of 4 (`aligned_u32_count`).
    aligned: bool,
    /// The set bits (the kernel's bit array, kept sparse).
    bits: HashSet<u32>,
}

impl Bloom {
    /// `bloom_map_alloc_check` and `bloom_map_alloc`.
    pub(super) fn new(spec: &MapSpec) -> Result<Bloom, MapError> {
        if spec.key_size != 0 || spec.value_size == 0 {
            return inval("bloom filters need key_size 0 and a non-zero value_size");
        }
        flags::check_mask(
            spec,
            flags::NUMA_NODE | flags::ZERO_SEED | flags::ACCESS_MASK,
        )?;
        if spec.value_size > KMALLOC_MAX_SIZE {
            return Err(MapError::Full);
        }
        let nr_hash_funcs = DEFAULT_HASH_FUNCS;
        // n * k / ln(2), with 7/5 for 1/ln(2), rounded up to a power of two (at least
        // BITS_PER_LONG); above 2^31 bits the mask is all ones.
        let bitset_mask = match spec
            .max_entries
            .checked_mul(nr_hash_funcs)
            .and_then(|n| (n / 5).checked_mul(7))
        {
            Some(n) if n <= 1 << 31 => n.max(64).next_power_of_two() - 1,
            _ => u32::MAX,
        };
        Ok(Bloom {
            nr_hash_funcs,
            bitset_mask,
            hash_seed: if spec.flags & flags::ZERO_SEED != 0 {
                0
            } else {
                VM_RANDOM_SEED
            },
            aligned: spec.value_size % 4 == 0,
            bits: HashSet::new(),
        })
    }

    /// `hash()` of `bloom_filter.c`: bit `i`'s index for `value`.
    fn bit(&self, value: &[u8], i: u32) -> u32 {
        let seed = self.hash_seed.wrapping_add(i);
        let h = if self.aligned {
            jhash2(&words(value), seed)
        } else {
            jhash(value, seed)
        };
        h & self.bitset_mask
    }

    fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags != BPF_ANY {
            return inval(format!("bloom filter pushes take BPF_ANY, not {flags:#x}"));
        }
        for i in 0..self.nr_hash_funcs {
            let b = self.bit(value, i);
            self.bits.insert(b);
        }
        Ok(())
    }

    fn contains(&self, value: &[u8]) -> bool {
        (0..self.nr_hash_funcs).all(|i| self.bits.contains(&self.bit(value, i)))
    }
}

impl Map {
    fn check_value(&self, value: &[u8]) -> Result<(), MapError> {
        let vs = self.spec.value_size as usize;
        if value.len() != vs {
            return inval(format!(
                "value is {} bytes, the map's value_size is {vs}",
                value.len()
            ));
        }
        Ok(())
    }

    /// `bloom_map_push_elem`.
    pub(super) fn bloom_push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        self.check_value(value)?;
        let Store::Bloom(b) = &mut self.store else {
            return inval("not a bloom filter");
        };
        b.push(value, flags)
    }

    /// `bloom_map_peek_elem` (and `BPF_MAP_LOOKUP_ELEM` from user space, which passes the
    /// value): `Ok` when every bit of `value` is set, [`MapError::NotFound`] otherwise.
    pub fn bloom_contains(&self, value: &[u8]) -> Result<(), MapError> {
        self.check_value(value)?;
        let Store::Bloom(b) = &self.store else {
            return inval("not a bloom filter");
        };
        if b.contains(value) {
            Ok(())
        } else {
            Err(MapError::NotFound)
        }
    }
}
