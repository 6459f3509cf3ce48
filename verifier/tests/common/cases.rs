//! Turning a kernel selftest case (one line of `cases*.jsonl`) into bytes and options:
//! maps by name, globals as array maps per section, relocations patched into `lddw`.
//! Shared by the agreement test and the verifier benchmark (included with `#[path]`).

use asm::types::{MapType, ProgType};
use asm::Insn;
use serde_json::Value;
use verifier::{MapSpec, Options};

use test_support::hex;

fn attach_type(name: &str) -> Option<u32> {
    const NAMES: &[&str] = &[
        "BPF_CGROUP_INET_INGRESS",
        "BPF_CGROUP_INET_EGRESS",
        "BPF_CGROUP_INET_SOCK_CREATE",
        "BPF_CGROUP_SOCK_OPS",
        "BPF_SK_SKB_STREAM_PARSER",
        "BPF_SK_SKB_STREAM_VERDICT",
        "BPF_CGROUP_DEVICE",
        "BPF_SK_MSG_VERDICT",
        "BPF_CGROUP_INET4_BIND",
        "BPF_CGROUP_INET6_BIND",
        "BPF_CGROUP_INET4_CONNECT",
        "BPF_CGROUP_INET6_CONNECT",
        "BPF_CGROUP_INET4_POST_BIND",
        "BPF_CGROUP_INET6_POST_BIND",
        "BPF_CGROUP_UDP4_SENDMSG",
        "BPF_CGROUP_UDP6_SENDMSG",
        "BPF_LIRC_MODE2",
        "BPF_FLOW_DISSECTOR",
        "BPF_CGROUP_SYSCTL",
        "BPF_CGROUP_UDP4_RECVMSG",
        "BPF_CGROUP_UDP6_RECVMSG",
        "BPF_CGROUP_GETSOCKOPT",
        "BPF_CGROUP_SETSOCKOPT",
        "BPF_TRACE_RAW_TP",
        "BPF_TRACE_FENTRY",
        "BPF_TRACE_FEXIT",
        "BPF_MODIFY_RETURN",
        "BPF_LSM_MAC",
        "BPF_TRACE_ITER",
        "BPF_CGROUP_INET4_GETPEERNAME",
        "BPF_CGROUP_INET6_GETPEERNAME",
        "BPF_CGROUP_INET4_GETSOCKNAME",
        "BPF_CGROUP_INET6_GETSOCKNAME",
        "BPF_XDP_DEVMAP",
        "BPF_CGROUP_INET_SOCK_RELEASE",
        "BPF_XDP_CPUMAP",
        "BPF_SK_LOOKUP",
        "BPF_XDP",
        "BPF_SK_SKB_VERDICT",
        "BPF_SK_REUSEPORT_SELECT",
        "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
        "BPF_PERF_EVENT",
        "BPF_TRACE_KPROBE_MULTI",
        "BPF_LSM_CGROUP",
        "BPF_STRUCT_OPS",
        "BPF_NETFILTER",
        "BPF_TCX_INGRESS",
        "BPF_TCX_EGRESS",
        "BPF_TRACE_UPROBE_MULTI",
        "BPF_CGROUP_UNIX_CONNECT",
        "BPF_CGROUP_UNIX_SENDMSG",
        "BPF_CGROUP_UNIX_RECVMSG",
        "BPF_CGROUP_UNIX_GETPEERNAME",
        "BPF_CGROUP_UNIX_GETSOCKNAME",
    ];
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

fn map_def(m: &Value) -> Option<MapSpec> {
    let t = MapType::from_number(m["type_id"].as_u64()? as u32)?;
    let mut d = MapSpec::new(
        t,
        m["key_size"].as_u64().unwrap_or(0) as u32,
        // The selftests size some values with TEST_DATA_LEN (64 in test_verifier).
        m["value_size"].as_u64().unwrap_or_else(|| {
            let e = m["error"].as_str().unwrap_or("");
            if e.contains("TEST_DATA_LEN") {
                64
            } else {
                // `sizeof char[N]`
                e.split('[')
                    .nth(1)
                    .and_then(|r| r.split(']').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            }
        }) as u32,
        m["max_entries"].as_u64().unwrap_or(0) as u32,
    )
    .named(m["name"].as_str().unwrap_or("inner"));
    if let Some(fields) = m["value_fields"].as_array() {
        for f in fields {
            let ty = f[1].as_str().unwrap_or("");
            let off = f[2].as_u64().unwrap_or(0) as u32;
            if ty == "struct bpf_spin_lock" {
                d.value_fields.spin_lock = Some(off);
            }
            if ty == "struct bpf_timer" {
                d.value_fields.timer = Some(off);
            }
        }
    }
    d.flags = match m["map_flags"].as_str() {
        Some("BPF_F_RDONLY_PROG") => verifier::BPF_F_RDONLY_PROG,
        Some("BPF_F_WRONLY_PROG") => verifier::BPF_F_WRONLY_PROG,
        Some("BPF_F_NO_PREALLOC") => 1,
        _ => 0,
    };
    if m["inner_map"].is_object() {
        d.inner = map_def(&m["inner_map"]).map(Box::new);
    }
    Some(d)
}

/// Builds the program bytes and options of a case, or the reason it is excluded.
pub fn prepare(c: &Value) -> Result<(Vec<u8>, Options), String> {
    let needs: Vec<&str> = c["needs"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for n in &needs {
        let kind = n.split(':').next().unwrap_or("");
        if matches!(
            kind,
            "btf" | "btf_attach_target" | "symbol" | "call_unresolved"
        ) {
            return Err(format!("needs {kind}"));
        }
    }
    let pt = c["prog_type_id"]
        .as_u64()
        .and_then(|n| ProgType::from_number(n as u32))
        .ok_or("unknown program type")?;
    let k = &c["kernel_6_18"];
    let mut bytes = hex(k["llvm_mc19"]["text_hex"].as_str().ok_or("no bytes")?);
    let mut opts = Options::new(pt);
    opts.expected_attach_type = c["expected_attach_type"].as_str().and_then(attach_type);
    let flags: Vec<&str> = c["flags"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    opts.strict_alignment = flags.contains(&"BPF_F_STRICT_ALIGNMENT");
    opts.any_alignment = flags.contains(&"BPF_F_ANY_ALIGNMENT");
    opts.test_state_freq = flags.contains(&"BPF_F_TEST_STATE_FREQ");
    for m in c["maps"].as_array().into_iter().flatten() {
        opts.maps.push(map_def(m).ok_or("bad map")?);
    }
    // Global variables: one array map per section, as libbpf makes them.
    type Section = (String, usize, Vec<(String, u32)>);
    let mut sections: Vec<Section> = Vec::new();
    for g in c["globals"].as_array().into_iter().flatten() {
        let sec = g["section"].as_str().unwrap_or(".bss").to_string();
        let size = g["size"].as_u64().unwrap_or(0) as u32;
        let name = g["name"].as_str().unwrap_or("").to_string();
        if !sections.iter().any(|s| s.0 == sec) {
            sections.push((sec.clone(), 0, Vec::new()));
        }
        let s = sections.iter_mut().find(|s| s.0 == sec).expect("section");
        let cur: u32 = s.1 as u32;
        s.2.push((name, cur));
        s.1 += size.max(1) as usize;
    }
    let mut global_at: Vec<(String, usize, u32)> = Vec::new();
    for (sec, size, vars) in &sections {
        let idx = opts.maps.len();
        let mut m = MapSpec::new(MapType::Array, 4, *size as u32, 1).named(sec);
        if sec.starts_with(".rodata") {
            m.flags = verifier::BPF_F_RDONLY_PROG;
        }
        opts.maps.push(m);
        for (n, o) in vars {
            global_at.push((n.clone(), idx, *o));
        }
    }
    for r in k["llvm_mc19"]["relocs"].as_array().into_iter().flatten() {
        let pc = r["insn"].as_u64().ok_or("reloc without insn")? as usize;
        let sym = r["sym"].as_str().unwrap_or("");
        let at = pc * Insn::SLOT;
        let lddw = asm::insn::slots(&bytes)
            .find(|&(p, _)| p == pc)
            .map(|(_, insn)| insn)
            .filter(|insn| insn.slots() == 2 && at + 2 * Insn::SLOT <= bytes.len());
        let Some(lddw) = lddw else {
            return Err(format!("reloc {sym} not on an lddw"));
        };
        let map = |i: usize| i32::try_from(i).expect("map index");
        let patched = if sym.is_empty() {
            // A function's address (a callback): libbpf makes it a BPF_PSEUDO_FUNC lddw
            // relative to the next slot, and loads the program with BTF func_info, in which
            // the selftests' callbacks are static.
            let target = (lddw.imm as u32 as usize) / Insn::SLOT;
            opts.btf_func_info = true;
            Insn::ld_func(lddw.dst, target as i32 - pc as i32 - 1)
        } else if let Some(i) = opts.maps.iter().position(|m| m.name == sym) {
            Insn::ld_map_fd(lddw.dst, map(i))
        } else if let Some((_, i, o)) = global_at.iter().find(|g| g.0 == sym) {
            // The addend LLVM left in the low half is the offset into the section.
            let addend = lddw.imm as u32;
            Insn::ld_map_value(lddw.dst, map(*i), o + addend)
        } else {
            return Err(format!("unresolved symbol {sym}"));
        };
        bytes[at..at + 2 * Insn::SLOT].copy_from_slice(&patched.encode());
    }
    Ok((bytes, opts))
}
