//! skb metadata helpers: the flow hash, the socket's cookie and owner, the cgroup class
//! and route realm (net/core/filter.c). What the kernel derives from state a test run does
//! not have (a boot-time hash secret, a socket, a route) comes from [`crate::NetEnv`].

use super::packet::clear_hash;
use super::{read_ctx32, write_ctx32};
use crate::ctx::skb;
use crate::error::HelperError;
use crate::machine::Machine;

/// `bpf_get_hash_recalc(skb)` → skb_get_hash(): the hash when one is set (`l4_hash` or
/// `sw_hash`), else the flow hash, which is then kept. The kernel keys the flow hash with
/// a random secret, so the test states it ([`crate::NetEnv::flow_hash`]).
pub(super) fn get_hash_recalc(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    if !m.skb_state.hash_valid {
        let h = m.env.net.flow_hash;
        write_ctx32(m, skb::off("hash"), h);
        m.skb_state.hash_valid = true;
    }
    Ok(read_ctx32(m, skb::off("hash")) as u64)
}

/// `bpf_set_hash(skb, hash)` → `__skb_set_sw_hash(skb, hash, true)`; returns 0.
pub(super) fn set_hash(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    write_ctx32(m, skb::off("hash"), a[1] as u32);
    m.skb_state.hash_valid = true;
    Ok(0)
}

/// `bpf_set_hash_invalid(skb)` → skb_clear_hash(); returns 0.
pub(super) fn set_hash_invalid(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    clear_hash(m);
    Ok(0)
}

/// `bpf_get_socket_uid(skb)`: the owner of the skb's full socket, or the overflow uid
/// (65534) without one.
pub(super) fn get_socket_uid(m: &mut Machine, _a: [u64; 5]) -> Result<u64, HelperError> {
    const OVERFLOWUID: u32 = 65534;
    Ok(m.env.net.socket_uid.unwrap_or(OVERFLOWUID) as u64)
}
