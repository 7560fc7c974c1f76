/* state.json as every command reads it (state_read, the cgroup entries
 * included), from a file in a private temporary directory.  What berth
 * accepts it must write back and read again to the same state. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "state.h"

static int dirfd = -1;
static char dir[] = "/tmp/berth-fuzz-state-XXXXXX";

static void cleanup(void)
{
        unlinkat(dirfd, STATE_FILE, 0);
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                abort();
        atexit(cleanup);
        return 0;
}

static void same(const struct saved_state *a, const struct saved_state *b)
{
        if (strcmp(a->id, b->id) || strcmp(a->bundle, b->bundle) || strcmp(a->created, b->created) ||
            a->pid != b->pid || a->start_time != b->start_time || a->cgroup->n != b->cgroup->n ||
            strv_len(a->annotations) != strv_len(b->annotations))
                abort(); /* written and read back, it changed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (write_file_at(dirfd, STATE_FILE, (const char *)data, size, 0600) < 0)
                abort();
        berth_error *err = NULL;
        struct saved_state st, again;
        int r = state_read(dirfd, "fuzz", &st, &err);
        fuzz_check_result(r, err);
        berth_error_free(err);
        err = NULL;
        if (r == 0 && st.cgroup) {
                if (state_write(dirfd, &st, &err) < 0 || state_read(dirfd, "fuzz", &again, &err) < 0)
                        abort();
                same(&st, &again);
                state_clear(&again);
        }
        if (r == 0)
                state_clear(&st);
        return 0;
}
