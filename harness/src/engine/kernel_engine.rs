//! The host-kernel engine: maps created and filled through bpf(2), the program test-run
//! with `BPF_PROG_TEST_RUN`, the maps read back.

use super::{Engine, Outcome, Suite};
use crate::observation::{is_percpu, Observation, ObservedMap};
use crate::program::create_kernel_maps;
use crate::schema::{encode, parse_hex, Case, MapValue};
use asm::isa::Pseudo;
use kernel::map::UpdateFlags;
use std::collections::BTreeMap;

/// Runs cases in the running kernel. It observes the return value, the packet, maps and
/// globals; not trace lines, ring buffer records or instruction counts.
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
    if case.advance_ns.is_some() {
        return skip("BPF timers on the VM's virtual clock (`advance_ns`) are VM-only");
    }
    if file.env.is_set() || case.env.is_set() {
        return skip("`env` (task, clock, CPU, skb fields) cannot be set in the kernel");
    }
    let touched = file
        .maps
        .keys()
        .chain(case.maps.keys())
        .chain(case.expect.maps.keys());
    for name in touched {
        if let Some(m) = program.maps.iter().find(|m| &m.spec.name == name) {
            if is_percpu(m.spec.map_type) {
                return skip(format!(
                    "per-CPU map `{name}`: the kernel runs the program on whichever CPU it is on"
                ));
            }
        }
    }
    let kmaps = tri!(create_kernel_maps(&program.maps).map_err(|e| format!("kernel maps: {e}")));
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
            let MapValue::One(v) = v else {
                return fail(format!(
                    "map `{name}`: a list of values is for per-CPU maps"
                ));
            };
            let value = tri!(encode(
                v,
                def.value_size as usize,
                &format!("map `{name}` value")
            ));
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
    let ctx = match &case.ctx {
        Some(h) => tri!(parse_hex(h).map_err(|e| format!("ctx: {e}"))),
        None => Vec::new(),
    };
    if case.repeat == 0 {
        return fail("`repeat` must be at least 1");
    }
    let input = kernel::run::RunInput {
        prog_type: Some(prog_type),
        packet: &packet,
        ctx: &ctx,
        maps: kmaps.iter().collect(),
        ..Default::default()
    };
    let prepared = match kernel::run::prepare(&program.insns, &input) {
        Ok(p) => p,
        // Callbacks (function addresses) need BTF func_info, which this backend does not
        // pass yet: say so as a skip, not a disagreement.
        Err(e)
            if e.verifier_log()
                .is_some_and(|log| log.contains("missing btf func_info")) =>
        {
            return skip("kernel load needs BTF func_info (object-kernel-btf)");
        }
        // Constant-string arguments (ARG_PTR_TO_CONST_STR) need `.rodata` frozen read-only,
        // as libbpf leaves it; this backend does not freeze it yet.
        Err(e)
            if e.verifier_log()
                .is_some_and(|log| log.contains("does not point to a readonly map")) =>
        {
            return skip("constant-string arguments need .rodata frozen, which the kernel backend does not do");
        }
        Err(e) => {
            let mut v = vec![format!("the kernel refused the program: {e}")];
            if let Some(log) = e.verifier_log() {
                let tail: Vec<_> = log.lines().rev().take(3).collect();
                v.extend(tail.into_iter().rev().map(|l| format!("  {l}")));
            }
            return Outcome::Failed(v);
        }
    };
    let mut out = None;
    for _ in 0..case.repeat {
        out = Some(tri!(prepared.run(1).map_err(|e| format!("test run: {e}"))));
    }
    let out = out.expect("repeat >= 1");
    let mut obs = Observation {
        r0: Some(out.r0),
        r0_bits: out.r0_bits,
        meaning: prog_type.r0_meaning(out.r0),
        packet: Some(out.data),
        ctx: (!ctx.is_empty()).then_some(out.ctx),
        ns_per_run: Some(u64::from(out.ns_per_run)),
        ..Default::default()
    };
    for (m, km) in program.maps.iter().zip(&kmaps) {
        let entries = if !m.spec.map_type.readable_by_lookup() {
            Err(format!(
                "{} maps are not read back from the kernel",
                m.spec.map_type
            ))
        } else {
            km.entries()
                .map(|mut e| {
                    e.sort();
                    e.into_iter().map(|(k, v)| (k, vec![v])).collect()
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
