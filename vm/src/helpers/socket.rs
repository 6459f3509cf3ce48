//! Socket lookups (`bpf_sk_lookup_tcp`, `bpf_sk_lookup_udp`, `bpf_skc_lookup_tcp`,
//! `bpf_sk_release`; net/core/filter.c) against the sockets a test declares
//! ([`crate::NetEnv::sockets`]). A found socket is returned as a read-only
//! `struct bpf_sock` in the VM's socket region.
//!
//! The tuple is the packet's view: `saddr:sport` is the remote end, `daddr:dport` the
//! local one. As `__inet_lookup`/`__udp4_lib_lookup` do, a connected socket matching the
//! whole 4-tuple wins, then a socket bound to the local address, then a wildcard bind; a
//! socket bound to another device does not match.

use crate::ctx::net::Socket;
use crate::error::HelperError;
use crate::machine::Machine;
use crate::mem::{Region, R_SOCK};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
/// `sizeof(struct bpf_sock)`.
const BPF_SOCK_SIZE: usize = 80;
/// `BPF_F_CURRENT_NETNS` (-1): the caller's namespace.
const TUPLE_V4: usize = 12;
const TUPLE_V6: usize = 36;

/// The tuple's (remote, local) ends.
fn tuple(b: &[u8]) -> (SocketAddr, SocketAddr) {
    let port = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
    if b.len() == TUPLE_V4 {
        let a = |o: usize| IpAddr::V4(Ipv4Addr::new(b[o], b[o + 1], b[o + 2], b[o + 3]));
        (
            SocketAddr::new(a(0), port(8)),
            SocketAddr::new(a(4), port(10)),
        )
    } else {
        let a = |o: usize| {
            let x: [u8; 16] = b[o..o + 16].try_into().expect("16 bytes");
            IpAddr::V6(Ipv6Addr::from(x))
        };
        (
            SocketAddr::new(a(0), port(32)),
            SocketAddr::new(a(16), port(34)),
        )
    }
}

/// How well `s` matches (higher is better), `None` when it does not.
fn score(s: &Socket, proto: u8, remote: SocketAddr, local: SocketAddr, ifindex: u32) -> Option<u8> {
    if s.protocol != proto || s.local.port() != local.port() || s.local.is_ipv4() != local.is_ipv4()
    {
        return None;
    }
    if s.bound_dev_if != 0 && s.bound_dev_if != ifindex {
        return None;
    }
    match s.remote {
        Some(r) => (r == remote && s.local.ip() == local.ip()).then_some(3),
        None if s.local.ip() == local.ip() => Some(2),
        None if s.local.ip().is_unspecified() => Some(1),
        None => None,
    }
}

/// `struct bpf_sock` of a socket (bpf_sock_convert_ctx_access's view).
fn bpf_sock(s: &Socket) -> [u8; BPF_SOCK_SIZE] {
    let mut b = [0u8; BPF_SOCK_SIZE];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    let (family, sock_type) = (
        if s.local.is_ipv4() { 2u32 } else { 10 },
        if s.protocol == IPPROTO_TCP { 1u32 } else { 2 },
    );
    put(0, &s.bound_dev_if.to_le_bytes());
    put(4, &family.to_le_bytes());
    put(8, &sock_type.to_le_bytes());
    put(12, &(s.protocol as u32).to_le_bytes());
    put(16, &s.mark.to_le_bytes());
    put(20, &s.priority.to_le_bytes());
    let addr = |a: IpAddr| -> [u8; 16] {
        match a {
            IpAddr::V4(v) => {
                let mut x = [0u8; 16];
                x[..4].copy_from_slice(&v.octets());
                x
            }
            IpAddr::V6(v) => v.octets(),
        }
    };
    let local = addr(s.local.ip());
    if s.local.is_ipv4() {
        put(24, &local[..4]);
    } else {
        put(28, &local);
    }
    // src_port in host order, dst_port in network order.
    put(44, &(s.local.port() as u32).to_le_bytes());
    if let Some(r) = s.remote {
        put(48, &r.port().to_be_bytes());
        let remote = addr(r.ip());
        if r.is_ipv4() {
            put(52, &remote[..4]);
        } else {
            put(56, &remote);
        }
    }
    put(72, &s.state.to_le_bytes());
    put(76, &u32::MAX.to_le_bytes());
    b
}

/// `bpf_sk_lookup_{tcp,udp}(ctx, tuple, tuple_size, netns, flags)` and
/// `bpf_skc_lookup_tcp`: NULL (0) for a tuple size other than 12 or 36, non-zero flags,
/// a netns id other than the caller's (the VM has one namespace), or no matching socket.
fn lookup(m: &mut Machine, a: [u64; 5], proto: u8) -> Result<u64, HelperError> {
    let (ptr, size, netns, flags) = (a[1], a[2] as u32 as usize, a[3], a[4]);
    if size != TUPLE_V4 && size != TUPLE_V6 {
        return Ok(0);
    }
    let tuple_bytes = m.read_vec(ptr, size)?;
    // __bpf_skc_lookup: a negative (s32) netns id is the caller's namespace; any other id
    // names a namespace the VM does not have.
    if flags != 0 || netns as u32 as i32 >= 0 {
        return Ok(0);
    }
    let (remote, local) = tuple(&tuple_bytes);
    let ifindex = if m.prog_type == Some(crate::ProgType::Xdp) {
        m.env.xdp_ingress_ifindex
    } else {
        m.env.skb.ifindex
    };
    let best = m
        .env
        .net
        .sockets
        .iter()
        .filter_map(|s| Some((score(s, proto, remote, local, ifindex)?, s)))
        .max_by_key(|(sc, _)| *sc)
        .map(|(_, s)| bpf_sock(s));
    let Some(sock) = best else {
        return Ok(0);
    };
    let off = m.sockets.len();
    m.sockets.extend_from_slice(&sock);
    Ok(Region::Socket.addr(off as u32))
}

pub(super) fn sk_lookup_tcp(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    lookup(m, a, IPPROTO_TCP)
}

pub(super) fn sk_lookup_udp(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    lookup(m, a, IPPROTO_UDP)
}

/// `bpf_sk_release(sk)`: returns 0; the argument must be a socket a lookup returned.
pub(super) fn sk_release(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let off = a[0] as u32 as usize;
    if a[0] >> 32 != R_SOCK as u64 || off % BPF_SOCK_SIZE != 0 || off >= m.sockets.len() {
        return Err(super::bad(format!(
            "bpf_sk_release: {:#x} is not a socket a lookup returned",
            a[0]
        )));
    }
    Ok(0)
}
