/*
 * The administrator check of the calls that need administrator rights
 * (persistent create and delete, associating a persistent token, netsh's
 * changes): doc/behaviour.md §2, §3.
 */

#include <windows.h>

#include "admin.h"

/* portres_is_admin: TRUE if the caller's token is in BUILTIN\Administrators */
BOOL portres_is_admin( void )
{
    SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    PSID admins;
    BOOL member = FALSE;

    if (!AllocateAndInitializeSid( &nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
                                   0, 0, 0, 0, 0, 0, &admins ))
        return FALSE;
    if (!CheckTokenMembership( NULL, admins, &member )) member = FALSE;
    FreeSid( admins );
    return member;
}

