//! Dynamic pointers: `bpf_dynptr_from_mem`, `bpf_ringbuf_{reserve,submit,discard}_dynptr`,
//! `bpf_dynptr_read`, `bpf_dynptr_write`, `bpf_dynptr_data` (kernel/bpf/helpers.c,
//! kernel/bpf/ringbuf.c). A dynptr lives in program memory (usually the stack) as the
//! kernel's 16-byte `struct bpf_dynptr_kern`: `data` (a VM address), then `size` (low 24 bits
//! the size, bits 28–30 the type, bit 31 read-only), then `offset`.

use super::{errno, HelperFn, EINVAL};
use crate::error::HelperError;
use crate::machine::Machine;
use crate::maps::MapError;
use crate::mem::Region;

const E2BIG: u64 = errno(7);
/// `DYNPTR_MAX_SIZE`, also `DYNPTR_SIZE_MASK`.
pub(crate) const MAX_SIZE: u32 = (1 << 24) - 1;
/// `DYNPTR_TYPE_SHIFT`.
const TYPE_SHIFT: u32 = 28;
/// `DYNPTR_RDONLY_BIT`.
const RDONLY_BIT: u32 = 1 << 31;
/// `enum bpf_dynptr_type`.
const TYPE_LOCAL: u32 = 1;
const TYPE_RINGBUF: u32 = 2;

/// `struct bpf_dynptr_kern`.
#[derive(Clone, Copy, Debug, Default)]
struct Dynptr {
    data: u64,
    size: u32,
    offset: u32,
}

impl Dynptr {
    fn read(m: &Machine, at: u64) -> Result<Dynptr, HelperError> {
        let b = m.read(at, 16)?;
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        Ok(Dynptr {
            data: u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
            size: u32_at(8),
            offset: u32_at(12),
        })
    }

    fn bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.data.to_le_bytes());
        b[8..12].copy_from_slice(&self.size.to_le_bytes());
        b[12..].copy_from_slice(&self.offset.to_le_bytes());
        b
    }

    fn write(self, m: &mut Machine, at: u64) -> Result<(), HelperError> {
        Ok(m.write(at, &self.bytes())?)
    }

    /// `bpf_dynptr_init`.
    fn new(data: u64, kind: u32, size: u32) -> Dynptr {
        Dynptr {
            data,
            size: size | kind << TYPE_SHIFT,
            offset: 0,
        }
    }

    fn len(self) -> u32 {
        self.size & MAX_SIZE
    }

    fn kind(self) -> u32 {
        (self.size >> TYPE_SHIFT) & 7
    }

    fn rdonly(self) -> bool {
        self.size & RDONLY_BIT != 0
    }

    /// `bpf_dynptr_check_off_len`.
    fn check(self, offset: u32, len: u32) -> Result<u64, u64> {
        let size = self.len();
        if len > size || offset > size - len {
            return Err(E2BIG);
        }
        Ok(self
            .data
            .wrapping_add(u64::from(self.offset))
            .wrapping_add(u64::from(offset)))
    }
}

/// The `struct bpf_dynptr_kern` image of a local dynptr over `size` bytes at `data` (the
/// one `bpf_user_ringbuf_drain` passes to its callback).
pub(crate) fn local_image(data: u64, size: u32) -> [u8; 16] {
    Dynptr::new(data, TYPE_LOCAL, size).bytes()
}

/// `bpf_dynptr_set_null`: a failed constructor leaves a zeroed dynptr.
fn set_null(m: &mut Machine, at: u64) -> Result<(), HelperError> {
    Dynptr::default().write(m, at)
}

/// `bpf_dynptr_from_mem(data, size, flags, ptr)`.
fn from_mem(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (data, size, flags, ptr) = (a[0], a[1] as u32, a[2], a[3]);
    let err = if size > MAX_SIZE {
        E2BIG
    } else if flags != 0 {
        EINVAL
    } else {
        // ARG_PTR_TO_UNINIT_MEM: the verifier proved the memory is there.
        m.read(data, size as usize)?;
        Dynptr::new(data, TYPE_LOCAL, size).write(m, ptr)?;
        return Ok(0);
    };
    set_null(m, ptr)?;
    Ok(err)
}

/// `bpf_ringbuf_reserve_dynptr(ringbuf, size, flags, ptr)`.
fn ringbuf_reserve(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (size, flags, ptr) = (a[1] as u32, a[2], a[3]);
    let err = if flags != 0 {
        EINVAL
    } else if size > MAX_SIZE {
        E2BIG
    } else {
        let (idx, map) = super::map(m, a[0])?;
        match map.ringbuf_reserve(size as usize) {
            Ok(off) => {
                let data = Region::MapValue(idx as u32).addr(off as u32);
                Dynptr::new(data, TYPE_RINGBUF, size).write(m, ptr)?;
                return Ok(0);
            }
            // __bpf_ringbuf_reserve failing is -EAGAIN.
            Err(MapError::NoSpace) => errno(11),
            Err(e) => return Err(super::bad(e.to_string())),
        }
    };
    set_null(m, ptr)?;
    Ok(err)
}

/// `bpf_ringbuf_submit_dynptr` / `bpf_ringbuf_discard_dynptr(ptr, flags)`: a null dynptr is
/// a no-op; the dynptr is nulled afterwards.
fn ringbuf_finish(m: &mut Machine, a: [u64; 5], commit: bool) -> Result<u64, HelperError> {
    let d = Dynptr::read(m, a[0])?;
    if d.data == 0 {
        return Ok(0);
    }
    if d.kind() != TYPE_RINGBUF {
        return Err(super::bad(format!(
            "the dynptr at {:#x} is not a ring buffer dynptr",
            a[0]
        )));
    }
    super::ringbuf_finish(m, [d.data, a[1], 0, 0, 0], commit)?;
    set_null(m, a[0])?;
    Ok(0)
}

/// `bpf_dynptr_read(dst, len, src, offset, flags)`.
fn read(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, len, src, offset, flags) = (a[0], a[1] as u32, a[2], a[3] as u32, a[4]);
    let d = Dynptr::read(m, src)?;
    if d.data == 0 || flags != 0 {
        return Ok(EINVAL);
    }
    let from = match d.check(offset, len) {
        Ok(p) => p,
        Err(e) => return Ok(e),
    };
    let bytes = m.read_vec(from, len as usize)?;
    m.write(dst, &bytes)?;
    Ok(0)
}

/// `bpf_dynptr_write(dst, offset, src, len, flags)`.
fn write(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, offset, src, len, flags) = (a[0], a[1] as u32, a[2], a[3] as u32, a[4]);
    let d = Dynptr::read(m, dst)?;
    if d.data == 0 || flags != 0 || d.rdonly() {
        return Ok(EINVAL);
    }
    let to = match d.check(offset, len) {
        Ok(p) => p,
        Err(e) => return Ok(e),
    };
    let bytes = m.read_vec(src, len as usize)?;
    m.write(to, &bytes)?;
    Ok(0)
}

/// `bpf_dynptr_data(ptr, offset, len)`: the address, or NULL (null or read-only dynptr,
/// range out of bounds).
fn data(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let d = Dynptr::read(m, a[0])?;
    if d.data == 0 || d.rdonly() {
        return Ok(0);
    }
    Ok(d.check(a[1] as u32, a[2] as u32).unwrap_or(0))
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![
        (197, Box::new(from_mem)),
        (198, Box::new(ringbuf_reserve)),
        (199, Box::new(|m, a| ringbuf_finish(m, a, true))),
        (200, Box::new(|m, a| ringbuf_finish(m, a, false))),
        (201, Box::new(read)),
        (202, Box::new(write)),
        (203, Box::new(data)),
    ]
}
