//! Helpers that call back into the program: `bpf_loop` (kernel/bpf/bpf_iter.c),
//! `bpf_for_each_map_elem` (`bpf_for_each_array_elem` in kernel/bpf/arraymap.c,
//! `bpf_for_each_hash_elem` in kernel/bpf/hashtab.c) and `bpf_find_vma`
//! (kernel/bpf/task_iter.c). The callback is a function of the running program (a
//! `BPF_PSEUDO_FUNC` address), run by [`CallCx::call`] as a new frame that shares the
//! instruction budget and the call depth limit.

use super::{bad, errno, map, InterpFn, EINVAL};
use crate::interp::{CallCx, CbError};
use crate::mem::Region;
use crate::MapType;

const E2BIG: u64 = errno(7);
const ENOENT: u64 = errno(2);
/// `BPF_MAX_LOOPS`.
pub(crate) const MAX_LOOPS: u32 = 1 << 23;

/// `bpf_loop(nr_loops, callback_fn, callback_ctx, flags)`: calls `callback_fn(i, ctx)` for
/// `i` in `0..nr_loops` until it returns non-zero; returns the number of calls made.
fn bpf_loop(cx: &mut CallCx<'_>, a: [u64; 5]) -> Result<u64, CbError> {
    let (nr_loops, func, ctx, flags) = (a[0] as u32, a[1], a[2], a[3]);
    if flags != 0 {
        return Ok(EINVAL);
    }
    if nr_loops > MAX_LOOPS {
        return Ok(E2BIG);
    }
    for i in 0..nr_loops {
        // "return value: 0 - continue, 1 - stop and return"
        if cx.call(func, [u64::from(i), ctx, 0, 0, 0])? != 0 {
            return Ok(u64::from(i) + 1);
        }
    }
    Ok(u64::from(nr_loops))
}

/// `bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags)`: calls
/// `callback_fn(map, key, value, ctx)` for each element until it returns non-zero; returns
/// the number of elements visited. Arrays go in index order; hash maps in the VM's slot
/// order (the kernel's is its bucket order, which depends on its hash function). Per-CPU
/// maps pass this CPU's value ([`crate::Env::cpu`]). The key is a read-only copy.
fn for_each_map_elem(cx: &mut CallCx<'_>, a: [u64; 5]) -> Result<u64, CbError> {
    let (handle, func, ctx, flags) = (a[0], a[1], a[2], a[3]);
    let cpu = cx.m.env.cpu as usize;
    let (idx, m) = map(cx.m, handle)?;
    let t = m.spec().map_type;
    if !matches!(
        t,
        MapType::Array
            | MapType::PercpuArray
            | MapType::Hash
            | MapType::PercpuHash
            | MapType::LruHash
            | MapType::LruPercpuHash
    ) {
        return Err(bad(format!(
            "bpf_for_each_map_elem does not take {} maps (the kernel's map_for_each_callback)",
            t.name()
        ))
        .into());
    }
    if flags != 0 {
        return Ok(EINVAL);
    }
    let keys = m.keys();
    let mut visited = 0;
    for key in keys {
        // An element the callback deleted is not visited.
        let Some((_, m)) = cx.m.map_by_handle(handle) else {
            break;
        };
        let Some(off) = m.peek_off(&key, cpu) else {
            continue;
        };
        visited += 1;
        let value = Region::MapValue(idx as u32).addr(off as u32);
        let ret = cx.with_helper_data(&key, |cx, key_addr| {
            cx.call(func, [handle, key_addr, value, ctx, 0])
        })?;
        if ret != 0 {
            break;
        }
    }
    Ok(visited)
}

/// `bpf_find_vma(task, addr, callback_fn, callback_ctx, flags)`: finds the mapping of the
/// task's address space ([`crate::Env::vmas`]) that contains `addr` and calls
/// `callback_fn(task, vma, ctx)` with a read-only copy of its `struct vm_area_struct`
/// image; `-ENOENT` when no mapping contains `addr`.
fn find_vma(cx: &mut CallCx<'_>, a: [u64; 5]) -> Result<u64, CbError> {
    let (task, addr, func, ctx, flags) = (a[0], a[1], a[2], a[3], a[4]);
    if flags != 0 {
        return Ok(EINVAL);
    }
    let Some(vma) =
        cx.m.env
            .vmas
            .iter()
            .find(|v| v.start <= addr && addr < v.end)
    else {
        return Ok(ENOENT);
    };
    let image = vma.image();
    cx.with_helper_data(&image, |cx, vma_addr| {
        cx.call(func, [task, vma_addr, ctx, 0, 0])
    })?;
    Ok(0)
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, InterpFn)> {
    vec![(164, for_each_map_elem), (180, find_vma), (181, bpf_loop)]
}
