/*
 * The host helper's client: the in-use check asked of portres-helper
 * (tools/portres-helper.c; protocol in libs/core/helpermsg.h), a native
 * program that answers it exactly with binds PE code cannot make
 * (doc/design.md, "The host helper")
 *
 * The helper is found through its file in the runtime folder
 * (host.c portres_runtime_dir).  When it is not running it is started
 * (wine_spawn) from the path in %PORTRES_HELPER% or the registry value
 * HKLM\Software\Wine\Portres\Helper, which `wine-portres install` and
 * setup_portres.sh write.  Without a helper (a DLL copied alone into a
 * prefix, PORTRES_HELPER=off) the caller checks by test binds, as before,
 * and says so once in a warn line.
 *
 * Each process keeps one UDP socket connected to the helper, made through
 * Wine's builtin and closed before every WSACleanup (portres_helper_close),
 * and a slot of the helper's board (helpermsg.h), through which requests go
 * with no wineserver round trip once the socket has found the helper.
 * One request at a time.
 */

#include <stdio.h>

#include "helper.h"
#include "helpermsg.h"
#include "names.h"
#include "wine.h"
#include "host.h"
#include "debug.h"

#define REPLY_MS 500     /* the request is sent again after this time without a reply */
#define SLOW_MS 10000    /* a helper that has not answered in this time is given up for this check */
#define START_MS 2000    /* how long a started helper has to write its file */

static SRWLOCK helper_lock = SRWLOCK_INIT;
static SOCKET helper_socket = INVALID_SOCKET;
static uint8_t helper_key[PORTRES_HELPER_KEY];
static unsigned int helper_port;
static uint32_t helper_seq;
static BOOL helper_off;    /* no helper for this process: test binds */
static char helper_dir[MAX_PATH];  /* the runtime folder of the helper named by helper_key */

/* the board (helpermsg.h): requests with no wineserver round trip */
#define BOARD_MS 500     /* a board request without a reply in this time goes by the socket */
#define BOARD_SPINS 200  /* the first looks at a reply yield the CPU (to the helper), the rest sleep 1 ms */
static HANDLE board;              /* the board of the helper of board_key, NULL: none */
static int board_slot = -1;       /* this process's slot, its lock held */
static uint32_t board_seq;        /* the last request's */
static BOOL board_keyed;          /* board_key is set: the board of that helper was tried */
static uint8_t board_key[PORTRES_HELPER_KEY];

/* read the helper's file: its port and key; FALSE if there is none */
static BOOL read_helper_file( const char *dir )
{
    char path[MAX_PATH + 32], text[128], hex[2 * PORTRES_HELPER_KEY + 1];
    WCHAR pathw[MAX_PATH + 48];
    unsigned int port, pid;
    DWORD got = 0;
    HANDLE file;
    int n;

    n = snprintf( path, sizeof(path), "\\\\?\\unix%s/%s", dir, PORTRES_HELPER_FILE );
    if (n < 0 || n >= (int)sizeof(path)) return FALSE;
    for (char *p = path; *p; p++) if (*p == '/') *p = '\\';
    if (!MultiByteToWideChar( CP_UTF8, 0, path, -1, pathw, ARRAYSIZE(pathw) )) return FALSE;
    file = CreateFileW( pathw, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_EXISTING, 0, NULL );
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    if (!ReadFile( file, text, sizeof(text) - 1, &got, NULL )) got = 0;
    CloseHandle( file );
    text[got] = 0;
    if (sscanf( text, "%u %32s %u", &port, hex, &pid ) != 3 || !port || port > 65535 ||
        strlen( hex ) != 2 * PORTRES_HELPER_KEY)
        return FALSE;
    for (unsigned int i = 0; i < PORTRES_HELPER_KEY; i++)
    {
        unsigned int byte;
        if (sscanf( hex + 2 * i, "%2x", &byte ) != 1) return FALSE;
        helper_key[i] = byte;
    }
    helper_port = port;
    lstrcpynA( helper_dir, dir, sizeof(helper_dir) );
    return TRUE;
}

static void close_board( void )
{
    if (board) CloseHandle( board );  /* its slot's lock goes with the handle */
    board = NULL;
    board_slot = -1;
}

/* open the board of the helper of helper_key and take a slot, once per
 * helper (a helper started anew has a new key); helper_lock held.  No
 * board (a helper without one, all slots taken): requests go by socket. */
static void open_board( void )
{
    struct portres_helper_slot slot;
    char path[MAX_PATH + 32];
    WCHAR pathw[MAX_PATH + 48];
    unsigned int first = GetCurrentProcessId() % PORTRES_HELPER_SLOTS;
    HANDLE file;
    int n;

    if (board_keyed && !memcmp( board_key, helper_key, sizeof(board_key) )) return;
    close_board();
    board_keyed = TRUE;
    memcpy( board_key, helper_key, sizeof(board_key) );
    n = snprintf( path, sizeof(path), "\\\\?\\unix%s/%s", helper_dir, PORTRES_HELPER_BOARD );
    if (n < 0 || n >= (int)sizeof(path)) return;
    for (char *p = path; *p; p++) if (*p == '/') *p = '\\';
    if (!MultiByteToWideChar( CP_UTF8, 0, path, -1, pathw, ARRAYSIZE(pathw) )) return;
    file = CreateFileW( pathw, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                        NULL, OPEN_EXISTING, 0, NULL );
    if (file == INVALID_HANDLE_VALUE)
    {
        TRACE( "the host helper has no board (%s): requests by socket\n", path );
        return;
    }
    for (unsigned int i = 0; i < PORTRES_HELPER_SLOTS && board_slot < 0; i++)
        if (wine_lock_byte( file, PORTRES_HELPER_BOARD_LOCK + (first + i) % PORTRES_HELPER_SLOTS, TRUE, FALSE ))
            board_slot = (first + i) % PORTRES_HELPER_SLOTS;
    if (board_slot < 0)
    {
        TRACE( "every slot of the host helper's board is taken: requests by socket\n" );
        CloseHandle( file );
        return;
    }
    /* go on past the slot's last request and answer (of a process that
     * died: its request may still be answered), so that no old reply is
     * taken for a new one */
    board_seq = 0;
    if (wine_read_at( file, board_slot * sizeof(struct portres_helper_slot), &slot, sizeof(slot) ) == sizeof(slot))
        board_seq = max( slot.request.seq, slot.reply.seq );
    board = file;
}

/* is the board still its helper's?  A helper that ended (after a minute
 * without a request) removed it: no link is left.  An fstat through ntdll,
 * no wineserver round trip. */
static BOOL board_linked( void )
{
    FILE_STANDARD_INFO info;

    if (GetFileInformationByHandleEx( board, FileStandardInfo, &info, sizeof(info) ) && info.NumberOfLinks)
        return TRUE;
    TRACE( "the host helper's board was removed (the helper ended): asking by socket\n" );
    close_board();
    return FALSE;
}

/* write a request for msg's block into this process's slot of the board */
static BOOL board_send( const struct portres_helper_msg *msg )
{
    struct portres_helper_request req = { .magic = PORTRES_HELPER_MAGIC, .op = msg->op, .proto = msg->proto,
                                          .start = msg->start, .count = msg->count };

    if (!++board_seq) ++board_seq;
    req.seq = board_seq;
    req.check = portres_helper_check( &req, PORTRES_HELPER_REQUEST_FIELDS );
    return wine_write_at( board, board_slot * sizeof(struct portres_helper_slot), &req, sizeof(req) ) == sizeof(req);
}

/* the reply to board_send's request for msg's block, into msg's status
 * and busy: FALSE if none came within BOARD_MS (the helper gone or slow:
 * the caller asks by socket, which tells the two apart) */
static BOOL board_wait( struct portres_helper_msg *msg )
{
    UINT64 at = board_slot * sizeof(struct portres_helper_slot) + offsetof(struct portres_helper_slot, reply);
    DWORD started = GetTickCount();

    for (unsigned int looks = 0;; looks++)
    {
        struct portres_helper_reply reply;

        if (wine_read_at( board, at, &reply, sizeof(reply) ) == sizeof(reply) && reply.magic == PORTRES_HELPER_MAGIC &&
            reply.seq == board_seq && reply.check == portres_helper_check( &reply, PORTRES_HELPER_REPLY_FIELDS ) &&
            reply.proto == msg->proto && reply.start == msg->start && reply.count == msg->count)
        {
            msg->status = reply.status;
            msg->busy = reply.busy;
            return TRUE;
        }
        if (GetTickCount() - started >= BOARD_MS)
        {
            TRACE( "no reply on the host helper's board in %u ms: asking by socket\n", BOARD_MS );
            return FALSE;
        }
        if (looks < BOARD_SPINS) SwitchToThread();
        else Sleep( 1 );
    }
}

/* start the helper for dir: TRUE once its file is there and names
 * another helper than the one before (a file left by a helper that died
 * stays until the new one replaces it) */
static BOOL start_helper( const char *dir )
{
    uint8_t old_key[PORTRES_HELPER_KEY];
    char path[MAX_PATH], *argv[3];
    DWORD len = 0, type, size = sizeof(path);
    HKEY key;

    if ((len = GetEnvironmentVariableA( "PORTRES_HELPER", path, sizeof(path) )) >= sizeof(path)) len = 0;
    if (!len && !RegOpenKeyExA( HKEY_LOCAL_MACHINE, PORTRES_REGISTRY_KEY, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY,
                                &key ))
    {
        if (!RegQueryValueExA( key, PORTRES_REGISTRY_HELPER_VALUE, NULL, &type, (BYTE *)path, &size ) &&
            type == REG_SZ && size && size <= sizeof(path))
            len = size;
        RegCloseKey( key );
    }
    if (!len) return FALSE;
    argv[0] = path;
    argv[1] = (char *)dir;
    argv[2] = NULL;
    memcpy( old_key, helper_key, sizeof(old_key) );
    if (!wine_spawn( argv, FALSE ))
    {
        WARN( "cannot start the host helper %s\n", path );
        return FALSE;
    }
    for (DWORD waited = 0; waited < START_MS; waited += 10)
    {
        if (read_helper_file( dir ) && memcmp( old_key, helper_key, sizeof(old_key) )) return TRUE;
        Sleep( 10 );
    }
    WARN( "the host helper %s wrote no file in %s within %u ms\n", path, dir, START_MS );
    return FALSE;
}

/* a UDP socket connected to the helper's port, in helper_socket */
static BOOL connect_helper( const struct portres_sockapi *api )
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    DWORD timeout = REPLY_MS;
    SOCKET s;

    if (helper_socket != INVALID_SOCKET) api->closesocket( helper_socket );
    helper_socket = INVALID_SOCKET;
    if ((s = api->socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP )) == INVALID_SOCKET) return FALSE;
    addr.sin_port = (uint16_t)(helper_port << 8 | helper_port >> 8);
    addr.sin_addr.s_addr = 0x0100007f;  /* 127.0.0.1, network order */
    if (api->setsockopt( s, SOL_SOCKET, SO_RCVTIMEO, (char *)&timeout, sizeof(timeout) ) ||
        api->connect( s, (struct sockaddr *)&addr, sizeof(addr) ))
    {
        TRACE( "cannot reach the host helper at port %u: error %lu\n", helper_port, GetLastError() );
        api->closesocket( s );
        return FALSE;
    }
    helper_socket = s;
    return TRUE;
}

/* send msg (its magic, seq and key set here): FALSE if the send failed */
static BOOL send_request( const struct portres_sockapi *api, struct portres_helper_msg *msg )
{
    msg->magic = PORTRES_HELPER_MAGIC;
    msg->seq = ++helper_seq;
    memcpy( msg->key, helper_key, sizeof(helper_key) );
    if (api->send( helper_socket, (char *)msg, sizeof(*msg), 0 ) == sizeof(*msg)) return TRUE;
    TRACE( "send to the host helper failed: error %lu\n", GetLastError() );
    return FALSE;
}

/* the reply to msg, sent already by socket (send_request), into msg: FALSE
 * if none came.  *gone is set when the helper is not there (a dead
 * helper's port answers with an ICMP "port unreachable", which fails the
 * receive at once); a helper that is only slow (a loaded machine) is sent
 * the request again every REPLY_MS and waited for up to SLOW_MS. */
static BOOL get_reply( const struct portres_sockapi *api, struct portres_helper_msg *msg, BOOL *gone )
{
    struct portres_helper_msg reply;
    DWORD started = GetTickCount();

    *gone = FALSE;
    for (;;)
    {
        if (api->recv( helper_socket, (char *)&reply, sizeof(reply), 0 ) != sizeof(reply))
        {
            DWORD err = GetLastError();

            if (err == WSAETIMEDOUT && GetTickCount() - started < SLOW_MS)
            {
                /* slow, not gone: the request again, with its seq (either reply will do) */
                if (api->send( helper_socket, (char *)msg, sizeof(*msg), 0 ) == sizeof(*msg)) continue;
                err = GetLastError();
            }
            TRACE( "no reply from the host helper: error %lu\n", err );
            *gone = err != WSAETIMEDOUT;
            return FALSE;
        }
        if (reply.magic == PORTRES_HELPER_MAGIC && reply.seq == msg->seq &&
            !memcmp( reply.key, helper_key, sizeof(helper_key) ))
            break;  /* else a late reply to an earlier request */
    }
    *msg = reply;
    return TRUE;
}

/* msg asked by socket, connected first if need be (to the helper whose
 * file was read last): as get_reply */
static BOOL ask_by_socket( const struct portres_sockapi *api, struct portres_helper_msg *msg, BOOL *gone )
{
    *gone = TRUE;
    if (helper_socket == INVALID_SOCKET && !(read_helper_file( helper_dir ) && connect_helper( api ))) return FALSE;
    if (!send_request( api, msg )) return FALSE;
    return get_reply( api, msg, gone );
}

/* how a request went: on the board, by socket, or not at all (no helper
 * found yet, or the send failed) */
enum route { NOT_SENT, BY_BOARD, BY_SOCKET };

/* send msg's request the cheapest way this process has: its slot of the
 * board (no socket needed: iphlpapi's, made anew for each check, would
 * cost more than the check), else its socket */
static enum route send_any( const struct portres_sockapi *api, struct portres_helper_msg *msg )
{
    if (board && board_linked() && board_send( msg )) return BY_BOARD;
    if (helper_socket != INVALID_SOCKET && send_request( api, msg )) return BY_SOCKET;
    return NOT_SENT;
}

/* the reply to a request send_any sent by route, into msg: FALSE if none
 * came, *gone as get_reply's.  A board request not answered within
 * BOARD_MS is asked again by socket, which tells a gone helper from a
 * slow one. */
static BOOL reply_any( const struct portres_sockapi *api, enum route route, struct portres_helper_msg *msg,
                       BOOL *gone )
{
    *gone = TRUE;
    if (route == BY_BOARD) return board_wait( msg ) || ask_by_socket( api, msg, gone );
    if (route == BY_SOCKET) return get_reply( api, msg, gone );
    return FALSE;
}

/* find the helper of this process's runtime folder, connect to it and
 * open its board; anew: the one before did not answer, start one (a
 * helper that died left its file).  FALSE, and no helper for this
 * process, when there is none. */
static BOOL find_helper( const struct portres_sockapi *api, BOOL anew )
{
    char dir[MAX_PATH], off[8];

    if ((GetEnvironmentVariableA( "PORTRES_HELPER", off, sizeof(off) ) == 3 && !strcmp( off, "off" )) ||
        !portres_runtime_dir( dir, sizeof(dir), TRUE ) ||
        (!(!anew && read_helper_file( dir ) && connect_helper( api )) && !(start_helper( dir ) && connect_helper( api ))))
    {
        helper_off = TRUE;
        return FALSE;
    }
    open_board();
    return TRUE;
}

/* the answer to msg, sent by route (send_any): 1 (a port in use, the
 * first in msg->busy), 0, or -1 (no helper, or one too slow for this
 * check: the caller checks by test binds).  Not sent, or the helper gone:
 * the helper is found, and when that one is gone too a new one started,
 * and asked.  helper_lock held. */
static int answer( const struct portres_sockapi *api, enum route route, struct portres_helper_msg *msg )
{
    const struct portres_helper_msg request = *msg;
    BOOL gone, ok = reply_any( api, route, msg, &gone );
    static LONG warned;

    /* not sent: the helper of the runtime folder's file, then a new one;
     * the helper gone: a new one */
    for (int anew = route != NOT_SENT; !ok && gone && anew < 2; anew++)
    {
        if (!find_helper( api, anew )) break;
        *msg = request;
        ok = reply_any( api, send_any( api, msg ), msg, &gone );
    }
    if (ok) return msg->status ? -1 : msg->busy != 0;
    if (!gone) return -1;  /* alive but slow: this check by test binds */
    helper_off = TRUE;
    if (!InterlockedExchange( &warned, 1 ))
        WARN( "no host helper (see doc/design.md, \"The host helper\"): in-use checks by test binds, slower "
              "and blind to bound-only native sockets\n" );
    return -1;
}

/* portres_helper_close: close this process's socket to the helper (made
 * again by the next request): before every WSACleanup, which closes the
 * sockets Wine's ws2_32 made once its count drops to 0, after which the
 * handle value could name another socket */
void portres_helper_close( const struct portres_sockapi *api )
{
    AcquireSRWLockExclusive( &helper_lock );
    if (helper_socket != INVALID_SOCKET) api->closesocket( helper_socket );
    helper_socket = INVALID_SOCKET;
    ReleaseSRWLockExclusive( &helper_lock );
}

/* portres_helper_in_use: asks the host helper whether a port of
 * start..start+count-1 (host order) of proto is in use on the host: 1 (the
 * first such port in *busy), 0, or -1 when there is no helper or it is too
 * slow (the caller then checks by test binds).  api: the Winsock functions
 * of the request's socket (Wine's builtin's).  The helper is started if it
 * is not running.  Source: doc/design.md, "The host helper". */
int portres_helper_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count, uint16_t *busy )
{
    struct portres_helper_msg msg = { .op = PORTRES_HELPER_IN_USE, .proto = proto, .start = start, .count = count };
    int ret;

    if (helper_off || !api->connect || !api->send || !api->recv) return -1;
    AcquireSRWLockExclusive( &helper_lock );
    ret = answer( api, send_any( api, &msg ), &msg );
    ReleaseSRWLockExclusive( &helper_lock );
    if (ret > 0 && busy) *busy = msg.busy;
    return ret;
}

/* helper_lock held from portres_helper_send to portres_helper_reply */
static struct portres_helper_msg sent_msg;
static enum route sent_route;

/* portres_helper_send: the first half of portres_helper_in_use, for a
 * caller with something to do meanwhile (the reservation core releases
 * the pool lock while the helper binds): the request is sent if this
 * process has found a helper already, and then the caller must call
 * portres_helper_reply, with the same api, to get the answer; this
 * process's other requests wait until then.  FALSE if nothing was sent
 * (no helper found yet, or none; call portres_helper_in_use). */
BOOL portres_helper_send( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                          uint16_t count )
{
    if (helper_off || !api->connect || !api->send || !api->recv) return FALSE;
    AcquireSRWLockExclusive( &helper_lock );
    memset( &sent_msg, 0, sizeof(sent_msg) );
    sent_msg.op = PORTRES_HELPER_IN_USE;
    sent_msg.proto = proto;
    sent_msg.start = start;
    sent_msg.count = count;
    if (!helper_off && (sent_route = send_any( api, &sent_msg )) != NOT_SENT) return TRUE;
    ReleaseSRWLockExclusive( &helper_lock );
    return FALSE;
}

/* portres_helper_reply: the answer to portres_helper_send's request, as
 * portres_helper_in_use gives it (a helper gone meanwhile is started
 * anew and asked) */
int portres_helper_reply( const struct portres_sockapi *api, uint16_t *busy )
{
    int ret = answer( api, sent_route, &sent_msg );

    ReleaseSRWLockExclusive( &helper_lock );
    if (ret > 0 && busy) *busy = sent_msg.busy;
    return ret;
}
