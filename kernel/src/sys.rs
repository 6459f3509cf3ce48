//! The raw bpf(2) interface: one `#[repr(C)]` struct per command, laid out as the matching
//! member of `union bpf_attr` in `include/uapi/linux/bpf.h`, and the syscall itself.
//!
//! Each struct is a prefix of the kernel's member: the kernel accepts a shorter `attr` and
//! treats the missing tail as zero (`bpf_check_uarg_tail_zero` in `kernel/bpf/syscall.c`),
//! so only the fields bpfx uses are declared. Pointers travel as `u64` (`__aligned_u64`).

use std::fmt;
use std::os::fd::{FromRawFd, OwnedFd};

/// `enum bpf_cmd` values used here.
#[allow(missing_docs)]
pub mod cmd {
    pub const MAP_CREATE: i32 = 0;
    pub const MAP_LOOKUP_ELEM: i32 = 1;
    pub const MAP_UPDATE_ELEM: i32 = 2;
    pub const MAP_DELETE_ELEM: i32 = 3;
    pub const MAP_GET_NEXT_KEY: i32 = 4;
    pub const PROG_LOAD: i32 = 5;
    pub const PROG_TEST_RUN: i32 = 10;
    pub const BTF_LOAD: i32 = 18;
    pub const MAP_FREEZE: i32 = 22;
}

/// `BPF_OBJ_NAME_LEN`.
pub const OBJ_NAME_LEN: usize = 16;

/// The `BPF_MAP_CREATE` member of `union bpf_attr` (up to `map_extra`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCreateAttr {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` flags.
    pub map_flags: u32,
    /// Inner map for map-in-map types.
    pub inner_map_fd: u32,
    /// NUMA node when `BPF_F_NUMA_NODE` is set.
    pub numa_node: u32,
    /// NUL-padded name.
    pub map_name: [u8; OBJ_NAME_LEN],
    /// Offload target.
    pub map_ifindex: u32,
    /// BTF object.
    pub btf_fd: u32,
    /// BTF type of the key.
    pub btf_key_type_id: u32,
    /// BTF type of the value.
    pub btf_value_type_id: u32,
    /// BTF type of a kernel struct stored as value.
    pub btf_vmlinux_value_type_id: u32,
    /// Per-type extra (bloom filter hash count).
    pub map_extra: u64,
}

/// The `BPF_MAP_*_ELEM` and `BPF_MAP_GET_NEXT_KEY` member.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MapElemAttr {
    /// The map.
    pub map_fd: u32,
    /// Pointer to the key.
    pub key: u64,
    /// Pointer to the value (or, for `GET_NEXT_KEY`, to the next key).
    pub value_or_next_key: u64,
    /// `BPF_ANY` / `BPF_NOEXIST` / `BPF_EXIST` / `BPF_F_LOCK`.
    pub flags: u64,
}

/// The `BPF_PROG_LOAD` member (up to `log_true_size`, added in Linux 6.4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ProgLoadAttr {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// Number of 8-byte slots.
    pub insn_cnt: u32,
    /// Pointer to the instructions.
    pub insns: u64,
    /// Pointer to a NUL-terminated licence string.
    pub license: u64,
    /// Verifier log verbosity (`BPF_LOG_LEVEL1` = 1, `BPF_LOG_LEVEL2` = 2, `BPF_LOG_STATS` = 4).
    pub log_level: u32,
    /// Size of the log buffer.
    pub log_size: u32,
    /// Pointer to the log buffer.
    pub log_buf: u64,
    /// Unused since Linux 5.0.
    pub kern_version: u32,
    /// `BPF_F_*` load flags.
    pub prog_flags: u32,
    /// NUL-padded name.
    pub prog_name: [u8; OBJ_NAME_LEN],
    /// Offload target.
    pub prog_ifindex: u32,
    /// `enum bpf_attach_type`, for types whose verification depends on it.
    pub expected_attach_type: u32,
    /// BTF object.
    pub prog_btf_fd: u32,
    /// Size of one `bpf_func_info` record.
    pub func_info_rec_size: u32,
    /// Pointer to the func info records.
    pub func_info: u64,
    /// Number of func info records.
    pub func_info_cnt: u32,
    /// Size of one `bpf_line_info` record.
    pub line_info_rec_size: u32,
    /// Pointer to the line info records.
    pub line_info: u64,
    /// Number of line info records.
    pub line_info_cnt: u32,
    /// Attach target BTF id.
    pub attach_btf_id: u32,
    /// Attach target program or BTF object.
    pub attach_prog_fd: u32,
    /// Number of CO-RE relocations.
    pub core_relo_cnt: u32,
    /// Pointer to an array of map fds for `BPF_PSEUDO_MAP_IDX`.
    pub fd_array: u64,
    /// Pointer to CO-RE relocations.
    pub core_relos: u64,
    /// Size of one CO-RE relocation record.
    pub core_relo_rec_size: u32,
    /// Output: the log size the kernel needed (so a truncated log can be fetched whole).
    pub log_true_size: u32,
}

/// The `BPF_BTF_LOAD` member (up to `btf_log_true_size`, added in Linux 6.4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BtfLoadAttr {
    /// Pointer to the raw BTF.
    pub btf: u64,
    /// Pointer to the log buffer.
    pub btf_log_buf: u64,
    /// Size of the BTF.
    pub btf_size: u32,
    /// Size of the log buffer.
    pub btf_log_size: u32,
    /// Log verbosity (1: on).
    pub btf_log_level: u32,
    /// Output: the log size the kernel needed.
    pub btf_log_true_size: u32,
}

/// The member of commands that take only a map (`BPF_MAP_FREEZE`): no padding for the
/// kernel's zero-tail check to trip on.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MapFdAttr {
    /// The map.
    pub map_fd: u32,
}

/// `struct bpf_func_info`: 8 bytes.
pub const FUNC_INFO_REC_SIZE: u32 = 8;
/// `struct bpf_line_info`: 16 bytes.
pub const LINE_INFO_REC_SIZE: u32 = 16;

/// The `BPF_PROG_TEST_RUN` member.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TestRunAttr {
    /// The program.
    pub prog_fd: u32,
    /// Output: the program's return value (32 bits).
    pub retval: u32,
    /// Input packet size.
    pub data_size_in: u32,
    /// Input: output buffer size; output: bytes the output packet needed.
    pub data_size_out: u32,
    /// Pointer to the input packet.
    pub data_in: u64,
    /// Pointer to the output packet buffer.
    pub data_out: u64,
    /// Number of runs (0 means 1).
    pub repeat: u32,
    /// Output: mean nanoseconds per run.
    pub duration: u32,
    /// Input context size.
    pub ctx_size_in: u32,
    /// Input: context output buffer size; output: bytes needed.
    pub ctx_size_out: u32,
    /// Pointer to the input context.
    pub ctx_in: u64,
    /// Pointer to the output context buffer.
    pub ctx_out: u64,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU to run on with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
    /// XDP live-frames batch size.
    pub batch_size: u32,
    /// Explicit tail padding (the kernel's member is 8-byte aligned).
    pub _pad: u32,
}

/// An error number from a failed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The symbolic name (`EINVAL`), when it is one bpf(2) is known to return.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::E2BIG => "E2BIG",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::EINVAL => "EINVAL",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::ENOSYS => "ENOSYS",
            libc::ELOOP => "ELOOP",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            // The kernel-internal ENOTSUPP leaks to user space from some bpf paths.
            524 => "ENOTSUPP",
            _ => return None,
        })
    }

    /// The error of the last failed libc call on this thread.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if self.0 == 524 {
            "Operation not supported by the kernel".to_string()
        } else {
            std::io::Error::from_raw_os_error(self.0).to_string()
        };
        // `io::Error`'s text ends in "(os error N)"; keep only the description.
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        match self.name() {
            Some(name) => write!(f, "{name} ({text})"),
            None => write!(f, "errno {} ({text})", self.0),
        }
    }
}

/// Calls bpf(2) with a command and its attribute struct. Returns the non-negative result.
///
/// # Safety
///
/// `T` must be the `#[repr(C)]` attr struct of this module that matches `cmd`, and every
/// pointer field in it must be 0 or point to memory that stays valid, with the size the
/// kernel will read or write for that command, for the duration of the call.
pub(crate) unsafe fn bpf<T>(cmd: i32, attr: &mut T) -> Result<i64, Errno> {
    let size = std::mem::size_of::<T>() as libc::c_uint;
    // SAFETY: `attr` is a live, exclusively borrowed repr(C) struct of `size` bytes, so the
    // kernel's copy in and out of it stays inside it; the pointers it holds are valid per
    // this function's contract.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Calls a bpf(2) command that returns a new file descriptor, and takes ownership of it.
///
/// # Safety
///
/// As for [`bpf`].
pub(crate) unsafe fn bpf_fd<T>(cmd: i32, attr: &mut T) -> Result<OwnedFd, Errno> {
    // SAFETY: the caller upholds `bpf`'s contract.
    let fd = unsafe { bpf(cmd, attr) }?;
    let fd = i32::try_from(fd).map_err(|_| Errno(libc::EBADF))?;
    // SAFETY: the kernel just returned `fd` as a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Copies a name into a NUL-padded fixed field, keeping the characters the kernel accepts
/// (`bpf_obj_name_cpy`: alphanumerics, `_` and `.`) and at most 15 of them.
pub(crate) fn obj_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    let ok = name
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.');
    for (slot, b) in out.iter_mut().zip(ok.take(OBJ_NAME_LEN - 1)) {
        *slot = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    // Offsets from `union bpf_attr` in include/uapi/linux/bpf.h (x86-64 and every 64-bit
    // target: all pointers are __aligned_u64).
    #[test]
    fn map_create_layout() {
        assert_eq!(offset_of!(MapCreateAttr, map_type), 0);
        assert_eq!(offset_of!(MapCreateAttr, max_entries), 12);
        assert_eq!(offset_of!(MapCreateAttr, map_flags), 16);
        assert_eq!(offset_of!(MapCreateAttr, numa_node), 24);
        assert_eq!(offset_of!(MapCreateAttr, map_name), 28);
        assert_eq!(offset_of!(MapCreateAttr, map_ifindex), 44);
        assert_eq!(offset_of!(MapCreateAttr, btf_vmlinux_value_type_id), 60);
        assert_eq!(offset_of!(MapCreateAttr, map_extra), 64);
        assert_eq!(size_of::<MapCreateAttr>(), 72);
    }

    #[test]
    fn map_elem_layout() {
        assert_eq!(offset_of!(MapElemAttr, map_fd), 0);
        assert_eq!(offset_of!(MapElemAttr, key), 8);
        assert_eq!(offset_of!(MapElemAttr, value_or_next_key), 16);
        assert_eq!(offset_of!(MapElemAttr, flags), 24);
        assert_eq!(size_of::<MapElemAttr>(), 32);
    }

    #[test]
    fn prog_load_layout() {
        assert_eq!(offset_of!(ProgLoadAttr, insn_cnt), 4);
        assert_eq!(offset_of!(ProgLoadAttr, insns), 8);
        assert_eq!(offset_of!(ProgLoadAttr, license), 16);
        assert_eq!(offset_of!(ProgLoadAttr, log_level), 24);
        assert_eq!(offset_of!(ProgLoadAttr, log_size), 28);
        assert_eq!(offset_of!(ProgLoadAttr, log_buf), 32);
        assert_eq!(offset_of!(ProgLoadAttr, kern_version), 40);
        assert_eq!(offset_of!(ProgLoadAttr, prog_flags), 44);
        assert_eq!(offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(offset_of!(ProgLoadAttr, prog_ifindex), 64);
        assert_eq!(offset_of!(ProgLoadAttr, expected_attach_type), 68);
        assert_eq!(offset_of!(ProgLoadAttr, func_info), 80);
        assert_eq!(offset_of!(ProgLoadAttr, line_info), 96);
        assert_eq!(offset_of!(ProgLoadAttr, attach_btf_id), 108);
        assert_eq!(offset_of!(ProgLoadAttr, fd_array), 120);
        assert_eq!(offset_of!(ProgLoadAttr, core_relos), 128);
        assert_eq!(offset_of!(ProgLoadAttr, log_true_size), 140);
        assert_eq!(size_of::<ProgLoadAttr>(), 144);
    }

    #[test]
    fn btf_load_layout() {
        assert_eq!(offset_of!(BtfLoadAttr, btf_log_buf), 8);
        assert_eq!(offset_of!(BtfLoadAttr, btf_size), 16);
        assert_eq!(offset_of!(BtfLoadAttr, btf_log_level), 24);
        assert_eq!(size_of::<BtfLoadAttr>(), 32);
    }

    #[test]
    fn test_run_layout() {
        assert_eq!(offset_of!(TestRunAttr, retval), 4);
        assert_eq!(offset_of!(TestRunAttr, data_size_in), 8);
        assert_eq!(offset_of!(TestRunAttr, data_size_out), 12);
        assert_eq!(offset_of!(TestRunAttr, data_in), 16);
        assert_eq!(offset_of!(TestRunAttr, data_out), 24);
        assert_eq!(offset_of!(TestRunAttr, repeat), 32);
        assert_eq!(offset_of!(TestRunAttr, duration), 36);
        assert_eq!(offset_of!(TestRunAttr, ctx_size_in), 40);
        assert_eq!(offset_of!(TestRunAttr, ctx_size_out), 44);
        assert_eq!(offset_of!(TestRunAttr, ctx_in), 48);
        assert_eq!(offset_of!(TestRunAttr, ctx_out), 56);
        assert_eq!(offset_of!(TestRunAttr, flags), 64);
        assert_eq!(offset_of!(TestRunAttr, cpu), 68);
        assert_eq!(offset_of!(TestRunAttr, batch_size), 72);
        assert_eq!(size_of::<TestRunAttr>(), 80);
    }

    #[test]
    fn errno_display_names_the_symbol() {
        assert_eq!(
            Errno(libc::EPERM).to_string(),
            "EPERM (Operation not permitted)"
        );
        assert!(Errno(libc::EINVAL).to_string().starts_with("EINVAL ("));
        assert!(Errno(9999).to_string().starts_with("errno 9999 ("));
    }

    #[test]
    fn names_are_truncated_and_filtered() {
        assert_eq!(&obj_name("bpfx-wrapper")[..11], b"bpfxwrapper");
        let long = obj_name("abcdefghijklmnopqrstuvwxyz");
        assert_eq!(&long[..15], b"abcdefghijklmno");
        assert_eq!(long[15], 0);
    }
}
