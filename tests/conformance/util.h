/*
 * util.h - helpers shared by the conformance tests, each written once:
 * administrator rights and a token without them, this program run again
 * as a child (with or without them), sockets on loopback, the three
 * ioctls, the persistent functions of either protocol, the registry's
 * persistent list, and finding a block of ports that nothing on the
 * machine holds (the port tables, test binds on 127.0.0.1 and ::1, and a
 * test acquire).  A file using bound_socket() on ::1 or find_block() sets
 * have_ipv6 first (detect_ipv6()).
 *
 * Functions named for a check (acquire, release, associate) add one ok()
 * on the byte count of a success; the others check nothing.
 */

#ifndef PORTRES_TEST_UTIL_H
#define PORTRES_TEST_UTIL_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "test.h"
#include "names.h"

/* each test looks for a free block in its own window of WINDOW ports */
#define WINDOW 200

static BOOL have_ipv6;

/* for messages: proto_name[udp] */
static const char *const proto_name[2] = { "TCP", "UDP" };

/* --- rights ---------------------------------------------------------------- */

/* BUILTIN\Administrators, for FreeSid(); NULL if it cannot be made */
static inline PSID admins_sid( void )
{
    SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    PSID sid = NULL;

    if (!AllocateAndInitializeSid( &nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
                                   0, 0, 0, 0, 0, 0, &sid ))
        return NULL;
    return sid;
}

/* what portres (and the documentation) calls an administrator:
 * CheckTokenMembership of the effective token (the thread's when
 * impersonating) in BUILTIN\Administrators */
static inline BOOL is_admin( void )
{
    PSID sid = admins_sid();
    BOOL member = FALSE;

    if (!sid) return FALSE;
    if (!CheckTokenMembership( NULL, sid, &member )) member = FALSE;
    FreeSid( sid );
    return member;
}

/* the process token with BUILTIN\Administrators made deny-only
 * (CreateRestrictedToken with it as a SID to disable), a primary token
 * for CreateProcessAsUser or DuplicateTokenEx; NULL, with one skip,
 * where it cannot be made */
static inline HANDLE restricted_token( void )
{
    SID_AND_ATTRIBUTES disable = { admins_sid(), 0 };
    HANDLE process = NULL, restricted = NULL;

    if (!disable.Sid || !OpenProcessToken( GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY,
                                           &process ))
        skip( "no token without administrator rights: no SID or process token, error %lu\n", GetLastError() );
    else if (!CreateRestrictedToken( process, 0, 1, &disable, 0, NULL, 0, NULL, &restricted ))
    {
        skip( "no token without administrator rights: CreateRestrictedToken(process token, 0, 1 SID to disable = "
              "BUILTIN\\Administrators) failed %lu\n", GetLastError() );
        restricted = NULL;
    }
    if (process) CloseHandle( process );
    if (disable.Sid) FreeSid( disable.Sid );
    return restricted;
}

/* --- this program as a child ------------------------------------------------ */

/* CreateProcessW, or CreateProcessAsUserW with token, of cmdw (no
 * application name, no creation flags, inherit as given).  A process that
 * dies before its start was reported to the server fails with
 * ERROR_INTERNAL_ERROR under Wine (its Unix process ended before any of
 * its DLLs ran, e.g. a loader that could not map itself on a loaded
 * machine): tried once more, with a trace line. */
static inline BOOL create_process( HANDLE token, WCHAR *cmdw, BOOL inherit, STARTUPINFOW *si,
                                   PROCESS_INFORMATION *pi )
{
    for (int attempt = 0;; attempt++)
    {
        BOOL ret = token ? CreateProcessAsUserW( token, NULL, cmdw, NULL, NULL, inherit, 0, NULL, NULL, si, pi )
                         : CreateProcessW( NULL, cmdw, NULL, NULL, inherit, 0, NULL, NULL, si, pi );
        if (ret || GetLastError() != ERROR_INTERNAL_ERROR || attempt) return ret;
        trace( "the child died before its start (ERROR_INTERNAL_ERROR): starting it once more\n" );
    }
}

/* start this program again as "PROGRAM ARGS..." (printf-style), with
 * token (a primary token, or NULL for this process's own); its process
 * handle, or NULL with GetLastError() saying why.  Nothing is checked. */
static inline WINETEST_PRINTF(2, 3) HANDLE start_self( HANDLE token, const char *fmt, ... )
{
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    char cmd[MAX_PATH + 256];
    WCHAR cmdw[MAX_PATH + 256];
    va_list args;
    size_t len;

    winetest_self_command( cmd, sizeof(cmd) - 1 );
    len = strlen( cmd );
    cmd[len++] = ' ';
    va_start( args, fmt );
    vsnprintf( cmd + len, sizeof(cmd) - len, fmt, args );
    va_end( args );
    MultiByteToWideChar( CP_ACP, 0, cmd, -1, cmdw, ARRAYSIZE(cmdw) );
    fflush( stdout );
    if (!create_process( token, cmdw, FALSE, &si, &pi )) return NULL;
    CloseHandle( pi.hThread );
    return pi.hProcess;
}

/* run this program again as "PROGRAM ARGS..." without administrator
 * rights (restricted_token()) and wait up to 30 s (one check that it
 * ended); its exit code, or -1 (skipped) where it cannot be started */
static inline WINETEST_PRINTF(1, 2) int run_without_admin( const char *fmt, ... )
{
    HANDLE token, process;
    char args[256];
    va_list valist;
    DWORD code = 255, ret, err;

    va_start( valist, fmt );
    vsnprintf( args, sizeof(args), fmt, valist );
    va_end( valist );
    if (!(token = restricted_token())) return -1;
    process = start_self( token, "%s", args );
    err = GetLastError();
    CloseHandle( token );
    if (!process)
    {
        skip( "cannot start a process without administrator rights: error %lu\n", err );
        return -1;
    }
    ret = WaitForSingleObject( process, 30000 );
    ok( ret == WAIT_OBJECT_0, "the child without administrator rights did not end: %lu\n", ret );
    if (ret != WAIT_OBJECT_0) TerminateProcess( process, 1 );
    WaitForSingleObject( process, 5000 );
    GetExitCodeProcess( process, &code );
    CloseHandle( process );
    return code;
}

/* the name of a named object WHAT of the parent process PID, shared
 * with its children: "Local\portres-test-WHAT-PID" */
static inline void object_name( char *buf, size_t size, const char *what, DWORD pid )
{
    snprintf( buf, size, "Local\\portres-test-%s-%lu", what, pid );
}

/* that event, made (manual reset, not set) or opened; NULL if it cannot be */
static inline HANDLE named_event( const char *what, DWORD pid, BOOL create )
{
    char name[96];

    object_name( name, sizeof(name), what, pid );
    if (create) return CreateEventA( NULL, TRUE, FALSE, name );
    return OpenEventA( EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, name );
}

/* --- sockets ---------------------------------------------------------------- */

/* WSAStartup 2.2; FALSE, with a skip, if it fails */
static inline BOOL start_winsock( void )
{
    WSADATA data;

    if (!WSAStartup( MAKEWORD( 2, 2 ), &data )) return TRUE;
    skip( "WSAStartup failed\n" );
    return FALSE;
}

static inline SOCKET new_socket( int family, int udp )
{
    return socket( family, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP );
}

/* close a connected socket with a reset: no TIME_WAIT is left behind */
static inline void abort_close( SOCKET s )
{
    struct linger linger = { 1, 0 };

    setsockopt( s, SOL_SOCKET, SO_LINGER, (char *)&linger, sizeof(linger) );
    closesocket( s );
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

/* the three codes and their names, for loops over them */
static const DWORD ioctl_codes[3] = { SIO_ACQUIRE_PORT_RESERVATION, SIO_RELEASE_PORT_RESERVATION,
                                      SIO_ASSOCIATE_PORT_RESERVATION };
static const char *const ioctl_names[3] = { "acquire", "release", "associate" };

/* the same when the byte count does not matter */
static inline int ioctl_err( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size )
{
    DWORD bytes;
    return ioctl_bytes( s, code, in, in_size, out, out_size, &bytes );
}

/* SIO_ACQUIRE_PORT_RESERVATION of start+count (host order; start 0: a
 * wildcard block) on s: 0 or the Winsock error, *inst and *bytes as returned */
static inline int acquire_bytes( SOCKET s, USHORT start, USHORT count, INET_PORT_RESERVATION_INSTANCE *inst,
                                 DWORD *bytes )
{
    INET_PORT_RANGE range;

    range.StartPort = htons( start );
    range.NumberOfPorts = count;
    memset( inst, 0, sizeof(*inst) );
    *bytes = 0xdeadbeef;
    return ioctl_bytes( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), inst, sizeof(*inst), bytes );
}

/* the same, unchecked */
static inline int acquire_block( SOCKET s, USHORT start, USHORT count, INET_PORT_RESERVATION_INSTANCE *inst )
{
    DWORD bytes;
    return acquire_bytes( s, start, count, inst, &bytes );
}

/* the same, checking that a success returns 16 bytes */
static inline int acquire( SOCKET s, USHORT start, USHORT count, INET_PORT_RESERVATION_INSTANCE *inst )
{
    DWORD bytes;
    int err = acquire_bytes( s, start, count, inst, &bytes );

    if (!err) decision( "behaviour §3: acquire returns 16 bytes" )
        ok( bytes == sizeof(*inst), "acquire %u+%u: %lu bytes returned\n", start, count, bytes );
    return err;
}

/* SIO_RELEASE_PORT_RESERVATION or SIO_ASSOCIATE_PORT_RESERVATION of token
 * on s: 0 or the Winsock error, *bytes as returned */
static inline int token_ioctl_bytes( SOCKET s, DWORD code, ULONG64 token, DWORD *bytes )
{
    INET_PORT_RESERVATION_TOKEN tok;

    tok.Token = token;
    *bytes = 0xdeadbeef;
    return ioctl_bytes( s, code, &tok, sizeof(tok), NULL, 0, bytes );
}

/* the same, unchecked */
static inline int token_ioctl( SOCKET s, DWORD code, ULONG64 token )
{
    DWORD bytes;
    return token_ioctl_bytes( s, code, token, &bytes );
}

/* the same, checking that a success returns no bytes */
static inline int token_ioctl_ok( SOCKET s, DWORD code, ULONG64 token )
{
    DWORD bytes;
    int err = token_ioctl_bytes( s, code, token, &bytes );

    if (!err) decision( "behaviour §3: release and associate return 0 bytes" )
        ok( bytes == 0, "%s %#llx: %lu bytes returned\n", code == SIO_RELEASE_PORT_RESERVATION ? "release"
            : "associate", (unsigned long long)token, bytes );
    return err;
}

static inline int release( SOCKET s, ULONG64 token )
{
    return token_ioctl_ok( s, SIO_RELEASE_PORT_RESERVATION, token );
}

static inline int associate( SOCKET s, ULONG64 token )
{
    return token_ioctl_ok( s, SIO_ASSOCIATE_PORT_RESERVATION, token );
}

/* the first port of a reservation, host order */
static inline USHORT inst_start( const INET_PORT_RESERVATION_INSTANCE *inst )
{
    return ntohs( inst->Reservation.StartPort );
}

/* --- persistent reservations ------------------------------------------------ */

/* The conformance kit's ledger (tests/kit): when PORTRES_TEST_LEDGER names
 * a file, every persistent block a test may create is written there as
 * "+ tcp|udp START COUNT" before the call, and "- ..." once it fails or
 * the block is deleted, so that the kit deletes what a failed, crashed or
 * killed test left behind.  Nothing is checked. */
static inline void ledger_note( char sign, int udp, USHORT start, USHORT count )
{
    char path[MAX_PATH], line[64];
    HANDLE file;
    DWORD len, written;

    if (!start || !count || start + count > 65536) return;
    if (!GetEnvironmentVariableA( "PORTRES_TEST_LEDGER", path, sizeof(path) )) return;
    file = CreateFileA( path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL );
    if (file == INVALID_HANDLE_VALUE) return;
    len = snprintf( line, sizeof(line), "%c %s %u %u\r\n", sign, udp ? "udp" : "tcp", start, count );
    WriteFile( file, line, len, &written, NULL );
    FlushFileBuffers( file );
    CloseHandle( file );
}

/* {Create,Delete,Lookup}Persistent{Tcp,Udp}PortReservation, start in host
 * order; Create and Delete keep the kit's ledger */
static inline ULONG persistent_create( int udp, USHORT start, USHORT count, ULONG64 *token )
{
    ULONG err;

    ledger_note( '+', udp, start, count );
    err = udp ? CreatePersistentUdpPortReservation( htons( start ), count, token )
              : CreatePersistentTcpPortReservation( htons( start ), count, token );
    if (err) ledger_note( '-', udp, start, count );
    return err;
}

static inline ULONG persistent_delete( int udp, USHORT start, USHORT count )
{
    ULONG err = udp ? DeletePersistentUdpPortReservation( htons( start ), count )
                    : DeletePersistentTcpPortReservation( htons( start ), count );

    if (!err) ledger_note( '-', udp, start, count );
    return err;
}

static inline ULONG persistent_lookup( int udp, USHORT start, USHORT count, ULONG64 *token )
{
    return udp ? LookupPersistentUdpPortReservation( htons( start ), count, token )
               : LookupPersistentTcpPortReservation( htons( start ), count, token );
}

/* portres's persistent list in a Wine prefix's registry (the \Tcp and
 * \Udp keys, 64-bit view) as text, "[Tcp] START-END=TOKEN ...[Udp] ...",
 * to compare before and after; a missing key is an empty list, and there
 * is none on Windows */
static inline void registry_snapshot( char *buf, size_t size )
{
    static const WCHAR *const keys[2] = { PORTRES_W(PORTRES_REGISTRY_TCP_KEY), PORTRES_W(PORTRES_REGISTRY_UDP_KEY) };
    size_t len = 0;

    buf[0] = 0;
    for (int i = 0; i < 2; i++)
    {
        HKEY key;

        len += snprintf( buf + len, size - len, "[%s]", i ? PORTRES_REGISTRY_UDP_NAME : PORTRES_REGISTRY_TCP_NAME );
        if (len >= size) break;
        if (RegOpenKeyExW( HKEY_LOCAL_MACHINE, keys[i], 0, KEY_READ | KEY_WOW64_64KEY, &key )) continue;
        for (DWORD j = 0; len < size; j++)
        {
            char name[256], data[256];
            DWORD name_len = sizeof(name), data_len = sizeof(data) - 1, type = 0;
            LONG err = RegEnumValueA( key, j, name, &name_len, NULL, &type, (BYTE *)data, &data_len );

            if (err == ERROR_NO_MORE_ITEMS) break;
            if (err == ERROR_MORE_DATA) strcpy( data, "<long>" );
            else if (err)
            {
                len += snprintf( buf + len, size - len, "<error %ld>", err );
                break;
            }
            else data[min( data_len, sizeof(data) - 1 )] = 0;
            if (type != REG_SZ) snprintf( data, sizeof(data), "<type %lu, %lu bytes>", type, data_len );
            len += snprintf( buf + len, size - len, " %s=%s", name, data );
        }
        RegCloseKey( key );
    }
}

/* --- loopback ----------------------------------------------------------------- */

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
    struct sockaddr_storage addr;
    SOCKET s = new_socket( family, udp );
    int len;

    if (s == INVALID_SOCKET) return s;
    set_loopback( &addr, family, port, &len );
    if (bind( s, (struct sockaddr *)&addr, len ) || (!udp && !bind_only && listen( s, 5 )))
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

/* have_ipv6: whether a UDP socket can be bound on ::1 */
static inline BOOL detect_ipv6( void )
{
    SOCKET s = bound_socket( AF_INET6, 1, 0 );

    have_ipv6 = s != INVALID_SOCKET;
    if (have_ipv6) closesocket( s );
    return have_ipv6;
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
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET s = new_socket( AF_INET, udp );
    BOOL ret = TRUE;
    int err;

    if (s == INVALID_SOCKET) return TRUE;
    if (!(err = acquire_block( s, start, count, &inst )))
        token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, inst.Token.Token );
    else ret = err != WSAEADDRINUSE;
    closesocket( s );
    return ret;
}

/* the ports every test window lies in; a window is WINDOW ports of it */
#define TEST_AREA_FIRST 40000
#define TEST_AREA_END   49000

/* the first block of count ports in first..last-1 that no socket of the
 * machine holds and no TCP or UDP reservation overlaps */
static inline BOOL find_block_in( unsigned int first, unsigned int last, USHORT count, USHORT *start )
{
    unsigned int base, i;

    for (base = first; base + count <= last; base++)
    {
        for (i = 0; i < count; i++) if (!port_free( base + i )) break;
        if (i < count) { base += i; continue; }
        if (!block_unreserved( 0, base, count ) || !block_unreserved( 1, base, count )) continue;
        *start = base;
        return TRUE;
    }
    return FALSE;
}

/* port_in_table anew: the local ports of the machine's TCP and UDP tables, IPv4 and IPv6 */
static inline void read_port_tables( void )
{
    memset( port_in_table, 0, sizeof(port_in_table) );
    read_port_table( 0, AF_INET );
    read_port_table( 0, AF_INET6 );
    read_port_table( 1, AF_INET );
    read_port_table( 1, AF_INET6 );
}

/* find_block: a free block of count ports, the first in first..first+
 * WINDOW-1; when other sockets hold too much of that window (the window
 * lies in Linux's ephemeral range, where other programs' connections and
 * their TIME_WAIT ports land), the first after it in the test area, then
 * before it.  Only one test runs at a time, so a block past its own window
 * meets no other test's.  Skips (FALSE) only when the whole area is taken. */
static inline BOOL find_block( USHORT first, USHORT count, USHORT *start )
{
    read_port_tables();
    if (find_block_in( first, first + WINDOW, count, start )) return TRUE;
    if (find_block_in( first + WINDOW, TEST_AREA_END, count, start ) ||
        find_block_in( TEST_AREA_FIRST, first, count, start ))
    {
        trace( "ports %u-%u are taken: %u ports at %u instead\n", first, first + WINDOW - 1, count, *start );
        return TRUE;
    }
    skip( "no block of %u free ports in %u-%u\n", count, TEST_AREA_FIRST, TEST_AREA_END - 1 );
    return FALSE;
}

#endif /* PORTRES_TEST_UTIL_H */
