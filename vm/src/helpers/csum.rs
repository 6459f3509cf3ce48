//! Checksum helpers: `bpf_csum_diff`, `bpf_l3_csum_replace`, `bpf_l4_csum_replace`,
//! `bpf_csum_update`, `bpf_csum_level` (net/core/filter.c), with the kernel's ones'-complement
//! arithmetic (`include/net/checksum.h`, x86-64's `csum_partial`). Checksums are computed on
//! bytes as they lie in memory, read little-endian as x86-64 does: the ones'-complement sum
//! does not depend on byte order, and the values helpers take and return are the ones a
//! program on x86-64 sees.

use super::{skb_data_range, EFAULT, EINVAL, ENOTSUPP};
use crate::ctx::net::IpSummed;
use crate::error::HelperError;
use crate::machine::Machine;

/// `csum_add`: 32-bit addition with the carry folded back in.
pub(crate) fn csum_add(a: u32, b: u32) -> u32 {
    let (r, carry) = a.overflowing_add(b);
    r.wrapping_add(carry as u32)
}

/// `csum_sub`.
pub(crate) fn csum_sub(a: u32, b: u32) -> u32 {
    csum_add(a, !b)
}

/// `csum_fold`: a 32-bit sum to the 16-bit checksum (inverted).
pub(crate) fn csum_fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// `csum_from32to16` (lib/checksum.c): folds without inverting.
fn csum_from32to16(sum: u32) -> u32 {
    let s = sum.wrapping_add(sum.rotate_right(16));
    s >> 16
}

/// `csum_partial` as x86-64 computes it (arch/x86/lib/csum-partial_64.c): 64-bit words added
/// with end-around carry, a trailing partial word zero-padded, then the halves folded.
pub(crate) fn csum_partial(buf: &[u8], seed: u32) -> u32 {
    fn add64(a: u64, b: u64) -> u64 {
        let (r, c) = a.overflowing_add(b);
        r.wrapping_add(c as u64)
    }
    let mut t = seed as u64;
    let mut chunks = buf.chunks_exact(8);
    for c in &mut chunks {
        t = add64(t, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        t = add64(t, u64::from_le_bytes(w));
    }
    csum_add((t >> 32) as u32, t as u32)
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: the checksum difference between two
/// buffers of 32-bit words, folded to 16 bits as Linux ≥ 6.13 does on every architecture
/// (bpf_csum_diff() in net/core/filter.c). Sizes must be multiples of 4, together at most
/// 512 bytes (the per-CPU scratch area), else -EINVAL.
pub(super) fn csum_diff(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (from_size, to_size, seed) = (a[1] as u32, a[3] as u32, a[4] as u32);
    if (from_size | to_size) & 3 != 0 || from_size as u64 + to_size as u64 > 512 {
        return Ok(EINVAL);
    }
    let from = if from_size > 0 {
        m.read_vec(a[0], from_size as usize)?
    } else {
        Vec::new()
    };
    let to = if to_size > 0 {
        m.read_vec(a[2], to_size as usize)?
    } else {
        Vec::new()
    };
    let r = match (from.is_empty(), to.is_empty()) {
        (false, false) => {
            csum_from32to16(csum_sub(csum_partial(&to, seed), csum_partial(&from, 0)))
        }
        (true, false) => csum_from32to16(csum_partial(&to, seed)),
        (false, true) => csum_from32to16(!csum_partial(&from, !seed)),
        (true, true) => seed,
    };
    Ok(r as u64)
}

const BPF_F_HDR_FIELD_MASK: u64 = 0xf;
const BPF_F_PSEUDO_HDR: u64 = 1 << 4;
const BPF_F_MARK_MANGLED_0: u64 = 1 << 5;
const BPF_F_MARK_ENFORCE: u64 = 1 << 6;
const BPF_F_IPV6: u64 = 1 << 7;
/// `CSUM_MANGLED_0`: a UDP checksum that came out 0 is sent as 0xffff.
const CSUM_MANGLED_0: u16 = 0xffff;

/// The 16-bit checksum field at packet offset `off` (bounds already checked).
fn sum_at(m: &Machine, off: usize) -> u16 {
    let d = m.packet_data();
    u16::from_le_bytes([d[off], d[off + 1]])
}

fn set_sum_at(m: &mut Machine, off: usize, v: u16) {
    let at = m.pkt_data + off;
    m.packet[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// Checks a checksum field's offset as both csum_replace helpers do: above 0xffff or odd
/// is -EFAULT, and so is a field past the end of the packet (bpf_try_make_writable fails).
fn field_offset(m: &Machine, off: u64) -> Option<usize> {
    let off = off as u32 as usize;
    (off <= 0xffff && off & 1 == 0)
        .then_some(off)
        .filter(|&o| skb_data_range(m, o, 2).is_some())
}

/// `bpf_l3_csum_replace(skb, offset, from, to, flags)`: updates an IPv4 header checksum
/// for a 2- or 4-byte field change, or by a `csum_diff` result (size 0, `from` = 0) —
/// bpf_l3_csum_replace() in net/core/filter.c.
pub(super) fn l3_csum_replace(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (from, to, flags) = (a[2], a[3], a[4]);
    if flags & !BPF_F_HDR_FIELD_MASK != 0 {
        return Ok(EINVAL);
    }
    let Some(off) = field_offset(m, a[1]) else {
        return Ok(EFAULT);
    };
    let sum = sum_at(m, off);
    let new = match flags & BPF_F_HDR_FIELD_MASK {
        0 => {
            if from != 0 {
                return Ok(EINVAL);
            }
            // csum_replace_by_diff
            csum_fold(csum_add(to as u32, !(sum as u32)))
        }
        // csum_replace2: 16-bit ones'-complement arithmetic.
        2 => !csum16_add(csum16_sub(!sum, from as u16), to as u16),
        // csum_replace4
        4 => {
            let tmp = csum_sub(!(sum as u32), from as u32);
            csum_fold(csum_add(tmp, to as u32))
        }
        _ => return Ok(EINVAL),
    };
    set_sum_at(m, off, new);
    Ok(0)
}

fn csum16_add(a: u16, b: u16) -> u16 {
    let (r, c) = a.overflowing_add(b);
    r.wrapping_add(c as u16)
}

fn csum16_sub(a: u16, b: u16) -> u16 {
    csum16_add(a, !b)
}

/// `bpf_l4_csum_replace(skb, offset, from, to, flags)`: updates a TCP/UDP checksum —
/// bpf_l4_csum_replace() in net/core/filter.c with inet_proto_csum_replace{2,4,_by_diff}
/// (net/core/utils.c): `BPF_F_PSEUDO_HDR` when the changed field is in the pseudo-header
/// (an address), `BPF_F_MARK_MANGLED_0` for UDP's "0 means no checksum".
pub(super) fn l4_csum_replace(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (from, to, flags) = (a[2], a[3], a[4]);
    let pseudo = flags & BPF_F_PSEUDO_HDR != 0;
    let mmzero = flags & BPF_F_MARK_MANGLED_0 != 0;
    let mforce = flags & BPF_F_MARK_ENFORCE != 0;
    let ipv6 = flags & BPF_F_IPV6 != 0;
    let known = BPF_F_MARK_MANGLED_0
        | BPF_F_MARK_ENFORCE
        | BPF_F_PSEUDO_HDR
        | BPF_F_HDR_FIELD_MASK
        | BPF_F_IPV6;
    if flags & !known != 0 {
        return Ok(EINVAL);
    }
    let Some(off) = field_offset(m, a[1]) else {
        return Ok(EFAULT);
    };
    let sum = sum_at(m, off);
    if mmzero && !mforce && sum == 0 {
        return Ok(0);
    }
    let st = m.skb_state.ip_summed;
    let new = match flags & BPF_F_HDR_FIELD_MASK {
        0 => {
            if from != 0 {
                return Ok(EINVAL);
            }
            let diff = to as u32;
            // inet_proto_csum_replace_by_diff
            if st != IpSummed::Partial {
                if st == IpSummed::Complete && pseudo && !ipv6 {
                    m.skb_state.csum = !csum_add(diff, !m.skb_state.csum);
                }
                Some(csum_fold(csum_add(diff, !(sum as u32))))
            } else if pseudo {
                Some(!csum_fold(csum_add(sum as u32, diff)))
            } else {
                None
            }
        }
        size @ (2 | 4) => {
            let (from, to) = if size == 2 {
                (from as u16 as u32, to as u16 as u32)
            } else {
                (from as u32, to as u32)
            };
            // inet_proto_csum_replace4 (replace2 widens its 16-bit values to it)
            let mut diff = [0u8; 8];
            diff[..4].copy_from_slice(&(!from).to_le_bytes());
            diff[4..].copy_from_slice(&to.to_le_bytes());
            if st != IpSummed::Partial {
                if st == IpSummed::Complete && pseudo {
                    m.skb_state.csum = !csum_partial(&diff, !m.skb_state.csum);
                }
                Some(csum_fold(csum_partial(&diff, !(sum as u32))))
            } else if pseudo {
                Some(!csum_fold(csum_partial(&diff, sum as u32)))
            } else {
                None
            }
        }
        _ => return Ok(EINVAL),
    };
    let mut new = new.unwrap_or(sum);
    if mmzero && new == 0 {
        new = CSUM_MANGLED_0;
    }
    set_sum_at(m, off, new);
    Ok(0)
}

/// `bpf_csum_update(skb, csum)`: adds to `skb->csum` and returns it when the skb carries a
/// complete checksum, else -ENOTSUPP (bpf_csum_update() in net/core/filter.c).
pub(super) fn csum_update(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if m.skb_state.ip_summed == IpSummed::Complete {
        m.skb_state.csum = csum_add(m.skb_state.csum, a[1] as u32);
        return Ok(m.skb_state.csum as u64);
    }
    Ok(ENOTSUPP)
}

const BPF_CSUM_LEVEL_QUERY: u64 = 0;
const BPF_CSUM_LEVEL_INC: u64 = 1;
const BPF_CSUM_LEVEL_DEC: u64 = 2;
const BPF_CSUM_LEVEL_RESET: u64 = 3;
/// `SKB_MAX_CSUM_LEVEL`.
const MAX_CSUM_LEVEL: u8 = 3;

/// `bpf_csum_level(skb, level)` (bpf_csum_level() in net/core/filter.c): query (-EACCES
/// unless `CHECKSUM_UNNECESSARY`), increment, decrement or reset the count of verified
/// checksums; other levels are -EINVAL.
pub(super) fn csum_level(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    const EACCES: u64 = -13i64 as u64;
    let s = &mut m.skb_state;
    match a[1] {
        BPF_CSUM_LEVEL_DEC => {
            // __skb_decr_checksum_unnecessary
            if s.ip_summed == IpSummed::Unnecessary {
                if s.csum_level == 0 {
                    s.ip_summed = IpSummed::None;
                } else {
                    s.csum_level -= 1;
                }
            }
            Ok(0)
        }
        BPF_CSUM_LEVEL_INC => {
            // __skb_incr_checksum_unnecessary
            match s.ip_summed {
                IpSummed::Unnecessary if s.csum_level < MAX_CSUM_LEVEL => s.csum_level += 1,
                IpSummed::None => {
                    s.ip_summed = IpSummed::Unnecessary;
                    s.csum_level = 0;
                }
                _ => {}
            }
            Ok(0)
        }
        BPF_CSUM_LEVEL_RESET => {
            // __skb_reset_checksum_unnecessary
            if s.ip_summed == IpSummed::Unnecessary {
                s.ip_summed = IpSummed::None;
                s.csum_level = 0;
            }
            Ok(0)
        }
        BPF_CSUM_LEVEL_QUERY => Ok(if s.ip_summed == IpSummed::Unnecessary {
            s.csum_level as u64
        } else {
            EACCES
        }),
        _ => Ok(EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_and_partial_match_rfc1071_examples() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before inversion).
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let s = csum_partial(&bytes, 0);
        assert_eq!(!csum_fold(s), u16::from_le_bytes([0xdd, 0xf2]));
        assert_eq!(csum_add(0xffff_ffff, 1), 1);
        assert_eq!(csum_sub(5, 5), 0xffff_ffff);
    }
}
