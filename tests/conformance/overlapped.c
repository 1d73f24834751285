/*
 * Overlapped completion of the three port-reservation codes (SPEC §3)
 *
 * On sockets created with WSA_FLAG_OVERLAPPED, SIO_ACQUIRE_PORT_RESERVATION
 * (16 bytes), SIO_RELEASE_PORT_RESERVATION and
 * SIO_ASSOCIATE_PORT_RESERVATION (0 bytes) called with an OVERLAPPED are
 * reported every ordinary Winsock way: hEvent signalled,
 * WSAGetOverlappedResult, a completion routine run as an APC during an
 * alertable wait, a packet on the socket's completion port (none with
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS after a synchronous success, none
 * when hEvent has its low bit set).  Calls that fail at once report
 * nothing.  The calls never fail WSAEWOULDBLOCK on a non-blocking socket.
 *
 * Specific blocks come from 74 ports that nothing holds, found in
 * 48400-48599 at the start (find_block), TCP and UDP, loopback only.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

static USHORT first_port;                 /* the first of PORTS_USED free ports */
#define PORTS_USED    74
#define BASE_PORT     (first_port)       /* 24 cases x 2 ports */
#define VARIANT_PORT  (first_port + 48)  /* 6 cases x 2 ports */
#define ERROR_PORT    (first_port + 60)  /* 2 ports, and +5 */
#define NONBLOCK_PORT (first_port + 70)  /* 4 ports, TCP and UDP */
#define BLOCK_PORTS   2
#define WAIT_MS       5000
#define NO_PACKET_MS  200
#define KEY_BASE      0x5ee0000

enum mode { BY_EVENT, BY_RESULT, BY_APC, BY_PORT, BY_PORT_SKIP, BY_PORT_LOWBIT };
static const char *const mode_names[] =
    { "event", "WSAGetOverlappedResult", "completion routine", "completion port",
      "completion port + FILE_SKIP_COMPLETION_PORT_ON_SUCCESS", "completion port + hEvent|1" };

/* what the completion routine saw */
static struct
{
    LONG count;
    DWORD error, bytes, flags;
    OVERLAPPED *overlapped;
    DWORD thread;
} apc;

static void CALLBACK completion_routine( DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags )
{
    apc.count++;
    apc.error = error;
    apc.bytes = bytes;
    apc.overlapped = overlapped;
    apc.flags = flags;
    apc.thread = GetCurrentThreadId();
}

static SOCKET ov_socket( int udp )
{
    SOCKET s = WSASocketW( AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP, NULL, 0,
                           WSA_FLAG_OVERLAPPED );
    ok( s != INVALID_SOCKET, "WSASocketW failed %d\n", WSAGetLastError() );
    return s;
}

/* no packet within NO_PACKET_MS; drains and reports any that came */
static void check_no_packet( HANDLE port, const char *what )
{
    OVERLAPPED *povl = (OVERLAPPED *)0xdeadbeef;
    ULONG_PTR key = 0xdeadbeef;
    DWORD bytes = 0xdeadbeef, err;
    BOOL ret;

    SetLastError( 0xdeadbeef );
    ret = GetQueuedCompletionStatus( port, &bytes, &key, &povl, NO_PACKET_MS );
    err = GetLastError();
    ok( !ret && err == WAIT_TIMEOUT, "%s: got a packet: ret %d error %lu bytes %lu key %#llx overlapped %p\n", what,
        ret, err, bytes, (unsigned long long)key, povl );
    ok( povl == NULL, "%s: overlapped %p\n", what, povl );
}

/* one overlapped call of a code, with everything it needs */
struct op
{
    DWORD code;
    const char *name;
    int udp;
    USHORT port;
    SOCKET s;                               /* overlapped socket the call is made on */
    SOCKET holder;                          /* holds the block for release and associate */
    INET_PORT_RANGE range;                  /* acquire's input */
    INET_PORT_RESERVATION_INSTANCE out;     /* acquire's output */
    INET_PORT_RESERVATION_TOKEN token;      /* release's and associate's input */
    DWORD bytes;                            /* the byte count of a success */
};

static BOOL prepare_op( struct op *op, int c, int udp, USHORT port )
{
    memset( op, 0, sizeof(*op) );
    op->code = ioctl_codes[c];
    op->name = ioctl_names[c];
    op->udp = udp;
    op->port = port;
    op->holder = INVALID_SOCKET;
    if ((op->s = ov_socket( udp )) == INVALID_SOCKET) return FALSE;
    if (op->code == SIO_ACQUIRE_PORT_RESERVATION)
    {
        op->range.StartPort = htons( port );
        op->range.NumberOfPorts = BLOCK_PORTS;
        op->bytes = sizeof(INET_PORT_RESERVATION_INSTANCE);
    }
    else
    {
        INET_PORT_RESERVATION_INSTANCE inst;
        int err;

        op->holder = new_socket( AF_INET, udp );
        err = acquire_block( op->holder, port, BLOCK_PORTS, &inst );
        ok( !err, "%s %s: acquire of %u+%u for the test failed %d\n", udp ? "UDP" : "TCP", op->name, port,
            BLOCK_PORTS, err );
        if (err) return FALSE;
        op->token = inst.Token;
    }
    return TRUE;
}

static int call_op( struct op *op, OVERLAPPED *ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE func )
{
    DWORD bytes = 0xdeadbeef;
    int ret;

    if (op->code == SIO_ACQUIRE_PORT_RESERVATION)
        ret = WSAIoctl( op->s, op->code, &op->range, sizeof(op->range), &op->out, sizeof(op->out), &bytes, ov,
                        func );
    else
        ret = WSAIoctl( op->s, op->code, &op->token, sizeof(op->token), NULL, 0, &bytes, ov, func );
    if (!ret) return 0;
    ok( ret == SOCKET_ERROR, "WSAIoctl returned %d\n", ret );
    return WSAGetLastError();
}

/* after the completion: the call did what it should */
static void check_op_effect( struct op *op )
{
    if (op->code == SIO_ACQUIRE_PORT_RESERVATION)
    {
        ok( op->out.Reservation.StartPort == htons( op->port ), "StartPort %u\n",
            ntohs( op->out.Reservation.StartPort ) );
        ok( op->out.Reservation.NumberOfPorts == BLOCK_PORTS, "NumberOfPorts %u\n",
            op->out.Reservation.NumberOfPorts );
        ok( op->out.Token.Token != 0, "token 0\n" );
    }
    else if (op->code == SIO_RELEASE_PORT_RESERVATION)
    {
        /* the block is free again */
        SOCKET t = new_socket( AF_INET, op->udp );
        INET_PORT_RESERVATION_INSTANCE inst;
        int err = acquire_block( t, op->port, BLOCK_PORTS, &inst );
        ok( !err, "the block is not free after the release: acquire failed %d\n", err );
        closesocket( t );
    }
    else
    {
        /* a port-0 bind takes its port from the reservation */
        struct sockaddr_in addr = { .sin_family = AF_INET };
        USHORT port;

        addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        ok( !bind( op->s, (struct sockaddr *)&addr, sizeof(addr) ), "bind failed %d\n", WSAGetLastError() );
        port = local_port( op->s );
        ok( port >= op->port && port < op->port + BLOCK_PORTS, "bound to %u, not inside %u+%u\n", port, op->port,
            BLOCK_PORTS );
    }
}

static void cleanup_op( struct op *op )
{
    if (op->s != INVALID_SOCKET) closesocket( op->s );
    if (op->holder != INVALID_SOCKET) closesocket( op->holder );
}

/* WSAGetOverlappedResult, polled (fWait FALSE) for at most WAIT_MS */
static BOOL overlapped_result( SOCKET s, OVERLAPPED *ov, DWORD *bytes, DWORD *err )
{
    DWORD start = GetTickCount(), flags;

    for (;;)
    {
        *bytes = 0xdeadbeef;
        flags = 0xdeadbeef;
        if (WSAGetOverlappedResult( s, ov, bytes, FALSE, &flags ))
        {
            *err = 0;
            return TRUE;
        }
        *err = WSAGetLastError();
        if (*err != WSA_IO_INCOMPLETE || GetTickCount() - start > WAIT_MS) return FALSE;
        Sleep( 10 );
    }
}

static void check_overlapped_result( struct op *op, OVERLAPPED *ov )
{
    DWORD bytes, err;
    BOOL ret = overlapped_result( op->s, ov, &bytes, &err );

    ok( ret, "WSAGetOverlappedResult failed %lu\n", err );
    if (ret)
        ok( bytes == op->bytes, "WSAGetOverlappedResult gave %lu bytes, expected %lu\n", bytes, op->bytes );
}

static void run_case( int c, int udp, enum mode mode, USHORT port )
{
    const char *how = mode_names[mode], *proto = udp ? "UDP" : "TCP";
    OVERLAPPED ov = { 0 };
    HANDLE event = NULL, iocp = NULL;
    ULONG_PTR my_key = KEY_BASE + port;
    struct op op;
    int err;

    if (!prepare_op( &op, c, udp, port ))
    {
        cleanup_op( &op );
        return;
    }
    winetest_push_context( "%s %s (%s)", proto, op.name, how );

    switch (mode)
    {
    case BY_EVENT:
    {
        DWORD wait;

        event = CreateEventW( NULL, TRUE, FALSE, NULL );
        ov.hEvent = event;
        err = call_op( &op, &ov, NULL );
        ok( !err || err == WSA_IO_PENDING, "failed %d\n", err );
        wait = WaitForSingleObject( event, WAIT_MS );
        ok( wait == WAIT_OBJECT_0, "hEvent not signalled: wait returned %lu\n", wait );
        ok( ov.Internal == 0, "Internal %#llx\n", (unsigned long long)ov.Internal );
        break;
    }
    case BY_RESULT:
        /* no event: WSAGetOverlappedResult alone tells the outcome */
        err = call_op( &op, &ov, NULL );
        ok( !err || err == WSA_IO_PENDING, "failed %d\n", err );
        check_overlapped_result( &op, &ov );
        break;
    case BY_APC:
    {
        DWORD ret;

        memset( &apc, 0, sizeof(apc) );
        err = call_op( &op, &ov, completion_routine );
        ok( !err || err == WSA_IO_PENDING, "failed %d\n", err );
        ok( apc.count == 0, "the completion routine ran inside WSAIoctl\n" );
        Sleep( 20 );  /* not alertable */
        ok( apc.count == 0, "the completion routine ran outside an alertable wait\n" );
        ret = SleepEx( WAIT_MS, TRUE );
        ok( ret == WAIT_IO_COMPLETION, "SleepEx returned %lu\n", ret );
        ok( apc.count == 1, "the completion routine ran %ld times\n", apc.count );
        if (apc.count)
        {
            ok( apc.error == 0, "dwError %lu\n", apc.error );
            ok( apc.bytes == op.bytes, "cbTransferred %lu, expected %lu\n", apc.bytes, op.bytes );
            ok( apc.overlapped == &ov, "lpOverlapped %p, expected %p\n", apc.overlapped, &ov );
            ok( apc.thread == GetCurrentThreadId(), "ran on thread %#lx\n", apc.thread );
        }
        ret = SleepEx( 0, TRUE );
        ok( ret == 0 && apc.count == 1, "the routine ran again (SleepEx %lu, count %ld)\n", ret, apc.count );
        break;
    }
    case BY_PORT:
    case BY_PORT_SKIP:
    case BY_PORT_LOWBIT:
    {
        OVERLAPPED *povl = NULL;
        ULONG_PTR key = 0;
        DWORD bytes = 0xdeadbeef;
        BOOL ret;

        iocp = CreateIoCompletionPort( (HANDLE)op.s, NULL, my_key, 0 );
        ok( iocp != NULL, "CreateIoCompletionPort failed %lu\n", GetLastError() );
        if (!iocp) break;
        if (mode == BY_PORT_SKIP)
        {
            ret = SetFileCompletionNotificationModes( (HANDLE)op.s, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS );
            ok( ret, "SetFileCompletionNotificationModes failed %lu\n", GetLastError() );
        }
        if (mode != BY_PORT)
        {
            event = CreateEventW( NULL, TRUE, FALSE, NULL );
            ov.hEvent = mode == BY_PORT_LOWBIT ? (HANDLE)((ULONG_PTR)event | 1) : event;
        }
        err = call_op( &op, &ov, NULL );
        ok( !err || err == WSA_IO_PENDING, "failed %d\n", err );

        if (mode == BY_PORT || (mode == BY_PORT_SKIP && err == WSA_IO_PENDING))
        {
            /* a packet with the key, the caller's OVERLAPPED and the byte count */
            ret = GetQueuedCompletionStatus( iocp, &bytes, &key, &povl, WAIT_MS );
            ok( ret, "no packet: error %lu\n", GetLastError() );
            if (ret)
            {
                ok( key == my_key, "key %#llx, expected %#llx\n", (unsigned long long)key,
                    (unsigned long long)my_key );
                ok( povl == &ov, "overlapped %p, expected %p\n", povl, &ov );
                decision( "behaviour §3: an overlapped completion counts 16 bytes for acquire, 0 otherwise" )
                    ok( bytes == op.bytes, "packet carries %lu bytes, expected %lu\n", bytes, op.bytes );
            }
            ret = GetQueuedCompletionStatus( iocp, &bytes, &key, &povl, 0 );
            ok( !ret && GetLastError() == WAIT_TIMEOUT, "a second packet (error %lu)\n", GetLastError() );
        }
        else
        {
            /* synchronous success with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, or hEvent|1: no packet */
            check_no_packet( iocp, "after the call" );
        }
        if (event)
        {
            DWORD wait = WaitForSingleObject( event, WAIT_MS );
            ok( wait == WAIT_OBJECT_0, "hEvent not signalled: wait returned %lu\n", wait );
        }
        check_overlapped_result( &op, &ov );
        break;
    }
    }

    if (mode == BY_EVENT || mode == BY_APC)
        check_overlapped_result( &op, &ov );
    check_op_effect( &op );
    cleanup_op( &op );
    if (iocp) CloseHandle( iocp );
    if (event) CloseHandle( event );
    winetest_pop_context();
}

static void test_completion_ways( void )
{
    int i = 0;

    for (int udp = 0; udp < 2; udp++)
        for (int c = 0; c < 3; c++)
            for (enum mode mode = BY_EVENT; mode <= BY_PORT; mode++, i++)
                run_case( c, udp, mode, BASE_PORT + BLOCK_PORTS * i );
}

static void test_no_packet_variants( void )
{
    int i = 0;

    for (int c = 0; c < 3; c++)
        for (enum mode mode = BY_PORT_SKIP; mode <= BY_PORT_LOWBIT; mode++, i++)
            run_case( c, 0, mode, VARIANT_PORT + BLOCK_PORTS * i );
}

/* calls that fail at once report nothing: no packet, no completion routine */
static void test_errors( void )
{
    INET_PORT_RESERVATION_INSTANCE held, out;
    INET_PORT_RESERVATION_TOKEN zero = { 0 };
    INET_PORT_RANGE range;
    OVERLAPPED ov = { 0 };
    SOCKET s, holder;
    HANDLE event, iocp;
    DWORD bytes, wait;
    int ret, err;

    holder = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    err = acquire_block( holder, ERROR_PORT, BLOCK_PORTS, &held );
    ok( !err, "acquire of %u+%u failed %d\n", ERROR_PORT, BLOCK_PORTS, err );

    s = ov_socket( 0 );
    event = CreateEventW( NULL, TRUE, FALSE, NULL );
    iocp = CreateIoCompletionPort( (HANDLE)s, NULL, KEY_BASE, 0 );
    ok( iocp != NULL, "CreateIoCompletionPort failed %lu\n", GetLastError() );
    ov.hEvent = event;

    SetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &zero, sizeof(zero), NULL, 0, &bytes, &ov, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR && err == WSAEINVAL, "overlapped release of token 0: ret %d error %d\n", ret,
        err );
    check_no_packet( iocp, "overlapped release of token 0" );

    ret = WSAIoctl( s, SIO_ASSOCIATE_PORT_RESERVATION, &zero, sizeof(zero), NULL, 0, &bytes, &ov, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR && err == WSAEINVAL, "overlapped associate of token 0: ret %d error %d\n",
        ret, err );
    check_no_packet( iocp, "overlapped associate of token 0" );

    range.StartPort = htons( ERROR_PORT + 5 );
    range.NumberOfPorts = 0;
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &out, sizeof(out), &bytes, &ov, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR && err == WSAEINVAL, "overlapped acquire of 0 ports: ret %d error %d\n", ret,
        err );
    check_no_packet( iocp, "overlapped acquire of 0 ports" );

    range.StartPort = htons( ERROR_PORT );
    range.NumberOfPorts = BLOCK_PORTS;
    ret = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &out, sizeof(out), &bytes, &ov, NULL );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR && err == WSAEADDRINUSE, "overlapped acquire of a reserved block: ret %d error %d\n",
        ret, err );
    check_no_packet( iocp, "overlapped acquire of a reserved block" );
    closesocket( s );
    CloseHandle( iocp );
    CloseHandle( event );

    /* with a completion routine: it is never run */
    s = ov_socket( 0 );
    memset( &apc, 0, sizeof(apc) );
    memset( &ov, 0, sizeof(ov) );
    ret = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &zero, sizeof(zero), NULL, 0, &bytes, &ov, completion_routine );
    err = WSAGetLastError();
    ok( ret == SOCKET_ERROR && err == WSAEINVAL, "release of token 0 with a completion routine: ret %d error %d\n",
        ret, err );
    wait = SleepEx( NO_PACKET_MS, TRUE );
    ok( wait == 0, "SleepEx returned %lu\n", wait );
    ok( apc.count == 0, "the completion routine of a failed call ran %ld times (dwError %lu)\n", apc.count,
        apc.error );
    closesocket( s );
    closesocket( holder );
}

/* the calls never fail WSAEWOULDBLOCK, overlapped or not */
static void test_nonblocking( void )
{
    for (int udp = 0; udp < 2; udp++)
    {
        const char *proto = udp ? "UDP" : "TCP";
        USHORT port = NONBLOCK_PORT + 2 * BLOCK_PORTS * udp;
        INET_PORT_RESERVATION_INSTANCE inst, inst2;
        INET_PORT_RANGE range = { htons( port + BLOCK_PORTS ), BLOCK_PORTS };
        SOCKET s = ov_socket( udp ), a = ov_socket( udp );
        u_long on = 1;
        OVERLAPPED ov = { 0 };
        DWORD bytes = 0xdeadbeef, wait;
        int err;

        ok( !ioctlsocket( s, FIONBIO, &on ), "FIONBIO failed %d\n", WSAGetLastError() );
        ok( !ioctlsocket( a, FIONBIO, &on ), "FIONBIO failed %d\n", WSAGetLastError() );

        /* not overlapped */
        memset( &inst, 0, sizeof(inst) );
        range.StartPort = htons( port );
        err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL,
                        NULL ) ? WSAGetLastError() : 0;
        ok( !err, "%s non-blocking acquire failed %d\n", proto, err );
        ok( bytes == sizeof(inst), "%s non-blocking acquire returned %lu bytes\n", proto, bytes );
        err = token_ioctl( a, SIO_ASSOCIATE_PORT_RESERVATION, inst.Token.Token );
        ok( !err, "%s non-blocking associate failed %d\n", proto, err );
        err = token_ioctl( a, SIO_RELEASE_PORT_RESERVATION, inst.Token.Token );
        ok( !err, "%s non-blocking release failed %d\n", proto, err );

        /* overlapped */
        ov.hEvent = CreateEventW( NULL, TRUE, FALSE, NULL );
        range.StartPort = htons( port + BLOCK_PORTS );
        memset( &inst2, 0, sizeof(inst2) );
        err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst2, sizeof(inst2), &bytes, &ov,
                        NULL ) ? WSAGetLastError() : 0;
        ok( !err || err == WSA_IO_PENDING, "%s non-blocking overlapped acquire failed %d\n", proto, err );
        wait = WaitForSingleObject( ov.hEvent, WAIT_MS );
        ok( wait == WAIT_OBJECT_0, "%s non-blocking overlapped acquire: wait returned %lu\n", proto, wait );
        ok( inst2.Token.Token != 0 && inst2.Reservation.StartPort == htons( port + BLOCK_PORTS ),
            "%s non-blocking overlapped acquire: block %u token %#llx\n", proto,
            ntohs( inst2.Reservation.StartPort ), (unsigned long long)inst2.Token.Token );
        ResetEvent( ov.hEvent );
        err = WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst2.Token, sizeof(inst2.Token), NULL, 0, &bytes, &ov,
                        NULL ) ? WSAGetLastError() : 0;
        ok( !err || err == WSA_IO_PENDING, "%s non-blocking overlapped release failed %d\n", proto, err );
        wait = WaitForSingleObject( ov.hEvent, WAIT_MS );
        ok( wait == WAIT_OBJECT_0, "%s non-blocking overlapped release: wait returned %lu\n", proto, wait );

        CloseHandle( ov.hEvent );
        closesocket( a );
        closesocket( s );
    }
}

/* a thread woken by hEvent reads the byte count at once: never 0 */
#define RACE_ROUNDS 200

static struct
{
    SOCKET s;
    OVERLAPPED ov;
    HANDLE seen, next;
    LONG zero_internal, zero_result, timeouts;
} race;

static DWORD WINAPI race_waiter( void *arg )
{
    for (int i = 0; i < RACE_ROUNDS; i++)
    {
        DWORD bytes = 0, flags = 0;

        if (WaitForSingleObject( race.ov.hEvent, WAIT_MS )) { race.timeouts++; break; }
        if (*(volatile ULONG_PTR *)&race.ov.InternalHigh != sizeof(INET_PORT_RESERVATION_INSTANCE))
            race.zero_internal++;
        if (!WSAGetOverlappedResult( race.s, &race.ov, &bytes, FALSE, &flags ) ||
            bytes != sizeof(INET_PORT_RESERVATION_INSTANCE))
            race.zero_result++;
        SetEvent( race.seen );
        if (WaitForSingleObject( race.next, WAIT_MS )) break;
    }
    return 0;
}

static void test_event_race( void )
{
    HANDLE thread;
    int failed = 0;

    for (int udp = 0; udp < 2; udp++)
    {
        memset( &race, 0, sizeof(race) );
        race.s = ov_socket( udp );
        race.ov.hEvent = CreateEventW( NULL, TRUE, FALSE, NULL );  /* reset by this thread only */
        race.seen = CreateEventW( NULL, FALSE, FALSE, NULL );
        race.next = CreateEventW( NULL, FALSE, FALSE, NULL );
        thread = CreateThread( NULL, 0, race_waiter, NULL, 0, NULL );
        for (int i = 0; i < RACE_ROUNDS && !failed; i++)
        {
            INET_PORT_RANGE range = { 0, 1 };
            INET_PORT_RESERVATION_INSTANCE inst;
            DWORD bytes;
            int err;

            race.ov.Internal = race.ov.InternalHigh = 0;
            memset( &inst, 0, sizeof(inst) );
            err = WSAIoctl( race.s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst),
                            &bytes, &race.ov, NULL ) ? WSAGetLastError() : 0;
            if (err && err != WSA_IO_PENDING) failed = err;
            if (WaitForSingleObject( race.seen, WAIT_MS )) failed = -1;
            if (!failed) failed = token_ioctl( race.s, SIO_RELEASE_PORT_RESERVATION, inst.Token.Token );
            ResetEvent( race.ov.hEvent );  /* before the waiter waits again */
            SetEvent( race.next );
        }
        ok( !failed, "%s: acquire/release round failed %d\n", udp ? "UDP" : "TCP", failed );
        ok( WaitForSingleObject( thread, WAIT_MS ) == WAIT_OBJECT_0, "waiter did not end\n" );
        ok( !race.timeouts, "%s: waiter timed out\n", udp ? "UDP" : "TCP" );
        ok( !race.zero_internal, "%s: %ld of %d wakeups read InternalHigh != 16\n", udp ? "UDP" : "TCP",
            race.zero_internal, RACE_ROUNDS );
        ok( !race.zero_result, "%s: %ld of %d wakeups got a byte count != 16 from WSAGetOverlappedResult\n",
            udp ? "UDP" : "TCP", race.zero_result, RACE_ROUNDS );
        CloseHandle( thread );
        CloseHandle( race.seen );
        CloseHandle( race.next );
        CloseHandle( race.ov.hEvent );
        closesocket( race.s );
    }
}

START_TEST(overlapped)
{
    WSADATA data;
    DWORD start = GetTickCount();

    ok( !WSAStartup( MAKEWORD( 2, 2 ), &data ), "WSAStartup failed\n" );
    detect_ipv6();
    if (!find_block( 48400, PORTS_USED, &first_port ))
    {
        WSACleanup();
        return;
    }
    test_completion_ways();
    test_no_packet_variants();
    test_errors();
    test_nonblocking();
    test_event_race();
    WSACleanup();
    trace( "took %lu ms\n", GetTickCount() - start );
}
