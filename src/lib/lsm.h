/* Linux security modules: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel.  A label is applied only where its LSM is enabled; a
 * label the host cannot apply is an error before anything is created, never
 * silently dropped. */
#ifndef BERTH_LSM_H
#define BERTH_LSM_H

#include <stdbool.h>

#include "spec.h"

/* Whether the LSM is enabled, judged from files below `sysroot` ("" for
 * the host; tests pass a fake tree): AppArmor by
 * /sys/module/apparmor/parameters/enabled = Y and /sys/kernel/security/apparmor,
 * SELinux by a mounted selinuxfs (/sys/fs/selinux/enforce). */
bool lsm_apparmor_enabled(const char *sysroot);
bool lsm_selinux_enabled(const char *sysroot);

/* Parent, before anything exists: refuse the labels of `p` (and `mount_label`,
 * may be NULL) that the LSMs enabled under `sysroot` cannot apply. */
int lsm_check(const struct spec_process *p, const char *mount_label, const char *sysroot, berth_error **err);

/* Init, right before execve: ask for the labels the next execve takes on, by
 * writing `attr_dir`/exec (/proc/thread-self/attr in a container).  AppArmor
 * gets "exec PROFILE", in attr/apparmor/exec when the kernel has it (stacked
 * LSMs), else in attr/exec; SELinux gets the label in attr/exec. */
int lsm_set_exec_labels(const char *attr_dir, const char *apparmor, const char *selinux, berth_error **err);

/* Mount data with the SELinux context option added: `data,context="LABEL"`
 * (quoted: MCS labels hold commas).  Caller frees. */
char *lsm_mount_data(const char *data, const char *label);

#endif
