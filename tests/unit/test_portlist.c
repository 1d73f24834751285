/*
 * cmocka tests: the kernel's port list notation (portlist.c) and
 * portres_pool_any_reserved with and without an exception bitmap
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pool.h"

static int bit( const uint8_t *map, unsigned int port )
{
    return (map[port >> 3] >> (port & 7)) & 1;
}

static unsigned int count_bits( const uint8_t *map )
{
    unsigned int n = 0;
    for (unsigned int p = 0; p < 65536; p++) n += bit( map, p );
    return n;
}

static void test_parse_good( void **state )
{
    uint8_t map[8192];

    assert_true( portres_port_list_parse( "", map ) );
    assert_int_equal( count_bits( map ), 0 );
    assert_true( portres_port_list_parse( "\n", map ) );
    assert_int_equal( count_bits( map ), 0 );
    assert_true( portres_port_list_parse( "8080,9000-9010\n", map ) );
    assert_int_equal( count_bits( map ), 12 );
    assert_true( bit( map, 8080 ) && bit( map, 9000 ) && bit( map, 9010 ) );
    assert_false( bit( map, 8081 ) || bit( map, 8999 ) || bit( map, 9011 ) );
    assert_true( portres_port_list_parse( "0-65535", map ) );
    assert_int_equal( count_bits( map ), 65536 );
    assert_true( portres_port_list_parse( "1, 2 ,3", map ) );
    assert_int_equal( count_bits( map ), 3 );
}

static void test_parse_bad( void **state )
{
    static const char *const bad[] = { "a", "1-", "-1", "5-4", "65536", "1-65536", "1,,2", "1;2", "1 2", "1234567" };
    uint8_t map[8192];

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false( portres_port_list_parse( bad[i], map ) );
    assert_false( portres_port_list_parse( NULL, map ) );
}

static void test_any_reserved( void **state )
{
    struct portres_pool *pool = calloc( 1, sizeof(*pool) );
    struct portres_reservation res = { .token = 7, .start = 40000, .count = 10, .proto = PORTRES_TCP };
    uint8_t except[8192];

    portres_pool_init( pool, 0 );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 0, 65535, NULL ) );
    assert_non_null( portres_pool_add( pool, &res ) );
    assert_true( portres_pool_any_reserved( pool, PORTRES_TCP, 32768, 60999, NULL ) );
    assert_true( portres_pool_any_reserved( pool, PORTRES_TCP, 40009, 40009, NULL ) );
    assert_true( portres_pool_any_reserved( pool, PORTRES_TCP, 39990, 40000, NULL ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 40010, 65535, NULL ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 0, 39999, NULL ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_UDP, 0, 65535, NULL ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 50000, 40000, NULL ) );

    /* ports the kernel reserves itself do not count */
    assert_true( portres_port_list_parse( "40000-40009", except ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 0, 65535, except ) );
    assert_true( portres_port_list_parse( "40000-40008", except ) );
    assert_true( portres_pool_any_reserved( pool, PORTRES_TCP, 0, 65535, except ) );
    assert_false( portres_pool_any_reserved( pool, PORTRES_TCP, 0, 40008, except ) );
    free( pool );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test( test_parse_good ),
        cmocka_unit_test( test_parse_bad ),
        cmocka_unit_test( test_any_reserved ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
