/* berth's command line: the global options and every command's option
 * table and setter, exactly as main() runs them, without running the
 * command.  The input is NUL-separated arguments after "berth".  main.c is
 * included for its static tables and parsers; its main() is renamed.
 * --log is parsed but never opened (see below). */
#define main berth_cli_main
#include "../src/cli/main.c"
#undef main

#include <sanitizer/lsan_interface.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_ARGS 64

/* Nothing here should touch the filesystem; should it anyway, it happens in
 * an empty directory of its own, not wherever the fuzzer was started. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        char dir[] = "/tmp/berth-fuzz-cli-XXXXXX";
        if (!mkdtemp(dir) || chdir(dir) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        char *argv[MAX_ARGS + 2] = {"berth"};
        int argc = 1;
        for (char *p = buf; p < buf + size && argc < MAX_ARGS; p += strlen(p) + 1)
                argv[argc++] = p;
        argv[argc] = NULL;

        struct cli cli = {0};
        struct globals g = {0};
        optind = 0;
        int first = parse_globals(&cli, &g, argc, argv);
        /* --log FILE would make every usage error append to FILE: with
         * fuzzed names, files all over the host.  Errors go to stderr only. */
        cli.log_path = NULL;
        const struct cli_command *cmd = first < argc ? find_command(argv[first]) : NULL;
        if (cmd) {
                /* Room for any command's option struct, zeroed as each main starts it. */
                union {
                        max_align_t align;
                        char bytes[8192];
                } opts;
                memset(&opts, 0, sizeof opts);
                struct cli_args pos;
                /* exec's setter collects -e/-g/--cap/--cgroup in lists its main frees. */
                if (cmd == &cli_cmd_exec)
                        __lsan_disable();
                cli_parse(&cli, cmd, argc - first, argv + first, &opts, &pos);
                if (cmd == &cli_cmd_exec)
                        __lsan_enable();
        }
        free(buf);
        return 0;
}
