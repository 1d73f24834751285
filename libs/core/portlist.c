/*
 * The kernel's port list notation, "8080,9000-9010" (the format of
 * net.ipv4.ip_local_reserved_ports), as a bitmap of 65536 ports
 */

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
