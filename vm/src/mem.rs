//! The VM's address space.
//!
//! A VM address is `region << 32 | offset`: translating one is a shift, a small match and a
//! bounds-checked slice access, so no program can reach host memory and no bad access goes
//! unnoticed. Region 0 is never mapped, so a NULL pointer (or any small integer used as a
//! pointer) faults.

use crate::error::MemFault;
use std::fmt;

/// Bytes of stack per frame (`MAX_BPF_STACK`).
pub const STACK_SIZE: usize = 512;
/// Maximum number of nested frames (`MAX_CALL_FRAMES`).
pub const MAX_FRAMES: usize = 8;

pub(crate) const R_STACK0: u32 = 1;
pub(crate) const R_CTX: u32 = 9;
pub(crate) const R_PACKET: u32 = 10;
pub(crate) const R_MEM: u32 = 11;
pub(crate) const R_CODE: u32 = 12;
pub(crate) const R_MAP: u32 = 13;
pub(crate) const R_HELPER_DATA: u32 = 14;
pub(crate) const R_SOCK: u32 = 15;
pub(crate) const R_MAPVAL0: u32 = 16;

/// Builds a VM address.
pub(crate) const fn addr(region: u32, off: u64) -> u64 {
    ((region as u64) << 32) | off
}

/// A region of the VM's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// The stack of call frame N (0 is the main program); r10 points at its top.
    Stack(u8),
    /// The program's context (`__sk_buff`, `xdp_md`, `pt_regs`, raw bytes).
    Ctx,
    /// Packet data, from `data_meta` to `data_end`.
    Packet,
    /// User memory (r1 in the conformance convention).
    Mem,
    /// Function addresses (`lddw` with `src = 4`); not readable.
    Code,
    /// Map handles (`lddw` with `src = 1`); not readable.
    MapHandle,
    /// Read-only data a helper passes to a callback (a map key, a `vm_area_struct`).
    HelperData,
    /// The value storage of the map with this index.
    MapValue(u32),
    /// `struct bpf_sock`s returned by socket lookups (read-only).
    Socket,
}

impl Region {
    /// The region of a VM address, if it is one the VM defines.
    pub fn of(addr: u64) -> Option<Region> {
        let id = (addr >> 32) as u32;
        Some(match id {
            R_STACK0..=8 => Region::Stack((id - R_STACK0) as u8),
            R_CTX => Region::Ctx,
            R_PACKET => Region::Packet,
            R_MEM => Region::Mem,
            R_CODE => Region::Code,
            R_MAP => Region::MapHandle,
            R_SOCK => Region::Socket,
            R_HELPER_DATA => Region::HelperData,
            n if n >= R_MAPVAL0 => Region::MapValue(n - R_MAPVAL0),
            _ => return None,
        })
    }

    /// The address of byte `off` of this region.
    pub fn addr(self, off: u32) -> u64 {
        let id = match self {
            Region::Stack(f) => R_STACK0 + f as u32,
            Region::Ctx => R_CTX,
            Region::Packet => R_PACKET,
            Region::Mem => R_MEM,
            Region::Code => R_CODE,
            Region::MapHandle => R_MAP,
            Region::Socket => R_SOCK,
            Region::HelperData => R_HELPER_DATA,
            Region::MapValue(m) => R_MAPVAL0 + m,
        };
        addr(id, off as u64)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Stack(n) => write!(f, "stack frame {n}"),
            Region::Ctx => f.write_str("context"),
            Region::Packet => f.write_str("packet"),
            Region::Mem => f.write_str("user memory"),
            Region::Code => f.write_str("code"),
            Region::MapHandle => f.write_str("map handle"),
            Region::HelperData => f.write_str("helper data"),
            Region::MapValue(m) => write!(f, "values of map {m}"),
            Region::Socket => f.write_str("sockets"),
        }
    }
}

pub(crate) fn fault(addr: u64, size: usize, write: bool, len: Option<usize>) -> MemFault {
    let region = Region::of(addr);
    let why = match (region, len) {
        (None, _) if addr >> 32 == 0 => {
            if addr < 4096 {
                "null pointer dereference".to_string()
            } else {
                "address is not in any region (a scalar used as a pointer?)".to_string()
            }
        }
        (None, _) => "address is not in any region".to_string(),
        (Some(Region::HelperData), _) if write => {
            "helper data (a callback's key or vm_area_struct) is read-only".to_string()
        }
        (Some(r @ (Region::Code | Region::MapHandle)), _) => {
            format!("{r} addresses cannot be accessed")
        }
        (Some(r), Some(len)) => {
            format!(
                "offset {} is out of bounds of {r} ({len} bytes)",
                addr as u32
            )
        }
        (Some(r @ Region::Stack(_)), None) => {
            format!("{r} is not active (no call that deep is running)")
        }
        (Some(r), None) => format!("{r} does not exist in this run"),
    };
    MemFault {
        addr,
        size,
        write,
        region,
        why,
    }
}

/// Reads a little-endian value of `N` bytes.
#[inline(always)]
pub(crate) fn get<const N: usize>(buf: &[u8], off: usize) -> Option<u64> {
    let b: &[u8; N] = buf.get(off..off.wrapping_add(N))?.try_into().ok()?;
    Some(match N {
        1 => b[0] as u64,
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
        _ => {
            let mut w = [0u8; 8];
            w[..N].copy_from_slice(b);
            u64::from_le_bytes(w)
        }
    })
}

/// Writes the low `N` bytes of `v`, little-endian.
#[inline(always)]
pub(crate) fn put<const N: usize>(buf: &mut [u8], off: usize, v: u64) -> Option<()> {
    let b = buf.get_mut(off..off.wrapping_add(N))?;
    b.copy_from_slice(&v.to_le_bytes()[..N]);
    Some(())
}
