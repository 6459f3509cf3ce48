//! `bpf_get_stackid` (27, `kernel/bpf/stackmap.c`): the id of the current call chain in a
//! stack trace map. The call chain is the test's ([`crate::Env::kernel_stack`], or
//! [`crate::Env::user_stack`] with `BPF_F_USER_STACK`).

use super::map_for;
use crate::error::HelperError;
use crate::machine::Machine;

/// `BPF_F_USER_STACK`.
const USER_STACK: u64 = 1 << 8;

/// `bpf_get_stackid(ctx, map, flags)`.
fn get_stackid(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let flags = a[2];
    let stack = if flags & USER_STACK != 0 {
        m.env.user_stack.clone()
    } else {
        m.env.kernel_stack.clone()
    };
    let (_, map) = map_for(m, a[1], 27)?;
    match map.get_stackid(&stack, flags) {
        Ok(Ok(id)) => Ok(id as u64),
        Ok(Err(errno)) => Ok(-(errno as i64) as u64),
        Err(e) => Err(HelperError::Other(e.to_string())),
    }
}

/// The helpers of this file: (id, function).
pub(super) fn helpers() -> Vec<(u32, super::HelperFn)> {
    vec![(27, Box::new(get_stackid))]
}
