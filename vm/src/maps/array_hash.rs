//! The array and hash families' slots (`kernel/bpf/arraymap.c`, `hashtab.c`): finding an
//! element's slot, and allocating one for an update with `BPF_NOEXIST`/`BPF_EXIST` and LRU
//! eviction. Maps of maps are arrays and hashes of inner map references (`of_maps.rs`).

use super::{inval, Map, MapError, MapType, Slot, Store, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST};

impl Map {
    /// The slot of `key`'s element, if present (`touch`: an LRU use).
    pub(super) fn find_slot(&mut self, key: &[u8], touch: bool) -> Result<Option<usize>, MapError> {
        match &mut self.store {
            Store::Array => {
                let i = u32::from_le_bytes(
                    key.try_into()
                        .map_err(|_| MapError::Invalid("bad key".into()))?,
                );
                Ok((i < self.spec.max_entries).then_some(i as usize))
            }
            Store::Hash {
                index, slots, tick, ..
            } => {
                let Some(&s) = index.get(key) else {
                    return Ok(None);
                };
                if touch {
                    *tick += 1;
                    if let Some(slot) = &mut slots[s as usize] {
                        slot.last_use = *tick;
                    }
                }
                Ok(Some(s as usize))
            }
            _ => inval("this map type has no lookup"),
        }
    }

    fn check_flags(flags: u64) -> Result<(), MapError> {
        if flags & !BPF_F_LOCK > BPF_EXIST {
            return inval(format!("unknown update flags {flags:#x}"));
        }
        Ok(())
    }

    /// Finds or allocates the slot for an update, applying `BPF_NOEXIST`/`BPF_EXIST`.
    pub(super) fn slot_for_update(
        &mut self,
        key: &[u8],
        flags: u64,
    ) -> Result<(usize, bool), MapError> {
        Map::check_flags(flags)?;
        let flags = flags & !BPF_F_LOCK;
        let lru = matches!(
            self.spec.map_type,
            MapType::LruHash | MapType::LruPercpuHash
        );
        match &mut self.store {
            Store::Array => {
                let i = u32::from_le_bytes(
                    key.try_into()
                        .map_err(|_| MapError::Invalid("bad key".into()))?,
                );
                if i >= self.spec.max_entries {
                    return Err(MapError::Full);
                }
                // Every element of an array exists (array_map_update_elem).
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                Ok((i as usize, false))
            }
            Store::Hash {
                index,
                slots,
                free,
                tick,
            } => {
                *tick += 1;
                if let Some(&s) = index.get(key) {
                    if flags == BPF_NOEXIST {
                        return Err(MapError::Exists);
                    }
                    if let Some(slot) = &mut slots[s as usize] {
                        slot.last_use = *tick;
                    }
                    return Ok((s as usize, false));
                }
                if flags == BPF_EXIST {
                    return Err(MapError::NotFound);
                }
                let s = match free.pop() {
                    Some(s) => s,
                    None if lru => {
                        // The kernel's LRU is approximate; evicting the least recently used
                        // element is what it approximates.
                        let (victim, _) = slots
                            .iter()
                            .enumerate()
                            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.last_use)))
                            .min_by_key(|&(_, t)| t)
                            .ok_or(MapError::Full)?;
                        let old = slots[victim].take().map(|s| s.key);
                        if let Some(k) = old {
                            index.remove(&k);
                        }
                        victim as u32
                    }
                    None => return Err(MapError::Full),
                };
                slots[s as usize] = Some(Slot {
                    key: key.into(),
                    last_use: *tick,
                });
                index.insert(key.into(), s);
                Ok((s as usize, true))
            }
            _ => inval("this map type has no update"),
        }
    }
}
