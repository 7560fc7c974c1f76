/* An OCI process object alone: `exec --process FILE`. */
#include "fuzz.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        berth_error *err = NULL;
        struct spec_process p;
        memset(&p, 0, sizeof p);
        int r = spec_parse_process(text, "process.json", &p, &err);
        fuzz_check_result(r, err);
        spec_process_clear(&p);
        berth_error_free(err);
        free(text);
        return 0;
}
