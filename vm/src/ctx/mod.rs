//! Program types and their contexts.
//!
//! The kernel rewrites context accesses (`convert_ctx_access`): a 4-byte load of
//! `__sk_buff.data` yields a 64-bit packet pointer. The VM does the same at run time: the
//! context is a region whose pointer fields are synthesised on load, whose read-only fields
//! refuse stores, and whose other bytes are plain memory filled from the packet and
//! [`SkbFields`].

pub use asm::types::ProgType;

pub mod net;

/// Parses a program type as the CLI spells it: `plain` (or `none`) is `None`, a program
/// without kernel context; otherwise any spelling [`ProgType`]'s `FromStr` accepts, and
/// `tc` / `classifier` for `sched_cls`, `socket` for `socket_filter`, `raw_tp` for
/// `raw_tracepoint`.
pub fn parse_prog_type(name: &str) -> Result<Option<ProgType>, String> {
    let n = name.trim().to_ascii_lowercase().replace('-', "_");
    let n = n.strip_prefix("bpf_prog_type_").unwrap_or(&n);
    Ok(Some(match n {
        "plain" | "none" => return Ok(None),
        "tc" | "classifier" => ProgType::SchedCls,
        "socket" => ProgType::SocketFilter,
        "raw_tp" => ProgType::RawTracepoint,
        _ => name.parse::<ProgType>()?,
    }))
}

/// The name of a program type as the VM reports it: the kernel type's name, or `plain`.
pub fn prog_type_name(t: Option<ProgType>) -> &'static str {
    t.map_or("plain", ProgType::name)
}

/// Whether the context is a `__sk_buff` and `ld_abs`/`ld_ind` read the packet.
pub(crate) const fn is_skb(t: Option<ProgType>) -> bool {
    matches!(t, Some(ProgType::SocketFilter | ProgType::SchedCls))
}

/// `skb->protocol` for a packet, as the 16-bit value the context holds (network byte order,
/// i.e. the bytes as they are in the frame).
///
/// The packet is what the program sees at `skb->data`: for a socket filter that is the whole
/// frame from the Ethernet header on, as on an `AF_PACKET` socket. The protocol is what
/// `eth_type_trans` (`net/ethernet/eth.c`) derived when the frame was received: the
/// Ethertype (bytes 12–13) when it is at least `ETH_P_802_3_MIN` (0x0600); below that the
/// field is an 802.3 length, and the protocol is `ETH_P_802_3` (raw 802.3, payload starting
/// `ff ff`) or `ETH_P_802_2` (LLC). A packet shorter than an Ethernet header has protocol 0.
pub fn skb_protocol(packet: &[u8]) -> u16 {
    const ETH_P_802_3_MIN: u16 = 0x0600;
    const ETH_P_802_3: u16 = 0x0001;
    const ETH_P_802_2: u16 = 0x0004;
    let Some(t) = packet.get(12..14) else {
        return 0;
    };
    let be = u16::from_be_bytes([t[0], t[1]]);
    let proto = if be >= ETH_P_802_3_MIN {
        be
    } else if packet.get(14..16) == Some(&[0xff, 0xff]) {
        ETH_P_802_3
    } else {
        ETH_P_802_2
    };
    // The context stores the __be16 as it is in memory.
    u16::from_le_bytes(proto.to_be_bytes())
}

/// `sk_buff` fields a test can set for socket filters and tc programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkbFields {
    /// `mark`.
    pub mark: u32,
    /// `priority`.
    pub priority: u32,
    /// `ingress_ifindex`.
    pub ingress_ifindex: u32,
    /// `ifindex`.
    pub ifindex: u32,
    /// `hash`.
    pub hash: u32,
    /// `queue_mapping`.
    pub queue_mapping: u32,
    /// `vlan_tci` (with `vlan_present` set when non-zero).
    pub vlan_tci: u32,
    /// `pkt_type`.
    pub pkt_type: u32,
}

/// Which synthesised pointer a context field yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PtrField {
    Data,
    DataEnd,
    DataMeta,
}

#[derive(Debug)]
pub(crate) struct Layout {
    /// Size of the context struct (the context bytes are padded to it).
    pub size: usize,
    /// Offsets of 4-byte fields that load as 64-bit pointers.
    pub ptrs: &'static [(u32, PtrField)],
    /// Byte ranges a program may write.
    pub writable: &'static [(u32, u32)],
    /// Byte ranges a program may not read (`flow_keys`, `sk` ...: pointers to kernel objects).
    pub no_read: &'static [(u32, u32)],
}

/// `__sk_buff` offsets (`include/uapi/linux/bpf.h`).
pub(crate) mod skb {
    pub const LEN: usize = 0;
    pub const PKT_TYPE: usize = 4;
    pub const MARK: usize = 8;
    pub const QUEUE_MAPPING: usize = 12;
    pub const PROTOCOL: usize = 16;
    pub const VLAN_PRESENT: usize = 20;
    pub const VLAN_TCI: usize = 24;
    pub const VLAN_PROTO: usize = 28;
    pub const PRIORITY: usize = 32;
    pub const INGRESS_IFINDEX: usize = 36;
    pub const IFINDEX: usize = 40;
    pub const HASH: usize = 68;
    pub const DATA: u32 = 76;
    pub const DATA_END: u32 = 80;
    pub const DATA_META: u32 = 140;
    pub const WIRE_LEN: usize = 160;
    pub const SIZE: usize = 192;
}

static SOCKET_FILTER: Layout = Layout {
    size: skb::SIZE,
    // sk_filter_is_valid_access: no direct packet access; only cb[] is writable.
    ptrs: &[],
    writable: &[(48, 68)],
    no_read: &[(76, 84), (140, 152), (168, 176)],
};

static SCHED_CLS: Layout = Layout {
    size: skb::SIZE,
    ptrs: &[
        (skb::DATA, PtrField::Data),
        (skb::DATA_END, PtrField::DataEnd),
        (skb::DATA_META, PtrField::DataMeta),
    ],
    // tc_cls_act_is_valid_access: mark, queue_mapping, priority, tc_index, cb[], tc_classid,
    // tstamp.
    writable: &[(8, 16), (32, 36), (44, 68), (72, 76), (152, 160)],
    no_read: &[(144, 152), (168, 176)],
};

static XDP: Layout = Layout {
    size: 24,
    ptrs: &[
        (0, PtrField::Data),
        (4, PtrField::DataEnd),
        (8, PtrField::DataMeta),
    ],
    writable: &[],
    no_read: &[],
};

static KPROBE: Layout = Layout {
    size: 168,
    ptrs: &[],
    writable: &[],
    no_read: &[],
};
static READ_ONLY: Layout = Layout {
    size: 0,
    ptrs: &[],
    writable: &[],
    no_read: &[],
};
static WRITABLE: Layout = Layout {
    size: 0,
    ptrs: &[],
    writable: &[(0, u32::MAX)],
    no_read: &[],
};

pub(crate) fn layout(t: Option<ProgType>) -> &'static Layout {
    match t {
        Some(ProgType::SocketFilter) => &SOCKET_FILTER,
        Some(ProgType::SchedCls) => &SCHED_CLS,
        Some(ProgType::Xdp) => &XDP,
        Some(ProgType::Kprobe) => &KPROBE,
        Some(ProgType::Tracepoint | ProgType::RawTracepoint) => &READ_ONLY,
        // Plain, syscall (and types the VM refuses to load).
        _ => &WRITABLE,
    }
}

impl Layout {
    pub(crate) fn ptr_at(&self, off: usize) -> Option<PtrField> {
        self.ptrs
            .iter()
            .find(|(o, _)| *o as usize == off)
            .map(|&(_, p)| p)
    }

    fn covers(ranges: &[(u32, u32)], off: usize, size: usize) -> bool {
        ranges
            .iter()
            .any(|&(s, e)| off >= s as usize && off + size <= e as usize)
    }

    fn touches(ranges: &[(u32, u32)], off: usize, size: usize) -> bool {
        ranges
            .iter()
            .any(|&(s, e)| off < e as usize && off + size > s as usize)
    }

    pub(crate) fn can_write(&self, off: usize, size: usize) -> bool {
        Layout::covers(self.writable, off, size)
    }

    pub(crate) fn can_read(&self, off: usize, size: usize) -> bool {
        !Layout::touches(self.no_read, off, size)
            && !self
                .ptrs
                .iter()
                .any(|&(o, _)| off < o as usize + 4 && off + size > o as usize)
    }
}
