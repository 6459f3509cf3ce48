//! Helpers that read, write, grow and shrink the packet of tc (`__sk_buff`) and XDP
//! (`xdp_md`) programs, as net/core/filter.c does. A helper that changes the packet's
//! layout moves `data`/`data_meta`/`data_end`; the context's pointer fields are computed
//! from them on every load, so a program that reloads them (as the verifier forces it to)
//! sees the new packet.

use super::{skb_data_range, write_ctx32, EFAULT, EINVAL, ENOMEM};
use crate::ctx::net::{IpSummed, NetEnv};
use crate::ctx::skb;
use crate::error::HelperError;
use crate::machine::Machine;

/// `XDP_PACKET_HEADROOM`: room test_run leaves before an XDP frame's data.
pub(crate) const XDP_PACKET_HEADROOM: usize = 256;
/// The XDP frame test_run builds is one page (`frame_sz` = `PAGE_SIZE`)...
const XDP_FRAME_SIZE: usize = 4096;
/// ...whose last `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` bytes (320 on x86-64,
/// measured with BTF on 6.18) are not data: `xdp_data_hard_end()`.
const XDP_TAILROOM: usize = 320;
/// `sizeof(struct xdp_frame)`: the start of the frame holds it, so data and metadata may
/// not grow into it.
const XDP_FRAME_HDR: usize = 40;
/// `ETH_HLEN`.
const ETH_HLEN: usize = 14;
/// `BPF_SKB_MAX_LEN` = `SKB_MAX_ALLOC`: an order-2 allocation less the shared info.
pub(super) const SKB_MAX_LEN: u64 = (4096 << 2) - XDP_TAILROOM as u64;

/// skb state that helpers change and `__sk_buff` does not show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SkbState {
    /// `ip_summed`.
    pub ip_summed: IpSummed,
    /// `csum` (meaningful with `CHECKSUM_COMPLETE`).
    pub csum: u32,
    /// `csum_level`.
    pub csum_level: u8,
    /// Whether `skb->hash` is valid (`l4_hash` or `sw_hash`): else `skb_get_hash`
    /// recomputes it.
    pub hash_valid: bool,
    /// The network header's offset from `data` (`skb_network_offset`).
    pub net_off: usize,
    /// Tunnel metadata (`skb_tunnel_info`).
    pub tunnel: Option<crate::ctx::net::TunnelKey>,
}

impl SkbState {
    /// The state at the start of a run: the network header after the Ethernet header, as
    /// test_run leaves it (eth_type_trans, then the push back of the MAC header).
    pub(crate) fn from_env(net: &NetEnv, hash: u32) -> SkbState {
        SkbState {
            ip_summed: net.ip_summed,
            csum: net.csum,
            csum_level: net.csum_level,
            hash_valid: hash != 0,
            net_off: ETH_HLEN,
            tunnel: net.tunnel.clone(),
        }
    }
}

/// Refreshes `__sk_buff.len` after the packet changed size.
pub(super) fn sync_len(m: &mut Machine) {
    let len = m.packet_data().len() as u32;
    write_ctx32(m, skb::off("len"), len);
}

/// `csum_block_add`/`csum_block_sub` helper: a partial sum at an odd offset is rotated.
fn at_offset(sum: u32, off: usize) -> u32 {
    if off & 1 == 1 {
        sum.rotate_right(8)
    } else {
        sum
    }
}

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)` (net/core/filter.c): -EINVAL for
/// unknown flags, -EFAULT when the range is outside the packet; `BPF_F_RECOMPUTE_CSUM`
/// keeps a `CHECKSUM_COMPLETE` sum right (`__skb_postpull_rcsum` before,
/// `__skb_postpush_rcsum` after), `BPF_F_INVALIDATE_HASH` clears the hash.
pub(super) fn skb_store_bytes(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const BPF_F_RECOMPUTE_CSUM: u64 = 1;
    const BPF_F_INVALIDATE_HASH: u64 = 2;
    let (off, len, flags) = (a[1] as u32, a[3] as u32 as usize, a[4]);
    if flags & !(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH) != 0 {
        return Ok(EINVAL);
    }
    let bytes = m.read_vec(a[2], len)?;
    if off > i32::MAX as u32 {
        return Ok(EFAULT);
    }
    let Some(range) = skb_data_range(m, off as usize, len) else {
        return Ok(EFAULT);
    };
    let recompute =
        flags & BPF_F_RECOMPUTE_CSUM != 0 && m.skb_state.ip_summed == IpSummed::Complete;
    if recompute {
        let old = super::csum::csum_partial(&m.packet[range.clone()], 0);
        m.skb_state.csum = super::csum::csum_sub(m.skb_state.csum, at_offset(old, off as usize));
    }
    m.packet[range].copy_from_slice(&bytes);
    if recompute {
        let new = super::csum::csum_partial(&bytes, 0);
        m.skb_state.csum = super::csum::csum_add(m.skb_state.csum, at_offset(new, off as usize));
    }
    if flags & BPF_F_INVALIDATE_HASH != 0 {
        clear_hash(m);
    }
    Ok(0)
}

/// `skb_clear_hash`.
pub(super) fn clear_hash(m: &mut Machine) {
    m.skb_state.hash_valid = false;
    write_ctx32(m, skb::off("hash"), 0);
}

/// `bpf_skb_load_bytes_relative(skb, offset, to, len, start_header)`: reads from the MAC
/// (`BPF_HDR_START_MAC`, 0) or network (`BPF_HDR_START_NET`, 1) header; any failure
/// zeroes the buffer and returns -EFAULT (bpf_skb_load_bytes_relative()).
pub(super) fn skb_load_bytes_relative(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (off, to, len, start) = (
        a[1] as u32 as usize,
        a[2],
        a[3] as u32 as usize,
        a[4] as u32,
    );
    let base = match start {
        0 => Some(0),
        1 => Some(m.skb_state.net_off),
        _ => None,
    };
    let bytes = base
        .filter(|_| off <= 0xffff)
        .and_then(|b| skb_data_range(m, b + off, len))
        .map(|r| m.packet[r].to_vec());
    match bytes {
        Some(b) => {
            m.write(to, &b)?;
            Ok(0)
        }
        None => {
            m.zero(to, len)?;
            Ok(EFAULT)
        }
    }
}

/// `bpf_skb_pull_data(skb, len)`: makes `len` bytes (0: the linear part) directly
/// accessible. The VM's packet is all linear, so it fails only when the packet is shorter
/// (`pskb_may_pull` fails: -ENOMEM).
pub(super) fn skb_pull_data(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let len = a[1] as u32 as usize;
    Ok(if len > m.packet_data().len() {
        ENOMEM
    } else {
        0
    })
}

/// `bpf_skb_change_tail(skb, new_len, flags)` (__bpf_skb_change_tail()): grows with zeros
/// or trims; -EINVAL for flags, a length above `BPF_SKB_MAX_LEN` or one that would cut
/// into the headers before the network header (`__bpf_skb_min_len`).
pub(super) fn skb_change_tail(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (new_len, flags) = (a[1] as u32 as u64, a[2]);
    if flags != 0 || new_len > SKB_MAX_LEN || new_len < m.skb_state.net_off as u64 {
        return Ok(EINVAL);
    }
    let end = m.pkt_data + new_len as usize;
    m.packet.resize(end, 0);
    if m.skb_state.ip_summed == IpSummed::Complete {
        // __skb_trim_rcsum/__skb_grow_rcsum drop a complete sum they cannot keep.
        m.skb_state.ip_summed = IpSummed::None;
    }
    sync_len(m);
    Ok(0)
}

/// `bpf_skb_change_head(skb, head_room, flags)` (__bpf_skb_change_head()): pushes
/// `head_room` zero bytes in front of the packet, which become the MAC header.
pub(super) fn skb_change_head(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (room, flags) = (a[1] as u32, a[2]);
    let len = m.packet_data().len() as u32;
    let new_len = len.wrapping_add(room);
    if flags != 0 || new_len as u64 > SKB_MAX_LEN || new_len < len {
        return Ok(EINVAL);
    }
    let mut buf = vec![0u8; room as usize];
    buf.extend_from_slice(m.packet_data());
    m.packet = buf;
    m.pkt_data = 0;
    m.pkt_meta = 0;
    m.skb_state.net_off += room as usize;
    sync_len(m);
    Ok(0)
}

/// `bpf_skb_change_type(skb, pkt_type)`: only `PACKET_HOST` to `PACKET_OTHERHOST` (0–3),
/// from and to (skb_pkt_type_ok()); else -EINVAL.
pub(super) fn skb_change_type(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const PACKET_OTHERHOST: u32 = 3;
    let cur = super::read_ctx32(m, skb::off("pkt_type"));
    let new = a[1] as u32;
    if cur > PACKET_OTHERHOST || new > PACKET_OTHERHOST {
        return Ok(EINVAL);
    }
    write_ctx32(m, skb::off("pkt_type"), new);
    Ok(0)
}

const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
const VLAN_HLEN: usize = 4;

/// `__sk_buff.protocol` as a host-order Ethertype.
pub(super) fn protocol(m: &Machine) -> u16 {
    u16::from_be_bytes((super::read_ctx32(m, skb::off("protocol")) as u16).to_le_bytes())
}

pub(super) fn set_protocol(m: &mut Machine, proto: u16) {
    write_ctx32(
        m,
        skb::off("protocol"),
        u16::from_le_bytes(proto.to_be_bytes()) as u32,
    );
}

/// The offload ("hardware accelerated") tag `__sk_buff` shows: (proto, tci) when present.
fn hw_tag(m: &Machine) -> Option<(u16, u16)> {
    (super::read_ctx32(m, skb::off("vlan_present")) != 0).then(|| {
        let proto = super::read_ctx32(m, skb::off("vlan_proto")) as u16;
        (
            u16::from_be_bytes(proto.to_le_bytes()),
            super::read_ctx32(m, skb::off("vlan_tci")) as u16,
        )
    })
}

fn set_hw_tag(m: &mut Machine, tag: Option<(u16, u16)>) {
    let (present, proto, tci) = match tag {
        Some((p, t)) => (1, u16::from_le_bytes(p.to_be_bytes()) as u32, t as u32),
        None => (0, 0, 0),
    };
    write_ctx32(m, skb::off("vlan_present"), present);
    write_ctx32(m, skb::off("vlan_tci"), tci);
    if present == 1 {
        write_ctx32(m, skb::off("vlan_proto"), proto);
    }
}

fn is_vlan(proto: u16) -> bool {
    proto == ETH_P_8021Q || proto == ETH_P_8021AD
}

/// `bpf_skb_vlan_push(skb, vlan_proto, vlan_tci)` → skb_vlan_push() (net/core/skbuff.c):
/// a tag already in the offload slot moves into the frame (after the MAC addresses); the
/// new one takes the slot. Protocols other than 802.1Q/802.1AD become 802.1Q.
pub(super) fn skb_vlan_push(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let raw = a[1] as u16;
    let proto = u16::from_be_bytes(raw.to_le_bytes());
    let proto = if is_vlan(proto) { proto } else { ETH_P_8021Q };
    let tci = a[2] as u16;
    if let Some((old_proto, old_tci)) = hw_tag(m) {
        // __vlan_insert_tag
        let data = m.packet_data().to_vec();
        if data.len() < 2 * 6 {
            return Ok(ENOMEM);
        }
        let mut buf = data[..12].to_vec();
        buf.extend_from_slice(&old_proto.to_be_bytes());
        buf.extend_from_slice(&old_tci.to_be_bytes());
        buf.extend_from_slice(&data[12..]);
        m.packet = buf;
        m.pkt_data = 0;
        m.pkt_meta = 0;
        m.skb_state.net_off += VLAN_HLEN;
        set_protocol(m, old_proto);
        sync_len(m);
    }
    set_hw_tag(m, Some((proto, tci)));
    Ok(0)
}

/// `__skb_vlan_pop`: removes the tag after the MAC addresses; returns its TCI.
fn pop_inline_tag(m: &mut Machine) -> Option<u16> {
    let data = m.packet_data().to_vec();
    if data.len() < ETH_HLEN + VLAN_HLEN {
        return None;
    }
    let tci = u16::from_be_bytes([data[14], data[15]]);
    let inner = u16::from_be_bytes([data[16], data[17]]);
    let mut buf = data[..12].to_vec();
    buf.extend_from_slice(&data[16..]);
    m.packet = buf;
    m.pkt_data = 0;
    m.pkt_meta = 0;
    m.skb_state.net_off = m.skb_state.net_off.saturating_sub(VLAN_HLEN).max(ETH_HLEN);
    // vlan_set_encap_proto
    let proto = if inner >= 0x0600 {
        inner
    } else if data.get(18..20) == Some(&[0xff, 0xff]) {
        0x0001
    } else {
        0x0004
    };
    set_protocol(m, proto);
    sync_len(m);
    Some(tci)
}

/// `bpf_skb_vlan_pop(skb)` → skb_vlan_pop() (net/core/skbuff.c): clears the offload tag, or
/// removes the frame's outer tag; a tag that follows moves into the offload slot.
pub(super) fn skb_vlan_pop(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    if hw_tag(m).is_some() {
        set_hw_tag(m, None);
    } else {
        if !is_vlan(protocol(m)) {
            return Ok(0);
        }
        if pop_inline_tag(m).is_none() {
            return Ok(ENOMEM);
        }
    }
    let proto = protocol(m);
    if !is_vlan(proto) {
        return Ok(0);
    }
    match pop_inline_tag(m) {
        Some(tci) => {
            set_hw_tag(m, Some((proto, tci)));
            Ok(0)
        }
        None => Ok(ENOMEM),
    }
}

/// `bpf_xdp_adjust_head(xdp, offset)` (bpf_xdp_adjust_head()): moves `data` (and the
/// metadata with it); -EINVAL if it would enter the `xdp_frame` area or leave less than an
/// Ethernet header.
pub(super) fn xdp_adjust_head(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let delta = a[1] as i32 as i64;
    let metalen = m.pkt_data - m.pkt_meta;
    let data = m.pkt_data as i64 + delta;
    let end = m.packet.len() as i64;
    if data < (XDP_FRAME_HDR + metalen) as i64 || data > end - ETH_HLEN as i64 {
        return Ok(EINVAL);
    }
    let data = data as usize;
    let meta = data - metalen;
    if metalen > 0 {
        m.packet.copy_within(m.pkt_meta..m.pkt_data, meta);
    }
    m.pkt_meta = meta;
    m.pkt_data = data;
    Ok(0)
}

/// `bpf_xdp_adjust_tail(xdp, offset)` (bpf_xdp_adjust_tail()): moves `data_end`; growth
/// is zeroed and may reach `xdp_data_hard_end()`; at least an Ethernet header stays.
pub(super) fn xdp_adjust_tail(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let delta = a[1] as i32 as i64;
    let end = m.packet.len() as i64 + delta;
    if end > (XDP_FRAME_SIZE - XDP_TAILROOM) as i64 || end < (m.pkt_data + ETH_HLEN) as i64 {
        return Ok(EINVAL);
    }
    m.packet.resize(end as usize, 0);
    Ok(0)
}

/// `bpf_xdp_adjust_meta(xdp, offset)` (bpf_xdp_adjust_meta()): moves `data_meta`; -EINVAL
/// outside `[end of xdp_frame, data]`, -EACCES for a length that is not a multiple of 4 or
/// above 255 (`xdp_metalen_invalid`: `skb_shared_info.meta_len` is a u8).
pub(super) fn xdp_adjust_meta(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const EACCES: u64 = -13i64 as u64;
    let meta = m.pkt_meta as i64 + a[1] as i32 as i64;
    if meta < XDP_FRAME_HDR as i64 || meta > m.pkt_data as i64 {
        return Ok(EINVAL);
    }
    let metalen = m.pkt_data - meta as usize;
    if metalen % 4 != 0 || metalen > 255 {
        return Ok(EACCES);
    }
    m.pkt_meta = meta as usize;
    Ok(0)
}

/// `bpf_xdp_get_buff_len(xdp)`: the data length (the VM's frames have no fragments).
pub(super) fn xdp_get_buff_len(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(m.packet_data().len() as u64)
}

/// `bpf_xdp_pointer`'s checks: offset or length above 0xffff is -EFAULT, a range past the
/// end -EINVAL.
fn xdp_range(m: &Machine, off: u32, len: u32) -> Result<std::ops::Range<usize>, u64> {
    if off > 0xffff || len > 0xffff {
        return Err(EFAULT);
    }
    let (off, len) = (off as usize, len as usize);
    if off + len > m.packet_data().len() {
        return Err(EINVAL);
    }
    Ok(m.pkt_data + off..m.pkt_data + off + len)
}

/// `bpf_xdp_load_bytes(xdp, offset, buf, len)`.
pub(super) fn xdp_load_bytes(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    match xdp_range(m, a[1] as u32, a[3] as u32) {
        Ok(r) => {
            let b = m.packet[r].to_vec();
            m.write(a[2], &b)?;
            Ok(0)
        }
        Err(e) => Ok(e),
    }
}

/// `bpf_xdp_store_bytes(xdp, offset, buf, len)`.
pub(super) fn xdp_store_bytes(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let b = m.read_vec(a[2], a[3] as u32 as usize)?;
    match xdp_range(m, a[1] as u32, a[3] as u32) {
        Ok(r) => {
            m.packet[r].copy_from_slice(&b);
            Ok(0)
        }
        Err(e) => Ok(e),
    }
}
