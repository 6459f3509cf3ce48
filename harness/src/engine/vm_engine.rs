//! The VM engine: each case on a fresh `vm::testing` bench.

use super::{Engine, Outcome, Source, Suite};

use crate::observation::{is_percpu, MapContents, Observation, ObservedMap};
use crate::schema::{encode, parse_hex, write_pt_regs, Case, Entries, EnvDecl, MapValue};
use asm::types::ProgType;
use std::collections::BTreeMap;
use vm::testing::Test;
use vm::Env;

/// Runs cases in bpfx's VM, which observes everything: trace lines, ring buffer records,
/// instruction counts, per-CPU values.
#[derive(Debug, Default)]
pub struct VmEngine;

impl Engine for VmEngine {
    fn name(&self) -> &str {
        "vm"
    }

    fn available(&self) -> Result<(), String> {
        Ok(())
    }

    fn run(&mut self, suite: &Suite, cases: &[&Case]) -> Vec<Outcome> {
        cases
            .iter()
            .map(|c| match run_case(suite, c) {
                Ok(o) => Outcome::Observed(Box::new(o)),
                Err(e) => Outcome::Failed(vec![e]),
            })
            .collect()
    }
}

fn env_of(decls: [&EnvDecl; 2]) -> Env {
    let mut env = Env::default();
    for d in decls {
        macro_rules! set {
            ($($f:ident => $($target:ident).+),*) => {$(
                if let Some(v) = d.$f.clone() { env.$($target).+ = v; }
            )*};
        }
        set!(pid => pid, tgid => tgid, uid => uid, gid => gid, comm => comm, cpu => cpu,
             ncpus => ncpus, ktime_ns => ktime_ns, mark => skb.mark, priority => skb.priority,
             ifindex => skb.ifindex, hash => skb.hash, vlan_tci => skb.vlan_tci,
             rx_queue_index => xdp_rx_queue_index, current_task => current_task,
             numa_node => numa_node, cgroup_path => cgroup_path, func_ip => func_ip,
             attach_cookie => attach_cookie, tai_offset_ns => tai_offset_ns, hz => hz,
             kernel_stack => kernel_stack, user_stack => user_stack);
        if let Some(i) = d.ingress_ifindex {
            env.skb.ingress_ifindex = i;
            env.xdp_ingress_ifindex = i;
        }
    }
    env
}

fn run_case(suite: &Suite, case: &Case) -> Result<Observation, String> {
    let file = &suite.file;
    let env = env_of([&file.env, &case.env]);
    let mut t = match &suite.source {
        Source::Object(obj) => Test::from_object_env(obj, env.clone()),
        Source::Asm {
            insns,
            prog_type,
            maps,
        } => {
            let defs: Vec<_> = maps.iter().cloned().map(obj::Map::declared).collect();
            Test::from_insns_env(insns, *prog_type, &defs, env.clone())
        }
    }
    .map_err(|e| e.to_string())?;
    *t.env_mut() = env;
    if let Some(p) = case.program.as_ref().or(file.program.as_ref()) {
        t.select(p).map_err(|e| e.to_string())?;
    }
    for (name, entries) in file.maps.iter().chain(case.maps.iter()) {
        set_map(&mut t, name, entries)?;
    }
    for (map, slots) in &file.tail_calls {
        for (index, prog) in slots {
            t.set_tail_call(map, *index, prog)
                .map_err(|e| e.to_string())?;
        }
    }
    for (name, v) in &case.globals {
        let size = t.global_bytes(name).map_err(|e| e.to_string())?.len();
        let bytes = encode(v, size, &format!("global `{name}`"))?;
        t.set_global(name, &bytes).map_err(|e| e.to_string())?;
    }
    if let Some(p) = suite.packet(case)? {
        t.set_packet(&p);
    }
    let mut ctx = match &case.ctx {
        Some(h) => parse_hex(h).map_err(|e| format!("ctx: {e}"))?,
        None => Vec::new(),
    };
    if !case.regs.is_empty() {
        if t.prog_type() != Some(ProgType::Kprobe) {
            return Err("`regs` is for kprobe programs (struct pt_regs)".into());
        }
        write_pt_regs(&mut ctx, &case.regs)?;
    }
    let gave_ctx = !ctx.is_empty();
    t.set_ctx(&ctx);
    if case.repeat == 0 {
        return Err("`repeat` must be at least 1".into());
    }
    let mut obs = Observation {
        r0_bits: 64,
        cpu: t.env_mut().cpu as usize,
        ..Default::default()
    };
    let mut trace = Vec::new();
    let mut records: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for _ in 0..case.repeat {
        match t.run() {
            Ok(run) => {
                trace.extend(run.trace.iter().cloned());
                for r in &run.records {
                    records
                        .entry(r.map.clone())
                        .or_default()
                        .push(r.data.clone());
                }
                obs.r0 = Some(run.ret);
                obs.meaning = run.meaning;
                obs.packet = Some(run.packet);
                obs.ctx = gave_ctx.then_some(run.ctx);
                obs.insns = Some(run.insns);
                if let Some(ns) = case.advance_ns {
                    match t.advance_clock(ns) {
                        Ok(lines) => trace.extend(lines),
                        Err(e) => {
                            obs.error = Some(e.to_string());
                            return Ok(obs);
                        }
                    }
                }
            }
            Err(e) => {
                obs.error = Some(e.to_string());
                return Ok(obs);
            }
        }
    }
    obs.trace = Some(trace);
    obs.records = Some(records);
    for def in t.maps().to_vec() {
        let spec = def.spec.clone();
        let entries = dump(&mut t, &spec);
        obs.maps.push(ObservedMap { spec, entries });
    }
    let mut globals = BTreeMap::new();
    if let Source::Object(obj) = &suite.source {
        for g in obj.globals.clone() {
            if let Ok(b) = t.global_bytes(&g.name) {
                globals.insert(g.name, b);
            }
        }
    }
    obs.globals = Some(globals);
    Ok(obs)
}

/// A map's entries, sorted by key, with every CPU's value for per-CPU maps.
fn dump(t: &mut Test, spec: &asm::types::MapSpec) -> Result<MapContents, String> {
    let m = t
        .map::<Vec<u8>, Vec<u8>>(&spec.name)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (k, v) in m.entries().map_err(|e| e.to_string())? {
        let vals = if is_percpu(spec.map_type) {
            m.get_all_cpus(&k)
                .map_err(|e| e.to_string())?
                .unwrap_or_default()
        } else {
            vec![v]
        };
        out.push((k, vals));
    }
    out.sort();
    Ok(out)
}

fn set_map(t: &mut Test, name: &str, entries: &Entries) -> Result<(), String> {
    let def = t
        .maps()
        .iter()
        .find(|m| m.name() == name)
        .map(|m| m.spec.clone())
        .ok_or_else(|| {
            let known: Vec<_> = t.maps().iter().map(|m| m.name()).collect();
            format!(
                "no map named `{name}` (maps: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )
        })?;
    let ncpus = t.env_mut().ncpus as usize;
    for (k, v) in entries {
        let key = encode(k, def.key_size as usize, &format!("map `{name}` key"))?;
        let what = format!("map `{name}` value");
        let value = match v {
            MapValue::One(s) => encode(s, def.value_size as usize, &what)?,
            MapValue::PerCpu(list) if is_percpu(def.map_type) => {
                if list.len() != ncpus {
                    return Err(format!(
                        "{what}: {} per-CPU values for {ncpus} CPUs",
                        list.len()
                    ));
                }
                // BPF_MAP_UPDATE_ELEM takes each CPU's value padded to 8 bytes.
                let stride = (def.value_size as usize).div_ceil(8) * 8;
                let mut all = Vec::new();
                for s in list {
                    let mut b = encode(s, def.value_size as usize, &what)?;
                    b.resize(stride, 0);
                    all.extend(b);
                }
                all
            }
            MapValue::PerCpu(_) => {
                return Err(format!(
                    "{what}: a list of values is for per-CPU maps; `{name}` is a {} map",
                    def.map_type
                ))
            }
        };
        t.map::<Vec<u8>, Vec<u8>>(name)
            .and_then(|mut m| m.set(&key, &value))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
