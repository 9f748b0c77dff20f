/* Open-addressing hash table from value names to value indices (FNV-1a, linear probing). */
#include <string.h>

#include "facequant/alloc.h"
#include "onnx/name_table.h"

static uint32_t hash_name(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

void fq_name_table_init(fq_name_table *table)
{
    memset(table, 0, sizeof(*table));
}

void fq_name_table_free(fq_name_table *table)
{
    fq_free(table->hashes);
    fq_free(table->indices);
    fq_name_table_init(table);
}

/* Only called on equal hashes, so the strlen is rare work. */
static bool name_matches(const fq_graph *graph, int index, const char *name, size_t len)
{
    const char *stored = graph->values[index].name;
    return strlen(stored) == len && memcmp(stored, name, len) == 0;
}

int fq_name_table_find(const fq_name_table *table, const fq_graph *graph, const char *name,
                       size_t len)
{
    if (table->cap == 0)
        return -1;
    uint32_t h = hash_name(name, len);
    size_t mask = table->cap - 1;
    for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
        int index = table->indices[slot];
        if (index < 0)
            return -1;
        if (table->hashes[slot] == h && name_matches(graph, index, name, len))
            return index;
    }
}

static void insert(fq_name_table *table, uint32_t h, int index)
{
    size_t mask = table->cap - 1;
    size_t slot = h & mask;
    while (table->indices[slot] >= 0)
        slot = (slot + 1) & mask;
    table->hashes[slot] = h;
    table->indices[slot] = index;
    table->count++;
}

/* Doubles the table (starting at 64 slots) and re-inserts every entry. */
static bool grow(fq_name_table *table)
{
    size_t cap = table->cap == 0 ? 64 : table->cap * 2;
    uint32_t *hashes = fq_malloc(cap * sizeof(uint32_t));
    int *indices = fq_malloc(cap * sizeof(int));
    if (hashes == NULL || indices == NULL || cap > SIZE_MAX / 2 / sizeof(uint32_t)) {
        fq_free(hashes);
        fq_free(indices);
        return false;
    }
    memset(indices, 0xff, cap * sizeof(int));

    fq_name_table old = *table;
    table->hashes = hashes;
    table->indices = indices;
    table->cap = cap;
    table->count = 0;
    for (size_t slot = 0; slot < old.cap; slot++)
        if (old.indices[slot] >= 0)
            insert(table, old.hashes[slot], old.indices[slot]);
    fq_free(old.hashes);
    fq_free(old.indices);
    return true;
}

bool fq_name_table_add(fq_name_table *table, const fq_graph *graph, int index)
{
    /* Keep the load at most one half so probes stay short. */
    if ((table->count + 1) * 2 > table->cap && !grow(table))
        return false;
    const char *name = graph->values[index].name;
    insert(table, hash_name(name, strlen(name)), index);
    return true;
}
