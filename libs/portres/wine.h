/*
 * Wine's internals portres relies on, all in wine.c: what a Windows
 * program cannot count on, each with the Wine version and the Wine source
 * that make it hold.  Checked on Wine 8.0 and 10.0 (the test environments).
 */

#ifndef PORTRES_WINE_H
#define PORTRES_WINE_H

#include <windows.h>
#include <winternl.h>

/* Windows' AFD_POLL_INFO layout, as Wine's wineserver reads it
 * (server/sock.c poll_socket); its header alone is 16 bytes on 32- and
 * 64-bit.  socket is a SOCKET. */
#define AFD_POLL_CLOSE 0x0020
struct afd_poll
{
    LONGLONG timeout;
    ULONG count;
    BOOLEAN exclusive;
    BOOLEAN padding[3];
    struct
    {
        UINT_PTR socket;
        int flags;
        int status;
    } sockets[1];
};

/* a file of the host, by its Unix path with backslashes: HOST_FILE( L"\\proc\\net\\tcp" ) */
#define HOST_FILE( path ) L"\\\\?\\unix" path

NTSTATUS wine_poll_close( HANDLE poll_handle, UINT_PTR s, HANDLE event, void *context, IO_STATUS_BLOCK *iosb,
                          struct afd_poll *out );
NTSTATUS wine_complete_async( UINT_PTR s, HANDLE event, PIO_APC_ROUTINE apc, void *context, OVERLAPPED *overlapped,
                              DWORD bytes );
BOOL wine_last_handle( HANDLE handle );
DWORD wine_dll_dir( unsigned int index, WCHAR *dir, DWORD size );
HMODULE portres_load_builtin( HMODULE self, const WCHAR *name );
BOOL wine_spawn( char *const argv[], BOOL wait );
BOOL wine_server_getenv( const char *name, char *value, DWORD size );
BOOL wine_lock_byte( HANDLE file, DWORD offset, BOOL exclusive, BOOL wait );
DWORD wine_read_at( HANDLE file, UINT64 offset, void *buf, DWORD size );
DWORD wine_write_at( HANDLE file, UINT64 offset, const void *buf, DWORD size );
int (__cdecl *wine_dbg_output_fn( void ))( const char * );

#endif /* PORTRES_WINE_H */
