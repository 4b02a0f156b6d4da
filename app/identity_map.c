/* Identity IOVAs in a set of domains: see identity_map.h. */
#include "app/identity_map.h"

#include "lib/ktap.h"

uint64_t identity_map_dma(void *ctx, uint64_t phys, uint64_t len)
{
    const struct identity_map *m = ctx;
    for (unsigned i = 0; i < m->n; i++) {
        if (m->ok && !m->ok[i])
            continue;
        int rc = vtd_domain_map_identity(&m->dom[i], phys, len);
        if (rc) {
            ktap_diag("%s: cannot map %#llx+%#llx in domain %u: %s", m->who,
                      (unsigned long long)phys, (unsigned long long)len, m->dom[i].did,
                      pgtable_strerror(rc));
            return DMA_MAP_FAILED;
        }
    }
    return phys;
}
