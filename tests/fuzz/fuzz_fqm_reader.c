/* libFuzzer target: any byte string given to fq_fqm_read_memory must come back as a status,
 * never as a crash, leak or sanitizer report. Each input is read twice: as it is (most damaged
 * inputs stop at a CRC), and with every CRC recomputed, so that mutations reach the checks of
 * the sections behind the CRCs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/format.h"
#include "format/crc32.h"
#include "format/fqm_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_once(const void *data, size_t size, unsigned flags)
{
    fq_graph *graph = NULL;
    fq_fqm_meta *meta = NULL;
    int n_meta = 0;
    fq_error err;
    fq_fqm_read_options options = {flags};
    if (fq_fqm_read_memory(data, size, &options, &graph, &meta, &n_meta, &err) == FQ_OK) {
        fq_fqm_meta_free(meta);
        fq_graph_free(graph);
    }
}

/* Recomputes the section, table and header CRCs of an image wherever the table allows. */
static void refresh_crcs(unsigned char *image, size_t size)
{
    static fq_crc32_table table;
    static int table_ready;
    if (!table_ready) {
        fq_crc32_table_init(&table);
        table_ready = 1;
    }
    uint64_t table_offset = fqm_get_u64(image + FQM_HEADER_TABLE_OFFSET);
    uint32_t count = fqm_get_u32(image + FQM_HEADER_SECTION_COUNT);
    if (table_offset > size || count > (size - table_offset) / FQM_ENTRY_BYTES)
        return;
    for (uint32_t s = 0; s < count; s++) {
        unsigned char *e = image + table_offset + (size_t)s * FQM_ENTRY_BYTES;
        uint64_t offset = fqm_get_u64(e + FQM_ENTRY_OFFSET);
        uint64_t bytes = fqm_get_u64(e + FQM_ENTRY_SIZE);
        if (offset <= size && bytes <= size - offset)
            fqm_put_u32(e + FQM_ENTRY_CRC, fq_crc32(&table, 0, image + offset, (size_t)bytes));
    }
    fqm_put_u32(image + FQM_HEADER_TABLE_CRC, fq_crc32(&table, 0, image + table_offset,
                                                       (size_t)count * FQM_ENTRY_BYTES));
    uint32_t header_size = fqm_get_u32(image + FQM_HEADER_HEADER_SIZE);
    if (header_size < FQM_HEADER_SIZE || header_size > size)
        return;
    fqm_put_u32(image + FQM_HEADER_HEADER_CRC, 0);
    fqm_put_u32(image + FQM_HEADER_HEADER_CRC, fq_crc32(&table, 0, image, header_size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_once(data, size, FQ_FQM_READ_COPY);
    if (size < FQM_HEADER_SIZE)
        return 0;

    unsigned char *image = fq_malloc_aligned(size);
    if (image == NULL)
        return 0;
    memcpy(image, data, size);
    refresh_crcs(image, size);
    read_once(image, size, 0);
    fq_free_aligned(image);
    return 0;
}
