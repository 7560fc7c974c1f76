/* Container ids and cgroup paths: berth_id_check, and where a container's
 * cgroup goes (cgroup_compute_path, and cgroup_resolve over the text of
 * /proc/self/cgroup and /proc/self/mountinfo).  The input is NUL-separated
 * fields: id, cgroupsPath, caller's cgroup, /proc/self/cgroup text,
 * mountinfo text.  A path berth computes must be absolute and free of `..`. */
#include "cgroups.h"
#include "fuzz.h"

#define FIELDS 5

static void check_path(const char *p)
{
        if (p[0] != '/' || strstr(p, "/../") || (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")) ||
            strstr(p, "//"))
                abort(); /* an escape from the cgroup tree */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = xmalloc(size + 1);
        memcpy(buf, data, size);
        buf[size] = '\0';
        char *f[FIELDS];
        char *p = buf, *end = buf + size;
        for (int i = 0; i < FIELDS; i++) {
                f[i] = p; /* past the last field: the empty string at buf[size] */
                p += strlen(p);
                if (p < end)
                        p++;
        }
        berth_error *err = NULL;
        int r = berth_id_check(f[0], &err);
        fuzz_check_result(r, err);
        berth_error_free(err);
        err = NULL;
        if (r == 0) {
                char *path = cgroup_compute_path(*f[2] ? f[2] : "/", *f[1] ? f[1] : NULL, f[0], &err);
                fuzz_check_result(path ? 0 : -1, err);
                if (path)
                        check_path(path);
                free(path);
                berth_error_free(err);
                err = NULL;
                struct cgroup *cg = cgroup_resolve(f[3], f[4], f[0], *f[1] ? f[1] : NULL, &err);
                fuzz_check_result(cg ? 0 : -1, err);
                for (size_t i = 0; cg && i < cg->n; i++)
                        check_path(cg->dirs[i].path);
                cgroup_free(cg);
                berth_error_free(err);
        }
        free(buf);
        return 0;
}
