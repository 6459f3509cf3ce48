//! `xdp_md` (net/core/filter.c), the tracing contexts (kernel/trace/bpf_trace.c), syscall
//! programs' free-form context (kernel/bpf/syscall.c) and `bpf_nf_ctx`.

use super::{Field, Kind, Layout, Sizes};
use crate::types::AttachType as At;

/// `xdp` (`xdp_is_valid_access`): whole 4-byte reads; `egress_ifindex` for devmap
/// programs only; no stores (except offloaded programs, which bpfx does not load).
pub static XDP: Layout = Layout {
    name: "xdp_md",
    size: 24,
    fields: &[
        Field::ptr32("data", 0, Kind::Packet),
        Field::ptr32("data_end", 4, Kind::PacketEnd),
        Field::ptr32("data_meta", 8, Kind::PacketMeta),
        Field::ro("ingress_ifindex", 12, 4, Sizes::W),
        Field::ro("rx_queue_index", 16, 4, Sizes::W),
        Field::ro("egress_ifindex", 20, 4, Sizes::W).only(&[At::XdpDevmap]),
    ],
    negative_ok: false,
};

/// `kprobe` (`kprobe_prog_is_valid_access`): `struct pt_regs` (21 registers on x86-64),
/// read with any size.
pub static KPROBE: Layout = Layout {
    name: "pt_regs",
    size: 168,
    fields: &[Field::ro("regs", 0, 168, Sizes::ANY)],
    negative_ok: false,
};

/// `tracepoint` (`tp_prog_is_valid_access`): the raw record after its 8-byte common
/// header, up to `PERF_MAX_TRACE_SIZE` (8192).
pub static TRACEPOINT: Layout = Layout {
    name: "tracepoint record",
    size: 8192,
    fields: &[Field::ro("record", 8, 8184, Sizes::ANY)],
    negative_ok: true,
};

/// `perf_event` (`pe_prog_is_valid_access`): `struct bpf_perf_event_data`.
pub static PERF_EVENT: Layout = Layout {
    name: "bpf_perf_event_data",
    size: 184,
    fields: &[
        Field::ro("regs", 0, 168, Sizes::DW),
        Field::ro("sample_period", 168, 8, Sizes::ANY),
        Field::ro("addr", 176, 8, Sizes::ANY),
    ],
    negative_ok: false,
};

/// `raw_tracepoint` (`bpf_tracing_ctx_access`): up to `MAX_BPF_FUNC_ARGS` (12) u64
/// arguments.
pub static RAW_TRACEPOINT: Layout = Layout {
    name: "u64 args[12]",
    size: 96,
    fields: &[Field::ro("args", 0, 96, Sizes::ANY)],
    negative_ok: false,
};

/// `raw_tracepoint_writable` (`raw_tp_writable_prog_is_valid_access`): argument 0 is the
/// tracepoint's writable buffer.
pub static RAW_TRACEPOINT_WRITABLE: Layout = Layout {
    name: "u64 args[12]",
    size: 96,
    fields: &[
        Field::ptr("buffer", 0, Kind::TpBuffer),
        Field::ro("args", 1, 95, Sizes::ANY),
    ],
    negative_ok: false,
};

/// `tracing` (fentry, fexit, fmod_ret, tp_btf, iter): the attach target's arguments as
/// u64s (`bpf_tracing_btf_ctx_access`; their types come from the target's BTF).
pub static TRACING: Layout = Layout {
    name: "u64 args[12]",
    size: 96,
    fields: &[Field::ro("args", 0, 96, Sizes::ANY)],
    negative_ok: false,
};

/// `syscall` (`syscall_prog_is_valid_access`): the caller's buffer, read and written with
/// any size at offsets below `U16_MAX`.
pub static SYSCALL: Layout = Layout {
    name: "syscall args",
    size: 65535,
    fields: &[Field::rw("ctx", 0, 65536, Sizes::ANY, Sizes::ANY)],
    negative_ok: false,
};

/// `netfilter`: `struct bpf_nf_ctx { const struct nf_hook_state *state; struct sk_buff *skb; }`.
pub static NETFILTER: Layout = Layout {
    name: "bpf_nf_ctx",
    size: 16,
    fields: &[
        Field::ptr("state", 0, Kind::Btf),
        Field::ptr("skb", 8, Kind::Btf),
    ],
    negative_ok: false,
};
