//! Measured agreement with kernel 6.18 on the kernel's own verifier selftests.
//!
//! Reads every `cases*.jsonl` under `BPFX_VERIFIER_CASES` (a directory) or
//! `../shared/verifier` beside the workspace, verifies each case's llvm-mc-19 bytes with the
//! case's maps, and compares the verdict and the last error line with what kernel 6.18 did.
//! Cases that need BTF (kfuncs, BTF-typed attach targets, BTF ids) are excluded and counted.
//! Set `BPFX_VERIFIER_DIFF=1` to list every disagreement.

use asm::types::{MapType, ProgType};
use serde_json::Value;
use std::path::PathBuf;
use verifier::{MapDef, Options, RejectKind};

/// The agreement this implementation reached when the test was written; the test fails if
/// a change makes it worse.
const VERDICT_FLOOR: usize = 840;
const MESSAGE_FLOOR: usize = 309;

fn cases_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("BPFX_VERIFIER_CASES") {
        return Some(PathBuf::from(d));
    }
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/verifier");
    d.is_dir().then_some(d)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

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

fn map_def(m: &Value) -> Option<MapDef> {
    let t = MapType::from_number(m["type_id"].as_u64()? as u32)?;
    let mut d = MapDef::new(
        m["name"].as_str().unwrap_or("inner"),
        t,
        m["key_size"].as_u64().unwrap_or(0) as u32,
        // The selftests size some values with TEST_DATA_LEN (64 in test_verifier).
        m["value_size"].as_u64().unwrap_or_else(|| {
            if m["error"]
                .as_str()
                .is_some_and(|e| e.contains("TEST_DATA_LEN"))
            {
                64
            } else {
                0
            }
        }) as u32,
        m["max_entries"].as_u64().unwrap_or(0) as u32,
    );
    if let Some(fields) = m["value_fields"].as_array() {
        for f in fields {
            let ty = f[1].as_str().unwrap_or("");
            let off = f[2].as_u64().unwrap_or(0) as u32;
            if ty == "struct bpf_spin_lock" {
                d.spin_lock_off = Some(off);
            }
            if ty == "struct bpf_timer" {
                d.timer_off = Some(off);
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
fn prepare(c: &Value) -> Result<(Vec<u8>, Options), String> {
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
        let mut m = MapDef::new(sec, MapType::Array, 4, *size as u32, 1);
        if sec.starts_with(".rodata") {
            m.flags = verifier::BPF_F_RDONLY_PROG;
        }
        opts.maps.push(m);
        for (n, o) in vars {
            global_at.push((n.clone(), idx, *o));
        }
    }
    for r in k["llvm_mc19"]["relocs"].as_array().into_iter().flatten() {
        let at = r["insn"].as_u64().ok_or("reloc without insn")? as usize * 8;
        let sym = r["sym"].as_str().unwrap_or("");
        if at + 16 > bytes.len() || bytes[at] != 0x18 {
            return Err(format!("reloc {sym} not on an lddw"));
        }
        if let Some(i) = opts.maps.iter().position(|m| m.name == sym) {
            bytes[at + 1] = (bytes[at + 1] & 0x0f) | (1 << 4);
            bytes[at + 4..at + 8].copy_from_slice(&(i as u32).to_le_bytes());
        } else if let Some((_, i, o)) = global_at.iter().find(|g| g.0 == sym) {
            let addend = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4"));
            bytes[at + 1] = (bytes[at + 1] & 0x0f) | (2 << 4);
            bytes[at + 4..at + 8].copy_from_slice(&(*i as u32).to_le_bytes());
            bytes[at + 12..at + 16].copy_from_slice(&(o + addend).to_le_bytes());
        } else {
            return Err(format!("unresolved symbol {sym}"));
        }
    }
    Ok((bytes, opts))
}

#[test]
fn kernel_selftests_agreement() {
    let Some(dir) = cases_dir() else {
        println!(
            "skipped: no verifier cases (set BPFX_VERIFIER_CASES or provide ../shared/verifier)"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cases") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        println!("skipped: no cases*.jsonl in {}", dir.display());
        return;
    }
    let show = std::env::var("BPFX_VERIFIER_DIFF").is_ok();
    let (mut v_ok, mut v_bad, mut m_ok, mut m_bad, mut rejects) = (0, 0, 0, 0, 0);
    let (mut excluded, mut no_verdict, mut unsupported) = (0, 0, 0);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read cases");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let c: Value = serde_json::from_str(line).expect("case json");
            let k = &c["kernel_6_18"];
            let Some(verdict) = k["verdict"].as_str() else {
                no_verdict += 1;
                continue;
            };
            let (bytes, opts) = match prepare(&c) {
                Ok(x) => x,
                Err(why) => {
                    excluded += 1;
                    *reasons.entry(why).or_default() += 1;
                    continue;
                }
            };
            let id = c["id"].as_str().unwrap_or("?");
            let res = verifier::verify_bytes(&bytes, &opts);
            let ours = if res.is_ok() { "accept" } else { "reject" };
            if let Err(e) = &res {
                if e.kind == RejectKind::Unsupported {
                    unsupported += 1;
                }
            }
            if ours == verdict {
                v_ok += 1;
            } else {
                v_bad += 1;
                if show {
                    println!(
                        "VERDICT {id}: kernel {verdict} {:?}, bpfx {}",
                        k["first_error_line"].as_str().unwrap_or(""),
                        match &res {
                            Ok(_) => "accept".to_string(),
                            Err(e) =>
                                format!("reject {:?} at {} ({:?})", e.message, e.insn, e.kind),
                        }
                    );
                }
            }
            if verdict == "reject" {
                rejects += 1;
                let want = k["first_error_line"].as_str().unwrap_or("");
                let got = res.as_ref().err().map(|e| e.message.as_str()).unwrap_or("");
                if res.is_err() && got == want {
                    m_ok += 1;
                } else {
                    m_bad += 1;
                    if show && res.is_err() {
                        println!("MESSAGE {id}: kernel {want:?}, bpfx {got:?}");
                    }
                }
            }
        }
    }
    let reason_list: Vec<String> = reasons.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!(
        "verdict: {v_ok} agreed, {v_bad} disagreed; first message: {m_ok} agreed, {m_bad} disagreed (of {rejects} rejects); excluded: {excluded} ({}); without a kernel verdict: {no_verdict}; bpfx declined (unsupported, counted as disagreements when the kernel accepted): {unsupported}",
        reason_list.join(", ")
    );
    assert!(
        v_ok >= VERDICT_FLOOR,
        "verdict agreement regressed: {v_ok} < {VERDICT_FLOOR}"
    );
    assert!(
        m_ok >= MESSAGE_FLOOR,
        "message agreement regressed: {m_ok} < {MESSAGE_FLOOR}"
    );
}
