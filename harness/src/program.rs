//! A program to run, with its maps (and their initial data) and global variables.

use crate::convert::{self, Object};
use asm::types::{MapSpec, ProgType};
use asm::Insn;

/// A map a program refers to by index, with what it holds before the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInit {
    /// Its definition (`--map` maps may be unnamed).
    pub spec: MapSpec,
    /// Global data: the single value's initial bytes.
    pub data: Option<Vec<u8>>,
    /// A program array the object fills with programs: (index, program name).
    pub prog_slots: Vec<(u32, String)>,
}

impl From<MapSpec> for MapInit {
    fn from(spec: MapSpec) -> MapInit {
        MapInit {
            spec,
            data: None,
            prog_slots: Vec::new(),
        }
    }
}

/// A global variable: where it lives in its section's map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVar {
    /// Its name.
    pub name: String,
    /// Index of its map.
    pub map: usize,
    /// Byte offset in the map's value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A program with everything it needs to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// The instructions; `lddw` map references hold indexes into `maps`.
    pub insns: Vec<Insn>,
    /// Its type (an object's section gives one); `None`: memory mode.
    pub prog_type: Option<ProgType>,
    /// Its maps in index order.
    pub maps: Vec<MapInit>,
    /// Its global variables.
    pub globals: Vec<GlobalVar>,
}

/// Chooses an object's program by `section` or by function name `program` (neither: the
/// only program). The error lists the programs there are; `name` names the file.
pub fn pick(
    obj: &Object,
    name: &str,
    section: Option<&str>,
    program: Option<&str>,
) -> Result<Program, String> {
    pick_index(obj, name, section, program).map(|i| convert::object_program(obj, i))
}

/// Like [`pick`], the program's index in the object.
pub fn pick_index(
    obj: &Object,
    name: &str,
    section: Option<&str>,
    program: Option<&str>,
) -> Result<usize, String> {
    let progs = convert::object_programs(obj);
    let list = || {
        progs
            .iter()
            .map(|(n, s, _)| format!("  --section {s:<28} --program {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if progs.is_empty() {
        return Err(format!(
            "{name} has no programs (functions in `.text` are only subprograms)"
        ));
    }
    let found = match (section, program) {
        (Some(sec), _) => progs.iter().position(|(_, s, _)| s == sec),
        (None, Some(p)) => progs.iter().position(|(n, _, _)| n == p),
        (None, None) if progs.len() == 1 => Some(0),
        (None, None) => {
            return Err(format!(
                "{name} has {} programs: choose one with --section or --program:\n{}",
                progs.len(),
                list()
            ))
        }
    };
    match found {
        Some(i) => Ok(i),
        None => {
            let what = match (section, program) {
                (Some(s), _) => format!("no section `{s}`"),
                (None, p) => format!("no program `{}`", p.unwrap_or_default()),
            };
            Err(format!("{name} has {what}; its programs are:\n{}", list()))
        }
    }
}

/// Creates the maps in the kernel and stores their initial data.
pub fn create_kernel_maps(maps: &[MapInit]) -> Result<Vec<kernel::Map>, kernel::Error> {
    let mut out = Vec::new();
    for m in maps {
        let map = kernel::Map::create(&convert::kernel_map_spec(&m.spec))?;
        if let Some(d) = &m.data {
            map.update(&0u32.to_le_bytes(), d, kernel::map::UpdateFlags::Any)?;
        }
        out.push(map);
    }
    Ok(out)
}
