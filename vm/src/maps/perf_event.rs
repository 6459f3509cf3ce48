//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (`kernel/bpf/arraymap.c`, `perf_event_fd_array_*`; output
//! in `kernel/trace/bpf_trace.c`, `__bpf_perf_event_output`): one perf event per index,
//! which `bpf_perf_event_output` writes samples to.
//!
//! In the kernel user space stores perf event fds; in the VM the value stored at an index is
//! the CPU the event is open on (what the output checks), or [`ANY_CPU`] for an event that
//! counts wherever the program runs. Samples are kept as [`PerfRecord`]s for the test to read
//! ([`Map::perf_records`], and with ring buffer records in [`Map::records`]).

use super::{flags, inval, Map, MapError, MapSpec, Store, BPF_ANY};

/// A value meaning "the event is active on every CPU" (a task-bound event).
pub const ANY_CPU: u32 = u32::MAX;
/// `BPF_F_INDEX_MASK`.
pub const INDEX_MASK: u64 = 0xffff_ffff;
/// `BPF_F_CURRENT_CPU`: the index is the current CPU.
pub const CURRENT_CPU: u64 = INDEX_MASK;

/// One sample a program wrote with `bpf_perf_event_output` (or `skb_output`/`xdp_output`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerfRecord {
    /// The array index (the event) it went to.
    pub index: u32,
    /// The CPU the program ran on.
    pub cpu: u32,
    /// The raw sample as a reader gets it: the data, the packet bytes the flags asked for,
    /// and zeros up to the kernel's 8-byte alignment (with the u32 size before it).
    pub data: Vec<u8>,
}

#[derive(Clone, Debug)]
pub(super) struct PerfArray {
    /// By index: the CPU the event is open on.
    events: Vec<Option<u32>>,
    records: Vec<PerfRecord>,
}

impl PerfArray {
    /// `fd_array_map_alloc_check` (key and value of 4 bytes; `BPF_F_PRESERVE_ELEMS` is
    /// allowed here only).
    pub(super) fn new(spec: &MapSpec) -> Result<PerfArray, MapError> {
        if spec.key_size != 4 || spec.value_size != 4 {
            return inval("perf event arrays need key_size 4 and value_size 4");
        }
        flags::check_mask(
            spec,
            flags::NUMA_NODE | flags::RDONLY | flags::WRONLY | flags::PRESERVE_ELEMS,
        )?;
        Ok(PerfArray {
            events: vec![None; spec.max_entries as usize],
            records: Vec::new(),
        })
    }

    fn index(key: &[u8]) -> usize {
        u32::from_le_bytes([key[0], key[1], key[2], key[3]]) as usize
    }

    /// `fd_array_map_delete_elem`.
    pub(super) fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        match self.events.get_mut(PerfArray::index(key)) {
            None => Err(MapError::Full),
            Some(None) => Err(MapError::NotFound),
            Some(e) => {
                *e = None;
                Ok(())
            }
        }
    }

    pub(super) fn keys(&self) -> Vec<Vec<u8>> {
        (0..self.events.len() as u32)
            .filter(|&i| self.events[i as usize].is_some())
            .map(|i| i.to_le_bytes().to_vec())
            .collect()
    }

    pub(super) fn len(&self) -> usize {
        self.events.iter().flatten().count()
    }
}

impl Map {
    /// `bpf_fd_array_map_update_elem`: only `BPF_ANY`; the value is the event's CPU.
    pub(super) fn perf_update(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        let cpus = self.possible_cpus;
        let Store::Perf(p) = &mut self.store else {
            return inval("not a perf event array");
        };
        if flags != BPF_ANY {
            return inval(format!(
                "perf event arrays take only BPF_ANY, not {flags:#x}"
            ));
        }
        let cpu =
            u32::from_le_bytes(value.try_into().map_err(|_| {
                MapError::Invalid("value must be 4 bytes (the event's CPU)".into())
            })?);
        if cpu != ANY_CPU && cpu as usize >= cpus {
            return inval(format!(
                "a perf event on CPU {cpu}: the VM simulates {cpus} CPUs"
            ));
        }
        let slot = p
            .events
            .get_mut(PerfArray::index(key))
            .ok_or(MapError::Full)?;
        *slot = Some(cpu);
        Ok(())
    }

    /// `__bpf_perf_event_output`: the sample goes to the event at `flags`' index (or the
    /// current CPU's with `BPF_F_CURRENT_CPU`): `E2BIG` past the array, `ENOENT` without an
    /// event, `EOPNOTSUPP` when the event is not active on this CPU.
    pub(crate) fn perf_output(
        &mut self,
        flags: u64,
        cpu: u32,
        data: Vec<u8>,
    ) -> Result<(), MapError> {
        let Store::Perf(p) = &mut self.store else {
            return inval("not a perf event array");
        };
        let mut index = flags & INDEX_MASK;
        if index == CURRENT_CPU {
            index = cpu as u64;
        }
        let event = *p.events.get(index as usize).ok_or(MapError::Full)?;
        match event {
            None => Err(MapError::NotFound),
            Some(c) if c != ANY_CPU && c != cpu => Err(MapError::NotSupported(format!(
                "the perf event at index {index} is open on CPU {c}, the program runs on CPU {cpu}"
            ))),
            Some(_) => {
                // perf_prepare_sample: the raw sample, after its u32 size, is padded with
                // zeros to a multiple of 8 bytes; a reader (libbpf's perf_buffer) gets the
                // padding with the data.
                let mut data = data;
                data.resize((data.len() + 4).div_ceil(8) * 8 - 4, 0);
                p.records.push(PerfRecord {
                    index: index as u32,
                    cpu,
                    data,
                });
                Ok(())
            }
        }
    }

    /// The samples written to a perf event array so far, oldest first.
    pub fn perf_records(&self) -> &[PerfRecord] {
        match &self.store {
            Store::Perf(p) => &p.records,
            _ => &[],
        }
    }

    /// Takes the samples of a perf event array (a reader consumed them).
    pub fn take_perf_records(&mut self) -> Vec<PerfRecord> {
        match &mut self.store {
            Store::Perf(p) => std::mem::take(&mut p.records),
            _ => Vec::new(),
        }
    }
}
