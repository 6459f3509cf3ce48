//! The legacy `maps` section: an array of fixed-size map definitions, as libbpf before 1.0
//! (`struct bpf_map_def`, 20 bytes) and iproute2 (`struct bpf_elf_map`, 36 bytes, in
//! `include/bpf_elf.h`) read it.

use crate::{Map, MapSource, ObjectError, Pinning};
use asm::types::{MapSpec, MapType};

/// `struct bpf_elf_map`'s fields, in order; `struct bpf_map_def` is its first five.
const FIELDS: [&str; 9] = [
    "type",
    "key_size",
    "value_size",
    "max_entries",
    "map_flags",
    "id",
    "pinning",
    "inner_id",
    "inner_idx",
];
/// iproute2's `struct bpf_elf_map_min` (`lib/bpf_legacy.c`): the first four fields.
const MIN_DEF: usize = 16;

/// The maps of a legacy `maps` section whose contents are `data`, one per symbol
/// `(name, offset)`, in offset order. Like libbpf (`bpf_object__init_user_maps`) and
/// iproute2 (`bpf_fetch_maps_end`), every definition has the same size: the section's size
/// divided by the number of symbols. Shorter than [`MIN_DEF`] is refused (iproute2 does);
/// fields past the end read 0; bytes past iproute2's 36 must be zero (libbpf's rule for
/// definitions larger than it knows).
pub(crate) fn maps(data: &[u8], syms: &[(String, u64)]) -> Result<Vec<Map>, ObjectError> {
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    let err = |map: &str, reason: String| ObjectError::Map {
        map: map.to_owned(),
        reason,
    };
    if data.len() % syms.len() != 0 {
        return Err(ObjectError::Section {
            section: "maps".into(),
            reason: format!(
                "{} bytes do not divide into {} map definitions of one size",
                data.len(),
                syms.len()
            ),
        });
    }
    let def_size = data.len() / syms.len();
    let mut out = Vec::new();
    for (name, off) in syms {
        let off = *off as usize;
        if def_size < MIN_DEF {
            return Err(err(
                name,
                format!(
                    "legacy definition at byte {off} of `maps` is {def_size} bytes; it needs \
                     16 bytes (type, key_size, value_size, max_entries)"
                ),
            ));
        }
        let Some(def) = data.get(off..off + def_size) else {
            return Err(err(
                name,
                format!("its {def_size}-byte definition at byte {off} runs past `maps`"),
            ));
        };
        let known = 4 * FIELDS.len();
        if def.len() > known && def[known..].iter().any(|&b| b != 0) {
            return Err(err(
                name,
                format!(
                    "its {def_size}-byte definition has non-zero bytes past the {known} bytes \
                     of iproute2's struct bpf_elf_map ({})",
                    FIELDS.join(", ")
                ),
            ));
        }
        let field = |i: usize| {
            def.get(4 * i..4 * i + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let t = field(0);
        let map_type =
            MapType::from_number(t).ok_or_else(|| err(name, format!("unknown map type {t}")))?;
        let mut m = Map::with_source(
            MapSpec::new(map_type, field(1), field(2), field(3))
                .named(name.clone())
                .with_flags(field(4)),
            MapSource::Legacy,
        );
        m.max_entries_nr_cpus = map_type == MapType::PerfEventArray && field(3) == 0;
        // iproute2's PIN_NONE, PIN_OBJECT_NS, PIN_GLOBAL_NS; others name a custom path.
        m.pinning = match field(6) {
            0 => Pinning::None,
            1 => Pinning::ObjectNs,
            2 => Pinning::GlobalNs,
            n => Pinning::Other(n),
        };
        m.iproute2_ids = (field(5), field(7), field(8));
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(fields: &[u32]) -> Vec<u8> {
        fields.iter().flat_map(|f| f.to_le_bytes()).collect()
    }

    #[test]
    fn every_size_from_16_to_36_bytes() {
        for n in 4..=9 {
            let fields = [2, 4, 8, 16, 0, 7, 2, 0, 0];
            let m = maps(&def(&fields[..n]), &[("m".into(), 0)]).unwrap();
            assert_eq!(m[0].spec, MapSpec::array(8, 16).named("m"));
            assert_eq!(m[0].pinning == Pinning::GlobalNs, n >= 7, "{n}");
            assert_eq!(m[0].iproute2_ids.0 == 7, n >= 6, "{n}");
        }
        let two = [def(&[1, 4, 4, 8, 0]), def(&[4, 4, 4, 0, 0])].concat();
        let m = maps(&two, &[("a".into(), 0), ("b".into(), 20)]).unwrap();
        assert_eq!(m[1].spec.map_type, MapType::PerfEventArray);
        assert!(m[1].max_entries_nr_cpus);
        assert_eq!(m[1].max_entries_for(6), 6);
        assert!(!m[0].max_entries_nr_cpus);
    }

    #[test]
    fn bad_definitions() {
        let e = maps(&def(&[2, 4]), &[("s".into(), 0)]).unwrap_err();
        assert!(e.to_string().contains("needs 16 bytes"), "{e}");
        let mut long = def(&[2, 4, 8, 1, 0, 0, 0, 0, 0, 0]);
        assert!(maps(&long, &[("z".into(), 0)]).is_ok());
        long[36] = 1;
        let e = maps(&long, &[("z".into(), 0)]).unwrap_err();
        assert!(e.to_string().contains("non-zero bytes"), "{e}");
        let three = [("a".into(), 0), ("b".into(), 6), ("c".into(), 12)];
        let e = maps(&def(&[2, 4, 8, 1, 0]), &three).unwrap_err();
        assert!(e.to_string().contains("do not divide"), "{e}");
    }
}
