//! A program to run, with its maps (and their initial data) and global variables.

use crate::convert::{self, Object};
use asm::types::ProgType;
use asm::Insn;

/// A program with everything it needs to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// The instructions; `lddw` map references hold indexes into `maps`.
    pub insns: Vec<Insn>,
    /// Its type (an object's section gives one); `None`: memory mode.
    pub prog_type: Option<ProgType>,
    /// Its maps in index order.
    pub maps: Vec<obj::Map>,
    /// Its global variables.
    pub globals: Vec<obj::Global>,
}

/// Chooses an object's program by `section` or by function name `program` (neither: the
/// only program); a section holding several programs needs `program` too. The error lists
/// the programs there are; `name` names the file. Its type is `given` (a `--type`) or its
/// section's ([`convert::object_program`]).
pub fn pick(
    obj: &Object,
    name: &str,
    section: Option<&str>,
    program: Option<&str>,
    given: Option<ProgType>,
) -> Result<Program, String> {
    let i = pick_index(obj, name, section, program)?;
    convert::object_program(obj, i, given).map_err(|e| format!("{name}: {e}"))
}

/// Like [`pick`], the program's index in the object.
pub fn pick_index(
    obj: &Object,
    name: &str,
    section: Option<&str>,
    program: Option<&str>,
) -> Result<usize, String> {
    let progs = convert::object_programs(obj);
    let list = |only: &dyn Fn(&str) -> bool| {
        progs
            .iter()
            .filter(|(_, s, _)| only(s))
            .map(|(n, s, _)| format!("  --program {n} (section {s})"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if progs.is_empty() {
        return Err(format!(
            "{name} has no program sections (functions in `.text` are only subprograms)"
        ));
    }
    // `None` matches anything.
    let fits = |want: Option<&str>, v: &str| want.map_or(true, |w| w == v);
    let matching: Vec<usize> = (0..progs.len())
        .filter(|&i| {
            let (n, s, _) = &progs[i];
            fits(section, s) && fits(program, n)
        })
        .collect();
    match (matching.as_slice(), section, program) {
        ([one], _, _) => Ok(*one),
        ([], Some(s), None) if !progs.iter().any(|(_, ps, _)| ps == s) => Err(format!(
            "{name} has no section `{s}`; its programs are:\n{}",
            list(&|_| true)
        )),
        ([], _, p) => Err(format!(
            "{name} has no program `{}`{}; its programs are:\n{}",
            p.unwrap_or_default(),
            section
                .map(|s| format!(" in section `{s}`"))
                .unwrap_or_default(),
            list(&|_| true)
        )),
        (many, Some(s), _) => Err(format!(
            "{name} has {} programs in section {s}: choose one with --program:\n{}",
            many.len(),
            list(&|ps| ps == s)
        )),
        (many, None, _) => Err(format!(
            "{name} has {} programs: choose one with --section or --program:\n{}",
            many.len(),
            list(&|_| true)
        )),
    }
}

/// Creates the maps in the kernel and stores their initial data.
pub fn create_kernel_maps(maps: &[obj::Map]) -> Result<Vec<kernel::Map>, kernel::Error> {
    maps.iter().map(kernel::Map::create_object_map).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail_call() -> Object {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/elf/tail_call.bpf.o"
        );
        convert::parse_object(&std::fs::read(p).unwrap()).unwrap()
    }

    #[test]
    fn picking_a_program() {
        let obj = tail_call();
        let e = pick_index(&obj, "t.o", None, None).unwrap_err();
        assert!(e.starts_with("t.o has 3 programs: choose one with --section or --program"));
        assert!(e.contains("  --program dispatch (section xdp)"), "{e}");
        let e = pick_index(&obj, "t.o", Some("xdp"), None).unwrap_err();
        assert!(e.starts_with("t.o has 3 programs in section xdp: choose one with --program"));
        let e = pick_index(&obj, "t.o", Some("nope"), None).unwrap_err();
        assert!(
            e.starts_with("t.o has no section `nope`; its programs are:"),
            "{e}"
        );
        let e = pick_index(&obj, "t.o", None, Some("nope")).unwrap_err();
        assert!(e.starts_with("t.o has no program `nope`;"), "{e}");
        let i = pick_index(&obj, "t.o", Some("xdp"), Some("dispatch")).unwrap();
        assert_eq!(pick_index(&obj, "t.o", None, Some("dispatch")), Ok(i));
        let p = pick(&obj, "t.o", None, Some("dispatch"), None).unwrap();
        assert_eq!(p.prog_type, Some(ProgType::Xdp));
        assert!(p
            .maps
            .iter()
            .any(|m| !m.slots.is_empty() || m.spec.map_type == asm::types::MapType::ProgArray));
    }
}
