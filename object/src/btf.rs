//! Just enough of the BPF Type Format to read BTF-defined maps: the type table of a
//! `.BTF` section (kernel `Documentation/bpf/btf.rst`, `include/uapi/linux/btf.h`), the
//! `.maps` DATASEC, and the sizes of types.

use asm::types::ValueFields;
use std::fmt;

// The kind numbers are the full parser's (`crate::core::btf`, which CO-RE
// uses): one list of `BTF_KIND_*`.
use crate::core::btf::kind;

/// A problem in a `.BTF` section.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BtfError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError(msg.into()))
}

/// One member of a struct or union, one entry of a DATASEC, one parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Name (empty when anonymous).
    pub name: String,
    /// Type id.
    pub type_id: u32,
    /// Bit offset (struct member) or byte offset (DATASEC entry).
    pub offset: u32,
    /// Byte size (DATASEC entry only).
    pub size: u32,
}

/// One type of the table. Only what map definitions need is kept in detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `BTF_KIND_INT`, `ENUM`, `ENUM64`, `FLOAT`: a scalar of `size` bytes.
    Scalar {
        /// Name.
        name: String,
        /// Size in bytes.
        size: u32,
    },
    /// `BTF_KIND_PTR` to a type.
    Ptr(u32),
    /// `BTF_KIND_ARRAY` of `nelems` elements of type `elem`.
    Array {
        /// Element type id.
        elem: u32,
        /// Number of elements.
        nelems: u32,
    },
    /// `BTF_KIND_STRUCT` or `UNION`.
    Struct {
        /// Name (empty when anonymous).
        name: String,
        /// Size in bytes.
        size: u32,
        /// Members.
        members: Vec<Member>,
    },
    /// `TYPEDEF`, `VOLATILE`, `CONST`, `RESTRICT`, `TYPE_TAG`: the same type as the target.
    Alias(u32),
    /// `BTF_KIND_VAR`: a global variable.
    Var {
        /// Name.
        name: String,
        /// Type id.
        type_id: u32,
    },
    /// `BTF_KIND_DATASEC`: the variables of an ELF section.
    Datasec {
        /// Section name.
        name: String,
        /// Variables, with their offsets and sizes.
        vars: Vec<Member>,
    },
    /// `BTF_KIND_FUNC`: a function (a kfunc, in DATASEC `.ksyms`).
    Func {
        /// Name.
        name: String,
    },
    /// Prototypes, forward declarations, tags: no size.
    Other(u8),
}

/// A parsed type table. Type id 0 is `void`; ids start at 1.
#[derive(Clone, Debug, Default)]
pub struct Btf {
    types: Vec<Type>,
}

impl Btf {
    /// Parses the contents of a `.BTF` section (little-endian, as clang writes it for
    /// `-target bpf` on a little-endian host): the full type table ([`crate::core::Btf`],
    /// the one BTF reader) seen through what map definitions need. The object parser
    /// reads the table once and takes the view ([`Btf::view`]); the tests use this.
    #[cfg(test)]
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        let full = crate::core::Btf::parse(data).map_err(|e| BtfError(e.to_string()))?;
        Ok(Btf::view(&full))
    }

    /// The map-definition view of a full type table.
    pub(crate) fn view(full: &crate::core::Btf) -> Btf {
        use crate::core::Detail;
        let types = full
            .iter()
            .skip(1)
            .map(|(_, t)| match (t.kind, &t.detail) {
                (kind::INT | kind::FLOAT | kind::ENUM | kind::ENUM64, _) => Type::Scalar {
                    name: t.name.clone(),
                    size: t.size_or_type,
                },
                (kind::PTR, _) => Type::Ptr(t.size_or_type),
                (kind::ARRAY, Detail::Array { elem, nelems, .. }) => Type::Array {
                    elem: *elem,
                    nelems: *nelems,
                },
                (kind::STRUCT | kind::UNION, _) => Type::Struct {
                    name: t.name.clone(),
                    size: t.size_or_type,
                    members: t
                        .members()
                        .iter()
                        .map(|m| Member {
                            name: m.name.clone(),
                            type_id: m.type_id,
                            offset: m.bit_offset,
                            size: 0,
                        })
                        .collect(),
                },
                (
                    kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG,
                    _,
                ) => Type::Alias(t.size_or_type),
                (kind::VAR, _) => Type::Var {
                    name: t.name.clone(),
                    type_id: t.size_or_type,
                },
                (kind::DATASEC, Detail::Raw(words)) => Type::Datasec {
                    name: t.name.clone(),
                    vars: words
                        .chunks_exact(3)
                        .map(|c| Member {
                            name: String::new(),
                            type_id: c[0],
                            offset: c[1],
                            size: c[2],
                        })
                        .collect(),
                },
                (kind::FUNC, _) => Type::Func {
                    name: t.name.clone(),
                },
                (k, _) => Type::Other(k),
            })
            .collect();
        Btf { types }
    }

    /// The type with this id (`None` for `void` and for ids past the table).
    pub fn get(&self, id: u32) -> Option<&Type> {
        id.checked_sub(1).and_then(|i| self.types.get(i as usize))
    }

    fn get_or_err(&self, id: u32) -> Result<&Type, BtfError> {
        self.get(id)
            .ok_or_else(|| BtfError(format!("type id {id} does not exist")))
    }

    /// Follows typedefs and qualifiers to the underlying type id. Stops after as many
    /// steps as there are types, so a cycle is an error rather than a hang.
    pub fn skip_aliases(&self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..=self.types.len() {
            match self.get_or_err(id)? {
                Type::Alias(next) => id = *next,
                _ => return Ok(id),
            }
        }
        err(format!("type id {id} is part of a typedef cycle"))
    }

    /// The size in bytes of a type (`btf__resolve_size` in libbpf terms).
    pub fn size_of(&self, id: u32) -> Result<u32, BtfError> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: u32, depth: usize) -> Result<u32, BtfError> {
        if depth > 32 {
            return err(format!("type id {id} nests more than 32 levels deep"));
        }
        let id = self.skip_aliases(id)?;
        match self.get_or_err(id)? {
            Type::Scalar { size, .. } | Type::Struct { size, .. } => Ok(*size),
            Type::Ptr(_) => Ok(8),
            Type::Array { elem, nelems } => {
                let e = self.size_of_depth(*elem, depth + 1)?;
                e.checked_mul(*nelems)
                    .ok_or_else(|| BtfError(format!("array type id {id} is too large")))
            }
            Type::Var { type_id, .. } => self.size_of_depth(*type_id, depth + 1),
            other => err(format!("type id {id} ({}) has no size", describe(other))),
        }
    }

    /// Finds a DATASEC by section name.
    pub fn datasec(&self, section: &str) -> Option<&[Member]> {
        self.types.iter().find_map(|t| match t {
            Type::Datasec { name, vars } if name == section => Some(vars.as_slice()),
            _ => None,
        })
    }
}

fn describe(t: &Type) -> &'static str {
    match t {
        Type::Scalar { .. } => "scalar",
        Type::Ptr(_) => "pointer",
        Type::Array { .. } => "array",
        Type::Struct { .. } => "struct",
        Type::Alias(_) => "typedef",
        Type::Var { .. } => "variable",
        Type::Datasec { .. } => "section",
        Type::Func { .. } => "function",
        Type::Other(kind::FUNC_PROTO) => "function prototype",
        Type::Other(kind::FWD) => "forward declaration",
        Type::Other(_) => "tag",
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(describe(self))
    }
}

/// The fields of one BTF-defined map (`struct { __uint(type, ...); ... } name SEC(".maps")`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfMap {
    /// Variable name.
    pub name: String,
    /// Byte offset of the variable in `.maps`.
    pub offset: u32,
    /// `type`.
    pub map_type: Option<u32>,
    /// `key_size`, or the size of `key`'s type.
    pub key_size: Option<u32>,
    /// `value_size`, or the size of `value`'s type.
    pub value_size: Option<u32>,
    /// `max_entries`.
    pub max_entries: Option<u32>,
    /// `map_flags`.
    pub flags: Option<u32>,
    /// `pinning` (`LIBBPF_PIN_NONE` 0, `LIBBPF_PIN_BY_NAME` 1).
    pub pinning: Option<u32>,
    /// Byte offset of `values` (`__array(values, ...)`: initial slots, filled by
    /// relocations in `.rel.maps`), inside the variable.
    pub values_offset: Option<u32>,
    /// Size of the variable in `.maps` (with its `values` initialiser).
    pub size: u32,
    /// Offsets of a `struct bpf_spin_lock` and a `struct bpf_timer` in the value, when
    /// the value's type is a struct that has them as members (nested structs are not
    /// searched).
    pub value_fields: ValueFields,
    /// For a map of maps: the inner map's definition, from `__array(values, struct {...})`.
    pub inner: Option<Box<BtfMap>>,
    /// The type id of `__type(key, T)`'s `T` (0 when the key is given by `key_size`), as
    /// libbpf's `parse_btf_map_def` records it for `BPF_MAP_CREATE`'s `btf_key_type_id`.
    pub key_type_id: u32,
    /// The type id of `__type(value, T)`'s `T` (0 when given by `value_size`).
    pub value_type_id: u32,
}

impl Btf {
    /// The names of the variables and functions a DATASEC lists (`.kconfig`, `.ksyms`),
    /// each with whether it is a function; empty if there is no such DATASEC.
    pub fn datasec_names(&self, section: &str) -> Vec<(String, bool)> {
        let Some(vars) = self.datasec(section) else {
            return Vec::new();
        };
        vars.iter()
            .filter_map(|v| match self.get(v.type_id)? {
                Type::Var { name, .. } => Some((name.clone(), false)),
                Type::Func { name } => Some((name.clone(), true)),
                _ => None,
            })
            .collect()
    }

    /// Reads the maps defined in the `.maps` DATASEC.
    pub fn maps(&self) -> Result<Vec<BtfMap>, BtfError> {
        let Some(vars) = self.datasec(".maps") else {
            return err("no DATASEC named `.maps` in .BTF");
        };
        let mut out = Vec::new();
        for v in vars {
            let Type::Var { name, type_id } = self.get_or_err(v.type_id)? else {
                return err(format!(
                    "`.maps` entry at offset {} is not a variable",
                    v.offset
                ));
            };
            let sid = self.skip_aliases(*type_id)?;
            let Type::Struct { members, .. } = self.get_or_err(sid)? else {
                return err(format!("map `{name}`: its type is not a struct"));
            };
            let mut m = self.map_def(name, members, 0)?;
            m.offset = v.offset;
            m.size = v.size;
            out.push(m);
        }
        Ok(out)
    }

    /// The fields of a map definition struct; `depth` counts inner map definitions.
    fn map_def(&self, name: &str, members: &[Member], depth: usize) -> Result<BtfMap, BtfError> {
        let mut m = BtfMap {
            name: name.to_owned(),
            ..BtfMap::default()
        };
        for mem in members {
            let ctx = |e: BtfError| BtfError(format!("map `{name}`, field `{}`: {e}", mem.name));
            match mem.name.as_str() {
                "type" => m.map_type = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                "max_entries" => m.max_entries = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                "map_flags" => m.flags = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                "key_size" => m.key_size = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                "value_size" => m.value_size = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                "key" => {
                    m.key_size = Some(self.pointee_size(mem.type_id).map_err(ctx)?);
                    m.key_type_id = self.pointee(mem.type_id).map_err(ctx)?;
                }
                "value" => {
                    m.value_size = Some(self.pointee_size(mem.type_id).map_err(ctx)?);
                    m.value_type_id = self.pointee(mem.type_id).map_err(ctx)?;
                    m.value_fields = self.value_fields(mem.type_id).map_err(ctx)?;
                }
                "values" => {
                    if mem.offset % 64 != 0 {
                        return err(format!(
                            "map `{name}`: field `values` is not 8-byte aligned"
                        ));
                    }
                    m.values_offset = Some(mem.offset / 8);
                    // `__array(values, struct {...})`: an array of pointers to the inner
                    // map's definition (for program arrays, pointers to a function type).
                    if let Some(members) = self.values_struct(mem.type_id)? {
                        if depth > 0 {
                            return err(format!("map `{name}`: maps of maps nest only one level"));
                        }
                        m.inner = Some(Box::new(self.map_def(name, members, depth + 1)?));
                    }
                }
                // Reported, not applied: pinning is a loader concern.
                "pinning" => m.pinning = Some(self.uint_field(mem.type_id).map_err(ctx)?),
                // Accepted and without effect here: NUMA placement and map_extra do not
                // change what a program sees.
                "numa_node" | "map_extra" => {}
                other => {
                    return err(format!(
                        "map `{name}`: field `{other}` is not supported \
                         (supported: type, key, value, key_size, value_size, \
                         max_entries, map_flags, values, pinning, numa_node, map_extra)"
                    ))
                }
            }
        }
        Ok(m)
    }

    /// The members of the struct `values` points at, if it is an array of pointers to a
    /// struct.
    fn values_struct(&self, id: u32) -> Result<Option<&[Member]>, BtfError> {
        let Type::Array { elem, .. } = self.get_or_err(self.skip_aliases(id)?)? else {
            return Ok(None);
        };
        let Type::Ptr(target) = self.get_or_err(self.skip_aliases(*elem)?)? else {
            return Ok(None);
        };
        Ok(match self.get(self.skip_aliases(*target)?) {
            Some(Type::Struct { members, .. }) => Some(members.as_slice()),
            _ => None,
        })
    }

    /// Where the value (`__type(value, T)`, a pointer to T) has its `struct bpf_spin_lock`
    /// and `struct bpf_timer` members.
    fn value_fields(&self, id: u32) -> Result<ValueFields, BtfError> {
        let mut f = ValueFields::default();
        let Type::Ptr(target) = self.get_or_err(self.skip_aliases(id)?)? else {
            return Ok(f);
        };
        let Some(Type::Struct { members, .. }) = self.get(self.skip_aliases(*target)?) else {
            return Ok(f);
        };
        for mem in members {
            if let Some(Type::Struct { name, .. }) = self.get(self.skip_aliases(mem.type_id)?) {
                match name.as_str() {
                    "bpf_spin_lock" => f.spin_lock = Some(mem.offset / 8),
                    "bpf_timer" => f.timer = Some(mem.offset / 8),
                    _ => {}
                }
            }
        }
        Ok(f)
    }

    /// `__uint(name, N)` is `int (*name)[N]`: a pointer to an array of N elements.
    fn uint_field(&self, id: u32) -> Result<u32, BtfError> {
        let pid = self.skip_aliases(id)?;
        let Type::Ptr(target) = self.get_or_err(pid)? else {
            return err("expected `__uint(...)`, a pointer to an array");
        };
        let aid = self.skip_aliases(*target)?;
        match self.get_or_err(aid)? {
            Type::Array { nelems, .. } => Ok(*nelems),
            other => err(format!(
                "expected `__uint(...)`, a pointer to an array, found a pointer to a {other}"
            )),
        }
    }

    /// `__type(name, T)` is `T *name`: the size of `T`.
    fn pointee_size(&self, id: u32) -> Result<u32, BtfError> {
        self.size_of(self.pointee(id)?)
    }

    /// `__type(name, T)` is `T *name`: the type id of `T`.
    fn pointee(&self, id: u32) -> Result<u32, BtfError> {
        let pid = self.skip_aliases(id)?;
        let Type::Ptr(target) = self.get_or_err(pid)? else {
            return err("expected `__type(...)`, a pointer to the type");
        };
        Ok(*target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a BTF blob from (kind, name, vlen, size_or_type, extra words).
    fn blob(strings: &[&str], types: &[(u8, u32, u32, u32, Vec<u32>)]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        for s in strings {
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
        }
        let mut tt = Vec::new();
        for (k, name, vlen, st, extra) in types {
            for w in [*name, ((*k as u32) << 24) | vlen, *st]
                .iter()
                .chain(extra.iter())
            {
                tt.extend_from_slice(&w.to_le_bytes());
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&crate::core::btf::MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        for w in [
            24u32,
            0,
            tt.len() as u32,
            tt.len() as u32,
            strtab.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&tt);
        out.extend_from_slice(&strtab);
        out
    }

    #[test]
    fn sizes_through_typedefs_and_arrays() {
        // 1: int "int" 4; 2: typedef "u32" -> 1; 3: array of 2 x 5; 4: const -> 3
        let b = blob(
            &["int", "u32"],
            &[
                (kind::INT, 1, 0, 4, vec![32]),
                (kind::TYPEDEF, 5, 0, 1, vec![]),
                (kind::ARRAY, 0, 0, 0, vec![2, 1, 5]),
                (kind::CONST, 0, 0, 3, vec![]),
            ],
        );
        let btf = Btf::parse(&b).unwrap();
        assert_eq!(btf.size_of(2).unwrap(), 4);
        assert_eq!(btf.size_of(4).unwrap(), 20);
        assert!(btf.size_of(9).unwrap_err().0.contains("does not exist"));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Btf::parse(&[0; 10]).unwrap_err().0.contains("24 bytes"));
        let mut b = blob(&[], &[(kind::INT, 0, 0, 4, vec![32])]);
        b[0] = 0;
        assert!(Btf::parse(&b).unwrap_err().0.contains("magic"));
        let b = blob(&[], &[(25, 0, 0, 4, vec![])]);
        assert!(Btf::parse(&b).unwrap_err().0.contains("unknown kind 25"));
        let mut b = blob(&[], &[(kind::INT, 0, 0, 4, vec![32])]);
        b.truncate(b.len() - 4);
        assert!(Btf::parse(&b).is_err());
        // A typedef cycle: 1 -> 2 -> 1.
        let b = blob(
            &[],
            &[
                (kind::TYPEDEF, 0, 0, 2, vec![]),
                (kind::TYPEDEF, 0, 0, 1, vec![]),
            ],
        );
        let btf = Btf::parse(&b).unwrap();
        assert!(btf.size_of(1).unwrap_err().0.contains("cycle"));
    }

    #[test]
    fn map_value_fields_and_inner_maps() {
        let strings = [
            "int",
            "bpf_spin_lock",
            "bpf_timer",
            "value",
            "cnt",
            "lock",
            "timer",
            "type",
            "max_entries",
            "key",
            "m",
            ".maps",
            "val",
            "values",
        ];
        let off = |name: &str| -> u32 {
            let i = strings.iter().position(|s| *s == name).unwrap();
            1 + strings[..i].iter().map(|s| s.len() as u32 + 1).sum::<u32>()
        };
        let b = blob(
            &strings,
            &[
                (kind::INT, off("int"), 0, 4, vec![32]), // 1
                (
                    kind::STRUCT,
                    off("bpf_spin_lock"),
                    1,
                    4,
                    vec![off("val"), 1, 0],
                ), // 2
                (
                    kind::STRUCT,
                    off("bpf_timer"),
                    1,
                    16,
                    vec![off("val"), 1, 0],
                ), // 3
                (
                    kind::STRUCT,
                    off("value"),
                    3,
                    32,
                    vec![off("cnt"), 1, 0, off("lock"), 2, 32, off("timer"), 3, 64],
                ), // 4
                (kind::PTR, 0, 0, 4, vec![]),            // 5: value *
                (kind::ARRAY, 0, 0, 0, vec![1, 1, 12]),  // 6: int[12]
                (kind::PTR, 0, 0, 6, vec![]),            // 7: __uint(type, 12)
                (kind::ARRAY, 0, 0, 0, vec![1, 1, 4]),   // 8: int[4]
                (kind::PTR, 0, 0, 8, vec![]),            // 9: __uint(max_entries, 4)
                (kind::PTR, 0, 0, 1, vec![]),            // 10: int *
                (
                    kind::STRUCT,
                    0,
                    4,
                    32,
                    vec![
                        off("type"),
                        7,
                        0,
                        off("max_entries"),
                        9,
                        64,
                        off("key"),
                        10,
                        128,
                        off("value"),
                        5,
                        192,
                    ],
                ), // 11: the inner map's definition
                (kind::PTR, 0, 0, 11, vec![]),           // 12
                (kind::ARRAY, 0, 0, 0, vec![12, 1, 0]),  // 13: values[]
                (
                    kind::STRUCT,
                    0,
                    3,
                    16,
                    vec![
                        off("type"),
                        7,
                        0,
                        off("max_entries"),
                        9,
                        64,
                        off("values"),
                        13,
                        128,
                    ],
                ), // 14: the outer map
                (kind::VAR, off("m"), 0, 14, vec![1]),   // 15
                (kind::DATASEC, off(".maps"), 1, 16, vec![15, 0, 16]), // 16
            ],
        );
        let btf = Btf::parse(&b).unwrap();
        let maps = btf.maps().unwrap();
        assert_eq!(maps.len(), 1);
        let m = &maps[0];
        assert_eq!((m.map_type, m.max_entries), (Some(12), Some(4)));
        assert_eq!(m.values_offset, Some(16));
        assert_eq!(m.value_fields, ValueFields::default());
        let inner = m.inner.as_deref().expect("an inner map from `values`");
        assert_eq!(inner.map_type, Some(12));
        assert_eq!((inner.key_size, inner.value_size), (Some(4), Some(32)));
        assert_eq!(
            inner.value_fields,
            ValueFields {
                spin_lock: Some(4),
                timer: Some(8),
            }
        );
    }
}
