// The corpus oracle: what libbpf makes of each BPF object, as a TSV manifest on stdout.
//
//   libbpf-open [--load] OBJECT...
//
// For each OBJECT, bpf_object__open_file (parse only: sections, maps, BTF, relocations;
// nothing reaches the kernel) and one line
//
//   OBJECT <TAB> open <TAB> ok
//   OBJECT <TAB> open <TAB> error: <strerror>: <libbpf's last warning>
//
// then, for an opened object, one line per program, in libbpf's order:
//
//   OBJECT <TAB> prog <TAB> NAME <TAB> SECTION <TAB> TYPE-NUMBER <TAB> TYPE-NAME
//
// where TYPE is bpf_program__type (0, "unspec", when libbpf does not know the section name).
//
// With --load (needs root), each program is also loaded into the running kernel on its own
// (a fresh open with only that program's autoload on, so one failure does not hide the
// others): maps are created, CO-RE and externs resolved, BPF_PROG_LOAD run, then everything
// is closed again. One line per program:
//
//   OBJECT <TAB> load <TAB> NAME <TAB> ok
//   OBJECT <TAB> load <TAB> NAME <TAB> error: <strerror>: <libbpf's last warning>
//
// Object paths are printed as given; tabs and newlines inside messages become spaces.
// Built by .ci/build-corpus with `cc libbpf-open.c -lbpf`.
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libbpf's most recent warning (its log is how it explains a failure; the errno alone is
// rarely enough to group failures by cause).
static char last_warning[512];

static int capture(enum libbpf_print_level level, const char *fmt, va_list args) {
    if (level != LIBBPF_WARN)
        return 0;
    char line[sizeof last_warning];
    vsnprintf(line, sizeof line, fmt, args);
    // The verifier log arrives as one huge warning; keep the first line that says something.
    if (line[0] == '\0' || line[0] == '\n')
        return 0;
    for (char *p = line; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        line[--n] = '\0';
    // Every message starts with "libbpf: ", which says nothing here.
    const char *msg = strncmp(line, "libbpf: ", 8) == 0 ? line + 8 : line;
    // Keep the first warning of a failing step: later ones are usually consequences.
    if (last_warning[0] == '\0')
        memcpy(last_warning, msg, strlen(msg) + 1);
    return 0;
}

static void print_error(int err) {
    char buf[128];
    if (err < 0)
        err = -err;
    libbpf_strerror(err, buf, sizeof buf);
    printf("error: %s", buf);
    if (last_warning[0])
        printf(": %s", last_warning);
    printf("\n");
}

// Loads only the program named `name` from `path`; prints its load line.
static void load_one(const char *path, const char *name) {
    last_warning[0] = '\0';
    printf("%s\tload\t%s\t", path, name);
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    int err = libbpf_get_error(obj);
    if (err) {
        print_error(err);
        return;
    }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj)
        bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), name) == 0);
    err = bpf_object__load(obj);
    if (err)
        print_error(err);
    else
        printf("ok\n");
    bpf_object__close(obj);
}

int main(int argc, char **argv) {
    int load = 0;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--load") == 0) {
        load = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--load] OBJECT...\n", argv[0]);
        return 2;
    }
    libbpf_set_print(capture);
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        last_warning[0] = '\0';
        struct bpf_object *obj = bpf_object__open_file(path, NULL);
        int err = libbpf_get_error(obj);
        printf("%s\topen\t", path);
        if (err) {
            print_error(err);
            fflush(stdout);
            continue;
        }
        printf("ok\n");
        struct bpf_program *prog;
        bpf_object__for_each_program(prog, obj) {
            enum bpf_prog_type t = bpf_program__type(prog);
            const char *tname = libbpf_bpf_prog_type_str(t);
            printf("%s\tprog\t%s\t%s\t%d\t%s\n", path, bpf_program__name(prog),
                   bpf_program__section_name(prog), (int)t, tname ? tname : "?");
        }
        if (load) {
            bpf_object__for_each_program(prog, obj) {
                fflush(stdout);
                load_one(path, bpf_program__name(prog));
            }
        }
        bpf_object__close(obj);
        fflush(stdout);
    }
    return 0;
}
