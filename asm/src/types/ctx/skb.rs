//! `struct __sk_buff` for the six program families that share it. One row per field with
//! the rule of `bpf_skb_is_valid_access` (net/core/filter.c), and a column per family for
//! what its own function (`sk_filter_`, `tc_cls_act_`, `cg_skb_`, `lwt_`, `sk_skb_`,
//! `flow_dissector_is_valid_access`) leaves of it: `N` no access, `R` read only, `W` read
//! and write.

use super::{Field, Kind, Layout, Sizes};

#[derive(Clone, Copy)]
enum A {
    N,
    R,
    W,
}
use A::*;

const C_SF: usize = 0;
const C_TC: usize = 1;
const C_CG: usize = 2;
const C_LWT: usize = 3;
const C_SKSKB: usize = 4;
const C_FD: usize = 5;

struct Row {
    field: Field,
    by: [A; 6],
}

const fn row(name: &'static str, off: u32, len: u32, read: Sizes, write: Sizes, by: [A; 6]) -> Row {
    Row {
        field: Field::rw(name, off, len, read, write),
        by,
    }
}

const fn ptr(name: &'static str, off: u32, read: Sizes, kind: Kind, by: [A; 6]) -> Row {
    let mut r = row(
        name,
        off,
        if read.has(8) { 8 } else { 4 },
        read,
        Sizes::NONE,
        by,
    );
    r.field.kind = kind;
    r
}

/// The default rule: narrow reads, whole 4-byte writes.
const fn u32f(name: &'static str, off: u32, by: [A; 6]) -> Row {
    row(name, off, 4, Sizes::NARROW, Sizes::W, by)
}

/// Fields read and written only as whole 4-byte words (addresses, packet pointers).
const fn word(name: &'static str, off: u32, len: u32, by: [A; 6]) -> Row {
    row(name, off, len, Sizes::W, Sizes::W, by)
}

//                                  SF TC CG LWT SKSKB FD
const ROWS: [Row; 34] = [
    u32f("len", 0, [R, R, R, R, R, N]),
    u32f("pkt_type", 4, [R, R, R, R, R, N]),
    u32f("mark", 8, [R, W, W, W, N, N]),
    u32f("queue_mapping", 12, [R, W, R, R, R, N]),
    u32f("protocol", 16, [R, R, R, R, R, N]),
    u32f("vlan_present", 20, [R, R, R, R, R, N]),
    u32f("vlan_tci", 24, [R, R, R, R, R, N]),
    u32f("vlan_proto", 28, [R, R, R, R, R, N]),
    u32f("priority", 32, [R, W, W, W, W, N]),
    u32f("ingress_ifindex", 36, [R, R, R, R, R, N]),
    u32f("ifindex", 40, [R, R, R, R, R, N]),
    u32f("tc_index", 44, [R, W, R, R, W, N]),
    // `cb[0] .. cb[4]`: any size, as long as the access ends inside cb.
    row("cb", 48, 20, Sizes::ANY, Sizes::ANY, [W, W, W, W, R, N]),
    u32f("hash", 68, [R, R, R, R, R, N]),
    u32f("tc_classid", 72, [N, W, N, N, N, N]),
    ptr("data", 76, Sizes::W, Kind::Packet, [N, R, R, R, R, R]),
    ptr(
        "data_end",
        80,
        Sizes::W,
        Kind::PacketEnd,
        [N, R, R, R, R, R],
    ),
    u32f("napi_id", 84, [R, R, R, R, R, N]),
    u32f("family", 88, [N, N, R, N, R, N]),
    word("remote_ip4", 92, 4, [N, N, R, N, R, N]),
    word("local_ip4", 96, 4, [N, N, R, N, R, N]),
    word("remote_ip6", 100, 16, [N, N, R, N, R, N]),
    word("local_ip6", 116, 16, [N, N, R, N, R, N]),
    u32f("remote_port", 132, [N, N, R, N, R, N]),
    u32f("local_port", 136, [N, N, R, N, R, N]),
    ptr(
        "data_meta",
        140,
        Sizes::W,
        Kind::PacketMeta,
        [N, R, N, N, N, N],
    ),
    ptr(
        "flow_keys",
        144,
        Sizes::DW,
        Kind::FlowKeys,
        [N, N, N, N, N, R],
    ),
    row("tstamp", 152, 8, Sizes::DW, Sizes::DW, [N, W, W, N, N, N]),
    u32f("wire_len", 160, [N, R, N, N, N, N]),
    u32f("gso_segs", 164, [R, R, R, R, R, N]),
    ptr(
        "sk",
        168,
        Sizes::DW,
        Kind::SockCommonOrNull,
        [R, R, R, R, R, N],
    ),
    u32f("gso_size", 176, [R, R, R, R, R, N]),
    // `tstamp_type` is readable (1 byte) by tc only; the padding after it by nobody.
    row(
        "tstamp_type",
        180,
        1,
        Sizes(1),
        Sizes::NONE,
        [N, R, N, N, N, N],
    ),
    row(
        "hwtstamp",
        184,
        8,
        Sizes::DW,
        Sizes::NONE,
        [N, R, R, N, N, N],
    ),
];

const N_FIELDS: usize = ROWS.len();

const fn family(col: usize) -> [Field; N_FIELDS] {
    let mut out = [Field::ro("", 0, 0, Sizes::NONE); N_FIELDS];
    let mut i = 0;
    while i < N_FIELDS {
        let r = &ROWS[i];
        let mut f = r.field;
        match r.by[col] {
            N => {
                f.read = Sizes::NONE;
                f.write = Sizes::NONE;
            }
            R => f.write = Sizes::NONE,
            W => {}
        }
        out[i] = f;
        i += 1;
    }
    out
}

static SF_FIELDS: [Field; N_FIELDS] = family(C_SF);
static TC_FIELDS: [Field; N_FIELDS] = family(C_TC);
static CG_FIELDS: [Field; N_FIELDS] = family(C_CG);
static LWT_FIELDS: [Field; N_FIELDS] = family(C_LWT);
static SKSKB_FIELDS: [Field; N_FIELDS] = family(C_SKSKB);
static FD_FIELDS: [Field; N_FIELDS] = family(C_FD);

const fn skb(fields: &'static [Field]) -> Layout {
    Layout {
        name: "__sk_buff",
        size: 192,
        fields,
        negative_ok: false,
    }
}

/// `socket_filter` (`sk_filter_is_valid_access`).
pub static SOCKET_FILTER: Layout = skb(&SF_FIELDS);
/// `sched_cls`, `sched_act` (`tc_cls_act_is_valid_access`).
pub static TC: Layout = skb(&TC_FIELDS);
/// `cgroup_skb` (`cg_skb_is_valid_access`, privileged).
pub static CGROUP_SKB: Layout = skb(&CG_FIELDS);
/// `lwt_in`, `lwt_out`, `lwt_xmit`, `lwt_seg6local` (`lwt_is_valid_access`).
pub static LWT: Layout = skb(&LWT_FIELDS);
/// `sk_skb` (`sk_skb_is_valid_access`).
pub static SK_SKB: Layout = skb(&SKSKB_FIELDS);
/// `flow_dissector` (`flow_dissector_is_valid_access`): data, data_end, flow_keys.
pub static FLOW_DISSECTOR: Layout = skb(&FD_FIELDS);

/// `struct bpf_flow_keys`, what a flow dissector's `flow_keys` points at (any access
/// inside it: `check_flow_keys_access`); the kernel starts `nhoff`, `thoff`, `n_proto` and
/// `flags` (`bpf_flow_dissect()` in net/core/flow_dissector.c) and reads the rest back.
pub static FLOW_KEYS: Layout = Layout {
    name: "bpf_flow_keys",
    size: 56,
    fields: &[
        Field::rw("nhoff", 0, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("thoff", 2, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("addr_proto", 4, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("is_frag", 6, 1, Sizes::ANY, Sizes::ANY),
        Field::rw("is_first_frag", 7, 1, Sizes::ANY, Sizes::ANY),
        Field::rw("is_encap", 8, 1, Sizes::ANY, Sizes::ANY),
        Field::rw("ip_proto", 9, 1, Sizes::ANY, Sizes::ANY),
        Field::rw("n_proto", 10, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("sport", 12, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("dport", 14, 2, Sizes::ANY, Sizes::ANY),
        Field::rw("ipv4_src", 16, 4, Sizes::ANY, Sizes::ANY),
        Field::rw("ipv4_dst", 20, 4, Sizes::ANY, Sizes::ANY),
        Field::rw("ipv6_src", 16, 16, Sizes::ANY, Sizes::ANY),
        Field::rw("ipv6_dst", 32, 16, Sizes::ANY, Sizes::ANY),
        Field::rw("flags", 48, 4, Sizes::ANY, Sizes::ANY),
        Field::rw("flow_label", 52, 4, Sizes::ANY, Sizes::ANY),
    ],
    negative_ok: false,
};
