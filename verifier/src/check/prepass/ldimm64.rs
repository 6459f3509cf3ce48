//! `resolve_pseudo_ldimm64`: the `lddw` map and map-value references, checked against the
//! maps given and the program type (`check_map_prog_compatibility`).

use crate::check::{fail, opcode, unsupported, Env, MAX_VAR_OFF, R};
use crate::{helpers, MapSpec, EACCES, EBADF, EINVAL};
use asm::isa::{class, Form, Pseudo};
use asm::types::{MapType, ProgType};

impl Env<'_> {
    /// `resolve_pseudo_ldimm64`: every `lddw` is well formed and names a map that exists;
    /// also the `BPF_LDX` field checks and unknown opcodes, as the kernel finds them in this pass.
    pub(crate) fn resolve_ldimm64(&mut self) -> R<()> {
        let n = self.prog.insns.len();
        let mut i = 0;
        while i < n {
            self.trace.pc = i;
            let insn = self.prog.insns[i];
            // BPF_LDX must be BPF_MEM or BPF_MEMSX with imm 0 (checked for every slot here, as
            // `resolve_pseudo_ldimm64` does before anything else looks at the program).
            if opcode::class(insn.code) == class::LDX
                && (!matches!(opcode::mode_form(insn.code), Some(Form::Load { .. }))
                    || insn.imm != 0)
            {
                return fail(EINVAL, "BPF_LDX uses reserved fields");
            }
            if self.is_lddw(i) {
                let next = self.prog.insns.get(i + 1);
                let bad = match next {
                    None => true,
                    Some(h) => h.code != 0 || h.dst != 0 || h.src != 0 || h.off != 0,
                };
                if bad {
                    return fail(EINVAL, "invalid bpf_ld_imm64 insn");
                }
                let hi = next.map(|h| h.imm).unwrap_or(0);
                match Pseudo::from_src(insn.src) {
                    Some(Pseudo::None | Pseudo::Func) => {}
                    Some(Pseudo::BtfId) => {
                        return unsupported("BPF_PSEUDO_BTF_ID needs kernel BTF")
                    }
                    Some(
                        pseudo @ (Pseudo::MapFd
                        | Pseudo::MapIdx
                        | Pseudo::MapValue
                        | Pseudo::MapIdxValue),
                    ) => {
                        if !pseudo.has_value_offset() && hi != 0 {
                            return fail(EINVAL, "unrecognized bpf_ld_imm64 insn");
                        }
                        let fd = insn.imm as i32;
                        let Some(map) = usize::try_from(fd)
                            .ok()
                            .and_then(|f| self.prog.opts.maps.get(f))
                        else {
                            return fail(
                                EBADF,
                                format!("fd {fd} is not pointing to valid bpf_map"),
                            );
                        };
                        if pseudo.has_value_offset() {
                            let off = hi as u32;
                            if off as i64 >= MAX_VAR_OFF {
                                return fail(
                                    EINVAL,
                                    format!("direct value offset of {off} is not allowed"),
                                );
                            }
                            if !matches!(map.map_type, MapType::Array) {
                                return fail(
                                    EINVAL,
                                    "no direct value access support for this map type",
                                );
                            }
                            if off >= map.value_size {
                                return fail(
                                    EACCES,
                                    format!(
                                        "invalid access to map value pointer, value_size={} off={off}",
                                        map.value_size
                                    ),
                                );
                            }
                        }
                        self.check_map_prog_compat(map)?;
                    }
                    _ => return fail(EINVAL, "unrecognized bpf_ld_imm64 insn"),
                }
                i += 2;
                continue;
            }
            if asm::isa::by_code(insn.code).is_empty() {
                return fail(EINVAL, format!("unknown opcode {:02x}", insn.code));
            }
            i += 1;
        }
        Ok(())
    }

    /// `check_map_prog_compatibility`: spin locks and timers are not for every program type.
    pub(crate) fn check_map_prog_compat(&self, map: &MapSpec) -> R<()> {
        let pt = self.prog.opts.prog_type;
        if map.value_fields.spin_lock.is_some() {
            if pt == ProgType::SocketFilter {
                return fail(EINVAL, "socket filter progs cannot use bpf_spin_lock yet");
            }
            if helpers::is_tracing(pt) {
                return fail(EINVAL, "tracing progs cannot use bpf_spin_lock yet");
            }
        }
        if map.value_fields.timer.is_some() && helpers::is_tracing(pt) {
            return fail(EINVAL, "tracing progs cannot use bpf_timer yet");
        }
        Ok(())
    }
}
