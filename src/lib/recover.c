/* `delete --force` of a container whose state.json cannot be read (garbage,
 * truncated, a cgroup entry that fails its checks): without this the state
 * directory, and the init and cgroup it stands for, could never be removed
 * by berth.  What the state no longer says is rebuilt from what create saved
 * beside it: the container's config.json gives its cgroupsPath, and the
 * cgroup is computed as create computed it (from the caller's own cgroup for
 * a relative path, as every berth command does). */
#define _GNU_SOURCE
#include "recover.h"

#include <fcntl.h>
#include <signal.h>

#include "cgroups.h"
#include "container.h"
#include "hooks.h"

/* linux.cgroupsPath of the saved config.json; *known is false when the
 * config cannot be read at all (then the cgroup is not known either). */
static char *saved_cgroups_path(int dirfd, bool *known)
{
        _cleanup_free_ char *text = read_file_at(dirfd, SAVED_CONFIG, NULL);
        json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
        *known = json_is_object(doc);
        const char *path = json_string_value(json_object_get(json_object_get(doc, "linux"), "cgroupsPath"));
        char *copy = path ? xstrdup(path) : NULL;
        json_decref(doc);
        return copy;
}

int recover_destroy(berth_context *ctx, const char *id, berth_error **err)
{
        if (berth_id_check(id, NULL) < 0)
                return 1;
        _cleanup_close_ int rootfd = state_root_open(ctx->root, NULL);
        _cleanup_close_ int dirfd = rootfd < 0 ? -1 : state_dir_open(rootfd, id, true, NULL);
        if (dirfd < 0)
                return 1;
        struct saved_state st;
        if (state_read(dirfd, id, &st, NULL) == 0) { /* readable after all: not ours to handle */
                state_clear(&st);
                return 1;
        }
        bool known;
        _cleanup_free_ char *cgroups_path = saved_cgroups_path(dirfd, &known);
        struct cgroup *cg = known ? cgroup_plan(id, cgroups_path, NULL) : NULL;
        if (cg) {
                /* Every process of the container is in it: the init and whatever it started. */
                cgroup_kill(cg, SIGKILL, NULL);
                int r = cgroup_destroy(cg, err);
                cgroup_free(cg);
                if (r < 0)
                        return -1;
        }
        if (state_dir_remove(rootfd, id, err) < 0)
                return -1;
        ctx_warn(ctx, "container `%s`: its state.json could not be read; removed its state%s", id,
                 cg ? " and the cgroup its saved config.json names" : " (its cgroup is not known)");
        return 0;
}
