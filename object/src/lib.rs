//! BPF ELF objects as clang writes them (`clang -O2 -g -target bpf -c prog.c`), read the
//! way libbpf reads them, as data: program sections and their types, maps (BTF-defined
//! `.maps`, legacy `maps`, and global data sections as one-entry arrays), and relocations
//! for map references and bpf-to-bpf calls. What `aya-obj` is to `aya`, this crate is to
//! bpfx: the VM (`vm`), the kernel backend (`kernel`) and the `bpfx` CLI all take an
//! [`Object`] from here and do the running themselves.
//!
//! # README
//!
//! * [`Object::parse`] reads an object from its bytes; it fails with an [`ObjectError`]
//!   naming the section, symbol or map at fault.
//! * [`Object::programs`] are ready to load: every global function of every executable
//!   section (of `.text` too when it is the only code). Each [`Program`] carries its type,
//!   expected attach type and sleepable flag from libbpf's `section_defs`
//!   ([`asm::types::section_def`]) — `None` for names libbpf does not know (`xdp1`,
//!   iproute2's `2/1`), which a loader must be told ([`Program::type_or`]) — and its
//!   instructions linked with the `.text` functions it calls, appended after it with the
//!   call offsets fixed, as libbpf's `bpf_object__relocate` does before `BPF_PROG_LOAD`.
//!   A program calling an undefined function, or using an extern, says so in
//!   [`Program::loadable`]; the object's other programs are not affected.
//! * `EM_BPF` and `EM_NONE` objects are read, as libbpf reads them.
//! * Map references are `lddw` instructions with [`Pseudo::MapFd`](asm::isa::Pseudo::MapFd)
//!   (`src = 1`) and `imm` = an index into [`Object::maps`], or
//!   [`Pseudo::MapValue`](asm::isa::Pseudo::MapValue) (`src = 2`) with
//!   `imm = (offset << 32) | map index`. A loader creates the maps in order and turns the
//!   index into whatever it names maps by (the kernel: an fd; a loader that takes indexes,
//!   like the VM: [`map_ref_by_index`] makes them `map_idx` / `map_idx_value`).
//! * Each [`Map`] is an [`asm::types::MapSpec`] (the one map definition of every bpfx
//!   crate) plus what the object says about its contents: the initial value of a global
//!   data section, the initial slots of a program array, and where it came from. Spin lock
//!   and timer offsets of a BTF-defined map's value are filled in
//!   ([`asm::types::ValueFields`]). Legacy `maps` definitions of any size from iproute2's
//!   16-byte minimum to its 36-byte `struct bpf_elf_map`; pinning is read and reported
//!   ([`Pinning`]), not applied; a `perf_event_array` without `max_entries` is created
//!   with one per CPU ([`Map::spec_for`]).
//! * [`Object::sections`] keep the code as it is in the file, with symbols and
//!   relocations, for listings (`bpfx disasm prog.o`); [`Object::globals`] locate global
//!   variables in their data maps.
//!
//! * `.BTF.ext` is read into each program's [`Program::ext`] (function info, line info,
//!   CO-RE relocations); [`Object::relocate_core`] applies the CO-RE relocations against
//!   a target BTF ([`core`]), as libbpf does before loading.
//!
//! Externs (`__ksym`, `__kconfig`) are recorded in [`Object::externs`];
//! [`Object::resolve_kconfig`] gives `__kconfig` ones their values from a
//! [`externs::KernelConfig`] (a `.kconfig` map, as libbpf makes it), and
//! [`Object::resolve_ksyms`] resolves `__ksym` variables and kfunc calls against a kernel's
//! BTF and symbol table. [`Object::btf_for_load`] is the object's BTF with libbpf's
//! load-time fix-ups, for `BPF_BTF_LOAD`; [`Program::source_line`] names the C line of an
//! instruction from its line info.
//! Not supported: maps of maps with initialisers, big-endian objects.
//!
//! ```
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/xdp_count.bpf.o")).unwrap();
//! let obj = obj::Object::parse(&bytes).unwrap();
//! let prog = obj.program("count_proto").unwrap();
//! assert_eq!(prog.prog_type, Some(asm::types::ProgType::Xdp));
//! assert_eq!(prog.expected_attach_type, Some(asm::types::AttachType::Xdp));
//! assert_eq!(obj.maps[0].spec.name, "counts");
//! assert_eq!((obj.maps[0].spec.key_size, obj.maps[0].spec.value_size), (4, 8));
//! assert_eq!(obj.license.as_deref(), Some("GPL"));
//! ```

#![deny(missing_docs)]

mod btf;
pub mod btf_ext;
pub mod core;
mod elf;
pub mod externs;
mod kernel_btf;
mod legacy;
mod link;
pub mod source;

pub use btf::BtfError;

use asm::insn::{DecodeError, Insn};
use asm::isa::Pseudo;
use asm::types::{AttachType, MapSpec, ProgType};

/// `BPF_F_RDONLY_PROG`: libbpf gives `.rodata` maps this flag, so programs cannot write them.
pub const F_RDONLY_PROG: u32 = 1 << 7;
/// The largest global data section accepted (64 MiB).
pub const MAX_DATA_SECTION: u64 = 64 << 20;

/// A loaded object: programs ready to run and the maps they reference by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// Programs, in section order, then symbol order within a section.
    pub programs: Vec<Program>,
    /// Maps; `lddw` map references carry an index into this list.
    pub maps: Vec<Map>,
    /// The `license` section's string, if there is one.
    pub license: Option<String>,
    /// Every code section as it is in the file (before linking), for listings.
    pub sections: Vec<CodeSection>,
    /// Global variables: where each lives in a global data map.
    pub globals: Vec<Global>,
    /// Extern symbols (`__ksym`, `__kconfig`), as the object declares them; resolving
    /// them is [`Object::resolve_kconfig`] and [`Object::resolve_ksyms`].
    pub externs: Vec<Extern>,
    /// The object's `.BTF` as the kernel is to be given it (`BPF_BTF_LOAD`), after the
    /// fix-ups libbpf makes before loading (DATASEC sizes and offsets from the ELF
    /// symbols, extern sections made loadable, hidden functions static): `None` without `.BTF`,
    /// an error when the fix-ups cannot be made (libbpf refuses to open such an object;
    /// a loader may load without BTF).
    pub btf_for_load: Option<Result<Vec<u8>, String>>,
}

/// A global variable of a data section (`.data`, `.bss`, `.rodata` ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// Variable name.
    pub name: String,
    /// Index of its section's map in [`Object::maps`].
    pub map: usize,
    /// Byte offset in the map's value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// One program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Function name.
    pub name: String,
    /// Section name (`xdp`, `kprobe/do_sys_openat2` ...).
    pub section: String,
    /// Type from the section name, as libbpf's `section_defs` give it; `None` for a
    /// section name libbpf does not know (`socket1`, `xdp_prog`, iproute2's `2/1`, `.text`
    /// of an object with no other code): the loader must be told the type
    /// ([`Program::type_or`]).
    pub prog_type: Option<ProgType>,
    /// libbpf's `SEC_SLEEPABLE` sections (`fentry.s/`, `lsm.s/`, `uprobe.s`, `syscall` ...):
    /// loaded with `BPF_F_SLEEPABLE`.
    pub sleepable: bool,
    /// The `expected_attach_type` libbpf loads it with, from the section name (`None`:
    /// 0, none needed).
    pub expected_attach_type: Option<AttachType>,
    /// Attach point: what follows the first `/` of the section name.
    pub attach: Option<String>,
    /// Linked instructions: the program, then the `.text` functions it calls.
    pub insns: Vec<Insn>,
    /// Functions appended after the program, with their slot index in `insns`.
    pub subprograms: Vec<(String, usize)>,
    /// Function info, line info and CO-RE relocations from `.BTF.ext`, in `insns`' slots.
    pub ext: btf_ext::ProgramExt,
    /// Undefined functions it calls that are neither BPF functions nor `__ksym` kfuncs
    /// (e.g. `memset` that clang did not inline): the call is left unresolved and the
    /// program cannot be loaded ([`Program::loadable`]).
    pub undefined_calls: Vec<String>,
    /// Names of the object's [`Extern`]s it refers to and that are not resolved yet
    /// ([`Object::resolve_kconfig`], [`Object::resolve_ksyms`] resolve them).
    pub externs: Vec<String>,
    /// Each instruction (index in `insns`) that refers to an extern, with its name; kept
    /// after resolution.
    pub extern_refs: Vec<(usize, String)>,
    /// For a `struct_ops` program: the struct it implements a member of and the member,
    /// from the `.struct_ops` variable whose member points at it (libbpf's
    /// `bpf_object__collect_st_ops_relos`). The kernel takes the struct's id in its BTF as
    /// `attach_btf_id` and the member's index there as `expected_attach_type`.
    pub struct_ops: Option<StructOpsMember>,
}

/// Where a `struct_ops` program is plugged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructOpsMember {
    /// The struct's name (`tcp_congestion_ops`).
    pub struct_name: String,
    /// The function pointer member (`init`, `cong_avoid` ...).
    pub member: String,
}

/// An object's map reference as a reference by index: an object numbers its maps by index
/// in the `map_fd` / `map_value` pseudo sources (see the [crate docs](crate)); a loader
/// that takes indexes where the kernel takes fds (the VM's `fd_array`) reads them as
/// `map_idx` / `map_idx_value`. Every other instruction is returned as it is.
///
/// ```
/// use asm::isa::Pseudo;
/// use asm::Insn;
///
/// let by_index = obj::map_ref_by_index(Insn::ld_map_value(1, 3, 8));
/// assert_eq!(by_index, Insn::ld_map_idx_value(1, 3, 8));
/// assert_eq!(by_index.pseudo(), Some(Pseudo::MapIdxValue));
/// assert_eq!(obj::map_ref_by_index(Insn::exit()), Insn::exit());
/// ```
pub fn map_ref_by_index(insn: Insn) -> Insn {
    let src = match insn.pseudo() {
        Some(Pseudo::MapFd) => Pseudo::MapIdx,
        Some(Pseudo::MapValue) => Pseudo::MapIdxValue,
        _ => return insn,
    };
    Insn {
        src: src.src(),
        ..insn
    }
}

impl Program {
    /// Why this program cannot be loaded or run as it is: a call to an undefined
    /// function (libbpf's `bpf_object__relocate` refuses it too), or an extern that is
    /// recorded but not resolved yet.
    pub fn loadable(&self) -> Result<(), String> {
        if let Some(f) = self.undefined_calls.first() {
            return Err(format!(
                "program `{}` calls undefined function `{f}`: it cannot be loaded anywhere \
                 (libbpf refuses it too)",
                self.name
            ));
        }
        if let Some(e) = self.externs.first() {
            return Err(format!(
                "program `{}` uses extern `{e}` (`__ksym`/`__kconfig`), which is not resolved \
                 yet, so it cannot be run (a kernel configuration gives `__kconfig` values, \
                 the kernel's BTF and symbols `__ksym` ones)",
                self.name
            ));
        }
        Ok(())
    }

    /// The program's type: `given` (a `--type` option) if there is one, else the type its
    /// section names; an error naming the section when neither says it.
    pub fn type_or(&self, given: Option<ProgType>) -> Result<ProgType, String> {
        given.or(self.prog_type).ok_or_else(|| {
            format!(
                "program `{}`: section `{}` does not name a program type libbpf knows; \
                 give one with --type (e.g. --type xdp, --type socket_filter, --type sched_cls)",
                self.name, self.section
            )
        })
    }
}

/// What kind of extern an undefined symbol is, from the BTF DATASEC that lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    /// `extern ... __kconfig` (DATASEC `.kconfig`): a kernel configuration value, which
    /// libbpf reads from `/proc/config.gz` into its `.kconfig` map.
    Kconfig,
    /// `extern ... __ksym` (DATASEC `.ksyms`): a kernel variable or kfunc, which libbpf
    /// resolves against the kernel's BTF.
    Ksym,
}

/// An extern symbol of the object (`__ksym`, `__kconfig`), recorded as libbpf's
/// `bpf_object__collect_externs` does; resolving it is a later step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extern {
    /// Symbol name.
    pub name: String,
    /// Kconfig or ksym.
    pub kind: ExternKind,
    /// `__weak`: libbpf leaves it 0 when it cannot be resolved.
    pub weak: bool,
    /// A function (a kfunc), not a variable.
    pub func: bool,
    /// For a `__ksym` variable, its type in the object's BTF with modifiers and typedefs
    /// skipped: 0 (`void`) for a typeless one, resolved by address.
    pub btf_type: u32,
    /// For a `__kconfig` variable, its place in the `.kconfig` map.
    pub kconfig: Option<externs::KconfigSlot>,
}

/// How a map asks to be pinned in bpffs. Read and reported, not applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pinning {
    /// Not pinned.
    #[default]
    None,
    /// libbpf's `LIBBPF_PIN_BY_NAME` (`__uint(pinning, 1)` in a BTF-defined map).
    ByName,
    /// iproute2's `PIN_OBJECT_NS` (`bpf_elf_map.pinning = 1`).
    ObjectNs,
    /// iproute2's `PIN_GLOBAL_NS` (`bpf_elf_map.pinning = 2`).
    GlobalNs,
    /// Another value (iproute2 looks custom values up in `/etc/iproute2/bpf_pinning`).
    Other(u32),
}

impl std::fmt::Display for Pinning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pinning::None => f.write_str("none"),
            Pinning::ByName => f.write_str("by name (libbpf)"),
            Pinning::ObjectNs => f.write_str("object namespace (iproute2)"),
            Pinning::GlobalNs => f.write_str("global namespace (iproute2)"),
            Pinning::Other(n) => write!(f, "custom {n} (iproute2)"),
        }
    }
}

/// Where a map comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapSource {
    /// A BTF-defined map in `.maps`.
    Btf,
    /// A `struct bpf_map_def` in the legacy `maps` section.
    Legacy,
    /// A global data section (`.data`, `.rodata`, `.bss`, `.rodata.str1.1` ...) as a
    /// one-entry array.
    Data,
    /// Declared by a test, for an assembly program ([`Map::declared`]).
    Declared,
}

/// A map of an object: its spec and what the object says about its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    /// Name (the variable name, or the section name for global data), type, sizes, flags,
    /// and from BTF the value's special fields.
    pub spec: MapSpec,
    /// For global data: the initial contents of the single value (zeros for `.bss`).
    pub data: Option<Vec<u8>>,
    /// For a BTF-defined program array with `.values = { [i] = &prog }`: the initial
    /// slots, as (index, program name), which libbpf fills in after loading the programs.
    pub slots: Vec<(u32, String)>,
    /// Where the definition came from.
    pub source: MapSource,
    /// `max_entries` was 0 or absent in a `perf_event_array`: libbpf sets it to the number
    /// of possible CPUs (libbpf's `map_set_def_max_entries`), so the loader resolves it
    /// when it creates the map
    /// ([`Map::max_entries_for`]).
    pub max_entries_nr_cpus: bool,
    /// Pinning asked for (BTF `pinning`, iproute2 `bpf_elf_map.pinning`).
    pub pinning: Pinning,
    /// iproute2's `bpf_elf_map` `id`, `inner_id` and `inner_idx` (0 when absent): tail-call
    /// sections `ID/KEY` name a program array by `id`.
    pub iproute2_ids: (u32, u32, u32),
    /// `btf_key_type_id` and `btf_value_type_id` in the object's BTF, as libbpf creates the
    /// map with them (`__type(key, T)` / `__type(value, T)` of a BTF-defined map; for
    /// global data, no key and the section's DATASEC as value); (0, 0) when none. The
    /// kernel needs them for values with spin locks, timers and kptrs.
    pub btf_type_ids: (u32, u32),
}

impl Map {
    /// A map declared by a test or on the command line, for an assembly program: no
    /// initial contents.
    pub fn declared(spec: MapSpec) -> Map {
        Map::with_source(spec, MapSource::Declared)
    }

    /// A map with this spec and source, no initial contents, default attributes.
    pub fn with_source(spec: MapSpec, source: MapSource) -> Map {
        Map {
            spec,
            data: None,
            slots: Vec::new(),
            source,
            max_entries_nr_cpus: false,
            pinning: Pinning::None,
            iproute2_ids: (0, 0, 0),
            btf_type_ids: (0, 0),
        }
    }

    /// The `max_entries` to create the map with on a machine with `nr_cpus` possible CPUs.
    pub fn max_entries_for(&self, nr_cpus: u32) -> u32 {
        if self.max_entries_nr_cpus {
            nr_cpus
        } else {
            self.spec.max_entries
        }
    }

    /// The spec to create the map with on a machine with `nr_cpus` possible CPUs.
    pub fn spec_for(&self, nr_cpus: u32) -> MapSpec {
        MapSpec {
            max_entries: self.max_entries_for(nr_cpus),
            ..self.spec.clone()
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

impl From<MapSpec> for Map {
    fn from(spec: MapSpec) -> Map {
        Map::declared(spec)
    }
}

/// A code section as it is in the file, for listings (`bpfx disasm prog.o`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSection {
    /// Section name.
    pub name: String,
    /// Instructions as in the file (relocations not applied), with their slot index.
    pub insns: Vec<(usize, Insn)>,
    /// Function symbols: name and slot index.
    pub symbols: Vec<(String, usize)>,
    /// Relocations: slot index, ELF type name and the symbol's name.
    pub relocations: Vec<Relocation>,
}

/// One relocation of a code section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Slot index of the instruction it patches.
    pub slot: usize,
    /// `R_BPF_64_64`, `R_BPF_64_32` ...
    pub kind: &'static str,
    /// The symbol's name (a section symbol's name is its section's).
    pub symbol: String,
    /// What it resolves to: a map's name or a function's name.
    pub target: Option<String>,
}

/// Why an object cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Not an ELF file, or a malformed one.
    #[error("not a valid ELF object: {0}")]
    Elf(#[from] object::Error),
    /// An ELF file for another machine (libbpf accepts `EM_BPF` and, as old LLVM wrote,
    /// `EM_NONE`).
    #[error("not a BPF object: the machine is {0} (expected an ELF file for EM_BPF = 247, or EM_NONE = 0)")]
    NotBpf(String),
    /// A big-endian object.
    #[error("big-endian BPF objects are not supported (built with -target bpfeb?)")]
    BigEndian,
    /// A code section's bytes are not valid instructions.
    #[error("section `{section}`: {source}")]
    Decode {
        /// Section.
        section: String,
        /// The decoding error (instruction index and byte offset inside the section).
        source: DecodeError,
    },
    /// A static function in a program section (libbpf rejects these too).
    #[error(
        "section `{section}`: program `{symbol}` is static; programs must be global functions"
    )]
    StaticProgram {
        /// Section.
        section: String,
        /// Function.
        symbol: String,
    },
    /// A relocation that cannot be applied.
    #[error("section `{section}`, relocation at byte {offset} against `{symbol}`: {reason}")]
    Relocation {
        /// Section the relocation patches.
        section: String,
        /// Byte offset in that section.
        offset: u64,
        /// The symbol's name.
        symbol: String,
        /// Why it cannot be applied.
        reason: String,
    },
    /// The `.BTF` section, or a map definition in it, cannot be read.
    #[error("section `.BTF`: {0}")]
    Btf(#[from] BtfError),
    /// A map definition is incomplete or invalid.
    #[error("map `{map}`: {reason}")]
    Map {
        /// Map name.
        map: String,
        /// What is wrong.
        reason: String,
    },
    /// Some other section cannot be read.
    #[error("section `{section}`: {reason}")]
    Section {
        /// Section.
        section: String,
        /// What is wrong.
        reason: String,
    },
}

impl Object {
    /// The program with this function name, or else the first program of the section
    /// with this name.
    pub fn program(&self, name_or_section: &str) -> Option<&Program> {
        self.programs
            .iter()
            .find(|p| p.name == name_or_section)
            .or_else(|| self.programs.iter().find(|p| p.section == name_or_section))
    }

    /// The global variable with this name.
    pub fn global(&self, name: &str) -> Option<&Global> {
        self.globals.iter().find(|g| g.name == name)
    }

    /// The index of the map with this name.
    pub fn map_index(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|m| m.spec.name == name)
    }
}
