//! Programs and maps of a loaded object ([`obj::Object`]) in the kernel: the maps created
//! in the object's order (with global data stored), then a program loaded with its type,
//! expected attach type and licence, its `lddw` map references patched to the maps' fds.
//!
//! Program arrays initialised by the object ([`obj::Map::slots`]) are created empty:
//! filling them needs the other programs loaded first, which is the caller's business.

use crate::error::Error;
use crate::map::{Map, UpdateFlags};
use crate::prog::{LoadOptions, Program};
use asm::types::ProgType;

impl Map {
    /// Creates an object's map: its spec (a `perf_event_array` without `max_entries`
    /// gets one entry per possible CPU, as libbpf's `map_set_def_max_entries` gives it),
    /// then, for global data, its initial value.
    pub fn create_object_map(map: &obj::Map) -> Result<Map, Error> {
        let m = Map::create(&map.spec_for(crate::map::possible_cpus() as u32))?;
        if let Some(data) = &map.data {
            m.update(&0u32.to_le_bytes(), data, UpdateFlags::Any)?;
        }
        Ok(m)
    }
}

/// Creates every map of an object, in order: `lddw` map references of its programs are
/// indexes into the result.
pub fn create_maps(o: &obj::Object) -> Result<Vec<Map>, Error> {
    o.maps.iter().map(Map::create_object_map).collect()
}

impl<'a> LoadOptions<'a> {
    /// Options for a program of a loaded object as type `prog_type` (its section's,
    /// [`obj::Program::type_or`]): its expected attach type, `BPF_F_SLEEPABLE` for
    /// libbpf's sleepable sections, the object's licence (GPL when it has none), its name,
    /// and the object's maps as created by [`create_maps`].
    pub fn for_program(
        prog: &obj::Program,
        prog_type: ProgType,
        license: Option<&str>,
        maps: &'a [Map],
    ) -> LoadOptions<'a> {
        let mut o = LoadOptions::new(prog_type);
        o.expected_attach_type = prog.expected_attach_type;
        if prog.sleepable {
            o.flags |= BPF_F_SLEEPABLE;
        }
        if let Some(l) = license {
            o.license = l.to_owned();
        }
        o.name = prog.name.clone();
        o.maps = maps.iter().collect();
        o
    }
}

/// `BPF_F_SLEEPABLE` (`include/uapi/linux/bpf.h`).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;

/// Loads a program of an object as type `prog_type` ([`obj::Program::type_or`]); its
/// maps are `maps` ([`create_maps`]). Check [`obj::Program::loadable`] first: a program
/// with unresolved externs or calls is refused by the kernel's verifier.
pub fn load_program(
    o: &obj::Object,
    prog: &obj::Program,
    prog_type: ProgType,
    maps: &[Map],
) -> Result<Program, Error> {
    Program::load(
        &prog.insns,
        &LoadOptions::for_program(prog, prog_type, o.license.as_deref(), maps),
    )
}
