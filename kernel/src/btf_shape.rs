//! The smallest BTF that describes a map's key and value, for map types the kernel creates
//! only with BTF (local storage: `bpf_local_storage_map_alloc_check` wants
//! `btf_key_type_id` and `btf_value_type_id`, `bpf_local_storage_map_check_btf` a 32-bit
//! `int` key). The key is `int` when it is 4 bytes, the value an array of `unsigned char`
//! of the value size (`map_check_btf` compares only sizes for such values).

use crate::error::{needs_text, Error, Op};
use crate::sys::{self, cmd};
use std::os::fd::OwnedFd;

/// The `BPF_BTF_LOAD` member of `union bpf_attr` (up to `btf_log_level`, padded).
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

const BTF_MAGIC: u16 = 0xeb9f;
const BTF_KIND_INT: u32 = 1;
const BTF_KIND_ARRAY: u32 = 3;
const BTF_INT_SIGNED: u32 = 1;

/// Type ids in the BTF [`key_value`] builds.
pub const KEY_TYPE_ID: u32 = 4;
/// The value's type id.
pub const VALUE_TYPE_ID: u32 = 3;

fn push(out: &mut Vec<u8>, words: &[u32]) {
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// The BTF blob: [1] int, [2] unsigned char, [3] unsigned char[value_size],
/// [4] the key: int when 4 bytes, else unsigned char[key_size] (a typedef-free copy of 1).
pub fn blob(key_size: u32, value_size: u32) -> Vec<u8> {
    let strings = b"\0int\0unsigned char\0";
    let (int_name, uchar_name) = (1u32, 5u32);
    let mut types = Vec::new();
    // [1] int: 4 bytes, signed, 32 bits at offset 0.
    push(
        &mut types,
        &[int_name, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32],
    );
    // [2] unsigned char.
    push(&mut types, &[uchar_name, BTF_KIND_INT << 24, 1, 8]);
    // [3] unsigned char[value_size], indexed by int.
    push(&mut types, &[0, BTF_KIND_ARRAY << 24, 0, 2, 1, value_size]);
    // [4] the key.
    if key_size == 4 {
        push(
            &mut types,
            &[int_name, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32],
        );
    } else {
        push(&mut types, &[0, BTF_KIND_ARRAY << 24, 0, 2, 1, key_size]);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    let hdr_len = 24u32;
    push(
        &mut out,
        &[
            hdr_len,
            0,
            types.len() as u32,
            types.len() as u32,
            strings.len() as u32,
        ],
    );
    out.extend_from_slice(&types);
    out.extend_from_slice(strings);
    out
}

/// Loads the BTF of [`blob`] (`BPF_BTF_LOAD`).
pub fn key_value(key_size: u32, value_size: u32) -> Result<OwnedFd, Error> {
    let data = blob(key_size, value_size);
    let mut log = vec![0u8; 4096];
    let mut attr = BtfLoadAttr {
        btf: data.as_ptr() as u64,
        btf_size: data.len() as u32,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
        ..Default::default()
    };
    // SAFETY: `data` (btf_size bytes) and `log` (btf_log_size bytes) outlive the call.
    unsafe { sys::bpf_fd(cmd::BTF_LOAD, &mut attr) }.map_err(|e| {
        if e.0 == libc::EPERM {
            Error::from_errno(Op::MapCreate, e, || needs_text(""))
        } else {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            Error::Input(format!(
                "BPF_BTF_LOAD of the key/value BTF: {e}: {}",
                String::from_utf8_lossy(&log[..end]).trim()
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_layout() {
        let b = blob(4, 16);
        assert_eq!(&b[..4], &[0x9f, 0xeb, 1, 0]);
        // Header (24) + 3 types of 16/16/24 bytes + the int key (16) + strings (19).
        assert_eq!(b.len(), 24 + 16 + 16 + 24 + 16 + 19);
        assert_eq!(blob(8, 16).len(), 24 + 16 + 16 + 24 + 24 + 19);
    }
}
