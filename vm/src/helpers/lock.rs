//! `bpf_spin_lock` / `bpf_spin_unlock` (kernel/bpf/helpers.c). The lock is the 4-byte
//! `struct bpf_spin_lock` in a map value; one program runs at a time in the VM, so taking a
//! lock never waits, and the lock word reads 1 while it is held (the queued spinlock's
//! locked byte). What the verifier guarantees in the kernel (one lock at a time, unlocked
//! before exit, the same lock unlocked) the VM checks at run time: a breach is a run error at
//! the helper call, where the kernel would deadlock or corrupt the lock.

use super::{bad, HelperFn};
use crate::error::HelperError;
use crate::machine::Machine;
use crate::mem::Region;

fn lock(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let at = a[0];
    if !matches!(Region::of(at), Some(Region::MapValue(_))) {
        return Err(bad(format!(
            "{at:#x} is not in a map value (a bpf_spin_lock lives in a map value)"
        )));
    }
    if at % 4 != 0 {
        return Err(bad(format!("the lock at {at:#x} is not 4-byte aligned")));
    }
    if let Some(held) = m.held_lock {
        return Err(bad(format!(
            "the program already holds the lock at {held:#x}: taking {at:#x} would deadlock \
             (the kernel's verifier allows one lock at a time)"
        )));
    }
    m.write(at, &1u32.to_le_bytes())?;
    m.held_lock = Some(at);
    Ok(0)
}

fn unlock(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let at = a[0];
    match m.held_lock {
        Some(held) if held == at => {
            m.write(at, &0u32.to_le_bytes())?;
            m.held_lock = None;
            Ok(0)
        }
        Some(held) => Err(bad(format!(
            "unlocking {at:#x}, but the lock held is the one at {held:#x}"
        ))),
        None => Err(bad(format!("unlocking {at:#x}, which is not locked"))),
    }
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![(93, Box::new(lock)), (94, Box::new(unlock))]
}
