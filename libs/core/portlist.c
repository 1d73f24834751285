/*
 * The kernel's port list notation, "8080,9000-9010" (the format of
 * net.ipv4.ip_local_reserved_ports), as a bitmap of 65536 ports, and the
 * kernel's socket lists (/proc/net/tcp, tcp6, udp, udp6)
 */

#include <stdio.h>
#include <string.h>

#include "pool.h"

/* portres_port_list_parse: set in bitmap (8192 bytes, cleared first) every
 * port of text, a comma-separated list of ports and first-last ranges,
 * whitespace around items allowed.  Returns 1, or 0 if text is malformed
 * (the bitmap then holds the items before the error). */
int portres_port_list_parse( const char *text, uint8_t *bitmap )
{
    const char *p = text;

    memset( bitmap, 0, PORTRES_BITMAP_BYTES );
    if (!text) return 0;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    while (*p)
    {
        uint32_t first = 0, last;
        int digits = 0;

        for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) first = first * 10 + (uint32_t)(*p - '0');
        if (!digits || first > 65535) return 0;
        last = first;
        if (*p == '-')
        {
            p++;
            last = 0;
            for (digits = 0; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) last = last * 10 + (uint32_t)(*p - '0');
            if (!digits || last > 65535 || last < first) return 0;
        }
        for (uint32_t port = first; port <= last; port++) bitmap[port >> 3] |= 1u << (port & 7);
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (*p == ',') p++;
        else if (*p) return 0;
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    }
    return 1;
}

/* portres_proc_net_has_port: 1 if a socket line of text, the contents of
 * /proc/net/tcp, tcp6, udp or udp6 ("sl: local_address:PORT rem_address
 * st ...", hexadecimal; the first line is the header), has its local port
 * in first..last (host order), else 0.  With tcp set, sockets in TIME_WAIT
 * (06) or CLOSE (07) hold nothing and are skipped; a UDP socket's state
 * (07 when not connected) does not matter.  NULL text: 0. */
int portres_proc_net_has_port( const char *text, int tcp, uint16_t first, uint16_t last )
{
    if (!text) return 0;
    for (const char *line = strchr( text, '\n' ); line && line[1]; line = strchr( line + 1, '\n' ))
    {
        const char *colon = strchr( line + 1, ':' ), *local, *state, *end = strchr( line + 1, '\n' );
        unsigned int port, st;

        /* "sl:" then "address:port" then "address:port st" */
        if (!colon || !(local = strchr( colon + 1, ':' )) || (end && local > end)) continue;
        if (sscanf( local + 1, "%x", &port ) != 1 || port < first || port > last) continue;
        if (!tcp) return 1;
        if (!(state = strchr( local + 1, ' ' )) || !(state = strchr( state + 1, ' ' )) || (end && state > end)) continue;
        if (sscanf( state + 1, "%x", &st ) != 1 || st == 6 || st == 7) continue;
        return 1;
    }
    return 0;
}
