//! Access specs and target matching, after libbpf's `relo_core.c`:
//! `bpf_core_parse_spec`, `bpf_core_essential_name_len`, candidate search
//! (`bpf_core_add_cands`), `bpf_core_spec_match`, `bpf_core_match_member`,
//! `bpf_core_fields_are_compat`, `bpf_core_types_are_compat` and `bpf_core_types_match`.

use super::btf::{kind, Btf, Detail, Type, INT_SIGNED};
use super::CoreKind;

/// `BPF_CORE_SPEC_MAX_LEN`.
pub const SPEC_MAX_LEN: usize = 64;

/// `struct bpf_core_accessor`: a field (with its name) or an array element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accessor {
    /// Struct/union type, or the array element type.
    pub type_id: u32,
    /// Field index or array index.
    pub idx: u32,
    /// Field name (`None`: an array accessor).
    pub name: Option<String>,
}

/// `struct bpf_core_spec`: a parsed access on one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Type id the access starts from.
    pub root_type_id: u32,
    /// Named accessors (anonymous members are not in here, only in `raw`).
    pub access: Vec<Accessor>,
    /// Every index, anonymous members included.
    pub raw: Vec<u32>,
    /// Bit offset of the field from the root.
    pub bit_offset: u64,
}

impl Spec {
    fn new(root: u32) -> Spec {
        Spec {
            root_type_id: root,
            access: Vec::new(),
            raw: Vec::new(),
            bit_offset: 0,
        }
    }

    /// The access as a C path: `y`, `in.b`, `arr[2]`, or an enumerator's name.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for (i, a) in self.access.iter().enumerate() {
            match &a.name {
                Some(n) if i > 0 => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(n);
                }
                Some(n) => s.push_str(n),
                None if i == 0 && a.idx == 0 => {}
                None => s.push_str(&format!("[{}]", a.idx)),
            }
        }
        s
    }
}

/// `bpf_core_essential_name_len`: the name without a `___flavor` suffix.
pub fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    let n = b.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            if b[i] != b'_'
                && b[i + 1] == b'_'
                && b[i + 2] == b'_'
                && b[i + 3] == b'_'
                && b[i + 4] != b'_'
            {
                return &name[..i + 1];
            }
        }
    }
    name
}

/// `bpf_core_names_match`: equal essential names (an empty target name matches only an
/// empty local name).
fn names_match(local: &str, targ: &str) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    essential_name(local) == essential_name(targ)
}

/// `is_flex_arr`: the last member of a struct, an array of zero elements.
fn is_flex_arr(btf: &Btf, parent: Option<&Accessor>, nelems: u32) -> bool {
    let Some(p) = parent else { return false };
    if nelems != 0 || p.name.is_none() {
        return false;
    }
    let t = btf.ty(p.type_id);
    t.members().len() == p.idx as usize + 1
}

/// `bpf_core_parse_spec`: an access string (`0:1:2`) on the local type.
pub fn parse_spec(btf: &Btf, type_id: u32, access: &str, kind: CoreKind) -> Result<Spec, String> {
    let mut spec = Spec::new(type_id);
    for part in access.split(':') {
        let v: u32 = part
            .parse()
            .map_err(|_| format!("access string `{access}` is not a list of numbers"))?;
        if spec.raw.len() == SPEC_MAX_LEN {
            return Err(format!(
                "access string `{access}` is longer than {SPEC_MAX_LEN}"
            ));
        }
        spec.raw.push(v);
    }
    if spec.raw.is_empty() {
        return Err("empty access string".into());
    }
    // Type-based relocations: the access string is always "0".
    if kind.is_type_based() {
        if access != "0" {
            return Err(format!(
                "type relocation with access string `{access}` (expected `0`)"
            ));
        }
        return Ok(spec);
    }
    let mut id = btf.skip_mods(type_id);
    let t = btf.ty(id);
    let first = spec.raw[0];
    spec.access.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    if kind.is_enumval_based() {
        if !t.is_any_enum() || spec.raw.len() > 1 || first as usize >= t.enumerators().len() {
            return Err(format!(
                "enum value relocation with access `{access}` on {}",
                btf.describe(id)
            ));
        }
        spec.access[0].name = Some(t.enumerators()[first as usize].name.clone());
        return Ok(spec);
    }
    let sz = btf
        .resolve_size(id)
        .ok_or_else(|| format!("{} has no size", btf.describe(id)))?;
    spec.bit_offset = u64::from(first) * sz * 8;
    for &idx in &spec.raw.clone()[1..] {
        let t = btf.ty(id);
        if t.is_composite() {
            let Some(m) = t.members().get(idx as usize) else {
                return Err(format!("{} has no member #{idx}", btf.describe(id)));
            };
            spec.bit_offset += u64::from(m.bit_offset);
            if !m.name.is_empty() {
                spec.access.push(Accessor {
                    type_id: id,
                    idx,
                    name: Some(m.name.clone()),
                });
            }
            id = btf.skip_mods(m.type_id);
        } else if let Detail::Array { elem, nelems, .. } = t.detail {
            let flex = is_flex_arr(btf, spec.access.last(), nelems);
            id = btf.skip_mods(elem);
            if !flex && idx >= nelems {
                return Err(format!("array index {idx} is past the {nelems} elements"));
            }
            spec.access.push(Accessor {
                type_id: id,
                idx,
                name: None,
            });
            let sz = btf
                .resolve_size(id)
                .ok_or_else(|| format!("{} has no size", btf.describe(id)))?;
            spec.bit_offset += u64::from(idx) * sz * 8;
        } else {
            return Err(format!(
                "access `{access}` goes into {} ({}), which has no fields or elements",
                btf.describe(id),
                t.kind_name()
            ));
        }
    }
    Ok(spec)
}

/// `btf_kind_core_compat`: same kind, or both enums.
fn kind_compat(a: &Type, b: &Type) -> bool {
    a.kind == b.kind || (a.is_any_enum() && b.is_any_enum())
}

/// `bpf_core_find_cands` / `bpf_core_add_cands`: target types of the local type's kind
/// with the same essential name.
pub fn find_cands(local: &Btf, local_id: u32, targ: &Btf) -> Result<Vec<u32>, String> {
    let lt = local.ty(local_id);
    if lt.name.is_empty() {
        return Err(format!(
            "{} is anonymous; CO-RE needs a named type",
            local.describe(local_id)
        ));
    }
    let ess = essential_name(&lt.name);
    Ok(targ
        .iter()
        .filter(|(_, t)| !t.name.is_empty() && kind_compat(t, lt) && essential_name(&t.name) == ess)
        .map(|(id, _)| id)
        .collect())
}

fn int_offset(t: &Type) -> u8 {
    match t.detail {
        Detail::Int { offset, .. } => offset,
        _ => 0,
    }
}

fn int_signed(t: &Type) -> bool {
    matches!(t.detail, Detail::Int { encoding, .. } if encoding & INT_SIGNED != 0)
}

/// `bpf_core_fields_are_compat`.
fn fields_are_compat(local: &Btf, mut lid: u32, targ: &Btf, mut tid: u32) -> bool {
    for _ in 0..SPEC_MAX_LEN {
        lid = local.skip_mods(lid);
        tid = targ.skip_mods(tid);
        let (lt, tt) = (local.ty(lid), targ.ty(tid));
        if lt.is_composite() && tt.is_composite() {
            return true;
        }
        if !kind_compat(lt, tt) {
            return false;
        }
        match lt.kind {
            kind::PTR | kind::FLOAT => return true,
            kind::FWD | kind::ENUM | kind::ENUM64 => return names_match(&lt.name, &tt.name),
            kind::INT => return int_offset(lt) == 0 && int_offset(tt) == 0,
            kind::ARRAY => match (&lt.detail, &tt.detail) {
                (Detail::Array { elem: le, .. }, Detail::Array { elem: te, .. }) => {
                    lid = *le;
                    tid = *te;
                }
                _ => return false,
            },
            _ => return false,
        }
    }
    false
}

/// `bpf_core_match_member`: finds the local accessor's field among the target's members,
/// descending into anonymous structs and unions. Returns the next target type id.
fn match_member(
    local: &Btf,
    acc: &Accessor,
    targ: &Btf,
    tid: u32,
    spec: &mut Spec,
) -> Result<Option<u32>, String> {
    let lt = local.ty(acc.type_id);
    let lm = &lt.members()[acc.idx as usize];
    let tid = targ.skip_mods(tid);
    let tt = targ.ty(tid);
    if !tt.is_composite() {
        return Ok(None);
    }
    for (i, m) in tt.members().iter().enumerate() {
        if spec.raw.len() == SPEC_MAX_LEN {
            return Err("struct/union/array nesting is too deep".into());
        }
        spec.bit_offset += u64::from(m.bit_offset);
        spec.raw.push(i as u32);
        if m.name.is_empty() {
            if let Some(next) = match_member(local, acc, targ, m.type_id, spec)? {
                return Ok(Some(next));
            }
        } else if m.name == lm.name {
            // Field names match exactly (strcmp), unlike type names.
            if !fields_are_compat(local, lm.type_id, targ, m.type_id) {
                return Ok(None);
            }
            spec.access.push(Accessor {
                type_id: tid,
                idx: i as u32,
                name: Some(m.name.clone()),
            });
            return Ok(Some(m.type_id));
        }
        spec.bit_offset -= u64::from(m.bit_offset);
        spec.raw.pop();
    }
    Ok(None)
}

/// `bpf_core_spec_match`: the local spec applied to one candidate; `None` when it does
/// not match.
pub fn spec_match(
    local_spec: &Spec,
    local: &Btf,
    kind: CoreKind,
    targ: &Btf,
    targ_id: u32,
) -> Result<Option<Spec>, String> {
    let mut ts = Spec::new(targ_id);
    if kind.is_type_based() {
        let ok = if kind == CoreKind::TypeMatches {
            types_match(
                local,
                local_spec.root_type_id,
                targ,
                targ_id,
                false,
                SPEC_MAX_LEN as i32,
            )?
        } else {
            types_are_compat(
                local,
                local_spec.root_type_id,
                targ,
                targ_id,
                SPEC_MAX_LEN as i32,
            )?
        };
        return Ok(ok.then_some(ts));
    }
    let la = &local_spec.access[0];
    if kind.is_enumval_based() {
        let tid = targ.skip_mods(targ_id);
        let tt = targ.ty(tid);
        if !tt.is_any_enum() {
            return Ok(None);
        }
        let lname = la.name.as_deref().unwrap_or("");
        for (i, e) in tt.enumerators().iter().enumerate() {
            if essential_name(&e.name) == essential_name(lname) {
                ts.access.push(Accessor {
                    type_id: tid,
                    idx: i as u32,
                    name: Some(e.name.clone()),
                });
                ts.raw.push(i as u32);
                return Ok(Some(ts));
            }
        }
        return Ok(None);
    }
    let mut tid = targ_id;
    for (i, la) in local_spec.access.iter().enumerate() {
        if i > 0 {
            tid = targ.skip_mods(tid);
            if la.name.is_some() {
                match match_member(local, la, targ, tid, &mut ts)? {
                    Some(next) => {
                        tid = next;
                        continue;
                    }
                    None => return Ok(None),
                }
            }
            let Detail::Array { elem, nelems, .. } = targ.ty(tid).detail else {
                return Ok(None);
            };
            if !is_flex_arr(targ, ts.access.last(), nelems) && la.idx >= nelems {
                return Ok(None);
            }
            tid = targ.skip_mods(elem);
        }
        if ts.raw.len() == SPEC_MAX_LEN {
            return Err("struct/union/array nesting is too deep".into());
        }
        ts.access.push(Accessor {
            type_id: tid,
            idx: la.idx,
            name: None,
        });
        ts.raw.push(la.idx);
        let sz = targ
            .resolve_size(tid)
            .ok_or_else(|| format!("target {} has no size", targ.describe(tid)))?;
        ts.bit_offset += u64::from(la.idx) * sz * 8;
    }
    Ok(Some(ts))
}

/// `__bpf_core_types_are_compat`: the relaxed rule of TYPE_ID_TARGET, TYPE_EXISTS and
/// TYPE_SIZE.
pub fn types_are_compat(
    local: &Btf,
    mut lid: u32,
    targ: &Btf,
    mut tid: u32,
    mut depth: i32,
) -> Result<bool, String> {
    loop {
        depth -= 1;
        if depth < 0 {
            return Err("type nesting is too deep".into());
        }
        lid = local.skip_mods(lid);
        tid = targ.skip_mods(tid);
        let (lt, tt) = (local.ty(lid), targ.ty(tid));
        if !kind_compat(lt, tt) {
            return Ok(false);
        }
        match lt.kind {
            kind::UNKN | kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 | kind::FWD => {
                return Ok(true)
            }
            kind::INT => return Ok(int_offset(lt) == 0 && int_offset(tt) == 0),
            kind::PTR => {
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            kind::ARRAY => match (&lt.detail, &tt.detail) {
                (Detail::Array { elem: le, .. }, Detail::Array { elem: te, .. }) => {
                    lid = *le;
                    tid = *te;
                }
                _ => return Ok(false),
            },
            kind::FUNC_PROTO => {
                let (lp, tp) = (lt.members(), tt.members());
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (a, b) in lp.iter().zip(tp) {
                    if !types_are_compat(local, a.type_id, targ, b.type_id, depth)? {
                        return Ok(false);
                    }
                }
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            _ => return Ok(false),
        }
    }
}

/// `__bpf_core_types_match`: the strict rule of TYPE_MATCHES.
pub fn types_match(
    local: &Btf,
    mut lid: u32,
    targ: &Btf,
    mut tid: u32,
    mut behind_ptr: bool,
    mut depth: i32,
) -> Result<bool, String> {
    loop {
        depth -= 1;
        if depth < 0 {
            return Err("type nesting is too deep".into());
        }
        lid = local.skip_mods(lid);
        tid = targ.skip_mods(tid);
        let (lt, tt) = (local.ty(lid), targ.ty(tid));
        if !names_match(&lt.name, &tt.name) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind, tt.kind);
        match lk {
            kind::UNKN => return Ok(lk == tk),
            kind::FWD => {
                return Ok(if behind_ptr && lk != tk {
                    // A forward declaration's kflag says union (1) or struct (0).
                    (tk == kind::STRUCT && !lt.kflag) || (tk == kind::UNION && lt.kflag)
                } else {
                    lk == tk && lt.kflag == tt.kflag
                });
            }
            kind::ENUM | kind::ENUM64 => {
                if !tt.is_any_enum() || lt.size_or_type != tt.size_or_type {
                    return Ok(false);
                }
                // bpf_core_enums_match: every local enumerator named in the target.
                let (le, te) = (lt.enumerators(), tt.enumerators());
                return Ok(le.len() <= te.len()
                    && le
                        .iter()
                        .all(|l| te.iter().any(|t| names_match(&l.name, &t.name))));
            }
            kind::STRUCT | kind::UNION => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    return Ok(tk == kind::FWD && (lk == kind::UNION) == tt.kflag);
                }
                if lk != tk {
                    return Ok(false);
                }
                // bpf_core_composites_match: every local member matched by name and type.
                let (lm, tm) = (lt.members(), tt.members());
                if lm.len() > tm.len() {
                    return Ok(false);
                }
                for l in lm {
                    let mut found = false;
                    for t in tm {
                        if names_match(&l.name, &t.name)
                            && types_match(
                                local,
                                l.type_id,
                                targ,
                                t.type_id,
                                behind_ptr,
                                depth - 1,
                            )?
                        {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            kind::INT => {
                return Ok(lk == tk
                    && lt.size_or_type == tt.size_or_type
                    && int_signed(lt) == int_signed(tt))
            }
            kind::PTR => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            kind::ARRAY => match (&lt.detail, &tt.detail) {
                (
                    Detail::Array {
                        elem: le,
                        nelems: ln,
                        ..
                    },
                    Detail::Array {
                        elem: te,
                        nelems: tn,
                        ..
                    },
                ) if ln == tn => {
                    lid = *le;
                    tid = *te;
                }
                _ => return Ok(false),
            },
            kind::FUNC_PROTO => {
                if lk != tk || lt.members().len() != tt.members().len() {
                    return Ok(false);
                }
                for (a, b) in lt.members().iter().zip(tt.members()) {
                    if !types_match(local, a.type_id, targ, b.type_id, behind_ptr, depth - 1)? {
                        return Ok(false);
                    }
                }
                lid = lt.size_or_type;
                tid = tt.size_or_type;
            }
            _ => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_names_drop_the_last_flavor() {
        assert_eq!(essential_name("task_struct___old"), "task_struct");
        assert_eq!(essential_name("a___b___c"), "a___b");
        assert_eq!(essential_name("sample"), "sample");
        // `bpf_core_is_flavor_sep`: exactly three underscores between non-underscores.
        assert_eq!(essential_name("___x"), "___x");
        assert_eq!(essential_name("foo____bar"), "foo____bar");
        assert_eq!(essential_name("x___"), "x___");
    }

    #[test]
    fn names_match_on_essential_names() {
        assert!(names_match("sample___v2", "sample"));
        assert!(names_match("", ""));
        assert!(!names_match("sample", ""));
        assert!(!names_match("sampl", "sample"));
    }
}
