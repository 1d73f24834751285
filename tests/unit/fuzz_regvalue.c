/*
 * libFuzzer target: the registry value format (libs/core/regvalue.c)
 *
 * The input is "name\0data": split at the first NUL (no NUL: empty data).
 * Both are parsed for both protocols.  Whatever parses must be a valid
 * persistent reservation, and must be the canonical encoding of itself:
 * re-encoding gives the same name byte for byte and the same data up to
 * the case of the hex digits, and parse(encode(x)) == x.  The first bytes
 * also drive an encode -> parse round trip of arbitrary blocks and tokens.
 *
 *   make fuzz FUZZ_SECONDS=60
 */

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool.h"

#define CHECK(x) do { if (!(x)) { fprintf( stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x ); abort(); } } while (0)

static void check_parsed( const char *name, const char *data, enum portres_proto proto,
                          const struct portres_reservation *res )
{
    char name2[PORTRES_REGVALUE_NAME_MAX], data2[PORTRES_REGVALUE_DATA_MAX];
    struct portres_reservation again;
    uint16_t start, count;

    CHECK( res->kind == PORTRES_KIND_PERSISTENT );
    CHECK( res->proto == proto );
    CHECK( res->owner == 0 && res->pid == 0 && res->watch == 0 && res->reserved == 0 );
    CHECK( res->token & PORTRES_PERSISTENT_TOKEN_BIT );
    CHECK( res->token != PORTRES_PERSISTENT_TOKEN_BIT );
    CHECK( portres_range_valid( res->start, res->count ) );

    CHECK( portres_regvalue_name( name2, sizeof(name2), res->start, res->count ) );
    CHECK( portres_regvalue_data( data2, sizeof(data2), res->token ) );
    /* only canonical text is accepted */
    CHECK( !strcmp( name, name2 ) );
    CHECK( !strcasecmp( data, data2 ) );

    memset( &again, 0xee, sizeof(again) );
    CHECK( portres_regvalue_parse( name2, data2, proto, &again ) );
    CHECK( !memcmp( &again, res, sizeof(again) ) );
    CHECK( portres_regvalue_parse_range( name2, &start, &count ) );
    CHECK( start == res->start && count == res->count );
}

/* encode arbitrary (start, count, token) and decode it again */
static void round_trip( uint16_t start, uint16_t count, uint64_t token )
{
    char name[64], data[64];
    struct portres_reservation res;
    int named = portres_regvalue_name( name, PORTRES_REGVALUE_NAME_MAX, start, count );
    int ok;

    CHECK( named == portres_range_valid( start, count ) );
    CHECK( portres_regvalue_data( data, PORTRES_REGVALUE_DATA_MAX, token ) );
    CHECK( strlen( data ) == 18 && data[0] == '0' && data[1] == 'x' );
    if (!named) return;
    ok = portres_regvalue_parse( name, data, PORTRES_UDP, &res );
    CHECK( ok == ((token & PORTRES_PERSISTENT_TOKEN_BIT) && token != PORTRES_PERSISTENT_TOKEN_BIT) );
    if (ok) CHECK( res.start == start && res.count == count && res.token == token );
    /* a buffer one byte short is refused */
    CHECK( !portres_regvalue_name( name, (unsigned)strlen( name ), start, count ) );
    CHECK( !portres_regvalue_data( data, 18, token ) );
}

int LLVMFuzzerTestOneInput( const uint8_t *bytes, size_t size )
{
    char *name, *data;
    const uint8_t *nul;
    size_t name_len;

    if (size > 4096) return 0;
    name = malloc( size + 1 );
    data = malloc( size + 1 );
    if (!name || !data) abort();

    nul = memchr( bytes, 0, size );
    name_len = nul ? (size_t)(nul - bytes) : size;
    memcpy( name, bytes, name_len );
    name[name_len] = 0;
    if (nul)
    {
        size_t data_len = size - name_len - 1;
        memcpy( data, nul + 1, data_len );
        data[data_len] = 0;   /* a second NUL inside simply ends the string early */
    }
    else data[0] = 0;

    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        struct portres_reservation res;
        uint16_t start = 0, count = 0;

        memset( &res, 0xdd, sizeof(res) );
        if (portres_regvalue_parse( name, data, proto, &res )) check_parsed( name, data, proto, &res );
        if (portres_regvalue_parse_range( name, &start, &count ))
        {
            char name2[PORTRES_REGVALUE_NAME_MAX];
            CHECK( portres_range_valid( start, count ) );
            CHECK( portres_regvalue_name( name2, sizeof(name2), start, count ) );
            CHECK( !strcmp( name, name2 ) );
        }
    }

    if (size >= 12)
    {
        uint64_t token;
        memcpy( &token, bytes + 4, 8 );
        round_trip( (uint16_t)(bytes[0] | bytes[1] << 8), (uint16_t)(bytes[2] | bytes[3] << 8), token );
    }

    free( name );
    free( data );
    return 0;
}
