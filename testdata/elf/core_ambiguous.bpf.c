/* Not a program: a target BTF with two flavors of `struct sample` that place `y`
 * differently, so core_read.bpf.c's relocations of `y` are ambiguous (libbpf refuses). */
struct sample___a {
	int y;
};

struct sample___b {
	int pad;
	int y;
};

struct sample___a a;
struct sample___b b;

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
