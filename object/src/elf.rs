//! Reading the ELF file: maps, code sections, global data, relocations and programs.

use crate::btf;
use crate::link::link;
use crate::{
    CodeSection, Extern, ExternKind, Global, Map, MapSource, Object, ObjectError, Pinning, Program,
    Relocation, F_RDONLY_PROG, MAX_DATA_SECTION,
};
use asm::insn::{decode, Insn};
use asm::isa::{op, CallKind, Form, Pseudo};
use asm::types::{section_def, MapSpec, MapType};
use object::elf;
use object::read::{
    Object as _, ObjectSection as _, ObjectSymbol as _, RelocationFlags, RelocationTarget,
    SectionIndex, SymbolIndex, SymbolKind,
};
use std::collections::HashMap;

/// A function symbol in a code section.
#[derive(Clone, Debug)]
pub(crate) struct Func {
    pub(crate) name: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) global: bool,
}

/// A code section during loading.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    index: SectionIndex,
    pub(crate) name: String,
    /// Relocated instructions with their slot index.
    pub(crate) insns: Vec<Insn>,
    pub(crate) slots: Vec<usize>,
    funcs: Vec<Func>,
    /// Calls and function pointers resolved by relocation to another place:
    /// slot → (code section position, slot there).
    pub(crate) targets: HashMap<usize, (usize, usize)>,
    /// Instructions that refer to an undefined symbol, left as they are: slot → (symbol,
    /// whether it is an extern of [`Object::externs`] rather than an undefined function).
    pub(crate) unresolved: HashMap<usize, (String, bool)>,
    listing: CodeSection,
}

impl Code {
    pub(crate) fn index_of_slot(&self, slot: usize) -> Option<usize> {
        self.slots.binary_search(&slot).ok()
    }

    pub(crate) fn func_at(&self, slot: usize) -> Option<&Func> {
        self.funcs.iter().find(|f| f.start <= slot && slot < f.end)
    }

    pub(crate) fn total_slots(&self) -> usize {
        self.slots
            .last()
            .map(|&s| s + self.insns.last().map_or(1, Insn::slots))
            .unwrap_or(0)
    }
}

fn is_data_section(name: &str) -> bool {
    name == ".data"
        || name == ".bss"
        || name == ".rodata"
        || name.starts_with(".data.")
        || name.starts_with(".rodata.")
        || name.starts_with(".bss.")
}

impl Object {
    /// Reads an object from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<Object, ObjectError> {
        let file = object::File::parse(bytes)?;
        if file.format() != object::BinaryFormat::Elf {
            return Err(ObjectError::NotBpf(format!("{:?}", file.format())));
        }
        // libbpf's bpf_object__elf_init: e_machine must be EM_BPF, or EM_NONE as old LLVM
        // wrote it.
        let machine = bytes.get(18..20).map_or(u16::MAX, |b| {
            if file.is_little_endian() {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        });
        if machine != elf::EM_BPF && machine != elf::EM_NONE {
            return Err(ObjectError::NotBpf(format!(
                "{machine} ({:?})",
                file.architecture()
            )));
        }
        if !file.is_little_endian() {
            return Err(ObjectError::BigEndian);
        }
        let sec_name = |idx: SectionIndex| -> String {
            file.section_by_index(idx)
                .ok()
                .and_then(|s| s.name().ok().map(str::to_owned))
                .unwrap_or_else(|| format!("#{}", idx.0))
        };

        // Maps, in libbpf's order: legacy `maps`, BTF `.maps`, then global data.
        let mut maps = Vec::new();
        // (section index, byte offset) of each legacy / BTF map, and data section → map.
        let mut map_at: HashMap<(SectionIndex, u64), usize> = HashMap::new();
        let mut data_map: HashMap<SectionIndex, usize> = HashMap::new();
        let mut license = None;

        // `.BTF` is read once: the full type table (CO-RE, `.BTF.ext`, the kernel's copy)
        // and the view map definitions are read through.
        let full_btf = match file.section_by_name(".BTF") {
            Some(s) => Some(std::sync::Arc::new(
                crate::core::Btf::parse(s.data()?)
                    .map_err(|e| ObjectError::Btf(crate::BtfError(e.to_string())))?,
            )),
            None => None,
        };
        let btf = full_btf.as_deref().map(btf::Btf::view);
        let externs = btf.as_ref().map_or_else(Vec::new, |b| externs(&file, b));

        if let Some(sec) = file.section_by_name("maps") {
            let mut syms: Vec<(String, u64)> = file
                .symbols()
                .filter(|s| {
                    s.section_index() == Some(sec.index()) && !s.name().unwrap_or("").is_empty()
                })
                .filter(|s| s.kind() != SymbolKind::Section)
                .map(|s| Ok((s.name()?.to_owned(), s.address())))
                .collect::<Result<_, object::Error>>()?;
            syms.sort_by_key(|s| s.1);
            for (m, (_, off)) in crate::legacy::maps(sec.data()?, &syms)?
                .into_iter()
                .zip(&syms)
            {
                map_at.insert((sec.index(), *off), maps.len());
                maps.push(m);
            }
        }

        // (map index, offset in `.maps`, size, offset of `values`) of each BTF map.
        let mut btf_maps: Vec<(usize, u32, u32, Option<u32>)> = Vec::new();
        if let Some(sec) = file.section_by_name(".maps") {
            let Some(btf) = &btf else {
                return Err(ObjectError::Section {
                    section: ".maps".into(),
                    reason: "BTF-defined maps need the object's .BTF section (build with -g)"
                        .into(),
                });
            };
            // clang leaves the DATASEC's variable offsets at 0; libbpf fixes them from the
            // ELF symbols (btf_fixup_datasec), and so does this: a map is where its symbol is.
            let symbols: HashMap<String, (u64, u64)> = file
                .symbols()
                .filter(|s| s.section_index() == Some(sec.index()))
                .filter_map(|s| Some((s.name().ok()?.to_owned(), (s.address(), s.size()))))
                .collect();
            for mut m in btf.maps()? {
                let Some(&(addr, size)) = symbols.get(&m.name) else {
                    return Err(ObjectError::Map {
                        map: m.name,
                        reason: "described in .BTF but has no symbol in `.maps`".into(),
                    });
                };
                (m.offset, m.size) = (addr as u32, size as u32);
                map_at.insert((sec.index(), m.offset as u64), maps.len());
                let mut map = Map::with_source(btf_spec(&m)?, MapSource::Btf);
                map.btf_type_ids = (m.key_type_id, m.value_type_id);
                map.max_entries_nr_cpus =
                    map.spec.map_type == MapType::PerfEventArray && map.spec.max_entries == 0;
                // LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME; libbpf refuses other values.
                map.pinning = match m.pinning.unwrap_or(0) {
                    0 => Pinning::None,
                    1 => Pinning::ByName,
                    n => {
                        return Err(ObjectError::Map {
                            map: m.name,
                            reason: format!(
                                "pinning {n} is not LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1)"
                            ),
                        })
                    }
                };
                maps.push(map);
                btf_maps.push((maps.len() - 1, m.offset, m.size, m.values_offset));
            }
            // `.values` initialisers: one R_BPF_64_ABS64 per filled slot, against the
            // program (libbpf's bpf_object__collect_map_relos).
            for (offset, reloc) in sec.relocations() {
                let sym_name = match reloc.target() {
                    RelocationTarget::Symbol(i) => symbol_name(&file, i, &sec_name),
                    _ => "?".into(),
                };
                let fail = |reason: String| reloc_err(".maps", offset, &sym_name, &reason);
                let Some(&(mi, moff, _, voff)) = btf_maps
                    .iter()
                    .find(|(_, o, s, _)| (*o as u64..*o as u64 + *s as u64).contains(&offset))
                else {
                    return Err(fail("no map is defined at this offset".into()));
                };
                let Some(voff) = voff else {
                    return Err(fail(format!(
                        "map `{}` has no `values` field to initialise",
                        maps[mi].spec.name
                    )));
                };
                let rel = offset - u64::from(moff) - u64::from(voff);
                if offset < u64::from(moff + voff) || rel % 8 != 0 {
                    return Err(fail(format!(
                        "not at a slot of map `{}`'s `values`",
                        maps[mi].spec.name
                    )));
                }
                if !matches!(
                    maps[mi].spec.map_type,
                    MapType::ProgArray | MapType::ArrayOfMaps | MapType::HashOfMaps
                ) {
                    return Err(fail(format!(
                        "map `{}` has type {}: only program arrays and maps of maps can be \
                         initialised",
                        maps[mi].spec.name, maps[mi].spec.map_type
                    )));
                }
                let index = (rel / 8) as u32;
                if index >= maps[mi].spec.max_entries {
                    return Err(fail(format!(
                        "slot {index} is past max_entries {} of map `{}`",
                        maps[mi].spec.max_entries, maps[mi].spec.name
                    )));
                }
                maps[mi].slots.push((index, sym_name.clone()));
            }
            for &(mi, ..) in &btf_maps {
                maps[mi].slots.sort();
            }
        }

        let mut codes: Vec<Code> = Vec::new();
        for sec in file.sections() {
            let name = sec.name()?.to_owned();
            if name == "license" {
                let data = sec.data()?;
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                license = Some(String::from_utf8_lossy(&data[..end]).into_owned());
                continue;
            }
            let flags = match sec.flags() {
                object::SectionFlags::Elf { sh_flags } => sh_flags,
                _ => 0,
            };
            let exec = flags & u64::from(elf::SHF_EXECINSTR) != 0;
            if exec {
                let data = sec.data()?;
                let decoded = decode(data).map_err(|source| ObjectError::Decode {
                    section: name.clone(),
                    source,
                })?;
                let mut funcs: Vec<Func> = file
                    .symbols()
                    .filter(|s| s.section_index() == Some(sec.index()))
                    .filter(|s| s.kind() == SymbolKind::Text)
                    .map(|s| Func {
                        name: s.name().unwrap_or("").to_owned(),
                        start: (s.address() / 8) as usize,
                        end: ((s.address() + s.size()) / 8) as usize,
                        global: s.is_global(),
                    })
                    .collect();
                funcs.sort_by_key(|f| f.start);
                let total = data.len() / 8;
                // Symbols without a size (hand-written assembly) end where the next begins.
                for i in 0..funcs.len() {
                    if funcs[i].end <= funcs[i].start {
                        funcs[i].end = funcs.get(i + 1).map_or(total, |f| f.start);
                    }
                }
                let insns: Vec<Insn> = decoded.iter().map(|d| d.insn).collect();
                let slots: Vec<usize> = decoded.iter().map(|d| d.pc).collect();
                let listing = CodeSection {
                    name: name.clone(),
                    insns: slots.iter().copied().zip(insns.iter().copied()).collect(),
                    symbols: funcs.iter().map(|f| (f.name.clone(), f.start)).collect(),
                    relocations: Vec::new(),
                };
                codes.push(Code {
                    index: sec.index(),
                    name,
                    insns,
                    slots,
                    funcs,
                    targets: HashMap::new(),
                    unresolved: HashMap::new(),
                    listing,
                });
            } else if is_data_section(&name) && sec.size() > 0 {
                // The kernel caps an array value well below this (KMALLOC_MAX_SIZE); a
                // larger size is a corrupt header, not a reason to allocate gigabytes.
                if sec.size() > MAX_DATA_SECTION {
                    return Err(ObjectError::Section {
                        section: name,
                        reason: format!(
                            "{} bytes of global data is more than the {MAX_DATA_SECTION} a map value can hold",
                            sec.size()
                        ),
                    });
                }
                let data = match sec.kind() {
                    object::SectionKind::UninitializedData => vec![0; sec.size() as usize],
                    _ => sec.data()?.to_vec(),
                };
                let value_size = u32::try_from(data.len()).map_err(|_| ObjectError::Section {
                    section: name.clone(),
                    reason: "larger than 4 GiB".into(),
                })?;
                data_map.insert(sec.index(), maps.len());
                let flags = if name.starts_with(".rodata") {
                    F_RDONLY_PROG
                } else {
                    0
                };
                let mut map = Map::with_source(
                    MapSpec::array(value_size, 1)
                        .named(name.clone())
                        .with_flags(flags),
                    MapSource::Data,
                );
                map.data = Some(data);
                maps.push(map);
            }
        }

        let mut globals = Vec::new();
        for sym in file.symbols() {
            let Some(&m) = sym.section_index().and_then(|i| data_map.get(&i)) else {
                continue;
            };
            if sym.kind() != SymbolKind::Data || sym.name().unwrap_or("").is_empty() {
                continue;
            }
            let end = sym.address().checked_add(sym.size());
            if !matches!(end, Some(e) if e <= u64::from(maps[m].spec.value_size)) {
                return Err(ObjectError::Section {
                    section: maps[m].spec.name.clone(),
                    reason: format!(
                        "variable `{}` (offset {}, {} bytes) extends past the section",
                        sym.name().unwrap_or(""),
                        sym.address(),
                        sym.size()
                    ),
                });
            }
            globals.push(Global {
                name: sym.name()?.to_owned(),
                map: m,
                offset: sym.address() as u32,
                size: sym.size() as u32,
            });
        }

        let code_pos: HashMap<SectionIndex, usize> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.index, i))
            .collect();

        // Relocations of code sections.
        for ci in 0..codes.len() {
            let sec = file.section_by_index(codes[ci].index)?;
            for (offset, reloc) in sec.relocations() {
                let RelocationTarget::Symbol(sym_idx) = reloc.target() else {
                    return Err(reloc_err(
                        &codes[ci].name,
                        offset,
                        "?",
                        "target is not a symbol",
                    ));
                };
                let sym = file.symbol_by_index(sym_idx)?;
                let sym_name = symbol_name(&file, sym_idx, &sec_name);
                let fail = |reason: &str| reloc_err(&codes[ci].name, offset, &sym_name, reason);
                let r_type = match reloc.flags() {
                    RelocationFlags::Elf { r_type } => r_type,
                    _ => return Err(fail("not an ELF relocation")),
                };
                if offset % 8 != 0 {
                    return Err(fail("offset is not at an instruction boundary"));
                }
                let slot = (offset / 8) as usize;
                let Some(ii) = codes[ci].index_of_slot(slot) else {
                    return Err(fail(
                        "offset is inside an instruction (the second half of an lddw?)",
                    ));
                };
                let insn = codes[ci].insns[ii];
                let kind_name = match r_type {
                    elf::R_BPF_64_64 => "R_BPF_64_64",
                    elf::R_BPF_64_32 => "R_BPF_64_32",
                    // R_BPF_64_ABS64/ABS32/NODYLD32 only appear in debug sections.
                    other => {
                        return Err(fail(&format!(
                            "relocation type {other} is not supported in code \
                             (expected R_BPF_64_64 or R_BPF_64_32)"
                        )))
                    }
                };
                if sym.is_undefined() {
                    let is_extern = externs.iter().any(|e| e.name == sym_name);
                    let is_call = insn.code == op::CALL && r_type == elf::R_BPF_64_32;
                    if !is_extern && !is_call {
                        // libbpf's bpf_object__collect_externs: an extern must be in the
                        // `.kconfig` or `.ksyms` DATASEC.
                        return Err(fail(
                            "the symbol is not defined in this object and is not a `__ksym` \
                             or `__kconfig` extern (libbpf refuses it too)",
                        ));
                    }
                    // Left as it is; the programs that reach it say so (Program::loadable).
                    codes[ci]
                        .unresolved
                        .insert(slot, (sym_name.clone(), is_extern));
                    codes[ci].listing.relocations.push(Relocation {
                        slot,
                        kind: kind_name,
                        symbol: sym_name,
                        target: None,
                    });
                    continue;
                }
                let Some(target_sec) = sym.section_index() else {
                    return Err(fail("the symbol has no section"));
                };
                let target_name = sec_name(target_sec);
                let resolved;
                if r_type == elf::R_BPF_64_64 {
                    if insn.code != op::LDDW {
                        return Err(fail("R_BPF_64_64 must patch an lddw instruction"));
                    }
                    let new = if let Some(&m) = map_at.get(&(target_sec, sym.address())) {
                        resolved = Some(maps[m].spec.name.clone());
                        Insn {
                            src: Pseudo::MapFd.src(),
                            imm: m as i64,
                            ..insn
                        }
                    } else if let Some(&m) = data_map.get(&target_sec) {
                        // The addend is in the instruction (REL): offset = symbol + imm.
                        let off = sym.address() as i64 + (insn.imm as i32) as i64;
                        if off < 0 || off >= i64::from(maps[m].spec.value_size) {
                            return Err(fail(&format!(
                                "offset {off} is outside section `{target_name}` ({} bytes)",
                                maps[m].spec.value_size
                            )));
                        }
                        resolved = Some(if sym.kind() == SymbolKind::Section {
                            format!("{target_name}+{off}")
                        } else {
                            sym_name.clone()
                        });
                        Insn {
                            src: Pseudo::MapValue.src(),
                            imm: (off << 32) | m as i64,
                            ..insn
                        }
                    } else if let Some(&tc) = code_pos.get(&target_sec) {
                        // A function's address: a callback for bpf_loop and friends. As for
                        // data, the addend in imm is in bytes (libbpf: RELO_SUBPROG_ADDR).
                        let addend = (insn.imm as i32) as i64;
                        if addend % 8 != 0 {
                            return Err(fail(&format!(
                                "function address addend {addend} is not a multiple of 8"
                            )));
                        }
                        let tslot = (sym.address() as i64 + addend) / 8;
                        if tslot < 0 || codes[tc].index_of_slot(tslot as usize).is_none() {
                            return Err(fail("function pointer is not at an instruction"));
                        }
                        codes[ci].targets.insert(slot, (tc, tslot as usize));
                        resolved = codes[tc].func_at(tslot as usize).map(|f| f.name.clone());
                        Insn {
                            src: Pseudo::Func.src(),
                            imm: 0,
                            ..insn
                        }
                    } else if target_name == "maps" || target_name == ".maps" {
                        return Err(fail(&format!(
                            "no map is defined at byte {} of `{target_name}`",
                            sym.address()
                        )));
                    } else {
                        return Err(fail(&format!(
                            "the symbol is in section `{target_name}`, which is neither a map, \
                             global data nor code"
                        )));
                    };
                    codes[ci].insns[ii] = new;
                } else {
                    if insn.form() != Some(Form::Call(CallKind::Local)) {
                        return Err(fail(
                            "R_BPF_64_32 must patch a bpf-to-bpf call (call with src=1)",
                        ));
                    }
                    let Some(&tc) = code_pos.get(&target_sec) else {
                        return Err(fail(&format!(
                            "call target is in section `{target_name}`, which is not code"
                        )));
                    };
                    // libbpf: target insn = symbol value / 8 + imm + 1 (the imm holds the
                    // addend, -1 for a call to a global function's start).
                    let tslot = (sym.address() as i64 / 8) + insn.imm + 1;
                    if tslot < 0 || codes[tc].index_of_slot(tslot as usize).is_none() {
                        return Err(fail(&format!(
                            "call target slot {tslot} is not an instruction of `{target_name}`"
                        )));
                    }
                    codes[ci].targets.insert(slot, (tc, tslot as usize));
                    resolved = codes[tc].func_at(tslot as usize).map(|f| f.name.clone());
                }
                codes[ci].listing.relocations.push(Relocation {
                    slot,
                    kind: kind_name,
                    symbol: sym_name,
                    target: resolved,
                });
            }
            codes[ci].listing.relocations.sort_by_key(|r| r.slot);
        }

        // Programs: every global function of every section but `.text` (libbpf's
        // bpf_object__init_prog: any executable section). A `.text` function is a program
        // only when it is the object's one function (libbpf's `prog_is_subprog`: a `.text`
        // function is a subprogram when the object has more than one), of no known type.
        let only_text = codes.iter().all(|c| c.name == ".text")
            && codes
                .iter()
                .map(|c| c.funcs.len().max(usize::from(c.total_slots() > 0)))
                .sum::<usize>()
                == 1;
        let mut programs = Vec::new();
        for (ci, code) in codes.iter().enumerate() {
            if (code.name == ".text" && !only_text) || code.total_slots() == 0 {
                continue;
            }
            let def = section_def(&code.name);
            let whole = [Func {
                name: code.name.clone(),
                start: 0,
                end: code.total_slots(),
                global: true,
            }];
            let funcs = if code.funcs.is_empty() {
                &whole[..]
            } else {
                &code.funcs[..]
            };
            for f in funcs {
                if !f.global {
                    if only_text {
                        continue;
                    }
                    return Err(ObjectError::StaticProgram {
                        section: code.name.clone(),
                        symbol: f.name.clone(),
                    });
                }
                let linked = link(&codes, ci, f)?;
                programs.push(Program {
                    name: f.name.clone(),
                    // libbpf's bpf_object__init_prog: a leading `?` only turns autoload off,
                    // and "from now on" the section name is read without it.
                    section: code
                        .name
                        .strip_prefix('?')
                        .unwrap_or(&code.name)
                        .to_string(),
                    prog_type: def.map(|d| d.prog_type),
                    sleepable: def.is_some_and(|d| d.sleepable),
                    expected_attach_type: def.and_then(|d| d.attach_type),
                    attach: code.name.split_once('/').map(|(_, a)| a.to_owned()),
                    insns: linked.insns,
                    subprograms: linked.subprograms,
                    undefined_calls: linked.undefined_calls,
                    externs: linked.externs,
                    extern_refs: linked.extern_refs,
                    struct_ops: None,
                    ext: Default::default(),
                });
            }
        }

        for m in &maps {
            // A map of maps names maps (libbpf's init_map_in_map_slots), a program array
            // programs.
            let of_maps = matches!(m.spec.map_type, MapType::ArrayOfMaps | MapType::HashOfMaps);
            for (i, name) in &m.slots {
                if of_maps {
                    if !maps.iter().any(|x| &x.spec.name == name) {
                        return Err(ObjectError::Map {
                            map: m.spec.name.clone(),
                            reason: format!("slot {i} names `{name}`, which is not a map"),
                        });
                    }
                    continue;
                }
                if !programs.iter().any(|p| &p.name == name) {
                    return Err(ObjectError::Map {
                        map: m.spec.name.clone(),
                        reason: format!("slot {i} names `{name}`, which is not a program"),
                    });
                }
            }
        }

        let mut object = Object {
            programs,
            maps,
            license,
            sections: codes.into_iter().map(|c| c.listing).collect(),
            globals,
            externs,
            btf_for_load: None,
        };
        if let Some(full) = full_btf {
            crate::btf_ext::attach(&mut object, &file, full.clone())?;
            crate::kernel_btf::prepare(&mut object, &file, &full)?;
        }
        Ok(object)
    }
}

/// The spec of a BTF-defined map, with the defaults libbpf and the kernel apply to
/// fields left out.
fn btf_spec(m: &btf::BtfMap) -> Result<MapSpec, ObjectError> {
    let missing = |field: &str| ObjectError::Map {
        map: m.name.clone(),
        reason: format!("no `{field}` in its definition"),
    };
    let t = m.map_type.ok_or_else(|| missing("type"))?;
    let map_type = MapType::from_number(t).ok_or_else(|| ObjectError::Map {
        map: m.name.clone(),
        reason: format!("unknown map type {t}"),
    })?;
    // Ring buffers and some others have no key or value; the kernel wants 0.
    let keyless = matches!(
        map_type,
        MapType::Ringbuf
            | MapType::UserRingbuf
            | MapType::Queue
            | MapType::Stack
            | MapType::BloomFilter
    );
    let key_size = match m.key_size {
        Some(k) => k,
        None if keyless => 0,
        None if matches!(map_type, MapType::ProgArray | MapType::PerfEventArray) => 4,
        None => return Err(missing("key")),
    };
    let value_size = match m.value_size {
        Some(v) => v,
        None if matches!(map_type, MapType::Ringbuf | MapType::UserRingbuf) => 0,
        // Values of these are fds (or program/map ids): 4 bytes.
        None if matches!(
            map_type,
            MapType::ProgArray
                | MapType::PerfEventArray
                | MapType::ArrayOfMaps
                | MapType::HashOfMaps
        ) =>
        {
            4
        }
        None => return Err(missing("value")),
    };
    let max_entries = match m.max_entries {
        Some(n) => n,
        // libbpf's map_set_def_max_entries: the number of possible CPUs, at creation
        // (Map::max_entries_nr_cpus records it).
        None if map_type == MapType::PerfEventArray => 0,
        // Local storage and cgroup storage maps have no entries to count: the kernel
        // wants 0 (bpf_local_storage_map_alloc_check, cgroup_storage_map_alloc), which is
        // what libbpf passes for a field left out.
        None if matches!(
            map_type,
            MapType::SkStorage
                | MapType::InodeStorage
                | MapType::TaskStorage
                | MapType::CgrpStorage
                | MapType::CgroupStorage
                | MapType::PercpuCgroupStorage
        ) =>
        {
            0
        }
        None => return Err(missing("max_entries")),
    };
    let inner = match &m.inner {
        Some(i) => Some(Box::new(btf_spec(i)?)),
        None => None,
    };
    Ok(MapSpec {
        name: m.name.clone(),
        map_type,
        key_size,
        value_size,
        max_entries,
        flags: m.flags.unwrap_or(0),
        inner,
        value_fields: m.value_fields,
    })
}

pub(crate) fn reloc_err(section: &str, offset: u64, symbol: &str, reason: &str) -> ObjectError {
    ObjectError::Relocation {
        section: section.to_owned(),
        offset,
        symbol: symbol.to_owned(),
        reason: reason.to_owned(),
    }
}

fn symbol_name(
    file: &object::File<'_>,
    idx: SymbolIndex,
    sec_name: &dyn Fn(SectionIndex) -> String,
) -> String {
    match file.symbol_by_index(idx) {
        Ok(s) if s.kind() == SymbolKind::Section => {
            s.section_index().map(sec_name).unwrap_or_default()
        }
        Ok(s) => s.name().unwrap_or("").to_owned(),
        Err(_) => format!("symbol #{}", idx.0),
    }
}

/// The object's externs: its undefined global symbols that BTF lists in the `.kconfig` or
/// `.ksyms` DATASEC (libbpf's `bpf_object__collect_externs`).
fn externs(file: &object::File<'_>, btf: &btf::Btf) -> Vec<Extern> {
    let kconfig = btf.datasec_names(".kconfig");
    let ksyms = btf.datasec_names(".ksyms");
    let mut out: Vec<Extern> = Vec::new();
    for sym in file.symbols().filter(|s| s.is_undefined() && s.is_global()) {
        let Ok(name) = sym.name() else { continue };
        let kind = if let Some((_, f)) = kconfig.iter().find(|(n, _)| n == name) {
            (ExternKind::Kconfig, *f)
        } else if let Some((_, f)) = ksyms.iter().find(|(n, _)| n == name) {
            (ExternKind::Ksym, *f)
        } else {
            continue;
        };
        if !out.iter().any(|e| e.name == name) {
            out.push(Extern {
                name: name.to_owned(),
                kind: kind.0,
                weak: sym.is_weak(),
                func: kind.1,
                btf_type: 0,
                kconfig: None,
            });
        }
    }
    out
}
