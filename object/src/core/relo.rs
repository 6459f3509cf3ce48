//! Computing and applying one relocation, after libbpf's `relo_core.c`:
//! `bpf_core_calc_relo_insn` (candidates, ambiguity), `bpf_core_calc_relo`,
//! `bpf_core_calc_field_relo`, `bpf_core_calc_type_relo`, `bpf_core_calc_enumval_relo`,
//! `bpf_core_patch_insn` and `bpf_core_poison_insn`.

use super::btf::{kind, Btf, Detail, INT_SIGNED};
use super::spec::{find_cands, parse_spec, spec_match, Spec};
use super::{CoreKind, CoreRelocResult, Outcome};
use crate::Program;
use asm::insn::Insn;
use asm::isa::{class, op, Size};
use std::collections::HashMap;

/// The helper id a poisoned instruction calls (`0xbad2310`): the verifier reports
/// `invalid func unknown#195896080` if the instruction is reachable.
pub const POISON_HELPER: i32 = 0xbad2310;

/// `struct bpf_core_relo_res`: what to patch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Res {
    /// Expected value in the instruction (local).
    pub orig_val: u64,
    /// Value to put there (target).
    pub new_val: u64,
    /// Poison instead of patching.
    pub poison: bool,
    /// Check the instruction holds `orig_val`.
    pub validate: bool,
    /// A load/store whose size would have to change in an unsafe way.
    pub fail_memsz_adjust: bool,
    /// Local field size (for load/store size adjustment).
    pub orig_sz: u64,
    /// Target field size.
    pub new_sz: u64,
    /// Local field type.
    pub orig_type_id: u32,
    /// Target field type.
    pub new_type_id: u32,
    /// The target root type.
    pub target_type: Option<u32>,
}

/// A field-relocation outcome before it is a value.
enum Calc {
    Val(u64),
    /// `-EUCLEAN`: poison the instruction.
    Poison,
}

/// `bpf_core_calc_field_relo`: the value of a field relocation on one side (`None`:
/// no target matched). Returns (value, field size, field type id, validate).
fn calc_field(
    kind: CoreKind,
    side: Option<(&Btf, &Spec)>,
) -> Result<(Calc, u64, u32, bool), String> {
    if kind == CoreKind::FieldExists {
        return Ok((Calc::Val(side.is_some() as u64), 0, 0, true));
    }
    let Some((btf, spec)) = side else {
        return Ok((Calc::Poison, 0, 0, true));
    };
    let acc = spec.access.last().expect("a field spec has an accessor");
    // An array element accessor (`a[n]`).
    if acc.name.is_none() {
        let sz = btf
            .resolve_size(acc.type_id)
            .ok_or_else(|| format!("{} has no size", btf.describe(acc.type_id)))?;
        return match kind {
            CoreKind::FieldByteOffset => {
                Ok((Calc::Val(spec.bit_offset / 8), sz, acc.type_id, true))
            }
            CoreKind::FieldByteSize => Ok((Calc::Val(sz), 0, 0, true)),
            _ => Err(format!("{kind} can't be applied to an array access")),
        };
    }
    let t = btf.ty(acc.type_id);
    let m = &t.members()[acc.idx as usize];
    let field_type_id = btf.skip_mods(m.type_id);
    let mt = btf.ty(field_type_id);
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(m.bitfield_size);
    let bitfield = bit_sz > 0;
    let (mut byte_sz, mut byte_off);
    if bitfield {
        byte_sz = u64::from(mt.size_or_type);
        if byte_sz == 0 {
            return Err(format!("bitfield `{}` has a type without size", m.name));
        }
        byte_off = bit_off / 8 / byte_sz * byte_sz;
        // The smallest load that covers the bitfield.
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return Err(format!(
                    "bitfield `{}` can't be read with a 64-bit load",
                    m.name
                ));
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
    } else {
        byte_sz = btf
            .resolve_size(field_type_id)
            .ok_or_else(|| format!("field `{}` has a type without size", m.name))?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    // Bitfield values are ambiguous (the compiler may have chosen another load), so
    // only signedness and the right shift are validated for them.
    let mut validate = !bitfield;
    let (mut field_sz, mut type_id) = (0, 0);
    let val = match kind {
        CoreKind::FieldByteOffset => {
            if !bitfield {
                field_sz = byte_sz;
                type_id = field_type_id;
            }
            byte_off
        }
        CoreKind::FieldByteSize => byte_sz,
        CoreKind::FieldSigned => {
            validate = true;
            let signed_int =
                matches!(mt.detail, Detail::Int { encoding, .. } if encoding & INT_SIGNED != 0);
            u64::from((mt.is_any_enum() && mt.kflag) || signed_int)
        }
        // Little-endian.
        CoreKind::FieldLshiftU64 => 64 - (bit_off + bit_sz - byte_off * 8),
        CoreKind::FieldRshiftU64 => {
            validate = true;
            64 - bit_sz
        }
        _ => return Err(format!("{kind} is not a field relocation")),
    };
    Ok((Calc::Val(val), field_sz, type_id, validate))
}

/// `bpf_core_calc_relo`: local and target values for one candidate (`targ` `None`:
/// no candidate matched).
fn calc_relo(
    kind: CoreKind,
    local: &Btf,
    ls: &Spec,
    targ: Option<(&Btf, &Spec)>,
) -> Result<Res, String> {
    let mut res = Res {
        validate: true,
        target_type: targ.map(|(_, s)| s.root_type_id),
        ..Res::default()
    };
    if kind.is_field_based() {
        let (orig, osz, otid, validate) = calc_field(kind, Some((local, ls)))?;
        let (new, nsz, ntid, _) = calc_field(kind, targ)?;
        res.validate = validate;
        (res.orig_sz, res.orig_type_id, res.new_sz, res.new_type_id) = (osz, otid, nsz, ntid);
        if let Calc::Val(v) = orig {
            res.orig_val = v;
        }
        match new {
            Calc::Val(v) => res.new_val = v,
            Calc::Poison => res.poison = true,
        }
        if !res.poison && res.orig_sz != res.new_sz {
            // Safe size changes: a pointer read as a smaller integer, or unsigned
            // integers (zero extension keeps the value). Anything else poisons a
            // load or store (checked in bpf_core_patch_insn).
            let (ot, nt) = (
                local.ty(res.orig_type_id),
                targ.map_or(local, |t| t.0).ty(res.new_type_id),
            );
            let unsigned_int = |t: &super::Type| {
                t.kind == kind::INT
                    && !matches!(t.detail, Detail::Int { encoding, .. } if encoding & INT_SIGNED != 0)
            };
            let ok = (ot.kind == kind::PTR && nt.kind == kind::PTR)
                || (unsigned_int(ot) && unsigned_int(nt));
            res.fail_memsz_adjust = !ok;
        }
    } else if kind.is_type_based() {
        // bpf_core_calc_type_relo: type relocations give 0 when no target matched.
        let val = |side: Option<(&Btf, &Spec)>| -> Result<u64, String> {
            let Some((btf, spec)) = side else {
                return Ok(0);
            };
            Ok(match kind {
                CoreKind::TypeIdTarget | CoreKind::TypeIdLocal => u64::from(spec.root_type_id),
                CoreKind::TypeExists | CoreKind::TypeMatches => 1,
                CoreKind::TypeSize => btf
                    .resolve_size(spec.root_type_id)
                    .ok_or_else(|| format!("{} has no size", btf.describe(spec.root_type_id)))?,
                _ => unreachable!("type-based kinds only"),
            })
        };
        res.orig_val = val(Some((local, ls)))?;
        res.new_val = val(targ)?;
    } else {
        // bpf_core_calc_enumval_relo.
        let val = |side: Option<(&Btf, &Spec)>| -> Option<u64> {
            let (btf, spec) = side?;
            let a = &spec.access[0];
            btf.ty(a.type_id)
                .enumerators()
                .get(a.idx as usize)
                .map(|e| e.value)
        };
        res.orig_val = match kind {
            CoreKind::EnumvalExists => 1,
            _ => val(Some((local, ls))).unwrap_or(0),
        };
        match (kind, targ) {
            (CoreKind::EnumvalExists, t) => res.new_val = t.is_some() as u64,
            (_, None) => res.poison = true,
            (_, t) => res.new_val = val(t).unwrap_or(0),
        }
    }
    Ok(res)
}

/// `bpf_core_calc_relo_insn`: parses the spec, tries every candidate, and insists that
/// all matching candidates agree. Returns the local spec and the result.
pub fn calc_relo_insn(
    kind: CoreKind,
    local: &Btf,
    type_id: u32,
    access: &str,
    targ: &Btf,
    cands: &mut HashMap<u32, Result<Vec<u32>, String>>,
) -> Result<(Spec, Res), (Option<Spec>, String)> {
    let ls = parse_spec(local, type_id, access, kind).map_err(|e| (None, e))?;
    if kind == CoreKind::TypeIdLocal {
        let res = Res {
            orig_val: type_id.into(),
            new_val: type_id.into(),
            ..Res::default()
        };
        return Ok((ls, res));
    }
    let cand_ids = cands
        .entry(type_id)
        .or_insert_with(|| find_cands(local, type_id, targ))
        .clone()
        .map_err(|e| (Some(ls.clone()), e))?;
    let mut chosen: Option<(Spec, Res)> = None;
    for id in cand_ids {
        let Some(ts) = spec_match(&ls, local, kind, targ, id).map_err(|e| (Some(ls.clone()), e))?
        else {
            continue;
        };
        let res =
            calc_relo(kind, local, &ls, Some((targ, &ts))).map_err(|e| (Some(ls.clone()), e))?;
        match &chosen {
            None => chosen = Some((ts, res)),
            Some((cs, cr)) => {
                if cs.bit_offset != ts.bit_offset {
                    return Err((
                        Some(ls.clone()),
                        format!(
                            "field offset ambiguity: {} != {} (target types {} and {id})",
                            cs.bit_offset, ts.bit_offset, cs.root_type_id
                        ),
                    ));
                }
                if cr.poison != res.poison || (!cr.poison && cr.new_val != res.new_val) {
                    return Err((
                        Some(ls.clone()),
                        format!(
                            "relocation decision ambiguity: {} != {} (target types {} and {id})",
                            cr.new_val, res.new_val, cs.root_type_id
                        ),
                    ));
                }
            }
        }
    }
    let res = match chosen {
        Some((_, r)) => r,
        // No candidate: field existence and type checks give 0, the rest poison.
        None => calc_relo(kind, local, &ls, None).map_err(|e| (Some(ls.clone()), e))?,
    };
    Ok((ls, res))
}

/// `bpf_core_poison_insn`.
fn poison() -> Insn {
    Insn::call_helper(POISON_HELPER)
}

/// `bpf_core_patch_insn`: puts the new value in the instruction, or poisons it.
/// `insns[i]` is the relocated instruction; a poisoned `lddw` becomes two calls.
/// Returns `Ok(None)` when patched, `Ok(Some(reason))` when poisoned.
fn patch_insn(insns: &mut Vec<Insn>, i: usize, res: &Res) -> Result<Option<String>, String> {
    let insn = insns[i];
    let do_poison = |insns: &mut Vec<Insn>, why: String| {
        if insn.code == op::LDDW {
            // Both slots of an ldimm64, so the verifier does not see "unknown opcode 00".
            insns.splice(i..=i, [poison(), poison()]);
        } else {
            insns[i] = poison();
        }
        Ok(Some(why))
    };
    if res.poison {
        return do_poison(insns, "no matching target".into());
    }
    let (orig, new) = (res.orig_val, res.new_val);
    match insn.class() {
        class::ALU | class::ALU64 => {
            if insn.form().is_some_and(|f| {
                matches!(
                    f,
                    asm::isa::Form::Alu {
                        source: asm::isa::Source::Reg,
                        ..
                    }
                )
            }) {
                return Err("ALU instruction with a register operand".into());
            }
            if res.validate && insn.imm as u32 as u64 != orig & 0xffff_ffff {
                return Err(format!(
                    "unexpected ALU value: got {}, exp {orig} -> {new}",
                    insn.imm
                ));
            }
            insns[i].imm = i64::from(new as u32 as i32);
        }
        class::LDX | class::ST | class::STX => {
            if res.validate && insn.off as i64 as u64 != orig {
                return Err(format!(
                    "unexpected LDX/ST/STX value: got {}, exp {orig} -> {new}",
                    insn.off
                ));
            }
            if new > i16::MAX as u64 {
                return Err(format!("LDX/ST/STX value too big: {new}"));
            }
            if res.fail_memsz_adjust {
                return do_poison(
                    insns,
                    "accesses field incorrectly (only pointers, unsigned integers or fields of matching size can be resized)".into(),
                );
            }
            insns[i].off = new as i16;
            if res.new_sz != res.orig_sz {
                let have = Size::from_code(insn.code).bytes() as u64;
                if have != res.orig_sz {
                    return Err(format!(
                        "unexpected mem size: got {have}, exp {}",
                        res.orig_sz
                    ));
                }
                let Some(sz) = Size::ALL.iter().find(|s| s.bytes() as u64 == res.new_sz) else {
                    return Err(format!("invalid new mem size: {}", res.new_sz));
                };
                insns[i].code = (insn.code & !Size::DW.code()) | sz.code();
            }
        }
        class::LD if insn.code == op::LDDW && insn.src == 0 && insn.off == 0 => {
            if res.validate && insn.imm as u64 != orig {
                return Err(format!(
                    "unexpected LDIMM64 value: got {}, exp {orig} -> {new}",
                    insn.imm
                ));
            }
            insns[i].imm = new as i64;
        }
        class::LD => return Err("LDIMM64 has unexpected form".into()),
        _ => {
            return Err(format!(
                "trying to relocate unrecognized insn, code {:#04x}",
                insn.code
            ))
        }
    }
    Ok(None)
}

/// Applies one program's relocations (`bpf_object__relocate_core` for one program).
pub(crate) fn relocate_program(
    pi: usize,
    prog: &mut Program,
    targ: &Btf,
    out: &mut Vec<CoreRelocResult>,
) {
    let Some(local) = prog.ext.btf.clone() else {
        return;
    };
    let mut cands = HashMap::new();
    for r in prog.ext.core_relos.clone() {
        let mut result = CoreRelocResult {
            program: pi,
            insn: r.insn,
            kind: r.kind,
            local_type: local.describe(r.type_id),
            access: r.access.clone(),
            access_path: String::new(),
            local_value: 0,
            target_value: None,
            target_type: None,
            outcome: Outcome::Patched,
        };
        // Slot → index in `insns` (recomputed: a poisoned lddw adds an entry).
        let mut slot = 0;
        let idx = prog.insns.iter().position(|insn| {
            let here = slot == r.insn;
            slot += insn.slots();
            here
        });
        let Some(idx) = idx else {
            result.outcome = Outcome::Failed(format!(
                "insn {} is not an instruction of the program",
                r.insn
            ));
            out.push(result);
            continue;
        };
        match calc_relo_insn(r.kind, &local, r.type_id, &r.access, targ, &mut cands) {
            Err((spec, e)) => {
                result.access_path = spec.map(|s| s.path()).unwrap_or_default();
                result.outcome = Outcome::Failed(e);
            }
            Ok((spec, res)) => {
                result.access_path = spec.path();
                result.local_value = res.orig_val;
                result.target_type = res.target_type;
                result.outcome = match patch_insn(&mut prog.insns, idx, &res) {
                    Ok(None) => {
                        result.target_value = Some(res.new_val);
                        Outcome::Patched
                    }
                    Ok(Some(why)) => Outcome::Poisoned(why),
                    Err(e) => Outcome::Failed(format!("failed to patch insn: {e}")),
                };
            }
        }
        out.push(result);
    }
}
