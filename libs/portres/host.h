/*
 * The host view (host.c): the reservations of the user's other prefixes
 */

#ifndef PORTRES_HOST_H
#define PORTRES_HOST_H

#include <windows.h>

#include "pool.h"
#include "hostview.h"

/* a block of another prefix, as portres_host_conflict and portres_host_list give it */
struct portres_host_hit
{
    struct portres_host_block block;
    char label[PORTRES_HOST_LABEL];  /* the prefix's path */
    DWORD pid;                       /* the process that last wrote the prefix's slot */
};

BOOL portres_runtime_dir( char *dir, DWORD size, BOOL tmp );
void portres_host_attach( void );
void portres_host_publish( const struct portres_pool *pool );
BOOL portres_host_check( void );
BOOL portres_host_live( enum portres_proto proto );
BOOL portres_host_reserved( enum portres_proto proto, USHORT port );
BOOL portres_host_any_reserved( enum portres_proto proto, UINT first, UINT last, const BYTE *except );
void portres_host_mark( enum portres_proto proto, BYTE *bitmap );
BOOL portres_host_conflict( enum portres_proto proto, USHORT start, USHORT count, struct portres_host_hit *hit );
unsigned int portres_host_list( void (*callback)( void *ctx, const struct portres_host_hit *hit ), void *ctx );

#endif /* PORTRES_HOST_H */
