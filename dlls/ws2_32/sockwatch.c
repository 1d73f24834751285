/*
 * Watching the sockets that hold reservations for their last handle
 *
 * behaviour §3: a runtime reservation lives until the acquiring socket is
 * closed, which on Windows means its last handle: closesocket, CloseHandle,
 * WSACleanup, or the last of its DuplicateHandle / WSADuplicateSocket
 * copies.  Wine 8's wineserver completes every pending AFD poll of a
 * socket with AFD_POLL_CLOSE when the socket's last handle is closed
 * (server/sock.c sock_close_handle).  So each socket that acquires a
 * reservation or is associated with one gets one poll for AFD_POLL_CLOSE
 * alone, whose event is named after (process id, watch id): this process's
 * watcher thread then ends the socket's reservations and drops what this
 * process remembered of it, and other processes that meet one of its
 * reservations find the event signalled and reclaim it (shared.c).
 *
 * The polls are issued by the watcher thread, which lives as long as the
 * process: Wine cancels the pending requests of a thread that ends
 * (server/async.c cancel_terminating_thread_asyncs).  They are issued
 * through a private overlapped socket, never through the watched one: a
 * socket made without WSA_FLAG_OVERLAPPED (WSASocket with flags 0) is a
 * synchronous handle, on which the poll would block the watcher until the
 * socket closes.  An AFD poll names its sockets in its input, and Wine
 * completes every pending poll naming a socket when that socket's last
 * handle closes, whichever socket it was issued on.  A poll for
 * AFD_POLL_CLOSE alone adds no event to the socket's select mask, so the
 * program's own select/WSAPoll/WSAEventSelect and blocking calls are
 * unchanged.
 *
 * The private socket is associated with an I/O completion port and each
 * poll carries its watch as the completion context: a completed poll both
 * signals the watch's event (for other processes) and queues a packet
 * naming the watch, which the watcher thread takes off the port.  One
 * thread thus follows any number of sockets, where a wait on the events
 * would stop at MAXIMUM_WAIT_OBJECTS.
 */

#include <stdio.h>
#include <stdlib.h>

#include "ws2_32_private.h"
#include <winternl.h>
#include "debug.h"

enum watch_state { WATCH_ISSUING, WATCH_ACTIVE, WATCH_FAILED };

/* a poll for the watcher thread to issue, on the asking thread's stack */
struct watch_request
{
    struct watch *w;
    enum watch_state state;
};

struct watch
{
    UINT64 id;
    SOCKET s;                /* INVALID_SOCKET once the handle value no longer names it */
    HANDLE event;
    BOOL ended;              /* its reservations were ended by closesocket: only free it */
    sockwatch_gone_fn gone;  /* called when its last handle is closed */
    IO_STATUS_BLOCK iosb;
    struct afd_poll out;
};

static SRWLOCK watch_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE watch_issued = CONDITION_VARIABLE_INIT;
static struct watch **watches;  /* the active ones, in no order */
static unsigned int watch_count, watch_capacity;
static unsigned int watch_issuing;  /* requests queued to the watcher: slots kept for them */
static UINT64 last_watch_id;
static HANDLE watcher;
static HANDLE poll_handle;   /* the private overlapped socket the polls go through */
static HANDLE watch_port;    /* the completion port poll_handle is associated with */

/* the watcher thread: issue a poll (an APC from watch_socket).  A poll
 * that did not fail will complete to the port: its watch joins the list
 * here, before this thread can take its packet, and from then on belongs
 * to the watcher (the asking thread only reads the request's state). */
static void CALLBACK issue_poll( ULONG_PTR arg )
{
    struct watch_request *req = (struct watch_request *)arg;
    struct watch *w = req->w;
    SOCKET s = w->s;
    NTSTATUS status;

    status = wine_poll_close( poll_handle, s, w->event, w, &w->iosb, &w->out );
    AcquireSRWLockExclusive( &watch_lock );
    watch_issuing--;
    if (NT_ERROR( status )) req->state = WATCH_FAILED;
    else
    {
        watches[watch_count++] = w;
        req->state = WATCH_ACTIVE;
    }
    WakeAllConditionVariable( &watch_issued );
    ReleaseSRWLockExclusive( &watch_lock );
    if (NT_ERROR( status )) WARN( "socket %#Ix: cannot watch it, status %#lx\n", s, status );
}

/* the watcher thread: a watched socket's poll completed.  Its event
 * handle may have been closed under it (Wine's WSACleanup closes the old
 * handle values of sockets closed with CloseHandle): then the watch is
 * only forgotten. */
static void watch_fired( struct watch *w )
{
    BOOL closed = !w->iosb.Status && w->out.count == 1 && (w->out.sockets[0].flags & AFD_POLL_CLOSE);
    BOOL lost = WaitForSingleObject( w->event, 0 ) == WAIT_FAILED;
    BOOL ended;
    SOCKET s;

    AcquireSRWLockExclusive( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++)
        if (watches[i] == w)
        {
            watches[i] = watches[--watch_count];
            break;
        }
    ended = w->ended;
    s = w->s;
    ReleaseSRWLockExclusive( &watch_lock );
    TRACE( "watch %llu (socket %#Ix): status %#lx closed %d ended %d\n", (unsigned long long)w->id, s,
           w->iosb.Status, closed, ended );
    if (lost) WARN( "watch %llu: its event handle was closed\n", (unsigned long long)w->id );
    else
    {
        if (!ended) w->gone( w->id, s );
        CloseHandle( w->event );
    }
    free( w );
}

static DWORD WINAPI watcher_main( void *arg )
{
    OVERLAPPED_ENTRY done[64];
    ULONG n;

    for (;;)
    {
        /* alertable: watch_socket queues the polls to issue as APCs */
        if (!GetQueuedCompletionStatusEx( watch_port, done, ARRAYSIZE(done), &n, INFINITE, TRUE )) continue;
        for (ULONG i = 0; i < n; i++) watch_fired( (struct watch *)done[i].lpOverlapped );
    }
    return 0;
}

/* the socket the polls are issued on: overlapped, and a handle Wine's
 * ws2_32 does not know of (the socket it made is closed through it, the
 * duplicate stays), so that the program's WSACleanup leaves it open */
static BOOL open_poll_handle( void )
{
    SOCKET s;
    BOOL ret;

    if (poll_handle) return TRUE;
    s = builtin.WSASocketW( AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT );
    if (s == INVALID_SOCKET) return FALSE;
    ret = DuplicateHandle( GetCurrentProcess(), (HANDLE)s, GetCurrentProcess(), &poll_handle, 0, FALSE,
                           DUPLICATE_SAME_ACCESS );
    builtin.closesocket( s );
    if (!ret) poll_handle = NULL;
    return ret;
}

static BOOL start_watcher( void )
{
    HMODULE self;

    if (watcher) return TRUE;
    if (!open_poll_handle())
    {
        ERR( "cannot make the socket the watcher polls through, error %lu\n", GetLastError() );
        return FALSE;
    }
    if (!watch_port && !(watch_port = CreateIoCompletionPort( poll_handle, NULL, 0, 1 )))
    {
        ERR( "cannot make the watcher's completion port, error %lu\n", GetLastError() );
        return FALSE;
    }
    /* the thread runs this DLL's code until the process ends: never unload it */
    GetModuleHandleExW( GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                        (const WCHAR *)watcher_main, &self );
    if (!(watcher = CreateThread( NULL, 0, watcher_main, NULL, 0, NULL )))
        ERR( "cannot start the socket watcher, error %lu\n", GetLastError() );
    return watcher != NULL;
}

/* watch_socket: the id of the watch on socket s (host value), set up on
 * first use: one named event, one poll issued by the watcher thread.
 * Returns a fresh id that nothing watches when s cannot be watched (no
 * memory, s already closed): such reservations end at closesocket or with
 * the process.  Never 0.  gone( id, s ) is called on
 * the watcher thread once the socket's last handle is closed, unless
 * socket_closing said the reservations ended already; s is INVALID_SOCKET
 * when the handle value names another socket by then. */
UINT64 watch_socket( SOCKET s, sockwatch_gone_fn gone )
{
    struct watch_request req = { NULL, WATCH_ISSUING };
    WCHAR name[64];
    struct watch *w;
    UINT64 id;

    AcquireSRWLockExclusive( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++)
        if (watches[i]->s == s && !watches[i]->ended)
        {
            id = watches[i]->id;
            ReleaseSRWLockExclusive( &watch_lock );
            return id;
        }
    id = ++last_watch_id;
    if (watch_count + watch_issuing == watch_capacity)
    {
        unsigned int capacity = watch_capacity ? watch_capacity * 2 : 64;
        struct watch **bigger = realloc( watches, capacity * sizeof(*watches) );

        if (bigger)
        {
            watches = bigger;
            watch_capacity = capacity;
        }
    }
    if (watch_count + watch_issuing == watch_capacity || !start_watcher() || !(w = calloc( 1, sizeof(*w) )))
    {
        ReleaseSRWLockExclusive( &watch_lock );
        WARN( "socket %#Ix: not watched (%u sockets are)\n", s, watch_count );
        return id;
    }
    swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_SOCKET_EVENT_FMT), GetCurrentProcessId(), (unsigned long long)id );
    if (!(w->event = CreateEventW( NULL, TRUE, FALSE, name )))
    {
        ReleaseSRWLockExclusive( &watch_lock );
        free( w );
        return id;
    }
    w->id = id;
    w->s = s;
    w->gone = gone;
    req.w = w;
    if (!QueueUserAPC( issue_poll, watcher, (ULONG_PTR)&req ))
    {
        ReleaseSRWLockExclusive( &watch_lock );
        CloseHandle( w->event );
        free( w );
        return id;
    }
    watch_issuing++;
    while (req.state == WATCH_ISSUING) SleepConditionVariableSRW( &watch_issued, &watch_lock, INFINITE, 0 );
    ReleaseSRWLockExclusive( &watch_lock );
    if (req.state == WATCH_FAILED)
    {
        CloseHandle( w->event );
        free( w );
    }
    return id;
}

/* watch_alive: 1 while the socket of this process's watch id (from
 * watch_socket) has a handle open, 0 once its last handle is closed (the
 * watch's event is signalled, as portres_socket_alive sees it from any
 * process), -1 if this process has no such watch (never set up, or done
 * with).  One wineserver round trip, on the event this process holds. */
int watch_alive( UINT64 id )
{
    int ret = -1;

    AcquireSRWLockShared( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++)
        if (watches[i]->id == id) ret = WaitForSingleObject( watches[i]->event, 0 ) != WAIT_OBJECT_0;
    ReleaseSRWLockShared( &watch_lock );
    return ret;
}

/* socket_closing: s (host value) is being closed by closesocket; TRUE if
 * this is its last handle (its reservations end now).  Either way the
 * handle value s no longer names the watched socket.  When it is the last
 * handle of a watched socket, *closed gets a handle to the watch's event,
 * signalled once the wineserver has dropped the poll's reference to the
 * socket, which keeps its port bound until then: closesocket waits for it
 * (and closes it), so that the port is free when closesocket returns, as
 * on Windows.  Else *closed is NULL. */
BOOL socket_closing( SOCKET s, HANDLE *closed )
{
    BOOL last = TRUE;
    BOOL watched = FALSE;

    *closed = NULL;
    AcquireSRWLockShared( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++) if (watches[i]->s == s) watched = TRUE;
    ReleaseSRWLockShared( &watch_lock );
    if (!watched) return TRUE;
    last = wine_last_handle( (HANDLE)s );
    AcquireSRWLockExclusive( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++)
        if (watches[i]->s == s)
        {
            watches[i]->s = INVALID_SOCKET;
            if (!last) continue;
            watches[i]->ended = TRUE;
            if (!*closed && !DuplicateHandle( GetCurrentProcess(), watches[i]->event, GetCurrentProcess(), closed,
                                              SYNCHRONIZE, FALSE, 0 ))
                *closed = NULL;
        }
    ReleaseSRWLockExclusive( &watch_lock );
    return last;
}

/* unwatch_handle: the handle value s names a new socket now (the one it
 * named was closed without closesocket): the watch of the old socket goes
 * on, under no handle value */
void unwatch_handle( SOCKET s )
{
    if (!watch_count) return;
    AcquireSRWLockExclusive( &watch_lock );
    for (unsigned int i = 0; i < watch_count; i++) if (watches[i]->s == s) watches[i]->s = INVALID_SOCKET;
    ReleaseSRWLockExclusive( &watch_lock );
}
