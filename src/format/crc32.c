/* Table-driven CRC32, "slicing by 8": one lookup per byte, eight independent lookups per step. */
#include "format/crc32.h"

#define CRC32_POLYNOMIAL 0xEDB88320u

void fq_crc32_table_init(fq_crc32_table *table)
{
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (CRC32_POLYNOMIAL & (0u - (crc & 1u)));
        table->t[0][byte] = crc;
    }
    for (int k = 1; k < 8; k++)
        for (int byte = 0; byte < 256; byte++) {
            uint32_t prev = table->t[k - 1][byte];
            table->t[k][byte] = (prev >> 8) ^ table->t[0][prev & 0xFF];
        }
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t fq_crc32(const fq_crc32_table *table, uint32_t crc, const void *data, size_t size)
{
    const uint32_t (*t)[256] = table->t;
    const unsigned char *p = data;
    crc = ~crc;

    while (size >= 8) {
        uint32_t lo = load_le32(p) ^ crc;
        uint32_t hi = load_le32(p + 4);
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^
              t[4][lo >> 24] ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^
              t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }

    while (size-- > 0)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}
