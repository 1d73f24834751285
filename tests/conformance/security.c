/*
 * Rights (SPEC §2, §3)
 *
 * CreatePersistent*PortReservation and DeletePersistent*PortReservation
 * need administrator rights (ERROR_ACCESS_DENIED), LookupPersistent* does
 * not; SIO_ASSOCIATE_PORT_RESERVATION with a persistent token needs them
 * too (WSAEACCES).  A runtime token works only inside the process that
 * acquired it: release and associate from another process fail WSAEACCES.
 *
 * The non-administrator side runs twice, under a token made with
 * CreateRestrictedToken from the process token with BUILTIN\Administrators
 * as a SID to disable (deny-only): on a thread impersonating it, and in a
 * child process started with CreateProcessAsUserW.  The persistent blocks
 * these checks need are made before, and deleted after, as administrator.
 *
 * Children are this program again ("security runtime", "security nonadmin
 * TCPTOKEN UDPTOKEN"), talking through pipes on their stdin and stdout:
 * they end when their stdin is closed, and print their check counts on a
 * "child-summary:" line that the parent adds to its own.
 *
 * Ports 48500-48599 for specific blocks, loopback only.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdlib.h>

#include "util.h"

#define PERSIST_PORT 48500   /* persistent blocks: TCP 48500-48501, UDP 48500-48501 */
#define NEW_PORT     48510   /* blocks a non-administrator fails to create: 48510-48511 */
#define CHILD_PORT   48520   /* the runtime child's blocks: 48520-48523, TCP and UDP */
#define OWN_PORT     48530   /* the non-administrator's runtime blocks: 48530-48531 */
#define BLOCK_PORTS  2
#define WAIT_MS      5000

/* the child's check counts, for the parent: "child-summary: successes failures todo skipped" */
static void child_exit( void )
{
    printf( "child-summary: %ld %ld %ld %ld\n", winetest_successes, winetest_failures, winetest_todo_successes,
            winetest_skipped );
    fflush( stdout );
    WSACleanup();
    exit( winetest_failures > 255 ? 255 : (int)winetest_failures );
}

/* a child never outlives its bound, whatever happens to the parent */
static DWORD WINAPI watchdog( void *arg )
{
    Sleep( 3 * WAIT_MS );
    printf( "security.c: child watchdog fired\n" );
    fflush( stdout );
    ExitProcess( 254 );
}

/* block until the parent closes our stdin (or writes a line) */
static void wait_for_parent( void )
{
    char line[64];
    fgets( line, sizeof(line), stdin );
}

/* ------------------------------------------------------------------------ */
/* children                                                                  */

struct child
{
    PROCESS_INFORMATION pi;
    HANDLE out_read, in_write;
    char out[16384];
    DWORD len;
    BOOL started;
};

static BOOL start_child( struct child *c, HANDLE token, const char *args )
{
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
    STARTUPINFOW si = { .cb = sizeof(si) };
    HANDLE out_write, in_read;
    WCHAR cmdw[MAX_PATH + 128];
    char cmd[MAX_PATH + 128];
    size_t len;
    BOOL ret;

    memset( c, 0, sizeof(*c) );
    winetest_self_command( cmd, sizeof(cmd) );
    len = strlen( cmd );
    snprintf( cmd + len, sizeof(cmd) - len, " %s", args );
    MultiByteToWideChar( CP_ACP, 0, cmd, -1, cmdw, ARRAYSIZE(cmdw) );

    if (!CreatePipe( &c->out_read, &out_write, &sa, 65536 )) return FALSE;
    if (!CreatePipe( &in_read, &c->in_write, &sa, 0 ))
    {
        CloseHandle( c->out_read );
        CloseHandle( out_write );
        return FALSE;
    }
    SetHandleInformation( c->out_read, HANDLE_FLAG_INHERIT, 0 );
    SetHandleInformation( c->in_write, HANDLE_FLAG_INHERIT, 0 );
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_read;
    si.hStdOutput = out_write;
    si.hStdError = out_write;
    ret = create_process( token, cmdw, TRUE, &si, &c->pi );
    ok( ret, "%s(%s) failed %lu\n", token ? "CreateProcessAsUserW" : "CreateProcessW", cmd, GetLastError() );
    CloseHandle( out_write );
    CloseHandle( in_read );
    if (!ret)
    {
        CloseHandle( c->out_read );
        CloseHandle( c->in_write );
        return FALSE;
    }
    c->started = TRUE;
    return TRUE;
}

/* read what the child wrote so far; FALSE at the end of its output */
static BOOL read_child( struct child *c )
{
    DWORD avail = 0, got = 0;

    if (!PeekNamedPipe( c->out_read, NULL, 0, NULL, &avail, NULL )) return FALSE;
    if (!avail) return TRUE;
    if (avail > sizeof(c->out) - 1 - c->len) avail = sizeof(c->out) - 1 - c->len;
    if (!avail) return TRUE;  /* full: keep the beginning */
    if (!ReadFile( c->out_read, c->out + c->len, avail, &got, NULL )) return FALSE;
    c->len += got;
    c->out[c->len] = 0;
    return TRUE;
}

/* wait at most WAIT_MS for a line starting with prefix; its text, or NULL */
static const char *wait_child_line( struct child *c, const char *prefix )
{
    DWORD start = GetTickCount();
    size_t plen = strlen( prefix );

    for (;;)
    {
        BOOL more = read_child( c );
        for (const char *line = c->out, *end; (end = strchr( line, '\n' )); line = end + 1)
            if (!strncmp( line, prefix, plen )) return line + plen;
        if (!more || GetTickCount() - start > WAIT_MS) return NULL;
        Sleep( 10 );
    }
}

/* close the child's stdin, wait for it to end, pass its output on and
 * add its check counts to ours */
static void finish_child( struct child *c, const char *what )
{
    DWORD wait, code = 0xdeadbeef, start = GetTickCount();
    long s = 0, f = 0, t = 0, k = 0;

    if (!c->started) return;
    CloseHandle( c->in_write );
    do
    {
        read_child( c );
        wait = WaitForSingleObject( c->pi.hProcess, 10 );
    } while (wait == WAIT_TIMEOUT && GetTickCount() - start < WAIT_MS);
    ok( wait == WAIT_OBJECT_0, "%s child did not exit: wait returned %lu\n", what, wait );
    if (wait) TerminateProcess( c->pi.hProcess, 255 );
    WaitForSingleObject( c->pi.hProcess, WAIT_MS );
    while (read_child( c ) && c->len < sizeof(c->out) - 1)
    {
        DWORD avail = 0;
        if (!PeekNamedPipe( c->out_read, NULL, 0, NULL, &avail, NULL ) || !avail) break;
    }
    GetExitCodeProcess( c->pi.hProcess, &code );

    /* its own lines (failures, skips, traces) as they are, without the summary */
    for (char *line = c->out, *next; line && *line; line = next)
    {
        if ((next = strchr( line, '\n' ))) *next++ = 0;
        if (!strncmp( line, "tokens: ", 8 )) continue;
        if (strncmp( line, "child-summary: ", 15 )) printf( "%s\n", line );
        else sscanf( line + 15, "%ld %ld %ld %ld", &s, &f, &t, &k );
    }
    fflush( stdout );
    c->len = 0;
    c->out[0] = 0;
    InterlockedExchangeAdd( &winetest_successes, s );
    InterlockedExchangeAdd( &winetest_failures, f );
    InterlockedExchangeAdd( &winetest_todo_successes, t );
    InterlockedExchangeAdd( &winetest_skipped, k );
    ok( code == (DWORD)f, "%s child exited with %lu (%ld failures reported)\n", what, code, f );
    ok( s + f + t + k > 0, "%s child reported no checks\n", what );
    CloseHandle( c->out_read );
    CloseHandle( c->pi.hProcess );
    CloseHandle( c->pi.hThread );
    c->started = FALSE;
}

/* ------------------------------------------------------------------------ */
/* a runtime token is usable only in the process that acquired it           */

/* child: hold a TCP and a UDP block until the parent is done */
static void child_runtime( void )
{
    INET_PORT_RESERVATION_INSTANCE inst[2];
    SOCKET s[2];

    for (int udp = 0; udp < 2; udp++)
    {
        int err;
        s[udp] = new_socket( AF_INET, udp );
        err = acquire_block( s[udp], CHILD_PORT, 4, &inst[udp] );
        ok( !err, "child: %s acquire of %u+4 failed %d\n", proto_name[udp], CHILD_PORT, err );
    }
    printf( "tokens: %llx %llx\n", (unsigned long long)inst[0].Token.Token, (unsigned long long)inst[1].Token.Token );
    fflush( stdout );
    wait_for_parent();
    /* the parent's attempts did not take the blocks away */
    for (int udp = 0; udp < 2; udp++)
    {
        int err = token_ioctl( s[udp], SIO_RELEASE_PORT_RESERVATION, inst[udp].Token.Token );
        ok( !err, "child: %s release of its own token failed %d\n", proto_name[udp], err );
        closesocket( s[udp] );
    }
    child_exit();
}

static void test_runtime_token_other_process( void )
{
    unsigned long long tokens[2] = { 0, 0 };
    struct child c;
    const char *line;

    if (!start_child( &c, NULL, "runtime" )) return;
    line = wait_child_line( &c, "tokens: " );
    ok( line != NULL, "the child gave no tokens\n" );
    if (line && sscanf( line, "%llx %llx", &tokens[0], &tokens[1] ) == 2 && tokens[0] && tokens[1])
    {
        for (int udp = 0; udp < 2; udp++)
        {
            INET_PORT_RESERVATION_INSTANCE inst;
            SOCKET s = new_socket( AF_INET, udp ), a = new_socket( AF_INET, udp );
            int err;

            err = token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, tokens[udp] );
            ok( err == WSAEACCES, "%s release of another process's runtime token: got %d, expected WSAEACCES\n",
                proto_name[udp], err );
            err = token_ioctl( a, SIO_ASSOCIATE_PORT_RESERVATION, tokens[udp] );
            ok( err == WSAEACCES, "%s associate of another process's runtime token: got %d, expected WSAEACCES\n",
                proto_name[udp], err );
            /* the failed release left the child's block in place */
            err = acquire_block( s, CHILD_PORT, 4, &inst );
            ok( err == WSAEADDRINUSE, "%s acquire of the child's block: got %d, expected WSAEADDRINUSE\n",
                proto_name[udp], err );
            if (!err) token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, inst.Token.Token );
            /* the failed associate left the socket free to bind anywhere */
            err = bind_loopback( a, AF_INET, 0 );
            ok( !err, "%s bind after the failed associate failed %d\n", proto_name[udp], err );
            closesocket( a );
            closesocket( s );
        }
    }
    finish_child( &c, "runtime" );
}

/* ------------------------------------------------------------------------ */
/* the non-administrator side                                                */

/* every check of a caller without administrator rights; tokens are the
 * persistent reservations' (0: none was made) */
static void nonadmin_checks( const char *who, ULONG64 persist[2] )
{
    winetest_push_context( "%s", who );
    ok( !is_admin(), "CheckTokenMembership(NULL, Administrators) says administrator\n" );

    for (int udp = 0; udp < 2; udp++)
    {
        INET_PORT_RESERVATION_INSTANCE inst;
        ULONG64 token = 0;
        SOCKET s, a;
        ULONG err;
        int werr;

        winetest_push_context( "%s", proto_name[udp] );
        /* Create refused, nothing made */
        err = persistent_create( udp, NEW_PORT, BLOCK_PORTS, &token );
        ok( err == ERROR_ACCESS_DENIED, "Create without administrator rights: got %lu, expected ERROR_ACCESS_DENIED\n",
            err );
        err = persistent_lookup( udp, NEW_PORT, BLOCK_PORTS, &token );
        ok( err == ERROR_NOT_FOUND, "Lookup after the refused Create: got %lu, expected ERROR_NOT_FOUND\n", err );
        if (!err) persistent_delete( udp, NEW_PORT, BLOCK_PORTS );

        if (persist[udp])
        {
            /* Delete refused, the reservation still there; Lookup needs no rights */
            err = persistent_delete( udp, PERSIST_PORT, BLOCK_PORTS );
            ok( err == ERROR_ACCESS_DENIED, "Delete without administrator rights: got %lu, expected "
                "ERROR_ACCESS_DENIED\n", err );
            token = 0;
            err = persistent_lookup( udp, PERSIST_PORT, BLOCK_PORTS, &token );
            ok( !err, "Lookup without administrator rights failed %lu\n", err );
            ok( token == persist[udp], "Lookup gave token %#llx, expected %#llx\n",
                (unsigned long long)token, (unsigned long long)persist[udp] );

            /* associate of a persistent token refused */
            s = new_socket( AF_INET, udp );
            werr = token_ioctl( s, SIO_ASSOCIATE_PORT_RESERVATION, persist[udp] );
            ok( werr == WSAEACCES, "associate of a persistent token without administrator rights: got %d, "
                "expected WSAEACCES\n", werr );
            closesocket( s );
        }

        /* runtime reservations need no rights */
        s = new_socket( AF_INET, udp );
        a = new_socket( AF_INET, udp );
        werr = acquire_block( s, OWN_PORT, BLOCK_PORTS, &inst );
        ok( !werr, "runtime acquire of %u+%u failed %d\n", OWN_PORT, BLOCK_PORTS, werr );
        if (!werr)
        {
            USHORT port;
            werr = token_ioctl( a, SIO_ASSOCIATE_PORT_RESERVATION, inst.Token.Token );
            ok( !werr, "associate of its own runtime token failed %d\n", werr );
            werr = bind_loopback( a, AF_INET, 0 );
            port = local_port( a );
            ok( !werr && port >= OWN_PORT && port < OWN_PORT + BLOCK_PORTS,
                "bind after associate: error %d port %u\n", werr, port );
            werr = token_ioctl( s, SIO_RELEASE_PORT_RESERVATION, inst.Token.Token );
            ok( !werr, "release of its own runtime token failed %d\n", werr );
        }
        closesocket( a );
        closesocket( s );
        winetest_pop_context();
    }
    winetest_pop_context();
}

/* child started with the restricted token */
static void child_nonadmin( int argc, char **argv )
{
    ULONG64 persist[2] = { 0, 0 };

    if (argc >= 4)
    {
        persist[0] = strtoull( argv[2], NULL, 16 );
        persist[1] = strtoull( argv[3], NULL, 16 );
    }
    ok( argc >= 4, "child: %d arguments\n", argc );
    nonadmin_checks( "restricted child process", persist );
    child_exit();
}

struct thread_args
{
    HANDLE token;        /* impersonation token */
    ULONG64 persist[2];
};

static DWORD WINAPI nonadmin_thread( void *arg )
{
    struct thread_args *args = arg;

    if (!SetThreadToken( NULL, args->token ))
    {
        ok( 0, "SetThreadToken failed %lu\n", GetLastError() );
        return 1;
    }
    nonadmin_checks( "impersonating thread", args->persist );
    ok( RevertToSelf(), "RevertToSelf failed %lu\n", GetLastError() );
    return 0;
}

/* restricted_token(), with how it shows the group: SE_GROUP_USE_FOR_DENY_ONLY, not SE_GROUP_ENABLED */
static HANDLE make_restricted_token( void )
{
    HANDLE restricted = restricted_token();
    PSID sid = admins_sid();
    char buf[4096];
    TOKEN_GROUPS *groups = (TOKEN_GROUPS *)buf;
    DWORD len;

    if (restricted && sid && GetTokenInformation( restricted, TokenGroups, buf, sizeof(buf), &len ))
        for (DWORD i = 0; i < groups->GroupCount; i++)
            if (EqualSid( groups->Groups[i].Sid, sid ))
                trace( "restricted token: BUILTIN\\Administrators attributes %#lx\n", groups->Groups[i].Attributes );
    if (sid) FreeSid( sid );
    return restricted;
}

static void test_admin_rights( void )
{
    ULONG64 persist[2] = { 0, 0 }, token;
    char before[4096], after[4096];
    HANDLE restricted, imp = NULL;
    BOOL member = TRUE;
    PSID sid;
    ULONG err;

    if (!is_admin())
    {
        /* already a non-administrator (Windows without elevation): the
         * checks that need no persistent block */
        nonadmin_checks( "this process", persist );
        win_skip( "not an administrator: no persistent block can be made for the Delete, Lookup and associate "
              "checks\n" );
        return;
    }

    /* as administrator: the persistent blocks (first dropping any left by an earlier run) */
    for (int udp = 0; udp < 2; udp++)
    {
        SOCKET s;
        int werr;
        USHORT port;

        persistent_delete( udp, PERSIST_PORT, BLOCK_PORTS );
        persistent_delete( udp, NEW_PORT, BLOCK_PORTS );
        err = persistent_create( udp, PERSIST_PORT, BLOCK_PORTS, &persist[udp] );
        ok( !err, "%s Create of %u+%u as administrator failed %lu\n", proto_name[udp], PERSIST_PORT, BLOCK_PORTS,
            err );
        if (err) persist[udp] = 0;
        if (err) continue;
        /* the administrator may associate a persistent token */
        s = new_socket( AF_INET, udp );
        werr = token_ioctl( s, SIO_ASSOCIATE_PORT_RESERVATION, persist[udp] );
        ok( !werr, "%s associate of a persistent token as administrator failed %d\n", proto_name[udp], werr );
        werr = bind_loopback( s, AF_INET, 0 );
        port = local_port( s );
        ok( !werr && port >= PERSIST_PORT && port < PERSIST_PORT + BLOCK_PORTS,
            "%s bind after associate of a persistent token: error %d port %u\n", proto_name[udp], werr, port );
        closesocket( s );
    }
    registry_snapshot( before, sizeof(before) );

    /* drop the rights */
    if (!(restricted = make_restricted_token())) goto cleanup;
    if (!DuplicateTokenEx( restricted, TOKEN_IMPERSONATE | TOKEN_QUERY, NULL, SecurityImpersonation,
                           TokenImpersonation, &imp ))
    {
        skip( "DuplicateTokenEx of the restricted token failed %lu\n", GetLastError() );
        imp = NULL;
    }
    sid = admins_sid();
    if (imp && !CheckTokenMembership( imp, sid, &member ))
    {
        trace( "CheckTokenMembership(restricted token) failed %lu\n", GetLastError() );
        member = TRUE;
    }
    FreeSid( sid );
    if (member)
    {
        skip( "non-administrator checks: CheckTokenMembership(restricted token, Administrators) still says "
              "member (tried CreateRestrictedToken with BUILTIN\\Administrators to disable)\n" );
        goto cleanup;
    }

    /* 1. a thread impersonating the restricted token */
    {
        struct thread_args args = { imp, { persist[0], persist[1] } };
        HANDLE thread = CreateThread( NULL, 0, nonadmin_thread, &args, 0, NULL );
        DWORD wait = WaitForSingleObject( thread, WAIT_MS );
        ok( wait == WAIT_OBJECT_0, "the impersonating thread did not finish: %lu\n", wait );
        if (wait) TerminateThread( thread, 1 );
        CloseHandle( thread );
        ok( is_admin(), "the main thread lost its administrator rights\n" );
    }

    /* 2. a child process started with the restricted token */
    {
        struct child c;
        char args[80];

        snprintf( args, sizeof(args), "nonadmin %llx %llx", (unsigned long long)persist[0],
                  (unsigned long long)persist[1] );
        if (start_child( &c, restricted, args )) finish_child( &c, "restricted" );
    }

    /* nothing changed in the prefix's persistent list */
    registry_snapshot( after, sizeof(after) );
    if (winetest_is_wine())
        ok( !strcmp( before, after ), "the persistent list changed: before \"%s\", after \"%s\"\n", before, after );

cleanup:
    if (imp) CloseHandle( imp );
    if (restricted) CloseHandle( restricted );

    /* as administrator again: the blocks are as they were, then go */
    for (int udp = 0; udp < 2; udp++)
    {
        if (!persist[udp]) continue;
        token = 0;
        err = persistent_lookup( udp, PERSIST_PORT, BLOCK_PORTS, &token );
        ok( !err && token == persist[udp], "%s Lookup after the non-administrator checks: error %lu token %#llx\n",
            proto_name[udp], err, (unsigned long long)token );
        err = persistent_delete( udp, PERSIST_PORT, BLOCK_PORTS );
        ok( !err, "%s Delete as administrator failed %lu\n", proto_name[udp], err );
        err = persistent_lookup( udp, PERSIST_PORT, BLOCK_PORTS, &token );
        ok( err == ERROR_NOT_FOUND, "%s Lookup after Delete: got %lu\n", proto_name[udp], err );
    }
}

START_TEST(security)
{
    WSADATA data;
    char **argv;
    int argc = winetest_get_mainargs( &argv );

    ok( !WSAStartup( MAKEWORD( 2, 2 ), &data ), "WSAStartup failed\n" );
    if (argc >= 2 && !strcmp( argv[1], "runtime" ))
    {
        CreateThread( NULL, 0, watchdog, NULL, 0, NULL );
        child_runtime();
    }
    if (argc >= 2 && !strcmp( argv[1], "nonadmin" ))
    {
        CreateThread( NULL, 0, watchdog, NULL, 0, NULL );
        child_nonadmin( argc, argv );
    }

    test_runtime_token_other_process();
    test_admin_rights();
    WSACleanup();
}
