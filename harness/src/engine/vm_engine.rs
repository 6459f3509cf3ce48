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
        run_cases(suite, cases, None)
    }
}

/// Runs cases in the VM; `ncpus`: the number of CPUs when the case's `env.ncpus` does not
/// say (the host kernel's possible CPUs when the run is compared with the kernel, whose
/// per-CPU maps have that many values; else the VM's default).
pub fn run_cases(suite: &Suite, cases: &[&Case], ncpus: Option<u32>) -> Vec<Outcome> {
    cases
        .iter()
        .map(|c| match run_case(suite, c, ncpus) {
            Ok(o) => Outcome::Observed(Box::new(o)),
            Err(e) => Outcome::Failed(vec![e]),
        })
        .collect()
}

fn env_of(decls: [&EnvDecl; 2], ncpus: Option<u32>) -> Result<Env, String> {
    let mut env = Env::default();
    if let Some(n) = ncpus {
        env.ncpus = n;
    }
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
        set_net(&mut env.net, d)?;
    }
    Ok(env)
}

/// The network fields of `env` (packet programs).
fn set_net(net: &mut vm::NetEnv, d: &EnvDecl) -> Result<(), String> {
    macro_rules! set {
        ($($f:ident),*) => {$( if let Some(v) = d.$f { net.$f = v; } )*};
    }
    set!(
        csum,
        csum_level,
        flow_hash,
        cgroup_classid,
        route_realm,
        socket_cookie
    );
    if let Some(s) = &d.ip_summed {
        net.ip_summed = match s.as_str() {
            "none" => vm::IpSummed::None,
            "unnecessary" => vm::IpSummed::Unnecessary,
            "complete" => vm::IpSummed::Complete,
            "partial" => vm::IpSummed::Partial,
            _ => {
                return Err(format!(
                    "env.ip_summed: `{s}` is not one of none, unnecessary, complete, partial"
                ))
            }
        };
    }
    if let Some(uid) = d.socket_uid {
        net.socket_uid = match uid {
            -1 => None,
            0..=0xffff_ffff => Some(uid as u32),
            _ => {
                return Err(format!(
                    "env.socket_uid: {uid} is not a uid (or -1: no socket)"
                ))
            }
        };
    }
    if let Some(list) = &d.interfaces {
        net.interfaces = list
            .iter()
            .map(|i| {
                let mac = match &i.mac {
                    None => [0; 6],
                    Some(h) => mac(h, "env.interfaces mac")?,
                };
                Ok(vm::Interface {
                    ifindex: i.ifindex,
                    mtu: i.mtu,
                    mac,
                    forwarding: i.forwarding,
                })
            })
            .collect::<Result<_, String>>()?;
    }
    if let Some(list) = &d.routes {
        net.routes = list.iter().map(route).collect::<Result<_, String>>()?;
    }
    if let Some(list) = &d.sockets {
        net.sockets = list.iter().map(socket).collect::<Result<_, String>>()?;
    }
    if let Some(list) = &d.neighbours {
        net.neighbours = list
            .iter()
            .map(|n| {
                Ok(vm::Neighbour {
                    ip: ip(&n.ip, "env.neighbours ip")?,
                    ifindex: n.ifindex,
                    mac: mac(&n.mac, "env.neighbours mac")?,
                })
            })
            .collect::<Result<_, String>>()?;
    }
    Ok(())
}

fn ip(s: &str, what: &str) -> Result<std::net::IpAddr, String> {
    s.parse()
        .map_err(|_| format!("{what}: `{s}` is not an IPv4 or IPv6 address"))
}

fn mac(s: &str, what: &str) -> Result<[u8; 6], String> {
    parse_hex(s)
        .map_err(|e| format!("{what}: {e}"))?
        .try_into()
        .map_err(|b: Vec<u8>| format!("{what}: {} bytes, a MAC address is 6", b.len()))
}

fn socket(s: &crate::schema::SocketDecl) -> Result<vm::Socket, String> {
    let addr = |a: &str, what: &str| -> Result<std::net::SocketAddr, String> {
        a.parse()
            .map_err(|_| format!("env.sockets {what}: `{a}` is not ADDRESS:PORT"))
    };
    let protocol = match s.protocol.as_str() {
        "tcp" => 6,
        "udp" => 17,
        p => return Err(format!("env.sockets protocol: `{p}` is not tcp or udp")),
    };
    let remote = s.remote.as_deref().map(|r| addr(r, "remote")).transpose()?;
    // BPF_TCP_LISTEN, BPF_TCP_ESTABLISHED; an unconnected UDP socket shows TCP_CLOSE.
    let state = s.state.unwrap_or(match (protocol, remote) {
        (6, None) => 10,
        (6, Some(_)) => 1,
        _ => 7,
    });
    Ok(vm::Socket {
        protocol,
        local: addr(&s.local, "local")?,
        remote,
        state,
        bound_dev_if: s.bound_dev_if,
        mark: s.mark,
        priority: s.priority,
    })
}

fn route(r: &crate::schema::RouteDecl) -> Result<vm::Route, String> {
    let (addr, len) = r
        .dst
        .split_once('/')
        .ok_or_else(|| format!("env.routes dst: `{}` is not ADDRESS/PREFIX_LENGTH", r.dst))?;
    let dst = ip(addr, "env.routes dst")?;
    let max = if dst.is_ipv4() { 32 } else { 128 };
    let prefix_len = len
        .parse::<u8>()
        .ok()
        .filter(|&l| l <= max)
        .ok_or_else(|| format!("env.routes dst: prefix length `{len}` is not 0–{max}"))?;
    let route_type = match r.route_type.as_deref().unwrap_or("unicast") {
        "unicast" => vm::RouteType::Unicast,
        "blackhole" => vm::RouteType::Blackhole,
        "unreachable" => vm::RouteType::Unreachable,
        "prohibit" => vm::RouteType::Prohibit,
        "local" => vm::RouteType::Local,
        t => {
            return Err(format!(
            "env.routes type: `{t}` is not one of unicast, blackhole, unreachable, prohibit, local"
        ))
        }
    };
    Ok(vm::Route {
        dst,
        prefix_len,
        via: r
            .via
            .as_deref()
            .map(|v| ip(v, "env.routes via"))
            .transpose()?,
        ifindex: r.ifindex,
        route_type,
        metric: r.metric,
        table: r.table.unwrap_or(254),
        src: r
            .src
            .as_deref()
            .map(|v| ip(v, "env.routes src"))
            .transpose()?,
        mtu: r.mtu,
    })
}

fn run_case(suite: &Suite, case: &Case, ncpus: Option<u32>) -> Result<Observation, String> {
    let file = &suite.file;
    let env = env_of([&file.env, &case.env], ncpus)?;
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
    for (name, records) in &case.user_ringbuf {
        push_user_records(&mut t, name, records)?;
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
    if !case.ctx_fields.is_empty() {
        crate::schema::write_ctx_fields(&mut ctx, t.prog_type(), &case.ctx_fields)?;
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
                obs.redirects = Some(run.redirects.iter().map(|r| r.to_string()).collect());
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

/// Submits `records` (hex) to the user ring buffer `name`, as user space would.
fn push_user_records(t: &mut Test, name: &str, records: &[String]) -> Result<(), String> {
    let index = t
        .maps()
        .iter()
        .position(|m| m.name() == name)
        .ok_or_else(|| {
            let known: Vec<_> = t.maps().iter().map(|m| m.name()).collect();
            format!(
                "user_ringbuf: no map named `{name}` (maps: {})",
                known.join(", ")
            )
        })?;
    let map = t
        .vm_mut()
        .map_mut(index as u32)
        .ok_or_else(|| format!("user_ringbuf: map `{name}` was not created"))?;
    for (i, hex) in records.iter().enumerate() {
        let bytes = parse_hex(hex).map_err(|e| format!("user_ringbuf.{name}[{i}]: {e}"))?;
        map.user_ringbuf_push(&bytes, vm::UserRecordState::Submitted)
            .map_err(|e| format!("user_ringbuf.{name}[{i}]: {e}"))?;
    }
    Ok(())
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
