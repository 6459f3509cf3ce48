//! Shared by the integration tests: skip cleanly where bpf() is not usable.

pub use test_support::kernel_available;

/// Differential harness: one program run in the VM and in the kernel, same input.
#[allow(dead_code)]
pub mod diff {
    use asm::Insn;
    use kernel::run::{run, RunInput};
    use kernel::{Map, MapSpec};

    /// The memory both engines give the program in r1 (r2 = its length).
    pub const MEM_LEN: usize = 16;
    /// The array map both engines give the program as map 0.
    pub const MAP_VALUE: u32 = 8;
    /// Entries of that map.
    pub const MAP_ENTRIES: u32 = 4;

    /// What one engine produced.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Observed {
        /// r0 at exit.
        pub r0: u64,
        /// The memory after the run.
        pub mem: Vec<u8>,
        /// Map 0's values, by index.
        pub map: Vec<Vec<u8>>,
    }

    /// Runs in the VM. Map references carry the map *index*; the VM numbers maps by fd.
    pub fn run_vm(prog: &[Insn]) -> Result<Observed, String> {
        let mut vm = vm::Vm::new();
        let fd = vm
            .create_map(vm::MapSpec::array(MAP_VALUE, MAP_ENTRIES))
            .map_err(|e| format!("vm map: {e}"))?;
        // The VM and the kernel backend both name maps by index: the program runs as is.
        assert_eq!(fd, 0);
        let id = vm
            .load_insns(prog, None)
            .map_err(|e| format!("vm load: {e}"))?;
        vm.set_mem(vec![0; MEM_LEN]);
        let out = vm.run(id).map_err(|e| format!("vm run: {e}"))?;
        let m = vm.map(fd).ok_or("vm map vanished")?;
        let map = (0..MAP_ENTRIES)
            .map(|k| {
                m.lookup(&k.to_le_bytes())
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            })
            .collect();
        Ok(Observed {
            r0: out.r0,
            mem: vm.mem().to_vec(),
            map,
        })
    }

    /// Runs in the kernel (memory mode, full 64-bit r0).
    pub fn run_kernel(prog: &[Insn]) -> Result<Observed, String> {
        let m = Map::create(&MapSpec::array(MAP_VALUE, MAP_ENTRIES)).map_err(|e| e.to_string())?;
        let mem = [0u8; MEM_LEN];
        let out = run(
            prog,
            &RunInput {
                mem: &mem,
                maps: vec![&m],
                ..Default::default()
            },
        )
        .map_err(|e| match e.verifier_log() {
            Some(log) => format!("kernel rejected: {e}\n{log}"),
            None => format!("kernel: {e}"),
        })?;
        let map = (0..MAP_ENTRIES)
            .map(|k| {
                m.lookup(&k.to_le_bytes())
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            })
            .collect();
        Ok(Observed {
            r0: out.r0,
            mem: out.data,
            map,
        })
    }

    /// Runs both; `Err` describes where they differ, `Ok` has what both saw.
    pub fn compare(prog: &[Insn]) -> Result<Observed, String> {
        let k = run_kernel(prog)?;
        let v = run_vm(prog)?;
        let mut diffs = Vec::new();
        if k.r0 != v.r0 {
            diffs.push(format!("r0: kernel {:#x}, vm {:#x}", k.r0, v.r0));
        }
        if k.mem != v.mem {
            diffs.push(format!("memory: kernel {:02x?}, vm {:02x?}", k.mem, v.mem));
        }
        if k.map != v.map {
            diffs.push(format!("map: kernel {:02x?}, vm {:02x?}", k.map, v.map));
        }
        if diffs.is_empty() {
            Ok(k)
        } else {
            Err(diffs.join("; "))
        }
    }

    /// What a typed (packet) run produced in one engine.
    #[derive(Debug, PartialEq, Eq)]
    pub struct PacketObserved {
        /// r0 at exit, masked to the bits both engines know.
        pub r0: u64,
        /// The packet after the run, as the program saw it at `skb->data`.
        pub packet: Vec<u8>,
    }

    /// Runs `prog` as `t` over `packet` in both engines (no maps) and compares r0 and the
    /// packet after the run. The packet is what the program sees at `skb->data` / `xdp->data`
    /// in both (the kernel backend adds and strips an Ethernet header where its test run
    /// pulls one).
    pub fn compare_packet(
        prog: &[Insn],
        t: kernel::ProgType,
        packet: &[u8],
    ) -> Result<PacketObserved, String> {
        let out = run(
            prog,
            &RunInput {
                prog_type: Some(t),
                packet,
                ..Default::default()
            },
        )
        .map_err(|e| match e.verifier_log() {
            Some(log) => format!("kernel rejected: {e}\n{log}"),
            None => format!("kernel: {e}"),
        })?;
        let mask = if out.r0_bits == 64 {
            u64::MAX
        } else {
            0xffff_ffff
        };
        let mut vm = vm::Vm::new();
        let id = vm
            .load_insns(prog, t)
            .map_err(|e| format!("vm load: {e}"))?;
        vm.set_packet(packet.to_vec());
        let v = vm.run(id).map_err(|e| format!("vm run: {e}"))?;
        let k = PacketObserved {
            r0: out.r0 & mask,
            packet: out.data,
        };
        let v = PacketObserved {
            r0: v.r0 & mask,
            packet: vm.packet().to_vec(),
        };
        if k == v {
            Ok(k)
        } else {
            Err(format!("kernel {k:02x?}, vm {v:02x?}"))
        }
    }

    /// Program bytes as hex, one instruction slot per line.
    pub fn to_hex(prog: &[Insn]) -> String {
        let bytes = asm::encode(prog);
        bytes
            .chunks(8)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
            .collect()
    }

    /// Parses what [`to_hex`] wrote (lines starting with `#` are comments).
    pub fn from_hex(text: &str) -> Result<Vec<Insn>, String> {
        let digits: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split_whitespace())
            .collect();
        if digits.len() % 2 != 0 {
            return Err("odd number of hex digits".into());
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|e| e.to_string()))
            .collect::<Result<Vec<u8>, String>>()?;
        asm::decode(&bytes)
            .map(|d| d.into_iter().map(|d| d.insn).collect())
            .map_err(|e| e.to_string())
    }
}
