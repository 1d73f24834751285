/*
 * cmocka tests: the kernel's port list notation and socket lists
 * (portlist.c), and portres_pool_any_reserved with and without an
 * exception bitmap
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
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

/* the ports of first..last set in bits and not in except, one at a time */
static int naive_any( const uint8_t *bits, uint32_t first, uint32_t last, const uint8_t *except )
{
    for (uint32_t port = first; port <= last && port <= 65535; port++)
        if ((bits[port >> 3] >> (port & 7) & 1) && !(except && (except[port >> 3] >> (port & 7) & 1))) return 1;
    return 0;
}

/* portres_bitmap_any (64 ports at a time) against naive_any: one port set,
 * at word edges and inside, and ranges that start and end anywhere */
static void test_bitmap_any( void **state )
{
    static uint8_t bits[8192], except[8192];
    static const uint32_t ports[] = { 0, 1, 62, 63, 64, 65, 127, 128, 32767, 32768, 40000, 60999, 65471, 65472,
                                      65534, 65535 };
    unsigned int mismatches = 0, checked = 0;

    srand( 20261205 );
    for (unsigned int p = 0; p < sizeof(ports) / sizeof(ports[0]); p++)
    {
        uint32_t port = ports[p];

        memset( bits, 0, sizeof(bits) );
        bits[port >> 3] |= 1 << (port & 7);
        for (unsigned int i = 0; i < 2000; i++)
        {
            uint32_t first = i < 3 ? (uint32_t[]){ 0, port, port + 1 }[i] : (uint32_t)rand() % 65536;
            uint32_t last = i < 3 ? (uint32_t[]){ 65535, port, 70000 }[i] : first + (uint32_t)rand() % 3000;
            int with_except = i & 1;

            memset( except, 0, sizeof(except) );
            if (with_except && (i & 2)) except[port >> 3] |= 1 << (port & 7);
            if (portres_bitmap_any( bits, first, last, with_except ? except : NULL ) !=
                naive_any( bits, first, last, with_except ? except : NULL ))
                mismatches++;
            checked++;
        }
        /* the port itself, with its word masked but not the port */
        assert_true( portres_bitmap_any( bits, port, port, NULL ) );
        memset( except, 0xff, sizeof(except) );
        except[port >> 3] &= ~(1 << (port & 7));
        assert_true( portres_bitmap_any( bits, 0, 65535, except ) );
        except[port >> 3] |= 1 << (port & 7);
        assert_false( portres_bitmap_any( bits, 0, 65535, except ) );
    }
    assert_int_equal( checked, 32000 );
    assert_int_equal( mismatches, 0 );
}

/* lines as Linux 6.x prints them (columns after the state cut short) */
static const char tcp_text[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:9C40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n"
    "   1: 0100007F:9C41 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2\n"
    "   2: 0100007F:9C42 0100007F:1F90 06 00000000:00000000 03:00000F9E 00000000     0        0 0\n"
    "   3: 0100007F:9C43 0100007F:1F90 07 00000000:00000000 00:00000000 00000000     0        0 3\n";
static const char tcp6_text[] =
    "  sl  local_address                         remote_address                        st tx_queue\n"
    "   0: 00000000000000000000000000000000:C350 00000000000000000000000000000000:0000 0A 00000000:00000000\n";
static const char udp_text[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  100: 00000000:A028 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0 0\n";

static void test_proc_net( void **state )
{
    /* 0x9C40 = 40000 listening, 40001 established, 40002 TIME_WAIT, 40003 CLOSE */
    assert_true( portres_proc_net_has_port( tcp_text, 1, 40000, 40000 ) );
    assert_true( portres_proc_net_has_port( tcp_text, 1, 40001, 40001 ) );
    assert_false( portres_proc_net_has_port( tcp_text, 1, 40002, 40003 ) );
    assert_true( portres_proc_net_has_port( tcp_text, 1, 39000, 40000 ) );
    assert_false( portres_proc_net_has_port( tcp_text, 1, 40004, 65535 ) );
    assert_false( portres_proc_net_has_port( tcp_text, 1, 0, 39999 ) );
    /* the header's columns and the remote ports (0x1F90 = 8080) are no local port */
    assert_false( portres_proc_net_has_port( tcp_text, 1, 8080, 8080 ) );
    assert_false( portres_proc_net_has_port( tcp_text, 1, 0, 0 ) );
    /* IPv6: 0xC350 = 50000 */
    assert_true( portres_proc_net_has_port( tcp6_text, 1, 50000, 50000 ) );
    assert_false( portres_proc_net_has_port( tcp6_text, 1, 50001, 65535 ) );
    /* UDP: state 07 is an ordinary bound socket; 0xA028 = 41000 */
    assert_true( portres_proc_net_has_port( udp_text, 0, 41000, 41000 ) );
    assert_false( portres_proc_net_has_port( udp_text, 0, 41001, 65535 ) );
    assert_false( portres_proc_net_has_port( udp_text, 1, 41000, 41000 ) );
    /* only a header, empty, NULL */
    assert_false( portres_proc_net_has_port( "  sl  local_address rem_address   st\n", 0, 0, 65535 ) );
    assert_false( portres_proc_net_has_port( "", 0, 0, 65535 ) );
    assert_false( portres_proc_net_has_port( NULL, 0, 0, 65535 ) );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test( test_parse_good ),
        cmocka_unit_test( test_parse_bad ),
        cmocka_unit_test( test_any_reserved ),
        cmocka_unit_test( test_bitmap_any ),
        cmocka_unit_test( test_proc_net ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
