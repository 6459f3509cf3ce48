//! BPF ELF objects as clang writes them (`clang -O2 -g -target bpf -c prog.c`), read the
//! way libbpf reads them: program sections and their types, maps (BTF-defined `.maps`,
//! legacy `maps`, and global data sections as one-entry arrays), and relocations for map
//! references and bpf-to-bpf calls.
//!
//! The result is ready to run: map references are `lddw` instructions with
//! `src = 1` (`BPF_PSEUDO_MAP_FD`) and `imm` = map index, or `src = 2`
//! (`BPF_PSEUDO_MAP_VALUE`) with `imm = (offset << 32) | map index`; each program carries
//! the `.text` functions it calls, appended after it with the call offsets fixed, as
//! libbpf's `bpf_object__relocate` does before `BPF_PROG_LOAD`.
//!
//! ```
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/xdp_count.bpf.o")).unwrap();
//! let obj = vm::object::Object::parse(&bytes).unwrap();
//! let prog = obj.program("count_proto").unwrap();
//! assert_eq!(prog.prog_type, asm::types::ProgType::Xdp);
//! assert_eq!(obj.maps[0].name, "counts");
//! assert_eq!((obj.maps[0].key_size, obj.maps[0].value_size), (4, 8));
//! assert_eq!(obj.license.as_deref(), Some("GPL"));
//! ```

mod btf;

pub use btf::BtfError;

use asm::insn::{decode, DecodeError, Insn};
use asm::types::{MapType, ProgType};
use object::elf;
use object::read::{
    Object as _, ObjectSection as _, ObjectSymbol as _, RelocationFlags, RelocationTarget,
    SectionIndex, SymbolIndex, SymbolKind,
};
use std::collections::HashMap;

/// `BPF_PSEUDO_MAP_FD`: `lddw` loads a map.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `BPF_PSEUDO_MAP_VALUE`: `lddw` loads the address of a map value plus an offset.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `BPF_PSEUDO_FUNC`: `lddw` loads the address of a function (a callback).
pub const PSEUDO_FUNC: u8 = 4;
/// `BPF_F_RDONLY_PROG`: libbpf gives `.rodata` maps this flag, so programs cannot write them.
pub const F_RDONLY_PROG: u32 = 1 << 7;
/// The largest global data section accepted (64 MiB).
pub const MAX_DATA_SECTION: u64 = 64 << 20;

/// A loaded object: programs ready to run and the maps they reference by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// Programs, in section order, then symbol order within a section.
    pub programs: Vec<Program>,
    /// Maps; `lddw` map references carry an index into this list.
    pub maps: Vec<MapDef>,
    /// The `license` section's string, if there is one.
    pub license: Option<String>,
    /// Every code section as it is in the file (before linking), for listings.
    pub sections: Vec<CodeSection>,
    /// Global variables: where each lives in a global data map.
    pub globals: Vec<Global>,
}

/// A global variable of a data section (`.data`, `.bss`, `.rodata` ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// Variable name.
    pub name: String,
    /// Index of its section's map in [`Object::maps`].
    pub map: usize,
    /// Byte offset in the map's value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// One program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Function name.
    pub name: String,
    /// Section name (`xdp`, `kprobe/do_sys_openat2` ...).
    pub section: String,
    /// Type from the section name.
    pub prog_type: ProgType,
    /// Attach point: what follows the first `/` of the section name.
    pub attach: Option<String>,
    /// Linked instructions: the program, then the `.text` functions it calls.
    pub insns: Vec<Insn>,
    /// Functions appended after the program, with their slot index in `insns`.
    pub subprograms: Vec<(String, usize)>,
}

/// Where a map comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapSource {
    /// A BTF-defined map in `.maps`.
    Btf,
    /// A `struct bpf_map_def` in the legacy `maps` section.
    Legacy,
    /// A global data section (`.data`, `.rodata`, `.bss`, `.rodata.str1.1` ...) as a
    /// one-entry array.
    Data,
    /// Declared by a test, for an assembly program ([`MapDef::new`]).
    Declared,
}

/// A map definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    /// Name: the variable name, or the section name for global data.
    pub name: String,
    /// Type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: u32,
    /// For global data: the initial contents of the single value (zeros for `.bss`).
    pub data: Option<Vec<u8>>,
    /// For a BTF-defined program array with `.values = { [i] = &prog }`: the initial
    /// slots, as (index, program name), which libbpf fills in after loading the programs.
    pub slots: Vec<(u32, String)>,
    /// Where the definition came from.
    pub source: MapSource,
}

/// A code section as it is in the file, for listings (`bpfx disasm prog.o`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSection {
    /// Section name.
    pub name: String,
    /// Instructions as in the file (relocations not applied), with their slot index.
    pub insns: Vec<(usize, Insn)>,
    /// Function symbols: name and slot index.
    pub symbols: Vec<(String, usize)>,
    /// Relocations: slot index, ELF type name and the symbol's name.
    pub relocations: Vec<Relocation>,
}

/// One relocation of a code section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Slot index of the instruction it patches.
    pub slot: usize,
    /// `R_BPF_64_64`, `R_BPF_64_32` ...
    pub kind: &'static str,
    /// The symbol's name (a section symbol's name is its section's).
    pub symbol: String,
    /// What it resolves to: a map's name or a function's name.
    pub target: Option<String>,
}

/// Why an object cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Not an ELF file, or a malformed one.
    #[error("not a valid ELF object: {0}")]
    Elf(#[from] object::Error),
    /// An ELF file for another machine.
    #[error("not a BPF object: the ELF machine is {0:?} (expected Bpf)")]
    NotBpf(object::Architecture),
    /// A big-endian object.
    #[error("big-endian BPF objects are not supported (built with -target bpfeb?)")]
    BigEndian,
    /// A code section's bytes are not valid instructions.
    #[error("section `{section}`: {source}")]
    Decode {
        /// Section.
        section: String,
        /// The decoding error (instruction index and byte offset inside the section).
        source: DecodeError,
    },
    /// An executable section whose name gives no program type.
    #[error("section `{section}`: unknown program section name (expected e.g. `xdp`, `socket`, `kprobe/FUNC`, `tracepoint/CAT/NAME`, `tc`)")]
    UnknownSection {
        /// Section.
        section: String,
    },
    /// A static function in a program section (libbpf rejects these too).
    #[error(
        "section `{section}`: program `{symbol}` is static; programs must be global functions"
    )]
    StaticProgram {
        /// Section.
        section: String,
        /// Function.
        symbol: String,
    },
    /// A relocation that cannot be applied.
    #[error("section `{section}`, relocation at byte {offset} against `{symbol}`: {reason}")]
    Relocation {
        /// Section the relocation patches.
        section: String,
        /// Byte offset in that section.
        offset: u64,
        /// The symbol's name.
        symbol: String,
        /// Why it cannot be applied.
        reason: String,
    },
    /// The `.BTF` section, or a map definition in it, cannot be read.
    #[error("section `.BTF`: {0}")]
    Btf(#[from] BtfError),
    /// A map definition is incomplete or invalid.
    #[error("map `{map}`: {reason}")]
    Map {
        /// Map name.
        map: String,
        /// What is wrong.
        reason: String,
    },
    /// Some other section cannot be read.
    #[error("section `{section}`: {reason}")]
    Section {
        /// Section.
        section: String,
        /// What is wrong.
        reason: String,
    },
}

/// A function symbol in a code section.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    start: usize,
    end: usize,
    global: bool,
}

/// A code section during loading.
#[derive(Clone, Debug)]
struct Code {
    index: SectionIndex,
    name: String,
    /// Relocated instructions with their slot index.
    insns: Vec<Insn>,
    slots: Vec<usize>,
    funcs: Vec<Func>,
    /// Calls and function pointers resolved by relocation to another place:
    /// slot → (code section position, slot there).
    targets: HashMap<usize, (usize, usize)>,
    listing: CodeSection,
}

impl Code {
    fn index_of_slot(&self, slot: usize) -> Option<usize> {
        self.slots.binary_search(&slot).ok()
    }

    fn func_at(&self, slot: usize) -> Option<&Func> {
        self.funcs.iter().find(|f| f.start <= slot && slot < f.end)
    }

    fn total_slots(&self) -> usize {
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
        if file.architecture() != object::Architecture::Bpf {
            return Err(ObjectError::NotBpf(file.architecture()));
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

        let btf = match file.section_by_name(".BTF") {
            Some(s) => Some(btf::Btf::parse(s.data()?)?),
            None => None,
        };

        if let Some(sec) = file.section_by_name("maps") {
            let data = sec.data()?;
            let mut syms: Vec<_> = file
                .symbols()
                .filter(|s| {
                    s.section_index() == Some(sec.index()) && !s.name().unwrap_or("").is_empty()
                })
                .filter(|s| s.kind() != SymbolKind::Section)
                .collect();
            syms.sort_by_key(|s| s.address());
            for s in syms {
                let name = s.name()?.to_owned();
                let off = s.address() as usize;
                let field = |i: usize| {
                    data.get(off + 4 * i..off + 4 * i + 4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                };
                let (Some(t), Some(k), Some(v), Some(m)) = (field(0), field(1), field(2), field(3))
                else {
                    return Err(ObjectError::Map {
                        map: name,
                        reason: format!(
                            "legacy definition at byte {off} of `maps` needs 16 bytes \
                             (type, key_size, value_size, max_entries)"
                        ),
                    });
                };
                let flags = if s.size() >= 20 {
                    field(4).unwrap_or(0)
                } else {
                    0
                };
                let map_type = MapType::from_number(t).ok_or_else(|| ObjectError::Map {
                    map: name.clone(),
                    reason: format!("unknown map type {t}"),
                })?;
                map_at.insert((sec.index(), off as u64), maps.len());
                maps.push(MapDef {
                    name,
                    map_type,
                    key_size: k,
                    value_size: v,
                    max_entries: m,
                    flags,
                    data: None,
                    slots: Vec::new(),
                    source: MapSource::Legacy,
                });
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
                let max_entries = m.max_entries.ok_or_else(|| missing("max_entries"))?;
                map_at.insert((sec.index(), m.offset as u64), maps.len());
                maps.push(MapDef {
                    name: m.name,
                    map_type,
                    key_size,
                    value_size,
                    max_entries,
                    flags: m.flags.unwrap_or(0),
                    data: None,
                    slots: Vec::new(),
                    source: MapSource::Btf,
                });
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
                        maps[mi].name
                    )));
                };
                let rel = offset - u64::from(moff) - u64::from(voff);
                if offset < u64::from(moff + voff) || rel % 8 != 0 {
                    return Err(fail(format!(
                        "not at a slot of map `{}`'s `values`",
                        maps[mi].name
                    )));
                }
                if maps[mi].map_type != MapType::ProgArray {
                    return Err(fail(format!(
                        "map `{}` has type {}: only program arrays can be initialised \
                         (maps of maps are not supported)",
                        maps[mi].name, maps[mi].map_type
                    )));
                }
                let index = (rel / 8) as u32;
                if index >= maps[mi].max_entries {
                    return Err(fail(format!(
                        "slot {index} is past max_entries {} of map `{}`",
                        maps[mi].max_entries, maps[mi].name
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
                maps.push(MapDef {
                    name: name.clone(),
                    map_type: MapType::Array,
                    key_size: 4,
                    value_size,
                    max_entries: 1,
                    flags: if name.starts_with(".rodata") {
                        F_RDONLY_PROG
                    } else {
                        0
                    },
                    data: Some(data),
                    slots: Vec::new(),
                    source: MapSource::Data,
                });
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
            if !matches!(end, Some(e) if e <= u64::from(maps[m].value_size)) {
                return Err(ObjectError::Section {
                    section: maps[m].name.clone(),
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
                    return Err(fail("the symbol is not defined in this object (an extern: __ksym and .kconfig are not supported)"));
                }
                let Some(target_sec) = sym.section_index() else {
                    return Err(fail("the symbol has no section"));
                };
                let target_name = sec_name(target_sec);
                let resolved;
                if r_type == elf::R_BPF_64_64 {
                    if insn.code != 0x18 {
                        return Err(fail("R_BPF_64_64 must patch an lddw instruction"));
                    }
                    let new = if let Some(&m) = map_at.get(&(target_sec, sym.address())) {
                        resolved = Some(maps[m].name.clone());
                        Insn {
                            src: PSEUDO_MAP_FD,
                            imm: m as i64,
                            ..insn
                        }
                    } else if let Some(&m) = data_map.get(&target_sec) {
                        // The addend is in the instruction (REL): offset = symbol + imm.
                        let off = sym.address() as i64 + (insn.imm as i32) as i64;
                        if off < 0 || off >= i64::from(maps[m].value_size) {
                            return Err(fail(&format!(
                                "offset {off} is outside section `{target_name}` ({} bytes)",
                                maps[m].value_size
                            )));
                        }
                        resolved = Some(if sym.kind() == SymbolKind::Section {
                            format!("{target_name}+{off}")
                        } else {
                            sym_name.clone()
                        });
                        Insn {
                            src: PSEUDO_MAP_VALUE,
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
                            src: PSEUDO_FUNC,
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
                    if insn.code != 0x85 || insn.src != 1 {
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

        // Programs: every global function of every section but `.text`.
        let mut programs = Vec::new();
        for (ci, code) in codes.iter().enumerate() {
            if code.name == ".text" {
                continue;
            }
            let Some((prog_type, attach)) = ProgType::from_section(&code.name) else {
                return Err(ObjectError::UnknownSection {
                    section: code.name.clone(),
                });
            };
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
                    return Err(ObjectError::StaticProgram {
                        section: code.name.clone(),
                        symbol: f.name.clone(),
                    });
                }
                let (insns, subprograms) = link(&codes, ci, f)?;
                programs.push(Program {
                    name: f.name.clone(),
                    section: code.name.clone(),
                    prog_type,
                    attach: attach.map(str::to_owned),
                    insns,
                    subprograms,
                });
            }
        }

        for m in &maps {
            for (i, name) in &m.slots {
                if !programs.iter().any(|p| &p.name == name) {
                    return Err(ObjectError::Map {
                        map: m.name.clone(),
                        reason: format!("slot {i} names `{name}`, which is not a program"),
                    });
                }
            }
        }

        Ok(Object {
            programs,
            maps,
            license,
            sections: codes.into_iter().map(|c| c.listing).collect(),
            globals,
        })
    }

    /// The program with this function name, or else the first program of the section
    /// with this name.
    pub fn program(&self, name_or_section: &str) -> Option<&Program> {
        self.programs
            .iter()
            .find(|p| p.name == name_or_section)
            .or_else(|| self.programs.iter().find(|p| p.section == name_or_section))
    }

    /// The global variable with this name.
    pub fn global(&self, name: &str) -> Option<&Global> {
        self.globals.iter().find(|g| g.name == name)
    }

    /// The index of the map with this name.
    pub fn map_index(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|m| m.name == name)
    }
}

fn reloc_err(section: &str, offset: u64, symbol: &str, reason: &str) -> ObjectError {
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

/// A linked program: instructions and the appended functions' names and slots.
type Linked = (Vec<Insn>, Vec<(String, usize)>);

/// Copies a program's function and appends every function it calls (transitively), fixing
/// each call's offset — what libbpf's `bpf_object__reloc_code` does. Jumps stay valid
/// because each function is copied whole.
fn link(codes: &[Code], ci: usize, prog: &Func) -> Result<Linked, ObjectError> {
    let mut out: Vec<Insn> = Vec::new();
    // Origin of each output instruction: (code section, slot) and its output slot.
    let mut origin: Vec<(usize, usize)> = Vec::new();
    let mut out_slots: Vec<usize> = Vec::new();
    // (code section, function start) → output slot of the function's start.
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    let mut subprograms = Vec::new();
    let mut next_slot = 0usize;

    let mut append = |out: &mut Vec<Insn>,
                      origin: &mut Vec<(usize, usize)>,
                      out_slots: &mut Vec<usize>,
                      c: usize,
                      start: usize,
                      end: usize| {
        let at = next_slot;
        for (i, &slot) in codes[c].slots.iter().enumerate() {
            if slot >= start && slot < end {
                out.push(codes[c].insns[i]);
                origin.push((c, slot));
                out_slots.push(next_slot);
                next_slot += codes[c].insns[i].slots();
            }
        }
        at
    };
    let at = append(
        &mut out,
        &mut origin,
        &mut out_slots,
        ci,
        prog.start,
        prog.end,
    );
    placed.insert((ci, prog.start), at);

    let mut i = 0;
    while i < out.len() {
        let insn = out[i];
        let is_call = insn.code == 0x85 && insn.src == 1;
        let is_func_ptr = insn.code == 0x18 && insn.src == PSEUDO_FUNC;
        if !(is_call || is_func_ptr) {
            i += 1;
            continue;
        }
        let (c, slot) = origin[i];
        let code = &codes[c];
        let (tc, tslot) = match code.targets.get(&slot) {
            Some(&t) => t,
            None if is_call => {
                let t = slot as i64 + 1 + insn.imm;
                if t < 0 || code.index_of_slot(t as usize).is_none() {
                    return Err(reloc_err(
                        &code.name,
                        slot as u64 * 8,
                        "",
                        &format!("call at slot {slot} jumps to slot {t}, outside the section"),
                    ));
                }
                (c, t as usize)
            }
            None => {
                return Err(reloc_err(
                    &code.name,
                    slot as u64 * 8,
                    "",
                    "function pointer without a relocation",
                ))
            }
        };
        let tcode = &codes[tc];
        let func = tcode.func_at(tslot).cloned().unwrap_or(Func {
            name: tcode.name.clone(),
            start: 0,
            end: tcode.total_slots(),
            global: false,
        });
        let start_out = if tc == ci && prog.start <= tslot && tslot < prog.end {
            placed[&(ci, prog.start)]
        } else if let Some(&s) = placed.get(&(tc, func.start)) {
            s
        } else {
            if tcode.name != ".text" {
                return Err(reloc_err(
                    &code.name,
                    slot as u64 * 8,
                    &func.name,
                    &format!(
                        "calls into program section `{}`; only `.text` functions can be called",
                        tcode.name
                    ),
                ));
            }
            let s = append(
                &mut out,
                &mut origin,
                &mut out_slots,
                tc,
                func.start,
                func.end,
            );
            placed.insert((tc, func.start), s);
            subprograms.push((func.name.clone(), s));
            s
        };
        let base = if tc == ci && prog.start <= tslot && tslot < prog.end {
            prog.start
        } else {
            func.start
        };
        let target_out = (start_out + (tslot - base)) as i64;
        let rel = target_out - (out_slots[i] as i64 + 1);
        out[i].imm = rel;
        i += 1;
    }
    Ok((out, subprograms))
}
