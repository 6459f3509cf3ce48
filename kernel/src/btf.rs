//! An object's BTF in the kernel (`BPF_BTF_LOAD`) and what a program load takes from it:
//! the BTF fd, and the `.BTF.ext` function and line info records in the kernel's layout
//! (`struct bpf_func_info`, `struct bpf_line_info`, instruction offsets in slots).

use crate::error::{needs_text, Error, Op};
use crate::sys::{self, cmd, BtfLoadAttr, Errno};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A BTF object loaded into the kernel; closed on drop.
#[derive(Debug)]
pub struct Btf {
    fd: OwnedFd,
}

impl AsFd for Btf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Btf {
    /// `BPF_BTF_LOAD` of raw BTF ([`obj::Object::btf_for_load`]). On rejection the load is
    /// repeated with a log, which the error carries.
    pub fn load(raw: &[u8]) -> Result<Btf, Error> {
        let size = u32::try_from(raw.len()).map_err(|_| Error::TooLarge {
            what: "BTF",
            got: raw.len(),
            max: u32::MAX as usize,
        })?;
        let attempt = |log: &mut Vec<u8>| -> Result<OwnedFd, Errno> {
            let mut attr = BtfLoadAttr {
                btf: raw.as_ptr() as u64,
                btf_size: size,
                btf_log_buf: if log.is_empty() {
                    0
                } else {
                    log.as_mut_ptr() as u64
                },
                btf_log_size: log.len() as u32,
                btf_log_level: u32::from(!log.is_empty()),
                ..Default::default()
            };
            // SAFETY: `raw` (btf_size bytes) and `log` (btf_log_size bytes, or none at
            // level 0) outlive the call.
            unsafe { sys::bpf_fd(cmd::BTF_LOAD, &mut attr) }
        };
        match attempt(&mut Vec::new()) {
            Ok(fd) => Ok(Btf { fd }),
            Err(e) if e.0 == libc::EPERM => {
                Err(Error::from_errno(Op::BtfLoad, e, || needs_text("")))
            }
            Err(e) => {
                let mut log = vec![0u8; 1 << 20];
                let errno = attempt(&mut log).err().unwrap_or(e);
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                Err(Error::Btf {
                    errno,
                    log: String::from_utf8_lossy(&log[..end]).into_owned(),
                })
            }
        }
    }
}

/// What `BPF_PROG_LOAD` takes from an object's BTF for one program.
#[derive(Clone, Debug)]
pub struct ProgBtf<'a> {
    /// The object's BTF in the kernel.
    pub btf: BorrowedFd<'a>,
    /// `struct bpf_func_info` records (8 bytes each: insn_off in slots, type_id).
    pub func_info: Vec<u8>,
    /// `struct bpf_line_info` records (16 bytes each).
    pub line_info: Vec<u8>,
}

impl<'a> ProgBtf<'a> {
    /// The records of a program of an object whose BTF is `btf`.
    pub fn for_program(btf: &'a Btf, ext: &obj::btf_ext::ProgramExt) -> ProgBtf<'a> {
        let mut func_info = Vec::with_capacity(ext.func_info.len() * 8);
        for f in &ext.func_info {
            func_info.extend_from_slice(&(f.insn as u32).to_le_bytes());
            func_info.extend_from_slice(&f.type_id.to_le_bytes());
        }
        let mut line_info = Vec::with_capacity(ext.line_info.len() * 16);
        for l in &ext.line_info {
            for w in [
                l.insn as u32,
                l.file_name_off,
                l.line_off,
                (l.line << 10) | (l.col & 0x3ff),
            ] {
                line_info.extend_from_slice(&w.to_le_bytes());
            }
        }
        ProgBtf {
            btf: btf.as_fd(),
            func_info,
            line_info,
        }
    }
}
