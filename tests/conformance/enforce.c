/*
 * What a reservation does to everyone else (SPEC §4)
 *
 * Port-0 binds and implicit binds never land inside a reservation of their
 * protocol; an explicit bind into another process's runtime reservation
 * fails WSAEACCES, while the owner, and explicit binds into persistent
 * reservations, succeed.  Ports 48000-48399 for specific blocks, and a
 * 2000-port block found free in 33000-39999.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

#define CHILD_PORT   48000   /* the child's runtime block: 48000-48009 */
#define OWN_PORT     48100   /* this process's specific block: 48100-48109 */
#define BIND_TRIES   200

static INET_PORT_RESERVATION_INSTANCE blocks[2];  /* large wildcard blocks, TCP and UDP */
static INET_PORT_RESERVATION_INSTANCE low_blocks[2];  /* 2000-port blocks in 33000-39999 */

static BOOL inside_block( const INET_PORT_RESERVATION_INSTANCE *b, USHORT port )
{
    USHORT start = inst_start( b );
    return b->Token.Token && port >= start && port - start < b->Reservation.NumberOfPorts;
}

/* inside either reservation of the protocol: the wildcard block, or the
 * specific block placed where Linux takes ephemeral ports from (32768-60999
 * by default), which a bind left to the kernel would hit */
static BOOL inside( const INET_PORT_RESERVATION_INSTANCE *b, USHORT port )
{
    return inside_block( b, port ) || inside_block( &low_blocks[b - blocks], port );
}

/* large wildcard blocks, so that a port-0 bind that ignored them would hit them often */
static BOOL acquire_blocks( SOCKET holders[2] )
{
    for (int udp = 0; udp < 2; udp++)
    {
        int err;

        holders[udp] = new_socket( AF_INET, udp );
        err = acquire_block( holders[udp], 0, 4000, &blocks[udp] );
        ok( !err, "wildcard acquire of 4000 %s ports failed %d\n", udp ? "UDP" : "TCP", err );
        if (err) return FALSE;
        trace( "%s block %u-%u\n", udp ? "UDP" : "TCP", ntohs( blocks[udp].Reservation.StartPort ),
               ntohs( blocks[udp].Reservation.StartPort ) + blocks[udp].Reservation.NumberOfPorts - 1 );
        /* a specific block where the kernel picks ephemeral ports; moved on when ports are taken */
        for (USHORT start = 33000; start <= 38000; start += 500)
            if (!acquire_block( holders[udp], start, 2000, &low_blocks[udp] )) break;
        if (low_blocks[udp].Token.Token)
            trace( "%s block %u-%u\n", udp ? "UDP" : "TCP", ntohs( low_blocks[udp].Reservation.StartPort ),
                   ntohs( low_blocks[udp].Reservation.StartPort ) + 1999 );
        else skip( "no free 2000-port %s block in 33000-39999\n", udp ? "UDP" : "TCP" );
    }
    return TRUE;
}

static void test_port0_binds( void )
{
    static const struct { int family, type, dual; const char *name; } kinds[] =
    {
        { AF_INET,  SOCK_STREAM, 0, "TCP/IPv4" },
        { AF_INET6, SOCK_STREAM, 0, "TCP/IPv6" },
        { AF_INET6, SOCK_STREAM, 1, "TCP/dual-stack" },
        { AF_INET,  SOCK_DGRAM,  0, "UDP/IPv4" },
        { AF_INET6, SOCK_DGRAM,  0, "UDP/IPv6" },
        { AF_INET6, SOCK_DGRAM,  1, "UDP/dual-stack" },
    };

    for (unsigned int k = 0; k < ARRAYSIZE(kinds); k++)
    {
        int landed = 0, failed = 0, udp = kinds[k].type == SOCK_DGRAM;

        for (int i = 0; i < BIND_TRIES; i++)
        {
            SOCKET s = socket( kinds[k].family, kinds[k].type, 0 );
            struct sockaddr_storage addr;
            DWORD off = 0;
            int len;

            if (s == INVALID_SOCKET) { failed++; continue; }
            if (kinds[k].dual) setsockopt( s, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&off, sizeof(off) );
            set_loopback( &addr, kinds[k].family, 0, &len );
            if (kinds[k].dual) memset( &((struct sockaddr_in6 *)&addr)->sin6_addr, 0, sizeof(struct in6_addr) );
            if (bind( s, (struct sockaddr *)&addr, len )) failed++;
            else if (inside( &blocks[udp], local_port( s ) )) landed++;
            closesocket( s );
        }
        ok( !failed, "%s: %d of %d port-0 binds failed\n", kinds[k].name, failed, BIND_TRIES );
        ok( !landed, "%s: %d of %d port-0 binds landed inside the reservation\n", kinds[k].name, landed, BIND_TRIES );
    }
}

static void test_implicit_binds( void )
{
    struct sockaddr_storage addr;
    int len, landed = 0, failed = 0;
    LPFN_CONNECTEX pConnectEx = NULL;
    GUID guid = WSAID_CONNECTEX;
    SOCKET listener, server;
    DWORD bytes;

    /* connect and WSAConnect on unbound TCP sockets */
    listener = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    set_loopback( &addr, AF_INET, 0, &len );
    ok( !bind( listener, (struct sockaddr *)&addr, len ), "bind failed %d\n", WSAGetLastError() );
    ok( !listen( listener, SOMAXCONN ), "listen failed %d\n", WSAGetLastError() );
    len = sizeof(addr);
    getsockname( listener, (struct sockaddr *)&addr, &len );
    for (int i = 0; i < 100; i++)
    {
        SOCKET c = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        int ret = i & 1 ? WSAConnect( c, (struct sockaddr *)&addr, len, NULL, NULL, NULL, NULL )
                        : connect( c, (struct sockaddr *)&addr, len );
        if (ret) failed++;
        else if (inside( &blocks[0], local_port( c ) )) landed++;
        if ((server = accept( listener, NULL, NULL )) != INVALID_SOCKET) closesocket( server );
        closesocket( c );
    }
    ok( !failed, "%d of 100 connects failed\n", failed );
    ok( !landed, "%d of 100 implicit binds of connect/WSAConnect landed inside the TCP reservation\n", landed );

    /* ConnectEx needs a bound socket: bind to port 0, then ConnectEx */
    {
        SOCKET c = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        struct sockaddr_in any = { .sin_family = AF_INET };
        OVERLAPPED ov = { 0 };

        WSAIoctl( c, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &pConnectEx, sizeof(pConnectEx),
                  &bytes, NULL, NULL );
        ok( pConnectEx != NULL, "no ConnectEx\n" );
        ok( !bind( c, (struct sockaddr *)&any, sizeof(any) ), "bind failed %d\n", WSAGetLastError() );
        ok( !inside( &blocks[0], local_port( c ) ), "port-0 bind before ConnectEx landed inside\n" );
        if (pConnectEx)
        {
            ov.hEvent = CreateEventW( NULL, TRUE, FALSE, NULL );
            if (!pConnectEx( c, (struct sockaddr *)&addr, len, NULL, 0, NULL, &ov ))
                ok( WSAGetLastError() == ERROR_IO_PENDING, "ConnectEx failed %d\n", WSAGetLastError() );
            ok( !WaitForSingleObject( ov.hEvent, 5000 ), "ConnectEx did not complete\n" );
            CloseHandle( ov.hEvent );
            if ((server = accept( listener, NULL, NULL )) != INVALID_SOCKET) closesocket( server );
        }
        closesocket( c );
    }
    closesocket( listener );

    /* sendto and WSASendTo on unbound UDP sockets */
    {
        SOCKET r = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
        landed = failed = 0;
        set_loopback( &addr, AF_INET, 0, &len );
        bind( r, (struct sockaddr *)&addr, len );
        len = sizeof(addr);
        getsockname( r, (struct sockaddr *)&addr, &len );
        for (int i = 0; i < 100; i++)
        {
            SOCKET c = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );
            char data[4] = "abc";
            WSABUF buf = { sizeof(data), data };
            DWORD sent;
            int ret = i & 1 ? WSASendTo( c, &buf, 1, &sent, 0, (struct sockaddr *)&addr, len, NULL, NULL )
                            : sendto( c, data, sizeof(data), 0, (struct sockaddr *)&addr, len ) != sizeof(data);
            if (ret) failed++;
            else if (inside( &blocks[1], local_port( c ) )) landed++;
            closesocket( c );
        }
        ok( !failed, "%d of 100 sends failed\n", failed );
        ok( !landed, "%d of 100 implicit binds of sendto/WSASendTo landed inside the UDP reservation\n", landed );
        closesocket( r );
    }
}

/* the child: hold runtime blocks at CHILD_PORT until the parent is done */
static int child( void )
{
    HANDLE ready = OpenEventW( EVENT_MODIFY_STATE, FALSE, L"portres-enforce-ready" );
    HANDLE done = OpenEventW( SYNCHRONIZE, FALSE, L"portres-enforce-done" );
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET t = new_socket( AF_INET, 0 ), u = new_socket( AF_INET, 1 );

    if (!ready || !done) return 2;
    if (acquire_block( t, CHILD_PORT, 10, &inst ) || acquire_block( u, CHILD_PORT, 10, &inst )) return 3;
    SetEvent( ready );
    WaitForSingleObject( done, 30000 );
    return 0;
}

static void test_explicit_binds( void )
{
    HANDLE ready = CreateEventW( NULL, TRUE, FALSE, L"portres-enforce-ready" );
    HANDLE done = CreateEventW( NULL, TRUE, FALSE, L"portres-enforce-done" );
    INET_PORT_RESERVATION_INSTANCE own;
    HANDLE child = start_self( NULL, "child" );
    struct sockaddr_storage addr;
    int len, err;
    SOCKET s, holder;

    ok( child != NULL, "CreateProcess failed %lu\n", GetLastError() );
    if (WaitForSingleObject( ready, 10000 ))
    {
        skip( "the child could not hold ports %u-%u\n", CHILD_PORT, CHILD_PORT + 9 );
    }
    else
    {
        for (int udp = 0; udp < 2; udp++)
        {
            for (int family = 0; family < 2; family++)
            {
                s = new_socket( family ? AF_INET6 : AF_INET, udp );
                set_loopback( &addr, family ? AF_INET6 : AF_INET, CHILD_PORT + 3, &len );
                err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
                ok( err == WSAEACCES, "%s %s bind into another process's runtime block: got %d\n",
                    udp ? "UDP" : "TCP", family ? "IPv6" : "IPv4", err );
                closesocket( s );
            }
        }
        /* just outside the child's block */
        s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        set_loopback( &addr, AF_INET, CHILD_PORT + 10, &len );
        ok( !bind( s, (struct sockaddr *)&addr, len ), "bind next to the block failed %d\n", WSAGetLastError() );
        closesocket( s );
    }
    SetEvent( done );
    ok( !WaitForSingleObject( child, 10000 ), "the child did not exit\n" );
    TerminateProcess( child, 1 );
    CloseHandle( child );

    /* once the child is gone its block is free for everyone */
    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    set_loopback( &addr, AF_INET, CHILD_PORT + 3, &len );
    ok( !bind( s, (struct sockaddr *)&addr, len ), "bind after the child exited failed %d\n", WSAGetLastError() );
    closesocket( s );

    /* the owner binds into its own block without associating */
    holder = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    err = acquire_block( holder, OWN_PORT, 10, &own );
    ok( !err, "acquire of %u+10 failed %d\n", OWN_PORT, err );
    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    set_loopback( &addr, AF_INET, OWN_PORT + 2, &len );
    ok( !bind( s, (struct sockaddr *)&addr, len ), "the owner's explicit bind failed %d\n", WSAGetLastError() );
    closesocket( s );
    closesocket( holder );
    CloseHandle( ready );
    CloseHandle( done );
}

static void test_persistent( void )
{
    INET_PORT_RESERVATION_INSTANCE probe;
    USHORT start = 0;
    unsigned int taken = 0;
    ULONG64 token;
    SOCKET s;
    ULONG err = 0;
    int landed = 0, len, acquire_err;

    if (!is_admin())
    {
        win_skip( "not an administrator: persistent reservations need administrator rights\n" );
        return;
    }
    /* find 1000 free TCP ports in the dynamic range, then reserve them
     * persistently.  Between the two another socket of the host may take
     * one of them (portres puts port-0 binds above the kernel's range,
     * where the wildcard block lies too): said, and another block tried */
    for (int tries = 0;; tries++)
    {
        s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        acquire_err = acquire_block( s, 0, 1000, &probe );
        closesocket( s );
        if (acquire_err) break;
        start = ntohs( probe.Reservation.StartPort );
        if ((err = persistent_create( 0, start, 1000, &token )) != ERROR_SHARING_VIOLATION) break;
        read_port_tables();
        for (taken = start; taken - start < 1000 && !(port_in_table[0][taken / 8] & (1 << (taken % 8))); taken++) {}
        trace( "TCP %u+1000: ERROR_SHARING_VIOLATION; a socket holds port %u (%u: none)\n", start, taken, start + 1000 );
        if (tries == 2) break;
    }
    ok( !acquire_err, "wildcard acquire failed %d\n", acquire_err );
    if (acquire_err) return;
    ok( !err, "CreatePersistentTcpPortReservation(%u, 1000) failed %lu (up to 3 blocks tried; a socket held port %u, "
        "%u: none)\n", start, err, taken, start + 1000 );
    if (err) return;

    for (int i = 0; i < BIND_TRIES; i++)
    {
        struct sockaddr_in any = { .sin_family = AF_INET };
        USHORT port;
        s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        bind( s, (struct sockaddr *)&any, sizeof(any) );
        port = local_port( s );
        if (port >= start && port - start < 1000) landed++;
        closesocket( s );
    }
    ok( !landed, "%d of %d port-0 binds landed inside the persistent reservation\n", landed, BIND_TRIES );

    /* a reservation made through the API keeps explicit binds out, but
     * those of a socket associated with its token [obs: MsQuic docs/CIBIR.md];
     * an administered exclusion does not (netsh.sh, hostwide.sh) */
    {
        struct sockaddr_storage addr;
        int err;

        s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        set_loopback( &addr, AF_INET, start + 7, &len );
        err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
        decision( "behaviour §4: an explicit bind into a CreatePersistent*PortReservation block fails WSAEACCES" )
            ok( err == WSAEACCES, "explicit bind into a persistent block: got %d\n", err );
        closesocket( s );
        s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
        if (!associate( s, token ))
        {
            err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
            decision( "behaviour §4: a socket associated with a persistent token binds inside its block" )
                ok( !err, "explicit bind of an associated socket into its persistent block: got %d\n", err );
        }
        closesocket( s );
    }
    ok( !persistent_delete( 0, start, 1000 ), "delete failed\n" );
}

/* run netsh with args (printf-style): netsh.exe on Windows, portres.exe
 * (netsh's port commands, installed with portres) under Wine; its exit
 * code, or -1 if it could not be started (GetLastError says why) */
static WINETEST_PRINTF(1, 2) DWORD run_netsh( const char *fmt, ... )
{
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    char cmd[512];
    WCHAR cmdw[512];
    DWORD code = (DWORD)-1;
    va_list args;
    int len;

    len = snprintf( cmd, sizeof(cmd), "%s ", winetest_is_wine() ? "portres.exe" : "netsh.exe" );
    va_start( args, fmt );
    vsnprintf( cmd + len, sizeof(cmd) - len, fmt, args );
    va_end( args );
    MultiByteToWideChar( CP_ACP, 0, cmd, -1, cmdw, ARRAYSIZE(cmdw) );
    fflush( stdout );
    if (!create_process( NULL, cmdw, FALSE, &si, &pi )) return (DWORD)-1;
    if (WaitForSingleObject( pi.hProcess, 60000 ) || !GetExitCodeProcess( pi.hProcess, &code )) code = (DWORD)-2;
    CloseHandle( pi.hThread );
    CloseHandle( pi.hProcess );
    return code;
}

/* an administered exclusion (netsh add excludedportrange) keeps acquires
 * out but lets explicit binds in [obs: msquic#2891]; which way Windows
 * goes is what these decision checks report (behaviour §4) */
static void test_administered( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    struct sockaddr_storage addr;
    USHORT start;
    DWORD code;
    SOCKET s;
    int err, len;

    if (!is_admin())
    {
        win_skip( "not an administrator: netsh add excludedportrange needs administrator rights\n" );
        return;
    }
    /* 5 free TCP ports of the dynamic range */
    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    err = acquire_block( s, 0, 5, &inst );
    closesocket( s );
    ok( !err, "wildcard acquire of 5 ports failed %d\n", err );
    if (err) return;
    start = ntohs( inst.Reservation.StartPort );
    code = run_netsh( "int ipv4 add excludedportrange protocol=tcp startport=%u numberofports=5", start );
    if (code == (DWORD)-1 && !winetest_is_wine())
    {
        skip( "netsh.exe cannot be started: %lu\n", GetLastError() );
        return;
    }
    ok( !code, "netsh add excludedportrange %u 5: exit code %ld\n", start, (long)code );
    if (code) return;

    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    set_loopback( &addr, AF_INET, start + 2, &len );
    err = bind( s, (struct sockaddr *)&addr, len ) ? WSAGetLastError() : 0;
    decision( "behaviour §4: an explicit bind into an administered exclusion (netsh) succeeds" )
        ok( !err, "explicit bind into the administered exclusion %u+5: got %d\n", start, err );
    closesocket( s );
    s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    err = acquire_block( s, start, 5, &inst );
    ok( err == WSAEADDRINUSE, "acquire over the administered exclusion %u+5: got %d\n", start, err );
    closesocket( s );

    code = run_netsh( "int ipv4 delete excludedportrange protocol=tcp startport=%u numberofports=5", start );
    ok( !code, "netsh delete excludedportrange %u 5: exit code %ld\n", start, (long)code );
}

START_TEST(enforce)
{
    WSADATA data;
    SOCKET holders[2];
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    WSAStartup( MAKEWORD( 2, 2 ), &data );
    if (argc >= 2 && !strcmp( argv[1], "child" )) exit( child() );

    if (acquire_blocks( holders ))
    {
        test_port0_binds();
        test_implicit_binds();
        closesocket( holders[0] );
        closesocket( holders[1] );
    }
    test_explicit_binds();
    test_persistent();
    test_administered();
    WSACleanup();
}
