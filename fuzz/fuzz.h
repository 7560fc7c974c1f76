/* What the libFuzzer targets share: the input as a C string, and the
 * property every parser must keep — a failure always comes with an error
 * that says something, a success never does. */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utils.h"

/* The input up to its first NUL, as the file reader would see a text. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        return xstrndup((const char *)data, size);
}

static inline void fuzz_check_result(int r, berth_error *err)
{
        if (r < 0 && (!err || !err->msg || !*err->msg))
                abort(); /* a failure without a message */
        if (r == 0 && err)
                abort(); /* a success that left an error behind */
}

#endif
