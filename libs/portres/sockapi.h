/*
 * The Winsock functions portres's checks call through a table: Wine's
 * builtin's in ws2_32 (whose own exports are portres's), whatever
 * ws2_32.dll the process has in iphlpapi.
 */

#ifndef PORTRES_SOCKAPI_H
#define PORTRES_SOCKAPI_H

#include <winsock2.h>

struct portres_sockapi
{
    /* a test bind (portcheck.c) */
    SOCKET (WINAPI *socket)( int, int, int );
    int (WINAPI *bind)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *setsockopt)( SOCKET, int, int, const char *, int );
    int (WINAPI *closesocket)( SOCKET );
    /* the host helper's requests (helper.c) */
    int (WINAPI *connect)( SOCKET, const struct sockaddr *, int );
    int (WINAPI *send)( SOCKET, const char *, int, int );
    int (WINAPI *recv)( SOCKET, char *, int, int );
};

#endif /* PORTRES_SOCKAPI_H */
