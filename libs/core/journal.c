/*
 * The journal of persistent changes: line format and replay (journal.h
 * has the format and the replay rule)
 *
 * No Win32 here: the DLL glue (store.c) reads and writes the file and the
 * registry; this file turns journal text plus the registry's list into
 * the list to write back.
 */

#include <stdio.h>
#include <string.h>

#include "journal.h"

static const char *const op_names[] = { "add", "del", "dyn", "base" };
static const char *const proto_names[PORTRES_PROTO_COUNT] = { "tcp", "udp" };

/* portres_journal_crc32: CRC-32 (IEEE 802.3, reflected, as gzip and zlib)
 * of len bytes of data */
uint32_t portres_journal_crc32( const char *data, size_t len )
{
    static uint32_t table[256];
    static volatile int ready;
    uint32_t crc = 0xffffffffu;

    /* a byte at a time (the host view checks slots of up to 48 KB);
     * threads that fill the table at once write the same values */
    if (!ready)
    {
        for (uint32_t n = 0; n < 256; n++)
        {
            uint32_t c = n;
            for (int bit = 0; bit < 8; bit++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
            table[n] = c;
        }
        ready = 1;
    }
    for (size_t i = 0; i < len; i++) crc = (crc >> 8) ^ table[(crc ^ (uint8_t)data[i]) & 0xff];
    return ~crc;
}

/* portres_journal_format: the journal line of entry, newline included, in
 * buf of size bytes; returns its length, 0 if entry is invalid or buf too
 * small */
int portres_journal_format( char *buf, size_t size, const struct portres_journal_entry *entry )
{
    int len;

    if (entry->op == PORTRES_JOURNAL_BASE)
        len = snprintf( buf, size, "%llu base %u", (unsigned long long)entry->gen, (unsigned)entry->entries );
    else
    {
        if ((unsigned)entry->proto >= PORTRES_PROTO_COUNT || (unsigned)entry->op > PORTRES_JOURNAL_DYN ||
            !portres_range_valid( entry->start, entry->count ))
            return 0;
        if (entry->op == PORTRES_JOURNAL_DYN)
            len = snprintf( buf, size, "%llu dyn %s %u-%u %u-%u", (unsigned long long)entry->gen,
                            proto_names[entry->proto], entry->start, entry->start + entry->count - 1,
                            entry->old_start, entry->old_count ? entry->old_start + entry->old_count - 1 : 0 );
        else
            len = snprintf( buf, size, "%llu %s %s %u-%u 0x%016llx", (unsigned long long)entry->gen,
                            op_names[entry->op], proto_names[entry->proto], entry->start,
                            entry->start + entry->count - 1, (unsigned long long)entry->token );
    }
    if (len < 0 || (size_t)len + 10 >= size) return 0;
    len += snprintf( buf + len, size - len, " %08x\n", (unsigned)portres_journal_crc32( buf, len ) );
    return len;
}

/* read an unsigned decimal (digits only, no leading zero unless "0") up to
 * max; advances *p; FALSE if malformed */
static int read_dec( const char **p, uint64_t max, uint64_t *value )
{
    const char *s = *p;
    uint64_t v = 0;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9')) return 0;
    for (; *s >= '0' && *s <= '9'; s++)
    {
        if (v > (max - (uint64_t)(*s - '0')) / 10) return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *value = v;
    return 1;
}

/* "FIRST-LAST" -> start, count; allow_zero accepts "0-0" (count 0) */
static int read_range( const char **p, int allow_zero, uint16_t *start, uint16_t *count )
{
    uint64_t first, last;

    if (!read_dec( p, 65535, &first ) || **p != '-') return 0;
    (*p)++;
    if (!read_dec( p, 65535, &last )) return 0;
    if (allow_zero && !first && !last)
    {
        *start = *count = 0;
        return 1;
    }
    if (!first || last < first) return 0;
    *start = (uint16_t)first;
    *count = (uint16_t)(last - first + 1);
    return 1;
}

static int read_word( const char **p, const char *word )
{
    size_t len = strlen( word );
    if (strncmp( *p, word, len ) || (*p)[len] != ' ') return 0;
    *p += len + 1;
    return 1;
}

/* portres_journal_parse: parse one journal line of len bytes (with its
 * newline) into entry; FALSE if it is malformed, fails its CRC or has no
 * newline */
int portres_journal_parse( const char *line, size_t len, struct portres_journal_entry *entry )
{
    char buf[PORTRES_JOURNAL_LINE_MAX];
    const char *p = buf;
    uint64_t gen, crc, value;
    size_t body;
    int op, proto;

    if (len < 12 || len > sizeof(buf) || line[len - 1] != '\n') return 0;
    memcpy( buf, line, len - 1 );
    buf[len - 1] = 0;
    if (memchr( buf, 0, len - 1 )) return 0;
    body = len - 1 - 9;  /* " xxxxxxxx" */
    if (buf[body] != ' ') return 0;
    crc = 0;
    for (size_t i = body + 1; i < len - 1; i++)
    {
        char c = buf[i];
        if (c >= '0' && c <= '9') crc = crc * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') crc = crc * 16 + (uint64_t)(c - 'a' + 10);
        else return 0;
    }
    if (crc != portres_journal_crc32( buf, body )) return 0;
    buf[body] = 0;

    memset( entry, 0, sizeof(*entry) );
    if (!read_dec( &p, UINT64_MAX, &gen ) || *p++ != ' ') return 0;
    entry->gen = gen;
    for (op = 0; op <= PORTRES_JOURNAL_BASE; op++) if (read_word( &p, op_names[op] )) break;
    if (op > PORTRES_JOURNAL_BASE) return 0;
    entry->op = op;
    if (op == PORTRES_JOURNAL_BASE)
    {
        if (!read_dec( &p, 2 * PORTRES_MAX_RESERVATIONS, &value ) || *p) return 0;
        entry->entries = (uint32_t)value;
        return 1;
    }
    for (proto = 0; proto < PORTRES_PROTO_COUNT; proto++) if (read_word( &p, proto_names[proto] )) break;
    if (proto == PORTRES_PROTO_COUNT) return 0;
    entry->proto = proto;
    if (!read_range( &p, 0, &entry->start, &entry->count ) || *p++ != ' ') return 0;
    if (op == PORTRES_JOURNAL_DYN)
        return read_range( &p, 1, &entry->old_start, &entry->old_count ) && !*p &&
               portres_dynamic_range_valid( entry->start, entry->count );
    if (p[0] != '0' || p[1] != 'x') return 0;
    p += 2;
    value = 0;
    for (int i = 0; i < 16; i++, p++)
    {
        if (*p >= '0' && *p <= '9') value = value * 16 + (uint64_t)(*p - '0');
        else if (*p >= 'a' && *p <= 'f') value = value * 16 + (uint64_t)(*p - 'a' + 10);
        else return 0;
    }
    if (*p || !(value & PORTRES_PERSISTENT_TOKEN_BIT) || value == PORTRES_PERSISTENT_TOKEN_BIT) return 0;
    entry->token = value;
    return 1;
}

/* portres_store_list_init: an empty list, generation 0, Windows's default dynamic ranges */
void portres_store_list_init( struct portres_store_list *list )
{
    list->gen = 0;
    list->count = 0;
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        list->dyn_first[proto] = PORTRES_DYNAMIC_FIRST;
        list->dyn_count[proto] = PORTRES_DYNAMIC_COUNT;
    }
}

/* portres_store_list_find: the item of proto with exactly this block, or NULL */
struct portres_store_item *portres_store_list_find( struct portres_store_list *list, enum portres_proto proto,
                                                    uint16_t start, uint16_t count )
{
    for (uint32_t i = 0; i < list->count; i++)
        if (list->items[i].proto == proto && list->items[i].start == start && list->items[i].count == count)
            return &list->items[i];
    return NULL;
}

static int overlaps( const struct portres_store_list *list, enum portres_proto proto, uint16_t start, uint16_t count )
{
    for (uint32_t i = 0; i < list->count; i++)
    {
        const struct portres_store_item *item = &list->items[i];
        if (item->proto == proto && (uint32_t)item->start < (uint32_t)start + count &&
            (uint32_t)start < (uint32_t)item->start + item->count)
            return 1;
    }
    return 0;
}

/* portres_store_list_add: append a reservation; FALSE if the block is
 * invalid, overlaps one of the list or the list is full */
int portres_store_list_add( struct portres_store_list *list, enum portres_proto proto, uint16_t start,
                            uint16_t count, uint64_t token )
{
    struct portres_store_item *item;

    if ((unsigned)proto >= PORTRES_PROTO_COUNT || !portres_range_valid( start, count ) ||
        overlaps( list, proto, start, count ) || list->count >= PORTRES_MAX_RESERVATIONS)
        return 0;
    item = &list->items[list->count++];
    item->token = token;
    item->start = start;
    item->count = count;
    item->proto = proto;
    item->mark = 0;
    return 1;
}

static void list_remove( struct portres_store_list *list, struct portres_store_item *item )
{
    *item = list->items[--list->count];
}

static void warn( portres_journal_warn_fn fn, void *ctx, unsigned int line_no, const char *what,
                  const struct portres_journal_entry *entry )
{
    char text[160];

    if (!fn) return;
    if (entry)
        snprintf( text, sizeof(text), "journal line %u (generation %llu, %s %s %u-%u): %s", line_no,
                  (unsigned long long)entry->gen, op_names[entry->op],
                  entry->op == PORTRES_JOURNAL_BASE ? "-" : proto_names[entry->proto], entry->start,
                  entry->count ? entry->start + entry->count - 1 : 0, what );
    else snprintf( text, sizeof(text), "journal line %u: %s", line_no, what );
    fn( ctx, text );
}

/* a snapshot's add: drop the registry entries not confirmed by the
 * snapshot yet that overlap it; TRUE if nothing else overlaps it */
static int drop_marked( struct portres_store_list *list, const struct portres_journal_entry *e )
{
    for (uint32_t i = 0; i < list->count;)
    {
        struct portres_store_item *item = &list->items[i];
        if (item->mark && item->proto == e->proto && (uint32_t)item->start < (uint32_t)e->start + e->count &&
            (uint32_t)e->start < (uint32_t)item->start + item->count)
            list_remove( list, item );
        else i++;
    }
    return !overlaps( list, e->proto, e->start, e->count );
}

/* apply one add, del or dyn entry on top of list (see the rule in journal.h) */
static void apply( struct portres_store_list *list, const struct portres_journal_entry *e, int snapshot,
                   unsigned int line_no, portres_journal_warn_fn fn, void *ctx )
{
    struct portres_store_item *item = NULL;

    if (e->op != PORTRES_JOURNAL_DYN) item = portres_store_list_find( list, e->proto, e->start, e->count );
    switch (e->op)
    {
    case PORTRES_JOURNAL_ADD:
        if (item && item->token == e->token) item->mark = 0;  /* already there */
        else if (snapshot && drop_marked( list, e ) &&
                 portres_store_list_add( list, e->proto, e->start, e->count, e->token ))
            ;  /* the snapshot is newer than the registry's entries it replaces */
        else if (!portres_store_list_add( list, e->proto, e->start, e->count, e->token ))
            warn( fn, ctx, line_no, "conflicts with the registry (changed by hand?), skipped", e );
        break;
    case PORTRES_JOURNAL_DEL:
        if (item && item->token == e->token) list_remove( list, item );
        else if (item) warn( fn, ctx, line_no, "the registry has this block with another token, skipped", e );
        break;
    case PORTRES_JOURNAL_DYN:
        if ((list->dyn_first[e->proto] == e->start && list->dyn_count[e->proto] == e->count) || snapshot ||
            !e->old_count ||
            (list->dyn_first[e->proto] == e->old_start && list->dyn_count[e->proto] == e->old_count))
        {
            list->dyn_first[e->proto] = e->start;
            list->dyn_count[e->proto] = e->count;
        }
        else warn( fn, ctx, line_no, "the registry has another dynamic range (changed by hand?), skipped", e );
        break;
    default:
        break;
    }
}

/* the end of a snapshot: drop what it does not list, if it was intact */
static void end_snapshot( struct portres_store_list *list, uint32_t missing, unsigned int line_no,
                          portres_journal_warn_fn fn, void *ctx )
{
    if (missing)
    {
        warn( fn, ctx, line_no, "the snapshot is incomplete: entries of the registry it lacks are kept", NULL );
        for (uint32_t i = 0; i < list->count; i++) list->items[i].mark = 0;
        return;
    }
    for (uint32_t i = 0; i < list->count;)
    {
        if (list->items[i].mark)
        {
            struct portres_journal_entry e = { .gen = list->gen, .op = PORTRES_JOURNAL_DEL,
                                               .proto = list->items[i].proto, .start = list->items[i].start,
                                               .count = list->items[i].count };
            warn( fn, ctx, line_no, "in the registry but not in the newer snapshot: dropped", &e );
            list_remove( list, &list->items[i] );
        }
        else i++;
    }
}

/* portres_journal_replay: apply the journal text (len bytes, not
 * NUL-terminated) to list, the registry's list with the registry's
 * generation in list->gen, following the rule in journal.h; every skipped
 * line is reported through warn (may be NULL).  Sets list->gen to the
 * highest generation found (or keeps it) and returns the highest
 * generation of an intact line, 0 if none.  Bounded: one pass, each line
 * at most PORTRES_JOURNAL_LINE_MAX bytes plus a scan of the list. */
uint64_t portres_journal_replay( const char *text, size_t len, struct portres_store_list *list,
                                 portres_journal_warn_fn fn, void *ctx )
{
    uint64_t reg_gen = list->gen, last = 0, base_gen = 0;
    uint32_t base_left = 0;   /* lines of a current snapshot still expected */
    unsigned int line_no = 0;
    size_t pos = 0;

    for (uint32_t i = 0; i < list->count; i++) list->items[i].mark = 0;
    while (pos < len)
    {
        const char *nl = memchr( text + pos, '\n', len - pos );
        size_t line_len = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
        struct portres_journal_entry e;
        int ok = nl && portres_journal_parse( text + pos, line_len, &e );

        line_no++;
        pos += line_len;
        if (!ok)
        {
            warn( fn, ctx, line_no, nl ? "corrupt (bad format or CRC), skipped" : "truncated, skipped", NULL );
            if (base_left) { end_snapshot( list, base_left, line_no, fn, ctx ); base_left = 0; }
            continue;
        }
        if (e.gen > last) last = e.gen;
        if (base_left && (e.gen != base_gen || e.op == PORTRES_JOURNAL_BASE || e.op == PORTRES_JOURNAL_DEL))
        {
            end_snapshot( list, base_left, line_no, fn, ctx );
            base_left = 0;
        }
        if (e.gen <= reg_gen) continue;   /* already in the registry */
        if (e.op == PORTRES_JOURNAL_BASE)
        {
            base_gen = e.gen;
            base_left = e.entries;
            for (uint32_t i = 0; i < list->count; i++) list->items[i].mark = 1;
            if (!base_left) end_snapshot( list, 0, line_no, fn, ctx );
            continue;
        }
        apply( list, &e, base_left != 0, line_no, fn, ctx );
        if (base_left && !--base_left) end_snapshot( list, 0, line_no, fn, ctx );
    }
    if (base_left) end_snapshot( list, base_left, line_no, fn, ctx );
    if (last > list->gen) list->gen = last;
    return last;
}
