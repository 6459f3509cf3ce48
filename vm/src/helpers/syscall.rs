//! `bpf_sys_bpf(cmd, attr, attr_size)` for syscall programs (kernel/bpf/syscall.c): the
//! commands the kernel lets a program issue that work on maps run on the VM's maps
//! (`BPF_MAP_CREATE`, `BPF_MAP_UPDATE_ELEM`, `BPF_MAP_DELETE_ELEM`); a map a program creates
//! gets the next map index as its fd, the VM's naming of maps. The other allowed commands
//! (`BPF_MAP_FREEZE`, `BPF_MAP_GET_FD_BY_ID`, `BPF_PROG_LOAD`, `BPF_BTF_LOAD`,
//! `BPF_LINK_CREATE`, `BPF_RAW_TRACEPOINT_OPEN`) need a kernel and are a run error naming
//! them; any other command is `-EINVAL`, as in the kernel.

use super::{bad, HelperFn, EINVAL};
use crate::error::HelperError;
use crate::machine::Machine;
use crate::maps::{Map, MapSpec, MapType};
use crate::mem::Region;

const MAP_CREATE: u64 = 0;
const MAP_UPDATE_ELEM: u64 = 2;
const MAP_DELETE_ELEM: u64 = 3;
/// Allowed to programs but needing a kernel: (cmd, name).
const KERNEL_ONLY: [(u64, &str); 6] = [
    (22, "BPF_MAP_FREEZE"),
    (14, "BPF_MAP_GET_FD_BY_ID"),
    (5, "BPF_PROG_LOAD"),
    (18, "BPF_BTF_LOAD"),
    (28, "BPF_LINK_CREATE"),
    (17, "BPF_RAW_TRACEPOINT_OPEN"),
];

/// `union bpf_attr` bytes the command reads: `attr_size` bytes, zero beyond (the kernel's
/// `bpf_check_uarg_tail_zero` lets a short attr stand for zeroes).
fn attr(m: &Machine, at: u64, size: u64, need: usize) -> Result<Vec<u8>, HelperError> {
    let size = size as u32 as usize;
    let mut b = m.read_vec(at, size)?;
    b.resize(b.len().max(need), 0);
    Ok(b)
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]))
}

fn sys_bpf(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (cmd, at, size) = (a[0] as u32 as u64, a[1], a[2]);
    match cmd {
        MAP_CREATE => {
            // map_type, key_size, value_size, max_entries, map_flags.
            let b = attr(m, at, size, 20)?;
            let Some(t) = MapType::from_number(u32_at(&b, 0)) else {
                return Ok(EINVAL);
            };
            let spec = MapSpec::new(t, u32_at(&b, 4), u32_at(&b, 8), u32_at(&b, 12))
                .with_flags(u32_at(&b, 16));
            match Map::new(spec, m.env.ncpus as usize) {
                Ok(map) => {
                    m.maps.push(map);
                    Ok(m.maps.len() as u64 - 1)
                }
                Err(e) => Ok(e.helper_ret()),
            }
        }
        MAP_UPDATE_ELEM | MAP_DELETE_ELEM => {
            // map_fd, (pad), key, value, flags.
            let b = attr(m, at, size, 32)?;
            let fd = u32_at(&b, 0);
            let (key_ptr, value_ptr, flags) = (u64_at(&b, 8), u64_at(&b, 16), u64_at(&b, 24));
            let Some(spec) = m.maps.get(fd as usize).map(|x| x.spec().clone()) else {
                return Ok(super::errno(9)); // EBADF
            };
            let key = m.read_vec(key_ptr, spec.key_size as usize)?;
            let map_handle = Region::MapHandle.addr(fd);
            let (_, map) = super::map(m, map_handle)?;
            let res = if cmd == MAP_DELETE_ELEM {
                map.delete(&key)
            } else {
                // Per-CPU maps take every CPU's value from user space.
                let n = if matches!(
                    spec.map_type,
                    MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash
                ) {
                    spec.value_size.next_multiple_of(8) as usize * m.env.ncpus as usize
                } else {
                    spec.value_size as usize
                };
                let value = m.read_vec(value_ptr, n)?;
                let (_, map) = super::map(m, map_handle)?;
                map.update(&key, &value, flags)
            };
            Ok(match res {
                Ok(()) => 0,
                Err(e) => e.helper_ret(),
            })
        }
        _ => match KERNEL_ONLY.iter().find(|(c, _)| *c == cmd) {
            Some((_, name)) => Err(bad(format!(
                "{name} needs a running kernel; the VM implements BPF_MAP_CREATE, \
                 BPF_MAP_UPDATE_ELEM and BPF_MAP_DELETE_ELEM"
            ))),
            None => Ok(EINVAL),
        },
    }
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![(166, Box::new(sys_bpf))]
}
