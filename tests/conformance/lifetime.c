/*
 * How long a runtime reservation lives (SPEC §3): until released, until
 * the last handle of the acquiring socket is closed (closesocket,
 * CloseHandle, WSACleanup, the last of its DuplicateHandle copies), or
 * with its process.  A socket that gets the handle value of a closed one
 * inherits nothing from it.  Under Wine also: processes that only release
 * or associate spend no owner id, and a process ends without waiting for
 * the pool lock.
 *
 * Probes retry a bounded number of times (RETRIES x RETRY_MS) where
 * another handle's close is seen through the wineserver.
 *
 * Ports: specific blocks only in 47000-47399.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"
#include "names.h"

#define WIN_CLOSEHANDLE 47000
#define WIN_DUPLICATE   47200
#define WIN_SYNCHRONOUS 47400
#define WIN_REBIND      47600
#define REBIND_ROUNDS   400
#define BLOCK           4
#define RETRIES         200
#define RETRY_MS        10
#define WAIT_MS         10000

/* acquire start+BLOCK on s, retrying while it fails WSAEADDRINUSE; the
 * error of the last try */
static int acquire_retry( SOCKET s, USHORT start, INET_PORT_RESERVATION_INSTANCE *inst, int *tries )
{
    int err = 0;

    for (*tries = 1; *tries <= RETRIES; (*tries)++)
    {
        if ((err = acquire( s, start, BLOCK, inst )) != WSAEADDRINUSE) break;
        Sleep( RETRY_MS );
    }
    return err;
}

static BOOL in_block( USHORT port, USHORT start )
{
    return port >= start && port < start + BLOCK;
}

/* CloseHandle instead of closesocket: the reservation ends, and a socket
 * that gets the same handle value inherits neither the association nor
 * the acquired token */
static void test_closehandle( void )
{
    INET_PORT_RESERVATION_INSTANCE inst, inst2;
    SOCKET s, probe, s2;
    USHORT start;
    int err, tries;

    if (!find_block( WIN_CLOSEHANDLE, BLOCK, &start )) return;
    probe = new_socket( AF_INET, 0 );
    err = acquire( probe, 0, 1, &inst2 );  /* the probe's own setup done */
    ok( !err, "wildcard acquire: %d\n", err );
    if (!err) release( probe, inst2.Token.Token );
    s = new_socket( AF_INET, 0 );
    err = acquire( s, start, BLOCK, &inst );
    ok( !err, "acquire %u+%u: %d\n", start, BLOCK, err );
    err = associate( s, inst.Token.Token );
    ok( !err, "associate: %d\n", err );
    ok( CloseHandle( (HANDLE)s ), "CloseHandle of the socket failed: %lu\n", GetLastError() );

    /* the block is free again, for this process too */
    err = acquire_retry( probe, start, &inst2, &tries );
    ok( !err, "after CloseHandle: acquire %u+%u still fails %d after %d tries\n", start, BLOCK, err, tries );
    if (!err) ok( !release( probe, inst2.Token.Token ), "release failed\n" );

    /* a new socket with the same handle value: an ordinary port-0 bind */
    s2 = new_socket( AF_INET, 0 );
    if (s2 != s) skip( "the new socket got handle %#llx, not %#llx\n", (unsigned long long)s2, (unsigned long long)s );
    else
    {
        err = bind_loopback( s2, AF_INET, 0 );
        ok( !err, "bind of the new socket: %d\n", err );
        ok( !in_block( local_port( s2 ), start ), "the new socket was bound to %u, inside the old block %u+%u\n",
            local_port( s2 ), start, BLOCK );
    }
    closesocket( s2 );
    err = release( probe, inst.Token.Token );
    ok( err == WSAEINVAL, "after CloseHandle: release of the old token gave %d\n", err );

    /* a socket with the same handle value, acquiring again, then closed:
     * the old token's reservation is not touched by its closesocket */
    s = new_socket( AF_INET, 0 );
    err = acquire( s, start, BLOCK, &inst );
    ok( !err, "acquire %u+%u again: %d\n", start, BLOCK, err );
    ok( CloseHandle( (HANDLE)s ), "CloseHandle failed: %lu\n", GetLastError() );
    s2 = new_socket( AF_INET, 0 );
    err = acquire_retry( probe, start, &inst2, &tries );
    ok( !err, "after the second CloseHandle: acquire still fails %d after %d tries\n", err, tries );
    if (!err) release( probe, inst2.Token.Token );
    closesocket( s2 );
    closesocket( probe );
}

/* the last-handle watch has no count limit: MANY sockets, the even ones
 * acquiring one port each, the odd ones associated with the even one's
 * token before them, all closed with CloseHandle: every reservation ends
 * (before the watch, those past the 63rd socket lived until the process
 * ended).  How long that took is traced and measured by the benchmark
 * (tests/bench, B9-closehandle): a time limit here would fail on a loaded
 * machine, where probing the 500 ports alone can take more than a second.
 * Ports: free ones in 61000-65534, above Linux's ephemeral range (acquires
 * there need no look at the kernel's lists). */
#define MANY 1000

static void test_closehandle_many( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    unsigned int i, n = 0, made = 0, failed = 0, left;
    unsigned int port = 61000;
    USHORT ports[MANY / 2];
    SOCKET *socks, probe;
    DWORD closed, elapsed;
    int err = 0;

    if (!(socks = calloc( MANY, sizeof(*socks) ))) return;
    read_port_tables();
    for (i = 0; i < MANY; i++)
    {
        if ((socks[i] = new_socket( AF_INET, 0 )) == INVALID_SOCKET) break;
        made++;
        if (i % 2)
        {
            if (!err && token_ioctl( socks[i], SIO_ASSOCIATE_PORT_RESERVATION, inst.Token.Token )) failed++;
            continue;
        }
        /* the next port that nothing holds */
        while (port < 65535 && (!port_free( port ) || acquire_block( socks[i], port, 1, &inst ))) port++;
        if ((err = port >= 65535)) failed++;
        else ports[n++] = port++;
    }
    ok( made == MANY && !failed, "%u sockets made of %u, %u acquires or associates failed\n", made, MANY, failed );
    for (i = 0; i < made; i++)
        if (!CloseHandle( (HANDLE)socks[i] )) failed++;
    closed = GetTickCount();
    ok( !failed, "%u CloseHandle calls failed\n", failed );
    free( socks );

    /* each port can be acquired again once its reservation has ended */
    probe = new_socket( AF_INET, 0 );
    for (left = n;;)
    {
        for (i = 0; i < n; i++)
            if (ports[i] && !acquire_block( probe, ports[i], 1, &inst ))
            {
                release( probe, inst.Token.Token );
                ports[i] = 0;
                left--;
            }
        elapsed = GetTickCount() - closed;
        if (!left || elapsed > 20000) break;
        Sleep( 10 );
    }
    ok( !left, "CloseHandle of %u sockets: %u of %u reservations still held after %lu ms\n", made, left, n, elapsed );
    trace( "CloseHandle of %u sockets: all %u reservations found ended %lu ms later\n", made, n, elapsed );
    closesocket( probe );
}

/* closesocket of a socket watched for its last handle (associated, or
 * holding a reservation) frees its port before it returns, as on Windows:
 * the port can be bound again at once.  The wineserver's poll of the
 * watch keeps the socket, and so its port, until the watcher has seen
 * the poll complete: this once lost the race now and then. */
static void test_rebind_after_close( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    unsigned int failures[2] = { 0, 0 }, rounds = 0;
    DWORD deadline = GetTickCount() + 20000;
    USHORT start;

    if (!find_block( WIN_REBIND, 2, &start )) return;
    for (unsigned int i = 0; i < REBIND_ROUNDS && (LONG)(GetTickCount() - deadline) < 0; i++, rounds++)
    {
        int udp = i & 1;
        SOCKET s = new_socket( AF_INET, udp ), b = new_socket( AF_INET, udp ), c;
        int err = acquire_block( s, start, 1, &inst );  /* unchecked: the round count varies */

        if (err)
        {
            ok( 0, "round %u: acquire %u+1 failed %d\n", i, start, err );
            closesocket( b );
            closesocket( s );
            break;
        }
        if (token_ioctl( b, SIO_ASSOCIATE_PORT_RESERVATION, inst.Token.Token ) || bind_loopback( b, AF_INET, 0 )
            || local_port( b ) != start)
            failures[udp]++;
        closesocket( b );
        closesocket( s );
        /* the block is gone and the port unbound: bind it explicitly */
        c = new_socket( AF_INET, udp );
        if (bind_loopback( c, AF_INET, start )) failures[udp]++;
        closesocket( c );
    }
    ok( !failures[0] && !failures[1], "rebind after closesocket failed %u times for TCP, %u for UDP in %u rounds\n",
        failures[0], failures[1], rounds );
}

struct sync_call
{
    SOCKET s;
    USHORT start;
    INET_PORT_RESERVATION_INSTANCE inst;
    int acquire_err, associate_err;
};

static DWORD WINAPI sync_acquire( void *arg )
{
    struct sync_call *call = arg;

    call->acquire_err = acquire( call->s, call->start, BLOCK, &call->inst );
    if (!call->acquire_err) call->associate_err = associate( call->s, call->inst.Token.Token );
    return 0;
}

/* a socket made without WSA_FLAG_OVERLAPPED (a synchronous handle):
 * acquire and associate return (they once waited for the socket to
 * close), and CloseHandle of it still ends the reservation */
static void test_synchronous( void )
{
    struct sync_call call = { 0 };
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET probe;
    HANDLE thread;
    DWORD wait;
    int err, tries;

    if (!find_block( WIN_SYNCHRONOUS, BLOCK, &call.start )) return;
    call.s = WSASocketW( AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, 0 );
    ok( call.s != INVALID_SOCKET, "WSASocketW without WSA_FLAG_OVERLAPPED failed %d\n", WSAGetLastError() );
    if (call.s == INVALID_SOCKET) return;
    thread = CreateThread( NULL, 0, sync_acquire, &call, 0, NULL );
    wait = WaitForSingleObject( thread, WAIT_MS );
    ok( wait == WAIT_OBJECT_0, "acquire and associate on a synchronous socket did not return in %u ms\n", WAIT_MS );
    if (wait != WAIT_OBJECT_0) return;  /* the thread is stuck: leave it */
    CloseHandle( thread );
    ok( !call.acquire_err, "acquire %u+%u on a synchronous socket: %d\n", call.start, BLOCK, call.acquire_err );
    ok( !call.associate_err, "associate on a synchronous socket: %d\n", call.associate_err );
    if (call.acquire_err)
    {
        closesocket( call.s );
        return;
    }
    probe = new_socket( AF_INET, 0 );
    err = acquire( probe, call.start, BLOCK, &inst );
    ok( err == WSAEADDRINUSE, "acquire of the synchronous socket's block: %d\n", err );
    if (!err) release( probe, inst.Token.Token );
    ok( CloseHandle( (HANDLE)call.s ), "CloseHandle of the socket failed: %lu\n", GetLastError() );
    err = acquire_retry( probe, call.start, &inst, &tries );
    ok( !err, "after CloseHandle: acquire %u+%u still fails %d after %d tries\n", call.start, BLOCK, err, tries );
    if (!err) release( probe, inst.Token.Token );
    closesocket( probe );
}

/* a DuplicateHandle copy keeps the reservation after closesocket of the
 * original; closing the copy (the last handle) ends it */
static void test_duplicate( void )
{
    INET_PORT_RESERVATION_INSTANCE inst, inst2;
    SOCKET s, probe;
    HANDLE dup;
    USHORT start;
    int err, tries;

    if (!find_block( WIN_DUPLICATE, BLOCK, &start )) return;
    probe = new_socket( AF_INET, 0 );
    s = new_socket( AF_INET, 0 );
    err = acquire( s, start, BLOCK, &inst );
    ok( !err, "acquire %u+%u: %d\n", start, BLOCK, err );
    ok( DuplicateHandle( GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &dup, 0, FALSE,
                         DUPLICATE_SAME_ACCESS ), "DuplicateHandle failed: %lu\n", GetLastError() );
    ok( !closesocket( s ), "closesocket failed: %d\n", WSAGetLastError() );

    err = acquire( probe, start, BLOCK, &inst2 );
    ok( err == WSAEADDRINUSE, "with a copy of the socket open: acquire %u+%u gave %d\n", start, BLOCK, err );
    if (!err) release( probe, inst2.Token.Token );

    /* (Wine's closesocket refuses handles it did not create: CloseHandle) */
    ok( CloseHandle( dup ), "CloseHandle of the copy failed: %lu\n", GetLastError() );
    err = acquire_retry( probe, start, &inst2, &tries );
    ok( !err, "after closing the last copy: acquire %u+%u still fails %d after %d tries\n", start, BLOCK, err,
        tries );
    if (!err) release( probe, inst2.Token.Token );

    /* the same with CloseHandle for the last copy */
    s = new_socket( AF_INET, 1 );
    err = acquire( s, start, BLOCK, &inst );
    ok( !err, "UDP acquire %u+%u: %d\n", start, BLOCK, err );
    ok( DuplicateHandle( GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &dup, 0, FALSE,
                         DUPLICATE_SAME_ACCESS ), "DuplicateHandle failed: %lu\n", GetLastError() );
    ok( !closesocket( s ), "closesocket failed: %d\n", WSAGetLastError() );
    closesocket( probe );
    probe = new_socket( AF_INET, 1 );
    err = acquire( probe, start, BLOCK, &inst2 );
    ok( err == WSAEADDRINUSE, "UDP, with a copy open: acquire gave %d\n", err );
    if (!err) release( probe, inst2.Token.Token );
    ok( CloseHandle( dup ), "CloseHandle of the copy failed: %lu\n", GetLastError() );
    err = acquire_retry( probe, start, &inst2, &tries );
    ok( !err, "UDP, after CloseHandle of the last copy: acquire still fails %d after %d tries\n", err, tries );
    if (!err) release( probe, inst2.Token.Token );
    closesocket( probe );
}

/* WSACleanup closes the sockets: their reservations end */
static void test_cleanup( void )
{
    INET_PORT_RESERVATION_INSTANCE inst, inst2;
    WSADATA data;
    SOCKET s, probe;
    USHORT start;
    int err, tries;

    if (!find_block( WIN_DUPLICATE + BLOCK * 2, BLOCK, &start )) return;
    s = new_socket( AF_INET, 0 );
    err = acquire( s, start, BLOCK, &inst );
    ok( !err, "acquire %u+%u: %d\n", start, BLOCK, err );
    ok( !WSACleanup(), "WSACleanup failed\n" );
    ok( !WSAStartup( MAKEWORD( 2, 2 ), &data ), "WSAStartup failed\n" );
    probe = new_socket( AF_INET, 0 );
    err = acquire_retry( probe, start, &inst2, &tries );
    ok( !err, "after WSACleanup: acquire %u+%u still fails %d after %d tries\n", start, BLOCK, err, tries );
    if (!err) release( probe, inst2.Token.Token );
    closesocket( probe );
}

/* a socket with a reservation behaves as before: select, WSAPoll, accept */
static void test_unchanged( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct sockaddr_in addr;
    int len = sizeof(addr), err;
    SOCKET l = new_socket( AF_INET, 0 ), c = new_socket( AF_INET, 0 ), a;
    struct timeval tv = { 5, 0 };
    WSAPOLLFD pfd;
    fd_set set;

    err = acquire( l, 0, 1, &inst );
    ok( !err, "wildcard acquire: %d\n", err );
    ok( !bind_loopback( l, AF_INET, 0 ) && !listen( l, 1 ), "bind/listen failed %d\n", WSAGetLastError() );
    getsockname( l, (struct sockaddr *)&addr, &len );
    FD_ZERO( &set );
    FD_SET( l, &set );
    tv.tv_sec = 0;
    ok( select( 0, &set, NULL, NULL, &tv ) == 0, "select: readable with no connection\n" );
    ok( !connect( c, (struct sockaddr *)&addr, len ), "connect failed %d\n", WSAGetLastError() );
    FD_ZERO( &set );
    FD_SET( l, &set );
    tv.tv_sec = 5;
    ok( select( 0, &set, NULL, NULL, &tv ) == 1, "select: not readable with a connection\n" );
    pfd.fd = l;
    pfd.events = POLLRDNORM;
    pfd.revents = 0;
    ok( WSAPoll( &pfd, 1, 5000 ) == 1 && (pfd.revents & POLLRDNORM), "WSAPoll: revents %#x\n", pfd.revents );
    a = accept( l, NULL, NULL );
    ok( a != INVALID_SOCKET, "accept failed %d\n", WSAGetLastError() );
    ok( send( c, "x", 1, 0 ) == 1, "send failed\n" );
    {
        char buf[4];
        ok( recv( a, buf, sizeof(buf), 0 ) == 1, "blocking recv failed %d\n", WSAGetLastError() );
    }
    ok( !release( l, inst.Token.Token ), "release failed\n" );
    closesocket( a );
    closesocket( c );
    closesocket( l );
}

/* --- Wine only: owner ids, and the end of a process ------------------------ */

/* how many portres owner events exist (owner ids 1..4096) */
static unsigned int count_owners( void )
{
    unsigned int n = 0;

    for (unsigned int i = 1; i <= 4096; i++)
    {
        WCHAR name[64];
        HANDLE event;

        swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_OWNER_EVENT_FMT), (unsigned long)i );
        if ((event = OpenEventW( SYNCHRONIZE, FALSE, name ))) { n++; CloseHandle( event ); }
    }
    return n;
}

static HANDLE start_child( const char *mode, ULONG64 token )
{
    HANDLE process = start_self( NULL, "child %s %llu %lu", mode, (unsigned long long)token, GetCurrentProcessId() );

    if (!process) ok( 0, "cannot start child %s: %lu\n", mode, GetLastError() );
    return process;
}

static void end_child( HANDLE process )
{
    if (!process) return;
    if (WaitForSingleObject( process, WAIT_MS ) != WAIT_OBJECT_0) TerminateProcess( process, 1 );
    WaitForSingleObject( process, WAIT_MS );
    CloseHandle( process );
}

/* child foreign TOKEN PARENT: release and associate another process's
 * token (both WSAEACCES), then wait for the parent to count owners */
static void child_foreign( ULONG64 token, DWORD parent )
{
    HANDLE ready = named_event( "ready", parent, FALSE ), quit = named_event( "quit", parent, FALSE );
    SOCKET s = new_socket( AF_INET, 0 );

    ok( release( s, token ) == WSAEACCES, "child: release of the parent's token did not fail WSAEACCES\n" );
    ok( associate( s, token ) == WSAEACCES, "child: associate with the parent's token did not fail WSAEACCES\n" );
    if (ready) SetEvent( ready );
    if (quit) WaitForSingleObject( quit, WAIT_MS );
    closesocket( s );
}

/* child exit 0 PARENT: acquire a block, tell the parent, wait for it to
 * say go, then return from main (ExitProcess) with the block held */
static void child_exit( DWORD parent )
{
    HANDLE ready = named_event( "ready", parent, FALSE ), quit = named_event( "quit", parent, FALSE );
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET s = new_socket( AF_INET, 0 );

    ok( !acquire( s, 0, 1, &inst ), "child: wildcard acquire failed\n" );
    if (ready) SetEvent( ready );
    if (quit) WaitForSingleObject( quit, WAIT_MS );
}

/* child kernel START COUNT TAG: for tests/scripts/kernel-view.sh.  Hold a
 * TCP block START+COUNT; 20 port-0 binds, print "phase1 N" (N of them in
 * the block); wait for the file /tmp/portres-kernel-go-TAG (the script
 * changes the kernel's reserved ports meanwhile); acquire and release
 * another block; 20 port-0 binds again, print "phase2 N" */
static int binds_in_block( USHORT start, USHORT count )
{
    int n = 0;

    for (int i = 0; i < 20; i++)
    {
        SOCKET b = new_socket( AF_INET, 0 );
        USHORT port;

        if (bind_loopback( b, AF_INET, 0 )) { closesocket( b ); return -1; }
        port = local_port( b );
        if (port >= start && port - start < count) n++;
        closesocket( b );
    }
    return n;
}

static void child_kernel( USHORT start, USHORT count, const char *tag )
{
    INET_PORT_RESERVATION_INSTANCE inst, other;
    SOCKET s = new_socket( AF_INET, 0 ), s2 = new_socket( AF_INET, 0 );
    char go[MAX_PATH];
    int err, i;

    snprintf( go, sizeof(go), "Z:\\tmp\\portres-kernel-go-%s", tag );
    if ((err = acquire( s, start, count, &inst )))
    {
        printf( "acquire %u+%u failed %d\n", start, count, err );
        return;
    }
    printf( "phase1 %d\n", binds_in_block( start, count ) );
    fflush( stdout );
    for (i = 0; i < 300 && GetFileAttributesA( go ) == INVALID_FILE_ATTRIBUTES; i++) Sleep( 100 );
    Sleep( 200 );  /* an acquire reads the kernel's settings again after 100 ms */
    if (!acquire( s2, 0, 1, &other )) release( s2, other.Token.Token );
    printf( "phase2 %d\n", binds_in_block( start, count ) );
    fflush( stdout );
    release( s, inst.Token.Token );
    closesocket( s2 );
    closesocket( s );
}

/* release and associate in a process that never acquired spend no owner id */
static void test_owner_ids( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    HANDLE ready, quit, child;
    SOCKET s = new_socket( AF_INET, 0 );
    unsigned int before, after;

    ok( !acquire( s, 0, 1, &inst ), "wildcard acquire failed\n" );
    if (!(before = count_owners()))
    {
        skip( "no portres owner events (not Wine with portres)\n" );
        closesocket( s );
        return;
    }
    ready = named_event( "ready", GetCurrentProcessId(), TRUE );
    quit = named_event( "quit", GetCurrentProcessId(), TRUE );
    child = start_child( "foreign", inst.Token.Token );
    ok( WaitForSingleObject( ready, WAIT_MS ) == WAIT_OBJECT_0, "the child is not ready\n" );
    after = count_owners();
    ok( after == before, "a child that only released and associated took an owner id: %u owners, %u before\n",
        after, before );
    SetEvent( quit );
    end_child( child );
    CloseHandle( ready );
    CloseHandle( quit );
    release( s, inst.Token.Token );
    closesocket( s );
}

/* a process that ends while another holds the pool lock does not wait for it */
static void test_exit_unlocked( void )
{
    HANDLE mutex = OpenMutexW( SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, PORTRES_W(PORTRES_POOL_MUTEX_NAME) );
    HANDLE ready, quit, child;
    DWORD ret;

    if (!mutex)
    {
        skip( "no portres pool mutex (not Wine with portres)\n" );
        return;
    }
    ready = named_event( "ready", GetCurrentProcessId(), TRUE );
    quit = named_event( "quit", GetCurrentProcessId(), TRUE );
    ResetEvent( ready );
    ResetEvent( quit );
    child = start_child( "exit", 0 );
    ok( WaitForSingleObject( ready, WAIT_MS ) == WAIT_OBJECT_0, "the child is not ready\n" );
    ret = WaitForSingleObject( mutex, WAIT_MS );
    ok( ret == WAIT_OBJECT_0, "cannot take the pool lock: %lu\n", ret );
    SetEvent( quit );
    ret = WaitForSingleObject( child, 5000 );
    ok( ret == WAIT_OBJECT_0, "the child did not end while the pool lock was held: %lu\n", ret );
    ReleaseMutex( mutex );
    end_child( child );
    CloseHandle( mutex );
    CloseHandle( ready );
    CloseHandle( quit );
}

START_TEST(lifetime)
{
    WSADATA data;
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    ok( !WSAStartup( MAKEWORD( 2, 2 ), &data ), "WSAStartup failed\n" );
    detect_ipv6();
    if (argc >= 5 && !strcmp( argv[2], "foreign" ))
        child_foreign( _strtoui64( argv[3], NULL, 10 ), strtoul( argv[4], NULL, 10 ) );
    else if (argc >= 6 && !strcmp( argv[2], "kernel" ))
        child_kernel( atoi( argv[3] ), atoi( argv[4] ), argv[5] );
    else if (argc >= 5 && !strcmp( argv[2], "exit" ))
        child_exit( strtoul( argv[4], NULL, 10 ) );
    else if (argc >= 3 && !strcmp( argv[2], "rebind" ))  /* by hand: this test alone */
        test_rebind_after_close();
    else
    {
        test_cleanup();  /* first: Wine's WSACleanup also closes the handle values of sockets closed with CloseHandle */
        test_closehandle();
        test_closehandle_many();
        test_synchronous();
        test_rebind_after_close();
        test_duplicate();
        test_unchanged();
        test_owner_ids();
        test_exit_unlocked();
        WSACleanup();
    }
}
