//! BPF maps with the kernel's behaviour (`kernel/bpf/*.c`, `net/core/sock_map.c`): the same
//! creation checks, update flags and errnos. This file holds what every type shares (the
//! value storage, the dispatch of lookup/update/delete/get_next_key) and the array and hash
//! families; each other family has its own file.
//!
//! Each map's values live in one byte vector, which is a region of the VM's address space
//! ([`crate::Region::MapValue`]): `map_lookup_elem` returns a pointer into it, so a program
//! writes a value in place as it would in the kernel.
//!
//! What user space passes as a file descriptor in the kernel is, in the VM, what the fd
//! stands for, declared by the test: a program array holds [`crate::ProgId`] numbers, a map
//! of maps holds map indexes ([`crate::Vm::set_inner_map`]), a devmap holds ifindexes, an
//! xskmap the XDP socket's queue id, a sockmap/sockhash socket cookies, a perf event array
//! the CPU each event is open on, and local storage maps are keyed by the owner's id.

use std::collections::{HashMap, VecDeque};
use std::fmt;

mod array_hash;
mod bloom;
pub mod flags;
mod jhash;
mod lpm_trie;
mod of_maps;
mod perf_event;
mod queue_stack;
mod redirect;
mod ringbuf;
mod sockmap;
mod stack_trace;
mod storage;
mod user_ringbuf;
pub use user_ringbuf::UserRecordState;

pub use perf_event::PerfRecord;
pub use redirect::RedirectTarget;

/// The most memory one map may take in the VM (values and bookkeeping).
pub const MAX_MAP_BYTES: usize = 1 << 30;

/// `BPF_ANY`: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create only.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update only.
pub const BPF_EXIST: u64 = 2;
/// `BPF_F_LOCK`: update under the value's spin lock (accepted, no effect in one thread).
pub const BPF_F_LOCK: u64 = 4;

/// Map types: the kernel's `enum bpf_map_type`, shared with the assembler and the kernel
/// backend. The VM implements those in [`SUPPORTED_MAP_TYPES`]; creating any other is a
/// [`MapError::Unsupported`].
pub use asm::types::MapType;

/// The map types the VM implements.
pub const SUPPORTED_MAP_TYPES: [MapType; 29] = [
    MapType::Array,
    MapType::Hash,
    MapType::PercpuArray,
    MapType::PercpuHash,
    MapType::LruHash,
    MapType::LruPercpuHash,
    MapType::ProgArray,
    MapType::Ringbuf,
    MapType::Queue,
    MapType::Stack,
    MapType::LpmTrie,
    MapType::BloomFilter,
    MapType::PerfEventArray,
    MapType::Devmap,
    MapType::DevmapHash,
    MapType::Cpumap,
    MapType::Xskmap,
    MapType::Sockmap,
    MapType::Sockhash,
    MapType::ArrayOfMaps,
    MapType::HashOfMaps,
    MapType::CgroupStorage,
    MapType::PercpuCgroupStorage,
    MapType::SkStorage,
    MapType::TaskStorage,
    MapType::InodeStorage,
    MapType::CgrpStorage,
    MapType::StackTrace,
    MapType::UserRingbuf,
];

/// Whether values are kept per CPU.
const fn percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuArray
            | MapType::PercpuHash
            | MapType::LruPercpuHash
            | MapType::PercpuCgroupStorage
    )
}

/// What a map is created with: the one map definition of every crate, `asm`'s
/// ([`MapSpec::name`], [`MapSpec::inner`] and [`MapSpec::value_fields`] do not change what
/// the VM does; `BPF_F_NO_PREALLOC` and other flags are accepted and ignored).
pub use asm::types::MapSpec;

/// A map operation's failure, with the kernel's errno.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// `ENOENT`: no such element (or queue empty).
    #[error("no such element (ENOENT)")]
    NotFound,
    /// `EEXIST`: the element exists and `BPF_NOEXIST` was given.
    #[error("element exists (EEXIST)")]
    Exists,
    /// `E2BIG`: the map is full or the index is past `max_entries`.
    #[error("map is full or index out of range (E2BIG)")]
    Full,
    /// `EAGAIN`: no room in the ring buffer.
    #[error("no room in the ring buffer (EAGAIN)")]
    NoSpace,
    /// `ENOMEM`: the map would need more than [`MAX_MAP_BYTES`].
    #[error("map too large for the VM (ENOMEM)")]
    NoMemory,
    /// `EINVAL` with the reason.
    #[error("invalid argument (EINVAL): {0}")]
    Invalid(String),
    /// `EOPNOTSUPP`: the map type has no such operation (a bloom filter's delete, an
    /// xskmap's lookup from user space, a sockmap's without a socket).
    #[error("operation not supported by this map type (EOPNOTSUPP): {0}")]
    NotSupported(String),
    /// `ENOTSUPP` (524, kernel-internal): a combination the kernel does not implement.
    #[error("not supported (ENOTSUPP): {0}")]
    KernelNotSupported(String),
    /// `ENOSPC`: an LPM trie holds `max_entries` entries; a sockmap's value is not 8 bytes.
    #[error("no space (ENOSPC)")]
    OutOfSpace,
    /// `EOVERFLOW`: a cpumap queue size above 16384.
    #[error("value too large (EOVERFLOW): {0}")]
    Overflow(String),
    /// `ENODEV`: a cpumap entry for a CPU that does not exist.
    #[error("no such device (ENODEV): {0}")]
    NoDevice(String),
    /// `EBADF`: a map of maps without an inner map template.
    #[error("bad file descriptor (EBADF): {0}")]
    BadFd(String),
    /// `EPERM`: user space may not read (`BPF_F_WRONLY`) or write (`BPF_F_RDONLY`) the map.
    #[error("operation not permitted (EPERM): {0}")]
    NotPermitted(String),
    /// A map type the VM does not implement (see [`SUPPORTED_MAP_TYPES`]).
    #[error("the VM does not implement {0} maps (it has: {list})", list = SUPPORTED_MAP_TYPES.map(|t| t.name()).join(", "))]
    Unsupported(MapType),
}

impl MapError {
    /// The positive errno.
    pub const fn errno(&self) -> i32 {
        match self {
            MapError::NotFound => 2,
            MapError::Exists => 17,
            MapError::Full => 7,
            MapError::NoSpace => 11,
            MapError::NoMemory => 12,
            MapError::NotSupported(_) => 95,
            MapError::KernelNotSupported(_) => 524,
            MapError::OutOfSpace => 28,
            MapError::Overflow(_) => 75,
            MapError::NoDevice(_) => 19,
            MapError::BadFd(_) => 9,
            MapError::NotPermitted(_) => 1,
            MapError::Invalid(_) | MapError::Unsupported(_) => 22,
        }
    }

    /// The value a helper returns for it (`-errno`).
    pub const fn helper_ret(&self) -> u64 {
        -(self.errno() as i64) as u64
    }
}

fn inval<T>(why: impl Into<String>) -> Result<T, MapError> {
    Err(MapError::Invalid(why.into()))
}

#[derive(Clone, Debug)]
struct Slot {
    key: Box<[u8]>,
    last_use: u64,
}

#[derive(Clone, Debug)]
enum Store {
    Array,
    Hash {
        index: HashMap<Box<[u8]>, u32>,
        slots: Vec<Option<Slot>>,
        free: Vec<u32>,
        tick: u64,
    },
    ProgArray {
        progs: Vec<Option<u32>>,
    },
    RingBuf {
        used: usize,
        records: Vec<Record>,
    },
    Queue {
        items: VecDeque<Vec<u8>>,
    },
    Lpm(lpm_trie::Trie),
    Bloom(bloom::Bloom),
    Perf(perf_event::PerfArray),
    Redirect(redirect::Targets),
    Sock(sockmap::Socks),
    Storage(storage::Storage),
    StackTrace(stack_trace::Traces),
    UserRing(user_ringbuf::UserRing),
    /// A map of an object that the VM does not create, kept in its place so that the
    /// object's map indexes stay valid: every operation on it fails, and programs that refer
    /// to it do not load. `None`: a type the VM does not implement
    /// ([`crate::LoadError::UnsupportedMap`]); `Some`: the kernel would refuse to create it
    /// ([`crate::LoadError::MapNotCreated`]).
    Inert(Option<MapError>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecState {
    Busy,
    Committed,
    Discarded,
}

#[derive(Clone, Copy, Debug)]
struct Record {
    /// Offset of the payload in the data area.
    off: usize,
    len: usize,
    state: RecState,
}

/// One map.
#[derive(Clone)]
pub struct Map {
    spec: MapSpec,
    /// Copies of each value: the simulated CPUs for per-CPU maps, else 1.
    ncpus: usize,
    /// The simulated CPUs (what the map was created with).
    possible_cpus: usize,
    /// Bytes per value per CPU (`round_up(value_size, 8)` as the kernel lays them out).
    stride: usize,
    pub(crate) values: Vec<u8>,
    store: Store,
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("spec", &self.spec)
            .field("entries", &self.len())
            .finish()
    }
}

/// The ring buffer's record header (`BPF_RINGBUF_HDR_SZ`).
const RINGBUF_HDR: usize = 8;

impl Map {
    /// A placeholder for a map of a type the VM does not implement (for any other type, a
    /// map as [`Map::new`] creates it): nothing is allocated and every operation fails.
    /// A map that creation refuses (the kernel's creation check) is kept as a placeholder
    /// too, with the reason: loading an object never fails because of a map its program
    /// does not use.
    pub fn inert(spec: MapSpec, ncpus: usize) -> Map {
        let why = if SUPPORTED_MAP_TYPES.contains(&spec.map_type) {
            match Map::new(spec.clone(), ncpus) {
                Ok(m) => return m,
                Err(e) => Some(e),
            }
        } else {
            None
        };
        Map {
            spec,
            ncpus: 1,
            possible_cpus: ncpus,
            stride: 0,
            values: Vec::new(),
            store: Store::Inert(why),
        }
    }

    /// A placeholder for a map that cannot be made what the object says (a map of maps
    /// whose initialiser does not fit): programs that use it are refused with `why`.
    pub(crate) fn refused(spec: MapSpec, why: MapError) -> Map {
        Map {
            spec,
            ncpus: 1,
            possible_cpus: 1,
            stride: 0,
            values: Vec::new(),
            store: Store::Inert(Some(why)),
        }
    }

    /// Whether this is a placeholder ([`Map::inert`]).
    pub fn is_inert(&self) -> bool {
        matches!(self.store, Store::Inert(_))
    }

    /// Why a placeholder was not created: `None` for a type the VM does not implement (and
    /// for every real map).
    pub fn creation_error(&self) -> Option<&MapError> {
        match &self.store {
            Store::Inert(why) => why.as_ref(),
            _ => None,
        }
    }

    /// Creates a map, with the checks `map_alloc_check` functions make in the kernel.
    pub fn new(spec: MapSpec, ncpus: usize) -> Result<Map, MapError> {
        let MapSpec {
            map_type,
            key_size,
            value_size,
            max_entries,
            ..
        } = spec;
        if !SUPPORTED_MAP_TYPES.contains(&map_type) {
            return Err(MapError::Unsupported(map_type));
        }
        // Local storage keeps one value per owner and needs max_entries 0; the others need
        // a positive max_entries (for ring buffers, checked as a size below).
        // Flags first: htab_map_alloc_check refuses an LRU map without preallocation
        // (ENOTSUPP) before it looks at the sizes.
        flags::check_basic(&spec)?;
        if max_entries == 0
            && !matches!(map_type, MapType::Ringbuf | MapType::UserRingbuf)
            && !storage::is_storage(map_type)
        {
            return inval("max_entries must be positive");
        }
        let stride = (value_size as usize).div_ceil(8) * 8;
        // Refuse what the host could not allocate (the kernel answers ENOMEM the same way),
        // before allocating anything.
        let cpus = if percpu(map_type) {
            ncpus.max(1) as u128
        } else {
            1
        };
        let per_entry: u128 = match map_type {
            MapType::Ringbuf | MapType::UserRingbuf => 1,
            MapType::ProgArray => 8,
            MapType::Queue | MapType::Stack => value_size as u128 + 24,
            MapType::Array | MapType::PercpuArray => stride as u128 * cpus,
            MapType::BloomFilter | MapType::PerfEventArray => 8,
            MapType::StackTrace => (stride as u128 + 64) * 2,
            _ => stride as u128 * cpus + key_size as u128 + 64,
        };
        if max_entries as u128 * per_entry > MAX_MAP_BYTES as u128 {
            return Err(MapError::NoMemory);
        }
        let store = match map_type {
            MapType::Array | MapType::PercpuArray => {
                if key_size != 4 || value_size == 0 {
                    return inval("array maps need key_size 4 and a non-zero value_size");
                }
                Store::Array
            }
            MapType::ArrayOfMaps => {
                of_maps::check(&spec)?;
                Store::Array
            }
            MapType::Hash
            | MapType::PercpuHash
            | MapType::LruHash
            | MapType::LruPercpuHash
            | MapType::HashOfMaps => {
                if map_type == MapType::HashOfMaps {
                    of_maps::check(&spec)?;
                }
                if key_size == 0 || value_size == 0 {
                    return inval("hash maps need non-zero key_size and value_size");
                }
                Store::Hash {
                    index: HashMap::new(),
                    slots: vec![None; max_entries as usize],
                    free: (0..max_entries).rev().collect(),
                    tick: 0,
                }
            }
            MapType::ProgArray => {
                if key_size != 4 || value_size != 4 {
                    return inval("program arrays need key_size 4 and value_size 4");
                }
                Store::ProgArray {
                    progs: vec![None; max_entries as usize],
                }
            }
            // ringbuf_map_alloc and user_ringbuf_map_alloc share these checks.
            MapType::Ringbuf | MapType::UserRingbuf => {
                if key_size != 0 || value_size != 0 {
                    return inval("ring buffers need key_size 0 and value_size 0");
                }
                if !max_entries.is_power_of_two() || max_entries % 4096 != 0 {
                    return inval(
                        "ring buffer size must be a power of 2 and a multiple of the page size",
                    );
                }
                if map_type == MapType::UserRingbuf {
                    Store::UserRing(user_ringbuf::UserRing::default())
                } else {
                    Store::RingBuf {
                        used: 0,
                        records: Vec::new(),
                    }
                }
            }
            MapType::Queue | MapType::Stack => {
                if key_size != 0 || value_size == 0 {
                    return inval("queue and stack maps need key_size 0 and a non-zero value_size");
                }
                Store::Queue {
                    items: VecDeque::new(),
                }
            }
            MapType::LpmTrie => Store::Lpm(lpm_trie::Trie::new(&spec)?),
            MapType::BloomFilter => Store::Bloom(bloom::Bloom::new(&spec)?),
            MapType::PerfEventArray => Store::Perf(perf_event::PerfArray::new(&spec)?),
            MapType::Devmap | MapType::DevmapHash | MapType::Cpumap | MapType::Xskmap => {
                Store::Redirect(redirect::Targets::new(&spec, ncpus)?)
            }
            MapType::Sockmap | MapType::Sockhash => Store::Sock(sockmap::Socks::new(&spec)?),
            MapType::StackTrace => Store::StackTrace(stack_trace::Traces::new(&spec)?),
            t if storage::is_storage(t) => Store::Storage(storage::Storage::new(&spec)?),
            // Checked above.
            other => return Err(MapError::Unsupported(other)),
        };
        let possible_cpus = ncpus.max(1);
        let ncpus = if percpu(map_type) { ncpus.max(1) } else { 1 };
        let bytes = match &store {
            Store::RingBuf { .. } => max_entries as usize,
            Store::ProgArray { .. }
            | Store::Queue { .. }
            | Store::Bloom(_)
            | Store::Perf(_)
            | Store::Sock(_)
            | Store::UserRing(_)
            // Local storage grows with its owners.
            | Store::Storage(_) => 0,
            Store::Redirect(t) => t.bytes(),
            Store::StackTrace(t) => t.bytes(),
            _ => stride * ncpus * max_entries as usize,
        };
        Ok(Map {
            spec,
            ncpus,
            possible_cpus,
            stride,
            values: vec![0; bytes],
            store,
        })
    }

    /// How it was created.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// Whether programs may (read, write) the values in place: not `BPF_F_WRONLY_PROG` /
    /// `BPF_F_RDONLY_PROG` (`check_map_access_type`); devmap values are read-only as
    /// `dev_map_init_map` makes them, and an xskmap's `struct bpf_xdp_sock` is read-only.
    pub(crate) fn prog_access(&self) -> (bool, bool) {
        let f = self.spec.flags;
        let read_only = f & flags::RDONLY_PROG != 0
            || matches!(
                self.spec.map_type,
                MapType::Devmap | MapType::DevmapHash | MapType::Xskmap
            );
        (f & flags::WRONLY_PROG == 0, !read_only)
    }

    /// Number of elements present (array maps: `max_entries`).
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Array => self.spec.max_entries as usize,
            Store::Hash { index, .. } => index.len(),
            Store::ProgArray { progs } => progs.iter().flatten().count(),
            Store::RingBuf { records, .. } => records
                .iter()
                .filter(|r| r.state == RecState::Committed)
                .count(),
            Store::Queue { items } => items.len(),
            Store::UserRing(ring) => ring.len(),
            Store::Lpm(t) => t.len(),
            Store::Bloom(_) => 0,
            Store::Perf(p) => p.len(),
            Store::Redirect(t) => t.len(),
            Store::Sock(s) => s.len(),
            Store::Storage(s) => s.len(),
            Store::StackTrace(t) => t.len(),
            Store::Inert(_) => 0,
        }
    }

    /// Whether [`Map::len`] is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if let Store::Inert(why) = &self.store {
            return Err(why
                .clone()
                .unwrap_or(MapError::Unsupported(self.spec.map_type)));
        }
        if key.len() != self.spec.key_size as usize {
            return inval(format!(
                "key is {} bytes, the map's key_size is {}",
                key.len(),
                self.spec.key_size
            ));
        }
        Ok(())
    }

    fn array_index(&self, key: &[u8]) -> Result<usize, MapError> {
        self.check_key(key)?;
        let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
        Ok(i)
    }

    /// Byte offset of element `slot` for `cpu` in the value storage.
    fn value_off(&self, slot: usize, cpu: usize) -> usize {
        (slot * self.ncpus + cpu) * self.stride
    }

    /// Offset of the value for `key` as a program sees it (this CPU's copy), for
    /// `bpf_map_lookup_elem`.
    pub(crate) fn lookup_off(&mut self, key: &[u8], cpu: usize) -> Result<Option<usize>, MapError> {
        self.check_key(key)?;
        let cpu = cpu.min(self.ncpus - 1);
        let slot = match &self.store {
            Store::Lpm(t) => t.lookup(key),
            Store::Redirect(t) => t.find(key),
            Store::Array | Store::Hash { .. } => self.find_slot(key, true)?,
            Store::Sock(_) => {
                return Err(MapError::NotSupported(
                    "a program's sockmap/sockhash lookup answers a socket (struct bpf_sock), which the VM does not model".into(),
                ))
            }
            _ => return inval(format!("{} maps have no lookup", self.spec.map_type.name())),
        };
        Ok(slot.map(|s| self.value_off(s, cpu)))
    }

    /// Offset of `key`'s value for `cpu`, leaving LRU order alone (for helpers that walk a
    /// map: `bpf_for_each_map_elem` does not count as a use).
    pub(crate) fn peek_off(&mut self, key: &[u8], cpu: usize) -> Option<usize> {
        let cpu = cpu.min(self.ncpus - 1);
        let slot = self.find_slot(key, false).ok().flatten()?;
        Some(self.value_off(slot, cpu))
    }

    /// The value of `key`; for per-CPU maps every CPU's value, each padded to 8 bytes, as
    /// `BPF_MAP_LOOKUP_ELEM` returns them.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        self.check_key(key)?;
        let slot = match &self.store {
            Store::Array => {
                let i = self.array_index(key)?;
                (i < self.spec.max_entries as usize).then_some(i)
            }
            Store::Hash { index, .. } => index.get(key).map(|&s| s as usize),
            Store::ProgArray { progs } => {
                let i = self.array_index(key)?;
                return Ok(progs
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|p| p.to_le_bytes().to_vec()));
            }
            Store::Lpm(t) => t.lookup(key),
            Store::Queue { .. } => return self.queue_lookup(),
            Store::Redirect(_) => return self.redirect_lookup(key),
            Store::Sock(s) => return s.lookup(key),
            Store::Storage(_) => return self.storage_lookup(key),
            Store::StackTrace(_) => return self.stack_lookup(key),
            // bpf_fd_array_map_lookup_elem: no map_fd_sys_lookup_elem.
            Store::Perf(_) => {
                return Err(MapError::KernelNotSupported(
                    "perf event arrays cannot be read from user space".into(),
                ))
            }
            Store::Bloom(_) => {
                return inval(
                    "a bloom filter lookup takes the value to test: use Map::bloom_contains",
                )
            }
            Store::RingBuf { .. } | Store::UserRing(_) | Store::Inert(_) => {
                return inval(format!("{} maps have no lookup", self.spec.map_type.name()))
            }
        };
        if of_maps::is_of_maps(self.spec.map_type) {
            return Ok(slot.and_then(|s| self.inner_index_at(s).map(|i| i.to_le_bytes().to_vec())));
        }
        Ok(slot.map(|s| self.element_bytes(s)))
    }

    fn element_bytes(&self, slot: usize) -> Vec<u8> {
        let vs = self.spec.value_size as usize;
        if self.ncpus == 1 && !percpu(self.spec.map_type) {
            let o = self.value_off(slot, 0);
            self.values[o..o + vs].to_vec()
        } else {
            let o = self.value_off(slot, 0);
            self.values[o..o + self.stride * self.ncpus].to_vec()
        }
    }

    /// The value of `key` on one CPU (per-CPU maps) or the value (others).
    pub fn lookup_cpu(&self, key: &[u8], cpu: usize) -> Result<Option<Vec<u8>>, MapError> {
        let all = self.lookup(key)?;
        if !percpu(self.spec.map_type) {
            return Ok(all);
        }
        if cpu >= self.ncpus {
            return inval(format!(
                "cpu {cpu} out of range (the VM simulates {} CPUs)",
                self.ncpus
            ));
        }
        let vs = self.spec.value_size as usize;
        Ok(all.map(|v| v[cpu * self.stride..cpu * self.stride + vs].to_vec()))
    }

    /// `BPF_MAP_UPDATE_ELEM` from user space: per-CPU maps take every CPU's value (each
    /// padded to 8 bytes) or one value that is copied to every CPU.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.check_key(key)?;
        match &self.store {
            Store::Queue { .. } | Store::Bloom(_) => return self.push(value, flags),
            Store::Lpm(_) => return self.lpm_update(key, value, flags),
            Store::Redirect(_) => return self.redirect_update(key, value, flags),
            Store::Sock(_) => return self.sock_update(key, value, flags),
            Store::Perf(_) => return self.perf_update(key, value, flags),
            Store::Storage(_) => return self.storage_update(key, value, flags),
            // stack_map_update_elem
            Store::StackTrace(_) => return inval("stack trace maps cannot be updated"),
            _ if of_maps::is_of_maps(self.spec.map_type) => {
                return inval(
                    "maps of maps hold other maps: use Vm::set_inner_map (the kernel checks the inner map against the template)",
                )
            }
            _ => {}
        }
        if let Store::ProgArray { .. } = self.store {
            // bpf_fd_array_map_update_elem
            if flags != BPF_ANY {
                return inval(format!("program arrays take only BPF_ANY, not {flags:#x}"));
            }
            let prog = u32::from_le_bytes(
                value
                    .try_into()
                    .map_err(|_| MapError::Invalid("value must be 4 bytes".into()))?,
            );
            return self.set_prog(
                u32::from_le_bytes(key.try_into().unwrap_or_default()),
                Some(prog),
            );
        }
        let vs = self.spec.value_size as usize;
        let percpu = percpu(self.spec.map_type);
        let all = percpu && value.len() == self.stride * self.ncpus;
        if value.len() != vs && !all {
            return inval(format!(
                "value is {} bytes, the map's value_size is {vs}",
                value.len()
            ));
        }
        let (slot, _) = self.slot_for_update(key, flags)?;
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

    /// `bpf_map_update_elem` from a program: on a per-CPU map only this CPU's copy is written,
    /// and a new element's other copies are zeroed (`pcpu_init_value`).
    pub(crate) fn update_from_prog(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        cpu: usize,
    ) -> Result<(), MapError> {
        self.check_key(key)?;
        match &self.store {
            Store::Lpm(_) => {
                return self.lpm_update(key, &value[..self.spec.value_size as usize], flags)
            }
            Store::Array | Store::Hash { .. } if !of_maps::is_of_maps(self.spec.map_type) => {}
            Store::Sock(_) => {
                return Err(MapError::NotSupported(
                    "a program's sockmap/sockhash update takes a socket (struct bpf_sock), which the VM does not model".into(),
                ))
            }
            _ => {
                return inval(format!(
                    "{} maps cannot be updated from a program",
                    self.spec.map_type.name()
                ))
            }
        }
        let (slot, new) = self.slot_for_update(key, flags)?;
        let vs = self.spec.value_size as usize;
        let cpu = cpu.min(self.ncpus - 1);
        for c in 0..self.ncpus {
            let o = self.value_off(slot, c);
            if c == cpu {
                self.values[o..o + vs].copy_from_slice(&value[..vs]);
            } else if new {
                self.values[o..o + self.stride].fill(0);
            }
        }
        Ok(())
    }

    /// `BPF_MAP_DELETE_ELEM`. Arrays answer `EINVAL` as in the kernel.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.check_key(key)?;
        if self.spec.map_type == MapType::ArrayOfMaps {
            return self.array_of_maps_delete(key);
        }
        match &mut self.store {
            Store::Array => inval("elements of an array map cannot be deleted"),
            Store::ProgArray { progs } => {
                // fd_array_map_delete_elem
                let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
                match progs.get_mut(i) {
                    Some(p @ Some(_)) => {
                        *p = None;
                        Ok(())
                    }
                    Some(None) => Err(MapError::NotFound),
                    None => Err(MapError::Full),
                }
            }
            Store::Lpm(t) => {
                let s = t.delete(key)?;
                let o = s * self.stride;
                self.values[o..o + self.stride].fill(0);
                Ok(())
            }
            Store::Redirect(_) => self.redirect_delete(key),
            Store::Sock(s) => s.delete(key),
            Store::Storage(_) => self.storage_delete(key),
            Store::StackTrace(_) => self.stack_delete(key),
            Store::Perf(p) => p.delete(key),
            // queue_stack_map_delete_elem
            Store::Queue { .. } => inval("queue and stack maps have no delete (pop instead)"),
            Store::Bloom(_) => Err(MapError::NotSupported("bloom filters cannot delete".into())),
            Store::Hash {
                index, slots, free, ..
            } => {
                let s = index.remove(key).ok_or(MapError::NotFound)?;
                slots[s as usize] = None;
                free.push(s);
                let o = (s as usize * self.ncpus) * self.stride;
                self.values[o..o + self.ncpus * self.stride].fill(0);
                Ok(())
            }
            _ => inval("this map type has no delete"),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` in the map's order (the first key when
    /// `key` is `None` or, for most types, not in the map); [`MapError::NotFound`] after the
    /// last. Arrays, devmaps, cpumaps, xskmaps, sockmaps and perf event arrays walk indexes
    /// (`array_map_get_next_key`); hash maps walk their slots (the kernel's bucket order
    /// depends on a random seed).
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        if let Some(k) = key {
            self.check_key(k)?;
        } else {
            self.check_key(&vec![0; self.spec.key_size as usize])?;
        }
        let max = self.spec.max_entries;
        let array_next = || {
            // array_map_get_next_key
            let i = key.map_or(u32::MAX, |k| u32::from_le_bytes([k[0], k[1], k[2], k[3]]));
            if i >= max {
                return Ok(0u32.to_le_bytes().to_vec());
            }
            if i == max - 1 {
                return Err(MapError::NotFound);
            }
            Ok((i + 1).to_le_bytes().to_vec())
        };
        match &self.store {
            Store::Array | Store::ProgArray { .. } | Store::Perf(_) => array_next(),
            Store::Redirect(t) if !t.is_hash() => array_next(),
            Store::Sock(s) if !s.is_hash() => array_next(),
            Store::Lpm(t) => t.next_key(key),
            Store::StackTrace(t) => t.next_key(key),
            // notsupp_get_next_key
            Store::Storage(_) if !storage::is_cgroup_storage(self.spec.map_type) => Err(
                MapError::KernelNotSupported("local storage maps have no get_next_key".into()),
            ),
            // cgroup_storage_get_next_key: an unknown key is the end.
            Store::Storage(s) => {
                let keys = s.keys();
                match key {
                    None => keys.first().cloned().ok_or(MapError::NotFound),
                    Some(k) => {
                        let p = keys
                            .iter()
                            .position(|x| x[..] == k[..])
                            .ok_or(MapError::NotFound)?;
                        keys.get(p + 1).cloned().ok_or(MapError::NotFound)
                    }
                }
            }
            Store::Queue { .. } => inval("queue and stack maps have no keys"),
            Store::Bloom(_) => Err(MapError::NotSupported("bloom filters have no keys".into())),
            Store::RingBuf { .. } | Store::UserRing(_) | Store::Inert(_) => {
                inval(format!("{} maps have no keys", self.spec.map_type.name()))
            }
            // htab_map_get_next_key and the like: the next present key, else the first.
            _ => {
                let keys = self.keys();
                let pos = key.and_then(|k| keys.iter().position(|x| x[..] == k[..]));
                let next = match pos {
                    Some(p) => keys.get(p + 1),
                    None => keys.first(),
                };
                next.cloned().ok_or(MapError::NotFound)
            }
        }
    }

    /// Empties the map: what a fresh map of the same spec holds (arrays: zeros).
    pub fn clear(&mut self) {
        if let Ok(fresh) = Map::new(self.spec.clone(), self.possible_cpus) {
            *self = fresh;
        }
    }

    /// Keys present, in slot order (arrays: every index).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        match &self.store {
            Store::Lpm(t) => t.keys(),
            Store::Redirect(t) => t.keys(),
            Store::Sock(s) => s.keys(),
            Store::Storage(s) => s.keys(),
            Store::StackTrace(t) => t.keys(),
            Store::Perf(p) => p.keys(),
            Store::Array => (0..self.spec.max_entries)
                .map(|i| i.to_le_bytes().to_vec())
                .collect(),
            Store::Hash { slots, .. } => slots.iter().flatten().map(|s| s.key.to_vec()).collect(),
            Store::ProgArray { progs } => progs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.is_some())
                .map(|(i, _)| (i as u32).to_le_bytes().to_vec())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Puts program `prog` (a [`crate::ProgId`]'s number, from [`crate::Vm::load`]) at
    /// `index` of a program
    /// array, or clears it.
    pub fn set_prog(&mut self, index: u32, prog: Option<u32>) -> Result<(), MapError> {
        let Store::ProgArray { progs } = &mut self.store else {
            return inval("not a program array");
        };
        let slot = progs.get_mut(index as usize).ok_or(MapError::Full)?;
        *slot = prog;
        Ok(())
    }

    pub(crate) fn prog_at(&self, index: u64) -> Option<u32> {
        match &self.store {
            Store::ProgArray { progs } => {
                progs.get(usize::try_from(index).ok()?).copied().flatten()
            }
            _ => None,
        }
    }
}
