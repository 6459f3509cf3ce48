//! One program run once in the VM and once in the kernel, for `bpfx cross-check`: the
//! observations go to [`crate::compare`].

use crate::engine::readback::{per_cpu_values, Readback};
use crate::observation::{is_percpu, MapContents, Observation, ObservedMap};
use crate::program::{create_kernel_maps, Program};
use asm::isa::Pseudo;
use asm::types::MapType;
use std::collections::BTreeMap;

/// The memory, packet and context a run gets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Memory mode (no program type): the bytes r1 points to.
    pub mem: Vec<u8>,
    /// The packet.
    pub packet: Vec<u8>,
    /// The context.
    pub ctx: Vec<u8>,
}

/// Checks that every `lddw` map reference names one of the program's maps.
pub fn check_map_indexes(p: &Program) -> Result<(), String> {
    for (i, insn) in p.insns.iter().enumerate() {
        if matches!(insn.pseudo(), Some(Pseudo::MapFd | Pseudo::MapValue)) {
            let idx = insn.imm as u32 as usize;
            if idx >= p.maps.len() {
                return Err(format!(
                    "instruction {i}: `lddw` refers to map {idx} but {} map(s) were given with --map",
                    p.maps.len()
                ));
            }
        }
    }
    Ok(())
}

/// Runs the program once in bpfx's VM. `Err`: it could not be set up (a map the VM cannot
/// create); a refusal or a fault is the observation's `error`.
pub fn run_vm(p: &Program, inputs: &Inputs) -> Result<Observation, String> {
    let vm_type = p.prog_type;
    if let Some(t) = vm_type.filter(|t| !vm::SUPPORTED_PROG_TYPES.contains(t)) {
        return Err(format!("the VM cannot run {t} programs"));
    }
    let mut machine = vm::Vm::new();
    // Per-CPU maps are compared CPU by CPU with the kernel's: as many CPUs, run on CPU 0.
    machine.env_mut().ncpus = kernel::cpu::possible() as u32;
    machine.env_mut().cpu = 0;
    for (i, m) in p.maps.iter().enumerate() {
        machine
            .create_object_map(m)
            .map_err(|e| format!("VM map {i} `{}`: {e}", m.spec.name))?;
    }
    check_map_indexes(p)?;
    let failed = |e: String| Observation {
        error: Some(e),
        r0_bits: 64,
        ..Default::default()
    };
    let id = match machine.load_insns(&p.insns, vm_type) {
        Ok(id) => id,
        Err(e) => return Ok(failed(format!("refuses: {e}"))),
    };
    machine.set_mem(inputs.mem.clone());
    machine.set_packet(inputs.packet.clone());
    machine.set_ctx(inputs.ctx.clone());
    let out = match machine.run(id) {
        Ok(o) => o,
        Err(e) => return Ok(failed(format!("faults: {e}"))),
    };
    let data = if p.prog_type.is_none() {
        machine.mem().to_vec()
    } else {
        machine.packet().to_vec()
    };
    let trace = machine
        .take_trace_lines()
        .into_iter()
        .map(|l| l.message)
        .collect();
    let mut records = BTreeMap::new();
    let ncpus = machine.env().ncpus as usize;
    let mut maps = Vec::new();
    for (fd, m) in p.maps.iter().enumerate() {
        let map = machine
            .map_mut(fd as u32)
            .ok_or_else(|| format!("VM map {fd} vanished"))?;
        let mut entries: MapContents = Vec::new();
        if m.spec.map_type == MapType::Ringbuf {
            records.insert(m.spec.name.clone(), map.take_records());
        } else {
            for k in map.keys() {
                if is_percpu(m.spec.map_type) {
                    let all: Option<Vec<Vec<u8>>> = (0..ncpus)
                        .map(|c| map.lookup_cpu(&k, c).ok().flatten())
                        .collect();
                    if let Some(all) = all {
                        entries.push((k, all));
                    }
                } else if let Ok(Some(v)) = map.lookup(&k) {
                    entries.push((k, vec![v]));
                }
            }
        }
        entries.sort();
        maps.push(ObservedMap {
            spec: m.spec.clone(),
            entries: Ok(entries),
        });
    }
    Ok(Observation {
        r0: Some(out.r0),
        r0_bits: 64,
        meaning: p.prog_type.and_then(|t| t.r0_meaning(out.r0)),
        packet: Some(data),
        ctx: (!inputs.ctx.is_empty()).then(|| machine.ctx().to_vec()),
        maps,
        insns: Some(out.insns),
        records: Some(records),
        trace: Some(trace),
        ..Default::default()
    })
}

/// The kernel's side of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelRun {
    /// The kernel cannot be used here; why.
    Unavailable(String),
    /// It ran (or refused: the observation's `error`).
    Ran(Box<Observation>),
}

/// Runs the program once in the kernel (`mem_in_map`: memory mode with the memory in a
/// map value instead of the packet). `Err`: the maps could not be created or read.
///
/// `object`: the object `p` is the program `index` of; the kernel then loads it as libbpf's
/// bpf_object__load does ([`kernel::object::Loader`]: BTF, func_info and line_info,
/// `.rodata` frozen, expected_attach_type), with `p`'s maps as the object's.
pub fn run_kernel(
    p: &Program,
    object: Option<(&crate::convert::Object, usize)>,
    inputs: &Inputs,
    mem_in_map: bool,
) -> Result<KernelRun, String> {
    if let Err(why) = kernel::probe::availability() {
        return Ok(KernelRun::Unavailable(why));
    }
    let object = object.map(|(o, i)| {
        let mut o = o.clone();
        o.maps = p.maps.clone();
        (o, i)
    });
    let created = match &object {
        Some((o, _)) => kernel::object::Loader::new(o).map(|l| (Some(l), Vec::new())),
        None => create_kernel_maps(&p.maps).map(|m| (None, m)),
    };
    let (loader, plain) = match created {
        Ok(c) => c,
        Err(e) if e.is_unavailable() => return Ok(KernelRun::Unavailable(e.to_string())),
        Err(e) => return Err(format!("kernel maps: {e}")),
    };
    let owned: &[kernel::Map] = match &loader {
        Some(l) => &l.maps,
        None => &plain,
    };
    let load = match (&loader, &object, p.prog_type) {
        (Some(l), Some((o, i)), Some(t)) => Some(
            l.options(o, &o.programs[*i], t)
                .map_err(|e| format!("kernel object: {e}"))?,
        ),
        _ => None,
    };
    let input = kernel::run::RunInput {
        prog_type: p.prog_type,
        mem: &inputs.mem,
        packet: &inputs.packet,
        ctx: &inputs.ctx,
        repeat: 1,
        maps: owned.iter().collect(),
        want_log: false,
        mem_in_map,
        cpu: Some(0),
        load,
    };
    let whose = Readback::whose(p.prog_type, 0);
    let mut readback = Readback::new(p, owned, whose);
    readback.before();
    let out = match kernel::run::run(&p.insns, &input) {
        Ok(o) => o,
        Err(e) if e.is_unavailable() => return Ok(KernelRun::Unavailable(e.to_string())),
        Err(e) => {
            return Ok(KernelRun::Ran(Box::new(Observation {
                error: Some(e.to_string()),
                r0_bits: 64,
                ..Default::default()
            })))
        }
    };
    readback.after();
    let mut maps = Vec::new();
    for (m, k) in p.maps.iter().zip(owned) {
        // A ring buffer's records are read through mmap (the observation's `records`), and
        // a perf event array's values are not given back: both sides show such maps empty.
        let mut entries: MapContents = if !m.spec.map_type.readable_by_lookup() {
            Vec::new()
        } else {
            k.entries()
                .map_err(|e| format!("reading a kernel map: {e}"))?
                .into_iter()
                .map(|(k, v)| (k, per_cpu_values(&m.spec, v)))
                .collect()
        };
        entries.sort();
        maps.push(ObservedMap {
            spec: m.spec.clone(),
            entries: Ok(entries),
        });
    }
    let mut obs = Observation {
        r0: Some(out.r0),
        r0_bits: out.r0_bits,
        meaning: p.prog_type.and_then(|t| t.r0_meaning(out.r0)),
        packet: Some(out.data),
        ctx: (!inputs.ctx.is_empty()).then_some(out.ctx),
        maps,
        ns_per_run: Some(u64::from(out.ns_per_run)),
        ..Default::default()
    };
    readback.finish(&mut obs);
    Ok(KernelRun::Ran(Box::new(obs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm::types::MapSpec;

    fn prog(hex: &str, maps: Vec<obj::Map>) -> Program {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        Program {
            insns: asm::decode(&bytes)
                .unwrap()
                .into_iter()
                .map(|d| d.insn)
                .collect(),
            maps,
            ..Default::default()
        }
    }

    // r1 = &map0[0]; *(u64 *)(r1 + 0) = 42; r0 = 42; exit
    const STORE: &str =
        "18210000000000000000000000000000 7a0100002a000000 b70000002a000000 9500000000000000";

    #[test]
    fn vm_run_observes_r0_and_maps() {
        let p = prog(&STORE.replace(' ', ""), vec![MapSpec::array(8, 1).into()]);
        let o = run_vm(&p, &Inputs::default()).unwrap();
        assert_eq!((o.r0, o.error.as_deref()), (Some(42), None));
        assert_eq!(
            o.maps[0].entries,
            Ok(vec![(vec![0; 4], vec![42u64.to_le_bytes().to_vec()])])
        );
        // The same observation compared with itself agrees on every row.
        assert!(crate::compare(&o, &o, true).iter().all(|r| r.agree));
    }

    #[test]
    fn missing_maps_are_named() {
        let p = prog(&STORE.replace(' ', ""), vec![]);
        assert_eq!(
            run_vm(&p, &Inputs::default()).unwrap_err(),
            "instruction 0: `lddw` refers to map 0 but 0 map(s) were given with --map"
        );
    }
}
