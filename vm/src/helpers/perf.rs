//! `bpf_perf_event_output` (25): a sample to a perf event array
//! (`kernel/trace/bpf_trace.c`: `bpf_perf_event_output`; for socket filters and tc
//! programs `bpf_skb_event_output`, for XDP `bpf_xdp_event_output` in
//! `net/core/filter.c`, which append the packet's first bytes as the flags' upper half asks).

use super::map_for;
use crate::error::HelperError;
use crate::machine::Machine;
use crate::ProgType;

/// `BPF_F_INDEX_MASK`.
const INDEX_MASK: u64 = 0xffff_ffff;
/// `BPF_F_CTXLEN_MASK`: packet bytes to append (skb and XDP programs).
const CTXLEN_MASK: u64 = 0xf_ffff << 32;
const EINVAL: u64 = -22i64 as u64;
const EFAULT: u64 = -14i64 as u64;

/// `bpf_perf_event_output(ctx, map, flags, data, size)`.
fn perf_event_output(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (flags, size) = (a[2], a[4] as u32 as usize);
    map_for(m, a[1], 25)?;
    let data = m.read_vec(a[3], size)?;
    let packet_program = matches!(
        m.prog_type,
        Some(ProgType::SocketFilter | ProgType::SchedCls | ProgType::Xdp)
    );
    let mut sample = data;
    if packet_program {
        if flags & !(CTXLEN_MASK | INDEX_MASK) != 0 {
            return Ok(EINVAL);
        }
        let ctx_len = ((flags & CTXLEN_MASK) >> 32) as usize;
        // From `data` (bpf_xdp_event_output / bpf_skb_event_output copy from the start of
        // the packet data, never the headroom), at most to `data_end`.
        let Some(bytes) = m.packet_data().get(..ctx_len) else {
            return Ok(EFAULT);
        };
        sample.extend_from_slice(bytes);
    } else if flags & !INDEX_MASK != 0 {
        return Ok(EINVAL);
    }
    let cpu = m.env.cpu;
    let (_, map) = map_for(m, a[1], 25)?;
    Ok(match map.perf_output(flags & INDEX_MASK, cpu, sample) {
        Ok(()) => 0,
        Err(e) => e.helper_ret(),
    })
}

/// The helpers of this file: (id, function).
pub(super) fn helpers() -> Vec<(u32, super::HelperFn)> {
    vec![(25, Box::new(perf_event_output))]
}
