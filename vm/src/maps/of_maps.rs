//! Maps of maps: `BPF_MAP_TYPE_ARRAY_OF_MAPS` (`kernel/bpf/arraymap.c`) and
//! `BPF_MAP_TYPE_HASH_OF_MAPS` (`kernel/bpf/hashtab.c`), with the inner map checks of
//! `kernel/bpf/map_in_map.c`.
//!
//! They are an array or hash map of 4-byte values that hold, in the VM, the inner map's index
//! plus one (0: empty). User space puts a map in with [`crate::Vm::set_inner_map`] (the kernel
//! takes an fd and checks the map against the template the outer map was created with,
//! [`MapSpec::inner`]); `BPF_MAP_LOOKUP_ELEM` answers the inner map's index (the kernel
//! answers its id); `bpf_map_lookup_elem` in a program answers the inner map itself, a map
//! handle the program passes to other map helpers.

use super::{flags, inval, Map, MapError, MapSpec, MapType, Store, BPF_ANY};

/// Whether `t` is a map of maps.
pub(crate) fn is_of_maps(t: MapType) -> bool {
    matches!(t, MapType::ArrayOfMaps | MapType::HashOfMaps)
}

/// `fd_array_map_alloc_check` / `fd_htab_map_alloc_check` and `bpf_map_meta_alloc`: 4-byte
/// values and a template that may itself be an inner map.
pub(super) fn check(spec: &MapSpec) -> Result<(), MapError> {
    if spec.value_size != 4 {
        return inval("maps of maps need value_size 4 (an inner map)");
    }
    let Some(inner) = &spec.inner else {
        return Err(MapError::BadFd(
            "a map of maps needs an inner map template (inner_map_fd)".into(),
        ));
    };
    if is_of_maps(inner.map_type) {
        return inval("maps of maps cannot be nested more than one level");
    }
    if inner.map_type == MapType::ProgArray {
        // prog_array_map_ops has no map_meta_equal.
        return Err(MapError::KernelNotSupported(
            "program arrays cannot be inner maps".into(),
        ));
    }
    // The template is a real map in the kernel: it must be creatable.
    Map::new((**inner).clone(), 1).map(drop)
}

/// `map_meta_equal` of the inner map's type: `bpf_map_meta_equal` (type, key and value
/// sizes, flags) and, for plain arrays without `BPF_F_INNER_MAP`, `max_entries`
/// (`array_map_meta_equal`).
fn meta_equal(template: &MapSpec, inner: &MapSpec) -> Result<(), MapError> {
    let same = template.map_type == inner.map_type
        && template.key_size == inner.key_size
        && template.value_size == inner.value_size
        && template.flags == inner.flags;
    let entries = template.map_type != MapType::Array
        || template.flags & flags::INNER_MAP != 0
        || template.max_entries == inner.max_entries;
    if same && entries {
        return Ok(());
    }
    inval(format!(
        "map `{}` ({} {}:{}:{} flags {:#x}) does not match the inner map template ({} {}:{}:{} flags {:#x})",
        inner.name,
        inner.map_type.name(),
        inner.key_size,
        inner.value_size,
        inner.max_entries,
        inner.flags,
        template.map_type.name(),
        template.key_size,
        template.value_size,
        template.max_entries,
        template.flags
    ))
}

impl Map {
    /// The inner map index stored at `slot`.
    pub(super) fn inner_index_at(&self, slot: usize) -> Option<u32> {
        let o = self.value_off(slot, 0);
        let v = u32::from_le_bytes(self.values[o..o + 4].try_into().ok()?);
        v.checked_sub(1)
    }

    /// `bpf_map_lookup_elem` on a map of maps from a program: the inner map's index.
    pub(crate) fn lookup_inner(&mut self, key: &[u8]) -> Result<Option<u32>, MapError> {
        self.check_key(key)?;
        if !is_of_maps(self.spec.map_type) {
            return inval("not a map of maps");
        }
        Ok(self
            .find_slot(key, true)?
            .and_then(|s| self.inner_index_at(s)))
    }

    /// Puts map `inner` (its index and spec) at `key`: `bpf_fd_array_map_update_elem` (only
    /// `BPF_ANY`, `E2BIG` past the end) or `bpf_fd_htab_map_update_elem` (the hash map's
    /// flags), after `bpf_map_fd_get_ptr`'s template check (`EINVAL`).
    pub(crate) fn set_inner(
        &mut self,
        key: &[u8],
        inner: u32,
        inner_spec: &MapSpec,
        flags: u64,
    ) -> Result<(), MapError> {
        self.check_key(key)?;
        if !is_of_maps(self.spec.map_type) {
            return inval(format!(
                "map `{}` is a {} map, not a map of maps",
                self.spec.name,
                self.spec.map_type.name()
            ));
        }
        let array = self.spec.map_type == MapType::ArrayOfMaps;
        if array {
            if flags != BPF_ANY {
                return inval(format!("arrays of maps take only BPF_ANY, not {flags:#x}"));
            }
            if u32::from_le_bytes([key[0], key[1], key[2], key[3]]) >= self.spec.max_entries {
                return Err(MapError::Full);
            }
        }
        if is_of_maps(inner_spec.map_type) {
            return inval("maps of maps cannot be nested more than one level");
        }
        let template = self
            .spec
            .inner
            .as_deref()
            .ok_or_else(|| MapError::BadFd("no inner map template".into()))?;
        meta_equal(template, inner_spec)?;
        let (slot, _) = self.slot_for_update(key, flags)?;
        let o = self.value_off(slot, 0);
        self.values[o..o + 4].copy_from_slice(&(inner + 1).to_le_bytes());
        Ok(())
    }

    /// `fd_array_map_delete_elem`: `E2BIG` past the end, `ENOENT` when empty.
    pub(super) fn array_of_maps_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]);
        if i >= self.spec.max_entries {
            return Err(MapError::Full);
        }
        let o = self.value_off(i as usize, 0);
        if self.values[o..o + 4] == [0; 4] {
            return Err(MapError::NotFound);
        }
        self.values[o..o + 4].fill(0);
        Ok(())
    }

    /// The maps this map of maps holds, as (key, inner map index).
    pub fn inner_maps(&self) -> Vec<(Vec<u8>, u32)> {
        if !is_of_maps(self.spec.map_type) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for k in self.keys() {
            let slot = match &self.store {
                Store::Array => Some(u32::from_le_bytes([k[0], k[1], k[2], k[3]]) as usize),
                Store::Hash { index, .. } => index.get(&k[..]).map(|&s| s as usize),
                _ => None,
            };
            if let Some(i) = slot.and_then(|s| self.inner_index_at(s)) {
                out.push((k, i));
            }
        }
        out
    }
}
