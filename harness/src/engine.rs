//! Engines run a test file's cases and report what they observed.
//!
//! An engine takes a batch of cases (all of a file's, or those `--filter` kept) so that an
//! engine with a costly start — a kernel booted in a VM — can run them in one go.

use crate::convert::{self, Object};
use crate::observation::Observation;
use crate::program::Program;
use crate::schema::{parse_hex, Case, TestFile};
use asm::types::{MapSpec, MapType, ProgType};
use asm::Dialect;
use std::path::{Path, PathBuf};

mod kernel_engine;
pub mod readback;
mod vm_engine;

pub use kernel_engine::HostKernel;
pub use vm_engine::{run_cases as vm_engine_run_cases, VmEngine};

/// What an engine made of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The case ran (or its run failed, see [`Observation::error`]): what was seen.
    Observed(Box<Observation>),
    /// The engine cannot run this case; why.
    Skipped(String),
    /// The case could not be set up (bad input, program refused): the reasons.
    Failed(Vec<String>),
}

/// Something that runs cases: the VM, the host kernel, (later) a kernel in a VM.
pub trait Engine {
    /// A short name for reports (`vm`, `kernel`).
    fn name(&self) -> &str;
    /// Whether the engine can be used here at all; `Err`: why not.
    fn available(&self) -> Result<(), String>;
    /// Runs `cases` of `suite`; one outcome per case, in order.
    fn run(&mut self, suite: &Suite, cases: &[&Case]) -> Vec<Outcome>;
}

/// What a test file's cases run.
#[derive(Debug)]
pub enum Source {
    /// A clang-built object.
    Object(Box<Object>),
    /// An assembled program with the file's `[[map]]`s.
    Asm {
        /// Its instructions.
        insns: Vec<asm::Insn>,
        /// Its type.
        prog_type: ProgType,
        /// Its maps, in index order.
        maps: Vec<MapSpec>,
    },
}

/// A loaded test file: the file, where it is, and its program.
#[derive(Debug)]
pub struct Suite {
    /// The test file's path as given.
    pub path: PathBuf,
    /// The directory its relative paths start from.
    pub dir: PathBuf,
    /// Its contents.
    pub file: TestFile,
    /// Its program(s).
    pub source: Source,
}

/// The largest file a test file may be or name (an object, assembly, input data): 64 MiB,
/// as for every input of the `bpfx` binary. A larger one is an error, found after reading one
/// byte past the limit.
pub const MAX_INPUT: u64 = 64 << 20;

fn read_limited(p: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(p)?
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(std::io::Error::other(format!(
            "input larger than {} MiB",
            MAX_INPUT >> 20
        )));
    }
    Ok(buf)
}

fn read_text(p: &Path) -> std::io::Result<String> {
    String::from_utf8(read_limited(p)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

impl Suite {
    /// Reads and parses a test file and loads its object or assembles its program.
    pub fn load(path: &Path) -> Result<Suite, String> {
        let text = read_text(path).map_err(|e| format!("cannot read: {e}"))?;
        Suite::from_text(path, &text)
    }

    /// A suite from a test file's text (`path` places its relative paths).
    pub fn from_text(path: &Path, text: &str) -> Result<Suite, String> {
        let file = TestFile::parse(text)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let source = match (&file.object, &file.asm) {
            (Some(obj), None) => {
                if file.prog_type.is_some() || file.dialect.is_some() || !file.map_defs.is_empty() {
                    return Err(
                        "`type`, `dialect` and `[[map]]` are for `asm` files; an object has its own"
                            .into(),
                    );
                }
                let p = dir.join(obj);
                let bytes = read_limited(&p).map_err(|e| format!("object {}: {e}", p.display()))?;
                let mut o = convert::parse_object(&bytes)
                    .map_err(|e| format!("object {}: {e}", p.display()))?;
                // CO-RE relocations against the running kernel's BTF, as libbpf would.
                o.relocate_core_for_load(None)
                    .map_err(|e| format!("object {}: {e}", p.display()))?;
                Source::Object(Box::new(o))
            }
            (None, Some(asm_path)) => {
                let p = dir.join(asm_path);
                let src = read_text(&p).map_err(|e| format!("assembly {}: {e}", p.display()))?;
                let dialect = match file.dialect.as_deref() {
                    None | Some("llvm") => Dialect::Llvm,
                    Some("ubpf") => Dialect::Ubpf,
                    Some(other) => {
                        return Err(format!(
                            "unknown dialect `{other}` (expected `llvm` or `ubpf`)"
                        ))
                    }
                };
                let assembled = asm::text::assemble(&src, dialect).map_err(|ds| {
                    let idx = asm::diag::LineIndex::new(&src);
                    ds.iter()
                        .map(|d| {
                            let (l, c) = idx.line_col(d.span.start);
                            format!("{}:{l}:{c}: {}", p.display(), d.message)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })?;
                let prog_type = file
                    .prog_type
                    .as_deref()
                    .ok_or("an `asm` file needs `type` (xdp, socket_filter, ...)")?
                    .parse::<ProgType>()?;
                let mut maps = Vec::new();
                for m in &file.map_defs {
                    let t = m.map_type.parse::<MapType>()?;
                    maps.push(
                        MapSpec::new(t, m.key_size, m.value_size, m.max_entries)
                            .named(&m.name)
                            .with_flags(m.flags),
                    );
                }
                Source::Asm {
                    insns: assembled.insns,
                    prog_type,
                    maps,
                }
            }
            _ => return Err("give exactly one of `object` or `asm`".into()),
        };
        Ok(Suite {
            path: path.to_path_buf(),
            dir,
            file,
            source,
        })
    }

    /// The case's packet (`packet` or `packet_file`), if it has one.
    pub fn packet(&self, case: &Case) -> Result<Option<Vec<u8>>, String> {
        match (&case.packet, &case.packet_file) {
            (Some(h), None) => Ok(Some(parse_hex(h).map_err(|e| format!("packet: {e}"))?)),
            (None, Some(f)) => {
                let p = self.dir.join(f);
                Ok(Some(read_limited(&p).map_err(|e| {
                    format!("packet_file {}: {e}", p.display())
                })?))
            }
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err("give `packet` or `packet_file`, not both".into()),
        }
    }

    /// The object and the index of the program a case runs; `None` for an assembled file.
    pub fn object_program(&self, case: &Case) -> Result<Option<(&Object, usize)>, String> {
        let Source::Object(obj) = &self.source else {
            return Ok(None);
        };
        let progs = convert::object_programs(obj);
        let i = match case.program.as_ref().or(self.file.program.as_ref()) {
            Some(sel) => convert::object_program_named(obj, sel).ok_or_else(|| {
                format!(
                    "no program named `{sel}` (programs: {})",
                    progs
                        .iter()
                        .map(|(n, s, _)| format!("{n} in `{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
            None if progs.is_empty() => {
                return Err("the object has no programs".into());
            }
            None => 0,
        };
        Ok(Some((obj, i)))
    }

    /// The program a case runs, with its maps and globals, as one [`Program`] (for engines
    /// other than the VM's test bench).
    pub fn program(&self, case: &Case) -> Result<Program, String> {
        match &self.source {
            Source::Object(_) => {
                let (obj, i) = self
                    .object_program(case)?
                    .ok_or("the test file's object has no program to run")?;
                convert::object_program(obj, i, None)
            }
            Source::Asm {
                insns,
                prog_type,
                maps,
            } => Ok(Program {
                insns: insns.clone(),
                prog_type: Some(*prog_type),
                maps: maps.iter().cloned().map(obj::Map::from).collect(),
                globals: Vec::new(),
            }),
        }
    }
}
