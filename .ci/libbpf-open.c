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
// and, after a failed load whose verifier log libbpf printed (it reloads a failed program
// with log_level 1 and prints the log between `-- BEGIN PROG LOAD LOG --` and
// `-- END PROG LOAD LOG --`), the line of that log that says why, as
// kernel/src/error.rs's first_error_line picks it (the last line that is not the closing
// statistics):
//
//   OBJECT <TAB> log <TAB> NAME <TAB> <the verifier's error line>
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
// The error line of the verifier log libbpf printed for the program being loaded.
static char log_error[512];

// Whether `line` (of length n) is one of the log's closing statistics, not its reason.
static int is_statistics(const char *line, size_t n) {
    static const char *const prefixes[] = {"processed ", "verification time", "stack depth",
                                           "mark_precise"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t p = strlen(prefixes[i]);
        if (n >= p && strncmp(line, prefixes[i], p) == 0)
            return 1;
    }
    return 0;
}

// Keeps in log_error the last line of `log` (up to `end`) that is not blank or statistics.
static void take_log_error(const char *log, const char *end) {
    const char *line_end = end;
    while (line_end > log) {
        const char *start = line_end;
        while (start > log && start[-1] != '\n')
            start--;
        const char *a = start, *b = line_end;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n'))
            b--;
        size_t n = (size_t)(b - a);
        if (n > 0 && !is_statistics(a, n)) {
            if (n >= sizeof log_error)
                n = sizeof log_error - 1;
            memcpy(log_error, a, n);
            log_error[n] = '\0';
            for (char *p = log_error; *p; p++)
                if (*p == '\t')
                    *p = ' ';
            return;
        }
        line_end = start > log ? start - 1 : log;
    }
}

static int capture(enum libbpf_print_level level, const char *fmt, va_list args) {
    if (level != LIBBPF_WARN)
        return 0;
    // The verifier log: megabytes at most; formatted whole to find its error line.
    va_list copy;
    va_copy(copy, args);
    int size = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *whole = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (whole) {
        va_copy(copy, args);
        vsnprintf(whole, (size_t)size + 1, fmt, copy);
        va_end(copy);
        const char *begin = strstr(whole, "-- BEGIN PROG LOAD LOG --");
        if (begin) {
            begin += strlen("-- BEGIN PROG LOAD LOG --");
            const char *end = strstr(begin, "-- END PROG LOAD LOG --");
            take_log_error(begin, end ? end : begin + strlen(begin));
        }
        free(whole);
    }
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
    log_error[0] = '\0';
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
    if (err) {
        print_error(err);
        if (log_error[0])
            printf("%s\tlog\t%s\t%s\n", path, name, log_error);
    } else
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
