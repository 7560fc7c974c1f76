#define _GNU_SOURCE
#include "state.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

int state_root_open(const char *root, berth_error **err)
{
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                int r = mkdir_p(root, 0700);
                if (r < 0)
                        return error_set(err, -r, "create state root `%s`", root);
                fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return error_set(err, errno, "open state root `%s`", root);
        return fd;
}

static int open_dir(int rootfd, const char *id, bool lock, berth_error **err)
{
        int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return error_set(err, 0, "container `%s` does not exist", id);
                return error_set(err, errno, "open state of container `%s`", id);
        }
        if (lock && flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                return error_set(err, e, "lock container `%s`", id);
        }
        /* Whoever held the lock before us may have deleted it meanwhile. */
        struct stat st;
        if (lock && fstat(fd, &st) == 0 && st.st_nlink == 0) {
                close(fd);
                return error_set(err, 0, "container `%s` does not exist", id);
        }
        return fd;
}

int state_dir_create(int rootfd, const char *id, berth_error **err)
{
        if (mkdirat(rootfd, id, 0700) < 0) {
                if (errno == EEXIST)
                        return error_set(err, 0, "container `%s` already exists", id);
                return error_set(err, errno, "create state of container `%s`", id);
        }
        return open_dir(rootfd, id, true, err);
}

int state_dir_open(int rootfd, const char *id, bool lock, berth_error **err)
{
        return open_dir(rootfd, id, lock, err);
}

/* The entries of `dfd`, and of its subdirectories (the notify socket's) one level down. */
static void remove_entries(int dfd, bool descend)
{
        DIR *d = fdopendir(dup(dfd));
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                if (unlinkat(dfd, e->d_name, 0) == 0 || errno != EISDIR || !descend)
                        continue;
                _cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub >= 0)
                        remove_entries(sub, false);
                unlinkat(dfd, e->d_name, AT_REMOVEDIR);
        }
        closedir(d);
}

int state_dir_remove(int rootfd, const char *id, berth_error **err)
{
        _cleanup_close_ int dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : error_set(err, errno, "open state of container `%s`", id);
        remove_entries(dfd, true);
        if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return error_set(err, errno, "remove state of container `%s`", id);
        return 0;
}

static json_t *strv_pairs_to_json(char **kv)
{
        json_t *o = json_object();
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                json_object_set_new(o, kv[i], json_string(kv[i + 1]));
        return o;
}

int state_write(int dirfd, const struct saved_state *s, berth_error **err)
{
        json_t *j =
                json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "id", s->id, "bundle", s->bundle,
                          "rootfs", s->rootfs, "created", s->created, "pid", (json_int_t)s->pid, "start_time",
                          (json_int_t)s->start_time, "annotations", strv_pairs_to_json(s->annotations),
                          "cgroup", s->cgroup ? cgroup_to_json(s->cgroup) : json_array());
        /* Only when present: older state files lack them and read the same. */
        if (s->hooks)
                json_object_set(j, "hooks", s->hooks);
        if (s->net)
                json_object_set(j, "net", s->net);
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        int r = write_file_atomic(dirfd, STATE_FILE, text, strlen(text), 0600);
        if (r < 0)
                return error_set(err, -r, "write state of container `%s`", s->id);
        return 0;
}

static char *json_str_dup(json_t *o, const char *key)
{
        const char *v = json_string_value(json_object_get(o, key));
        return xstrdup(v ? v : "");
}

int state_read(int dirfd, const char *id, struct saved_state *s, berth_error **err)
{
        memset(s, 0, sizeof *s);
        _cleanup_free_ char *text = read_file_at(dirfd, STATE_FILE, NULL);
        if (!text) {
                if (errno == ENOENT) { /* still creating, or a create that was interrupted */
                        s->id = xstrdup(id);
                        return 0;
                }
                return error_set(err, errno, "read state of container `%s`", id);
        }
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return error_set(err, 0, "state of container `%s` is corrupt", id);
        }
        s->id = json_str_dup(j, "id");
        s->bundle = json_str_dup(j, "bundle");
        s->rootfs = json_str_dup(j, "rootfs");
        s->created = json_str_dup(j, "created");
        s->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
        s->start_time = (unsigned long long)json_integer_value(json_object_get(j, "start_time"));
        size_t n = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(j, "annotations"), k, v)
        {
                strv_push(&s->annotations, &n, k);
                strv_push(&s->annotations, &n, json_string_value(v) ? json_string_value(v) : "");
        }
        s->cgroup = cgroup_from_json(json_object_get(j, "cgroup"), err);
        s->hooks = json_incref(json_object_get(j, "hooks"));
        s->net = json_incref(json_object_get(j, "net"));
        json_decref(j);
        if (!s->cgroup) {
                state_clear(s);
                error_wrap(err, "state of container `%s`", id);
                return -1;
        }
        return 0;
}

void state_clear(struct saved_state *s)
{
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        strv_free(s->annotations);
        cgroup_free(s->cgroup);
        json_decref(s->hooks);
        json_decref(s->net);
        memset(s, 0, sizeof *s);
}

unsigned long long proc_start_time(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        _cleanup_free_ char *stat = read_file_at(AT_FDCWD, path, NULL);
        if (!stat)
                return 0;
        /* The command name may contain spaces and ')': fields resume after the last ')'. */
        char *p = strrchr(stat, ')');
        if (!p || p[1] != ' ')
                return 0;
        char state = p[2];
        if (state == 'Z' || state == 'X')
                return 0;
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

enum berth_status state_status(int dirfd, const struct saved_state *s, bool have_lock)
{
        if (s->pid <= 0) {
                /* No pid yet: creating while its creator holds the lock, else debris. */
                if (have_lock)
                        return BERTH_STOPPED;
                _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                        return BERTH_CREATING;
                return BERTH_STOPPED;
        }
        unsigned long long st = proc_start_time(s->pid);
        if (st == 0 || st != s->start_time)
                return BERTH_STOPPED;
        if (faccessat(dirfd, EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return BERTH_CREATED;
        if (s->cgroup && cgroup_frozen(s->cgroup))
                return BERTH_PAUSED;
        return BERTH_RUNNING;
}
