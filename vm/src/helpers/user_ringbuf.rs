//! `bpf_user_ringbuf_drain(map, callback_fn, callback_ctx, flags)` (kernel/bpf/ringbuf.c):
//! calls `callback_fn(dynptr, ctx)` for each record user space submitted to a
//! `BPF_MAP_TYPE_USER_RINGBUF` map ([`crate::maps::Map::user_ringbuf_push`]).

use super::{bad, dynptr, errno, map, InterpFn, EINVAL};
use crate::interp::{CallCx, CbError};
use crate::maps::UserRecordState;

const E2BIG: u64 = errno(7);
/// `BPF_MAX_USER_RINGBUF_SAMPLES`.
const MAX_SAMPLES: u64 = 128 * 1024;
/// `BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP`.
const WAKEUP_FLAGS: u64 = 1 | 2;

/// As `bpf_user_ringbuf_drain`: each submitted record is passed as a local dynptr over a
/// read-only copy of the sample; discarded records are skipped (consumed, counted against
/// the sample limit, not in the result); a busy record ends the drain (`-ENODATA` from
/// `__bpf_user_ringbuf_peek`, so an empty ring gives 0). The callback's non-zero return
/// stops after its record. Returns the records passed to the callback.
fn drain(cx: &mut CallCx<'_>, a: [u64; 5]) -> Result<u64, CbError> {
    let (handle, func, ctx, flags) = (a[0], a[1], a[2], a[3]);
    let (_, m) = map(cx.m, handle)?;
    if m.user_ring_mut().is_none() {
        return Err(bad(format!(
            "bpf_user_ringbuf_drain does not take {} maps (the kernel's check_map_func_compatibility)",
            m.spec().map_type.name()
        ))
        .into());
    }
    if flags & !WAKEUP_FLAGS != 0 {
        return Ok(EINVAL);
    }
    let (mut samples, mut discarded) = (0u64, 0u64);
    let mut ret = 0;
    while samples < MAX_SAMPLES && ret == 0 {
        samples += 1;
        // The callback may not remove the map, but look it up again: it holds `cx`.
        let Some((_, m)) = cx.m.map_by_handle(handle) else {
            break;
        };
        let Some(ring) = m.user_ring_mut() else {
            break;
        };
        let Some((bytes, state)) = ring.front().cloned() else {
            samples -= 1;
            break;
        };
        // bpf_dynptr_check_size in __bpf_user_ringbuf_peek.
        if bytes.len() > dynptr::MAX_SIZE as usize {
            return Ok(E2BIG);
        }
        match state {
            UserRecordState::Busy => {
                samples -= 1;
                break;
            }
            UserRecordState::Discarded => {
                ring.release();
                discarded += 1;
                continue;
            }
            UserRecordState::Submitted => {}
        }
        ret = cx.with_helper_data(&bytes, |cx, sample| {
            let image = dynptr::local_image(sample, bytes.len() as u32);
            cx.with_helper_data(&image, |cx, ptr| cx.call(func, [ptr, ctx, 0, 0, 0]))
        })?;
        // __bpf_user_ringbuf_sample_release.
        if let Some(ring) =
            cx.m.map_by_handle(handle)
                .and_then(|(_, m)| m.user_ring_mut())
        {
            ring.release();
        }
    }
    Ok(samples - discarded)
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, InterpFn)> {
    vec![(209, drain)]
}
