/* A LinuxResources document, as `update --resources FILE|-` reads it, and
 * the arithmetic berth applies to such values on cgroup v2 (the first bytes
 * of the input, as numbers: UBSan watches for overflows). */
#include "fuzz.h"
#include "spec_resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint64_t n[3] = {0, 0, 0};
        memcpy(n, data, size < sizeof n ? size : sizeof n);
        (void)res_cpu_shares_to_weight(n[0]);
        (void)res_blkio_weight_to_io_weight(n[1]);
        int64_t swap;
        berth_error *e = NULL;
        (void)res_swap_to_v2((int64_t)n[1], (int64_t)n[2], "linux.resources.memory.swap", &swap, &e);
        berth_error_free(e);

        char *text = fuzz_text(data, size);
        berth_error *err = NULL;
        struct res_resources r;
        memset(&r, 0, sizeof r);
        int ret = res_parse_text(text, "resources", &r, &err);
        fuzz_check_result(ret, err);
        res_clear(&r);
        berth_error_free(err);
        free(text);
        return 0;
}
