//! Redirect helpers (net/core/filter.c): they record where the kernel would send the
//! packet ([`crate::Redirect`], read with [`Machine::redirect`]) and return the verdict the
//! kernel's helper returns, which the program usually passes on as its own.

use super::{bad, EINVAL};
use crate::ctx::net::{Redirect, RedirectKind};
use crate::error::HelperError;
use crate::machine::Machine;
use crate::ProgType;
use asm::types::MapType;

const BPF_F_INGRESS: u64 = 1;
const TC_ACT_SHOT: u64 = 2;
const TC_ACT_REDIRECT: u64 = 7;
const XDP_ABORTED: u64 = 0;
const XDP_REDIRECT: u64 = 4;
/// `XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX`: the verdict a failed map lookup returns.
const XDP_ACTION_MASK: u64 = 3;
const BPF_F_BROADCAST: u64 = 1 << 3;
const BPF_F_EXCLUDE_INGRESS: u64 = 1 << 4;

fn set(m: &mut Machine, kind: RedirectKind, target: u32, flags: u64) {
    m.redirect = Some(Redirect {
        kind,
        target,
        flags,
    });
}

/// `bpf_redirect(ifindex, flags)`: for tc (bpf_redirect()) only `BPF_F_INGRESS` is a
/// valid flag, else `TC_ACT_SHOT`; returns `TC_ACT_REDIRECT`. For XDP (bpf_xdp_redirect())
/// any flag is `XDP_ABORTED`; returns `XDP_REDIRECT`.
pub(super) fn redirect(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (ifindex, flags) = (a[0] as u32, a[1]);
    if m.prog_type == Some(ProgType::Xdp) {
        if flags != 0 {
            return Ok(XDP_ABORTED);
        }
        set(m, RedirectKind::Ifindex, ifindex, 0);
        return Ok(XDP_REDIRECT);
    }
    if flags & !BPF_F_INGRESS != 0 {
        return Ok(TC_ACT_SHOT);
    }
    set(m, RedirectKind::Ifindex, ifindex, flags);
    Ok(TC_ACT_REDIRECT)
}

/// `bpf_redirect_peer(ifindex, flags)`: flags must be 0, else `TC_ACT_SHOT`.
pub(super) fn redirect_peer(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[1] != 0 {
        return Ok(TC_ACT_SHOT);
    }
    set(m, RedirectKind::Peer, a[0] as u32, 0);
    Ok(TC_ACT_REDIRECT)
}

/// `bpf_redirect_neigh(ifindex, params, plen, flags)`: flags must be 0 and `plen` 0 or at
/// least `sizeof(struct bpf_redir_neigh)` (20), else `TC_ACT_SHOT`.
pub(super) fn redirect_neigh(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const REDIR_NEIGH_SIZE: u64 = 20;
    let plen = a[2] as u32 as u64;
    if (plen != 0 && plen < REDIR_NEIGH_SIZE) || a[3] != 0 {
        return Ok(TC_ACT_SHOT);
    }
    let nexthop = if plen != 0 {
        Some(m.read_vec(a[1], REDIR_NEIGH_SIZE as usize)?)
    } else {
        None
    };
    set(m, RedirectKind::Neigh { nexthop }, a[0] as u32, 0);
    Ok(TC_ACT_REDIRECT)
}

/// `bpf_clone_redirect(skb, ifindex, flags)` (bpf_clone_redirect()): sends a copy at once
/// and returns 0; -EINVAL for flags other than `BPF_F_INGRESS` or an ifindex no interface
/// has.
pub(super) fn clone_redirect(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (ifindex, flags) = (a[1] as u32, a[2]);
    if flags & !BPF_F_INGRESS != 0 || m.env.net.interface(ifindex).is_none() {
        return Ok(EINVAL);
    }
    m.clones.push(Redirect {
        kind: RedirectKind::Clone,
        target: ifindex,
        flags,
    });
    Ok(0)
}

/// `bpf_redirect_map(map, key, flags)` → `__bpf_xdp_redirect_map()` (include/linux/filter.h)
/// with the map type's lookup: flags beyond the action bits (and, for devmaps,
/// `BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS`) are `XDP_ABORTED`; a key with no entry
/// returns the action in the low two bits of flags (unless broadcasting); otherwise
/// `XDP_REDIRECT`.
pub(super) fn redirect_map(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (key, flags) = (a[1] as u32, a[2]);
    let (idx, map) = super::map_for(m, a[0], 51)?;
    let map_type = map.spec().map_type;
    let extra = match map_type {
        MapType::Devmap | MapType::DevmapHash => BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS,
        MapType::Cpumap | MapType::Xskmap => 0,
        t => {
            return Err(bad(format!(
                "bpf_redirect_map: map type `{t}` is not a redirect target (devmap, devmap_hash, cpumap or xskmap)"
            )))
        }
    };
    if map.is_inert() {
        return Err(bad(format!(
            "bpf_redirect_map: the VM does not implement {map_type} maps yet"
        )));
    }
    if flags & !(XDP_ACTION_MASK | extra) != 0 {
        return Ok(XDP_ABORTED);
    }
    // __xdp_redirect_map(): an empty slot gives the action in the low flag bits.
    let found = map
        .redirect_target(key)
        .map_err(|e| bad(format!("bpf_redirect_map: {e}")))?
        .is_some();
    if !found && flags & BPF_F_BROADCAST == 0 {
        m.redirect = None;
        return Ok(flags & XDP_ACTION_MASK);
    }
    let kept = if flags & BPF_F_BROADCAST != 0 {
        flags
    } else {
        0
    };
    set(m, RedirectKind::Map { map: idx as u32 }, key, kept);
    Ok(XDP_REDIRECT)
}
