//! A complete BTF type table, as CO-RE needs it: every kind with its names, integer
//! encodings, bitfield offsets, enumerators and prototypes (`include/uapi/linux/btf.h`).
//! Used for the object's own (local) BTF and for the target (`/sys/kernel/btf/vmlinux`,
//! or a `.BTF` section of another object).

use std::fmt;

/// `BTF_MAGIC`, stored little-endian.
pub(crate) const MAGIC: u16 = 0xeb9f;

/// `BTF_KIND_*` values.
#[allow(missing_docs)]
pub mod kind {
    pub const UNKN: u8 = 0;
    pub const INT: u8 = 1;
    pub const PTR: u8 = 2;
    pub const ARRAY: u8 = 3;
    pub const STRUCT: u8 = 4;
    pub const UNION: u8 = 5;
    pub const ENUM: u8 = 6;
    pub const FWD: u8 = 7;
    pub const TYPEDEF: u8 = 8;
    pub const VOLATILE: u8 = 9;
    pub const CONST: u8 = 10;
    pub const RESTRICT: u8 = 11;
    pub const FUNC: u8 = 12;
    pub const FUNC_PROTO: u8 = 13;
    pub const VAR: u8 = 14;
    pub const DATASEC: u8 = 15;
    pub const FLOAT: u8 = 16;
    pub const DECL_TAG: u8 = 17;
    pub const TYPE_TAG: u8 = 18;
    pub const ENUM64: u8 = 19;
}

/// `BTF_INT_SIGNED` in an integer's encoding.
pub const INT_SIGNED: u8 = 1;

/// A BTF blob that cannot be read, with the byte offset of the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("BTF at byte {offset}: {reason}")]
pub struct BtfParseError {
    /// Byte offset in the blob.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

/// One member of a struct or union (or one parameter of a prototype: `offset` 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Name (empty when anonymous).
    pub name: String,
    /// Type id.
    pub type_id: u32,
    /// Bit offset in the struct.
    pub bit_offset: u32,
    /// Bitfield size in bits (0: not a bitfield).
    pub bitfield_size: u32,
}

/// One enumerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enumerator {
    /// Name.
    pub name: String,
    /// Value (32-bit enumerators sign- or zero-extended as the enum's signedness says).
    pub value: u64,
}

/// What a type has beyond its common header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Nothing more.
    None,
    /// `BTF_KIND_INT`: encoding bits (`BTF_INT_SIGNED` ...), bit offset, bits.
    Int {
        /// `BTF_INT_ENCODING`.
        encoding: u8,
        /// `BTF_INT_OFFSET`.
        offset: u8,
        /// `BTF_INT_BITS`.
        bits: u8,
    },
    /// `BTF_KIND_ARRAY`.
    Array {
        /// Element type.
        elem: u32,
        /// Index type.
        index: u32,
        /// Number of elements.
        nelems: u32,
    },
    /// Struct or union members, prototype parameters.
    Members(Vec<Member>),
    /// Enumerators of `ENUM` or `ENUM64`.
    Enum(Vec<Enumerator>),
    /// Any other trailing data, kept raw (VAR linkage, DATASEC entries, DECL_TAG index).
    Raw(Vec<u32>),
}

/// One type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type {
    /// `BTF_KIND_*`.
    pub kind: u8,
    /// Name (empty when anonymous).
    pub name: String,
    /// `kind_flag`: bitfield offsets in members, union forward declarations, signed enums.
    pub kflag: bool,
    /// `size` or `type`, as the kind says.
    pub size_or_type: u32,
    /// The rest.
    pub detail: Detail,
}

impl Type {
    /// Struct or union.
    pub fn is_composite(&self) -> bool {
        matches!(self.kind, kind::STRUCT | kind::UNION)
    }

    /// `ENUM` or `ENUM64`.
    pub fn is_any_enum(&self) -> bool {
        matches!(self.kind, kind::ENUM | kind::ENUM64)
    }

    /// Members of a struct, union or prototype (empty for other kinds).
    pub fn members(&self) -> &[Member] {
        match &self.detail {
            Detail::Members(m) => m,
            _ => &[],
        }
    }

    /// Enumerators of an enum (empty for other kinds).
    pub fn enumerators(&self) -> &[Enumerator] {
        match &self.detail {
            Detail::Enum(e) => e,
            _ => &[],
        }
    }

    /// `btf_kind_str`: the kind's name as libbpf prints it.
    pub fn kind_name(&self) -> &'static str {
        const NAMES: [&str; 20] = [
            "void",
            "int",
            "ptr",
            "array",
            "struct",
            "union",
            "enum",
            "fwd",
            "typedef",
            "volatile",
            "const",
            "restrict",
            "func",
            "func_proto",
            "var",
            "datasec",
            "float",
            "decl_tag",
            "type_tag",
            "enum64",
        ];
        NAMES.get(self.kind as usize).copied().unwrap_or("unknown")
    }
}

/// A parsed type table. Type id 0 is `void`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Btf {
    types: Vec<Type>,
    strings: Vec<u8>,
}

impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Btf({} types)", self.types.len().saturating_sub(1))
    }
}

fn perr<T>(offset: usize, reason: impl Into<String>) -> Result<T, BtfParseError> {
    Err(BtfParseError {
        offset,
        reason: reason.into(),
    })
}

impl Btf {
    /// Parses a raw BTF blob (a `.BTF` section, `/sys/kernel/btf/vmlinux`), little-endian.
    pub fn parse(data: &[u8]) -> Result<Btf, BtfParseError> {
        if data.len() < 24 {
            return perr(0, format!("header needs 24 bytes, blob has {}", data.len()));
        }
        let word = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let magic = u16::from_le_bytes([data[0], data[1]]);
        if magic != MAGIC {
            return perr(0, format!("bad magic {magic:#06x} (expected {MAGIC:#06x})"));
        }
        let (hdr_len, type_off, type_len, str_off, str_len) =
            (word(4) as usize, word(8), word(12), word(16), word(20));
        let range = |off: u32, len: u32, what: &str| {
            let s = hdr_len.checked_add(off as usize);
            let e = s.and_then(|s| s.checked_add(len as usize));
            match (s, e) {
                (Some(s), Some(e)) if e <= data.len() => Ok((s, e)),
                _ => perr(
                    4,
                    format!("{what} (offset {off}, length {len}) is outside the blob"),
                ),
            }
        };
        let (ts, te) = range(type_off, type_len, "type section")?;
        let (ss, se) = range(str_off, str_len, "string section")?;
        let strings = data[ss..se].to_vec();
        let name = |off: u32, at: usize| -> Result<String, BtfParseError> {
            match strings.get(off as usize..) {
                Some(rest) => {
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
                }
                None => perr(
                    at,
                    format!("name offset {off} is outside the string section"),
                ),
            }
        };
        let mut pos = ts;
        let next = |pos: &mut usize| -> Result<u32, BtfParseError> {
            if *pos + 4 > te {
                return perr(*pos, "type section truncated");
            }
            let v = word(*pos);
            *pos += 4;
            Ok(v)
        };
        let mut types = vec![Type {
            kind: kind::UNKN,
            name: "void".into(),
            kflag: false,
            size_or_type: 0,
            detail: Detail::None,
        }];
        while pos < te {
            let at = pos;
            let name_off = next(&mut pos)?;
            let info = next(&mut pos)?;
            let size_or_type = next(&mut pos)?;
            let k = ((info >> 24) & 0x1f) as u8;
            let kflag = info >> 31 == 1;
            let vlen = (info & 0xffff) as usize;
            let detail = match k {
                kind::INT => {
                    let v = next(&mut pos)?;
                    Detail::Int {
                        encoding: ((v >> 24) & 0xf) as u8,
                        offset: ((v >> 16) & 0xff) as u8,
                        bits: (v & 0xff) as u8,
                    }
                }
                kind::ARRAY => Detail::Array {
                    elem: next(&mut pos)?,
                    index: next(&mut pos)?,
                    nelems: next(&mut pos)?,
                },
                kind::STRUCT | kind::UNION => {
                    let mut ms = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let n = next(&mut pos)?;
                        let type_id = next(&mut pos)?;
                        let off = next(&mut pos)?;
                        let (bit_offset, bitfield_size) = if kflag {
                            (off & 0xff_ffff, off >> 24)
                        } else {
                            (off, 0)
                        };
                        ms.push(Member {
                            name: name(n, at)?,
                            type_id,
                            bit_offset,
                            bitfield_size,
                        });
                    }
                    Detail::Members(ms)
                }
                kind::FUNC_PROTO => {
                    let mut ms = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let n = next(&mut pos)?;
                        let type_id = next(&mut pos)?;
                        ms.push(Member {
                            name: name(n, at)?,
                            type_id,
                            bit_offset: 0,
                            bitfield_size: 0,
                        });
                    }
                    Detail::Members(ms)
                }
                kind::ENUM | kind::ENUM64 => {
                    let mut es = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let n = next(&mut pos)?;
                        let lo = next(&mut pos)?;
                        let value = if k == kind::ENUM64 {
                            u64::from(lo) | (u64::from(next(&mut pos)?) << 32)
                        } else if kflag {
                            lo as i32 as i64 as u64
                        } else {
                            u64::from(lo)
                        };
                        es.push(Enumerator {
                            name: name(n, at)?,
                            value,
                        });
                    }
                    Detail::Enum(es)
                }
                kind::VAR | kind::DECL_TAG => Detail::Raw(vec![next(&mut pos)?]),
                kind::DATASEC => {
                    let mut raw = Vec::with_capacity(vlen * 3);
                    for _ in 0..vlen * 3 {
                        raw.push(next(&mut pos)?);
                    }
                    Detail::Raw(raw)
                }
                kind::PTR
                | kind::FWD
                | kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::FUNC
                | kind::FLOAT
                | kind::TYPE_TAG => Detail::None,
                other => return perr(at, format!("type {} has unknown kind {other}", types.len())),
            };
            types.push(Type {
                kind: k,
                name: name(name_off, at)?,
                kflag,
                size_or_type,
                detail,
            });
        }
        Ok(Btf { types, strings })
    }

    /// Reads the `.BTF` section of an ELF file, or else takes the bytes as raw BTF.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Btf, BtfParseError> {
        if bytes.starts_with(b"\x7fELF") {
            use object::{Object as _, ObjectSection as _};
            let file = object::File::parse(bytes).map_err(|e| BtfParseError {
                offset: 0,
                reason: format!("not a valid ELF file: {e}"),
            })?;
            let Some(sec) = file.section_by_name(".BTF") else {
                return perr(0, "the ELF file has no .BTF section (build it with -g)");
            };
            let data = sec.data().map_err(|e| BtfParseError {
                offset: 0,
                reason: format!(".BTF: {e}"),
            })?;
            return Btf::parse(data);
        }
        Btf::parse(bytes)
    }

    /// Number of type ids, `void` included.
    pub fn len(&self) -> u32 {
        self.types.len() as u32
    }

    /// Only `void`.
    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// The type with this id (`void` is id 0).
    pub fn get(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// The type with this id, or `void` past the table.
    pub fn ty(&self, id: u32) -> &Type {
        self.types.get(id as usize).unwrap_or(&self.types[0])
    }

    /// The string at this offset of the string section.
    pub fn string(&self, off: u32) -> Option<&str> {
        let rest = self.strings.get(off as usize..)?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).ok()
    }

    /// `skip_mods_and_typedefs`: follows typedefs, qualifiers and type tags; the id reached.
    pub fn skip_mods(&self, mut id: u32) -> u32 {
        for _ in 0..self.types.len() {
            match self.ty(id).kind {
                kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
                    id = self.ty(id).size_or_type
                }
                _ => return id,
            }
        }
        id
    }

    /// `btf__resolve_size`: the size of a type in bytes, `None` when it has none.
    pub fn resolve_size(&self, id: u32) -> Option<u64> {
        let mut id = id;
        let mut mult: u64 = 1;
        for _ in 0..32 {
            let t = self.get(id)?;
            match t.kind {
                kind::INT
                | kind::STRUCT
                | kind::UNION
                | kind::ENUM
                | kind::ENUM64
                | kind::FLOAT
                | kind::DATASEC => return mult.checked_mul(t.size_or_type.into()),
                kind::PTR => return mult.checked_mul(8),
                kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::TYPE_TAG
                | kind::VAR => id = t.size_or_type,
                kind::ARRAY => {
                    let Detail::Array { elem, nelems, .. } = t.detail else {
                        return None;
                    };
                    mult = mult.checked_mul(nelems.into())?;
                    id = elem;
                }
                _ => return None,
            }
        }
        None
    }

    /// The first type id with this kind and name.
    pub fn find(&self, kind: u8, name: &str) -> Option<u32> {
        self.types
            .iter()
            .position(|t| t.kind == kind && t.name == name)
            .map(|i| i as u32)
    }

    /// All types with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Type)> {
        self.types.iter().enumerate().map(|(i, t)| (i as u32, t))
    }

    /// A type as libbpf names it in messages: `struct task_struct`, `int`, `void`.
    pub fn describe(&self, id: u32) -> String {
        let t = self.ty(id);
        match t.kind {
            kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 | kind::FWD => {
                let k = if t.kind == kind::ENUM64 {
                    "enum"
                } else {
                    t.kind_name()
                };
                if t.name.is_empty() {
                    format!("{k} <anon>")
                } else {
                    format!("{k} {}", t.name)
                }
            }
            _ if t.name.is_empty() => t.kind_name().to_owned(),
            _ => t.name.clone(),
        }
    }
}
