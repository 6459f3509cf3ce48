//! The object's `.BTF` as the kernel is given it (`BPF_BTF_LOAD`): the fix-ups libbpf makes
//! between opening an object and loading it, applied to the raw type table.
//!
//! clang leaves some of BTF to the loader, and the kernel's BTF checker
//! (`btf_check_all_metas` in `kernel/bpf/btf.c`) refuses what it leaves:
//!
//! * `DATASEC` sizes and variable offsets of global data sections are 0 in clang's output:
//!   they come from the ELF section sizes and symbol values (libbpf's `btf_fixup_datasec`);
//!   a global variable of hidden visibility becomes `BTF_VAR_STATIC` there too.
//! * extern `.kconfig` variables get `BTF_VAR_GLOBAL_ALLOCATED` linkage and their offsets in
//!   the `.kconfig` map, extern `.ksyms` variables become 4-byte `int` variables at 4-byte
//!   steps, and `.ksyms` functions are replaced in the DATASEC by one `dummy_ksym` variable,
//!   their linkage made `BTF_FUNC_GLOBAL` and their unnamed parameters named
//!   (`bpf_object__collect_externs`, `add_dummy_ksym_var`);
//! * `.text` functions of hidden visibility get `BTF_FUNC_STATIC` linkage, so the verifier
//!   checks them with their callers' context (`bpf_object__sanitize_and_load_btf`).
//!
//! libbpf also rewrites kinds an older kernel lacks (`bpf_object__sanitize_btf`: DATASEC,
//! FLOAT, DECL_TAG, TYPE_TAG, ENUM64, global functions); bpfx loads into kernels that have
//! them all (6.0 and later know every kind), so no kind is rewritten here.

use crate::core::{kind, Btf};
use crate::externs::KconfigSlot;
use crate::{ExternKind, MapSource, Object, ObjectError};
use std::collections::{HashMap, HashSet};

/// `BTF_VAR_STATIC`.
const VAR_STATIC: u32 = 0;
/// `BTF_VAR_GLOBAL_ALLOCATED`.
const VAR_GLOBAL_ALLOCATED: u32 = 1;
/// `BTF_FUNC_STATIC`.
const FUNC_STATIC: u32 = 0;
/// `BTF_FUNC_GLOBAL`.
const FUNC_GLOBAL: u32 = 1;

/// What the ELF file says that the BTF needs.
#[derive(Clone, Debug, Default)]
pub(crate) struct ElfFacts {
    /// Section name → size.
    pub section_sizes: HashMap<String, u64>,
    /// Global or weak `STT_OBJECT` symbols: name → (value, hidden or internal visibility),
    /// as libbpf's `find_elf_var_sym` finds them.
    pub var_syms: HashMap<String, (u64, bool)>,
    /// Global `.text` functions of hidden or internal visibility.
    pub hidden_funcs: HashSet<String>,
}

/// The type table as each type's 32-bit words (the 12-byte header, then what its kind
/// adds), and the strings.
#[derive(Debug)]
struct RawTypes {
    types: Vec<Vec<u32>>,
    strings: Vec<u8>,
}

fn kind_of(info: u32) -> u8 {
    ((info >> 24) & 0x1f) as u8
}

fn vlen_of(info: u32) -> usize {
    (info & 0xffff) as usize
}

/// How many words a type of this kind and vlen adds after its header.
fn extra_words(k: u8, vlen: usize) -> Option<usize> {
    Some(match k {
        kind::INT | kind::VAR | kind::DECL_TAG => 1,
        kind::PTR
        | kind::FWD
        | kind::TYPEDEF
        | kind::VOLATILE
        | kind::CONST
        | kind::RESTRICT
        | kind::FUNC
        | kind::FLOAT
        | kind::TYPE_TAG => 0,
        kind::ARRAY => 3,
        kind::STRUCT | kind::UNION | kind::DATASEC | kind::ENUM64 => 3 * vlen,
        kind::ENUM | kind::FUNC_PROTO => 2 * vlen,
        _ => return None,
    })
}

impl RawTypes {
    fn parse(data: &[u8]) -> Result<RawTypes, String> {
        let word = |i: usize| -> Result<u32, String> {
            data.get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| format!("truncated at byte {i}"))
        };
        let hdr_len = word(4)? as usize;
        let (type_off, type_len) = (word(8)? as usize, word(12)? as usize);
        let (str_off, str_len) = (word(16)? as usize, word(20)? as usize);
        let ts = hdr_len + type_off;
        let te = ts + type_len;
        let strings = data
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or("string section outside the blob")?
            .to_vec();
        let mut types = vec![Vec::new()];
        let mut pos = ts;
        while pos < te {
            let info = word(pos + 4)?;
            let k = kind_of(info);
            let extra = extra_words(k, vlen_of(info))
                .ok_or_else(|| format!("type at byte {pos}: unknown kind {k}"))?;
            let n = 3 + extra;
            if pos + 4 * n > te {
                return Err(format!("type at byte {pos} runs past the type section"));
            }
            types.push(
                (0..n)
                    .map(|i| word(pos + 4 * i))
                    .collect::<Result<_, _>>()?,
            );
            pos += 4 * n;
        }
        Ok(RawTypes { types, strings })
    }

    fn string(&self, off: u32) -> &str {
        let rest = self.strings.get(off as usize..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    fn add_string(&mut self, s: &str) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn encode(&self) -> Vec<u8> {
        let type_len: usize = self.types.iter().map(|t| 4 * t.len()).sum();
        let mut out = Vec::with_capacity(24 + type_len + self.strings.len());
        out.extend_from_slice(&crate::core::btf::MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        for w in [
            24,
            0,
            type_len as u32,
            type_len as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for w in self.types.iter().flatten() {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.strings);
        out
    }
}

/// The object's BTF fixed up for `BPF_BTF_LOAD`, or why it cannot be (a data section
/// that BTF lists but the ELF file lacks, a variable without its symbol): libbpf fails to
/// open such an object.
pub(crate) fn for_kernel(
    raw: &[u8],
    btf: &Btf,
    facts: &ElfFacts,
    kconfig: &HashMap<String, KconfigSlot>,
) -> Result<Vec<u8>, String> {
    let mut t = RawTypes::parse(raw)?;
    // A 32-bit int for the stand-in ksym variables (libbpf's `find_int_btf_id`).
    let int_id = btf
        .iter()
        .find(|(_, ty)| {
            ty.kind == kind::INT && matches!(ty.detail, crate::core::Detail::Int { bits: 32, .. })
        })
        .map_or(0, |(id, _)| id);
    let n = t.types.len();
    let mut dummy: Option<(u32, u32)> = None;
    for id in 1..n {
        let info = t.types[id][1];
        match kind_of(info) {
            kind::FUNC if vlen_of(info) as u32 == FUNC_GLOBAL => {
                let name = t.string(t.types[id][0]).to_owned();
                if facts.hidden_funcs.contains(&name) {
                    t.types[id][1] = (info & !0xffff) | FUNC_STATIC;
                }
            }
            kind::DATASEC => {
                let sec = t.string(t.types[id][0]).to_owned();
                let vlen = vlen_of(info);
                match sec.as_str() {
                    ".ksyms" => {
                        let mut off = 0u32;
                        for i in 0..vlen {
                            let var = t.types[id][3 + 3 * i] as usize;
                            let vinfo = t.types.get(var).map_or(0, |v| v[1]);
                            if kind_of(vinfo) == kind::FUNC {
                                let (dummy_id, dummy_name) = *dummy.get_or_insert_with(|| {
                                    let name = t.add_string("dummy_ksym");
                                    t.types.push(vec![
                                        name,
                                        (kind::VAR as u32) << 24,
                                        int_id,
                                        VAR_GLOBAL_ALLOCATED,
                                    ]);
                                    ((t.types.len() - 1) as u32, name)
                                });
                                let proto = t.types[var][2] as usize;
                                if let Some(p) = t.types.get_mut(proto) {
                                    if kind_of(p[1]) == kind::FUNC_PROTO {
                                        for j in 0..vlen_of(p[1]) {
                                            let (name, ty) = (3 + 2 * j, 4 + 2 * j);
                                            if p[ty] != 0 && p[name] == 0 {
                                                p[name] = dummy_name;
                                            }
                                        }
                                    }
                                }
                                t.types[id][3 + 3 * i] = dummy_id;
                                t.types[var][1] = (vinfo & !0xffff) | FUNC_GLOBAL;
                            } else if kind_of(vinfo) == kind::VAR {
                                t.types[var][3] = VAR_GLOBAL_ALLOCATED;
                                t.types[var][2] = int_id;
                            }
                            t.types[id][4 + 3 * i] = off;
                            t.types[id][5 + 3 * i] = 4;
                            off += 4;
                        }
                        t.types[id][2] = off;
                    }
                    ".kconfig" => {
                        let mut end = 0;
                        for i in 0..vlen {
                            let var = t.types[id][3 + 3 * i] as usize;
                            let name = t.string(t.types.get(var).map_or(0, |v| v[0])).to_owned();
                            let slot = kconfig.get(&name).ok_or_else(|| {
                                format!("`.kconfig` lists `{name}`, which is not a kconfig extern")
                            })?;
                            t.types[var][3] = VAR_GLOBAL_ALLOCATED;
                            t.types[id][4 + 3 * i] = slot.offset;
                            end = end.max(slot.offset + slot.size);
                        }
                        t.types[id][2] = kconfig
                            .values()
                            .map(|s| s.offset + s.size)
                            .max()
                            .unwrap_or(end);
                    }
                    _ => fix_datasec(&mut t, id, &sec, facts)?,
                }
                sort_datasec(&mut t.types[id]);
            }
            _ => {}
        }
    }
    Ok(t.encode())
}

/// libbpf's `btf_fixup_datasec` for a global data section.
fn fix_datasec(t: &mut RawTypes, id: usize, sec: &str, facts: &ElfFacts) -> Result<(), String> {
    let fixup_offsets = t.types[id][2] == 0;
    if fixup_offsets {
        let size = facts.section_sizes.get(sec).copied().unwrap_or(0);
        if size == 0 {
            return Err(format!(
                "DATASEC `{sec}` has no ELF section to give its size"
            ));
        }
        t.types[id][2] =
            u32::try_from(size).map_err(|_| format!("section `{sec}` is larger than 4 GiB"))?;
    }
    for i in 0..vlen_of(t.types[id][1]) {
        let var = t.types[id][3 + 3 * i] as usize;
        let Some(v) = t.types.get(var).filter(|v| kind_of(v[1]) == kind::VAR) else {
            return Err(format!("DATASEC `{sec}` entry {i} is not a VAR"));
        };
        // BTF_VAR_STATIC and BTF_VAR_GLOBAL_EXTERN have no symbol to read.
        if v[3] == VAR_STATIC || v[3] == 2 {
            continue;
        }
        let name = t.string(v[0]).to_owned();
        let &(value, hidden) = facts
            .var_syms
            .get(&name)
            .ok_or_else(|| format!("DATASEC `{sec}`: variable `{name}` has no ELF symbol"))?;
        if fixup_offsets {
            t.types[id][4 + 3 * i] = u32::try_from(value)
                .map_err(|_| format!("variable `{name}` is at offset {value}, past 4 GiB"))?;
        }
        if hidden {
            t.types[var][3] = VAR_STATIC;
        }
    }
    Ok(())
}

/// Sorts a DATASEC's entries by offset, as the kernel requires (`btf_datasec_check_meta`).
fn sort_datasec(words: &mut [u32]) {
    let vlen = vlen_of(words[1]);
    let mut entries: Vec<[u32; 3]> = (0..vlen)
        .map(|i| [words[3 + 3 * i], words[4 + 3 * i], words[5 + 3 * i]])
        .collect();
    entries.sort_by_key(|e| e[1]);
    for (i, e) in entries.iter().enumerate() {
        words[3 + 3 * i..6 + 3 * i].copy_from_slice(e);
    }
}

/// `STV_INTERNAL` and `STV_HIDDEN`: global symbols libbpf treats as static.
fn is_hidden(sym: &object::Symbol<'_, '_>) -> bool {
    use object::ObjectSymbol as _;
    match sym.flags() {
        object::SymbolFlags::Elf { st_other, .. } => matches!(st_other & 3, 1 | 2),
        _ => false,
    }
}

/// Completes a parsed object with what loading it needs from its `.BTF`: each extern's
/// type and `.kconfig` slot, the BTF type ids of global data maps, and
/// [`Object::btf_for_load`]. Called once at the end of [`Object::parse`].
pub(crate) fn prepare(
    obj: &mut Object,
    file: &object::File<'_>,
    btf: &Btf,
) -> Result<(), ObjectError> {
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _, SymbolKind};
    let Some(sec) = file.section_by_name(".BTF") else {
        return Ok(());
    };
    let raw = sec.data()?;
    let kconfig =
        crate::externs::kconfig_layout(btf, &obj.externs).map_err(|e| ObjectError::Section {
            section: ".kconfig".into(),
            reason: e.to_string(),
        })?;
    for e in &mut obj.externs {
        e.kconfig = kconfig.get(&e.name).copied();
        if e.kind == ExternKind::Ksym && !e.func {
            // libbpf's collect_externs: skip_mods_and_typedefs of the VAR's type.
            e.btf_type = btf
                .iter()
                .find(|(_, t)| t.kind == kind::VAR && t.name == e.name)
                .map_or(0, |(_, t)| btf.skip_mods(t.size_or_type));
        }
    }
    for m in &mut obj.maps {
        // libbpf's map_fill_btf_type_info: global data maps by their DATASEC's name.
        if m.source == MapSource::Data {
            if let Some(id) = btf.find(kind::DATASEC, &m.spec.name) {
                m.btf_type_ids = (0, id);
            }
        }
    }
    let mut facts = ElfFacts::default();
    for s in file.sections() {
        if let Ok(name) = s.name() {
            facts.section_sizes.insert(name.to_owned(), s.size());
        }
    }
    for sym in file.symbols() {
        let Ok(name) = sym.name() else { continue };
        if sym.is_local() || sym.is_undefined() {
            continue;
        }
        match sym.kind() {
            SymbolKind::Data => {
                facts
                    .var_syms
                    .entry(name.to_owned())
                    .or_insert((sym.address(), is_hidden(&sym)));
            }
            SymbolKind::Text if is_hidden(&sym) => {
                let in_text = sym
                    .section_index()
                    .and_then(|i| file.section_by_index(i).ok())
                    .is_some_and(|s| s.name() == Ok(".text"));
                if in_text {
                    facts.hidden_funcs.insert(name.to_owned());
                }
            }
            _ => {}
        }
    }
    obj.btf_for_load = Some(for_kernel(raw, btf, &facts, &kconfig));
    struct_ops_members(obj, file, btf);
    Ok(())
}

/// Gives each `struct_ops` program the struct member that points at it: a relocation in
/// `.struct_ops` (or `.struct_ops.link`) against the program's symbol, at an offset inside
/// a variable of that section, names the member at that offset of the variable's struct
/// (libbpf's `bpf_object__collect_st_ops_relos`). Offsets that name no member are left
/// alone: the kernel then refuses the program for want of an attach target.
fn struct_ops_members(obj: &mut Object, file: &object::File<'_>, btf: &Btf) {
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _, RelocationTarget};
    for name in [".struct_ops", ".struct_ops.link"] {
        let Some(sec) = file.section_by_name(name) else {
            continue;
        };
        // The section's variables: (start, end, struct type id).
        let vars: Vec<(u64, u64, u32)> = file
            .symbols()
            .filter(|s| s.section_index() == Some(sec.index()) && s.size() > 0)
            .filter_map(|s| {
                let var = btf
                    .iter()
                    .find(|(_, t)| t.kind == kind::VAR && Ok(t.name.as_str()) == s.name())?;
                Some((
                    s.address(),
                    s.address() + s.size(),
                    btf.skip_mods(var.1.size_or_type),
                ))
            })
            .collect();
        for (offset, reloc) in sec.relocations() {
            let RelocationTarget::Symbol(i) = reloc.target() else {
                continue;
            };
            let Some(prog) = file.symbol_by_index(i).ok().and_then(|s| s.name().ok()) else {
                continue;
            };
            let Some(&(start, _, ty)) = vars.iter().find(|v| v.0 <= offset && offset < v.1) else {
                continue;
            };
            let t = btf.ty(ty);
            let Some(m) = t
                .members()
                .iter()
                .find(|m| u64::from(m.bit_offset / 8) == offset - start)
            else {
                continue;
            };
            if let Some(p) = obj.programs.iter_mut().find(|p| p.name == prog) {
                p.struct_ops = Some(crate::StructOpsMember {
                    struct_name: t.name.clone(),
                    member: m.name.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob from strings and types given as (kind, name offset, vlen, size_or_type,
    /// extra words).
    fn blob(strings: &str, types: &[(u8, u32, u32, u32, Vec<u32>)]) -> Vec<u8> {
        let mut t = RawTypes {
            types: vec![Vec::new()],
            strings: strings.as_bytes().to_vec(),
        };
        for (k, name, vlen, st, extra) in types {
            let mut w = vec![*name, ((*k as u32) << 24) | vlen, *st];
            w.extend(extra);
            t.types.push(w);
        }
        t.encode()
    }

    // Strings: 1 "int", 5 "a", 7 "b", 9 ".data", 15 "f".
    const STRINGS: &str = "\0int\0a\0b\0.data\0f\0";

    fn data_btf() -> Vec<u8> {
        blob(
            STRINGS,
            &[
                (kind::INT, 1, 0, 4, vec![32]),                   // 1: int
                (kind::VAR, 5, 0, 1, vec![1]),                    // 2: a, global
                (kind::VAR, 7, 0, 1, vec![1]),                    // 3: b, global
                (kind::DATASEC, 9, 2, 0, vec![2, 0, 4, 3, 0, 4]), // 4: .data
                (kind::FUNC_PROTO, 0, 0, 1, vec![]),              // 5
                (kind::FUNC, 15, FUNC_GLOBAL, 5, vec![]),         // 6: f, global
            ],
        )
    }

    fn fixed(facts: &ElfFacts) -> Result<RawTypes, String> {
        let raw = data_btf();
        let btf = Btf::parse(&raw).unwrap();
        for_kernel(&raw, &btf, facts, &HashMap::new()).map(|b| RawTypes::parse(&b).unwrap())
    }

    #[test]
    fn data_sections_get_sizes_offsets_sorted_and_hidden_linkage() {
        let mut facts = ElfFacts::default();
        facts.section_sizes.insert(".data".into(), 8);
        facts.var_syms.insert("a".into(), (4, false));
        facts.var_syms.insert("b".into(), (0, true));
        facts.hidden_funcs.insert("f".into());
        let t = fixed(&facts).unwrap();
        // btf_fixup_datasec: the section's size, each variable at its symbol, sorted.
        assert_eq!(t.types[4][2], 8);
        assert_eq!(&t.types[4][3..], &[3, 0, 4, 2, 4, 4]);
        // `b` is hidden: static; `a` stays global.
        assert_eq!(
            (t.types[2][3], t.types[3][3]),
            (VAR_GLOBAL_ALLOCATED, VAR_STATIC)
        );
        // A hidden .text function is static.
        assert_eq!(vlen_of(t.types[6][1]) as u32, FUNC_STATIC);
    }

    #[test]
    fn a_data_section_without_its_elf_section_or_symbol_is_refused() {
        let e = fixed(&ElfFacts::default()).unwrap_err();
        assert_eq!(e, "DATASEC `.data` has no ELF section to give its size");
        let mut facts = ElfFacts::default();
        facts.section_sizes.insert(".data".into(), 8);
        facts.var_syms.insert("a".into(), (4, false));
        let e = fixed(&facts).unwrap_err();
        assert_eq!(e, "DATASEC `.data`: variable `b` has no ELF symbol");
    }

    #[test]
    fn a_truncated_type_table_is_an_error() {
        let mut raw = data_btf();
        // Claim one more word of types than there is before the strings.
        let type_len = u32::from_le_bytes(raw[12..16].try_into().unwrap());
        raw[12..16].copy_from_slice(&(type_len - 4).to_le_bytes());
        assert!(RawTypes::parse(&raw)
            .unwrap_err()
            .contains("runs past the type section"));
    }
}
