/*
 * Is a port bound?  A test bind (see portcheck.h)
 *
 * The test socket binds the dual-stack wildcard address, which collides
 * with IPv4 and IPv6 binds of native Linux sockets.  Wine's own TCP
 * sockets carry SO_REUSEADDR at the Linux level and the wineserver
 * decides their conflicts as Windows does: a wildcard bind only collides
 * with a socket bound to a specific address when it asks for
 * SO_EXCLUSIVEADDRUSE, so the TCP test socket does.  A native Linux socket
 * that set SO_REUSEADDR itself and is bound but neither listening nor
 * connected stays invisible: Linux lists it nowhere a PE program can read.
 *
 * A block's check (portres_block_in_use) asks the host helper (helper.c)
 * first, whose native binds see every socket of the host; test binds are
 * what is left when there is none.  The kernel's UDP lists, which list
 * every bound UDP socket, answer for UDP blocks of a few ports or more.
 */

#include <ws2tcpip.h>

#include "portcheck.h"
#include "kernel.h"
#include "helper.h"

/* portres_port_is_free: 1 if no socket of the host holds port (host order)
 * of proto, 0 if one does; 1 as well when no test socket can be made (the
 * bind itself decides then) */
int portres_port_is_free( const struct portres_sockapi *api, enum portres_proto proto, uint16_t port )
{
    int type = proto == PORTRES_TCP ? SOCK_STREAM : SOCK_DGRAM;
    int ipproto = proto == PORTRES_TCP ? IPPROTO_TCP : IPPROTO_UDP;
    struct sockaddr_in6 addr6 = { .sin6_family = AF_INET6 };
    struct sockaddr_in addr4 = { .sin_family = AF_INET };
    DWORD off = 0, on = 1;
    SOCKET s;
    int ret;

    addr6.sin6_port = addr4.sin_port = (uint16_t)(port << 8 | port >> 8);
    if ((s = api->socket( AF_INET6, type, ipproto )) != INVALID_SOCKET)
    {
        api->setsockopt( s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&off, sizeof(off) );
        if (proto == PORTRES_TCP) api->setsockopt( s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&on, sizeof(on) );
        ret = api->bind( s, (struct sockaddr *)&addr6, sizeof(addr6) );
    }
    else if ((s = api->socket( AF_INET, type, ipproto )) != INVALID_SOCKET)
    {
        if (proto == PORTRES_TCP) api->setsockopt( s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&on, sizeof(on) );
        ret = api->bind( s, (struct sockaddr *)&addr4, sizeof(addr4) );
    }
    else
        return 1;
    api->closesocket( s );
    return !ret;
}

/* UDP blocks of this many ports or more are checked in /proc/net/udp and
 * udp6 (one read of both, about 0.8 ms under Wine 8.0) instead of by test
 * binds (about 0.3 ms each) */
#define UDP_LIST_MIN_PORTS 4

/* without the host helper: a test bind of each port, and the kernel's
 * TCP lists */
static BOOL in_use_by_binds( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                             uint16_t count )
{
    if (api)
        for (unsigned int i = 0; i < count; i++)
            if (!portres_port_is_free( api, proto, start + i )) return TRUE;
    return proto == PORTRES_TCP && portres_tcp_ports_in_use( start, count );
}

/* portres_block_in_use: TRUE if a socket of the host holds a port of
 * start..start+count-1 (host order) of proto: the in-use check of runtime
 * acquires and persistent creates (behaviour §2, §3), made once the block
 * is published in the pool.
 *
 * UDP, UDP_LIST_MIN_PORTS ports or more: /proc/net/udp and udp6, which
 * list every bound UDP socket, Wine's and native ones (one read).  Else
 * the host helper (portres_helper_in_use: native binds without
 * SO_REUSEADDR, exact, a few microseconds a port).  Without a helper, a
 * test bind of each port through api (none when api is NULL), and for TCP
 * also /proc/net/tcp and tcp6 for the part of the block inside the
 * kernel's ephemeral range, where a connection whose port the kernel chose
 * passes the test bind (portres_tcp_ports_in_use); a native TCP socket
 * that set SO_REUSEADDR and is only bound then goes unseen. */
BOOL portres_block_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count )
{
    BOOL read = FALSE;
    int used;

    if (proto == PORTRES_UDP && count >= UDP_LIST_MIN_PORTS)
    {
        used = portres_proc_ports_in_use( proto, start, count, &read );
        if (used || read) return used;
    }
    /* exact and cheap: the host helper's native binds */
    if (api && (used = portres_helper_in_use( api, proto, start, count, NULL )) >= 0) return used;
    return in_use_by_binds( api, proto, start, count );
}

/* portres_block_check_begin: the first half of portres_block_in_use for
 * a check that goes to the host helper: its request is sent, to be
 * answered while the caller does something else (the reservation core:
 * release the pool lock).  TRUE if sent: portres_block_check_end must
 * follow, with the same arguments; FALSE if the check is of another kind
 * or no helper is connected yet (call portres_block_in_use). */
BOOL portres_block_check_begin( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                                uint16_t count )
{
    if (!api || (proto == PORTRES_UDP && count >= UDP_LIST_MIN_PORTS)) return FALSE;
    return portres_helper_send( api, proto, start, count );
}

/* portres_block_check_end: the answer of the check begun by
 * portres_block_check_begin, as portres_block_in_use gives it (by test
 * binds when the helper gave none) */
BOOL portres_block_check_end( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                              uint16_t count )
{
    int used = portres_helper_reply( api, NULL );

    return used >= 0 ? used : in_use_by_binds( api, proto, start, count );
}
