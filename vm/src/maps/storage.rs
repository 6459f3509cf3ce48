//! Local storage: one value per owner.
//!
//! * `BPF_MAP_TYPE_SK_STORAGE`, `TASK_STORAGE`, `INODE_STORAGE`, `CGRP_STORAGE`
//!   (`kernel/bpf/bpf_local_storage.c` and `net/core/bpf_sk_storage.c`,
//!   `kernel/bpf/bpf_task_storage.c`, `bpf_inode_storage.c`, `bpf_cgrp_storage.c`): the
//!   owner is a socket, task, inode or cgroup. Programs pass the owner's pointer to
//!   `bpf_*_storage_get/delete`; user space passes an fd (a pidfd for tasks) as the key. In
//!   the VM an owner is a number the test declares: the pointer a program passes (from its
//!   context), and the 4-byte key from user space.
//! * `BPF_MAP_TYPE_CGROUP_STORAGE`, `PERCPU_CGROUP_STORAGE` (`kernel/bpf/local_storage.c`):
//!   one value per (cgroup, attach type) the program is attached to, keyed by
//!   `struct bpf_cgroup_storage_key` (16 bytes: cgroup id, attach type, padding; or the
//!   cgroup id alone); `bpf_get_local_storage`
//!   answers the storage of the program's attachment. A test attaches with
//!   [`Map::attach_cgroup_storage`]; a program that runs without one gets a zero-keyed
//!   storage attached, as `BPF_PROG_TEST_RUN` gives it a fresh one.

use super::{
    flags, inval, Map, MapError, MapSpec, MapType, Store, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST,
};

/// `BPF_F_CLONE`: a socket's storage is cloned with it.
const CLONE: u32 = 1 << 9;
/// `PAGE_SIZE`: the largest shared cgroup storage value.
const PAGE_SIZE: u32 = 4096;
/// `PCPU_MIN_UNIT_SIZE`: the largest per-CPU cgroup storage value.
const PCPU_MIN_UNIT_SIZE: u32 = 32 << 10;
/// `BPF_LOCAL_STORAGE_GET_F_CREATE`.
pub(crate) const GET_F_CREATE: u64 = 1;

/// Whether `t` is one of the local storage types.
pub(super) fn is_storage(t: MapType) -> bool {
    is_cgroup_storage(t)
        || matches!(
            t,
            MapType::SkStorage
                | MapType::TaskStorage
                | MapType::InodeStorage
                | MapType::CgrpStorage
        )
}

pub(super) fn is_cgroup_storage(t: MapType) -> bool {
    matches!(t, MapType::CgroupStorage | MapType::PercpuCgroupStorage)
}

#[derive(Clone, Debug)]
pub(super) struct Storage {
    /// (owner key, value slot); local storage owners as 8-byte ids, cgroup storage by key.
    /// Cgroup storages are listed newest first (`list_add` in `cgroup_storage_insert`).
    owners: Vec<(Box<[u8]>, usize)>,
    free: Vec<usize>,
    slots: usize,
}

impl Storage {
    /// `bpf_local_storage_map_alloc_check` and `cgroup_storage_map_alloc`.
    pub(super) fn new(spec: &MapSpec) -> Result<Storage, MapError> {
        if is_cgroup_storage(spec.map_type) {
            if spec.key_size != 16 && spec.key_size != 8 {
                return inval("cgroup storage keys are struct bpf_cgroup_storage_key (16 bytes) or a cgroup id (8)");
            }
            if spec.value_size == 0 {
                return inval("cgroup storage needs a non-zero value_size");
            }
            let max = if spec.map_type == MapType::PercpuCgroupStorage {
                PCPU_MIN_UNIT_SIZE
            } else {
                PAGE_SIZE
            };
            if spec.value_size > max {
                return Err(MapError::Full);
            }
            flags::check_mask(spec, flags::NUMA_NODE | flags::ACCESS_MASK)?;
            if spec.max_entries != 0 {
                return inval("cgroup storage needs max_entries 0 (one value per attachment)");
            }
        } else {
            flags::check_mask(spec, flags::NO_PREALLOC | CLONE)?;
            if spec.flags & flags::NO_PREALLOC == 0 {
                return inval("local storage maps need BPF_F_NO_PREALLOC");
            }
            if spec.max_entries != 0 {
                return inval("local storage maps need max_entries 0 (one value per owner)");
            }
            if spec.key_size != 4 || spec.value_size == 0 {
                return inval(
                    "local storage maps need key_size 4 (an fd) and a non-zero value_size",
                );
            }
        }
        Ok(Storage {
            owners: Vec::new(),
            free: Vec::new(),
            slots: 0,
        })
    }

    fn find(&self, owner: &[u8]) -> Option<usize> {
        self.owners
            .iter()
            .find(|(o, _)| o[..] == owner[..])
            .map(|&(_, s)| s)
    }

    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        self.owners.iter().map(|(k, _)| k.to_vec()).collect()
    }

    pub(super) fn len(&self) -> usize {
        self.owners.len()
    }
}

impl Map {
    fn storage(&mut self) -> Result<&mut Storage, MapError> {
        match &mut self.store {
            Store::Storage(s) => Ok(s),
            _ => inval("not a local storage map"),
        }
    }

    /// The owner of a user-space key: local storage keys are fds, here owner ids.
    fn owner_key(&self, key: &[u8]) -> Vec<u8> {
        if is_cgroup_storage(self.spec.map_type) {
            key.to_vec()
        } else {
            (u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as u64)
                .to_le_bytes()
                .to_vec()
        }
    }

    /// Adds a zeroed value for `owner`; its slot.
    fn storage_add(&mut self, owner: Vec<u8>) -> Result<usize, MapError> {
        let bytes = self.stride * self.ncpus;
        let cgroup = is_cgroup_storage(self.spec.map_type);
        let s = self.storage()?;
        let slot = match s.free.pop() {
            Some(slot) => slot,
            None => {
                s.slots += 1;
                s.slots - 1
            }
        };
        if cgroup {
            s.owners.insert(0, (owner.into(), slot));
        } else {
            s.owners.push((owner.into(), slot));
        }
        let end = (slot + 1) * bytes;
        if end > super::MAX_MAP_BYTES {
            return Err(MapError::NoMemory);
        }
        if self.values.len() < end {
            self.values.resize(end, 0);
        }
        self.values[slot * bytes..end].fill(0);
        Ok(slot)
    }

    pub(super) fn storage_lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let Store::Storage(s) = &self.store else {
            return inval("not a local storage map");
        };
        Ok(s.find(&self.owner_key(key))
            .map(|slot| self.element_bytes(slot)))
    }

    /// `bpf_local_storage_update` from user space (`cgroup_storage_update_elem`: only an
    /// attached storage, only `BPF_ANY`/`BPF_EXIST`).
    pub(super) fn storage_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        let vs = self.spec.value_size as usize;
        let all = self.ncpus > 1 && value.len() == self.stride * self.ncpus;
        if value.len() != vs && !all {
            return inval(format!(
                "value is {} bytes, the map's value_size is {vs}",
                value.len()
            ));
        }
        let owner = self.owner_key(key);
        let found = self.storage()?.find(&owner);
        let slot = if is_cgroup_storage(self.spec.map_type) {
            let bad = if self.ncpus > 1 || self.spec.map_type == MapType::PercpuCgroupStorage {
                flags != 0 && flags != BPF_EXIST
            } else {
                flags & !(BPF_F_LOCK | BPF_EXIST) != 0
            };
            if bad {
                return inval(format!("unknown update flags {flags:#x}"));
            }
            found.ok_or(MapError::NotFound)?
        } else {
            let f = flags & !BPF_F_LOCK;
            if f > BPF_EXIST {
                return inval(format!("unknown update flags {flags:#x}"));
            }
            match found {
                Some(_) if f == BPF_NOEXIST => return Err(MapError::Exists),
                None if f == BPF_EXIST => return Err(MapError::NotFound),
                Some(s) => s,
                None => self.storage_add(owner)?,
            }
        };
        for cpu in 0..self.ncpus {
            let o = self.value_off(slot, cpu);
            let src = if all {
                &value[cpu * self.stride..cpu * self.stride + vs]
            } else {
                value
            };
            self.values[o..o + vs].copy_from_slice(src);
        }
        Ok(())
    }

    /// `bpf_local_storage` delete from user space: `ENOENT` when absent; cgroup storage
    /// cannot be deleted (`EINVAL`).
    pub(super) fn storage_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        if is_cgroup_storage(self.spec.map_type) {
            return inval("cgroup storage is freed when the program is detached, not deleted");
        }
        let owner = self.owner_key(key);
        self.storage_remove(&owner)
    }

    fn storage_remove(&mut self, owner: &[u8]) -> Result<(), MapError> {
        let s = self.storage()?;
        let i = s
            .owners
            .iter()
            .position(|(o, _)| o[..] == owner[..])
            .ok_or(MapError::NotFound)?;
        let (_, slot) = s.owners.remove(i);
        s.free.push(slot);
        Ok(())
    }

    /// `bpf_*_storage_get` from a program: the offset of `owner`'s value, created (from
    /// `init`, or zeroed) with `BPF_LOCAL_STORAGE_GET_F_CREATE`; `None` (NULL) for a NULL
    /// owner, unknown flags, or an absent value without the flag.
    pub(crate) fn storage_get(
        &mut self,
        owner: u64,
        init: Option<&[u8]>,
        flags: u64,
    ) -> Result<Option<usize>, MapError> {
        if flags & !GET_F_CREATE != 0 || owner == 0 {
            return Ok(None);
        }
        let key = owner.to_le_bytes().to_vec();
        let slot = match self.storage()?.find(&key) {
            Some(s) => s,
            None if flags & GET_F_CREATE != 0 => {
                let s = self.storage_add(key)?;
                if let Some(v) = init {
                    let o = self.value_off(s, 0);
                    self.values[o..o + v.len()].copy_from_slice(v);
                }
                s
            }
            None => return Ok(None),
        };
        Ok(Some(self.value_off(slot, 0)))
    }

    /// `bpf_*_storage_delete` from a program: `EINVAL` for a NULL owner, `ENOENT` when
    /// absent.
    pub(crate) fn storage_delete_owner(&mut self, owner: u64) -> Result<(), MapError> {
        if owner == 0 {
            return inval("NULL owner");
        }
        self.storage_remove(&owner.to_le_bytes())
    }

    /// Attaches a program using this cgroup storage map to a cgroup: creates the storage for
    /// `key` (`struct bpf_cgroup_storage_key`: cgroup id, attach type; or the id alone),
    /// which `bpf_get_local_storage` then answers. Attaching again with the same key keeps
    /// the value.
    pub fn attach_cgroup_storage(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.check_key(key)?;
        if !is_cgroup_storage(self.spec.map_type) {
            return inval("not a cgroup storage map");
        }
        let s = self.storage()?;
        if let Some(i) = s.owners.iter().position(|(o, _)| o[..] == key[..]) {
            // The most recent attachment is the current one.
            let e = s.owners.remove(i);
            s.owners.insert(0, e);
            return Ok(());
        }
        self.storage_add(key.to_vec()).map(drop)
    }

    /// `bpf_get_local_storage`: this CPU's value of the current attachment's storage.
    pub(crate) fn cgroup_storage_current(&mut self, cpu: usize) -> Result<usize, MapError> {
        if !is_cgroup_storage(self.spec.map_type) {
            return inval("not a cgroup storage map");
        }
        if self.storage()?.owners.is_empty() {
            self.storage_add(vec![0; self.spec.key_size as usize])?;
        }
        let slot = self.storage()?.owners[0].1;
        Ok(self.value_off(slot, cpu.min(self.ncpus - 1)))
    }
}
