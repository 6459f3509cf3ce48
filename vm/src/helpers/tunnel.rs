//! `bpf_skb_get_tunnel_key` and `bpf_skb_set_tunnel_key` (net/core/filter.c): the skb's
//! tunnel metadata as `struct bpf_tunnel_key` (44 bytes; the older 8-, 22-, 24- and 28-byte
//! layouts are accepted as the kernel does).

use super::{bad, EINVAL};
use crate::ctx::net::TunnelKey;
use crate::error::HelperError;
use crate::machine::Machine;

const KEY_SIZE: usize = 44;
/// `offsetof(struct bpf_tunnel_key, ...)` of the older layouts.
const OLD_SIZES: [usize; 4] = [28, 24, 22, 8];
const TUNINFO_IPV6: u64 = 1;
const ZERO_CSUM_TX: u64 = 2;
const DONT_FRAGMENT: u64 = 4;
const SEQ_NUMBER: u64 = 8;
const NO_TUNNEL_KEY: u64 = 16;
const TUNINFO_FLAGS: u64 = 16;
const EPROTO: u64 = -71i64 as u64;
const IPV6_FLOWLABEL_MASK: u32 = 0x000f_ffff;

/// `bpf_skb_get_tunnel_key(skb, key, size, flags)`: -EINVAL without tunnel metadata or
/// for unknown flags or sizes, -EPROTO when the family differs from `BPF_F_TUNINFO_IPV6`;
/// on error the buffer is zeroed. The remote end is the metadata's source, the local end
/// its destination (the view of a received packet).
pub(super) fn get_tunnel_key(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (to, size, flags) = (a[1], a[2] as u32 as usize, a[3]);
    let info = m.skb_state.tunnel.clone();
    let err = 'err: {
        let Some(info) = info.filter(|_| flags & !(TUNINFO_IPV6 | TUNINFO_FLAGS) == 0) else {
            break 'err EINVAL;
        };
        if info.ipv6 != (flags & TUNINFO_IPV6 != 0) {
            break 'err EPROTO;
        }
        if size != KEY_SIZE && !(OLD_SIZES.contains(&size) && (size != 8 || !info.ipv6)) {
            break 'err EINVAL;
        }
        if flags & TUNINFO_FLAGS != 0 {
            return Err(bad(
                "bpf_skb_get_tunnel_key: BPF_F_TUNINFO_FLAGS (the tunnel's GRE-style flags) is not implemented by the VM",
            ));
        }
        let mut k = [0u8; KEY_SIZE];
        k[0..4].copy_from_slice(&(info.id as u32).to_le_bytes());
        k[20] = info.tos;
        k[21] = info.ttl;
        if info.ipv6 {
            k[4..20].copy_from_slice(&info.src);
            k[24..28].copy_from_slice(&(info.label & IPV6_FLOWLABEL_MASK).to_le_bytes());
            k[28..44].copy_from_slice(&info.dst);
        } else {
            let v4 = |b: &[u8; 16]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            k[4..8].copy_from_slice(&v4(&info.src).to_le_bytes());
            k[28..32].copy_from_slice(&v4(&info.dst).to_le_bytes());
        }
        m.write(to, &k[..size])?;
        return Ok(0);
    };
    m.zero(to, size)?;
    Ok(err)
}

/// `bpf_skb_set_tunnel_key(skb, key, size, flags)`: sets transmit tunnel metadata;
/// -EINVAL for unknown flags or sizes, an IPv4 key with a flow label, or a non-zero
/// `tunnel_ext`.
pub(super) fn set_tunnel_key(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (from, size, flags) = (a[1], a[2] as u32 as usize, a[3]);
    let known = TUNINFO_IPV6 | ZERO_CSUM_TX | DONT_FRAGMENT | SEQ_NUMBER | NO_TUNNEL_KEY;
    if flags & !known != 0 {
        return Ok(EINVAL);
    }
    if size != KEY_SIZE && !OLD_SIZES.contains(&size) {
        return Ok(EINVAL);
    }
    let mut k = [0u8; KEY_SIZE];
    k[..size].copy_from_slice(m.read(from, size)?);
    let label = u32::from_le_bytes([k[24], k[25], k[26], k[27]]);
    let ext = u16::from_le_bytes([k[22], k[23]]);
    let ipv6 = flags & TUNINFO_IPV6 != 0;
    if (!ipv6 && label != 0) || ext != 0 {
        return Ok(EINVAL);
    }
    let mut info = TunnelKey {
        ipv6,
        id: u32::from_le_bytes([k[0], k[1], k[2], k[3]]) as u64,
        tos: k[20],
        ttl: k[21],
        ..TunnelKey::default()
    };
    if ipv6 {
        info.dst.copy_from_slice(&k[4..20]);
        info.src.copy_from_slice(&k[28..44]);
        info.label = label & IPV6_FLOWLABEL_MASK;
    } else {
        let host = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]).to_be_bytes();
        info.dst[..4].copy_from_slice(&host(&k[4..8]));
        info.src[..4].copy_from_slice(&host(&k[28..32]));
    }
    m.skb_state.tunnel = Some(info);
    Ok(0)
}
