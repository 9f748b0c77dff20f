/* CRC32 with the IEEE 802.3 polynomial (reflected 0xEDB88320, initial value and final xor
 * 0xFFFFFFFF: the CRC of zlib, PNG and gzip), computed eight bytes at a time. */
#ifndef FQ_FORMAT_CRC32_H
#define FQ_FORMAT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Lookup tables: table[0] is the classic byte-at-a-time table, table[k] advances a byte k
 * more positions. 8 KiB; built by fq_crc32_table_init. */
typedef struct fq_crc32_table {
    uint32_t t[8][256];
} fq_crc32_table;

void fq_crc32_table_init(fq_crc32_table *table);

/* CRC of size bytes appended to a message whose CRC is crc (0 for an empty message):
 * fq_crc32(t, fq_crc32(t, 0, a, n), b, m) is the CRC of a followed by b. */
uint32_t fq_crc32(const fq_crc32_table *table, uint32_t crc, const void *data, size_t size);

#endif
