//! What one engine saw of one run, and the comparison of two engines' observations.

use crate::schema::hex;
use asm::types::{MapSpec, MapType};
use std::collections::BTreeMap;

/// What an engine observed of a case's run. Fields an engine cannot observe are `None`
/// (the kernel counts no instructions and does not read ring buffers or trace lines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The run failed with this error (then `r0` is `None`).
    pub error: Option<String>,
    /// `r0` at exit.
    pub r0: Option<u64>,
    /// How many low bits of `r0` are known (64, or 32 when the kernel reports retval only).
    pub r0_bits: u8,
    /// What `r0` means for the program type (`XDP_PASS`, ...).
    pub meaning: Option<String>,
    /// The packet (memory mode: the memory) after the run.
    pub packet: Option<Vec<u8>>,
    /// The context after the run, when the run was given one.
    pub ctx: Option<Vec<u8>>,
    /// Every map of the program, in index order.
    pub maps: Vec<ObservedMap>,
    /// Global variables after the run, by name (`None`: not observed).
    pub globals: Option<BTreeMap<String, Vec<u8>>>,
    /// Ring buffer records of all runs, by map name, oldest first.
    pub records: Option<BTreeMap<String, Vec<Vec<u8>>>>,
    /// `bpf_trace_printk` lines of all runs.
    pub trace: Option<Vec<String>>,
    /// Instructions the last run executed.
    pub insns: Option<u64>,
    /// Where the last run sent packets: clones, then the pending redirect (the VM only).
    pub redirects: Option<Vec<String>>,
    /// Mean nanoseconds per run, as the kernel measured.
    pub ns_per_run: Option<u64>,
    /// The CPU whose value a single expected value of a per-CPU map is compared with.
    pub cpu: usize,
}

/// A map's entries sorted by key, each with one value per CPU (per-CPU maps) or one value.
pub type MapContents = Vec<(Vec<u8>, Vec<Vec<u8>>)>;

/// A map after the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedMap {
    /// Its definition (name, type, sizes).
    pub spec: MapSpec,
    /// Its entries sorted by key, each with one value per CPU (per-CPU maps) or one value;
    /// `Err`: why the engine could not list them.
    pub entries: Result<MapContents, String>,
}

/// Whether a map type holds one value per CPU.
pub fn is_percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash
    )
}

impl ObservedMap {
    /// The value for `key` on `cpu` (other maps: their one value).
    pub fn value(&self, key: &[u8], cpu: usize) -> Result<Option<&[u8]>, String> {
        let entries = self.entries.as_ref().map_err(Clone::clone)?;
        Ok(entries.iter().find(|(k, _)| k == key).and_then(|(_, v)| {
            let i = if is_percpu(self.spec.map_type) {
                cpu
            } else {
                0
            };
            v.get(i).map(Vec::as_slice)
        }))
    }

    /// Every CPU's value for `key`.
    pub fn values(&self, key: &[u8]) -> Result<Option<&[Vec<u8>]>, String> {
        let entries = self.entries.as_ref().map_err(Clone::clone)?;
        Ok(entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice()))
    }

    /// Whether two engines' contents of this map can be compared: the engine listed them,
    /// and they are not per-CPU values (which depend on the CPU the kernel ran on).
    pub fn comparable(&self) -> bool {
        !is_percpu(self.spec.map_type) && self.entries.is_ok()
    }
}

impl Observation {
    /// The return value as the human output shows it: `2 (XDP_PASS)`, `0: drop`, ...
    pub fn show_ret(&self) -> String {
        let ret = self.r0.unwrap_or_default();
        match &self.meaning {
            Some(m) if m.starts_with(|c: char| c.is_ascii_uppercase()) => format!("{ret} ({m})"),
            Some(m) if !m.starts_with(&ret.to_string()) => format!("{ret}: {m}"),
            Some(m) => m.clone(),
            None => ret.to_string(),
        }
    }

    /// The map called `name`.
    pub fn map(&self, name: &str) -> Option<&ObservedMap> {
        self.maps.iter().find(|m| m.spec.name == name)
    }
}

/// One compared aspect of two runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `verdict`, `r0`, `packet`, `context`, `map 0 `counts``...
    pub what: String,
    /// The VM's side.
    pub vm: String,
    /// The kernel's side.
    pub kernel: String,
    /// Whether they agree.
    pub agree: bool,
}

/// Bytes shown at most per side; the first difference is named.
const SHOW: usize = 16;

fn bytes_row(what: &str, v: &[u8], k: &[u8]) -> Row {
    let show = |b: &[u8]| {
        if b.len() <= SHOW {
            hex(b)
        } else {
            format!("{}… ({} bytes)", hex(&b[..SHOW]), b.len())
        }
    };
    let agree = k == v;
    let mut vm = show(v);
    if !agree {
        match k.iter().zip(v).position(|(a, b)| a != b) {
            Some(i) => vm.push_str(&format!(
                " [first difference at byte {i}: {:#04x} vs {:#04x}]",
                k[i], v[i]
            )),
            None => vm.push_str(&format!(" [lengths differ: {} vs {}]", k.len(), v.len())),
        }
    }
    Row {
        what: what.into(),
        kernel: show(k),
        vm,
        agree,
    }
}

/// Compares what the VM and the kernel observed of the same run: verdict, r0 (the bits
/// both know), packet, context (the bytes both have: the VM may add fields past the end)
/// and the contents of the maps both can list (see [`ObservedMap::comparable`]).
/// `memory` names the data row `memory` instead of `packet`. Every row is returned; the
/// runs agree when every row does.
pub fn compare(vm: &Observation, kernel: &Observation, memory: bool) -> Vec<Row> {
    let verdict = |o: &Observation, ok: &str| match &o.error {
        None => ok.to_string(),
        Some(e) => e.clone(),
    };
    let mut rows = vec![Row {
        what: "verdict".into(),
        kernel: verdict(kernel, "accepts"),
        vm: verdict(vm, "runs"),
        agree: kernel.error.is_none() == vm.error.is_none(),
    }];
    if kernel.error.is_some() || vm.error.is_some() {
        return rows;
    }
    let (kr, vr) = (kernel.r0.unwrap_or_default(), vm.r0.unwrap_or_default());
    let wide = kernel.r0_bits == 64 && vm.r0_bits == 64;
    let mask = if wide { u64::MAX } else { 0xffff_ffff };
    let note = if wide { "" } else { " (32 bits known)" };
    rows.push(Row {
        what: "r0".into(),
        kernel: format!("{kr:#x}{note}"),
        vm: format!("{vr:#x}"),
        agree: kr & mask == vr & mask,
    });
    if let (Some(v), Some(k)) = (&vm.packet, &kernel.packet) {
        if !k.is_empty() || !v.is_empty() {
            rows.push(bytes_row(if memory { "memory" } else { "packet" }, v, k));
        }
    }
    if let (Some(v), Some(k)) = (&vm.ctx, &kernel.ctx) {
        if !k.is_empty() {
            let n = k.len().min(v.len());
            rows.push(bytes_row("context", &v[..n], &k[..n]));
        }
    }
    for (i, (vmap, kmap)) in vm.maps.iter().zip(&kernel.maps).enumerate() {
        if !vmap.comparable() || !kmap.comparable() {
            continue;
        }
        let show = |m: &ObservedMap| {
            m.entries
                .as_ref()
                .map(|e| {
                    e.iter()
                        .map(|(k, v)| format!("{}={}", hex(k), hex(&v.concat())))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        let name = &vmap.spec.name;
        rows.push(Row {
            what: if name.is_empty() {
                format!("map {i}")
            } else {
                format!("map {i} `{name}`")
            },
            kernel: show(kmap),
            vm: show(vmap),
            agree: vmap.entries == kmap.entries,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(r0: u64, packet: &[u8], entries: Vec<(Vec<u8>, Vec<Vec<u8>>)>) -> Observation {
        Observation {
            r0: Some(r0),
            r0_bits: 64,
            packet: Some(packet.to_vec()),
            maps: vec![ObservedMap {
                spec: MapSpec::hash(4, 8, 16).named("counts"),
                entries: Ok(entries),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn agreeing_runs_have_only_agreeing_rows() {
        let e = vec![(vec![1, 0, 0, 0], vec![vec![2; 8]])];
        let rows = compare(&obs(2, &[1, 2], e.clone()), &obs(2, &[1, 2], e), false);
        assert_eq!(
            rows.iter().map(|r| r.what.as_str()).collect::<Vec<_>>(),
            ["verdict", "r0", "packet", "map 0 `counts`"]
        );
        assert!(rows.iter().all(|r| r.agree));
    }

    #[test]
    fn differences_are_named() {
        let a = obs(2, &[1, 2], vec![]);
        let mut b = obs(
            1 << 32 | 2,
            &[1, 3],
            vec![(vec![1, 0, 0, 0], vec![vec![0; 8]])],
        );
        let rows = compare(&a, &b, false);
        let bad: Vec<_> = rows.iter().filter(|r| !r.agree).map(|r| &r.what).collect();
        assert_eq!(bad, ["r0", "packet", "map 0 `counts`"]);
        assert!(rows[2].vm.contains("first difference at byte 1"));
        // Only 32 bits known on one side: the high bits are not compared.
        b.r0_bits = 32;
        let rows = compare(&a, &b, false);
        assert!(rows[1].agree, "{rows:?}");
        assert!(rows[1].kernel.ends_with("(32 bits known)"));
        // A failed run compares the verdicts only.
        b.error = Some("refused".into());
        let rows = compare(&a, &b, true);
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].agree);
    }

    #[test]
    fn per_cpu_maps_are_not_compared() {
        let mut a = obs(0, &[], vec![]);
        a.maps[0].spec.map_type = MapType::PercpuHash;
        let mut b = a.clone();
        b.maps[0].entries = Ok(vec![(vec![0; 4], vec![vec![1; 8]])]);
        let rows = compare(&a, &b, false);
        assert!(rows.iter().all(|r| r.agree && !r.what.starts_with("map")));
    }
}
