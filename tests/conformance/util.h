/*
 * util.h - helpers shared by the conformance tests: sockets on loopback,
 * the three ioctls, and finding a block of ports that nothing on the
 * machine holds (the port tables, test binds on 127.0.0.1 and ::1, and a
 * test acquire).  A file including it sets have_ipv6.
 */

#ifndef PORTRES_TEST_UTIL_H
#define PORTRES_TEST_UTIL_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "test.h"

/* each test looks for a free block in its own window of WINDOW ports */
#define WINDOW 200

static BOOL have_ipv6;

static inline BOOL is_admin( void )
{
    SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    PSID admins;
    BOOL member = FALSE;

    if (!AllocateAndInitializeSid( &nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
                                   0, 0, 0, 0, 0, 0, &admins ))
        return FALSE;
    if (!CheckTokenMembership( NULL, admins, &member )) member = FALSE;
    FreeSid( admins );
    return member;
}

static inline SOCKET new_socket( int family, int udp )
{
    return socket( family, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP );
}

/* WSAIoctl without overlapped: 0 or the Winsock error; *bytes as returned */
static inline int ioctl_bytes( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size, DWORD *bytes )
{
    int ret;

    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, code, in, in_size, out, out_size, bytes, NULL, NULL );
    if (!ret) return 0;
    if (ret != SOCKET_ERROR) return -1000 - ret;  /* neither 0 nor SOCKET_ERROR */
    return WSAGetLastError();
}

static inline int acquire( SOCKET s, USHORT start, USHORT count, INET_PORT_RESERVATION_INSTANCE *inst )
{
    INET_PORT_RANGE range;
    DWORD bytes = 0xdeadbeef;
    int err;

    range.StartPort = htons( start );
    range.NumberOfPorts = count;
    memset( inst, 0, sizeof(*inst) );
    err = ioctl_bytes( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), inst, sizeof(*inst), &bytes );
    if (!err) ok( bytes == sizeof(*inst), "acquire %u+%u: %lu bytes returned\n", start, count, bytes );
    return err;
}

static inline int release( SOCKET s, ULONG64 token )
{
    INET_PORT_RESERVATION_TOKEN tok;
    DWORD bytes = 0xdeadbeef;
    int err;

    tok.Token = token;
    err = ioctl_bytes( s, SIO_RELEASE_PORT_RESERVATION, &tok, sizeof(tok), NULL, 0, &bytes );
    if (!err) ok( bytes == 0, "release %#llx: %lu bytes returned\n", (unsigned long long)token, bytes );
    return err;
}

static inline int associate( SOCKET s, ULONG64 token )
{
    INET_PORT_RESERVATION_TOKEN tok;
    DWORD bytes = 0xdeadbeef;
    int err;

    tok.Token = token;
    err = ioctl_bytes( s, SIO_ASSOCIATE_PORT_RESERVATION, &tok, sizeof(tok), NULL, 0, &bytes );
    if (!err) ok( bytes == 0, "associate %#llx: %lu bytes returned\n", (unsigned long long)token, bytes );
    return err;
}

static inline void set_loopback( struct sockaddr_storage *addr, int family, USHORT port, int *len )
{
    memset( addr, 0, sizeof(*addr) );
    if (family == AF_INET)
    {
        struct sockaddr_in *in = (struct sockaddr_in *)addr;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        in->sin_port = htons( port );
        *len = sizeof(*in);
    }
    else
    {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        in6->sin6_port = htons( port );
        *len = sizeof(*in6);
    }
}

/* bind s to the loopback address of family, port (host order); 0 or the Winsock error */
static inline int bind_loopback( SOCKET s, int family, USHORT port )
{
    struct sockaddr_storage addr;
    int len;

    set_loopback( &addr, family, port, &len );
    WSASetLastError( 0xdeadbeef );
    return bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
}

/* a socket of the protocol bound to loopback:port, or INVALID_SOCKET; TCP
 * ones listen unless they are to be only bound */
static inline SOCKET bound_socket_( int family, int udp, USHORT port, BOOL bind_only )
{
    struct sockaddr_in6 addr6 = { 0 };
    struct sockaddr_in addr4 = { 0 };
    struct sockaddr *addr = family == AF_INET ? (struct sockaddr *)&addr4 : (struct sockaddr *)&addr6;
    int len = family == AF_INET ? sizeof(addr4) : sizeof(addr6);
    SOCKET s = socket( family, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP );

    if (s == INVALID_SOCKET) return s;
    addr4.sin_family = AF_INET;
    addr4.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    addr4.sin_port = htons( port );
    addr6.sin6_family = AF_INET6;
    addr6.sin6_addr = in6addr_loopback;
    addr6.sin6_port = htons( port );
    if (bind( s, addr, len ) || (!udp && !bind_only && listen( s, 5 )))
    {
        closesocket( s );
        return INVALID_SOCKET;
    }
    return s;
}

static inline SOCKET bound_socket( int family, int udp, USHORT port )
{
    return bound_socket_( family, udp, port, FALSE );
}

static inline USHORT local_port( SOCKET s )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    if (getsockname( s, (struct sockaddr *)&addr, &len )) return 0;
    return ntohs( addr.ss_family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
                                            : ((struct sockaddr_in6 *)&addr)->sin6_port );
}

/* the local ports of the machine's TCP and UDP tables, IPv4 and IPv6 */
static BYTE port_in_table[2][65536 / 8];

static inline void read_port_table( int udp, ULONG family )
{
    DWORD size = 0, err = 0, n, i, port;
    void *table = NULL;
    int tries;

    for (tries = 0; tries < 5; tries++)
    {
        err = udp ? GetExtendedUdpTable( table, &size, FALSE, family, UDP_TABLE_OWNER_PID, 0 )
                  : GetExtendedTcpTable( table, &size, FALSE, family, TCP_TABLE_OWNER_PID_ALL, 0 );
        if (err != ERROR_INSUFFICIENT_BUFFER) break;
        free( table );
        size += 4096;
        if (!(table = malloc( size ))) return;
    }
    if (!err && table)
    {
        n = *(DWORD *)table;
        for (i = 0; i < n; i++)
        {
            if (udp) port = family == AF_INET ? ((MIB_UDPTABLE_OWNER_PID *)table)->table[i].dwLocalPort
                                              : ((MIB_UDP6TABLE_OWNER_PID *)table)->table[i].dwLocalPort;
            else port = family == AF_INET ? ((MIB_TCPTABLE_OWNER_PID *)table)->table[i].dwLocalPort
                                          : ((MIB_TCP6TABLE_OWNER_PID *)table)->table[i].dwLocalPort;
            port = ntohs( (USHORT)port );
            port_in_table[udp][port / 8] |= 1 << (port % 8);
        }
    }
    free( table );
}

/* TRUE if port is free for TCP and UDP: in no table, and bindable on loopback */
static inline BOOL port_free( USHORT port )
{
    SOCKET s;
    int udp;

    for (udp = 0; udp < 2; udp++)
    {
        if (port_in_table[udp][port / 8] & (1 << (port % 8))) return FALSE;
        if ((s = bound_socket( AF_INET, udp, port )) == INVALID_SOCKET) return FALSE;
        closesocket( s );
        if (have_ipv6)
        {
            if ((s = bound_socket( AF_INET6, udp, port )) == INVALID_SOCKET) return FALSE;
            closesocket( s );
        }
    }
    return TRUE;
}

/* TRUE unless a reservation of the protocol overlaps the block (a runtime
 * acquire of it fails WSAEADDRINUSE) */
static inline BOOL block_unreserved( int udp, USHORT start, USHORT count )
{
    INET_PORT_RANGE range;
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET s = socket( AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP );
    DWORD bytes;
    BOOL ret = TRUE;

    if (s == INVALID_SOCKET) return TRUE;
    range.StartPort = htons( start );
    range.NumberOfPorts = count;
    if (!WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL ))
        WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, NULL, NULL );
    else ret = WSAGetLastError() != WSAEADDRINUSE;
    closesocket( s );
    return ret;
}

/* find_block: the first block of count ports in first..first+WINDOW-1
 * that no socket of the machine holds and no TCP or UDP reservation
 * overlaps; skips (FALSE) when there is none */
static inline BOOL find_block( USHORT first, USHORT count, USHORT *start )
{
    unsigned int base, i;

    memset( port_in_table, 0, sizeof(port_in_table) );
    read_port_table( 0, AF_INET );
    read_port_table( 0, AF_INET6 );
    read_port_table( 1, AF_INET );
    read_port_table( 1, AF_INET6 );
    for (base = first; base + count <= (unsigned int)first + WINDOW; base++)
    {
        for (i = 0; i < count; i++) if (!port_free( base + i )) break;
        if (i < count) { base += i; continue; }
        if (!block_unreserved( 0, base, count ) || !block_unreserved( 1, base, count )) continue;
        *start = base;
        return TRUE;
    }
    skip( "no block of %u free ports in %u-%u\n", count, first, first + WINDOW - 1 );
    return FALSE;
}

#endif /* PORTRES_TEST_UTIL_H */
