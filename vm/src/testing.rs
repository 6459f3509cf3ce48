//! Unit-testing BPF programs without root: open a clang-built object (or assemble text
//! inline), pick a program, set maps by name with typed keys and values, run it with a
//! packet or a context, and inspect what it did.
//!
//! ```
//! use vm::testing::Test;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/xdp_count.bpf.o");
//! let mut t = Test::open(path).unwrap();
//! t.select("count_proto").unwrap();
//! // Pretend 10 TCP packets were seen before.
//! t.map::<u32, u64>("counts").unwrap().set(&6, &10).unwrap();
//!
//! // An Ethernet + IPv4 header whose protocol byte (offset 23) is 6: TCP.
//! let mut packet = vec![0u8; 34];
//! packet[12..14].copy_from_slice(&[0x08, 0x00]);
//! packet[23] = 6;
//! let run = t.run_packet(&packet).unwrap();
//! assert_eq!(run.ret, 2);
//! assert_eq!(run.meaning.as_deref(), Some("XDP_PASS"));
//! assert_eq!(t.map::<u32, u64>("counts").unwrap().get(&6).unwrap(), Some(11));
//! assert!(run.insns > 10);
//! ```
//!
//! Assembly works the same way, so a test can be written inline; maps are declared with
//! the program and referenced by index (`r1 = map_idx(0) ll`, or `lddw map_idx %r1, 0` in
//! the ubpf dialect):
//!
//! ```
//! use asm::types::{MapType, ProgType};
//! use asm::Dialect;
//! use asm::types::MapSpec;
//! use vm::testing::Test;
//!
//! let src = "
//!     *(u32 *)(r10 - 4) = 0
//!     r1 = map_idx(0) ll
//!     r2 = r10
//!     r2 += -4
//!     call bpf_map_lookup_elem
//!     if r0 == 0 goto out
//!     r1 = *(u64 *)(r0 + 0)
//!     r0 = 1
//!     if r1 > 2 goto out
//!     r0 = 2
//! out:
//!     exit
//! ";
//! let maps = [obj::Map::declared(MapSpec::new(MapType::Array, 4, 8, 1).named("limit"))];
//! let mut t = Test::asm(src, Dialect::Llvm, ProgType::Xdp, &maps).unwrap();
//! assert_eq!(t.run_packet(&[0; 14]).unwrap().meaning.as_deref(), Some("XDP_PASS"));
//! t.map::<u32, u64>("limit").unwrap().set(&0, &3).unwrap();
//! assert_eq!(t.run().unwrap().meaning.as_deref(), Some("XDP_DROP"));
//! ```

use crate::{Env, LoadError, MapError, ProgId, Vm, VmError};
use asm::insn::Insn;
use asm::types::{MapType, ProgType};
use asm::{Diagnostic, Dialect};
use obj::{Global, Map as ObjMap, Object, ObjectError};
use std::marker::PhantomData;
use std::path::Path;

/// Why a test could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The object file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The object cannot be loaded.
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// The assembly text has errors (rendered by the caller, with their spans).
    #[error("the assembly text has {} error(s); first: {}", .0.len(), .0.first().map(|d| d.message.as_str()).unwrap_or(""))]
    Asm(Vec<Diagnostic>),
    /// No program has this name or section.
    #[error("no program named `{name}` (programs: {known})")]
    NoProgram {
        /// What was asked for.
        name: String,
        /// The programs there are, with their sections.
        known: String,
    },
    /// The object has no program at all.
    #[error("the object has no programs (functions in `.text` are only subprograms: put a program in a section such as SEC(\"xdp\"))")]
    NoPrograms,
    /// The program was not loaded into the VM (its type or an instruction is unsupported).
    #[error("program `{program}` cannot run: {why}")]
    NotRunnable {
        /// The program.
        program: String,
        /// Why it was not loaded.
        why: String,
    },
    /// The program's type has no context in the VM.
    #[error("program `{program}` has type {prog_type}, which the VM cannot run (it runs {list} programs)", list = crate::SUPPORTED_PROG_TYPES.map(|t| t.name()).join(", "))]
    UnsupportedProgType {
        /// The program.
        program: String,
        /// Its type.
        prog_type: ProgType,
    },
    /// The VM refused the program's instructions.
    #[error("program `{program}`: {source}")]
    Load {
        /// The program.
        program: String,
        /// Why.
        source: LoadError,
    },
    /// The map's type is not one the VM implements.
    #[error("map `{map}` has type {map_type}, which the VM does not implement")]
    UnsupportedMapType {
        /// The map.
        map: String,
        /// Its type.
        map_type: MapType,
    },
    /// No map has this name.
    #[error("no map named `{name}` (maps: {known})")]
    NoMap {
        /// What was asked for.
        name: String,
        /// The maps there are.
        known: String,
    },
    /// A map operation failed.
    #[error("map `{map}`: {source}")]
    Map {
        /// The map.
        map: String,
        /// The kernel-style error.
        source: MapError,
    },
    /// A typed key or value does not have the map's size.
    #[error("map `{map}`: the {what} type is {got} bytes but the map's {what}_size is {expected}")]
    Size {
        /// The map.
        map: String,
        /// `key` or `value`.
        what: &'static str,
        /// The map's size.
        expected: u32,
        /// The Rust type's size.
        got: usize,
    },
    /// No global variable has this name.
    #[error("no global variable named `{name}` (globals: {known})")]
    NoGlobal {
        /// What was asked for.
        name: String,
        /// The globals there are.
        known: String,
    },
    /// The run ended with an error.
    #[error("program `{program}`, {source}")]
    Run {
        /// The program.
        program: String,
        /// What went wrong, at which instruction.
        source: VmError,
    },
}

/// A fixed-layout value that can be a map key or value: integers, byte arrays, arrays of
/// such values, and `Vec<u8>` (any size). Implement it for your own `#[repr(C)]` structs by
/// writing their fields in order, little-endian.
pub trait Pod: Sized {
    /// The size in bytes, if fixed (`None` for `Vec<u8>`).
    const SIZE: Option<usize>;
    /// The bytes, little-endian.
    fn to_bytes(&self) -> Vec<u8>;
    /// From bytes of the right size.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

macro_rules! pod_int {
    ($($t:ty),*) => {$(
        impl Pod for $t {
            const SIZE: Option<usize> = Some(std::mem::size_of::<$t>());
            fn to_bytes(&self) -> Vec<u8> { self.to_le_bytes().to_vec() }
            fn from_bytes(bytes: &[u8]) -> Option<Self> { Some(<$t>::from_le_bytes(bytes.try_into().ok()?)) }
        }
    )*};
}
pod_int!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<T: Pod, const N: usize> Pod for [T; N] {
    const SIZE: Option<usize> = match T::SIZE {
        Some(s) => Some(s * N),
        None => None,
    };
    fn to_bytes(&self) -> Vec<u8> {
        self.iter().flat_map(Pod::to_bytes).collect()
    }
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let each = T::SIZE?;
        if bytes.len() != each * N {
            return None;
        }
        let items: Vec<T> = bytes
            .chunks(each)
            .map(T::from_bytes)
            .collect::<Option<_>>()?;
        items.try_into().ok()
    }
}

impl Pod for Vec<u8> {
    const SIZE: Option<usize> = None;
    fn to_bytes(&self) -> Vec<u8> {
        self.clone()
    }
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

/// One loaded program.
#[derive(Debug)]
struct Prog {
    name: String,
    section: String,
    /// `None`: the section names no type ([`obj::Program::type_or`]).
    prog_type: Option<ProgType>,
    /// The VM's id, or why the program cannot run.
    id: Result<ProgId, String>,
}

/// One record a program wrote to a ring buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The ring buffer map's name.
    pub map: String,
    /// The record's bytes.
    pub data: Vec<u8>,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The return value (r0).
    pub ret: u64,
    /// What the return value means for the program's type (`XDP_PASS`, `drop the packet`...).
    pub meaning: Option<String>,
    /// The packet as the program left it.
    pub packet: Vec<u8>,
    /// The context as the program left it.
    pub ctx: Vec<u8>,
    /// `bpf_trace_printk` messages of this run.
    pub trace: Vec<String>,
    /// Ring buffer records committed during this run, oldest first.
    pub records: Vec<Record>,
    /// Instructions executed.
    pub insns: u64,
    /// Packets sent elsewhere: `bpf_clone_redirect` copies in order, then the redirect the
    /// program set up last (`bpf_redirect*`), which the kernel follows on a redirect
    /// verdict.
    pub redirects: Vec<crate::Redirect>,
}

/// A test bench: a VM holding an object's maps and programs, one of them selected.
#[derive(Debug)]
pub struct Test {
    vm: Vm,
    maps: Vec<ObjMap>,
    progs: Vec<Prog>,
    globals: Vec<Global>,
    current: usize,
}

/// Whether the VM has a context for a program type ([`crate::SUPPORTED_PROG_TYPES`]).
fn supported(t: ProgType) -> bool {
    crate::SUPPORTED_PROG_TYPES.contains(&t)
}

impl Test {
    /// Opens an object file and loads all its programs; the first is selected.
    pub fn open(path: impl AsRef<Path>) -> Result<Test, TestError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| TestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Test::from_object(&Object::parse(&bytes)?)
    }

    /// Loads a parsed object.
    pub fn from_object(obj: &Object) -> Result<Test, TestError> {
        Test::from_object_env(obj, Env::default())
    }

    /// Loads a parsed object into a VM with this environment. Per-CPU maps get
    /// [`Env::ncpus`] copies, so the number of CPUs is set here, before the maps exist.
    pub fn from_object_env(obj: &Object, env: Env) -> Result<Test, TestError> {
        let mut t = Test::with_maps(&obj.maps, env)?;
        t.globals = obj.globals.clone();
        for p in &obj.programs {
            let ready = p.loadable().and_then(|()| p.type_or(None));
            t.add_program(&p.name, &p.section, ready, &p.insns);
        }
        t.fill_slots()?;
        Ok(t)
    }

    /// Assembles `src` as one program of type `prog_type`, with `maps` created first (in
    /// order: `lddw map_idx` index 0 is the first).
    pub fn asm(
        src: &str,
        dialect: Dialect,
        prog_type: ProgType,
        maps: &[ObjMap],
    ) -> Result<Test, TestError> {
        let a = asm::text::assemble(src, dialect).map_err(TestError::Asm)?;
        Test::from_insns(&a.insns, prog_type, maps)
    }

    /// One program from instructions, with `maps` created first.
    pub fn from_insns(
        insns: &[Insn],
        prog_type: ProgType,
        maps: &[ObjMap],
    ) -> Result<Test, TestError> {
        Test::from_insns_env(insns, prog_type, maps, Env::default())
    }

    /// One program from instructions, with `maps` created first, in a VM with this
    /// environment (see [`Test::from_object_env`]).
    pub fn from_insns_env(
        insns: &[Insn],
        prog_type: ProgType,
        maps: &[ObjMap],
        env: Env,
    ) -> Result<Test, TestError> {
        let mut t = Test::with_maps(maps, env)?;
        // Instructions from text reference maps by fd or index themselves: load them as-is.
        let name = "prog".to_string();
        if !supported(prog_type) {
            return Err(TestError::UnsupportedProgType {
                program: name,
                prog_type,
            });
        }
        let id =
            t.vm.load_insns(insns, prog_type)
                .map_err(|e| TestError::Load {
                    program: name.clone(),
                    source: e,
                })?;
        t.progs.push(Prog {
            name,
            section: prog_type.name().to_string(),
            prog_type: Some(prog_type),
            id: Ok(id),
        });
        Ok(t)
    }

    fn with_maps(maps: &[ObjMap], env: Env) -> Result<Test, TestError> {
        let mut vm = Vm::new();
        *vm.env_mut() = env;
        let mut t = Test {
            vm,
            maps: maps.to_vec(),
            progs: Vec::new(),
            globals: Vec::new(),
            current: 0,
        };
        for m in maps {
            let declared = m.source == obj::MapSource::Declared;
            if declared && !crate::SUPPORTED_MAP_TYPES.contains(&m.spec.map_type) {
                return Err(TestError::UnsupportedMapType {
                    map: m.spec.name.clone(),
                    map_type: m.spec.map_type,
                });
            }
            // An object's maps the VM lacks are placeholders (Vm::create_object_map); the
            // data of global data maps is stored by clear_maps.
            let data_less = obj::Map {
                data: None,
                ..m.clone()
            };
            t.vm.create_object_map(&data_less)
                .map_err(|source| TestError::Map {
                    map: m.spec.name.clone(),
                    source,
                })?;
        }
        t.clear_maps()?;
        Ok(t)
    }

    /// Adds a program as type `ready`, or as not runnable for the reason given.
    fn add_program(
        &mut self,
        name: &str,
        section: &str,
        ready: Result<ProgType, String>,
        insns: &[Insn],
    ) {
        // The loader numbers maps by index, as the VM does.
        let insns: Vec<Insn> = insns.iter().copied().map(obj::map_ref_by_index).collect();
        let prog_type = ready.as_ref().ok().copied();
        let id = match ready {
            Ok(t) if supported(t) => self.vm.load_insns(&insns, Some(t)).map_err(|e| {
                TestError::Load {
                    program: name.to_string(),
                    source: e,
                }
                .to_string()
            }),
            Ok(t) => Err(TestError::UnsupportedProgType {
                program: name.to_string(),
                prog_type: t,
            }
            .to_string()),
            Err(why) => Err(why),
        };
        self.progs.push(Prog {
            name: name.to_string(),
            section: section.to_string(),
            prog_type,
            id,
        });
    }

    /// Empties every map and puts global data and program array initialisers back to
    /// their initial contents, as a fresh load would.
    pub fn reset_maps(&mut self) -> Result<(), TestError> {
        self.clear_maps()?;
        self.fill_slots()
    }

    fn clear_maps(&mut self) -> Result<(), TestError> {
        for (i, m) in self.maps.iter().enumerate() {
            let map = self.vm.map_mut(i as u32).ok_or_else(|| TestError::NoMap {
                name: m.spec.name.clone(),
                known: String::new(),
            })?;
            let err = |source| TestError::Map {
                map: m.spec.name.clone(),
                source,
            };
            match m.spec.map_type {
                MapType::Ringbuf => {
                    map.take_records();
                }
                MapType::ProgArray => {
                    for k in 0..m.spec.max_entries {
                        map.set_prog(k, None).map_err(err)?;
                    }
                }
                MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash => {
                    for k in map.keys() {
                        map.delete(&k).map_err(err)?;
                    }
                }
                MapType::Array | MapType::PercpuArray => {
                    let zero = vec![0u8; m.spec.value_size as usize];
                    for k in 0..m.spec.max_entries {
                        map.update(&k.to_le_bytes(), &zero, crate::BPF_ANY)
                            .map_err(err)?;
                    }
                }
                MapType::Queue | MapType::Stack => while map.pop(true).is_ok() {},
                _ => map.clear(),
            }
            if let Some(data) = &m.data {
                map.update(&0u32.to_le_bytes(), data, crate::BPF_ANY)
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    /// Puts the programs of `.values` initialisers into their program arrays.
    fn fill_slots(&mut self) -> Result<(), TestError> {
        // Maps of maps name maps, program arrays programs.
        self.vm.fill_inner_maps(&self.maps);
        let slots: Vec<(String, u32, String)> = self
            .maps
            .iter()
            .filter(|m| m.spec.map_type == MapType::ProgArray)
            .flat_map(|m| {
                m.slots
                    .iter()
                    .map(|(i, p)| (m.spec.name.clone(), *i, p.clone()))
            })
            .collect();
        for (map, index, prog) in slots {
            self.set_tail_call(&map, index, &prog)?;
        }
        Ok(())
    }

    /// Selects a program by function name, or else the first one of a section.
    pub fn select(&mut self, name_or_section: &str) -> Result<(), TestError> {
        let i = self
            .progs
            .iter()
            .position(|p| p.name == name_or_section)
            .or_else(|| self.progs.iter().position(|p| p.section == name_or_section))
            .ok_or_else(|| TestError::NoProgram {
                name: name_or_section.to_string(),
                known: self.program_list(),
            })?;
        self.current = i;
        Ok(())
    }

    fn program_list(&self) -> String {
        if self.progs.is_empty() {
            return "none".into();
        }
        self.progs
            .iter()
            .map(|p| format!("{} in `{}`", p.name, p.section))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The selected program's name.
    pub fn program_name(&self) -> &str {
        self.progs.get(self.current).map_or("", |p| p.name.as_str())
    }

    /// The selected program's type.
    pub fn prog_type(&self) -> Option<ProgType> {
        self.progs.get(self.current).and_then(|p| p.prog_type)
    }

    /// Names of all programs, in object order.
    pub fn programs(&self) -> Vec<&str> {
        self.progs.iter().map(|p| p.name.as_str()).collect()
    }

    /// The map definitions, in index order.
    pub fn maps(&self) -> &[ObjMap] {
        &self.maps
    }

    fn map_index(&self, name: &str) -> Result<usize, TestError> {
        self.maps
            .iter()
            .position(|m| m.spec.name == name)
            .ok_or_else(|| TestError::NoMap {
                name: name.to_string(),
                known: if self.maps.is_empty() {
                    "none".into()
                } else {
                    self.maps
                        .iter()
                        .map(|m| m.spec.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    }

    /// A map by name, with typed keys and values. The types' sizes must be the map's.
    pub fn map<K: Pod, V: Pod>(&mut self, name: &str) -> Result<MapRef<'_, K, V>, TestError> {
        let index = self.map_index(name)?;
        let def = &self.maps[index];
        let check = |what, expected: u32, got: Option<usize>| match got {
            Some(g) if g != expected as usize => Err(TestError::Size {
                map: def.spec.name.clone(),
                what,
                expected,
                got: g,
            }),
            _ => Ok(()),
        };
        check("key", def.spec.key_size, K::SIZE)?;
        if def.spec.map_type != MapType::ProgArray {
            check("value", def.spec.value_size, V::SIZE)?;
        }
        Ok(MapRef {
            test: self,
            index,
            _types: PhantomData,
        })
    }

    /// Puts program `program` (by name) at `index` of the program array `map`, for
    /// `bpf_tail_call`.
    pub fn set_tail_call(&mut self, map: &str, index: u32, program: &str) -> Result<(), TestError> {
        let mi = self.map_index(map)?;
        let p = self
            .progs
            .iter()
            .find(|p| p.name == program)
            .ok_or_else(|| TestError::NoProgram {
                name: program.to_string(),
                known: self.program_list(),
            })?;
        let id = p.id.clone().map_err(|why| TestError::NotRunnable {
            program: program.to_string(),
            why,
        })?;
        let name = self.maps[mi].spec.name.clone();
        self.vm
            .map_mut(mi as u32)
            .expect("every map was created")
            .set_prog(index, Some(id.0))
            .map_err(|source| TestError::Map { map: name, source })
    }

    fn global_def(&self, name: &str) -> Result<Global, TestError> {
        self.globals
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .ok_or_else(|| TestError::NoGlobal {
                name: name.to_string(),
                known: if self.globals.is_empty() {
                    "none".into()
                } else {
                    self.globals
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    }

    /// The bytes of a global variable, as the program sees it now.
    pub fn global_bytes(&self, name: &str) -> Result<Vec<u8>, TestError> {
        let g = self.global_def(name)?;
        let map = &self.maps[g.map];
        let value = self
            .vm
            .map(g.map as u32)
            .expect("every map was created")
            .lookup(&0u32.to_le_bytes())
            .map_err(|source| TestError::Map {
                map: map.spec.name.clone(),
                source,
            })?
            .unwrap_or_default();
        let (start, end) = (g.offset as usize, (g.offset + g.size) as usize);
        Ok(value.get(start..end).unwrap_or_default().to_vec())
    }

    /// A global variable, typed.
    pub fn global<V: Pod>(&self, name: &str) -> Result<V, TestError> {
        let g = self.global_def(name)?;
        let bytes = self.global_bytes(name)?;
        V::from_bytes(&bytes).ok_or_else(|| TestError::Size {
            map: self.maps[g.map].spec.name.clone(),
            what: "value",
            expected: g.size,
            got: V::SIZE.unwrap_or(bytes.len()),
        })
    }

    /// Sets a global variable (also a `const volatile` one in `.rodata`, as a libbpf
    /// skeleton does before loading).
    pub fn set_global<V: Pod>(&mut self, name: &str, value: &V) -> Result<(), TestError> {
        let g = self.global_def(name)?;
        let new = value.to_bytes();
        let map_name = self.maps[g.map].spec.name.clone();
        if new.len() != g.size as usize {
            return Err(TestError::Size {
                map: map_name,
                what: "value",
                expected: g.size,
                got: new.len(),
            });
        }
        let map = self
            .vm
            .map_mut(g.map as u32)
            .expect("every map was created");
        let err = |source| TestError::Map {
            map: map_name.clone(),
            source,
        };
        let mut whole = map
            .lookup(&0u32.to_le_bytes())
            .map_err(err)?
            .unwrap_or_default();
        let Some(slot) = whole.get_mut(g.offset as usize..(g.offset + g.size) as usize) else {
            return Err(TestError::Size {
                map: map_name,
                what: "value",
                expected: g.offset + g.size,
                got: whole.len(),
            });
        };
        slot.copy_from_slice(&new);
        map.update(&0u32.to_le_bytes(), &whole, crate::BPF_ANY)
            .map_err(err)
    }

    /// The VM holding the maps (numbered 0, 1, ... in [`Test::maps`] order)
    /// and the programs, for what this API does not cover (tracing, timing).
    pub fn vm_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }

    /// The VM's id of the selected program, or why it cannot run.
    pub fn prog_id(&self) -> Result<ProgId, TestError> {
        let p = self.progs.get(self.current).ok_or(TestError::NoPrograms)?;
        p.id.clone().map_err(|why| TestError::NotRunnable {
            program: p.name.clone(),
            why,
        })
    }

    /// The environment: current task, CPU, clock, `__sk_buff` and `xdp_md` fields.
    pub fn env_mut(&mut self) -> &mut Env {
        self.vm.env_mut()
    }

    /// Sets the packet for socket filter, tc and XDP programs.
    pub fn set_packet(&mut self, packet: &[u8]) {
        self.vm.set_packet(packet.to_vec());
    }

    /// Sets the context bytes for kprobe (`struct pt_regs`), tracepoint, raw tracepoint and
    /// syscall programs.
    pub fn set_ctx(&mut self, ctx: &[u8]) {
        self.vm.set_ctx(ctx.to_vec());
    }

    /// Sets the instruction budget of a run.
    pub fn set_budget(&mut self, budget: u64) {
        self.vm.set_budget(budget);
    }

    /// Runs the selected program with `packet`.
    pub fn run_packet(&mut self, packet: &[u8]) -> Result<Run, TestError> {
        self.set_packet(packet);
        self.run()
    }

    /// Runs the selected program with `ctx` as its context.
    pub fn run_ctx(&mut self, ctx: &[u8]) -> Result<Run, TestError> {
        self.set_ctx(ctx);
        self.run()
    }

    /// Advances the VM clock by `ns`, running the callbacks of BPF timers that expire
    /// ([`Vm::advance_clock`]); returns the `bpf_trace_printk` messages they wrote. Their
    /// other effects are in the maps and globals.
    pub fn advance_clock(&mut self, ns: u64) -> Result<Vec<String>, TestError> {
        let program = self
            .progs
            .get(self.current)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        self.vm.take_trace_lines();
        let res = self.vm.advance_clock(ns);
        let trace = self
            .vm
            .take_trace_lines()
            .into_iter()
            .map(|l| l.message)
            .collect();
        res.map_err(|source| TestError::Run { program, source })?;
        Ok(trace)
    }

    /// Runs the selected program with the packet and context set before.
    pub fn run(&mut self) -> Result<Run, TestError> {
        let p = self.progs.get(self.current).ok_or(TestError::NoPrograms)?;
        let program = p.name.clone();
        let id = p.id.clone().map_err(|why| TestError::NotRunnable {
            program: program.clone(),
            why,
        })?;
        let prog_type = p.prog_type;
        self.vm.take_trace_lines();
        let result = self.vm.run(id);
        let trace = self
            .vm
            .take_trace_lines()
            .into_iter()
            .map(|l| l.message)
            .collect();
        let mut records = Vec::new();
        for (i, m) in self.maps.iter().enumerate() {
            if matches!(m.spec.map_type, MapType::Ringbuf | MapType::PerfEventArray) {
                let map = self.vm.map_mut(i as u32).expect("every map was created");
                records.extend(map.take_records().into_iter().map(|data| Record {
                    map: m.spec.name.clone(),
                    data,
                }));
            }
        }
        let out = result.map_err(|source| TestError::Run { program, source })?;
        Ok(Run {
            ret: out.r0,
            meaning: prog_type.and_then(|t| t.r0_meaning(out.r0)),
            packet: self.vm.packet().to_vec(),
            ctx: self.vm.ctx().to_vec(),
            trace,
            records,
            insns: out.insns,
            redirects: {
                let m = self.vm.machine();
                let mut r = m.clones().to_vec();
                r.extend(m.redirect().cloned());
                r
            },
        })
    }
}

/// A map of a [`Test`], with typed keys and values.
#[derive(Debug)]
pub struct MapRef<'a, K, V> {
    test: &'a mut Test,
    index: usize,
    _types: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod> MapRef<'_, K, V> {
    fn map(&self) -> &crate::Map {
        self.test
            .vm
            .map(self.index as u32)
            .expect("every map was created")
    }

    fn err(&self, source: MapError) -> TestError {
        TestError::Map {
            map: self.test.maps[self.index].spec.name.clone(),
            source,
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<V, TestError> {
        V::from_bytes(bytes).ok_or_else(|| TestError::Size {
            map: self.test.maps[self.index].spec.name.clone(),
            what: "value",
            expected: bytes.len() as u32,
            got: V::SIZE.unwrap_or(0),
        })
    }

    /// The value for `key` (for per-CPU maps: on the CPU [`Env::cpu`] names).
    pub fn get(&self, key: &K) -> Result<Option<V>, TestError> {
        let cpu = self.test.vm.env().cpu as usize;
        match self.map().lookup_cpu(&key.to_bytes(), cpu) {
            Ok(Some(v)) => self.decode(&v).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every CPU's value for `key` (per-CPU maps; one value for the others).
    pub fn get_all_cpus(&self, key: &K) -> Result<Option<Vec<V>>, TestError> {
        let percpu = matches!(
            self.test.maps[self.index].spec.map_type,
            MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash
        );
        if !percpu {
            return Ok(self.get(key)?.map(|v| vec![v]));
        }
        let mut out = Vec::new();
        for cpu in 0..self.test.vm.env().ncpus as usize {
            match self.map().lookup_cpu(&key.to_bytes(), cpu) {
                Ok(Some(v)) => out.push(self.decode(&v)?),
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(Some(out))
    }

    /// Creates or replaces the value for `key` (per-CPU maps: on every CPU).
    pub fn set(&mut self, key: &K, value: &V) -> Result<(), TestError> {
        let i = self.index;
        let r = self
            .test
            .vm
            .map_mut(i as u32)
            .expect("every map was created")
            .update(&key.to_bytes(), &value.to_bytes(), crate::BPF_ANY);
        r.map_err(|e| self.err(e))
    }

    /// Deletes `key`; `Ok(false)` when it was not there.
    pub fn remove(&mut self, key: &K) -> Result<bool, TestError> {
        let i = self.index;
        let r = self
            .test
            .vm
            .map_mut(i as u32)
            .expect("every map was created")
            .delete(&key.to_bytes());
        match r {
            Ok(()) => Ok(true),
            Err(MapError::NotFound) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every entry (for per-CPU maps: the values on [`Env::cpu`]), in the map's order.
    pub fn entries(&self) -> Result<Vec<(K, V)>, TestError> {
        let mut out = Vec::new();
        for k in self.map().keys() {
            let key = K::from_bytes(&k).ok_or_else(|| TestError::Size {
                map: self.test.maps[self.index].spec.name.clone(),
                what: "key",
                expected: k.len() as u32,
                got: K::SIZE.unwrap_or(0),
            })?;
            if let Some(v) = self.get(&key)? {
                out.push((key, v));
            }
        }
        Ok(out)
    }
}
