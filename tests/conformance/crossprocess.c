/*
 * Conformance tests for port reservations across processes.
 *
 * A child process (this program, "crossprocess.exe child MODE ...")
 * acquires runtime blocks or creates persistent ones; the parent checks
 * that another process's runtime reservation cannot be acquired, released
 * or associated with, and that it ends with its process (terminated or
 * exited without releasing); and that persistent reservations are shared
 * by every process.  SPEC §2, §3 (and the §4 rule on explicit binds into
 * another process's runtime reservation).  Must pass on Windows 10/11 as
 * on Wine with portres.
 *
 * The child modes "hold", "check", "busy", "pcreate", "plookup" and
 * "pdelete" are used by tests/scripts/kill9.sh (SIGKILL of the Wine
 * process, restart of the wineserver); those and "denied" by wow64.sh
 * (32- and 64-bit processes in one prefix); those, "busy6", "denied6",
 * "bindok" and "implicit" by hostwide.sh (several prefixes).
 *
 * Ports: specific blocks only in 44000-45999 (each conformance test file
 * has its own range; kill9.sh passes its own ports, 46000-46499).
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

#define WIN_TERMINATE   44000
#define WIN_EXIT        44200
#define WIN_PERSISTENT  44400
#define WIN_TWO         44600

#define CHILD_COUNT     10    /* ports of each child runtime block */
#define PERSIST_COUNT   5     /* ports of each child persistent block */
#define HOLD_COUNT      10    /* ports of the "hold" and "check" blocks */
#define WAIT_MS         10000

/* what a child tells its parent, in a named section */
struct shared
{
    LONG error;             /* the child's failure, or 0 */
    ULONG64 token[2];       /* its TCP and UDP tokens */
};

/* --- children ------------------------------------------------------------- */

/* the named section of parent pid; NULL (and a failed check) if it cannot be opened */
static struct shared *open_shared( DWORD pid, BOOL create, HANDLE *mapping )
{
    char name[96];
    struct shared *shared;

    object_name( name, sizeof(name), "shared", pid );
    *mapping = create ? CreateFileMappingA( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(*shared), name )
                      : OpenFileMappingA( FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name );
    ok( *mapping != NULL, "cannot %s the section %s: %lu\n", create ? "create" : "open", name, GetLastError() );
    if (!*mapping) return NULL;
    shared = MapViewOfFile( *mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(*shared) );
    ok( shared != NULL, "cannot map the section: %lu\n", GetLastError() );
    if (!shared) CloseHandle( *mapping );
    return shared;
}

/* named_event(), checked */
static HANDLE child_event( const char *what, DWORD pid, BOOL create )
{
    HANDLE event = named_event( what, pid, create );

    ok( event != NULL, "cannot %s the event %s of %lu: %lu\n", create ? "create" : "open", what, pid, GetLastError() );
    return event;
}

/* child acquire|try <port> <parent pid>: acquire a TCP and a UDP block of
 * CHILD_COUNT ports at port, hand the tokens (or the error) to the parent,
 * wait until it says quit (or WAIT_MS * 3), then end without releasing or
 * closing; "try" does not count a failed acquire as a failure */
static void child_acquire( USHORT port, DWORD parent, BOOL must_succeed )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    HANDLE mapping, ready, quit;
    struct shared *shared;
    SOCKET s[2];
    int udp, err;

    if (!(shared = open_shared( parent, FALSE, &mapping ))) return;
    ready = child_event( "ready", parent, FALSE );
    quit = child_event( "quit", parent, FALSE );
    for (udp = 0; udp < 2; udp++)
    {
        s[udp] = new_socket( AF_INET, udp );
        err = acquire( s[udp], port, CHILD_COUNT, &inst );
        if (must_succeed) ok( !err, "child: %s acquire %u+%u: got %d\n", proto_name[udp], port, CHILD_COUNT, err );
        if (err && !shared->error) shared->error = err;
        shared->token[udp] = err ? 0 : inst.Token.Token;
    }
    if (ready) SetEvent( ready );
    if (quit) WaitForSingleObject( quit, WAIT_MS * 3 );
    /* end with the reservations and their sockets still there */
}

/* child persist <port> <parent pid>: create a TCP and a UDP persistent
 * reservation of PERSIST_COUNT ports at port, hand the tokens over, exit */
static void child_persist( USHORT port, DWORD parent )
{
    struct shared *shared;
    HANDLE mapping;
    ULONG err;
    int udp;

    if (!(shared = open_shared( parent, FALSE, &mapping ))) return;
    for (udp = 0; udp < 2; udp++)
    {
        err = persistent_create( udp, port, PERSIST_COUNT, &shared->token[udp] );
        ok( !err, "child: %s persistent create %u+%u: got %lu\n", proto_name[udp], port, PERSIST_COUNT, err );
        if (err) shared->token[udp] = 0;
        if (err && !shared->error) shared->error = err;
    }
}

/* child hold <port> [<count> [<seconds>]]: acquire TCP and UDP blocks of
 * count (HOLD_COUNT) ports at port, print "held", and sleep up to seconds
 * (60) (kill9.sh and hostwide.sh kill it with SIGKILL) */
static void child_hold( USHORT port, USHORT count, DWORD seconds )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    int udp, err, held = 1;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );
        err = acquire( s, port, count, &inst );
        ok( !err, "hold: %s acquire %u+%u: got %d\n", proto_name[udp], port, count, err );
        if (err) held = 0;
    }
    printf( held ? "held\n" : "not held\n" );
    fflush( stdout );
    if (held) Sleep( seconds * 1000 );
}

/* child check <port>: the blocks of "hold" can be acquired (and released) */
static void child_check( USHORT port )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    int udp, err;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );
        err = acquire( s, port, HOLD_COUNT, &inst );
        ok( !err, "check: %s acquire %u+%u: got %d\n", proto_name[udp], port, HOLD_COUNT, err );
        if (!err) ok( !release( s, inst.Token.Token ), "check: %s release failed\n", proto_name[udp] );
        closesocket( s );
    }
}

/* child busy|busy6 <port>: the blocks of "hold" are held by another
 * process (or prefix): acquires on IPv4 (IPv6) sockets fail */
static void child_busy( USHORT port, int family )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    int udp, err;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( family, udp );
        err = acquire( s, port, HOLD_COUNT, &inst );
        ok( err == WSAEADDRINUSE, "busy: %s acquire %u+%u: got %d\n", proto_name[udp], port, HOLD_COUNT, err );
        if (!err) release( s, inst.Token.Token );
        closesocket( s );
    }
}

/* child denied|denied6 <port>: explicit TCP and UDP binds of 127.0.0.1
 * (::1) to the first port of the blocks of "hold", held by another process
 * (or prefix), fail WSAEACCES */
static void child_denied( USHORT port, int family )
{
    int udp, err;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( family, udp );
        err = bind_loopback( s, family, port );
        ok( err == WSAEACCES, "denied: %s bind to %u: got %d\n", proto_name[udp], port, err );
        closesocket( s );
    }
}

/* child bindok <port>: explicit TCP and UDP binds of 127.0.0.1 to port
 * succeed (hostwide.sh: a prefix that keeps out of the host view, a
 * persistent block of another prefix) */
static void child_bindok( USHORT port )
{
    int udp, err;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp );
        err = bind_loopback( s, AF_INET, port );
        ok( !err, "bindok: %s bind to %u: got %d\n", proto_name[udp], port, err );
        closesocket( s );
    }
}

/* child implicit <port> <count>: 500 UDP sendto and 500 TCP connect
 * implicit binds; none takes a port of port..port+count-1, a block another
 * prefix holds where the kernel picks ports (hostwide.sh) */
static void child_implicit( USHORT port, USHORT count )
{
    struct sockaddr_in to = { .sin_family = AF_INET }, local;
    unsigned int inside = 0, unbound = 0, first_inside = 0;
    SOCKET listener, s, c;
    int len, i;

    listener = new_socket( AF_INET, FALSE );
    to.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    len = sizeof(to);
    ok( !bind( listener, (struct sockaddr *)&to, sizeof(to) ) && !listen( listener, 16 ) &&
        !getsockname( listener, (struct sockaddr *)&to, &len ), "implicit: no listener: %d\n", WSAGetLastError() );
    for (i = 0; i < 1000; i++)
    {
        int udp = i < 500;

        s = new_socket( AF_INET, udp );
        if (udp) sendto( s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to) );
        else if (!connect( s, (struct sockaddr *)&to, sizeof(to) ) && (c = accept( listener, NULL, NULL )) != INVALID_SOCKET)
            abort_close( c );
        len = sizeof(local);
        if (getsockname( s, (struct sockaddr *)&local, &len ) || !local.sin_port) unbound++;
        else if (ntohs( local.sin_port ) >= port && ntohs( local.sin_port ) < port + count)
        {
            if (!inside++) first_inside = i;
            trace( "implicit: %s bind %d took port %u\n", udp ? "UDP" : "TCP", i, ntohs( local.sin_port ) );
        }
        if (udp) closesocket( s );
        else abort_close( s );
    }
    closesocket( listener );
    ok( !inside, "implicit: %u of 1000 implicit binds took a port of %u+%u, the first bind %u\n", inside, port, count,
        first_inside );
    ok( !unbound, "implicit: %u of 1000 sockets were not bound\n", unbound );
}

/* child pcreate|plookup|pdelete <port> [<expected error>]: the persistent
 * TCP and UDP reservations of PERSIST_COUNT ports at port; pcreate and
 * plookup print "tokens <TCP> <UDP>", pdelete checks the error of both deletes */
static void child_persistent_op( const char *op, USHORT port, ULONG expect )
{
    ULONG64 token[2] = { 0, 0 };
    ULONG err;
    int udp;

    for (udp = 0; udp < 2; udp++)
    {
        if (!strcmp( op, "pcreate" ))
        {
            err = persistent_create( udp, port, PERSIST_COUNT, &token[udp] );
            ok( err == expect, "pcreate: %s %u+%u: got %lu, expected %lu\n", proto_name[udp], port, PERSIST_COUNT,
                err, expect );
            if (err) token[udp] = 0;
        }
        else if (!strcmp( op, "plookup" ))
        {
            err = persistent_lookup( udp, port, PERSIST_COUNT, &token[udp] );
            ok( err == NO_ERROR, "plookup: %s %u+%u: got %lu\n", proto_name[udp], port, PERSIST_COUNT, err );
        }
        else
        {
            err = persistent_delete( udp, port, PERSIST_COUNT );
            ok( err == expect, "pdelete: %s %u+%u: got %lu, expected %lu\n", proto_name[udp], port, PERSIST_COUNT,
                err, expect );
        }
    }
    if (strcmp( op, "pdelete" ))
        printf( "tokens %#llx %#llx\n", (unsigned long long)token[0], (unsigned long long)token[1] );
    fflush( stdout );
}

/* --- the parent's side ---------------------------------------------------- */

static HANDLE children[8];

/* start "crossprocess.exe child MODE PORT <this pid>" */
static HANDLE start_child( const char *mode, USHORT port )
{
    HANDLE process = start_self( NULL, "child %s %u %lu", mode, port, GetCurrentProcessId() );
    unsigned int i;

    if (!process)
    {
        ok( 0, "cannot start child %s %u: %lu\n", mode, port, GetLastError() );
        return NULL;
    }
    for (i = 0; i < ARRAYSIZE(children); i++)
        if (!children[i]) { children[i] = process; break; }
    return process;
}

/* end a child (if still running) and forget it */
static void end_child( HANDLE process )
{
    unsigned int i;

    if (!process) return;
    if (WaitForSingleObject( process, 0 ) != WAIT_OBJECT_0)
    {
        TerminateProcess( process, 1 );
        WaitForSingleObject( process, WAIT_MS );
    }
    for (i = 0; i < ARRAYSIZE(children); i++)
        if (children[i] == process) children[i] = NULL;
    CloseHandle( process );
}

static void end_all_children( void )
{
    unsigned int i;
    for (i = 0; i < ARRAYSIZE(children); i++) if (children[i]) end_child( children[i] );
}

/* wait until the child set ready or ended; TRUE if it is ready */
static BOOL wait_ready( HANDLE process, HANDLE ready )
{
    HANDLE handles[2] = { ready, process };
    DWORD ret = WaitForMultipleObjects( 2, handles, FALSE, WAIT_MS );

    ok( ret == WAIT_OBJECT_0, "the child is not ready: wait returned %lu\n", ret );
    return ret == WAIT_OBJECT_0;
}

/* the parent against a live child's runtime reservations, then after the
 * child is gone (terminated, or exited without releasing) */
static void test_child_runtime( BOOL terminate )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    HANDLE mapping = NULL, ready = NULL, quit = NULL, child = NULL;
    struct shared *shared;
    USHORT base = 0;
    DWORD code, ret;
    int udp, err;

    if (!find_block( terminate ? WIN_TERMINATE : WIN_EXIT, CHILD_COUNT, &base )) return;
    if (!(shared = open_shared( GetCurrentProcessId(), TRUE, &mapping ))) return;
    winetest_push_context( "%s child", terminate ? "terminated" : "exited" );
    memset( shared, 0, sizeof(*shared) );
    ready = child_event( "ready", GetCurrentProcessId(), TRUE );
    quit = child_event( "quit", GetCurrentProcessId(), TRUE );
    if (!ready || !quit) goto done;

    if (!(child = start_child( "acquire", base ))) goto done;
    if (!wait_ready( child, ready )) goto done;
    ok( !shared->error && shared->token[0] && shared->token[1], "the child failed: error %ld\n", shared->error );
    if (shared->error || !shared->token[0] || !shared->token[1]) goto done;

    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), b;

        winetest_push_context( "%s", proto_name[udp] );
        err = acquire( s, base, CHILD_COUNT, &inst );
        ok( err == WSAEADDRINUSE, "acquire of the child's block: got %d\n", err );
        if (!err) release( s, inst.Token.Token );
        err = acquire( s, base + CHILD_COUNT - 1, 3, &inst );
        ok( err == WSAEADDRINUSE, "acquire over the child's block: got %d\n", err );
        if (!err) release( s, inst.Token.Token );
        err = release( s, shared->token[udp] );
        ok( err == WSAEACCES, "release of the child's token: got %d\n", err );
        b = new_socket( AF_INET, udp );
        err = associate( b, shared->token[udp] );
        ok( err == WSAEACCES, "associate with the child's token: got %d\n", err );
        closesocket( b );
        /* SPEC §4: an explicit bind into another process's runtime reservation */
        b = new_socket( AF_INET, udp );
        err = bind_loopback( b, AF_INET, base + 1 );
        ok( err == WSAEACCES, "bind 127.0.0.1:%u inside the child's block: got %d\n", base + 1, err );
        closesocket( b );
        /* the failed release left it in place */
        err = acquire( s, base, 1, &inst );
        ok( err == WSAEADDRINUSE, "acquire after the refused release: got %d\n", err );
        if (!err) release( s, inst.Token.Token );
        closesocket( s );
        winetest_pop_context();
    }

    if (terminate)
    {
        ok( TerminateProcess( child, 3 ), "TerminateProcess failed: %lu\n", GetLastError() );
        ret = WaitForSingleObject( child, WAIT_MS );
        ok( ret == WAIT_OBJECT_0, "the child did not end: %lu\n", ret );
    }
    else
    {
        SetEvent( quit );
        ret = WaitForSingleObject( child, WAIT_MS );
        ok( ret == WAIT_OBJECT_0, "the child did not exit: %lu\n", ret );
        code = 255;
        GetExitCodeProcess( child, &code );
        ok( code == 0, "the child exited with %lu\n", code );
    }

    /* the reservations ended with their process, however it ended: the
     * tokens are unknown now (a terminated child cannot release at DLL
     * detach, so portres must see that its owner is gone) */
    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), b = new_socket( AF_INET, udp );

        err = release( s, shared->token[udp] );
        ok( err == WSAEINVAL, "%s release of the child's token: got %d\n", proto_name[udp], err );
        err = associate( b, shared->token[udp] );
        ok( err == WSAEINVAL, "%s associate with the child's token: got %d\n", proto_name[udp], err );
        closesocket( b );
        closesocket( s );
    }
    /* only live runtime reservations refuse a persistent one (SPEC §2) */
    if (is_admin())
    {
        for (udp = 0; udp < 2; udp++)
        {
            ULONG64 token;
            ULONG perr = persistent_create( udp, base, CHILD_COUNT, &token );

            ok( perr == NO_ERROR, "%s persistent create of the child's block: got %lu\n", proto_name[udp], perr );
            if (!perr) ok( !persistent_delete( udp, base, CHILD_COUNT ), "%s delete failed\n", proto_name[udp] );
        }
    }
    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), b = new_socket( AF_INET, udp );

        err = bind_loopback( b, AF_INET, base + 1 );
        ok( !err, "%s bind 127.0.0.1:%u in the child's block: got %d\n", proto_name[udp], base + 1, err );
        closesocket( b );
        err = acquire( s, base, CHILD_COUNT, &inst );
        ok( !err, "%s acquire of the child's block: got %d\n", proto_name[udp], err );
        if (!err) ok( !release( s, inst.Token.Token ), "release failed\n" );
        closesocket( s );
    }

done:
    if (quit) SetEvent( quit );
    end_child( child );
    if (ready) CloseHandle( ready );
    if (quit) CloseHandle( quit );
    if (shared) UnmapViewOfFile( shared );
    if (mapping) CloseHandle( mapping );
    winetest_pop_context();
}

/* two children: the runtime reservation of one is refused to the other */
static void test_two_children( void )
{
    HANDLE mapping = NULL, ready = NULL, quit = NULL, first = NULL, second = NULL;
    struct shared *shared;
    USHORT base = 0;
    DWORD ret, code = 255;

    if (!find_block( WIN_TWO, CHILD_COUNT, &base )) return;
    if (!(shared = open_shared( GetCurrentProcessId(), TRUE, &mapping ))) return;
    memset( shared, 0, sizeof(*shared) );
    ready = child_event( "ready", GetCurrentProcessId(), TRUE );
    quit = child_event( "quit", GetCurrentProcessId(), TRUE );
    if (!ready || !quit) goto done;

    if (!(first = start_child( "acquire", base ))) goto done;
    if (!wait_ready( first, ready )) goto done;
    ok( !shared->error, "the first child failed: %ld\n", shared->error );

    /* the second one fails to acquire, tells so and waits to be told to quit */
    ResetEvent( ready );
    memset( shared, 0, sizeof(*shared) );
    if (!(second = start_child( "try", base ))) goto done;
    if (!wait_ready( second, ready )) goto done;
    ok( shared->error == WSAEADDRINUSE, "the second child's acquire: got %ld\n", shared->error );
    ok( !shared->token[0] && !shared->token[1], "the second child got tokens\n" );
    SetEvent( quit );
    ret = WaitForSingleObject( second, WAIT_MS );
    ok( ret == WAIT_OBJECT_0, "the second child did not exit: %lu\n", ret );
    GetExitCodeProcess( second, &code );
    ok( code == 0, "the second child exited with %lu\n", code );
done:
    if (quit) SetEvent( quit );
    end_child( first );
    end_child( second );
    if (ready) CloseHandle( ready );
    if (quit) CloseHandle( quit );
    if (shared) UnmapViewOfFile( shared );
    if (mapping) CloseHandle( mapping );
}

/* persistent reservations created by a child are the parent's too */
static void test_child_persistent( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct shared *shared;
    HANDLE mapping = NULL, child;
    ULONG64 token;
    USHORT base = 0;
    DWORD ret, code = 255;
    ULONG err;
    int udp;

    if (!is_admin())
    {
        win_skip( "not an administrator: no persistent reservations\n" );
        return;
    }
    if (!find_block( WIN_PERSISTENT, PERSIST_COUNT, &base )) return;
    if (!(shared = open_shared( GetCurrentProcessId(), TRUE, &mapping ))) return;
    memset( shared, 0, sizeof(*shared) );

    if ((child = start_child( "persist", base )))
    {
        ret = WaitForSingleObject( child, WAIT_MS );
        ok( ret == WAIT_OBJECT_0, "the child did not exit: %lu\n", ret );
        GetExitCodeProcess( child, &code );
        ok( code == 0, "the child exited with %lu\n", code );
        end_child( child );
    }
    for (udp = 0; udp < 2; udp++)
    {
        SOCKET s = new_socket( AF_INET, udp ), b;

        token = 0;
        err = persistent_lookup( udp, base, PERSIST_COUNT, &token );
        ok( err == NO_ERROR, "%s lookup of the child's persistent reservation: got %lu\n", proto_name[udp], err );
        ok( token && token == shared->token[udp], "%s lookup: token %#llx, the child got %#llx\n", proto_name[udp],
            (unsigned long long)token, (unsigned long long)shared->token[udp] );
        err = acquire( s, base, PERSIST_COUNT, &inst );
        ok( err == WSAEADDRINUSE, "%s acquire of the child's persistent block: got %d\n", proto_name[udp], (int)err );
        if (!err) release( s, inst.Token.Token );
        /* the persistent token serves every process (with administrator rights) */
        b = new_socket( AF_INET, udp );
        err = associate( b, token );
        ok( !err, "%s associate with the child's persistent token: got %d\n", proto_name[udp], (int)err );
        err = bind_loopback( b, AF_INET, 0 );
        ok( !err && local_port( b ) >= base && local_port( b ) < base + PERSIST_COUNT,
            "%s bind after associate: got %d, port %u\n", proto_name[udp], (int)err, local_port( b ) );
        closesocket( b );
        closesocket( s );
        /* and the parent deletes it */
        err = persistent_delete( udp, base, PERSIST_COUNT );
        ok( err == NO_ERROR, "%s delete of the child's persistent reservation: got %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, base, PERSIST_COUNT, &token );
        ok( err == ERROR_NOT_FOUND, "%s lookup after delete: got %lu\n", proto_name[udp], err );
    }
    UnmapViewOfFile( shared );
    CloseHandle( mapping );
}

/* a port held by an established TCP connection whose port the kernel chose
 * (connect's implicit bind) cannot be acquired (SPEC §3: a port of the
 * block bound by another socket) */
static void test_established( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct sockaddr_in addr;
    int len = sizeof(addr), err;
    SOCKET l = bound_socket( AF_INET, 0, 0 ), c = new_socket( AF_INET, 0 ), a, probe = new_socket( AF_INET, 0 );
    USHORT port;

    ok( l != INVALID_SOCKET, "no listener\n" );
    getsockname( l, (struct sockaddr *)&addr, &len );
    ok( !connect( c, (struct sockaddr *)&addr, len ), "connect failed %d\n", WSAGetLastError() );
    a = accept( l, NULL, NULL );
    closesocket( l );  /* only the connection is left */
    port = local_port( c );
    err = acquire( probe, port, 1, &inst );
    ok( err == WSAEADDRINUSE, "acquire of port %u of an established connection gave %d\n", port, err );
    if (!err) release( probe, inst.Token.Token );
    closesocket( probe );
    closesocket( a );
    closesocket( c );
}

START_TEST(crossprocess)
{
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    if (!start_winsock()) return;
    if (argc >= 4 && !strcmp( argv[1], "child" ))
    {
        USHORT port = (USHORT)atoi( argv[3] );
        DWORD parent = argc >= 5 ? strtoul( argv[4], NULL, 10 ) : 0;

        if (!strcmp( argv[2], "acquire" )) child_acquire( port, parent, TRUE );
        else if (!strcmp( argv[2], "try" )) child_acquire( port, parent, FALSE );
        else if (!strcmp( argv[2], "persist" )) child_persist( port, parent );
        else if (!strcmp( argv[2], "hold" ))
            child_hold( port, parent ? parent : HOLD_COUNT, argc >= 6 ? strtoul( argv[5], NULL, 10 ) : 60 );
        else if (!strcmp( argv[2], "check" )) child_check( port );
        else if (!strcmp( argv[2], "busy" )) child_busy( port, AF_INET );
        else if (!strcmp( argv[2], "busy6" )) child_busy( port, AF_INET6 );
        else if (!strcmp( argv[2], "denied" )) child_denied( port, AF_INET );
        else if (!strcmp( argv[2], "denied6" )) child_denied( port, AF_INET6 );
        else if (!strcmp( argv[2], "bindok" )) child_bindok( port );
        else if (!strcmp( argv[2], "implicit" )) child_implicit( port, parent );
        else if (!strcmp( argv[2], "pcreate" ) || !strcmp( argv[2], "plookup" ) || !strcmp( argv[2], "pdelete" ))
            child_persistent_op( argv[2], port, argc >= 5 ? strtoul( argv[4], NULL, 10 ) : 0 );
        else ok( 0, "unknown child mode %s\n", argv[2] );
        return;
    }
    detect_ipv6();

    test_child_runtime( TRUE );
    test_child_runtime( FALSE );
    test_two_children();
    test_child_persistent();
    test_established();
    end_all_children();
    WSACleanup();
}
