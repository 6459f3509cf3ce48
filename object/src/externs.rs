//! Resolving externs as libbpf's `bpf_object__resolve_externs` does: `__kconfig`
//! variables from a kernel configuration into a `.kconfig` map
//! ([`Object::resolve_kconfig`]), `__ksym` variables and kfuncs against a kernel's BTF and
//! symbol table ([`Object::resolve_ksyms`]). The values come in as arguments (a
//! [`KernelConfig`], a BTF, a symbol lookup), so the result depends on nothing but them.

use crate::core::{kind, Btf, Detail};
use crate::{Extern, ExternKind, Map, MapSource, Object, F_RDONLY_PROG};
use asm::isa::{CallKind, Form, Pseudo};
use asm::types::MapSpec;
use asm::Insn;
use std::collections::{BTreeMap, HashMap};

/// The type of a `__kconfig` extern (libbpf's `enum kcfg_type`, `find_kcfg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KcfgType {
    /// `bool` (a 1-byte `BTF_INT_BOOL`): `y` is 1, `n` is 0.
    Bool,
    /// `char`: the value's letter (`y`, `m`, `n`) or a number.
    Char,
    /// An integer of 1, 2, 4 or 8 bytes.
    Int,
    /// `enum libbpf_tristate`: `y` 1, `m` 2, `n` 0.
    Tristate,
    /// `char[N]`: a quoted string, NUL-terminated, cut to N-1 bytes.
    CharArray,
}

/// Where a `__kconfig` extern lives in the `.kconfig` map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KconfigSlot {
    /// Byte offset in the map's value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// How a configuration value is stored.
    pub ty: KcfgType,
    /// A signed integer (range checks).
    pub signed: bool,
}

/// A kernel's configuration as libbpf reads it (`CONFIG_*` lines of `/proc/config.gz` or
/// `/boot/config-$(uname -r)`), and its specials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelConfig {
    /// `CONFIG_NAME` → the text after `=` (`y`, `m`, `"string"`, `0x10`).
    pub values: BTreeMap<String, String>,
    /// `LINUX_KERNEL_VERSION`: `KERNEL_VERSION(major, minor, patch)`.
    pub kernel_version: u32,
    /// `LINUX_HAS_BPF_COOKIE`: the kernel has `bpf_get_attach_cookie`.
    pub has_bpf_cookie: bool,
    /// `LINUX_HAS_SYSCALL_WRAPPER`: syscalls are entered through `__<arch>_sys_*` wrappers.
    pub has_syscall_wrapper: bool,
}

impl KernelConfig {
    /// Reads the `CONFIG_NAME=value` lines of a configuration file (as libbpf's
    /// `bpf_object__process_kconfig_line`: other lines, `# CONFIG_X is not set`
    /// included, are skipped; a `CONFIG_` line without `=` or value is an error naming
    /// its line).
    ///
    /// libbpf's specials may be given too, which a kernel's configuration file does not
    /// hold (so that a test can say them): `LINUX_KERNEL_VERSION=6.18.44` (a release) or
    /// `=0x61200` (a code), `LINUX_HAS_BPF_COOKIE=y|n`, `LINUX_HAS_SYSCALL_WRAPPER=y|n`.
    pub fn parse(text: &str) -> Result<KernelConfig, String> {
        let mut c = KernelConfig::default();
        for (n, line) in text.lines().enumerate() {
            let bad = || format!("line {}: `{line}`", n + 1);
            let yes_no = |v: &str| match v {
                "y" => Ok(true),
                "n" => Ok(false),
                _ => Err(format!("{}: expected y or n", bad())),
            };
            if let Some(v) = line.strip_prefix("LINUX_KERNEL_VERSION=") {
                c.kernel_version = match v.strip_prefix("0x") {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => KernelConfig::version_code(v),
                }
                .ok_or_else(|| format!("{}: expected a release (6.18.44) or 0x code", bad()))?;
                continue;
            }
            if let Some(v) = line.strip_prefix("LINUX_HAS_BPF_COOKIE=") {
                c.has_bpf_cookie = yes_no(v)?;
                continue;
            }
            if let Some(v) = line.strip_prefix("LINUX_HAS_SYSCALL_WRAPPER=") {
                c.has_syscall_wrapper = yes_no(v)?;
                continue;
            }
            if !line.starts_with("CONFIG_") {
                continue;
            }
            match line.split_once('=') {
                Some((name, value)) if !value.is_empty() => {
                    // The first occurrence wins, as `ext->is_set` makes it in libbpf.
                    c.values
                        .entry(name.to_owned())
                        .or_insert_with(|| value.to_owned());
                }
                Some(_) => return Err(format!("line {}: `{line}` has no value", n + 1)),
                None => return Err(format!("line {}: `{line}` has no `=`", n + 1)),
            }
        }
        Ok(c)
    }

    /// `KERNEL_VERSION(a, b, c)` of a release string (`6.18.44-fc`), as libbpf's
    /// `get_kernel_version` computes it (patch capped at 255).
    pub fn version_code(release: &str) -> Option<u32> {
        let mut parts = release
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u32>().ok());
        let (a, b) = (parts.next()??, parts.next()??);
        let c = parts.next().flatten().unwrap_or(0);
        Some((a << 16) + (b << 8) + c.min(255))
    }
}

/// An extern that cannot be resolved, by name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("extern `{name}`: {reason}")]
pub struct ExternError {
    /// The extern.
    pub name: String,
    /// Why.
    pub reason: String,
}

fn xerr<T>(name: &str, reason: impl Into<String>) -> Result<T, ExternError> {
    Err(ExternError {
        name: name.to_owned(),
        reason: reason.into(),
    })
}

/// `btf__align_of` for the types a kconfig extern can have.
fn align_of(btf: &Btf, id: u32) -> Option<u32> {
    let t = btf.get(btf.skip_mods(id))?;
    match t.kind {
        kind::INT | kind::ENUM | kind::ENUM64 | kind::FLOAT => Some(t.size_or_type.clamp(1, 8)),
        kind::PTR => Some(8),
        kind::ARRAY => match t.detail {
            Detail::Array { elem, .. } => align_of(btf, elem),
            _ => None,
        },
        _ => None,
    }
}

/// libbpf's `find_kcfg_type`: the type and signedness, `None` when unsupported.
fn kcfg_type(btf: &Btf, id: u32) -> Option<(KcfgType, bool)> {
    let t = btf.get(btf.skip_mods(id))?;
    match (t.kind, &t.detail) {
        (kind::INT, Detail::Int { encoding, .. }) => {
            // BTF_INT_BOOL = 4, BTF_INT_SIGNED = 1.
            if encoding & 4 != 0 {
                return (t.size_or_type == 1).then_some((KcfgType::Bool, false));
            }
            let signed = encoding & 1 != 0;
            match t.size_or_type {
                1 => Some((KcfgType::Char, signed)),
                2 | 4 | 8 => Some((KcfgType::Int, signed)),
                _ => None,
            }
        }
        (kind::ENUM, _) if t.size_or_type == 4 && t.name == "libbpf_tristate" => {
            Some((KcfgType::Tristate, false))
        }
        (kind::ENUM64, _) if t.name == "libbpf_tristate" => Some((KcfgType::Tristate, false)),
        (kind::ARRAY, Detail::Array { elem, nelems, .. }) if *nelems > 0 => {
            matches!(kcfg_type(btf, *elem), Some((KcfgType::Char, _)))
                .then_some((KcfgType::CharArray, false))
        }
        _ => None,
    }
}

/// The `.kconfig` layout of an object's kconfig externs, as libbpf's
/// `bpf_object__collect_externs` places them: sorted by alignment (largest first), then
/// size (smallest first), then name, each at the next offset its alignment allows.
pub(crate) fn kconfig_layout(
    btf: &Btf,
    externs: &[Extern],
) -> Result<HashMap<String, KconfigSlot>, ExternError> {
    let mut descs = Vec::new();
    for e in externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
        let Some(var) = btf
            .iter()
            .find(|(_, t)| t.kind == kind::VAR && t.name == e.name)
            .map(|(_, t)| t.size_or_type)
        else {
            return xerr(&e.name, "no BTF VAR describes it");
        };
        let size = btf
            .resolve_size(var)
            .filter(|&s| s > 0 && s <= u32::MAX as u64)
            .ok_or_else(|| ExternError {
                name: e.name.clone(),
                reason: "its type has no size".into(),
            })? as u32;
        let align = align_of(btf, var).ok_or_else(|| ExternError {
            name: e.name.clone(),
            reason: "its type has no alignment".into(),
        })?;
        let Some((ty, signed)) = kcfg_type(btf, var) else {
            return xerr(
                &e.name,
                format!(
                    "type `{}` is not a kconfig type (bool, char, an integer, \
                     enum libbpf_tristate, char[N])",
                    btf.describe(var)
                ),
            );
        };
        descs.push((e.name.clone(), size, align, ty, signed));
    }
    descs.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
    let mut off = 0u32;
    let mut out = HashMap::new();
    for (name, size, align, ty, signed) in descs {
        let offset = off.div_ceil(align) * align;
        off = offset + size;
        out.insert(
            name,
            KconfigSlot {
                offset,
                size,
                ty,
                signed,
            },
        );
    }
    Ok(out)
}

/// Stores one value as libbpf's `set_kcfg_value_tri` / `_str` / `_num` do.
fn store(name: &str, slot: &KconfigSlot, value: &str, out: &mut [u8]) -> Result<(), ExternError> {
    let dst = &mut out[slot.offset as usize..(slot.offset + slot.size) as usize];
    match value.as_bytes()[0] {
        c @ (b'y' | b'n' | b'm') => match slot.ty {
            KcfgType::Bool if c == b'm' => xerr(name, "value `m` implies a tristate or char type"),
            KcfgType::Bool => {
                dst[0] = (c == b'y') as u8;
                Ok(())
            }
            KcfgType::Tristate => {
                let v: u32 = match c {
                    b'y' => 1,
                    b'm' => 2,
                    _ => 0,
                };
                dst[..4].copy_from_slice(&v.to_le_bytes());
                Ok(())
            }
            KcfgType::Char => {
                dst[0] = c;
                Ok(())
            }
            _ => xerr(
                name,
                format!(
                    "value `{}` implies a bool, tristate or char type",
                    c as char
                ),
            ),
        },
        b'"' => {
            if slot.ty != KcfgType::CharArray {
                return xerr(name, format!("value `{value}` implies a char array type"));
            }
            if value.len() < 2 || !value.ends_with('"') {
                return xerr(name, format!("invalid string value `{value}`"));
            }
            let s = &value.as_bytes()[1..value.len() - 1];
            // libbpf truncates a long string to fit, with a warning.
            let n = s.len().min(dst.len() - 1);
            dst[..n].copy_from_slice(&s[..n]);
            dst[n] = 0;
            Ok(())
        }
        _ => {
            let parsed = if let Some(h) = value.strip_prefix("0x").or(value.strip_prefix("0X")) {
                u64::from_str_radix(h, 16)
            } else if value.len() > 1 && value.starts_with('0') {
                u64::from_str_radix(&value[1..], 8)
            } else if let Some(neg) = value.strip_prefix('-') {
                // strtoull accepts a sign and negates in 64 bits.
                neg.parse::<u64>().map(|v| v.wrapping_neg())
            } else {
                value.parse::<u64>()
            };
            let Ok(v) = parsed else {
                return xerr(name, format!("value `{value}` is not a valid integer"));
            };
            if !matches!(slot.ty, KcfgType::Int | KcfgType::Char) {
                return xerr(name, format!("value `{value}` implies an integer type"));
            }
            let bits = slot.size * 8;
            let fits = bits == 64
                || if slot.signed {
                    v.wrapping_add(1 << (bits - 1)) < (1 << bits)
                } else {
                    v >> bits == 0
                };
            if !fits {
                return xerr(
                    name,
                    format!("value `{value}` does not fit in {} bytes", slot.size),
                );
            }
            dst.copy_from_slice(&v.to_le_bytes()[..slot.size as usize]);
            Ok(())
        }
    }
}

impl Object {
    /// Resolves the `__kconfig` externs from `config` as libbpf's
    /// `bpf_object__resolve_externs` does: a `.kconfig` map (a read-only one-entry array
    /// holding every kconfig extern at its [`Extern::kconfig`] slot) is added, and each
    /// reference becomes a map-value load from it. `CONFIG_*` names come from
    /// [`KernelConfig::values`]; `LINUX_KERNEL_VERSION`, `LINUX_HAS_BPF_COOKIE` and
    /// `LINUX_HAS_SYSCALL_WRAPPER` from its specials; a `__weak` extern the
    /// configuration lacks stays 0, any other is an error naming it, as is a value that
    /// does not fit its type. Nothing is changed when the object has no kconfig extern.
    pub fn resolve_kconfig(&mut self, config: &KernelConfig) -> Result<(), ExternError> {
        let slots: Vec<(String, KconfigSlot, bool)> = self
            .externs
            .iter()
            .filter_map(|e| e.kconfig.map(|s| (e.name.clone(), s, e.weak)))
            .collect();
        if slots.is_empty() {
            return Ok(());
        }
        let size = slots
            .iter()
            .map(|s| s.1.offset + s.1.size)
            .max()
            .unwrap_or(0);
        let mut data = vec![0u8; size as usize];
        for (name, slot, weak) in &slots {
            let bool_text = |b: bool| if b { "y" } else { "n" };
            let value = match name.as_str() {
                "LINUX_KERNEL_VERSION" => Some(config.kernel_version.to_string()),
                "LINUX_HAS_BPF_COOKIE" => Some(bool_text(config.has_bpf_cookie).to_owned()),
                "LINUX_HAS_SYSCALL_WRAPPER" => {
                    Some(bool_text(config.has_syscall_wrapper).to_owned())
                }
                n if n.starts_with("CONFIG_") => config.values.get(n).cloned(),
                // libbpf: an unknown virtual `LINUX_*` extern is 0 when weak; any other
                // name is an error.
                n if n.starts_with("LINUX_") && *weak => None,
                n => {
                    return xerr(n, "not a kconfig value libbpf knows (CONFIG_*, LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER, or a __weak LINUX_*)");
                }
            };
            match value {
                Some(v) => store(name, slot, &v, &mut data)?,
                None if *weak => {}
                None => return xerr(name, "the kernel configuration does not set it"),
            }
        }
        let map_index = self.maps.len();
        let mut map = Map::with_source(
            MapSpec::array(size, 1)
                .named(".kconfig".to_owned())
                .with_flags(F_RDONLY_PROG),
            MapSource::Data,
        );
        map.data = Some(data);
        self.maps.push(map);
        for prog in &mut self.programs {
            for (i, name) in &prog.extern_refs {
                let Some((_, slot, _)) = slots.iter().find(|s| &s.0 == name) else {
                    continue;
                };
                let insn = prog.insns[*i];
                prog.insns[*i] = Insn::ld_map_value(insn.dst, map_index as i32, slot.offset);
            }
            prog.externs.retain(|e| !slots.iter().any(|s| &s.0 == e));
        }
        Ok(())
    }

    /// Resolves the `__ksym` externs against a kernel's BTF (`vmlinux`) and its symbol
    /// table (`kallsyms`: name → address), as libbpf's `bpf_object__resolve_ksyms_btf_id`
    /// and `bpf_object__read_kallsyms_file` do: a kfunc call becomes a
    /// `BPF_PSEUDO_KFUNC_CALL` with the `FUNC`'s id in `vmlinux`; a typed variable a
    /// `BPF_PSEUDO_BTF_ID` load of the `VAR`'s id; a typeless one (`extern const void x
    /// __ksym`) a constant load of its address. A `__weak` extern not found is left 0
    /// (kfunc: id 0); any other is an error naming it. Only `vmlinux` is searched (module
    /// BTF is not), and types are not compared with the kernel's as libbpf does
    /// (`bpf_core_types_are_compat`): the kernel's verifier checks the calls.
    pub fn resolve_ksyms(
        &mut self,
        vmlinux: &Btf,
        kallsyms: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<(), ExternError> {
        let ksyms: Vec<Extern> = self
            .externs
            .iter()
            .filter(|e| e.kind == ExternKind::Ksym)
            .cloned()
            .collect();
        for e in &ksyms {
            let value: Insn = if e.func {
                let id = match vmlinux.find(kind::FUNC, &e.name) {
                    Some(id) => id,
                    None if e.weak => 0,
                    None => {
                        return xerr(
                            &e.name,
                            "no kernel function (kfunc) of this name in the kernel's BTF",
                        )
                    }
                };
                Insn::call_kfunc(id as i32)
            } else if e.btf_type != 0 {
                match vmlinux.find(kind::VAR, &e.name) {
                    Some(id) => Insn {
                        src: Pseudo::BtfId.src(),
                        ..Insn::lddw(0, id as i64)
                    },
                    None if e.weak => Insn::lddw(0, 0),
                    None => {
                        return xerr(
                            &e.name,
                            "no kernel variable of this name in the kernel's BTF",
                        )
                    }
                }
            } else {
                match kallsyms(&e.name) {
                    Some(addr) => Insn::lddw(0, addr as i64),
                    None if e.weak => Insn::lddw(0, 0),
                    None => return xerr(&e.name, "no kernel symbol of this name (kallsyms)"),
                }
            };
            for prog in &mut self.programs {
                for (i, name) in &prog.extern_refs {
                    if name != &e.name {
                        continue;
                    }
                    let insn = prog.insns[*i];
                    let is_call = insn.form() == Some(Form::Call(CallKind::Local))
                        || insn.form() == Some(Form::Call(CallKind::Kfunc));
                    if e.func != is_call {
                        return xerr(
                            &e.name,
                            format!(
                                "program `{}` instruction {i} uses it as a {} but it is a {}",
                                prog.name,
                                if is_call { "function" } else { "variable" },
                                if e.func { "function" } else { "variable" }
                            ),
                        );
                    }
                    prog.insns[*i] = if is_call {
                        value
                    } else {
                        Insn {
                            dst: insn.dst,
                            ..value
                        }
                    };
                }
                prog.externs.retain(|n| n != &e.name);
            }
        }
        Ok(())
    }
}
