/*
 * Forwarding to Wine's builtin DLL (found by portres_load_builtin, wine.c)
 */

#include "forward.h"
#include "debug.h"
#include "wine.h"

/* portres_forward_init: point every forwarded export at the builtin's
 * function; exports the builtin lacks keep their missing-export stub */
void portres_forward_init( HMODULE builtin )
{
    unsigned int missing = 0;

    if (!builtin) return;
    for (unsigned int i = 0; i < portres_forward_count; i++)
    {
        const struct portres_forward *fwd = &portres_forward_exports[i];
        FARPROC proc = GetProcAddress( builtin, fwd->noname ? (LPCSTR)(ULONG_PTR)fwd->ordinal : fwd->name );
        if (proc) portres_forward_table[i] = (void *)proc;
        else missing++;
    }
    TRACE( "%u of %u forwarded exports are missing from the builtin\n", missing, portres_forward_count );
}

/* portres_missing_export: called by the stub of an export the builtin
 * lacks; sets the DLL's error and returns the failure value of the
 * export's return type (its spec line's -ret=), never aborts */
ULONG_PTR __cdecl portres_missing_export( unsigned int index )
{
    enum portres_ret ret = portres_missing_default;

    if (index < portres_forward_count)
    {
        WARN( "%s is not implemented by Wine's builtin\n", portres_forward_exports[index].name );
        if (portres_forward_exports[index].ret != PORTRES_RET_DEFAULT) ret = portres_forward_exports[index].ret;
    }
    SetLastError( portres_missing_error );
    switch (ret)
    {
    case PORTRES_RET_DEFAULT:
    case PORTRES_RET_INT:    return (ULONG_PTR)(LONG_PTR)-1;  /* SOCKET_ERROR */
    case PORTRES_RET_SOCKET: return ~(ULONG_PTR)0;            /* INVALID_SOCKET */
    case PORTRES_RET_DWORD:  return portres_missing_error;
    case PORTRES_RET_BOOL:
    case PORTRES_RET_PTR:
    case PORTRES_RET_COUNT:
    case PORTRES_RET_VOID:   break;
    }
    return 0;
}
