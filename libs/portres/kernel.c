/*
 * The kernel view: what the Linux kernel does with the ports of Wine's
 * sockets, read through the Windows side.  Win32 glue of the bind policy
 * and of acquires; see kernel.h.
 *
 * Host files are named by Wine's NT path for Unix files (HOST_FILE,
 * wine.h), not through drive Z:, which a user may remove or remap.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "kernel.h"
#include "debug.h"
#include "wine.h"

/* read a small file of /proc/sys through the Windows side (the wineserver
 * opens it: fine for /proc/sys, which is the same for every process) */
static DWORD read_proc_sys( const WCHAR *path, char *buf, DWORD size )
{
    HANDLE file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    DWORD done = 0;

    if (file == INVALID_HANDLE_VALUE) return 0;
    if (!ReadFile( file, buf, size - 1, &done, NULL )) done = 0;
    CloseHandle( file );
    buf[done] = 0;
    return done;
}

/* what the Linux kernel does with the ports of Wine's implicit and port-0
 * binds: the range it picks them from (net.ipv4.ip_local_port_range) and
 * the ports it skips (net.ipv4.ip_local_reserved_ports, which `wine-portres
 * sync-kernel` fills).  Both can change while a process runs: the view is
 * read again when it is older than KERNEL_VIEW_MS, or KERNEL_REFRESH_MS
 * at an acquire (portres_kernel_refresh; two file reads cost about a
 * millisecond, too much for every acquire of a loop).  A view is filled before it is published and
 * never freed (a new one is kept only when the kernel's settings changed),
 * so readers never see a half-filled bitmap. */
#define KERNEL_VIEW_MS 1000
#define KERNEL_REFRESH_MS 100

struct kernel_view
{
    uint32_t first, last;
    BOOL have_reserved;
    uint8_t reserved[PORTRES_BITMAP_BYTES];
};

static struct kernel_view *kernel_view;
static ULONGLONG kernel_view_time;
static SRWLOCK kernel_view_lock = SRWLOCK_INIT;

static void read_kernel_view( struct kernel_view *view )
{
    static char buf[65536];  /* under kernel_view_lock */
    unsigned int a = 0, b = 0;

    if (!read_proc_sys( HOST_FILE( L"\\proc\\sys\\net\\ipv4\\ip_local_port_range" ), buf, sizeof(buf) ) ||
        sscanf( buf, "%u %u", &a, &b ) != 2 || !a || a > b || b > 65535)
    {
        a = 32768;  /* Linux's default */
        b = 60999;
    }
    view->first = a;
    view->last = b;
    memset( view->reserved, 0, sizeof(view->reserved) );
    view->have_reserved = read_proc_sys( HOST_FILE( L"\\proc\\sys\\net\\ipv4\\ip_local_reserved_ports" ), buf, sizeof(buf) ) &&
                          portres_port_list_parse( buf, view->reserved );
    if (!view->have_reserved) memset( view->reserved, 0, sizeof(view->reserved) );
}

static const struct kernel_view *get_kernel_view( ULONGLONG max_age )
{
    struct kernel_view *view = __atomic_load_n( &kernel_view, __ATOMIC_ACQUIRE ), *fresh;

    if (view && GetTickCount64() - __atomic_load_n( &kernel_view_time, __ATOMIC_RELAXED ) < max_age) return view;
    AcquireSRWLockExclusive( &kernel_view_lock );
    view = kernel_view;
    if (!view || GetTickCount64() - kernel_view_time >= max_age)
    {
        if ((fresh = malloc( sizeof(*fresh) )))
        {
            read_kernel_view( fresh );
            if (view && !memcmp( view, fresh, sizeof(*fresh) )) free( fresh );
            else
            {
                TRACE( "kernel: ephemeral ports %u-%u, reserved ports %sread\n", fresh->first, fresh->last,
                       fresh->have_reserved ? "" : "not " );
                __atomic_store_n( &kernel_view, fresh, __ATOMIC_RELEASE );
                view = fresh;
            }
        }
        __atomic_store_n( &kernel_view_time, GetTickCount64(), __ATOMIC_RELAXED );
    }
    ReleaseSRWLockExclusive( &kernel_view_lock );
    return view;
}

/* portres_kernel_refresh: read the kernel's settings again if older than
 * KERNEL_REFRESH_MS (acquire) */
void portres_kernel_refresh( void )
{
    get_kernel_view( KERNEL_REFRESH_MS );
}

/* portres_kernel_ephemeral_range: the range the Linux kernel takes the
 * ports of Wine's implicit and port-0 binds from
 * (net.ipv4.ip_local_port_range), at most KERNEL_VIEW_MS old; Linux's
 * default 32768-60999 if it cannot be read */
void portres_kernel_ephemeral_range( uint32_t *first, uint32_t *last )
{
    const struct kernel_view *view = get_kernel_view( KERNEL_VIEW_MS );

    *first = view ? view->first : 32768;
    *last = view ? view->last : 60999;
}

/* portres_kernel_reserved_ports: the ports the kernel never picks itself
 * (net.ipv4.ip_local_reserved_ports) as a bitmap, at most KERNEL_VIEW_MS
 * old and valid for the life of the process; NULL if it cannot be read */
const uint8_t *portres_kernel_reserved_ports( void )
{
    const struct kernel_view *view = get_kernel_view( KERNEL_VIEW_MS );

    return view && view->have_reserved ? view->reserved : NULL;
}

/* the contents of a file of /proc/net (read through the Windows side:
 * the wineserver's network namespace, which is Wine's), NUL-terminated,
 * to be freed; NULL if it cannot be read */
static char *read_proc_net( const WCHAR *path )
{
    HANDLE file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    DWORD size = 0, done, cap = 1 << 16;
    char *buf = NULL, *grown;
    BOOL ok = FALSE;

    if (file == INVALID_HANDLE_VALUE) return NULL;
    while (cap <= (1 << 24) && (grown = realloc( buf, cap + 1 )))
    {
        buf = grown;
        if (!ReadFile( file, buf + size, cap - size, &done, NULL )) break;
        if (!done) { ok = TRUE; break; }
        size += done;
        if (size == cap) cap *= 2;
    }
    CloseHandle( file );
    if (!ok)
    {
        free( buf );
        return NULL;
    }
    buf[size] = 0;
    return buf;
}

/* portres_proc_ports_in_use: TRUE if a socket of proto of the host holds
 * a port of start..start+count-1 (host order) according to the kernel's
 * lists, /proc/net/tcp and tcp6 (TIME_WAIT and CLOSE skipped) or udp and
 * udp6.  Every bound UDP socket is listed there, and every TCP socket that
 * listens or is connected (a TCP socket that is only bound is not).
 * *read (if not NULL) is set to FALSE when a file cannot be read: the
 * answer is then incomplete.  One read of two files: about 0.8 ms for UDP
 * under Wine 8.0, but 10-15 ms for TCP on a host whose established-hash
 * table is large (the kernel walks all of it for each file). */
BOOL portres_proc_ports_in_use( enum portres_proto proto, USHORT start, USHORT count, BOOL *read )
{
    static const WCHAR *const files[PORTRES_PROTO_COUNT][2] =
    {
        { HOST_FILE( L"\\proc\\net\\tcp" ), HOST_FILE( L"\\proc\\net\\tcp6" ) },
        { HOST_FILE( L"\\proc\\net\\udp" ), HOST_FILE( L"\\proc\\net\\udp6" ) },
    };
    BOOL found = FALSE;

    if (read) *read = TRUE;
    if (!count) return FALSE;
    for (unsigned int i = 0; i < 2 && !found; i++)
    {
        char *text = read_proc_net( files[proto][i] );

        if (!text)
        {
            if (read) *read = FALSE;
            continue;
        }
        found = portres_proc_net_has_port( text, proto == PORTRES_TCP, start, start + count - 1 );
        free( text );
    }
    return found;
}

/* portres_tcp_ports_in_use: TRUE if a TCP socket of the host (a connection
 * whose port the kernel chose included, which a test bind does not see)
 * holds a port of start..start+count-1 (host order), from /proc/net/tcp
 * and tcp6; FALSE if none does or they cannot be read.  About as costly
 * as GetExtendedTcpTable without the owner pids (behaviour §5), so only the
 * part of the block inside the kernel's ephemeral range is looked up:
 * the kernel takes the ports it chooses from there, and every other port
 * is held by an explicit bind, which the test bind sees.  (A connection
 * made before the range was narrowed by sysctl is missed.) */
BOOL portres_tcp_ports_in_use( USHORT start, USHORT count )
{
    uint32_t first, last, end = (uint32_t)start + count - 1;

    portres_kernel_ephemeral_range( &first, &last );
    if (end < first || start > last) return FALSE;
    if (start < first) start = first;
    if (end > last) end = last;
    return portres_proc_ports_in_use( PORTRES_TCP, start, end - start + 1, NULL );
}
