/*
 * Registry value format of a persistent reservation
 *
 * Key HKLM\Software\Wine\Portres\Tcp (or \Udp), one REG_SZ value per
 * reservation: the name is the block as "first-last" in decimal host order
 * ("50000-50059"), the data the token as "0x" and 16 hex digits.  Readable
 * with `wine reg query`, which prints REG_QWORD data as "(null)" on Wine 8.0
 * (behaviour §5).  Delete and Lookup need an exact block match, which the name
 * gives directly.
 *
 * The dynamic port range of a protocol is the REG_SZ value
 * TcpDynamicPortRange (or UdpDynamicPortRange) of HKLM\Software\Wine\Portres,
 * "first-last" in the same notation.
 */

#include <stdio.h>
#include <string.h>

#include "pool.h"

/* portres_regvalue_name: value name for the block start..start+count-1
 * (host order) into buf; returns 1, or 0 if the block is invalid or buf too small */
int portres_regvalue_name( char *buf, unsigned int size, uint16_t start, uint16_t count )
{
    int n;
    if (!portres_range_valid( start, count )) return 0;
    n = snprintf( buf, size, "%u-%u", (unsigned)start, (unsigned)start + count - 1 );
    return n > 0 && (unsigned)n < size;
}

/* portres_regvalue_data: value data for token into buf; returns 1, or 0 if buf is too small */
int portres_regvalue_data( char *buf, unsigned int size, uint64_t token )
{
    int n = snprintf( buf, size, "0x%016llx", (unsigned long long)token );
    return n > 0 && (unsigned)n < size;
}

/* parse a decimal port number 1..65535 that fills [s, end) exactly */
static int parse_port( const char *s, const char *end, uint32_t *port )
{
    uint32_t v = 0;
    if (s == end || end - s > 5 || *s == '0') return 0;
    for (; s < end; s++)
    {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    if (v > 65535) return 0;
    *port = v;
    return 1;
}

/* portres_regvalue_parse_range: decode "first-last" (canonical decimal,
 * 1 <= first <= last <= 65535) into *start and *count; 1, or 0 if malformed */
int portres_regvalue_parse_range( const char *text, uint16_t *start, uint16_t *count )
{
    const char *dash;
    uint32_t first, last;

    if (!text || !(dash = strchr( text, '-' ))) return 0;
    if (!parse_port( text, dash, &first ) || !parse_port( dash + 1, dash + 1 + strlen( dash + 1 ), &last ))
        return 0;
    if (last < first) return 0;
    *start = (uint16_t)first;
    *count = (uint16_t)(last - first + 1);
    return 1;
}

/* portres_regvalue_parse: decode one registry value (name, data, both
 * NUL-terminated) of protocol proto into *res as a persistent reservation.
 * Returns 1, or 0 when the value is malformed (the caller skips it with a
 * WARN line): name not "first-last" with 1 <= first <= last <= 65535 in
 * canonical decimal, data not "0x" and 16 hex digits, or a token without the
 * persistent bit. */
int portres_regvalue_parse( const char *name, const char *data, enum portres_proto proto,
                            struct portres_reservation *res )
{
    uint16_t start, count;
    uint64_t token = 0;

    if (!name || !data || proto >= PORTRES_PROTO_COUNT) return 0;
    if (!portres_regvalue_parse_range( name, &start, &count )) return 0;

    if (strlen( data ) != 18 || data[0] != '0' || (data[1] != 'x' && data[1] != 'X')) return 0;
    for (const char *p = data + 2; *p; p++)
    {
        unsigned int digit;
        if (*p >= '0' && *p <= '9') digit = *p - '0';
        else if (*p >= 'a' && *p <= 'f') digit = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') digit = *p - 'A' + 10;
        else return 0;
        token = token << 4 | digit;
    }
    if (!(token & PORTRES_PERSISTENT_TOKEN_BIT) || token == PORTRES_PERSISTENT_TOKEN_BIT) return 0;

    memset( res, 0, sizeof(*res) );
    res->token = token;
    res->start = start;
    res->count = count;
    res->proto = (uint8_t)proto;
    res->kind = PORTRES_KIND_PERSISTENT;
    return 1;
}
