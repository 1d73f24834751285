/*
 * Is a port bound?  A test bind, and a block's in-use check, shared by
 * both DLLs.
 */

#ifndef PORTRES_PORTCHECK_H
#define PORTRES_PORTCHECK_H

#include <winsock2.h>

#include "pool.h"

/* the Winsock functions a test bind needs: Wine's builtin's in ws2_32,
 * whatever ws2_32.dll the process has in iphlpapi */
struct portres_sockapi
{
    SOCKET (WINAPI *socket)( int, int, int );
    int (WINAPI *bind)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *setsockopt)( SOCKET, int, int, const char *, int );
    int (WINAPI *closesocket)( SOCKET );
    /* the host helper's requests (helper.c) */
    int (WINAPI *connect)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *send)( SOCKET, const char *, int, int );
    int (WINAPI *recv)( SOCKET, char *, int, int );
};

int portres_port_is_free( const struct portres_sockapi *api, enum portres_proto proto, uint16_t port );
BOOL portres_block_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count );
BOOL portres_block_check_begin( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                                uint16_t count );
BOOL portres_block_check_end( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                              uint16_t count );

/* helper.c */
int portres_helper_in_use( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                           uint16_t count, uint16_t *busy );
void portres_helper_close( const struct portres_sockapi *api );
BOOL portres_helper_send( const struct portres_sockapi *api, enum portres_proto proto, uint16_t start,
                          uint16_t count );
int portres_helper_reply( const struct portres_sockapi *api, uint16_t *busy );

#endif /* PORTRES_PORTCHECK_H */
