//! `.BTF.ext`: per-section function info, line info and CO-RE relocation records, read
//! as libbpf's `btf_ext__new` / `btf_ext_parse_info` read them (record sizes from the
//! section's own headers, so newer, longer records are accepted), and given to each
//! [`crate::Program`] with instruction offsets in the linked program's frame.

use crate::core::{Btf, CoreKind};
use crate::{Object, Program};
use std::collections::HashMap;
use std::sync::Arc;

/// `BTF_MAGIC`.
const MAGIC: u16 = 0xeb9f;

/// A `.BTF.ext` section that cannot be read, with the byte offset of the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(".BTF.ext at byte {offset}: {reason}")]
pub struct BtfExtError {
    /// Byte offset in the section.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

fn xerr<T>(offset: usize, reason: impl Into<String>) -> Result<T, BtfExtError> {
    Err(BtfExtError {
        offset,
        reason: reason.into(),
    })
}

/// `struct bpf_func_info`: where a function starts and its `BTF_KIND_FUNC` type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Instruction (slot) index in the program.
    pub insn: usize,
    /// Type id of the `FUNC` in the object's BTF.
    pub type_id: u32,
}

/// `struct bpf_line_info`: the source line of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Instruction (slot) index in the program.
    pub insn: usize,
    /// Offset of the file name in the BTF string section.
    pub file_name_off: u32,
    /// Offset of the line's text in the BTF string section.
    pub line_off: u32,
    /// Line number.
    pub line: u32,
    /// Column.
    pub col: u32,
}

/// `struct bpf_core_relo`: one CO-RE relocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Instruction (slot) index in the program.
    pub insn: usize,
    /// Root type id in the object's BTF.
    pub type_id: u32,
    /// Access string (`0:1:2`).
    pub access: String,
    /// Kind.
    pub kind: CoreKind,
}

/// What `.BTF.ext` says about one program, with offsets in its linked instructions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramExt {
    /// The object's BTF (shared by its programs), when the object has `.BTF`.
    pub btf: Option<Arc<Btf>>,
    /// Function info, sorted by instruction.
    pub func_info: Vec<FuncInfo>,
    /// Line info, sorted by instruction.
    pub line_info: Vec<LineInfo>,
    /// CO-RE relocations, sorted by instruction.
    pub core_relos: Vec<CoreRelo>,
}

/// One record of a section's info block, with the section name and byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// ELF section name the record's `insn_off` is in.
    pub section: String,
    /// Byte offset of the record in `.BTF.ext`.
    pub at: usize,
    /// The record's 32-bit words (as many as the record size says).
    pub words: Vec<u32>,
}

/// A parsed `.BTF.ext`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExt {
    /// `func_info` records (`insn_off`, `type_id`, ...).
    pub func_info: Vec<Record>,
    /// `line_info` records (`insn_off`, `file_name_off`, `line_off`, `line_col`, ...).
    pub line_info: Vec<Record>,
    /// `core_relo` records (`insn_off`, `type_id`, `access_str_off`, `kind`, ...).
    pub core_relos: Vec<Record>,
}

impl BtfExt {
    /// Parses a `.BTF.ext` section; section names are read from `btf`'s strings.
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfExtError> {
        let word = |i: usize| -> Result<u32, BtfExtError> {
            match data.get(i..i + 4) {
                Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                None => xerr(i, "truncated"),
            }
        };
        if data.len() < 8 {
            return xerr(
                0,
                format!("header needs 8 bytes, section has {}", data.len()),
            );
        }
        let magic = u16::from_le_bytes([data[0], data[1]]);
        if magic != MAGIC {
            return xerr(0, format!("bad magic {magic:#06x} (expected {MAGIC:#06x})"));
        }
        if data[2] != 1 {
            return xerr(2, format!("unsupported version {}", data[2]));
        }
        let hdr_len = word(4)? as usize;
        // `struct btf_ext_header`: func_info and line_info always; core_relo_off/len
        // when the header is at least 32 bytes.
        if hdr_len < 24 || hdr_len > data.len() {
            return xerr(4, format!("header length {hdr_len} is invalid"));
        }
        let mut ext = BtfExt::default();
        let blocks: [(usize, usize, &str); 3] = [
            (8, 8, "func_info"),
            (16, 16, "line_info"),
            (24, 16, "core_relo"),
        ];
        for (i, (hdr_at, min_rec, what)) in blocks.into_iter().enumerate() {
            if hdr_at + 8 > hdr_len {
                continue;
            }
            let (off, len) = (word(hdr_at)? as usize, word(hdr_at + 4)? as usize);
            let recs = parse_info(data, hdr_len + off, len, min_rec, what, btf)?;
            match i {
                0 => ext.func_info = recs,
                1 => ext.line_info = recs,
                _ => ext.core_relos = recs,
            }
        }
        Ok(ext)
    }
}

/// `btf_ext_parse_info`: a record size, then per section `sec_name_off`, `num_info` and
/// the records.
fn parse_info(
    data: &[u8],
    start: usize,
    len: usize,
    min_rec: usize,
    what: &str,
    btf: &Btf,
) -> Result<Vec<Record>, BtfExtError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| BtfExtError {
            offset: start,
            reason: format!("{what} (length {len}) runs past the section's end"),
        })?;
    let word = |i: usize| -> Result<u32, BtfExtError> {
        match data.get(i..i + 4).filter(|_| i + 4 <= end) {
            Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => xerr(i, format!("{what} truncated")),
        }
    };
    let rec_size = word(start)? as usize;
    if rec_size < min_rec || rec_size % 4 != 0 {
        return xerr(
            start,
            format!(
                "{what} record size {rec_size} is invalid (at least {min_rec}, a multiple of 4)"
            ),
        );
    }
    let mut out = Vec::new();
    let mut pos = start + 4;
    while pos < end {
        let name_off = word(pos)?;
        let num = word(pos + 4)? as usize;
        let Some(section) = btf.string(name_off) else {
            return xerr(
                pos,
                format!("{what}: section name offset {name_off} is not in .BTF's strings"),
            );
        };
        if num == 0 {
            return xerr(
                pos + 4,
                format!("{what} for section `{section}` has no records"),
            );
        }
        pos += 8;
        for _ in 0..num {
            if pos + rec_size > end {
                return xerr(
                    pos,
                    format!("{what} record for section `{section}` is truncated"),
                );
            }
            let words = (0..rec_size / 4)
                .map(|k| word(pos + 4 * k))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Record {
                section: section.to_owned(),
                at: pos,
                words,
            });
            pos += rec_size;
        }
    }
    Ok(out)
}

/// Where each instruction of a linked program came from: (section, slot there) → slot
/// in the program. The program is its function copied whole, then each `.text`
/// function appended whole (see `link.rs`), so a slot maps by its segment.
fn origins(obj: &Object, prog: &Program) -> HashMap<(String, usize), usize> {
    let start_of = |section: &str, name: &str| -> usize {
        obj.sections
            .iter()
            .find(|s| s.name == section)
            .and_then(|s| s.symbols.iter().find(|(n, _)| n == name))
            .map_or(0, |&(_, slot)| slot)
    };
    // A section not loaded by default (`?raw_tp/...`) is named without its `?` in the
    // program, and with it in the ELF file and in `.BTF.ext`.
    let section = obj
        .sections
        .iter()
        .filter(|s| s.symbols.iter().any(|(n, _)| n == &prog.name))
        .map(|s| s.name.as_str())
        .find(|n| *n == prog.section || n.strip_prefix('?') == Some(prog.section.as_str()))
        .unwrap_or(&prog.section)
        .to_owned();
    let mut segments = vec![(0usize, section.clone(), start_of(&section, &prog.name))];
    for (name, out) in &prog.subprograms {
        segments.push((*out, ".text".to_owned(), start_of(".text", name)));
    }
    segments.sort_by_key(|s| s.0);
    let total: usize = prog.insns.iter().map(|i| i.slots()).sum();
    let mut map = HashMap::new();
    for (k, (out, section, base)) in segments.iter().enumerate() {
        let seg_end = segments.get(k + 1).map_or(total, |s| s.0);
        for o in *out..seg_end {
            map.insert((section.clone(), base + (o - out)), o);
        }
    }
    map
}

/// Reads `.BTF.ext` of an ELF object with its `.BTF` and gives each program its records.
/// Called once at the end of [`Object::parse`].
pub(crate) fn attach(
    obj: &mut Object,
    file: &object::File<'_>,
    btf: Arc<Btf>,
) -> Result<(), crate::ObjectError> {
    use object::{Object as _, ObjectSection as _};
    let section_err = |section: &str, reason: String| crate::ObjectError::Section {
        section: section.into(),
        reason,
    };
    let ext = match file.section_by_name(".BTF.ext") {
        Some(s) => {
            let data = s
                .data()
                .map_err(|e| section_err(".BTF.ext", e.to_string()))?;
            BtfExt::parse(data, &btf).map_err(|e| section_err(".BTF.ext", e.to_string()))?
        }
        None => BtfExt::default(),
    };
    for pi in 0..obj.programs.len() {
        let map = origins(obj, &obj.programs[pi]);
        let mut pe = ProgramExt {
            btf: Some(btf.clone()),
            ..ProgramExt::default()
        };
        let here = |r: &Record| -> Result<Option<usize>, crate::ObjectError> {
            let off = r.words[0] as usize;
            if off % 8 != 0 {
                return Err(section_err(
                    ".BTF.ext",
                    format!(
                        "record at byte {}: insn_off {off} is not a multiple of 8",
                        r.at
                    ),
                ));
            }
            Ok(map.get(&(r.section.clone(), off / 8)).copied())
        };
        for r in &ext.func_info {
            if let Some(insn) = here(r)? {
                pe.func_info.push(FuncInfo {
                    insn,
                    type_id: r.words[1],
                });
            }
        }
        for r in &ext.line_info {
            if let Some(insn) = here(r)? {
                pe.line_info.push(LineInfo {
                    insn,
                    file_name_off: r.words[1],
                    line_off: r.words[2],
                    line: r.words[3] >> 10,
                    col: r.words[3] & 0x3ff,
                });
            }
        }
        for r in &ext.core_relos {
            if let Some(insn) = here(r)? {
                let kind = CoreKind::from_u32(r.words[3]).ok_or_else(|| {
                    section_err(
                        ".BTF.ext",
                        format!("CO-RE record at byte {}: unknown kind {}", r.at, r.words[3]),
                    )
                })?;
                let access = btf.string(r.words[2]).ok_or_else(|| {
                    section_err(
                        ".BTF.ext",
                        format!("CO-RE record at byte {}: access string offset {} is not in .BTF's strings", r.at, r.words[2]),
                    )
                })?;
                pe.core_relos.push(CoreRelo {
                    insn,
                    type_id: r.words[1],
                    access: access.to_owned(),
                    kind,
                });
            }
        }
        pe.func_info.sort_by_key(|f| f.insn);
        pe.line_info.sort_by_key(|l| l.insn);
        pe.core_relos.sort_by_key(|c| c.insn);
        obj.programs[pi].ext = pe;
    }
    Ok(())
}
