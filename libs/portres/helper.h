/*
 * The host helper's client: the in-use check asked of portres-helper
 * (helper.c; the protocol is libs/core/helpermsg.h).
 */

#ifndef PORTRES_HELPER_H
#define PORTRES_HELPER_H

#include "pool.h"
#include "sockapi.h"

int portres_helper_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count, uint16_t *busy );
BOOL portres_helper_send( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                          uint16_t count );
int portres_helper_reply( const struct portres_sockapi *api, uint16_t *busy );
void portres_helper_close( const struct portres_sockapi *api );

#endif /* PORTRES_HELPER_H */
