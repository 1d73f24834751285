/*
 * The journal file: <Windows directory>\portres\journal.txt, appended to
 * and flushed by every persistent change, read back at the first start
 * of the pool (its format and replay rule: libs/core/journal.h; what is
 * written when: store.c).  File I/O only, no registry, no lock.
 */

#include <stdlib.h>

#include "shared.h"
#include "journalfile.h"
#include "debug.h"

#define JOURNAL_READ_MAX (16 * 1024 * 1024)

/* portres_journal_enabled: FALSE when PORTRES_JOURNAL=off is in the environment: no journal (for `make bench` only) */
BOOL portres_journal_enabled( void )
{
    static LONG state;  /* 0: not read, 1: on, 2: off */

    if (!state)
    {
        char value[8];
        DWORD len = GetEnvironmentVariableA( "PORTRES_JOURNAL", value, sizeof(value) );
        InterlockedExchange( &state, len && len < sizeof(value) && !_stricmp( value, "off" ) ? 2 : 1 );
    }
    return state == 1;
}

/* portres_journal_path: <Windows directory>\portres\<name> in path
 * (MAX_PATH characters), the directory created if needed; FALSE if too long */
BOOL portres_journal_path( WCHAR *path, const WCHAR *name )
{
    UINT len = GetWindowsDirectoryW( path, MAX_PATH );

    if (!len || len + 32 > MAX_PATH) return FALSE;
    wcscpy( path + len, L"\\" PORTRES_W(PORTRES_JOURNAL_DIR) );
    CreateDirectoryW( path, NULL );
    wcscat( path, L"\\" );
    wcscat( path, name );
    return TRUE;
}

/* portres_journal_append: append one line (len bytes) to the journal and
 * flush it to disk; *size gets the file's new size.  Returns a Win32
 * error, and on error cuts the file back to where it was */
DWORD portres_journal_append( const char *line, DWORD len, LARGE_INTEGER *size )
{
    WCHAR path[MAX_PATH];
    HANDLE file;
    LARGE_INTEGER zero = { 0 };
    DWORD done = 0, err = NO_ERROR;

    size->QuadPart = 0;
    if (!portres_journal_path( path, PORTRES_W(PORTRES_JOURNAL_FILE) )) return ERROR_PATH_NOT_FOUND;
    file = CreateFileW( path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_ALWAYS,
                        FILE_ATTRIBUTE_NORMAL, NULL );
    if (file == INVALID_HANDLE_VALUE) return GetLastError();
    if (!SetFilePointerEx( file, zero, size, FILE_END )) err = GetLastError();
    else if (!WriteFile( file, line, len, &done, NULL )) err = GetLastError();
    else if (done != len) err = ERROR_DISK_FULL;
    else if (!FlushFileBuffers( file )) err = GetLastError();
    if (err)
    {
        /* leave no half line, nor a line of a change that did not happen */
        if (SetFilePointerEx( file, *size, NULL, FILE_BEGIN )) SetEndOfFile( file );
        FlushFileBuffers( file );
    }
    else size->QuadPart += len;
    CloseHandle( file );
    return err;
}

/* portres_journal_read: the whole journal, NUL-terminated, its length in
 * *len (free it), or NULL if there is none or it is over 16 MiB */
char *portres_journal_read( DWORD *len )
{
    WCHAR path[MAX_PATH];
    LARGE_INTEGER size;
    HANDLE file;
    char *text = NULL;

    *len = 0;
    if (!portres_journal_path( path, PORTRES_W(PORTRES_JOURNAL_FILE) )) return NULL;
    file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    if (file == INVALID_HANDLE_VALUE) return NULL;
    if (GetFileSizeEx( file, &size ) && size.QuadPart <= JOURNAL_READ_MAX &&
        (text = malloc( size.QuadPart + 1 )))
    {
        if (!ReadFile( file, text, size.QuadPart, len, NULL )) *len = 0;
        text[*len] = 0;
    }
    else if (size.QuadPart > JOURNAL_READ_MAX) WARN( "the journal is larger than %u bytes: ignored\n", JOURNAL_READ_MAX );
    CloseHandle( file );
    return text;
}
