//! `BPF_MAP_TYPE_QUEUE` and `BPF_MAP_TYPE_STACK` (`kernel/bpf/queue_stack_maps.c`); from
//! user space `BPF_MAP_UPDATE_ELEM` pushes and `BPF_MAP_LOOKUP_ELEM` peeks (`map_update_elem`
//! and `map_lookup_elem` in `syscall.c`).

use super::{inval, Map, MapError, MapType, Store, BPF_EXIST};

impl Map {
    /// `bpf_map_push_elem`: with `BPF_EXIST` a full map drops its oldest element; a bloom
    /// filter adds the value.
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        if let Store::Bloom(_) = self.store {
            return self.bloom_push(value, flags);
        }
        let max = self.spec.max_entries as usize;
        let vs = self.spec.value_size as usize;
        let Store::Queue { items } = &mut self.store else {
            return inval("not a queue or stack map");
        };
        if flags & !BPF_EXIST != 0 {
            return inval(format!("unknown push flags {flags:#x}"));
        }
        if value.len() != vs {
            return inval(format!(
                "value is {} bytes, the map's value_size is {vs}",
                value.len()
            ));
        }
        if items.len() >= max {
            if flags & BPF_EXIST == 0 {
                return Err(MapError::Full);
            }
            // Both queue and stack drop the oldest element (queue_stack_map_push_elem).
            items.pop_front();
        }
        items.push_back(value.to_vec());
        Ok(())
    }

    /// `bpf_map_pop_elem` (`delete`) or `bpf_map_peek_elem`.
    pub fn pop(&mut self, delete: bool) -> Result<Vec<u8>, MapError> {
        let lifo = self.spec.map_type == MapType::Stack;
        if let Store::Bloom(_) = self.store {
            // bloom_map_pop_elem; a peek takes the value (Map::bloom_contains).
            return Err(MapError::NotSupported(
                "bloom filters cannot pop; peek tests a value".into(),
            ));
        }
        let Store::Queue { items } = &mut self.store else {
            return inval("not a queue or stack map");
        };
        let v = match (lifo, delete) {
            (false, true) => items.pop_front(),
            (true, true) => items.pop_back(),
            (false, false) => items.front().cloned(),
            (true, false) => items.back().cloned(),
        };
        v.ok_or(MapError::NotFound)
    }

    /// `BPF_MAP_LOOKUP_ELEM` from user space: a peek, `None` when empty.
    pub(super) fn queue_lookup(&self) -> Result<Option<Vec<u8>>, MapError> {
        let Store::Queue { items } = &self.store else {
            return inval("not a queue or stack map");
        };
        Ok(if self.spec.map_type == MapType::Stack {
            items.back().cloned()
        } else {
            items.front().cloned()
        })
    }
}
