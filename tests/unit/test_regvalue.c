/*
 * Unit tests of the registry value format of a persistent reservation
 * (libs/core/regvalue.c), native, cmocka
 *
 * name "first-last" in canonical decimal, data "0x" + 16 hex digits, the
 * token carrying PORTRES_PERSISTENT_TOKEN_BIT (bit 63).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pool.h"

#define BIT63 PORTRES_PERSISTENT_TOKEN_BIT
#define GOOD_DATA "0x8000000000000001"

static int parses( const char *name, const char *data )
{
    struct portres_reservation res;
    return portres_regvalue_parse( name, data, PORTRES_TCP, &res );
}

/* --- encoding --------------------------------------------------------------- */

static void test_name_format( void **state )
{
    char buf[PORTRES_REGVALUE_NAME_MAX];
    (void)state;

    assert_true( portres_regvalue_name( buf, sizeof(buf), 50000, 60 ) );
    assert_string_equal( buf, "50000-50059" );
    assert_true( portres_regvalue_name( buf, sizeof(buf), 1, 1 ) );
    assert_string_equal( buf, "1-1" );
    assert_true( portres_regvalue_name( buf, sizeof(buf), 65535, 1 ) );
    assert_string_equal( buf, "65535-65535" );
    assert_true( portres_regvalue_name( buf, sizeof(buf), 1, 65535 ) );
    assert_string_equal( buf, "1-65535" );
    assert_true( portres_regvalue_name( buf, sizeof(buf), 9, 2 ) );
    assert_string_equal( buf, "9-10" );
}

static void test_name_invalid_block( void **state )
{
    char buf[64];
    (void)state;

    assert_false( portres_regvalue_name( buf, sizeof(buf), 0, 1 ) );
    assert_false( portres_regvalue_name( buf, sizeof(buf), 1, 0 ) );
    assert_false( portres_regvalue_name( buf, sizeof(buf), 65535, 2 ) );
    assert_false( portres_regvalue_name( buf, sizeof(buf), 2, 65535 ) );
}

static void test_name_buffer_size( void **state )
{
    char buf[32];
    (void)state;

    /* "65535-65535" is 11 characters: PORTRES_REGVALUE_NAME_MAX (12) is just enough */
    assert_int_equal( PORTRES_REGVALUE_NAME_MAX, strlen( "65535-65535" ) + 1 );
    memset( buf, '#', sizeof(buf) );
    assert_true( portres_regvalue_name( buf, 12, 65535, 1 ) );
    assert_string_equal( buf, "65535-65535" );
    memset( buf, '#', sizeof(buf) );
    assert_false( portres_regvalue_name( buf, 11, 65535, 1 ) );
    assert_int_equal( buf[11], '#' );   /* nothing written past size */
    assert_true( portres_regvalue_name( buf, 4, 1, 1 ) );    /* "1-1" and its NUL */
    assert_string_equal( buf, "1-1" );
    memset( buf, '#', sizeof(buf) );
    assert_false( portres_regvalue_name( buf, 3, 1, 1 ) );
    assert_int_equal( buf[3], '#' );
    memset( buf, '#', sizeof(buf) );
    assert_false( portres_regvalue_name( buf, 0, 1, 1 ) );
    assert_int_equal( buf[0], '#' );
}

static void test_data_format( void **state )
{
    char buf[PORTRES_REGVALUE_DATA_MAX];
    (void)state;

    assert_true( portres_regvalue_data( buf, sizeof(buf), BIT63 | 1 ) );
    assert_string_equal( buf, "0x8000000000000001" );
    assert_true( portres_regvalue_data( buf, sizeof(buf), 0xfedcba9876543210ull ) );
    assert_string_equal( buf, "0xfedcba9876543210" );   /* lower case, 16 digits */
    assert_true( portres_regvalue_data( buf, sizeof(buf), 0 ) );
    assert_string_equal( buf, "0x0000000000000000" );   /* zero-padded */
    assert_true( portres_regvalue_data( buf, sizeof(buf), ~0ull ) );
    assert_string_equal( buf, "0xffffffffffffffff" );
}

static void test_data_buffer_size( void **state )
{
    char buf[32];
    (void)state;

    assert_int_equal( PORTRES_REGVALUE_DATA_MAX, strlen( GOOD_DATA ) + 1 );
    memset( buf, '#', sizeof(buf) );
    assert_true( portres_regvalue_data( buf, 19, BIT63 | 5 ) );
    assert_int_equal( strlen( buf ), 18 );
    memset( buf, '#', sizeof(buf) );
    assert_false( portres_regvalue_data( buf, 18, BIT63 | 5 ) );
    assert_int_equal( buf[18], '#' );
    assert_false( portres_regvalue_data( buf, 1, BIT63 | 5 ) );
    assert_false( portres_regvalue_data( buf, 0, BIT63 | 5 ) );
}

/* --- round trip ------------------------------------------------------------- */

static void test_round_trip( void **state )
{
    static const struct { uint16_t start, count; } blocks[] =
        { { 1, 1 }, { 1, 65535 }, { 65535, 1 }, { 50000, 60 }, { 9, 2 }, { 10, 90 }, { 99, 1 },
          { 1024, 64512 }, { 49152, 16384 }, { 12345, 1 } };
    static const uint64_t tokens[] =
        { BIT63 | 1, ~0ull, BIT63 | 0x0123456789abcdefull, 0xabcdef0000000000ull, BIT63 | 0x100000000ull };
    (void)state;

    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
        for (size_t t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++)
            for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
            {
                char name[PORTRES_REGVALUE_NAME_MAX], data[PORTRES_REGVALUE_DATA_MAX];
                struct portres_reservation res;
                uint16_t start = 0, count = 0;

                assert_true( portres_regvalue_name( name, sizeof(name), blocks[b].start, blocks[b].count ) );
                assert_true( portres_regvalue_data( data, sizeof(data), tokens[t] ) );
                memset( &res, 0xcc, sizeof(res) );
                assert_true( portres_regvalue_parse( name, data, proto, &res ) );
                assert_int_equal( res.start, blocks[b].start );
                assert_int_equal( res.count, blocks[b].count );
                assert_int_equal( res.token, tokens[t] );
                assert_int_equal( res.proto, proto );
                assert_int_equal( res.kind, PORTRES_KIND_PERSISTENT );
                assert_int_equal( res.owner, 0 );
                assert_int_equal( res.pid, 0 );
                assert_int_equal( res.watch, 0 );
                assert_int_equal( res.reserved, 0 );
                assert_true( portres_regvalue_parse_range( name, &start, &count ) );
                assert_int_equal( start, blocks[b].start );
                assert_int_equal( count, blocks[b].count );
            }
}

/* --- parse: names ----------------------------------------------------------- */

static void test_parse_range_accepts( void **state )
{
    uint16_t start = 0, count = 0;
    (void)state;

    assert_true( portres_regvalue_parse_range( "5-5", &start, &count ) );
    assert_int_equal( start, 5 ); assert_int_equal( count, 1 );
    assert_true( portres_regvalue_parse_range( "1-65535", &start, &count ) );
    assert_int_equal( start, 1 ); assert_int_equal( count, 65535 );
    assert_true( portres_regvalue_parse_range( "65535-65535", &start, &count ) );
    assert_int_equal( start, 65535 ); assert_int_equal( count, 1 );
    assert_true( portres_regvalue_parse_range( "49152-65535", &start, &count ) );
    assert_int_equal( start, 49152 ); assert_int_equal( count, 16384 );
    assert_true( portres_regvalue_parse_range( "10-20", &start, &count ) );
    assert_int_equal( start, 10 ); assert_int_equal( count, 11 );
}

static void test_parse_rejects_bad_names( void **state )
{
    static const char * const bad[] =
    {
        "", "-", "5", "50000", "5-", "-5", "--", "5--6", "5-6-7", "5_6", "5:6",
        "05-6", "5-06", "00005-6", "0-5", "0-0", "5-0", "5-4", "65535-1", "65536-65536", "65535-65536",
        "1-65536", "99999-99999", "100000-100000", "123456-1", "1-123456",
        " 5-6", "5-6 ", "5 -6", "5- 6", "5-6\n", "\t5-6", "+5-6", "5-+6", "-5-6", "5.0-6",
        "a-6", "5-b", "0x5-6", "5-6a", "\xff" "5-6", "5-\xef\xbc\x96",
    };
    uint16_t start = 1234, count = 4321;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    {
        if (portres_regvalue_parse_range( bad[i], &start, &count ) || parses( bad[i], GOOD_DATA ))
            fail_msg( "name \"%s\" accepted", bad[i] );
    }
    assert_int_equal( start, 1234 );
    assert_int_equal( count, 4321 );
    assert_false( portres_regvalue_parse_range( NULL, &start, &count ) );
    assert_true( parses( "5-6", GOOD_DATA ) );   /* the control case */
}

/* --- parse: data ------------------------------------------------------------ */

static void test_parse_rejects_bad_data( void **state )
{
    static const char * const bad[] =
    {
        "",
        "0x",
        "0x800000000000001",      /* 15 digits */
        "0x80000000000000001",    /* 17 digits */
        "8000000000000001",       /* no 0x */
        "008000000000000001",     /* 18 characters, no x */
        "x08000000000000001",
        "0y8000000000000001",
        "1x8000000000000001",
        "0x800000000000000g",
        "0x80000000 0000001",
        "0x8000000000000001 ",
        " 0x8000000000000001",
        "0x-800000000000001",
        "0x+800000000000001",
        "0x800000000000000\n",
        "0x7fffffffffffffff",     /* no bit 63 */
        "0x0000000000000001",
        "0x0000000000000000",
        "0x8000000000000000",     /* bit 63 alone: no token */
        "0X8000000000000000",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parses( "100-200", bad[i] )) fail_msg( "data \"%s\" accepted", bad[i] );
    assert_true( parses( "100-200", GOOD_DATA ) );
}

static void test_parse_token_bits( void **state )
{
    struct portres_reservation res;
    (void)state;

    assert_true( portres_regvalue_parse( "1-1", "0x8000000000000001", PORTRES_TCP, &res ) );
    assert_int_equal( res.token, BIT63 | 1 );
    assert_true( portres_regvalue_parse( "1-1", "0xc000000000000000", PORTRES_TCP, &res ) );
    assert_int_equal( res.token, 0xc000000000000000ull );
    assert_true( portres_regvalue_parse( "1-1", "0xffffffffffffffff", PORTRES_UDP, &res ) );
    assert_int_equal( res.token, ~0ull );
    assert_int_equal( res.proto, PORTRES_UDP );
    assert_false( portres_regvalue_parse( "1-1", "0x8000000000000000", PORTRES_TCP, &res ) );
    assert_false( portres_regvalue_parse( "1-1", "0x7fffffffffffffff", PORTRES_TCP, &res ) );
}

static void test_parse_accepts_uppercase_hex( void **state )
{
    struct portres_reservation res;
    (void)state;

    assert_true( portres_regvalue_parse( "50000-50059", "0x80000000ABCDEF12", PORTRES_TCP, &res ) );
    assert_int_equal( res.token, 0x80000000abcdef12ull );
    assert_true( portres_regvalue_parse( "50000-50059", "0xFFFFFFFFFFFFFFFF", PORTRES_TCP, &res ) );
    assert_int_equal( res.token, ~0ull );
    assert_true( portres_regvalue_parse( "50000-50059", "0x8000000000aBcDeF", PORTRES_TCP, &res ) );
    assert_int_equal( res.token, 0x8000000000abcdefull );
    assert_int_equal( res.start, 50000 );
    assert_int_equal( res.count, 60 );
}

static void test_parse_bad_arguments( void **state )
{
    struct portres_reservation res;
    (void)state;

    assert_false( portres_regvalue_parse( NULL, GOOD_DATA, PORTRES_TCP, &res ) );
    assert_false( portres_regvalue_parse( "1-1", NULL, PORTRES_TCP, &res ) );
    assert_false( portres_regvalue_parse( "1-1", GOOD_DATA, PORTRES_PROTO_COUNT, &res ) );
    assert_false( portres_regvalue_parse( "1-1", GOOD_DATA, (enum portres_proto)200, &res ) );
    assert_true( portres_regvalue_parse( "1-1", GOOD_DATA, PORTRES_UDP, &res ) );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test( test_name_format ),
        cmocka_unit_test( test_name_invalid_block ),
        cmocka_unit_test( test_name_buffer_size ),
        cmocka_unit_test( test_data_format ),
        cmocka_unit_test( test_data_buffer_size ),
        cmocka_unit_test( test_round_trip ),
        cmocka_unit_test( test_parse_range_accepts ),
        cmocka_unit_test( test_parse_rejects_bad_names ),
        cmocka_unit_test( test_parse_rejects_bad_data ),
        cmocka_unit_test( test_parse_token_bits ),
        cmocka_unit_test( test_parse_accepts_uppercase_hex ),
        cmocka_unit_test( test_parse_bad_arguments ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
