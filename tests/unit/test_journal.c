/*
 * Unit tests of the journal of persistent changes (libs/core/journal.c),
 * native, cmocka: line format, CRC, and the replay rule of journal.h
 * (generation filter, idempotence, hand edits win, corrupt and truncated
 * lines skipped, snapshots).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "journal.h"

#define T1 0x8000000000000011ull
#define T2 0x8000000000000022ull

static unsigned int warnings;
static char last_warning[256];

static void count_warn( void *ctx, const char *text )
{
    (void)ctx;
    warnings++;
    snprintf( last_warning, sizeof(last_warning), "%s", text );
}

/* append the line of one entry to buf */
static void line( char *buf, size_t size, uint64_t gen, enum portres_journal_op op, enum portres_proto proto,
                  uint16_t start, uint16_t count, uint64_t token )
{
    struct portres_journal_entry e = { .gen = gen, .op = op, .proto = proto, .start = start, .count = count,
                                       .token = token };
    size_t len = strlen( buf );
    if (op == PORTRES_JOURNAL_BASE) e.entries = count;
    if (op == PORTRES_JOURNAL_DYN) { e.old_start = (uint16_t)(token >> 16); e.old_count = (uint16_t)token; }
    assert_true( portres_journal_format( buf + len, size - len, &e ) > 0 );
}

static struct portres_store_list *new_list( uint64_t gen )
{
    struct portres_store_list *list = malloc( sizeof(*list) );
    assert_non_null( list );
    portres_store_list_init( list );
    list->gen = gen;
    warnings = 0;
    return list;
}

static uint64_t replay( const char *text, struct portres_store_list *list )
{
    return portres_journal_replay( text, strlen( text ), list, count_warn, NULL );
}

static void test_crc( void **state )
{
    (void)state;
    assert_int_equal( portres_journal_crc32( "123456789", 9 ), 0xcbf43926u );  /* the check value of CRC-32 */
    assert_int_equal( portres_journal_crc32( "", 0 ), 0 );
}

static void test_format_parse( void **state )
{
    char buf[PORTRES_JOURNAL_LINE_MAX];
    struct portres_journal_entry e = { .gen = 7, .op = PORTRES_JOURNAL_ADD, .proto = PORTRES_UDP, .start = 50000,
                                       .count = 60, .token = T1 }, out;
    int len;
    (void)state;

    len = portres_journal_format( buf, sizeof(buf), &e );
    assert_int_equal( len, (int)strlen( buf ) );
    assert_memory_equal( buf, "7 add udp 50000-50059 0x8000000000000011 ", 41 );
    assert_true( portres_journal_parse( buf, len, &out ) );
    assert_int_equal( out.gen, 7 );
    assert_int_equal( out.op, PORTRES_JOURNAL_ADD );
    assert_int_equal( out.proto, PORTRES_UDP );
    assert_int_equal( out.start, 50000 );
    assert_int_equal( out.count, 60 );
    assert_true( out.token == T1 );

    e.op = PORTRES_JOURNAL_DYN;
    e.start = 10000; e.count = 1000; e.old_start = 49152; e.old_count = 16384;
    len = portres_journal_format( buf, sizeof(buf), &e );
    assert_memory_equal( buf, "7 dyn udp 10000-10999 49152-65535 ", 34 );
    assert_true( portres_journal_parse( buf, len, &out ) );
    assert_int_equal( out.old_start, 49152 );
    assert_int_equal( out.old_count, 16384 );

    e.op = PORTRES_JOURNAL_BASE;
    e.entries = 3;
    len = portres_journal_format( buf, sizeof(buf), &e );
    assert_true( portres_journal_parse( buf, len, &out ) );
    assert_int_equal( out.op, PORTRES_JOURNAL_BASE );
    assert_int_equal( out.entries, 3 );

    /* invalid entries are not formatted; too small a buffer neither */
    e.op = PORTRES_JOURNAL_ADD;
    e.start = 65535; e.count = 2;
    assert_int_equal( portres_journal_format( buf, sizeof(buf), &e ), 0 );
    e.start = 1; e.count = 1;
    assert_int_equal( portres_journal_format( buf, 20, &e ), 0 );
}

static void test_parse_rejects( void **state )
{
    char buf[PORTRES_JOURNAL_LINE_MAX] = "";
    struct portres_journal_entry out;
    size_t len;
    (void)state;

    line( buf, sizeof(buf), 3, PORTRES_JOURNAL_DEL, PORTRES_TCP, 100, 10, T2 );
    len = strlen( buf );
    assert_true( portres_journal_parse( buf, len, &out ) );
    assert_false( portres_journal_parse( buf, len - 1, &out ) );   /* no newline */
    buf[5] ^= 1;                                                 /* one flipped bit */
    assert_false( portres_journal_parse( buf, len, &out ) );
    buf[5] ^= 1;
    buf[len - 2] = 'X';                                          /* bad CRC digit */
    assert_false( portres_journal_parse( buf, len, &out ) );
    assert_false( portres_journal_parse( "\n", 1, &out ) );
    assert_false( portres_journal_parse( "1 add tcp 1-1 0x0000000000000001 00000000\n", 42, &out ) );
}

static void test_replay_newer_lines( void **state )
{
    char text[1024] = "";
    struct portres_store_list *list = new_list( 2 );
    (void)state;

    line( text, sizeof(text), 1, PORTRES_JOURNAL_ADD, PORTRES_TCP, 1000, 10, T1 );  /* in the registry */
    line( text, sizeof(text), 2, PORTRES_JOURNAL_DEL, PORTRES_TCP, 1000, 10, T1 );  /* idem */
    line( text, sizeof(text), 3, PORTRES_JOURNAL_ADD, PORTRES_TCP, 2000, 10, T2 );
    line( text, sizeof(text), 4, PORTRES_JOURNAL_DYN, PORTRES_UDP, 10000, 1000, (49152u << 16) | 16384 );
    assert_int_equal( replay( text, list ), 4 );
    assert_int_equal( list->gen, 4 );
    assert_int_equal( list->count, 1 );       /* 1000-1009 not resurrected */
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 2000, 10 ) );
    assert_int_equal( list->dyn_first[PORTRES_UDP], 10000 );
    assert_int_equal( list->dyn_count[PORTRES_UDP], 1000 );
    assert_int_equal( warnings, 0 );

    /* idempotent: replaying again on the result (or on a registry that
     * saved half of it) changes nothing */
    list->gen = 3;
    assert_int_equal( replay( text, list ), 4 );
    assert_int_equal( list->count, 1 );
    list->gen = 0;
    assert_int_equal( replay( text, list ), 4 );
    assert_int_equal( list->count, 1 );
    assert_int_equal( warnings, 0 );
    free( list );
}

static void test_replay_hand_edits_win( void **state )
{
    char text[1024] = "";
    struct portres_store_list *list = new_list( 1 );
    (void)state;

    /* by hand: 3000-3004 added, 4000-4009 replaced with another token, UDP dynamic range changed */
    assert_true( portres_store_list_add( list, PORTRES_TCP, 3000, 5, T2 ) );
    assert_true( portres_store_list_add( list, PORTRES_TCP, 4000, 10, T2 ) );
    list->dyn_first[PORTRES_UDP] = 20000; list->dyn_count[PORTRES_UDP] = 500;
    line( text, sizeof(text), 2, PORTRES_JOURNAL_ADD, PORTRES_TCP, 3002, 10, T1 );
    line( text, sizeof(text), 3, PORTRES_JOURNAL_DEL, PORTRES_TCP, 4000, 10, T1 );
    line( text, sizeof(text), 4, PORTRES_JOURNAL_DYN, PORTRES_UDP, 10000, 1000, (49152u << 16) | 16384 );
    line( text, sizeof(text), 5, PORTRES_JOURNAL_ADD, PORTRES_UDP, 3002, 10, T1 );
    assert_int_equal( replay( text, list ), 5 );
    assert_int_equal( warnings, 3 );
    assert_int_equal( list->count, 3 );
    assert_true( portres_store_list_find( list, PORTRES_TCP, 3000, 5 )->token == T2 );
    assert_true( portres_store_list_find( list, PORTRES_TCP, 4000, 10 )->token == T2 );
    assert_non_null( portres_store_list_find( list, PORTRES_UDP, 3002, 10 ) );
    assert_int_equal( list->dyn_first[PORTRES_UDP], 20000 );

    /* lines no newer than the registry never undo a hand delete */
    free( list );
    list = new_list( 5 );
    assert_int_equal( replay( text, list ), 5 );
    assert_int_equal( list->count, 0 );
    assert_int_equal( warnings, 0 );
    free( list );
}

static void test_replay_corrupt( void **state )
{
    char text[1024] = "", *p;
    struct portres_store_list *list = new_list( 0 );
    (void)state;

    line( text, sizeof(text), 1, PORTRES_JOURNAL_ADD, PORTRES_TCP, 1000, 10, T1 );
    line( text, sizeof(text), 2, PORTRES_JOURNAL_ADD, PORTRES_TCP, 2000, 10, T1 + 1 );
    line( text, sizeof(text), 3, PORTRES_JOURNAL_ADD, PORTRES_TCP, 3000, 10, T1 + 2 );
    p = strstr( text, "2000" );
    p[0] = '5';                                       /* corrupt the middle line */
    strcat( text, "9 add tcp 4000-4009 0x80000000" );  /* truncated last line */
    assert_int_equal( replay( text, list ), 3 );
    assert_int_equal( warnings, 2 );
    assert_non_null( strstr( last_warning, "truncated" ) );
    assert_int_equal( list->count, 2 );
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 1000, 10 ) );
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 3000, 10 ) );
    assert_null( portres_store_list_find( list, PORTRES_TCP, 2000, 10 ) );

    /* garbage and NUL bytes: skipped */
    warnings = 0;
    assert_int_equal( portres_journal_replay( "\0\0\n\xff\xfe\nzzz", 10, list, count_warn, NULL ), 0 );
    assert_int_equal( warnings, 3 );
    assert_int_equal( list->count, 2 );
    free( list );
}

static void test_replay_snapshot( void **state )
{
    char text[2048] = "";
    struct portres_store_list *list = new_list( 5 );
    (void)state;

    /* the registry at 5 has 1000 (T1) and 2000; the snapshot at 8 has 1000 (T2) and 3000 */
    assert_true( portres_store_list_add( list, PORTRES_TCP, 1000, 10, T1 ) );
    assert_true( portres_store_list_add( list, PORTRES_TCP, 2000, 10, T1 ) );
    line( text, sizeof(text), 8, PORTRES_JOURNAL_BASE, 0, 0, 3, 0 );
    line( text, sizeof(text), 8, PORTRES_JOURNAL_ADD, PORTRES_TCP, 1000, 10, T2 );
    line( text, sizeof(text), 8, PORTRES_JOURNAL_ADD, PORTRES_TCP, 3000, 10, T2 + 1 );
    line( text, sizeof(text), 8, PORTRES_JOURNAL_DYN, PORTRES_TCP, 10000, 2000, 0 );
    line( text, sizeof(text), 9, PORTRES_JOURNAL_DEL, PORTRES_TCP, 3000, 10, T2 + 1 );
    assert_int_equal( replay( text, list ), 9 );
    assert_int_equal( list->count, 1 );
    assert_true( portres_store_list_find( list, PORTRES_TCP, 1000, 10 )->token == T2 );
    assert_int_equal( list->dyn_first[PORTRES_TCP], 10000 );
    assert_int_equal( warnings, 1 );  /* 2000 dropped */
    free( list );

    /* a registry newer than the snapshot: the snapshot is skipped */
    list = new_list( 8 );
    assert_true( portres_store_list_add( list, PORTRES_TCP, 2000, 10, T1 ) );
    assert_int_equal( replay( text, list ), 9 );
    assert_int_equal( list->count, 1 );
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 2000, 10 ) );
    free( list );

    /* a damaged snapshot keeps the registry's entries */
    list = new_list( 5 );
    assert_true( portres_store_list_add( list, PORTRES_TCP, 2000, 10, T1 ) );
    *strstr( text, "3000" ) = '4';
    assert_int_equal( replay( text, list ), 9 );
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 2000, 10 ) );
    assert_non_null( portres_store_list_find( list, PORTRES_TCP, 1000, 10 ) );
    free( list );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test( test_crc ),
        cmocka_unit_test( test_format_parse ),
        cmocka_unit_test( test_parse_rejects ),
        cmocka_unit_test( test_replay_newer_lines ),
        cmocka_unit_test( test_replay_hand_edits_win ),
        cmocka_unit_test( test_replay_corrupt ),
        cmocka_unit_test( test_replay_snapshot ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
