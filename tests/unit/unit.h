/* What several unit tests share.  Include after <cmocka.h>. */
#ifndef BERTH_TESTS_UNIT_H
#define BERTH_TESTS_UNIT_H

#include <string.h>

#include "berth.h"

/* `r` and `err` of one call (`r = f(..., &err)`): it failed, and its
 * message holds `msg`.  Frees the error. */
static inline void expect_failure(int r, berth_error *err, const char *msg)
{
        assert_true(r < 0);
        assert_non_null(err);
        if (!strstr(berth_error_message(err), msg))
                fail_msg("error `%s` lacks `%s`", berth_error_message(err), msg);
        berth_error_free(err);
}

#endif
