//! `BPF_MAP_TYPE_LPM_TRIE` (`kernel/bpf/lpm_trie.c`): keys are `struct bpf_lpm_trie_key_u8`
//! (a host-order u32 `prefixlen`, then `key_size - 4` data bytes matched most significant
//! bit first); a lookup answers the entry with the longest prefix that matches the key's
//! first `prefixlen` bits.
//!
//! The kernel keeps a binary trie with intermediate nodes; the VM keeps the entries and
//! derives the trie's answers: the lookup is the longest matching prefix no longer than the
//! key's, and `get_next_key` walks the trie in post-order (a more specific prefix before the
//! prefix it extends, the 0 branch before the 1 branch), which for entries alone is the order
//! [`post_order`] defines.

use super::{inval, Map, MapError, Store, BPF_EXIST, BPF_NOEXIST};
use std::cmp::Ordering;

/// `LPM_DATA_SIZE_MAX`: at most 256 data bytes.
const DATA_SIZE_MAX: u32 = 256;
/// `sizeof(struct bpf_lpm_trie_key_u8)` before the data.
const KEY_HDR: u32 = 4;

/// One entry: its prefix length and the data bytes as last written (the kernel keeps every
/// byte, also those past the prefix, and `get_next_key` returns them).
#[derive(Clone, Debug)]
pub(super) struct Entry {
    prefixlen: u32,
    data: Box<[u8]>,
}

#[derive(Clone, Debug)]
pub(super) struct Trie {
    /// By value slot (the value of slot `i` is at `i * stride` of the map's values).
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    max_prefixlen: u32,
}

fn bit(data: &[u8], i: u32) -> u8 {
    // extract_bit(): bit 0 is the most significant bit of byte 0.
    (data[(i / 8) as usize] >> (7 - i % 8)) & 1
}

/// The number of leading bits `a` and `b` share, up to `limit` (`longest_prefix_match`).
fn common_bits(a: &[u8], b: &[u8], limit: u32) -> u32 {
    (0..limit)
        .find(|&i| bit(a, i) != bit(b, i))
        .unwrap_or(limit)
}

/// The trie's post-order for two distinct entries: at the first bit (within both prefixes)
/// where they differ, the 0 branch comes first; when one prefix extends the other, the
/// longer (deeper in the trie) comes first.
fn post_order(a: &Entry, b: &Entry) -> Ordering {
    let limit = a.prefixlen.min(b.prefixlen);
    let same = common_bits(&a.data, &b.data, limit);
    if same < limit {
        return bit(&a.data, same).cmp(&bit(&b.data, same));
    }
    b.prefixlen.cmp(&a.prefixlen)
}

impl Trie {
    /// The creation checks of `trie_alloc()`: `BPF_F_NO_PREALLOC` is required, keys hold
    /// 1..=256 data bytes, values are not empty.
    pub(super) fn new(spec: &super::MapSpec) -> Result<Trie, MapError> {
        let mask = super::flags::NO_PREALLOC | super::flags::NUMA_NODE | super::flags::ACCESS_MASK;
        if spec.flags & super::flags::NO_PREALLOC == 0 {
            return inval("lpm_trie maps need BPF_F_NO_PREALLOC (trie_alloc)");
        }
        super::flags::check_mask(spec, mask)?;
        if spec.key_size <= KEY_HDR || spec.key_size > KEY_HDR + DATA_SIZE_MAX {
            return inval(format!(
                "lpm_trie key_size must be 5..=260 (a u32 prefixlen and 1..=256 data bytes), not {}",
                spec.key_size
            ));
        }
        if spec.value_size == 0 {
            return inval("lpm_trie maps need a non-zero value_size");
        }
        Ok(Trie {
            entries: vec![None; spec.max_entries as usize],
            free: (0..spec.max_entries).rev().collect(),
            max_prefixlen: (spec.key_size - KEY_HDR) * 8,
        })
    }

    fn split(key: &[u8]) -> (u32, &[u8]) {
        (
            u32::from_ne_bytes([key[0], key[1], key[2], key[3]]),
            &key[KEY_HDR as usize..],
        )
    }

    /// The slot of the exact entry `prefixlen`/`data`.
    fn exact(&self, prefixlen: u32, data: &[u8]) -> Option<usize> {
        self.entries.iter().position(|e| {
            e.as_ref().is_some_and(|e| {
                e.prefixlen == prefixlen && common_bits(&e.data, data, prefixlen) == prefixlen
            })
        })
    }

    /// `trie_lookup_elem`: the slot of the longest prefix, at most the key's `prefixlen`
    /// bits long, that the key's data matches; none for a `prefixlen` longer than the
    /// trie's.
    pub(super) fn lookup(&self, key: &[u8]) -> Option<usize> {
        let (prefixlen, data) = Trie::split(key);
        // A key longer than the trie's prefixes matches nothing (measured on 6.18).
        if prefixlen > self.max_prefixlen {
            return None;
        }
        let limit = prefixlen;
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e)))
            .filter(|(_, e)| {
                e.prefixlen <= limit && common_bits(&e.data, data, e.prefixlen) == e.prefixlen
            })
            .max_by_key(|(_, e)| e.prefixlen)
            .map(|(i, _)| i)
    }

    /// `trie_update_elem`: the slot to write and whether it is new.
    pub(super) fn update(&mut self, key: &[u8], flags: u64) -> Result<(usize, bool), MapError> {
        if flags > BPF_EXIST {
            return inval(format!("unknown update flags {flags:#x}"));
        }
        let (prefixlen, data) = Trie::split(key);
        if prefixlen > self.max_prefixlen {
            return inval(format!(
                "prefixlen {prefixlen} is longer than the key's {} data bits",
                self.max_prefixlen
            ));
        }
        if let Some(s) = self.exact(prefixlen, data) {
            if flags == BPF_NOEXIST {
                return Err(MapError::Exists);
            }
            // The new node replaces the old one, data bytes and all.
            self.entries[s] = Some(Entry {
                prefixlen,
                data: data.into(),
            });
            return Ok((s, false));
        }
        // trie_check_add_elem()
        if flags == BPF_EXIST {
            return Err(MapError::NotFound);
        }
        let s = self.free.pop().ok_or(MapError::OutOfSpace)? as usize;
        self.entries[s] = Some(Entry {
            prefixlen,
            data: data.into(),
        });
        Ok((s, true))
    }

    /// `trie_delete_elem`: the slot freed.
    pub(super) fn delete(&mut self, key: &[u8]) -> Result<usize, MapError> {
        let (prefixlen, data) = Trie::split(key);
        if prefixlen > self.max_prefixlen {
            return inval(format!(
                "prefixlen {prefixlen} is longer than the key's {} data bits",
                self.max_prefixlen
            ));
        }
        let s = self.exact(prefixlen, data).ok_or(MapError::NotFound)?;
        self.entries[s] = None;
        self.free.push(s as u32);
        Ok(s)
    }

    fn sorted(&self) -> Vec<&Entry> {
        let mut all: Vec<&Entry> = self.entries.iter().flatten().collect();
        all.sort_by(|a, b| post_order(a, b));
        all
    }

    fn key_of(e: &Entry) -> Vec<u8> {
        let mut k = e.prefixlen.to_ne_bytes().to_vec();
        k.extend_from_slice(&e.data);
        k
    }

    /// `trie_get_next_key`: the entry after `key` in post-order; the first one when `key`
    /// is absent, not an entry, or has a prefix longer than the trie's.
    pub(super) fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let all = self.sorted();
        let first = all.first().ok_or(MapError::NotFound)?;
        let found = key.and_then(|k| {
            let (prefixlen, data) = Trie::split(k);
            (prefixlen <= self.max_prefixlen)
                .then(|| self.exact(prefixlen, data))
                .flatten()
        });
        let Some(s) = found else {
            return Ok(Trie::key_of(first));
        };
        let at = self.entries[s].as_ref().ok_or(MapError::NotFound)?;
        let pos = all
            .iter()
            .position(|e| std::ptr::eq(*e, at))
            .ok_or(MapError::NotFound)?;
        all.get(pos + 1)
            .map(|e| Trie::key_of(e))
            .ok_or(MapError::NotFound)
    }

    /// Keys in `get_next_key` order.
    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        self.sorted().into_iter().map(Trie::key_of).collect()
    }

    pub(super) fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }
}

impl Map {
    /// `trie_update_elem` from user space or a program: the value goes to the entry's slot.
    pub(super) fn lpm_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        let vs = self.spec.value_size as usize;
        if value.len() != vs {
            return inval(format!(
                "value is {} bytes, the map's value_size is {vs}",
                value.len()
            ));
        }
        let Store::Lpm(t) = &mut self.store else {
            return inval("not an LPM trie");
        };
        let (slot, _) = t.update(key, flags)?;
        let o = slot * self.stride;
        self.values[o..o + vs].copy_from_slice(value);
        Ok(())
    }
}
