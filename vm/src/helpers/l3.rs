//! Helpers that work on the network header of a tc packet (net/core/filter.c): protocol
//! translation, room between headers, ECN marking, MTU checks.

use super::packet::{clear_hash, protocol, set_protocol, sync_len, SKB_MAX_LEN};
use super::{bad, EINVAL, ENOMEM, ENOTSUPP};
use crate::ctx::net::IpSummed;
use crate::error::HelperError;
use crate::machine::Machine;
use crate::ProgType;

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const IPV4_HLEN: usize = 20;
const IPV6_HLEN: usize = 40;

/// `skb_mac_header_len`: the VM's skbs start at the MAC header, which ends where the network
/// header starts.
fn mac_len(m: &Machine) -> usize {
    m.skb_state.net_off
}

/// `bpf_skb_generic_push` + `bpf_skb_net_hdr_push`: `len` zero bytes at `off` from data;
/// the MAC and network headers move to the front with the data, so the network header's
/// offset does not change.
fn push_at(m: &mut Machine, off: usize, len: usize) {
    let mut buf = m.packet_data().to_vec();
    buf.splice(off..off, std::iter::repeat(0).take(len));
    m.packet = buf;
    m.pkt_data = 0;
    m.pkt_meta = 0;
    sync_len(m);
}

/// `bpf_skb_generic_pop` + `bpf_skb_net_hdr_pop`: removes `len` bytes at `off`; -ENOMEM
/// when the packet does not hold them (`pskb_may_pull`).
fn pop_at(m: &mut Machine, off: usize, len: usize) -> Result<(), u64> {
    if off + len > m.packet_data().len() {
        return Err(ENOMEM);
    }
    let mut buf = m.packet_data().to_vec();
    buf.drain(off..off + len);
    m.packet = buf;
    m.pkt_data = 0;
    m.pkt_meta = 0;
    sync_len(m);
    Ok(())
}

/// `bpf_skb_change_proto(skb, proto, flags)` → bpf_skb_proto_xlat(): IPv4 → IPv6 inserts
/// 20 zero bytes after the MAC header, IPv6 → IPv4 removes 20; the program writes the new
/// header. Other pairs are -ENOTSUPP, flags -EINVAL. The hash is cleared.
pub(super) fn skb_change_proto(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[2] != 0 {
        return Ok(EINVAL);
    }
    let to = u16::from_be_bytes((a[1] as u16).to_le_bytes());
    let from = protocol(m);
    let diff = IPV6_HLEN - IPV4_HLEN;
    let off = mac_len(m);
    match (from, to) {
        (ETH_P_IP, ETH_P_IPV6) => {
            push_at(m, off, diff);
            set_protocol(m, ETH_P_IPV6);
        }
        (ETH_P_IPV6, ETH_P_IP) => {
            if let Err(e) = pop_at(m, off, diff) {
                return Ok(e);
            }
            set_protocol(m, ETH_P_IP);
        }
        _ => return Ok(ENOTSUPP),
    }
    clear_hash(m);
    Ok(0)
}

const FIXED_GSO: u64 = 1;
const ENCAP_L3_MASK: u64 = 2 | 4;
const ENCAP_L4_GRE: u64 = 8;
const ENCAP_L4_UDP: u64 = 16;
const NO_CSUM_RESET: u64 = 32;
const ENCAP_L2_ETH: u64 = 64;
const DECAP_L3_IPV4: u64 = 128;
const DECAP_L3_IPV6: u64 = 256;
const DECAP_L3_MASK: u64 = DECAP_L3_IPV4 | DECAP_L3_IPV6;
const ENCAP_L2_LEN: u64 = 0xff << 56;
const ENCAP_FLAGS: u64 = ENCAP_L3_MASK | ENCAP_L4_GRE | ENCAP_L4_UDP | ENCAP_L2_ETH | ENCAP_L2_LEN;

/// `bpf_skb_net_base_len`: the fixed header of the packet's network protocol.
fn net_base_len(proto: u16) -> usize {
    match proto {
        ETH_P_IP => IPV4_HLEN,
        ETH_P_IPV6 => IPV6_HLEN,
        _ => 0,
    }
}

/// `bpf_skb_adjust_room(skb, len_diff, mode, flags)` (bpf_skb_adjust_room()): grows or
/// shrinks the room after the MAC header (`BPF_ADJ_ROOM_MAC`) or after the fixed network
/// header (`BPF_ADJ_ROOM_NET`) of an IPv4/IPv6 packet. Errnos in the kernel's order:
/// unknown flags -EINVAL, |len_diff| > 0xfff -EFAULT, another protocol or mode -ENOTSUPP,
/// decapsulation flags on growth -EINVAL, a shrink into the network header or a growth
/// past `BPF_SKB_MAX_LEN` -ENOTSUPP. Growing with encapsulation flags (which set the inner
/// headers of a tunnel) is not implemented: the run stops with an error naming it.
pub(super) fn skb_adjust_room(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (diff, mode, flags) = (a[1] as i32, a[2] as u32, a[3]);
    let known = FIXED_GSO | ENCAP_FLAGS | NO_CSUM_RESET | DECAP_L3_MASK;
    if flags & !known != 0 {
        return Ok(EINVAL);
    }
    let abs = diff.unsigned_abs() as usize;
    if abs > 0xfff {
        return Ok(super::EFAULT);
    }
    let proto = protocol(m);
    if proto != ETH_P_IP && proto != ETH_P_IPV6 {
        return Ok(ENOTSUPP);
    }
    let base = net_base_len(proto);
    let off = match mode {
        0 => mac_len(m) + base,
        1 => mac_len(m),
        _ => return Ok(ENOTSUPP),
    };
    let shrink = diff < 0;
    let mut len_min = base;
    if flags & DECAP_L3_MASK != 0 {
        if !shrink {
            return Ok(EINVAL);
        }
        len_min = match flags & DECAP_L3_MASK {
            DECAP_L3_IPV4 => IPV4_HLEN,
            DECAP_L3_IPV6 => IPV6_HLEN,
            _ => return Ok(EINVAL),
        };
    }
    let len = m.packet_data().len();
    let len_cur = len - m.skb_state.net_off.min(len);
    if (shrink && (abs >= len_cur || len_cur - abs < len_min))
        || (!shrink && (len + abs) as u64 > SKB_MAX_LEN)
    {
        return Ok(ENOTSUPP);
    }
    if shrink {
        // bpf_skb_net_shrink
        if flags & !(FIXED_GSO | NO_CSUM_RESET | DECAP_L3_MASK) != 0 {
            return Ok(EINVAL);
        }
        if let Err(e) = pop_at(m, off, abs) {
            return Ok(e);
        }
        match flags & DECAP_L3_MASK {
            DECAP_L3_IPV4 => set_protocol(m, ETH_P_IP),
            DECAP_L3_IPV6 => set_protocol(m, ETH_P_IPV6),
            _ => {}
        }
    } else {
        if flags & ENCAP_FLAGS != 0 {
            return Err(bad(format!(
                "bpf_skb_adjust_room: growing with encapsulation flags ({:#x}) is not implemented by the VM",
                flags & ENCAP_FLAGS
            )));
        }
        push_at(m, off, abs);
    }
    if flags & NO_CSUM_RESET == 0 && m.skb_state.ip_summed == IpSummed::Unnecessary {
        // __skb_reset_checksum_unnecessary
        m.skb_state.ip_summed = IpSummed::None;
        m.skb_state.csum_level = 0;
    }
    Ok(0)
}

/// `bpf_skb_ecn_set_ce(skb)` → INET_ECN_set_ce() (include/net/inet_ecn.h): marks an
/// ECN-capable IPv4 or IPv6 packet "congestion experienced"; returns 1 when the packet is
/// (now) marked, 0 otherwise. IPv4's header checksum is updated incrementally.
pub(super) fn skb_ecn_set_ce(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    let net = m.skb_state.net_off;
    let start = m.pkt_data + net;
    match protocol(m) {
        ETH_P_IP if m.packet_data().len() >= net + IPV4_HLEN => {
            // IP_ECN_set_ce
            let tos = m.packet[start + 1];
            let ecn = (tos.wrapping_add(1) & 3) as u16;
            if ecn & 2 == 0 {
                return Ok((ecn == 0) as u64);
            }
            let check = u16::from_le_bytes([m.packet[start + 10], m.packet[start + 11]]);
            let add = u16::from_le_bytes(0xfffbu16.to_be_bytes())
                .wrapping_add(u16::from_le_bytes(ecn.to_be_bytes()));
            let (s, c) = check.overflowing_add(add);
            let sum = s.wrapping_add(c as u16);
            m.packet[start + 10..start + 12].copy_from_slice(&sum.to_le_bytes());
            m.packet[start + 1] = tos | 3;
            Ok(1)
        }
        ETH_P_IPV6 if m.packet_data().len() >= net + IPV6_HLEN => {
            // IP6_ECN_set_ce
            let w = &m.packet[start..start + 4];
            let from = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
            let dsfield = (from >> 20) as u8;
            if dsfield & 3 == 0 {
                return Ok(0);
            }
            let to = from | (3 << 20);
            m.packet[start..start + 4].copy_from_slice(&to.to_be_bytes());
            if m.skb_state.ip_summed == IpSummed::Complete {
                let (f, t) = (
                    u32::from_le_bytes(from.to_be_bytes()),
                    u32::from_le_bytes(to.to_be_bytes()),
                );
                m.skb_state.csum =
                    super::csum::csum_add(super::csum::csum_sub(m.skb_state.csum, f), t);
            }
            Ok(1)
        }
        _ => Ok(0),
    }
}

/// `bpf_check_mtu(ctx, ifindex, mtu_len, len_diff, flags)` (bpf_skb_check_mtu() and
/// bpf_xdp_check_mtu()): whether the packet (or `*mtu_len` as an L3 length, when not 0)
/// plus `len_diff` fits the device's MTU plus its 14-byte link header; ifindex 0 is the
/// packet's own device. Writes the MTU to `*mtu_len`; returns `BPF_MTU_CHK_RET_SUCCESS`
/// (0), `BPF_MTU_CHK_RET_FRAG_NEEDED` (1), -EINVAL for flags or -ENODEV.
pub(super) fn check_mtu(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const BPF_MTU_CHK_SEGS: u64 = 1;
    const ENODEV: u64 = -19i64 as u64;
    const HARD_HEADER_LEN: i64 = 14;
    let (ifindex, mtu_ptr, diff, flags) = (a[1] as u32, a[2], a[3] as i32 as i64, a[4]);
    let b = m.read(mtu_ptr, 4)?;
    let mtu_len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let xdp = m.prog_type == Some(ProgType::Xdp);
    let mut mtu = 0u32;
    let ret = 'ret: {
        let bad_flags = if xdp {
            flags != 0
        } else {
            flags & !BPF_MTU_CHK_SEGS != 0
                || (flags & BPF_MTU_CHK_SEGS != 0 && (diff != 0 || mtu_len != 0))
        };
        if bad_flags {
            break 'ret EINVAL;
        }
        let own = if xdp {
            m.env.xdp_ingress_ifindex
        } else {
            m.env.skb.ifindex.max(1)
        };
        let Some(dev) = m
            .env
            .net
            .interface(if ifindex == 0 { own } else { ifindex })
        else {
            break 'ret ENODEV;
        };
        mtu = dev.mtu;
        let dev_len = mtu as i64 + HARD_HEADER_LEN;
        let len = if mtu_len != 0 {
            mtu_len as i64 + HARD_HEADER_LEN
        } else {
            m.packet_data().len() as i64
        };
        // The kernel adds in int: a len_diff that wraps it is the kernel's result too.
        let len = (len as i32).wrapping_add(diff as i32) as i64;
        (len > dev_len) as u64
    };
    m.write(mtu_ptr, &mtu.to_le_bytes())?;
    Ok(ret)
}
