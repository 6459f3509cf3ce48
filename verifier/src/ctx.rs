//! Context access rules per program type (`*_is_valid_access` in net/core/filter.c and
//! kernel/trace/bpf_trace.c), as offsets of the uapi structures on x86-64.

use crate::state::Ty;
use asm::types::ProgType;

/// What a valid context access yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// A number.
    Scalar,
    /// A pointer of this type (`maybe_null` when the second is true).
    Ptr(Ty, bool),
}

/// Whether the context of `pt` is modelled at all.
pub fn modelled(pt: ProgType) -> bool {
    use ProgType::*;
    matches!(
        pt,
        SocketFilter
            | SchedCls
            | SchedAct
            | CgroupSkb
            | LwtIn
            | LwtOut
            | LwtXmit
            | LwtSeg6local
            | SkSkb
            | Xdp
            | Kprobe
            | Tracepoint
            | PerfEvent
            | RawTracepoint
            | RawTracepointWritable
            | Syscall
            | SkMsg
            | CgroupSock
            | FlowDissector
            | SockOps
            | CgroupSysctl
            | SkReuseport
            | Netfilter
    )
}

// `struct __sk_buff` field offsets.
const SKB_SIZE: i32 = 192;
const MARK: i32 = 8;
const QUEUE_MAPPING: i32 = 12;
const PRIORITY: i32 = 32;
const TC_INDEX: i32 = 44;
const CB0: i32 = 48;
const CB_END: i32 = 68;
const TC_CLASSID: i32 = 72;
const DATA: i32 = 76;
const DATA_END: i32 = 80;
const FAMILY: i32 = 88;
const REMOTE_IP4: i32 = 92;
const LOCAL_IP4: i32 = 96;
const REMOTE_IP6: i32 = 100;
const LOCAL_IP6_END: i32 = 132;
const LOCAL_PORT_END: i32 = 140;
const DATA_META: i32 = 140;
const FLOW_KEYS: i32 = 144;
const TSTAMP: i32 = 152;
const WIRE_LEN: i32 = 160;
const SK: i32 = 168;
const TSTAMP_TYPE: i32 = 180;
const HWTSTAMP: i32 = 184;

/// `bpf_ctx_range(TYPE, MEMBER)` for a 4-byte member at `at`.
fn r4(off: i32, at: i32) -> bool {
    (at..at + 4).contains(&off)
}

fn r8(off: i32, at: i32) -> bool {
    (at..at + 8).contains(&off)
}

fn cb(off: i32) -> bool {
    (CB0..CB_END).contains(&off)
}

fn narrow_ok(off: i32, size: i32, size_default: i32) -> bool {
    size <= size_default && (off % size_default) + size <= size_default
}

/// `bpf_skb_is_valid_access`.
fn skb_common(off: i32, size: i32, write: bool) -> Option<Field> {
    if !(0..SKB_SIZE).contains(&off) || off % size != 0 {
        return None;
    }
    let mut f = Field::Scalar;
    if cb(off) {
        if off + size > CB_END {
            return None;
        }
    } else if (REMOTE_IP6..LOCAL_IP6_END).contains(&off)
        || r4(off, REMOTE_IP4)
        || r4(off, LOCAL_IP4)
        || r4(off, DATA)
        || r4(off, DATA_META)
        || r4(off, DATA_END)
    {
        if size != 4 {
            return None;
        }
    } else if r8(off, FLOW_KEYS) {
        return None;
    } else if r8(off, HWTSTAMP) {
        if write || size != 8 {
            return None;
        }
    } else if r8(off, TSTAMP) {
        if size != 8 {
            return None;
        }
    } else if r8(off, SK) {
        // Only the whole pointer; its upper half has no conversion in the kernel
        // (`bpf_convert_ctx_access`), so a narrow read of it cannot load.
        if write || size != 8 || off != SK {
            return None;
        }
        f = Field::Ptr(Ty::SockCommon, true);
    } else if off == TSTAMP_TYPE || (TSTAMP_TYPE + 1..HWTSTAMP).contains(&off) {
        return None;
    } else if write {
        if size != 4 {
            return None;
        }
    } else if !narrow_ok(off, size, 4) {
        return None;
    }
    Some(f)
}

fn skb_ptr(off: i32, meta: bool, f: Field) -> Field {
    if r4(off, DATA) {
        Field::Ptr(Ty::Pkt, false)
    } else if r4(off, DATA_END) {
        Field::Ptr(Ty::PktEnd, false)
    } else if meta && r4(off, DATA_META) {
        Field::Ptr(Ty::PktMeta, false)
    } else {
        f
    }
}

/// The result of accessing `size` bytes at `off` of the context, or `None` when the kernel
/// says "invalid bpf_context access".
pub fn access(pt: ProgType, off: i32, size: i32, write: bool) -> Option<Field> {
    use ProgType::*;
    match pt {
        SocketFilter => {
            if r4(off, TC_CLASSID)
                || r4(off, DATA)
                || r4(off, DATA_META)
                || r4(off, DATA_END)
                || (FAMILY..LOCAL_PORT_END).contains(&off)
                || r8(off, TSTAMP)
                || r4(off, WIRE_LEN)
                || r8(off, HWTSTAMP)
            {
                return None;
            }
            if write && !cb(off) {
                return None;
            }
            skb_common(off, size, write)
        }
        SchedCls | SchedAct => {
            if write
                && !(r4(off, MARK)
                    || r4(off, TC_INDEX)
                    || r4(off, PRIORITY)
                    || r4(off, TC_CLASSID)
                    || cb(off)
                    || r8(off, TSTAMP)
                    || r4(off, QUEUE_MAPPING))
            {
                return None;
            }
            if (FAMILY..LOCAL_PORT_END).contains(&off) {
                return None;
            }
            if off == TSTAMP_TYPE {
                return (size == 1).then_some(Field::Scalar);
            }
            let f = skb_common(off, size, write)?;
            Some(skb_ptr(off, true, f))
        }
        CgroupSkb => {
            if r4(off, TC_CLASSID) || r4(off, DATA_META) || r4(off, WIRE_LEN) {
                return None;
            }
            if write && !(r4(off, MARK) || r4(off, PRIORITY) || cb(off) || r8(off, TSTAMP)) {
                return None;
            }
            let f = skb_common(off, size, write)?;
            Some(skb_ptr(off, false, f))
        }
        LwtIn | LwtOut | LwtXmit | LwtSeg6local => {
            if r4(off, TC_CLASSID)
                || (FAMILY..LOCAL_PORT_END).contains(&off)
                || r4(off, DATA_META)
                || r8(off, TSTAMP)
                || r4(off, WIRE_LEN)
                || r8(off, HWTSTAMP)
            {
                return None;
            }
            if write && !(r4(off, MARK) || r4(off, PRIORITY) || cb(off)) {
                return None;
            }
            let f = skb_common(off, size, write)?;
            Some(skb_ptr(off, false, f))
        }
        SkSkb => {
            if r4(off, TC_CLASSID) || r4(off, DATA_META) || r8(off, TSTAMP) || r4(off, WIRE_LEN) {
                return None;
            }
            if r8(off, HWTSTAMP) {
                return None;
            }
            if write && !(r4(off, TC_INDEX) || r4(off, PRIORITY)) {
                return None;
            }
            if r4(off, MARK) {
                return None;
            }
            let f = skb_common(off, size, write)?;
            Some(skb_ptr(off, false, f))
        }
        FlowDissector => {
            if write {
                return None;
            }
            if r4(off, DATA) || r4(off, DATA_END) {
                if size != 4 {
                    return None;
                }
            } else if r8(off, FLOW_KEYS) {
                if size != 8 {
                    return None;
                }
                return Some(Field::Ptr(Ty::FlowKeys, false));
            } else {
                return None;
            }
            let f = skb_common(off, size, write)?;
            Some(skb_ptr(off, false, f))
        }
        Xdp => {
            // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index,
            // egress_ifindex; only whole 4-byte reads (`__is_valid_xdp_access`).
            if off == 20 || write {
                return None;
            }
            if !(0..24).contains(&off) || off % size != 0 || size != 4 {
                return None;
            }
            Some(match off {
                0 => Field::Ptr(Ty::Pkt, false),
                4 => Field::Ptr(Ty::PktEnd, false),
                8 => Field::Ptr(Ty::PktMeta, false),
                _ => Field::Scalar,
            })
        }
        Kprobe => {
            // struct pt_regs is 21 u64s on x86-64.
            (!write && (0..168).contains(&off) && off % size == 0 && off + size <= 168)
                .then_some(Field::Scalar)
        }
        Tracepoint => {
            // The common header (first 8 bytes) is hidden; PERF_MAX_TRACE_SIZE is 8192.
            (!write && (8..8192).contains(&off) && off % size == 0).then_some(Field::Scalar)
        }
        PerfEvent => {
            // struct bpf_perf_event_data: pt_regs regs; u64 sample_period; u64 addr.
            if write || !(0..184).contains(&off) || off % size != 0 {
                return None;
            }
            if off >= 168 {
                return narrow_ok(off % 8, size, 8).then_some(Field::Scalar);
            }
            (size == 8).then_some(Field::Scalar)
        }
        RawTracepoint => {
            (!write && (0..96).contains(&off) && off % size == 0).then_some(Field::Scalar)
        }
        RawTracepointWritable => {
            if off == 0 {
                if size != 8 || write {
                    return None;
                }
                return Some(Field::Ptr(Ty::TpBuffer, false));
            }
            (!write && (0..96).contains(&off) && off % size == 0).then_some(Field::Scalar)
        }
        Syscall => ((0..65535).contains(&off) && off % size == 0).then_some(Field::Scalar),
        SkMsg => {
            // struct sk_msg_md: data, data_end (pointers, 8 bytes), family .. local_port,
            // size, sk.
            if write || !(0..80).contains(&off) || off % size != 0 {
                return None;
            }
            match off {
                0 => (size == 8).then_some(Field::Ptr(Ty::Pkt, false)),
                8 => (size == 8).then_some(Field::Ptr(Ty::PktEnd, false)),
                72 => (size == 8).then_some(Field::Ptr(Ty::Sock, false)),
                16..=68 => {
                    if (20..60).contains(&off) {
                        (size == 4).then_some(Field::Scalar)
                    } else {
                        narrow_ok(off, size, 4).then_some(Field::Scalar)
                    }
                }
                _ => None,
            }
        }
        CgroupSock => {
            // struct bpf_sock; writes only to bound_dev_if, mark, priority.
            if !(0..80).contains(&off) || off % size != 0 {
                return None;
            }
            if write {
                return (matches!(off, 0 | 16 | 20) && size == 4).then_some(Field::Scalar);
            }
            narrow_ok(off, size, 4).then_some(Field::Scalar)
        }
        SkReuseport => {
            // struct sk_reuseport_md: data, data_end (8 bytes each), len, eth_protocol,
            // ip_protocol, bind_inany, hash, (pad), sk, migrating_sk.
            if write || !(0..56).contains(&off) || off % size != 0 {
                return None;
            }
            match off {
                0 => (size == 8).then_some(Field::Ptr(Ty::Pkt, false)),
                8 => (size == 8).then_some(Field::Ptr(Ty::PktEnd, false)),
                16..=35 => narrow_ok(off, size, 4).then_some(Field::Scalar),
                40 => (size == 8).then_some(Field::Ptr(Ty::Sock, false)),
                48 => (size == 8).then_some(Field::Ptr(Ty::Sock, true)),
                _ => None,
            }
        }
        Netfilter => {
            // struct bpf_nf_ctx { const struct nf_hook_state *state; struct sk_buff *skb; }
            (!write && (off == 0 || off == 8) && size == 8).then_some(Field::Ptr(Ty::BtfPtr, false))
        }
        SockOps | CgroupSysctl => {
            if write || off < 0 || off % size != 0 {
                return None;
            }
            let end = if pt == SockOps { 224 } else { 8 };
            (off + size <= end).then_some(Field::Scalar)
        }
        _ => None,
    }
}
