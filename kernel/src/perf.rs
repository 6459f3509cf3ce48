//! `bpf_perf_event_output` records read back from a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one
//! software event `PERF_COUNT_SW_BPF_OUTPUT` per CPU (`perf_event_open`, sampling every
//! output, `PERF_SAMPLE_RAW`), its fd stored in the map at the CPU's index as libbpf's
//! `perf_buffer__new` does, and its ring (`struct perf_event_mmap_page` and the data pages)
//! read through mmap. A sample's raw data is the program's bytes padded by the kernel so
//! that the u32 size and the data end on 8 bytes (`perf_prepare_sample`); it is given back
//! as the kernel stores it.

use crate::error::Error;
use crate::map::{Map, UpdateFlags};
use crate::map_rules::page_size;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// The first fields of `struct perf_event_attr` (`PERF_ATTR_SIZE_VER0`, 64 bytes): the
/// kernel takes a shorter struct as zero-extended.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
const PERF_RECORD_LOST: u32 = 2;
const PERF_RECORD_SAMPLE: u32 = 9;
/// `offsetof(struct perf_event_mmap_page, data_head)`; `data_tail` follows it.
const DATA_HEAD: usize = 1024;
/// Data pages per CPU (a power of 2, as the kernel requires).
const DATA_PAGES: usize = 8;

/// One CPU's event and its mapped ring.
#[derive(Debug)]
struct CpuRing {
    _fd: OwnedFd,
    base: *mut u8,
    len: usize,
}

/// The perf events of a perf event array, one per CPU.
#[derive(Debug)]
pub struct PerfBuffers {
    rings: Vec<CpuRing>,
    page: usize,
    lost: u64,
}

fn os_err(what: &str) -> Error {
    Error::Input(format!("{what}: {}", std::io::Error::last_os_error()))
}

impl PerfBuffers {
    /// Opens an event on each possible CPU below the map's `max_entries` and stores its fd
    /// in the map.
    pub fn new(map: &Map) -> Result<PerfBuffers, Error> {
        let page = page_size() as usize;
        let len = page * (1 + DATA_PAGES);
        let mut rings = Vec::new();
        let ncpus = crate::cpu::possible().min(map.spec().max_entries as usize);
        for cpu in 0..ncpus {
            let attr = PerfEventAttr {
                kind: PERF_TYPE_SOFTWARE,
                size: std::mem::size_of::<PerfEventAttr>() as u32,
                config: PERF_COUNT_SW_BPF_OUTPUT,
                sample_period: 1,
                sample_type: PERF_SAMPLE_RAW,
                wakeup_events: 1,
                ..Default::default()
            };
            // SAFETY: `attr` is a valid perf_event_attr prefix of `size` bytes, only read.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_perf_event_open,
                    &attr as *const PerfEventAttr,
                    -1 as libc::pid_t,
                    cpu as libc::c_int,
                    -1 as libc::c_int,
                    PERF_FLAG_FD_CLOEXEC,
                )
            };
            if fd < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENODEV) {
                    // An offline CPU: nothing runs there.
                    continue;
                }
                return Err(os_err(&format!(
                    "perf_event_open(PERF_COUNT_SW_BPF_OUTPUT) on CPU {cpu}"
                )));
            }
            // SAFETY: the kernel just returned this new descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            // SAFETY: a fresh shared read-write mapping of the event's ring; read-write so
            // the kernel sees `data_tail` move (it then never overwrites unread data).
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd.as_raw_fd(),
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(os_err(&format!("mmap of the perf ring of CPU {cpu}")));
            }
            let ring = CpuRing {
                _fd: fd,
                base: base.cast(),
                len,
            };
            map.update(
                &(cpu as u32).to_le_bytes(),
                &(ring._fd.as_raw_fd() as u32).to_le_bytes(),
                UpdateFlags::Any,
            )?;
            rings.push(ring);
        }
        Ok(PerfBuffers {
            rings,
            page,
            lost: 0,
        })
    }

    /// Samples lost because a ring was full, so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Every sample's raw data since the last call, CPU by CPU, oldest first.
    pub fn take(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let size = (self.page * DATA_PAGES) as u64;
        for ring in &self.rings {
            // SAFETY: data_head and data_tail are 8-byte aligned u64s inside the mapped
            // first page; the kernel moves the head concurrently, hence the atomics.
            let (head, tail) = unsafe {
                (
                    &*(ring.base.add(DATA_HEAD) as *const AtomicU64),
                    &*(ring.base.add(DATA_HEAD + 8) as *const AtomicU64),
                )
            };
            let end = head.load(Ordering::Acquire);
            let mut at = tail.load(Ordering::Relaxed);
            // Bytes of the data area, copied out of the ring (records may wrap around).
            let byte = |pos: u64| -> u8 {
                // SAFETY: the data pages start one page in and are `size` bytes long.
                unsafe { *ring.base.add(self.page + (pos % size) as usize) }
            };
            let read =
                |pos: u64, n: usize| -> Vec<u8> { (0..n as u64).map(|i| byte(pos + i)).collect() };
            while at < end {
                let hdr = read(at, 8);
                let kind = u32::from_le_bytes(hdr[0..4].try_into().expect("4 bytes"));
                let rec_size = u16::from_le_bytes([hdr[6], hdr[7]]) as u64;
                if rec_size < 8 {
                    break;
                }
                match kind {
                    PERF_RECORD_SAMPLE => {
                        let n = u32::from_le_bytes(read(at + 8, 4).try_into().expect("4 bytes"));
                        let n = (n as u64).min(rec_size.saturating_sub(12)) as usize;
                        out.push(read(at + 12, n));
                    }
                    PERF_RECORD_LOST => {
                        let lost = read(at + 16, 8);
                        self.lost += u64::from_le_bytes(lost.try_into().expect("8 bytes"));
                    }
                    _ => {}
                }
                at += rec_size;
            }
            tail.store(at, Ordering::Release);
        }
        out
    }
}

impl Drop for CpuRing {
    fn drop(&mut self) {
        // SAFETY: mapped in `PerfBuffers::new` with this length; nothing refers to it after.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}
