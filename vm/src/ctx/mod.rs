//! Program types and their contexts.
//!
//! The kernel rewrites context accesses (`convert_ctx_access`): a 4-byte load of
//! `__sk_buff.data` yields a 64-bit packet pointer. The VM does the same at run time: the
//! context is a region whose pointer fields are synthesised on load, whose read-only fields
//! refuse stores, and whose other bytes are plain memory filled from the packet and
//! [`SkbFields`].

use asm::types::ctx::{Field, Layout as CtxLayout, FLOW_KEYS};
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
    // `may_access_skb()` in kernel/bpf/verifier.c.
    matches!(
        t,
        Some(ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct)
    )
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

/// A program type's context as the VM checks it: the structure from `asm::types::ctx`
/// (`None`: a plain or syscall-like program whose context bytes are all plain memory),
/// followed by memory that pointer fields point at (a flow dissector's `bpf_flow_keys`).
#[derive(Debug)]
pub(crate) struct Layout {
    pub table: Option<&'static CtxLayout>,
    /// Context bytes at and after this offset are plain memory (flow keys, or the part of
    /// a raw context past the structure).
    pub checked_end: usize,
}

/// `__sk_buff` field offsets for the helpers that keep `len`, `protocol`, the VLAN fields
/// and `hash` current after they change the packet — read from the one table,
/// `asm::types::ctx` (`__sk_buff` is the same for every skb program type).
pub(crate) mod skb {
    use asm::types::ProgType;

    /// The offset of the `__sk_buff` field `name`.
    pub(crate) fn off(name: &str) -> usize {
        asm::types::ctx::layout(ProgType::SchedCls)
            .and_then(|l| l.field(name))
            .map(|f| f.off as usize)
            .unwrap_or_else(|| panic!("`{name}` is not a __sk_buff field of asm's table"))
    }
}
/// Where a flow dissector's `bpf_flow_keys` sit in the context region: right after
/// `__sk_buff`, so the program's writes to them are the context bytes after the run.
pub(crate) const FLOW_KEYS_AT: usize = 192;
/// `sizeof(struct bpf_flow_keys)`.
pub(crate) const FLOW_KEYS_SIZE: usize = 56;

/// A context access no field admits.
#[derive(Debug)]
pub(crate) struct Refused;

impl Layout {
    /// The field a load or store of `size` bytes at `off` uses: `Ok(None)` for plain
    /// memory. Attach-type conditions are not checked (the verifier does, at load time).
    pub(crate) fn field(
        &self,
        off: usize,
        size: usize,
        write: bool,
    ) -> Result<Option<&'static Field>, Refused> {
        let Some(t) = self.table else {
            return Ok(None);
        };
        if off >= self.checked_end {
            return Ok(None);
        }
        match t.access_any_attach(off as i64, size as u32, write) {
            Some(a) => Ok(Some(a.field)),
            None => Err(Refused),
        }
    }

    /// Whether helpers may read `len` bytes at `off` (not through a pointer field).
    pub(crate) fn can_read(&self, off: usize, len: usize) -> bool {
        self.bytes_ok(off, len, false)
    }

    /// Whether helpers may write `len` bytes at `off`.
    pub(crate) fn can_write(&self, off: usize, len: usize) -> bool {
        self.bytes_ok(off, len, true)
    }

    fn bytes_ok(&self, off: usize, len: usize, write: bool) -> bool {
        let Some(t) = self.table else {
            return true;
        };
        (off..off.saturating_add(len)).all(|b| {
            b >= self.checked_end
                || t.fields.iter().any(|f| {
                    (f.off as usize..(f.off + f.len) as usize).contains(&b)
                        && !f.kind.is_pointer()
                        && !(if write { f.write } else { f.read }).is_empty()
                })
        })
    }
}

/// The layout of a program type's context.
pub(crate) fn layout(t: Option<ProgType>) -> Layout {
    let table = t.and_then(asm::types::ctx::layout);
    let checked_end = match t {
        // The program's own buffer: any bytes, read and written.
        None | Some(ProgType::Syscall) => 0,
        Some(ProgType::FlowDissector) => FLOW_KEYS_AT,
        // Every byte is checked against the table (which refuses those past the end).
        _ => usize::MAX,
    };
    Layout {
        table: table.filter(|_| checked_end > 0),
        checked_end,
    }
}

/// Whether the context is a fixed structure the VM pads the test's bytes to (the raw
/// contexts of tracepoints, raw tracepoints, tracing and syscall programs are as long as
/// the test makes them).
pub(crate) fn fixed_size(t: ProgType) -> Option<usize> {
    use ProgType::*;
    match t {
        Tracepoint | RawTracepoint | RawTracepointWritable | Tracing | Syscall => None,
        FlowDissector => Some(FLOW_KEYS_AT + FLOW_KEYS_SIZE),
        _ => asm::types::ctx::layout(t).map(|l| l.size as usize),
    }
}

/// Whether the context is a `__sk_buff` the VM fills from the packet and [`SkbFields`].
pub(crate) fn is_skb_ctx(t: ProgType) -> bool {
    asm::types::ctx::layout(t).is_some_and(|l| l.name == "__sk_buff")
        && t != ProgType::FlowDissector
}

/// Writes `value` into the field `name` of a context built for `table` (little-endian, the
/// field's length up to 8 bytes); the offsets come from `asm::types::ctx`.
pub(crate) fn put_field(ctx: &mut [u8], table: &CtxLayout, name: &str, value: u64) {
    if let Some(f) = table.field(name) {
        let (off, len) = (f.off as usize, (f.len as usize).min(8));
        if let Some(dst) = ctx.get_mut(off..off + len) {
            dst.copy_from_slice(&value.to_le_bytes()[..len]);
        }
    }
}

/// `ETH_HLEN`: where the kernel's flow dissector test run starts the network header.
const ETH_HLEN: u16 = 14;

/// Fills the fields the kernel derives rather than the test: for `__sk_buff` the packet's
/// length and protocol and the [`SkbFields`] that are set; for `xdp_md` the receive queue;
/// for a flow dissector the `bpf_flow_keys` as `bpf_flow_dissect()`
/// (net/core/flow_dissector.c) starts them. The test's context bytes are already in place.
pub(crate) fn fill(t: ProgType, m: &mut crate::Machine) {
    let Some(table) = asm::types::ctx::layout(t) else {
        return;
    };
    let packet_len = m.packet.len() as u64;
    if is_skb_ctx(t) {
        let e = m.env.skb;
        let c = &mut m.ctx;
        put_field(c, table, "len", packet_len);
        // As for socket filters, whatever the type: the kernel backend gives cgroup_skb and
        // lwt programs the same Ethertype (`kernel::run`, which puts the header back).
        put_field(c, table, "protocol", skb_protocol(&m.packet) as u64);
        put_field(c, table, "wire_len", packet_len);
        // Fields the test sets through the environment override its context bytes.
        for (name, v) in [
            ("pkt_type", e.pkt_type),
            ("mark", e.mark),
            ("queue_mapping", e.queue_mapping),
            ("vlan_tci", e.vlan_tci),
            ("priority", e.priority),
            ("ingress_ifindex", e.ingress_ifindex),
            ("ifindex", e.ifindex),
            ("hash", e.hash),
        ] {
            if v != 0 {
                put_field(c, table, name, v as u64);
            }
        }
        if e.vlan_tci != 0 {
            put_field(c, table, "vlan_present", 1);
        }
        return;
    }
    match t {
        ProgType::Xdp => {
            put_field(
                &mut m.ctx,
                table,
                "ingress_ifindex",
                m.env.xdp_ingress_ifindex as u64,
            );
            put_field(
                &mut m.ctx,
                table,
                "rx_queue_index",
                m.env.xdp_rx_queue_index as u64,
            );
        }
        ProgType::FlowDissector => {
            // The test's bytes are the `bpf_flow_keys` it passes in (the kernel's ctx_in);
            // only `flags` survives the memset in bpf_flow_dissect().
            let flags = get_field(&m.ctx, &FLOW_KEYS, "flags");
            let mut keys = [0u8; FLOW_KEYS_SIZE];
            // The Ethertype as it is in the frame (`__be16`).
            let n_proto = m
                .packet
                .get(12..14)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            put_field(&mut keys, &FLOW_KEYS, "nhoff", ETH_HLEN.into());
            put_field(&mut keys, &FLOW_KEYS, "thoff", ETH_HLEN.into());
            put_field(&mut keys, &FLOW_KEYS, "n_proto", n_proto.into());
            put_field(&mut keys, &FLOW_KEYS, "flags", flags);
            m.ctx.clear();
            m.ctx.resize(FLOW_KEYS_AT, 0);
            m.ctx.extend_from_slice(&keys);
        }
        _ => {}
    }
}

/// What the kernel does with the context after the program: a flow dissector's offsets
/// are clamped to the packet (`bpf_flow_dissect()`).
pub(crate) fn finish(t: Option<ProgType>, m: &mut crate::Machine) {
    if t != Some(ProgType::FlowDissector) || m.ctx.len() < FLOW_KEYS_AT + FLOW_KEYS_SIZE {
        return;
    }
    let hlen = m.packet.len().min(u16::MAX as usize) as u16;
    let keys = &mut m.ctx[FLOW_KEYS_AT..];
    let nhoff = (get_field(keys, &FLOW_KEYS, "nhoff") as u16).clamp(ETH_HLEN.min(hlen), hlen);
    let thoff = (get_field(keys, &FLOW_KEYS, "thoff") as u16).clamp(nhoff, hlen);
    put_field(keys, &FLOW_KEYS, "nhoff", nhoff.into());
    put_field(keys, &FLOW_KEYS, "thoff", thoff.into());
}

/// Reads the field `name` (little-endian, up to 8 bytes) of a context built for `table`.
pub(crate) fn get_field(ctx: &[u8], table: &CtxLayout, name: &str) -> u64 {
    let Some(f) = table.field(name) else {
        return 0;
    };
    let (off, len) = (f.off as usize, (f.len as usize).min(8));
    let mut b = [0u8; 8];
    if let Some(src) = ctx.get(off..off + len) {
        b[..len].copy_from_slice(src);
    }
    u64::from_le_bytes(b)
}
