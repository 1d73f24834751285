/*
 * Conformance tests for the persistent port reservation functions of
 * iphlpapi: Create/Delete/LookupPersistent{Tcp,Udp}PortReservation.
 *
 * SPEC §2 (and the §4 rule that a socket associated with a persistent
 * token binds into its block).  Must pass on Windows 10/11 as on Wine with
 * portres.  The parts that create reservations need administrator rights
 * and are skipped without them; the ERROR_ACCESS_DENIED checks run in a
 * child process started with the Administrators group disabled.
 *
 * Ports: this file uses only 40000-41999; each conformance test file has its
 * own range so that they never collide.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"
#include "names.h"

#define WIN_BASIC     40000
#define WIN_INVALID   40200
#define WIN_SHARING   40400
#define WIN_BOUND     40600
#define WIN_RUNTIME   40800
#define WIN_EXACT     41000
#define WIN_KEEP      41200
#define WIN_ORDER     41400
#define WIN_NOADMIN   41600
#define WIN_HAND      41800

/* --- helpers -------------------------------------------------------------- */

/* every reservation this program created, so that each test can remove
 * what it made even when a check failed */
static struct { int udp; USHORT start, count; } created[64];
static unsigned int created_count;

static ULONG create_res( int udp, USHORT start, USHORT count, ULONG64 *token )
{
    ULONG err = persistent_create( udp, start, count, token );
    if (!err && created_count < ARRAYSIZE(created))
    {
        created[created_count].udp = udp;
        created[created_count].start = start;
        created[created_count].count = count;
        created_count++;
    }
    return err;
}

/* delete whatever is left of the reservations created so far */
static void cleanup( void )
{
    ULONG64 token;

    while (created_count)
    {
        unsigned int i = --created_count;
        int udp = created[i].udp;
        USHORT start = created[i].start, count = created[i].count;

        if (!persistent_lookup( udp, start, count, &token )) persistent_delete( udp, start, count );
    }
}

/* --- the tests ------------------------------------------------------------ */

static void test_create_lookup_delete( void )
{
    USHORT base = 0;
    ULONG64 token[2][2] = { { 0 } }, found, old;
    ULONG err;
    int udp, i, j;

    if (!find_block( WIN_BASIC, 20, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        err = create_res( udp, base, 10, &token[udp][0] );
        ok( err == NO_ERROR, "%s create %u+10: got %lu\n", proto_name[udp], base, err );
        ok( token[udp][0] != 0, "%s create: token 0\n", proto_name[udp] );
        decision( "behaviour §2: persistent tokens have bit 63 set" )
            ok( token[udp][0] >> 63, "%s create: token %#llx without bit 63\n", proto_name[udp],
                (unsigned long long)token[udp][0] );
        err = create_res( udp, base + 10, 5, &token[udp][1] );
        ok( err == NO_ERROR, "%s create %u+5: got %lu\n", proto_name[udp], base + 10, err );
        ok( token[udp][1] != 0, "%s create: token 0\n", proto_name[udp] );
    }
    for (i = 0; i < 4; i++)
        for (j = i + 1; j < 4; j++)
            ok( token[i / 2][i % 2] != token[j / 2][j % 2], "tokens %d and %d are the same: %#llx\n", i, j,
                (unsigned long long)token[i / 2][i % 2] );

    for (udp = 0; udp < 2; udp++)
    {
        found = 0xdeadbeef;
        err = persistent_lookup( udp, base, 10, &found );
        ok( err == NO_ERROR, "%s lookup: got %lu\n", proto_name[udp], err );
        ok( found == token[udp][0], "%s lookup: token %#llx, created %#llx\n", proto_name[udp],
            (unsigned long long)found, (unsigned long long)token[udp][0] );
        found = 0xdeadbeef;
        err = persistent_lookup( udp, base + 10, 5, &found );
        ok( err == NO_ERROR, "%s lookup: got %lu\n", proto_name[udp], err );
        ok( found == token[udp][1], "%s lookup: token %#llx, created %#llx\n", proto_name[udp],
            (unsigned long long)found, (unsigned long long)token[udp][1] );
    }

    /* TCP and UDP are separate: deleting one leaves the other */
    err = persistent_delete( 0, base, 10 );
    ok( err == NO_ERROR, "TCP delete: got %lu\n", err );
    err = persistent_delete( 0, base, 10 );
    ok( err == ERROR_NOT_FOUND, "TCP second delete: got %lu\n", err );
    err = persistent_lookup( 0, base, 10, &found );
    ok( err == ERROR_NOT_FOUND, "TCP lookup after delete: got %lu\n", err );
    found = 0;
    err = persistent_lookup( 1, base, 10, &found );
    ok( err == NO_ERROR, "UDP lookup after the TCP delete: got %lu\n", err );
    ok( found == token[1][0], "UDP lookup after the TCP delete: token %#llx, created %#llx\n",
        (unsigned long long)found, (unsigned long long)token[1][0] );
    err = persistent_delete( 1, base, 10 );
    ok( err == NO_ERROR, "UDP delete: got %lu\n", err );
    err = persistent_delete( 1, base, 10 );
    ok( err == ERROR_NOT_FOUND, "UDP second delete: got %lu\n", err );
    err = persistent_lookup( 1, base, 10, &found );
    ok( err == ERROR_NOT_FOUND, "UDP lookup after delete: got %lu\n", err );

    /* the other blocks are untouched; after a delete the block can be reserved again, with a new token */
    for (udp = 0; udp < 2; udp++)
    {
        err = persistent_lookup( udp, base + 10, 5, &found );
        ok( err == NO_ERROR && found == token[udp][1], "%s lookup of the other block: %lu, token %#llx\n",
            proto_name[udp], err, (unsigned long long)found );
        old = token[udp][0];
        err = create_res( udp, base, 10, &token[udp][0] );
        ok( err == NO_ERROR, "%s create after delete: got %lu\n", proto_name[udp], err );
        ok( token[udp][0] != 0 && token[udp][0] != old, "%s create after delete: token %#llx, old %#llx\n",
            proto_name[udp], (unsigned long long)token[udp][0], (unsigned long long)old );
        err = persistent_delete( udp, base, 10 );
        ok( err == NO_ERROR, "%s delete: got %lu\n", proto_name[udp], err );
        err = persistent_delete( udp, base + 10, 5 );
        ok( err == NO_ERROR, "%s delete: got %lu\n", proto_name[udp], err );
    }
    cleanup();
}

static void test_invalid_parameters( void )
{
    USHORT base = 0;
    /* start 0 stands for the free block found below */
    static const struct { USHORT start, count; } bad[] =
    {
        { 0, 0 }, { 65535, 2 }, { 65530, 7 }, { 65000, 65535 }, { 2, 65535 },
    };
    USHORT start;
    ULONG64 token;
    ULONG err;
    unsigned int i;
    int udp;

    if (!find_block( WIN_INVALID, 1, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        /* port 0 */
        err = create_res( udp, 0, 1, &token );
        ok( err == ERROR_INVALID_PARAMETER, "%s create 0+1: got %lu\n", proto_name[udp], err );
        err = create_res( udp, 0, 10, &token );
        ok( err == ERROR_INVALID_PARAMETER, "%s create 0+10: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, 0, 1, &token );
        ok( err == ERROR_INVALID_PARAMETER, "%s lookup 0+1: got %lu\n", proto_name[udp], err );
        err = persistent_delete( udp, 0, 1 );
        ok( err == ERROR_INVALID_PARAMETER, "%s delete 0+1: got %lu\n", proto_name[udp], err );
        /* no ports, or past 65535 */
        for (i = 0; i < ARRAYSIZE(bad); i++)
        {
            start = bad[i].start ? bad[i].start : base;
            token = 0xdeadbeef;
            err = create_res( udp, start, bad[i].count, &token );
            ok( err == ERROR_INVALID_PARAMETER, "%s create %u+%u: got %lu\n", proto_name[udp], start,
                bad[i].count, err );
            err = persistent_lookup( udp, start, bad[i].count, &token );
            ok( err == ERROR_INVALID_PARAMETER, "%s lookup %u+%u: got %lu\n", proto_name[udp], start,
                bad[i].count, err );
            err = persistent_delete( udp, start, bad[i].count );
            ok( err == ERROR_INVALID_PARAMETER, "%s delete %u+%u: got %lu\n", proto_name[udp], start,
                bad[i].count, err );
        }
        /* a NULL token pointer [dec] */
        err = create_res( udp, base, 1, NULL );
        ok( err == ERROR_INVALID_PARAMETER, "%s create with a NULL token: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, base, 1, &token );
        ok( err == ERROR_NOT_FOUND, "%s lookup after the NULL-token create: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, base, 1, NULL );
        ok( err == ERROR_INVALID_PARAMETER, "%s lookup with a NULL token: got %lu\n", proto_name[udp], err );

        /* blocks ending at 65535 are valid: not found, not invalid */
        err = persistent_lookup( udp, 65535, 1, &token );
        ok( err == ERROR_NOT_FOUND, "%s lookup 65535+1: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, 65000, 536, &token );
        ok( err == ERROR_NOT_FOUND, "%s lookup 65000+536: got %lu\n", proto_name[udp], err );
        err = persistent_delete( udp, 65535, 1 );
        ok( err == ERROR_NOT_FOUND, "%s delete 65535+1: got %lu\n", proto_name[udp], err );
    }
    cleanup();
}

static void test_sharing_violation( void )
{
    USHORT base = 0;
    static const struct { short start; USHORT count; } overlap[] =  /* start: from base */
    {
        { 0, 10 },      /* the same block */
        { 5, 10 },      /* its upper half */
        { -5, 6 },      /* ends on its first port */
        { 9, 1 },       /* its last port */
        { 2, 3 },       /* inside */
        { -10, 30 },    /* around */
    };
    ULONG64 token, other;
    ULONG err;
    unsigned int i;
    int udp;

    if (!find_block( WIN_SHARING, 32, &base )) return;
    base += 10;

    for (udp = 0; udp < 2; udp++)
    {
        err = create_res( udp, base, 10, &token );
        ok( err == NO_ERROR, "%s create: got %lu\n", proto_name[udp], err );
        if (err) continue;
        for (i = 0; i < ARRAYSIZE(overlap); i++)
        {
            other = 0xdeadbeef;
            err = create_res( udp, base + overlap[i].start, overlap[i].count, &other );
            ok( err == ERROR_SHARING_VIOLATION, "%s create %u+%u over %u+10: got %lu\n", proto_name[udp],
                base + overlap[i].start, overlap[i].count, base, err );
        }
        /* the neighbours do not overlap */
        err = create_res( udp, base - 5, 5, &other );
        ok( err == NO_ERROR, "%s create of the block just below: got %lu\n", proto_name[udp], err );
        ok( other != token, "%s: same token twice\n", proto_name[udp] );
        if (!err) ok( !persistent_delete( udp, base - 5, 5 ), "%s delete failed\n", proto_name[udp] );
        err = create_res( udp, base + 10, 2, &other );
        ok( err == NO_ERROR, "%s create of the block just above: got %lu\n", proto_name[udp], err );
        if (!err) ok( !persistent_delete( udp, base + 10, 2 ), "%s delete failed\n", proto_name[udp] );
        /* the other protocol is another port space */
        err = create_res( !udp, base + 5, 10, &other );
        ok( err == NO_ERROR, "%s create over the %s block: got %lu\n", proto_name[!udp], proto_name[udp], err );
        ok( other != token, "%s: same token as %s\n", proto_name[!udp], proto_name[udp] );
        if (!err) ok( !persistent_delete( !udp, base + 5, 10 ), "%s delete failed\n", proto_name[!udp] );

        err = persistent_delete( udp, base, 10 );
        ok( err == NO_ERROR, "%s delete: got %lu\n", proto_name[udp], err );
    }
    cleanup();
}

static void test_bound_port( void )
{
    USHORT base = 0;
    static const struct { int family; USHORT port; const char *addr; BOOL bind_only; } cases[] =  /* port: from base */
    {
        { AF_INET, 2, "127.0.0.1", FALSE },
        { AF_INET, 4, "127.0.0.1", FALSE },
        { AF_INET6, 0, "::1", FALSE },
        { AF_INET, 3, "127.0.0.1", TRUE },  /* a TCP socket that is bound, not listening */
    };
    USHORT port;
    ULONG64 token;
    unsigned int i;
    ULONG err;
    int udp;

    if (!find_block( WIN_BOUND, 5, &base )) return;

    for (udp = 0; udp < 2; udp++)
        for (i = 0; i < ARRAYSIZE(cases); i++)
        {
            SOCKET s;

            if (cases[i].family == AF_INET6 && !have_ipv6)
            {
                skip( "no IPv6 loopback\n" );
                continue;
            }
            port = base + cases[i].port;
            if (udp && cases[i].bind_only) continue;
            s = bound_socket_( cases[i].family, udp, port, cases[i].bind_only );
            ok( s != INVALID_SOCKET, "cannot bind %s %s:%u: %d\n", proto_name[udp], cases[i].addr, port,
                WSAGetLastError() );
            if (s == INVALID_SOCKET) continue;

            err = create_res( udp, base, 5, &token );
            ok( err == ERROR_SHARING_VIOLATION, "%s create %u+5 with %s:%u bound%s: got %lu\n", proto_name[udp],
                base, cases[i].addr, port, cases[i].bind_only ? " (not listening)" : "", err );
            cleanup();
            err = create_res( udp, port, 1, &token );
            ok( err == ERROR_SHARING_VIOLATION, "%s create %u+1 with %s:%u bound%s: got %lu\n", proto_name[udp],
                port, cases[i].addr, port, cases[i].bind_only ? " (not listening)" : "", err );
            cleanup();

            /* a bound port of the other protocol is no obstacle */
            err = create_res( !udp, base, 5, &token );
            ok( err == NO_ERROR, "%s create %u+5 with %s %s:%u bound: got %lu\n", proto_name[!udp], base,
                proto_name[udp], cases[i].addr, port, err );
            if (!err) ok( !persistent_delete( !udp, base, 5 ), "delete failed\n" );

            closesocket( s );
            err = create_res( udp, base, 5, &token );
            ok( err == NO_ERROR, "%s create %u+5 once the socket is closed: got %lu\n", proto_name[udp],
                base, err );
            if (!err) ok( !persistent_delete( udp, base, 5 ), "delete failed\n" );
            cleanup();
        }
}

static void test_runtime_overlap( void )
{
    USHORT base = 0;
    INET_PORT_RANGE range = { 0, 5 };
    INET_PORT_RESERVATION_INSTANCE inst;
    ULONG64 token;
    DWORD bytes;
    ULONG err;
    int udp, ret;

    if (!find_block( WIN_RUNTIME, 10, &base )) return;
    range.StartPort = htons( base );

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );

        ok( s != INVALID_SOCKET, "socket failed: %d\n", WSAGetLastError() );
        if (s == INVALID_SOCKET) continue;
        memset( &inst, 0, sizeof(inst) );
        ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL );
        ok( !ret, "%s runtime acquire %u+5: error %d\n", proto_name[udp], base, WSAGetLastError() );
        if (ret) { closesocket( s ); continue; }

        err = create_res( udp, base + 2, 5, &token );
        ok( err == ERROR_SHARING_VIOLATION, "%s create over a runtime reservation: got %lu\n", proto_name[udp], err );
        err = create_res( udp, base, 5, &token );
        ok( err == ERROR_SHARING_VIOLATION, "%s create of a runtime reservation's block: got %lu\n",
            proto_name[udp], err );
        err = create_res( !udp, base + 2, 5, &token );
        ok( err == NO_ERROR, "%s create over a %s runtime reservation: got %lu\n", proto_name[!udp],
            proto_name[udp], err );
        if (!err) ok( !persistent_delete( !udp, base + 2, 5 ), "delete failed\n" );
        cleanup();

        ret = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, NULL, NULL );
        ok( !ret, "%s runtime release: error %d\n", proto_name[udp], WSAGetLastError() );
        err = create_res( udp, base + 2, 5, &token );
        ok( err == NO_ERROR, "%s create after the runtime release: got %lu\n", proto_name[udp], err );
        if (!err) ok( !persistent_delete( udp, base + 2, 5 ), "delete failed\n" );
        cleanup();
        closesocket( s );
    }
}

static void test_exact_match( void )
{
    USHORT base = 0;
    static const struct { short start; USHORT count; } others[] =  /* start: from base */
    {
        { 0, 4 }, { 0, 6 }, { 1, 4 }, { -1, 6 }, { 1, 3 }, { -2, 12 }, { 4, 1 },
    };
    ULONG64 token[2], found;
    unsigned int i;
    ULONG err;
    int udp;

    if (!find_block( WIN_EXACT, 14, &base )) return;
    base += 2;

    for (udp = 0; udp < 2; udp++)
    {
        err = create_res( udp, base, 5, &token[udp] );
        ok( err == NO_ERROR, "%s create: got %lu\n", proto_name[udp], err );
    }
    for (udp = 0; udp < 2; udp++)
    {
        for (i = 0; i < ARRAYSIZE(others); i++)
        {
            found = 0xdeadbeef;
            err = persistent_lookup( udp, base + others[i].start, others[i].count, &found );
            ok( err == ERROR_NOT_FOUND, "%s lookup %u+%u of %u+5: got %lu\n", proto_name[udp],
                base + others[i].start, others[i].count, base, err );
            err = persistent_delete( udp, base + others[i].start, others[i].count );
            ok( err == ERROR_NOT_FOUND, "%s delete %u+%u of %u+5: got %lu\n", proto_name[udp],
                base + others[i].start, others[i].count, base, err );
        }
        /* still there, untouched by the failed deletes */
        found = 0;
        err = persistent_lookup( udp, base, 5, &found );
        ok( err == NO_ERROR && found == token[udp], "%s lookup: got %lu, token %#llx (created %#llx)\n",
            proto_name[udp], err, (unsigned long long)found, (unsigned long long)token[udp] );
        err = persistent_delete( udp, base, 5 );
        ok( err == NO_ERROR, "%s delete: got %lu\n", proto_name[udp], err );
        err = persistent_delete( udp, base, 5 );
        ok( err == ERROR_NOT_FOUND, "%s second delete: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, base, 5, &found );
        ok( err == ERROR_NOT_FOUND, "%s lookup after delete: got %lu\n", proto_name[udp], err );
    }
    cleanup();
}

/* a socket associated with token, bound to loopback:port (TCP ones
 * listen): an explicit bind into a persistent reservation made through
 * the API takes a socket associated with it (behaviour §4) */
static SOCKET associated_socket( int udp, ULONG64 token, USHORT port )
{
    SOCKET s = new_socket( AF_INET, udp );

    if (s == INVALID_SOCKET) return s;
    if (associate( s, token ) || bind_loopback( s, AF_INET, port ) || (!udp && listen( s, 5 )))
    {
        closesocket( s );
        return INVALID_SOCKET;
    }
    return s;
}

/* explicit binds of associated sockets into a persistent reservation
 * succeed (behaviour §4), and deleting the reservation leaves bound
 * sockets bound (SPEC §2) */
static void test_delete_keeps_sockets( void )
{
    USHORT base = 0;
    struct sockaddr_in addr = { 0 };
    SOCKET server, client, conn, udp_s;
    ULONG64 token[2];
    char buf[8];
    ULONG err;
    int ret, len;

    if (!find_block( WIN_KEEP, 4, &base )) return;

    err = create_res( 0, base, 4, &token[0] );
    ok( err == NO_ERROR, "TCP create: got %lu\n", err );
    err = create_res( 1, base, 4, &token[1] );
    ok( err == NO_ERROR, "UDP create: got %lu\n", err );

    server = associated_socket( 0, token[0], base + 1 );
    ok( server != INVALID_SOCKET, "TCP bind+listen 127.0.0.1:%u inside a persistent reservation: error %d\n",
        base + 1, WSAGetLastError() );
    udp_s = associated_socket( 1, token[1], base + 2 );
    ok( udp_s != INVALID_SOCKET, "UDP bind 127.0.0.1:%u inside a persistent reservation: error %d\n",
        base + 2, WSAGetLastError() );

    err = persistent_delete( 0, base, 4 );
    ok( err == NO_ERROR, "TCP delete with a socket bound in the block: got %lu\n", err );
    err = persistent_delete( 1, base, 4 );
    ok( err == NO_ERROR, "UDP delete with a socket bound in the block: got %lu\n", err );

    if (server != INVALID_SOCKET)
    {
        ok( local_port( server ) == base + 1, "TCP socket now on port %u\n", local_port( server ) );
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        addr.sin_port = htons( base + 1 );
        client = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        ret = connect( client, (struct sockaddr *)&addr, sizeof(addr) );
        ok( !ret, "connect to the listener after the delete: error %d\n", WSAGetLastError() );
        conn = accept( server, NULL, NULL );
        ok( conn != INVALID_SOCKET, "accept after the delete: error %d\n", WSAGetLastError() );
        abort_close( client );  /* no TIME_WAIT left on the block's port */
        if (conn != INVALID_SOCKET) abort_close( conn );
        closesocket( server );
    }
    if (udp_s != INVALID_SOCKET)
    {
        ok( local_port( udp_s ) == base + 2, "UDP socket now on port %u\n", local_port( udp_s ) );
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        addr.sin_port = htons( base + 2 );
        ret = sendto( udp_s, "ping", 4, 0, (struct sockaddr *)&addr, sizeof(addr) );
        ok( ret == 4, "sendto itself after the delete: %d, error %d\n", ret, WSAGetLastError() );
        len = recv( udp_s, buf, sizeof(buf), 0 );
        ok( len == 4, "recv after the delete: %d, error %d\n", len, WSAGetLastError() );
        closesocket( udp_s );
    }
    cleanup();
}

/* the ports are in network byte order: the ports a socket associated with
 * the reservation gets, as getsockname reports them, are inside the block */
static void test_byte_order( void )
{
    USHORT base = 0;
    static const USHORT count = 3;
    INET_PORT_RESERVATION_TOKEN tok;
    struct sockaddr_in addr = { 0 };
    SOCKET s[3];
    ULONG64 token;
    DWORD bytes;
    ULONG err;
    int udp, i, ret;

    if (!find_block( WIN_ORDER, count, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        err = persistent_create( udp, base, count, &token );
        ok( err == NO_ERROR, "%s create: got %lu\n", proto_name[udp], err );
        if (err) continue;
        created[created_count].udp = udp;
        created[created_count].start = base;
        created[created_count].count = count;
        created_count++;
        tok.Token = token;
        for (i = 0; i < count; i++)
        {
            s[i] = new_socket( AF_INET, udp );
            ret = WSAIoctl( s[i], SIO_ASSOCIATE_PORT_RESERVATION, &tok, sizeof(tok), NULL, 0, &bytes, NULL, NULL );
            ok( !ret, "%s associate with the persistent token: error %d\n", proto_name[udp], WSAGetLastError() );
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
            addr.sin_port = 0;
            ret = bind( s[i], (struct sockaddr *)&addr, sizeof(addr) );
            ok( !ret, "%s bind port 0: error %d\n", proto_name[udp], WSAGetLastError() );
            ok( local_port( s[i] ) >= base && local_port( s[i] ) < base + count,
                "%s socket %d got port %u, reserved %u-%u\n", proto_name[udp], i, local_port( s[i] ),
                base, base + count - 1 );
        }
        for (i = 0; i < count; i++) closesocket( s[i] );
        ok( !persistent_delete( udp, base, count ), "%s delete failed\n", proto_name[udp] );
        cleanup();
    }
}

/* --- without administrator rights ---------------------------------------- */

/* in a process without administrator rights: Create and Delete are
 * refused, Lookup works; argv: noadmin <port> <TCP token> <UDP token> */
static void child_noadmin( int argc, char **argv )
{
    USHORT port;
    ULONG64 token, found;
    ULONG err;
    int udp;

    if (argc < 5) { ok( 0, "bad child arguments\n" ); return; }
    port = (USHORT)atoi( argv[2] );
    if (is_admin())
    {
        skip( "the child still has administrator rights\n" );
        return;
    }
    for (udp = 0; udp < 2; udp++)
    {
        token = _strtoui64( argv[3 + udp], NULL, 0 );
        found = 0;
        err = persistent_lookup( udp, port, 5, &found );
        ok( err == NO_ERROR, "%s lookup without administrator rights: got %lu\n", proto_name[udp], err );
        ok( found == token, "%s lookup: token %#llx, expected %#llx\n", proto_name[udp], (unsigned long long)found,
            (unsigned long long)token );
        err = persistent_create( udp, port + 5, 5, &found );
        ok( err == ERROR_ACCESS_DENIED, "%s create without administrator rights: got %lu\n", proto_name[udp], err );
        if (!err) persistent_delete( udp, port + 5, 5 );
        err = persistent_delete( udp, port, 5 );
        ok( err == ERROR_ACCESS_DENIED, "%s delete without administrator rights: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, port, 5, &found );
        ok( err == NO_ERROR, "%s lookup after the refused delete: got %lu\n", proto_name[udp], err );
    }
}

/* run this program as "noadmin ..." with the Administrators group disabled */
static void test_access_denied( void )
{
    USHORT base = 0;
    ULONG64 tokens[2] = { 0 };
    ULONG err;
    int udp, code;

    if (!find_block( WIN_NOADMIN, 10, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        err = create_res( udp, base, 5, &tokens[udp] );
        ok( err == NO_ERROR, "%s create: got %lu\n", proto_name[udp], err );
    }
    code = run_without_admin( "noadmin %u %#llx %#llx", base, (unsigned long long)tokens[0],
                              (unsigned long long)tokens[1] );
    if (code != -1)
    {
        ok( code == 0, "the child without administrator rights failed: exit code %d\n", code );
        for (udp = 0; udp < 2; udp++)
        {
            err = persistent_delete( udp, base, 5 );
            ok( err == NO_ERROR, "%s delete after the child: got %lu\n", proto_name[udp], err );
        }
    }
    cleanup();
}

static void test_not_admin( void )
{
    ULONG64 token;
    ULONG err;
    int udp;

    for (udp = 0; udp < 2; udp++)
    {
        err = persistent_create( udp, WIN_NOADMIN + WINDOW - 5, 5, &token );
        ok( err == ERROR_ACCESS_DENIED, "%s create without administrator rights: got %lu\n", proto_name[udp], err );
        if (!err) persistent_delete( udp, WIN_NOADMIN + WINDOW - 5, 5 );
        err = persistent_delete( udp, WIN_NOADMIN + WINDOW - 5, 5 );
        ok( err == ERROR_ACCESS_DENIED, "%s delete without administrator rights: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, WIN_NOADMIN + WINDOW - 5, 5, &token );
        ok( err == ERROR_NOT_FOUND, "%s lookup without administrator rights: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, 0, 5, &token );
        ok( err == ERROR_INVALID_PARAMETER, "%s lookup of port 0: got %lu\n", proto_name[udp], err );
    }
}

/* portres only (the registry key is portres's store): a value added by
 * hand in the registry while this process holds the pool is found by
 * Lookup, and is gone once deleted by hand; the journal holds
 * one line per change made through the API */
static void test_registry_hand_edit( void )
{
    static const char key_name[] = PORTRES_REGISTRY_TCP_KEY;
    char name[16], path[MAX_PATH], *text;
    INET_PORT_RESERVATION_INSTANCE inst;
    ULONG64 token = 0, found;
    USHORT base = 0;
    SOCKET s;
    HKEY key;
    HANDLE file;
    DWORD size = 0;
    LONG err;

    if (!winetest_is_wine())
    {
        skip( "the registry store is portres's, under Wine\n" );
        return;
    }
    if (!find_block( WIN_HAND, 10, &base )) return;
    /* the pool is held by this process from here on */
    err = create_res( 0, base, 2, &token );
    ok( err == NO_ERROR, "create %u+2: got %lu\n", base, err );
    err = persistent_lookup( 0, base + 5, 3, &found );
    ok( err == ERROR_NOT_FOUND, "lookup %u+3 before the hand edit: got %lu\n", base + 5, err );

    err = RegCreateKeyExA( HKEY_LOCAL_MACHINE, key_name, 0, NULL, 0, KEY_ALL_ACCESS | KEY_WOW64_64KEY, NULL, &key,
                           NULL );
    ok( !err, "cannot open the key, error %ld\n", err );
    if (err) return;
    sprintf( name, "%u-%u", base + 5, base + 7 );
    err = RegSetValueExA( key, name, 0, REG_SZ, (const BYTE *)"0x8000000000000ab1", 19 );
    ok( !err, "RegSetValueEx: error %ld\n", err );
    /* the first call after the edit is an acquire: ws2_32 sees it too */
    if ((s = new_socket( AF_INET, 0 )) != INVALID_SOCKET)
    {
        err = acquire( s, base + 6, 1, &inst );
        ok( err == WSAEADDRINUSE, "acquire inside the value added by hand: got %ld\n", err );
        if (!err) release( s, inst.Token.Token );
    }
    found = 0;
    err = persistent_lookup( 0, base + 5, 3, &found );
    ok( err == NO_ERROR, "lookup of the value added by hand: got %lu\n", err );
    ok( found == 0x8000000000000ab1ull, "lookup of the value added by hand: token %#llx\n",
        (unsigned long long)found );
    err = create_res( 0, base + 6, 1, &found );
    ok( err == ERROR_SHARING_VIOLATION, "create inside the value added by hand: got %lu\n", err );
    RegDeleteValueA( key, name );
    if (s != INVALID_SOCKET)
    {
        err = acquire( s, base + 6, 1, &inst );
        ok( !err, "acquire where the value deleted by hand was: got %ld\n", err );
        if (!err) release( s, inst.Token.Token );
        closesocket( s );
    }
    err = persistent_lookup( 0, base + 5, 3, &found );
    ok( err == ERROR_NOT_FOUND, "lookup of the value deleted by hand: got %lu\n", err );
    err = create_res( 0, base + 6, 1, &found );
    ok( err == NO_ERROR, "create where the value deleted by hand was: got %lu\n", err );
    if (!err) persistent_delete( 0, base + 6, 1 );
    RegCloseKey( key );

    /* the change made through the API is in the journal */
    GetWindowsDirectoryA( path, sizeof(path) );
    strcat( path, "\\" PORTRES_JOURNAL_DIR "\\" PORTRES_JOURNAL_FILE );
    file = CreateFileA( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    ok( file != INVALID_HANDLE_VALUE, "no journal %s, error %lu\n", path, GetLastError() );
    if (file == INVALID_HANDLE_VALUE) return;
    size = GetFileSize( file, NULL );
    if ((text = calloc( 1, size + 1 )) && ReadFile( file, text, size, &size, NULL ))
    {
        char line[64];
        sprintf( line, " add tcp %u-%u 0x%016llx ", base, base + 1, (unsigned long long)token );
        ok( strstr( text, line ) != NULL, "no line \"%s\" in the journal\n", line );
    }
    free( text );
    CloseHandle( file );
    persistent_delete( 0, base, 2 );
}

START_TEST(persistent)
{
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    if (!start_winsock()) return;
    if (argc >= 2 && !strcmp( argv[1], "noadmin" ))
    {
        child_noadmin( argc, argv );
        return;
    }

    detect_ipv6();
    if (!is_admin())
    {
        test_not_admin();
        win_skip( "not an administrator: persistent reservations cannot be created\n" );
        return;
    }
    test_create_lookup_delete();
    test_invalid_parameters();
    test_sharing_violation();
    test_bound_port();
    test_runtime_overlap();
    test_exact_match();
    test_delete_keeps_sockets();
    test_byte_order();
    test_access_denied();
    test_registry_hand_edit();
    cleanup();
    WSACleanup();
}
