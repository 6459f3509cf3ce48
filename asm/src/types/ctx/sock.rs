//! Socket and cgroup contexts: `bpf_sock` (cgroup_sock), `bpf_sock_addr`, `bpf_sock_ops`,
//! `sk_msg_md`, `sk_reuseport_md`, `bpf_sk_lookup` (net/core/filter.c) and
//! `bpf_cgroup_dev_ctx`, `bpf_sysctl`, `bpf_sockopt` (kernel/bpf/cgroup.c).

use super::{Field, Kind, Layout, Sizes};
use crate::types::AttachType as At;

const NARROW: Sizes = Sizes::NARROW;
const W: Sizes = Sizes::W;
/// 1, 2, 4 bytes or an aligned 8 (`bpf_ctx_wide_access_ok` over an `__u32[4]` address).
const WIDE: Sizes = Sizes::ANY;
/// A 4-byte store, or an aligned 8-byte one over an address array.
const WIDE_STORE: Sizes = Sizes(4 | 8);

const fn ro(name: &'static str, off: u32, len: u32, read: Sizes) -> Field {
    Field::ro(name, off, len, read)
}
const fn rw(name: &'static str, off: u32, len: u32, read: Sizes, write: Sizes) -> Field {
    Field::rw(name, off, len, read, write)
}

const SOCK_CREATE: &[At] = &[At::CgroupInetSockCreate, At::CgroupInetSockRelease];

/// `cgroup_sock` (`sock_filter_is_valid_access`: `bpf_sock_is_valid_access` and
/// `__sock_filter_check_attach_type`).
pub static CGROUP_SOCK: Layout = Layout {
    name: "bpf_sock",
    size: 80,
    fields: &[
        rw("bound_dev_if", 0, 4, W, W).only(SOCK_CREATE),
        ro("family", 4, 4, NARROW).at_start(),
        ro("type", 8, 4, NARROW).at_start(),
        ro("protocol", 12, 4, NARROW).at_start(),
        rw("mark", 16, 4, W, W).only(SOCK_CREATE),
        rw("priority", 20, 4, W, W).only(SOCK_CREATE),
        ro("src_ip4", 24, 4, NARROW).only(&[At::CgroupInet4PostBind]),
        ro("src_ip6", 28, 16, NARROW).only(&[At::CgroupInet6PostBind]),
        ro("src_port", 44, 4, NARROW)
            .at_start()
            .only(&[At::CgroupInet4PostBind, At::CgroupInet6PostBind]),
        // A 2-byte field that may also be read as 4 bytes with its zero padding.
        ro("dst_port", 48, 2, Sizes::NARROW16),
        ro("dst_port", 48, 4, W),
        ro("dst_ip4", 52, 4, NARROW),
        ro("dst_ip6", 56, 16, NARROW),
        ro("state", 72, 4, NARROW).at_start(),
        ro("rx_queue_mapping", 76, 4, NARROW).at_start(),
    ],
    negative_ok: false,
};

const INET4: &[At] = &[
    At::CgroupInet4Bind,
    At::CgroupInet4Connect,
    At::CgroupInet4Getpeername,
    At::CgroupInet4Getsockname,
    At::CgroupUdp4Sendmsg,
    At::CgroupUdp4Recvmsg,
];
const INET6: &[At] = &[
    At::CgroupInet6Bind,
    At::CgroupInet6Connect,
    At::CgroupInet6Getpeername,
    At::CgroupInet6Getsockname,
    At::CgroupUdp6Sendmsg,
    At::CgroupUdp6Recvmsg,
];

/// `cgroup_sock_addr` (`sock_addr_is_valid_access`): addresses by attach type.
pub static SOCK_ADDR: Layout = Layout {
    name: "bpf_sock_addr",
    size: 72,
    fields: &[
        ro("user_family", 0, 4, W),
        rw("user_ip4", 4, 4, NARROW, W).only(INET4),
        rw("user_ip6", 8, 16, WIDE, WIDE_STORE).only(INET6),
        rw("user_port", 24, 4, NARROW, W),
        ro("family", 28, 4, W),
        ro("type", 32, 4, W),
        ro("protocol", 36, 4, W),
        rw("msg_src_ip4", 40, 4, NARROW, W).only(&[At::CgroupUdp4Sendmsg]),
        rw("msg_src_ip6", 44, 16, WIDE, WIDE_STORE).only(&[At::CgroupUdp6Sendmsg]),
        Field::ptr("sk", 64, Kind::Socket),
    ],
    negative_ok: false,
};

/// `sock_ops` (`sock_ops_is_valid_access`): whole 4-byte reads, stores to `reply` and
/// `sk_txhash` only.
pub static SOCK_OPS: Layout = Layout {
    name: "bpf_sock_ops",
    size: 224,
    fields: &[
        ro("op", 0, 4, W),
        rw("reply", 4, 4, W, W),
        ro("args", 8, 12, W),
        ro("family", 20, 4, W),
        ro("remote_ip4", 24, 4, W),
        ro("local_ip4", 28, 4, W),
        ro("remote_ip6", 32, 16, W),
        ro("local_ip6", 48, 16, W),
        ro("remote_port", 64, 4, W),
        ro("local_port", 68, 4, W),
        ro("is_fullsock", 72, 4, W),
        ro("snd_cwnd", 76, 4, W),
        ro("srtt_us", 80, 4, W),
        ro("bpf_sock_ops_cb_flags", 84, 4, W),
        ro("state", 88, 4, W),
        ro("rtt_min", 92, 4, W),
        ro("snd_ssthresh", 96, 4, W),
        ro("rcv_nxt", 100, 4, W),
        ro("snd_nxt", 104, 4, W),
        ro("snd_una", 108, 4, W),
        ro("mss_cache", 112, 4, W),
        ro("ecn_flags", 116, 4, W),
        ro("rate_delivered", 120, 4, W),
        ro("rate_interval_us", 124, 4, W),
        ro("packets_out", 128, 4, W),
        ro("retrans_out", 132, 4, W),
        ro("total_retrans", 136, 4, W),
        ro("segs_in", 140, 4, W),
        ro("data_segs_in", 144, 4, W),
        ro("segs_out", 148, 4, W),
        ro("data_segs_out", 152, 4, W),
        ro("lost_out", 156, 4, W),
        ro("sacked_out", 160, 4, W),
        rw("sk_txhash", 164, 4, W, W),
        ro("bytes_received", 168, 8, Sizes::DW),
        ro("bytes_acked", 176, 8, Sizes::DW),
        Field::ptr("sk", 184, Kind::SocketOrNull),
        Field::ptr("skb_data", 192, Kind::Packet),
        Field::ptr("skb_data_end", 200, Kind::PacketEnd),
        ro("skb_len", 208, 4, W),
        ro("skb_tcp_flags", 212, 4, NARROW).at_start(),
        ro("skb_hwtstamp", 216, 8, Sizes::DW),
    ],
    negative_ok: false,
};

/// `sk_msg` (`sk_msg_is_valid_access`): read only, whole fields.
pub static SK_MSG: Layout = Layout {
    name: "sk_msg_md",
    size: 80,
    fields: &[
        Field::ptr("data", 0, Kind::Packet),
        Field::ptr("data_end", 8, Kind::PacketEnd),
        ro("family", 16, 4, W),
        ro("remote_ip4", 20, 4, W),
        ro("local_ip4", 24, 4, W),
        ro("remote_ip6", 28, 16, W),
        ro("local_ip6", 44, 16, W),
        ro("remote_port", 60, 4, W),
        ro("local_port", 64, 4, W),
        ro("size", 68, 4, W),
        Field::ptr("sk", 72, Kind::Socket),
    ],
    negative_ok: false,
};

/// `sk_reuseport` (`sk_reuseport_is_valid_access`).
pub static SK_REUSEPORT: Layout = Layout {
    name: "sk_reuseport_md",
    size: 56,
    fields: &[
        Field::ptr("data", 0, Kind::Packet),
        Field::ptr("data_end", 8, Kind::PacketEnd),
        ro("len", 16, 4, NARROW),
        ro("eth_protocol", 20, 4, Sizes::HW),
        ro("ip_protocol", 24, 4, NARROW),
        ro("bind_inany", 28, 4, NARROW),
        ro("hash", 32, 4, W),
        Field::ptr("sk", 40, Kind::Socket),
        Field::ptr("migrating_sk", 48, Kind::SockCommonOrNull),
    ],
    negative_ok: false,
};

/// `sk_lookup` (`sk_lookup_is_valid_access`): read only; the selected socket is set with
/// `bpf_sk_assign`.
pub static SK_LOOKUP: Layout = Layout {
    name: "bpf_sk_lookup",
    size: 72,
    fields: &[
        Field::ptr("sk", 0, Kind::SocketOrNull),
        ro("family", 8, 4, NARROW),
        ro("protocol", 12, 4, NARROW),
        ro("remote_ip4", 16, 4, NARROW),
        ro("remote_ip6", 20, 16, NARROW),
        // A 2-byte port read narrow, or as 4 bytes with its zero padding, which may also
        // be read alone (kept for programs written before the field shrank).
        ro("remote_port", 36, 2, Sizes::NARROW16),
        ro("remote_port", 36, 4, W),
        ro("remote_port_pad", 38, 2, Sizes::NARROW16),
        ro("local_ip4", 40, 4, NARROW),
        ro("local_ip6", 44, 16, NARROW),
        ro("local_port", 60, 4, NARROW),
        ro("ingress_ifindex", 64, 4, NARROW),
    ],
    negative_ok: false,
};

/// `cgroup_device` (`cgroup_dev_is_valid_access`).
pub static CGROUP_DEVICE: Layout = Layout {
    name: "bpf_cgroup_dev_ctx",
    size: 12,
    fields: &[
        ro("access_type", 0, 4, NARROW),
        ro("major", 4, 4, W),
        ro("minor", 8, 4, W),
    ],
    negative_ok: false,
};

/// `cgroup_sysctl` (`sysctl_is_valid_access`).
pub static CGROUP_SYSCTL: Layout = Layout {
    name: "bpf_sysctl",
    size: 8,
    fields: &[ro("write", 0, 4, NARROW), rw("file_pos", 4, 4, NARROW, W)],
    negative_ok: false,
};

/// `cgroup_sockopt` (`cg_sockopt_is_valid_access`): `retval` exists for getsockopt only,
/// `level` and `optname` are writable by setsockopt only.
pub static CGROUP_SOCKOPT: Layout = Layout {
    name: "bpf_sockopt",
    size: 40,
    fields: &[
        Field::ptr("sk", 0, Kind::Socket),
        Field::ptr("optval", 8, Kind::Packet),
        Field::ptr("optval_end", 16, Kind::PacketEnd),
        rw("level", 24, 4, W, W).write_only(&[At::CgroupSetsockopt]),
        rw("optname", 28, 4, W, W).write_only(&[At::CgroupSetsockopt]),
        rw("optlen", 32, 4, W, W),
        rw("retval", 36, 4, W, W).only(&[At::CgroupGetsockopt]),
    ],
    negative_ok: false,
};
