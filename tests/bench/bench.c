/*
 * bench - timing loops for `make bench` (tests/bench/run.sh drives them)
 *
 * Each timing mode runs its operation N times and prints one line
 * "us_per_op X" (mean microseconds per operation, QueryPerformanceCounter).
 *
 *   bind N          bind(port 0)+closesocket of a TCP socket (socket() untimed)
 *   sockbind N [BASE]  socket+bind+closesocket of a TCP socket on a free
 *                   port BASE..BASE+199 (default 48800): B2's baseline
 *   connect N       loopback TCP connect with its implicit bind (+accept, close)
 *   mutex N         WaitForSingleObject+ReleaseMutex of an uncontended named mutex
 *   acquire N [BASE]  SIO_ACQUIRE_PORT_RESERVATION of one specific TCP port
 *                   in BASE..BASE+199 (default 48800) + release
 *   wildcard N      wildcard SIO_ACQUIRE_PORT_RESERVATION of 100 ports + release
 *   block N tcp|udp START  specific acquire of the 1000 ports from START + release
 *   persistent N [BASE]  Create+Lookup+DeletePersistentTcpPortReservation of
 *                   one port in BASE..BASE+199 (default 48800)
 *   closehandle N START  N UDP sockets each acquire one port of START..START+N-1,
 *                   all are closed with CloseHandle, and one acquire of the
 *                   whole block is tried until it succeeds: the time from the
 *                   first CloseHandle until then (one "operation")
 *
 * Helper modes, run in the background by the driver until it kills them:
 *   hold K          acquire K runtime reservations of 10 ports, print "ready"
 *   holdlow K       the same, as specific blocks from 33000 up: inside the
 *                   range the Linux kernel picks ephemeral ports from
 *   sockets K       bind K TCP sockets to 127.0.0.1 port 0, print "ready"
 *   bigloop K tcp|udp START  print "ready", then acquire and release the
 *                   1000 ports from START K times
 *   testbinds K START  print "ready", then K times the test binds of a TCP
 *                   acquire of the 1000 ports from START (dual-stack socket,
 *                   two options, bind, closesocket), without reserving: the
 *                   wineserver load of "bigloop K tcp START" without its locks
 *   idle K          print "ready" and do nothing for K seconds (B6's baseline
 *                   background; the driver's keeper of the wineserver)
 *   fill K / clear K  create / delete K persistent one-port reservations
 *
 * Ports: specific ones in 48800-48999 (or BASE..BASE+199), 20000-21999
 * (fill) and the 1000-port blocks given; loopback only.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdio.h>
#include <stdlib.h>

#define FILL_BASE 20000

static LARGE_INTEGER freq;

static double now_us( void )
{
    LARGE_INTEGER t;
    QueryPerformanceCounter( &t );
    return t.QuadPart * 1e6 / freq.QuadPart;
}

static void report( double total_us, int n )
{
    printf( "us_per_op %.2f\n", total_us / n );
}

static int bench_bind( int n )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    double total = 0;

    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    for (int i = 0; i < n; i++)
    {
        SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        double t0 = now_us();
        if (bind( s, (struct sockaddr *)&addr, sizeof(addr) )) return printf( "bind failed %d\n", WSAGetLastError() );
        closesocket( s );
        total += now_us() - t0;
    }
    report( total, n );
    return 0;
}

static int bench_sockbind( int n, int base )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    double t0 = now_us();

    for (int i = 0; i < n; i++)
    {
        SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        addr.sin_port = htons( base + i % 200 );
        if (bind( s, (struct sockaddr *)&addr, sizeof(addr) )) return printf( "bind failed %d\n", WSAGetLastError() );
        closesocket( s );
    }
    report( now_us() - t0, n );
    return 0;
}

static int bench_connect( int n )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    SOCKET listener = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    int len = sizeof(addr);
    double total = 0;

    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    bind( listener, (struct sockaddr *)&addr, sizeof(addr) );
    listen( listener, SOMAXCONN );
    getsockname( listener, (struct sockaddr *)&addr, &len );
    for (int i = 0; i < n; i++)
    {
        SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP ), a;
        double t0 = now_us();
        if (connect( s, (struct sockaddr *)&addr, sizeof(addr) ))
            return printf( "connect failed %d\n", WSAGetLastError() );
        total += now_us() - t0;
        a = accept( listener, NULL, NULL );
        closesocket( s );
        closesocket( a );
    }
    closesocket( listener );
    report( total, n );
    return 0;
}

static int bench_mutex( int n )
{
    HANDLE mutex = CreateMutexW( NULL, FALSE, L"portres-bench-mutex" );
    double t0 = now_us();

    for (int i = 0; i < n; i++)
    {
        WaitForSingleObject( mutex, INFINITE );
        ReleaseMutex( mutex );
    }
    report( now_us() - t0, n );
    return 0;
}

static int acquire_release( SOCKET s, USHORT start, USHORT count )
{
    INET_PORT_RANGE range = { htons( start ), count };
    INET_PORT_RESERVATION_INSTANCE inst;
    DWORD bytes;

    if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL ))
        return WSAGetLastError();
    if (WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, NULL, NULL ))
        return WSAGetLastError();
    return 0;
}

static int bench_acquire( int n, int wildcard, int base )
{
    SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    double t0 = now_us();
    int err;

    for (int i = 0; i < n; i++)
        if ((err = wildcard ? acquire_release( s, 0, 100 ) : acquire_release( s, base + i % 200, 1 )))
            return printf( "acquire failed %d\n", err );
    report( now_us() - t0, n );
    closesocket( s );
    return 0;
}

/* closehandle N START: how long the last-handle watch takes to end N
 * reservations whose sockets were closed with CloseHandle */
static int bench_closehandle( int n, int start )
{
    SOCKET *socks = calloc( n, sizeof(*socks) ), probe = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
    INET_PORT_RESERVATION_INSTANCE inst;
    INET_PORT_RANGE range;
    DWORD bytes;
    double t0;
    int err = 0;

    if (!socks || n > 5000) return printf( "closehandle: N at most 5000\n" );
    for (int i = 0; i < n && !err; i++)
    {
        range.StartPort = htons( start + i );
        range.NumberOfPorts = 1;
        socks[i] = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
        if (WSAIoctl( socks[i], SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes,
                      NULL, NULL ))
            err = WSAGetLastError();
    }
    if (err) return printf( "closehandle: acquire failed %d\n", err );
    t0 = now_us();
    for (int i = 0; i < n; i++) CloseHandle( (HANDLE)socks[i] );
    range.StartPort = htons( start );
    range.NumberOfPorts = n;
    /* at most 60 s */
    while (WSAIoctl( probe, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL,
                     NULL ))
        if (now_us() - t0 > 60e6) return printf( "closehandle: the reservations did not end in 60 s\n" );
    report( now_us() - t0, 1 );
    closesocket( probe );
    free( socks );
    return 0;
}

/* block N PROTO START: N acquire+release pairs of the 1000 ports from START */
static int bench_block( int n, const char *proto, int start )
{
    SOCKET s = strcmp( proto, "udp" ) ? socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )
                                      : socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
    double t0 = now_us();
    int err;

    for (int i = 0; i < n; i++)
        if ((err = acquire_release( s, start, 1000 ))) return printf( "acquire failed %d\n", err );
    report( now_us() - t0, n );
    closesocket( s );
    return 0;
}

/* bigloop K PROTO START: the background of B6 */
static int bigloop( int k, const char *proto, int start )
{
    SOCKET s = strcmp( proto, "udp" ) ? socket( AF_INET, SOCK_STREAM, IPPROTO_TCP )
                                      : socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
    int err;

    printf( "ready\n" );
    fflush( stdout );
    for (int i = 0; i < k; i++)
        if ((err = acquire_release( s, start, 1000 ))) return printf( "bigloop: acquire failed %d\n", err );
    return 0;
}

/* testbinds K START: B6's control background */
static int testbinds( int k, int start )
{
    DWORD off = 0, on = 1;

    printf( "ready\n" );
    fflush( stdout );
    for (int i = 0; i < k; i++)
        for (int port = start; port < start + 1000; port++)
        {
            struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons( port ) };
            SOCKET s = socket( AF_INET6, SOCK_STREAM, IPPROTO_TCP );

            setsockopt( s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&off, sizeof(off) );
            setsockopt( s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&on, sizeof(on) );
            bind( s, (struct sockaddr *)&addr, sizeof(addr) );
            closesocket( s );
        }
    return 0;
}

static int bench_persistent( int n, int base )
{
    double t0 = now_us();

    for (int i = 0; i < n; i++)
    {
        USHORT port = htons( base + i % 200 );
        ULONG64 token, found;
        ULONG err;

        if ((err = CreatePersistentTcpPortReservation( port, 1, &token )) ||
            (err = LookupPersistentTcpPortReservation( port, 1, &found )) ||
            (err = DeletePersistentTcpPortReservation( port, 1 )))
            return printf( "persistent failed %lu\n", err );
    }
    report( now_us() - t0, n );
    return 0;
}

static int hold( int k, int low )
{
    SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );

    for (int i = 0; i < k; i++)
    {
        INET_PORT_RANGE range = { low ? htons( 33000 + 10 * i ) : 0, 10 };
        INET_PORT_RESERVATION_INSTANCE inst;
        DWORD bytes;
        if (WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL ))
            return printf( "hold: acquire failed %d\n", WSAGetLastError() );
    }
    printf( "ready\n" );
    fflush( stdout );
    Sleep( 600000 );
    return 0;
}

static int sockets( int k )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };

    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    for (int i = 0; i < k; i++)
    {
        SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        if (s == INVALID_SOCKET || bind( s, (struct sockaddr *)&addr, sizeof(addr) ))
            return printf( "sockets: socket %d failed %d\n", i, WSAGetLastError() );
    }
    printf( "ready\n" );
    fflush( stdout );
    Sleep( 600000 );
    return 0;
}

static int fill( int k, int create )
{
    for (int i = 0; i < k; i++)
    {
        USHORT port = htons( FILL_BASE + 2 * i );
        ULONG64 token;
        ULONG err = create ? CreatePersistentTcpPortReservation( port, 1, &token )
                           : DeletePersistentTcpPortReservation( port, 1 );
        if (err && err != ERROR_NOT_FOUND) return printf( "fill %d: %lu\n", i, err );
    }
    printf( "ready\n" );
    return 0;
}

int main( int argc, char **argv )
{
    WSADATA data;
    int n = argc > 2 ? atoi( argv[2] ) : 0;
    int base = argc > 3 ? atoi( argv[3] ) : 48800;
    int start = argc > 4 ? atoi( argv[4] ) : 0;

    if (argc < 3 || n <= 0)
    {
        printf( "usage: bench MODE N\n" );
        return 2;
    }
    QueryPerformanceFrequency( &freq );
    WSAStartup( MAKEWORD( 2, 2 ), &data );
    if (!strcmp( argv[1], "bind" )) return bench_bind( n );
    if (!strcmp( argv[1], "connect" )) return bench_connect( n );
    if (!strcmp( argv[1], "mutex" )) return bench_mutex( n );
    if (!strcmp( argv[1], "sockbind" )) return bench_sockbind( n, base );
    if (!strcmp( argv[1], "acquire" )) return bench_acquire( n, 0, base );
    if (!strcmp( argv[1], "wildcard" )) return bench_acquire( n, 1, base );
    if (!strcmp( argv[1], "block" ) && argc > 4) return bench_block( n, argv[3], start );
    if (!strcmp( argv[1], "persistent" )) return bench_persistent( n, base );
    if (!strcmp( argv[1], "closehandle" ) && argc > 3) return bench_closehandle( n, base );
    if (!strcmp( argv[1], "hold" )) return hold( n, 0 );
    if (!strcmp( argv[1], "holdlow" )) return hold( n, 1 );
    if (!strcmp( argv[1], "sockets" )) return sockets( n );
    if (!strcmp( argv[1], "bigloop" ) && argc > 4) return bigloop( n, argv[3], start );
    if (!strcmp( argv[1], "testbinds" ) && argc > 3) return testbinds( n, atoi( argv[3] ) );
    if (!strcmp( argv[1], "idle" ))
    {
        printf( "ready\n" );
        fflush( stdout );
        Sleep( n * 1000 );
        return 0;
    }
    if (!strcmp( argv[1], "fill" )) return fill( n, 1 );
    if (!strcmp( argv[1], "clear" )) return fill( n, 0 );
    printf( "unknown mode %s\n", argv[1] );
    return 2;
}
