/* Value names -> value indices of one graph, as an open-addressing hash table.
 *
 * The table stores indices only; names are compared against graph->values[index].name, so it
 * stays valid while the value array is reallocated. Look-ups take a name as bytes and a length
 * (it need not be NUL-terminated), which lets the reader search names straight from the file.
 */
#ifndef FQ_ONNX_NAME_TABLE_H
#define FQ_ONNX_NAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/ir.h"

typedef struct fq_name_table {
    uint32_t *hashes;
    int *indices; /* -1: empty slot */
    size_t cap;   /* a power of two, or 0 */
    size_t count;
} fq_name_table;

void fq_name_table_init(fq_name_table *table);
void fq_name_table_free(fq_name_table *table);

/* Index of the value named name[0..len) in graph, or -1. */
int fq_name_table_find(const fq_name_table *table, const fq_graph *graph, const char *name,
                       size_t len);
/* Records value index under its name; the caller has checked the name is not present yet.
 * False when memory runs out. */
bool fq_name_table_add(fq_name_table *table, const fq_graph *graph, int index);

#endif
