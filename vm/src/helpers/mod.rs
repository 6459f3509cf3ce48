//! Helper functions: a table indexed by helper id. Built-ins follow the kernel's
//! `bpf_*_proto` implementations (return values, errnos); users add or replace entries with
//! [`crate::Vm::register_helper`].

mod callback;
mod dynptr;
mod lock;
mod map_compat;
mod perf;
mod stackid;
mod storage;
mod string;
mod syscall;
mod task;
pub mod timer;
mod user_ringbuf;

use crate::error::HelperError;
use crate::interp::{CallCx, CbError};
use crate::machine::Machine;
use crate::maps::MapError;
use crate::mem::{Region, R_MAPVAL0};

mod csum;
mod l3;
mod lookup;
mod packet;
mod redirect;
mod skb_info;
mod socket;
mod tunnel;
pub(crate) use packet::{SkbState, XDP_PACKET_HEADROOM};

/// A helper: sees the machine (memory, maps, environment) and r1–r5, returns r0.
pub type HelperFn = Box<dyn FnMut(&mut Machine, [u64; 5]) -> Result<u64, HelperError>>;

/// A built-in helper that calls back into the running program (`bpf_loop`,
/// `bpf_for_each_map_elem`, ...): it gets the interpreter's [`CallCx`].
pub(crate) type InterpFn = fn(&mut CallCx<'_>, [u64; 5]) -> Result<u64, CbError>;

/// How a helper runs.
pub(crate) enum HelperImpl {
    /// On the machine alone (every user-registered helper).
    Plain(HelperFn),
    /// With the interpreter, to call back into the program.
    Interp(InterpFn),
}

/// A table entry.
pub(crate) struct Helper {
    pub name: String,
    pub f: HelperImpl,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// `-errno` as a helper's return value.
pub(crate) const fn errno(n: i64) -> u64 {
    (-n) as u64
}

const EINVAL: u64 = errno(22);
const EFAULT: u64 = errno(14);

const ENOMEM: u64 = errno(12);
/// `ENOTSUPP` (524), the kernel-internal errno some network helpers return.
const ENOTSUPP: u64 = errno(524);

/// The absolute range in the packet buffer of `len` bytes at `off` from `data`, if the
/// packet holds them.
fn skb_data_range(m: &Machine, off: usize, len: usize) -> Option<std::ops::Range<usize>> {
    let end = off.checked_add(len)?;
    (end <= m.packet_data().len()).then(|| m.pkt_data + off..m.pkt_data + end)
}

/// A 32-bit context field (the helper wrappers check the context is an `__sk_buff`).
fn read_ctx32(m: &Machine, off: usize) -> u32 {
    m.ctx
        .get(off..off + 4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// Sets a 32-bit context field, as the kernel's helpers change the skb behind it.
fn write_ctx32(m: &mut Machine, off: usize, v: u32) {
    if let Some(b) = m.ctx.get_mut(off..off + 4) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

type HelperPtr = fn(&mut Machine, [u64; 5]) -> Result<u64, HelperError>;

/// A helper only some program types have: the ones whose `*_func_proto` offers it on 6.18
/// (the helper table, `asm::types::helpers`, which the verifier reads too). The verifier
/// refuses the call elsewhere, so the VM does too, by name.
fn only(id: u32, f: HelperPtr) -> HelperFn {
    Box::new(move |m, a| {
        let offered = m
            .prog_type
            .is_some_and(|t| asm::types::helpers::get(id).is_some_and(|h| h.progs.contains(t)));
        if offered {
            f(m, a)
        } else {
            Err(bad(format!(
                "{} is not available to {} programs",
                builtin_name(id),
                crate::prog_type_name(m.prog_type)
            )))
        }
    })
}

fn bad(msg: impl Into<String>) -> HelperError {
    HelperError::Other(msg.into())
}

fn map(m: &mut Machine, handle: u64) -> Result<(usize, &mut crate::maps::Map), HelperError> {
    m.map_by_handle(handle).ok_or_else(|| {
        bad(format!(
            "{handle:#x} is not a map (pass a map loaded with lddw map_fd)"
        ))
    })
}

/// The map `handle` names, after the verifier's checks for passing it to helper `func`
/// ([`map_compat::check`]).
pub(crate) fn map_for(
    m: &mut Machine,
    handle: u64,
    func: u32,
) -> Result<(usize, &mut crate::maps::Map), HelperError> {
    let prog_type = m.prog_type;
    let (i, map) = map(m, handle)?;
    map_compat::check(map, func, prog_type)?;
    Ok((i, map))
}

fn map_lookup_elem(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let cpu = m.env.cpu as usize;
    let (_, mp) = map_for(m, a[0], 1)?;
    let key_size = mp.spec().key_size as usize;
    let of_maps = matches!(
        mp.spec().map_type,
        crate::MapType::ArrayOfMaps | crate::MapType::HashOfMaps
    );
    let key = m.read_vec(a[1], key_size)?;
    let (idx, map) = map(m, a[0])?;
    if of_maps {
        // array_of_map_lookup_elem / htab_of_map_lookup_elem: the inner map itself.
        return match map.lookup_inner(&key) {
            Ok(Some(inner)) => Ok(Region::MapHandle.addr(inner)),
            Ok(None) => Ok(0),
            Err(e) => Err(bad(e.to_string())),
        };
    }
    match map.lookup_off(&key, cpu) {
        Ok(Some(off)) => Ok(Region::MapValue(idx as u32).addr(off as u32)),
        Ok(None) => Ok(0),
        Err(e) => Err(bad(e.to_string())),
    }
}

fn map_update_elem(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let cpu = m.env.cpu as usize;
    let spec = map_for(m, a[0], 2)?.1.spec();
    let (key_size, value_size) = (spec.key_size as usize, spec.value_size as usize);
    let key = m.read_vec(a[1], key_size)?;
    let value = m.read_vec(a[2], value_size)?;
    let (_, map) = map(m, a[0])?;
    Ok(match map.update_from_prog(&key, &value, a[3], cpu) {
        Ok(()) => 0,
        Err(e) => e.helper_ret(),
    })
}

fn map_delete_elem(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let key_size = map_for(m, a[0], 3)?.1.spec().key_size as usize;
    let key = m.read_vec(a[1], key_size)?;
    Ok(match map(m, a[0])?.1.delete(&key) {
        Ok(()) => 0,
        Err(e) => e.helper_ret(),
    })
}

fn map_push_elem(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let vs = map_for(m, a[0], 87)?.1.spec().value_size as usize;
    let value = m.read_vec(a[1], vs)?;
    Ok(match map(m, a[0])?.1.push(&value, a[2]) {
        Ok(()) => 0,
        Err(e) => e.helper_ret(),
    })
}

fn pop_or_peek(m: &mut Machine, a: [u64; 5], delete: bool) -> Result<u64, HelperError> {
    let (_, mp) = map_for(m, a[0], if delete { 88 } else { 89 })?;
    if mp.spec().map_type == crate::MapType::BloomFilter {
        // bloom_map_peek_elem: the value to test is the argument.
        let vs = mp.spec().value_size as usize;
        let value = m.read_vec(a[1], vs)?;
        return Ok(match map(m, a[0])?.1.bloom_contains(&value) {
            Ok(()) => 0,
            Err(e) => e.helper_ret(),
        });
    }
    match map(m, a[0])?.1.pop(delete) {
        Ok(v) => {
            m.write(a[1], &v)?;
            Ok(0)
        }
        Err(e) => Ok(e.helper_ret()),
    }
}

fn ktime(m: &mut Machine, boot: bool) -> u64 {
    let t = m.env.ktime_ns;
    m.env.ktime_ns = t.wrapping_add(m.env.ktime_step_ns);
    if boot {
        t.wrapping_add(m.env.boot_offset_ns)
    } else {
        t
    }
}

fn probe_read(m: &mut Machine, a: [u64; 5], user: bool) -> Result<u64, HelperError> {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    // VM addresses (a program's own stack, context, maps) read directly; other addresses
    // come from the image the test provides. A failed read zeroes the buffer (as
    // copy_from_kernel_nofault's caller does) and returns -EFAULT.
    let image = if user {
        &m.env.user_memory
    } else {
        &m.env.kernel_memory
    };
    let data = match m.read(src, size) {
        Ok(b) if !user => Some(b.to_vec()),
        _ => Machine::read_image(image, src, size),
    };
    match data {
        Some(d) => {
            m.write(dst, &d)?;
            Ok(0)
        }
        None => {
            m.zero(dst, size)?;
            Ok(EFAULT)
        }
    }
}

fn probe_read_str(m: &mut Machine, a: [u64; 5], user: bool) -> Result<u64, HelperError> {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    if size == 0 {
        return Ok(0);
    }
    let image = if user {
        &m.env.user_memory
    } else {
        &m.env.kernel_memory
    };
    let s = (!user)
        .then(|| m.read_cstr(src, size - 1))
        .flatten()
        .or_else(|| {
            image.iter().find_map(|(base, bytes)| {
                let off = src.checked_sub(*base)? as usize;
                let rest = bytes.get(off..)?;
                Some(
                    rest.iter()
                        .take(size - 1)
                        .take_while(|&&b| b != 0)
                        .copied()
                        .collect::<Vec<u8>>(),
                )
            })
        });
    match s {
        Some(mut s) => {
            s.push(0);
            let n = s.len();
            m.write(dst, &s)?;
            Ok(n as u64)
        }
        None => {
            m.zero(dst, size)?;
            Ok(EFAULT)
        }
    }
}

fn get_current_comm(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let size = a[1] as u32 as usize;
    if size == 0 {
        return Ok(EINVAL);
    }
    // TASK_COMM_LEN is 16: at most 15 bytes and a NUL, truncated to the buffer.
    m.read(a[0], size)?;
    let mut buf: Vec<u8> = m.env.comm.bytes().take(15).collect();
    buf.resize(size, 0);
    let n = size - 1;
    buf[n] = 0;
    m.write(a[0], &buf)?;
    Ok(0)
}

fn ringbuf_output(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let data = m.read_vec(a[1], a[2] as usize)?;
    let (idx, map) = map_for(m, a[0], 130)?;
    if a[3] & !3 != 0 {
        return Ok(EINVAL);
    }
    match map.ringbuf_reserve(data.len()) {
        Ok(off) => {
            let _ = idx;
            map.values[off..off + data.len()].copy_from_slice(&data);
            map.ringbuf_finish(off, true).map_err(bad)?;
            Ok(0)
        }
        Err(MapError::NoSpace) => Ok(MapError::NoSpace.helper_ret()),
        Err(e) => Err(bad(e.to_string())),
    }
}

fn ringbuf_reserve(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[2] != 0 {
        return Ok(0);
    }
    let (idx, map) = map_for(m, a[0], 131)?;
    match map.ringbuf_reserve(a[1] as usize) {
        Ok(off) => Ok(Region::MapValue(idx as u32).addr(off as u32)),
        Err(MapError::NoSpace) => Ok(0),
        Err(e) => Err(bad(e.to_string())),
    }
}

fn ringbuf_finish(m: &mut Machine, a: [u64; 5], commit: bool) -> Result<u64, HelperError> {
    let id = (a[0] >> 32) as u32;
    if id < R_MAPVAL0 {
        return Err(bad(format!("{:#x} is not a ring buffer record", a[0])));
    }
    let map = m
        .maps
        .get_mut((id - R_MAPVAL0) as usize)
        .ok_or_else(|| bad(format!("{:#x} is not a ring buffer record", a[0])))?;
    map.ringbuf_finish(a[0] as u32 as usize, commit)
        .map_err(bad)?;
    Ok(0)
}

fn skb_load_bytes(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (off, to, len) = (a[1] as u32 as usize, a[2], a[3] as u32 as usize);
    // bpf_skb_load_bytes: offset beyond 0xffff or a read past the end is -EFAULT and
    // zeroes the buffer.
    match m
        .packet
        .get(off..off.saturating_add(len))
        .filter(|_| off <= 0xffff)
        .map(|b| b.to_vec())
    {
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

/// The built-in helpers: (id, function).
pub(crate) fn builtins() -> Vec<(u32, HelperFn)> {
    let mut v: Vec<(u32, HelperFn)> = vec![
        (1, Box::new(map_lookup_elem)),
        (2, Box::new(map_update_elem)),
        (3, Box::new(map_delete_elem)),
        (4, Box::new(|m, a| probe_read(m, a, false))),
        (5, Box::new(|m, _| Ok(ktime(m, false)))),
        (6, Box::new(crate::printk::trace_printk)),
        (7, Box::new(|m, _| Ok(m.next_random() as u64))),
        (8, Box::new(|m, _| Ok(m.env.cpu as u64))),
        (
            14,
            Box::new(|m, _| Ok(((m.env.tgid as u64) << 32) | m.env.pid as u64)),
        ),
        (
            15,
            Box::new(|m, _| Ok(((m.env.gid as u64) << 32) | m.env.uid as u64)),
        ),
        (16, Box::new(get_current_comm)),
        (26, Box::new(skb_load_bytes)),
        (45, Box::new(|m, a| probe_read_str(m, a, false))),
        (87, Box::new(map_push_elem)),
        (88, Box::new(|m, a| pop_or_peek(m, a, true))),
        (89, Box::new(|m, a| pop_or_peek(m, a, false))),
        (112, Box::new(|m, a| probe_read(m, a, true))),
        (113, Box::new(|m, a| probe_read(m, a, false))),
        (114, Box::new(|m, a| probe_read_str(m, a, true))),
        (115, Box::new(|m, a| probe_read_str(m, a, false))),
        (125, Box::new(|m, _| Ok(ktime(m, true)))),
        (130, Box::new(ringbuf_output)),
        (131, Box::new(ringbuf_reserve)),
        (132, Box::new(|m, a| ringbuf_finish(m, a, true))),
        (133, Box::new(|m, a| ringbuf_finish(m, a, false))),
        // Packet, checksum, redirect and skb metadata helpers (net/core/filter.c).
        (9, only(9, packet::skb_store_bytes)),
        (10, only(10, csum::l3_csum_replace)),
        (11, only(11, csum::l4_csum_replace)),
        (13, only(13, redirect::clone_redirect)),
        (17, only(17, |m, _| Ok(m.env.net.cgroup_classid as u64))),
        (18, only(18, packet::skb_vlan_push)),
        (19, only(19, packet::skb_vlan_pop)),
        (20, only(20, tunnel::get_tunnel_key)),
        (21, only(21, tunnel::set_tunnel_key)),
        (23, only(23, redirect::redirect)),
        (24, only(24, |m, _| Ok(m.env.net.route_realm as u64))),
        (28, only(28, csum::csum_diff)),
        (31, only(31, l3::skb_change_proto)),
        (32, only(32, packet::skb_change_type)),
        (34, only(34, skb_info::get_hash_recalc)),
        (38, only(38, packet::skb_change_tail)),
        (39, only(39, packet::skb_pull_data)),
        (40, only(40, csum::csum_update)),
        (41, only(41, skb_info::set_hash_invalid)),
        (43, only(43, packet::skb_change_head)),
        (44, only(44, packet::xdp_adjust_head)),
        (46, only(46, |m, _| Ok(m.env.net.socket_cookie))),
        (47, only(47, skb_info::get_socket_uid)),
        (48, only(48, skb_info::set_hash)),
        (50, only(50, l3::skb_adjust_room)),
        (51, only(51, redirect::redirect_map)),
        (54, only(54, packet::xdp_adjust_meta)),
        (65, only(65, packet::xdp_adjust_tail)),
        (68, only(68, packet::skb_load_bytes_relative)),
        (69, only(69, lookup::fib_lookup)),
        (84, only(84, socket::sk_lookup_tcp)),
        (85, only(85, socket::sk_lookup_udp)),
        (86, only(86, socket::sk_release)),
        (97, only(97, l3::skb_ecn_set_ce)),
        (99, only(99, socket::sk_lookup_tcp)),
        (135, only(135, csum::csum_level)),
        (152, only(152, redirect::redirect_neigh)),
        (155, only(155, redirect::redirect_peer)),
        (163, only(163, l3::check_mtu)),
        (188, only(188, packet::xdp_get_buff_len)),
        (189, only(189, packet::xdp_load_bytes)),
        (190, only(190, packet::xdp_store_bytes)),
    ];
    // Map types: perf event output, stack ids, cgroup and local storage.
    v.extend(perf::helpers());
    v.extend(stackid::helpers());
    v.extend(storage::helpers());
    // By family, one file each.
    v.extend(task::helpers());
    v.extend(string::helpers());
    v.extend(lock::helpers());
    v.extend(dynptr::helpers());
    v.extend(timer::helpers());
    v.extend(syscall::helpers());
    v
}

/// The built-in helpers that call back into the program.
pub(crate) fn interp_builtins() -> Vec<(u32, InterpFn)> {
    let mut v = callback::helpers();
    v.extend(user_ringbuf::helpers());
    v
}

/// The name of a built-in helper, from the helper table (`asm::types::helpers`).
pub(crate) fn builtin_name(id: u32) -> String {
    asm::text::helpers::name(id).unwrap_or_else(|| format!("helper {id}"))
}

/// Whether the VM has a built-in implementation of kernel helper `id` (what a new [`Vm`]
/// registers; programs calling other helpers fail at load unless one is registered).
///
/// [`Vm`]: crate::Vm
pub fn helper_implemented(id: u32) -> bool {
    builtins().iter().any(|(i, _)| *i == id) || interp_builtins().iter().any(|(i, _)| *i == id)
}

/// The helpers uBPF's test suite registers (`test_helpers.h` in uBPF), replacing the
/// kernel's helpers 0–5: 0 `gather_bytes`, 1 `memfrob`, 2 `trash_registers`, 3 `sqrti`,
/// 4 `strcmp_ext`, 5 `unwind` (ends the program with r0 = 0 when its argument is 0).
pub fn register_ubpf_test_helpers(vm: &mut crate::Vm) {
    vm.register_helper(0, "gather_bytes", |_, a| {
        Ok(((a[0] as u8 as u64) << 32)
            | ((a[1] as u8 as u64) << 24)
            | ((a[2] as u8 as u64) << 16)
            | ((a[3] as u8 as u64) << 8)
            | a[4] as u8 as u64)
    });
    vm.register_helper(1, "memfrob", |m, a| {
        let bytes: Vec<u8> = m
            .read(a[0], a[1] as usize)?
            .iter()
            .map(|b| b ^ 42)
            .collect();
        m.write(a[0], &bytes)?;
        Ok(a[0])
    });
    vm.register_helper(2, "trash_registers", |_, _| Ok(0));
    vm.register_helper(3, "sqrti", |_, a| {
        Ok((a[0] as u32 as f64).sqrt() as u32 as u64)
    });
    vm.register_helper(4, "strcmp_ext", |m, a| {
        let x = m
            .read_cstr(a[0], usize::MAX)
            .ok_or_else(|| bad(format!("{:#x} is not a readable string", a[0])))?;
        let y = m
            .read_cstr(a[1], usize::MAX)
            .ok_or_else(|| bad(format!("{:#x} is not a readable string", a[1])))?;
        let first_diff = x
            .iter()
            .chain(std::iter::once(&0))
            .zip(y.iter().chain(std::iter::once(&0)))
            .find(|(p, q)| p != q);
        Ok(first_diff.map_or(0, |(&p, &q)| (p as i32 - q as i32) as i64 as u64))
    });
    vm.register_helper(5, "unwind", |_, a| {
        if a[0] == 0 {
            Err(HelperError::Exit(0))
        } else {
            Ok(a[0])
        }
    });
}

#[cfg(test)]
mod table_tests {
    /// Every built-in is a helper of the table (the VM names it from there).
    #[test]
    fn builtins_are_known_helpers() {
        for (id, _) in super::builtins() {
            assert!(asm::types::helpers::get(id).is_some(), "built-in {id}");
            assert!(super::helper_implemented(id));
        }
        assert!(!super::helper_implemented(0));
        assert!(!super::helper_implemented(asm::types::helpers::MAX_ID));
    }
}
