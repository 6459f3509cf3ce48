//! The checks the kernel's verifier makes when a program passes a map to a helper
//! (`check_map_func_compatibility` and `record_func_map` in `kernel/bpf/verifier.c`). The VM
//! has no verifier pass: it makes the same checks when the call runs and ends the run with
//! the verifier's message. Which map types a helper takes is `asm::types::map_compat`, the
//! table the verifier reads too.

use crate::error::HelperError;
use crate::maps::flags::RDONLY_PROG;
use crate::maps::Map;

/// Helpers that write to the map (`record_func_map`: refused on `BPF_F_RDONLY_PROG` maps).
const WRITERS: &[&str] = &[
    "map_delete_elem",
    "map_update_elem",
    "map_push_elem",
    "map_pop_elem",
];

/// The verifier's checks for passing `map` to helper `func` from a program of type
/// `prog_type`: the type (`cannot pass map_type N into func NAME#ID`) and, for helpers that
/// write, that programs may write the map (`write into map forbidden`).
pub(crate) fn check(
    map: &Map,
    func: u32,
    prog_type: Option<asm::types::ProgType>,
) -> Result<(), HelperError> {
    let t = map.spec().map_type;
    let name = asm::text::helpers::bare(func).unwrap_or("");
    if !asm::types::map_compat::compatible(t, name, prog_type, None) {
        return Err(HelperError::Other(format!(
            "cannot pass map_type {} into func {}#{func} (the verifier refuses: a {} map)",
            t.number(),
            crate::helpers::builtin_name(func),
            t.name()
        )));
    }
    if map.spec().flags & RDONLY_PROG != 0 && WRITERS.contains(&name) {
        return Err(HelperError::Other(format!(
            "write into map forbidden (map `{}` is BPF_F_RDONLY_PROG)",
            map.spec().name
        )));
    }
    Ok(())
}
