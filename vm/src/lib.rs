//! A userspace BPF virtual machine with the Linux kernel's semantics.
//!
//! [`classic`] runs classic BPF: socket filters over a packet and seccomp filters over a
//! `struct seccomp_data`.
//!
//! ```
//! use asm::cbpf::bpf_asm;
//! use vm::classic::{run_seccomp, SeccompData};
//!
//! let prog = bpf_asm::assemble("ld [0]\njeq #39, no\nret #0x7fff0000\nno: ret #0x50001\n").unwrap();
//! let getpid = SeccompData { nr: 39, arch: 0xc000003e, ..Default::default() };
//! assert_eq!(run_seccomp(&prog, &getpid).unwrap().ret, 0x50001);
//! ```
#![deny(missing_docs)]

pub mod classic;
