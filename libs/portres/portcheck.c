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
 */

#include <ws2tcpip.h>

#include "portcheck.h"

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
