//! `bpf_fib_lookup` against the routes, neighbours and interfaces a test declares
//! ([`crate::NetEnv`]), as bpf_ipv4_fib_lookup()/bpf_ipv6_fib_lookup() in
//! net/core/filter.c answer: the same return codes (`BPF_FIB_LKUP_RET_*`) and the same
//! fields written back into `struct bpf_fib_lookup`. Routing is a longest-prefix match in
//! one table (policy rules, multipath and lightweight tunnels are not modelled).

use super::EINVAL;
use crate::ctx::net::{Route, RouteType};
use crate::error::HelperError;
use crate::machine::Machine;
use crate::ProgType;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const EAFNOSUPPORT: u64 = -97i64 as u64;
const ENODEV: u64 = -19i64 as u64;
/// `sizeof(struct bpf_fib_lookup)`.
const PARAMS_SIZE: usize = 64;
const RT_TABLE_MAIN: u32 = 254;

const DIRECT: u32 = 1;
const OUTPUT: u32 = 2;
const SKIP_NEIGH: u32 = 4;
const TBID: u32 = 8;
const SRC: u32 = 16;
const MARK: u32 = 32;
const FLAGS_MASK: u32 = DIRECT | OUTPUT | SKIP_NEIGH | TBID | SRC | MARK;

const RET_SUCCESS: u64 = 0;
const RET_BLACKHOLE: u64 = 1;
const RET_UNREACHABLE: u64 = 2;
const RET_PROHIBIT: u64 = 3;
const RET_NOT_FWDED: u64 = 4;
const RET_FWD_DISABLED: u64 = 5;
const RET_NO_NEIGH: u64 = 7;
const RET_FRAG_NEEDED: u64 = 8;
const RET_NO_SRC_ADDR: u64 = 9;

// Offsets in struct bpf_fib_lookup (include/uapi/linux/bpf.h).
const TOT_LEN: usize = 6;
const IFINDEX: usize = 8;
const RT_METRIC: usize = 12;
const SRC_ADDR: usize = 16;
const DST_ADDR: usize = 32;
const VLAN: usize = 48;
const SMAC: usize = 52;
const DMAC: usize = 58;

fn u16_at(p: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([p[off], p[off + 1]])
}

fn u32_at(p: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(p[off..off + 4].try_into().expect("4 bytes"))
}

fn addr_at(p: &[u8], off: usize, v6: bool) -> IpAddr {
    if v6 {
        let b: [u8; 16] = p[off..off + 16].try_into().expect("16 bytes");
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        let b: [u8; 4] = p[off..off + 4].try_into().expect("4 bytes");
        IpAddr::V4(Ipv4Addr::from(b))
    }
}

fn put_addr(p: &mut [u8], off: usize, a: IpAddr) {
    match a {
        IpAddr::V4(a) => p[off..off + 4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => p[off..off + 16].copy_from_slice(&a.octets()),
    }
}

fn in_prefix(a: IpAddr, r: &Route) -> bool {
    let bits = |x: IpAddr| -> u128 {
        match x {
            IpAddr::V4(v) => (u32::from(v) as u128) << 96,
            IpAddr::V6(v) => u128::from(v),
        }
    };
    if a.is_ipv4() != r.dst.is_ipv4() {
        return false;
    }
    // Both families are left-aligned in 128 bits: the prefix is the top bits.
    let len = r.prefix_len as u32;
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len.min(128))
    };
    bits(a) & mask == bits(r.dst) & mask
}

/// `bpf_fib_lookup(ctx, params, plen, flags)`: -EINVAL for a short `plen` or unknown
/// flags, -EAFNOSUPPORT for a family other than AF_INET/AF_INET6, -ENODEV for an unknown
/// `ifindex`; else a `BPF_FIB_LKUP_RET_*` code. On success `ifindex`, `rt_metric`, the
/// destination (the gateway when there is one), `smac`/`dmac` (unless
/// `BPF_FIB_LOOKUP_SKIP_NEIGH`), the source with `BPF_FIB_LOOKUP_SRC`, `mtu_result` and
/// zeroed VLAN fields are written back.
pub(super) fn fib_lookup(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (ptr, plen, flags) = (a[1], a[2] as i32, a[3] as u32);
    if plen < PARAMS_SIZE as i32 {
        return Ok(EINVAL);
    }
    if flags & !FLAGS_MASK != 0 {
        return Ok(EINVAL);
    }
    let mut p = m.read_vec(ptr, PARAMS_SIZE)?;
    let v6 = match p[0] {
        AF_INET => false,
        AF_INET6 => true,
        _ => return Ok(EAFNOSUPPORT),
    };
    // XDP always checks the MTU (tot_len); tc only when tot_len is set, else it checks the
    // packet against the output device (is_skb_forwardable) after a successful lookup.
    let xdp = m.prog_type == Some(ProgType::Xdp);
    let tot_len = u16_at(&p, TOT_LEN) as u32;
    let check_mtu = xdp || tot_len != 0;
    let rc = lookup(m, &mut p, v6, flags, check_mtu);
    let rc = match rc {
        Ok(rc) => rc,
        Err(errno) => return Ok(errno),
    };
    let mut rc = rc;
    if rc == RET_SUCCESS && !check_mtu {
        let dev = m.env.net.interface(u32_at(&p, IFINDEX)).cloned();
        if let Some(dev) = dev {
            // is_skb_forwardable: the packet less its link header must fit the MTU.
            if m.packet_data().len() > dev.mtu as usize + 14 {
                rc = RET_FRAG_NEEDED;
            }
            p[TOT_LEN..TOT_LEN + 2].copy_from_slice(&(dev.mtu as u16).to_le_bytes());
        }
    }
    m.write(ptr, &p)?;
    Ok(rc)
}

/// The family-specific lookup (bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup); `Err` is an
/// errno.
fn lookup(m: &Machine, p: &mut [u8], v6: bool, flags: u32, check_mtu: bool) -> Result<u64, u64> {
    let net = &m.env.net;
    let ifindex = u32_at(p, IFINDEX);
    let dst = addr_at(p, DST_ADDR, v6);
    if v6 {
        // rt6_need_strict: multicast, link-local and loopback destinations or sources.
        let strict = |a: IpAddr| match a {
            IpAddr::V6(a) => {
                a.is_multicast() || a.is_loopback() || (a.segments()[0] & 0xffc0) == 0xfe80
            }
            IpAddr::V4(_) => false,
        };
        if strict(dst) || strict(addr_at(p, SRC_ADDR, true)) {
            return Ok(RET_NOT_FWDED);
        }
    }
    let Some(dev) = net.interface(ifindex) else {
        return Err(ENODEV);
    };
    if !dev.forwarding {
        return Ok(RET_FWD_DISABLED);
    }
    let table = if flags & DIRECT != 0 && flags & TBID != 0 {
        let t = u32_at(p, VLAN);
        p[VLAN..VLAN + 4].fill(0);
        t
    } else {
        RT_TABLE_MAIN
    };
    if flags & DIRECT != 0 && !net.routes.iter().any(|r| r.table == table) {
        return Ok(RET_NOT_FWDED);
    }
    let route = net
        .routes
        .iter()
        .filter(|r| r.table == table && in_prefix(dst, r))
        .min_by_key(|r| (std::cmp::Reverse(r.prefix_len), r.metric));
    let Some(route) = route else {
        return Ok(RET_NOT_FWDED);
    };
    match route.route_type {
        RouteType::Unicast => {}
        RouteType::Blackhole => return Ok(RET_BLACKHOLE),
        RouteType::Unreachable => return Ok(RET_UNREACHABLE),
        RouteType::Prohibit => return Ok(RET_PROHIBIT),
        RouteType::Local => return Ok(RET_NOT_FWDED),
    }
    let Some(out) = net.interface(route.ifindex) else {
        return Ok(RET_NOT_FWDED);
    };
    let mtu = route.mtu.unwrap_or(out.mtu);
    if check_mtu && u16_at(p, TOT_LEN) as u32 > mtu {
        p[TOT_LEN..TOT_LEN + 2].copy_from_slice(&(mtu as u16).to_le_bytes());
        return Ok(RET_FRAG_NEEDED);
    }
    p[RT_METRIC..RT_METRIC + 4].copy_from_slice(&route.metric.to_le_bytes());
    p[IFINDEX..IFINDEX + 4].copy_from_slice(&out.ifindex.to_le_bytes());
    if flags & SRC != 0 {
        match route.src {
            Some(src) => put_addr(p, SRC_ADDR, src),
            None => return Ok(RET_NO_SRC_ADDR),
        }
    }
    if let Some(gw) = route.via {
        put_addr(p, DST_ADDR, gw);
    }
    if flags & SKIP_NEIGH == 0 {
        let next = addr_at(p, DST_ADDR, v6);
        let Some(n) = net
            .neighbours
            .iter()
            .find(|n| n.ip == next && n.ifindex == out.ifindex)
        else {
            return Ok(RET_NO_NEIGH);
        };
        p[DMAC..DMAC + 6].copy_from_slice(&n.mac);
        p[SMAC..SMAC + 6].copy_from_slice(&out.mac);
    }
    // bpf_fib_set_fwd_params
    p[VLAN..VLAN + 4].fill(0);
    if check_mtu {
        p[TOT_LEN..TOT_LEN + 2].copy_from_slice(&(mtu as u16).to_le_bytes());
    }
    Ok(RET_SUCCESS)
}
