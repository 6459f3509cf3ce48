//! The current task and its surroundings, as the test describes them in [`crate::Env`]:
//! `bpf_get_current_task(_btf)`, cgroup ids, the NUMA node, the attach point
//! (`bpf_get_func_ip`, `bpf_get_attach_cookie`), the clocks that derive from the VM's
//! clock (`bpf_ktime_get_coarse_ns`, `bpf_ktime_get_tai_ns`, `bpf_jiffies64`),
//! `bpf_copy_from_user` and the stack helpers.

use super::{HelperFn, EFAULT, EINVAL};
use crate::error::HelperError;
use crate::machine::Machine;

/// `BPF_F_SKIP_FIELD_MASK`: stack frames to skip.
const SKIP_FIELD_MASK: u64 = 0xff;
/// `BPF_F_USER_STACK`.
const USER_STACK: u64 = 1 << 8;
/// `BPF_F_USER_BUILD_ID`.
const USER_BUILD_ID: u64 = 1 << 11;
/// `sizeof(struct bpf_stack_build_id)`.
const BUILD_ID_ELEM: usize = 32;
/// `BPF_STACK_BUILD_ID_IP`: the element holds an address, no build id.
const STACK_BUILD_ID_IP: u32 = 2;

/// `bpf_get_current_cgroup_id`: the id of the last cgroup of [`crate::Env::cgroup_path`].
fn current_cgroup_id(m: &mut Machine, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(m.env.cgroup_path.last().copied().unwrap_or(0))
}

/// `bpf_get_current_ancestor_cgroup_id(level)`: 0 when `level` is deeper than the current
/// cgroup (`cgroup_ancestor()` returns NULL).
fn ancestor_cgroup_id(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let level = a[0] as i32;
    Ok(usize::try_from(level)
        .ok()
        .and_then(|l| m.env.cgroup_path.get(l).copied())
        .unwrap_or(0))
}

/// `bpf_copy_from_user(dst, size, user_ptr)`: from the user memory image; a failed copy
/// zeroes `dst` and returns `-EFAULT`.
fn copy_from_user(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    match Machine::read_image(&m.env.user_memory, src, size) {
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

/// `bpf_get_stack(ctx, buf, size, flags)` and `bpf_get_task_stack(task, ...)`, as
/// `__bpf_get_stack()` (kernel/bpf/stackmap.c): the stack is [`crate::Env::kernel_stack`] or,
/// with `BPF_F_USER_STACK`, [`crate::Env::user_stack`], innermost first; none is `-EFAULT`
/// (no callchain). Returns the bytes written; the rest of `buf` is zeroed.
fn get_stack(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (buf, size, flags) = (a[1], a[2] as u32 as usize, a[3]);
    let user = flags & USER_STACK != 0;
    let build_id = flags & USER_BUILD_ID != 0;
    let elem = if build_id { BUILD_ID_ELEM } else { 8 };
    let clear = |m: &mut Machine, ret: u64| -> Result<u64, HelperError> {
        m.zero(buf, size)?;
        Ok(ret)
    };
    if flags & !(SKIP_FIELD_MASK | USER_STACK | USER_BUILD_ID) != 0
        || (!user && build_id)
        || size % elem != 0
    {
        return clear(m, EINVAL);
    }
    let stack = if user {
        &m.env.user_stack
    } else {
        &m.env.kernel_stack
    };
    if stack.is_empty() {
        return clear(m, EFAULT);
    }
    let skip = (flags & SKIP_FIELD_MASK) as usize;
    let ips: Vec<u64> = stack.iter().skip(skip).take(size / elem).copied().collect();
    let mut out = Vec::with_capacity(size);
    for ip in &ips {
        if build_id {
            // No build ids in the VM: each frame is reported by address
            // (stack_map_get_build_id_offset's fallback).
            out.extend_from_slice(&STACK_BUILD_ID_IP.to_le_bytes());
            out.extend_from_slice(&[0; 20]);
            out.extend_from_slice(&ip.to_le_bytes());
        } else {
            out.extend_from_slice(&ip.to_le_bytes());
        }
    }
    let n = out.len();
    out.resize(size, 0);
    m.write(buf, &out)?;
    Ok(n as u64)
}

/// One clock read: the VM clock, which then advances by `ktime_step_ns`.
fn clock(m: &mut Machine) -> u64 {
    let t = m.env.ktime_ns;
    m.env.ktime_ns = t.wrapping_add(m.env.ktime_step_ns);
    t
}

/// Nanoseconds per jiffy.
fn tick_ns(m: &Machine) -> u64 {
    1_000_000_000 / u64::from(m.env.hz.max(1))
}

/// `INITIAL_JIFFIES` (include/linux/jiffies.h): jiffies start 300 seconds before the 32-bit
/// wrap, as a 64-bit value.
fn initial_jiffies(hz: u32) -> u64 {
    u64::from((-300i64 * i64::from(hz)) as u32)
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![
        (35, Box::new(|m, _| Ok(m.env.current_task))),
        (42, Box::new(|m, _| Ok(u64::from(m.env.numa_node)))),
        (67, Box::new(get_stack)),
        (80, Box::new(current_cgroup_id)),
        // bpf_jiffies64: jiffies advance with the VM clock at Env::hz.
        (
            118,
            Box::new(|m, _| {
                let t = clock(m);
                Ok(initial_jiffies(m.env.hz).wrapping_add(t / tick_ns(m)))
            }),
        ),
        (123, Box::new(ancestor_cgroup_id)),
        (141, Box::new(get_stack)),
        (148, Box::new(copy_from_user)),
        (158, Box::new(|m, _| Ok(m.env.current_task))),
        // ktime_get_coarse_ns: the clock as of the last tick.
        (
            160,
            Box::new(|m, _| {
                let t = clock(m);
                Ok(t - t % tick_ns(m))
            }),
        ),
        (173, Box::new(|m, _| Ok(m.env.func_ip))),
        (174, Box::new(|m, _| Ok(m.env.attach_cookie))),
        (
            208,
            Box::new(|m, _| {
                let t = clock(m);
                Ok(t.wrapping_add(m.env.tai_offset_ns))
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_jiffies_is_the_kernels() {
        // ((unsigned long)(unsigned int) (-300*HZ)) at HZ=250.
        assert_eq!(super::initial_jiffies(250), 0xfffe_db08);
    }
}
