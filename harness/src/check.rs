//! Checking a case's expectations against what an engine observed: one implementation for
//! every engine.

use crate::observation::{is_percpu, Observation, ObservedMap};
use crate::schema::{encode, hex, parse_hex, show, Entries, Expect, MapValue, Scalar};
use asm::types::MapType;
use std::fmt;

/// One expectation the run did not meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What was checked: `ret`, `packet`, `trace`, `ringbuf`, `map`, `global`, `insns`,
    /// `error`.
    pub what: &'static str,
    /// Expected and actual, as the human output shows them.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn m(what: &'static str, message: String) -> Mismatch {
    Mismatch { what, message }
}

/// Checks `expect` against `obs`; empty when every expectation the observation can answer
/// is met. Expectations on what the engine did not observe (`None` fields) are not checked:
/// see [`unchecked`].
pub fn check(expect: &Expect, obs: &Observation) -> Vec<Mismatch> {
    match (&obs.error, &expect.error) {
        (None, None) => {}
        (Some(e), Some(want)) => {
            return if e.contains(want.as_str()) {
                Vec::new()
            } else {
                vec![m(
                    "error",
                    format!("error: expected a message containing {want:?}, got {e:?}"),
                )]
            };
        }
        (None, Some(want)) => {
            return vec![m(
                "error",
                format!(
                    "error: expected a run error containing {want:?}, but the program returned {}",
                    obs.show_ret()
                ),
            )]
        }
        (Some(e), None) => return vec![m("error", format!("run failed: {e}"))],
    }
    let mut bad = Vec::new();
    let x = expect;
    if let Some(want) = &x.ret {
        let ret = obs.r0.unwrap_or_default();
        // BPF_PROG_TEST_RUN reports a 32-bit retval; compare the same bits everywhere, so
        // the file means the same in the VM and in the kernel.
        let ok = match want {
            Scalar::Int(n) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(n) => {
                ret as u32 == *n as u32
            }
            Scalar::Int(n) => {
                bad.push(m("ret", format!("expect.ret: {n} does not fit in 32 bits")));
                true
            }
            Scalar::Hex(s) => obs.meaning.as_deref() == Some(s.as_str()),
        };
        if !ok {
            let w = match want {
                Scalar::Int(n) => n.to_string(),
                Scalar::Hex(s) => s.clone(),
            };
            bad.push(m(
                "ret",
                format!("ret: expected {w}, got {}", obs.show_ret()),
            ));
        }
    }
    if let (Some(h), Some(got)) = (&x.packet, &obs.packet) {
        match parse_hex(h) {
            Ok(want) if want == *got => {}
            Ok(want) => bad.push(m(
                "packet",
                format!("packet: expected {}, got {}", hex(&want), hex(got)),
            )),
            Err(e) => bad.push(m("packet", format!("expect.packet: {e}"))),
        }
    }
    if let (Some(want), Some(got)) = (&x.trace, &obs.trace) {
        if want != got {
            bad.push(m("trace", format!("trace: expected {want:?}, got {got:?}")));
        }
    }
    if let Some(records) = &obs.records {
        for (map, want) in &x.ringbuf {
            if obs.map(map).is_none() {
                bad.push(m("ringbuf", format!("ringbuf: no map named `{map}`")));
                continue;
            }
            let got: Vec<String> = records
                .get(map)
                .map(|rs| rs.iter().map(|r| hex(r)).collect())
                .unwrap_or_default();
            let want_norm: Result<Vec<String>, String> =
                want.iter().map(|h| parse_hex(h).map(|b| hex(&b))).collect();
            match want_norm {
                Ok(w) if w == got => {}
                Ok(w) => bad.push(m(
                    "ringbuf",
                    format!("ringbuf {map}: expected {w:?}, got {got:?}"),
                )),
                Err(e) => bad.push(m("ringbuf", format!("expect.ringbuf.{map}: {e}"))),
            }
        }
    }
    for (name, want) in &x.maps {
        if let Err(e) = check_map(obs, name, want) {
            bad.push(m("map", e));
        }
    }
    if let Some(globals) = &obs.globals {
        for (name, want) in &x.globals {
            match globals.get(name) {
                Some(got) => match encode(want, got.len(), &format!("global `{name}`")) {
                    Ok(w) if w == *got => {}
                    Ok(w) => bad.push(m(
                        "global",
                        format!("global {name}: expected {}, got {}", show(&w), show(got)),
                    )),
                    Err(e) => bad.push(m("global", e)),
                },
                None => bad.push(m(
                    "global",
                    format!(
                        "no global variable named `{name}` (globals: {})",
                        known(globals.keys().map(String::as_str))
                    ),
                )),
            }
        }
    }
    if let (Some(want), Some(got)) = (&x.redirects, &obs.redirects) {
        if want != got {
            bad.push(m(
                "redirects",
                format!("redirects: expected {want:?}, got {got:?}"),
            ));
        }
    }
    if let (Some(n), Some(got)) = (x.insns, obs.insns) {
        if n != got {
            bad.push(m("insns", format!("insns: expected {n}, got {got}")));
        }
    }
    bad
}

/// The expectations `obs` cannot answer (its engine does not observe them): `trace`,
/// `ringbuf`, `insns`, ...
pub fn unchecked(expect: &Expect, obs: &Observation) -> Vec<&'static str> {
    let mut out = Vec::new();
    if expect.trace.is_some() && obs.trace.is_none() {
        out.push("trace");
    }
    if !expect.ringbuf.is_empty() && obs.records.is_none() {
        out.push("ringbuf");
    }
    if expect.packet.is_some() && obs.packet.is_none() {
        out.push("packet");
    }
    if !expect.globals.is_empty() && obs.globals.is_none() {
        out.push("globals");
    }
    if expect.insns.is_some() && obs.insns.is_none() {
        out.push("insns");
    }
    if expect.redirects.is_some() && obs.redirects.is_none() {
        out.push("redirects");
    }
    out
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<_> = names.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The map `name` of the observation, or the error listing the maps there are.
pub fn find_map<'a>(obs: &'a Observation, name: &str) -> Result<&'a ObservedMap, String> {
    obs.map(name).ok_or_else(|| {
        format!(
            "no map named `{name}` (maps: {})",
            known(obs.maps.iter().map(|m| m.spec.name.as_str()))
        )
    })
}

/// Hash maps must hold exactly the listed entries; arrays must hold the listed values at
/// the listed indexes (the other indexes always exist).
fn check_map(obs: &Observation, name: &str, want: &Entries) -> Result<(), String> {
    let map = find_map(obs, name)?;
    let def = &map.spec;
    let percpu = is_percpu(def.map_type);
    let exact = !matches!(def.map_type, MapType::Array | MapType::PercpuArray);
    let mut want_entries = Vec::new();
    for (k, v) in want {
        let key = encode(k, def.key_size as usize, &format!("map `{name}` key"))?;
        let what = format!("map `{name}` value");
        let vals = match v {
            MapValue::One(s) => vec![encode(s, def.value_size as usize, &what)?],
            MapValue::PerCpu(list) if percpu => list
                .iter()
                .map(|s| encode(s, def.value_size as usize, &what))
                .collect::<Result<_, _>>()?,
            MapValue::PerCpu(_) => {
                return Err(format!(
                    "{what}: a list of values is for per-CPU maps; `{name}` is a {} map",
                    def.map_type
                ))
            }
        };
        want_entries.push((key, vals, matches!(v, MapValue::PerCpu(_))));
    }
    let mut problems = Vec::new();
    for (key, vals, per_cpu_list) in &want_entries {
        let got: Option<Vec<Vec<u8>>> = if *per_cpu_list {
            map.values(key)?.map(<[Vec<u8>]>::to_vec)
        } else {
            map.value(key, obs.cpu)?.map(|v| vec![v.to_vec()])
        };
        match got {
            Some(g) if g == *vals => {}
            Some(g) => problems.push(format!(
                "key {}: expected {}, got {}",
                show(key),
                show_vals(vals),
                show_vals(&g)
            )),
            None => problems.push(format!(
                "key {}: expected {}, got no entry",
                show(key),
                show_vals(vals)
            )),
        }
    }
    if exact {
        let entries = map.entries.as_ref().map_err(Clone::clone)?;
        for (k, v) in entries {
            if want_entries.iter().any(|(w, _, _)| w == k) {
                continue;
            }
            let i = if percpu { obs.cpu } else { 0 };
            if let Some(v) = v.get(i) {
                problems.push(format!(
                    "key {}: expected no entry, got {}",
                    show(k),
                    show(v)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("map {name}: {}", problems.join("; ")))
    }
}

fn show_vals(v: &[Vec<u8>]) -> String {
    if v.len() == 1 {
        show(&v[0])
    } else {
        format!(
            "[{}]",
            v.iter().map(|b| show(b)).collect::<Vec<_>>().join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm::types::MapSpec;
    use std::collections::BTreeMap;

    fn expect(toml_text: &str) -> Expect {
        toml::from_str(toml_text).unwrap()
    }

    fn observed() -> Observation {
        Observation {
            r0: Some(2),
            r0_bits: 64,
            meaning: Some("XDP_PASS".into()),
            packet: Some(vec![0, 0x11]),
            maps: vec![ObservedMap {
                spec: MapSpec::hash(4, 8, 16).named("counts"),
                entries: Ok(vec![(
                    17u32.to_le_bytes().to_vec(),
                    vec![1u64.to_le_bytes().to_vec()],
                )]),
            }],
            globals: Some(BTreeMap::from([("packets".to_string(), vec![8, 0, 0, 0])])),
            records: Some(BTreeMap::new()),
            trace: Some(vec![]),
            insns: Some(26),
            ..Default::default()
        }
    }

    fn messages(v: Vec<Mismatch>) -> Vec<String> {
        v.into_iter().map(|m| m.message).collect()
    }

    #[test]
    fn met_expectations_give_no_mismatch() {
        let x = expect("ret = \"XDP_PASS\"\npacket = \"0011\"\nmaps.counts = [[17, 1]]\nglobals.packets = 8\ninsns = 26\ntrace = []\n");
        assert_eq!(check(&x, &observed()), []);
        assert_eq!(check(&expect("ret = 2"), &observed()), []);
    }

    #[test]
    fn each_unmet_expectation_is_one_mismatch() {
        let x = expect("ret = \"XDP_DROP\"\npacket = \"00\"\nmaps.counts = [[6, 1]]\nglobals.packets = 1\ninsns = 1\ntrace = [\"x\"]\n");
        assert_eq!(
            messages(check(&x, &observed())),
            [
                "ret: expected XDP_DROP, got 2 (XDP_PASS)",
                "packet: expected 00, got 0011",
                "trace: expected [\"x\"], got []",
                "map counts: key 6: expected 1, got no entry; key 17: expected no entry, got 1",
                "global packets: expected 1, got 8",
                "insns: expected 1, got 26",
            ]
        );
        assert_eq!(
            messages(check(&expect("maps.nope = [[1, 1]]"), &observed())),
            ["no map named `nope` (maps: counts)"]
        );
    }

    #[test]
    fn errors_and_unobserved_fields() {
        let mut o = observed();
        let x = expect("error = \"out of bounds\"");
        assert_eq!(
            messages(check(&x, &o)),
            ["error: expected a run error containing \"out of bounds\", but the program returned 2 (XDP_PASS)"]
        );
        o.error = Some("read out of bounds at pc 3".into());
        assert_eq!(check(&x, &o), []);
        assert_eq!(
            messages(check(&Expect::default(), &o)),
            ["run failed: read out of bounds at pc 3"]
        );
        // The kernel observes no trace or instruction count: not checked, but said so.
        let mut k = observed();
        k.trace = None;
        k.insns = None;
        let x = expect("trace = [\"x\"]\ninsns = 1");
        assert_eq!(check(&x, &k), []);
        assert_eq!(unchecked(&x, &k), ["trace", "insns"]);
    }
}
