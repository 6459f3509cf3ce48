//! Programs and maps of a loaded object ([`obj::Object`]) in the kernel, as libbpf's
//! `bpf_object__load` puts them there:
//!
//! 1. externs resolved ([`resolve_externs`]): `__kconfig` from a kernel configuration
//!    ([`host_kernel_config`] reads this machine's), `__ksym` against vmlinux BTF and
//!    `/proc/kallsyms`;
//! 2. the object's BTF loaded ([`obj::Object::btf_for_load`]; when the kernel refuses it
//!    the object is loaded without BTF, as libbpf does, and the refusal is kept in
//!    [`Loader::btf_error`]);
//! 3. the maps created in the object's order with their BTF key/value type ids (again
//!    without BTF when that fails, as `bpf_object__create_map` retries), global data
//!    stored;
//! 4. each program loaded with its type, expected attach type, sleepable flag, licence,
//!    func info and line info, and for fentry/fexit/fmod_ret/tp_btf/lsm/iter the
//!    `attach_btf_id` of its target in vmlinux BTF.
//!
//! Program arrays initialised by the object ([`obj::Map::slots`]) are created empty:
//! filling them needs the other programs loaded first, which is the caller's business.

use crate::btf::{Btf, ProgBtf};
use crate::error::Error;
use crate::map::{Map, UpdateFlags};
use crate::prog::{LoadOptions, Program};
use crate::sys::{self, cmd, MapCreateAttr};
use asm::types::{AttachType, ProgType};
use asm::Insn;
use obj::core::kind;
use obj::externs::KernelConfig;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::io::Read as _;
use std::os::fd::AsRawFd;

impl Map {
    /// Creates an object's map: its spec (a `perf_event_array` without `max_entries`
    /// gets one entry per possible CPU, as libbpf's `map_set_def_max_entries` gives it),
    /// then, for global data, its initial value.
    pub fn create_object_map(map: &obj::Map) -> Result<Map, Error> {
        Map::create_object_map_with_btf(map, None)
    }

    /// [`Map::create_object_map`] with the object's BTF: the map's BTF key and value
    /// type ids are given when it has them ([`obj::Map::btf_type_ids`]); when the kernel
    /// refuses the map with them it is created without, as libbpf's
    /// `bpf_object__create_map` retries.
    pub fn create_object_map_with_btf(map: &obj::Map, btf: Option<&Btf>) -> Result<Map, Error> {
        let spec = map.spec_for(crate::map::possible_cpus() as u32);
        let with_btf = match btf {
            Some(b) if map.btf_type_ids != (0, 0) => {
                let mut attr = MapCreateAttr {
                    map_type: spec.map_type.number(),
                    key_size: spec.key_size,
                    value_size: spec.value_size,
                    max_entries: spec.max_entries,
                    map_flags: spec.flags,
                    map_name: sys::obj_name(&spec.name),
                    btf_fd: b.as_fd_raw(),
                    btf_key_type_id: map.btf_type_ids.0,
                    btf_value_type_id: map.btf_type_ids.1,
                    ..Default::default()
                };
                // SAFETY: a MAP_CREATE attr without pointer fields.
                unsafe { sys::bpf_fd(cmd::MAP_CREATE, &mut attr) }.ok()
            }
            _ => None,
        };
        let m = match with_btf {
            Some(fd) => Map::from_created(fd, &spec),
            None => Map::create(&spec)?,
        };
        if let Some(data) = &map.data {
            m.update(&0u32.to_le_bytes(), data, UpdateFlags::Any)?;
        }
        Ok(m)
    }
}

impl Btf {
    fn as_fd_raw(&self) -> u32 {
        use std::os::fd::AsFd as _;
        self.as_fd().as_raw_fd() as u32
    }
}

/// `BPF_MAP_FREEZE`: user space may no longer write the map.
pub fn freeze(m: &Map) -> Result<(), Error> {
    use std::os::fd::AsFd as _;
    let mut attr = sys::MapFdAttr {
        map_fd: m.as_fd().as_raw_fd() as u32,
    };
    // SAFETY: a MAP_FREEZE attr: the map fd, no pointers (the rest is zero).
    unsafe { sys::bpf(cmd::MAP_FREEZE, &mut attr) }
        .map(drop)
        .map_err(|e| {
            Error::from_errno(crate::error::Op::MapFreeze, e, || {
                crate::error::needs_text("")
            })
        })
}

/// Creates every map of an object, in order, without BTF: `lddw` map references of its
/// programs are indexes into the result. [`Loader`] creates them with BTF.
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

/// Loads a program of an object as type `prog_type` ([`obj::Program::type_or`]) without
/// BTF; its maps are `maps` ([`create_maps`]). Check [`obj::Program::loadable`] first: a
/// program with unresolved externs or calls is refused by the kernel's verifier.
/// [`Loader`] loads as libbpf does, with BTF.
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

/// Where this kernel's configuration is read from, in libbpf's order
/// (`bpf_object__read_kconfig_file`).
pub const KCONFIG_PATHS: [&str; 2] = ["/boot/config-$(uname -r)", "/proc/config.gz"];

/// This machine's kernel configuration as libbpf reads it: `/boot/config-$(uname -r)`,
/// else `/proc/config.gz`; with `LINUX_KERNEL_VERSION` from the release, and
/// `LINUX_HAS_BPF_COOKIE` / `LINUX_HAS_SYSCALL_WRAPPER` as libbpf probes them (the
/// `bpf_get_attach_cookie` helper and the `__<arch>_sys_bpf` wrapper in kallsyms).
pub fn host_kernel_config() -> Result<KernelConfig, String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("/proc/sys/kernel/osrelease: {e}"))?;
    let release = release.trim();
    let boot = format!("/boot/config-{release}");
    let text = match std::fs::read_to_string(&boot) {
        Ok(t) => t,
        Err(_) => {
            let gz = std::fs::read("/proc/config.gz").map_err(|e| {
                format!("no kernel configuration: {boot} is absent and /proc/config.gz: {e}")
            })?;
            let mut t = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut t)
                .map_err(|e| format!("/proc/config.gz: {e}"))?;
            t
        }
    };
    let mut c = KernelConfig::parse(&text)?;
    c.kernel_version = KernelConfig::version_code(release).unwrap_or(0);
    // libbpf's probe_kern_bpf_cookie: a tracepoint program calling
    // bpf_get_attach_cookie loads.
    let cookie = asm::text::helpers::by_name("get_attach_cookie").unwrap_or(0) as i32;
    let probe = [
        Insn::call_helper(cookie),
        Insn::mov64_imm(0, 0),
        Insn::exit(),
    ];
    c.has_bpf_cookie = Program::load(&probe, &LoadOptions::new(ProgType::Tracepoint)).is_ok();
    c.has_syscall_wrapper = host_kallsyms()
        .map(|k| k.contains_key(syscall_wrapper_name()))
        .unwrap_or(false);
    Ok(c)
}

/// libbpf's `ksyscall` wrapper name of this architecture (`sys_bpf` as an example symbol,
/// as `probe_kern_syscall_wrapper` checks it).
fn syscall_wrapper_name() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "__x64_sys_bpf"
    } else if cfg!(target_arch = "aarch64") {
        "__arm64_sys_bpf"
    } else if cfg!(target_arch = "s390x") {
        "__s390x_sys_bpf"
    } else if cfg!(target_arch = "riscv64") {
        "__riscv_sys_bpf"
    } else {
        "__se_sys_bpf"
    }
}

/// `/proc/kallsyms` as name → address (the first of duplicates, as libbpf keeps it).
/// Addresses read as 0 without CAP_SYSLOG.
pub fn host_kallsyms() -> Result<HashMap<String, u64>, String> {
    let text =
        std::fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if let Ok(a) = u64::from_str_radix(addr, 16) {
            out.entry(name.to_owned()).or_insert(a);
        }
    }
    Ok(out)
}

/// Resolves an object's externs for a kernel: `__kconfig` from `config`
/// ([`obj::Object::resolve_kconfig`]), `__ksym` against `vmlinux` and `kallsyms`
/// ([`obj::Object::resolve_ksyms`]).
pub fn resolve_externs(
    o: &mut obj::Object,
    config: &KernelConfig,
    vmlinux: &obj::core::Btf,
    kallsyms: &dyn Fn(&str) -> Option<u64>,
) -> Result<(), Error> {
    o.resolve_kconfig(config)?;
    o.resolve_ksyms(vmlinux, kallsyms)?;
    Ok(())
}

/// The name and kind libbpf looks an attach target up by in vmlinux BTF
/// (`find_attach_btf_id` / `btf_attach_type`): `btf_trace_<tp>` typedefs for tp_btf,
/// `bpf_lsm_<hook>` for LSM, `bpf_iter_<target>` for iterators, the function itself for
/// fentry/fexit/fmod_ret. `None`: the attach type needs no BTF target.
pub fn attach_btf_target(attach: AttachType, target: &str) -> Option<(String, u8)> {
    Some(match attach {
        AttachType::TraceRawTp => (format!("btf_trace_{target}"), kind::TYPEDEF),
        AttachType::LsmMac | AttachType::LsmCgroup => (format!("bpf_lsm_{target}"), kind::FUNC),
        AttachType::TraceIter => (format!("bpf_iter_{target}"), kind::FUNC),
        AttachType::TraceFentry | AttachType::TraceFexit | AttachType::ModifyReturn => {
            (target.to_owned(), kind::FUNC)
        }
        _ => return None,
    })
}

/// An object's BTF and maps in the kernel, ready to load its programs.
#[derive(Debug)]
pub struct Loader {
    /// The object's BTF, when it has one and the kernel took it.
    pub btf: Option<Btf>,
    /// Why the kernel refused the object's BTF (its programs are loaded without).
    pub btf_error: Option<Error>,
    /// The maps, in the object's order.
    pub maps: Vec<Map>,
    vmlinux: OnceCell<Result<std::sync::Arc<obj::core::Btf>, String>>,
}

impl Loader {
    /// Loads the object's BTF and creates its maps, `.rodata*` and `.kconfig` frozen.
    pub fn new(o: &obj::Object) -> Result<Loader, Error> {
        let loader = Loader::unfrozen(o)?;
        loader.freeze_read_only(o)?;
        Ok(loader)
    }

    /// Freezes the object's read-only data maps (`.rodata*`, `.kconfig`) as libbpf does
    /// once it has stored them (bpf_object__populate_internal_map), so the verifier may
    /// read them as constants (and bpf_snprintf takes its format from them).
    pub fn freeze_read_only(&self, o: &obj::Object) -> Result<(), Error> {
        for (m, created) in o.maps.iter().zip(&self.maps) {
            if m.source == obj::MapSource::Data && m.spec.flags & obj::F_RDONLY_PROG != 0 {
                freeze(created)?;
            }
        }
        Ok(())
    }

    /// As [`Loader::new`] but nothing frozen yet, so a caller can still write the
    /// read-only data (a test's globals) before [`Loader::freeze_read_only`].
    pub fn unfrozen(o: &obj::Object) -> Result<Loader, Error> {
        let (btf, btf_error) = match &o.btf_for_load {
            Some(Ok(raw)) => match Btf::load(raw) {
                Ok(b) => (Some(b), None),
                Err(e) if e.is_unavailable() => return Err(e),
                Err(e) => (None, Some(e)),
            },
            Some(Err(reason)) => (None, Some(Error::ObjectBtf(reason.clone()))),
            None => (None, None),
        };
        let mut maps = Vec::with_capacity(o.maps.len());
        for m in &o.maps {
            maps.push(Map::create_object_map_with_btf(m, btf.as_ref())?);
        }
        Ok(Loader {
            btf,
            btf_error,
            maps,
            vmlinux: OnceCell::new(),
        })
    }

    /// Uses `vmlinux` as the running kernel's BTF (read once and shared by the caller)
    /// instead of reading it when first needed.
    pub fn with_vmlinux(self, vmlinux: std::sync::Arc<obj::core::Btf>) -> Loader {
        let _ = self.vmlinux.set(Ok(vmlinux));
        self
    }

    /// The running kernel's BTF, read once.
    pub fn vmlinux(&self) -> Result<&obj::core::Btf, String> {
        self.vmlinux
            .get_or_init(|| obj::core::kernel_btf().map(std::sync::Arc::new))
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The options [`Loader::load`] loads a program with.
    pub fn options<'a>(
        &'a self,
        o: &obj::Object,
        prog: &obj::Program,
        prog_type: ProgType,
    ) -> Result<LoadOptions<'a>, Error> {
        let mut opts = LoadOptions::for_program(prog, prog_type, o.license.as_deref(), &self.maps);
        if let Some(b) = &self.btf {
            opts.btf = Some(ProgBtf::for_program(b, &prog.ext));
        }
        let target = prog
            .expected_attach_type
            .zip(prog.attach.as_deref())
            .and_then(|(t, name)| attach_btf_target(t, name));
        if let Some((name, k)) = target {
            let fail = |reason: String| Error::AttachTarget {
                program: prog.name.clone(),
                target: name.clone(),
                reason,
            };
            let vmlinux = self.vmlinux().map_err(fail)?;
            opts.attach_btf_id = vmlinux
                .find(k, &name)
                .ok_or_else(|| fail("not in the kernel's BTF".into()))?;
        }
        if let Some(so) = &prog.struct_ops {
            // bpf_map__init_kern_struct_ops: the kernel's struct of that name, the member
            // of that name in it.
            let fail = |reason: String| Error::AttachTarget {
                program: prog.name.clone(),
                target: format!("struct {}.{}", so.struct_name, so.member),
                reason,
            };
            let vmlinux = self.vmlinux().map_err(fail)?;
            let id = vmlinux
                .find(kind::STRUCT, &so.struct_name)
                .ok_or_else(|| fail("the struct is not in the kernel's BTF".into()))?;
            let index = vmlinux
                .ty(id)
                .members()
                .iter()
                .position(|m| m.name == so.member)
                .ok_or_else(|| fail("the kernel's struct has no such member".into()))?;
            opts.attach_btf_id = id;
            opts.struct_ops_member = Some(index as u32);
        }
        Ok(opts)
    }

    /// Loads a program of the object as type `prog_type` ([`obj::Program::type_or`]).
    pub fn load(
        &self,
        o: &obj::Object,
        prog: &obj::Program,
        prog_type: ProgType,
    ) -> Result<Program, Error> {
        Program::load(&prog.insns, &self.options(o, prog, prog_type)?)
    }
}
