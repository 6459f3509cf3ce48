//! Redirect targets for XDP: `BPF_MAP_TYPE_DEVMAP`, `DEVMAP_HASH` (`kernel/bpf/devmap.c`),
//! `CPUMAP` (`kernel/bpf/cpumap.c`) and `XSKMAP` (`net/xdp/xskmap.c`).
//!
//! User space stores, in the VM, what the kernel resolves from the value: a devmap entry's
//! `struct bpf_devmap_val` names a device by ifindex (any non-zero ifindex is a device the
//! test declares), a cpumap entry's `struct bpf_cpumap_val` a queue size for a CPU, and an
//! xskmap entry, where the kernel takes an AF_XDP socket fd, the socket's queue id (the one
//! field of `struct bpf_xdp_sock` a program reads). Programs attached to entries (the
//! `bpf_prog.fd` half of the value) are not modelled: a positive fd is refused by name.
//!
//! `bpf_redirect_map` finds its target with [`Map::redirect_target`].

use super::{flags, inval, Map, MapError, MapSpec, MapType, Store, BPF_EXIST, BPF_NOEXIST};

/// `NR_CPUS` of the distribution kernels (`CONFIG_NR_CPUS=8192`): the largest cpumap.
const NR_CPUS: u32 = 8192;
/// The largest cpumap queue (`cpu_map_update_elem`'s sanity limit).
const CPUMAP_MAX_QSIZE: u32 = 16384;

/// Where `bpf_redirect_map` sends a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectTarget {
    /// A network device (devmap, devmap_hash).
    Device {
        /// Its ifindex.
        ifindex: u32,
    },
    /// Another CPU's queue (cpumap).
    Cpu {
        /// The CPU (the map's key).
        cpu: u32,
        /// The queue size the entry was created with.
        qsize: u32,
    },
    /// An AF_XDP socket (xskmap).
    XdpSocket {
        /// The socket's queue id.
        queue_id: u32,
    },
}

#[derive(Clone, Debug)]
pub(super) struct Targets {
    map_type: MapType,
    /// By value slot: the key and the target.
    slots: Vec<Option<(u32, RedirectTarget)>>,
    /// devmap_hash: the slots of each bucket (`idx & (n_buckets - 1)`), newest first, as
    /// `hlist_add_head_rcu` orders them.
    buckets: Vec<Vec<u32>>,
    free: Vec<u32>,
    stride: usize,
    cpus: usize,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

impl Targets {
    /// `dev_map_alloc_check`/`dev_map_init_map`, `cpu_map_alloc`, `xsk_map_alloc`.
    pub(super) fn new(spec: &MapSpec, cpus: usize) -> Result<Targets, MapError> {
        let t = spec.map_type;
        let vs = spec.value_size;
        if spec.key_size != 4 {
            return inval(format!("{} maps need key_size 4", t.name()));
        }
        match t {
            MapType::Devmap | MapType::DevmapHash => {
                // offsetofend(struct bpf_devmap_val, ifindex) or (..., bpf_prog.fd)
                if vs != 4 && vs != 8 {
                    return inval("devmap values are 4 bytes (ifindex) or 8 (ifindex, program fd)");
                }
                flags::check_mask(spec, flags::NUMA_NODE | flags::RDONLY | flags::WRONLY)?;
                if t == MapType::DevmapHash && spec.max_entries > 1 << 31 {
                    return inval("devmap_hash max_entries above 2^31");
                }
            }
            MapType::Cpumap => {
                if vs != 4 && vs != 8 {
                    return inval("cpumap values are 4 bytes (qsize) or 8 (qsize, program fd)");
                }
                flags::check_mask(spec, flags::NUMA_NODE)?;
                if spec.max_entries > NR_CPUS {
                    return Err(MapError::Full);
                }
            }
            _ => {
                if vs != 4 {
                    return inval("xskmap values are 4 bytes (an AF_XDP socket)");
                }
                flags::check_mask(spec, flags::NUMA_NODE | flags::RDONLY | flags::WRONLY)?;
            }
        }
        let n = spec.max_entries as usize;
        let n_buckets = if t == MapType::DevmapHash {
            spec.max_entries.next_power_of_two() as usize
        } else {
            0
        };
        Ok(Targets {
            map_type: t,
            slots: vec![None; n],
            buckets: vec![Vec::new(); n_buckets],
            free: (0..spec.max_entries).rev().collect(),
            stride: (vs as usize).div_ceil(8) * 8,
            cpus,
        })
    }

    /// Bytes of the map's value storage.
    pub(super) fn bytes(&self) -> usize {
        self.slots.len() * self.stride
    }

    pub(super) fn is_hash(&self) -> bool {
        self.map_type == MapType::DevmapHash
    }

    /// The slot holding `key`, if any.
    pub(super) fn find(&self, key: &[u8]) -> Option<usize> {
        let k = u32_at(key, 0);
        if self.is_hash() {
            let b = &self.buckets[k as usize & (self.buckets.len() - 1)];
            b.iter()
                .map(|&s| s as usize)
                .find(|&s| self.slots[s].is_some_and(|(key, _)| key == k))
        } else {
            self.slots.get(k as usize)?.map(|_| k as usize)
        }
    }

    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        if self.is_hash() {
            self.buckets
                .iter()
                .flatten()
                .filter_map(|&s| self.slots[s as usize].map(|(k, _)| k.to_le_bytes().to_vec()))
                .collect()
        } else {
            self.slots
                .iter()
                .flatten()
                .map(|(k, _)| k.to_le_bytes().to_vec())
                .collect()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn remove(&mut self, slot: usize) {
        self.slots[slot] = None;
        if self.is_hash() {
            for b in &mut self.buckets {
                b.retain(|&s| s as usize != slot);
            }
            self.free.push(slot as u32);
        }
    }
}

impl Map {
    /// The update of each type; the value bytes the kernel would return on lookup are stored
    /// at the entry's slot.
    pub(super) fn redirect_update(
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
        let stride = self.stride;
        let Store::Redirect(t) = &mut self.store else {
            return inval("not a redirect map");
        };
        let k = u32_at(key, 0);
        let first = u32_at(value, 0);
        let prog_fd = if vs == 8 { u32_at(value, 4) as i32 } else { 0 };
        if flags > BPF_EXIST {
            return inval(format!("unknown update flags {flags:#x}"));
        }
        let no_prog = |what: &str| -> Result<(), MapError> {
            if prog_fd > 0 {
                return inval(format!(
                    "{what} programs (bpf_prog.fd {prog_fd}) are not modelled by the VM"
                ));
            }
            Ok(())
        };
        let target = match t.map_type {
            MapType::Devmap => {
                // __dev_map_update_elem
                if k as usize >= t.slots.len() {
                    return Err(MapError::Full);
                }
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                if first == 0 {
                    if prog_fd > 0 {
                        return inval("a devmap entry without a device cannot have a program");
                    }
                    None
                } else {
                    no_prog("devmap")?;
                    Some(RedirectTarget::Device { ifindex: first })
                }
            }
            MapType::DevmapHash => {
                // __dev_map_hash_update_elem: ifindex 0 is refused first; BPF_EXIST is not
                // checked; a full map is E2BIG.
                if first == 0 {
                    return inval("ifindex 0 is no device");
                }
                let old = t.find(key);
                if old.is_some() && flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                no_prog("devmap")?;
                let slot = match old {
                    Some(s) => {
                        t.remove(s);
                        t.free.pop().ok_or(MapError::Full)?
                    }
                    None => t.free.pop().ok_or(MapError::Full)?,
                };
                let n = t.buckets.len();
                t.buckets[k as usize & (n - 1)].insert(0, slot);
                t.slots[slot as usize] = Some((k, RedirectTarget::Device { ifindex: first }));
                let o = slot as usize * stride;
                self.values[o..o + stride].fill(0);
                self.values[o..o + 4].copy_from_slice(&first.to_le_bytes());
                return Ok(());
            }
            MapType::Cpumap => {
                // cpu_map_update_elem
                if k as usize >= t.slots.len() {
                    return Err(MapError::Full);
                }
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                if first > CPUMAP_MAX_QSIZE {
                    return Err(MapError::Overflow(format!(
                        "cpumap qsize {first} is above {CPUMAP_MAX_QSIZE}"
                    )));
                }
                if k as usize >= t.cpus {
                    return Err(MapError::NoDevice(format!(
                        "CPU {k} does not exist (the VM simulates {} CPUs)",
                        t.cpus
                    )));
                }
                if first == 0 {
                    None
                } else {
                    no_prog("cpumap")?;
                    Some(RedirectTarget::Cpu {
                        cpu: k,
                        qsize: first,
                    })
                }
            }
            _ => {
                // xsk_map_update_elem
                if k as usize >= t.slots.len() {
                    return Err(MapError::Full);
                }
                let old = t.slots[k as usize].map(|(_, x)| x);
                let new = RedirectTarget::XdpSocket { queue_id: first };
                if old == Some(new) {
                    return Ok(());
                }
                if old.is_some() && flags == BPF_NOEXIST {
                    return Err(MapError::Exists);
                }
                if old.is_none() && flags == BPF_EXIST {
                    return Err(MapError::NotFound);
                }
                Some(new)
            }
        };
        t.slots[k as usize] = target.map(|x| (k, x));
        let o = k as usize * stride;
        self.values[o..o + stride].fill(0);
        if target.is_some() {
            // The program id half reads back as 0: no program is attached.
            self.values[o..o + 4].copy_from_slice(&first.to_le_bytes());
        }
        Ok(())
    }

    /// `BPF_MAP_LOOKUP_ELEM`: the stored value; xskmaps refuse (`xsk_map_lookup_elem_sys`).
    pub(super) fn redirect_lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let Store::Redirect(t) = &self.store else {
            return inval("not a redirect map");
        };
        if t.map_type == MapType::Xskmap {
            return Err(MapError::NotSupported(
                "xskmap entries cannot be read from user space".into(),
            ));
        }
        let vs = self.spec.value_size as usize;
        Ok(t.find(key).map(|s| {
            let o = s * self.stride;
            self.values[o..o + vs].to_vec()
        }))
    }

    /// `dev_map_delete_elem`, `dev_map_hash_delete_elem`, `cpu_map_delete_elem`,
    /// `xsk_map_delete_elem`: the array types answer `EINVAL` past the end and 0 for an
    /// empty index; devmap_hash `ENOENT` for an absent key.
    pub(super) fn redirect_delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let stride = self.stride;
        let Store::Redirect(t) = &mut self.store else {
            return inval("not a redirect map");
        };
        let slot = match t.find(key) {
            Some(s) => s,
            None if t.is_hash() => return Err(MapError::NotFound),
            None if u32_at(key, 0) as usize >= t.slots.len() => {
                return inval(format!("index {} is past max_entries", u32_at(key, 0)))
            }
            None => return Ok(()),
        };
        t.remove(slot);
        self.values[slot * stride..(slot + 1) * stride].fill(0);
        Ok(())
    }

    /// The target `bpf_redirect_map` finds at `key` (`__dev_map_lookup_elem`,
    /// `__dev_map_hash_lookup_elem`, `__cpu_map_lookup_elem`, `__xsk_map_lookup_elem`), or
    /// `None`; an error when the map is not a devmap, devmap_hash, cpumap or xskmap.
    pub fn redirect_target(&self, key: u32) -> Result<Option<RedirectTarget>, MapError> {
        let Store::Redirect(t) = &self.store else {
            return inval(format!(
                "bpf_redirect_map needs a devmap, devmap_hash, cpumap or xskmap, not a {} map",
                self.spec.map_type.name()
            ));
        };
        Ok(t.find(&key.to_le_bytes())
            .and_then(|s| t.slots[s].map(|(_, x)| x)))
    }
}
