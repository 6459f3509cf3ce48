//! Storage helpers: `bpf_get_local_storage` (81, `kernel/bpf/helpers.c`) for cgroup
//! storage, and `bpf_{sk,inode,task,cgrp}_storage_get/delete` (107/108, 145/146, 156/157,
//! 210/211: `net/core/bpf_sk_storage.c`, `kernel/bpf/bpf_{inode,task,cgrp}_storage.c`) for
//! local storage, on owners the test declares (the pointer a program passes is the owner's
//! id; see `maps/storage.rs`).

use super::map_for;
use crate::error::HelperError;
use crate::machine::Machine;
use crate::mem::Region;

fn bad(e: impl ToString) -> HelperError {
    HelperError::Other(e.to_string())
}

/// `bpf_get_local_storage(map, flags)`: this CPU's value of the program's cgroup storage.
fn get_local_storage(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[1] != 0 {
        // check_helper_call: the helper cannot fail, so the verifier insists on 0.
        return Err(bad("get_local_storage() doesn't support non-zero flags"));
    }
    let cpu = m.env.cpu as usize;
    let (idx, map) = map_for(m, a[0], 81)?;
    let off = map.cgroup_storage_current(cpu).map_err(bad)?;
    Ok(Region::MapValue(idx as u32).addr(off as u32))
}

/// `bpf_*_storage_get(map, owner, value, flags)`: the owner's value, created from `value`
/// (or zeroed) with `BPF_LOCAL_STORAGE_GET_F_CREATE`; NULL otherwise.
fn storage_get(m: &mut Machine, a: [u64; 5], func: u32) -> Result<u64, HelperError> {
    let (_, map) = map_for(m, a[0], func)?;
    let vs = map.spec().value_size as usize;
    let init = if a[2] != 0 {
        Some(m.read_vec(a[2], vs)?)
    } else {
        None
    };
    let (idx, map) = map_for(m, a[0], func)?;
    match map.storage_get(a[1], init.as_deref(), a[3]).map_err(bad)? {
        Some(off) => Ok(Region::MapValue(idx as u32).addr(off as u32)),
        None => Ok(0),
    }
}

/// `bpf_*_storage_delete(map, owner)`: 0, `-ENOENT`, or `-EINVAL` for a NULL owner.
fn storage_delete(m: &mut Machine, a: [u64; 5], func: u32) -> Result<u64, HelperError> {
    let (_, map) = map_for(m, a[0], func)?;
    Ok(match map.storage_delete_owner(a[1]) {
        Ok(()) => 0,
        Err(e) => e.helper_ret(),
    })
}

/// The helpers of this file: (id, function).
pub(super) fn helpers() -> Vec<(u32, super::HelperFn)> {
    let mut v: Vec<(u32, super::HelperFn)> = vec![(81, Box::new(get_local_storage))];
    // (get, delete) of sk, inode, task and cgrp storage.
    for (get, delete) in [(107, 108), (145, 146), (156, 157), (210, 211)] {
        v.push((get, Box::new(move |m, a| storage_get(m, a, get))));
        v.push((delete, Box::new(move |m, a| storage_delete(m, a, delete))));
    }
    v
}
