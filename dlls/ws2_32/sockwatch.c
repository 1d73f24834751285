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
 * watcher thread then tells the socket's record (sockstate.c), which ends
 * the socket's reservations, and other processes that meet one of its
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

#include "ws2_32_private.h"
#include <winternl.h>
#include "host.h"
#include "debug.h"

/* how often the watcher sees that the prefix's slot of the host view is
 * still there (host.c portres_host_check): a holder of runtime
 * reservations writes it again within this time after the file was
 * damaged or made anew */
#define HOST_CHECK_MS 1000

/* the handshake of watch_start with the watcher thread, which issues the poll */
enum watch_state { WATCH_ISSUING, WATCH_ACTIVE, WATCH_FAILED };
struct watch_request
{
    struct sock_watch *w;
    SOCKET s;
    enum watch_state state;
};

static SRWLOCK issue_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE issued = CONDITION_VARIABLE_INIT;
static UINT64 last_watch_id;
static sockwatch_fired_fn fired;  /* the record's callback (sockstate.c) */
static HANDLE watcher;
static HANDLE poll_handle;   /* the private overlapped socket the polls go through */
static HANDLE watch_port;    /* the completion port poll_handle is associated with */

/* the watcher thread: issue a poll (an APC queued by watch_start) */
static void CALLBACK issue_poll( ULONG_PTR arg )
{
    struct watch_request *req = (struct watch_request *)arg;
    struct sock_watch *w = req->w;
    NTSTATUS status;

    w->iosb.Status = STATUS_PENDING;  /* until the poll completes (watch_done) */
    status = wine_poll_close( poll_handle, req->s, w->event, w, &w->iosb, &w->out );

    if (NT_ERROR( status )) WARN( "socket %#Ix: cannot watch it, status %#lx\n", req->s, status );
    AcquireSRWLockExclusive( &issue_lock );
    req->state = NT_ERROR( status ) ? WATCH_FAILED : WATCH_ACTIVE;
    WakeAllConditionVariable( &issued );
    ReleaseSRWLockExclusive( &issue_lock );
}

static DWORD WINAPI watcher_main( void *arg )
{
    OVERLAPPED_ENTRY done[64];
    DWORD checked = GetTickCount();
    ULONG n;

    for (;;)
    {
        /* alertable: watch_start queues the polls to issue as APCs */
        if (GetQueuedCompletionStatusEx( watch_port, done, ARRAYSIZE(done), &n, HOST_CHECK_MS, TRUE ))
            for (ULONG i = 0; i < n; i++) fired( (struct sock_watch *)done[i].lpOverlapped );
        if (GetTickCount() - checked >= HOST_CHECK_MS)
        {
            /* the unlock writes the prefix's slot again */
            if (portres_host_check() && portres_lock()) portres_unlock();
            checked = GetTickCount();
        }
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

/* the watcher thread, its socket and its port, made on first use; issue_lock held */
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

/* watch_start: watch socket s (host value) for its last handle: w gets a
 * fresh id (never 0) and a named event, and the watcher thread issues the
 * poll, whose completion calls on_fired( w ) on the watcher thread.
 * TRUE when the poll is pending; FALSE (w->event NULL, w->id still set:
 * an id that nothing watches) when s cannot be watched (no memory, s
 * already closed): its reservations then end at closesocket or with the
 * process. */
BOOL watch_start( struct sock_watch *w, SOCKET s, sockwatch_fired_fn on_fired )
{
    struct watch_request req = { w, s, WATCH_ISSUING };
    WCHAR name[64];

    AcquireSRWLockExclusive( &issue_lock );
    w->id = ++last_watch_id;
    w->event = NULL;
    fired = on_fired;
    if (!start_watcher())
    {
        ReleaseSRWLockExclusive( &issue_lock );
        return FALSE;
    }
    swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_SOCKET_EVENT_FMT), GetCurrentProcessId(),
              (unsigned long long)w->id );
    if ((w->event = CreateEventW( NULL, TRUE, FALSE, name )) && QueueUserAPC( issue_poll, watcher, (ULONG_PTR)&req ))
        while (req.state == WATCH_ISSUING) SleepConditionVariableSRW( &issued, &issue_lock, INFINITE, 0 );
    ReleaseSRWLockExclusive( &issue_lock );
    if (req.state == WATCH_ACTIVE) return TRUE;
    if (w->event) CloseHandle( w->event );
    w->event = NULL;
    return FALSE;
}

/* watch_done: TRUE once the poll of w has completed (its socket's last
 * handle closed, or the poll cancelled).  Wine writes the poll's status
 * into its IO_STATUS_BLOCK, on the watcher thread, before it signals the
 * event, so this is as early as a look at the event and costs no
 * wineserver round trip. */
BOOL watch_done( const struct sock_watch *w )
{
    return *(volatile NTSTATUS *)&w->iosb.Status != STATUS_PENDING;
}

/* watch_closed: TRUE if the completed poll of w says its socket's last
 * handle was closed (else it was cancelled or failed) */
BOOL watch_closed( const struct sock_watch *w )
{
    return !w->iosb.Status && w->out.count == 1 && (w->out.sockets[0].flags & AFD_POLL_CLOSE);
}

/* watch_wait: wait until the poll of a socket just closed has completed
 * (closed: a duplicate of its watch's event, closed here), or the watcher
 * thread has ended (process exit: nothing would signal it then).  The
 * wineserver's poll keeps the socket, and so its port, until the watcher
 * has taken the completion: closesocket waits for it, so that the port is
 * free on return, as on Windows. */
void watch_wait( HANDLE closed )
{
    HANDLE handles[2] = { closed, watcher };

    WaitForMultipleObjects( watcher ? 2 : 1, handles, FALSE, INFINITE );
    CloseHandle( closed );
}
