/* Galleries in SQLite: schema, model checks, one transaction per added person. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "facequant/alloc.h"
#include "gallery/gallery.h"

/* How long a writer waits for another process holding the file's lock. */
#define BUSY_TIMEOUT_MS 10000

struct fq_gallery {
    sqlite3 *db;
    char *path;
    fq_gallery_model model;
    char created[32];
};

static const char *const schema_sql =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE embeddings (id INTEGER PRIMARY KEY,"
    " person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    " vector BLOB NOT NULL, source TEXT);"
    "CREATE INDEX embeddings_by_person ON embeddings(person_id);";

void fq_gallery_checksum(const void *data, size_t size, char out[64])
{
    const unsigned char *bytes = data;
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    snprintf(out, 64, "fnv1a64:%016llx", (unsigned long long)hash);
}

fq_status fq_gallery_checksum_file(const char *path, char out[64], fq_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "cannot open '%s' to checksum it", path);

    uint64_t hash = 0xcbf29ce484222325ull;
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            hash ^= buf[i];
            hash *= 0x100000001b3ull;
        }
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed)
        return fq_error_set(err, FQ_ERR_IO, "cannot read '%s' to checksum it", path);
    snprintf(out, 64, "fnv1a64:%016llx", (unsigned long long)hash);
    return FQ_OK;
}

static fq_status sql_fail(const fq_gallery *g, const char *what, fq_error *err)
{
    return fq_error_set(err, FQ_ERR_IO, "gallery '%s': %s: %s", g->path, what,
                        sqlite3_errmsg(g->db));
}

static fq_status sql_exec(fq_gallery *g, const char *sql, const char *what, fq_error *err)
{
    if (sqlite3_exec(g->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(g, what, err);
    return FQ_OK;
}

static fq_status sql_prepare(fq_gallery *g, const char *sql, sqlite3_stmt **stmt, fq_error *err)
{
    if (sqlite3_prepare_v2(g->db, sql, -1, stmt, NULL) != SQLITE_OK)
        return sql_fail(g, "cannot prepare a statement", err);
    return FQ_OK;
}

/* Ends a transaction begun by the caller: COMMIT when status is FQ_OK, else ROLLBACK. */
static fq_status sql_finish(fq_gallery *g, fq_status status, fq_error *err)
{
    if (status != FQ_OK) {
        sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
        return status;
    }
    status = sql_exec(g, "COMMIT", "cannot commit", err);
    if (status != FQ_OK)
        sqlite3_exec(g->db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

static fq_status read_user_version(fq_gallery *g, int *version, fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, "PRAGMA user_version", &stmt, err);
    if (status != FQ_OK)
        return status;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *version = sqlite3_column_int(stmt, 0);
    else
        status = sql_fail(g, "cannot read the schema version", err);
    sqlite3_finalize(stmt);
    return status;
}

static fq_status count_tables(fq_gallery *g, int *count, fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, "SELECT COUNT(*) FROM sqlite_master", &stmt, err);
    if (status != FQ_OK)
        return status;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *count = sqlite3_column_int(stmt, 0);
    else
        status = sql_fail(g, "cannot list its tables", err);
    sqlite3_finalize(stmt);
    return status;
}

static fq_status insert_meta(fq_gallery *g, const char *key, const char *value, fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, "INSERT INTO meta (key, value) VALUES (?, ?)", &stmt, err);
    if (status != FQ_OK)
        return status;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        status = sql_fail(g, "cannot write the meta table", err);
    sqlite3_finalize(stmt);
    return status;
}

static void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static fq_status write_schema(fq_gallery *g, const fq_gallery_model *model, fq_error *err)
{
    char size_text[16], created[32], version_sql[64];
    snprintf(size_text, sizeof(size_text), "%d", model->embedding_size);
    snprintf(version_sql, sizeof(version_sql), "PRAGMA user_version = %d",
             FQ_GALLERY_SCHEMA_VERSION);
    utc_now(created);

    fq_status status = sql_exec(g, schema_sql, "cannot create the tables", err);
    if (status == FQ_OK)
        status = insert_meta(g, "embedding_size", size_text, err);
    if (status == FQ_OK)
        status = insert_meta(g, "recognizer", model->recognizer, err);
    if (status == FQ_OK)
        status = insert_meta(g, "recognizer_checksum", model->checksum, err);
    if (status == FQ_OK)
        status = insert_meta(g, "created", created, err);
    if (status == FQ_OK)
        status = sql_exec(g, version_sql, "cannot set the schema version", err);
    return status;
}

/* Creates the schema of an empty file. Two processes may race here: the IMMEDIATE transaction
 * makes the second one see the first one's schema. */
static fq_status create_schema(fq_gallery *g, const fq_gallery_model *model, fq_error *err)
{
    if (model->embedding_size <= 0 || model->embedding_size > FQ_GALLERY_MAX_EMBEDDING)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s': embedding size %d is not in "
                            "1..%d", g->path, model->embedding_size, FQ_GALLERY_MAX_EMBEDDING);
    fq_status status = sql_exec(g, "BEGIN IMMEDIATE", "cannot begin a transaction", err);
    if (status != FQ_OK)
        return status;

    int version = 0, tables = 0;
    status = read_user_version(g, &version, err);
    if (status == FQ_OK && version == 0)
        status = count_tables(g, &tables, err);
    if (status == FQ_OK && version == 0 && tables > 0)
        status = fq_error_set(err, FQ_ERR_PARSE, "'%s' is an SQLite database but not a gallery "
                              "(it has tables and no gallery schema version)", g->path);
    if (status == FQ_OK && version == 0)
        status = write_schema(g, model, err);
    return sql_finish(g, status, err);
}

static fq_status parse_meta_row(fq_gallery *g, const char *key, const char *value, int *seen,
                                fq_error *err)
{
    if (strcmp(key, "embedding_size") == 0) {
        char *end;
        long size = strtol(value, &end, 10);
        if (end == value || *end != '\0' || size <= 0 || size > FQ_GALLERY_MAX_EMBEDDING)
            return fq_error_set(err, FQ_ERR_PARSE, "gallery '%s': embedding_size '%s' is not in "
                                "1..%d", g->path, value, FQ_GALLERY_MAX_EMBEDDING);
        g->model.embedding_size = (int)size;
        *seen |= 1;
    } else if (strcmp(key, "recognizer") == 0) {
        snprintf(g->model.recognizer, sizeof(g->model.recognizer), "%s", value);
        *seen |= 2;
    } else if (strcmp(key, "recognizer_checksum") == 0) {
        snprintf(g->model.checksum, sizeof(g->model.checksum), "%s", value);
        *seen |= 4;
    } else if (strcmp(key, "created") == 0) {
        snprintf(g->created, sizeof(g->created), "%s", value);
    }
    return FQ_OK;
}

static fq_status read_meta(fq_gallery *g, fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, "SELECT key, value FROM meta", &stmt, err);
    if (status != FQ_OK)
        return status;

    int seen = 0, rc = SQLITE_DONE;
    while (status == FQ_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        const char *value = (const char *)sqlite3_column_text(stmt, 1);
        if (key != NULL && value != NULL)
            status = parse_meta_row(g, key, value, &seen, err);
    }
    if (status == FQ_OK && rc != SQLITE_DONE)
        status = sql_fail(g, "cannot read the meta table", err);
    sqlite3_finalize(stmt);
    if (status == FQ_OK && seen != 7)
        status = fq_error_set(err, FQ_ERR_PARSE, "gallery '%s': the meta table lacks embedding_"
                              "size, recognizer or recognizer_checksum", g->path);
    return status;
}

static fq_status check_schema(fq_gallery *g, const fq_gallery_model *model, fq_error *err)
{
    int version = 0;
    fq_status status = read_user_version(g, &version, err);
    if (status != FQ_OK)
        return status;
    if (version == 0 && model == NULL)
        return fq_error_set(err, FQ_ERR_PARSE, "'%s' is not a gallery (no schema version)",
                            g->path);
    if (version == 0)
        status = create_schema(g, model, err);
    if (status == FQ_OK)
        status = read_user_version(g, &version, err);
    if (status == FQ_OK && version != FQ_GALLERY_SCHEMA_VERSION)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "gallery '%s' has schema version %d; this "
                            "facequant reads version %d", g->path, version,
                            FQ_GALLERY_SCHEMA_VERSION);
    return status == FQ_OK ? read_meta(g, err) : status;
}

fq_status fq_gallery_open(const char *path, const fq_gallery_model *model, fq_gallery **out,
                          fq_error *err)
{
    *out = NULL;
    struct stat st;
    if (model == NULL && stat(path, &st) != 0)
        return fq_error_set(err, FQ_ERR_IO, "gallery '%s' does not exist", path);

    fq_gallery *g = fq_calloc(1, sizeof(*g));
    if (g == NULL || (g->path = fq_strdup(path)) == NULL) {
        fq_free(g);
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to open gallery '%s'", path);
    }
    int flags = SQLITE_OPEN_READWRITE | (model != NULL ? SQLITE_OPEN_CREATE : 0);
    fq_status status = FQ_OK;
    if (sqlite3_open_v2(path, &g->db, flags, NULL) != SQLITE_OK)
        status = sql_fail(g, "cannot open", err);
    if (status == FQ_OK) {
        sqlite3_busy_timeout(g->db, BUSY_TIMEOUT_MS);
        status = sql_exec(g, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", err);
    }
    if (status == FQ_OK)
        status = check_schema(g, model, err);
    if (status != FQ_OK) {
        fq_gallery_close(g);
        return status;
    }
    *out = g;
    return FQ_OK;
}

void fq_gallery_close(fq_gallery *gallery)
{
    if (gallery == NULL)
        return;
    sqlite3_close(gallery->db);
    fq_free(gallery->path);
    fq_free(gallery);
}

const fq_gallery_model *fq_gallery_model_of(const fq_gallery *gallery)
{
    return &gallery->model;
}

const char *fq_gallery_created(const fq_gallery *gallery)
{
    return gallery->created;
}

fq_status fq_gallery_check_model(const fq_gallery *gallery, const fq_gallery_model *model,
                                 fq_error *err)
{
    const fq_gallery_model *own = &gallery->model;
    if (model->embedding_size != own->embedding_size)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s' holds %d-float embeddings of "
                            "%s; recognizer %s gives %d floats", gallery->path,
                            own->embedding_size, own->recognizer, model->recognizer,
                            model->embedding_size);
    if (strcmp(model->checksum, own->checksum) != 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s' was made with recognizer %s "
                            "(%s); recognizer %s is another model (%s)", gallery->path,
                            own->recognizer, own->checksum, model->recognizer, model->checksum);
    return FQ_OK;
}

/* Little-endian float bytes; refuses values that are not finite, naming the embedding. */
static fq_status encode_vector(const fq_gallery *g, const float *v, int n, int index,
                               unsigned char *out, fq_error *err)
{
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s': embedding %d has a "
                                "value that is not finite at element %d", g->path, index, i);
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof(bits));
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (unsigned char)(bits >> (8 * b));
    }
    return FQ_OK;
}

static void decode_vector(const unsigned char *bytes, int n, float *out)
{
    for (int i = 0; i < n; i++) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; b++)
            bits |= (uint32_t)bytes[4 * i + b] << (8 * b);
        memcpy(&out[i], &bits, sizeof(bits));
    }
}

static fq_status person_id(fq_gallery *g, const char *name, bool create, int64_t *id,
                           fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = FQ_OK;
    *id = -1;
    if (create) {
        status = sql_prepare(g, "INSERT OR IGNORE INTO people (name) VALUES (?)", &stmt, err);
        if (status != FQ_OK)
            return status;
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            status = sql_fail(g, "cannot add a person", err);
        sqlite3_finalize(stmt);
    }
    if (status == FQ_OK)
        status = sql_prepare(g, "SELECT id FROM people WHERE name = ?", &stmt, err);
    if (status != FQ_OK)
        return status;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
        status = sql_fail(g, "cannot look up a person", err);
    sqlite3_finalize(stmt);
    return status;
}

static fq_status insert_embeddings(fq_gallery *g, int64_t id, const float *embeddings, int count,
                                   const char *const *sources, fq_error *err)
{
    int n = g->model.embedding_size;
    unsigned char *blob = fq_malloc((size_t)n * 4);
    if (blob == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for an embedding of %d floats", n);
    sqlite3_stmt *stmt = NULL;
    fq_status status = sql_prepare(g, "INSERT INTO embeddings (person_id, vector, source) "
                                   "VALUES (?, ?, ?)", &stmt, err);
    for (int i = 0; status == FQ_OK && i < count; i++) {
        status = encode_vector(g, embeddings + (size_t)i * n, n, i, blob, err);
        if (status != FQ_OK)
            break;
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_blob(stmt, 2, blob, n * 4, SQLITE_STATIC);
        if (sources != NULL && sources[i] != NULL)
            sqlite3_bind_text(stmt, 3, sources[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(stmt, 3);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            status = sql_fail(g, "cannot add an embedding", err);
    }
    if (stmt != NULL)
        sqlite3_finalize(stmt);
    fq_free(blob);
    return status;
}

fq_status fq_gallery_add(fq_gallery *gallery, const char *name, const fq_gallery_model *model,
                         const float *embeddings, int count, const char *const *sources,
                         fq_error *err)
{
    if (name == NULL || name[0] == '\0')
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s': a person needs a name",
                            gallery->path);
    if (count <= 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s': no embeddings to add for "
                            "'%s'", gallery->path, name);
    fq_status status = fq_gallery_check_model(gallery, model, err);
    if (status == FQ_OK)
        status = sql_exec(gallery, "BEGIN IMMEDIATE", "cannot begin a transaction", err);
    if (status != FQ_OK)
        return status;

    int64_t id;
    status = person_id(gallery, name, true, &id, err);
    if (status == FQ_OK && id < 0)
        status = fq_error_set(err, FQ_ERR_INTERNAL, "gallery '%s': person '%s' vanished after "
                              "being added", gallery->path, name);
    if (status == FQ_OK)
        status = insert_embeddings(gallery, id, embeddings, count, sources, err);
    return sql_finish(gallery, status, err);
}

fq_status fq_gallery_has_person(fq_gallery *gallery, const char *name, int *found, fq_error *err)
{
    int64_t id;
    fq_status status = person_id(gallery, name, false, &id, err);
    *found = status == FQ_OK && id >= 0;
    return status;
}

static fq_status delete_person(fq_gallery *g, int64_t id, fq_error *err)
{
    static const char *const statements[] = {
        "DELETE FROM embeddings WHERE person_id = ?",
        "DELETE FROM people WHERE id = ?",
    };
    fq_status status = FQ_OK;
    for (int i = 0; status == FQ_OK && i < 2; i++) {
        sqlite3_stmt *stmt;
        status = sql_prepare(g, statements[i], &stmt, err);
        if (status != FQ_OK)
            break;
        sqlite3_bind_int64(stmt, 1, id);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            status = sql_fail(g, "cannot remove a person", err);
        sqlite3_finalize(stmt);
    }
    return status;
}

fq_status fq_gallery_remove(fq_gallery *gallery, const char *name, fq_error *err)
{
    fq_status status = sql_exec(gallery, "BEGIN IMMEDIATE", "cannot begin a transaction", err);
    if (status != FQ_OK)
        return status;
    int64_t id;
    status = person_id(gallery, name, false, &id, err);
    if (status == FQ_OK && id < 0)
        status = fq_error_set(err, FQ_ERR_INVALID_ARG, "gallery '%s' has no person '%s'",
                              gallery->path, name);
    if (status == FQ_OK)
        status = delete_person(gallery, id, err);
    return sql_finish(gallery, status, err);
}

void fq_gallery_people_free(fq_gallery_person *people, int count)
{
    for (int i = 0; people != NULL && i < count; i++)
        fq_free(people[i].name);
    fq_free(people);
}

static fq_status append_person(fq_gallery_person **people, int *count, int *capacity,
                               sqlite3_stmt *stmt, fq_error *err)
{
    if (*count == *capacity) {
        int grown = *capacity == 0 ? 16 : *capacity * 2;
        fq_gallery_person *bigger = fq_realloc(*people, (size_t)grown * sizeof(**people));
        if (bigger == NULL)
            return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory to list %d people", grown);
        *people = bigger;
        *capacity = grown;
    }
    const char *name = (const char *)sqlite3_column_text(stmt, 1);
    fq_gallery_person *p = &(*people)[*count];
    p->id = sqlite3_column_int64(stmt, 0);
    p->embeddings = sqlite3_column_int(stmt, 2);
    p->name = fq_strdup(name != NULL ? name : "");
    if (p->name == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for a person's name");
    (*count)++;
    return FQ_OK;
}

/* Reads people with their embedding counts, in the order the query gives. */
static fq_status query_people(fq_gallery *g, const char *order, fq_gallery_person **people,
                              int *count, fq_error *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT p.id, p.name, COUNT(e.id) FROM people p LEFT JOIN "
             "embeddings e ON e.person_id = p.id GROUP BY p.id ORDER BY %s", order);
    *people = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, sql, &stmt, err);
    if (status != FQ_OK)
        return status;
    int capacity = 0, rc = SQLITE_DONE;
    while (status == FQ_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        status = append_person(people, count, &capacity, stmt, err);
    if (status == FQ_OK && rc != SQLITE_DONE)
        status = sql_fail(g, "cannot list people", err);
    sqlite3_finalize(stmt);
    if (status != FQ_OK) {
        fq_gallery_people_free(*people, *count);
        *people = NULL;
        *count = 0;
    }
    return status;
}

fq_status fq_gallery_list(fq_gallery *gallery, fq_gallery_person **people, int *count,
                          fq_error *err)
{
    return query_people(gallery, "p.name", people, count, err);
}

void fq_gallery_set_free(fq_gallery_set *set)
{
    for (int i = 0; set->names != NULL && i < set->n_people; i++)
        fq_free(set->names[i]);
    fq_free(set->names);
    fq_free(set->vectors);
    fq_free(set->person);
    memset(set, 0, sizeof(*set));
}

/* Takes the names out of people (ordered by id) into set, and sizes the vectors. */
static fq_status prepare_set(fq_gallery_person *people, int n_people, int size,
                             fq_gallery_set *set, fq_error *err)
{
    int total = 0;
    for (int i = 0; i < n_people; i++)
        total += people[i].embeddings;
    set->size = size;
    set->n_people = n_people;
    set->names = fq_calloc((size_t)(n_people > 0 ? n_people : 1), sizeof(char *));
    set->vectors = fq_malloc((size_t)(total > 0 ? total : 1) * (size_t)size * sizeof(float));
    set->person = fq_malloc((size_t)(total > 0 ? total : 1) * sizeof(int));
    if (set->names == NULL || set->vectors == NULL || set->person == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %d embeddings of %d floats",
                            total, size);
    for (int i = 0; i < n_people; i++) {
        set->names[i] = people[i].name;
        people[i].name = NULL;
    }
    return FQ_OK;
}

static fq_status read_vectors(fq_gallery *g, const fq_gallery_person *people, int n_people,
                              fq_gallery_set *set, int capacity, fq_error *err)
{
    sqlite3_stmt *stmt;
    fq_status status = sql_prepare(g, "SELECT person_id, vector FROM embeddings "
                                   "ORDER BY person_id, id", &stmt, err);
    if (status != FQ_OK)
        return status;
    int p = 0, rc = SQLITE_DONE;
    while (status == FQ_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(stmt, 0);
        while (p < n_people && people[p].id < id)
            p++;
        int bytes = sqlite3_column_bytes(stmt, 1);
        const unsigned char *blob = sqlite3_column_blob(stmt, 1);
        if (p == n_people || people[p].id != id || set->count == capacity)
            status = fq_error_set(err, FQ_ERR_PARSE, "gallery '%s': an embedding belongs to no "
                                  "person (person id %lld)", g->path, (long long)id);
        else if (blob == NULL || bytes != set->size * 4)
            status = fq_error_set(err, FQ_ERR_PARSE, "gallery '%s': an embedding of '%s' has "
                                  "%d bytes, expected %d", g->path, set->names[p], bytes,
                                  set->size * 4);
        if (status != FQ_OK)
            break;
        decode_vector(blob, set->size, set->vectors + (size_t)set->count * set->size);
        set->person[set->count++] = p;
    }
    if (status == FQ_OK && rc != SQLITE_DONE)
        status = sql_fail(g, "cannot read embeddings", err);
    sqlite3_finalize(stmt);
    return status;
}

fq_status fq_gallery_load(fq_gallery *gallery, fq_gallery_set *set, fq_error *err)
{
    memset(set, 0, sizeof(*set));
    fq_status status = sql_exec(gallery, "BEGIN", "cannot begin a transaction", err);
    if (status != FQ_OK)
        return status;

    fq_gallery_person *people;
    int n_people;
    status = query_people(gallery, "p.id", &people, &n_people, err);
    int total = 0;
    for (int i = 0; status == FQ_OK && i < n_people; i++)
        total += people[i].embeddings;
    if (status == FQ_OK)
        status = prepare_set(people, n_people, gallery->model.embedding_size, set, err);
    if (status == FQ_OK)
        status = read_vectors(gallery, people, n_people, set, total, err);
    fq_gallery_people_free(people, n_people);
    sqlite3_exec(gallery->db, "COMMIT", NULL, NULL, NULL);
    if (status != FQ_OK)
        fq_gallery_set_free(set);
    return status;
}
