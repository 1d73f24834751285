/*
 * Is a port bound?  A test bind, and a block's in-use check, shared by
 * both DLLs.
 */

#ifndef PORTRES_PORTCHECK_H
#define PORTRES_PORTCHECK_H

#include <winsock2.h>

#include "pool.h"
#include "sockapi.h"

int portres_port_is_free( const struct portres_sockapi *api, enum portres_proto proto, uint16_t port );
BOOL portres_block_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count );
BOOL portres_block_check_begin( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                                uint16_t count );
BOOL portres_block_check_end( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                              uint16_t count );

#endif /* PORTRES_PORTCHECK_H */
