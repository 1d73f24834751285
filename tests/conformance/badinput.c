/*
 * badinput.c - bad input to the nine port reservation entry points
 *
 * Every case calls one entry point with one bad argument (or a request
 * that must be refused) and checks
 *   (a) the error code of SPEC §2/§3: the ERROR_* return of the IP Helper
 *       functions, WSAGetLastError() after SOCKET_ERROR for WSAIoctl, and
 *       *lpcbBytesReturned == 0 where SPEC says so;
 *   (b) under Wine, that the reservation pool (the whole struct
 *       portres_pool in the section Global\portres-pool-1) and the
 *       persistent list in the registry (HKLM\Software\Wine\Portres\Tcp
 *       and \Udp, 64-bit view) are byte for byte what they were before.
 * Real Windows has neither store, so (b) is skipped there once; (a) is
 * checked on Windows 10/11 too, and the few cases whose Windows behaviour
 * SPEC does not give (marked "Wine only") run only under Wine.
 *
 * The setup that legitimately changes the pool (runtime reservations, and
 * persistent ones when we are an administrator) is done before the first
 * snapshot and undone at the end.  Specific blocks use ports 48600-48999
 * only, loopback only, and are checked to be free first.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stddef.h>
#include <stdlib.h>

#include "util.h"
#include "pool.h"

#ifndef SIO_ACQUIRE_PORT_RESERVATION
#define SIO_ACQUIRE_PORT_RESERVATION   _WSAIOW(IOC_VENDOR, 100)
#define SIO_RELEASE_PORT_RESERVATION   _WSAIOW(IOC_VENDOR, 101)
#define SIO_ASSOCIATE_PORT_RESERVATION _WSAIOW(IOC_VENDOR, 102)
#endif

#define ok_(line, cond, ...) winetest_ok( __FILE__, line, (cond) ? 1 : 0, __VA_ARGS__ )

/* the blocks of this test (host order), all inside 48600-48999 */
#define PT_START    48610   /* persistent TCP (administrator only) */
#define PT_COUNT    10
#define PU_START    48650   /* persistent UDP (administrator only) */
#define PU_COUNT    10
#define RT_START    48700   /* runtime TCP, acquired on sock_tcp */
#define RT_COUNT    10
#define RU_START    48750   /* runtime UDP, acquired on sock_udp */
#define RU_COUNT    10
#define REL_START   48800   /* runtime TCP, acquired then released */
#define REL_COUNT   2
#define CLO_START   48820   /* runtime TCP, its acquiring socket closed */
#define CLO_COUNT   2
#define FREE_START  48900   /* never reserved by anyone */
#define FREE_COUNT  5
#define BOUND_PORT  48910   /* bound (TCP, 127.0.0.1, not listening) by sock_bound */
#define LISTEN_PORT 48911   /* TCP listener on 127.0.0.1, sock_listen */
#define UDP_PORT    48912   /* bound (UDP, 127.0.0.1) by sock_bound_udp */

/* tokens nobody handed out (collision with a live one is not plausible) */
#define UNKNOWN_TOKEN            0x0badc0ffee0d15c5ull
#define UNKNOWN_PERSISTENT_TOKEN 0x8badc0ffee0d15c5ull

#define INVALID_SOCKET_VALUE ((SOCKET)(ULONG_PTR)0xdead0)

static BOOL is_wine, admin, have_state;
static const struct portres_pool *pool_view;
static HANDLE pool_section;
static struct portres_pool *pool_before;
static char reg_before[8192], reg_after[8192], reg_initial[8192];
static const char *case_name;
static unsigned int cases;
static DWORD case_start;

static SOCKET sock_tcp = INVALID_SOCKET, sock_udp = INVALID_SOCKET;      /* hold RT, RU */
static SOCKET sock_tcp2 = INVALID_SOCKET, sock_udp2 = INVALID_SOCKET;    /* fresh, for associate */
static SOCKET sock_bound = INVALID_SOCKET, sock_raw = INVALID_SOCKET;
static SOCKET sock_listen = INVALID_SOCKET, sock_bound_udp = INVALID_SOCKET;
static HANDLE not_socket;
static ULONG64 rt_token, ru_token, rel_token, clo_token, pt_token, pu_token;
static BOOL have_rt, have_ru, have_rel, have_clo, have_pt, have_pu;
static void *readonly_page;

/* ------------------------------------------------------------------------ */
/* the state of (b): pool and registry                                      */

/* where in struct portres_pool offset off lies, for the failure message */
static void describe_offset( size_t off, char *buf, size_t size )
{
    static const struct { size_t offset; const char *name; } fields[] =
    {
        { offsetof(struct portres_pool, magic), "magic" },
        { offsetof(struct portres_pool, version), "version" },
        { offsetof(struct portres_pool, next_owner), "next_owner" },
        { offsetof(struct portres_pool, used), "used" },
        { offsetof(struct portres_pool, next_token), "next_token" },
        { offsetof(struct portres_pool, live), "live" },
        { offsetof(struct portres_pool, dyn_first), "dyn_first" },
        { offsetof(struct portres_pool, dyn_count), "dyn_count" },
    };
    size_t bitmap = offsetof(struct portres_pool, bitmap), res = offsetof(struct portres_pool, res);

    if (off >= res)
    {
        size_t slot = (off - res) / sizeof(struct portres_reservation);
        const struct portres_reservation *r = &pool_view->res[slot];
        snprintf( buf, size, "res[%lu], now token %#llx %s %u+%u", (unsigned long)slot,
                  (unsigned long long)r->token, r->proto ? "UDP" : "TCP", r->start, r->count );
    }
    else if (off >= bitmap)
    {
        size_t byte = off - bitmap;
        snprintf( buf, size, "bitmap of %s, ports %lu-%lu", byte / (65536 / 8) ? "UDP" : "TCP",
                  (unsigned long)(byte % (65536 / 8) * 8), (unsigned long)(byte % (65536 / 8) * 8 + 7) );
    }
    else
    {
        const char *name = "header";
        for (size_t i = 0; i < ARRAYSIZE(fields); i++) if (off >= fields[i].offset) name = fields[i].name;
        snprintf( buf, size, "%s", name );
    }
}

static void begin_case( const char *name )
{
    cases++;
    case_name = name;
    case_start = GetTickCount();
    if (!have_state) return;
    memcpy( pool_before, pool_view, sizeof(*pool_before) );
    registry_snapshot( reg_before, sizeof(reg_before) );
}

static void end_case( int line )
{
    const unsigned char *a = (const unsigned char *)pool_before, *b = (const unsigned char *)pool_view;
    size_t off, size = sizeof(*pool_before);
    char where[128];
    DWORD elapsed = GetTickCount() - case_start;

    /* nothing here waits: a slow case is worth a line */
    if (elapsed > 2000) trace( "%s took %lu ms\n", case_name, elapsed );
    if (!have_state) return;
    for (off = 0; off < size && a[off] == b[off]; off++) ;
    if (off < size) describe_offset( off, where, sizeof(where) );
    ok_( line, off == size, "%s: pool changed, first at offset %lu (%s)\n", case_name, (unsigned long)off,
         off < size ? where : "" );
    registry_snapshot( reg_after, sizeof(reg_after) );
    ok_( line, !strcmp( reg_before, reg_after ), "%s: registry changed: before \"%s\", after \"%s\"\n",
         case_name, reg_before, reg_after );
}

/* ------------------------------------------------------------------------ */
/* IP Helper cases                                                          */

/* Create and Delete need administrator rights; SPEC does not say whether
 * Windows checks them before or after the arguments, so without them
 * ERROR_ACCESS_DENIED is an accepted answer as well */
static BOOL expected_admin_error( ULONG got, ULONG want )
{
    return got == want || (!admin && got == ERROR_ACCESS_DENIED);
}

#define TOKEN_VALID    ((ULONG64 *)0)
#define TOKEN_NULL     ((ULONG64 *)1)
#define TOKEN_READONLY ((ULONG64 *)2)

static ULONG64 *token_arg( ULONG64 *which, ULONG64 *buf )
{
    if (which == TOKEN_NULL) return NULL;
    if (which == TOKEN_READONLY) return readonly_page;
    return buf;
}

static const char *token_desc( ULONG64 *which )
{
    return which == TOKEN_NULL ? ", NULL token" : which == TOKEN_READONLY ? ", read-only token" : "";
}

#define create_case(tcp, start, count, tok, want, what) create_case_( __LINE__, tcp, start, count, tok, want, what )
static void create_case_( int line, BOOL tcp, USHORT start, USHORT count, ULONG64 *which, ULONG want,
                          const char *what )
{
    ULONG64 token = 0;
    char name[160];
    ULONG err;

    snprintf( name, sizeof(name), "CreatePersistent%sPortReservation(%u, %u%s) [%s]", tcp ? "Tcp" : "Udp",
              start, count, token_desc( which ), what );
    begin_case( name );
    err = persistent_create( !tcp, start, count, token_arg( which, &token ) );
    ok_( line, expected_admin_error( err, want ), "%s: got %lu, expected %lu\n", name, err, want );
    end_case( line );
    if (err == NO_ERROR)  /* wrongly created: undo it for the next cases */
        persistent_delete( !tcp, start, count );
}

#define delete_case(tcp, start, count, want, what) delete_case_( __LINE__, tcp, start, count, want, what )
static void delete_case_( int line, BOOL tcp, USHORT start, USHORT count, ULONG want, const char *what )
{
    char name[160];
    ULONG err;

    snprintf( name, sizeof(name), "DeletePersistent%sPortReservation(%u, %u) [%s]", tcp ? "Tcp" : "Udp",
              start, count, what );
    begin_case( name );
    err = persistent_delete( !tcp, start, count );
    ok_( line, expected_admin_error( err, want ), "%s: got %lu, expected %lu\n", name, err, want );
    end_case( line );
}

#define lookup_case(tcp, start, count, tok, want, what) lookup_case_( __LINE__, tcp, start, count, tok, want, what )
static void lookup_case_( int line, BOOL tcp, USHORT start, USHORT count, ULONG64 *which, ULONG want,
                          const char *what )
{
    ULONG64 token = 0;
    char name[160];
    ULONG err;

    snprintf( name, sizeof(name), "LookupPersistent%sPortReservation(%u, %u%s) [%s]", tcp ? "Tcp" : "Udp",
              start, count, token_desc( which ), what );
    begin_case( name );
    err = persistent_lookup( !tcp, start, count, token_arg( which, &token ) );
    /* Lookup needs no rights: the exact code everywhere */
    ok_( line, err == want, "%s: got %lu, expected %lu\n", name, err, want );
    end_case( line );
}

/* ------------------------------------------------------------------------ */
/* WSAIoctl cases                                                           */

#define IO_NULL_BYTES   1   /* pass lpcbBytesReturned = NULL */
#define IO_CHECK_BYTES  2   /* *lpcbBytesReturned must be 0 afterwards */
#define IO_CLOSE_FIRST  4   /* close s after the snapshot, then call */

static const char *code_name( DWORD code )
{
    return code == SIO_ACQUIRE_PORT_RESERVATION ? "SIO_ACQUIRE_PORT_RESERVATION"
         : code == SIO_RELEASE_PORT_RESERVATION ? "SIO_RELEASE_PORT_RESERVATION"
         : "SIO_ASSOCIATE_PORT_RESERVATION";
}

#define ioctl_case(what, s, code, in, in_size, out, out_size, flags, want) \
    ioctl_case_( __LINE__, what, s, code, in, in_size, out, out_size, flags, want )
static void ioctl_case_( int line, const char *what, SOCKET s, DWORD code, void *in, DWORD in_size,
                         void *out, DWORD out_size, unsigned int flags, int want )
{
    DWORD bytes = 0xdeadbeef;
    char name[160];
    int ret, err;

    snprintf( name, sizeof(name), "%s [%s]", code_name( code ), what );
    begin_case( name );
    if (flags & IO_CLOSE_FIRST) closesocket( s );
    WSASetLastError( 0xdeadbeef );
    ret = WSAIoctl( s, code, in, in_size, out, out_size, (flags & IO_NULL_BYTES) ? NULL : &bytes, NULL, NULL );
    err = ret == SOCKET_ERROR ? WSAGetLastError() : 0;
    ok_( line, ret == SOCKET_ERROR && err == want, "%s: got %d error %d, expected SOCKET_ERROR error %d\n",
         name, ret, err, want );
    if (flags & IO_CHECK_BYTES)
        ok_( line, bytes == 0, "%s: *lpcbBytesReturned %lu, expected 0\n", name, bytes );
    end_case( line );

    /* a wrongly granted acquire: give it back for the next cases */
    if (!ret && code == SIO_ACQUIRE_PORT_RESERVATION && out && out_size >= sizeof(INET_PORT_RESERVATION_INSTANCE)
        && !IsBadReadPtr( out, sizeof(INET_PORT_RESERVATION_INSTANCE) ))
    {
        token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, ((INET_PORT_RESERVATION_INSTANCE *)out)->Token.Token );
    }
}

/* acquire start+count on s for the setup; TRUE and the token on success */
static BOOL setup_acquire( SOCKET s, USHORT start, USHORT count, ULONG64 *token )
{
    INET_PORT_RESERVATION_INSTANCE inst;
    int err = acquire_block( s, start, count, &inst );

    ok( !err, "setup: acquiring %u+%u failed, error %d\n", start, count, err );
    if (err) return FALSE;
    ok( ntohs( inst.Reservation.StartPort ) == start && inst.Reservation.NumberOfPorts == count && inst.Token.Token,
        "setup: acquired %u+%u token %#llx for %u+%u\n", ntohs( inst.Reservation.StartPort ),
        inst.Reservation.NumberOfPorts, (unsigned long long)inst.Token.Token, start, count );
    *token = inst.Token.Token;
    return TRUE;
}

static BOOL blocks_free( void )
{
    static const USHORT blocks[][2] =
    {
        { PT_START, PT_COUNT }, { PU_START, PU_COUNT }, { RT_START, RT_COUNT + 5 }, { RU_START, RU_COUNT },
        { REL_START, REL_COUNT }, { CLO_START, CLO_COUNT }, { FREE_START, UDP_PORT - FREE_START + 1 },
    };

    for (size_t i = 0; i < ARRAYSIZE(blocks); i++)
        for (USHORT p = blocks[i][0]; p < blocks[i][0] + blocks[i][1]; p++)
            if (!port_free( p ))
            {
                skip( "port %u is held by something else (error %d): no bad-input tests\n", p, WSAGetLastError() );
                return FALSE;
            }
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* setup and cleanup                                                        */

static void remove_leftovers( void )
{
    /* a persistent block of ours left by a run that crashed */
    for (int tcp = 0; tcp < 2; tcp++)
    {
        USHORT start = tcp ? PT_START : PU_START, count = tcp ? PT_COUNT : PU_COUNT;
        ULONG64 token;

        if (persistent_lookup( !tcp, start, count, &token ) == NO_ERROR && admin)
        {
            trace( "deleting the leftover persistent %s block %u+%u\n", tcp ? "TCP" : "UDP", start, count );
            persistent_delete( !tcp, start, count );
        }
    }
}

static BOOL setup( void )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    ULONG err;

    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );

    readonly_page = VirtualAlloc( NULL, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READONLY );
    ok( readonly_page != NULL, "VirtualAlloc failed, error %lu\n", GetLastError() );
    not_socket = CreateEventW( NULL, TRUE, FALSE, NULL );

    sock_tcp = new_socket( AF_INET, 0 );
    sock_udp = new_socket( AF_INET, 1 );
    sock_tcp2 = new_socket( AF_INET, 0 );
    sock_udp2 = new_socket( AF_INET, 1 );
    sock_bound = new_socket( AF_INET, 0 );
    sock_listen = new_socket( AF_INET, 0 );
    sock_bound_udp = new_socket( AF_INET, 1 );
    ok( sock_tcp != INVALID_SOCKET && sock_udp != INVALID_SOCKET && sock_tcp2 != INVALID_SOCKET &&
        sock_udp2 != INVALID_SOCKET && sock_bound != INVALID_SOCKET && sock_listen != INVALID_SOCKET &&
        sock_bound_udp != INVALID_SOCKET, "socket failed, error %d\n", WSAGetLastError() );
    if (sock_tcp == INVALID_SOCKET || sock_udp == INVALID_SOCKET || sock_tcp2 == INVALID_SOCKET ||
        sock_udp2 == INVALID_SOCKET || sock_bound == INVALID_SOCKET || sock_listen == INVALID_SOCKET ||
        sock_bound_udp == INVALID_SOCKET)
        return FALSE;

    addr.sin_port = htons( BOUND_PORT );
    ok( !bind( sock_bound, (struct sockaddr *)&addr, sizeof(addr) ), "bind to %u failed, error %d\n",
        BOUND_PORT, WSAGetLastError() );
    addr.sin_port = htons( LISTEN_PORT );
    ok( !bind( sock_listen, (struct sockaddr *)&addr, sizeof(addr) ) && !listen( sock_listen, 1 ),
        "listen on %u failed, error %d\n", LISTEN_PORT, WSAGetLastError() );
    addr.sin_port = htons( UDP_PORT );
    ok( !bind( sock_bound_udp, (struct sockaddr *)&addr, sizeof(addr) ), "bind to UDP %u failed, error %d\n",
        UDP_PORT, WSAGetLastError() );

    sock_raw = socket( AF_INET, SOCK_RAW, IPPROTO_ICMP );
    if (sock_raw == INVALID_SOCKET)
        skip( "cannot create a raw ICMP socket (error %d): raw socket cases skipped\n", WSAGetLastError() );

    /* runtime reservations */
    have_rt = setup_acquire( sock_tcp, RT_START, RT_COUNT, &rt_token );
    have_ru = setup_acquire( sock_udp, RU_START, RU_COUNT, &ru_token );
    if ((have_rel = setup_acquire( sock_tcp, REL_START, REL_COUNT, &rel_token )))
        ok( !token_ioctl( sock_tcp, SIO_RELEASE_PORT_RESERVATION, rel_token ), "setup: releasing %#llx failed\n",
            (unsigned long long)rel_token );
    {
        SOCKET s = new_socket( AF_INET, 0 );
        if ((have_clo = setup_acquire( s, CLO_START, CLO_COUNT, &clo_token ))) closesocket( s );
    }
    if (!have_rt || !have_ru) return FALSE;

    /* persistent reservations */
    if (!admin) win_skip( "not an administrator: no persistent reservations, cases that need one skipped\n" );
    else
    {
        err = persistent_create( 0, PT_START, PT_COUNT, &pt_token );
        ok( err == NO_ERROR, "setup: creating persistent TCP %u+%u failed, error %lu\n", PT_START, PT_COUNT, err );
        have_pt = !err;
        err = persistent_create( 1, PU_START, PU_COUNT, &pu_token );
        ok( err == NO_ERROR, "setup: creating persistent UDP %u+%u failed, error %lu\n", PU_START, PU_COUNT, err );
        have_pu = !err;
    }

    /* the state of (b): only portres under Wine has it */
    if (!is_wine)
    {
        win_skip( "not Wine: no portres pool or registry list, only the error codes are checked\n" );
        return TRUE;
    }
    pool_section = OpenFileMappingW( FILE_MAP_READ, FALSE, PORTRES_W(PORTRES_POOL_SECTION_NAME) );
    ok( pool_section != NULL, "cannot open the pool section, error %lu\n", GetLastError() );
    if (!pool_section) return TRUE;
    pool_view = MapViewOfFile( pool_section, FILE_MAP_READ, 0, 0, sizeof(struct portres_pool) );
    ok( pool_view != NULL, "cannot map the pool section, error %lu\n", GetLastError() );
    if (!pool_view) return TRUE;
    ok( pool_view->magic == PORTRES_POOL_MAGIC && pool_view->version == PORTRES_POOL_VERSION,
        "pool magic %#x version %u\n", pool_view->magic, pool_view->version );
    ok( pool_view->live[PORTRES_TCP] >= 1 + !!have_pt && pool_view->live[PORTRES_UDP] >= 1 + !!have_pu,
        "pool live counts %u %u\n", pool_view->live[PORTRES_TCP], pool_view->live[PORTRES_UDP] );
    pool_before = malloc( sizeof(*pool_before) );
    have_state = pool_before != NULL;
    return TRUE;
}

static void cleanup( void )
{
    ULONG64 token;
    ULONG err;

    if (have_pt)
    {
        err = persistent_delete( 0, PT_START, PT_COUNT );
        ok( err == NO_ERROR, "cleanup: deleting persistent TCP %u+%u: %lu\n", PT_START, PT_COUNT, err );
        err = persistent_lookup( 0, PT_START, PT_COUNT, &token );
        ok( err == ERROR_NOT_FOUND, "cleanup: persistent TCP block still found: %lu\n", err );
    }
    if (have_pu)
    {
        err = persistent_delete( 1, PU_START, PU_COUNT );
        ok( err == NO_ERROR, "cleanup: deleting persistent UDP %u+%u: %lu\n", PU_START, PU_COUNT, err );
        err = persistent_lookup( 1, PU_START, PU_COUNT, &token );
        ok( err == ERROR_NOT_FOUND, "cleanup: persistent UDP block still found: %lu\n", err );
    }
    if (have_rt)
        ok( !token_ioctl( sock_tcp, SIO_RELEASE_PORT_RESERVATION, rt_token ),
            "cleanup: releasing the TCP block failed\n" );
    /* RU goes with its socket */
    closesocket( sock_tcp );
    closesocket( sock_udp );
    closesocket( sock_tcp2 );
    closesocket( sock_udp2 );
    closesocket( sock_bound );
    closesocket( sock_listen );
    closesocket( sock_bound_udp );
    if (sock_raw != INVALID_SOCKET) closesocket( sock_raw );
    if (not_socket) CloseHandle( not_socket );
    if (readonly_page) VirtualFree( readonly_page, 0, MEM_RELEASE );

    if (have_state)
    {
        unsigned int left = 0;

        /* nothing of ours is left in the pool, the registry is as we found it */
        for (unsigned int i = 0; i < pool_view->used && i < PORTRES_MAX_RESERVATIONS; i++)
            if (pool_view->res[i].token && pool_view->res[i].start + pool_view->res[i].count > 48600 &&
                pool_view->res[i].start <= 48999)
            {
                trace( "left in the pool: slot %u token %#llx %u+%u\n", i,
                       (unsigned long long)pool_view->res[i].token, pool_view->res[i].start, pool_view->res[i].count );
                left++;
            }
        ok( !left, "cleanup: %u reservations of 48600-48999 left in the pool\n", left );
        registry_snapshot( reg_after, sizeof(reg_after) );
        ok( !strcmp( reg_initial, reg_after ), "cleanup: registry \"%s\", was \"%s\"\n", reg_after, reg_initial );
    }
    if (pool_view) UnmapViewOfFile( pool_view );
    if (pool_section) CloseHandle( pool_section );
    free( pool_before );
}

/* ------------------------------------------------------------------------ */
/* the cases                                                                */

static void test_create( BOOL tcp )
{
    USHORT mine = tcp ? PT_START : PU_START, mine_count = tcp ? PT_COUNT : PU_COUNT;
    USHORT runtime = tcp ? RT_START : RU_START;

    create_case( tcp, 0, 10, TOKEN_VALID, ERROR_INVALID_PARAMETER, "start 0" );
    create_case( tcp, FREE_START, 0, TOKEN_VALID, ERROR_INVALID_PARAMETER, "count 0" );
    create_case( tcp, 0, 0, TOKEN_VALID, ERROR_INVALID_PARAMETER, "start 0, count 0" );
    create_case( tcp, 65535, 2, TOKEN_VALID, ERROR_INVALID_PARAMETER, "past 65535" );
    create_case( tcp, 65000, 1000, TOKEN_VALID, ERROR_INVALID_PARAMETER, "past 65535" );
    decision( "behaviour §2: a NULL Token pointer fails ERROR_INVALID_PARAMETER" )
        create_case( tcp, FREE_START, FREE_COUNT, TOKEN_NULL, ERROR_INVALID_PARAMETER, "NULL token" );
    /* Wine only: Windows may not probe the token pointer (SPEC says nothing) */
    if (is_wine)
        create_case( tcp, FREE_START, FREE_COUNT, TOKEN_READONLY, ERROR_INVALID_PARAMETER, "read-only token" );
    if (!admin) return;  /* the rest gives ERROR_ACCESS_DENIED without rights */
    if ((tcp ? have_pt : have_pu))
    {
        create_case( tcp, mine, mine_count, TOKEN_VALID, ERROR_SHARING_VIOLATION, "same block as a persistent one" );
        create_case( tcp, mine + 5, mine_count, TOKEN_VALID, ERROR_SHARING_VIOLATION, "overlaps a persistent one" );
    }
    decision( "behaviour §2: overlapping a live runtime reservation fails ERROR_SHARING_VIOLATION" )
        create_case( tcp, runtime + 5, 10, TOKEN_VALID, ERROR_SHARING_VIOLATION, "overlaps a live runtime one" );
    /* SPEC: "any port of the block is in use (bound by any process on the host)" */
    if (tcp)
    {
        create_case( tcp, BOUND_PORT - 1, 2, TOKEN_VALID, ERROR_SHARING_VIOLATION, "a port of it is bound, not listening" );
        create_case( tcp, LISTEN_PORT, 1, TOKEN_VALID, ERROR_SHARING_VIOLATION, "a port of it is listening" );
    }
    else create_case( tcp, UDP_PORT, 1, TOKEN_VALID, ERROR_SHARING_VIOLATION, "a port of it is bound" );
}

static void test_delete( BOOL tcp )
{
    USHORT mine = tcp ? PT_START : PU_START, mine_count = tcp ? PT_COUNT : PU_COUNT;
    USHORT other = tcp ? PU_START : PT_START, other_count = tcp ? PU_COUNT : PT_COUNT;
    BOOL have_mine = tcp ? have_pt : have_pu, have_other = tcp ? have_pu : have_pt;

    delete_case( tcp, 0, 10, ERROR_INVALID_PARAMETER, "start 0" );
    delete_case( tcp, mine, 0, ERROR_INVALID_PARAMETER, "count 0" );
    delete_case( tcp, 0, 0, ERROR_INVALID_PARAMETER, "start 0, count 0" );
    delete_case( tcp, 65535, 2, ERROR_INVALID_PARAMETER, "past 65535" );
    delete_case( tcp, 65000, 1000, ERROR_INVALID_PARAMETER, "past 65535" );
    delete_case( tcp, FREE_START, FREE_COUNT, ERROR_NOT_FOUND, "never created" );
    delete_case( tcp, tcp ? RT_START : RU_START, tcp ? RT_COUNT : RU_COUNT, ERROR_NOT_FOUND,
                 "the block of a runtime reservation" );
    if (have_mine)
    {
        delete_case( tcp, mine + 2, 3, ERROR_NOT_FOUND, "sub-block of a persistent one" );
        delete_case( tcp, mine, mine_count - 1, ERROR_NOT_FOUND, "its first ports" );
        delete_case( tcp, mine - 5, mine_count + 10, ERROR_NOT_FOUND, "super-block of a persistent one" );
        delete_case( tcp, mine, mine_count + 1, ERROR_NOT_FOUND, "one port longer" );
        delete_case( tcp, mine + 1, mine_count, ERROR_NOT_FOUND, "shifted block of a persistent one" );
    }
    if (have_other)
        delete_case( tcp, other, other_count, ERROR_NOT_FOUND, "a persistent block of the other protocol" );
}

static void test_lookup( BOOL tcp )
{
    USHORT mine = tcp ? PT_START : PU_START, mine_count = tcp ? PT_COUNT : PU_COUNT;
    USHORT other = tcp ? PU_START : PT_START, other_count = tcp ? PU_COUNT : PT_COUNT;
    BOOL have_mine = tcp ? have_pt : have_pu, have_other = tcp ? have_pu : have_pt;

    lookup_case( tcp, 0, 10, TOKEN_VALID, ERROR_INVALID_PARAMETER, "start 0" );
    lookup_case( tcp, mine, 0, TOKEN_VALID, ERROR_INVALID_PARAMETER, "count 0" );
    lookup_case( tcp, 0, 0, TOKEN_VALID, ERROR_INVALID_PARAMETER, "start 0, count 0" );
    lookup_case( tcp, 65535, 2, TOKEN_VALID, ERROR_INVALID_PARAMETER, "past 65535" );
    lookup_case( tcp, 65000, 1000, TOKEN_VALID, ERROR_INVALID_PARAMETER, "past 65535" );
    /* the NULL token on an existing block under Wine: the answer must not
     * depend on finding it; on Windows a block that does not exist, so
     * that an unchecked NULL would give a wrong code, not a crash */
    decision( "behaviour §2: a NULL Token pointer fails ERROR_INVALID_PARAMETER" )
        lookup_case( tcp, (is_wine && have_mine) ? mine : FREE_START, (is_wine && have_mine) ? mine_count : FREE_COUNT,
                     TOKEN_NULL, ERROR_INVALID_PARAMETER, "NULL token" );
    /* Wine only: Windows may not probe the token pointer (SPEC says nothing) */
    if (is_wine)
        lookup_case( tcp, have_mine ? mine : FREE_START, have_mine ? mine_count : FREE_COUNT, TOKEN_READONLY,
                     ERROR_INVALID_PARAMETER, "read-only token" );
    lookup_case( tcp, FREE_START, FREE_COUNT, TOKEN_VALID, ERROR_NOT_FOUND, "never created" );
    lookup_case( tcp, tcp ? RT_START : RU_START, tcp ? RT_COUNT : RU_COUNT, TOKEN_VALID, ERROR_NOT_FOUND,
                 "the block of a runtime reservation" );
    if (have_mine)
    {
        lookup_case( tcp, mine + 2, 3, TOKEN_VALID, ERROR_NOT_FOUND, "sub-block of a persistent one" );
        lookup_case( tcp, mine - 5, mine_count + 10, TOKEN_VALID, ERROR_NOT_FOUND, "super-block of a persistent one" );
        lookup_case( tcp, mine + 1, mine_count, TOKEN_VALID, ERROR_NOT_FOUND, "shifted block of a persistent one" );
    }
    if (have_other)
        lookup_case( tcp, other, other_count, TOKEN_VALID, ERROR_NOT_FOUND,
                     tcp ? "a UDP block looked up as TCP" : "a TCP block looked up as UDP" );
}

static void test_acquire( void )
{
    INET_PORT_RANGE range = { .StartPort = htons( FREE_START ), .NumberOfPorts = 2 }, bad;
    INET_PORT_RESERVATION_INSTANCE inst;
    const DWORD out_size = sizeof(inst);
    SOCKET s;

#define ACQ(what, sock, in, in_size, out, osize, flags, want) \
    ioctl_case( what, sock, SIO_ACQUIRE_PORT_RESERVATION, in, in_size, out, osize, flags, want )
#define ACQ_RANGE(what, sock, start, count, want) \
    do { bad.StartPort = htons( start ); bad.NumberOfPorts = count; \
         ACQ( what, sock, &bad, sizeof(bad), &inst, out_size, 0, want ); } while (0)

    memset( &inst, 0, sizeof(inst) );
    ACQ( "invalid socket value", INVALID_SOCKET_VALUE, &range, sizeof(range), &inst, out_size, 0, WSAENOTSOCK );
    ACQ( "INVALID_SOCKET", INVALID_SOCKET, &range, sizeof(range), &inst, out_size, 0, WSAENOTSOCK );
    if (not_socket)
        ACQ( "an event handle", (SOCKET)not_socket, &range, sizeof(range), &inst, out_size, 0, WSAENOTSOCK );
    s = new_socket( AF_INET, 0 );
    ACQ( "closed socket", s, &range, sizeof(range), &inst, out_size, IO_CLOSE_FIRST, WSAENOTSOCK );
    if (sock_raw != INVALID_SOCKET)
        ACQ( "raw ICMP socket", sock_raw, &range, sizeof(range), &inst, out_size, 0, WSAEOPNOTSUPP );

    ACQ( "NULL input", sock_tcp, NULL, sizeof(range), &inst, out_size, 0, WSAEFAULT );
    ACQ( "input pointer 1", sock_tcp, (void *)1, sizeof(range), &inst, out_size, 0, WSAEFAULT );
    ACQ( "input 2 bytes", sock_tcp, &range, 2, &inst, out_size, 0, WSAEINVAL );
    ACQ( "input 0 bytes", sock_tcp, &range, 0, &inst, out_size, 0, WSAEINVAL );
    ACQ( "output 15 bytes", sock_tcp, &range, sizeof(range), &inst, out_size - 1, IO_CHECK_BYTES, WSAEINVAL );
    ACQ( "output 8 bytes (no token)", sock_udp, &range, sizeof(range), &inst, 8, IO_CHECK_BYTES, WSAEINVAL );
    ACQ( "NULL output, 0 bytes", sock_tcp, &range, sizeof(range), NULL, 0, IO_CHECK_BYTES, WSAEINVAL );
    decision( "behaviour §3: a NULL or unwritable output or lpcbBytesReturned fails WSAEFAULT" )
        ACQ( "NULL output, 16 bytes", sock_tcp, &range, sizeof(range), NULL, out_size, 0, WSAEFAULT );
    if (readonly_page)
        ACQ( "read-only output", sock_tcp, &range, sizeof(range), readonly_page, out_size, 0, WSAEFAULT );
    decision( "behaviour §3: a NULL or unwritable output or lpcbBytesReturned fails WSAEFAULT" )
        ACQ( "NULL lpcbBytesReturned", sock_tcp, &range, sizeof(range), &inst, out_size, IO_NULL_BYTES, WSAEFAULT );

    ACQ_RANGE( "count 0", sock_tcp, FREE_START, 0, WSAEINVAL );
    ACQ_RANGE( "wildcard, count 0", sock_tcp, 0, 0, WSAEINVAL );
    ACQ_RANGE( "65535+2", sock_tcp, 65535, 2, WSAEINVAL );
    ACQ_RANGE( "65000+1000", sock_udp, 65000, 1000, WSAEINVAL );
    ACQ_RANGE( "2+65535", sock_tcp, 2, 65535, WSAEINVAL );

    ACQ_RANGE( "same block as our runtime one", sock_tcp, RT_START, RT_COUNT, WSAEADDRINUSE );
    ACQ_RANGE( "overlaps our runtime one", sock_tcp, RT_START + 5, 10, WSAEADDRINUSE );
    ACQ_RANGE( "inside our runtime one", sock_tcp2, RT_START + 2, 2, WSAEADDRINUSE );
    ACQ_RANGE( "overlaps our runtime UDP one", sock_udp2, RU_START - 1, 2, WSAEADDRINUSE );
    if (have_pt) ACQ_RANGE( "overlaps a persistent one", sock_tcp, PT_START + 5, 10, WSAEADDRINUSE );
    if (have_pu) ACQ_RANGE( "overlaps a persistent UDP one", sock_udp, PU_START, 1, WSAEADDRINUSE );
    ACQ_RANGE( "a port of it is bound by another socket, not listening", sock_tcp, BOUND_PORT - 1, 2, WSAEADDRINUSE );
    ACQ_RANGE( "a port of it is listening", sock_tcp, LISTEN_PORT, 1, WSAEADDRINUSE );
    ACQ_RANGE( "a UDP port of it is bound by another socket", sock_udp, UDP_PORT, 1, WSAEADDRINUSE );
#undef ACQ_RANGE
#undef ACQ
}

static void test_release( void )
{
    INET_PORT_RESERVATION_TOKEN tok = { rt_token }, bad;
    SOCKET s;

#define REL(what, sock, in, in_size, flags, want) \
    ioctl_case( what, sock, SIO_RELEASE_PORT_RESERVATION, in, in_size, NULL, 0, flags, want )
#define REL_TOKEN(what, sock, token, want) \
    do { bad.Token = token; REL( what, sock, &bad, sizeof(bad), 0, want ); } while (0)

    /* the invalid-socket cases carry a valid token: only the socket is wrong */
    REL( "invalid socket value", INVALID_SOCKET_VALUE, &tok, sizeof(tok), 0, WSAENOTSOCK );
    REL( "INVALID_SOCKET", INVALID_SOCKET, &tok, sizeof(tok), 0, WSAENOTSOCK );
    s = new_socket( AF_INET, 0 );
    REL( "closed socket", s, &tok, sizeof(tok), IO_CLOSE_FIRST, WSAENOTSOCK );
    if (sock_raw != INVALID_SOCKET) REL( "raw ICMP socket", sock_raw, &tok, sizeof(tok), 0, WSAEOPNOTSUPP );

    REL( "NULL input", sock_tcp, NULL, sizeof(tok), 0, WSAEFAULT );
    REL( "input pointer 1", sock_tcp, (void *)1, sizeof(tok), 0, WSAEFAULT );
    REL( "input 4 bytes", sock_tcp, &tok, 4, 0, WSAEINVAL );
    REL( "input 0 bytes", sock_tcp, &tok, 0, 0, WSAEINVAL );
    decision( "behaviour §3: a NULL or unwritable output or lpcbBytesReturned fails WSAEFAULT" )
        REL( "NULL lpcbBytesReturned", sock_tcp, &tok, sizeof(tok), IO_NULL_BYTES, WSAEFAULT );

    REL_TOKEN( "token 0", sock_tcp, 0, WSAEINVAL );
    REL_TOKEN( "unknown token", sock_tcp, UNKNOWN_TOKEN, WSAEINVAL );
    REL_TOKEN( "unknown token with the top bit", sock_tcp, UNKNOWN_PERSISTENT_TOKEN, WSAEINVAL );
    if (have_pt) REL_TOKEN( "persistent TCP token", sock_tcp, pt_token, WSAEINVAL );
    if (have_pu) REL_TOKEN( "persistent UDP token", sock_udp, pu_token, WSAEINVAL );
    if (have_rel) REL_TOKEN( "token released already", sock_tcp, rel_token, WSAEINVAL );
    if (have_clo) REL_TOKEN( "acquiring socket closed", sock_tcp, clo_token, WSAEINVAL );
#undef REL_TOKEN
#undef REL
}

static void test_associate( void )
{
    INET_PORT_RESERVATION_TOKEN tok = { rt_token }, bad;
    struct sockaddr_in addr = { .sin_family = AF_INET };
    int len = sizeof(addr);
    SOCKET s;

#define ASSOC(what, sock, in, in_size, flags, want) \
    ioctl_case( what, sock, SIO_ASSOCIATE_PORT_RESERVATION, in, in_size, NULL, 0, flags, want )
#define ASSOC_TOKEN(what, sock, token, want) \
    do { bad.Token = token; ASSOC( what, sock, &bad, sizeof(bad), 0, want ); } while (0)

    ASSOC( "invalid socket value", INVALID_SOCKET_VALUE, &tok, sizeof(tok), 0, WSAENOTSOCK );
    ASSOC( "INVALID_SOCKET", INVALID_SOCKET, &tok, sizeof(tok), 0, WSAENOTSOCK );
    s = new_socket( AF_INET, 0 );
    ASSOC( "closed socket", s, &tok, sizeof(tok), IO_CLOSE_FIRST, WSAENOTSOCK );
    if (sock_raw != INVALID_SOCKET) ASSOC( "raw ICMP socket", sock_raw, &tok, sizeof(tok), 0, WSAEOPNOTSUPP );

    ASSOC( "NULL input", sock_tcp2, NULL, sizeof(tok), 0, WSAEFAULT );
    ASSOC( "input pointer 1", sock_tcp2, (void *)1, sizeof(tok), 0, WSAEFAULT );
    ASSOC( "input 4 bytes", sock_tcp2, &tok, 4, 0, WSAEINVAL );
    decision( "behaviour §3: a NULL or unwritable output or lpcbBytesReturned fails WSAEFAULT" )
        ASSOC( "NULL lpcbBytesReturned", sock_tcp2, &tok, sizeof(tok), IO_NULL_BYTES, WSAEFAULT );

    ASSOC_TOKEN( "token 0", sock_tcp2, 0, WSAEINVAL );
    ASSOC_TOKEN( "unknown token", sock_tcp2, UNKNOWN_TOKEN, WSAEINVAL );
    ASSOC_TOKEN( "TCP token on a UDP socket", sock_udp2, rt_token, WSAEINVAL );
    ASSOC_TOKEN( "UDP token on a TCP socket", sock_tcp2, ru_token, WSAEINVAL );
    if (have_pt) ASSOC_TOKEN( "persistent TCP token on a UDP socket", sock_udp2, pt_token, WSAEINVAL );
    ASSOC_TOKEN( "socket already bound", sock_bound, rt_token, WSAEINVAL );
    if (have_rel) ASSOC_TOKEN( "token released already", sock_tcp2, rel_token, WSAEINVAL );
    if (have_clo) ASSOC_TOKEN( "acquiring socket closed", sock_tcp2, clo_token, WSAEINVAL );
#undef ASSOC_TOKEN
#undef ASSOC

    /* none of the refused associations took: a port-0 bind of the sockets
     * lands outside every block of this test */
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    ok( !bind( sock_tcp2, (struct sockaddr *)&addr, sizeof(addr) ), "bind failed, error %d\n", WSAGetLastError() );
    ok( !getsockname( sock_tcp2, (struct sockaddr *)&addr, &len ), "getsockname failed\n" );
    ok( ntohs( addr.sin_port ) < 48600 || ntohs( addr.sin_port ) > 48999,
        "TCP socket of the refused associations bound to port %u\n", ntohs( addr.sin_port ) );
    addr.sin_port = 0;
    len = sizeof(addr);
    ok( !bind( sock_udp2, (struct sockaddr *)&addr, sizeof(addr) ), "bind failed, error %d\n", WSAGetLastError() );
    ok( !getsockname( sock_udp2, (struct sockaddr *)&addr, &len ), "getsockname failed\n" );
    ok( ntohs( addr.sin_port ) < 48600 || ntohs( addr.sin_port ) > 48999,
        "UDP socket of the refused associations bound to port %u\n", ntohs( addr.sin_port ) );
}

START_TEST(badinput)
{
    WSADATA data;
    DWORD start = GetTickCount();

    ok( !WSAStartup( MAKEWORD( 2, 2 ), &data ), "WSAStartup failed\n" );
    is_wine = winetest_is_wine();
    admin = is_admin();

    if (!blocks_free()) return;
    remove_leftovers();
    registry_snapshot( reg_initial, sizeof(reg_initial) );

    if (setup())
    {
        if (GetTickCount() - start > 2000) trace( "port check and setup took %lu ms\n", GetTickCount() - start );
        test_create( TRUE );
        test_create( FALSE );
        test_delete( TRUE );
        test_delete( FALSE );
        test_lookup( TRUE );
        test_lookup( FALSE );
        test_acquire();
        test_release();
        test_associate();
    }
    cleanup();
    trace( "%u bad-input cases in %lu ms (%s, %s)\n", cases, GetTickCount() - start,
           is_wine ? "Wine" : "Windows", admin ? "administrator" : "not an administrator" );
    WSACleanup();
}
