//! BPF maps with the kernel's behaviour (`kernel/bpf/arraymap.c`, `hashtab.c`, `ringbuf.c`,
//! `queue_stack_maps.c`): the same creation checks, update flags and errnos.
//!
//! Each map's values live in one byte vector, which is a region of the VM's address space
//! ([`crate::Region::MapValue`]): `map_lookup_elem` returns a pointer into it, so a program
//! writes a value in place as it would in the kernel.

use std::collections::{HashMap, VecDeque};
use std::fmt;

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
pub const SUPPORTED_MAP_TYPES: [MapType; 10] = [
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
];

/// Whether values are kept per CPU.
const fn percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash
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
    /// A map of a type the VM does not implement, kept in its place so that an object's
    /// map indexes stay valid: every operation on it fails, and programs that refer to it
    /// do not load ([`crate::LoadError::UnsupportedMap`]).
    Inert,
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
    ncpus: usize,
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
    pub fn inert(spec: MapSpec, ncpus: usize) -> Result<Map, MapError> {
        if SUPPORTED_MAP_TYPES.contains(&spec.map_type) {
            return Map::new(spec, ncpus);
        }
        Ok(Map {
            spec,
            ncpus: 1,
            stride: 0,
            values: Vec::new(),
            store: Store::Inert,
        })
    }

    /// Whether this is a placeholder for a map type the VM does not implement
    /// ([`Map::inert`]).
    pub fn is_inert(&self) -> bool {
        matches!(self.store, Store::Inert)
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
        if max_entries == 0 && map_type != MapType::Ringbuf {
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
            MapType::Ringbuf => 1,
            MapType::ProgArray => 8,
            MapType::Queue | MapType::Stack => value_size as u128 + 24,
            MapType::Array | MapType::PercpuArray => stride as u128 * cpus,
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
            MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash => {
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
            MapType::Ringbuf => {
                if key_size != 0 || value_size != 0 {
                    return inval("ring buffers need key_size 0 and value_size 0");
                }
                if !max_entries.is_power_of_two() || max_entries % 4096 != 0 {
                    return inval(
                        "ring buffer size must be a power of 2 and a multiple of the page size",
                    );
                }
                Store::RingBuf {
                    used: 0,
                    records: Vec::new(),
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
            // Checked above.
            other => return Err(MapError::Unsupported(other)),
        };
        let ncpus = if percpu(map_type) { ncpus.max(1) } else { 1 };
        let bytes = match map_type {
            MapType::Ringbuf => max_entries as usize,
            MapType::ProgArray | MapType::Queue | MapType::Stack => 0,
            _ => stride * ncpus * max_entries as usize,
        };
        Ok(Map {
            spec,
            ncpus,
            stride,
            values: vec![0; bytes],
            store,
        })
    }

    /// How it was created.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
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
            Store::Inert => 0,
        }
    }

    /// Whether [`Map::len`] is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if self.is_inert() {
            return Err(MapError::Unsupported(self.spec.map_type));
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

    fn find_slot(&mut self, key: &[u8], touch: bool) -> Result<Option<usize>, MapError> {
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

    /// Offset of the value for `key` as a program sees it (this CPU's copy), for
    /// `bpf_map_lookup_elem`.
    pub(crate) fn lookup_off(&mut self, key: &[u8], cpu: usize) -> Result<Option<usize>, MapError> {
        self.check_key(key)?;
        let cpu = cpu.min(self.ncpus - 1);
        Ok(self.find_slot(key, true)?.map(|s| self.value_off(s, cpu)))
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
            _ => return inval("this map type has no lookup"),
        };
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

    fn check_flags(flags: u64) -> Result<(), MapError> {
        if flags & !BPF_F_LOCK > BPF_EXIST {
            return inval(format!("unknown update flags {flags:#x}"));
        }
        Ok(())
    }

    /// Finds or allocates the slot for an update, applying `BPF_NOEXIST`/`BPF_EXIST`.
    fn slot_for_update(&mut self, key: &[u8], flags: u64) -> Result<(usize, bool), MapError> {
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

    /// `BPF_MAP_UPDATE_ELEM` from user space: per-CPU maps take every CPU's value (each
    /// padded to 8 bytes) or one value that is copied to every CPU.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.check_key(key)?;
        if let Store::ProgArray { .. } = self.store {
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
        if let Store::ProgArray { .. } = self.store {
            return inval("program arrays cannot be updated from a program");
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
        match &mut self.store {
            Store::Array => inval("elements of an array map cannot be deleted"),
            Store::ProgArray { progs } => {
                let i = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize;
                match progs.get_mut(i) {
                    Some(p @ Some(_)) => {
                        *p = None;
                        Ok(())
                    }
                    _ => Err(MapError::NotFound),
                }
            }
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

    /// Keys present, in slot order (arrays: every index).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        match &self.store {
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

    // ---- ring buffer ----------------------------------------------------------------------

    /// Reserves `len` bytes; returns the payload's offset in the data area.
    pub(crate) fn ringbuf_reserve(&mut self, len: usize) -> Result<usize, MapError> {
        let cap = self.values.len();
        let Store::RingBuf { used, records } = &mut self.store else {
            return inval("not a ring buffer");
        };
        let need = len
            .div_ceil(8)
            .saturating_mul(8)
            .saturating_add(RINGBUF_HDR);
        if need > cap - *used {
            return Err(MapError::NoSpace);
        }
        let off = *used + RINGBUF_HDR;
        // The header is the record length with the busy bit, as the kernel writes it.
        let hdr = (len as u32) | (1 << 31);
        self.values[*used..*used + 4].copy_from_slice(&hdr.to_le_bytes());
        *used += need;
        records.push(Record {
            off,
            len,
            state: RecState::Busy,
        });
        Ok(off)
    }

    /// Commits (`submit`) or drops (`discard`) the record whose payload is at `off`.
    pub(crate) fn ringbuf_finish(&mut self, off: usize, commit: bool) -> Result<(), String> {
        let Store::RingBuf { records, .. } = &mut self.store else {
            return Err("not a ring buffer".into());
        };
        let rec = records
            .iter_mut()
            .find(|r| r.off == off && r.state == RecState::Busy)
            .ok_or_else(|| format!("no reserved ring buffer record at offset {off}"))?;
        rec.state = if commit {
            RecState::Committed
        } else {
            RecState::Discarded
        };
        let hdr = (rec.len as u32) | if commit { 0 } else { 1 << 30 };
        self.values[off - RINGBUF_HDR..off - RINGBUF_HDR + 4].copy_from_slice(&hdr.to_le_bytes());
        Ok(())
    }

    /// Committed ring buffer records not yet consumed, oldest first.
    pub fn records(&self) -> Vec<Vec<u8>> {
        match &self.store {
            Store::RingBuf { records, .. } => records
                .iter()
                .filter(|r| r.state == RecState::Committed)
                .map(|r| self.values[r.off..r.off + r.len].to_vec())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Consumes the ring buffer: returns the committed records and frees the space of every
    /// finished record (a busy record and everything after it stay, as for a real consumer).
    pub fn take_records(&mut self) -> Vec<Vec<u8>> {
        let out = self.records();
        if let Store::RingBuf { used, records } = &mut self.store {
            if records.iter().all(|r| r.state != RecState::Busy) {
                records.clear();
                *used = 0;
            } else {
                records.retain(|r| r.state == RecState::Busy);
            }
        }
        out
    }

    // ---- queue / stack --------------------------------------------------------------------

    /// `bpf_map_push_elem`: with `BPF_EXIST` a full map drops its oldest element.
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
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
}
