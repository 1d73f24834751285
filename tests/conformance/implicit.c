/*
 * The implicit binds, and what reservations do to the sockets already
 * there (SPEC §3, §4)
 *
 * Every implicit bind (connect, WSAConnect, WSAConnectByName/List, and
 * sendto, WSASendTo, WSASendMsg on unbound UDP sockets) keeps out of every
 * reservation, here 1000-port blocks held across the kernel's ephemeral
 * range; listen and ConnectEx bind nothing but associated sockets' ports;
 * sockets bound before a reservation appeared keep working; bind passes
 * the caller's whole address on; a new socket never inherits what was
 * known of an old one with the same handle value.  Loopback only.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

#define TRIES       40     /* implicit binds per path */
#define COVER_SIZE  500    /* ports per covering block */
#define MAX_COVER   140
#define OLD_CONNS   600    /* connections whose ports the kernel chose */
#define NEW_CONNS   1000   /* connects while a reservation is live */
#define BATCH       200    /* connections kept open at once */

typedef BOOL (WINAPI *connect_by_name_a)( SOCKET, const char *, const char *, DWORD *, struct sockaddr *, DWORD *,
                                          struct sockaddr *, const struct timeval *, WSAOVERLAPPED * );
typedef BOOL (WINAPI *connect_by_name_w)( SOCKET, const WCHAR *, const WCHAR *, DWORD *, struct sockaddr *, DWORD *,
                                          struct sockaddr *, const struct timeval *, WSAOVERLAPPED * );
typedef BOOL (WINAPI *connect_by_list)( SOCKET, SOCKET_ADDRESS_LIST *, DWORD *, struct sockaddr *, DWORD *,
                                        struct sockaddr *, const struct timeval *, WSAOVERLAPPED * );

static unsigned int kernel_first = 49152, kernel_last = 65535;
static INET_PORT_RESERVATION_INSTANCE cover[2][MAX_COVER];
static int cover_count[2];
static SOCKET cover_holder[2] = { INVALID_SOCKET, INVALID_SOCKET };

/* the kernel's ephemeral range under Wine; Windows's dynamic range elsewhere */
static void read_kernel_range( void )
{
    FILE *f = fopen( "Z:\\proc\\sys\\net\\ipv4\\ip_local_port_range", "r" );
    unsigned int a, b;

    if (!f) return;
    if (fscanf( f, "%u %u", &a, &b ) == 2 && a && a < b && b <= 65535)
    {
        kernel_first = a;
        kernel_last = b;
    }
    fclose( f );
}

/* inside one of the blocks covering the kernel's range */
static BOOL covered( int udp, USHORT port )
{
    for (int i = 0; i < cover_count[udp]; i++)
    {
        USHORT start = ntohs( cover[udp][i].Reservation.StartPort );
        if (port >= start && port - start < cover[udp][i].Reservation.NumberOfPorts) return TRUE;
    }
    return FALSE;
}

/* the kernel's range in 500-port blocks, TCP and UDP (those with a bound
 * port left out): an implicit bind left to the kernel lands inside */
static BOOL cover_kernel_range( void )
{
    for (int udp = 0; udp < 2; udp++)
    {
        unsigned int ports = 0;

        cover_holder[udp] = new_socket( AF_INET, udp );
        for (unsigned int start = kernel_first; start + COVER_SIZE - 1 <= kernel_last && cover_count[udp] < MAX_COVER;
             start += COVER_SIZE)
        {
            /* unchecked: how many blocks are free varies, the check count must not */
            if (acquire_block( cover_holder[udp], start, COVER_SIZE, &cover[udp][cover_count[udp]] )) continue;
            cover_count[udp]++;
            ports += COVER_SIZE;
        }
        trace( "%s: %u ports of the kernel's range %u-%u reserved in %d blocks\n", udp ? "UDP" : "TCP", ports,
               kernel_first, kernel_last, cover_count[udp] );
        if (cover_count[udp] < 3)
        {
            skip( "could not reserve enough of the kernel's range\n" );
            return FALSE;
        }
    }
    return TRUE;
}

static void uncover_kernel_range( void )
{
    for (int udp = 0; udp < 2; udp++)
    {
        closesocket( cover_holder[udp] );
        cover_count[udp] = 0;
    }
}

static SOCKET loopback_listener( struct sockaddr_storage *addr, int *len )
{
    SOCKET s = bound_socket( AF_INET, 0, 0 );

    *len = sizeof(*addr);
    getsockname( s, (struct sockaddr *)addr, len );
    return s;
}

/* accept and close the pending connection, if one comes within 2 s */
static void drain( SOCKET listener )
{
    struct timeval timeout = { 2, 0 };
    fd_set set;
    SOCKET c;

    FD_ZERO( &set );
    FD_SET( listener, &set );
    if (select( 0, &set, NULL, NULL, &timeout ) != 1) return;
    if ((c = accept( listener, NULL, NULL )) != INVALID_SOCKET) closesocket( c );
}

/* sockets bound by Wine's builtin before any reservation was live keep
 * working once one appears in the kernel's range */
static SOCKET old_udp, old_udp_connected, old_tcp, old_listener;
static struct sockaddr_storage old_peer, old_udp_peer;
static int old_peer_len, old_udp_peer_len;

static void bind_before_reservations( void )
{
    SOCKET r = bound_socket( AF_INET, 1, 0 );
    char data[4] = "abc";

    old_listener = loopback_listener( &old_peer, &old_peer_len );
    old_udp_peer_len = sizeof(old_udp_peer);
    getsockname( r, (struct sockaddr *)&old_udp_peer, &old_udp_peer_len );
    old_udp = new_socket( AF_INET, 1 );
    ok( sendto( old_udp, data, sizeof(data), 0, (struct sockaddr *)&old_udp_peer, old_udp_peer_len ) == sizeof(data),
        "first sendto failed %d\n", WSAGetLastError() );
    old_udp_connected = new_socket( AF_INET, 1 );
    ok( !connect( old_udp_connected, (struct sockaddr *)&old_udp_peer, old_udp_peer_len ), "UDP connect failed %d\n",
        WSAGetLastError() );
    old_tcp = new_socket( AF_INET, 0 );
    ok( !connect( old_tcp, (struct sockaddr *)&old_peer, old_peer_len ), "TCP connect failed %d\n", WSAGetLastError() );
    ok( local_port( old_udp ) && local_port( old_udp_connected ) && local_port( old_tcp ),
        "the builtin did not bind the sockets\n" );
    closesocket( r );
}

static void test_bound_before_reservations( void )
{
    char data[4] = "abc";
    WSABUF buf = { sizeof(data), data };
    DWORD sent;
    int err;

    for (int i = 0; i < 3; i++)
    {
        WSASetLastError( 0 );
        ok( sendto( old_udp, data, sizeof(data), 0, (struct sockaddr *)&old_udp_peer, old_udp_peer_len ) == sizeof(data),
            "sendto %d on a socket bound before the reservations failed %d\n", i, WSAGetLastError() );
    }
    ok( !WSASendTo( old_udp, &buf, 1, &sent, 0, (struct sockaddr *)&old_udp_peer, old_udp_peer_len, NULL, NULL ),
        "WSASendTo on a socket bound before the reservations failed %d\n", WSAGetLastError() );
    ok( !connect( old_udp_connected, (struct sockaddr *)&old_udp_peer, old_udp_peer_len ),
        "UDP re-connect failed %d\n", WSAGetLastError() );
    ok( !WSAConnect( old_udp_connected, (struct sockaddr *)&old_udp_peer, old_udp_peer_len, NULL, NULL, NULL, NULL ),
        "UDP WSAConnect failed %d\n", WSAGetLastError() );
    err = connect( old_tcp, (struct sockaddr *)&old_peer, old_peer_len ) ? WSAGetLastError() : 0;
    ok( err == WSAEISCONN, "second TCP connect: got %d, expected WSAEISCONN\n", err );
    err = associate( old_udp, cover[1][0].Token.Token );
    ok( err == WSAEINVAL, "associate on an implicitly bound socket: got %d, expected WSAEINVAL\n", err );

    closesocket( old_udp );
    closesocket( old_udp_connected );
    closesocket( old_tcp );
    drain( old_listener );
    closesocket( old_listener );
}

/* listen is no implicit bind: WSAEINVAL on an unbound socket, associated or not */
static void test_listen( void )
{
    INET_PORT_RESERVATION_INSTANCE own;
    SOCKET s = new_socket( AF_INET, 0 );
    int err;

    err = listen( s, 5 ) ? WSAGetLastError() : 0;
    ok( err == WSAEINVAL, "listen on an unbound socket: got %d, expected WSAEINVAL\n", err );
    ok( !local_port( s ), "listen bound the socket to port %u\n", local_port( s ) );
    closesocket( s );

    s = new_socket( AF_INET, 0 );
    ok( !acquire( s, 0, 4, &own ), "acquire failed\n" );
    ok( !associate( s, own.Token.Token ), "associate failed\n" );
    err = listen( s, 5 ) ? WSAGetLastError() : 0;
    ok( err == WSAEINVAL, "listen on an unbound associated socket: got %d, expected WSAEINVAL\n", err );
    closesocket( s );
}

static LPFN_CONNECTEX get_connectex( SOCKET s )
{
    GUID guid = WSAID_CONNECTEX;
    LPFN_CONNECTEX func = NULL;
    DWORD bytes;

    WSAIoctl( s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &func, sizeof(func), &bytes, NULL, NULL );
    return func;
}

/* ConnectEx needs a bound socket; portres binds only associated ones */
static void test_connectex( void )
{
    struct sockaddr_storage peer;
    INET_PORT_RESERVATION_INSTANCE own;
    OVERLAPPED ov = { 0 };
    SOCKET listener, s;
    LPFN_CONNECTEX pConnectEx;
    int len, err;
    USHORT start;

    listener = loopback_listener( &peer, &len );
    s = new_socket( AF_INET, 0 );
    if (!(pConnectEx = get_connectex( s )))
    {
        skip( "no ConnectEx\n" );
        closesocket( s );
        closesocket( listener );
        return;
    }
    ov.hEvent = CreateEventW( NULL, TRUE, FALSE, NULL );
    err = pConnectEx( s, (struct sockaddr *)&peer, len, NULL, 0, NULL, &ov ) ? 0 : WSAGetLastError();
    ok( err == WSAEINVAL, "ConnectEx on an unbound socket: got %d, expected WSAEINVAL\n", err );
    if (err == ERROR_IO_PENDING) WaitForSingleObject( ov.hEvent, 5000 );
    closesocket( s );

    /* an associated socket gets its port from its block */
    s = new_socket( AF_INET, 0 );
    ok( !acquire( s, 0, 4, &own ), "acquire failed\n" );
    start = ntohs( own.Reservation.StartPort );
    ok( !associate( s, own.Token.Token ), "associate failed\n" );
    ResetEvent( ov.hEvent );
    err = pConnectEx( s, (struct sockaddr *)&peer, len, NULL, 0, NULL, &ov ) ? 0 : WSAGetLastError();
    ok( !err || err == ERROR_IO_PENDING, "ConnectEx on an associated socket failed %d\n", err );
    ok( !WaitForSingleObject( ov.hEvent, 5000 ), "ConnectEx did not complete\n" );
    ok( local_port( s ) >= start && local_port( s ) < start + 4, "ConnectEx: port %u outside the block %u+4\n",
        local_port( s ), start );
    drain( listener );
    closesocket( s );
    CloseHandle( ov.hEvent );
    closesocket( listener );
}

/* WSASendMsg, the export and the extension function, on unbound UDP sockets */
static void test_sendmsg( void )
{
    SOCKET r = bound_socket( AF_INET, 1, 0 ), s;
    struct sockaddr_storage peer;
    LPFN_WSASENDMSG ext = NULL;
    GUID guid = WSAID_WSASENDMSG;
    int len = sizeof(peer);
    DWORD bytes;

    getsockname( r, (struct sockaddr *)&peer, &len );
    s = new_socket( AF_INET, 1 );
    WSAIoctl( s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &ext, sizeof(ext), &bytes, NULL, NULL );
    closesocket( s );
    ok( ext != NULL, "no WSASendMsg extension function\n" );
    for (int way = 0; way < 2; way++)
    {
        int landed = 0, failed = 0;

        if (way && !ext) break;
        for (int i = 0; i < TRIES; i++)
        {
            char data[4] = "abc";
            WSABUF buf = { sizeof(data), data };
            WSAMSG msg = { (struct sockaddr *)&peer, len, &buf, 1, { 0, NULL }, 0 };
            int ret;

            s = new_socket( AF_INET, 1 );
            ret = way ? ext( s, &msg, 0, &bytes, NULL, NULL ) : WSASendMsg( s, &msg, 0, &bytes, NULL, NULL );
            if (ret) failed++;
            else if (covered( 1, local_port( s ) )) landed++;
            closesocket( s );
        }
        ok( !failed, "WSASendMsg (%s): %d of %d failed\n", way ? "extension" : "export", failed, TRIES );
        ok( !landed, "WSASendMsg (%s): %d of %d implicit binds landed inside a reservation\n",
            way ? "extension" : "export", landed, TRIES );
    }
    closesocket( r );
}

/* WSAConnectByNameA/W and WSAConnectByList on unbound TCP sockets */
static void test_connect_by( void )
{
    HMODULE ws2 = GetModuleHandleA( "ws2_32.dll" );
    connect_by_name_a by_name_a = (void *)GetProcAddress( ws2, "WSAConnectByNameA" );
    connect_by_name_w by_name_w = (void *)GetProcAddress( ws2, "WSAConnectByNameW" );
    connect_by_list by_list = (void *)GetProcAddress( ws2, "WSAConnectByList" );
    static const char *names[] = { "WSAConnectByNameA", "WSAConnectByNameW", "WSAConnectByList" };
    struct sockaddr_storage peer;
    SOCKET listener = loopback_listener( &peer, &(int){ 0 } );
    USHORT port = ntohs( ((struct sockaddr_in *)&peer)->sin_port );
    char service[8];
    WCHAR wservice[8];
    SOCKET_ADDRESS_LIST list = { 1, { { (struct sockaddr *)&peer, sizeof(struct sockaddr_in) } } };

    snprintf( service, sizeof(service), "%u", port );
    swprintf( wservice, ARRAYSIZE(wservice), L"%u", port );
    ok( by_name_a && by_name_w && by_list, "missing WSAConnectBy* exports\n" );
    if (!by_name_a || !by_name_w || !by_list) return;
    for (int way = 0; way < 3; way++)
    {
        int landed = 0, failed = 0;

        for (int i = 0; i < TRIES; i++)
        {
            SOCKET s = new_socket( AF_INET, 0 );
            BOOL ret;

            SetLastError( 0 );
            if (way == 0) ret = by_name_a( s, "127.0.0.1", service, NULL, NULL, NULL, NULL, NULL, NULL );
            else if (way == 1) ret = by_name_w( s, L"127.0.0.1", wservice, NULL, NULL, NULL, NULL, NULL, NULL );
            else ret = by_list( s, &list, NULL, NULL, NULL, NULL, NULL, NULL );
            if (ret != TRUE || !local_port( s ))
            {
                if (!failed) trace( "%s returned %d, error %d\n", names[way], ret, WSAGetLastError() );
                failed++;
            }
            else if (covered( 0, local_port( s ) )) landed++;
            drain( listener );
            closesocket( s );
        }
        ok( !failed, "%s: %d of %d failed\n", names[way], failed, TRIES );
        ok( !landed, "%s: %d of %d implicit binds landed inside a reservation\n", names[way], landed, TRIES );
    }

    /* WSAConnectByList fills in the addresses */
    {
        SOCKET s = new_socket( AF_INET, 0 );
        struct sockaddr_storage local, remote;
        DWORD local_len = sizeof(local), remote_len = sizeof(remote);

        ok( by_list( s, &list, &local_len, (struct sockaddr *)&local, &remote_len, (struct sockaddr *)&remote,
                     NULL, NULL ) == TRUE, "WSAConnectByList failed %d\n", WSAGetLastError() );
        ok( local_len == sizeof(struct sockaddr_in) && ntohs( ((struct sockaddr_in *)&local)->sin_port ) == local_port( s ),
            "local address: length %lu, port %u\n", local_len, ntohs( ((struct sockaddr_in *)&local)->sin_port ) );
        ok( remote_len == sizeof(struct sockaddr_in) && ((struct sockaddr_in *)&remote)->sin_port == htons( port ),
            "remote address: length %lu\n", remote_len );
        drain( listener );
        closesocket( s );
        s = new_socket( AF_INET, 0 );
        SetLastError( 0 );
        ok( !by_list( s, &list, NULL, NULL, NULL, NULL, NULL, (WSAOVERLAPPED *)&list ) &&
            WSAGetLastError() == WSAEINVAL, "WSAConnectByList with Reserved set: error %d\n", WSAGetLastError() );
        closesocket( s );
    }
    closesocket( listener );
}

/* an associated socket whose reservation was released gets an ordinary
 * implicit bind, which keeps out of every reservation */
static void test_released_association( void )
{
    struct sockaddr_storage tcp_peer, udp_peer;
    SOCKET listener = loopback_listener( &tcp_peer, &(int){ 0 } ), r = bound_socket( AF_INET, 1, 0 );
    int udp_len = sizeof(udp_peer);
    static const char *names[] = { "TCP connect", "UDP connect", "sendto" };

    getsockname( r, (struct sockaddr *)&udp_peer, &udp_len );
    for (int way = 0; way < 3; way++)
    {
        int landed = 0, failed = 0, udp = way > 0;

        for (int i = 0; i < TRIES / 2; i++)
        {
            INET_PORT_RESERVATION_INSTANCE own;
            SOCKET s = new_socket( AF_INET, udp );
            char data[4] = "abc";
            int ret;

            if (acquire( s, 0, 1, &own ) || associate( s, own.Token.Token ) || release( s, own.Token.Token ))
            {
                failed++;
                closesocket( s );
                continue;
            }
            if (way == 0) ret = connect( s, (struct sockaddr *)&tcp_peer, sizeof(struct sockaddr_in) );
            else if (way == 1) ret = connect( s, (struct sockaddr *)&udp_peer, udp_len );
            else ret = sendto( s, data, sizeof(data), 0, (struct sockaddr *)&udp_peer, udp_len ) != sizeof(data);
            if (ret) failed++;
            else if (covered( udp, local_port( s ) )) landed++;
            if (!way) drain( listener );
            closesocket( s );
        }
        ok( !failed, "released association, %s: %d of %d failed\n", names[way], failed, TRIES / 2 );
        ok( !landed, "released association, %s: %d of %d implicit binds landed inside a reservation\n",
            names[way], landed, TRIES / 2 );
    }
    closesocket( r );
    closesocket( listener );
}

/* TRUE if the block of inst is reserved for TCP and not for UDP */
static BOOL reserved_for_tcp_only( const INET_PORT_RESERVATION_INSTANCE *inst )
{
    USHORT start = ntohs( inst->Reservation.StartPort );
    return !block_unreserved( 0, start, 1 ) && block_unreserved( 1, start, 1 );
}

/* a socket created with the handle value of a UDP socket closed without
 * closesocket is what it is, here TCP */
static void test_handle_reuse( void )
{
    struct sockaddr_storage peer;
    SOCKET listener = loopback_listener( &peer, &(int){ 0 } );
    WSAPROTOCOL_INFOW infos[32];
    DWORD size = sizeof(infos);
    int n = WSAEnumProtocolsW( (int[]){ IPPROTO_TCP, 0 }, infos, &size ), tcp_info = -1;
    static const char *names[] = { "accept", "WSAAccept", "WSASocketW with a protocol info" };

    for (int i = 0; i < n; i++)
        if (infos[i].iAddressFamily == AF_INET && infos[i].iSocketType == SOCK_STREAM) { tcp_info = i; break; }
    for (int way = 0; way < 3; way++)
    {
        INET_PORT_RESERVATION_INSTANCE inst;
        SOCKET u[4], c = INVALID_SOCKET, s;
        BOOL reused = FALSE;
        int err;

        if (way < 2)
        {
            c = new_socket( AF_INET, 0 );
            connect( c, (struct sockaddr *)&peer, sizeof(struct sockaddr_in) );
        }
        for (int i = 0; i < 4; i++) u[i] = new_socket( AF_INET, 1 );
        for (int i = 0; i < 4; i++)
            ok( CloseHandle( (HANDLE)u[i] ), "CloseHandle of a socket failed %lu\n", GetLastError() );
        if (way < 2) s = way ? WSAAccept( listener, NULL, NULL, NULL, 0 ) : accept( listener, NULL, NULL );
        else if (tcp_info >= 0) s = WSASocketW( FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                                 &infos[tcp_info], 0, 0 );
        else s = INVALID_SOCKET;
        ok( s != INVALID_SOCKET, "%s failed %d\n", names[way], WSAGetLastError() );
        if (s == INVALID_SOCKET) { closesocket( c ); continue; }
        for (int i = 0; i < 4; i++) reused |= s == u[i];
        if (!reused) trace( "%s: no handle value of a closed UDP socket was reused\n", names[way] );
        err = acquire( s, 0, 1, &inst );
        ok( !err, "%s: acquire failed %d\n", names[way], err );
        if (!err)
        {
            ok( reserved_for_tcp_only( &inst ), "%s: the socket's reservation is not a TCP one\n", names[way] );
            release( s, inst.Token.Token );
        }
        closesocket( s );
        if (c != INVALID_SOCKET) closesocket( c );
    }
    closesocket( listener );
}

/* child: bind an associated socket with an address buffer of len bytes
 * from a thread with a small stack; exit code 0 if the port is from the
 * block, else the error */
/* the number of bytes from this function's frame up to the first address
 * above it that cannot be read (past the top of the thread's stack), kept
 * unreadable; a read of that many bytes and 64 KiB more from a variable of
 * a function it calls faults */
static int unreadable_above_stack( void )
{
    volatile char here = 0;
    char *p = (char *)&here;
    MEMORY_BASIC_INFORMATION info;

    while (VirtualQuery( p, &info, sizeof(info) ) && info.State == MEM_COMMIT &&
           !(info.Protect & (PAGE_NOACCESS | PAGE_GUARD)) && p - (char *)&here < 256 << 20)
        p = (char *)info.BaseAddress + info.RegionSize;
    if (info.State == MEM_FREE) VirtualAlloc( p, 65536, MEM_RESERVE, PAGE_NOACCESS );
    return p - (char *)&here + here + 65536;
}

static DWORD WINAPI overread_thread( void *arg )
{
    int len = arg ? (int)(INT_PTR)arg : unreadable_above_stack();
    INET_PORT_RESERVATION_INSTANCE own;
    struct sockaddr_in *addr = VirtualAlloc( NULL, len, MEM_COMMIT, PAGE_READWRITE );
    SOCKET s = new_socket( AF_INET, 0 );
    USHORT start;

    if (!addr || acquire( s, 0, 4, &own ) || associate( s, own.Token.Token )) return 1000;
    addr->sin_family = AF_INET;
    if (bind( s, (struct sockaddr *)addr, len )) return WSAGetLastError();
    start = ntohs( own.Reservation.StartPort );
    return local_port( s ) >= start && local_port( s ) < start + 4 ? 0 : 1001;
}

static int overread_child( int len )
{
    HANDLE thread = CreateThread( NULL, 64 * 1024, overread_thread, (void *)(INT_PTR)len,
                                  STACK_SIZE_PARAM_IS_A_RESERVATION, NULL );
    DWORD code = 1002;

    WaitForSingleObject( thread, 30000 );
    GetExitCodeThread( thread, &code );
    return code;
}

/* bind passes the caller's whole address to the builtin, whatever its length */
static void test_bind_length( void )
{
    static const int lens[] = { 200, 0 };

    for (unsigned int i = 0; i < ARRAYSIZE(lens); i++)
    {
        HANDLE child = start_self( NULL, "overread %d", lens[i] );
        DWORD code = 0xdead;

        ok( child != NULL, "CreateProcess failed %lu\n", GetLastError() );
        if (WaitForSingleObject( child, 60000 )) TerminateProcess( child, 1 );
        GetExitCodeProcess( child, &code );
        ok( !code, "bind of an associated socket with a %s address: child exit code %#lx\n",
            lens[i] ? "200-byte" : "longer than the memory above the stack", code );
        CloseHandle( child );
    }
}

/* connects to one peer while a TCP reservation is live in the kernel's
 * range and connections whose ports the kernel chose stay open: the ports
 * portres picks must never collide with theirs */
static SOCKET old_conns[OLD_CONNS][2], collision_listener;
static struct sockaddr_storage collision_peer;

static void open_kernel_connections( void )
{
    int len, failed = 0;

    collision_listener = loopback_listener( &collision_peer, &len );
    listen( collision_listener, SOMAXCONN );
    for (int i = 0; i < OLD_CONNS; i++)
    {
        old_conns[i][0] = new_socket( AF_INET, 0 );
        if (connect( old_conns[i][0], (struct sockaddr *)&collision_peer, len )) failed++;
        old_conns[i][1] = accept( collision_listener, NULL, NULL );
    }
    ok( !failed, "%d of %d connects without reservations failed\n", failed, OLD_CONNS );
}

static void test_connect_collisions( void )
{
    static SOCKET conns[BATCH][2];
    DWORD begin = GetTickCount();
    int failed = 0, done = 0, open = 0, landed = 0, first_err = 0;
    SOCKET holder = new_socket( AF_INET, 0 );

    /* one small TCP block where the kernel picks ports: every port-0 and
     * implicit TCP bind is portres's from now on */
    cover_count[0] = 0;
    for (unsigned int start = kernel_first + 100; start < kernel_first + 2000 && !cover_count[0]; start += 10)
        if (!acquire( holder, start, 10, &cover[0][0] )) cover_count[0] = 1;
    ok( cover_count[0], "no 10-port TCP block free near %u\n", kernel_first );

    for (done = 0; done < NEW_CONNS && GetTickCount() - begin < 120000; done++)
    {
        SOCKET c = new_socket( AF_INET, 0 );

        if (connect( c, (struct sockaddr *)&collision_peer, sizeof(struct sockaddr_in) ))
        {
            if (!failed++) first_err = WSAGetLastError();
            closesocket( c );
        }
        else
        {
            if (covered( 0, local_port( c ) )) landed++;
            conns[open][0] = c;
            conns[open][1] = accept( collision_listener, NULL, NULL );
            open++;
        }
        if (open == BATCH || done == NEW_CONNS - 1)
        {
            for (int i = 0; i < open; i++)
            {
                closesocket( conns[i][0] );
                closesocket( conns[i][1] );
            }
            open = 0;
        }
    }
    for (int i = 0; i < open; i++)
    {
        closesocket( conns[i][0] );
        closesocket( conns[i][1] );
    }
    ok( done == NEW_CONNS, "only %d connects in 120 s\n", done );
    ok( !failed, "%d of %d connects failed (first error %d)\n", failed, done, first_err );
    ok( !landed, "%d of %d connects landed inside a reservation\n", landed, done );
    for (int i = 0; i < OLD_CONNS; i++)
    {
        closesocket( old_conns[i][0] );
        closesocket( old_conns[i][1] );
    }
    closesocket( collision_listener );
    closesocket( holder );
    cover_count[0] = 0;
}

/* for tests/scripts/trace.sh: a port-0 bind from a 1-port block, then one
 * refused WSAEADDRINUSE (the block is full); exit code 0 if so */
static int refuse_child( void )
{
    INET_PORT_RESERVATION_INSTANCE own;
    SOCKET a = new_socket( AF_INET, 0 ), b = new_socket( AF_INET, 0 );

    if (acquire( a, 0, 1, &own ) || associate( a, own.Token.Token ) || associate( b, own.Token.Token )) return 1;
    if (bind_loopback( a, AF_INET, 0 )) return 2;
    return bind_loopback( b, AF_INET, 0 ) == WSAEADDRINUSE ? 0 : 3;
}

START_TEST(implicit)
{
    WSADATA data;
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    WSAStartup( MAKEWORD( 2, 2 ), &data );
    if (argc >= 3 && !strcmp( argv[1], "overread" )) exit( overread_child( atoi( argv[2] ) ) );
    if (argc >= 2 && !strcmp( argv[1], "refuse" )) exit( refuse_child() );

    read_kernel_range();
    bind_before_reservations();
    open_kernel_connections();
    if (cover_kernel_range())
    {
        test_bound_before_reservations();
        test_listen();
        test_connectex();
        test_sendmsg();
        test_connect_by();
        test_released_association();
    }
    uncover_kernel_range();
    test_connect_collisions();
    test_handle_reuse();
    test_bind_length();
    WSACleanup();
}
