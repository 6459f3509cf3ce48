//! From an ELF object (`obj::Object`) to what the harness runs: a [`Program`] with its maps
//! and globals. Maps are `obj::Map` (an `asm::types::MapSpec` plus initial contents) in every
//! engine, so nothing else needs converting.

use crate::program::Program;
use asm::types::ProgType;

/// A parsed ELF object.
pub use obj::Object;

/// Parses an ELF object.
pub fn parse_object(bytes: &[u8]) -> Result<Object, String> {
    Object::parse(bytes).map_err(|e| e.to_string())
}

/// The object's programs: (function name, section name, type if the section names one).
pub fn object_programs(obj: &Object) -> Vec<(String, String, Option<ProgType>)> {
    obj.programs
        .iter()
        .map(|p| (p.name.clone(), p.section.clone(), p.prog_type))
        .collect()
}

/// Program `index` of the object as type `given` (a `--type`) or its section's, with
/// the object's maps and globals; an error if neither gives a type or the program cannot
/// be loaded ([`obj::Program::loadable`]).
pub fn object_program(
    obj: &Object,
    index: usize,
    given: Option<ProgType>,
) -> Result<Program, String> {
    let p = &obj.programs[index];
    p.loadable()?;
    Ok(Program {
        insns: p.insns.clone(),
        prog_type: Some(p.type_or(given)?),
        maps: obj.maps.clone(),
        globals: obj.globals.clone(),
    })
}

/// The program of the object called `name` (function or section name).
pub fn object_program_named(obj: &Object, name: &str) -> Option<usize> {
    obj.programs
        .iter()
        .position(|p| p.name == name)
        .or_else(|| obj.programs.iter().position(|p| p.section == name))
}
