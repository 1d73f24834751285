/*
 * The sockets of this process associated with a reservation
 *
 * SIO_ASSOCIATE_PORT_RESERVATION records (socket, token) here, in this
 * process only; bind and the implicit binds (socket.c) then take the
 * socket's port from the reservation's block (behaviour §3).  Sockets never
 * associated pay one unlocked read.
 */

#include <stdlib.h>

#include "ws2_32_private.h"

static SRWLOCK assoc_lock = SRWLOCK_INIT;
static struct association *assocs;
static unsigned int assoc_count, assoc_size;

static struct association *find_association( SOCKET s )
{
    for (unsigned int i = 0; i < assoc_count; i++) if (assocs[i].s == s) return &assocs[i];
    return NULL;
}

/* associate_socket: remember that s takes its port from token's block;
 * FALSE when out of memory */
BOOL associate_socket( SOCKET s, UINT64 token, enum portres_proto proto, int family )
{
    struct association *a;
    BOOL ret = TRUE;

    AcquireSRWLockExclusive( &assoc_lock );
    if (!(a = find_association( s )))
    {
        if (assoc_count == assoc_size)
        {
            unsigned int size = assoc_size ? assoc_size * 2 : 16;
            struct association *new = realloc( assocs, size * sizeof(*new) );
            if (!new) ret = FALSE;
            else { assocs = new; assoc_size = size; }
        }
        if (ret) a = &assocs[assoc_count++];
    }
    if (ret)
    {
        a->s = s;
        a->token = token;
        a->proto = proto;
        a->family = family;
    }
    ReleaseSRWLockExclusive( &assoc_lock );
    return ret;
}

/* forget_socket: drop the association of a socket being closed */
void forget_socket( SOCKET s )
{
    struct association *a;

    if (!assoc_count) return;
    AcquireSRWLockExclusive( &assoc_lock );
    if ((a = find_association( s ))) *a = assocs[--assoc_count];
    ReleaseSRWLockExclusive( &assoc_lock );
}

/* get_association: copy the association of s to *ret; FALSE (the common
 * case, no lock taken when nothing is associated) if s has none */
BOOL get_association( SOCKET s, struct association *ret )
{
    struct association *a;

    if (!assoc_count) return FALSE;  /* the common case: no lock taken */
    AcquireSRWLockShared( &assoc_lock );
    if ((a = find_association( s ))) *ret = *a;
    ReleaseSRWLockShared( &assoc_lock );
    return a != NULL;
}
