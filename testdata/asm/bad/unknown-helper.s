call bpf_trace_printf
exit
