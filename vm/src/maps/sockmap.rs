//! `BPF_MAP_TYPE_SOCKMAP` and `BPF_MAP_TYPE_SOCKHASH` (`net/core/sock_map.c`): sockets by
//! index or by key. User space stores a socket fd in the kernel; in the VM the value is the
//! socket's cookie (what `BPF_MAP_LOOKUP_ELEM` returns), a non-zero number the test declares.
//! Redirects through these maps (`sk_redirect_map`, `msg_redirect_map`) are not modelled.

use super::{flags, inval, MapError, MapSpec, MapType, BPF_EXIST, BPF_NOEXIST};

/// `MAX_BPF_STACK`: the longest sockhash key.
const MAX_KEY: u32 = 512;

#[derive(Clone, Debug)]
pub(super) struct Socks {
    hash: bool,
    max_entries: usize,
    value_size: u32,
    /// (key, cookie), in insertion order for a sockhash (the kernel's bucket order depends
    /// on a random seed), by index for a sockmap.
    entries: Vec<Option<(Box<[u8]>, u64)>>,
}

impl Socks {
    /// `sock_map_alloc`, `sock_hash_alloc`.
    pub(super) fn new(spec: &MapSpec) -> Result<Socks, MapError> {
        let hash = spec.map_type == MapType::Sockhash;
        if spec.value_size != 4 && spec.value_size != 8 {
            return inval("sockmap values are 4 or 8 bytes (a socket fd)");
        }
        if !hash && spec.key_size != 4 {
            return inval("sockmaps need key_size 4");
        }
        if hash && spec.key_size == 0 {
            return inval("sockhash maps need a non-zero key_size");
        }
        flags::check_mask(spec, flags::NUMA_NODE | flags::RDONLY | flags::WRONLY)?;
        if hash && spec.key_size > MAX_KEY {
            return Err(MapError::Full);
        }
        Ok(Socks {
            hash,
            max_entries: spec.max_entries as usize,
            value_size: spec.value_size,
            entries: if hash {
                Vec::new()
            } else {
                vec![None; spec.max_entries as usize]
            },
        })
    }

    pub(super) fn is_hash(&self) -> bool {
        self.hash
    }

    fn position(&self, key: &[u8]) -> Option<usize> {
        if self.hash {
            self.entries
                .iter()
                .position(|e| e.as_ref().is_some_and(|(k, _)| k[..] == key[..]))
        } else {
            let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
            self.entries.get(i)?.as_ref().map(|_| i)
        }
    }

    /// `sock_map_update_elem_sys` with `sock_map_update_common` / `sock_hash_update_common`.
    pub(super) fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if value.len() != self.value_size as usize {
            return inval(format!(
                "value is {} bytes, the map's value_size is {}",
                value.len(),
                self.value_size
            ));
        }
        let mut v = [0u8; 8];
        v[..value.len()].copy_from_slice(value);
        let cookie = u64::from_le_bytes(v);
        if cookie > u32::MAX as u64 {
            return inval("a socket fd above U32_MAX");
        }
        if cookie == 0 {
            return inval("0 is no socket (the VM's sockmap values are socket cookies)");
        }
        if flags > BPF_EXIST {
            return inval(format!("unknown update flags {flags:#x}"));
        }
        if !self.hash
            && u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize >= self.max_entries
        {
            return Err(MapError::Full);
        }
        let at = self.position(key);
        if at.is_some() && flags == BPF_NOEXIST {
            return Err(MapError::Exists);
        }
        if at.is_none() && flags == BPF_EXIST {
            return Err(MapError::NotFound);
        }
        let entry = Some((Box::<[u8]>::from(key), cookie));
        if self.hash {
            match at {
                Some(i) => self.entries[i] = entry,
                None if self.entries.len() >= self.max_entries => return Err(MapError::Full),
                None => self.entries.push(entry),
            }
        } else {
            let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
            *self.entries.get_mut(i).ok_or(MapError::Full)? = entry;
        }
        Ok(())
    }

    /// `sock_map_lookup_sys` / `sock_hash_lookup_sys`: the socket's cookie; values of 4
    /// bytes cannot hold one (`ENOSPC`).
    pub(super) fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        if self.value_size != 8 {
            return Err(MapError::OutOfSpace);
        }
        Ok(self
            .position(key)
            .and_then(|i| self.entries[i].as_ref())
            .map(|(_, c)| c.to_le_bytes().to_vec()))
    }

    /// `sock_map_delete_elem` (`EINVAL` past the end or for an empty index) and
    /// `sock_hash_delete_elem` (`ENOENT`).
    pub(super) fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        match self.position(key) {
            Some(i) if self.hash => {
                self.entries.remove(i);
                Ok(())
            }
            Some(i) => {
                self.entries[i] = None;
                Ok(())
            }
            None if self.hash => Err(MapError::NotFound),
            None => inval("no socket at this index"),
        }
    }

    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        self.entries
            .iter()
            .flatten()
            .map(|(k, _)| k.to_vec())
            .collect()
    }

    pub(super) fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }
}

impl super::Map {
    pub(super) fn sock_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        match &mut self.store {
            super::Store::Sock(s) => s.update(key, value, flags),
            _ => inval("not a sockmap"),
        }
    }
}
