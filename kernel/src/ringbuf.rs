//! Reading a `BPF_MAP_TYPE_RINGBUF` from user space through mmap, as `kernel/bpf/ringbuf.c`
//! lays it out (`ringbuf_map_mmap_kern`): page 0 is the consumer page (read-write, the
//! consumer position at offset 0), page 1 the producer page (read-only, the producer
//! position at offset 0), then the data pages, mapped twice in a row so a record that wraps
//! around the end is contiguous. Each record starts with an 8-byte header (`struct
//! bpf_ringbuf_hdr`): its length with `BPF_RINGBUF_BUSY_BIT` (not committed yet) and
//! `BPF_RINGBUF_DISCARD_BIT` (discarded) in the top bits, and a page offset; records are
//! 8-byte aligned.

use crate::error::Error;
use crate::map::Map;
use crate::map_rules::page_size;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `BPF_RINGBUF_BUSY_BIT`: the record is reserved but not committed yet.
pub const BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`: the record was discarded.
pub const DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`.
pub const HDR_SIZE: u64 = 8;

/// A ring buffer map mapped into this process.
#[derive(Debug)]
pub struct RingBuf {
    consumer: *mut u8,
    /// Producer page and twice the data.
    producer: *mut u8,
    page: usize,
    size: usize,
}

fn mmap_err(what: &str) -> Error {
    Error::Input(format!(
        "mmap of the ring buffer's {what}: {}",
        std::io::Error::last_os_error()
    ))
}

impl RingBuf {
    /// Maps the ring buffer `map` (its size is `max_entries`).
    pub fn new(map: &Map) -> Result<RingBuf, Error> {
        let page = page_size() as usize;
        let size = map.spec().max_entries as usize;
        let fd = map.as_fd_raw();
        // SAFETY: a fresh shared mapping of one page of the map's fd at offset 0 (the
        // consumer page, which the kernel allows read-write); no existing memory is touched.
        let consumer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if consumer == libc::MAP_FAILED {
            return Err(mmap_err("consumer page"));
        }
        // SAFETY: as above; the producer page and the doubly mapped data are read-only.
        let producer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page + 2 * size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                page as libc::off_t,
            )
        };
        if producer == libc::MAP_FAILED {
            let e = mmap_err("producer page and data");
            // SAFETY: `consumer` was mapped above with this length and is not used again.
            unsafe { libc::munmap(consumer, page) };
            return Err(e);
        }
        Ok(RingBuf {
            consumer: consumer.cast(),
            producer: producer.cast(),
            page,
            size,
        })
    }

    /// Takes every committed record since the last call, oldest first, as
    /// `ringbuf_process_ring` in libbpf and the kernel's `__bpf_user_ringbuf_peek` read them:
    /// stop at the first busy record, skip discarded ones, then publish the new consumer
    /// position.
    pub fn take(&mut self) -> Vec<Vec<u8>> {
        // SAFETY: both positions are 8-byte aligned u64s at the start of their mapped
        // pages, which live as long as `self`; the kernel updates them concurrently, hence
        // the atomics.
        let (cons_pos, prod_pos) = unsafe {
            (
                &*(self.consumer as *const AtomicU64),
                &*(self.producer as *const AtomicU64),
            )
        };
        let mask = self.size as u64 - 1;
        let mut cons = cons_pos.load(Ordering::Acquire);
        let prod = prod_pos.load(Ordering::Acquire);
        let mut out = Vec::new();
        while cons < prod {
            let at = self.page + (cons & mask) as usize;
            // SAFETY: `at` is inside the first copy of the data (offset < size), so the
            // header and a record of up to `size` bytes after it stay inside the double
            // mapping; the length word is 4-byte aligned (records are 8-byte aligned).
            let len_word = unsafe { &*(self.producer.add(at) as *const AtomicU32) };
            let len = len_word.load(Ordering::Acquire);
            if len & BUSY_BIT != 0 {
                break;
            }
            let n = (len & !(BUSY_BIT | DISCARD_BIT)) as usize;
            if n + HDR_SIZE as usize > self.size {
                // A corrupt length (a record and its header never exceed the buffer): stop
                // rather than read outside the mapping.
                break;
            }
            if len & DISCARD_BIT == 0 {
                // SAFETY: `at` < page + size and 8 + n ≤ size (checked above), so the
                // record ends inside the double mapping (page + 2 * size bytes).
                let data = unsafe {
                    std::slice::from_raw_parts(self.producer.add(at + HDR_SIZE as usize), n)
                };
                out.push(data.to_vec());
            }
            cons += (n as u64 + HDR_SIZE).div_ceil(8) * 8;
        }
        cons_pos.store(cons, Ordering::Release);
        out
    }
}

impl Drop for RingBuf {
    fn drop(&mut self) {
        // SAFETY: both mappings were made in `new` with these lengths and nothing refers to
        // them after `self` is gone.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(self.producer.cast(), self.page + 2 * self.size);
        }
    }
}
