//! What one engine saw of one run, and the comparison of two engines' observations.

use crate::schema::hex;
use asm::types::{MapSpec, MapType};
use std::collections::BTreeMap;

/// What an engine observed of a case's run. Fields an engine cannot observe are `None`
/// (the kernel counts no instructions; ring buffer records and trace lines it reads back
/// when it can, else [`Observation::unobserved`] says why).
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
    /// Why an aspect is `None` (`records`, `trace`): what the engine could not read back.
    pub unobserved: BTreeMap<String, String>,
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

    /// Whether two engines' contents of this map can be compared: the engine listed them.
    /// Per-CPU maps are compared CPU by CPU (both engines run the program on the CPU the
    /// case names, CPU 0 by default, with as many CPUs as the kernel has).
    pub fn comparable(&self) -> bool {
        self.entries.is_ok()
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
    /// Whether they agree (true for a row that was not compared).
    pub agree: bool,
    /// Whether the two sides were compared at all; when not, `kernel` or `vm` says
    /// `not compared: <why>`.
    pub compared: bool,
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
        compared: true,
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
        compared: true,
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
        compared: true,
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
        let name = &vmap.spec.name;
        let what = if name.is_empty() {
            format!("map {i}")
        } else {
            format!("map {i} `{name}`")
        };
        if !vmap.comparable() || !kmap.comparable() {
            // One engine could not list the map: say so rather than skip it silently.
            let side = |m: &ObservedMap| match &m.entries {
                Err(why) => format!("not compared: {why}"),
                Ok(_) => String::new(),
            };
            rows.push(Row {
                what,
                kernel: side(kmap),
                vm: side(vmap),
                agree: true,
                compared: false,
            });
            continue;
        }
        let show = |m: &ObservedMap| {
            m.entries
                .as_ref()
                .map(|e| {
                    e.iter()
                        .map(|(k, v)| {
                            let v: Vec<String> = v.iter().map(|b| hex(b)).collect();
                            format!("{}={}", hex(k), v.join("|"))
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        rows.push(Row {
            what,
            kernel: show(kmap),
            vm: show(vmap),
            agree: vmap.entries == kmap.entries,
            compared: true,
        });
    }
    rows.extend(compare_output(
        "ring buffer records",
        vm.records.as_ref(),
        kernel.records.as_ref(),
        [&vm.unobserved, &kernel.unobserved].map(|u| u.get("records")),
        |(name, recs)| {
            let shown: Vec<String> = recs.iter().map(|r| hex(r)).collect();
            format!("`{name}`: [{}]", shown.join(", "))
        },
    ));
    rows.extend(compare_output(
        "trace",
        vm.trace
            .as_ref()
            .map(|t| BTreeMap::from([(String::new(), t.clone())]))
            .as_ref(),
        kernel
            .trace
            .as_ref()
            .map(|t| BTreeMap::from([(String::new(), t.clone())]))
            .as_ref(),
        [&vm.unobserved, &kernel.unobserved].map(|u| u.get("trace")),
        |(_, lines)| format!("{lines:?}"),
    ));
    rows
}

/// Rows for output the program leaves outside maps (ring buffer records by map, trace
/// lines): one row per key when both engines read it back; when one could not, one row
/// saying `not compared: <why>` — unless neither side has anything to show.
fn compare_output<T: PartialEq>(
    what: &str,
    vm: Option<&BTreeMap<String, Vec<T>>>,
    kernel: Option<&BTreeMap<String, Vec<T>>>,
    why: [Option<&String>; 2],
    show: impl Fn((&String, &Vec<T>)) -> String,
) -> Vec<Row> {
    let not_compared = |side: usize| {
        format!(
            "not compared: {}",
            why[side].map_or("not observed by this engine", String::as_str)
        )
    };
    let shown = |m: Option<&BTreeMap<String, Vec<T>>>| {
        m.map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_empty())
                .map(&show)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
    };
    match (vm, kernel) {
        (Some(v), Some(k)) => {
            let mut names: Vec<&String> = v.keys().chain(k.keys()).collect();
            names.sort();
            names.dedup();
            let empty = Vec::new();
            names
                .into_iter()
                .filter_map(|n| {
                    let (a, b) = (v.get(n).unwrap_or(&empty), k.get(n).unwrap_or(&empty));
                    (!a.is_empty() || !b.is_empty()).then(|| Row {
                        what: if n.is_empty() {
                            what.to_string()
                        } else {
                            format!("{what} `{n}`")
                        },
                        vm: show((n, a)),
                        kernel: show((n, b)),
                        agree: a == b,
                        compared: true,
                    })
                })
                .collect()
        }
        (None, None) => Vec::new(),
        (v, k) => {
            let has = |m: Option<&BTreeMap<String, Vec<T>>>| {
                m.is_some_and(|m| m.values().any(|x| !x.is_empty()))
            };
            // Nothing on the side that was read, and a reason on the other: still say it
            // was not compared when that side has a reason (it may have had output).
            if !has(v) && !has(k) && why.iter().all(Option::is_none) {
                return Vec::new();
            }
            vec![Row {
                what: what.to_string(),
                vm: if v.is_some() {
                    shown(v)
                } else {
                    not_compared(0)
                },
                kernel: if k.is_some() {
                    shown(k)
                } else {
                    not_compared(1)
                },
                agree: true,
                compared: false,
            }]
        }
    }
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
    fn per_cpu_maps_are_compared_cpu_by_cpu() {
        let mut a = obs(0, &[], vec![(vec![0; 4], vec![vec![1; 8], vec![2; 8]])]);
        a.maps[0].spec.map_type = MapType::PercpuHash;
        let mut b = a.clone();
        assert!(compare(&a, &b, false).iter().all(|r| r.agree));
        b.maps[0].entries = Ok(vec![(vec![0; 4], vec![vec![1; 8], vec![3; 8]])]);
        let rows = compare(&a, &b, false);
        let bad: Vec<_> = rows.iter().filter(|r| !r.agree).collect();
        assert_eq!(bad.len(), 1, "{rows:?}");
        assert!(bad[0].vm.ends_with("|0202020202020202"), "{rows:?}");
    }

    #[test]
    fn output_read_back_is_compared_and_unread_output_is_not_compared() {
        let mut vm = obs(0, &[], vec![]);
        vm.records = Some(BTreeMap::from([("events".to_string(), vec![vec![1, 2]])]));
        vm.trace = Some(vec!["hello".into()]);
        let mut k = vm.clone();
        let rows = compare(&vm, &k, false);
        let out: Vec<_> = rows
            .iter()
            .filter(|r| r.what.starts_with("ring") || r.what == "trace")
            .collect();
        assert_eq!(out.len(), 2, "{rows:?}");
        assert!(out.iter().all(|r| r.agree && r.compared));
        k.trace = Some(vec!["bye".into()]);
        k.records = Some(BTreeMap::from([("events".to_string(), vec![])]));
        let rows = compare(&vm, &k, false);
        let bad: Vec<_> = rows
            .iter()
            .filter(|r| !r.agree)
            .map(|r| r.what.as_str())
            .collect();
        assert_eq!(bad, ["ring buffer records `events`", "trace"]);
        // The kernel could not read them: not compared, with the reason, never "agree".
        k.records = None;
        k.trace = None;
        k.unobserved
            .insert("trace".into(), "tracefs is not mounted".into());
        let rows = compare(&vm, &k, false);
        let nc: Vec<_> = rows.iter().filter(|r| !r.compared).collect();
        assert_eq!(nc.len(), 2, "{rows:?}");
        assert_eq!(nc[1].kernel, "not compared: tracefs is not mounted");
        assert!(nc[0].kernel.starts_with("not compared: "));
    }
}
