/*
 * The journal file (journalfile.c): where it is, appending a line durably,
 * reading it whole.  Win32 errors.
 */

#ifndef PORTRES_JOURNALFILE_H
#define PORTRES_JOURNALFILE_H

#include <windows.h>

BOOL portres_journal_enabled( void );
BOOL portres_journal_path( WCHAR *path, const WCHAR *name );
DWORD portres_journal_append( const char *line, DWORD len, LARGE_INTEGER *size );
char *portres_journal_read( DWORD *len );

#endif /* PORTRES_JOURNALFILE_H */
