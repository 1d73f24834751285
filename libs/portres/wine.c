/*
 * Wine's internals portres relies on (see wine.h), in one place
 *
 *  - host files through \??\unix\<path> (kernel.c's HOST_FILE): ntdll's
 *    nt_to_unix_file_name maps the "unix" device to the Unix root, so
 *    /proc is reached whatever the prefix's drives are (Wine 5 and later,
 *    dlls/ntdll/unix/file.c);
 *  - the AFD poll of a socket for AFD_POLL_CLOSE alone, completed by the
 *    wineserver when the socket's last handle is closed (Wine 7 and later,
 *    server/sock.c sock_close_handle / complete_async_polls);
 *  - IOCTL_AFD_WINE_COMPLETE_ASYNC, Wine's private socket ioctl that
 *    completes a request with a given status through its event, APC and
 *    completion port (Wine 7 and later, server/sock.c sock_ioctl);
 *  - NtQueryObject's HandleCount for a socket (server/handle.c: the
 *    object's handle count), which tells closesocket of its last handle;
 *  - %WINEDLLDIRn%, the folders of Wine's builtin DLLs, set in every Wine
 *    process (dlls/ntdll/unix/loader.c);
 *  - ntdll's __wine_dbg_output, present in every Wine process (Wine 6 and
 *    later, dlls/ntdll/thread.c);
 *  - ntdll's __wine_unix_spawnvp, which starts a Unix program, detached
 *    (a double fork) when not waited for (Wine 5 and later,
 *    dlls/ntdll/unix/process.c; start.exe /unix uses it);
 *  - files are opened by the wineserver, so \??\unix\proc\self names it:
 *    its environment is the one of the prefix's first Wine command
 *    (server/fd.c open_fd; wine_server_getenv);
 *  - byte-range locks of a host file are also the wineserver's fcntl
 *    locks on it, held against other wineservers, dropped when the
 *    locking process ends or the wineserver dies (server/fd.c
 *    set_unix_lock, remove_process_locks); NtLockFile takes no I/O status
 *    block (dlls/ntdll/unix/file.c; wine_lock_byte);
 *  - NtReadFile and NtWriteFile given a completion value (ReadFile and
 *    WriteFile with an OVERLAPPED) ask the wineserver to queue a
 *    completion after each call, even for a file with no completion port;
 *    without one they are a pread or pwrite on the cached Unix fd
 *    (dlls/ntdll/unix/file.c; wine_read_at, wine_write_at).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "wine.h"
#include "debug.h"

#define IOCTL_AFD_POLL CTL_CODE(FILE_DEVICE_BEEP, 0x809, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_AFD_WINE_COMPLETE_ASYNC CTL_CODE(FILE_DEVICE_NETWORK, 210, METHOD_BUFFERED, FILE_ANY_ACCESS)

C_ASSERT( FIELD_OFFSET(struct afd_poll, sockets) == 16 );

/* wine_poll_close: issue, through poll_handle (an overlapped socket),
 * a poll of socket s for AFD_POLL_CLOSE alone: it completes (iosb, out,
 * event signalled, and a packet with context on poll_handle's completion
 * port) once s's last handle is closed.  Adds nothing to s's select mask.
 * Returns the NTSTATUS of the request: STATUS_PENDING while it waits. */
NTSTATUS wine_poll_close( HANDLE poll_handle, UINT_PTR s, HANDLE event, void *context, IO_STATUS_BLOCK *iosb,
                          struct afd_poll *out )
{
    struct afd_poll in = { .timeout = MAXLONGLONG, .count = 1, .sockets[0] = { .socket = s, .flags = AFD_POLL_CLOSE } };

    return NtDeviceIoControlFile( poll_handle, event, NULL, context, iosb, IOCTL_AFD_POLL, &in, sizeof(in), out,
                                  sizeof(*out) );
}

/* wine_complete_async: complete an overlapped request on socket s at once
 * with success and a byte count of bytes (0 or 16), through its legs:
 * event, apc with context, or a packet on s's completion port (not when
 * event has its low bit set, nor with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
 *
 * COMPLETE_ASYNC always reports 0 bytes.  For 16, an AFD poll of s for no
 * event with a zero timeout comes first: the wineserver completes it at
 * once with its 16-byte header as output, and Wine writes that count into
 * the OVERLAPPED before the event, APC or packet, all of which carry it;
 * COMPLETE_ASYNC only if that poll fails.  The OVERLAPPED is filled
 * beforehand, so no waiter ever reads 0.  Returns the NTSTATUS (0: done). */
NTSTATUS wine_complete_async( UINT_PTR s, HANDLE event, PIO_APC_ROUTINE apc, void *context, OVERLAPPED *overlapped,
                              DWORD bytes )
{
    NTSTATUS status = 0, ret;

    overlapped->Internal = 0;  /* STATUS_SUCCESS */
    overlapped->InternalHigh = bytes;
    if (bytes == FIELD_OFFSET(struct afd_poll, sockets))
    {
        struct afd_poll in = { .timeout = 0, .count = 1, .sockets[0] = { .socket = s } }, out;

        ret = NtDeviceIoControlFile( (HANDLE)s, event, apc, context, (IO_STATUS_BLOCK *)overlapped, IOCTL_AFD_POLL,
                                     &in, sizeof(in), &out, sizeof(out) );
        if (!ret && overlapped->InternalHigh == bytes) return 0;
        WARN( "socket %#Ix: the poll completed with %#lx, %Iu bytes\n", s, ret, overlapped->InternalHigh );
        if (!ret) return 0;  /* completed, with a wrong count: the legs ran already */
        overlapped->Internal = 0;
        overlapped->InternalHigh = bytes;
    }
    ret = NtDeviceIoControlFile( (HANDLE)s, event, apc, context, (IO_STATUS_BLOCK *)overlapped,
                                 IOCTL_AFD_WINE_COMPLETE_ASYNC, &status, sizeof(status), NULL, 0 );
    /* COMPLETE_ASYNC wrote 0 bytes after the event was set: only for counts of 0 */
    overlapped->InternalHigh = bytes;
    return ret;
}

/* wine_last_handle: TRUE if handle is the last handle of its object (or
 * the count cannot be read) */
BOOL wine_last_handle( HANDLE handle )
{
    OBJECT_BASIC_INFORMATION info;

    if (NtQueryObject( handle, ObjectBasicInformation, &info, sizeof(info), NULL )) return TRUE;
    return info.HandleCount <= 1;
}

/* wine_dll_dir: %WINEDLLDIR<index>% in dir (size characters); its length,
 * 0 when unset or too long */
DWORD wine_dll_dir( unsigned int index, WCHAR *dir, DWORD size )
{
    WCHAR var[16];
    DWORD len;

    swprintf( var, ARRAYSIZE(var), L"WINEDLLDIR%u", index );
    len = GetEnvironmentVariableW( var, dir, size );
    return len < size ? len : 0;
}

/* wine_spawn: start the Unix program argv[0] (Unix paths, in the Unix
 * code page; found on PATH) with argv; with wait, wait for it to end.
 * FALSE outside Wine, when it cannot be started, or (wait) when it ended
 * with a non-zero exit code. */
BOOL wine_spawn( char *const argv[], BOOL wait )
{
    HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );
    /* stdcall, as ntdll.spec declares it: called as cdecl, a 32-bit
     * process popped its arguments twice and crashed */
    NTSTATUS (WINAPI *spawnvp)( char *const *, int );

    if (!ntdll || !(spawnvp = (void *)GetProcAddress( ntdll, "__wine_unix_spawnvp" ))) return FALSE;
    return !spawnvp( argv, wait );
}

/* wine_server_getenv: the variable name of the wineserver's Unix
 * environment (the one of the first Wine command of the prefix, which
 * started it), read from /proc/self/environ through \\?\\unix: the
 * wineserver opens files for its clients, so "self" there is the
 * wineserver.  Service processes (services.exe's, winedevice.exe) get an
 * environment made from the registry alone, without the user's Unix
 * variables; this is where they find them.  FALSE if it is not set or
 * cannot be read (outside Wine). */
BOOL wine_server_getenv( const char *name, char *value, DWORD size )
{
    static char text[65536];  /* read once: the wineserver's environment does not change */
    static DWORD len;
    static LONG state;        /* 0 unread, 1 read, -1 unreadable */
    size_t name_len = strlen( name );
    HANDLE file;

    if (!state)
    {
        file = CreateFileW( HOST_FILE( L"\\proc\\self\\environ" ), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                            NULL, OPEN_EXISTING, 0, NULL );
        if (file != INVALID_HANDLE_VALUE && ReadFile( file, text, sizeof(text) - 1, &len, NULL )) state = 1;
        else state = -1;
        if (file != INVALID_HANDLE_VALUE) CloseHandle( file );
        text[state > 0 ? len : 0] = 0;
    }
    if (state < 0) return FALSE;
    for (DWORD i = 0; i < len; i += strlen( text + i ) + 1)
    {
        if (strncmp( text + i, name, name_len ) || text[i + name_len] != '=') continue;
        if (strlen( text + i + name_len + 1 ) >= size) return FALSE;
        strcpy( value, text + i + name_len + 1 );
        return TRUE;
    }
    return FALSE;
}

NTSTATUS NTAPI NtLockFile( HANDLE, HANDLE, PIO_APC_ROUTINE, void *, IO_STATUS_BLOCK *, LARGE_INTEGER *,
                           LARGE_INTEGER *, ULONG *, BOOLEAN, BOOLEAN );

/* wine_lock_byte: a byte-range lock of one byte of file at offset,
 * exclusive or shared, waiting for it or not.  ntdll's NtLockFile without
 * the I/O status block, which Wine does not take (dlls/ntdll/unix/file.c:
 * LockFileEx's OVERLAPPED makes it print a FIXME in every process).  For a
 * file of the host (\\?\\unix) the wineserver takes the host's fcntl lock
 * too (server/fd.c), so the lock holds against every wineserver, and
 * goes when the process or the wineserver dies.  Waiting on another
 * wineserver's lock, Wine tries again every 100 ms. */
BOOL wine_lock_byte( HANDLE file, DWORD offset, BOOL exclusive, BOOL wait )
{
    LARGE_INTEGER start = { .QuadPart = offset }, count = { .QuadPart = 1 };

    return !NtLockFile( file, NULL, NULL, NULL, NULL, &start, &count, NULL, !wait, exclusive );
}

NTSTATUS NTAPI NtReadFile( HANDLE, HANDLE, PIO_APC_ROUTINE, void *, IO_STATUS_BLOCK *, void *, ULONG,
                           LARGE_INTEGER *, ULONG * );
NTSTATUS NTAPI NtWriteFile( HANDLE, HANDLE, PIO_APC_ROUTINE, void *, IO_STATUS_BLOCK *, const void *, ULONG,
                            LARGE_INTEGER *, ULONG * );

/* wine_read_at, wine_write_at: read (write) size bytes at offset (bytes
 * from the start) of file, a handle opened for synchronous I/O; the bytes
 * done, 0 on failure.  ntdll's calls with no completion value: ReadFile
 * and WriteFile given an OVERLAPPED for the offset pass that as one, and
 * ntdll then asks the wineserver to queue a completion (add_fd_completion)
 * after every call, though the file has no completion port
 * (dlls/ntdll/unix/file.c, NtReadFile): a round trip where a pread is
 * all it takes. */
DWORD wine_read_at( HANDLE file, UINT64 offset, void *buf, DWORD size )
{
    LARGE_INTEGER at = { .QuadPart = offset };
    IO_STATUS_BLOCK io;

    return NtReadFile( file, NULL, NULL, NULL, &io, buf, size, &at, NULL ) ? 0 : io.Information;
}

DWORD wine_write_at( HANDLE file, UINT64 offset, const void *buf, DWORD size )
{
    LARGE_INTEGER at = { .QuadPart = offset };
    IO_STATUS_BLOCK io;

    return NtWriteFile( file, NULL, NULL, NULL, &io, buf, size, &at, NULL ) ? 0 : io.Information;
}

/* wine_dbg_output_fn: ntdll's __wine_dbg_output, NULL outside Wine */
int (__cdecl *wine_dbg_output_fn( void ))( const char * )
{
    HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );

    return ntdll ? (void *)GetProcAddress( ntdll, "__wine_dbg_output" ) : NULL;
}

/* --- the builtin DLLs ------------------------------------------------------
 * behaviour §5: a proxy next to the program gets the builtin back from
 * LoadLibraryW(<system dir>\\name); a proxy installed in system32 gets
 * itself from that call and must load the builtin by its path under
 * %WINEDLLDIRn% (wine_dll_dir).  Both cases are handled by trying the
 * path first. */

#ifdef _WIN64
# define BUILTIN_ARCH_DIR L"x86_64-windows"
#else
# define BUILTIN_ARCH_DIR L"i386-windows"
#endif

static HMODULE try_load( HMODULE self, const WCHAR *path )
{
    HMODULE mod = LoadLibraryW( path );
    if (mod && mod == self)
    {
        FreeLibrary( mod );
        return NULL;
    }
    return mod;
}

/* portres_load_builtin: load Wine's builtin DLL of this name (e.g.
 * L"ws2_32.dll"), never returning self.  NULL outside Wine or when no
 * builtin is found, after an err: line naming every path tried. */
HMODULE portres_load_builtin( HMODULE self, const WCHAR *name )
{
    WCHAR dir[MAX_PATH], path[MAX_PATH + 64], tried[4 * (MAX_PATH + 64)] = L"";
    HMODULE mod;

    for (int i = 0; i < 10; i++)
    {
        if (!wine_dll_dir( i, dir, ARRAYSIZE(dir) )) continue;
        swprintf( path, ARRAYSIZE(path), L"%ls\\%ls\\%ls", dir, BUILTIN_ARCH_DIR, name );
        if ((mod = try_load( self, path ))) return mod;
        if (wcslen( tried ) + wcslen( path ) + 3 < ARRAYSIZE(tried))
        {
            if (tried[0]) wcscat( tried, L", " );
            wcscat( tried, path );
        }
    }
    if (GetSystemDirectoryW( dir, ARRAYSIZE(dir) ))
    {
        swprintf( path, ARRAYSIZE(path), L"%ls\\%ls", dir, name );
        if ((mod = try_load( self, path ))) return mod;
        if (wcslen( tried ) + wcslen( path ) + 3 < ARRAYSIZE(tried))
        {
            if (tried[0]) wcscat( tried, L", " );
            wcscat( tried, path );
        }
    }
    ERR( "Wine's builtin %ls not found (tried %ls): not loading portres's %ls\n", name, tried, name );
    return NULL;
}
