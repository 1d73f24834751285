/*
 * Conformance tests for runtime port reservations: the WSAIoctl codes
 * SIO_ACQUIRE_PORT_RESERVATION, SIO_RELEASE_PORT_RESERVATION and
 * SIO_ASSOCIATE_PORT_RESERVATION.
 *
 * SPEC §3 (and the §4 rule that the owner may bind into its own runtime
 * reservation without associating).  Must pass on Windows 10/11 as on Wine
 * with portres.  The parts that need a persistent reservation need
 * administrator rights and are skipped without them.
 *
 * Ports: specific blocks only in 42000-43999 (each conformance test file
 * has its own range); wildcard blocks come from the dynamic port range.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

#define WIN_INVALID     42000
#define WIN_SPECIFIC    42200
#define WIN_PERSISTENT  42400
#define WIN_BOUND       42600
#define WIN_RELEASE     42800
#define WIN_ASSOCIATE   43000
#define WIN_BIND        43200
#define WIN_IMPLICIT    43400
#define WIN_CLOSE       43600
#define WIN_OVERLAPPED  43800

/* --- helpers -------------------------------------------------------------- */

/* TRUE if s is bound to the loopback address of its family */
static BOOL on_loopback( SOCKET s )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    if (getsockname( s, (struct sockaddr *)&addr, &len )) return FALSE;
    if (addr.ss_family == AF_INET) return ((struct sockaddr_in *)&addr)->sin_addr.s_addr == htonl( INADDR_LOOPBACK );
    return !memcmp( &((struct sockaddr_in6 *)&addr)->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback) );
}

/* --- the tests ------------------------------------------------------------ */

/* the three codes with their usual buffers: a wildcard block of one port, token */
static int ioctl_code( SOCKET s, int i, ULONG64 token )
{
    INET_PORT_RANGE range = { 0, 1 };
    INET_PORT_RESERVATION_INSTANCE inst;
    INET_PORT_RESERVATION_TOKEN tok;
    DWORD bytes;

    tok.Token = token;
    if (i == 0) return ioctl_bytes( s, ioctl_codes[i], &range, sizeof(range), &inst, sizeof(inst), &bytes );
    return ioctl_bytes( s, ioctl_codes[i], &tok, sizeof(tok), NULL, 0, &bytes );
}

static void test_not_a_socket( void )
{
    HANDLE event = CreateEventA( NULL, TRUE, FALSE, NULL );
    SOCKET values[3], s;
    int i, j, err;

    s = new_socket( AF_INET, 0 );
    closesocket( s );
    values[0] = INVALID_SOCKET;
    values[1] = s;                /* closed */
    values[2] = (SOCKET)event;    /* a handle, but not a socket */
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
        {
            err = ioctl_code( values[i], j, 0x1234 );
            ok( err == WSAENOTSOCK, "%s on socket value %d: got %d\n", ioctl_names[j], i, err );
        }
    CloseHandle( event );
}

static void test_not_tcp_udp( void )
{
    SOCKET s = socket( AF_INET, SOCK_RAW, IPPROTO_ICMP );
    INET_PORT_RESERVATION_INSTANCE inst;
    int i, err;

    if (s == INVALID_SOCKET)
    {
        skip( "cannot create a raw ICMP socket: error %d\n", WSAGetLastError() );
        return;
    }
    for (i = 0; i < 3; i++)
    {
        err = ioctl_code( s, i, 0 );
        ok( err == WSAEOPNOTSUPP, "%s on a raw ICMP socket: got %d\n", ioctl_names[i], err );
    }
    /* the ICMP socket did not get in the way of a TCP reservation either */
    closesocket( s );
    s = new_socket( AF_INET, 0 );
    err = acquire( s, 0, 1, &inst );
    ok( !err, "TCP wildcard acquire: got %d\n", err );
    closesocket( s );
}

static void test_bad_buffers( void )
{
    static const DWORD in_needed[3] = { sizeof(INET_PORT_RANGE), sizeof(INET_PORT_RESERVATION_TOKEN),
                                        sizeof(INET_PORT_RESERVATION_TOKEN) };
    void *const bad_ptr = (void *)(ULONG_PTR)0x10;  /* in the first page, never mapped */
    INET_PORT_RESERVATION_INSTANCE inst, out;
    INET_PORT_RANGE range;
    USHORT base = 0;
    DWORD bytes;
    int udp, i, err;

    if (!find_block( WIN_INVALID, 5, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );
        INET_PORT_RESERVATION_TOKEN tok = { 0 };
        char in[16];

        winetest_push_context( "%s", proto_name[udp] );
        range.StartPort = htons( base );
        range.NumberOfPorts = 5;
        memcpy( in, &range, sizeof(range) );
        for (i = 0; i < 3; i++)
        {
            void *out_buf = i ? NULL : &out;
            DWORD out_size = i ? 0 : sizeof(out);

            if (i) memcpy( in, &tok, sizeof(tok) );
            err = ioctl_bytes( s, ioctl_codes[i], NULL, in_needed[i], out_buf, out_size, &bytes );
            ok( err == WSAEFAULT, "%s with NULL input: got %d\n", ioctl_names[i], err );
            err = ioctl_bytes( s, ioctl_codes[i], bad_ptr, in_needed[i], out_buf, out_size, &bytes );
            ok( err == WSAEFAULT, "%s with input at %p: got %d\n", ioctl_names[i], bad_ptr, err );
            err = ioctl_bytes( s, ioctl_codes[i], in, in_needed[i] - 1, out_buf, out_size, &bytes );
            ok( err == WSAEINVAL, "%s with %lu input bytes: got %d\n", ioctl_names[i], in_needed[i] - 1, err );
            err = ioctl_bytes( s, ioctl_codes[i], in, 0, out_buf, out_size, &bytes );
            ok( err == WSAEINVAL, "%s with 0 input bytes: got %d\n", ioctl_names[i], err );
        }

        /* acquire's output shorter than INET_PORT_RESERVATION_INSTANCE */
        bytes = 0xdeadbeef;
        err = ioctl_bytes( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &out, sizeof(out) - 1, &bytes );
        ok( err == WSAEINVAL, "acquire with %u output bytes: got %d\n", (unsigned)sizeof(out) - 1, err );
        ok( bytes == 0, "acquire with a short output: %lu bytes returned\n", bytes );
        bytes = 0xdeadbeef;
        err = ioctl_bytes( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &out, 8, &bytes );
        ok( err == WSAEINVAL, "acquire with 8 output bytes: got %d\n", err );
        ok( bytes == 0, "acquire with a short output: %lu bytes returned\n", bytes );
        bytes = 0xdeadbeef;
        err = ioctl_bytes( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &out, 0, &bytes );
        ok( err == WSAEINVAL, "acquire with 0 output bytes: got %d\n", err );
        ok( bytes == 0, "acquire with no output: %lu bytes returned\n", bytes );

        /* count 0, blocks past 65535 */
        decision( "behaviour §3: NumberOfPorts 0 or a block past 65535 fails WSAEINVAL" )
        {
            static const struct { USHORT start, count; } bad[] = { { 0, 0 }, { 0, 0 }, { 65535, 2 }, { 65000, 1000 },
                                                                  { 2, 65535 } };

            for (unsigned int i = 0; i < ARRAYSIZE(bad); i++)
            {
                USHORT start = i ? bad[i].start : base;  /* the first: a specific block of 0 ports */

                err = acquire( s, start, bad[i].count, &inst );
                ok( err == WSAEINVAL, "acquire %u+%u: got %d\n", start, bad[i].count, err );
                if (!err) release( s, inst.Token.Token );
            }
        }
        /* a wildcard block larger than the dynamic port range (49152-65535) */
        err = acquire( s, 0, 20000, &inst );
        decision( "behaviour §3: no free wildcard block fails WSAEADDRINUSE" )
            ok( err == WSAEADDRINUSE, "wildcard acquire of 20000 ports: got %d\n", err );
        if (!err) release( s, inst.Token.Token );

        /* none of this reserved anything */
        err = acquire( s, base, 5, &inst );
        ok( !err, "acquire %u+5 after the failures: got %d\n", base, err );
        if (!err) ok( !release( s, inst.Token.Token ), "release failed\n" );
        closesocket( s );
        winetest_pop_context();
    }
}

static void test_acquire_specific( void )
{
    static const struct { short start; USHORT count; } overlap[] =  /* start: from base */
    {
        { 0, 10 }, { 5, 10 }, { -5, 6 }, { 9, 1 }, { 2, 3 }, { -10, 30 },
    };
    INET_PORT_RESERVATION_INSTANCE inst, other;
    ULONG64 tokens[16];
    unsigned int count = 0, i, j;
    USHORT base = 0;
    int udp, err;

    if (!find_block( WIN_SPECIFIC, 32, &base )) return;
    base += 10;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), s2 = new_socket( AF_INET, udp ), o = new_socket( AF_INET, !udp );

        err = acquire( s, base, 10, &inst );
        ok( !err, "%s acquire %u+10: got %d\n", proto_name[udp], base, err );
        if (err) goto next;
        ok( inst_start( &inst ) == base, "%s acquire: block starts at %u\n", proto_name[udp], inst_start( &inst ) );
        ok( inst.Reservation.NumberOfPorts == 10, "%s acquire: %u ports\n", proto_name[udp],
            inst.Reservation.NumberOfPorts );
        ok( inst.Token.Token != 0, "%s acquire: token 0\n", proto_name[udp] );
        tokens[count++] = inst.Token.Token;

        for (i = 0; i < ARRAYSIZE(overlap); i++)
        {
            err = acquire( i ? s2 : s, base + overlap[i].start, overlap[i].count, &other );
            ok( err == WSAEADDRINUSE, "%s acquire %u+%u over a runtime %u+10: got %d\n", proto_name[udp],
                base + overlap[i].start, overlap[i].count, base, err );
        }
        /* the neighbours are free, and so is the block for the other protocol */
        err = acquire( s2, base + 10, 2, &other );
        ok( !err, "%s acquire of the block just above: got %d\n", proto_name[udp], err );
        if (!err) tokens[count++] = other.Token.Token;
        err = acquire( s2, base - 5, 5, &other );
        ok( !err, "%s acquire of the block just below: got %d\n", proto_name[udp], err );
        if (!err) tokens[count++] = other.Token.Token;
        err = acquire( o, base, 10, &other );
        ok( !err, "%s acquire over a %s block: got %d\n", proto_name[!udp], proto_name[udp], err );
        if (!err) tokens[count++] = other.Token.Token;

        /* released, the block can be acquired again */
        ok( !release( s, inst.Token.Token ), "%s release failed\n", proto_name[udp] );
        err = acquire( s2, base, 10, &other );
        ok( !err, "%s acquire after the release: got %d\n", proto_name[udp], err );
        if (!err) tokens[count++] = other.Token.Token;
next:
        closesocket( s );
        closesocket( s2 );
        closesocket( o );
    }
    for (i = 0; i < count; i++)
    {
        ok( tokens[i] != 0, "token %u is 0\n", i );
        for (j = i + 1; j < count; j++)
            ok( tokens[i] != tokens[j], "tokens %u and %u are both %#llx\n", i, j, (unsigned long long)tokens[i] );
    }
}

static void test_acquire_wildcard( void )
{
    static const USHORT counts[3] = { 1, 100, 100 };
    INET_PORT_RESERVATION_INSTANCE inst[3];
    SOCKET s[3];
    int udp, i, j, err;

    for (udp = 0; udp < 2; udp++)
    {
        for (i = 0; i < 3; i++)
        {
            s[i] = new_socket( AF_INET, udp );
            err = acquire( s[i], 0, counts[i], &inst[i] );
            ok( !err, "%s wildcard acquire of %u ports: got %d\n", proto_name[udp], counts[i], err );
            if (err) { inst[i].Reservation.NumberOfPorts = 0; continue; }
            ok( inst[i].Reservation.NumberOfPorts == counts[i], "%s wildcard acquire of %u: %u ports\n",
                proto_name[udp], counts[i], inst[i].Reservation.NumberOfPorts );
            ok( inst_start( &inst[i] ) >= 49152 && inst_start( &inst[i] ) + counts[i] - 1 <= 65535,
                "%s wildcard acquire of %u: block %u-%u is not inside 49152-65535\n", proto_name[udp], counts[i],
                inst_start( &inst[i] ), inst_start( &inst[i] ) + counts[i] - 1 );
            ok( inst[i].Token.Token != 0, "%s wildcard acquire: token 0\n", proto_name[udp] );
        }
        for (i = 0; i < 3; i++)
            for (j = i + 1; j < 3; j++)
            {
                if (!inst[i].Reservation.NumberOfPorts || !inst[j].Reservation.NumberOfPorts) continue;
                ok( inst_start( &inst[i] ) + counts[i] <= inst_start( &inst[j] ) ||
                    inst_start( &inst[j] ) + counts[j] <= inst_start( &inst[i] ),
                    "%s wildcard blocks %u+%u and %u+%u overlap\n", proto_name[udp], inst_start( &inst[i] ),
                    counts[i], inst_start( &inst[j] ), counts[j] );
                ok( inst[i].Token.Token != inst[j].Token.Token, "%s wildcard blocks with the same token\n",
                    proto_name[udp] );
            }
        /* a specific acquire of a wildcard block fails */
        if (inst[1].Reservation.NumberOfPorts)
        {
            SOCKET t = new_socket( AF_INET, udp );
            INET_PORT_RESERVATION_INSTANCE other;

            err = acquire( t, inst_start( &inst[1] ) + 50, 1, &other );
            ok( err == WSAEADDRINUSE, "%s specific acquire inside a wildcard block: got %d\n", proto_name[udp], err );
            closesocket( t );
        }
        for (i = 0; i < 3; i++) closesocket( s[i] );
    }
}

static void test_persistent( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    ULONG64 ptoken[2] = { 0 };
    USHORT base = 0, pbase = 0;
    int udp, err, code;
    ULONG perr;

    if (!is_admin())
    {
        win_skip( "not an administrator: no persistent reservations\n" );
        return;
    }
    if (!find_block( WIN_PERSISTENT, 20, &pbase )) return;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), o = new_socket( AF_INET, !udp ), b;

        base = pbase + 10 * udp;  /* the TCP block, then the UDP block */
        perr = persistent_create( udp, base, 10, &ptoken[udp] );
        ok( perr == NO_ERROR, "%s persistent create %u+10: got %lu\n", proto_name[udp], base, perr );
        if (perr) goto next;

        /* runtime acquires over a persistent reservation fail */
        err = acquire( s, base, 10, &inst );
        ok( err == WSAEADDRINUSE, "%s acquire of a persistent block: got %d\n", proto_name[udp], err );
        err = acquire( s, base + 5, 10, &inst );
        ok( err == WSAEADDRINUSE, "%s acquire over a persistent block: got %d\n", proto_name[udp], err );
        err = acquire( s, base + 9, 1, &inst );
        ok( err == WSAEADDRINUSE, "%s acquire of a persistent block's last port: got %d\n", proto_name[udp], err );
        err = acquire( o, base, 10, &inst );
        ok( !err, "%s acquire over a %s persistent block: got %d\n", proto_name[!udp], proto_name[udp], err );
        if (!err) ok( !release( o, inst.Token.Token ), "release failed\n" );

        /* a persistent token cannot be released */
        err = release( s, ptoken[udp] );
        ok( err == WSAEINVAL, "%s release of a persistent token: got %d\n", proto_name[udp], err );

        /* but sockets can be associated with it and bind in its block */
        b = new_socket( AF_INET, udp );
        err = associate( b, ptoken[udp] );
        ok( !err, "%s associate with a persistent token: got %d\n", proto_name[udp], err );
        err = bind_loopback( b, AF_INET, 0 );
        ok( !err, "%s bind port 0 after associate: got %d\n", proto_name[udp], err );
        ok( local_port( b ) >= base && local_port( b ) < base + 10, "%s bound to port %u, block %u-%u\n",
            proto_name[udp], local_port( b ), base, base + 9 );
        closesocket( b );
        if (have_ipv6)
        {
            b = new_socket( AF_INET6, udp );
            err = associate( b, ptoken[udp] );
            ok( !err, "%s IPv6 associate with a persistent token: got %d\n", proto_name[udp], err );
            err = bind_loopback( b, AF_INET6, 0 );
            ok( !err, "%s IPv6 bind port 0 after associate: got %d\n", proto_name[udp], err );
            ok( local_port( b ) >= base && local_port( b ) < base + 10, "%s bound to [::1]:%u, block %u-%u\n",
                proto_name[udp], local_port( b ), base, base + 9 );
            closesocket( b );
        }
        /* the other protocol's sockets cannot */
        b = new_socket( AF_INET, !udp );
        err = associate( b, ptoken[udp] );
        ok( err == WSAEINVAL, "%s associate with a %s persistent token: got %d\n", proto_name[!udp],
            proto_name[udp], err );
        closesocket( b );
next:
        closesocket( s );
        closesocket( o );
    }

    /* without administrator rights, associating with a persistent token fails WSAEACCES */
    if (ptoken[0] && ptoken[1])
    {
        code = run_without_admin( "noadmin %#llx %#llx", (unsigned long long)ptoken[0],
                                  (unsigned long long)ptoken[1] );
        if (code != -1) ok( code == 0, "the child without administrator rights failed: exit code %d\n", code );
    }

    for (udp = 0; udp < 2; udp++)
    {
        if (!ptoken[udp]) continue;
        base = pbase + 10 * udp;
        perr = persistent_delete( udp, base, 10 );
        ok( perr == NO_ERROR, "%s persistent delete: got %lu\n", proto_name[udp], perr );
    }
}

/* in a process without administrator rights; argv: noadmin <TCP token> <UDP token> */
static void child_noadmin( int argc, char **argv )
{
    int udp, err;

    if (argc < 4) { ok( 0, "bad child arguments\n" ); return; }
    if (is_admin())
    {
        skip( "the child still has administrator rights\n" );
        return;
    }
    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );
        err = associate( s, _strtoui64( argv[2 + udp], NULL, 0 ) );
        ok( err == WSAEACCES, "%s associate with a persistent token without administrator rights: got %d\n",
            proto_name[udp], err );
        closesocket( s );
    }
}

static void test_bound_port( void )
{
    static const struct { int family; int udp; BOOL bind_only; const char *what; } cases[] =
    {
        { AF_INET, 0, TRUE, "TCP 127.0.0.1, bound" },
        { AF_INET, 0, FALSE, "TCP 127.0.0.1, listening" },
        { AF_INET6, 0, TRUE, "TCP ::1, bound" },
        { AF_INET6, 0, FALSE, "TCP ::1, listening" },
        { AF_INET, 1, FALSE, "UDP 127.0.0.1" },
        { AF_INET6, 1, FALSE, "UDP ::1" },
    };
    INET_PORT_RESERVATION_INSTANCE inst;
    USHORT base = 0;
    unsigned int i;
    int err;

    if (!find_block( WIN_BOUND, 10, &base )) return;

    for (i = 0; i < ARRAYSIZE(cases); i++)
    {
        int udp = cases[i].udp;
        SOCKET b, s, o;

        if (cases[i].family == AF_INET6 && !have_ipv6)
        {
            skip( "no IPv6 loopback\n" );
            continue;
        }
        winetest_push_context( "%s port %u", cases[i].what, base + 3 );
        b = bound_socket_( cases[i].family, udp, base + 3, cases[i].bind_only );
        ok( b != INVALID_SOCKET, "cannot bind: %d\n", WSAGetLastError() );
        if (b == INVALID_SOCKET)
        {
            winetest_pop_context();
            continue;
        }
        s = new_socket( AF_INET, udp );
        o = new_socket( AF_INET, !udp );

        err = acquire( s, base, 10, &inst );
        ok( err == WSAEADDRINUSE, "acquire %u+10: got %d\n", base, err );
        if (!err) release( s, inst.Token.Token );
        err = acquire( s, base + 3, 1, &inst );
        ok( err == WSAEADDRINUSE, "acquire %u+1: got %d\n", base + 3, err );
        if (!err) release( s, inst.Token.Token );
        err = acquire( s, base + 4, 6, &inst );
        ok( !err, "acquire %u+6: got %d\n", base + 4, err );
        if (!err) ok( !release( s, inst.Token.Token ), "release failed\n" );
        /* a bound port of the other protocol is no obstacle */
        err = acquire( o, base, 10, &inst );
        ok( !err, "%s acquire %u+10: got %d\n", proto_name[!udp], base, err );
        if (!err) ok( !release( o, inst.Token.Token ), "release failed\n" );

        closesocket( b );
        err = acquire( s, base, 10, &inst );
        ok( !err, "acquire %u+10 once the socket is closed: got %d\n", base, err );
        if (!err) ok( !release( s, inst.Token.Token ), "release failed\n" );
        closesocket( s );
        closesocket( o );
        winetest_pop_context();
    }
}

static void test_release( void )
{
    INET_PORT_RESERVATION_INSTANCE inst, again;
    USHORT base = 0;
    int udp, err;

    if (!find_block( WIN_RELEASE, 10, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), s2 = new_socket( AF_INET, udp ), s6 = INVALID_SOCKET;

        err = acquire( s, base, 10, &inst );
        ok( !err, "%s acquire: got %d\n", proto_name[udp], err );
        if (err) goto next;

        err = release( s, 0 );
        ok( err == WSAEINVAL, "%s release of token 0: got %d\n", proto_name[udp], err );
        err = release( s, inst.Token.Token ^ 0x0123456789abcdefull );
        ok( err == WSAEINVAL, "%s release of an unknown token: got %d\n", proto_name[udp], err );
        err = release( s, ~inst.Token.Token );
        ok( err == WSAEINVAL, "%s release of an unknown token: got %d\n", proto_name[udp], err );
        /* the failures did not release it */
        err = acquire( s2, base, 10, &again );
        ok( err == WSAEADDRINUSE, "%s acquire after the failed releases: got %d\n", proto_name[udp], err );

        /* another socket of the process releases it */
        err = release( s2, inst.Token.Token );
        ok( !err, "%s release through another socket: got %d\n", proto_name[udp], err );
        err = release( s2, inst.Token.Token );
        ok( err == WSAEINVAL, "%s second release: got %d\n", proto_name[udp], err );
        err = release( s, inst.Token.Token );
        ok( err == WSAEINVAL, "%s third release, through the acquiring socket: got %d\n", proto_name[udp], err );

        /* the block is free again */
        err = acquire( s2, base, 10, &again );
        ok( !err, "%s acquire after the release: got %d\n", proto_name[udp], err );
        if (err) goto next;
        ok( again.Token.Token != inst.Token.Token, "%s the same token again\n", proto_name[udp] );
        /* a socket of the other address family may release it too */
        if (have_ipv6 && (s6 = new_socket( AF_INET6, udp )) != INVALID_SOCKET)
        {
            err = release( s6, again.Token.Token );
            ok( !err, "%s release through an IPv6 socket: got %d\n", proto_name[udp], err );
        }
        else ok( !release( s2, again.Token.Token ), "release failed\n" );
        err = acquire( s, base, 10, &again );
        ok( !err, "%s acquire after the release: got %d\n", proto_name[udp], err );
next:
        closesocket( s );
        closesocket( s2 );
        if (s6 != INVALID_SOCKET) closesocket( s6 );
    }
}

static void test_associate_errors( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    USHORT base = 0;
    int udp, err;

    if (!find_block( WIN_ASSOCIATE, 5, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET a = new_socket( AF_INET, udp ), b, c, o, d;

        err = acquire( a, base, 5, &inst );
        ok( !err, "%s acquire: got %d\n", proto_name[udp], err );
        if (err) { closesocket( a ); continue; }

        b = new_socket( AF_INET, udp );
        err = bind_loopback( b, AF_INET, 0 );
        ok( !err, "%s bind: got %d\n", proto_name[udp], err );
        err = associate( b, inst.Token.Token );
        ok( err == WSAEINVAL, "%s associate of a bound socket: got %d\n", proto_name[udp], err );
        closesocket( b );

        c = new_socket( AF_INET, udp );
        err = associate( c, 0 );
        ok( err == WSAEINVAL, "%s associate with token 0: got %d\n", proto_name[udp], err );
        err = associate( c, inst.Token.Token ^ 0x0123456789abcdefull );
        ok( err == WSAEINVAL, "%s associate with an unknown token: got %d\n", proto_name[udp], err );
        o = new_socket( AF_INET, !udp );
        err = associate( o, inst.Token.Token );
        ok( err == WSAEINVAL, "%s associate with a %s token: got %d\n", proto_name[!udp], proto_name[udp], err );
        closesocket( o );

        /* after the failures c is still an ordinary socket that can be associated */
        err = associate( c, inst.Token.Token );
        ok( !err, "%s associate: got %d\n", proto_name[udp], err );
        err = bind_loopback( c, AF_INET, 0 );
        ok( !err, "%s bind after associate: got %d\n", proto_name[udp], err );
        ok( local_port( c ) >= base && local_port( c ) < base + 5, "%s bound to %u, block %u-%u\n",
            proto_name[udp], local_port( c ), base, base + 4 );
        closesocket( c );

        /* a released token is unknown */
        ok( !release( a, inst.Token.Token ), "release failed\n" );
        d = new_socket( AF_INET, udp );
        err = associate( d, inst.Token.Token );
        ok( err == WSAEINVAL, "%s associate with a released token: got %d\n", proto_name[udp], err );
        closesocket( d );
        closesocket( a );
    }
}

static void test_associate_bind( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    USHORT base = 0, port[5];
    SOCKET s[5], e;
    int family, udp, i, j, err;

    if (!find_block( WIN_BIND, 3, &base )) return;

    for (family = AF_INET; family; family = (family == AF_INET && have_ipv6) ? AF_INET6 : 0)
        for (udp = 0; udp < 2; udp++)
        {
            const char *name = family == AF_INET ? (udp ? "UDP 127.0.0.1" : "TCP 127.0.0.1")
                                                 : (udp ? "UDP ::1" : "TCP ::1");
            SOCKET a = new_socket( AF_INET, udp );

            err = acquire( a, base, 3, &inst );
            ok( !err, "%s: acquire: got %d\n", name, err );
            if (err) { closesocket( a ); continue; }

            /* bind with port 0 takes the ports of the block, then fails */
            for (i = 0; i < 4; i++)
            {
                s[i] = new_socket( family, udp );
                err = associate( s[i], inst.Token.Token );
                ok( !err, "%s: associate socket %d: got %d\n", name, i, err );
                err = bind_loopback( s[i], family, 0 );
                port[i] = local_port( s[i] );
                if (i == 3)
                {
                    ok( err == WSAEADDRINUSE, "%s: bind port 0 with the block used up: got %d, port %u\n",
                        name, err, port[i] );
                    continue;
                }
                ok( !err, "%s: bind port 0 of socket %d: got %d\n", name, i, err );
                ok( port[i] >= base && port[i] < base + 3, "%s: socket %d bound to port %u, block %u-%u\n",
                    name, i, port[i], base, base + 2 );
                ok( on_loopback( s[i] ), "%s: socket %d is not on the loopback address\n", name, i );
                for (j = 0; j < i; j++)
                    ok( port[i] != port[j], "%s: sockets %d and %d both got port %u\n", name, i, j, port[i] );
            }
            /* a port given back can be taken again */
            closesocket( s[1] );
            s[4] = new_socket( family, udp );
            err = associate( s[4], inst.Token.Token );
            ok( !err, "%s: associate: got %d\n", name, err );
            err = bind_loopback( s[4], family, 0 );
            ok( !err, "%s: bind port 0 after a port was given back: got %d\n", name, err );
            ok( local_port( s[4] ) == port[1], "%s: bound to port %u, expected %u\n", name, local_port( s[4] ),
                port[1] );
            for (i = 0; i < 5; i++) if (i != 1) closesocket( s[i] );

            /* an explicit port inside the block */
            e = new_socket( family, udp );
            err = associate( e, inst.Token.Token );
            ok( !err, "%s: associate: got %d\n", name, err );
            err = bind_loopback( e, family, base + 1 );
            ok( !err, "%s: bind port %u inside the block after associate: got %d\n", name, base + 1, err );
            ok( local_port( e ) == base + 1, "%s: bound to port %u\n", name, local_port( e ) );
            closesocket( e );

            /* the owner binds into its reservation without associating (SPEC §4) */
            e = new_socket( family, udp );
            err = bind_loopback( e, family, base + 2 );
            ok( !err, "%s: bind port %u of its own reservation without associate: got %d\n", name, base + 2, err );
            closesocket( e );

            ok( !release( a, inst.Token.Token ), "release failed\n" );
            closesocket( a );
        }
}

static void test_implicit_bind( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct sockaddr_storage addr, from;
    USHORT base = 0, lport;
    int family, err, len, fromlen, ret, i;
    char buf[8];

    if (!find_block( WIN_IMPLICIT, 5, &base )) return;

    for (family = AF_INET; family; family = (family == AF_INET && have_ipv6) ? AF_INET6 : 0)
    {
        const char *fam = family == AF_INET ? "127.0.0.1" : "::1";
        SOCKET a, l, c, conn, r, u;
        DWORD timeout = 5000, sent;
        WSABUF wsabuf;

        /* TCP: connect (then WSAConnect) of an associated, unbound socket */
        a = new_socket( AF_INET, 0 );
        err = acquire( a, base, 5, &inst );
        ok( !err, "TCP acquire: got %d\n", err );
        l = new_socket( family, 0 );
        ok( !bind_loopback( l, family, 0 ) && !listen( l, 5 ), "%s listener: error %d\n", fam, WSAGetLastError() );
        lport = local_port( l );
        for (i = 0; i < 2 && !err; i++)
        {
            c = new_socket( family, 0 );
            ok( !associate( c, inst.Token.Token ), "associate failed\n" );
            set_loopback( &addr, family, lport, &len );
            ret = i ? WSAConnect( c, (struct sockaddr *)&addr, len, NULL, NULL, NULL, NULL )
                    : connect( c, (struct sockaddr *)&addr, len );
            ok( !ret, "%s %s of an associated socket: error %d\n", fam, i ? "WSAConnect" : "connect",
                WSAGetLastError() );
            ok( local_port( c ) >= base && local_port( c ) < base + 5,
                "%s %s: the implicit bind took port %u, block %u-%u\n", fam, i ? "WSAConnect" : "connect",
                local_port( c ), base, base + 4 );
            conn = accept( l, NULL, NULL );
            ok( conn != INVALID_SOCKET, "accept failed: %d\n", WSAGetLastError() );
            abort_close( c );
            if (conn != INVALID_SOCKET) abort_close( conn );
        }
        closesocket( l );
        closesocket( a );

        /* UDP: sendto (then WSASendTo) of an associated, unbound socket */
        a = new_socket( AF_INET, 1 );
        err = acquire( a, base, 5, &inst );
        ok( !err, "UDP acquire: got %d\n", err );
        r = new_socket( family, 1 );
        ok( !bind_loopback( r, family, 0 ), "%s receiver: error %d\n", fam, WSAGetLastError() );
        setsockopt( r, SOL_SOCKET, SO_RCVTIMEO, (char *)&timeout, sizeof(timeout) );
        lport = local_port( r );
        for (i = 0; i < 2 && !err; i++)
        {
            u = new_socket( family, 1 );
            ok( !associate( u, inst.Token.Token ), "associate failed\n" );
            set_loopback( &addr, family, lport, &len );
            if (i)
            {
                wsabuf.buf = (char *)"ping";
                wsabuf.len = 4;
                ret = WSASendTo( u, &wsabuf, 1, &sent, 0, (struct sockaddr *)&addr, len, NULL, NULL ) ? -1 : (int)sent;
            }
            else ret = sendto( u, "ping", 4, 0, (struct sockaddr *)&addr, len );
            ok( ret == 4, "%s %s of an associated socket: %d, error %d\n", fam, i ? "WSASendTo" : "sendto", ret,
                WSAGetLastError() );
            ok( local_port( u ) >= base && local_port( u ) < base + 5,
                "%s %s: the implicit bind took port %u, block %u-%u\n", fam, i ? "WSASendTo" : "sendto",
                local_port( u ), base, base + 4 );
            fromlen = sizeof(from);
            ret = recvfrom( r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen );
            ok( ret == 4, "%s recvfrom: %d, error %d\n", fam, ret, WSAGetLastError() );
            if (ret == 4)
            {
                USHORT src = ntohs( from.ss_family == AF_INET ? ((struct sockaddr_in *)&from)->sin_port
                                                              : ((struct sockaddr_in6 *)&from)->sin6_port );
                ok( src == local_port( u ), "%s: datagram from port %u, sender bound to %u\n", fam, src,
                    local_port( u ) );
            }
            closesocket( u );
        }
        closesocket( r );
        closesocket( a );
    }
}

static void test_close_ends_reservation( void )
{
    INET_PORT_RESERVATION_INSTANCE inst, again;
    USHORT base = 0;
    int udp, err;

    if (!find_block( WIN_CLOSE, 5, &base )) return;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET a = new_socket( AF_INET, udp ), b = new_socket( AF_INET, udp ), x;

        err = acquire( a, base, 5, &inst );
        ok( !err, "%s acquire: got %d\n", proto_name[udp], err );
        if (err) { closesocket( a ); closesocket( b ); continue; }

        /* closing an associated socket leaves the reservation */
        x = new_socket( AF_INET, udp );
        ok( !associate( x, inst.Token.Token ), "associate failed\n" );
        closesocket( x );
        err = acquire( b, base, 5, &again );
        ok( err == WSAEADDRINUSE, "%s acquire after closing an associated socket: got %d\n", proto_name[udp], err );

        /* closing the acquiring socket ends it */
        closesocket( a );
        err = acquire( b, base, 5, &again );
        ok( !err, "%s acquire after closing the acquiring socket: got %d\n", proto_name[udp], err );
        err = release( b, inst.Token.Token );
        ok( err == WSAEINVAL, "%s release of the ended reservation's token: got %d\n", proto_name[udp], err );
        x = new_socket( AF_INET, udp );
        err = associate( x, inst.Token.Token );
        ok( err == WSAEINVAL, "%s associate with the ended reservation's token: got %d\n", proto_name[udp], err );
        closesocket( x );
        closesocket( b );
    }
}

static int apc_count, apc_error;
static DWORD apc_bytes;
static OVERLAPPED *apc_overlapped;

static void WINAPI completion( DWORD error, DWORD bytes, OVERLAPPED *overlapped, DWORD flags )
{
    apc_count++;
    apc_error = error;
    apc_bytes = bytes;
    apc_overlapped = overlapped;
}

/* SPEC §3: with lpOverlapped the call completes at once, through the event,
 * the completion routine or the completion port; never WSAEWOULDBLOCK */
static void test_overlapped( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    INET_PORT_RANGE range;
    OVERLAPPED ov, *pov;
    USHORT base = 0;
    DWORD bytes, flags, ret;
    ULONG_PTR key;
    HANDLE port;
    u_long one = 1;
    SOCKET s, n, n2;
    int err;

    if (!find_block( WIN_OVERLAPPED, 4, &base )) return;
    range.StartPort = htons( base );
    range.NumberOfPorts = 4;

    /* the event */
    s = WSASocketW( AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED );
    memset( &ov, 0, sizeof(ov) );
    ov.hEvent = CreateEventA( NULL, TRUE, FALSE, NULL );
    memset( &inst, 0, sizeof(inst) );
    bytes = 0xdeadbeef;
    err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, &ov, NULL );
    ok( !err, "overlapped acquire: %d, error %d\n", err, WSAGetLastError() );
    ret = WaitForSingleObject( ov.hEvent, 5000 );
    ok( ret == WAIT_OBJECT_0, "overlapped acquire: event not signalled: %lu\n", ret );
    bytes = 0xdeadbeef;
    ok( WSAGetOverlappedResult( s, &ov, &bytes, FALSE, &flags ), "WSAGetOverlappedResult failed: %d\n",
        WSAGetLastError() );
    ok( bytes == sizeof(inst), "overlapped acquire: %lu bytes\n", bytes );
    ok( inst_start( &inst ) == base && inst.Reservation.NumberOfPorts == 4 && inst.Token.Token,
        "overlapped acquire: block %u+%u, token %#llx\n", inst_start( &inst ), inst.Reservation.NumberOfPorts,
        (unsigned long long)inst.Token.Token );

    n = new_socket( AF_INET, 0 );
    ResetEvent( ov.hEvent );
    err = WSAIoctl( n, SIO_ASSOCIATE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, &ov, NULL );
    ok( !err, "overlapped associate: %d, error %d\n", err, WSAGetLastError() );
    ret = WaitForSingleObject( ov.hEvent, 5000 );
    ok( ret == WAIT_OBJECT_0, "overlapped associate: event not signalled: %lu\n", ret );
    bytes = 0xdeadbeef;
    ok( WSAGetOverlappedResult( n, &ov, &bytes, FALSE, &flags ) && bytes == 0,
        "overlapped associate: result %lu bytes, error %d\n", bytes, WSAGetLastError() );
    ok( !bind_loopback( n, AF_INET, 0 ) && local_port( n ) >= base && local_port( n ) < base + 4,
        "bind after an overlapped associate: port %u\n", local_port( n ) );
    closesocket( n );

    ResetEvent( ov.hEvent );
    err = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, &ov, NULL );
    ok( !err, "overlapped release: %d, error %d\n", err, WSAGetLastError() );
    ret = WaitForSingleObject( ov.hEvent, 5000 );
    ok( ret == WAIT_OBJECT_0, "overlapped release: event not signalled: %lu\n", ret );
    bytes = 0xdeadbeef;
    ok( WSAGetOverlappedResult( s, &ov, &bytes, FALSE, &flags ) && bytes == 0,
        "overlapped release: result %lu bytes, error %d\n", bytes, WSAGetLastError() );

    /* the completion routine */
    ResetEvent( ov.hEvent );
    apc_count = 0;
    err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, &ov,
                    completion );
    ok( !err, "acquire with a completion routine: %d, error %d\n", err, WSAGetLastError() );
    ret = SleepEx( 5000, TRUE );
    ok( ret == WAIT_IO_COMPLETION, "SleepEx: %lu\n", ret );
    ok( apc_count == 1, "completion routine called %d times\n", apc_count );
    ok( apc_error == 0 && apc_bytes == sizeof(inst) && apc_overlapped == &ov,
        "completion routine: error %d, %lu bytes, overlapped %p (expected %p)\n", apc_error, apc_bytes,
        apc_overlapped, &ov );
    apc_count = 0;
    err = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, &ov,
                    completion );
    ok( !err, "release with a completion routine: %d, error %d\n", err, WSAGetLastError() );
    ret = SleepEx( 5000, TRUE );
    ok( ret == WAIT_IO_COMPLETION, "SleepEx: %lu\n", ret );
    ok( apc_count == 1 && apc_error == 0 && apc_bytes == 0 && apc_overlapped == &ov,
        "release completion routine: %d calls, error %d, %lu bytes\n", apc_count, apc_error, apc_bytes );

    /* the completion port */
    port = CreateIoCompletionPort( (HANDLE)s, NULL, 0x1234, 0 );
    ok( port != NULL, "CreateIoCompletionPort failed: %lu\n", GetLastError() );
    if (port)
    {
        OVERLAPPED ov2;

        memset( &ov2, 0, sizeof(ov2) );
        err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, &ov2,
                        NULL );
        ok( !err, "acquire on a completion port: %d, error %d\n", err, WSAGetLastError() );
        pov = NULL;
        key = 0;
        ret = GetQueuedCompletionStatus( port, &bytes, &key, &pov, 5000 );
        ok( ret, "no completion packet: %lu\n", GetLastError() );
        ok( key == 0x1234 && pov == &ov2, "completion packet: key %#llx, overlapped %p (expected %p)\n", (unsigned long long)key, pov,
            &ov2 );
        trace( "acquire's completion packet carries %lu bytes\n", bytes );
        bytes = 0xdeadbeef;
        ok( WSAGetOverlappedResult( s, &ov2, &bytes, FALSE, &flags ) && bytes == sizeof(inst),
            "acquire on a completion port: result %lu bytes, error %d\n", bytes, WSAGetLastError() );

        err = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, &ov2, NULL );
        ok( !err, "release on a completion port: %d, error %d\n", err, WSAGetLastError() );
        pov = NULL;
        ret = GetQueuedCompletionStatus( port, &bytes, &key, &pov, 5000 );
        ok( ret && key == 0x1234 && pov == &ov2, "release on a completion port: packet %lu, key %#llx, overlapped %p\n",
            ret, (unsigned long long)key, pov );
        ok( bytes == 0, "release's completion packet carries %lu bytes\n", bytes );
        ret = GetQueuedCompletionStatus( port, &bytes, &key, &pov, 0 );
        ok( !ret && GetLastError() == WAIT_TIMEOUT, "one packet too many: %lu\n", GetLastError() );
    }
    closesocket( s );
    if (port) CloseHandle( port );
    CloseHandle( ov.hEvent );

    /* non-blocking sockets: never WSAEWOULDBLOCK */
    n = new_socket( AF_INET, 0 );
    n2 = new_socket( AF_INET, 0 );
    ioctlsocket( n, FIONBIO, &one );
    ioctlsocket( n2, FIONBIO, &one );
    err = acquire( n, base, 4, &inst );
    ok( !err, "acquire on a non-blocking socket: got %d\n", err );
    err = associate( n2, inst.Token.Token );
    ok( !err, "associate of a non-blocking socket: got %d\n", err );
    err = release( n, inst.Token.Token );
    ok( !err, "release on a non-blocking socket: got %d\n", err );
    closesocket( n );
    closesocket( n2 );
}

/* the Windows NFSv4.1 client's bindresvport_sa (SPEC §3 [obs]): one-port
 * acquires walking down from 1023, skipping WSAEADDRINUSE, then associate
 * and leave the bind to connect: the connection's local port is the
 * reserved one.  Ports below 1024 are reserved like any other. */
static void test_reserved_low_port( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct sockaddr_in addr = { .sin_family = AF_INET }, local;
    SOCKET holder = new_socket( AF_INET, 0 ), listener, c, a;
    int len = sizeof(addr), err = WSAEADDRINUSE, tries = 0;
    USHORT port;

    for (port = 1023; port >= 600 && err == WSAEADDRINUSE && tries < 50; port--, tries++)
        err = acquire( holder, port, 1, &inst );
    if (err)
    {
        skip( "no free port in %u-1023 (last error %d)\n", port + 1, err );
        closesocket( holder );
        return;
    }
    port = ntohs( inst.Reservation.StartPort );
    ok( port < 1024 && inst.Reservation.NumberOfPorts == 1, "got %u+%u\n", port, inst.Reservation.NumberOfPorts );

    listener = new_socket( AF_INET, 0 );
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    ok( !bind( listener, (struct sockaddr *)&addr, sizeof(addr) ) && !listen( listener, 1 ), "listener\n" );
    getsockname( listener, (struct sockaddr *)&addr, &len );

    c = new_socket( AF_INET, 0 );
    ok( !associate( c, inst.Token.Token ), "associate failed\n" );
    ok( !connect( c, (struct sockaddr *)&addr, sizeof(addr) ), "connect failed %d\n", WSAGetLastError() );
    len = sizeof(local);
    ok( !getsockname( c, (struct sockaddr *)&local, &len ) && ntohs( local.sin_port ) == port,
        "connect's implicit bind got port %u, not the reserved %u\n", ntohs( local.sin_port ), port );
    if ((a = accept( listener, NULL, NULL )) != INVALID_SOCKET) closesocket( a );
    closesocket( c );
    closesocket( listener );
    ok( !release( holder, inst.Token.Token ), "release failed\n" );
    closesocket( holder );
}

START_TEST(runtime)
{
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    if (!start_winsock()) return;
    if (argc >= 2 && !strcmp( argv[1], "noadmin" ))
    {
        child_noadmin( argc, argv );
        return;
    }
    if (!detect_ipv6()) skip( "no IPv6 loopback: IPv4 only\n" );

    test_not_a_socket();
    test_not_tcp_udp();
    test_bad_buffers();
    test_acquire_specific();
    test_acquire_wildcard();
    test_persistent();
    test_bound_port();
    test_release();
    test_associate_errors();
    test_associate_bind();
    test_implicit_bind();
    test_close_ends_reservation();
    test_overlapped();
    test_reserved_low_port();
    WSACleanup();
}
