//! The host-kernel engine: maps created and filled through bpf(2), the program test-run
//! with `BPF_PROG_TEST_RUN`, the maps read back.

use super::readback::{self, per_cpu_values, Readback};
use super::{Engine, Outcome, Suite};
use crate::observation::{is_percpu, Observation, ObservedMap};
use crate::program::create_kernel_maps;
use crate::schema::EnvDecl;
use crate::schema::{encode, parse_hex, Case, MapValue};
use asm::isa::Pseudo;
use asm::types::{MapSpec, ProgType};
use kernel::map::UpdateFlags;
use std::collections::BTreeMap;

/// Runs cases in the running kernel. It observes the return value, the packet, maps (per-CPU
/// maps on every CPU) and globals, ring buffer records (through mmap) and
/// `bpf_trace_printk` lines (through a tracefs instance, [`kernel::trace`]); not instruction
/// counts, nor perf event output. What it cannot read is `None` with the reason in
/// [`Observation::unobserved`].
#[derive(Debug, Default)]
pub struct HostKernel;

impl Engine for HostKernel {
    fn name(&self) -> &str {
        "kernel"
    }

    fn available(&self) -> Result<(), String> {
        kernel::probe::availability()
    }

    fn run(&mut self, suite: &Suite, cases: &[&Case]) -> Vec<Outcome> {
        cases.iter().map(|c| run_case(suite, c)).collect()
    }
}

fn skip(why: impl Into<String>) -> Outcome {
    Outcome::Skipped(why.into())
}

fn fail(why: impl Into<String>) -> Outcome {
    Outcome::Failed(vec![why.into()])
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return fail(e),
        }
    };
}

fn run_case(suite: &Suite, case: &Case) -> Outcome {
    let file = &suite.file;
    if case.expect.error.is_some() {
        return skip("the case expects a VM run error");
    }
    let mut program = tri!(suite.program(case));
    // Text names maps by index with either pseudo source; the kernel backend takes indexes
    // in src 1/2 (it turns them into fds), so map_idx becomes map_fd.
    for insn in &mut program.insns {
        match insn.pseudo() {
            Some(Pseudo::MapIdx) => insn.src = Pseudo::MapFd.src(),
            Some(Pseudo::MapIdxValue) => insn.src = Pseudo::MapValue.src(),
            _ => {}
        }
    }
    let prog_type = program.prog_type.expect("test files give a type");
    if prog_type == ProgType::Tracing {
        // bpf_prog_test_run_tracing runs fentry/fexit/fmod_ret only once loaded against a
        // target function (attach_btf_id, bpf_check_attach_target).
        return skip(
            "tracing programs (fentry/fexit/fmod_ret) load only with their target function's BTF id (attach_btf_id), which the kernel engine does not resolve",
        );
    }
    if !prog_type.can_test_run() {
        return skip(format!(
            "{prog_type} programs cannot be test-run in the kernel"
        ));
    }
    if let Some(m) = program.maps.iter().find(|m| !m.slots.is_empty()) {
        return skip(format!(
            "program array `{}` is filled with programs by the loader, which the kernel backend does not do",
            m.spec.name
        ));
    }
    if !file.tail_calls.is_empty() {
        return skip("tail calls are not set up in the kernel");
    }
    if !case.user_ringbuf.is_empty() {
        return skip("user ring buffer records (`user_ringbuf`) are given to the VM only");
    }
    if case.advance_ns.is_some() {
        return skip("BPF timers on the VM's virtual clock (`advance_ns`) are VM-only");
    }
    let cpu = case.env.cpu.or(file.env.cpu).unwrap_or(0);
    let ncpus = kernel::cpu::possible();
    if let Some(n) = case.env.ncpus.or(file.env.ncpus) {
        if n as usize != ncpus {
            return skip(format!(
                "`env.ncpus` is {n} but this kernel has {ncpus} possible CPUs"
            ));
        }
    }
    if let Some(why) = unsettable_env(&[&file.env, &case.env]) {
        return skip(why);
    }
    if let Some(why) = needs_netns(&program) {
        return skip(why);
    }
    // An object is loaded as libbpf's bpf_object__load does (kernel::object::Loader): its
    // BTF, maps with their BTF ids, `.rodata` frozen after the case's globals are stored,
    // each program with its func_info, line_info and expected_attach_type.
    let object = tri!(suite.object_program(case));
    let loader = match object {
        Some((o, _)) => Some(tri!(
            kernel::object::Loader::unfrozen(o).map_err(|e| format!("kernel object: {e}"))
        )),
        None => None,
    };
    let created;
    let kmaps: &[kernel::Map] = match &loader {
        Some(l) => &l.maps,
        None => {
            created =
                tri!(create_kernel_maps(&program.maps).map_err(|e| format!("kernel maps: {e}")));
            &created
        }
    };
    let find = |name: &str| {
        program
            .maps
            .iter()
            .position(|m| m.spec.name == name)
            .ok_or_else(|| {
                format!(
                    "no map named `{name}` (maps: {})",
                    program
                        .maps
                        .iter()
                        .map(|m| m.spec.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    };
    for (name, entries) in file.maps.iter().chain(case.maps.iter()) {
        let i = tri!(find(name));
        let def = &program.maps[i].spec;
        for (k, v) in entries {
            let key = tri!(encode(
                k,
                def.key_size as usize,
                &format!("map `{name}` key")
            ));
            let value = tri!(map_value(v, def, ncpus, name));
            tri!(kmaps[i]
                .update(&key, &value, UpdateFlags::Any)
                .map_err(|e| format!("map `{name}`: {e}")));
        }
    }
    for (name, v) in &case.globals {
        let Some(g) = program.globals.iter().find(|g| &g.name == name) else {
            return fail(format!("no global variable `{name}`"));
        };
        let bytes = tri!(encode(v, g.size as usize, &format!("global `{name}`")));
        let m = &kmaps[g.map];
        let mut whole =
            tri!(m.lookup(&0u32.to_le_bytes()).map_err(|e| e.to_string())).unwrap_or_default();
        let range = g.offset as usize..(g.offset + g.size) as usize;
        if whole.len() < range.end {
            return fail(format!("global `{name}` lies outside its map's value"));
        }
        whole[range].copy_from_slice(&bytes);
        tri!(m
            .update(&0u32.to_le_bytes(), &whole, UpdateFlags::Any)
            .map_err(|e| e.to_string()));
    }
    let packet = tri!(suite.packet(case)).unwrap_or_default();
    if let Some(why) = kernel::run::refused_packet(prog_type, &packet) {
        return skip(why);
    }
    if !case.regs.is_empty() {
        return fail("`regs` is for kprobe programs (struct pt_regs)");
    }
    let mut ctx = match &case.ctx {
        Some(h) => tri!(parse_hex(h).map_err(|e| format!("ctx: {e}"))),
        None => Vec::new(),
    };
    if !case.ctx_fields.is_empty() {
        tri!(crate::schema::write_ctx_fields(
            &mut ctx,
            Some(prog_type),
            &case.ctx_fields
        ));
    }
    if case.repeat == 0 {
        return fail("`repeat` must be at least 1");
    }
    let load = match (&loader, object) {
        (Some(l), Some((o, i))) => {
            tri!(l
                .freeze_read_only(o)
                .map_err(|e| format!("kernel object: {e}")));
            Some(tri!(l
                .options(o, &o.programs[i], prog_type)
                .map_err(|e| format!("kernel object: {e}"))))
        }
        _ => None,
    };
    let input = kernel::run::RunInput {
        prog_type: Some(prog_type),
        packet: &packet,
        ctx: &ctx,
        maps: kmaps.iter().collect(),
        cpu: Some(cpu),
        load,
        ..Default::default()
    };
    let prepared = match kernel::run::prepare(&program.insns, &input) {
        Ok(p) => p,
        Err(e) => {
            let mut v = vec![format!("the kernel refused the program: {e}")];
            if let Some(log) = e.verifier_log() {
                let tail: Vec<_> = log.lines().rev().take(3).collect();
                v.extend(tail.into_iter().rev().map(|l| format!("  {l}")));
            }
            return Outcome::Failed(v);
        }
    };
    let mut readback = Readback::new(&program, kmaps, Readback::whose(Some(prog_type), cpu));
    let mut out = None;
    for _ in 0..case.repeat {
        readback.before();
        out = Some(tri!(prepared.run(1).map_err(|e| format!("test run: {e}"))));
        readback.after();
    }
    let out = out.expect("repeat >= 1");
    let mut obs = Observation {
        r0: Some(out.r0),
        r0_bits: out.r0_bits,
        meaning: prog_type.r0_meaning(out.r0),
        packet: Some(out.data),
        ctx: (!ctx.is_empty()).then_some(out.ctx),
        ns_per_run: Some(u64::from(out.ns_per_run)),
        cpu: cpu as usize,
        ..Default::default()
    };
    readback.finish(&mut obs);
    for (m, km) in program.maps.iter().zip(kmaps) {
        let entries = if !m.spec.map_type.readable_by_lookup() {
            // A ring buffer's or perf event array's content is its records (read back
            // above); neither has entries to list.
            Ok(Vec::new())
        } else {
            km.entries()
                .map(|mut e| {
                    e.sort();
                    e.into_iter()
                        .map(|(k, v)| (k, per_cpu_values(&m.spec, v)))
                        .collect()
                })
                .map_err(|e| e.to_string())
        };
        obs.maps.push(ObservedMap {
            spec: m.spec.clone(),
            entries,
        });
    }
    let mut globals = BTreeMap::new();
    for g in &program.globals {
        let whole = kmaps[g.map]
            .lookup(&0u32.to_le_bytes())
            .ok()
            .flatten()
            .unwrap_or_default();
        if let Some(b) = whole.get(g.offset as usize..(g.offset + g.size) as usize) {
            globals.insert(g.name.clone(), b.to_vec());
        }
    }
    obs.globals = Some(globals);
    Outcome::Observed(Box::new(obs))
}

/// The bytes `BPF_MAP_UPDATE_ELEM` takes for a test file's value: per-CPU maps take one
/// 8-byte-padded value per possible CPU (a single value is stored on every CPU, as the VM
/// does).
fn map_value(v: &MapValue, def: &MapSpec, ncpus: usize, name: &str) -> Result<Vec<u8>, String> {
    let what = format!("map `{name}` value");
    let size = def.value_size as usize;
    if !is_percpu(def.map_type) {
        return match v {
            MapValue::One(s) => encode(s, size, &what),
            MapValue::PerCpu(_) => Err(format!(
                "{what}: a list of values is for per-CPU maps; `{name}` is a {} map",
                def.map_type
            )),
        };
    }
    let stride = size.div_ceil(8) * 8;
    let list: Vec<_> = match v {
        MapValue::One(s) => vec![s; ncpus],
        MapValue::PerCpu(l) if l.len() == ncpus => l.iter().collect(),
        MapValue::PerCpu(l) => {
            return Err(format!(
                "{what}: {} per-CPU values for {ncpus} CPUs (the kernel's possible CPUs)",
                l.len()
            ))
        }
    };
    let mut all = Vec::with_capacity(stride * ncpus);
    for s in list {
        let mut b = encode(s, size, &what)?;
        b.resize(stride, 0);
        all.extend(b);
    }
    Ok(all)
}

/// Why the kernel cannot give the program the environment the case sets (the task, the
/// clock and skb fields are the kernel's own); `env.cpu` and `env.ncpus` are handled.
fn unsettable_env(decls: &[&EnvDecl]) -> Option<String> {
    decls
        .iter()
        .any(|d| {
            let mut rest = (*d).clone();
            rest.cpu = None;
            rest.ncpus = None;
            rest.is_set()
        })
        .then(|| {
            "`env` other than `cpu` and `ncpus` (task, clock, skb fields, network) cannot be set in the kernel"
                .to_string()
        })
}

/// Helpers whose answer is the host's network state: the routing table for
/// `bpf_fib_lookup`, the sockets for `bpf_sk_lookup_*` (names as `asm`'s helper table).
const NET_STATE_HELPERS: &[&str] = &[
    "fib_lookup",
    "sk_lookup_tcp",
    "sk_lookup_udp",
    "skc_lookup_tcp",
];

/// The hook for cases whose outcome the kernel decides from the machine's state: the kernel
/// engine would have to build the routes and sockets the case declares in a network
/// namespace; until it does, such a case is skipped with this reason.
pub fn needs_netns(program: &crate::program::Program) -> Option<String> {
    let name = readback::helpers_called(&program.insns).find(|n| NET_STATE_HELPERS.contains(n))?;
    Some(format!(
        "bpf_{name} answers from the host's routing table and sockets, which the kernel engine does not build in a network namespace"
    ))
}
