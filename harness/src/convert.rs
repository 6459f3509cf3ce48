//! The one place that converts between harness types and the VM's and the kernel crate's
//! own types (`vm::object::MapDef`, `vm::MapDef`, `vm::ProgType`, `kernel::MapSpec`, the
//! object model). When those crates change their API, only this file changes.

use crate::program::{GlobalVar, MapInit, Program};
use asm::types::{MapSpec, ProgType};

/// A parsed ELF object (the VM's object model).
pub use vm::object::Object;

/// Parses an ELF object.
pub fn parse_object(bytes: &[u8]) -> Result<Object, String> {
    Object::parse(bytes).map_err(|e| e.to_string())
}

/// An object's maps (index order) with their initial data.
pub fn object_maps(obj: &Object) -> Vec<MapInit> {
    obj.maps
        .iter()
        .map(|m| MapInit {
            spec: MapSpec::new(m.map_type, m.key_size, m.value_size, m.max_entries)
                .named(&m.name)
                .with_flags(m.flags),
            data: m.data.clone(),
            prog_slots: m.slots.clone(),
        })
        .collect()
}

/// An object's global variables.
pub fn object_globals(obj: &Object) -> Vec<GlobalVar> {
    obj.globals
        .iter()
        .map(|g| GlobalVar {
            name: g.name.clone(),
            map: g.map,
            offset: g.offset,
            size: g.size,
        })
        .collect()
}

/// The object's programs: (function name, section name, type).
pub fn object_programs(obj: &Object) -> Vec<(String, String, ProgType)> {
    obj.programs
        .iter()
        .map(|p| (p.name.clone(), p.section.clone(), p.prog_type))
        .collect()
}

/// Program `index` of the object, with the object's maps and globals.
pub fn object_program(obj: &Object, index: usize) -> Program {
    let p = &obj.programs[index];
    Program {
        insns: p.insns.clone(),
        prog_type: Some(p.prog_type),
        maps: object_maps(obj),
        globals: object_globals(obj),
    }
}

/// The program of the object called `name` (function or section name).
pub fn object_program_named(obj: &Object, name: &str) -> Option<usize> {
    obj.programs
        .iter()
        .position(|p| p.name == name)
        .or_else(|| obj.programs.iter().position(|p| p.section == name))
}

/// A map declared for `vm::testing` (assembly programs).
pub fn vm_object_map(m: &MapSpec) -> vm::object::MapDef {
    let mut def =
        vm::object::MapDef::new(&m.name, m.map_type, m.key_size, m.value_size, m.max_entries);
    def.flags = m.flags;
    def
}

/// A map for the bare VM ([`vm::Vm::create_map`]).
pub fn vm_map(m: &MapSpec) -> vm::MapDef {
    vm::MapDef {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
    }
}

/// The VM's program type (`None`: memory mode, `plain`); `Err` when the VM has no context
/// for the type.
pub fn vm_prog_type(t: Option<ProgType>) -> Result<vm::ProgType, String> {
    match t {
        None => Ok(vm::ProgType::Plain),
        Some(t) => {
            vm::ProgType::from_kernel(t).ok_or_else(|| format!("the VM cannot run {t} programs"))
        }
    }
}

/// What `r0` means for a program type, as the VM (or else the kernel crate) words it.
pub fn meaning(t: ProgType, r0: u64) -> Option<String> {
    vm::ProgType::from_kernel(t)
        .and_then(|v| v.meaning(r0))
        .or_else(|| kernel::prog::meaning(t, r0))
}

/// A map for the kernel crate.
pub fn kernel_map_spec(m: &MapSpec) -> kernel::MapSpec {
    kernel::MapSpec {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        name: m.name.clone(),
    }
}

/// The definition of a map of `vm::testing`'s bench.
pub fn spec_of_vm_object_map(m: &vm::object::MapDef) -> MapSpec {
    MapSpec::new(m.map_type, m.key_size, m.value_size, m.max_entries)
        .named(&m.name)
        .with_flags(m.flags)
}
