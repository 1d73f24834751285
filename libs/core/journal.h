/*
 * The journal of persistent changes: what makes a change of the persistent
 * list durable when the wineserver is killed before it saves the registry
 * (behaviour §5; doc/design.md "Where things are kept").  Win32-free: unit-tested and
 * fuzzed natively.  Ports in host byte order.
 *
 * One line per change, oldest first, appended and flushed before the call
 * that made the change returns:
 *
 *   GEN add PROTO FIRST-LAST TOKEN CRC     persistent reservation created
 *   GEN del PROTO FIRST-LAST TOKEN CRC     persistent reservation deleted
 *   GEN dyn PROTO FIRST-LAST OLDFIRST-OLDLAST CRC   dynamic port range set
 *   GEN base N CRC                         snapshot: the N lines after it
 *                                          (add and dyn, generation GEN) are
 *                                          the whole list at GEN
 *
 * GEN is the decimal generation, one more for each change; PROTO tcp or
 * udp; TOKEN "0x" and 16 hex digits; CRC the CRC-32 (IEEE, as gzip's) of
 * the line's bytes before " CRC", 8 lower-case hex digits.  The registry
 * value HKLM\Software\Wine\Portres "Generation" holds the generation of
 * the last change written into the registry.
 *
 * Replay rule (portres_journal_replay), on the registry's list:
 * - lines whose generation is not above the registry's are already in the
 *   registry and are skipped (so hand edits made while Wine was stopped,
 *   which leave the generation as it was, are never undone by them);
 * - newer lines are applied one by one: add, del and dyn are idempotent; a
 *   line that conflicts with the registry (add: another block overlaps;
 *   del: the block is there with another token; dyn: the range is neither
 *   the old nor the new one) is a hand edit and wins: the line is skipped
 *   with a warning;
 * - a snapshot newer than the registry (the registry is older than the
 *   compacted journal): its entries are applied like add/dyn lines, and
 *   when all N are intact the registry's entries missing from it are
 *   dropped with a warning; with a damaged snapshot they are kept;
 * - a line that is malformed, fails its CRC or lacks its newline is
 *   skipped with a warning; the lines after it are still applied.
 */

#ifndef PORTRES_JOURNAL_H
#define PORTRES_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define PORTRES_JOURNAL_LINE_MAX 128
/* compaction: the journal is rewritten as a snapshot past this many bytes (about 512 lines) */
#define PORTRES_JOURNAL_COMPACT_SIZE (512 * 56)

enum portres_journal_op { PORTRES_JOURNAL_ADD, PORTRES_JOURNAL_DEL, PORTRES_JOURNAL_DYN, PORTRES_JOURNAL_BASE };

struct portres_journal_entry
{
    uint64_t gen;
    enum portres_journal_op op;
    enum portres_proto proto;       /* not for base */
    uint16_t start, count;          /* the block, or the new dynamic range */
    uint64_t token;                 /* add, del */
    uint16_t old_start, old_count;  /* dyn: the range it replaced, 0-0 for any */
    uint32_t entries;               /* base: number of lines of the snapshot */
};

/* one persistent reservation of the store's list */
struct portres_store_item
{
    uint64_t token;
    uint16_t start, count;
    uint8_t  proto;
    uint8_t  mark;                  /* scratch for the replay */
};

/* the persistent list as the registry holds it */
struct portres_store_list
{
    uint64_t gen;                   /* the registry's generation */
    uint16_t dyn_first[PORTRES_PROTO_COUNT], dyn_count[PORTRES_PROTO_COUNT];
    uint32_t count;
    struct portres_store_item items[PORTRES_MAX_RESERVATIONS];
};

/* receives each warning of the replay, a line of text without newline */
typedef void (*portres_journal_warn_fn)( void *ctx, const char *text );

uint32_t portres_journal_crc32( const char *data, size_t len );
int portres_journal_format( char *buf, size_t size, const struct portres_journal_entry *entry );
int portres_journal_parse( const char *line, size_t len, struct portres_journal_entry *entry );
uint64_t portres_journal_replay( const char *text, size_t len, struct portres_store_list *list,
                                 portres_journal_warn_fn warn, void *ctx );
int portres_store_list_add( struct portres_store_list *list, enum portres_proto proto, uint16_t start,
                            uint16_t count, uint64_t token );
struct portres_store_item *portres_store_list_find( struct portres_store_list *list, enum portres_proto proto,
                                                    uint16_t start, uint16_t count );
void portres_store_list_init( struct portres_store_list *list );

#endif /* PORTRES_JOURNAL_H */
