//! `check_map_func_compatibility` (6.18): the rules are data in `asm::types::map_compat`,
//! shared with the VM; this reports a mismatch with the kernel's message.

use crate::check::{fail, Env, R};
use crate::helpers;
use crate::EINVAL;
use asm::types::map_compat;

impl Env<'_> {
    /// `check_map_func_compatibility`: map `m` passed to helper `func`.
    pub(crate) fn check_map_func(&self, m: u32, func: u32) -> R<()> {
        let t = self.prog.maps[m as usize].map_type;
        let name = asm::text::helpers::bare(func).unwrap_or("");
        let bad = || {
            fail(
                EINVAL,
                format!(
                    "cannot pass map_type {} into func {}#{}",
                    t.number(),
                    helpers::name(func as i64),
                    func
                ),
            )
        };
        let opts = &self.prog.opts;
        if !map_compat::compatible(t, name, Some(opts.prog_type), opts.expected_attach_type) {
            return bad();
        }
        Ok(())
    }
}
