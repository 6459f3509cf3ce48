//! A userspace eBPF virtual machine with the Linux kernel's semantics. This branch carries
//! only the ELF object loader ([`object`]); the interpreter lands from the `vm` branch.
#![deny(missing_docs)]

pub mod object;
