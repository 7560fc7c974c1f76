/* config.json: parsing and the whole validation (spec_parse), as `create`
 * runs it before touching the host.  The bundle is NULL, so root.path is
 * taken as written and nothing on disk is looked at. */
#include "fuzz.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        berth_error *err = NULL;
        struct spec *s = spec_parse(text, NULL, "config.json", &err);
        fuzz_check_result(s ? 0 : -1, err);
        spec_free(s);
        berth_error_free(err);
        free(text);
        return 0;
}
