//! BPF maps: create, look up, update, delete, iterate.

use crate::error::{needs_text, Error, Op};
use crate::sys::{self, cmd, MapCreateAttr, MapElemAttr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub use asm::types::MapType;

/// Whether lookups of this map type return one value per possible CPU.
pub fn is_percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuHash
            | MapType::PercpuArray
            | MapType::LruPercpuHash
            | MapType::PercpuCgroupStorage
    )
}

/// `BPF_MAP_UPDATE_ELEM` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u64)]
pub enum UpdateFlags {
    /// `BPF_ANY`: create or replace.
    #[default]
    Any = 0,
    /// `BPF_NOEXIST`: create only.
    NoExist = 1,
    /// `BPF_EXIST`: replace only.
    Exist = 2,
}

/// A map's shape: `asm`'s, the one map definition every crate uses. The kernel gets
/// [`MapSpec::name`] trimmed to 15 characters, with characters other than alphanumerics,
/// `_` and `.` dropped (the kernel would reject them); `inner` becomes the inner map of a
/// map-in-map; local storage maps get a BTF describing their key and value by size
/// ([`crate::btf_shape`]); `value_fields` are not passed on.
pub use asm::types::MapSpec;

/// A key and its value, as bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A map owned by this process; the file descriptor is closed on drop (the kernel frees the
/// map once no program or descriptor refers to it).
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    spec: MapSpec,
    value_len: usize,
}

pub(crate) fn possible_cpus() -> usize {
    crate::cpu::possible()
}

impl Map {
    /// `BPF_MAP_CREATE`. A map-in-map gets its inner map created from
    /// [`MapSpec::inner`] and passed as `inner_map_fd` (the kernel keeps only its shape). A
    /// refusal names the map and, for `EINVAL`, the kernel's rule it broke
    /// ([`crate::map_rules::broken_rule`]).
    pub fn create(spec: &MapSpec) -> Result<Map, Error> {
        let refused = |errno: crate::sys::Errno, reason: Option<String>| Error::MapCreate {
            name: if spec.name.is_empty() {
                "(unnamed)".into()
            } else {
                spec.name.clone()
            },
            map_type: spec.map_type.name(),
            op: Op::MapCreate,
            errno,
            reason,
        };
        let inner = match (&spec.inner, spec.map_type) {
            (Some(inner), MapType::ArrayOfMaps | MapType::HashOfMaps) => {
                let mut inner = (**inner).clone();
                if inner.name.is_empty() {
                    inner.name = format!("{}.inner", spec.name);
                }
                Some(Map::create(&inner).map_err(|e| match e {
                    Error::MapCreate { errno, .. } => {
                        refused(errno, Some(format!("its inner map: {e}")))
                    }
                    other => other,
                })?)
            }
            _ => None,
        };
        // Local storage maps exist only with BTF for their key and value.
        let btf = match spec.map_type {
            MapType::SkStorage
            | MapType::InodeStorage
            | MapType::TaskStorage
            | MapType::CgrpStorage => Some(
                crate::btf_shape::key_value(spec.key_size, spec.value_size).map_err(
                    |e| match e {
                        Error::Input(why) => refused(crate::sys::Errno(libc::EINVAL), Some(why)),
                        other => other,
                    },
                )?,
            ),
            _ => None,
        };
        let mut attr = MapCreateAttr {
            btf_fd: btf.as_ref().map_or(0, |b| b.as_raw_fd() as u32),
            btf_key_type_id: if btf.is_some() {
                crate::btf_shape::KEY_TYPE_ID
            } else {
                0
            },
            btf_value_type_id: if btf.is_some() {
                crate::btf_shape::VALUE_TYPE_ID
            } else {
                0
            },
            map_type: spec.map_type.number(),
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.flags,
            inner_map_fd: inner.as_ref().map_or(0, |m| m.fd.as_raw_fd() as u32),
            map_name: sys::obj_name(&spec.name),
            ..Default::default()
        };
        // SAFETY: a MAP_CREATE attr without pointer fields (inner_map_fd is an open fd
        // owned by `inner`, alive across the call).
        let fd = match unsafe { sys::bpf_fd(cmd::MAP_CREATE, &mut attr) } {
            Ok(fd) => fd,
            Err(e) if e.0 == libc::EPERM => {
                return Err(Error::from_errno(Op::MapCreate, e, || needs_text("")))
            }
            Err(e) if e.0 == libc::EINVAL => {
                return Err(refused(e, crate::map_rules::broken_rule(spec)))
            }
            Err(e) => return Err(refused(e, None)),
        };
        let value_len = if is_percpu(spec.map_type) {
            // Each CPU's value is padded to 8 bytes (`bpf_map_value_size`).
            (spec.value_size as usize).div_ceil(8) * 8 * possible_cpus()
        } else {
            spec.value_size as usize
        };
        Ok(Map {
            fd,
            spec: spec.clone(),
            value_len,
        })
    }

    /// `BPF_MAP_CREATE` of a map of maps (`array_of_maps`, `hash_of_maps`) whose inner map
    /// template is `inner` (`inner_map_fd`).
    pub fn create_of_maps(spec: &MapSpec, inner: &Map) -> Result<Map, Error> {
        let mut attr = MapCreateAttr {
            map_type: spec.map_type.number(),
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.flags,
            inner_map_fd: inner.fd.as_raw_fd() as u32,
            map_name: sys::obj_name(&spec.name),
            ..Default::default()
        };
        // SAFETY: a MAP_CREATE attr without pointer fields; `inner` keeps its fd open for
        // the call.
        let fd = unsafe { sys::bpf_fd(cmd::MAP_CREATE, &mut attr) }
            .map_err(|e| Error::from_errno(Op::MapCreate, e, || needs_text("")))?;
        Ok(Map {
            fd,
            spec: spec.clone(),
            value_len: spec.value_size as usize,
        })
    }

    /// Wraps a descriptor `BPF_MAP_CREATE` returned for `spec` by a creation with
    /// attributes [`Map::create`] does not set (an object's BTF: `kernel::object`).
    pub(crate) fn from_created(fd: OwnedFd, spec: &MapSpec) -> Map {
        let value_len = if is_percpu(spec.map_type) {
            // Each CPU's value is padded to 8 bytes (`bpf_map_value_size`).
            (spec.value_size as usize).div_ceil(8) * 8 * possible_cpus()
        } else {
            spec.value_size as usize
        };
        Map {
            fd,
            spec: spec.clone(),
            value_len,
        }
    }

    /// The shape the map was created with.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// Bytes a lookup returns: `value_size`, or for per-CPU maps one 8-byte-padded value per
    /// possible CPU.
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    fn check_key(&self, key: &[u8]) -> Result<(), Error> {
        if key.len() != self.spec.key_size as usize {
            return Err(Error::Size {
                what: "key",
                expected: self.spec.key_size as usize,
                got: key.len(),
            });
        }
        Ok(())
    }

    fn elem(&self, key: *const u8, value: *mut u8, flags: u64) -> MapElemAttr {
        MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            // Maps without keys (queue, stack, bloom filter) take a NULL key: the kernel
            // refuses any other pointer (`___bpf_copy_key`).
            key: if self.spec.key_size == 0 {
                0
            } else {
                key as u64
            },
            value_or_next_key: value as u64,
            flags,
        }
    }

    /// `BPF_MAP_LOOKUP_ELEM`: the value, or `None` when the key is absent.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.value_len];
        let mut attr = self.elem(key.as_ptr(), value.as_mut_ptr(), 0);
        // SAFETY: `key` holds key_size bytes (checked above) and `value` value_len bytes,
        // what the kernel reads and writes; both outlive the call.
        match unsafe { sys::bpf(cmd::MAP_LOOKUP_ELEM, &mut attr) } {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.0 == libc::ENOENT => Ok(None),
            Err(e) => Err(Error::from_errno(Op::MapLookup, e, || needs_text(""))),
        }
    }

    /// `BPF_MAP_UPDATE_ELEM`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), Error> {
        self.check_key(key)?;
        if value.len() != self.value_len {
            return Err(Error::Size {
                what: "value",
                expected: self.value_len,
                got: value.len(),
            });
        }
        // The kernel only reads the value; the attr field is a plain address.
        let mut attr = self.elem(key.as_ptr(), value.as_ptr() as *mut u8, flags as u64);
        // SAFETY: `key` and `value` have the map's key and value sizes (checked above) and
        // outlive the call; the kernel only reads them.
        unsafe { sys::bpf(cmd::MAP_UPDATE_ELEM, &mut attr) }
            .map(drop)
            .map_err(|e| Error::from_errno(Op::MapUpdate, e, || needs_text("")))
    }

    /// `BPF_MAP_DELETE_ELEM`: whether the key was present.
    pub fn delete(&self, key: &[u8]) -> Result<bool, Error> {
        self.check_key(key)?;
        let mut attr = self.elem(key.as_ptr(), std::ptr::null_mut(), 0);
        // SAFETY: `key` has the key size (checked above) and outlives the call.
        match unsafe { sys::bpf(cmd::MAP_DELETE_ELEM, &mut attr) } {
            Ok(_) => Ok(true),
            Err(e) if e.0 == libc::ENOENT => Ok(false),
            Err(e) => Err(Error::from_errno(Op::MapDelete, e, || needs_text(""))),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first key when `key` is `None`), or
    /// `None` at the end.
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>, Error> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        let mut next = vec![0u8; self.spec.key_size as usize];
        let kp = key.map_or(std::ptr::null(), <[u8]>::as_ptr);
        let mut attr = self.elem(kp, next.as_mut_ptr(), 0);
        // SAFETY: `key` is null or key_size bytes (checked above); `next` is key_size bytes;
        // both outlive the call.
        match unsafe { sys::bpf(cmd::MAP_GET_NEXT_KEY, &mut attr) } {
            Ok(_) => Ok(Some(next)),
            Err(e) if e.0 == libc::ENOENT => Ok(None),
            Err(e) => Err(Error::from_errno(Op::MapGetNextKey, e, || needs_text(""))),
        }
    }

    /// Every key and value, in the kernel's iteration order (array maps: index order).
    pub fn entries(&self) -> Result<Vec<Entry>, Error> {
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        // An array map always has max_entries keys; a hash map is bounded by max_entries, so
        // this loop ends even if the map is changed concurrently.
        for _ in 0..=self.spec.max_entries {
            let Some(next) = self.next_key(key.as_deref())? else {
                break;
            };
            if let Some(value) = self.lookup(&next)? {
                out.push((next.clone(), value));
            }
            key = Some(next);
        }
        Ok(out)
    }
}

impl Map {
    pub(crate) fn as_fd_raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
